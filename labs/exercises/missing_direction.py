"""Exercises of missing_direction: what no weighting can reach (000 §7)."""

import sympy as sp

from ..grading import Exercise, exact, satisfies, vector

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
