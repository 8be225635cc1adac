"""Exercises of efficient_variants: blocked, windowed and linear attention are still mixtures (001 §8)."""

import sympy as sp

from ..grading import Exercise, exact

LAB = "efficient_variants"
E = sp.E

EXERCISES = [
    Exercise(LAB, "merge_blocks", "Scores (0, 1 | 1, 2) in two blocks with values (1, 0 | 0, 1). Block 1 has mass "
             "l1 = 1 + e and block 2 mass l2 = e + e^2 (before any rescaling). What share of the total softmax "
             "weight falls on block 1? (exact)", exact((1 + E) / (1 + 2 * E + E**2), "the share"),
             "(1 + E)/(1 + 2*E + exp(2))", also=("1/(1 + E)",), wrong={"1/2": "not right", "0.269": "not exact"},
             hint="share = l1 / (l1 + l2).", points=2, source="001 §8"),
    Exercise(LAB, "band_mask", "Give the sliding-window mask of radius 1 for 4 tokens: a 4 x 4 matrix with 1 where "
             "|i - j| <= 1, else 0.", exact(sp.Matrix(4, 4, lambda i, j: 1 if abs(i - j) <= 1 else 0), "the mask"),
             "[[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]",
             wrong={"[[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]": "not right"}, source="001 §8"),
    Exercise(LAB, "linear_weights", "Linear attention with feature values phi(q) . phi(k_i) = (1, 3) for two keys: "
             "give the weights.", exact([sp.Rational(1, 4), sp.Rational(3, 4)], "the weights"), "[1/4, 3/4]",
             wrong={"[1, 3]": "not right"}, hint="normalise so the weights sum to 1.", source="001 §8"),
]
