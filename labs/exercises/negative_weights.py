"""Exercises of negative_weights: Try It 1 of 000 §9."""


from vecmix import in_hull

from ..grading import Exercise, satisfies, vector
from .vector_mixture import V

LAB = "negative_weights"

EXERCISES = [
    Exercise(LAB, "outside_the_hull",
             "Try It 1. With v1 = (1.0, 0.2), v2 = (0.4, 1.1), v3 = (1.2, 0.8), give weights (a1, a2, a3) that sum "
             "to 1 with one negative entry, such that the output V^T a lies outside the convex hull of the values.",
             satisfies(vector(3, "the weights"), (lambda a: sum(a) == 1, "the weights must sum to 1."),
                       (lambda a: any(x < 0 for x in a), "no weight is negative."),
                       (lambda a: not in_hull(V, V.T * a)[0], "the output of these weights is still inside the hull.")),
             "[-0.3, 0.8, 0.5]", also=("[1.5, -1, 0.5]",),
             wrong={"[0.2, 0.5, 0.3]": "no weight is negative", "[0.2, 0.5, 0.4]": "sum to 1"},
             hint="a negative weight pushes the output away from that value.", points=2, source="000 §9"),
]
