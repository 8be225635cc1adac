"""Lab ``weights_vs_importance``: softmax weights are not a direct explanation of importance (002 §7).

Remove each key in turn (the other weights renormalise) and measure how far the output
moves. Exactly, z - z_{-i} = alpha_i / (1 - alpha_i) (v_i - z): the effect of a key is its
odds alpha_i / (1 - alpha_i), not its weight, times how far its value lies from the
output. The largest weight can have no effect at all (its value equals z), and a small
weight on a distant value can matter most.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    attention,
    exact_attention,
    exact_equal,
    is_nonnegative,
    is_zero,
    one_fraction,
    to_numeric,
)

from ..claims import Claim, fault, inputs
from ..config.inputs import check_pairs, check_query_size, read_positive_int, read_vector, read_vectors
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, decimal, display, error_text, image, table, tex, tuple_tex

TITLE = "Attention weights are not importance: remove each key and watch the output"
SOURCE = "002 §7"
TOLERANCE = 1e-12


@dataclass
class Config:
    """weights_vs_importance: one query; each key removed in turn."""

    name: str = "weights_vs_importance"
    query: List[Any] = MISSING
    keys: List[List[Any]] = MISSING
    values: List[List[Any]] = MISSING
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


COUNTER_CASES = {
    "leave-one-out-formula": fault("exact-softmax-unnormalised"),
    "largest-weight-no-effect": inputs("the heaviest key's value moved off the output, to (1, 0)",
                                       "lab.values=[[1,0],[1,0],[-1,0],[0,10],[0,-10]]"),
    "small-weight-matters-most": inputs("the heaviest key's value moved far from the output, to (0, 30)",
                                        "lab.values=[[0,30],[1,0],[-1,0],[0,10],[0,-10]]"),
    "numeric-agrees": fault("online-unnormalised"),
}


def run(params):
    """Leave each key out, compare the output's move with the key's weight.

    >>> r = run({"query": [1], "keys": [[2], [1], [1], [0], [0]],
    ...          "values": [[0, 0], [1, 0], [-1, 0], [0, 10], [0, -10]], "d_k": 1})
    >>> r.reproduced
    True
    """
    q = read_vector(params["query"], "lab.query")  # (d_k, 1)
    K = read_vectors(params["keys"], "lab.keys")  # (m, d_k)
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    m, d = V.shape
    check_pairs(K, V)
    check_query_size(q.rows, K)
    if m < 2:
        raise VecmixError("lab.values needs at least 2 pairs: removing the only key leaves no mixture")
    d_k = K.cols if params.get("d_k") is None else read_positive_int(params["d_k"], "lab.d_k")
    scale = None if d_k == K.cols else 1 / sp.sqrt(d_k)  # None: vecmix's own default 1/sqrt(d_k)
    q_num, K_num, V_num = to_numeric(q).ravel(), to_numeric(K), to_numeric(V)
    scale_num = None if scale is None else float(scale)

    Z, A = exact_attention(q.T, K, V, scale=scale)  # (1, d), (1, m)
    alpha, z = A.T, Z.T  # (m, 1), (d, 1)
    z_num, a_num = attention(q_num, K_num, V_num, scale=scale_num, weights=True)  # the full weights path
    errors = [float(np.max(np.abs(a_num - to_numeric(alpha).ravel()))),
              float(np.max(np.abs(attention(q_num, K_num, V_num, scale=scale_num) - to_numeric(z).ravel())))]
    moves, formula_ok = [], True
    for i in range(m):
        keep = [j for j in range(m) if j != i]
        K_i, V_i = K.extract(keep, list(range(K.cols))), V.extract(keep, list(range(d)))  # (m - 1, d_k), (m - 1, d)
        z_without = exact_attention(q.T, K_i, V_i, scale=scale)[0].T  # (d, 1): the key removed, the rest renormalised
        move = (z - z_without).applyfunc(one_fraction)  # (d, 1)
        # the lab's prediction move = alpha_i / (1 - alpha_i) (v_i - z), multiplied out by (1 - alpha_i)
        formula_ok = formula_ok and exact_equal((1 - alpha[i]) * move, alpha[i] * (V.row(i).T - z))
        moves.append(move)
        z_without_num = attention(q_num, K_num[keep], V_num[keep], scale=scale_num)  # the default blocked path
        errors.append(float(np.max(np.abs(z_without_num - to_numeric(z_without).ravel()))))
    effects = [sp.sqrt(sp.factor(one_fraction((mv.T * mv)[0]))) for mv in moves]  # |z - z_{-i}|, simplified
    odds = [sp.oo if is_zero(1 - a) else sp.factor(one_fraction(a / (1 - a))) for a in alpha]  # alpha_i / (1 - alpha_i)
    distances = [sp.sqrt(sp.factor(one_fraction(((V.row(i).T - z).T * (V.row(i).T - z))[0]))) for i in range(m)]
    alpha_num = to_numeric(alpha).ravel()
    effect_num = np.array([float(to_numeric(e)) for e in effects])
    top = int(np.argmax(alpha_num))
    most = int(np.argmax(effect_num))
    top_no_effect = exact_equal(V.row(top).T, z) and effects[top] == 0
    small_matters = alpha_num[most] < alpha_num[top] and all(is_nonnegative(effects[most] - e) for e in effects)
    err = max(errors)

    claims = [
        Claim("leave-one-out-formula", "removing key i moves the output by alpha_i / (1 - alpha_i) times (v_i - z): "
              "the key's odds, not its weight, times its value's offset from z", "002 §7 (derived from 002 §2)",
              "z - z_{-i} (vecmix, key i removed) = alpha_i (v_i - z) / (1 - alpha_i) for every key",
              "equal for every key (exact)" if formula_ok else "differs for some key", formula_ok, True),
        Claim("largest-weight-no-effect", f"the largest weight (key {top + 1}, {decimal(alpha_num[top])}) has no "
              "effect: its value equals z, so removing it leaves z unchanged", SOURCE, "|z - z_{-i}| = 0",
              f"|z - z_{{-{top + 1}}}| = {sp.sstr(effects[top])}", top_no_effect, True),
        Claim("small-weight-matters-most", f"the key whose removal moves z most (key {most + 1}) has a smaller weight "
              f"({decimal(alpha_num[most])}) than the largest ({decimal(alpha_num[top])})", SOURCE,
              "argmax effect != argmax weight",
              f"largest effect {decimal(effect_num[most])} from key {most + 1}, weight {decimal(alpha_num[most])}",
              small_matters, True),
        Claim("numeric-agrees", "numpy's weights, output and leave-one-out outputs (default blocked path) agree with "
              "the exact ones", "vecmix (numeric = exact)", "max difference <= 1e-12", error_text(err), err <= TOLERANCE,
              False),
    ]
    labels = [f"key {i + 1}" for i in range(m)]
    figures = {"importance.svg": fig.grouped_bars(labels, [("weight αᵢ", alpha_num, fig.ATTENTION_COLOR),
                                                           ("|z − z without key i|", effect_num, fig.OTHER_COLORS[0])],
                                                  "size", "weight against the effect of removing the key")}
    values = [Value("query", q_num, q), Value("keys", K_num, K), Value("d_k", d_k), Value("weights", alpha_num, alpha),
              Value("output", z_num, z), Value("moves", [to_numeric(mv).ravel() for mv in moves], moves),
              Value("odds", [float("inf") if o is sp.oo else to_numeric(o) for o in odds], odds), Value("effect", effect_num, effects)]
    sections = _sections(q, K, V, d_k, z, alpha_num, odds, distances, effects, effect_num, top, most, top_no_effect)
    intro = f"*Reproduces* the failure mode \"treating softmax weights as a direct explanation\" of {cite('002', 7)}."
    return LabResult("weights_vs_importance", TITLE, intro, sections, claims, values, figures, [
        "The source states the failure mode in words; the keys and values are the lab's choice, built so that the "
        "two effects it names appear exactly. Leave-one-out is one notion of importance among several."])


def _sections(q, K, V, d_k, z, alpha_num, odds, distances, effects, effect_num, top, most, top_no_effect):
    m = V.rows
    rows = [[f"key {i + 1}", f"${tuple_tex(K.row(i))}$", f"${tuple_tex(V.row(i))}$", decimal(alpha_num[i]),
             f"${tex(odds[i])}$", f"${tex(distances[i])}$", decimal(effect_num[i]), f"${tex(effects[i])}$"]
            for i in range(m)]
    return [
        "## The idea\n\n"
        "The source warns against treating softmax weights as a direct explanation of causal importance. One "
        "concrete test of importance: remove a key (the other weights renormalise) and see how far the output "
        "moves. Writing $z_{-i}$ for that output, the remaining weights are $\\alpha_j / (1 - \\alpha_i)$, so\n"
        + display(r"z - z_{-i} = \frac{\alpha_i}{1 - \alpha_i} (v_i - z), \qquad "
                  r"\lVert z - z_{-i} \rVert = \frac{\alpha_i}{1 - \alpha_i} \lVert v_i - z \rVert")
        + "\nThe effect of a key is its *odds* $\\alpha_i / (1 - \\alpha_i)$ times how far its value lies from the "
        "output, not its weight times that distance: the two nearly agree only for light keys "
        "($1 - \\alpha_i \\approx 1$), and a key with weight $1/2$ moves $z$ by the whole distance, not half "
        "of it. A heavy key whose value already sits at $z$ changes nothing; a light key with a distant value can "
        "move $z$ a lot.\n",
        "## Each key removed in turn\n\n"
        f"The query is $q = {tuple_tex(q)}$ with $d_k = {d_k}$ (scores $q \\cdot k_i / \\sqrt{{{d_k}}}$); "
        f"the output is $z = {tuple_tex(z)}$.\n\n"
        + table(["key", "$k_i$", "value $v_i$", "weight $\\alpha_i$", "odds $\\alpha_i/(1-\\alpha_i)$",
                 "$\\lVert v_i - z \\rVert$", "effect of removing it", "effect (exact)"], rows)
        + "\n\n"
        + ("The heaviest key's value *is* the output, so removing it does nothing, " if top_no_effect else
           f"The heaviest key (key {top + 1}) moves $z$ by {decimal(effect_num[top])} when removed, ")
        + f"while key {most + 1}, with weight {decimal(alpha_num[most])}, moves it the most.\n\n"
        + image("figures/importance.svg", "weights against effects",
                "Figure 1. Each key's weight beside the distance the output moves when that key is removed.")
        + "\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises weights_vs_importance)

LAB = "weights_vs_importance"
SETUP = "Weights alpha = (1/2, 1/4, 1/4) on values v1 = (0, 0), v2 = (4, 0), v3 = (-4, 0), so z = (0, 0)."

EXERCISES = [
    Exercise(LAB, "move_without_key2", f"{SETUP}\nRemove key 2 and renormalise the other weights. Give the new "
             "output minus the old one.", exact([sp.Rational(-4, 3), 0], "the move"), "[-4/3, 0]",
             wrong={"[-1, 0]": "not right", "[0, 0]": "not right", "[4/3, 0]": "not right"},
             hint="z - z_without_i = alpha_i (v_i - z) / (1 - alpha_i); the question asks for the new minus the old.",
             points=2, source="002 §7"),
    Exercise(LAB, "key_without_effect", f"{SETUP}\nRemoving which key (1, 2 or 3) leaves z unchanged?",
             exact(1, "the key"), "1", wrong={"2": "not right"}, hint="its value already equals z.", source="002 §7"),
    Exercise(LAB, "odds_not_weight", "A key has weight 1/2 and its value lies at distance 6 from the output z. How "
             "far does z move when that key is removed (the other weights renormalise)?", exact(6, "the distance"),
             "6", wrong={"3": "not right", "12": "not right"},
             hint="the move is alpha / (1 - alpha) times the distance, not alpha times the distance.",
             source="002 §7"),
]
