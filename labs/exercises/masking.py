"""Exercises of masking: padding and causal masks (002 §6-7)."""

import sympy as sp

from ..grading import Exercise, exact

LAB = "masking"
E = sp.E

EXERCISES = [
    Exercise(LAB, "causal_mask", "Give the causal mask for 4 positions as a 4 x 4 matrix: 1 where query i may "
             "attend to key j, else 0.", exact(sp.Matrix(4, 4, lambda i, j: 1 if j <= i else 0), "the mask"),
             "[[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]",
             wrong={"[[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]]": "not right"},
             hint="a query may look at itself and the past, not the future.", source="002 §7"),
    Exercise(LAB, "padding_visible_keys", "Five positions, the last two are padding (valid length 3), no causal "
             "mask. Which key positions (1 to 5) may query 4 attend to? Give a set.",
             exact({1, 2, 3}, "the set of positions"), "{1, 2, 3}", also=("{3, 2, 1}",),
             wrong={"{1, 2, 3, 4}": "not the right set", "[1, 2, 3]": "must be a set"}, source="002 §6"),
    Exercise(LAB, "first_output", "With the causal mask, the first position sees only itself. If v1 = (2, -1), what "
             "is the output z1?", exact([2, -1], "z1"), "[2, -1]", wrong={"[0, 0]": "not right"},
             hint="a mixture of one vector.", source="002 §7"),
    Exercise(LAB, "future_weight", "With the causal mask, how much weight does query 2 put on key 3?", exact(0),
             "0", wrong={"0.001": "not exact", "1/3": "not right"}, hint="masked means exactly zero weight.",
             source="002 §7"),
    Exercise(LAB, "masked_softmax", "One query has scores s = (1, 0, 2), and key 3 is masked. Give the exact weights.",
             exact(sp.Matrix([E, 1, 0]) / (1 + E), "alpha"), "[E, 1, 0]/(1 + E)",
             wrong={"[E, 1, exp(2)]/(1 + E + exp(2))": "not right", "[0.731, 0.269, 0]": "not exact"},
             hint="softmax over the visible keys only.", points=2, source="002 §6"),
]
