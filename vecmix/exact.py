"""Exact twins of the numeric path, in SymPy: numbers, scores, softmax weights, outputs.

Vectors are SymPy column matrices (q, alpha and z are columns, as in z = V^T alpha);
collections of vectors are matrices whose rows are the vectors (K has rows k_i, V has
rows v_i). Decimals become the exact numbers they spell: 0.2 is 1/5, never the binary
float nearest to it.
"""

import re
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import sympy as sp

from ._checks import broadcast_mask, check_flag, check_policy, check_qk, check_qkv, fully_masked_error, safe_repr
from .errors import VecmixError

__all__ = [
    "as_exact",
    "exact_attention",
    "exact_number",
    "exact_scores",
    "exact_softmax",
    "exact_value",
    "rational_rows",
    "to_numeric",
]

_DECIMAL = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE](?P<exp>[+-]?\d+))?(\s*/\s*[+-]?\d+)?\s*$")
_MAX_EXPONENT = 400  # a decimal exponent beyond this is a typo, not a number to expand
_MAX_TEXT = 4000  # characters in a number written as text (Python refuses to read longer integers)
_DIGITS = 50  # working precision when an exact value is evaluated or compared numerically


def exact_number(x, name="x"):
    """The exact rational number that x spells.

    Accepts integers, floats (read as the decimal they print as), strings holding a
    decimal or a fraction, ``fractions.Fraction`` and SymPy rationals.

    >>> exact_number(0.2), exact_number("1/3"), exact_number("-1.5e-2"), exact_number(7), exact_number("1/-3")
    (1/5, 1/3, -3/200, 7, -1/3)
    >>> exact_number("two", name="q[0]")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: q[0] = 'two' is not a number: expected a decimal such as 0.5 or a fraction such as 1/3
    """
    if isinstance(x, sp.Rational):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise VecmixError(f"{name} = {x!r} is a truth value, not a number")
    if isinstance(x, Integral):
        return sp.Integer(int(x))
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    given = x
    if (isinstance(x, (float, np.floating)) and not np.isfinite(x)) or (
            isinstance(x, str) and x.strip().lstrip("+-").lower() in ("nan", "inf", "infinity")):
        overflowed = isinstance(x, (float, np.floating)) and np.isinf(x)  # 1e400 written unquoted reads as inf
        raise VecmixError(f"{name} = {given!r} is not a finite number"
                          + (" (a number beyond about 1.8e308, such as 1e400, reads as inf)" if overflowed else ""))
    if isinstance(x, np.floating):
        x = str(x)  # numpy prints the shortest decimal that round-trips in its own precision
    elif isinstance(x, Real) and not isinstance(x, sp.Basic):
        x = repr(float(x))
    if isinstance(x, str) and len(x) > _MAX_TEXT:
        raise VecmixError(f"{name} is a text of {len(x)} characters; a number may have at most {_MAX_TEXT}")
    if isinstance(x, str):
        match = _DECIMAL.match(x)
        if match and abs(int(match.group("exp") or 0)) <= _MAX_EXPONENT:
            numerator, _, denominator = x.replace(" ", "").partition("/")
            try:  # Fraction("1/-3") is refused: the denominator, signed or not, is read on its own
                f = Fraction(numerator) / Fraction(denominator or "1")
            except ZeroDivisionError:
                raise VecmixError(f"{name} = {given!r} divides by zero") from None
            return sp.Rational(f.numerator, f.denominator)
        if match:
            raise VecmixError(f"{name} = {given!r} has an exponent beyond +-{_MAX_EXPONENT}")
        raise VecmixError(
            f"{name} = {given!r} is not a number: expected a decimal such as 0.5 or a fraction such as 1/3"
        )
    raise VecmixError(f"{name} = {given!r} ({type(given).__name__}) is not a number")


def exact_value(x, name="x"):
    """x as an exact, finite, real SymPy expression.

    SymPy expressions (``E``, ``sqrt(2)/2``, symbols) are kept as they are; anything else is
    read with :func:`exact_number`. Infinities, NaN and complex values are refused.

    >>> exact_value(0.5), exact_value(sp.E / 2)
    (1/2, E/2)
    >>> exact_value(sp.I, name="z[0]")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: z[0] = I is not a real number
    """
    if not isinstance(x, sp.Basic):
        return exact_number(x, name)
    if isinstance(x, sp.MatrixBase) or not isinstance(x, sp.Expr):
        raise VecmixError(f"{name} = {short_text(x)} ({type(x).__name__}) is not a number")
    if x.has(sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity):
        raise VecmixError(f"{name} = {short_text(x)} is not a finite number")
    if x.has(sp.I) or (x.is_number and (x.is_extended_real is False or _imaginary_part(x))):
        raise VecmixError(f"{name} = {short_text(x)} is not a real number")
    return x


def _imaginary_part(x):
    """True when x holds a root or logarithm of a negative number (sqrt(2 - E)), which SymPy leaves unevaluated."""
    roots = [p.base for p in x.atoms(sp.Pow) if not p.exp.is_integer]
    return any(a.is_extended_negative for a in roots + [g.args[0] for g in x.atoms(sp.log)])


def as_exact(x, name="x"):
    """A vector (column matrix) or a matrix of exact rationals from nested lists.

    A flat list is a column vector; a list of lists is a matrix whose rows are the inner
    lists. Every entry goes through :func:`exact_number`.

    >>> as_exact([0.2, "1/3"])
    Matrix([
    [1/5],
    [1/3]])
    >>> as_exact([[1, 0], [0, 1.5]])
    Matrix([
    [1,   0],
    [0, 3/2]])
    >>> as_exact([[1, 0], [2]], name="K")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: K has rows of different lengths: row 0 has 2 entries, row 1 has 1
    """
    if isinstance(x, sp.MatrixBase):
        _check_not_empty(x, name)
        return sp.Matrix(x.rows, x.cols, [exact_number(v, f"{name}{_at(x, k)}") for k, v in enumerate(x)])
    return sp.Matrix([[sp.Rational(p, q) for p, q in row] for row in rational_rows(x, name)])


def rational_rows(x, name="x"):
    """The entries of a vector or matrix as rows of exact (numerator, denominator) pairs.

    The structure is read as in :func:`as_exact` (a flat list is a column), with the same
    errors; integers, fractions and SymPy rationals are taken as they are, and anything
    else goes through :func:`exact_number`. Large matrices are read this way, without
    building a SymPy number per entry.

    >>> rational_rows([[1, "0.5"], [Fraction(2, 3), 0]])
    [[(1, 1), (1, 2)], [(2, 3), (0, 1)]]
    """
    if isinstance(x, sp.MatrixBase):
        _check_not_empty(x, name)
        return [[_pair(v, name, i, j) for j, v in enumerate(row)] for i, row in enumerate(x.tolist())]
    rows = _unpacked(x)
    if not isinstance(rows, (list, tuple)):
        raise VecmixError(f"{name} must be a list of numbers or a list of vectors, got {type(rows).__name__}")
    if len(rows) == 0:
        raise VecmixError(f"{name} is empty: expected at least one number")
    if all(isinstance(r, (list, tuple)) for r in rows):
        lengths = [len(r) for r in rows]
        for i, n in enumerate(lengths):
            if n != lengths[0]:
                raise VecmixError(
                    f"{name} has rows of different lengths: row 0 has {lengths[0]} entries, row {i} has {n}"
                )
        if lengths[0] == 0:
            raise VecmixError(f"{name} has empty rows: each vector needs at least one entry")
        if any(isinstance(v, (list, tuple)) for r in rows for v in r):
            raise VecmixError(f"{name} is nested too deeply: expected a vector or a matrix (a list of vectors)")
        return [[(v.numerator, v.denominator) if type(v) in _PLAIN else _pair(v, name, i, j) for j, v in enumerate(r)]
                for i, r in enumerate(rows)]
    if any(isinstance(r, (list, tuple)) for r in rows):
        raise VecmixError(f"{name} mixes numbers and lists: expected a list of numbers or a list of vectors")
    return [[_pair(v, name, i)] for i, v in enumerate(rows)]


_PLAIN = (int, Fraction)  # read as (numerator, denominator) directly; bool is not among them


def _check_not_empty(M, name):
    """Refuse a SymPy matrix with no rows or no columns."""
    if 0 in M.shape:
        raise VecmixError(f"{name} has shape {M.shape}: expected at least one vector with at least one entry")


def _unpacked(x):
    """x with its numpy arrays (the whole of x, or its rows) as lists of numpy scalars, not Python floats.

    A numpy scalar prints as the shortest decimal of its own precision, so float32 0.1 reads as 1/10.
    """
    if isinstance(x, np.ndarray):
        return [list(r) for r in x] if x.ndim == 2 else list(x) if x.ndim == 1 else x.tolist()
    if isinstance(x, (list, tuple)) and any(isinstance(r, np.ndarray) for r in x):
        return [list(r) if isinstance(r, np.ndarray) and r.ndim == 1 else r for r in x]
    return x


def _pair(v, name, *index):
    """(p, q) with q > 0 for the exact rational v at ``name[index]``."""
    r = exact_number(v, name + "".join(f"[{i}]" for i in index))
    return int(r.p), int(r.q)


def exact_softmax(s, *, mask=None, fully_masked="raise"):
    """Exact softmax weights of exact scores, as a column vector.

    Each weight is written e^(s_i - s_min) / sum_j e^(s_j - s_min), the same number as
    e^(s_i) / sum_j e^(s_j) with the smallest exponent zero. Masked entries (mask
    False) get exactly 0. Scores are read with :func:`exact_value`: SymPy expressions are
    kept, and a decimal is the exact number it spells (0.5 is 1/2).

    >>> alpha = exact_softmax([1, 0, -1])
    >>> list(alpha)
    [exp(2)/(1 + E + exp(2)), E/(1 + E + exp(2)), 1/(1 + E + exp(2))]
    >>> sp.simplify(sum(alpha))
    1
    >>> list(exact_softmax(["0.5", 0.25]))
    [exp(1/4)/(1 + exp(1/4)), 1/(1 + exp(1/4))]
    """
    s = [exact_value(v, f"s[{i}]") for i, v in enumerate(vector_entries(s, "s"))]
    if not s:
        raise VecmixError("s is empty: softmax needs at least one score")
    for i, v in enumerate(s):
        if v.free_symbols:
            raise VecmixError(f"s[{i}] = {short_text(v)} has free symbols: the weights need numbers")
    check_policy(fully_masked)
    allowed = broadcast_mask(mask, (len(s),))
    e, total = _exponentials(s, allowed, fully_masked, row=0)
    return sp.Matrix([w / total for w in e])


def exact_scores(Q, K, *, scale=None):
    """Exact scores S = Q K^T * scale (n_q x n_k); scale defaults to 1/sqrt(d_k).

    >>> exact_scores([[1, 0]], [[1, 0], [0, 0], [-1, 0]], scale=1)
    Matrix([[1, 0, -1]])
    >>> exact_scores([[1, 1]], [[1, 0]])
    Matrix([[sqrt(2)/2]])
    """
    Q, K = as_exact(Q, "Q"), as_exact(K, "K")
    check_qk(Q.shape, K.shape)
    scale = 1 / sp.sqrt(Q.cols) if scale is None else _exact_scale(scale)
    return (Q * K.T) * scale  # (n_q, d_k) (d_k, n_k) -> (n_q, n_k)


def exact_attention(Q, K, V, *, mask=None, causal=False, scale=None, fully_masked="raise"):
    """Exact scaled dot-product attention: returns Z (n_q x d_v) and A (n_q x n_k).

    Q, K and V are matrices whose rows are the queries, keys and values (one query is
    ``[q]``); entries are read with :func:`exact_number`. ``scale`` defaults to
    1/sqrt(d_k) with d_k the number of columns of Q, and may be any finite exact real
    number (``1/sympy.sqrt(2)``); 0 gives uniform weights and a negative scale reverses the
    preference, as in :func:`vecmix.attention`. ``mask``, ``causal`` and ``fully_masked`` mean what
    they mean in :func:`vecmix.attention`.

    >>> Z, A = exact_attention([[1, 0]], [[1, 0], [0, 0], [-1, 0]], [[1, 0], [0, 1], [1, 1]], scale=1)
    >>> list(Z)
    [(1 + exp(2))/(1 + E + exp(2)), (1 + E)/(1 + E + exp(2))]
    """
    Q, K, V = as_exact(Q, "Q"), as_exact(K, "K"), as_exact(V, "V")
    check_qkv(Q.shape, K.shape, V.shape)
    check_policy(fully_masked)
    check_flag("causal", causal)
    S = exact_scores(Q, K, scale=scale)  # (n_q, n_k)
    allowed = broadcast_mask(mask, S.shape)
    if causal:
        allowed = allowed & np.tri(*S.shape, dtype=bool)  # (n_q, n_k), key j visible to query i iff j <= i
    A, Z = sp.zeros(*S.shape), sp.zeros(S.rows, V.cols)  # (n_q, n_k), (n_q, d_v)
    for t in range(S.rows):
        e, total = _exponentials(list(S.row(t)), allowed[t], fully_masked, row=t)
        A[t, :] = sp.Matrix([[w / total for w in e]])  # alpha_i = e_i / total
        # z = sum_i alpha_i v_i = (sum_i e_i v_i) / total: one fraction, no gcd work.
        Z[t, :] = sp.Matrix([[sp.Add(*(e[i] * V[i, c] for i in range(V.rows))) / total for c in range(V.cols)]])
    return Z, A


def to_numeric(M):
    """An exact matrix or expression evaluated to a float64 numpy array (or float).

    Each entry is evaluated to 50 digits first, so the float is the correctly rounded
    value of the exact one.

    >>> to_numeric(sp.Matrix([[sp.E, sp.Rational(1, 3)]]))
    array([[2.71828183, 0.33333333]])
    """
    if isinstance(M, sp.MatrixBase):
        _check_not_empty(M, "M")
        return np.array([_float(v, f"M{_at(M, k)}") for k, v in enumerate(M)], dtype=np.float64).reshape(M.shape)
    return _float(M, "M")


def _float(x, name):
    """The float nearest to the exact real number x, or a VecmixError naming it."""
    x = exact_value(x, name)
    if x.free_symbols:
        raise VecmixError(f"{name} = {short_text(x)} has free symbols: it has no numeric value")
    value = x.evalf(_DIGITS)
    if not value.is_Number:
        raise VecmixError(f"{name} = {short_text(x)} cannot be evaluated to a number")
    result = float(value)
    if not np.isfinite(result):
        raise VecmixError(f"{name} = {short_text(x)} is beyond the float range")
    return result


def _exponentials(s, allowed, fully_masked, row):
    """(e, total): e_i = exp(s_i - s_min) over the allowed entries (0 elsewhere) and their sum.

    A row with no allowed entry gets the fill that ``fully_masked`` names, over 1.
    """
    visible = [v for v, ok in zip(s, allowed) if ok]
    if not visible:
        if fully_masked == "raise":
            raise fully_masked_error([(row,)])
        return [sp.Integer(0) if fully_masked == "zeros" else sp.nan] * len(s), sp.Integer(1)
    s_min = min(visible, key=lambda v: v.evalf(_DIGITS)) if len(visible) > 1 else visible[0]
    e = [sp.exp(v - s_min) if ok else sp.Integer(0) for v, ok in zip(s, allowed)]
    return e, sp.Add(*e)


def _exact_scale(scale):
    """A finite, exact, real scale factor (rational, or an exact real like 1/sqrt(2)); any sign."""
    value = exact_value(scale, "scale")
    if value.free_symbols:
        raise VecmixError(f"scale = {short_text(value)} must be a finite real number, not an expression in symbols")
    return value


def vector_entries(x, name):
    """The entries of a vector given as a list, tuple, 1-D array or column matrix (never a string)."""
    if isinstance(x, sp.MatrixBase):
        if 1 not in x.shape:
            raise VecmixError(f"{name} has shape {x.shape}: expected a vector")
        return list(x)
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise VecmixError(f"{name} has shape {x.shape}: expected a vector")
        return _unpacked(x)
    if not isinstance(x, (list, tuple)):
        raise VecmixError(f"{name} = {short_text(x)} ({type(x).__name__}) is not a vector: expected a list of numbers")
    return list(x)


def short_text(x, limit=80):
    """x as text for an error message, cut to ``limit`` characters (numbers too long to print are described).

    >>> short_text(sp.Integer(10)**5000)
    '<an exact number too long to print>'
    """
    if not isinstance(x, sp.Basic):
        return safe_repr(x, limit)
    try:
        text = sp.sstr(x)
    except ValueError:  # an integer of more than 4300 digits
        return "<an exact number too long to print>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _at(M, k):
    """'[i][j]' for the k-th entry of M in row-major order."""
    return f"[{k // M.cols}][{k % M.cols}]"
