"""The redundant_values lab: the page's values were already dependent; weights summing to 1 stay unique."""

from functools import partial

import pytest
import sympy as sp
from helpers import lab_results, verdicts_under_fault

from labs.catalogue import LABS

LAB = "redundant_values"
V0 = sp.Matrix([[1, sp.Rational(1, 5)], [sp.Rational(2, 5), sp.Rational(11, 10)],
                [sp.Rational(6, 5), sp.Rational(4, 5)]])  # the page's own values (000 §2)


results = partial(lab_results, LAB)


@pytest.fixture(scope="module")
def default():
    return results()


def test_the_pages_own_values_were_already_dependent(default):
    doc, result, files = default
    assert result.reproduced
    (n,) = [sp.Matrix([sp.Rational(x) for x in c]) for c in doc["values"]["null_space_before"]["exact"]]
    assert V0.T * n == sp.zeros(2, 1) and n == sp.Matrix([50, 28, -51])
    assert "unique-before" not in {c.id for c in result.claims}  # the old, misleading comparison with {v1, v2}
    report = files["report.md"].decode()
    assert "coefficients, unlike outputs" not in report
    assert "the output does not determine its coefficients" in report


def test_weights_summing_to_one_are_unique_unless_the_dependency_sums_to_zero(default):
    _, result, _ = default
    assert {c.id: c for c in result.claims}["mixture-weights-unique"].holds
    doc, result, _ = results(["lab.combination=[2,-1]"])  # v3 = 2 v1 - v2: on the line through v1 and v2
    assert not {c.id: c for c in result.claims}["mixture-weights-unique"].holds
    V = sp.Matrix([[sp.Rational(x) for x in row] for row in doc["values"]["values"]["exact"]])
    a, b = sp.Matrix([1, 0, 0]), sp.Matrix([0, sp.Rational(1, 2), sp.Rational(1, 2)])  # v1 is the midpoint of v2, v3
    assert sum(a) == sum(b) == 1 and a != b and V.T * a == V.T * b  # two weightings summing to 1, one output


def test_a_replacement_that_loses_a_direction_changes_the_span():
    _, result, _ = results(["lab.values=[[1,0,0],[0,1,0]]", "lab.replaced=[0,0,1]"])
    claims = {c.id: c for c in result.claims}
    assert not claims["span-unchanged"].holds and not claims["already-dependent"].holds
    assert list(claims) == list(LABS[LAB].COUNTER_CASES)


def test_two_coefficient_vectors_one_output(default):
    doc, _, _ = default
    V = sp.Matrix([[sp.Rational(x) for x in row] for row in doc["values"]["values"]["exact"]])
    c1 = sp.Matrix([sp.Rational(x) for x in doc["values"]["weights"]["exact"]])
    c2 = sp.Matrix([sp.Rational(x) for x in doc["values"]["shifted_weights"]["exact"]])
    assert c1 != c2 and V.T * c1 == V.T * c2


@pytest.mark.parametrize("name", ["affine-without-sum"])  # beyond the faults of COUNTER_CASES
def test_the_default_claims_notice_the_fault(name):
    assert not all(verdicts_under_fault(LAB, name).values())
