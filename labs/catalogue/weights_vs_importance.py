"""Lab ``weights_vs_importance``: softmax weights are not a direct explanation of importance (002 §7).

Remove each key in turn (the other weights renormalise) and measure how far the output
moves. Exactly, z - z_{-i} = alpha_i (v_i - z) / (1 - alpha_i): the effect of a key is its
weight times how far its value is from the output. The largest weight can have no effect
at all (its value equals z), and a small weight on a distant value can matter most.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import VecmixError, attention, exact_attention, exact_equal, is_nonnegative, one_fraction, to_numeric

from ..claims import Claim
from ..config.inputs import check_pairs, check_query_size, read_positive_int, read_vector, read_vectors
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, decimal, display, image, table, tex, tuple_tex

TITLE = "Attention weights are not importance: remove each key and watch the output"
SOURCE = "002 §7"


@dataclass
class Config:
    """weights_vs_importance: one query; each key removed in turn."""

    name: str = "weights_vs_importance"
    query: List[Any] = MISSING
    keys: List[List[Any]] = MISSING
    values: List[List[Any]] = MISSING
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


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
    scale = 1 / sp.sqrt(d_k)

    Z, A = exact_attention(q.T, K, V, scale=scale)  # (1, d), (1, m)
    alpha, z = A.T, Z.T  # (m, 1), (d, 1)
    moves, formula_ok = [], True
    for i in range(m):
        keep = [j for j in range(m) if j != i]
        z_without = exact_attention(q.T, K.extract(keep, list(range(K.cols))), V.extract(keep, list(range(d))),
                                    scale=scale)[0].T  # (d, 1): the key removed, the rest renormalised
        move = (z - z_without).applyfunc(one_fraction)  # (d, 1)
        formula = (alpha[i] * (V.row(i).T - z) / (1 - alpha[i])).applyfunc(one_fraction)  # (d, 1)
        formula_ok = formula_ok and exact_equal(move, formula)
        moves.append(move)
    effects = [one_fraction((mv.T * mv)[0]) for mv in moves]  # squared lengths |z - z_{-i}|^2, exact
    alpha_num = to_numeric(alpha).ravel()
    effect_num = np.sqrt([float(to_numeric(e)) for e in effects])
    top = int(np.argmax(alpha_num))
    most = int(np.argmax(effect_num))
    top_no_effect = exact_equal(V.row(top).T, z) and effects[top] == 0
    small_matters = alpha_num[most] < alpha_num[top] and all(
        is_nonnegative(effects[most] - e) for e in effects)
    z_num, a_num = attention(to_numeric(q).ravel(), to_numeric(K), to_numeric(V), scale=float(scale), weights=True)
    err = max(float(np.max(np.abs(a_num - alpha_num))), float(np.max(np.abs(z_num - to_numeric(z).ravel()))))

    claims = [
        Claim("leave-one-out-formula", "removing key i moves the output by alpha_i (v_i - z) / (1 - alpha_i)",
              SOURCE, "exact for every key", "exact for every key" if formula_ok else "differs", formula_ok, True),
        Claim("largest-weight-no-effect", f"the largest weight (key {top + 1}, {decimal(alpha_num[top])}) has no "
              "effect: its value equals z, so removing it leaves z unchanged", SOURCE, "|z - z_{-i}| = 0",
              f"{sp.sstr(sp.sqrt(effects[top]))}", top_no_effect, True),
        Claim("small-weight-matters-most", f"the key whose removal moves z most (key {most + 1}) has a smaller weight "
              f"({decimal(alpha_num[most])}) than the largest", SOURCE, "argmax effect != argmax weight",
              f"effect {decimal(effect_num[most])} from weight {decimal(alpha_num[most])}", small_matters, True),
        Claim("numeric-agrees", "numpy's weights and output agree with the exact ones to 1e-12", SOURCE,
              "max difference <= 1e-12", f"{err:.1e}", err <= 1e-12, False),
    ]
    labels = [f"key {i + 1}" for i in range(m)]
    figures = {"importance.svg": fig.grouped_bars(labels, [("weight alpha_i", alpha_num),
                                                           ("|z - z without key i|", effect_num)],
                                                  "size", "weight against the effect of removing the key")}
    values = [Value("weights", alpha_num, alpha), Value("output", z_num, z),
              Value("moves", [to_numeric(mv).ravel() for mv in moves], moves),
              Value("effect", effect_num, [sp.sqrt(e) for e in effects])]
    rows = [[f"key {i + 1}", f"${tuple_tex(V.row(i))}$", decimal(alpha_num[i]), decimal(effect_num[i]),
             f"${tex(sp.sqrt(effects[i]))}$" if effects[i] == 0 or len(str(effects[i])) < 60 else "(long)"]
            for i in range(m)]
    sections = [
        "## The idea\n\n"
        "The source warns against treating softmax weights as a direct explanation of causal importance. One "
        "concrete test of importance: remove a key (the other weights renormalise) and see how far the output "
        "moves. Writing $z_{-i}$ for that output,\n"
        + display(r"z - z_{-i} = \frac{\alpha_i}{1 - \alpha_i}\,(v_i - z)")
        + "\nso the effect of a key is its weight times how far its value lies from the output. A heavy key whose "
        "value already sits at $z$ changes nothing; a light key with a distant value can move $z$ a lot.\n",
        "## Each key removed in turn\n\n"
        + table(["key", "value $v_i$", "weight", "effect of removing it", "effect (exact)"], rows)
        + f"\n\nHere $z = {tuple_tex(z)}$. "
        + ("The heaviest key's value *is* the output, so removing it does nothing, " if top_no_effect else
           f"The heaviest key (key {top + 1}) moves $z$ by {decimal(effect_num[top])} when removed, ")
        + f"while key {most + 1}, with weight {decimal(alpha_num[most])}, moves it the most.\n\n"
        + image("figures/importance.svg", "weights against effects",
                "Figure 1. Each key's weight beside the distance the output moves when that key is removed.")
        + "\n",
    ]
    intro = f"*Reproduces* the failure mode \"treating softmax weights as a direct explanation\" of {cite('002', 7)}."
    return LabResult("weights_vs_importance", TITLE, intro, sections, claims, values, figures, [
        "The source states the failure mode in words; the keys and values are the lab's choice, built so that the "
        "two effects it names appear exactly. Leave-one-out is one notion of importance among several."])


# Exercises: graded by pytest (python -m labs.exercises weights_vs_importance)

LAB = "weights_vs_importance"
SETUP = "Weights alpha = (1/2, 1/4, 1/4) on values v1 = (0, 0), v2 = (4, 0), v3 = (-4, 0), so z = (0, 0)."

EXERCISES = [
    Exercise(LAB, "move_without_key2", f"{SETUP}\nRemove key 2 and renormalise the other weights. Give the new "
             "output minus the old one.", exact([sp.Rational(-4, 3), 0], "the move"), "[-4/3, 0]",
             wrong={"[-1, 0]": "not right", "[0, 0]": "not right"},
             hint="z - z_without_i = alpha_i (v_i - z) / (1 - alpha_i).", points=2, source="002 §7"),
    Exercise(LAB, "key_without_effect", f"{SETUP}\nRemoving which key (1, 2 or 3) leaves z unchanged?",
             exact(1, "the key"), "1", wrong={"2": "not right"}, hint="its value already equals z.", source="002 §7"),
]
