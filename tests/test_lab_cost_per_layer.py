"""The cost_per_layer lab: Table 1's counts from the products two layers perform, projections in or out."""

import platform

import pytest
import sympy as sp

from labs.catalogue import cost_per_layer
from labs.reproduce import build, compose_lab

DEFAULT = {"d": 512, "n": 128, "projections": False, "measure": False, "ns": [8, 16], "ds": [4, 8], "repeats": 1}


def run(**overrides):
    return cost_per_layer.run({**DEFAULT, **overrides})


def claims(result):
    return {c.id: c for c in result.claims}


@pytest.mark.parametrize("n, d", [(3, 5), (7, 2), (20, 9)])
def test_counts_are_the_products_of_the_layers_that_ran(n, d):
    counts, _, recurred = cost_per_layer.traced_counts(n, d)
    assert counts == {"core": 2 * n**2 * d, "projections": 4 * n * d**2, "recurrent": 2 * n * d**2}
    assert [times for _, _, times, _ in recurred.table()] == [n, n]  # n sequential steps, two products each


def test_with_the_projections_self_attention_is_never_the_cheaper():
    # The old lab left the projections out without a word, and its "n < d" could not fail.
    c = claims(run(projections=True))
    n, d = cost_per_layer.n, cost_per_layer.d
    assert c["crossover"].observed == "False"
    assert sp.reduce_inequalities([4 * n * d**2 + 2 * n**2 * d < 2 * n * d**2], [n]) == sp.false
    assert not c["orders"].holds and not c["cheaper-here"].holds


@pytest.mark.parametrize("length, cheaper", [(511, True), (512, False), (1024, False)])
def test_the_worked_comparison_turns_at_n_equals_d(length, cheaper):
    assert claims(run(n=length))["cheaper-here"].holds is cheaper


def test_the_fitted_polynomials_are_table_1s_orders():
    result = run()
    exact = {v.name: v.to_json().get("exact") for v in result.values}
    assert exact["attention_multiply_adds"] == "2*d*n**2" and exact["recurrent_multiply_adds"] == "2*d**2*n"
    assert exact["projection_multiply_adds"] == "4*d**2*n"


def test_the_default_report_is_the_same_bytes_and_says_what_table_1_leaves_out():
    first, _ = build(compose_lab("cost_per_layer"))
    second, _ = build(compose_lab("cost_per_layer"))
    assert first["report.md"] == second["report.md"] and first["results.json"] == second["results.json"]
    report = first["report.md"].decode()
    assert "it leaves out the four projections" in report and "Measured" not in report


def test_measured_times_come_with_slopes_beside_the_counts_and_the_machine():
    result = run(d=64, n=16, measure=True)
    measured = result.sections[-1]
    assert measured.startswith("## Measured (shown, not asserted)") and platform.machine() in measured
    assert "| self-attention against n |" in measured and "| 2.00 |" in measured  # c n^2 d: slope 2 against n
    assert "times.svg" in result.figures and result.reproduced


