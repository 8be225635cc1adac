"""Exercises of paper_lab: the five reproduction steps of 001 §7, on small inputs in R^3."""

import sympy as sp

from ..grading import Exercise, equivalent, exact, satisfies, vector

LAB = "paper_lab"
E = sp.E
V = sp.Matrix([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
ALPHA = sp.Matrix([1, 1, E]) / (2 + E)
Z = V.T * ALPHA
SETUP = ("Steps 1-2: values v1 = (1, 0, 0), v2 = (0, 1, 0), v3 = (1, 1, 0); keys k1 = (1, 0, 0), k2 = (0, 1, 0), "
         "k3 = (0, 0, 1); query q = (0, 0, 2); d_k = 4.")

EXERCISES = [
    Exercise(LAB, "step3_scores", f"{SETUP}\nGive the scores s_i = q . k_i / sqrt(d_k).", exact([0, 0, 1], "s"),
             "[0, 0, 1]", wrong={"[0, 0, 2]": "entry 3"}, hint="do not forget sqrt(d_k) = 2.", source="001 §7"),
    Exercise(LAB, "step3_weights", f"{SETUP}\nStep 3: give the exact attention weights.", exact(ALPHA, "alpha"),
             "[1, 1, E]/(2 + E)", also=("[exp(-1), exp(-1), 1]/(1 + 2*exp(-1))",),
             wrong={"[0.212, 0.212, 0.576]": "not exact", "[0, 0, 1]": "not right"}, points=2, source="001 §7"),
    Exercise(LAB, "step4_output", f"{SETUP}\nStep 4: form the weighted sum z explicitly (exactly).", exact(Z, "z"),
             "[(1 + E)/(2 + E), (1 + E)/(2 + E), 0]", wrong={"[1, 1, 0]": "not right"}, points=2, source="001 §7"),
    Exercise(LAB, "step5_other_coefficients", f"{SETUP}\nStep 5: z is in the span of the values. Give coefficients c, "
             "different from the attention weights, with c1 v1 + c2 v2 + c3 v3 = z.",
             satisfies(vector(3, "c"), (lambda c: all(equivalent(x, 0) for x in V.T * c - Z),
                                        "these coefficients do not give z."),
                       (lambda c: not all(equivalent(a, b) for a, b in zip(c, ALPHA)), "those are the attention "
                        "weights themselves; find another combination.")),
             "[(1 + E)/(2 + E), (1 + E)/(2 + E), 0]", wrong={"[1, 1, E]/(2 + E)": "attention weights themselves",
                                                              "[1, 1, 0]": "do not give z"},
             hint="v3 = v1 + v2.", points=2, source="001 §7"),
    Exercise(LAB, "step5_complement", f"{SETUP}\nStep 5: give a nonzero vector n orthogonal to every value (so that "
             "n . z = 0 certifies z is in their span).",
             satisfies(vector(3, "n"), (lambda n: any(x != 0 for x in n), "n must not be zero."),
                       (lambda n: V * n == sp.zeros(3, 1), "n is not orthogonal to every value.")),
             "[0, 0, 1]", also=("[0, 0, -5]",), wrong={"[1, 0, 0]": "not orthogonal"}, source="001 §7"),
]
