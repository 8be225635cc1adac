"""Lab additive_vs_dot: both scorers give mixtures, the additive bound, the counted costs, saturation, bad values."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from labs.catalogue.additive_vs_dot import (_outside, _project, additive_attention, additive_scores, count, costs,
                                            dot_scores, head_scores, hidden_slope, n as n_, m as m_, dk, da, run)
from labs.catalogue.scaling import jacobian_norms
from labs.claims.faults import FAULTS, injected
from labs.report.figures import convex_hull
from labs.reproduce import build, compose_lab
from vecmix import VecmixError, attention, softmax

SMALL = {"seed": 0, "queries": 4, "keys": 6, "d_k": [2, 1024], "d_a": 16, "draws": 30}
sizes = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 6), st.integers(1, 6))  # n, m, d_k, d_a


def network(seed, n, m, d_k, d_a, scale=1.0):
    rng = np.random.default_rng(seed)
    Q, K = scale * rng.standard_normal((n, d_k)), scale * rng.standard_normal((m, d_k))
    W_q, W_k = rng.standard_normal((d_a, d_k)), rng.standard_normal((d_a, d_k))
    return Q, K, W_q, W_k, rng.standard_normal(d_a)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), sizes)
def test_the_additive_scorer_is_the_naive_loop_over_pairs(seed, size):
    Q, K, W_q, W_k, w = network(seed, *size)
    naive = np.array([[w @ np.tanh(W_q @ q + W_k @ k) for k in K] for q in Q])  # e_ij = w^T tanh(W_q q_i + W_k k_j)
    assert np.allclose(additive_scores(Q, K, W_q, W_k, w), naive, rtol=1e-12, atol=1e-12)
    batched = additive_scores(np.stack([Q, 2 * Q]), K, W_q, W_k, w)  # (2, n, m): batch axes broadcast
    assert np.allclose(batched[0], naive, atol=1e-12)
    assert np.allclose(batched[1], additive_scores(2 * Q, K, W_q, W_k, w), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), sizes, st.sampled_from([1e-3, 1.0, 1e3, 1e8]))
def test_additive_scores_and_weight_ratios_are_bounded_whatever_the_scale_of_q_and_k(seed, size, scale):
    Q, K, W_q, W_k, w = network(seed, *size, scale=scale)
    bound = np.abs(w).sum()
    e = additive_scores(Q, K, W_q, W_k, w)
    assert np.all(np.abs(e) <= bound * (1 + 1e-12))
    a = softmax(e)
    assert np.all(np.log(a.max(axis=-1)) - np.log(a.min(axis=-1)) <= 2 * bound * (1 + 1e-12) + 1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(3, 9), st.integers(1, 40), st.integers(1, 6),
       st.sampled_from([1.0, 30.0]))
def test_both_scorers_give_mixtures_inside_the_hull_of_the_values(seed, n, m, d_k, d_a, scale):
    Q, K, W_q, W_k, w = network(seed, n, m, d_k, d_a, scale)
    V = np.random.default_rng(seed + 1).standard_normal((m, 2))
    hull, size = convex_hull(V), np.abs(V).max()
    for Z, A in (additive_attention(Q, K, V, W_q, W_k, w), attention(Q, K, V, weights=True),
                 attention(Q, K, V, scale=1.0, weights=True)):
        assert np.all(A >= 0) and np.allclose(A.sum(axis=-1), 1, rtol=0, atol=1e-12)
        assert np.allclose(Z, A @ V, rtol=0, atol=1e-12 * size)
        assert _outside(hull, Z) <= 1e-12 * size


def test_the_hull_test_sees_a_point_outside():
    V = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    assert _outside(convex_hull(V), np.array([[1.0, 1.0], [0.5, 0.5]])) == 0.0
    assert np.isclose(_outside(convex_hull(V), np.array([[1.5, 1.5]])), np.sqrt(2) / 2)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), sizes)
def test_dot_scores_are_the_scores_vecmix_weighs(seed, size):
    Q, K, *_ = network(seed, *size)
    V = np.zeros((size[1], 1))
    for scale in (None, 1.0):
        _, A = attention(Q, K, V, weights=True, **({} if scale is None else {"scale": scale}))
        assert np.allclose(softmax(dot_scores(Q, K, scale)), A, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), sizes)
def test_the_head_scores_are_dot_products_of_the_projections(seed, size):
    Q, K, W_q, W_k, _ = network(seed, *size)
    naive = np.array([[(W_q @ q) @ (W_k @ k) for k in K] for q in Q]) / np.sqrt(size[3])
    assert np.allclose(head_scores(Q, K, W_q, W_k), naive, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(sizes)
def test_the_counted_costs_are_exact_and_the_multiply_adds_equal(size):
    n, m, d_k, d_a = size
    c = costs(size)
    both = (n + m) * d_k * d_a + n * m * d_a  # each query and key projected once, then d_a per pair
    assert (c["dot"].multiply_adds, c["dot"].tanh, c["dot"].largest) == (both, 0, n * m)
    assert (c["additive"].multiply_adds, c["additive"].tanh, c["additive"].largest) == (both, n * m * d_a, n * m * d_a)


def test_a_loop_over_the_hidden_units_gives_the_same_scores_with_no_array_larger_than_n_by_m():
    Q, K, W_q, W_k, w = network(0, 5, 7, 6, 9)

    def looped(Q, K, W_q, W_k, w):
        P_q, P_k, e = _project(Q, W_q.T), _project(K, W_k.T), 0.0  # (n, d_a), (m, d_a)
        for i in range(len(w)):  # one hidden unit at a time: an n x m array, d_a passes
            e = e + w[i] * np.tanh(P_q[:, i, np.newaxis] + P_k[np.newaxis, :, i])  # (n, m)
        return e

    assert np.allclose(looped(Q, K, W_q, W_k, w), additive_scores(Q, K, W_q, W_k, w), atol=1e-12)
    assert count(looped, Q, K, W_q, W_k, w).largest == 5 * 7 < count(additive_scores, Q, K, W_q, W_k, w).largest


def test_the_counts_at_larger_sizes_and_the_fitted_polynomials():
    c = costs((10, 20, 64, 64))
    assert c["dot"].multiply_adds == c["additive"].multiply_adds == 135680  # the exercise's number, both ways
    values = {v.name: v for v in run(SMALL).values}
    for scorer in ("dot", "additive"):
        assert sp.expand(values[f"multiply_adds_{scorer}_polynomial"].exact - ((n_ + m_) * dk * da + n_ * m_ * da)) == 0
    assert values["largest_dot_polynomial"].exact == m_ * n_
    assert values["largest_additive_polynomial"].exact == da * m_ * n_
    assert values["multiply_adds_dot"].numeric == [(4 + 6) * d * 16 + 4 * 6 * 16 for d in (2, 1024)]


def test_projecting_every_pair_gives_the_same_scores_for_far_more_work():
    Q, K, W_q, W_k, w = network(0, 3, 4, 5, 6)
    before, cost = additive_scores(Q, K, W_q, W_k, w), costs((3, 4, 5, 6))["additive"].multiply_adds
    with injected(FAULTS["additive-projects-per-pair"]):
        from labs.catalogue import additive_vs_dot

        assert np.allclose(additive_vs_dot.additive_scores(Q, K, W_q, W_k, w), before, atol=1e-12)
        assert costs((3, 4, 5, 6))["additive"].multiply_adds == 3 * 4 * (2 * 5 * 6 + 6) != cost
        claims = {c.id: c.holds for c in run(SMALL).claims}
    assert {c for c, holds in claims.items() if not holds} == {"similar-complexity"}


def test_without_tanh_the_scores_are_unbounded():
    Q, K, W_q, W_k, w = network(0, 3, 4, 5, 6, scale=1e3)
    with injected(FAULTS["additive-without-tanh"]):
        from labs.catalogue import additive_vs_dot

        assert np.abs(additive_vs_dot.additive_scores(Q, K, W_q, W_k, w)).max() > np.abs(w).sum()


def test_unscaled_saturates_as_d_k_grows_while_scaled_and_additive_stay():
    result = run({**SMALL, "d_k": [1, 4, 16, 64, 256, 1024], "draws": 40})
    values = {v.name: v.numeric for v in result.values}
    unscaled = values["mean_largest_weight_unscaled"]
    assert unscaled == sorted(unscaled) and unscaled[-1] > 0.9  # the largest weight only grows
    assert values["mean_largest_weight_scaled"][0] == unscaled[0]  # d_k = 1: the scale is 1, the same draws
    for path in ("scaled", "additive"):
        assert max(values[f"median_jacobian_norm_{path}"]) <= 1.5 * min(values[f"median_jacobian_norm_{path}"])
    slope = values["mean_tanh_slope_additive"]
    assert max(slope) <= 1.5 * min(slope)  # fan-in scaled: the hidden layer's slope does not fall
    assert values["share_vanishing_scaled"] == values["share_vanishing_additive"] == [0.0] * 6
    assert all(x <= 0.5 for p in ("unscaled", "scaled", "additive") for x in values[f"largest_jacobian_norm_{p}"])
    assert result.reproduced


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 12), st.sampled_from([0.1, 1.0, 10.0]))
def test_the_softmax_jacobian_norm_is_at_most_one_half(seed, m, spread):
    a = softmax(spread * np.random.default_rng(seed).standard_normal((50, m)))
    assert np.all(jacobian_norms(a) <= 0.5 * (1 + 1e-12))
    assert np.isclose(jacobian_norms(np.array([[0.5, 0.5] + [0.0] * (m - 2)]))[0], 0.5)  # reached at a tie of two


def test_an_unnormalised_softmax_fails_every_saturation_check():
    with injected(FAULTS["softmax-unnormalised"]):
        claims = {c.id: c for c in run(SMALL).claims}
    for claim in ("unscaled-dot-saturates", "scaled-dot-steady", "additive-steady"):
        assert not claims[claim].holds and "every Jacobian norm <= 1/2" in claims[claim].expected


def test_additive_steadiness_comes_from_the_fan_in_scaling_not_the_tanh():
    with injected(FAULTS["additive-without-tanh"]):
        claims = {c.id: c.holds for c in run(SMALL).claims}
    assert claims["additive-steady"] and not claims["additive-scores-bounded"]  # no tanh: still steady, unbounded
    values = {v.name: v.numeric for v in run({**SMALL, "fan_in": False}).values}
    slope = values["mean_tanh_slope_additive"]  # N(0, 1): pre-activations of variance 2 d_k saturate the tanh
    assert slope[-1] < 0.05 < 0.25 < slope[0] and np.isclose(slope[-1], 1 / np.sqrt(np.pi * 1024), rtol=0.2)
    assert max(values["median_jacobian_norm_additive"]) <= 1.5 * min(values["median_jacobian_norm_additive"])


def test_the_hidden_slope_is_the_mean_tanh_derivative():
    Q, K, W_q, W_k, _ = network(3, 2, 3, 4, 5)
    naive = np.mean([1 - np.tanh(W_q @ q + W_k @ k) ** 2 for q in Q for k in K])
    assert np.isclose(hidden_slope(Q, K, W_q, W_k), naive, rtol=1e-12)


@pytest.mark.parametrize("change, failing", [
    ({"d_k": [1, 2]}, {"unscaled-dot-saturates", "additive-steady"}),
    ({"d_a": 1}, {"dot-more-space-efficient"}),
    ({"fan_in": False}, {"additive-steady"}),
])
def test_the_counter_cases_fail_only_their_claims(change, failing):
    assert {c.id for c in run({**SMALL, **change}).claims if not c.holds} == failing


def test_same_config_same_bytes():
    first, _ = build(compose_lab("additive_vs_dot"))
    second, _ = build(compose_lab("additive_vs_dot"))
    assert first == second


@pytest.mark.parametrize("overrides, message", [
    (["lab.d_k=[]"], "lab.d_k is empty"),
    (["lab.d_k=[64]"], r"lab.d_k = \[64\] must hold at least two dimensions, increasing"),
    (["lab.d_k=[64,4]"], r"lab.d_k = \[64, 4\] must hold at least two dimensions, increasing"),
    (["lab.d_k=[4,0]"], r"lab.d_k\[1\] = 0 must be a positive integer"),
    (["lab.d_k=[4,100000]"], r"lab.d_k\[1\] = 100000 is too large for this lab: at most 65536"),
    (["lab.keys=2"], "lab.keys = 2 is too few"),
    (["lab.queries=0"], "lab.queries = 0 must be a positive integer"),
    (["lab.d_a=-3"], "lab.d_a = -3 must be a positive integer"),
    (["lab.draws=100001"], "lab.draws = 100001 is too large for this lab"),
    (["lab.seed=-1"], "lab.seed = -1 must be a nonnegative integer"),
    (["lab.draws=100000", "lab.queries=4096", "lab.d_k=[4,65536]"], "needs about .* of memory"),
])
def test_bad_values_are_refused_by_name(overrides, message):
    with pytest.raises(VecmixError, match=message) as info:
        build(compose_lab("additive_vs_dot", overrides))
    assert "\n" not in str(info.value)


def test_fan_in_must_be_a_boolean():
    with pytest.raises(VecmixError, match="lab.fan_in = 'yes' must be true or false"):
        run({**SMALL, "fan_in": "yes"})
