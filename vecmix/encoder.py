"""A BERT encoder in numpy, through vecmix: every head of every layer is a mixture of its own values.

Per layer l, with X the layer's input (n tokens, rows of width d_model) and head h of size
d_head (the notation of the source pages, with the biases a trained model carries):

    Q_h = X W_Q^h + b_Q^h,   K_h = X W_K^h + b_K^h,   V_h = X W_V^h + b_V^h      (n, d_head)
    A_h = softmax(Q_h K_h^T / sqrt(d_head)),   Z_h = A_h V_h                      (n, n), (n, d_head)
    Y = [Z_1 ... Z_H] W_O + b_O                                                  (n, d_model)
    X' = LayerNorm(X + Y),   X'' = LayerNorm(X' + GELU(X' W_1 + b_1) W_2 + b_2)

Weights are plain arrays in ``x W + b`` form (W is (d_in, d_out)); nothing is read from
files here (``labs.catalogue._minilm`` loads a trained model's weights). The head outputs
come from :func:`vecmix.attention`'s blocked path (what flows on to the next layer) and the
weights from its full path, so that each head's output can be checked against the mixture
A_h V_h, in the convex hull of its values.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._checks import real_array
from .attention import attention
from .errors import VecmixError

__all__ = ["Encoder", "EncoderLayer", "Forward", "encode", "erf", "gelu", "layer_norm", "project_heads", "value_norms"]


@dataclass(frozen=True)
class EncoderLayer:
    """One layer's weights: attention (W_Q, W_K, W_V, W_O with biases), two LayerNorms, the feed-forward W_1, W_2."""

    W_Q: np.ndarray  # (d_model, d_model): the H heads' W_Q^h side by side, d_head columns each
    b_Q: np.ndarray  # (d_model,)
    W_K: np.ndarray
    b_K: np.ndarray
    W_V: np.ndarray
    b_V: np.ndarray
    W_O: np.ndarray  # (d_model, d_model): rows h * d_head .. (h + 1) * d_head are head h's W_O^h
    b_O: np.ndarray
    gamma_1: np.ndarray  # LayerNorm after attention
    beta_1: np.ndarray
    W_1: np.ndarray  # (d_model, d_ff)
    b_1: np.ndarray
    W_2: np.ndarray  # (d_ff, d_model)
    b_2: np.ndarray
    gamma_2: np.ndarray  # LayerNorm after the feed-forward network
    beta_2: np.ndarray


@dataclass(frozen=True)
class Encoder:
    """A BERT encoder: embeddings (word, position, token type) with their LayerNorm, then the layers."""

    word: np.ndarray  # (vocab, d_model)
    position: np.ndarray  # (max_positions, d_model)
    token_type: np.ndarray  # (types, d_model)
    gamma: np.ndarray  # the embeddings' LayerNorm
    beta: np.ndarray
    layers: tuple  # of EncoderLayer
    heads: int  # H
    eps: float = 1e-12  # LayerNorm's epsilon

    @property
    def d_head(self):
        """The size of each head: d_model / H."""
        return self.word.shape[1] // self.heads


@dataclass(frozen=True)
class Forward:
    """What one forward pass computed, layer by layer (L layers, H heads, n tokens)."""

    hidden: np.ndarray  # (L + 1, n, d_model): the embeddings, then each layer's output
    A: np.ndarray  # (L, H, n, n): each head's weights, rows sum to 1
    Q: np.ndarray  # (L, H, n, d_head): each head's queries, b_Q included
    K: np.ndarray  # (L, H, n, d_head): each head's keys, b_K included
    V: np.ndarray  # (L, H, n, d_head): each head's values, b_V included
    Z: np.ndarray  # (L, H, n, d_head): each head's outputs Z_h = A_h V_h


def layer_norm(x, gamma, beta, eps=1e-12):
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis (the biased variance, as BERT's).

    >>> layer_norm(np.array([[1.0, 3.0]]), np.ones(2), np.zeros(2)).round(6)
    array([[-1.,  1.]])
    """
    mean = x.mean(axis=-1, keepdims=True)  # (..., 1)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # (..., 1)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969), 631-638: the
# coefficients of Netlib's SPECFUN CALERF, for erf on [0, 0.46875] (A/B), erfc e^(x^2) on (0.46875, 4] (C/D) and
# on (4, inf) in 1/x^2 (P/Q); relative error near float64's rounding (tests/test_pretrained.py: against math.erf).
_A = (3.16112374387056560e0, 1.13864154151050156e2, 3.77485237685302021e2, 3.20937758913846947e3,
      1.85777706184603153e-1)
_B = (2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3, 2.84423683343917062e3)
_C = (5.64188496988670089e-1, 8.88314979438837594e0, 6.61191906371416295e1, 2.98635138197400131e2,
      8.81952221241769090e2, 1.71204761263407058e3, 2.05107837782607147e3, 1.23033935479799725e3,
      2.15311535474403846e-8)
_D = (1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2, 1.62138957456669019e3,
      3.29079923573345963e3, 4.36261909014324716e3, 3.43936767414372164e3, 1.23033935480374942e3)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e0, 1.87295284992346047e0, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_SQRPI = 5.6418958354775628695e-1  # 1 / sqrt(pi)


def erf(x):
    """The error function, elementwise, by Cody's rational approximations (vectorised; as accurate as math.erf).

    >>> bool(abs(erf(np.array([0.3, -2.0, 5.0])) - [math.erf(0.3), math.erf(-2.0), math.erf(5.0)]).max() < 1e-16)
    True
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.abs(x)
    out = np.empty_like(y)
    small, large = y <= 0.46875, y > 4.0
    middle = ~small & ~large
    t = y[small] ** 2
    num, den = _A[4] * t, t
    for a, b in zip(_A[:3], _B[:3]):
        num, den = (num + a) * t, (den + b) * t
    out[small] = y[small] * (num + _A[3]) / (den + _B[3])
    for mask, tail in ((middle, _erfc_middle), (large, _erfc_large)):
        z = np.minimum(y[mask], 30.0)  # erf(30) is 1 in float64, and inf must not meet inf - inf below
        head = np.trunc(z * 16) / 16  # e^(-z^2) as e^(-head^2) e^(-(z - head)(z + head)): no cancellation in z^2
        out[mask] = 1.0 - np.exp(-head * head) * np.exp(-(z - head) * (z + head)) * tail(z)
    return np.copysign(out, x)


def _erfc_middle(y):
    """erfc(y) e^(y^2) for 0.46875 < y <= 4."""
    num, den = _C[8] * y, y
    for c, d in zip(_C[:7], _D[:7]):
        num, den = (num + c) * y, (den + d) * y
    return (num + _C[7]) / (den + _D[7])


def _erfc_large(y):
    """erfc(y) e^(y^2) for y > 4, in 1/y^2."""
    t = 1.0 / (y * y)
    num, den = _P[5] * t, t
    for p, q in zip(_P[:4], _Q[:4]):
        num, den = (num + p) * t, (den + q) * t
    return (_SQRPI - t * (num + _P[4]) / (den + _Q[4])) / y


def gelu(x):
    """GELU(x) = x Phi(x) = x (1 + erf(x / sqrt(2))) / 2, with the exact erf (BERT's "gelu", not the tanh form).

    >>> gelu(np.array([-1.0, 0.0, 1.0])).round(6)
    array([-0.158655,  0.      ,  0.841345])
    """
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def project_heads(X, W, b, heads):
    """X W + b split into H heads: (n, d_model) -> (H, n, d_head).

    >>> project_heads(np.eye(2), np.eye(2), np.array([0.0, 1.0]), 2).tolist()
    [[[1.0], [0.0]], [[1.0], [2.0]]]
    """
    n = X.shape[0]
    P = X @ W + b  # (n, d_model) @ (d_model, d_model) -> (n, d_model)
    return P.reshape(n, heads, -1).transpose(1, 0, 2)  # (n, d_model) -> (n, H, d_head) -> (H, n, d_head)


def encode(encoder, ids, type_ids=None):
    """The forward pass of ``encoder`` over the token ids ``ids`` (one sequence, no padding): a :class:`Forward`.

    Computed in float64 whatever the weights' type. A one-layer encoder with one head of
    size 2, whose values are the inputs themselves:

    >>> I, z = np.eye(2), np.zeros(2)
    >>> layer = EncoderLayer(I, z, I, z, I, z, I, z, np.ones(2), z, I, z, I, z, np.ones(2), z)
    >>> enc = Encoder(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros((4, 2)), np.zeros((1, 2)), np.ones(2), z,
    ...               (layer,), heads=1)
    >>> out = encode(enc, [0, 1])
    >>> out.hidden.shape, out.A.shape, bool(np.allclose(out.A.sum(axis=-1), 1))
    ((2, 2, 2), (1, 1, 2, 2), True)
    >>> bool(np.allclose(out.Z, out.A @ out.V))
    True
    """
    ids = _token_ids(ids, "ids", encoder.word.shape[0])
    n = len(ids)
    if n > encoder.position.shape[0]:
        raise VecmixError(f"ids has {n} tokens but the encoder has {encoder.position.shape[0]} positions")
    type_ids = np.zeros(n, dtype=np.int64) if type_ids is None else _token_ids(type_ids, "type_ids",
                                                                                encoder.token_type.shape[0])
    if len(type_ids) != n:
        raise VecmixError(f"type_ids has {len(type_ids)} entries but ids has {n}: one type per token")
    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    E = f64(encoder.word[ids]) + f64(encoder.position[:n]) + f64(encoder.token_type[type_ids])  # (n, d_model)
    X = layer_norm(E, f64(encoder.gamma), f64(encoder.beta), encoder.eps)
    hidden, As, Qs, Ks, Vs, Zs = [X], [], [], [], [], []
    for layer in encoder.layers:
        w = {name: f64(getattr(layer, name)) for name in EncoderLayer.__dataclass_fields__}
        Q, K, V = (project_heads(X, w[f"W_{x}"], w[f"b_{x}"], encoder.heads) for x in "QKV")  # (H, n, d_head) each
        Z = attention(Q, K, V)  # (H, n, d_head): the blocked online softmax, what flows on
        A = attention(Q, K, V, weights=True)[1]  # (H, n, n): the full weights, for inspection
        concat = Z.transpose(1, 0, 2).reshape(n, -1)  # (H, n, d_head) -> (n, H, d_head) -> (n, d_model)
        X = layer_norm(X + concat @ w["W_O"] + w["b_O"], w["gamma_1"], w["beta_1"], encoder.eps)  # (n, d_model)
        F = gelu(X @ w["W_1"] + w["b_1"]) @ w["W_2"] + w["b_2"]  # (n, d_ff) @ (d_ff, d_model) -> (n, d_model)
        X = layer_norm(X + F, w["gamma_2"], w["beta_2"], encoder.eps)
        for kept, x in zip((hidden, As, Qs, Ks, Vs, Zs), (X, A, Q, K, V, Z)):
            kept.append(x)
    return Forward(*(np.stack(kept) for kept in (hidden, As, Qs, Ks, Vs, Zs)))


def value_norms(V, W_O):
    """||f(x_j)|| = ||v_j W_O^h|| for every head h and token j: the length each value reaches the layer's output with.

    ``V`` is (..., H, n, d_head), ``W_O`` (H * d_head, d_model); the result is (..., H, n).
    Head h's output for query i is sum_j alpha_ij f(x_j) + (b_O shared by all heads), so
    alpha_ij ||f(x_j)|| is the length of token j's contribution (Kobayashi et al., 2020).

    >>> value_norms(np.array([[[3.0], [0.0]]]), np.array([[0.0, 2.0]]))  # one head, d_head 1
    array([[6., 0.]])
    """
    V, W_O = real_array("V", V), real_array("W_O", W_O)
    H, d_head = V.shape[-3], V.shape[-1]
    if W_O.ndim != 2 or W_O.shape[0] != H * d_head:
        raise VecmixError(f"W_O has shape {W_O.shape} but V has shape {V.shape}: W_O needs H * d_head = "
                          f"{H} * {d_head} = {H * d_head} rows")
    W_h = W_O.reshape(H, d_head, -1)  # (H * d_head, d_model) -> (H, d_head, d_model)
    return np.linalg.norm(V @ W_h, axis=-1)  # (..., H, n, d_head) @ (H, d_head, d_model) -> (..., H, n, d_model)


def _token_ids(ids, name, size):
    """ids as a 1-D int64 array of indices in [0, size), or a VecmixError naming the one at fault."""
    a = np.asarray(ids)
    if a.ndim != 1 or a.size == 0:
        raise VecmixError(f"{name} must be a non-empty list of token ids, got shape {a.shape}")
    if a.dtype.kind not in "iu":
        raise VecmixError(f"{name} must hold integers, got {a.dtype}")
    bad = np.flatnonzero((a < 0) | (a >= size))
    if bad.size:
        raise VecmixError(f"{name}[{bad[0]}] = {a[bad[0]]} is not an id in 0..{size - 1}")
    return a.astype(np.int64)
