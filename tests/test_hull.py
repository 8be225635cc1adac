"""Exact hull membership, affine coordinates and distance to a span, against numeric checks."""

import numpy as np
import pytest
import sympy as sp

from vecmix import VecmixError, affine_solution_set, distance_to_span, in_hull, to_numeric


def random_points(rng, m, d):
    return [[sp.Rational(int(x), 4) for x in row] for row in rng.integers(-8, 9, size=(m, d))]


@pytest.mark.parametrize("seed", range(6))
def test_convex_combinations_are_inside_with_a_valid_certificate(seed):
    rng = np.random.default_rng(seed)
    m, d = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    V = random_points(rng, m, d)
    raw = rng.integers(0, 5, size=m) + np.eye(m, dtype=int)[0]  # nonnegative, not all zero
    c_true = sp.Matrix([sp.Rational(int(r), int(raw.sum())) for r in raw])
    z = sp.Matrix(V).T * c_true  # (d, m) (m, 1) -> (d, 1)
    inside, c = in_hull(V, z)
    assert inside
    assert all(x >= 0 for x in c) and sum(c) == 1 and sp.Matrix(V).T * c == z


@pytest.mark.parametrize("seed", range(6))
def test_points_beyond_a_supporting_line_are_outside(seed):
    rng = np.random.default_rng(100 + seed)
    m, d = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    V = random_points(rng, m, d)
    u = sp.Matrix(rng.integers(-3, 4, size=d).tolist())
    if u == sp.zeros(d, 1):
        u[0] = 1
    top = max((sp.Matrix(V).row(i) * u)[0] for i in range(m))
    z = sp.Matrix(V).row(0).T + u * (top - (sp.Matrix(V).row(0) * u)[0] + 1) / (u.T * u)[0]  # u . z = top + 1
    assert (u.T * z)[0] == top + 1
    assert in_hull(V, z) == (False, None)


def test_affine_coordinates_identify_weights_only_for_affinely_independent_values():
    S = affine_solution_set([[0, 0], [2, 0], [0, 2]], [1, 1])
    assert S.dimension == 0 and list(S.particular) == [0, sp.Rational(1, 2), sp.Rational(1, 2)]
    S = affine_solution_set([[0, 0], [2, 0], [0, 2], [2, 2]], [1, 1])  # m = d + 2
    assert S.dimension == 1


@pytest.mark.parametrize("seed", range(4))
def test_distance_to_span_equals_the_least_squares_residual(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 5))
    V = random_points(rng, int(rng.integers(1, d)), d)  # fewer values than dimensions: a proper subspace
    z = sp.Matrix(rng.integers(-5, 6, size=d).tolist())
    exact = distance_to_span(V, z)
    V_num, z_num = to_numeric(sp.Matrix(V)), to_numeric(z).ravel()
    c, *_ = np.linalg.lstsq(V_num.T, z_num, rcond=None)  # min |V^T c - z|
    assert abs(float(exact) - np.linalg.norm(V_num.T @ c - z_num)) < 1e-12


def test_hull_refuses_to_crawl():
    V = [[i, i * i % 7, i % 3] for i in range(40)]
    with pytest.raises(VecmixError, match="subsets"):
        in_hull(V, [100, 100, "1/3"])
