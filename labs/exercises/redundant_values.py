"""Exercises of redundant_values: Try It 2 of 000 §9."""

import sympy as sp

from ..grading import Exercise, satisfies, vector

LAB = "redundant_values"
v1, v2 = sp.Matrix([1, sp.Rational(1, 5)]), sp.Matrix([sp.Rational(2, 5), sp.Rational(11, 10)])
V = sp.Matrix.vstack(v1.T, v2.T, (v1 + v2).T)  # rows v1, v2, v3 = v1 + v2
SETUP = "v1 = (1.0, 0.2), v2 = (0.4, 1.1), and v3 := v1 + v2."


def _two_rows(c):
    return isinstance(c, sp.MatrixBase) and c.shape == (2, 3)


EXERCISES = [
    Exercise(LAB, "same_output_twice", f"Try It 2. {SETUP}\nGive two different coefficient vectors with the same "
             "output, as a matrix [[c1, c2, c3], [d1, d2, d3]].",
             satisfies((_two_rows, "write the two coefficient vectors as the rows of a 2 x 3 matrix."),
                       (lambda c: c.row(0) != c.row(1), "the two coefficient vectors must be different."),
                       (lambda c: V.T * c.row(0).T == V.T * c.row(1).T, "these two do not give the same output.")),
             "[[1, 1, 0], [0, 0, 1]]", also=("[[0.2, 0.5, 0.3], [1.2, 1.5, -0.7]]",),
             wrong={"[[1, 1, 0], [1, 1, 0]]": "must be different", "[[1, 0, 0], [0, 1, 0]]": "same output"},
             hint="v1 + v2 - v3 = 0.", points=2, source="000 §9"),
    Exercise(LAB, "null_direction", f"{SETUP}\nGive a nonzero direction n with n1 v1 + n2 v2 + n3 v3 = 0.",
             satisfies(vector(3, "n"), (lambda n: any(x != 0 for x in n), "n must not be zero."),
                       (lambda n: V.T * n == sp.zeros(2, 1), "this combination of the values is not zero.")),
             "[1, 1, -1]", also=("[-2, -2, 2]",), wrong={"[0, 0, 0]": "must not be zero", "[1, 1, 1]": "not zero"},
             source="000 §7"),
]
