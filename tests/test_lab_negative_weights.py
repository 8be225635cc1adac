"""The negative_weights lab: both directions of the hull test, a separating line, and a sign the output does not fix."""

from functools import partial

import pytest
import sympy as sp
from helpers import exact_column, lab_results, verdicts_under_fault

from labs.catalogue import LABS
from vecmix import in_hull

LAB = "negative_weights"
V = sp.Matrix([[1, sp.Rational(1, 5)], [sp.Rational(2, 5), sp.Rational(11, 10)],
               [sp.Rational(6, 5), sp.Rational(4, 5)]])  # the values of 000 §2


results = partial(lab_results, LAB)


@pytest.fixture(scope="module")
def default():
    return results()


exact = exact_column


def test_default_claims_all_hold(default):
    assert default[1].reproduced


@pytest.mark.parametrize("overrides", [["lab.weights=[0.5,0.6,-0.05]"], ["lab.convex_weights=[1.2,-0.1,-0.1]"],
                                       ["lab.values=[[1,0.2],[0.4,1.1]]", "lab.weights=[-0.3,1.3]",
                                        "lab.convex_weights=[0.5,0.5]"]])
def test_no_claim_depends_on_the_inputs_to_exist(default, overrides):
    _, result, _ = results(overrides)  # the old lab dropped unique-coordinates and separating-line here
    assert [c.id for c in result.claims] == [c.id for c in default[1].claims] == list(LABS[LAB].COUNTER_CASES)


def test_a_negative_weight_can_still_land_inside_the_hull():
    doc, result, _ = results(["lab.weights=[0.5,0.6,-0.05]"])
    claims = {c.id: c for c in result.claims}
    z = exact(doc, "output")
    assert in_hull(V, z)[0] and not claims["outside-hull"].holds  # the inside direction of the probe
    assert not claims["unique-coordinates"].holds  # weights summing to 1.05 are not affine coordinates


def test_the_separating_line_separates(default):
    doc, _, _ = default
    z, h = exact(doc, "output"), exact(doc, "nearest_point_of_hull")
    g = h - z
    f = lambda x: (g.T * (x - h))[0]
    assert all(f(V.row(i).T) >= 0 for i in range(3)) and f(z) < 0
    assert not in_hull(V, z)[0] and in_hull(V, h)[0]


def test_the_same_output_from_nonnegative_weights(default):
    doc, result, files = default
    a, c, z = exact(doc, "weights"), exact(doc, "nonnegative_weights"), exact(doc, "output")
    assert all(x >= 0 for x in c) and V.T * c == z == V.T * a and c != a
    assert "Hard to interpret (000 §7)" in files["report.md"].decode()
    independent = results(["lab.values=[[1,0.2],[0.4,1.1]]", "lab.weights=[-0.3,1.3]", "lab.convex_weights=[0.5,0.5]"])
    assert not {c.id: c for c in independent[1].claims}["sign-not-determined"].holds


@pytest.mark.parametrize("name", ["hull-ignores-signs", "affine-without-sum",
                                  "null-space-empty"])  # beyond COUNTER_CASES
def test_the_default_claims_notice_the_fault(name):
    assert not all(verdicts_under_fault(LAB, name).values())
