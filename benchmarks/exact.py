"""Exact span algebra: vecmix against raw python-flint, SymPy's DomainMatrix and Matrix.rank().

Every contender answers the same questions about m = d = n random small rationals
(numerators -9..9, denominators 1..9) and a target z = V^T c that mixes them with small
rational weights c, as an attention output mixes its values: the rank, the dependencies
(null space of V^T), the complement of the span, whether z is in the span, and c.
"""

import random
from fractions import Fraction

import sympy as sp
from sympy.polys.matrices import DomainMatrix

import vecmix


def inputs(n, seed=0):
    """(V, z): n random small rationals in R^n (Fractions), and a small-weight mixture z of them."""
    rng = random.Random(seed)
    V = [[Fraction(rng.randint(-9, 9), rng.randint(1, 9)) for _ in range(n)] for _ in range(n)]
    c = [Fraction(rng.randint(-3, 3), rng.randint(1, 4)) for _ in range(n)]
    z = [sum(V[i][j] * c[i] for i in range(n)) for j in range(n)]  # z = V^T c, (n,)
    return V, z


def with_vecmix(V, z):
    """The public API, end to end: eliminate once, then membership and every solution."""
    E = vecmix.eliminate(V)
    S = vecmix.solution_set(V, z, E)
    return vecmix.in_span(V, z, E), E.rank, E.null_space, E.complement, S.particular


def with_flint(V, z):
    """The same algorithm written directly in python-flint's fmpq_mat: no vecmix layers, no SymPy output."""
    import flint

    n_rows, n_cols = len(V), len(V[0])
    A = flint.fmpq_mat([[flint.fmpq(x.numerator, x.denominator) for x in row] for row in V])  # (m, d)
    At = A.transpose()  # (d, m)
    R1, rank = At.rref()  # the values' pivots and dependencies
    R2, _ = A.rref()  # the complement of the span
    pivots = _pivots(R1, rank)
    coordinates = _pivots(R2, rank)
    free = [j for j in range(n_rows) if j not in pivots]
    null = [[-R1[i, f] for i in range(rank)] for f in free]
    complement = flint.fmpq_mat([[R2[i, g] for i in range(rank)] for g in range(n_cols) if g not in coordinates])
    zq = flint.fmpq_mat(n_cols, 1, [flint.fmpq(x.numerator, x.denominator) for x in z])
    inside = complement.nrows() == 0 or all(x == 0 for x in _project(complement, zq, coordinates).entries())
    B = flint.fmpq_mat([[At[j, p] for p in pivots] for j in coordinates])  # (r, r), invertible
    c = B.solve(flint.fmpq_mat(rank, 1, [zq[j, 0] for j in coordinates]))
    return inside, rank, null, c


def with_domainmatrix(V, z):
    """The same questions through SymPy's DomainMatrix over QQ (its own rref, pure Python)."""
    A = DomainMatrix([[sp.QQ(x.numerator, x.denominator) for x in row] for row in V], (len(V), len(V[0])), sp.QQ)
    _, pivots = A.transpose().rref()
    null = A.transpose().nullspace()
    complement = A.nullspace()
    zq = DomainMatrix([[sp.QQ(x.numerator, x.denominator)] for x in z], (len(z), 1), sp.QQ)
    inside = (complement * zq).is_zero_matrix
    rows = list(pivots)
    c = A.transpose().extract(list(range(len(z))), rows)  # (d, r)
    coefficients = (c.transpose() * c).lu_solve(c.transpose() * zq)  # normal equations: exact, z in the span
    return inside, len(pivots), null, coefficients


def with_matrix_rank(V, z):
    """SymPy's Matrix.rank(), the path vecmix never takes (rank only)."""
    return sp.Matrix([[sp.Rational(x.numerator, x.denominator) for x in row] for row in V]).rank()


def _pivots(R, rank):
    """The pivot columns of a reduced fmpq_mat."""
    pivots, j = [], 0
    for i in range(rank):
        while R[i, j] == 0:
            j += 1
        pivots.append(j)
        j += 1
    return pivots


def _project(complement, zq, coordinates):
    """complement rows (the negated reduced entries) combined with z: n . z for each complement vector."""
    import flint

    k = complement.nrows()
    free = [g for g in range(zq.nrows()) if g not in coordinates]
    return flint.fmpq_mat(k, 1, [zq[free[t], 0] - sum((complement[t, i] * zq[q, 0] for i, q in
                                                        enumerate(coordinates)), flint.fmpq(0)) for t in range(k)])
