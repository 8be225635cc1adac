"""The cost_per_layer lab: Table 1's counts from the products two layers perform, projections in or out."""

import platform

import numpy as np
import pytest
import sympy as sp

from labs.catalogue import cost_per_layer
from labs.reproduce import build, compose_lab

DEFAULT = {"d": 512, "n": 128, "projections": False, "cell": "elman", "measure": False, "ns": [8, 16], "ds": [4, 8],
           "repeats": 1}


def run(**overrides):
    return cost_per_layer.run({**DEFAULT, **overrides})


def claims(result):
    return {c.id: c for c in result.claims}


@pytest.mark.parametrize("n, d", [(3, 5), (7, 2), (20, 9)])
@pytest.mark.parametrize("cell, gates", [("elman", 1), ("gru", 3), ("lstm", 4)])
def test_counts_are_the_products_of_the_layers_that_ran(n, d, cell, gates):
    counts, _, recurred = cost_per_layer.traced_counts(n, d, cell)
    assert counts == {"core": 2 * n**2 * d, "projections": 4 * n * d**2, "recurrent": 2 * gates * n * d**2}
    assert [times for _, _, times, _ in recurred.table()] == [gates * n, gates * n]  # n steps, two products a gate


def test_the_cells_compute_their_textbook_step():
    x, h0 = 0.5, 0.0
    w = {g: (np.array([[0.3 + 0.1 * k]]), np.array([[0.7 - 0.1 * k]])) for k, g in enumerate("hzrifog")}
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    step = {g: w[g][0][0, 0] * h0 + w[g][1][0, 0] * x for g in "zrifo"}
    z, r = sig(step["z"]), sig(step["r"])
    gru = (1 - z) * h0 + z * np.tanh(w["h"][0][0, 0] * r * h0 + w["h"][1][0, 0] * x)
    c = sig(step["i"]) * np.tanh(w["g"][0][0, 0] * h0 + w["g"][1][0, 0] * x)
    lstm = sig(step["o"]) * np.tanh(c)
    X = np.array([[x]])
    assert cost_per_layer.recurrent(X, w, "gru")[0] == pytest.approx(gru, rel=1e-14)
    assert cost_per_layer.recurrent(X, w, "lstm")[0] == pytest.approx(lstm, rel=1e-14)
    assert cost_per_layer.recurrent(X, w)[0] == pytest.approx(np.tanh(w["h"][1][0, 0] * x), rel=1e-14)


@pytest.mark.parametrize("cell, table_1, with_projections", [("elman", "n < d", "at no n >= 1"),
                                                            ("gru", "n < 3*d", "n < d"),
                                                            ("lstm", "n < 4*d", "n < 2*d")])
def test_the_boundary_is_the_cells_not_a_law(cell, table_1, with_projections):
    # The old lab taught "with the four projections self-attention is never the cheaper": true of its Elman cell only.
    assert claims(run(cell=cell))["crossover"].observed == table_1
    assert claims(run(cell=cell, projections=True))["crossover"].observed == with_projections
    n, d, k = cost_per_layer.n, cost_per_layer.d, {"elman": 2, "gru": 6, "lstm": 8}[cell]
    boundary = sp.reduce_inequalities([4 * n * d**2 + 2 * n**2 * d < k * n * d**2], [n])
    assert ("at no n >= 1" if boundary == sp.false else sp.sstr(boundary)) == with_projections


def test_the_cell_is_a_named_assumption_and_never_is_gone():
    result = run()
    text = "\n".join(result.sections) + cost_per_layer.__doc__ + " ".join(result.deviations)
    assert "never" not in text.replace("never asserted", "")
    assert "Elman" in {c.id: c for c in result.claims}["crossover"].statement
    assert "| LSTM | 8 |" in result.sections[2] and "$n < 2 d$" in result.sections[2]
    assert "001" not in result.intro and "grows with the length" not in text and "per layer and per sequence" in text


def test_with_the_projections_an_elman_layer_is_cheaper_at_every_length():
    c = claims(run(projections=True))
    n, d = cost_per_layer.n, cost_per_layer.d
    assert c["crossover"].observed == "at no n >= 1"
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




def test_an_unknown_cell_is_refused_by_name():
    from vecmix import VecmixError

    with pytest.raises(VecmixError, match="lab.cell = 'rnn' must be one of: elman, gru, lstm"):
        run(cell="rnn")
