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
from vecmix._linalg import pivots


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
    basis, coordinates = pivots(R1, rank), pivots(R2, rank)
    null = [[-R1[i, f] for i in range(rank)] for f in range(n_rows) if f not in basis]
    free = [g for g in range(n_cols) if g not in coordinates]
    N = flint.fmpq_mat(len(free), n_cols)  # (k, d): complement vectors as rows, n_g = 1, n_q = -R2[i, g]
    for t, g in enumerate(free):
        N[t, g] = 1
        for i, q in enumerate(coordinates):
            N[t, q] = -R2[i, g]
    zq = flint.fmpq_mat(n_cols, 1, [flint.fmpq(x.numerator, x.denominator) for x in z])
    inside = all(x == 0 for x in (N * zq).entries())  # (k, d) (d, 1) -> (k, 1)
    B = flint.fmpq_mat([[At[j, p] for p in basis] for j in coordinates])  # (r, r), invertible
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
