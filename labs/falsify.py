"""Show that every claim can fail: ``python -m labs.falsify [lab=<name>[,<name>...]] [--verbose]``.

A verdict is only worth something if it could have come out the other way. Every claim
of every lab has a counter-case (``COUNTER_CASES`` in the lab's module): config overrides
under which the claim says "not reproduced" while the lab still runs to the end, or, for
an identity that holds for every valid input, a plausible fault in vecmix
(:mod:`labs.claims.faults`) that the claim notices. This command runs the lab's default
config, then every counter-case, and counts the claims that flip: reproduced by default,
not reproduced on their counter-case (or the other way round: a paper's claim that a lab
checks on another model may not be borne out, and its counter-case is then the input under
which it is). A claim that exists only for some inputs (the span
claim needs values that do not span R^d) is falsified from its counter-case's own inputs:
reproduced there, not reproduced once the counter-case's fault is injected. It prints one
line per lab and a total, and exits 0 only when every claim flips (2 for a usage error, 1
when some claim did not flip).

>>> outcomes = falsify("vector_mixture")
>>> all(o.flipped for o in outcomes), len(outcomes) == len(LABS["vector_mixture"].COUNTER_CASES)
(True, True)
"""

import sys
from contextlib import nullcontext
from dataclasses import dataclass

from omegaconf import OmegaConf

from .catalogue import LABS
from .claims.faults import FAULTS, injected
from .config.errors import explain, suggest
from .report.render import render_markdown

USAGE = "usage: python -m labs.falsify [lab=<name>[,<name>...]] [--verbose]"


@dataclass(frozen=True)
class Outcome:
    """What one claim did on its counter-case."""

    lab: str
    claim: str
    flipped: bool
    detail: str  # the observation on the counter-case, or why the claim did not flip


def falsify(lab, default_claims=None):
    """Run every counter-case of ``lab``; one :class:`Outcome` per claim.

    ``default_claims`` are the claims of the lab's default run when the caller has them
    already; otherwise the default config is run first.
    """
    from .reproduce import compose_lab

    module = LABS[lab]
    cases = module.COUNTER_CASES
    if default_claims is None:
        default_claims = _run(module, compose_lab(lab), None)
    default = {c.id: c for c in default_claims}
    groups = {}  # (overrides, fault) -> claim ids: each distinct counter-case runs once
    for claim_id in default:
        if claim_id in cases:
            groups.setdefault((cases[claim_id].overrides, cases[claim_id].fault), []).append(claim_id)
    outcomes = {claim_id: Outcome(lab, claim_id, False, "no counter-case in COUNTER_CASES")
                for claim_id in default if claim_id not in cases}
    for claim_id in (c for c in cases if c not in default):  # claims that exist only for some inputs
        outcomes[claim_id] = _conditional(module, lab, claim_id, cases[claim_id])
    for (overrides, fault), ids in groups.items():
        try:
            claims = {c.id: c for c in _run(module, compose_lab(lab, list(overrides)), fault)}
        except Exception as exc:  # the lab must run to the end on its counter-case
            reason = f"the lab did not run to the end: {explain(exc) or f'{type(exc).__name__}: {exc}'}"
            outcomes.update({claim_id: Outcome(lab, claim_id, False, reason) for claim_id in ids})
            continue
        for claim_id in ids:
            if claim_id not in claims:
                outcomes[claim_id] = Outcome(lab, claim_id, False, "the claim is missing from the counter-case run")
            else:
                before, held = default[claim_id].holds, claims[claim_id].holds
                still = ("still reproduced: " if held else "still not reproduced: ") if held == before else ""
                outcomes[claim_id] = Outcome(lab, claim_id, held != before, still + claims[claim_id].observed)
    return [outcomes[claim_id] for claim_id in [*default, *(c for c in cases if c not in default)]]


def _conditional(module, lab, claim_id, case):
    """The outcome of a claim absent from the default run: it must hold on its counter-case's inputs, then fail
    with the counter-case's fault injected."""
    from .reproduce import compose_lab

    if case.fault is None:
        return Outcome(lab, claim_id, False, "absent from the default run, so its counter-case needs a fault")
    try:
        cfg = compose_lab(lab, list(case.overrides))
        before = {c.id: c for c in _run(module, cfg, None)}
        after = {c.id: c for c in _run(module, cfg, case.fault)}
    except Exception as exc:
        return Outcome(lab, claim_id, False,
                       f"the lab did not run to the end: {explain(exc) or f'{type(exc).__name__}: {exc}'}")
    if claim_id not in before or not before[claim_id].holds:
        return Outcome(lab, claim_id, False, "absent from the default run and not reproduced on its counter-case's "
                       "inputs either")
    if claim_id not in after:
        return Outcome(lab, claim_id, False, "the claim is missing from the counter-case run")
    held = after[claim_id].holds
    return Outcome(lab, claim_id, not held, ("still reproduced: " if held else "") + after[claim_id].observed)


def _run(module, cfg, fault):
    """The claims of one run of the lab (rendered too, so that the run goes to the end), with a fault injected."""
    params = OmegaConf.to_container(cfg.lab, resolve=True)
    with injected(FAULTS[fault]) if fault else nullcontext():
        result = module.run(params)
        render_markdown(result, "", {})
    return result.claims


def main(argv=None):
    """The command line: parse ``lab=...`` and ``--verbose``, falsify, print, return the exit status."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    labs = []
    for arg in (a for a in args if a not in ("--verbose", "-v")):
        key, _, value = arg.partition("=")
        if key != "lab" or not value:
            print(f"error: cannot read the argument {arg!r}; {USAGE}", file=sys.stderr)
            return 2
        for name in value.split(","):
            if name not in LABS:
                print(f"error: there is no lab named '{name}'{suggest(name, list(LABS))}; "
                      f"choose one of: {', '.join(LABS)}", file=sys.stderr)
                return 2
            labs.append(name)
    flipped = total = 0
    for lab in labs or list(LABS):
        outcomes = falsify(lab)
        k = sum(o.flipped for o in outcomes)
        flipped, total = flipped + k, total + len(outcomes)
        print(f"{lab}: {k} of {len(outcomes)} claims flip on their counter-case", flush=True)
        for o in outcomes:
            if verbose or not o.flipped:
                print(f"  {'flips' if o.flipped else 'DOES NOT FLIP'}  {o.claim}: {o.detail}", flush=True)
    print(f"falsified: {flipped} of {total} claims")
    return 0 if flipped == total else 1


if __name__ == "__main__":
    sys.exit(main())
