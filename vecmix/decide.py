"""Exact decisions about exact real numbers: the sign, zero, >= 0, equality.

One procedure decides them all, and every exact test in vecmix (span, hull, equality,
grading) goes through it:

1. a rational number, or a sum/product of positive numbers and exponentials, is read off;
2. certified numerics: the expression is evaluated in ball arithmetic (Arb, through
   python-flint; mpmath's interval arithmetic without it), where every operation returns an
   interval proved to contain the true value. An interval that excludes 0 proves the sign;
3. exact simplification: each exponential becomes a power of an independent symbol
   (and sin, cos, tan are first written with exponentials), and the numerator is expanded
   as a polynomial. If it vanishes, the expression is zero for every value of those
   symbols, so it is zero;
4. otherwise the precision is raised, up to :data:`MAX_BITS`, until an interval excludes 0.

An expression that stays within 2^-MAX_BITS (relative) of zero and that no
simplification shows to be zero is refused by name rather than guessed.
"""

import math

import mpmath
import sympy as sp

from .errors import VecmixError
from .exact import exact_value, short_text

try:
    import flint
except ImportError:  # mpmath's interval arithmetic instead (slower, the same guarantees)
    flint = None

__all__ = ["exact_equal", "exact_sign", "is_nonnegative", "is_zero", "one_fraction"]

START_BITS = 64  # the first precision tried; most signs are decided here
MAX_BITS = 4096  # the precision at which an undecided expression is refused
_MAX_POWER = 10_000  # past this, exponentials are not rewritten as powers of a common symbol
_TRIG = (sp.sin, sp.cos, sp.tan)


def exact_sign(expr, name="expr"):
    """The sign of an exact real expression: -1, 0 or 1, proved, or a VecmixError.

    >>> exact_sign(sp.E - sp.Rational(2718, 1000)), exact_sign(sp.exp(-300)), exact_sign(-sp.exp(-300))
    (1, 1, -1)
    >>> a = sp.exp(sp.Rational(1, 100003))  # terms of about 1e130 that cancel exactly
    >>> exact_sign(sp.exp(300) * (1 + a)**2 - sp.exp(300) * (1 + 2*a + a**2))
    0
    >>> exact_sign(sp.sin(1)**2 + sp.cos(1)**2 - 1)
    0
    """
    expr = exact_value(expr, name)
    if expr.free_symbols:
        raise VecmixError(f"{name} = {short_text(expr)} has free symbols {_names(expr)}: its sign depends on them")
    if expr.is_Rational:
        return int(sp.sign(expr))
    if _positive_by_structure(expr):
        return 1
    sign = _certified_sign(expr, START_BITS)
    if sign is not None:
        return sign
    if _formally_zero(expr):
        return 0
    bits = 2 * START_BITS
    while bits <= MAX_BITS:
        sign = _certified_sign(expr, bits)
        if sign is not None:
            return sign
        bits *= 2
    raise VecmixError(
        f"cannot decide whether {short_text(expr)} is zero: it stays within 2^-{MAX_BITS} of zero in interval "
        "arithmetic and no exact simplification shows that it is zero"
    )


def is_zero(expr, name="expr"):
    """Exactly whether an exact expression is zero (see :func:`exact_sign`).

    With free symbols, whether it is zero for every value of them: a formal zero is, and a
    value that is nonzero at some rational point is not.

    >>> is_zero(sp.exp(2) / (1 + sp.E + sp.exp(2)) + (1 + sp.E) / (1 + sp.E + sp.exp(2)) - 1)
    True
    >>> is_zero(sp.E - sp.Rational(2718, 1000)), is_zero(sp.exp(-300))
    (False, False)
    >>> x = sp.Symbol("x")
    >>> is_zero((x + 1)**2 - x**2 - 2*x - 1), is_zero(x / 10**30)
    (True, False)
    """
    expr = exact_value(expr, name)
    if not expr.free_symbols:
        return exact_sign(expr, name) == 0
    if _formally_zero(expr):
        return True
    symbols = sorted(expr.free_symbols, key=sp.default_sort_key)
    for k in range(1, 4):  # distinct small rationals: a nonzero value at any point proves "not identically zero"
        point = {x: sp.Rational(k * (i + 2) + 1, 7 * k + i + 3) for i, x in enumerate(symbols)}
        try:
            if exact_sign(expr.xreplace(point), name) != 0:
                return False
        except (VecmixError, ZeroDivisionError):
            continue  # a pole or an undecided value at this point: try the next one
    raise VecmixError(f"cannot decide whether {name} = {short_text(expr)} is zero for every value of {_names(expr)}")


def is_nonnegative(expr, name="expr"):
    """Exactly whether an exact real expression is >= 0 (see :func:`exact_sign`).

    >>> is_nonnegative(sp.E / (1 + sp.E)), is_nonnegative(1 - sp.E), is_nonnegative(sp.Integer(0))
    (True, False, True)
    >>> is_nonnegative(-sp.exp(-100))
    False
    """
    return exact_sign(expr, name) >= 0


def exact_equal(x, y):
    """Exactly whether two vectors, matrices or expressions are equal, entry by entry.

    >>> exact_equal(sp.Matrix([sp.E / (1 + sp.E), 1]), [1 - 1 / (1 + sp.E), "1"])
    True
    >>> exact_equal([1, 2], [1, 2, 3])
    False
    """
    xs, ys = _entries(x, "x"), _entries(y, "y")
    if isinstance(x, sp.MatrixBase) and isinstance(y, sp.MatrixBase) and x.shape != y.shape:
        return False
    if len(xs) != len(ys):
        return False
    return all(is_zero(a - b, "x - y") for a, b in zip(xs, ys))


def one_fraction(expr):
    """expr as one fraction: terms over the same denominator are added, the numerator expanded.

    Softmax weights share one denominator, so their sums need no gcd computations
    (``sympy.together`` spends most of its time on those).

    >>> D = 1 + sp.E + sp.exp(2)
    >>> one_fraction(sp.exp(2) / D + 1 / D)
    (1 + exp(2))/(1 + E + exp(2))
    """
    formal, back = _formal(exact_value(expr, "expr"))
    return sp.cancel(formal).xreplace(back)


def _entries(x, name):
    """The exact entries of a vector, matrix, list or single expression."""
    if isinstance(x, (str, bytes)):
        raise VecmixError(f"{name} = {x!r} is text: expected an exact number, vector or matrix")
    items = list(x) if isinstance(x, (sp.MatrixBase, list, tuple)) else [x]
    return [exact_value(v, f"{name}[{i}]") for i, v in enumerate(items)]


def _positive_by_structure(expr):
    """True when expr is built from positive numbers, exponentials, sums, products and real powers."""
    if expr.is_Number:
        return expr > 0
    if expr is sp.E or expr is sp.pi or isinstance(expr, sp.exp):
        return True
    if isinstance(expr, (sp.Add, sp.Mul)):
        return all(_positive_by_structure(a) for a in expr.args)
    if isinstance(expr, sp.Pow):
        return _positive_by_structure(expr.base) and expr.exp.is_real is True
    return False


def _formally_zero(expr):
    """True when expr is zero as a rational function of its exponentials (and of its trig functions' exponentials)."""
    candidates = [expr]
    if expr.has(*_TRIG):
        candidates.append(expr.rewrite(sp.exp))  # sin x = (e^(ix) - e^(-ix)) / 2i, and so on
    for candidate in candidates:
        formal, _ = _formal(candidate)
        if sp.expand(formal.as_numer_denom()[0]) == 0:
            return True
    return False


def _formal(expr):
    """expr with its exponentials written as powers of independent symbols, and the map back.

    Each exponent is a rational combination of basis terms (1, sqrt(2), I, ...). One symbol
    t_b = exp(b / L_b) stands for each basis term b, with L_b the common denominator of its
    coefficients, so that exp(a) becomes a product of integer powers of the t_b. Identities
    between exponentials (exp(1/2) = exp(1/4)^2, exp(-a) exp(a) = 1) become identities between
    rational functions; an identity between independent symbols holds for any of their values,
    so a formal zero is a zero. Where those powers would be too high (exp(300) beside
    exp(1/100003)), each exponent is split into its integer part, a power of u_b = exp(b), and
    its fraction, a power of t_b. An exponential whose exponent is not such a combination, or
    whose powers are still too high, becomes a symbol of its own.
    """
    atoms = sorted(expr.atoms(sp.exp, type(sp.E)), key=sp.default_sort_key)
    exponents, opaque = {}, []
    for atom in atoms:
        terms = sp.expand(1 if atom is sp.E else atom.args[0]).as_coefficients_dict()
        if all(c.is_Rational and abs(c) <= _MAX_POWER for c in terms.values()):
            exponents[atom] = terms
        else:  # a huge exponent (1e308) stays one opaque symbol: no polynomial of that degree is ever built
            opaque.append(atom)
    forward, back = _powers(exponents, split=False) or _powers(exponents, split=True) or ({}, {})
    opaque += [atom for atom in exponents if atom not in forward]
    forward.update({atom: sp.Dummy(f"x{i}") for i, atom in enumerate(opaque)})
    back.update({forward[atom]: atom for atom in opaque})
    return expr.xreplace(forward), back


def _powers(exponents, split):
    """({exp atom: product of powers of symbols}, {symbol: exp}) for :func:`_formal`, or None if a power is too high."""
    parts = {atom: {b: (math.floor(c), c - math.floor(c)) if split else (0, c) for b, c in terms.items()}
             for atom, terms in exponents.items()}
    bases = sorted({b for terms in parts.values() for b in terms}, key=sp.default_sort_key)
    lcm = {b: math.lcm(*[int(f.q) for terms in parts.values() for c, (_, f) in terms.items() if c == b])
           for b in bases}
    powers = {atom: {b: (int(n), int(f * lcm[b])) for b, (n, f) in terms.items()} for atom, terms in parts.items()}
    if any(abs(k) > _MAX_POWER for terms in powers.values() for pair in terms.values() for k in pair):
        return None
    whole = {b: sp.Dummy(f"u{i}") for i, b in enumerate(bases)}
    fine = {b: sp.Dummy(f"t{i}") for i, b in enumerate(bases)}
    forward = {atom: sp.Mul(*(whole[b] ** n * fine[b] ** k for b, (n, k) in terms.items()))
               for atom, terms in powers.items()}
    back = {fine[b]: sp.exp(b / lcm[b]) for b in bases}
    back.update({whole[b]: sp.exp(b) for b in bases})
    return forward, back


def _certified_sign(expr, bits):
    """The sign of expr if an interval enclosing it at this precision excludes 0, else None."""
    try:
        with _OPS["precision"](bits):
            return _OPS["sign"](_enclose(expr, _OPS))
    except _Unsupported as exc:
        raise VecmixError(f"cannot decide the sign of {short_text(expr)}: {exc} has no certified evaluation") from None
    except (ValueError, ZeroDivisionError, OverflowError):
        return None  # an interval that holds 0 in a denominator, or a domain edge: more precision may settle it


class _Unsupported(Exception):
    """A part of an expression that the interval arithmetic cannot evaluate."""


def _enclose(e, ops):
    """An interval (of the kind ``ops`` makes) proved to contain the value of the SymPy expression e."""
    if e.is_Rational or e.is_Float:
        r = sp.Rational(e)  # a Float: the exact binary value it holds
        return ops["rational"](int(r.p), int(r.q))
    if e is sp.E:
        return ops["exp"](ops["rational"](1, 1))
    if e is sp.pi:
        return ops["pi"]()
    if isinstance(e, (sp.Add, sp.Mul)):
        parts = [_enclose(a, ops) for a in e.args]
        total = parts[0]
        for x in parts[1:]:
            total = total + x if isinstance(e, sp.Add) else total * x
        return total
    if isinstance(e, sp.Pow):
        base = _enclose(e.base, ops)
        if e.exp.is_Integer:
            power = base ** abs(int(e.exp))
            return ops["rational"](1, 1) / power if e.exp < 0 else power
        if e.exp == sp.Rational(1, 2):
            return ops["sqrt"](base)
        return ops["exp"](ops["log"](base) * _enclose(e.exp, ops))
    name = type(e).__name__
    if name in _FUNCTIONS and name in ops and len(e.args) == 1:
        return ops[name](_enclose(e.args[0], ops))
    raise _Unsupported(name)


_FUNCTIONS = ("exp", "log", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "Abs")


def _arb_sign(x):
    """The sign of an Arb ball, or None when it holds 0 (or is not finite)."""
    if not x.is_finite():
        return None
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0 if x.is_exact() and x.is_zero() else None


class _precision:
    """A working precision, in bits, held by ``owner.<attribute>`` for the duration of a block."""

    def __init__(self, owner, attribute, bits):
        self.owner, self.attribute, self.bits = owner, attribute, bits

    def __enter__(self):
        self.saved = getattr(self.owner, self.attribute)
        setattr(self.owner, self.attribute, self.bits)

    def __exit__(self, *exc):
        setattr(self.owner, self.attribute, self.saved)


def _interval_sign(x):
    """The sign of an mpmath interval, or None when it holds 0 (or is not finite)."""
    if any(mpmath.isnan(v) or mpmath.isinf(v) for v in (x.a, x.b)):
        return None
    if x.a > 0:
        return 1
    if x.b < 0:
        return -1
    return 0 if x.a == 0 and x.b == 0 else None


if flint is not None:  # the interval arithmetic, chosen once: Arb, or mpmath's intervals without python-flint
    _OPS = {"precision": lambda bits: _precision(flint.ctx, "prec", bits), "sign": _arb_sign,
            "rational": lambda p, q: flint.arb(flint.fmpq(p, q)), "pi": flint.arb.pi, "exp": flint.arb.exp,
            "log": flint.arb.log, "sqrt": flint.arb.sqrt, "sin": flint.arb.sin, "cos": flint.arb.cos,
            "tan": flint.arb.tan, "atan": flint.arb.atan, "sinh": flint.arb.sinh, "cosh": flint.arb.cosh,
            "tanh": flint.arb.tanh, "Abs": abs}
else:
    iv = mpmath.iv
    _OPS = {"precision": lambda bits: _precision(iv, "prec", bits), "sign": _interval_sign,
            "rational": lambda p, q: iv.mpf(p) / iv.mpf(q), "pi": lambda: iv.pi, "exp": iv.exp, "log": iv.log,
            "sqrt": iv.sqrt, "sin": iv.sin, "cos": iv.cos, "tan": iv.tan, "Abs": abs}


def _names(expr):
    return ", ".join(sorted(str(s) for s in expr.free_symbols))
