"""The reading report of a paper: ``python -m labs.read paper=attention_is_all_you_need``.

It follows the structure of the paper lab 001 (why this paper, what to know first, first
pass, second pass, dependency map, key claims and evidence, what to reproduce, what has
changed). Prose and claims come from ``conf/paper/<paper>.yaml``; each claim's verdict
comes from its lab's results, and a lab that has not been run yet is run first.
"""

import json
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from .catalogue import LABS
from .config.cli import run_cli, run_command, shows_or_reads_other_configs
from .config.errors import exit_if_user_error
from .config.schema import register
from .report.latex import portable
from .report.markdown import table
from .report.writer import write_file
from .reproduce import CONFIG_DIR, compose_config, compose_lab, reproduce

PAPERS = sorted(p.stem for p in (CONFIG_DIR / "paper").glob("*.yaml"))


def compose_paper(paper):
    """The config of a paper's reading report."""
    register([])
    return compose_config("read", [f"paper={paper}"])


def lab_runs(labs, reports):
    """One row per lab (its default report under ``reports``, run first where it is missing): claims and verdicts."""
    from .report.frame import load_results, runs

    for lab in labs:
        if not (Path(reports) / lab / "results.json").exists():
            reproduce(compose_lab(lab), Path(reports) / lab)
    jobs = runs(load_results(reports, recursive=False)).set_index("run")
    return jobs.loc[list(labs)]


def render(paper, reports):
    """The reading report's Markdown, its math made portable; links are relative to reports/papers/.

    >>> text = render(OmegaConf.to_container(compose_paper("attention_is_all_you_need").paper), "reports")
    >>> text.splitlines()[5], "| 3.2.1, footnote 4 |" in text
    ('# Reading report: Attention Is All You Need', True)
    """
    missing = [claim["lab"] for claim in paper["claims"] if claim["lab"] not in LABS]
    checked = [claim for claim in paper["claims"] if claim["lab"] in LABS]
    jobs = lab_runs(sorted({claim["lab"] for claim in checked}), reports)
    rows = []
    for claim in checked:
        held, total = jobs.loc[claim["lab"], "reproduced"], jobs.loc[claim["lab"], "claims"]
        verdict = "reproduced" if held == total else f"**{held} of {total} reproduced**"
        rows.append([claim["section"], claim["statement"], f"[`{claim['lab']}`](../{claim['lab']}/report.md)",
                     f"{verdict} ({held} of {total} checks)"])
    bullets = lambda items: "\n".join(f"- {item}" for item in items)  # noqa: E731
    parts = [
        "---", f"title: {json.dumps('Reading report: ' + paper['title'])}", f"paper: {paper['name']}", "---", "",
        f"# Reading report: {paper['title']}", "",
        f"*{paper['citation']}.* Read through the paper lab `001_8c65d19d1d0c4e45.txt`; every claim below is "
        "checked by a lab whose report is linked.", "",
        "## Why this paper", "", paper["why"], "",
        "## What to know first", "", bullets(paper["know_first"]), "",
        "## First pass", "", paper["first_pass"], "",
        "## Second pass: the objects to track", "", bullets(paper["second_pass"]), "",
        "## Math dependency map", "", paper["dependency_map"], "",
        "## Key claims and evidence", "",
        "The paper's evidence is mainly experimental; the claims that can be checked at lab scale are checked "
        "here, live:", "", table(["section", "claim", "checked by", "verdict"], rows), "",
    ]
    if missing:
        parts += [f"Missing labs (named in the paper's config, not in the catalogue): {', '.join(missing)}.", ""]
    parts += ["## What to reproduce", "", "\n".join(f"{i + 1}. {s}" for i, s in enumerate(paper["reproduce"])), "",
              "The lab [`paper_lab`](../paper_lab/report.md) does exactly this, in any dimension.", "",
              "## What has changed since publication", "", paper["changed"], "",
              "## Regenerate", "", "```bash", f"python -m labs.read paper={paper['name']}", "```", ""]
    return portable("\n".join(parts))


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
