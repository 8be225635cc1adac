"""Numeric attention in numpy: scores, softmax weights and the weighted sum of values.

For one query q, keys k_i and values v_i (the notation of the source pages):

    s_i = q . k_i / sqrt(d_k),    alpha = softmax(s),    z = sum_i alpha_i v_i .

Many queries at once are rows of Q: A = softmax(Q K^T / sqrt(d_k)) row by row, Z = A V.
"""

import numpy as np

from ._checks import broadcast_mask, check_policy, check_qkv, fully_masked_error
from .errors import VecmixError

__all__ = ["attention", "softmax"]

BLOCK_SIZE = 512  # keys per block of the online softmax; benchmarks/attention.py measured 256-1024 alike
_QUERY_BLOCK = 2048  # queries per block: a block of scores is at most 2048 x 512 (8 MiB in float64)


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


def attention(Q, K, V, *, mask=None, causal=False, scale=None, fully_masked="raise", weights=False,
              block_size=BLOCK_SIZE):
    """Scaled dot-product attention: the outputs Z, and the weights A when ``weights=True``.

    Shapes: Q ``(..., n_q, d_k)``, K ``(..., n_k, d_k)``, V ``(..., n_k, d_v)``; Z is
    ``(..., n_q, d_v)`` and A is ``(..., n_q, n_k)``. A single query may be given as a
    vector ``(d_k,)``, and then Z is ``(d_v,)`` and A is ``(n_k,)``.

    ``scale`` defaults to ``1/sqrt(d_k)`` with d_k the last axis of Q. ``mask`` is boolean,
    broadcastable to ``(..., n_q, n_k)``, True where the query may attend to the key
    (PyTorch SDPA's convention). ``causal=True`` lets query i see keys 0..i only (aligned
    at the top left, as in PyTorch). Masked keys get exactly zero weight. Integer inputs
    are computed in float64; float32 inputs stay float32.

    By default the keys are processed ``block_size`` at a time with an online softmax
    (FlashAttention's rescaling): a running maximum m and denominator l per query let each
    block's partial mixture be rescaled when a larger score arrives, so no (n_q, n_k)
    matrix is ever held. ``weights=True`` builds the full weights matrix instead and
    returns ``(Z, A)`` with Z = A V; labs that draw or inspect the weights ask for it.

    The seed's worked example (002, section 5), with d_k = 1:

    >>> q = [1.0, 0.0]
    >>> K = [[1, 0], [0, 0], [-1, 0]]
    >>> V = [[1, 0], [0, 1], [1, 1]]
    >>> z, alpha = attention(q, K, V, scale=1.0, weights=True)
    >>> alpha.round(3), z.round(3)
    (array([0.665, 0.245, 0.09 ]), array([0.755, 0.335]))

    Many queries with a causal mask: the first query sees only the first value. The blocked
    and the full forms agree.

    >>> Z = attention(np.eye(2), np.eye(2), [[1.0, 2.0], [3.0, 4.0]], causal=True, block_size=1)
    >>> Z[0], bool(np.allclose(Z, attention(np.eye(2), np.eye(2), [[1.0, 2.0], [3.0, 4.0]], causal=True, weights=True)[0]))
    (array([1., 2.]), True)
    """
    Q, K, V, single, scale = _prepare(Q, K, V, scale, fully_masked)
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise VecmixError(f"block_size = {block_size!r} must be a positive integer")
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    n_q, n_k = Q.shape[-2], K.shape[-2]
    allowed = None if mask is None else broadcast_mask(mask, (*batch, n_q, n_k))  # a view: nothing copied
    if weights:
        Z, A = _full(Q, K, V, scale, allowed, causal, fully_masked)
        return (Z[0], A[0]) if single else (Z, A)
    if not _scores_cannot_overflow(Q, K, scale):
        _check_scores(Q, K, scale)  # the rare inputs near the float range: decided once, by name
    Q, K, V = (np.broadcast_to(x, (*batch, *x.shape[-2:])) for x in (Q * scale, K, V))  # scale folded into Q
    Z = np.empty((*batch, n_q, V.shape[-1]), dtype=Q.dtype)  # (..., n_q, d_v)
    l = np.empty((*batch, n_q), dtype=Q.dtype)  # (..., n_q): each row's softmax denominator
    for b in np.ndindex(*batch):
        for start in range(0, n_q, _QUERY_BLOCK):
            rows = slice(start, min(start + _QUERY_BLOCK, n_q))
            ok = None if allowed is None else allowed[b][rows]  # (b_q, n_k) view
            Z[b][rows], l[b][rows] = _online(Q[b][rows], K[b], V[b], ok, causal, rows.start, block_size)
    empty = l == 0  # (..., n_q): rows that saw no key
    if empty.any():
        if fully_masked == "raise":
            raise fully_masked_error([tuple(int(i) for i in row) for row in np.argwhere(empty)])
        Z[empty] = 0.0 if fully_masked == "zeros" else np.nan
    return Z[0] if single else Z


def _online(Q, K, V, ok, causal, first, block_size):
    """(Z, l) for one block of queries Q (b_q, d_k), already scaled, over all keys K (n_k, d_k), block by block.

    ``ok`` (b_q, n_k) or None says which keys each query may see; with ``causal`` query row
    i (numbered from ``first``) sees keys 0..first + i. Masked scores become -inf, so their
    weight exp(-inf) is exactly 0; key blocks that no query may see are skipped.
    """
    b_q, n_k = Q.shape[0], K.shape[0]
    m = np.full(b_q, -np.inf, dtype=Q.dtype)  # (b_q,) running maximum of the visible scores
    l = np.zeros(b_q, dtype=Q.dtype)  # (b_q,) running sum of exp(s - m)
    acc = np.zeros((b_q, V.shape[1]), dtype=Q.dtype)  # (b_q, d_v) running sum of exp(s - m) v
    last = first + b_q - 1  # the last query's row number
    stop_k = min(n_k, last + 1) if causal else n_k  # causal: keys past the last query are never seen
    for start in range(0, stop_k, block_size):
        keys = slice(start, min(start + block_size, stop_k))
        S = Q @ K[keys].T  # (b_q, d_k) @ (d_k, b_k) -> (b_q, b_k)
        hidden = None if ok is None else ~ok[:, keys]  # (b_q, b_k)
        if causal and keys.stop - 1 > first:  # some key in the block lies after some query
            future = np.arange(keys.start, keys.stop) > np.arange(first, last + 1)[:, np.newaxis]  # (b_q, b_k)
            hidden = future if hidden is None else hidden | future
        if hidden is not None:
            S[hidden] = -np.inf
        m_new = np.maximum(m, S.max(axis=1))  # (b_q,)
        shift = np.where(np.isfinite(m_new), m_new, 0.0) if hidden is not None else m_new  # -inf: nothing seen yet
        S -= shift[:, np.newaxis]  # (b_q, b_k) - (b_q, 1): every visible entry <= 0
        np.exp(S, out=S)  # masked entries: exp(-inf) = 0 exactly
        correction = np.exp(m - shift)  # (b_q,), rescales the earlier blocks (0 before any key is seen)
        l *= correction
        l += S.sum(axis=1)
        acc *= correction[:, np.newaxis]
        acc += S @ V[keys]  # (b_q, b_k) @ (b_k, d_v) -> (b_q, d_v)
        m = m_new
    np.divide(acc, l[:, np.newaxis], out=acc, where=l[:, np.newaxis] > 0)  # (b_q, d_v) / (b_q, 1)
    return acc, l


def _scores_cannot_overflow(Q, K, scale):
    """True when |q . k| * scale stays well inside the float range for every pair: |q . k| <= d_k max|q| max|k|."""
    bound = float(np.abs(Q).max()) * float(np.abs(K).max()) * Q.shape[-1] * abs(float(scale))
    return bound < np.finfo(Q.dtype).max / 4


def _check_scores(Q, K, scale):
    """Raise by name when some score Q K^T * scale overflows, one query at a time (no (n_q, n_k) matrix)."""
    with np.errstate(over="ignore", invalid="ignore"):
        for index in np.ndindex(*Q.shape[:-1]):
            if not np.isfinite((K @ Q[index]) * scale).all():  # (..., n_k, d_k) @ (d_k,) -> (..., n_k)
                raise _overflow_error(Q, K, scale)


def _overflow_error(Q, K, scale):
    return VecmixError(
        f"the scores Q K^T * scale overflow (largest |Q| {np.abs(Q).max():.3g}, |K| {np.abs(K).max():.3g}, "
        f"scale {scale:.3g}); rescale the inputs"
    )


def _full(Q, K, V, scale, allowed, causal, fully_masked):
    """(Z, A) through the full (..., n_q, n_k) weights matrix."""
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below, by name
        S = np.matmul(Q, np.swapaxes(K, -1, -2)) * scale  # (..., n_q, d_k) @ (..., d_k, n_k) -> (..., n_q, n_k)
    if not np.isfinite(S).all():
        raise _overflow_error(Q, K, scale)
    allowed = broadcast_mask(allowed, S.shape)
    if causal:
        n_q, n_k = S.shape[-2:]
        allowed = allowed & np.tri(n_q, n_k, dtype=bool)  # (n_q, n_k), key j visible to query i iff j <= i
    A = _softmax(S, allowed, fully_masked)
    return np.matmul(A, V), A  # (..., n_q, n_k) @ (..., n_k, d_v) -> (..., n_q, d_v)


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
