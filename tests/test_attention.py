"""Numeric attention: invariants, agreement with a naive loop, masks, and bad input."""

import math

import numpy as np
import pytest
from helpers import naive_attention

from vecmix import VecmixError, attention, softmax

SHAPES = [  # (batch, n_q, n_k, d_k, d_v)
    ((), 1, 1, 1, 1),
    ((), 1, 3, 2, 2),
    ((), 4, 5, 3, 3),
    ((2,), 3, 7, 4, 2),
    ((2, 3), 5, 2, 1, 6),
]


def both(*args, **kwargs):
    """(Z, A) from the full form, after checking that the blocked form gives the same Z at several block sizes, with
    numpy's step and with the compiled one (vecmix._fused)."""
    Z, A = attention(*args, weights=True, **kwargs)
    for block_size in (1, 2, 512):
        for backend in ("numpy", "numba"):
            Z_blocked = attention(*args, block_size=block_size, backend=backend, **kwargs)
            np.testing.assert_allclose(Z_blocked, Z, rtol=0, atol=1e-13)
    return Z, A


def random_case(rng, batch, n_q, n_k, d_k, d_v):
    Q = rng.normal(size=(*batch, n_q, d_k))
    K = rng.normal(size=(*batch, n_k, d_k))
    V = rng.normal(size=(*batch, n_k, d_v))
    return Q, K, V


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_naive_loop(shape, seed):
    rng = np.random.default_rng(seed)
    Q, K, V = random_case(rng, *shape)
    mask = rng.random((*shape[0], shape[1], shape[2])) < 0.7
    mask[..., 0] = True  # every query sees at least one key
    Z, A = both(Q, K, V, mask=mask)
    scale = 1 / math.sqrt(shape[3])
    for index in np.ndindex(*shape[0]):
        Z_ref, A_ref = naive_attention(Q[index], K[index], V[index], scale, mask[index])
        np.testing.assert_allclose(A[index], A_ref, rtol=0, atol=1e-13)
        np.testing.assert_allclose(Z[index], Z_ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_weights_are_a_distribution_and_outputs_lie_in_the_hull(shape):
    rng = np.random.default_rng(7)
    Q, K, V = random_case(rng, *shape)
    Q = Q * 4  # sharper weights
    Z, A = both(Q, K, V)
    assert (A >= 0).all()
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
    # z is in the convex hull of the v_i iff u . z <= max_i u . v_i for every direction u.
    for u in rng.normal(size=(20, shape[4])):
        support = np.max(V @ u, axis=-1)  # (..., n_k, d_v) (d_v,) -> (..., n_k) -> (...)
        assert (Z @ u <= support[..., None] + 1e-12).all()


def test_adding_a_constant_to_the_scores_changes_nothing():
    s = np.array([[0.3, -1.2, 2.0], [5.0, 5.0, 4.0]])
    np.testing.assert_allclose(softmax(s + 123.4), softmax(s), rtol=0, atol=1e-15)


def test_permuting_keys_and_values_together_leaves_outputs_unchanged():
    rng = np.random.default_rng(1)
    Q, K, V = random_case(rng, (), 3, 6, 4, 2)
    perm = rng.permutation(6)
    Z, A = both(Q, K, V)
    Z_p, A_p = both(Q, K[perm], V[perm])
    np.testing.assert_allclose(Z_p, Z, rtol=0, atol=1e-14)
    np.testing.assert_allclose(A_p, A[:, perm], rtol=0, atol=1e-15)


def test_single_query_vector_gives_vectors_back():
    z, alpha = both([1.0, 0.0], [[1, 0], [0, 0], [-1, 0]], [[1, 0], [0, 1], [1, 1]], scale=1.0)
    assert z.shape == (2,) and alpha.shape == (3,)
    np.testing.assert_allclose(alpha, np.exp([2, 1, 0]) / np.exp([2, 1, 0]).sum(), rtol=0, atol=1e-15)


def test_default_scale_is_one_over_sqrt_d_k():
    rng = np.random.default_rng(2)
    Q, K, V = random_case(rng, (), 2, 3, 4, 2)
    np.testing.assert_array_equal(both(Q, K, V)[1], both(Q, K, V, scale=0.5)[1])


def test_float32_stays_float32_and_ints_become_float64():
    Q = np.ones((2, 3), dtype=np.float32)
    Z, A = attention(Q, Q, Q, weights=True)
    assert Z.dtype == A.dtype == attention(Q, Q, Q).dtype == np.float32
    assert attention([[1, 0]], [[1, 0]], [[2, 3]]).dtype == np.float64


def test_masked_keys_get_exactly_zero_weight():
    rng = np.random.default_rng(3)
    Q, K, V = random_case(rng, (), 4, 5, 3, 2)
    mask = np.array([True, False, True, False, True])  # broadcast over queries
    Z, A = both(Q, K, V, mask=mask)
    assert (A[:, ~mask] == 0.0).all()
    Z_kept, A_kept = both(Q, K[mask], V[mask])
    np.testing.assert_allclose(Z, Z_kept, rtol=0, atol=1e-15)


def test_causal_query_t_sees_keys_up_to_t():
    rng = np.random.default_rng(4)
    Q, K, V = random_case(rng, (), 5, 5, 3, 5)
    Z, A = both(Q, K, V, causal=True)
    assert (np.triu(A, k=1) == 0.0).all()
    for t in range(5):
        z_t, _ = both(Q[t], K[: t + 1], V[: t + 1])
        np.testing.assert_allclose(Z[t], z_t, rtol=0, atol=1e-15)


def test_a_fully_masked_row_is_refused_by_name_unless_asked_otherwise():
    Q = K = V = np.eye(3)
    mask = np.array([[True, True, True], [False, False, False], [True, False, False]])
    with pytest.raises(VecmixError, match=r"^query row 1 has every key masked"):
        attention(Q, K, V, mask=mask)
    Z, A = both(Q, K, V, mask=mask, fully_masked="zeros")
    assert (A[1] == 0).all() and (Z[1] == 0).all()
    Z, A = both(Q, K, V, mask=mask, fully_masked="nan")
    assert np.isnan(A[1]).all() and np.isfinite(A[[0, 2]]).all()
    with pytest.raises(VecmixError, match="fully_masked = 'ignore' must be one of"):
        attention(Q, K, V, fully_masked="ignore")


def test_huge_scores_stay_finite_and_correct():
    assert softmax([1e308, -1e308]).tolist() == [1.0, 0.0]
    np.testing.assert_allclose(softmax([1e300, 1e300 - 1e285]), [1.0, 0.0])
    with pytest.raises(VecmixError, match="overflow"):
        attention([[1e200]], [[1e200]], [[1.0]])


def test_inputs_are_not_mutated():
    rng = np.random.default_rng(5)
    Q, K, V = random_case(rng, (), 3, 4, 2, 2)
    mask = np.ones((3, 4), dtype=bool)
    copies = [x.copy() for x in (Q, K, V, mask)]
    attention(Q, K, V, mask=mask, causal=True)
    for before, after in zip(copies, (Q, K, V, mask)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (([[1, 0, 0]], [[1, 0]], [[1, 0]]), {}, r"query dimension 3 does not match key dimension 2: Q has shape \(1, 3\)"),
        (([[1, 0]], [[1, 0], [0, 1]], [[1, 0]]), {}, "K has 2 keys but V has 1 values"),
        (([[1, 0]], np.zeros((0, 2)), np.zeros((0, 2))), {}, "there are no keys"),
        (([[np.nan, 0]], [[1, 0]], [[1, 0]]), {}, r"Q\[0, 0\] is nan"),
        (([[1, 0]], [[1, 0]], [[1, np.inf]]), {}, r"V\[0, 1\] is inf"),
        (([[1, 0]], [[1, 0]], [["a", 0]]), {}, "V holds text"),
        (([[1, 0]], [[1, 0]], [[1, 0]]), {"mask": [[1]]}, "mask must be boolean"),
        (([[1, 0]], [[1, 0], [0, 1]], [[1], [2]]), {"mask": [True, False, True]}, r"mask of shape \(3,\) does not broadcast"),
        (([[1, 0]], [[1, 0]], [[1]]), {"scale": float("nan")}, "scale = nan must be a finite real number"),
    ],
)
def test_bad_input_gets_one_clear_line(args, kwargs, message):
    with pytest.raises(VecmixError, match=message) as info:
        attention(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_softmax_refuses_empty_rows():
    with pytest.raises(VecmixError, match="at least one score"):
        softmax(np.zeros((2, 0)))
