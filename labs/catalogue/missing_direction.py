"""Lab ``missing_direction``: "if the value vectors miss an important direction, no weighting
scheme can create it from nothing" (000 §7).

Values in R^3 that span a plane; a target with a component off the plane. No weights
reach it (the exact system is inconsistent), the least-squares residual is the
distance to the span, and every attention output has exactly zero component along the
missing direction, whatever the query.
"""

import math
from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    attention,
    distance_to_span,
    eliminate,
    exact_attention,
    is_zero,
    one_fraction,
    solution_set,
    to_numeric,
)

from ..claims import Claim
from ..config.inputs import check_pairs, check_query_size, read_vector, read_vectors
from ..grading import Exercise, exact, satisfies, vector
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, decimal, display, image, table, tex, tuple_tex

TITLE = "A missing direction: what no weighting of the values can reach"
SOURCE = "000 §7"


@dataclass
class Config:
    """missing_direction: values spanning a proper subspace, a target off it, and attention outputs."""

    name: str = "missing_direction"
    values: List[List[Any]] = MISSING  # v_1..v_m in R^d, spanning less than R^d
    target: List[Any] = MISSING  # a vector with a component off their span
    keys: List[List[Any]] = MISSING  # k_1..k_m
    queries: List[List[Any]] = MISSING  # several queries, one attention output each


def run(params):
    """Locate the target against the values' span, and every attention output along the missing direction.

    >>> r = run({"values": [[1, 0, 1], [0, 1, 1], [2, -1, 1]], "target": [1, 1, 1],
    ...          "keys": [[1, 0], [0, 1], [1, 1]], "queries": [[1, 0], [0, 2]]})
    >>> r.reproduced, r.values[2].to_json()["exact"]
    (True, ['1', '1', '-1'])
    """
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    target = read_vector(params["target"], "lab.target")  # (d, 1)
    K = read_vectors(params["keys"], "lab.keys")  # (m, d_k)
    Q = read_vectors(params["queries"], "lab.queries")  # (n_q, d_k)
    m, d = V.shape
    if target.rows != d:
        raise VecmixError(f"lab.target has {target.rows} numbers but the values live in R^{d}")
    check_pairs(K, V)
    check_query_size(Q.cols, K, query="each of lab.queries")
    elim = eliminate(V)
    if not elim.complement:
        raise VecmixError(f"lab.values span all of R^{d} (rank {elim.rank}): no direction is missing; "
                          "give values that span a proper subspace")
    n = _primitive(elim.complement[0])  # the missing direction (d, 1), integer entries
    N = sp.Matrix.hstack(*elim.complement)  # (d, k)

    off = (N.T * target).applyfunc(one_fraction)  # (k, d) (d, 1) -> (k, 1): target's complement coordinates
    reachable = solution_set(V, target, elim).consistent
    distance = distance_to_span(V, target)
    V_num, t_num = to_numeric(V), to_numeric(target).ravel()  # (m, d), (d,)
    c_ls, *_ = np.linalg.lstsq(V_num.T, t_num, rcond=None)  # argmin |V^T c - target|, (m,)
    residual = float(np.linalg.norm(V_num.T @ c_ls - t_num))  # (d, m) @ (m,) -> (d,)
    Z, A = exact_attention(Q, K, V)  # (n_q, d), (n_q, m)
    along = [(N.T * Z.row(i).T).applyfunc(one_fraction) for i in range(Q.rows)]  # each (k, 1)
    Z_num, A_num = attention(to_numeric(Q), to_numeric(K), V_num, weights=True)  # (n_q, d), (n_q, m)
    w = sp.Matrix(sp.symbols(f"w_1:{m + 1}"))  # any weights at all (m, 1)
    generic = (N.T * V.T * w).applyfunc(sp.expand)  # (k, d) (d, m) (m, 1) -> (k, 1)
    nn = (n.T * n)[0]  # (1, d) (d, 1) -> (1, 1)
    projection = target - n * (n.T * target)[0] / nn if len(elim.complement) == 1 else None  # (d, 1)

    claims = [
        Claim("plane", f"the {m} values span a proper subspace of R^{d}: a direction is missing", SOURCE,
              f"rank < {d}", f"rank {elim.rank}; missing direction n = {tuple_str(n)}", elim.rank < d, True),
        Claim("unreachable", "no coefficients reach the target: the exact system V^T c = target is inconsistent",
              SOURCE, "inconsistent", "inconsistent" if not reachable else "consistent", not reachable, True),
        Claim("residual-is-distance", "the least-squares residual equals the exact distance from the target to the "
              "span", SOURCE, f"{sp.sstr(distance)} = {float(distance):.12f}", f"{residual:.12f}",
              abs(residual - float(distance)) <= 1e-12, False),
        Claim("attention-outputs-miss-it", f"each of the {Q.rows} attention outputs has exactly zero component along "
              "the missing direction", "000 §5", "n . z = 0 for every query", "0 exactly for all" if all(
                  is_zero(x) for a in along for x in a) else "a nonzero component",
              all(is_zero(x) for a in along for x in a), True),
        Claim("no-weights-create-it", "for any weights w (symbols), n . (V^T w) = 0 identically: no weighting scheme "
              "creates the direction", SOURCE, "0 as a polynomial in w", sp.sstr(list(generic)),
              all(g == 0 for g in generic), True),
        Claim("numeric-agrees", "numpy's attention outputs agree with the exact ones to 1e-12", "001 §7",
              "max difference <= 1e-12", f"{float(np.max(np.abs(Z_num - to_numeric(Z)))):.1e}",
              float(np.max(np.abs(Z_num - to_numeric(Z)))) <= 1e-12, False),
    ]

    unit = to_numeric(n).ravel() / np.sqrt(float(nn))  # (d,)
    labels = ["target"] + [fig.named("z", i + 1) for i in range(Q.rows)]
    components = [float(t_num @ unit)] + [float(z @ unit) for z in Z_num]  # (d,) @ (d,)
    P, note = fig.projection(V_num)  # (2, d): lossless for the values, which span a plane
    figures = {
        "components.svg": fig.grouped_bars(labels, [("component along n", components)], "n . x / |n|",
                                           "component along the missing direction"),
        "plane.svg": fig.mixture_figure(V_num @ P.T, [fig.named("v", i + 1) for i in range(m)],  # (m, 2)
                                        [("target, flattened onto the plane", P @ t_num)]  # (2, d) (d,) -> (2,)
                                        + [(f"attention output {i + 1}", P @ z) for i, z in enumerate(Z_num)]),
    }
    values = [Value("values", V_num, V), Value("rank", elim.rank), Value("missing_direction", to_numeric(n).ravel(), n),
              Value("target", t_num, target), Value("target_off_span", to_numeric(off).ravel(), off),
              Value("distance", float(distance), distance), Value("least_squares_residual", residual),
              Value("least_squares_coefficients", c_ls), Value("attention_outputs", Z_num, Z),
              Value("attention_weights", A_num, A)]
    rows = [[i + 1, f"${tuple_tex(Q.row(i))}$", f"({', '.join(decimal(x) for x in Z_num[i])})",
             f"${tex(along[i][0])}$"] for i in range(Q.rows)]
    sections = [
        "## The idea\n\n"
        "Attention can only reweight the value vectors it is given. If they all lie in a plane, every mixture "
        "lies in that plane too: a direction the values miss cannot be created by any choice of weights.\n"
        + display(r", \qquad ".join(f"v_{{{i + 1}}} = {column(V.row(i))}" for i in range(m))
                  + rf", \qquad n = {column(n)}"),
        "## The target cannot be reached\n\n"
        f"The values have rank {elim.rank}; every one of them is orthogonal to $n$. The target "
        f"$t = {tuple_tex(target)}$ has $n \\cdot t = {tex((n.T * target)[0])} \\neq 0$, so the system "
        "$V^\\top c = t$ has no solution (exact elimination finds the inconsistent row). The best a mixture can do "
        f"is the projection of $t$ onto the span"
        + (f", ${tuple_tex(projection)}$" if projection is not None else "")
        + f", at distance exactly ${tex(distance)} \\approx {decimal(float(distance), 6)}$: numpy's least-squares "
        f"residual is {residual:.12f}.\n",
        "## Attention outputs never leave the plane\n\n"
        + table(["query", "$q$", "output $z$", "$n \\cdot z$ (exact)"], rows)
        + "\n\nFor weights $w$ that are any symbols at all, $n \\cdot (V^\\top w)$ expands to exactly $0$: the "
        "identity holds for every weighting scheme, attention or not.\n\n"
        + image("figures/components.svg", "components along the missing direction",
                "Figure 1. The component along the missing direction: the target has one, no attention output does.")
        + "\n\n" + image("figures/plane.svg", "the plane of the values",
                         "Figure 2. The plane of the values (drawn in its own coordinates), the attention outputs, "
                         "and the target with its off-plane component flattened." + (f" {note}" if note else ""))
        + "\n",
    ]
    intro = f"*Reproduces* the failure mode \"no weighting scheme can create it from nothing\" of {cite('000', 7)}."
    return LabResult("missing_direction", TITLE, intro, sections, claims, values, figures, [
        "The source states the failure mode without numbers; the values, target and queries are the lab's choice."])


def tuple_str(M):
    return "(" + ", ".join(sp.sstr(x) for x in M) + ")"


def _primitive(n):
    """n scaled to coprime integers with a positive first nonzero entry (the same direction, easier to read)."""
    scale = sp.Rational(math.lcm(*[int(x.q) for x in n]), math.gcd(*[int(x.p) for x in n if x != 0]))
    n = n * scale
    first = next(x for x in n if x != 0)
    return n if first > 0 else -n


# Exercises: graded by pytest (python -m labs.exercises missing_direction)

LAB = "missing_direction"
V = sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]])
SETUP = "Values v1 = (1, 0, 1), v2 = (0, 1, 1), v3 = (2, -1, 1) in R^3."

EXERCISES = [
    Exercise(LAB, "missing_direction", f"{SETUP}\nGive a nonzero direction n orthogonal to all three values.",
             satisfies(vector(3, "n"), (lambda n: any(x != 0 for x in n), "n must not be zero."),
                       (lambda n: V * n == sp.zeros(3, 1), "n is not orthogonal to every value.")),
             "[1, 1, -1]", also=("[-2, -2, 2]",), wrong={"[0, 0, 1]": "not orthogonal", "[0, 0, 0]": "not be zero"},
             hint="every value has x + y = z.", source="000 §7"),
    Exercise(LAB, "distance", f"{SETUP}\nHow far is the target t = (1, 1, 1) from the span of the values? Exactly.",
             exact(sp.sqrt(3) / 3, "the distance"), "sqrt(3)/3", also=("1/sqrt(3)",),
             wrong={"0.577": "not exact", "1": "not right"}, hint="project t onto the missing direction.",
             points=2, source="000 §7"),
]
