"""The bad-input battery: every kind of mistake gets one line naming what is at fault, and loses nothing.

Config-level cases run in-process through compose() and the same explain() the command
line uses; a few run through the real command line too, checking the exit status, the
single line on stderr, the absence of a traceback, and the previous report's bytes.
"""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from labs.config.errors import explain
from labs.reproduce import build, compose_lab
from vecmix import VecmixError, attention, exact_attention, softmax, to_numeric

ROOT = Path(__file__).resolve().parent.parent

BATTERY = [  # (what, overrides, the one line it must give)
    ("unknown key", ["lab.d_kk=1"], "lab.d_kk is not a config key (did you mean lab.d_k?); the keys of lab are:"),
    ("unknown top-level key", ["labb.d_k=1"], "labb is not a config key (did you mean lab?)"),
    ("wrong type", ["lab.d_k=abc"], "lab.d_k: Value 'abc' of type 'str' could not be converted to Integer"),
    ("wrong type for a vector", ["lab.query=abc"], "lab.query: Invalid value assigned: str is not a list"),
    ("misspelled lab", ["lab=attention_basik"], "there is no lab named 'attention_basik' (did you mean "
                                                "attention_basic?); choose one of: additive_vs_dot, attention_basic,"),
    ("garbled override", ["lab.query=[1,"], "cannot read an override: "),
    ("query and key dimensions differ", ["lab.query=[1,0,0]"],
     "lab.query has 3 numbers but each key in lab.keys has 2: the query and the keys must have the same dimension"),
    ("more keys than values", ["lab.values=[[1,0],[0,1]]"], "lab.keys has 3 vectors but lab.values has 2"),
    ("an empty set of values", ["lab.values=[]"], "lab.values is empty: expected at least one vector"),
    ("NaN", ["lab.query=[nan,0]"], "lab.query[0] = nan is not a finite number"),
    ("infinity", ["lab.values=[[1,0],[0,inf],[1,1]]"], "lab.values[1][1] = inf is not a finite number"),
    ("a non-numeric string", ["lab.keys=[[1,0],[zero,0],[-1,0]]"], "lab.keys[1][0] = 'zero' is not a number"),
    ("d_k zero", ["lab.d_k=0"], "lab.d_k = 0 must be a positive integer"),
    ("d_k negative", ["lab.d_k=-3"], "lab.d_k = -3 must be a positive integer"),
    ("ragged vectors", ["lab.keys=[[1,0],[0],[-1,0]]"], "lab.keys has rows of different lengths"),
]


def error_line(overrides):
    """What the command line would print for these overrides (without 'error: ')."""
    lab = next((o.split("=", 1)[1] for o in overrides if o.startswith("lab=")), "attention_basic")
    try:
        build(compose_lab(lab, [o for o in overrides if not o.startswith("lab=")]))
    except Exception as exc:  # noqa: BLE001 - explain() decides what is a user error
        return explain(exc)
    return None


@pytest.mark.parametrize("what, overrides, expected", BATTERY, ids=[case[0] for case in BATTERY])
def test_each_mistake_gets_one_line_naming_it(what, overrides, expected):
    line = error_line(overrides)
    assert line is not None, f"{what}: no error"
    assert line.startswith(expected), line
    assert "\n" not in line


def test_a_bug_is_not_dressed_up_as_a_user_error():
    assert explain(ZeroDivisionError("division by zero")) is None


@pytest.fixture(scope="module")
def previous_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "report"
    proc = run_cli("lab=attention_basic", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    return out, {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "labs.reproduce", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("override, expected", [
    ("lab.d_kk=1", "error: lab.d_kk is not a config key (did you mean lab.d_k?)"),
    ("lab=attention_basik", "error: there is no lab named 'attention_basik' (did you mean attention_basic?)"),
    ("lab.values=[[1,0],[0,nan],[1,1]]", "error: lab.values[1][1] = nan is not a finite number"),
])
def test_the_command_line_prints_one_line_exits_2_and_keeps_the_previous_report(previous_report, override, expected):
    out, before = previous_report
    proc = run_cli(override, f"hydra.run.dir={out}")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_full_traces_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    proc = run_cli("lab.d_k=0", f"hydra.run.dir={tmp_path / 'out'}")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_library_mask_of_the_wrong_shape():
    with pytest.raises(VecmixError, match=r"^mask of shape \(2, 2\) does not broadcast to the scores' shape \(3, 4\)"):
        attention(np.ones((3, 2)), np.ones((4, 2)), np.ones((4, 2)), mask=np.ones((2, 2), dtype=bool))


def test_library_fully_masked_row_is_named():
    mask = np.array([[True, False], [False, False]])
    with pytest.raises(VecmixError, match=r"^query row 1 has every key masked"):
        attention(np.ones((2, 1)), np.ones((2, 1)), np.ones((2, 1)), mask=mask)
    with pytest.raises(VecmixError, match=r"^query row 1 has every key masked"):
        exact_attention([[1], [1]], [[1], [1]], [[1], [1]], mask=mask)


def test_scores_near_1e308_stay_finite_and_the_exact_path_does_not_hang():
    assert softmax([1e308, 0.0, -1e308]).tolist() == [1.0, 0.0, 0.0]
    z, alpha = attention([1e154], [[1e154], [-1e154]], [[1.0, 0.0], [0.0, 1.0]], scale=1.0, weights=True)  # scores +-1e308
    assert np.isfinite(z).all() and alpha.tolist() == [1.0, 0.0]
    start = time.perf_counter()
    Z, A = exact_attention([["1e308"]], [[1], [-1]], [[1, 0], [0, 1]], scale=1)
    assert to_numeric(A).tolist() == [[1.0, 0.0]] and to_numeric(Z).tolist() == [[1.0, 0.0]]
    assert time.perf_counter() - start < 30  # a guard against a hang, not a benchmark
