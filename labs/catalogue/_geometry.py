"""Exact geometry of a few value vectors, computed here so that labs can check vecmix against it.

Shared by the labs of page 000 (vector_mixture, negative_weights, redundant_values,
missing_direction). Values are the rows v_1..v_m of an exact matrix V (m x d); targets
are exact rational columns. Nothing here calls vecmix's span or hull code, except
:func:`checked_hull`, which runs vecmix's hull test and checks its certificate here: the
rest are the lab's own computations, for claims that compare the two.

* :func:`project_onto_span`: the best linear combination (the orthogonal projection);
* :func:`project_onto_affine_hull`: the best affine combination (weights summing to 1);
* :func:`nearest_in_hull`: the best convex combination (the nearest point of the convex
  hull), by projecting onto the affine hull of every affinely independent subset of the
  values and keeping the nearest candidate whose coordinates are nonnegative;
* :func:`widest_weights`: convex weights reaching a point that are positive wherever any such
  weights can be; all of them are positive exactly when softmax weights (always > 0) can
  produce the point;
* :func:`cone_weights`: the basic nonnegative weights (of any sum) that reach a point;
* :func:`on_solution_set`: whether a coefficient vector lies on ``particular + span(directions)``;
* :func:`checked_hull`: vecmix's hull test, its certificate checked exactly;
* :func:`beyond`: a point sure to lie outside the hull, to probe a hull test's other direction.
"""

import math
from dataclasses import dataclass
from itertools import combinations
from math import comb

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from vecmix import VecmixError, in_hull, is_nonnegative, is_zero, one_fraction

MAX_SUBSETS = 5000  # affinely independent subsets tried by the nearest-point search


def project_onto_span(V, t):
    """The orthogonal projection of t (d x 1) onto the span of the rows of V (m x d), exactly.

    A basis B of the rows (r x d) gives the normal equations (B B^T) c = B t and p = B^T c.

    >>> project_onto_span(sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]]), sp.Matrix([1, 1, 1])).T
    Matrix([[2/3, 2/3, 4/3]])
    """
    _, pivots = DomainMatrix.from_Matrix(V.T).convert_to(sp.QQ).rref()  # V^T (d, m): pivots = a basis of rows
    if not pivots:
        return sp.zeros(V.cols, 1)
    B = V.extract(list(pivots), list(range(V.cols)))  # (r, d)
    c = _solve(B * B.T, B * t)  # (r, d) (d, r) -> (r, r); (r, d) (d, 1) -> (r, 1)
    return B.T * c  # (d, r) (r, 1) -> (d, 1)


def project_onto_affine_hull(V, t):
    """The orthogonal projection of t onto the affine hull of the rows of V: v_1 + the projection of
    t - v_1 onto the span of the differences v_i - v_1.

    >>> project_onto_affine_hull(sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]]), sp.Matrix([1, 1, 1])).T
    Matrix([[1/2, 1/2, 1]])
    """
    base = V.row(0).T  # (d, 1)
    W = sp.Matrix.vstack(*[V.row(i) - V.row(0) for i in range(V.rows)])  # (m, d)
    return base + project_onto_span(W, t - base)


@dataclass(frozen=True)
class Nearest:
    """The nearest point of the convex hull: ``point`` (d x 1), convex ``weights`` (m x 1) reaching it, and
    ``distance_squared`` from the target."""

    point: sp.Matrix
    weights: sp.Matrix
    distance_squared: sp.Rational


def nearest_in_hull(V, t, key="lab.values"):
    """The point of the convex hull of the rows of V nearest to the rational target t, exactly.

    The nearest point p lies in some face, and there it is the projection of t onto the
    affine hull of an affinely independent subset S of the values with nonnegative
    coordinates. Every such projection is a point of the hull, so the nearest of them is p.

    >>> N = nearest_in_hull(sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]]), sp.Matrix([1, 1, 1]))
    >>> N.point.T, N.distance_squared
    (Matrix([[1/2, 1/2, 1]]), 1/2)
    """
    best = None
    for S, p, lam in _simplices(V, t, key):
        if all(x >= 0 for x in lam):
            gap = t - p  # (d, 1)
            dd = (gap.T * gap)[0]  # (1, d) (d, 1) -> (1, 1)
            if best is None or dd < best.distance_squared:
                best = Nearest(p, _spread(lam, S, V.rows), dd)
    return best


def is_nearest(V, t, p):
    """Exactly whether p is the point of the hull nearest to t: (t - p) . (v_i - p) <= 0 for every value.

    That inequality for the values extends to their hull (it is linear in v), and it says
    that no point of the hull lies closer to t than p. p itself must be in the hull.

    >>> V = sp.Matrix([[0, 0], [2, 0]])
    >>> is_nearest(V, sp.Matrix([1, 1]), sp.Matrix([1, 0])), is_nearest(V, sp.Matrix([1, 1]), sp.Matrix([2, 0]))
    (True, False)
    """
    return all(bool(((t - p).T * (V.row(i).T - p))[0] <= 0) for i in range(V.rows))  # (1, d) (d, 1)


def widest_weights(V, p, key="lab.values"):
    """Weights alpha >= 0 with sum 1 and V^T alpha = p, positive wherever any such weights can be; None if p is
    outside the hull.

    The weights reaching p form a polytope whose corners are supported on affinely
    independent subsets of the values; every such weight vector is an average of corners,
    so the average of all the solutions found on those subsets is positive exactly where
    some solution is. Softmax weights are strictly positive: p is an attention output
    exactly when every entry of the result is > 0.

    >>> V = sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]])
    >>> widest_weights(V, sp.Matrix(["1/2", "1/2", 1])).T
    Matrix([[1/4, 5/8, 1/8]])
    >>> widest_weights(V, sp.Matrix([2, -1, 1])).T  # v_3, an end of the segment: no other weights reach it
    Matrix([[0, 0, 1]])
    """
    found = [_spread(lam, S, V.rows) for S, q, lam in _simplices(V, p, key) if q == p and all(x >= 0 for x in lam)]
    return sum(found, sp.zeros(V.rows, 1)) / len(found) if found else None  # (m, 1)


def cone_weights(V, z, key="lab.values"):
    """Every basic solution c >= 0 (any sum) of V^T c = z: supported on linearly independent values; [] when z is
    outside the cone of the values.

    Any nonnegative weights reaching z are a combination of these (the cone version of
    Caratheodory's theorem), so the list is empty exactly when no such weights exist.

    >>> [c.T for c in cone_weights(sp.Matrix([[1, 0], [0, 1], [1, 1]]), sp.Matrix([1, 1]))]
    [Matrix([[0, 0, 1]]), Matrix([[1, 1, 0]])]
    >>> cone_weights(sp.Matrix([[1, 0], [0, 1]]), sp.Matrix([-1, 1]))
    []
    """
    m, d = V.shape
    total = sum(comb(m, k) for k in range(1, min(m, d) + 1))
    if total > MAX_SUBSETS:
        raise VecmixError(f"{key} has {m} values in R^{d}: the exact cone search would try {total} subsets "
                          f"(limit {MAX_SUBSETS}); give fewer values")
    found = [sp.zeros(m, 1)] if z == sp.zeros(d, 1) else []
    for k in range(1, min(m, d) + 1):
        for S in combinations(range(m), k):
            B = V.extract(list(S), list(range(d)))  # (k, d)
            G = B * B.T  # (k, d) (d, k) -> (k, k)
            if G.det() == 0:
                continue
            c = _solve(G, B * z)  # (k, 1): the least-squares coefficients on S
            if B.T * c == z and all(bool(x >= 0) for x in c) and _spread(c, S, m) not in found:  # exact, >= 0
                found.append(_spread(c, S, m))
    return found


def on_solution_set(c, particular, directions):
    """Exactly whether c - particular is a combination of the directions (c may hold ``E``).

    >>> on_solution_set(sp.Matrix([0, 0, 1]), sp.Matrix([1, 1, 0]), [sp.Matrix([-1, -1, 1])])
    True
    >>> on_solution_set(sp.Matrix([0, 0, 1]), sp.Matrix([1, 1, 0]), [])
    False
    """
    if particular is None:
        return False
    gap = c - particular  # (m, 1)
    if not directions:
        return all(is_zero(x) for x in gap)
    D = sp.Matrix.hstack(*directions)  # (m, k)
    x = _solve(D.T * D, D.T * gap)  # least squares: (k, m) (m, k) -> (k, k); (k, m) (m, 1) -> (k, 1)
    return all(is_zero(r) for r in D * x - gap)  # (m, k) (k, 1) - (m, 1)


def affine_dimension(V):
    """The dimension of the affine hull of the rows of V: rank of (v_i - v_1).

    >>> affine_dimension(sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]]))
    1
    """
    W = sp.Matrix.vstack(*[V.row(i) - V.row(0) for i in range(V.rows)])  # (m, d)
    return DomainMatrix.from_Matrix(W).convert_to(sp.QQ).rank()


def primitive(n):
    """A nonzero rational vector scaled to coprime integers with a positive first nonzero entry (same direction).

    >>> primitive(sp.Matrix([sp.Rational(-50, 51), sp.Rational(-28, 51), 1])).T
    Matrix([[50, 28, -51]])
    """
    scale = sp.Rational(math.lcm(*[int(x.q) for x in n]), math.gcd(*[int(x.p) for x in n if x != 0]))
    n = n * scale
    return n if next(x for x in n if x != 0) > 0 else -n


def _simplices(V, t, key):
    """(S, p, lam) for every affinely independent subset S: p the projection of t onto aff(S), lam its coordinates."""
    m, d = V.shape
    total = sum(comb(m, k) for k in range(1, min(m, d + 1) + 1))
    if total > MAX_SUBSETS:
        raise VecmixError(f"{key} has {m} values in R^{d}: the exact nearest-point search would try {total} subsets "
                          f"(limit {MAX_SUBSETS}); give fewer values")
    for k in range(1, min(m, d + 1) + 1):
        for S in combinations(range(m), k):
            base = V.row(S[0]).T  # (d, 1)
            if k == 1:
                yield S, base, sp.Matrix([1])
                continue
            W = sp.Matrix.vstack(*[V.row(i) - V.row(S[0]) for i in S[1:]])  # (k - 1, d)
            G = W * W.T  # (k - 1, d) (d, k - 1) -> (k - 1, k - 1)
            if G.det() == 0:  # affinely dependent: another subset covers its affine hull
                continue
            mu = _solve(G, W * (t - base))  # (k - 1, 1)
            yield S, base + W.T * mu, sp.Matrix([1 - sum(mu), *mu])  # (d, k - 1) (k - 1, 1)


def _spread(lam, S, m):
    """Coordinates on the subset S as a weight vector over all m values (zeros elsewhere)."""
    c = sp.zeros(m, 1)
    for i, x in zip(S, lam):
        c[i] = x
    return c


def _solve(G, b):
    """x with G x = b for an invertible rational G (k x k); b may hold exact expressions."""
    return DomainMatrix.from_Matrix(G).convert_to(sp.QQ).inv().to_Matrix() * b  # (k, k) (k, 1) -> (k, 1)


def checked_hull(V, z):
    """(inside, observation): vecmix's hull test says z is inside and its certificate c holds exactly here.

    The certificate must be nonnegative, sum to 1 and reach z (V^T c = z); a hull test that
    says "inside" without a valid certificate does not count as inside.

    >>> checked_hull(sp.Matrix([[0, 0], [1, 0], [0, 1]]), sp.Matrix([sp.Rational(1, 4), sp.Rational(1, 4)]))
    (True, 'in_hull: inside, certificate checked')
    """
    inside, c = in_hull(V, z)
    if not inside:
        return False, "in_hull: outside"
    valid = c is not None and all(is_nonnegative(x) for x in c) and is_zero(sp.Add(*c) - 1) and all(
        is_zero(x) for x in V.T * c - z)  # (d, m) (m, 1) - (d, 1)
    return valid, "in_hull: inside, certificate checked" if valid else "in_hull: inside, but its certificate fails"


def beyond(V, z):
    """(p, f): p = 2 v_f - z, the reflection of a point z of the hull through the value v_f farthest from it.

    p is outside the convex hull: |p - z| = 2 |v_f - z|, while no point of the hull is farther
    from z than its farthest value (a convex function is largest at a vertex). When every value
    equals z the hull is that one point, and p = z + 2 e_1 (f is None).

    >>> p, f = beyond(sp.Matrix([[1, 0], [0, 1], [1, 1]]), sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2)]))
    >>> p.T, f  # v_1 and v_2 tie; the first is taken
    (Matrix([[3/2, -1/2]]), 0)
    """
    gaps = [V.row(i).T - z for i in range(V.rows)]
    squares = [float(sp.N((g.T * g)[0], 30)) for g in gaps]  # |v_i - z|^2; ties may go either way
    f = max(range(V.rows), key=lambda i: squares[i])
    if squares[f] == 0:
        return (z + 2 * sp.eye(V.cols)[:, 0]).applyfunc(one_fraction), None
    return (z + 2 * gaps[f]).applyfunc(one_fraction), f
