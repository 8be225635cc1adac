"""Batch broadcasting and the float range of numeric attention.

The batch shape of ``attention(Q, K, V, mask=...)`` is the numpy broadcast of
Q.shape[:-2], K.shape[:-2], V.shape[:-2] and mask.shape[:-2]: any of them may carry
batch dimensions the others lack, or 1 where the others have more. Z is
(*batch, n_q, d_v) and A is (*batch, n_q, n_k); a single query q (d_k,) drops the n_q
axis, and its mask is broadcast to (*batch, n_k).

A hypothesis property draws a batch, a "view" of it for each of Q, K, V and the mask
(leading dimensions dropped, some set to 1), the single-query form, n_q above and below
n_k, causal masks, scales (zero and negative too), every block size from 1 to n_k + 1
and weights=True, and compares shapes and values with a naive per-query loop written
here (always, and for A) and with torch's scaled_dot_product_attention on explicitly
broadcast tensors (when torch is installed; in CI it must be). Rows that see no key are
allowed only with fully_masked='zeros', which gives zeros, as torch does for such rows.

Deterministic tests pin the two shape bugs of the report and the float-range cases:
scores are refused only when one truly is not a finite float, and values near the
float maximum never overflow the output.
"""

import math
import os
import warnings

import numpy as np
import pytest
from helpers import naive_attention
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vecmix import VecmixError, attention

SETTINGS = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=64)


@pytest.fixture(scope="module")
def torch():
    """torch for the oracle part only: required in CI, skipped with the reason elsewhere."""
    if os.environ.get("CI") == "true":
        import torch  # CI installs torch before the suite: there, a missing torch fails instead of skipping

        return torch
    return pytest.importorskip("torch", reason="the [torch] extra is not installed: pip install torch==2.13.0")


@st.composite
def view(draw, batch):
    """A shape that broadcasts to ``batch``: some leading dimensions dropped, some others set to 1."""
    kept = batch[len(batch) - draw(st.integers(0, len(batch))):]
    return tuple(1 if draw(st.booleans()) else n for n in kept)


@st.composite
def broadcast_problems(draw):
    """A dict with Q, K, V, mask and the keyword arguments of one call, plus the full (broadcast) arrays.

    Each of Q, K, V and the mask gets its own view of one drawn batch; the call's batch is their broadcast.
    """
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    n_q, n_k = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    d_k, d_v = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    single = draw(st.booleans())
    causal = draw(st.booleans())
    fully_masked = draw(st.sampled_from(["raise", "zeros"]))
    if single:
        n_q = 1
        Q = draw(arrays(np.float64, (d_k,), elements=finite))
    else:
        Q = draw(arrays(np.float64, (*draw(view(batch)), n_q, d_k), elements=finite))
    K = draw(arrays(np.float64, (*draw(view(batch)), n_k, d_k), elements=finite))
    V = draw(arrays(np.float64, (*draw(view(batch)), n_k, d_v), elements=finite))
    mask, query_axis = None, False  # query_axis: the mask has its own n_q axis (not 1, not dropped)
    if draw(st.integers(0, 2)):  # a mask two times in three
        mask_batch = draw(view(batch))
        if single:
            rows = ()
        elif mask_batch:
            rows = (draw(st.sampled_from([1, n_q])),)
        else:
            rows = draw(st.sampled_from([(), (1,), (n_q,)]))
        query_axis = rows == (n_q,) and n_q > 1
        mask = draw(arrays(np.bool_, (*mask_batch, *rows, n_k)))
        if fully_masked == "raise":  # each row of the mask sees a key its queries may see under causal
            flat = mask.reshape(-1, n_k)
            for r in range(flat.shape[0]):
                i = r % n_q if query_axis else 0  # a broadcast row serves query 0 too
                last = min(i, n_k - 1) if causal else n_k - 1
                flat[r, draw(st.integers(0, last))] = True
            mask = flat.reshape(mask.shape)
    scale = draw(st.one_of(st.none(), st.floats(-2, 2, allow_nan=False, width=64)))
    shapes = [Q.shape[:-2], K.shape[:-2], V.shape[:-2]]
    if mask is not None:
        shapes.append(mask.shape[:-1] if single else mask.shape[:-2])
    full_batch = np.broadcast_shapes(*shapes)
    Q_full = np.broadcast_to(Q[np.newaxis] if single else Q, (*full_batch, n_q, d_k))
    K_full = np.broadcast_to(K, (*full_batch, n_k, d_k))
    V_full = np.broadcast_to(V, (*full_batch, n_k, d_v))
    if mask is None:
        allowed = np.ones((*full_batch, n_q, n_k), dtype=bool)
    elif single:
        allowed = np.broadcast_to(mask, (*full_batch, n_k))[..., np.newaxis, :]
    else:
        allowed = np.broadcast_to(mask, (*full_batch, n_q, n_k))
    visible = allowed & np.tri(n_q, n_k, dtype=bool) if causal else allowed
    return dict(Q=Q, K=K, V=V, kwargs=dict(mask=mask, causal=causal, scale=scale, fully_masked=fully_masked),
                single=single, batch=full_batch, n_q=n_q, n_k=n_k, d_v=d_v,
                Q_full=Q_full, K_full=K_full, V_full=V_full, allowed=allowed, visible=visible)


def expected_shapes(p):
    """(shape of Z, shape of A): (*batch, n_q, d_v) and (*batch, n_q, n_k), without n_q for a single query."""
    rows = () if p["single"] else (p["n_q"],)
    return (*p["batch"], *rows, p["d_v"]), (*p["batch"], *rows, p["n_k"])


def every_form(p):
    """(Z, A) from weights=True, after checking that every block size from 1 to n_k + 1 gives the same Z."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # finite inputs: no RuntimeWarning, no NaN
        Z, A = attention(p["Q"], p["K"], p["V"], weights=True, **p["kwargs"])
        z_shape, a_shape = expected_shapes(p)
        assert Z.shape == z_shape and A.shape == a_shape
        for block_size in range(1, p["n_k"] + 2):
            Z_blocked = attention(p["Q"], p["K"], p["V"], block_size=block_size, **p["kwargs"])
            assert Z_blocked.shape == z_shape
            np.testing.assert_allclose(Z_blocked, Z, rtol=0, atol=1e-12)
    assert np.isfinite(Z).all() and np.isfinite(A).all()
    return Z, A


def with_query_axis(p, X):
    """X with the n_q axis of length 1 put back for a single query, so that it lines up with the full arrays."""
    return X[..., np.newaxis, :] if p["single"] else X


@SETTINGS
@given(broadcast_problems())
def test_every_broadcast_of_the_batch_agrees_with_the_naive_loop(p):
    Z, A = every_form(p)
    Z, A = with_query_axis(p, Z), with_query_axis(p, A)
    d_k = p["Q_full"].shape[-1]
    scale = 1 / math.sqrt(d_k) if p["kwargs"]["scale"] is None else p["kwargs"]["scale"]
    for b in np.ndindex(*p["batch"]):
        z, alpha = naive_attention(p["Q_full"][b], p["K_full"][b], p["V_full"][b], scale, p["visible"][b])
        np.testing.assert_allclose(A[b], alpha, rtol=0, atol=1e-12)
        np.testing.assert_allclose(Z[b], z, rtol=0, atol=1e-12)


@SETTINGS
@given(broadcast_problems())
def test_every_broadcast_of_the_batch_agrees_with_torch_sdpa(torch, p):
    Z, _ = every_form(p)
    Z = with_query_axis(p, Z)
    lead = (1,) * (2 - len(p["batch"]))  # torch gets 4-D tensors, explicitly broadcast, contiguous and writable
    as_4d = lambda X: torch.from_numpy(np.array(X, copy=True).reshape(*lead, *X.shape))  # noqa: E731
    scale = p["kwargs"]["scale"]
    kwargs = dict(scale=scale)
    if p["kwargs"]["mask"] is None and p["kwargs"]["causal"] and (scale is None or scale > 0):
        kwargs["is_causal"] = True  # torch's own top-left alignment, not a mask built here
    elif p["kwargs"]["mask"] is not None or p["kwargs"]["causal"]:
        # mask & causal as one boolean mask: torch takes one or the other, and its is_causal gives NaN for a
        # scale <= 0 (torch 2.13 scales its -inf bias along with the scores)
        kwargs["attn_mask"] = as_4d(p["visible"])
    Zt = torch.nn.functional.scaled_dot_product_attention(as_4d(p["Q_full"]), as_4d(p["K_full"]),
                                                           as_4d(p["V_full"]), **kwargs)
    np.testing.assert_allclose(Z, Zt.numpy().reshape(Z.shape), rtol=0, atol=1e-12)


def test_a_single_query_with_batched_keys_and_values_gives_one_output_per_batch():
    rng = np.random.default_rng(0)
    q, K, V = rng.normal(size=3), rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 2))
    mask = np.array([[True, False, True, True], [False, True, True, False]])  # one row of keys per batch
    for kwargs in ({}, {"mask": mask}, {"causal": True}):
        Z, A = attention(q, K, V, weights=True, **kwargs)
        assert Z.shape == (2, 2) and A.shape == (2, 4)
        for b in range(2):
            per_batch = {k: (v[b] if k == "mask" else v) for k, v in kwargs.items()}
            z, alpha = attention(q, K[b], V[b], weights=True, **per_batch)
            np.testing.assert_allclose(Z[b], z, rtol=0, atol=1e-15)
            np.testing.assert_allclose(A[b], alpha, rtol=0, atol=1e-15)
        for block_size in (1, 3):
            np.testing.assert_allclose(attention(q, K, V, block_size=block_size, **kwargs), Z, rtol=0, atol=1e-12)


def test_weights_with_a_mask_when_only_V_has_batch_dimensions():
    Z, A = attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 4, 2)), mask=np.ones((2, 4), bool), weights=True)
    assert Z.shape == (5, 2, 2) and A.shape == (5, 2, 4)
    rng = np.random.default_rng(1)
    Q, K, V = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(5, 4, 2))
    mask = np.array([[True, True, False, True], [False, True, True, True]])
    Z, A = attention(Q, K, V, mask=mask, weights=True)
    _, alpha = attention(Q, K, V[0], mask=mask, weights=True)
    assert Z.shape == (5, 2, 2) and A.shape == (5, 2, 4)
    for b in range(5):
        np.testing.assert_allclose(A[b], alpha, rtol=0, atol=1e-15)
        np.testing.assert_allclose(Z[b], alpha @ V[b], rtol=0, atol=1e-12)
    np.testing.assert_allclose(attention(Q, K, V, mask=mask, block_size=1), Z, rtol=0, atol=1e-12)


def test_a_mask_may_carry_batch_dimensions_that_Q_K_and_V_lack():
    rng = np.random.default_rng(2)
    Q, K, V = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    mask = rng.random((5, 2, 4)) < 0.6
    mask[..., 1] = True
    Z, A = attention(Q, K, V, mask=mask, weights=True)
    assert Z.shape == (5, 2, 2) and A.shape == (5, 2, 4)
    for b in range(5):
        z, alpha = attention(Q, K, V, mask=mask[b], weights=True)
        np.testing.assert_allclose(Z[b], z, rtol=0, atol=1e-15)
        np.testing.assert_allclose(A[b], alpha, rtol=0, atol=1e-15)
    np.testing.assert_allclose(attention(Q, K, V, mask=mask, block_size=2), Z, rtol=0, atol=1e-12)


@pytest.mark.parametrize("block_size", [1, 2, 512])
def test_a_huge_query_times_a_tiny_key_is_a_finite_score(block_size):
    Q, K, V = [[2.0 ** 1000]], [[2.0 ** -70], [0.0]], [[1.0], [2.0]]  # true scores 2^960 and 0
    Z, A = attention(Q, K, V, scale=2.0 ** 30, weights=True)
    np.testing.assert_array_equal(Z, [[1.0]])
    np.testing.assert_array_equal(A, [[1.0, 0.0]])
    np.testing.assert_array_equal(attention(Q, K, V, scale=2.0 ** 30, block_size=block_size), [[1.0]])


@pytest.mark.parametrize("V, z", [
    ([[1e308], [1e308]], 1e308),
    ([[-1e308], [-1e308]], -1e308),
    ([[1.7e308], [1.7e308], [1.7e308]], 1.7e308),
])
@pytest.mark.parametrize("block_size", [1, 2, 512])
def test_values_near_the_float_maximum_do_not_overflow_the_output(V, z, block_size):
    Q, K = [[0.0]], [[0.0]] * len(V)  # equal scores: z is the mean of equal values
    Z, _ = attention(Q, K, V, weights=True)
    np.testing.assert_allclose(Z, [[z]], rtol=1e-15, atol=0)
    np.testing.assert_allclose(attention(Q, K, V, block_size=block_size), [[z]], rtol=1e-15, atol=0)


@pytest.mark.parametrize("kwargs", [{"weights": True}, {"block_size": 1}, {}])
def test_a_score_beyond_the_float_range_is_refused_by_name(kwargs):
    with pytest.raises(VecmixError, match="overflow"):
        attention([[1e200]], [[1e200], [0.0]], [[1.0], [2.0]], **kwargs)
