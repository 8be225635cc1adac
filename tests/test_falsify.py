"""Verdicts with teeth: every claim flips on its counter-case, and every fault in the catalogue is noticed.

A claim that cannot come out "not reproduced" is a defect however true it is. Each lab's
COUNTER_CASES name, for every claim, inputs under which it fails (the lab still running to
the end) or the implementation fault it guards against; these tests run them all, and
inject every fault of labs.claims.faults into the gallery's default runs to see that some
claim notices it.
"""

import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import vecmix
from labs import falsify
from labs.catalogue import LABS
from labs.claims import CounterCase, inputs
from labs.claims.faults import FAULTS, Fault, injected
from labs.reproduce import compose_lab

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def defaults():
    """Each lab's default params, the claims of its default run, and the fault targets that run calls.

    The run is recorded with pass-through wrappers around every fault's target, so that the
    fault test below injects a fault only into the labs that call its target.
    """
    def recorder(target, seen):
        def make(original):
            def wrapper(*args, **kwargs):
                seen.add(target)
                return original(*args, **kwargs)
            return wrapper
        return Fault(f"record {target}", target, make, "records calls")

    targets = sorted({f.target for f in FAULTS.values()})
    for lab in LABS:  # import every lab before the recorders go in, so that each lab module binds them
        LABS[lab]
    out, seen = {}, set()
    with ExitStack() as stack:  # the recorders go in once (each injection scans every module), for every lab
        for target in targets:
            stack.enter_context(injected(recorder(target, seen)))
        for lab, module in LABS.items():
            params = OmegaConf.to_container(compose_lab(lab).lab, resolve=True)
            seen.clear()
            claims = module.run(params).claims
            out[lab] = (params, claims, set(seen))
    return out


@pytest.mark.parametrize("lab", list(LABS))
def test_every_claim_flips_on_its_counter_case(lab, defaults):
    outcomes = falsify.falsify(lab, defaults[lab][1])
    assert outcomes, f"{lab} has no claims"
    assert [(o.claim, o.detail) for o in outcomes if not o.flipped] == []


@pytest.mark.parametrize("lab", list(LABS))
def test_counter_cases_cover_the_default_claims(lab, defaults):
    ids = [c.id for c in defaults[lab][1]]
    assert len(ids) == len(set(ids)), f"{lab} repeats a claim id"
    cases = LABS[lab].COUNTER_CASES
    assert set(ids) <= set(cases)
    assert all(cases[extra].fault for extra in set(cases) - set(ids))  # claims that exist only for some inputs
    for case in cases.values():
        assert isinstance(case, CounterCase) and case.why and (case.overrides or case.fault)
        assert case.fault is None or case.fault in FAULTS


@pytest.mark.parametrize("name", list(FAULTS))
def test_every_fault_is_noticed_by_some_claim_of_the_gallery(name, defaults):
    """Inject the fault into the default run of every lab that calls its target: some claim that held must fail."""
    for lab, (params, claims, called) in defaults.items():
        if FAULTS[name].target not in called:
            continue
        held = {c.id for c in claims if c.holds}
        try:
            with injected(FAULTS[name]):
                after = LABS[lab].run(params).claims
        except Exception:  # noqa: BLE001  (a lab that stops is not a claim that notices)
            continue
        if any(c.id in held and not c.holds for c in after):
            return
    pytest.fail(f"no default claim of any lab notices the fault {name!r}: {FAULTS[name].description}")


def test_a_fault_is_undone_after_the_block():
    original = vecmix.attention
    with injected(FAULTS["mixes-keys"]):
        assert vecmix.attention is not original
    assert vecmix.attention is original and vecmix.softmax([0.0, 0.0]).tolist() == [0.5, 0.5]


def test_a_claim_that_does_not_flip_is_reported(monkeypatch, capsys):
    cases = dict(LABS["attention_basic"].COUNTER_CASES)
    cases["changing-scores"] = inputs("another query changes the weights too", "lab.query=[2,1]")
    monkeypatch.setattr(LABS["attention_basic"], "COUNTER_CASES", cases)
    assert falsify.main(["lab=attention_basic"]) == 1
    out = capsys.readouterr().out
    assert "attention_basic: 13 of 14 claims flip on their counter-case" in out
    assert "DOES NOT FLIP  changing-scores: still reproduced" in out
    assert out.rstrip().endswith("falsified: 13 of 14 claims")


def test_a_counter_case_that_stops_the_lab_does_not_count(monkeypatch):
    cases = dict(LABS["attention_basic"].COUNTER_CASES)
    cases["changing-scores"] = inputs("a bad value is not a counter-case", "lab.d_k=0")
    monkeypatch.setattr(LABS["attention_basic"], "COUNTER_CASES", cases)
    outcome = next(o for o in falsify.falsify("attention_basic") if o.claim == "changing-scores")
    assert not outcome.flipped and "did not run to the end: lab.d_k = 0 must be a positive integer" in outcome.detail


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "labs.falsify", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_command_line_prints_a_line_per_lab_and_a_total():
    proc = run_cli("lab=weights_vs_importance,negative_weights")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == ["weights_vs_importance: 4 of 4 claims flip on their counter-case",
                                        "negative_weights: 6 of 6 claims flip on their counter-case",
                                        "falsified: 10 of 10 claims"]


def test_a_claim_that_exists_only_for_some_inputs_needs_a_fault(monkeypatch):
    cases = dict(LABS["attention_basic"].COUNTER_CASES)
    cases["in-span"] = inputs("values on a line", "lab.values=[[0,1],[0,2],[0,3]]")  # the claim holds there
    monkeypatch.setattr(LABS["attention_basic"], "COUNTER_CASES", cases)
    outcome = next(o for o in falsify.falsify("attention_basic") if o.claim == "in-span")
    assert not outcome.flipped and "needs a fault" in outcome.detail


@pytest.mark.parametrize("args, message", [
    (["lab=attention_basik"], "error: there is no lab named 'attention_basik' (did you mean attention_basic?)"),
    (["masking"], "error: cannot read the argument 'masking'"),
    (["lab="], "error: cannot read the argument 'lab='"),
])
def test_command_line_refuses_bad_arguments_in_one_line(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2 and proc.stderr.startswith(message) and proc.stderr.count("\n") == 1
