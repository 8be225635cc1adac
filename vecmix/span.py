"""Exact span questions about value vectors: which coefficients c give V^T c = z?

V is a matrix whose rows are the value vectors v_1..v_m in R^d, so V^T c = sum_i c_i v_i.
The elimination runs once, over the rationals (SymPy's ``DomainMatrix`` over QQ, never
``Matrix.rank()``), on [V^T | I]. It yields everything at once:

* the rank of the values and their dependencies (the null space of V^T),
* a rational basis of the orthogonal complement of their span (n with V n = 0),
* a rational map P that turns any right-hand side z into the pivot coordinates.

A target z may hold exact expressions such as softmax outputs with ``E``: z lies in the
span exactly when n . z = 0 for every complement vector n, and no symbolic elimination
with ``E`` is ever needed.
"""

from dataclasses import dataclass

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from .errors import VecmixError
from .exact import as_exact, exact_number, is_zero, one_fraction

__all__ = ["Elimination", "SolutionSet", "eliminate", "in_span", "null_space", "solution_set"]


@dataclass(frozen=True)
class Elimination:
    """The result of eliminating [V^T | I] for values V (m x d), over the rationals.

    ``rank``: the dimension of the span; ``pivots``: the value indices of a basis;
    ``null_space``: columns c (m x 1) with V^T c = 0, a basis of the dependencies;
    ``complement``: columns n (d x 1) with V n = 0, a basis of the span's orthogonal
    complement; ``transform``: P (d x d, rational, invertible) with P V^T in reduced
    row echelon form.
    """

    V: sp.Matrix
    rank: int
    pivots: tuple
    null_space: tuple
    complement: tuple
    transform: sp.Matrix

    def parametrize(self, z):
        """(conditions, c): V^T c = z holds exactly when every condition is 0, and then for this c.

        Nothing is decided here, so z may hold symbols: the conditions are the equations of
        the span, and c is the solution with every free coefficient 0.

        >>> x, y, w = sp.symbols("x y w")
        >>> conditions, c = eliminate([[1, 0, 0], [0, 1, 0], [1, 1, 0]]).parametrize(sp.Matrix([x, y, w]))
        >>> conditions, c.T
        ([w], Matrix([[x, y, 0]]))
        """
        m, d = self.V.shape
        z = _column(z, "z")
        if z.shape != (d, 1):
            raise VecmixError(f"z has shape {z.shape}, but the values live in R^{d}: expected ({d}, 1)")
        w = (self.transform * z).applyfunc(one_fraction)  # (d, d) (d, 1) -> (d, 1)
        c = sp.zeros(m, 1)
        for i, p in enumerate(self.pivots):
            c[p] = w[i]
        return [w[i] for i in range(self.rank, d)], c


@dataclass(frozen=True)
class SolutionSet:
    """All coefficient vectors c with V^T c = z: ``particular + span(directions)``.

    ``particular`` is None when no c exists (z is outside the span of the values).
    """

    V: sp.Matrix
    z: sp.Matrix
    particular: sp.Matrix | None
    directions: tuple

    @property
    def consistent(self):
        """True when at least one coefficient vector reaches z."""
        return self.particular is not None

    @property
    def dimension(self):
        """The dimension of the solution set (a point 0, a line 1, ...); -1 when empty.

        >>> solution_set([[1, 0], [0, 1], [1, 1]], [1, 1]).dimension, solution_set([[1, 0]], [0, 1]).dimension
        (1, -1)
        """
        return len(self.directions) if self.consistent else -1

    def contains(self, c):
        """Exactly whether V^T c = z for the column c (entries may hold ``E``).

        >>> S = solution_set([[1, 0], [0, 1], [1, 1]], [1, 1])
        >>> S.contains(sp.Matrix([1, 1, 0])), S.contains(sp.Matrix([0, 0, 1])), S.contains(sp.Matrix([1, 0, 0]))
        (True, True, False)
        """
        c = _column(c, "c")
        if c.shape != (self.V.rows, 1):
            raise VecmixError(f"c has shape {c.shape}, expected ({self.V.rows}, 1): one coefficient per value")
        return all(is_zero(x) for x in self.V.T * c - self.z)  # (d, m) (m, 1) -> (d, 1)


def eliminate(V):
    """Eliminate [V^T | I] once over the rationals; see :class:`Elimination`.

    >>> E = eliminate([[1, 0], [0, 1], [1, 1]])
    >>> E.rank, E.pivots, [list(c) for c in E.null_space], E.complement
    (2, (0, 1), [[-1, -1, 1]], ())
    """
    V = as_exact(V, "V")
    m, d = V.shape
    augmented = DomainMatrix.from_Matrix(V.T.row_join(sp.eye(d))).convert_to(sp.QQ)  # (d, m + d)
    reduced, pivots = augmented.rref()
    pivots = tuple(p for p in pivots if p < m)
    r = len(pivots)
    R = reduced.to_Matrix()  # (d, m + d) = [P V^T | P]
    P = R[:, m:]  # (d, d)
    null = []
    for f in (j for j in range(m) if j not in pivots):
        c = sp.zeros(m, 1)
        c[f] = 1
        for i, p in enumerate(pivots):
            c[p] = -R[i, f]
        null.append(c)
    complement = tuple(P[i, :].T for i in range(r, d))  # rows of P that V^T sends to zero
    return Elimination(V, r, pivots, tuple(null), complement, P)


def solution_set(V, z, elimination=None):
    """Every coefficient vector c with V^T c = z, exactly.

    z may hold exact expressions (softmax outputs with ``E``). Pass an
    :class:`Elimination` of V to reuse it across many targets.

    Three values in R^2 are dependent, so the coefficients reaching a point form a line:

    >>> S = solution_set([[1, 0], [0, 1], [1, 1]], [1, 2])
    >>> S.particular.T, [d.T for d in S.directions]
    (Matrix([[1, 2, 0]]), [Matrix([[-1, -1, 1]])])
    >>> solution_set([[1, 0, 0], [0, 1, 0]], [0, 0, 1]).consistent
    False
    """
    E = elimination or eliminate(V)
    conditions, c = E.parametrize(z)
    z = _column(z, "z")
    if not all(is_zero(x) for x in conditions):
        return SolutionSet(E.V, z, None, E.null_space)
    return SolutionSet(E.V, z, c, E.null_space)


def in_span(V, z, elimination=None):
    """Exactly whether z lies in the span of the rows of V: n . z = 0 for every n in the complement.

    >>> in_span([[1, 0, 0], [0, 1, 0]], [sp.E, 1, 0]), in_span([[1, 0, 0], [0, 1, 0]], [0, 0, 1])
    (True, False)
    """
    E = elimination or eliminate(V)
    z = _column(z, "z")
    if z.shape != (E.V.cols, 1):
        raise VecmixError(f"z has shape {z.shape}, but the values live in R^{E.V.cols}: expected ({E.V.cols}, 1)")
    return all(is_zero((n.T * z)[0]) for n in E.complement)  # (1, d) (d, 1) -> (1, 1)


def null_space(V):
    """A basis of all c with V^T c = 0: the ways the values v_i cancel out.

    >>> [c.T for c in null_space([[1, 0], [0, 1], [1, 1]])]
    [Matrix([[-1, -1, 1]])]
    """
    return eliminate(V).null_space


def _column(x, name):
    """A column of exact entries: SymPy expressions are kept, anything else is read as a number."""
    entries = list(x) if not isinstance(x, sp.MatrixBase) else list(x)
    if isinstance(x, sp.MatrixBase) and x.cols != 1:
        raise VecmixError(f"{name} has shape {x.shape}, expected a column vector")
    return sp.Matrix([v if isinstance(v, sp.Basic) else exact_number(v, f"{name}[{i}]") for i, v in enumerate(entries)])
