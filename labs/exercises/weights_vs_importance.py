"""Exercises of weights_vs_importance: weights are not importance (002 §7)."""

import sympy as sp

from ..grading import Exercise, exact

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
