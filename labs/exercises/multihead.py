"""Exercises of multihead: the mixture repeated in parallel subspaces (001 §6)."""

import sympy as sp

from ..grading import Exercise, exact

LAB = "multihead"

EXERCISES = [
    Exercise(LAB, "projected_values", "Two tokens x1 = (1, 1), x2 = (0, 1) (the rows of X) and a head with "
             "W_v = [[2], [1]]. Give that head's values V = X W_v as a matrix (one row per token).",
             exact(sp.Matrix([[3], [1]]), "V"), "[[3], [1]]", wrong={"[[3, 1]]": "shape 1 x 2", "[[2], [1]]": "not right"},
             hint="row i of X W_v is x_i W_v.", source="001 §6"),
    Exercise(LAB, "concatenated_size", "With d_model = 8 and h = 2 heads of size d_model / h, how many numbers per "
             "token does the concatenation [z1 z2] have, before W_o?", exact(8, "the size"), "8",
             wrong={"4": "not right"}, source="001 §6"),
    Exercise(LAB, "head_output", "One head has values v1 = (2), v2 = (1) and gives token 1 the weights (1/4, 3/4). "
             "What is that head's output for token 1?", exact(sp.Rational(5, 4), "the output"), "5/4",
             also=("[5/4]", "1.25"), wrong={"3": "not right"}, hint="a mixture of the head's own values.",
             source="001 §6"),
]
