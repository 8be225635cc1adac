"""The attention_basic lab: through compose() with overrides, and through the command line."""

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from helpers import lab_results

from labs.report import writer
from labs.reproduce import build, compose_lab, reproduce
from vecmix import VecmixError

ROOT = Path(__file__).resolve().parent.parent


results = partial(lab_results, "attention_basic")


@pytest.fixture(scope="module")
def default():
    return results()


def test_default_reproduces_the_seed_numbers(default):
    doc, result, _ = default
    values = doc["values"]
    assert values["scores"]["exact"] == ["1", "0", "-1"]
    assert values["weights"]["exact"] == ["exp(2)/(1 + E + exp(2))", "E/(1 + E + exp(2))", "1/(1 + E + exp(2))"]
    assert [round(x, 3) for x in values["weights"]["numeric"]] == [0.665, 0.245, 0.090]
    assert values["output"]["exact"] == ["(1 + exp(2))/(1 + E + exp(2))", "(1 + E)/(1 + E + exp(2))"]
    assert [round(x, 3) for x in values["output"]["numeric"]] == [0.755, 0.335]
    assert values["weights_sum"]["exact"] == "1"
    assert values["null_space"]["exact"] == [["-1", "-1", "1"]]
    assert {c["id"] for c in doc["claims"]} >= {"seed-scores", "seed-weights-exact", "seed-output-exact", "in-hull"}
    assert "in-span" not in {c["id"] for c in doc["claims"]}  # the values span R^2: membership is no question
    assert all(c["verdict"] == "reproduced" for c in doc["claims"])
    assert result.reproduced


def test_results_json_has_the_documented_fields(default):
    doc, _, _ = default
    assert set(doc) == {"lab", "title", "command", "config", "claims", "values", "environment"}
    assert doc["command"] == "python -m labs.reproduce lab=attention_basic"
    assert doc["config"]["lab"]["keys"] == [[1, 0], [0, 0], [-1, 0]]
    for claim in doc["claims"]:
        assert set(claim) == {"id", "statement", "source", "expected", "observed", "verdict", "exact", "counter_case"}
        assert claim["verdict"] in {"reproduced", "not reproduced"}
        assert set(claim["counter_case"]) == {"why", "overrides", "fault"}


def test_report_has_the_seed_structure_and_renders_as_plain_markdown(default):
    _, _, files = default
    report = files["report.md"].decode()
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings[0] == "## The idea" and headings[-4:] == [
        "## Checks", "## Deviations from the source", "## Environment", "## Regenerate"]
    assert "](figures/weights.svg)" in report and "](figures/mixture.svg)" in report
    assert {"figures/weights.svg", "figures/mixture.svg"} <= set(files)
    lines = report.splitlines()
    for i, line in enumerate(lines):  # display math: $$ alone, blank lines around, none inside
        if line.strip() == "$$" and lines[i + 1].strip() != "$$":
            opening = lines[i - 1] == "" and lines[i + 1] != ""
            closing = lines[i + 1] == "" and lines[i - 1] != ""
            assert opening or closing, f"line {i + 1}: $$ without a blank line around it"
    assert "/work/" not in report and "/tmp/" not in report


def test_same_config_gives_the_same_bytes(default):
    _, _, first = default
    _, _, second = results()
    assert first == second


def test_d3_m5_values_spanning_a_plane():
    overrides = [
        "lab.query=[1,0,2]",
        "lab.keys=[[1,0,0],[0,1,0],[0,0,1],[1,1,1],[0.5,0,-1]]",
        "lab.values=[[1,0,1],[0,1,1],[1,1,2],[2,-1,1],[0.5,0.5,1]]",  # all have x + y = z: a plane
    ]
    doc, result, files = results(overrides)
    claims = {c["id"]: c for c in doc["claims"]}
    assert all(c["verdict"] == "reproduced" for c in claims.values())
    assert not any(i.startswith("seed-") for i in claims)  # the seed's numbers are not the question here
    assert doc["values"]["rank"]["numeric"] == 2
    assert claims["in-span"]["observed"].startswith("z in the span; n outside it")  # both directions probed
    z = np.array(doc["values"]["output"]["numeric"])
    assert abs(z[0] + z[1] - z[2]) < 1e-10  # results.json keeps 12 significant digits
    assert len(doc["values"]["null_space"]["exact"]) == 3  # m - rank
    assert "projection" in files["report.md"].decode()


def test_decimals_and_fractions_are_exact():
    doc, _, _ = results(["lab.query=[0.2,1/3]", "lab.d_k=4"])
    assert doc["values"]["query"]["exact"] == ["1/5", "1/3"]
    assert doc["values"]["scores"]["exact"] == ["1/10", "0", "-1/10"]  # (1/5) / sqrt(4)
    assert doc["command"] == "python -m labs.reproduce lab=attention_basic 'lab.query=[0.2,1/3]' lab.d_k=4"


@pytest.mark.parametrize(
    "overrides, weights, output",
    [
        (["lab.query=[3]", "lab.keys=[[1]]", "lab.values=[[2,5]]"], ["1"], ["2", "5"]),  # one pair: alpha = 1
        (["lab.query=[1]", "lab.keys=[[1],[-1]]", "lab.values=[[1],[3]]"], None, None),  # d = 1, scalars
    ],
)
def test_small_edge_cases(overrides, weights, output):
    doc, result, _ = results(overrides)
    failed = {c.id for c in result.claims if not c.holds}
    # One pair: softmax of a single score is 1 whatever the query, so doubling the query cannot change it.
    assert failed == ({"changing-scores"} if weights == ["1"] else set())
    if weights:
        assert doc["values"]["weights"]["exact"] == weights
        assert doc["values"]["output"]["exact"] == output


def test_independent_values_have_a_single_solution():
    doc, result, _ = results(["lab.values=[[1,0],[0,1],[0,0]]", "lab.values=[[1,0,0],[0,1,0],[0,0,1]]"])
    assert result.reproduced
    assert doc["values"]["null_space"]["exact"] == []
    assert doc["values"]["particular_solution"]["exact"] == doc["values"]["weights"]["exact"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["lab.query=[1,0,0]"], "lab.query has 3 numbers but each key in lab.keys has 2"),
        (["lab.values=[[1,0],[0,1]]"], "lab.keys has 3 vectors but lab.values has 2"),
        (["lab.query=[one,0]"], r"lab.query\[0\] = 'one' is not a number"),
        (["lab.values=[[1,0],[0,nan],[1,1]]"], r"lab.values\[1\]\[1\] = nan is not a finite number"),
        (["lab.d_k=0"], "lab.d_k = 0 must be a positive integer"),
        (["lab.d_k=-4"], "lab.d_k = -4 must be a positive integer"),
        (["lab.keys=[]", "lab.values=[]"], "lab.keys is empty"),
        (["lab.keys=[[1,0],[0]]"], "lab.keys has rows of different lengths"),
    ],
)
def test_bad_values_name_the_key(overrides, message):
    with pytest.raises(VecmixError, match=message) as info:
        build(compose_lab("attention_basic", overrides))
    assert "\n" not in str(info.value)


def test_a_failed_run_leaves_the_previous_report_untouched(tmp_path, monkeypatch):
    out = tmp_path / "report"
    reproduce(compose_lab("attention_basic"), out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    with pytest.raises(VecmixError):  # bad value: fails before anything is written
        reproduce(compose_lab("attention_basic", ["lab.d_k=0"]), out)

    def crash(staging, target):  # everything is written, figures included, then the run dies
        assert (staging / "figures" / "mixture.svg").exists()
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(writer, "_swap_into_place", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        reproduce(compose_lab("attention_basic", ["lab.d_k=4"]), out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder left behind


def test_the_writer_refuses_a_folder_that_is_not_a_report(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(writer.ReportFolderError, match="not a vecmix report"):
        writer.write_folder(tmp_path, {"results.json": b"{}"})
    assert (tmp_path / "notes.txt").read_text() == "mine"


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "labs.reproduce", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_command_line_writes_the_report_and_says_where(tmp_path):
    proc = run_cli("lab=attention_basic", f"hydra.run.dir={tmp_path / 'out'}", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "13 of 13 claims reproduced" in proc.stdout and f"report: {tmp_path / 'out' / 'report.md'}" in proc.stdout
    for name in ("report.md", "results.json", "figures/mixture.svg", "figures/weights.svg", ".hydra/config.yaml"):
        assert (tmp_path / "out" / name).is_file(), name
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["command"] == "python -m labs.reproduce lab=attention_basic"  # where it was written is not part of it

    before = (tmp_path / "out" / "results.json").read_bytes()
    bad = run_cli("lab.query=[1,x]", f"hydra.run.dir={tmp_path / 'out'}", cwd=ROOT)
    assert bad.returncode != 0
    assert bad.stderr.strip() == "error: lab.query[1] = 'x' is not a number: expected a decimal such as 0.5 or a fraction such as 1/3"
    assert "Traceback" not in bad.stderr + bad.stdout
    assert (tmp_path / "out" / "results.json").read_bytes() == before


def test_exact_output_agrees_with_its_numeric_value(default):
    doc, _, _ = default
    exact = [sp.sympify(x) for x in doc["values"]["output"]["exact"]]  # our own strings, not learner input
    np.testing.assert_allclose([float(x) for x in exact], doc["values"]["output"]["numeric"], rtol=0, atol=1e-12)
