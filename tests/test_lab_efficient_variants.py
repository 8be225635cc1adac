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


def test_the_rescaling_matters_when_block_maxima_differ_not_only_when_the_maximum_rises():
    # The old lab counted queries whose running maximum rises in a later block, and said "so the rescaling matters";
    # the merge (and the fault online-no-rescale) depends on whether the block maxima differ at all.
    n, d, block = 6, 2, 3
    X = np.array([[4.0, 0.0], [1.0, 0.5], [0.0, 1.0], [0.5, 0.5], [0.2, 0.1], [0.3, -0.2]])  # key 1 dominates
    S = X @ X.T / np.sqrt(d)  # (n, n)
    assert np.all(S.argmax(axis=1) < block)  # the first block holds every query's maximum: nothing rises
    Z = ev.attention(X, X, X, weights=True)[0]
    assert ev._blocked(X, X, X, Z, block, True)["differ"] == n  # yet every query's two block maxima differ
    with injected(FAULTS["online-no-rescale"]):
        assert ev._blocked(X, X, X, Z, block, True)["vecmix_error"] > 1e-3  # so a merge without rescaling is wrong


def test_blocked_equals_full_needs_blocks_whose_maxima_differ():
    c = claims(run())["blocked-equals-full"]
    assert c.holds and "block maxima differ for 10 of 10 queries" in c.observed and "rises" not in c.statement
    one_block = claims(run(block_size=10))["blocked-equals-full"]  # one block: the rescaling is never exercised
    assert not one_block.holds and "0 of 10" in one_block.observed
    assert ev.online_softmax_identity() == 0 and ev.online_softmax_identity(rescale=False) != 0
    assert not claims(run(rescale=False))["mixture-of-mixtures"].holds


def test_the_report_of_a_merge_without_rescaling_shows_the_merge_it_made():
    report = "\n".join(run(rescale=False).sections)
    assert r"\frac{a_1 + a_2}{l_1 + l_2}" in report and r"\text{for all } m_1, m_2, m" not in report


def test_the_merge_blocks_exercise_uses_the_labs_masses():
    # The old exercise called the unshifted sums 1 + e and e + e^2 "masses" and marked 1/2 wrong, which is what the
    # lab's own masses l_b = sum e^(s_i - m_b) give before rescaling.
    from labs.grading import grade

    e = sp.E
    blocks = [(0, 1), (1, 2)]
    m = [max(b) for b in blocks]
    l = [sum(sp.exp(x - m_b) for x in b) for b, m_b in zip(blocks, m)]  # the lab's definition
    assert sp.simplify(l[0] - l[1]) == 0  # equal masses: 1/2 each before rescaling
    share = l[0] * sp.exp(m[0] - 2) / (l[0] * sp.exp(m[0] - 2) + l[1] * sp.exp(m[1] - 2))
    full = sum(sp.exp(x) for x in blocks[0]) / sum(sp.exp(x) for b in blocks for x in b)  # softmax over all four
    assert sp.simplify(share - 1 / (1 + e)) == 0 and sp.simplify(full - share) == 0
    exercise = next(x for x in ev.EXERCISES if x.id == "merge_blocks")
    assert "l_1 = 1 + e^(-1)" in exercise.prompt and grade(exercise, "1/(1 + E)").passed
    assert not grade(exercise, "1/2").passed


def test_sources_name_the_papers_and_the_deviations_name_gats_sigma():
    result = run()
    sources = {c.id: c.source for c in result.claims}
    assert sources["online-softmax-identity"] == "FlashAttention (Dao et al. 2022) §3.1"
    assert sources["graph-attention-mixes-neighbours"].startswith("follows from GAT")
    assert any("nonlinearity sigma" in x for x in result.deviations)


@pytest.mark.parametrize("name, broken", [
    ("online-no-rescale", {"blocked-equals-full"}),
    ("online-unnormalised", {"blocked-equals-full"}),
    ("causal-shifted", {"sliding-window-is-a-band-mask"}),
    ("mask-ignored", {"sliding-window-is-a-band-mask", "graph-attention-mixes-neighbours"}),
    ("mask-inverted", {"sliding-window-is-a-band-mask", "graph-attention-mixes-neighbours"}),
    ("exact-mask-after-softmax", {"graph-attention-mixes-neighbours"}),
    ("hull-ignores-signs", {"graph-attention-mixes-neighbours"}),  # the non-member 2 h_i - h_(i+1) is probed too
])
def test_faults_in_vecmix_are_noticed(name, broken):
    with injected(FAULTS[name]):
        result = run()
    assert broken <= {c.id for c in result.claims if not c.holds}


