"""Exact twins of the numeric path, in SymPy: numbers, scores, softmax weights, outputs.

Vectors are SymPy column matrices (q, alpha and z are columns, as in z = V^T alpha);
collections of vectors are matrices whose rows are the vectors (K has rows k_i, V has
rows v_i). Decimals become the exact numbers they spell: 0.2 is 1/5, never the binary
float nearest to it.
"""

import math
import re
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import sympy as sp

from ._checks import broadcast_mask, check_policy, check_qk, check_qkv, fully_masked_error
from .errors import VecmixError

__all__ = [
    "as_exact",
    "exact_attention",
    "exact_equal",
    "exact_number",
    "exact_scores",
    "exact_softmax",
    "is_nonnegative",
    "is_zero",
    "one_fraction",
    "rational_rows",
    "to_numeric",
]

_DECIMAL = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE](?P<exp>[+-]?\d+))?(\s*/\s*[+-]?\d+)?\s*$")
_MAX_EXPONENT = 400  # a decimal exponent beyond this is a typo, not a number to expand
_DIGITS = 50  # working precision when an exact value is evaluated or compared numerically
_MAX_POWER = 10_000  # past this, exponentials are not rewritten as powers of a common symbol


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
    if isinstance(x, np.floating):
        x = str(x)  # numpy prints the shortest decimal that round-trips in its own precision
    elif isinstance(x, Real) and not isinstance(x, sp.Basic):
        x = repr(float(x))
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
        return [[_pair(v, name, i, j) for j, v in enumerate(row)] for i, row in enumerate(x.tolist())]
    rows = x.tolist() if isinstance(x, np.ndarray) else x
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
        return [[(v.numerator, v.denominator) if type(v) in _PLAIN else _pair(v, name, i, j) for j, v in enumerate(r)]
                for i, r in enumerate(rows)]
    if any(isinstance(r, (list, tuple)) for r in rows):
        raise VecmixError(f"{name} mixes numbers and lists: expected a list of numbers or a list of vectors")
    return [[_pair(v, name, i)] for i, v in enumerate(rows)]


_PLAIN = (int, Fraction)  # read as (numerator, denominator) directly; bool is not among them


def _pair(v, name, *index):
    """(p, q) with q > 0 for the exact rational v at ``name[index]``."""
    r = exact_number(v, name + "".join(f"[{i}]" for i in index))
    return int(r.p), int(r.q)


def exact_softmax(s, *, mask=None, fully_masked="raise"):
    """Exact softmax weights of exact scores, as a column vector.

    Each weight is written e^(s_i - s_min) / sum_j e^(s_j - s_min), the same number as
    e^(s_i) / sum_j e^(s_j) with the smallest exponent zero. Masked entries (mask
    False) get exactly 0.

    >>> alpha = exact_softmax([1, 0, -1])
    >>> list(alpha)
    [exp(2)/(1 + E + exp(2)), E/(1 + E + exp(2)), 1/(1 + E + exp(2))]
    >>> sp.simplify(sum(alpha))
    1
    """
    s = list(s)
    if not s:
        raise VecmixError("s is empty: softmax needs at least one score")
    check_policy(fully_masked)
    allowed = broadcast_mask(mask, (len(s),))
    e, total = _exponentials([sp.sympify(v) for v in s], allowed, fully_masked, row=0)
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
    1/sqrt(d_k) with d_k the number of columns of Q, and may be any positive exact
    number (``1/sympy.sqrt(2)``). ``mask``, ``causal`` and ``fully_masked`` mean what
    they mean in :func:`vecmix.attention`.

    >>> Z, A = exact_attention([[1, 0]], [[1, 0], [0, 0], [-1, 0]], [[1, 0], [0, 1], [1, 1]], scale=1)
    >>> list(Z)
    [(1 + exp(2))/(1 + E + exp(2)), (1 + E)/(1 + E + exp(2))]
    """
    Q, K, V = as_exact(Q, "Q"), as_exact(K, "K"), as_exact(V, "V")
    check_qkv(Q.shape, K.shape, V.shape)
    check_policy(fully_masked)
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


def one_fraction(expr):
    """expr as one fraction: terms over the same denominator are added, the numerator expanded.

    Softmax weights share one denominator, so their sums need no gcd computations
    (``sympy.together`` spends most of its time on those).

    >>> D = 1 + sp.E + sp.exp(2)
    >>> one_fraction(sp.exp(2) / D + 1 / D)
    (1 + exp(2))/(1 + E + exp(2))
    """
    formal, back = _formal(expr)
    return sp.cancel(formal).xreplace(back)


def is_zero(expr):
    """Decide exactly whether an exact expression is zero.

    Each ``E`` and ``exp(...)`` is replaced by an independent symbol and the result is
    cancelled as a rational function: a formal zero is a zero. Otherwise the expression
    is evaluated to 50 digits; a value still indistinguishable from zero is refused
    rather than guessed.

    >>> is_zero(sp.exp(2) / (1 + sp.E + sp.exp(2)) + (1 + sp.E) / (1 + sp.E + sp.exp(2)) - 1)
    True
    >>> is_zero(sp.E - sp.Rational(2718, 1000))
    False
    """
    expr = sp.sympify(expr)
    if expr.is_Number:
        return expr == 0
    formal, _ = _formal(expr)
    if sp.expand(formal.as_numer_denom()[0]) == 0:
        return True
    value = expr.evalf(_DIGITS)
    if value.is_Number and abs(value) > sp.Float(10) ** (10 - _DIGITS):
        return False
    raise VecmixError(f"cannot decide exactly whether {sp.sstr(expr)} is zero")


def exact_equal(x, y):
    """Exactly whether two vectors, matrices or expressions are equal, entry by entry.

    >>> exact_equal(sp.Matrix([sp.E / (1 + sp.E), 1]), [1 - 1 / (1 + sp.E), "1"])
    True
    >>> exact_equal([1, 2], [1, 2, 3])
    False
    """
    xs = list(x) if isinstance(x, (sp.MatrixBase, list, tuple)) else [x]
    ys = list(y) if isinstance(y, (sp.MatrixBase, list, tuple)) else [y]
    if isinstance(x, sp.MatrixBase) and isinstance(y, sp.MatrixBase) and x.shape != y.shape:
        return False
    if len(xs) != len(ys):
        return False
    read = lambda v: v if isinstance(v, sp.Basic) else exact_number(v)  # noqa: E731
    return all(is_zero(read(a) - read(b)) for a, b in zip(xs, ys))


def is_nonnegative(expr):
    """Decide exactly whether an exact real expression is >= 0.

    Sums, products and quotients of positive rationals and exponentials are positive by
    their structure; anything else is decided by its sign at 50 digits, or by
    :func:`is_zero` when that sign is too small to trust.

    >>> is_nonnegative(sp.E / (1 + sp.E)), is_nonnegative(1 - sp.E), is_nonnegative(sp.Integer(0))
    (True, False, True)
    """
    expr = sp.sympify(expr)
    if expr.is_Number:
        return bool(expr >= 0)
    if _positive_by_structure(expr):
        return True
    value = expr.evalf(_DIGITS)
    if value.is_Number and abs(value) > sp.Float(10) ** (10 - _DIGITS):
        return bool(value > 0)
    return is_zero(expr)


def _positive_by_structure(expr):
    """True when expr is built from positive numbers, exponentials, sums, products and powers."""
    if expr.is_Number:
        return expr > 0
    if expr is sp.E or isinstance(expr, sp.exp):
        return True
    if isinstance(expr, (sp.Add, sp.Mul)):
        return all(_positive_by_structure(a) for a in expr.args)
    if isinstance(expr, sp.Pow):
        return _positive_by_structure(expr.base) and expr.exp.is_real is True
    return False


def to_numeric(M):
    """An exact matrix or expression evaluated to a float64 numpy array (or float).

    Each entry is evaluated to 50 digits first, so the float is the correctly rounded
    value of the exact one.

    >>> to_numeric(sp.Matrix([[sp.E, sp.Rational(1, 3)]]))
    array([[2.71828183, 0.33333333]])
    """
    if isinstance(M, sp.MatrixBase):
        return np.array([float(v.evalf(_DIGITS)) for v in M], dtype=np.float64).reshape(M.shape)
    return float(sp.sympify(M).evalf(_DIGITS))


def _formal(expr):
    """expr with its exponentials written as powers of independent symbols, and the map back.

    Each exponent is a rational combination of basis terms (1, sqrt(2), ...). One symbol
    t_b = exp(b / L_b) stands for each basis term b, with L_b the common denominator of its
    coefficients, so that exp(a) becomes a product of integer powers of the t_b. Identities
    between exponentials (exp(1/2) = exp(1/4)^2, exp(-a) exp(a) = 1) become identities between
    rational functions, and rational-function arithmetic on the formal copy is exact (it holds
    for any values of the symbols) while skipping SymPy's assumption queries. An exponential
    whose exponent is not such a combination becomes a symbol of its own.
    """
    expr = sp.sympify(expr)
    atoms = sorted(expr.atoms(sp.exp, type(sp.E)), key=sp.default_sort_key)
    parts, opaque = {}, []
    for atom in atoms:
        terms = sp.sympify(1 if atom is sp.E else atom.args[0]).as_coefficients_dict()
        if all(c.is_Rational and abs(c.p) <= _MAX_POWER and c.q <= _MAX_POWER for c in terms.values()):
            parts[atom] = terms
        else:  # a huge exponent (1e308) stays one opaque symbol: no polynomial of that degree is ever built
            opaque.append(atom)
    bases = sorted({b for terms in parts.values() for b in terms}, key=sp.default_sort_key)
    lcm = {b: math.lcm(*[int(terms[b].q) for terms in parts.values() if b in terms]) for b in bases}
    symbol = {b: sp.Dummy(f"t{i}") for i, b in enumerate(bases)}
    forward = {atom: sp.Mul(*(symbol[b] ** int(c * lcm[b]) for b, c in terms.items())) for atom, terms in parts.items()}
    if any(abs(int(c * lcm[b])) > _MAX_POWER for terms in parts.values() for b, c in terms.items()):
        return _formal_opaque(expr, atoms)
    forward.update({atom: sp.Dummy(f"x{i}") for i, atom in enumerate(opaque)})
    back = {symbol[b]: sp.exp(b / lcm[b]) for b in bases}
    back.update({forward[atom]: atom for atom in opaque})
    return expr.xreplace(forward), back


def _formal_opaque(expr, atoms):
    """The fallback formal copy: every exponential its own symbol."""
    forward = {atom: sp.Dummy(f"x{i}") for i, atom in enumerate(atoms)}
    return expr.xreplace(forward), {v: k for k, v in forward.items()}


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
    """A positive, finite, exact scale factor (rational, or an exact real like 1/sqrt(2))."""
    value = scale if isinstance(scale, sp.Basic) else exact_number(scale, "scale")
    if value.free_symbols or not value.is_real or not value.is_finite:
        raise VecmixError(f"scale = {scale!r} must be a finite real number")
    return value


def _at(M, k):
    """'[i][j]' for the k-th entry of M in row-major order."""
    return f"[{k // M.cols}][{k % M.cols}]"
