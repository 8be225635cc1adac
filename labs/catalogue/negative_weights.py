"""Lab ``negative_weights``: Try It 1 of 000 §9, one coefficient negative.

The output is still a linear combination of the values (it stays in their span), but it
is no longer an average-like mixture: with a negative weight it can leave the convex
hull, and the lab proves exactly that it does.
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    affine_solution_set,
    exact_equal,
    in_hull,
    in_span,
    is_nonnegative,
    one_fraction,
    solution_set,
    to_numeric,
)

from ..claims import Claim
from ..config.inputs import read_vector, read_vectors
from ..grading import Exercise, satisfies, vector
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, decimal, display, image, tex
from .vector_mixture import V

TITLE = "A negative weight: still a linear combination, no longer a convex one"
SOURCE = "000 §9, Try It 1"


@dataclass
class Config:
    """negative_weights: the values mixed with weights that have a negative entry."""

    name: str = "negative_weights"
    values: List[List[Any]] = MISSING  # v_1..v_m
    weights: List[Any] = MISSING  # a, with at least one negative entry
    convex_weights: List[Any] = MISSING  # an average-like mixture of the same values, to compare


def run(params):
    """Mix the values with weights that have a negative entry, and locate the output.

    >>> r = run({"values": [[1.0, 0.2], [0.4, 1.1], [1.2, 0.8]], "weights": [-0.3, 0.8, 0.5],
    ...          "convex_weights": [0.2, 0.5, 0.3]})
    >>> r.reproduced, [c.id for c in r.claims if c.id.startswith("outside")]
    (True, ['outside-hull'])
    """
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    a = read_vector(params["weights"], "lab.weights")  # (m, 1)
    b = read_vector(params["convex_weights"], "lab.convex_weights")  # (m, 1)
    m, d = V.shape
    for key, w in (("lab.weights", a), ("lab.convex_weights", b)):
        if w.rows != m:
            raise VecmixError(f"{key} has {w.rows} numbers but there are {m} values in lab.values: one weight each")
    negative = [i for i in range(m) if not is_nonnegative(a[i])]
    if not negative:
        raise VecmixError(f"lab.weights = {list(params['weights'])} has no negative entry; this lab is about one")
    if not (all(is_nonnegative(x) for x in b) and exact_equal(sp.Add(*b), 1)):
        raise VecmixError("lab.convex_weights must be nonnegative and sum to 1 (the average-like mixture to compare)")

    z = (V.T * a).applyfunc(one_fraction)  # (d, m) (m, 1) -> (d, 1)
    z_convex = V.T * b  # (d, m) (m, 1) -> (d, 1)
    total = sp.Add(*a)
    inside, _ = in_hull(V, z)
    coords = affine_solution_set(V, z)
    V_num = to_numeric(V)  # (m, d)
    z_num = V_num.T @ to_numeric(a).ravel()  # (d, m) @ (m,) -> (d,)

    claims = [
        Claim("linear-combination", "z = V^T a is still a linear combination of the values: it lies in their span",
              SOURCE, "z in span(v_1..v_m)", "in the span (exact)" if in_span(V, z) else "outside", in_span(V, z),
              True),
        Claim("outside-hull", "z lies outside the convex hull of the values (no nonnegative weights summing to 1 "
              "reach it)", SOURCE, "not a convex combination", "outside (exact)" if not inside else "inside",
              not inside, True),
        Claim("convex-inside", "the average-like weights of the config put their output inside the hull", "000 §3",
              "inside", "inside (exact)" if in_hull(V, z_convex)[0] else "outside", in_hull(V, z_convex)[0], True),
    ]
    err = float(np.max(np.abs(z_num - to_numeric(z).ravel())))
    claims.append(Claim("numeric-agrees", "numpy's V.T @ a agrees with the exact output to 1e-12", "000 §6",
                        "max difference <= 1e-12", f"{err:.1e}", err <= 1e-12, False))
    certificate = ""
    if exact_equal(total, 1) and coords.dimension == 0:
        claims.append(Claim("unique-coordinates", "the values are affinely independent, so a is the only way to "
                            "write z with weights summing to 1; its negative entry settles that z is outside",
                            SOURCE, "affine coordinates of z = a", tuple_str(coords.particular),
                            exact_equal(coords.particular, a), True))
        k = negative[0]
        g, h = separating_function(V, k)
        f = lambda x: one_fraction((g.T * x)[0] + h)  # noqa: E731  (1, d) (d, 1) -> (1, 1)
        f_values = [f(V.row(i).T) for i in range(m)]
        separates = all(is_nonnegative(x) for x in f_values) and not is_nonnegative(f(z))
        claims.append(Claim("separating-line", f"the affine function f with f(v_{k + 1}) = 1 and f = 0 at the other "
                            "values is >= 0 on the hull but negative at z", SOURCE, "f(v_i) >= 0, f(z) < 0",
                            f"f(z) = {sp.sstr(f(z))}", separates, True))
        certificate = (f" A certificate: the affine function $f(x) = {tex((g.T * sp.Matrix(sp.symbols(f'x_1:{d + 1}')))[0] + h)}$ "
                       f"is $1$ at $v_{{{k + 1}}}$ and $0$ at the other values, so it is nonnegative on the whole "
                       f"hull, yet $f(z) = {tex(f(z))} < 0$.")

    names = [fig.named("v", i + 1) for i in range(m)]
    P, note = fig.projection(V_num)  # (2, d)
    figures = {
        "hull.svg": fig.mixture_figure(V_num @ P.T, names, [  # (m, d) (d, 2) -> (m, 2)
            ("output with a negative weight", P @ z_num),  # (2, d) (d,) -> (2,)
            ("average-like output", P @ to_numeric(z_convex).ravel())]),
        "weights.svg": fig.grouped_bars(names, [("with a negative weight", to_numeric(a).ravel()),
                                                ("average-like", to_numeric(b).ravel())], "weight"),
    }
    values = [Value("values", V_num, V), Value("weights", to_numeric(a).ravel(), a),
              Value("weights_sum", float(to_numeric(total)), total), Value("output", z_num, z),
              Value("convex_output", to_numeric(z_convex).ravel(), z_convex),
              Value("affine_coordinates", to_numeric(coords.particular).ravel() if coords.consistent else None,
                    coords.particular)]
    sections = [
        "## The idea\n\n"
        "Try It 1 of the source: change the weights so one coefficient is negative. The output is still a "
        "linear combination, so it stays in the span of the values; but a convex combination needs weights that "
        "are nonnegative and sum to one, and only those keep the output inside the convex hull (the region an "
        "average of the values can reach). Attention's softmax weights are always of that kind; these are not.\n",
        "## The numbers\n\n"
        + display(rf"a = {column(a)}, \qquad \sum_i a_i = {tex(total)}, \qquad z = V^\top a = {column(z)} \approx "
                  rf"{column(z_num, fmt=decimal)}")
        + "\nExactly, no nonnegative weights summing to one reach $z$: the hull test solves every affinely "
        f"independent subset of the values and finds none.{certificate}\n\n"
        + image("figures/hull.svg", "the hull, and the two outputs",
                "Figure 1. The values, their convex hull, the output with a negative weight (outside) and the "
                "average-like output (inside)." + (f" {note}" if note else ""))
        + "\n\n" + image("figures/weights.svg", "the two weight vectors", "Figure 2. The two weight vectors.") + "\n",
    ]
    intro = f"*Reproduces* {cite('000', 9)}, Try It 1, on the vectors of §2."
    return LabResult("negative_weights", TITLE, intro, sections, claims, values, figures, [
        "The source leaves the numbers to the reader; the weights here are the lab's choice (config "
        "`lab.weights`), with the seed's vectors."])


def tuple_str(M):
    return "(" + ", ".join(sp.sstr(x) for x in M) + ")"


def separating_function(V, k):
    """The affine function f(x) = g . x + h with f(v_k) = 1 and f(v_i) = 0 for i != k (values affinely independent).

    f is >= 0 on the convex hull, and f(z) is z's k-th affine coordinate, so a negative
    coordinate puts z on the far side of the facet opposite v_k.

    >>> g, h = separating_function(sp.Matrix([[0, 0], [1, 0], [0, 1]]), 0)
    >>> g.T, h
    (Matrix([[-1, -1]]), 1)
    """
    lifted = V.row_join(sp.ones(V.rows, 1))  # (m, d + 1): rows (v_i, 1)
    e_k = sp.Matrix([1 if i == k else 0 for i in range(V.rows)])
    w = solution_set(lifted.T, e_k).particular  # lifted (g, h) = e_k, (d + 1, 1)
    return w[:-1, :], w[-1]


# Exercises: graded by pytest (python -m labs.exercises negative_weights)

LAB = "negative_weights"

EXERCISES = [
    Exercise(LAB, "outside_the_hull",
             "Try It 1. With v1 = (1.0, 0.2), v2 = (0.4, 1.1), v3 = (1.2, 0.8), give weights (a1, a2, a3) that sum "
             "to 1 with one negative entry, such that the output V^T a lies outside the convex hull of the values.",
             satisfies(vector(3, "the weights"), (lambda a: sum(a) == 1, "the weights must sum to 1."),
                       (lambda a: any(x < 0 for x in a), "no weight is negative."),
                       (lambda a: not in_hull(V, V.T * a)[0], "the output of these weights is still inside the hull.")),
             "[-0.3, 0.8, 0.5]", also=("[1.5, -1, 0.5]",),
             wrong={"[0.2, 0.5, 0.3]": "no weight is negative", "[0.2, 0.5, 0.4]": "sum to 1"},
             hint="a negative weight pushes the output away from that value.", points=2, source="000 §9"),
]
