"""Multi-head attention with explicit projections: the same mixture, h times, in subspaces.

For head j: Q_j = X_q W_q[j], K_j = X_kv W_k[j], V_j = X_kv W_v[j], and
Z_j = softmax(Q_j K_j^T / sqrt(d_k)) V_j, a mixture of the rows of V_j. The heads are
concatenated and mapped by W_o: Y = [Z_1 ... Z_h] W_o. Projections are plain matrices
applied on the right (x W), so each head's weights are inputs, never hidden state.
"""

import numpy as np
import sympy as sp

from ._checks import read_mask, real_array
from .attention import attention
from .errors import VecmixError
from .exact import as_exact, exact_attention

__all__ = ["exact_multihead_attention", "multihead_attention"]


def multihead_attention(X_q, X_kv, W_q, W_k, W_v, W_o, *, mask=None, causal=False, fully_masked="raise",
                        weights=False, backend="auto"):
    """Numeric multi-head attention: returns Y (n_q, d_out) and per-head Z (h, n_q, d_v), and A (h, n_q, n_k)
    when ``weights=True`` (see :func:`vecmix.attention`, which also says what ``backend`` picks).

    Shapes: X_q (n_q, d_model), X_kv (n_k, d_model), W_q and W_k (h, d_model, d_k),
    W_v (h, d_model, d_v), W_o (h * d_v, d_out). ``mask`` (True = may attend) and
    ``causal`` apply to every head; the scale is 1/sqrt(d_k) with d_k the head size.

    Two heads that each copy one coordinate, then W_o that adds them:

    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> W = np.array([[[1.0], [0.0]], [[0.0], [1.0]]])  # (2 heads, d_model 2, size 1)
    >>> Y, Z, A = multihead_attention(X, X, W, W, W, np.ones((2, 1)), weights=True)
    >>> Y.shape, Z.shape, A.shape
    ((2, 1), (2, 2, 1), (2, 2, 2))
    >>> np.allclose(A.sum(axis=-1), 1)
    True
    """
    names = ("X_q", "X_kv", "W_q", "W_k", "W_v", "W_o")
    X_q, X_kv, W_q, W_k, W_v, W_o = (real_array(name, x) for name, x in zip(names, (X_q, X_kv, W_q, W_k, W_v, W_o)))
    h, d_v = _check_heads(X_q.shape, X_kv.shape, W_q.shape, W_k.shape, W_v.shape, W_o.shape)
    mask = None if mask is None else read_mask(mask)
    if mask is not None and mask.ndim > 2:
        raise VecmixError(f"mask has shape {np.shape(mask)}: multi-head attention takes one (n_q, n_k) mask "
                          "for every head")
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused by name just below
        Q = X_q @ W_q  # (n_q, d_model) @ (h, d_model, d_k) -> (h, n_q, d_k)
        K = X_kv @ W_k  # (n_k, d_model) @ (h, d_model, d_k) -> (h, n_k, d_k)
        V = X_kv @ W_v  # (n_k, d_model) @ (h, d_model, d_v) -> (h, n_k, d_v)
    for name, x in (("X_q @ W_q", Q), ("X_kv @ W_k", K), ("X_kv @ W_v", V)):
        if not np.isfinite(x).all():
            raise VecmixError(f"the projection {name} overflows the float range; rescale X or the projections")
    out = attention(Q, K, V, mask=mask, causal=causal, fully_masked=fully_masked, weights=weights, backend=backend)
    Z = out[0] if weights else out  # (h, n_q, d_v); the weights out[1] are (h, n_q, n_k)
    concat = Z.transpose(1, 0, 2).reshape(Z.shape[1], h * d_v)  # (h, n_q, d_v) -> (n_q, h, d_v) -> (n_q, h * d_v)
    with np.errstate(over="ignore", invalid="ignore"):
        Y = concat @ W_o  # (n_q, h * d_v) @ (h * d_v, d_out) -> (n_q, d_out)
    if not np.isfinite(Y).all():
        raise VecmixError("the output projection [Z_1 ... Z_h] W_o overflows the float range; rescale W_o")
    return (Y, Z, out[1]) if weights else (Y, Z)


def exact_multihead_attention(X_q, X_kv, W_q, W_k, W_v, W_o, *, mask=None, causal=False, fully_masked="raise"):
    """Exact twin of :func:`multihead_attention`: Y, and lists of per-head Z_j, A_j, V_j (SymPy matrices).

    ``W_q``, ``W_k`` and ``W_v`` are lists of h matrices; the projected values V_j are
    returned so that each head's output can be checked against the span of its own values.

    >>> Y, Z, A, V = exact_multihead_attention([[1, 0]], [[1, 0], [0, 1]], [[[1], [0]]], [[[1], [0]]],
    ...                                        [[[0], [1]]], [[2]])
    >>> Y
    Matrix([[2/(1 + E)]])
    """
    X_q, X_kv, W_o = as_exact(X_q, "X_q"), as_exact(X_kv, "X_kv"), as_exact(W_o, "W_o")
    heads = [_head_matrices(name, Ws) for name, Ws in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v))]
    shapes = [(len(Ws), *Ws[0].shape) if Ws else (0,) for Ws in heads]
    h, d_v = _check_heads(X_q.shape, X_kv.shape, *shapes, W_o.shape)
    Zs, As, Vs = [], [], []
    for Wq, Wk, Wv in zip(*heads):
        V_j = X_kv * Wv  # (n_k, d_model) (d_model, d_v) -> (n_k, d_v)
        Z_j, A_j = exact_attention(X_q * Wq, X_kv * Wk, V_j, mask=mask, causal=causal,
                                   fully_masked=fully_masked)  # (n_q, d_v), (n_q, n_k)
        Zs.append(Z_j), As.append(A_j), Vs.append(V_j)
    concat = sp.Matrix.hstack(*Zs)  # h x (n_q, d_v) -> (n_q, h * d_v)
    return concat * W_o, Zs, As, Vs  # (n_q, h * d_v) (h * d_v, d_out) -> (n_q, d_out)


def _head_matrices(name, Ws):
    """The h projection matrices of one kind (W_q, W_k or W_v) as exact matrices of one shape."""
    if isinstance(Ws, (str, bytes, sp.MatrixBase)) or not isinstance(Ws, (list, tuple, np.ndarray)):
        raise VecmixError(f"{name} must be a list of h matrices (h, d_model, size), got {type(Ws).__name__}")
    matrices = [as_exact(W, f"{name}[{j}]") for j, W in enumerate(Ws)]
    for j, W in enumerate(matrices):
        if W.shape != matrices[0].shape:
            raise VecmixError(f"{name}[{j}] has shape {W.shape} but {name}[0] has shape {matrices[0].shape}: "
                              "every head's projection has the same shape")
    return matrices


def _check_heads(xq, xkv, wq, wk, wv, wo):
    """(h, d_v) after checking that the projections fit the inputs and each other."""
    if len(xq) != 2 or len(xkv) != 2:
        raise VecmixError(f"X_q and X_kv must be matrices (rows are tokens), got shapes {xq} and {xkv}")
    if xq[1] != xkv[1]:
        raise VecmixError(f"X_q has d_model {xq[1]} but X_kv has {xkv[1]}")
    for name, w in (("W_q", wq), ("W_k", wk), ("W_v", wv)):
        if len(w) != 3 or w[0] == 0:
            raise VecmixError(f"{name} must hold h >= 1 matrices (h, d_model, size), got shape {w}")
        if w[1] != xq[1]:
            raise VecmixError(f"{name} maps from dimension {w[1]} but the tokens have d_model {xq[1]}: shape {w}")
    if not wq[0] == wk[0] == wv[0]:
        raise VecmixError(f"W_q, W_k and W_v must have the same number of heads, got {wq[0]}, {wk[0]}, {wv[0]}")
    if wq[2] != wk[2]:
        raise VecmixError(f"queries and keys must share the head size d_k: W_q has shape {wq}, W_k has shape {wk}")
    h, d_v = wv[0], wv[2]
    if len(wo) != 2 or wo[0] != h * d_v:
        raise VecmixError(f"W_o must have h * d_v = {h} * {d_v} = {h * d_v} rows, got shape {wo}")
    return h, d_v
