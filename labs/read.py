"""The reading report of a paper: ``python -m labs.read paper=attention_is_all_you_need``.

It follows the structure of the paper lab 001 (why this paper, what to know first, first
pass, second pass, dependency map, key claims and evidence, what to reproduce, what has
changed). Prose and claims come from ``conf/paper/<paper>.yaml``; each claim's verdict
comes from the claims of its lab's results that it names (all of them when it names none),
and a lab that has not been run yet is run first. A claim that needs the paper's data or
compute names no lab: it is listed as not reproduced at lab scale, with its reason. A new
paper needs its config file and its labs, nothing here.
"""

import json
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from vecmix import VecmixError

from .catalogue import LABS
from .config.cli import run_cli, run_command, shows_or_reads_other_configs
from .config.errors import exit_if_user_error
from .config.schema import register
from .report.latex import UnportableMath, portable
from .report.markdown import display, table
from .report.writer import write_file
from .reproduce import CONFIG_DIR, compose_config, compose_lab, reproduce

KINDS = ("reproduced", "not reproduced", "not reproduced at lab scale")  # the verdicts of a paper's claims

PAPERS = sorted(p.stem for p in (CONFIG_DIR / "paper").glob("*.yaml"))


def compose_paper(paper):
    """The config of a paper's reading report."""
    register([])
    return compose_config("read", [f"paper={paper}"])


def lab_claims(labs, reports):
    """({lab: {claim id: verdict}}, {lab: the overrides its report was run with}) from each lab's report under
    ``reports`` (run first, in its default config, where it is missing)."""
    from .report.frame import load_results

    for lab in labs:
        if not (Path(reports) / lab / "results.json").exists():
            reproduce(compose_lab(lab), Path(reports) / lab)
    frame = load_results(reports, recursive=False)
    frame = frame[frame["run"].isin(labs)]
    groups = dict(list(frame.groupby("run", sort=False)))
    return ({lab: dict(zip(groups[lab]["claim"], groups[lab]["verdict"])) for lab in labs},
            {lab: groups[lab]["overrides"].iloc[0] for lab in labs})


def verdicts(paper, reports):
    """(rows of checked claims, rows of claims not reproduced at lab scale, counts of each verdict kind, labs named
    but missing from the catalogue, labs whose reports were run with other settings than their defaults)."""
    missing = [c["lab"] for c in paper["claims"] if c.get("lab") is not None and c["lab"] not in LABS]
    checked = [c for c in paper["claims"] if c.get("lab") in LABS]
    results, commands = lab_claims(sorted({c["lab"] for c in checked}), reports)
    rows, counts = [], dict.fromkeys(KINDS, 0)
    for claim in checked:
        found = results[claim["lab"]]
        ids = claim.get("checks") or list(found)
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise VecmixError(f"the claim of {paper['name']} in {claim['section']} names the check {unknown[0]!r}, "
                              f"which lab {claim['lab']} does not report; its claims are: {', '.join(found)} (a report "
                              f"older than the lab: run python -m labs.reproduce lab={claim['lab']} again)")
        held = sum(found[i] == "reproduced" for i in ids)
        kind = KINDS[0] if held == len(ids) else KINDS[1]
        counts[kind] += 1
        verdict = kind if kind == KINDS[0] else f"**{kind}**"
        rows.append([claim["section"], claim["statement"], f"[`{claim['lab']}`](../{claim['lab']}/report.md)",
                     ", ".join(f"`{i}`" for i in ids) if claim.get("checks") else "all",
                     f"{verdict} ({held} of {len(ids)} checks)"])
    elsewhere = [[c["section"], c["statement"], c["not_reproduced"]] for c in paper["claims"]
                 if c.get("lab") is None and c.get("not_reproduced")]
    counts[KINDS[2]] = len(elsewhere)
    other = [f"`{lab}` (python -m labs.reproduce {commands[lab]})" for lab in sorted(commands)
             if commands[lab] != f"lab={lab}"]
    return rows, elsewhere, counts, missing, other


def render(paper, reports):
    """The reading report's Markdown, its math made portable; links are relative to reports/papers/.

    >>> text = render(OmegaConf.to_container(compose_paper("attention_is_all_you_need").paper), "reports")
    >>> text.splitlines()[5], "| 3.2.1, footnote 4 |" in text
    ('# Reading report: Attention Is All You Need', True)
    """
    rows, elsewhere, counts, missing, other = verdicts(paper, reports)
    bullets = lambda items: "\n".join(f"- {item}" for item in items)  # noqa: E731
    tally = "; ".join(f"{n} {kind}" for kind, n in counts.items())
    parts = [
        "---", f"title: {json.dumps('Reading report: ' + paper['title'])}", f"paper: {paper['name']}", "---", "",
        f"# Reading report: {paper['title']}", "",
        f"*{paper['citation']}.* Read in the structure of the paper lab `001_8c65d19d1d0c4e45.txt`; every claim "
        "below is checked live by a lab whose report is linked, or listed with what it would take.", "",
        "## Why this paper", "", paper["why"], "",
        "## What to know first", "", bullets(paper["know_first"]), "",
        "## First pass", "", paper["first_pass"], "",
        "## Second pass: the objects to track", "", bullets(paper["second_pass"]), "",
        "## Math dependency map", "", paper["dependency_map"], "",
        *_specification(paper),
        "## Key claims and evidence", "",
        *([paper["scope"], ""] if paper.get("scope") else []),
        f"Verdicts, counted by kind: {tally}. A claim is reproduced when every check it names is; the checks are "
        "the claims of the linked lab's report, each with a counter-case that shows it can fail "
        "(`python -m labs.falsify`).", "",
        table(["section", "claim", "checked by", "checks", "verdict"], rows), "",
        *([f"These verdicts come from lab reports run with other settings than their default configs: "
           f"{'; '.join(other)}.", ""] if other else []),
    ]
    if elsewhere:
        parts += ["### Not reproduced at lab scale", "",
                  "These claims need the paper's data or compute; each is listed with what it would take.", "",
                  table(["section", "claim", "what it would take"], elsewhere), ""]
    if paper.get("limits"):
        parts += ["## What this reading does not reproduce, and why", "", bullets(paper["limits"]), ""]
    if missing:
        parts += [f"Missing labs (named in the paper's config, not in the catalogue): {', '.join(missing)}.", ""]
    parts += ["## What to reproduce", "", "\n".join(f"{i + 1}. {s}" for i, s in enumerate(paper["reproduce"])), ""]
    if paper.get("reproduced_by"):
        lab = paper["reproduced_by"]
        parts += [f"The lab [`{lab}`](../{lab}/report.md) does exactly this.", ""]
    parts += ["## What has changed since publication", "", paper["changed"], "",
              "## Regenerate", "", "```bash", f"python -m labs.read paper={paper['name']}", "```", ""]
    try:
        return portable("\n".join(parts))
    except UnportableMath as exc:  # LaTeX from the paper's config that Markdown renderers would break
        raise VecmixError(f"the reading report of {paper['name']} cannot be rendered: {exc} (check the tex of "
                          "paper.equations and any $...$ in the config's text)") from None


def _specification(paper):
    """The paper's model as it specifies it: its equations, its architecture and its training setup (each part only
    where the config gives it), with the paper's section numbers."""
    if not any(paper.get(key) for key in ("equations", "architecture", "training")):
        return []
    parts = ["## The model, as the paper specifies it", ""]
    if paper.get("equations"):
        for eq in paper["equations"]:
            parts += [f"**{eq['name']}** (§{eq['section']}):", display(*eq["tex"].splitlines())]  # no blank line
    for key, title, column in (("architecture", "Architecture", "the paper's choice"),
                               ("training", "Training and decoding", "the paper's setup")):
        if paper.get(key):
            parts += [f"### {title}", "", table(["part", column, "section"],
                                                [[f["item"], f["value"], f"§{f['section']}"] for f in paper[key]]), ""]
    return parts


@hydra.main(config_path=str(CONFIG_DIR), config_name="read", version_base="1.3")
def main(cfg):
    """Write reports/papers/<paper>.md (the labs' reports are read from, or written to, reports/)."""
    try:
        paper = OmegaConf.to_container(cfg.paper, resolve=True, throw_on_missing=True)
        out = Path(HydraConfig.get().runtime.output_dir) / f"{paper['name']}.md"
        write_file(out, render(paper, out.parent.parent).encode())
    except Exception as exc:
        exit_if_user_error(exc)  # exit here, before Hydra adds lines of its own
        raise
    print(f"reading report: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


def register_schemas(args, chosen):
    """Store the reading report's schemas; every lab's as well when Hydra is to show or read configs (otherwise each
    lab's schema is stored when it runs, by :func:`labs.reproduce.compose_lab`)."""
    register(None if shows_or_reads_other_configs(args) else [])


def cli():
    """The command line, with one-line errors as for labs.reproduce."""
    run_cli(main, "paper", PAPERS, prepare=register_schemas)


if __name__ == "__main__":
    run_command(cli)
