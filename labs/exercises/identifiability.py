"""Exercises of identifiability: when the sum does, and does not, pin the weights down (003)."""

import sympy as sp

from ..grading import Exercise, exact, satisfies, vector

LAB = "identifiability"
U = sp.Matrix([[0], [sp.Rational(1, 2)], [1]])  # i, love, sushi in R^1


def _distribution_pair(c):
    return (isinstance(c, sp.MatrixBase) and c.shape == (2, 3) and all(x >= 0 for x in c)
            and all(sum(c.row(i)) == 1 for i in range(2)))


EXERCISES = [
    Exercise(LAB, "two_distributions", "The words i, love, sushi are embedded in R^1 as u = (0, 1/2, 1). Give two "
             "different weight vectors (each nonnegative, summing to 1) with the same output, as [[...], [...]].",
             satisfies((_distribution_pair, "give two rows of three nonnegative weights, each row summing to 1."),
                       (lambda c: c.row(0) != c.row(1), "the two weight vectors must be different."),
                       (lambda c: U.T * c.row(0).T == U.T * c.row(1).T, "these two give different outputs.")),
             "[[1/2, 0, 1/2], [0, 1, 0]]", also=("[[1/4, 1/2, 1/4], [1/3, 1/3, 1/3]]",),
             wrong={"[[1, 0, 0], [0, 0, 1]]": "different outputs", "[[1/2, 0, 1/2], [1/2, 0, 1/2]]": "must be different",
                    "[[1, -1, 1], [0, 1, 0]]": "nonnegative"},
             hint="love sits halfway between i and sushi.", points=2, source="003"),
    Exercise(LAB, "recover_weights", "With embeddings v1 = (1, 0), v2 = (0, 1), v3 = (1, 1), an attention output is "
             "z = (2/3, 2/3). Give the weights (summing to 1) that produced it.",
             exact([sp.Rational(1, 3)] * 3, "the weights"), "[1/3, 1/3, 1/3]",
             wrong={"[2/3, 2/3, 0]": "not right", "[0.333, 0.333, 0.333]": "not exact"},
             hint="solve c1 + c3 = 2/3, c2 + c3 = 2/3, c1 + c2 + c3 = 1.", source="003"),
    Exercise(LAB, "invisible_direction", "For u = (0, 1/2, 1), give a nonzero direction n that changes neither the "
             "sum of the weights nor the output: n1 + n2 + n3 = 0 and 0 n1 + n2/2 + n3 = 0.",
             satisfies(vector(3, "n"), (lambda n: any(x != 0 for x in n), "n must not be zero."),
                       (lambda n: sum(n) == 0, "n changes the sum of the weights."),
                       (lambda n: (U.T * n)[0] == 0, "n changes the output.")),
             "[1, -2, 1]", also=("[-1/2, 1, -1/2]",), wrong={"[1, -1, 0]": "changes the output",
                                                             "[1, 1, 1]": "changes the sum"}, source="003"),
    Exercise(LAB, "weights_are_an_output", "For one query, m = 3 keys and values in R^2, the attention layer gives "
             "the output z and the weights alpha. Give [the number of entries of z, the number of entries of alpha].",
             exact([2, 3], "the counts"), "[2, 3]", wrong={"[2, 0]": "not right"},
             hint="vecmix.attention returns both.", source="003"),
]
