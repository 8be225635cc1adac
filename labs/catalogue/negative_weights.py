"""Lab ``negative_weights``: Try It 1 of 000 §9, one coefficient negative.

The output is still a linear combination of the values (it stays in their span), but it
is no longer an average-like mixture: with weights summing to 1 and a negative entry it
leaves the convex hull, and the lab proves it exactly, with a separating line. Both
directions are probed: an average-like mixture of the same values lands inside. And the
sign of a weight is not a property of the output (the first failure mode of 000 §7): when
the values are dependent, the same output has weights that are all nonnegative.
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    affine_solution_set,
    eliminate,
    in_hull,
    one_fraction,
    solution_set,
    to_numeric,
)

from ..claims import Claim, fault, inputs
from ..config.inputs import read_vector, read_vectors
from ..grading import Exercise, equivalent, same, satisfies, sign, vector
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, decimal, display, error_text, image, tex, tuple_tex, tuple_text
from ._geometry import affine_dimension, checked_hull, cone_weights, nearest_in_hull, on_solution_set, primitive
from .vector_mixture import V

TITLE = "A negative weight: still a linear combination, no longer a convex one"
SOURCE = "000 §9, Try It 1"
TOLERANCE = 1e-12


@dataclass
class Config:
    """negative_weights: the values mixed with weights that have a negative entry."""

    name: str = "negative_weights"
    values: List[List[Any]] = MISSING  # v_1..v_m
    weights: List[Any] = MISSING  # a, with at least one negative entry
    convex_weights: List[Any] = MISSING  # b, an average-like mixture (>= 0, sum 1) of the same values, to compare


def run(params):
    """Mix the values with weights that have a negative entry, and locate the output.

    >>> r = run({"values": [[1.0, 0.2], [0.4, 1.1], [1.2, 0.8]], "weights": [-0.3, 0.8, 0.5],
    ...          "convex_weights": [0.2, 0.5, 0.3]})
    >>> r.reproduced, [c.observed for c in r.claims if c.id == "sign-not-determined"]
    (True, ['c = (0, 121/125, 97/500), V^T c = z exactly'])
    """
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    a = read_vector(params["weights"], "lab.weights")  # (m, 1)
    b = read_vector(params["convex_weights"], "lab.convex_weights")  # (m, 1)
    m, d = V.shape
    for key, w in (("lab.weights", a), ("lab.convex_weights", b)):
        if w.rows != m:
            raise VecmixError(f"{key} has {w.rows} numbers but there are {m} values in lab.values: one weight each")
    if all(x >= 0 for x in a):
        raise VecmixError(f"lab.weights = {list(params['weights'])} has no negative entry; this lab is about one")

    z = V.T * a  # (d, m) (m, 1) -> (d, 1)
    z_b = V.T * b  # (d, m) (m, 1) -> (d, 1)
    total = sp.Add(*a)

    # Still a linear combination: vecmix's solution set for z contains a.
    S = solution_set(V, z)
    linear = on_solution_set(a, S.particular, S.directions)

    # Outside the hull: vecmix's exact test, and the lab's own separating line through the nearest point h.
    inside, _ = in_hull(V, z)
    near = nearest_in_hull(V, z)
    h = near.point  # (d, 1)
    g = h - z  # (d, 1): f(x) = g . (x - h) is >= 0 on the hull and -|g|^2 at z
    f = lambda x: (g.T * (x - h))[0]  # noqa: E731  (1, d) (d, 1) -> (1, 1)
    separated = bool(near.distance_squared > 0) and all(bool(f(V.row(i).T) >= 0) for i in range(m)) and bool(f(z) < 0)
    convex_b = all(bool(x >= 0) for x in b) and sum(b) == 1
    inside_b, seen_b = checked_hull(V, z_b)

    # Affine coordinates: unique when the values are affinely independent.
    coords = affine_solution_set(V, z)
    unique = total == 1 and coords.consistent and coords.dimension == 0 and coords.particular == a

    # The sign of a weight is not determined by the output: nonnegative weights reaching the same z.
    basic = cone_weights(V, z)  # each (m, 1), >= 0
    k = min(range(m), key=lambda i: a[i])  # the most negative weight: prefer weights that put 0 there
    c = next((w for w in basic if w[k] == 0), basic[0]) if basic else None
    sign_free = c is not None and all(bool(x >= 0) for x in c) and V.T * c == z  # (d, m) (m, 1)

    V_num = to_numeric(V)  # (m, d)
    weight_sets = [a, b] + ([c] if c is not None else [])
    num_err = max(float(np.max(np.abs(V_num.T @ to_numeric(w).ravel() - to_numeric(V.T * w).ravel())))  # (d, m) @ (m,)
                  for w in weight_sets)

    claims = [
        Claim("linear-combination", "z = V^T a is still a linear combination of the values: the solution set of "
              "V^T c = z that vecmix finds contains a", SOURCE, "a on particular + span(directions)",
              f"a is {'on' if linear else 'not on'} the solution set (dimension {S.dimension})", linear, True),
        Claim("outside-hull", "z lies outside the convex hull of the values: vecmix's hull test says so, and a line "
              "separates z from every value", f"{SOURCE}; 002 §5", "outside; f(v_i) >= 0 for every value, f(z) < 0",
              f"in_hull: {'inside' if inside else 'outside'}; nearest point of the hull h = {tuple_text(h)}, "
              f"f(z) = -|z - h|^2 = {sp.sstr(-near.distance_squared)}", not inside and separated, True),
        Claim("convex-inside", "the average-like weights b (>= 0, summing to 1) put their output inside the hull "
              "(vecmix's exact hull test, its certificate checked here)", "000 §3; 002 §5", "inside",
              f"b >= 0 with sum 1: {'yes' if convex_b else 'no'}; {seen_b}", convex_b and inside_b, True),
        Claim("unique-coordinates", "the weights sum to 1 and the values are affinely independent, so a is the only "
              "way to write z with weights summing to 1; its negative entry is why z is outside", SOURCE,
              "sum a = 1; affine coordinates of z = a, a single point",
              f"sum a = {sp.sstr(total)}; affine coordinates: "
              + (f"{tuple_text(coords.particular)}, dimension {coords.dimension}" if coords.consistent else "none"),
              bool(unique), True),
        Claim("sign-not-determined", "the weights can make the representation hard to interpret: the same z is also "
              "reached with weights that are all nonnegative, so the negative sign is not a property of z",
              "000 §7", "c >= 0 with V^T c = z",
              f"c = {tuple_text(c)}, V^T c = z exactly" if sign_free else "no nonnegative weights reach z",
              sign_free, True),
        Claim("numeric-agrees", "numpy's V.T @ w agrees with the exact output for every weight vector shown",
              "numpy (numeric = exact)",
              f"max difference <= {TOLERANCE:g}", error_text(num_err), num_err <= TOLERANCE, False),
    ]

    names = [fig.named("v", i + 1) for i in range(m)]
    P, note = fig.projection(V_num)  # (2, d)
    points = [("z", "V^T a, with a negative weight", P @ to_numeric(z).ravel(), fig.OTHER_COLORS[0]),  # (2, d) (d,)
              ("h", "the point of the hull nearest z", P @ to_numeric(h).ravel(), fig.OTHER_COLORS[1]),
              ("V^T b", "the average-like output (given weights b)", P @ to_numeric(z_b).ravel(), fig.GIVEN_COLOR)]
    bars = [("a, with a negative weight", to_numeric(a).ravel(), fig.OTHER_COLORS[0]),
            ("b, average-like (given)", to_numeric(b).ravel(), fig.GIVEN_COLOR)]
    if c is not None:
        bars.append(("c >= 0, the same output as a", to_numeric(c).ravel(), fig.OTHER_COLORS[1]))
    figures = {"hull.svg": fig.mixture_figure(V_num @ P.T, names, points, affine_dimension(V)),  # (m, d) (d, 2)
               "weights.svg": fig.grouped_bars(names, bars, "weight")}
    values = [Value("values", V_num, V), Value("weights", to_numeric(a).ravel(), a),
              Value("weights_sum", float(to_numeric(total)), total), Value("output", to_numeric(z).ravel(), z),
              Value("nearest_point_of_hull", to_numeric(h).ravel(), h),
              Value("convex_output", to_numeric(z_b).ravel(), z_b),
              Value("affine_coordinates", to_numeric(coords.particular).ravel() if coords.consistent else None,
                    coords.particular),
              Value("nonnegative_weights", None if c is None else to_numeric(c).ravel(), c)]
    intro = f"*Reproduces* {cite('000', 9)}, Try It 1, on the vectors of §2, and the first failure mode of §7."
    sections = _sections(V, a, b, z, z_b, total, h, near, coords, c, inside, inside_b, note)
    return LabResult("negative_weights", TITLE, intro, sections, claims, values, figures, [
        "The source leaves the numbers to the reader; the weights here are the lab's choice (config "
        "`lab.weights`), with the seed's vectors."])


def _sections(V, a, b, z, z_b, total, h, near, coords, c, inside, inside_b, note):
    m, d = V.shape
    g = h - z
    x = sp.Matrix(sp.symbols(f"x_1:{d + 1}"))  # (d, 1)
    f_x = sp.expand((g.T * (x - h))[0])  # (1, d) (d, 1)
    if not inside and near.distance_squared > 0:
        where = (f"The point of the hull nearest to $z$ is $h = {tuple_tex(h)}$, at distance "
                 f"${tex(sp.sqrt(near.distance_squared))}$ (found exactly, by projecting $z$ onto the affine hull of "
                 "every affinely independent subset of the values). It gives a certificate that checks the verdict "
                 f"independently: the affine function $f(x) = (h - z) \\cdot (x - h) = {tex(f_x)}$ is "
                 f"${', '.join(tex(one_fraction((g.T * (V.row(i).T - h))[0])) for i in range(m))}$ at "
                 f"${', '.join(f'v_{{{i + 1}}}' for i in range(m))}$, nonnegative at every value and so on the whole "
                 f"hull, yet $f(z) = -|z - h|^2 = {tex(-near.distance_squared)} < 0$: the line $f = 0$ separates "
                 "them.")
    else:
        where = "Here $z$ is inside the hull all the same: a negative weight alone does not decide it."
    if coords.consistent and coords.dimension == 0:
        affine = (f"The values are affinely independent, so $z$ has exactly one set of weights summing to 1, its "
                  f"affine coordinates ${tuple_tex(coords.particular)}$. The hull is the set of points whose affine "
                  "coordinates are all nonnegative; "
                  + ("these are $a$ itself, and its negative entry puts $z$ outside."
                     if total == 1 and coords.particular == a else
                     "since $a$ does not sum to 1, they are not $a$, and they decide where $z$ is."))
    else:
        affine = ("The values are affinely dependent, so the point does not determine its weights: many weight "
                  "vectors summing to 1 reach $z$, and the sign of one of them does not decide whether $z$ is in the "
                  "hull.")
    if c is not None:
        k = min(range(m), key=lambda i: a[i])  # the most negative weight
        dependencies = [primitive(n) for n in eliminate(V).null_space]
        shift, big = "", ""
        if dependencies:
            n = dependencies[0]
            j = next(i for i in range(m) if n[i] != 0)
            t = (c - a)[j] / n[j]
            relation = tex(sp.Add(*(n[i] * sp.Symbol(f"v_{i + 1}") for i in range(m))))
            step = rf"+ {tex(t)}" if t >= 0 else rf"- {tex(-t)}"
            shift = (f" The two differ by a dependency among the values: ${relation} = 0$, and "
                     rf"$c = a {step} \cdot {tuple_tex(n)}$." if c - a == t * n else
                     r" The two differ by a dependency among the values: $V^\top (c - a) = 0$.")
            big = (rf" Large opposite weights cancel in the same way: $a + 10 \cdot {tuple_tex(n)} = "
                   rf"{tuple_tex(a + 10 * n)} \approx {tuple_tex(a + 10 * n, fmt=lambda x: decimal(x, 1))}$ gives "
                   "the same $z$ again.")
        sign = ("## Hard to interpret (000 §7)\n\n"
                f"Reading $a$ as \"how much each value counts\" says that $v_{{{k + 1}}}$ counts against the output, "
                f"with weight ${tex(a[k])}$. The output does not say so: the same $z$ is reached by weights that are "
                "all nonnegative,\n" + display(rf"c = {column(c)}, \qquad V^\top c = {column(V.T * c)} = z")
                + f"\n(they sum to ${tex(sp.Add(*c))}$"
                + (": since $z$ is outside the hull, no nonnegative weights that reach it can sum to 1" if not inside
                   else "; $z$ is inside the hull, so nonnegative weights summing to 1 reach it too")
                + (f"; $v_{{{k + 1}}}$ gets no weight at all" if c[k] == 0 else "") + f").{shift}{big} The "
                "algebra is simple, yet the weights are not a property of the output.\n")
    else:
        sign = ("## Hard to interpret (000 §7)\n\n"
                "Here no nonnegative weights reach $z$ at all: the negative entry is forced.\n")
    return [
        "## The idea\n\n"
        "Try It 1 of the source: change the weights so one coefficient is negative. The output is still a "
        "linear combination, so it stays in the span of the values; but a convex combination needs weights that "
        "are nonnegative and sum to one, and only those are guaranteed to keep the output inside the convex hull "
        "(the region an average of the values can reach). Attention's softmax weights are always of that kind "
        "(002 §5); these are not.\n" + display(r", \qquad ".join(f"v_{{{i + 1}}} = {column(V.row(i))}"
                                                                   for i in range(m))),
        "## The numbers\n\n"
        + display(rf"a = {column(a)}, \qquad \sum_i a_i = {tex(total)}, \qquad z = V^\top a = {column(z)} \approx "
                  rf"{column(to_numeric(z).ravel(), fmt=decimal)}")
        + f"\n{affine} {where} For comparison, the weights $b = {tuple_tex(b)}$ give "
        f"$V^\\top b = {tuple_tex(z_b)}$, {'inside' if inside_b else 'outside'} the hull.\n\n"
        + image("figures/hull.svg", "the hull, and the outputs",
                "Figure 1. The values, their convex hull, the output z with a negative weight, the nearest point h "
                "of the hull, and the average-like output." + (f" {note}" if note else ""))
        + "\n",
        sign + "\n" + image("figures/weights.svg", "the weight vectors",
                            "Figure 2. The weight vectors, value by value.") + "\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises negative_weights)

LAB = "negative_weights"
SETUP = "v1 = (1.0, 0.2), v2 = (0.4, 1.1), v3 = (1.2, 0.8)"
A_EX = sp.Matrix([sp.Rational(-3, 10), sp.Rational(4, 5), sp.Rational(1, 2)])

EXERCISES = [
    Exercise(LAB, "outside_the_hull",
             f"Try It 1. With {SETUP}, give weights (a1, a2, a3) that sum to 1 with one negative entry, such that "
             "the output V^T a lies outside the convex hull of the values.",
             satisfies(vector(3, "the weights"), (lambda a: equivalent(sum(a), 1), "the weights must sum to 1."),
                       (lambda a: any(sign(x) < 0 for x in a), "no weight is negative."),
                       (lambda a: not in_hull(V, V.T * a)[0], "the output of these weights is still inside the hull.")),
             "[-0.3, 0.8, 0.5]", also=("[1.5, -1, 0.5]",),
             wrong={"[0.2, 0.5, 0.3]": "no weight is negative", "[0.2, 0.5, 0.4]": "sum to 1"},
             hint="a negative weight pushes the output away from that value.", points=2, source="000 §9"),
    Exercise(LAB, "same_output_nonnegative",
             f"With {SETUP}, the weights a = (-0.3, 0.8, 0.5) give z = V^T a. Give weights that are all nonnegative "
             "(they need not sum to 1) with exactly the same output z.",
             satisfies(vector(3, "the weights"), (lambda c: all(sign(x) >= 0 for x in c), "some weight is negative."),
                       (lambda c: same(V.T * c, V.T * A_EX), "these weights do not give the same output.")),
             "[0.1, 1.024, 0.092]", also=("[0, 0.8 + 28*0.3/50, 0.5 - 51*0.3/50]",),
             wrong={"[-0.3, 0.8, 0.5]": "some weight is negative", "[0, 0.8, 0.5]": "do not give the same output"},
             hint="50 v1 + 28 v2 - 51 v3 = 0: add a multiple of (50, 28, -51) to a.", points=2, source="000 §7"),
]

COUNTER_CASES = {
    "linear-combination": fault("null-space-sign"),
    "outside-hull": inputs("a negative weight, but weights summing to 1.05: the output lands inside the hull",
                           "lab.weights=[0.5,0.6,-0.05]"),
    "convex-inside": inputs("weights for b that are not average-like: the output leaves the hull",
                            "lab.convex_weights=[1.2,-0.1,-0.1]"),
    "unique-coordinates": inputs("a negative weight, but weights summing to 1.05: they are not affine coordinates",
                                 "lab.weights=[0.5,0.6,-0.05]"),
    "sign-not-determined": inputs("two independent values: the coefficients, and so the negative sign, are forced",
                                  "lab.values=[[1,0.2],[0.4,1.1]]", "lab.weights=[-0.3,1.3]",
                                  "lab.convex_weights=[0.5,0.5]"),
    "numeric-agrees": inputs("huge opposite weights: floating point loses the output in the cancellation",
                             "lab.weights=[1e17,-1e17,1]"),
}
