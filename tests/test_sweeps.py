"""Sweeps: every multirun ends with a summary beside its jobs, whichever launcher ran them."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from labs.report.sweep import summarize

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["lab=scaling", "lab.d_k=4,16", "lab.samples=8000", "lab.trials=50"]


def sweep(tmp_path, *extra):
    proc = subprocess.run([sys.executable, "-m", "labs.reproduce", "-m", *SMALL, *extra,
                           f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return tmp_path / "sweep"


def check_summary(folder):
    claims = pd.read_csv(folder / "summary.csv")  # one row per claim of every job
    assert claims.drop_duplicates("run")["lab.d_k"].tolist() == [4, 16]
    assert (claims["verdict"] == "reproduced").all() and len(claims) == 2 * claims["claim"].nunique()
    text = (folder / "summary.md").read_text()
    assert "| 0_scaling | scaling | 4 |" in text and "![sweep summary](summary.svg)" in text
    assert (folder / "summary.svg").read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize("launcher", ["basic", "joblib", "submitit_local"])
def test_a_sweep_writes_its_summary(tmp_path, launcher):
    extra = [] if launcher == "basic" else [f"hydra/launcher={launcher}"]
    check_summary(sweep(tmp_path, *extra))


def test_summary_of_jobs_without_a_varying_number_has_no_plot(tmp_path):
    job = tmp_path / "0_vector_mixture"
    job.mkdir()
    doc = {"lab": "vector_mixture", "command": "python -m labs.reproduce lab=vector_mixture lab.query=[0,1]",
           "claims": [{"id": "c", "verdict": "reproduced", "exact": True}], "values": {"x": {"numeric": 1.5}}}
    (job / "results.json").write_text(json.dumps(doc))
    jobs = summarize(tmp_path)
    assert jobs.loc[0, "values.x"] == 1.5 and not (tmp_path / "summary.svg").exists()
    assert "1 jobs; 1 with every claim reproduced." in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize("choice", ["lab=masking,scaling", "lab=glob(ma*)"])
def test_hydra_mode_multirun_sweeps_labs_without_the_default_one(tmp_path, choice):
    """Hydra composes the config without its sweeps to read hydra.mode: the default lab's schema must be there."""
    proc = subprocess.run([sys.executable, "-m", "labs.reproduce", "hydra.mode=MULTIRUN", choice,
                           f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir() if p.is_dir())[0].startswith("0_")
    assert (tmp_path / "sweep" / "summary.md").exists()
