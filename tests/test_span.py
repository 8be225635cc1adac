"""Exact span algebra: rank, dependencies, complement, and the full solution set of V^T c = z."""

import numpy as np
import pytest
import sympy as sp

from vecmix import VecmixError, _linalg, eliminate, exact_attention, in_span, null_space, solution_set

BACKENDS = ["sympy"] + (["python-flint"] if _linalg.flint is not None else [])


@pytest.fixture(autouse=True, params=BACKENDS)
def backend(request, monkeypatch):
    """Every test here runs on python-flint and on the SymPy fallback."""
    monkeypatch.setattr(_linalg, "BACKEND", request.param)
    return request.param


def random_values(rng, m, d, rank):
    """m integer vectors in R^d spanning exactly ``rank`` dimensions."""
    basis = rng.integers(-3, 4, size=(rank, d))
    while np.linalg.matrix_rank(basis) < rank:
        basis = rng.integers(-3, 4, size=(rank, d))
    mix = rng.integers(-2, 3, size=(m, rank))
    while np.linalg.matrix_rank(mix) < rank:
        mix = rng.integers(-2, 3, size=(m, rank))
    return (mix @ basis).tolist()  # (m, rank) (rank, d) -> (m, d)


@pytest.mark.parametrize("m, d, rank", [(3, 2, 2), (3, 3, 2), (5, 3, 3), (2, 4, 2), (4, 4, 1), (6, 5, 4)])
def test_elimination_gives_rank_dependencies_and_complement(m, d, rank):
    V = random_values(np.random.default_rng(m * 10 + d), m, d, rank)
    E = eliminate(V)
    M = sp.Matrix(V)
    assert E.rank == rank == np.linalg.matrix_rank(np.array(V, float))
    assert len(E.null_space) == m - rank and len(E.complement) == d - rank
    for c in E.null_space:
        assert M.T * c == sp.zeros(d, 1)  # a dependency among the values
    for n in E.complement:
        assert M * n == sp.zeros(m, 1)  # orthogonal to every value
    if E.null_space:  # the dependencies are independent of each other: a basis
        assert sp.Matrix.hstack(*E.null_space).rank() == len(E.null_space)


def test_seed_values_line_of_solutions():
    V = [[1, 0], [0, 1], [1, 1]]
    assert [list(c) for c in null_space(V)] == [[-1, -1, 1]]
    Z, A = exact_attention([[1, 0]], [[1, 0], [0, 0], [-1, 0]], V, scale=1)
    S = solution_set(V, Z.T)
    assert S.consistent and S.dimension == 1
    assert S.contains(A.T)  # the attention weights are on the line
    assert S.contains(S.particular + 7 * S.directions[0])
    assert not S.contains(A.T + sp.Matrix([1, 0, 0]))


@pytest.mark.parametrize("seed", range(5))
def test_solution_set_solves_and_is_complete(seed):
    rng = np.random.default_rng(seed)
    m, d = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    V = random_values(rng, m, d, min(m, d, int(rng.integers(1, 4))))
    c_true = sp.Matrix(rng.integers(-5, 6, size=m).tolist()) / 3
    z = sp.Matrix(V).T * c_true  # (d, m) (m, 1) -> (d, 1)
    S = solution_set(V, z)
    assert S.consistent
    assert sp.Matrix(V).T * S.particular == z
    assert S.contains(c_true)  # every solution, not just the one we made, is in the set
    assert S.dimension == m - sp.Matrix(V).rank()


def test_outside_the_span_there_is_no_solution():
    V = [[1, 0, 0], [0, 1, 0], [1, 1, 0]]
    S = solution_set(V, [1, 2, 3])
    assert not S.consistent and S.dimension == -1 and not S.contains(sp.Matrix([1, 2, 0]))
    assert not in_span(V, [0, 0, sp.Rational(1, 10**30)])


def test_in_span_with_exact_softmax_outputs():
    V = [[1, 2, 0], [0, 1, 1], [1, 3, 1]]  # rank 2 in R^3
    Z, _ = exact_attention([[1, 2], [0, "1/2"]], [[1, 0], [0, 1], [1, 1]], V)
    for t in range(Z.rows):
        assert in_span(V, Z.row(t).T)
        assert not in_span(V, Z.row(t).T + sp.Matrix([0, 0, sp.E / 10**6]))


def test_shape_errors_name_the_shapes():
    with pytest.raises(VecmixError, match=r"z has shape \(3, 1\), but the values live in R\^2"):
        solution_set([[1, 0], [0, 1]], [1, 2, 3])
    with pytest.raises(VecmixError, match=r"c has shape \(2, 1\), expected \(3, 1\)"):
        solution_set([[1, 0], [0, 1], [1, 1]], [1, 1]).contains([1, 1])


@pytest.mark.parametrize("seed", range(4))
def test_the_backends_agree_exactly(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    m, d = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    V = [[sp.Rational(int(p), int(q)) for p, q in zip(row_p, row_q)] for row_p, row_q in
         zip(random_values(rng, m, d, min(m, d) - 1), rng.integers(1, 7, size=(m, d)))]
    c = sp.Matrix(rng.integers(-3, 4, size=m).tolist()) / 2
    z = sp.Matrix(V).T * c  # (d, m) (m, 1) -> (d, 1)
    answers = []
    for name in BACKENDS:
        monkeypatch.setattr(_linalg, "BACKEND", name)
        E = eliminate(V)
        answers.append((E.rank, E.pivots, E.null_space, E.complement, solution_set(V, z, E).particular))
    assert all(a == answers[0] for a in answers)


def test_large_rational_values_are_decided_exactly():
    rng = np.random.default_rng(9)
    V = [[sp.Rational(int(p), int(q)) for p, q in zip(*pair)] for pair in
         zip(rng.integers(-9, 10, size=(24, 24)), rng.integers(1, 10, size=(24, 24)))]
    V[5] = [a + b for a, b in zip(V[3], V[4])]  # one dependency
    E = eliminate(V)
    assert E.rank == 23 and len(E.null_space) == 1 and len(E.complement) == 1
    assert sp.Matrix(V).T * E.null_space[0] == sp.zeros(24, 1)
    assert sp.Matrix(V) * E.complement[0] == sp.zeros(24, 1)
    c = sp.Matrix([sp.Rational(k % 5, 3) for k in range(24)])
    z = sp.Matrix(V).T * c  # (24, 24) (24, 1) -> (24, 1)
    S = solution_set(V, z, E)
    assert S.contains(c) and sp.Matrix(V).T * S.particular == z
    assert not in_span(V, z + E.complement[0], E)
