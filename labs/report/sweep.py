"""The sweep summary: when a Hydra multirun ends, a table and a plot across its jobs, beside them.

Registered as a Hydra callback in conf/config.yaml, so every ``-m`` sweep gets
``summary.md``, ``summary.json`` and (when one numeric override varies) ``summary.svg``
in its sweep folder, whatever launcher ran the jobs.
"""

import json
from pathlib import Path

from hydra.experimental.callback import Callback

from .markdown import table

MAX_PANELS = 4


def collect(sweep_dir):
    """One row per job folder holding a results.json: its overrides, claim counts and scalar values.

    >>> collect("/nonexistent")
    []
    """
    rows = []
    for results in sorted(Path(sweep_dir).glob("*/results.json"), key=lambda p: _job_number(p.parent.name)):
        doc = json.loads(results.read_text())
        overrides = dict(o.split("=", 1) for o in doc["command"].split()[3:] if "=" in o)
        scalars = {name: v["numeric"] for name, v in doc["values"].items()
                   if isinstance(v.get("numeric"), (int, float)) and not isinstance(v.get("numeric"), bool)}
        rows.append({"job": results.parent.name, "lab": doc["lab"], "overrides": overrides,
                     "reproduced": sum(c["verdict"] == "reproduced" for c in doc["claims"]),
                     "claims": len(doc["claims"]), "values": scalars})
    return rows


def summarize(sweep_dir):
    """Write summary.md, summary.json and (for one varying numeric override) summary.svg; return the rows."""
    sweep_dir = Path(sweep_dir)
    rows = collect(sweep_dir)
    if not rows:
        return rows
    keys = sorted({k for r in rows for k in r["overrides"]} - {"lab"})
    shared = sorted(set.intersection(*(set(r["values"]) for r in rows)))
    header = ["job", "lab", *keys, "claims reproduced", *shared]
    body = [[r["job"], r["lab"], *(r["overrides"].get(k, "") for k in keys), f"{r['reproduced']} of {r['claims']}",
             *(f"{r['values'][name]:.6g}" for name in shared)] for r in rows]
    text = ["# Sweep summary", "", f"{len(rows)} jobs; {sum(r['reproduced'] == r['claims'] for r in rows)} with every "
            "claim reproduced.", "", table(header, body), ""]
    varying = [k for k in keys if len({r["overrides"].get(k) for r in rows}) > 1 and _numeric(rows, k)]
    if len(varying) == 1 and shared:
        from . import figures  # matplotlib only when there is something to plot

        x_key = varying[0]
        ordered = sorted(rows, key=lambda r: float(r["overrides"][x_key]))
        x = [float(r["overrides"][x_key]) for r in ordered]
        panels = [(name, {name: [r["values"][name] for r in ordered]}) for name in shared[:MAX_PANELS]]
        (sweep_dir / "summary.svg").write_bytes(figures.svg_bytes(figures.line_panels(x, panels, x_key)))
        text += ["![sweep summary](summary.svg)", "", f"*The values shared by every job against {x_key}.*", ""]
    (sweep_dir / "summary.md").write_text("\n".join(text))
    (sweep_dir / "summary.json").write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    return rows


class SweepSummary(Callback):
    """Hydra callback: summarise the sweep folder when a multirun ends."""

    def on_multirun_end(self, config, **kwargs):
        rows = summarize(config.hydra.sweep.dir)
        if rows:
            print(f"sweep summary: {Path(config.hydra.sweep.dir) / 'summary.md'}")


def _numeric(rows, key):
    try:
        [float(r["overrides"][key]) for r in rows]
    except (KeyError, ValueError):
        return False
    return True


def _job_number(name):
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() else 0
