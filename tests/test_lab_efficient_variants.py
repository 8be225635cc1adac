"""The efficient_variants lab: the normaliser of linear attention, GAT's scores, exact convexity, and its faults."""

import numpy as np
import pytest
import sympy as sp

from labs.catalogue import efficient_variants as ev
from labs.claims.faults import FAULTS, injected
from labs.config.inputs import random_rationals
from labs.reproduce import build, compose_lab

DEFAULT = {"n": 10, "d": 4, "window": 2, "block_size": 4, "seed": 0, "rescale": True, "feature_map": "elu_plus_one"}


def run(**overrides):
    return ev.run({**DEFAULT, **overrides})


def claims(result):
    return {c.id: c for c in result.claims}


@pytest.fixture(scope="module")
def default():
    files, result = build(compose_lab("efficient_variants"))
    return files["report.md"].decode(), result


def test_linear_attention_is_printed_with_its_normaliser(default):
    report, _ = default
    assert r"\phi(Q) \left( \phi(K)^\top \mathbf{1} \right)" in report  # the old report gave phi(Q)(phi(K)^T V) alone
    assert r"{\sum_j \phi(q_t) \cdot \phi(k_j)}" in report


def test_graph_attention_scores_are_gats_not_dot_products():
    X = random_rationals(3, (5, 2))
    a = sp.Matrix([1, -2, sp.Rational(1, 2), 1])
    graph = ev._graph(X, a)
    A = graph["exact"]
    for i, j, m in ((0, 1, 4), (2, 1, 3)):  # two neighbours j, m of node i on the ring of 5
        e_ij, e_im = (ev.SLOPE * x if x < 0 else x for x in (a[:2, :].dot(X.row(i)) + a[2:, :].dot(X.row(j)),
                                                                a[:2, :].dot(X.row(i)) + a[2:, :].dot(X.row(m))))
        assert sp.simplify(A[i, j] / A[i, m] - sp.exp(e_ij - e_im)) == 0  # softmax of LeakyReLU(a . [h_i; h_j])
    assert A[0, 2] == 0 and graph["holds"]


def test_convexity_of_linear_attention_is_exact_and_can_fail():
    # The old check looked at 16 random directions, numerically.
    result = run()
    assert claims(result)["linear-attention-is-convex"].exact and claims(result)["linear-attention-is-convex"].holds
    negative = claims(run(seed=1, feature_map="identity"))["linear-attention-is-convex"]
    assert not negative.holds and "negative weights" in negative.observed


def test_the_difference_from_softmax_is_a_difference_of_weights(default):
    report, result = default
    values = {v.name: v.numeric for v in result.values}
    gap = np.max(np.abs(np.array(values["linear_weights"]) - np.array(values["full_weights"])))
    assert f"they differ from the full weights by up to {gap:.3f}" in report
    assert "linear-attention-differs" not in claims(result)


def test_the_running_maximum_rises_across_blocks_so_the_rescaling_matters(default):
    _, result = default
    assert {v.name: v.numeric for v in result.values}["queries_whose_maximum_rises"] > 0
    assert ev.online_softmax_identity() == 0 and ev.online_softmax_identity(rescale=False) != 0
    assert not claims(run(rescale=False))["mixture-of-mixtures"].holds


@pytest.mark.parametrize("name, broken", [
    ("online-no-rescale", {"blocked-equals-full"}),
    ("online-unnormalised", {"blocked-equals-full"}),
    ("causal-shifted", {"sliding-window-is-a-band-mask"}),
    ("mask-ignored", {"sliding-window-is-a-band-mask", "graph-attention-mixes-neighbours"}),
    ("mask-inverted", {"sliding-window-is-a-band-mask", "graph-attention-mixes-neighbours"}),
    ("exact-mask-after-softmax", {"graph-attention-mixes-neighbours"}),
])
def test_faults_in_vecmix_are_noticed(name, broken):
    with injected(FAULTS[name]):
        result = run()
    assert broken <= {c.id for c in result.claims if not c.holds}


