"""The vector_mixture lab: claims present for every input, the hull tested (not assumed), attention shown in full."""

from functools import partial

import numpy as np
import pytest
import sympy as sp
from helpers import lab_results, verdicts_under_fault
from omegaconf import OmegaConf

from labs.catalogue import LABS
from labs.claims.faults import FAULTS, injected
from labs.reproduce import compose_lab

LAB = "vector_mixture"
FOUR_VALUES = ["lab.values=[[0,0],[1,0],[0,1],[2,2]]", "lab.weights=[0.25,0.25,0.25,0.25]", "lab.keys=null"]


results = partial(lab_results, LAB)


@pytest.fixture(scope="module")
def default():
    return results()


def claims_of(result):
    return {c.id: c for c in result.claims}


def test_default_reproduces_the_page_and_every_claim(default):
    doc, result, _ = default
    assert result.reproduced
    assert doc["values"]["explicit_sum"]["exact"] == ["19/25", "83/100"]
    assert doc["values"]["pooling_output"]["exact"] == ["13/15", "7/10"]


@pytest.mark.parametrize("overrides", [["lab.weights=[-0.3,0.8,0.5]"], ["lab.weights=[0.3,0.5,0.2]"], FOUR_VALUES])
def test_the_same_claims_whatever_the_inputs(default, overrides):
    _, result, _ = results(overrides)
    assert [c.id for c in result.claims] == [c.id for c in default[1].claims] == list(LABS[LAB].COUNTER_CASES)


def test_given_weights_with_a_negative_entry_leave_the_hull_and_the_claim_says_so():
    _, result, _ = results(["lab.weights=[-0.3,0.8,0.5]"])
    claims = claims_of(result)
    assert not claims["given-in-hull"].holds and "in_hull: outside" in claims["given-in-hull"].observed
    assert claims["pooling-in-hull"].holds and claims["attention-in-hull"].holds
    assert not claims["seed-output"].holds  # other weights: not the page's printed output


def test_the_attention_hull_claim_tests_the_hull_not_the_weights():
    params = OmegaConf.to_container(compose_lab(LAB, FOUR_VALUES).lab, resolve=True)
    with injected(FAULTS["hull-one-basis"]):  # a hull test that looks at one basis only
        claims = claims_of(LABS[LAB].run(params))
    assert not claims["attention-in-hull"].holds  # the old claim reused "weights >= 0 and sum 1": always held
    assert "weights >= 0 with sum 1: yes" in claims["attention-in-hull"].observed


def test_attention_is_shown_with_its_query_keys_and_d_k(default):
    doc, _, files = default
    report = files["report.md"].decode()
    assert "Here $q = (1, 0)$ and $d_k = 2$" in report
    assert "| 2 | $(0, 0)$ | $0$ |" in report and "| 3 | $(-1, 0)$ |" in report
    assert [sp.sympify(s) for s in doc["values"]["scores"]["exact"]] == [sp.sqrt(2) / 2, 0, -sp.sqrt(2) / 2]


def test_attention_weights_exact_and_numeric_agree_and_sum_to_one(default):
    doc, _, _ = default
    exact = [sp.sympify(a) for a in doc["values"]["attention_weights"]["exact"]]  # our own strings
    assert sp.simplify(sum(exact) - 1) == 0
    np.testing.assert_allclose([float(a) for a in exact], doc["values"]["attention_weights"]["numeric"], atol=1e-12)
    e = np.exp(np.array([1, 0, -1]) / np.sqrt(2))  # the page's formula, by hand
    np.testing.assert_allclose(doc["values"]["attention_weights"]["numeric"], e / e.sum(), atol=1e-12)


def test_the_page_weights_are_one_of_a_line_of_coefficient_vectors(default):
    doc, _, files = default
    n = sp.Matrix([sp.Rational(x) for x in doc["values"]["null_space"]["exact"][0]])
    V = sp.Matrix([[1, sp.Rational(1, 5)], [sp.Rational(2, 5), sp.Rational(11, 10)], [sp.Rational(6, 5),
                                                                                      sp.Rational(4, 5)]])
    assert V.T * n == sp.zeros(2, 1) and n != sp.zeros(3, 1)
    assert "linearly dependent" in files["report.md"].decode()


def test_same_config_gives_the_same_bytes(default):
    assert results()[2] == default[2]


@pytest.mark.parametrize("name", ["exact-mixes-keys", "online-no-rescale", "softmax-wrong-axis",
                                  "null-space-sign"])  # beyond COUNTER_CASES
def test_the_default_claims_notice_the_fault(name):
    assert not all(verdicts_under_fault(LAB, name).values())
