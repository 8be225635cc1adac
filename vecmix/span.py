"""Exact span questions about value vectors: which coefficients c give V^T c = z?

V is a matrix whose rows are the value vectors v_1..v_m in R^d, so V^T c = sum_i c_i v_i.
Each value is scaled to integers (v_i times the lcm of its denominators: the span is
unchanged, and coefficients scale back), and two fraction-free eliminations run over the
integers (python-flint where installed, SymPy's ``DomainMatrix`` otherwise; never
``Matrix.rank()``):

* the reduced form of V^T: the rank, a basis among the values, their dependencies
  (the null space of V^T);
* the reduced form of V: a rational basis n_1..n_k of the orthogonal complement of the
  span (V n = 0), and the coordinates where a basis of the values is invertible.

A target z may hold exact expressions such as softmax outputs with ``E``: z lies in the
span exactly when n . z = 0 for every complement vector n, so no symbolic elimination with
``E`` is ever needed. A rational z is decided in integers, and its coefficients solve the
basis values on the coordinates where they are invertible (r x r, in C with flint).
"""

import math
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from . import _linalg
from .errors import VecmixError
from .decide import is_zero, one_fraction
from .exact import vector_entries, exact_value, rational_rows

__all__ = ["Elimination", "SolutionSet", "eliminate", "in_span", "null_space", "solution_set"]


@dataclass(frozen=True)
class Elimination:
    """What eliminating the values V (m x d) over the rationals tells about their span.

    ``rank``: the dimension of the span; ``pivots``: the value indices of a basis;
    ``null_space``: columns c (m x 1) with V^T c = 0, a basis of the dependencies, each with
    coefficient 1 on its own free value; ``complement``: columns n (d x 1) with V n = 0, a
    basis of the span's orthogonal complement, each with entry 1 on its own free coordinate.
    ``V`` is built as a SymPy matrix only when asked for.
    """

    rank: int
    pivots: tuple
    null_space: tuple
    complement: tuple
    shape: tuple  # (m, d)
    _rows: list = field(repr=False, compare=False)  # the values as rows of (p, q) pairs
    _ints: list = field(repr=False, compare=False)  # the values scaled to integers, (m, d)
    _scales: list = field(repr=False, compare=False)  # the scale of each value: _ints[i] = _scales[i] * v_i
    _coordinates: tuple = field(repr=False, compare=False)  # r coordinates where the basis values are invertible
    _normals: list = field(repr=False, compare=False)  # the complement as integer rows (den * n)

    @cached_property
    def V(self):
        """The values as a SymPy matrix (m x d), rows v_i."""
        return sp.Matrix([[sp.Rational(p, q) for p, q in row] for row in self._rows])

    def parametrize(self, z):
        """(conditions, c): V^T c = z holds exactly when every condition is 0, and then for this c.

        The conditions are n . z for the complement vectors n, and c is the solution with
        every free coefficient 0. Nothing is decided here, so z may hold symbols.

        >>> x, y, w = sp.symbols("x y w")
        >>> conditions, c = eliminate([[1, 0, 0], [0, 1, 0], [1, 1, 0]]).parametrize(sp.Matrix([x, y, w]))
        >>> conditions, c.T
        ([w], Matrix([[x, y, 0]]))
        """
        z = self._target(z)
        rational = all(v.is_Rational for v in z)
        conditions = self._conditions(z, rational)
        c = sp.zeros(self.shape[0], 1)
        if rational and any(conditions):
            return conditions, c  # z is outside the span: no c reaches it
        if not self.pivots:  # every value is zero: c = 0
            return conditions, c
        values = self._rational_coefficients(z) if rational else self._symbolic_coefficients(z)
        for p, value in zip(self.pivots, values):
            c[p] = value
        return conditions, c

    def _conditions(self, z, rational):
        """n . z for each complement vector n (in integers for a rational z)."""
        if not rational:
            return [(n.T * z)[0] for n in self.complement]  # (1, d) (d, 1) -> (1, 1)
        common = math.lcm(*(int(v.q) for v in z))
        z_int = [int(v.p) * (common // int(v.q)) for v in z]  # common * z, integers
        return [sp.Rational(sum(a * b for a, b in zip(normal, z_int) if a), common) for normal in self._normals]

    def _target(self, z):
        """z as a SymPy column with d entries."""
        d = self.shape[1]
        z = _column(z, "z")
        if z.shape != (d, 1):
            raise VecmixError(f"z has shape {z.shape}, but the values live in R^{d}: expected ({d}, 1)")
        return z

    def _rational_coefficients(self, z):
        """c at the pivots for a rational z in the span: the basis values solved on their coordinates, in C."""
        common = math.lcm(*(int(z[j].q) for j in self._coordinates))
        rhs = [int(z[j].p) * (common // int(z[j].q)) for j in self._coordinates]  # common * z on the coordinates
        B = [[self._ints[p][j] for p in self.pivots] for j in self._coordinates]  # (r, r), invertible
        return [sp.Rational(self._scales[p] * a, b * common) for p, (a, b) in zip(self.pivots, _linalg.solve(B, rhs))]

    def _symbolic_coefficients(self, z):
        """c at the pivots for any z in the span: the same solve, through B^-1 (rational, computed once)."""
        inverse = self._basis_inverse  # (r, r)
        z_basis = sp.Matrix([z[j] for j in self._coordinates])  # (r, 1)
        return [one_fraction(self._scales[p] * x) for p, x in zip(self.pivots, inverse * z_basis)]  # (r, r) (r, 1)

    @cached_property
    def _basis_inverse(self):
        """B^-1, B[j, i] = _ints[pivots[i]][coordinates[j]]: the scaled basis values on their coordinates (r x r)."""
        r = self.rank
        rows = [[self._ints[p][j] for p in self.pivots] + [int(k == t) for k in range(r)] for t, j in
                enumerate(self._coordinates)]  # [B | I], (r, 2r)
        entry, den, _ = _linalg.rref(_linalg.matrix(rows, 2 * r))  # [den I | den B^-1]
        return sp.Matrix(r, r, lambda i, j: sp.Rational(entry(i, r + j), den))


@dataclass(frozen=True)
class SolutionSet:
    """All coefficient vectors c with V^T c = z: ``particular + span(directions)``.

    ``particular`` is None when no c exists (z is outside the span of the values).
    """

    elimination: Elimination = field(repr=False)
    z: sp.Matrix
    particular: sp.Matrix | None
    directions: tuple

    @property
    def V(self):
        """The values (m x d), rows v_i."""
        return self.elimination.V

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
        m = self.elimination.shape[0]
        if c.shape != (m, 1):
            raise VecmixError(f"c has shape {c.shape}, expected ({m}, 1): one coefficient per value")
        return all(is_zero(x) for x in self.V.T * c - self.z)  # (d, m) (m, 1) -> (d, 1)


def eliminate(V):
    """Eliminate the values V (m x d) over the rationals; see :class:`Elimination`.

    >>> E = eliminate([[1, 0], [0, 1], [1, 1]])
    >>> E.rank, E.pivots, [list(c) for c in E.null_space], E.complement
    (2, (0, 1), [[-1, -1, 1]], ())
    >>> [list(n) for n in eliminate([[1, 2, 0], [2, 4, 0]]).complement]
    [[-2, 1, 0], [0, 0, 1]]
    """
    rows = rational_rows(V, "V")
    m, d = len(rows), len(rows[0])
    scales = [math.lcm(*(q for _, q in row)) for row in rows]
    ints = [[p * (s // q) for p, q in row] for row, s in zip(rows, scales)]  # (m, d), row i = scales[i] * v_i
    scaled = _linalg.matrix(ints, d)  # (m, d)
    entry, den, pivots = _linalg.rref(scaled.transpose())  # (d, m): V^T, scaled
    null = []
    for f in (j for j in range(m) if j not in set(pivots)):  # c_f = 1, c_p = -R[i, f] / den, scaled back
        c = [sp.Integer(0)] * m
        c[f] = sp.Integer(1)
        for i, p in enumerate(pivots):
            c[p] = sp.Rational(-entry(i, f) * scales[p], den * scales[f])
        null.append(sp.Matrix(c))
    entry, den, coordinates = _linalg.rref(scaled)  # (m, d): its null space is the complement
    normals = []
    for g in (j for j in range(d) if j not in set(coordinates)):  # n_g = 1, n_q = -R[i, g] / den
        normal = [0] * d
        normal[g] = den
        for i, q in enumerate(coordinates):
            normal[q] = -entry(i, g)
        normals.append(normal)
    complement = tuple(sp.Matrix([sp.Rational(x, den) for x in normal]) for normal in normals)
    return Elimination(len(pivots), pivots, tuple(null), complement, (m, d), rows, ints, scales, coordinates,
                       normals)


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
    conditions, c = E.parametrize(_numbers_only(z, "z"))
    z = _column(z, "z")
    if not all(is_zero(x) for x in conditions):
        return SolutionSet(E, z, None, E.null_space)
    return SolutionSet(E, z, c, E.null_space)


def in_span(V, z, elimination=None):
    """Exactly whether z lies in the span of the rows of V: n . z = 0 for every n in the complement.

    >>> in_span([[1, 0, 0], [0, 1, 0]], [sp.E, 1, 0]), in_span([[1, 0, 0], [0, 1, 0]], [0, 0, 1])
    (True, False)
    """
    E = elimination or eliminate(V)
    z = E._target(_numbers_only(z, "z"))
    return all(is_zero(x) for x in E._conditions(z, all(v.is_Rational for v in z)))


def null_space(V):
    """A basis of all c with V^T c = 0: the ways the values v_i cancel out.

    >>> [c.T for c in null_space([[1, 0], [0, 1], [1, 1]])]
    [Matrix([[-1, -1, 1]])]
    """
    return eliminate(V).null_space


def _numbers_only(z, name):
    """z, after refusing free symbols in it: whether a vector of symbols is in a span depends on their values."""
    column = _column(z, name)
    free = sorted({str(s) for v in column for s in v.free_symbols})
    if free:
        raise VecmixError(f"{name} holds the free symbols {', '.join(free)}: membership depends on their values; "
                          "substitute numbers (Elimination.parametrize gives the conditions)")
    return column


def _column(x, name):
    """A column of exact entries: SymPy expressions are kept, anything else is read as a number."""
    if isinstance(x, sp.MatrixBase) and x.cols != 1:
        raise VecmixError(f"{name} has shape {x.shape}, expected a column vector")
    return sp.Matrix([exact_value(v, f"{name}[{i}]") for i, v in enumerate(vector_entries(x, name))])
