"""Results across runs as one pandas DataFrame: ``load_results(folder)``, one row per claim.

Every ``results.json`` under a folder (a sweep, the gallery, a folder of your own runs)
becomes rows with the run's folder, its lab, its overrides (one column per key, as
written on the command line), the claim's id, verdict and whether it was checked
exactly, and the run's scalar values (one ``values.<name>`` column each). A failed job of
a sweep (its ``error.json``) is one row with verdict ``failed`` and its one-line error.

>>> import json, tempfile
>>> root = Path(tempfile.mkdtemp())
>>> (root / "0_scaling").mkdir()
>>> _ = (root / "0_scaling" / "results.json").write_text(json.dumps({"lab": "scaling",
...     "command": "python -m labs.reproduce lab=scaling lab.d_k=4",
...     "claims": [{"id": "variance", "verdict": "reproduced", "exact": False}],
...     "values": {"variance": {"numeric": 4.02}}}))
>>> load_results(root)[["run", "lab", "lab.d_k", "claim", "verdict", "values.variance"]].to_dict("records")
[{'run': '0_scaling', 'lab': 'scaling', 'lab.d_k': '4', 'claim': 'variance', 'verdict': 'reproduced', 'values.variance': 4.02}]
"""

import json
import shlex
from pathlib import Path

import pandas as pd

from vecmix import VecmixError

FIXED = ["run", "lab", "title", "overrides", "claim", "verdict", "exact", "error"]
FAILED = "failed"


def load_results(folder, recursive=True):
    """One row per claim of every run under ``folder`` (and one per failed sweep job), in run order.

    ``recursive=False`` reads only the runs in ``folder``'s own sub-folders (a sweep's jobs,
    the gallery's labs), not those further down.
    """
    folder = Path(folder)
    find = folder.rglob if recursive else (lambda name: folder.glob(f"*/{name}"))
    rows = []
    for path in sorted([*find("results.json"), *find("error.json")], key=_run_order(folder)):
        try:
            doc = json.loads(path.read_text())
            words = shlex.split(doc["command"])[3:]  # after "python -m labs.reproduce"
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VecmixError(f"{path} is not a vecmix run's file ({type(exc).__name__}: {exc}); move it away or "
                              "run that lab again") from None
        run = path.parent.relative_to(folder).as_posix()
        overrides = dict(w.split("=", 1) for w in words if "=" in w)
        base = {"run": run, "lab": overrides.pop("lab", doc.get("lab")), "title": doc.get("title"),
                "overrides": " ".join(words), **overrides}
        if path.name == "error.json":
            rows.append({**base, "verdict": FAILED, "error": doc["error"]})
            continue
        values = {f"values.{name}": v["numeric"] for name, v in doc["values"].items() if _scalar(v.get("numeric"))}
        rows += [{**base, "claim": c.get("id"), "verdict": c["verdict"], "exact": c.get("exact"), **values}
                 for c in doc["claims"]]
    frame = pd.DataFrame(rows)
    other = sorted(c for c in frame.columns if c not in FIXED)
    return frame.reindex(columns=[*FIXED, *other])


def runs(frame):
    """One row per run: its lab, overrides, claims reproduced of claims, error, and the values every claim row shares.

    >>> runs(pd.DataFrame({"run": ["a", "a"], "lab": ["x", "x"], "overrides": ["", ""], "claim": ["p", "q"],
    ...                    "verdict": ["reproduced", "not reproduced"], "exact": [True, True], "error": [None, None]}))
      run lab overrides  reproduced  claims error
    0   a   x                     1       2  None
    """
    grouped = frame.groupby("run", sort=False, dropna=False)
    first = grouped.first()
    out = first.drop(columns=["claim", "verdict", "exact"]).assign(
        reproduced=grouped["verdict"].apply(lambda v: int((v == "reproduced").sum())),
        claims=grouped["claim"].count())
    columns = [c for c in ["lab", "title", "overrides", "reproduced", "claims", "error"] if c in out.columns]
    out = out[[*columns, *(c for c in out.columns if c not in columns)]].reset_index()
    return out.astype({"error": object}).where(out.notna(), None)


def _scalar(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _run_order(folder):
    """Sort key: sweep jobs by their number (0_, 1_, ... 10_), other folders by name."""
    def key(path):
        run = path.parent.relative_to(folder).as_posix()
        head = run.split("_", 1)[0]
        return (int(head) if head.isdigit() else -1, run)
    return key
