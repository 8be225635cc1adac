"""The optional accelerator of the blocked softmax: one step of it in compiled code (numba).

Each step of :func:`vecmix.attention`'s online softmax (:func:`vecmix.attention._fold`)
takes a block of scores S (b_q, b_k) into the running maximum m, sum l and mixture acc:

    m' = max(m, max_j S_ij),   S_ij <- exp(S_ij - m'),   l <- l e^(m - m') + sum_j S_ij,   acc <- acc e^(m - m'),

with 0 in place of m' in the exponents where it is -inf (a row that has seen no key).
numpy does this in a dozen calls and five passes over S, and its ``exp`` is the slowest
of them. The kernels here do it in one call, a row at a time while the row is in the
cache, with an ``exp`` that the compiler vectorises:

    x = s - m_new,   n = round(x / ln 2),   r = x - n ln 2  (|r| <= ln(2)/2, ln 2 split in two parts),
    exp(x) = 2^n * (1 + r + r^2/2! + ... + r^N/N!),

N = 13 in float64 (truncation below 6e-18 relative; measured within 2.3 ulp of the true
exp, numpy's within 0.5) and N = 7 in float32 (truncation 5e-9). 2^n is written as a
float's bits: ``n + (2^52 + 1023)`` as a float holds ``n + 1023`` in its low bits, and
shifting those bits left by 52 moves them into the exponent field (float32: 2^23 + 127,
by 23). That needs n >= -1022 (float32: -126), so a gap below ln(2^-1022) = -708.39
(float32: -87.33) gives exactly 0, and so does a masked score (-inf). numpy's exp gives
subnormal numbers there instead, down to -745 (float32: -104): weights below the smallest
normal float, which move Z by less than that times the largest |v|.

This module imports numba; vecmix imports it only when the accelerator is used, and the
numpy path in :mod:`vecmix.attention` stays the reference that tests compare it with.
"""

import math

import numba
import numpy as np

__all__ = ["fold"]

# Arithmetic may be contracted (multiply-adds), and the row sums reassociated (summed in
# vector lanes) but not the exponential's range reduction. Scores are finite or -inf and
# shifts finite, so no NaN arises but one: acc holding inf after the values overflowed,
# times a correction of 0; attention sees Z not finite and mixes again with the values
# scaled down.
_EXACT_FLAGS = {"contract", "nnan", "nsz"}
_FLAGS = _EXACT_FLAGS | {"reassoc"}


@numba.njit(inline="always", fastmath=_FLAGS)
def _fold(S, m, l, acc, y, bits, K):
    """vecmix.attention._fold, row by row (``y``/``bits``: one row of scratch, two views; ``K``: the constants of
    the dtype)."""
    ZERO, SHIFT = K[0], K[7]
    b_q, b_k = S.shape
    for i in range(b_q):
        top = _row_max(S, i, m[i])
        shift = top if top > -np.inf else ZERO  # no key seen yet: every entry is -inf
        correction = np.exp(m[i] - shift)  # 0 before any key is seen
        for j in range(b_k):
            S[i, j], y[j] = _reduced_exp(S[i, j] - shift, K)  # exp(x) = S[i, j] * 2^n, 2^n still to be made
        for j in range(b_k):
            bits[j] <<= SHIFT
        total = ZERO
        for j in range(b_k):
            e = S[i, j] * y[j]
            S[i, j] = e
            total += e
        l[i] = l[i] * correction + total
        for j in range(acc.shape[1]):
            acc[i, j] *= correction
        m[i] = top


@numba.njit(fastmath=_EXACT_FLAGS)  # compiled on its own, so that its flags stay its own once LLVM inlines it
def _reduced_exp(x, K):
    """(p, y) for x <= 0: exp(x) = p 2^n, with y = n + MAGIC (the bits of 2^n, once shifted), 0 below the cut-off.

    ``r = (x - n HI) - n LO`` must be computed in this order (Cody and Waite): HI holds
    ln 2's leading bits, so n HI is exact; reassociated into x - n (HI + LO), it would lose
    n times the rounding of ln 2 (2e-14 relative at n = -1000).
    """
    ZERO, HALF, L2E, HI, LO, CUT, MAGIC, SHIFT, ZERO_EXP, C = K
    keep = x > CUT
    x = x if keep else CUT
    n = np.floor(x * L2E + HALF)
    r = (x - n * HI) - n * LO
    p = C[0]
    for c in C[1:]:
        p = p * r + c
    return p, (n + MAGIC if keep else ZERO_EXP)


@numba.njit(inline="always", fastmath=_FLAGS)
def _row_max(S, i, top):
    """max(top, S[i, :]) with eight running maxima (one chain would wait on each comparison in turn)."""
    b_k = S.shape[1]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = top
    j = 0
    while j + 8 <= b_k:
        a0, a1, a2, a3 = max(a0, S[i, j]), max(a1, S[i, j + 1]), max(a2, S[i, j + 2]), max(a3, S[i, j + 3])
        a4, a5, a6, a7 = max(a4, S[i, j + 4]), max(a5, S[i, j + 5]), max(a6, S[i, j + 6]), max(a7, S[i, j + 7])
        j += 8
    top = max(max(max(a0, a1), max(a2, a3)), max(max(a4, a5), max(a6, a7)))
    while j < b_k:
        top = max(top, S[i, j])
        j += 1
    return top


def _constants(dtype, bits, ln2_hi, ln2_lo, cut, bias, mantissa, degree):
    """The constants of one float type, in the order the kernels unpack them: ZERO, HALF, L2E = 1/ln 2, HI + LO =
    ln 2 (HI exact in few bits), CUT, MAGIC = 2^mantissa + bias, SHIFT = mantissa (in the integer type ``bits``),
    ZERO_EXP = 2^mantissa (bits that shift to 0.0), and the Taylor coefficients 1/k!, highest power first."""
    f = dtype.type
    taylor = tuple(f(1 / math.factorial(k)) for k in range(degree, -1, -1))
    return (f(0), f(0.5), f(1 / math.log(2)), f(ln2_hi), f(ln2_lo), f(cut), f(2.0**mantissa + bias), bits(mantissa),
            f(2.0**mantissa), taylor)


# Cody and Waite's split of ln 2: fdlibm's for float64, Cephes' for float32. CUT = ln of the smallest normal number.
_F64 = _constants(np.dtype(np.float64), np.int64, 6.93147180369123816490e-01, 1.90821492927058770002e-10, -708.39,
                  1023, 52, 13)
_F32 = _constants(np.dtype(np.float32), np.int32, 0.693359375, -2.12194440e-4, -87.33, 127, 23, 7)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _fold_float64(S, m, l, acc, y):
    _fold(S, m, l, acc, y, y.view(np.int64), _F64)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _fold_float32(S, m, l, acc, y):
    _fold(S, m, l, acc, y, y.view(np.int32), _F32)


_KERNELS = {np.dtype(np.float64): _fold_float64, np.dtype(np.float32): _fold_float32}


def fold(S, m, l, acc):
    """:func:`vecmix.attention._fold` compiled: S (b_q, b_k), m, l (b_q,), acc (b_q, d_v) of one dtype, all updated in
    place; returns m, which now holds the new maximum.

    >>> S, m, l, acc = np.array([[0.0, 1.0, -np.inf]]), np.array([-np.inf]), np.zeros(1), np.zeros((1, 2))
    >>> fold(S, m, l, acc), S.round(6), bool(np.isclose(l[0], 1 + np.exp(-1)))
    (array([1.]), array([[0.367879, 1.      , 0.      ]]), True)
    """
    _KERNELS[S.dtype](S, m, l, acc, np.empty(S.shape[1], dtype=S.dtype))
    return m
