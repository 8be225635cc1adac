"""Exact questions about convex combinations: hull membership, affine coordinates, distances.

Weights that are nonnegative and sum to one make a convex combination; its output lies
in the convex hull of the values. Weights that sum to one but may be negative make an
affine combination; every output of that kind lies in the affine hull.
"""

import math
from itertools import combinations

import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

from . import _linalg
from ._checks import real_array
from .errors import VecmixError
from .decide import is_nonnegative, one_fraction
from .exact import as_exact
from .span import _numbers_only, eliminate, solution_set

__all__ = ["affine_coordinates", "affine_dependencies", "affine_rank", "affine_solution_set", "distance_to_span",
           "dyadic", "in_hull"]

MAX_SUBSETS = 20000  # the exact hull test enumerates bases; past this it refuses rather than crawl


def affine_solution_set(V, z):
    """All c with V^T c = z and sum(c) = 1: the affine coordinates of z with respect to the values.

    The set is a single point exactly when the values are affinely independent, so
    weights that sum to one can be read back from the output.

    >>> S = affine_solution_set([[0, 0], [1, 0], [0, 1]], ["1/4", "1/2"])
    >>> S.particular.T, S.dimension
    (Matrix([[1/4, 1/4, 1/2]]), 0)
    >>> affine_solution_set([[0], [1], [2]], [1]).dimension  # three values on a line: a family
    1
    """
    V = as_exact(V, "V")
    z = _numbers_only(z, "z")
    lifted = V.row_join(sp.ones(V.rows, 1))  # (m, d + 1): each v_i with a trailing 1
    return solution_set(lifted, z.col_join(sp.Matrix([1])))


def affine_rank(V):
    """The exact rank of the lifted rows (v_i, 1) of float values V (n, d), read as the rationals they are: n
    exactly when the values are affinely independent, so that weights summing to 1 are determined by their mixture.

    >>> affine_rank(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])), affine_rank(np.array([[0.0], [1.0], [2.0]]))
    (3, 2)
    """
    V = _matrix("V", V)
    return _lifted_rank(*dyadic(V))


def _lifted_rank(ints, one):
    """The rank of the integer rows (2^s v_i, 2^s), that is of the lifted rows (v_i, 1)."""
    return len(_linalg.rref(_linalg.matrix([[*row, one] for row in ints], len(ints[0]) + 1))[2])


def affine_dependencies(V):
    """A basis of the exact affine dependencies of float values V (n, d): integer vectors c with V^T c = 0 and
    sum(c) = 0. Adding any multiple of one to a weighting changes no output: alpha + t c mixes the values to the
    same point, and stays a weighting while it stays nonnegative.

    >>> affine_dependencies(np.array([[0.0], [1.0], [2.0]]))
    [[1, -2, 1]]
    >>> affine_dependencies(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    []
    """
    V = _matrix("V", V)
    ints, one = dyadic(V)
    n = V.shape[0]
    lifted = _linalg.matrix([[*row, one] for row in ints], V.shape[1] + 1)  # (n, d + 1): rows 2^s (v_i, 1)
    entry, den, pivots = _linalg.rref(lifted.transpose())  # (d + 1, n): c with lifted^T c = 0 is a dependency
    basis = []
    for f in (j for j in range(n) if j not in set(pivots)):  # c_f = den, c_p = -R[i, f]
        c = [0] * n
        c[f] = den
        for i, p in enumerate(pivots):
            c[p] = -entry(i, f)
        g = math.gcd(*c)
        basis.append([x // g for x in c])
    return basis


def affine_coordinates(V, Z):
    """The weights that make each row of Z from the rows of V, solved over the rationals: (weights (k, n), rank).

    ``V`` (n, d) and ``Z`` (k, d) are floats, read as the exact rationals they are (a float
    is a fraction with a power of two below). The values are affinely independent when the
    lifted rows (v_i, 1) have rank n (:func:`affine_rank`); then the weights c with V^T c = z
    and sum(c) = 1 are unique. A z computed in floating point lies within rounding of the
    affine hull, not in it, so each row's c is the least-squares solution of that lifted
    system, (V V^T + 1 1^T) c = V z + 1, solved exactly and rounded once at the end: the
    weights come back within the rounding of z, times the conditioning of [V 1]. The values
    must have n <= d + 1 for this; otherwise, or when they are dependent, a
    :class:`VecmixError` gives the rank, and :func:`affine_dependencies` the family.

    >>> V = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> c, rank = affine_coordinates(V, np.array([[0.25, 0.5]]))
    >>> c.tolist(), rank
    ([[0.25, 0.25, 0.5]], 3)
    >>> affine_coordinates(np.array([[0.0], [1.0], [2.0]]), np.array([[1.0]]))
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: the 3 values have affine rank 2 < 3 (affinely dependent): other weights give the same z
    """
    V, Z = _matrix("V", V), _matrix("Z", Z)
    if V.shape[1] != Z.shape[1]:
        raise VecmixError(f"V (n, d) and Z (k, d) must be matrices of the same width, got shapes {V.shape} and "
                          f"{Z.shape}")
    n = V.shape[0]
    ints, one = dyadic(np.vstack([V, Z]))  # (n + k, d): 2^s V, then 2^s Z, one scale for both
    Vi, Zi = ints[:n], ints[n:]
    rank = _lifted_rank(Vi, one)
    if rank < n:
        raise VecmixError(f"the {n} values have affine rank {rank} < {n} (affinely dependent): other weights give "
                          "the same z")
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    G = [[dot(a, b) + one * one for b in Vi] for a in Vi]  # (n, n): 2^2s (V V^T + 1 1^T)
    R = [[dot(a, z) + one * one for z in Zi] for a in Vi]  # (n, k): 2^2s (V Z^T + 1 1^T)
    X = _linalg.solve_columns(G, R)  # (n, k) exact (p, q)
    return np.array([[p / q for p, q in row] for row in X]).T, rank  # (n, k) -> (k, n)


def _matrix(name, x):
    """x as a 2-D float array of finite numbers, or a VecmixError naming it."""
    x = real_array(name, x)
    if x.ndim != 2 or 0 in x.shape:
        raise VecmixError(f"{name} must be a matrix (rows are vectors), got shape {x.shape}")
    return x


def dyadic(M):
    """(rows of ints, 2^s) with M = rows / 2^s exactly: every float is m 2^e, so one power of two clears them all.

    >>> dyadic(np.array([[0.5, -3.0], [0.25, 0.0]]))
    ([[2, -12], [1, 0]], 4)
    """
    ratios = [[float(x).as_integer_ratio() for x in row] for row in M]  # exact: the denominators are powers of 2
    s = max(q for row in ratios for _, q in row).bit_length() - 1
    return [[p << (s - (q.bit_length() - 1)) for p, q in row] for row in ratios], 1 << s


def in_hull(V, z):
    """Exactly whether z is a convex combination of the rows of V; returns (inside, weights).

    ``weights`` is a certificate (c >= 0, sum 1, V^T c = z) when inside, else None. By
    Caratheodory's theorem, z is inside exactly when some affinely independent subset of
    the values holds it with nonnegative coordinates, so the test solves each such
    subset exactly; it refuses inputs with more than 20000 subsets to try.

    >>> inside, c = in_hull([[0, 0], [1, 0], [0, 1]], ["1/4", "1/4"])
    >>> inside, c.T
    (True, Matrix([[1/2, 1/4, 1/4]]))
    >>> in_hull([[0, 0], [1, 0], [0, 1]], [1, 1])
    (False, None)
    """
    V = as_exact(V, "V")
    z = _numbers_only(z, "z")
    S = affine_solution_set(V, z)
    if not S.consistent:
        return False, None
    if all(is_nonnegative(c) for c in S.particular):
        return True, S.particular
    if S.dimension == 0:
        return False, None
    lifted = V.row_join(sp.ones(V.rows, 1))  # (m, d + 1)
    r = eliminate(lifted).rank
    count = sp.binomial(V.rows, r)
    if count > MAX_SUBSETS:
        raise VecmixError(f"the exact hull test would try {count} subsets of the {V.rows} values (limit {MAX_SUBSETS})")
    for subset in combinations(range(V.rows), r):
        sub = solution_set(lifted.extract(list(subset), list(range(lifted.cols))), z.col_join(sp.Matrix([1])))
        if sub.consistent and sub.dimension == 0 and all(is_nonnegative(c) for c in sub.particular):
            c = sp.zeros(V.rows, 1)
            for i, ci in zip(subset, sub.particular):
                c[i] = ci
            return True, c
    return False, None


def distance_to_span(V, z):
    """The exact Euclidean distance from z to the span of the rows of V.

    It is the length of z's component in the orthogonal complement: with a complement
    basis N (columns), that component is N (N^T N)^-1 N^T z.

    >>> distance_to_span([[1, 0, 0], [0, 1, 0]], [3, 4, 12])
    12
    >>> distance_to_span([[1, 1]], [1, 0])
    sqrt(2)/2
    """
    E = eliminate(V)
    z = E._target(z)  # a column in R^d, or the shape error
    if not E.complement:
        return sp.Integer(0)
    N = sp.Matrix.hstack(*E.complement)  # (d, k), rational
    gram_inv = DomainMatrix.from_Matrix(N.T * N).convert_to(sp.QQ).inv().to_Matrix()  # (k, d) (d, k) -> (k, k)
    Nz = N.T * z  # (k, d) (d, 1) -> (k, 1)
    return sp.sqrt(one_fraction((Nz.T * gram_inv * Nz)[0]))  # (1, k) (k, k) (k, 1) -> (1, 1)
