"""The sweep summary: when a Hydra multirun ends, a table and a plot across its jobs, beside them.

Registered as a Hydra callback in conf/config.yaml, so every ``-m`` sweep gets
``summary.md``, ``summary.csv`` (every claim of every job, :func:`labs.report.frame.load_results`)
and (when one numeric override varies) ``summary.svg`` in its sweep folder, whatever
launcher ran the jobs. A job that fails leaves ``error.json`` (its one-line error) in its
folder instead of a report; the other jobs still run, the summary lists the failures,
and the command exits with status 2.
"""

import json
import sys
import traceback
from pathlib import Path

from hydra.experimental.callback import Callback

from .markdown import table

MAX_PANELS = 4


def record_failure(job_dir, overrides, exc):
    """Write ``error.json`` for a failed job and say so on stderr: one line for a user error, a traceback for a bug."""
    from ..config.errors import explain

    line = explain(exc)
    if line is None:
        traceback.print_exception(exc)
        line = f"a bug in vecmix: {type(exc).__name__}: {exc}"
    command = " ".join(["python", "-m", "labs.reproduce", *overrides])
    doc = {"job": Path(job_dir).name, "command": command, "error": line}
    Path(job_dir).mkdir(parents=True, exist_ok=True)
    (Path(job_dir) / "error.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"error: job {Path(job_dir).name} ({' '.join(overrides)}): {line}", file=sys.stderr)


def summarize(sweep_dir):
    """Write summary.md, summary.csv and (for one varying numeric override) summary.svg; return the jobs' table."""
    from .frame import FAILED, load_results, runs  # pandas only when a sweep ends

    sweep_dir = Path(sweep_dir)
    claims = load_results(sweep_dir, recursive=False)
    if claims.empty:
        return claims
    jobs = runs(claims)
    keys = [c for c in jobs.columns if c.startswith(("lab.", "+lab.", "hydra.")) and jobs[c].notna().any()]
    values = [c for c in jobs.columns if c.startswith("values.")]
    ok = jobs[jobs["error"].isna()]
    shared = [c for c in values if ok[c].notna().all()] if len(ok) else []
    failed = jobs[jobs["error"].notna()]
    header = ["job", "lab", *keys, "claims reproduced", *(c.removeprefix("values.") for c in shared)]
    body = [[r["run"], r["lab"], *("" if _blank(r[k]) else r[k] for k in keys),
             FAILED if r["error"] is not None else f"{r['reproduced']} of {r['claims']}",
             *("" if _blank(r[c]) else f"{r[c]:.6g}" for c in shared)] for _, r in jobs.iterrows()]
    complete = int((ok["reproduced"] == ok["claims"]).sum())
    text = ["# Sweep summary", "", f"{len(jobs)} jobs; {complete} with every claim reproduced"
            + (f"; {len(failed)} failed." if len(failed) else "."), "", table(header, body), ""]
    if len(failed):
        text += ["## Failed jobs", "", *(f"- `{r['run']}`: {r['error']}" for _, r in failed.iterrows()), ""]
    varying = [k for k in keys if ok[k].nunique() > 1 and _numeric(ok[k])]
    if len(varying) == 1 and shared:
        from . import figures  # matplotlib only when there is something to plot

        x_key = varying[0]
        ordered = ok.assign(x=ok[x_key].astype(float)).sort_values("x")
        panels = [(c.removeprefix("values."), {c.removeprefix("values."): ordered[c].tolist()})
                  for c in shared[:MAX_PANELS]]
        (sweep_dir / "summary.svg").write_bytes(figures.svg_bytes(figures.line_panels(ordered["x"].tolist(), panels,
                                                                                       x_key)))
        text += ["![sweep summary](summary.svg)", "", f"*The values shared by every job against {x_key}.*", ""]
    (sweep_dir / "summary.md").write_text("\n".join(text))
    claims.to_csv(sweep_dir / "summary.csv", index=False)
    return jobs


class SweepSummary(Callback):
    """Hydra callback: summarise the sweep folder when a multirun ends; exit with status 2 if a job failed."""

    def on_multirun_end(self, config, **kwargs):
        sweep_dir = Path(config.hydra.sweep.dir)
        jobs = summarize(sweep_dir)
        if len(jobs):
            print(f"sweep summary: {sweep_dir / 'summary.md'}")
        failed = int(jobs["error"].notna().sum()) if "error" in jobs else 0
        if failed:
            print(f"error: {failed} of {len(jobs)} jobs failed; see {sweep_dir / 'summary.md'}", file=sys.stderr)
            sys.exit(2)


def _blank(x):
    return x is None or (isinstance(x, float) and x != x)  # None, or NaN where a failed job has no value


def _numeric(column):
    try:
        column.astype(float)
    except (TypeError, ValueError):
        return False
    return True
