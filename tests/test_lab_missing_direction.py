"""The missing_direction lab: best linear vs best convex combination, reached vs approached, and its claims."""

from functools import partial

import numpy as np
import pytest
import sympy as sp
from helpers import exact_column, lab_results, verdicts_under_fault

from labs.catalogue import LABS
from labs.catalogue._geometry import cone_weights, is_nearest, nearest_in_hull, project_onto_span, widest_weights
from labs.report.latex import safe
from vecmix import in_hull, in_span

LAB = "missing_direction"
V = sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]])
T = sp.Matrix([1, 1, 1])


results = partial(lab_results, LAB)


@pytest.fixture(scope="module")
def default():
    return results()


exact = exact_column


def test_best_linear_and_best_convex_combinations_are_told_apart(default):
    doc, result, files = default
    p, h = exact(doc, "nearest_linear"), exact(doc, "nearest_convex")
    assert p == sp.Matrix([sp.Rational(2, 3), sp.Rational(2, 3), sp.Rational(4, 3)])
    assert h == sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2), 1])
    assert sp.sympify(doc["values"]["distance_to_hull"]["exact"]) == sp.sqrt(2) / 2
    assert not in_hull(V, p)[0] and in_hull(V, h)[0]  # the projection is no mixture; h is one
    # h is the nearest point of the segment [v2, v3] (v1 is its midpoint): minimise |t - x(s)|^2 exactly.
    s = sp.Symbol("s")
    x = V.row(1).T + s * (V.row(2) - V.row(1)).T  # s in [0, 1]
    best = sp.solve(sp.diff(((T - x).T * (T - x))[0], s), s)[0]
    assert 0 <= best <= 1 and x.subs(s, best) == h
    report = files["report.md"].decode()
    assert "The best a mixture can do is the projection" not in report  # the old, wrong lesson
    assert "three different bests" in report


def test_every_attention_output_keeps_off_the_missing_direction_and_in_the_hull(default):
    doc, _, _ = default
    Z = np.array(doc["values"]["attention_outputs"]["numeric"])
    assert np.allclose(Z @ np.array([1, 1, -1]), 0, atol=1e-10)  # results.json keeps 12 digits
    A = np.array(doc["values"]["attention_weights"]["numeric"])
    assert np.all(A > 0) and np.allclose(A.sum(axis=1), 1) and np.allclose(A @ np.array(V.tolist(), float), Z)


def test_a_nearest_point_at_the_end_of_the_segment_is_only_approached():
    doc, result, files = results(["lab.target=[3,-1,1]"])
    claims = {c.id: c for c in result.claims}
    assert exact(doc, "nearest_convex") == V.row(2).T  # v3, an end of the segment
    assert exact(doc, "weights_reaching_nearest") == sp.Matrix([0, 0, 1])
    assert not claims["nearest-reached"].holds and "only approached" in claims["nearest-reached"].observed
    assert "is only approached" in files["report.md"].decode() or "No attention output equals" in files[
        "report.md"].decode()


def test_values_spanning_everything_are_a_valid_input_whose_claims_fail():
    _, result, _ = results(["lab.values=[[1,0,1],[0,1,1],[0,0,1]]"])  # the old lab refused these values
    claims = {c.id: c for c in result.claims}
    assert not claims["missing-direction"].holds and not claims["unreachable"].holds
    assert set(claims) == set(LABS[LAB].COUNTER_CASES)  # no claim is missing


def test_the_segment_is_drawn_as_a_segment_not_a_shaded_region(default):
    _, result, _ = default
    ax = result.figures["plane.svg"].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "convex hull of the values: a segment" in labels
    assert not ax.patches  # nothing filled: collinear values have no area


def test_the_report_shows_keys_and_d_k_beside_the_weights(default):
    _, _, files = default
    report = files["report.md"].decode()
    assert "so $d_k = 2$" in report and safe(r"k_{3} = \begin{bmatrix} 1 \\ 1 \end{bmatrix}") in report
    assert "| 5 | $(800, 800)$ |" in report  # the sharp query, its smallest weight near 0 but positive


@pytest.mark.parametrize("name", ["in-span-always", "in-span-first-normal", "affine-without-sum",
                                  "softmax-no-max-shift", "exact-scale-missing"])  # beyond COUNTER_CASES
def test_the_default_claims_notice_the_fault(name):
    assert not all(verdicts_under_fault(LAB, name).values())


# The lab's own exact geometry, checked against brute force.

def random_points(seed, m, d):
    rng = np.random.default_rng(seed)
    return sp.Matrix(m, d, [sp.Rational(int(x), 2) for x in rng.integers(-4, 5, size=m * d)])


@pytest.mark.parametrize("seed", range(6))
def test_nearest_point_of_the_hull_beats_every_sampled_mixture(seed):
    V = random_points(seed, 4, 3)
    t = random_points(seed + 100, 1, 3).T
    near = nearest_in_hull(V, t)
    assert is_nearest(V, t, near.point) and in_hull(V, near.point)[0]
    assert V.T * near.weights == near.point and sum(near.weights) == 1
    W = np.random.default_rng(seed).dirichlet(np.ones(4), size=2000)  # (2000, 4) random convex weights
    X = W @ np.array(V.tolist(), float)  # (2000, 3) points of the hull
    sampled = np.min(np.sum((X - np.array(t.T.tolist(), float)) ** 2, axis=1))
    assert float(near.distance_squared) <= sampled + 1e-12


def test_projection_onto_the_span_is_orthogonal():
    p = project_onto_span(V, T)
    assert V * (T - p) == sp.zeros(3, 1) and in_span(V, p)


def test_widest_weights_are_positive_exactly_inside_the_relative_interior():
    inside = widest_weights(V, sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2), 1]))
    assert all(a > 0 for a in inside) and V.T * inside == sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2), 1])
    end = widest_weights(V, V.row(2).T)
    assert end == sp.Matrix([0, 0, 1]) and widest_weights(V, T) is None
    assert cone_weights(sp.Matrix([[1, 0], [0, 1]]), sp.Matrix([-1, 1])) == []
