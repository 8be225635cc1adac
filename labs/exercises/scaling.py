"""Exercises of scaling: why the scores are divided by sqrt(d_k) (AIAYN §3.2.1)."""

import sympy as sp

from ..grading import Exercise, exact

LAB = "scaling"
SETUP = "The components of q and k are independent, with mean 0 and variance 1."

EXERCISES = [
    Exercise(LAB, "variance", f"{SETUP}\nWhat is the variance of q . k when d_k = 64?", exact(64, "the variance"),
             "64", wrong={"8": "not right", "1": "not right"}, hint="each term q_i k_i has variance 1.",
             source="AIAYN §3.2.1"),
    Exercise(LAB, "scale", f"{SETUP}\nBy what factor must q . k be multiplied, for d_k = 16, to have variance 1?",
             exact(sp.Rational(1, 4), "the factor"), "1/4", also=("1/sqrt(16)", "0.25"),
             wrong={"1/16": "not right"}, hint="variance scales with the square of the factor.",
             source="AIAYN §3.2.1"),
    Exercise(LAB, "saturated_gradient", "The softmax weights of one query are alpha = (1, 0, 0), as when the "
             "scores are huge. Give the softmax Jacobian diag(alpha) - alpha alpha^T as a matrix.",
             exact(sp.zeros(3, 3), "the Jacobian"), "[[0, 0, 0], [0, 0, 0], [0, 0, 0]]",
             wrong={"[[1, 0, 0], [0, 0, 0], [0, 0, 0]]": "not right"}, hint="compute diag(alpha) and alpha alpha^T.",
             source="AIAYN §3.2.1"),
]
