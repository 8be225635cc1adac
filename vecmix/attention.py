"""Numeric attention in numpy: scores, softmax weights and the weighted sum of values.

For one query q, keys k_i and values v_i (the notation of the source pages):

    s_i = q . k_i / sqrt(d_k),    alpha = softmax(s),    z = sum_i alpha_i v_i .

Many queries at once are rows of Q: A = softmax(Q K^T / sqrt(d_k)) row by row, Z = A V.
"""

import numpy as np

from ._checks import (
    broadcast_mask,
    check_flag,
    check_policy,
    check_qkv,
    fully_masked_error,
    read_mask,
    real_array,
    real_scalar,
)
from ._parallel import map_blocks
from .errors import VecmixError

__all__ = ["attention", "softmax"]

BLOCK_SIZE = 512  # keys per block of the online softmax; benchmarks/attention.py measured 256-1024 alike
_QUERY_BLOCK = 256  # queries per block: a block of scores is 256 x 512 (1 MiB in float64, a core's L2 cache)
FUSED_MIN_SCORES = 1 << 20  # backend='auto' compiles (numba) only for at least this many scores
BACKENDS = ("auto", "numpy", "numba")


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
    s = real_array("s", s, empty_ok=True)
    if s.ndim == 0:
        raise VecmixError("s must have at least one axis of scores, got a scalar")
    if s.shape[-1] == 0:
        raise VecmixError(f"s has shape {s.shape}: softmax needs at least one score per row")
    if s.size == 0:
        raise VecmixError(f"s has shape {s.shape}: a batch axis of length 0 holds no scores")
    check_policy(fully_masked)
    allowed = broadcast_mask(mask, s.shape)
    return _softmax(s, allowed, fully_masked)


def attention(Q, K, V, *, mask=None, causal=False, scale=None, fully_masked="raise", weights=False,
              block_size=BLOCK_SIZE, backend="auto"):
    """Scaled dot-product attention: the outputs Z, and the weights A when ``weights=True``.

    Shapes: Q ``(..., n_q, d_k)``, K ``(..., n_k, d_k)``, V ``(..., n_k, d_v)``; Z is
    ``(..., n_q, d_v)`` and A is ``(..., n_q, n_k)``, where ``...`` is the broadcast of the
    batch axes of Q, K, V and the mask (any of them may have batch axes the others lack).
    A single query may be given as a vector ``(d_k,)``: then the n_q axis is dropped, Z is
    ``(..., d_v)``, A is ``(..., n_k)`` and the mask broadcasts to ``(..., n_k)``.

    ``scale`` is any finite real number and defaults to ``1/sqrt(d_k)`` with d_k the last
    axis of Q (0 gives uniform weights; a negative scale reverses the preference). ``mask``
    is boolean, broadcastable to ``(..., n_q, n_k)``, True where the query may attend to the
    key (PyTorch SDPA's convention). ``causal=True`` lets query i see keys 0..i only
    (aligned at the top left, as in PyTorch). Masked keys get exactly zero weight.

    Inputs are real numbers: integers and floats are computed in float64, and float32
    stays float32 when every input is float32. Text, truth values, complex numbers, NaN
    and infinities are refused with a :class:`VecmixError` that names the argument. Finite
    inputs give finite outputs: the scores are computed so that the only refusal is a
    score that truly is beyond the float range.

    By default the keys are processed ``block_size`` at a time with an online softmax
    (FlashAttention's rescaling): a running maximum m and denominator l per query let each
    block's partial mixture be rescaled when a larger score arrives, so no (n_q, n_k)
    matrix is ever held. ``weights=True`` builds the full weights matrix instead and
    returns ``(Z, A)`` with Z = A V; labs that draw or inspect the weights ask for it.

    Blocks of 256 queries run side by side on threads, as many as numpy's BLAS may use
    (``OPENBLAS_NUM_THREADS``, threadpoolctl's ``threadpool_limits``), when the problem is
    large enough to pay for them; meanwhile BLAS is held to one thread, process-wide (a
    program that calls BLAS from threads of its own should hold vecmix to one thread with
    ``threadpool_limits(1)``). The threads change no bit of Z. ``backend`` picks the code that exponentiates each
    block: ``'numpy'`` (the reference), ``'numba'`` (a compiled kernel that fuses the
    maximum, the exponential and the sum, from the ``[fast]`` extra; the first call in a
    process compiles it or loads it from numba's cache) or ``'auto'``, numba when it is
    installed and there are at least ``FUSED_MIN_SCORES`` scores. The two agree to about
    1e-15 relative; ``weights=True`` always uses numpy.

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
    check_flag("causal", causal)
    check_flag("weights", weights)
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise VecmixError(f"backend = {backend!r} must be one of {', '.join(map(repr, BACKENDS))}")
    if isinstance(block_size, (bool, np.bool_)) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise VecmixError(f"block_size = {block_size!r} must be a positive integer")
    n_q, n_k = Q.shape[-2], K.shape[-2]
    mask = None if mask is None else read_mask(mask)
    if mask is not None and mask.size == 0:
        raise VecmixError(f"mask has shape {mask.shape}: it holds no entries")
    if single and mask is not None and mask.ndim >= 1:
        mask = mask[..., np.newaxis, :]  # (..., n_k) -> (..., 1, n_k): the one query's row
    batch = _batch_shape(Q, K, V, mask)
    allowed = None if mask is None else broadcast_mask(mask, (*batch, n_q, n_k))  # a view: nothing copied

    def mix(V):
        if weights:
            return _full(Q, K, V, scale, allowed, causal, fully_masked, batch)
        return _blocked(Q, K, V, scale, allowed, causal, fully_masked, batch, block_size, backend), None

    try:
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow of the sums of values is caught below
            Z, A = mix(V)
    except _ValuesOverflow:  # values near the float maximum: mix them divided by a power of two (exact)
        _, c = np.frexp(np.abs(V).max())
        Z, A = mix(np.ldexp(V, -c))
        Z = np.ldexp(Z, c)
    if single:  # (..., 1, d_v) -> (..., d_v) and (..., 1, n_k) -> (..., n_k)
        Z, A = Z[..., 0, :], None if A is None else A[..., 0, :]
    return (Z, A) if weights else Z


def _blocked(Q, K, V, scale, allowed, causal, fully_masked, batch, block_size, backend):
    """Z (..., n_q, d_v) through the online softmax, ``block_size`` keys at a time.

    Each block of ``_QUERY_BLOCK`` queries of one batch entry is independent of the others:
    the blocks run side by side on threads (:mod:`vecmix._parallel`) when the work pays
    for it, each writing its own rows of Z. The blocks are the same however many threads
    run them, so the threads change no bit of Z (BLAS itself may round differently with
    another thread setting of its own).
    """
    n_q, n_k = Q.shape[-2], K.shape[-2]
    fast = _scores_cannot_overflow(Q, K, scale)
    if fast:
        Q = Q * scale  # folded into the queries: each block's scores are then one product
    Q, K, V = (np.broadcast_to(x, (*batch, *x.shape[-2:])) for x in (Q, K, V))
    Z = np.empty((*batch, n_q, V.shape[-1]), dtype=Q.dtype)  # (..., n_q, d_v)
    l = np.empty((*batch, n_q), dtype=Q.dtype)  # (..., n_q): each row's softmax denominator
    scores = n_q * n_k * int(np.prod(batch))
    fold = _folder(backend, scores, Q.dtype)
    compiled = {} if fold is _fold else {"fold": fold}  # numpy's step is _online's own default

    def block(task):
        b, rows = task
        ok = None if allowed is None else allowed[b][rows]  # (b_q, n_k) view
        Z[b][rows], l[b][rows] = _online(Q[b][rows], K[b], V[b], ok, causal, rows.start, block_size,
                                         scale=None if fast else scale, **compiled)

    tasks = [(b, slice(start, min(start + _QUERY_BLOCK, n_q)))
             for b in np.ndindex(*batch) for start in range(0, n_q, _QUERY_BLOCK)]
    map_blocks(block, tasks, work=scores * (Q.shape[-1] + V.shape[-1]))
    if not np.isfinite(Z).all():
        raise _ValuesOverflow
    empty = l == 0  # (..., n_q): rows that saw no key
    if empty.any():
        if fully_masked == "raise":
            raise fully_masked_error([tuple(int(i) for i in row) for row in np.argwhere(empty)])
        Z[empty] = 0.0 if fully_masked == "zeros" else np.nan
    return Z


def _online(Q, K, V, ok, causal, first, block_size, scale=None, fold=None):
    """(Z, l) for one block of queries Q (b_q, d_k) over all keys K (n_k, d_k), block by block.

    Q is already scaled when ``scale`` is None; otherwise each block's scores are computed
    by :func:`_scores`, safe near the float range. ``ok`` (b_q, n_k) or None says which
    keys each query may see; with ``causal`` query row i (numbered from ``first``) sees keys
    0..first + i. Masked scores become -inf, so their weight exp(-inf) is exactly 0; key
    blocks that no query may see are skipped. ``fold`` takes each block of scores into the
    running maximum and sums (:func:`_fold`, or its compiled twin in :mod:`vecmix._fused`).
    """
    fold = fold or _fold
    b_q, n_k = Q.shape[0], K.shape[0]
    m = np.full(b_q, -np.inf, dtype=Q.dtype)  # (b_q,) running maximum of the visible scores
    l = np.zeros(b_q, dtype=Q.dtype)  # (b_q,) running sum of exp(s - m)
    acc = np.zeros((b_q, V.shape[1]), dtype=Q.dtype)  # (b_q, d_v) running sum of exp(s - m) v
    last = first + b_q - 1  # the last query's row number
    stop_k = min(n_k, last + 1) if causal else n_k  # causal: keys past the last query are never seen
    for start in range(0, stop_k, block_size):
        keys = slice(start, min(start + block_size, stop_k))
        if scale is None:
            S = Q @ K[keys].T  # (b_q, d_k) @ (d_k, b_k) -> (b_q, b_k)
        else:
            S = _scores(Q, K[keys], scale)  # the same product, safe near the float range
        hidden = None if ok is None else ~ok[:, keys]  # (b_q, b_k)
        if causal and keys.stop - 1 > first:  # some key in the block lies after some query
            future = np.arange(keys.start, keys.stop) > np.arange(first, last + 1)[:, np.newaxis]  # (b_q, b_k)
            hidden = future if hidden is None else hidden | future
        if hidden is not None:
            S[hidden] = -np.inf
        m = fold(S, m, l, acc)  # S <- exp(S - m'); l and acc brought to the new maximum m'
        acc += S @ V[keys]  # (b_q, b_k) @ (b_k, d_v) -> (b_q, d_v)
    np.divide(acc, l[:, np.newaxis], out=acc, where=l[:, np.newaxis] > 0)  # (b_q, d_v) / (b_q, 1)
    return acc, l


def _fold(S, m, l, acc):
    """One step of the online softmax: a block of scores S (b_q, b_k) joins the running state; returns m'.

    The running maximum m (b_q,) gives way to m' = max(m, the row maxima of S), which is
    returned; the running sum l (b_q,) and mixture acc (b_q, d_v), kept relative to m, are
    rescaled in place by exp(m - m'); S becomes exp(S - m') in place and l gains its row
    sums. Where m' is -inf (no visible key yet) the exponent uses 0 instead, so that every
    weight there is exp(-inf) = 0. The caller then adds S @ V_block to acc. This numpy code
    is the reference that the compiled kernel of :mod:`vecmix._fused` is tested against.

    >>> S, m, l, acc = np.array([[0.0, 1.0, -np.inf]]), np.array([-np.inf]), np.zeros(1), np.zeros((1, 2))
    >>> _fold(S, m, l, acc), S.round(6), bool(np.isclose(l[0], 1 + np.exp(-1)))
    (array([1.]), array([[0.367879, 1.      , 0.      ]]), True)
    """
    m_new = np.maximum(m, S.max(axis=1))  # (b_q,)
    shift = m_new if np.isfinite(m_new).all() else np.where(np.isfinite(m_new), m_new, 0).astype(S.dtype)  # (b_q,)
    with np.errstate(over="ignore"):  # a gap beyond the float range is -inf: weight exactly 0
        correction = np.exp(m - shift)  # (b_q,): 0 before any key is seen
        S -= shift[:, np.newaxis]  # (b_q, b_k) - (b_q, 1): every visible entry <= 0
        np.exp(S, out=S)  # masked entries: exp(-inf) = 0 exactly
    l *= correction
    l += S.sum(axis=1)
    acc *= correction[:, np.newaxis]  # (b_q, d_v) * (b_q, 1)
    return m_new


def _folder(backend, scores, dtype):
    """The step of the online softmax: numpy's :func:`_fold`, or the compiled one of the ``[fast]`` extra.

    'auto' takes numpy's when numba is missing or its kernel cannot be loaded (no writable
    cache, say); 'numba' refuses by name then.
    """
    if backend == "numpy" or (backend == "auto" and scores < FUSED_MIN_SCORES):
        return _fold
    try:
        from ._fused import fold

        fold(np.zeros((1, 1), dtype), np.zeros(1, dtype), np.zeros(1, dtype), np.zeros((1, 1), dtype))  # compiles
    except ImportError:
        if backend == "auto":
            return _fold
        raise VecmixError("backend='numba' needs numba: install it with pip install 'vecmix[fast]'") from None
    except Exception as exc:  # numba's own failures: no cache folder, an unsupported version
        if backend == "auto":
            return _fold
        raise VecmixError(f"backend='numba' could not load its kernel ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}); use backend='numpy'") from None
    return fold


def _scores_cannot_overflow(Q, K, scale):
    """True when Q * scale and every |q . k| * scale stay well inside the float range (|q . k| <= d_k max|q| max|k|)."""
    top = np.finfo(Q.dtype).max / 4
    q = float(np.abs(Q).max()) * abs(float(scale))  # Python floats: an overflow here is inf, never a warning
    return q < top and q * float(np.abs(K).max()) * Q.shape[-1] < top


def _scores(Q, K, scale):
    """S = Q K^T * scale (..., n_q, n_k), refusing by name a score that is beyond the float range.

    The direct product is tried first: where it is finite it is accurate (an overflow on the
    way shows as inf or NaN). Where it is not, each query and each key is divided by the
    power of two of its largest entry (exact), so that the product stays below d_k, and the
    powers are multiplied back in at the end with ``ldexp``: a score is then infinite only
    when the true score is.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        S = np.matmul(Q, np.swapaxes(K, -1, -2)) * scale  # (..., n_q, d_k) @ (..., d_k, n_k) -> (..., n_q, n_k)
        if not np.isfinite(S).all():  # an overflow is inf or NaN, never a wrong finite number: redo only those
            _, a = np.frexp(np.abs(Q).max(axis=-1, keepdims=True))  # (..., n_q, 1): |q| < 2^a
            _, b = np.frexp(np.abs(K).max(axis=-1, keepdims=True))  # (..., n_k, 1): |k| < 2^b
            m, e = np.frexp(scale)  # scale = m 2^e, 1/2 <= |m| < 1
            P = np.matmul(np.ldexp(Q, -a) * m, np.swapaxes(np.ldexp(K, -b), -1, -2))  # entries at most d_k
            P = np.ldexp(P, a + np.swapaxes(b, -1, -2) + e)  # (..., n_q, 1) + (..., 1, n_k): each score's power
            S = np.where(np.isfinite(S), S, P)
    if not np.isfinite(S).all():
        raise _overflow_error(Q, K, scale)
    return S


class _ValuesOverflow(Exception):
    """A running sum of weighted values left the float range: mix again with the values scaled down."""


def _batch_shape(Q, K, V, mask):
    """The broadcast of the batch axes of Q, K, V and the mask, or a VecmixError naming their shapes."""
    shapes = {"Q": Q.shape[:-2], "K": K.shape[:-2], "V": V.shape[:-2]}
    if mask is not None:
        shapes["mask"] = mask.shape[:-2]
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise VecmixError(f"the batch axes do not broadcast together: {listed}") from None


def _overflow_error(Q, K, scale):
    return VecmixError(
        f"the scores Q K^T * scale overflow (largest |Q| {np.abs(Q).max():.3g}, |K| {np.abs(K).max():.3g}, "
        f"scale {scale:.3g}); rescale the inputs"
    )


def _full(Q, K, V, scale, allowed, causal, fully_masked, batch):
    """(Z, A) through the full (..., n_q, n_k) weights matrix."""
    S = _scores(Q, K, scale)  # (..., n_q, n_k) over the batch axes of Q and K
    S = np.broadcast_to(S, (*batch, *S.shape[-2:]))  # (..., n_q, n_k) over every batch axis
    allowed = broadcast_mask(allowed, S.shape)
    if causal:
        n_q, n_k = S.shape[-2:]
        allowed = allowed & np.tri(n_q, n_k, dtype=bool)  # (n_q, n_k), key j visible to query i iff j <= i
    A = _softmax(S, allowed, fully_masked)
    Z = np.matmul(A, V)  # (..., n_q, n_k) @ (..., n_k, d_v) -> (..., n_q, d_v)
    if not np.isfinite(Z).all() and not np.isfinite(Z[np.isfinite(A).all(axis=-1)]).all():
        raise _ValuesOverflow  # (rows left NaN on purpose by fully_masked='nan' are not an overflow)
    return Z, A


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
    Q, K, V = (real_array(name, x, empty_ok=True) for name, x in (("Q", Q), ("K", K), ("V", V)))  # sizes: below
    if Q.ndim == 0:
        raise VecmixError(f"Q = {Q} is a single number: expected a query vector (d_k,) or queries (..., n_q, d_k)")
    single = Q.ndim == 1
    if single:
        Q = Q[np.newaxis, :]  # (d_k,) -> (1, d_k)
    check_qkv(Q.shape, K.shape, V.shape)
    check_policy(fully_masked)
    dtype = np.result_type(Q, K, V)
    scale = 1.0 / np.sqrt(Q.shape[-1]) if scale is None else real_scalar("scale", scale)
    if scale != 0 and not float(np.finfo(dtype).tiny) <= abs(scale) <= float(np.finfo(dtype).max):
        dtype = np.dtype(np.float64)  # a float32 problem whose scale float32 cannot hold is computed in float64
    return Q.astype(dtype, copy=False), K.astype(dtype, copy=False), V.astype(dtype, copy=False), single, \
        dtype.type(scale)
