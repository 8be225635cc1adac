"""Properties of attention over many random cases (hypothesis), not just examples.

For random shapes, values and masks: weights are a distribution over the visible keys,
outputs lie in the convex hull of the visible values, permuting key-value pairs or
shifting a row of scores changes nothing, batched equals the per-query loop, blocked
(online softmax) equals full attention, and the numeric path equals the exact one on
rational inputs.
"""

import importlib
from unittest.mock import patch

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vecmix import attention, exact_attention, softmax, to_numeric

KERNEL = importlib.import_module("vecmix.attention")  # the module; vecmix.attention is the function
SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(-6, 6, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def problems(draw, max_n=7, max_d=4):
    """(Q, K, V, mask) with every query seeing at least one key."""
    n_q, n_k = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    d_k, d_v = draw(st.integers(1, max_d)), draw(st.integers(1, max_d))
    Q = draw(arrays(np.float64, (n_q, d_k), elements=finite))
    K = draw(arrays(np.float64, (n_k, d_k), elements=finite))
    V = draw(arrays(np.float64, (n_k, d_v), elements=finite))
    mask = draw(arrays(np.bool_, (n_q, n_k)))
    seen = draw(arrays(np.int64, (n_q,), elements=st.integers(0, n_k - 1)))
    mask[np.arange(n_q), seen] = True
    return Q, K, V, mask


@SETTINGS
@given(problems(), st.booleans())
def test_weights_are_a_distribution_over_the_visible_keys(problem, causal):
    Q, K, V, mask = problem
    if causal:
        mask[:, 0] = True  # query 0 must see key 0
    Z, A = attention(Q, K, V, mask=mask, causal=causal, weights=True)
    visible = mask & (np.tri(*mask.shape, dtype=bool) if causal else True)
    assert (A >= 0).all()
    assert (A[~visible] == 0.0).all()
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@SETTINGS
@given(problems(), arrays(np.float64, (8, 4), elements=st.floats(-1, 1, allow_nan=False)))
def test_outputs_lie_in_the_convex_hull_of_the_visible_values(problem, directions):
    Q, K, V, mask = problem
    Z = attention(Q, K, V, mask=mask)
    for u in directions[:, : V.shape[1]]:  # z in hull <=> u . z <= max over visible v of u . v, for all u
        scores = V @ u  # (n_k, d_v) @ (d_v,) -> (n_k,)
        support = np.max(np.where(mask, scores, -np.inf), axis=1)  # (n_q,)
        assert (Z @ u <= support + 1e-9 * (1 + np.abs(support))).all()


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_permuting_key_value_pairs_changes_nothing(problem, rnd):
    Q, K, V, mask = problem
    perm = np.array(rnd.sample(range(K.shape[0]), K.shape[0]))
    Z, A = attention(Q, K, V, mask=mask, weights=True)
    Z_p, A_p = attention(Q, K[perm], V[perm], mask=mask[:, perm], weights=True)
    np.testing.assert_allclose(Z_p, Z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A_p, A[:, perm], rtol=1e-12, atol=1e-14)


@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=finite),
       st.floats(-1e6, 1e6, allow_nan=False))
def test_adding_a_constant_to_a_row_of_scores_changes_nothing(s, c):
    shifted = s + c * np.arange(1, s.shape[0] + 1)[:, None]  # a different constant per row
    np.testing.assert_allclose(softmax(shifted), softmax(s), rtol=0, atol=1e-9)


@SETTINGS
@given(problems(), st.booleans())
def test_batched_equals_the_per_query_loop(problem, causal):
    Q, K, V, mask = problem
    mask[:, 0] = True
    Z, A = attention(Q, K, V, mask=mask, causal=causal, weights=True)
    for t in range(Q.shape[0]):
        row = mask[t] & (np.arange(K.shape[0]) <= t if causal else True)
        z_t, a_t = attention(Q[t], K, V, mask=row, weights=True)
        np.testing.assert_allclose(z_t, Z[t], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a_t, A[t], rtol=1e-12, atol=1e-15)


@SETTINGS
@given(problems(max_n=12), st.integers(1, 5), st.integers(1, 5), st.booleans())
def test_blocked_online_softmax_equals_full_attention(problem, block_size, query_block, causal):
    Q, K, V, mask = problem
    mask[:, 0] = True
    Z, _ = attention(Q, K, V, mask=mask, causal=causal, weights=True)
    with patch.object(KERNEL, "_QUERY_BLOCK", query_block):  # queries in blocks too, as at n_q > 2048
        Z_blocked = attention(Q, K, V, mask=mask, causal=causal, block_size=block_size)
    np.testing.assert_allclose(Z_blocked, Z, rtol=1e-12, atol=1e-12)


small_rational = st.integers(-6, 6).map(lambda n: sp.Rational(n, 2))


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.data())
def test_numeric_path_equals_exact_path_on_rational_inputs(n_q, n_k, d, data):
    Q, K, V = (sp.Matrix(r, c, data.draw(st.lists(small_rational, min_size=r * c, max_size=r * c)))
               for r, c in ((n_q, d), (n_k, d), (n_k, d)))
    Z_exact, A_exact = exact_attention(Q, K, V)
    Z, A = attention(to_numeric(Q), to_numeric(K), to_numeric(V), weights=True)
    np.testing.assert_allclose(A, to_numeric(A_exact), rtol=0, atol=1e-12)
    np.testing.assert_allclose(Z, to_numeric(Z_exact), rtol=0, atol=1e-12)
