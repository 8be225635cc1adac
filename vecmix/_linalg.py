"""Exact integer elimination for the span algebra: python-flint where installed, SymPy otherwise.

span.py scales every value to integers and then needs two operations on integer
matrices: the reduced row echelon form, fraction-free (an integer matrix R and a
denominator den with R / den reduced), and the solution of an invertible square system.
python-flint computes both in C, so m = d = 512 random rationals take well under a
second; SymPy's ``DomainMatrix`` gives the same answers in pure Python, slower, when flint
is not installed.
``Matrix.rank()`` is never used: it decides zeros with SymPy's assumptions and takes
minutes at 32 x 32.
"""

import sympy as sp
from sympy.polys.matrices import DomainMatrix

try:
    import flint
except ImportError:  # the fallback below; tests run both
    flint = None

__all__ = ["BACKEND", "matrix", "pivots", "rref", "solve", "solve_columns"]

BACKEND = "python-flint" if flint is not None else "sympy"  # reported by the benchmarks


def matrix(rows, ncols):
    """The integer matrix with these rows (lists of ints, ``ncols`` columns), in the backend's type.

    Either type has ``.transpose()``; :func:`rref` takes either.
    """
    if BACKEND == "python-flint":
        return flint.fmpz_mat(rows) if rows else flint.fmpz_mat(0, ncols)
    return DomainMatrix([[sp.ZZ(x) for x in row] for row in rows], (len(rows), ncols), sp.ZZ)


def rref(M):
    """(entry, den, pivots) for an integer :func:`matrix` M.

    ``entry(i, j) / den`` is row i, column j of M's reduced row echelon form, and ``pivots``
    are its pivot columns (their number is the rank). Both backends give the same answer;
    tests and benchmarks choose one by setting ``BACKEND``.

    >>> entry, den, pivots = rref(matrix([[2, 4, 1], [1, 2, 3]], 3))
    >>> [[entry(i, j) for j in range(3)] for i in range(2)], den, pivots
    ([[5, 10, 0], [0, 0, 5]], 5, (0, 2))
    """
    if isinstance(M, DomainMatrix):
        R, den, found = M.rref_den()
        R = R.to_list()
        return (lambda i, j: int(R[i][j])), int(den), tuple(found)
    R, den, rank = M.rref()
    return (lambda i, j: int(R[i, j])), int(den), pivots(R, rank)


def pivots(R, rank):
    """The pivot columns of a reduced flint matrix R of the given rank (flint's rref does not list them).

    >>> pivots(flint.fmpz_mat([[0, 1, 0, 2], [0, 0, 1, 3]]), 2) if flint else (1, 2)
    (1, 2)
    """
    found, j = [], 0
    for i in range(rank):  # pivots increase, so one walk along the rows finds them all
        while R[i, j] == 0:
            j += 1
        found.append(j)
        j += 1
    return tuple(found)


def solve(rows, rhs):
    """The exact solution x of B x = rhs for an invertible integer matrix B (``rows``), as (p, q) pairs.

    >>> solve([[2, 1], [1, 3]], [1, 2])
    [(1, 5), (3, 5)]
    """
    return [x[0] for x in solve_columns(rows, [[v] for v in rhs])]


def solve_columns(rows, rhs):
    """The exact solution X of B X = R for an invertible integer n x n matrix B (``rows``) and an integer n x k
    matrix R (``rhs``, as rows): X as n rows of k (p, q) pairs.

    >>> solve_columns([[2, 1], [1, 3]], [[1, 0], [2, 5]])
    [[(1, 5), (-1, 1)], [(3, 5), (2, 1)]]
    """
    n, k = len(rows), len(rhs[0])
    if BACKEND == "python-flint":
        R = flint.fmpz_mat(n, k, [v for row in rhs for v in row])
        X = flint.fmpz_mat(n, n, [v for row in rows for v in row]).solve(R)  # B^-1 R: (n, n), (n, k) -> (n, k) fmpq_mat
        return [[(int(X[i, j].p), int(X[i, j].q)) for j in range(k)] for i in range(n)]
    B = DomainMatrix([[sp.QQ(v) for v in row] for row in rows], (n, n), sp.QQ)
    X = B.lu_solve(DomainMatrix([[sp.QQ(v) for v in row] for row in rhs], (n, k), sp.QQ)).to_list()  # (n, k)
    return [[(int(v.numerator), int(v.denominator)) for v in row] for row in X]
