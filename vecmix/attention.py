"""Numeric attention in numpy: scores, softmax weights and the weighted sum of values.

For one query q, keys k_i and values v_i (the notation of the source pages):

    s_i = q . k_i / sqrt(d_k),    alpha = softmax(s),    z = sum_i alpha_i v_i .

Many queries at once are rows of Q: A = softmax(Q K^T / sqrt(d_k)) row by row, Z = A V.
"""

import numpy as np

from ._checks import broadcast_mask, check_policy, check_qkv, fully_masked_error
from .errors import VecmixError

__all__ = ["attention", "blocked_attention", "softmax"]


def softmax(s, *, mask=None, fully_masked="raise"):
    """Softmax of scores along the last axis; masked entries get exactly zero weight.

    ``mask`` is boolean and broadcastable to ``s``; True means the entry may receive
    weight. The maximum of each row is subtracted before exponentiating, so scores as
    large as 1e308 give finite weights. A row with every entry masked has no softmax:
    ``fully_masked`` says what happens then ('raise', or 'zeros' / 'nan' for that row).

    >>> softmax([1.0, 0.0, -1.0]).round(3)
    array([0.665, 0.245, 0.09 ])
    >>> softmax([1.0, 0.0, -1.0], mask=[True, False, True]).round(3)
    array([0.881, 0.   , 0.119])
    >>> softmax([1e308, -1e308])
    array([1., 0.])
    """
    s = _as_float_array("s", s)
    if s.ndim == 0:
        raise VecmixError("s must have at least one axis of scores, got a scalar")
    if s.shape[-1] == 0:
        raise VecmixError(f"s has shape {s.shape}: softmax needs at least one score per row")
    check_policy(fully_masked)
    allowed = broadcast_mask(mask, s.shape)
    return _softmax(s, allowed, fully_masked)


def attention(Q, K, V, *, mask=None, causal=False, scale=None, fully_masked="raise"):
    """Scaled dot-product attention: returns the outputs Z and the weights A.

    Shapes: Q ``(..., n_q, d_k)``, K ``(..., n_k, d_k)``, V ``(..., n_k, d_v)``; Z is
    ``(..., n_q, d_v)`` and A is ``(..., n_q, n_k)``. A single query may be given as a
    vector ``(d_k,)``, and then Z is ``(d_v,)`` and A is ``(n_k,)``.

    ``scale`` defaults to ``1/sqrt(d_k)`` with d_k the last axis of Q. ``mask`` is boolean,
    broadcastable to ``(..., n_q, n_k)``, True where the query may attend to the key
    (PyTorch SDPA's convention). ``causal=True`` lets query i see keys 0..i only (aligned
    at the top left, as in PyTorch). Masked keys get exactly zero weight. Integer inputs
    are computed in float64; float32 inputs stay float32.

    The seed's worked example (002, section 5), with d_k = 1:

    >>> q = [1.0, 0.0]
    >>> K = [[1, 0], [0, 0], [-1, 0]]
    >>> V = [[1, 0], [0, 1], [1, 1]]
    >>> z, alpha = attention(q, K, V, scale=1.0)
    >>> alpha.round(3), z.round(3)
    (array([0.665, 0.245, 0.09 ]), array([0.755, 0.335]))

    Many queries with a causal mask: the first query sees only the first value.

    >>> Z, A = attention(np.eye(2), np.eye(2), [[1.0, 2.0], [3.0, 4.0]], causal=True)
    >>> A[0], Z[0]
    (array([1., 0.]), array([1., 2.]))
    """
    Q, K, V, single, scale = _prepare(Q, K, V, scale, fully_masked)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below, by name
        S = np.matmul(Q, np.swapaxes(K, -1, -2)) * scale  # (..., n_q, d_k) @ (..., d_k, n_k) -> (..., n_q, n_k)
    if not np.isfinite(S).all():
        raise VecmixError(
            f"the scores Q K^T * scale overflow (largest |Q| {np.abs(Q).max():.3g}, |K| {np.abs(K).max():.3g}, "
            f"scale {scale:.3g}); rescale the inputs"
        )
    allowed = broadcast_mask(mask, S.shape)
    if causal:
        n_q, n_k = S.shape[-2:]
        allowed = allowed & np.tri(n_q, n_k, dtype=bool)  # (n_q, n_k), key j visible to query i iff j <= i
    A = _softmax(S, allowed, fully_masked)
    Z = np.matmul(A, V)  # (..., n_q, n_k) @ (..., n_k, d_v) -> (..., n_q, d_v)
    if single:
        return Z[0], A[0]
    return Z, A


def blocked_attention(Q, K, V, *, mask=None, causal=False, scale=None, block_size=256, fully_masked="raise"):
    """The outputs Z of :func:`attention`, computed over blocks of keys with an online softmax.

    Each block of keys gives a partial mixture; a running maximum m, denominator l and
    accumulator rescale the earlier blocks when a larger score arrives (FlashAttention's
    rescaling), so the result is a mixture of mixtures equal to full attention, and no
    (n_q, n_k) matrix is held at once. Arguments as in :func:`attention`; only Z is returned.

    >>> rng = np.random.default_rng(0)
    >>> Q, K, V = rng.normal(size=(5, 3)), rng.normal(size=(9, 3)), rng.normal(size=(9, 2))
    >>> bool(np.allclose(blocked_attention(Q, K, V, block_size=4, causal=True), attention(Q, K, V, causal=True)[0]))
    True
    """
    Q, K, V, single, scale = _prepare(Q, K, V, scale, fully_masked)
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise VecmixError(f"block_size = {block_size!r} must be a positive integer")
    dtype = Q.dtype
    n_q, n_k = Q.shape[-2], K.shape[-2]
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    allowed = broadcast_mask(mask, (*batch, n_q, n_k))  # a view: no (n_q, n_k) copy is made
    m = np.full((*batch, n_q, 1), -np.inf, dtype=dtype)  # running max of the visible scores
    l = np.zeros((*batch, n_q, 1), dtype=dtype)  # running sum of exp(s - m)
    acc = np.zeros((*batch, n_q, V.shape[-1]), dtype=dtype)  # running sum of exp(s - m) v
    rows = np.arange(n_q)[:, np.newaxis]  # (n_q, 1), for the causal test j <= i
    for start in range(0, n_k, block_size):
        stop = min(start + block_size, n_k)
        with np.errstate(over="ignore", invalid="ignore"):
            S = np.matmul(Q, np.swapaxes(K[..., start:stop, :], -1, -2)) * scale  # (..., n_q, d_k) @ (..., d_k, b)
        if not np.isfinite(S).all():
            raise VecmixError("the scores Q K^T * scale overflow; rescale the inputs")
        ok = allowed[..., start:stop]  # (..., n_q, b)
        if causal:
            ok = ok & (np.arange(start, stop) <= rows)  # (n_q, b): key j visible to query i iff j <= i
        m_new = np.maximum(m, np.max(S, axis=-1, keepdims=True, where=ok, initial=-np.inf))  # (..., n_q, 1)
        seen = np.isfinite(m_new)  # rows that have a visible key so far
        shift = np.where(seen, m_new, 0.0)
        with np.errstate(over="ignore"):
            P = np.exp(S - shift, where=ok, out=np.zeros_like(S))  # (..., n_q, b), masked keys exactly 0
        correction = np.where(seen & np.isfinite(m), np.exp(m - shift), 0.0)  # (..., n_q, 1) rescales the past
        l = l * correction + P.sum(axis=-1, keepdims=True)
        acc = acc * correction + np.matmul(P, V[..., start:stop, :])  # (..., n_q, b) @ (..., b, d_v)
        m = m_new
    empty = l[..., 0] == 0  # (..., n_q): rows that saw no key
    if empty.any():
        if fully_masked == "raise":
            raise fully_masked_error([tuple(int(i) for i in row) for row in np.argwhere(empty)])
        l = np.where(l == 0, 1.0, l)
    Z = acc / l
    if fully_masked == "nan" and empty.any():
        Z[empty] = np.nan
    return Z[0] if single else Z


def _softmax(s, allowed, fully_masked):
    """Row softmax of s over the entries where ``allowed`` (same shape) is True."""
    s_max = np.max(s, axis=-1, keepdims=True, where=allowed, initial=-np.inf)  # (..., 1)
    empty = ~allowed.any(axis=-1)  # (...,) rows with no visible entry
    if empty.any():
        if fully_masked == "raise":
            raise fully_masked_error([tuple(int(i) for i in row) for row in np.argwhere(empty)])
        s_max = np.where(empty[..., np.newaxis], 0.0, s_max)
    with np.errstate(over="ignore"):  # s - s_max <= 0; a gap beyond the float range is -inf, weight 0
        e = np.exp(s - s_max, where=allowed, out=np.zeros_like(s))  # masked entries stay exactly 0
    total = e.sum(axis=-1, keepdims=True)  # (..., 1), >= 1 on rows with a visible entry
    alpha = e / np.where(total > 0, total, 1.0)
    if fully_masked == "nan":
        alpha[empty] = np.nan
    return alpha


def _prepare(Q, K, V, scale, fully_masked):
    """Checked float arrays Q, K, V of one dtype, whether Q was a single query, and the scale in that dtype."""
    Q, K, V = (_as_float_array(name, x) for name, x in (("Q", Q), ("K", K), ("V", V)))
    single = Q.ndim == 1
    if single:
        Q = Q[np.newaxis, :]  # (d_k,) -> (1, d_k)
    check_qkv(Q.shape, K.shape, V.shape)
    check_policy(fully_masked)
    dtype = np.result_type(Q, K, V)
    if scale is None:
        scale = 1.0 / np.sqrt(Q.shape[-1])
    elif not np.isfinite(scale):
        raise VecmixError(f"scale must be a finite number, got {scale!r}")
    return Q.astype(dtype, copy=False), K.astype(dtype, copy=False), V.astype(dtype, copy=False), single, \
        dtype.type(scale)


def _as_float_array(name, x):
    """x as a floating array (float64 unless it already floats), refusing NaN and infinity."""
    try:
        a = np.asarray(x)
        if not np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise VecmixError(f"{name} must be an array of numbers: {exc}") from None
    if not np.isfinite(a).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        where = f"{name}[{', '.join(map(str, index))}]" if index else name
        raise VecmixError(f"{where} is {a[index]}: attention needs finite numbers")
    return a
