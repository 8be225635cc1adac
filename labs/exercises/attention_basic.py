"""Exercises of attention_basic: the worked numbers of 002 §5, and what the weights can and cannot do."""

import sympy as sp

from vecmix import exact_softmax

from ..grading import Exercise, decimal, exact, satisfies, vector

LAB = "attention_basic"
E = sp.E
K = sp.Matrix([[1, 0], [0, 0], [-1, 0]])
V = sp.Matrix([[1, 0], [0, 1], [1, 1]])
SETUP = "q = (1, 0); keys k1 = (1, 0), k2 = (0, 0), k3 = (-1, 0); values v1 = (1, 0), v2 = (0, 1), v3 = (1, 1); d_k = 1."


def weight_on_key3(q):
    """alpha_3 for the query q (a 2-vector), exactly."""
    return exact_softmax(list(K * q))[2]  # (3, 2) (2, 1) -> (3, 1) scores


EXERCISES = [
    Exercise(LAB, "scores", f"{SETUP}\nGive the scores s = (s1, s2, s3) as a vector.", exact([1, 0, -1], "s"),
             "[1, 0, -1]", wrong={"[1, 0, 1]": "entry 3", "[1, 0]": "shape 2 x 1"},
             hint="s_i = q . k_i / sqrt(d_k).", source="002 §5"),
    Exercise(LAB, "weights_exact", f"{SETUP}\nGive the exact attention weights alpha as a vector.",
             exact(sp.Matrix([E**2, E, 1]) / (1 + E + E**2), "alpha"), "[exp(2), E, 1]/(1 + E + exp(2))",
             also=("[E/(E + 1 + exp(-1)), 1/(E + 1 + exp(-1)), exp(-1)/(E + 1 + exp(-1))]",
                   "[1/(1 + exp(-1) + exp(-2)), 1/(E + 1 + exp(-1)), 1/(exp(2) + E + 1)]"),
             wrong={"[0.665, 0.245, 0.090]": "not exact", "[E, 1, exp(-1)]": "not right"},
             hint="softmax divides each e^(s_i) by the sum of all of them.", points=2, source="002 §5"),
    Exercise(LAB, "weights_decimal", f"{SETUP}\nGive the weights alpha to three decimals.",
             decimal([0.665, 0.245, 0.090], 3, "alpha"), "[0.665, 0.245, 0.090]",
             also=("[0.6652, 0.2447, 0.0900]",), wrong={"[0.66, 0.25, 0.09]": "off by more than 0.0005"},
             source="002 §5"),
    Exercise(LAB, "output_exact", f"{SETUP}\nGive the exact output z = alpha1 v1 + alpha2 v2 + alpha3 v3.",
             exact(sp.Matrix([1 + E**2, 1 + E]) / (1 + E + E**2), "z"),
             "[(1 + exp(2))/(1 + E + exp(2)), (1 + E)/(1 + E + exp(2))]",
             wrong={"[0.755, 0.335]": "not exact", "[1, 1]": "not right"},
             hint="add the value vectors, each scaled by its weight.", points=2, source="002 §5"),
    Exercise(LAB, "output_decimal", f"{SETUP}\nGive the output z to three decimals.",
             decimal([0.755, 0.335], 3, "z"), "[0.755, 0.335]", wrong={"[0.75, 0.33]": "off by more than"},
             source="002 §5"),
    Exercise(LAB, "weights_for_query_zero", f"{SETUP}\nNow take q = (0, 0). Give the exact weights.",
             exact([sp.Rational(1, 3)] * 3, "alpha"), "[1/3, 1/3, 1/3]", wrong={"[0, 1, 0]": "not right"},
             hint="what are the scores when q is zero?"),
    Exercise(LAB, "weights_making_v2", f"{SETUP}\nGive weights (nonnegative, summing to 1) for which the mixture "
             "of the values is exactly v2 = (0, 1).",
             satisfies(vector(3, "the weights"), (lambda c: all(x >= 0 for x in c), "every weight must be "
                       "nonnegative, as attention weights are."),
                       (lambda c: sum(c) == 1, "the weights must sum to 1."),
                       (lambda c: V.T * c == sp.Matrix([0, 1]), "these weights do not give v2.")),
             "[0, 1, 0]", wrong={"[1, 0, 0]": "do not give v2", "[-1, 0, 1]": "nonnegative",
                                 "[0, 2, 0]": "sum to 1"}, hint="which values lie on the segment to v2?"),
    Exercise(LAB, "query_for_key3", f"{SETUP}\nGive a query q = (q1, q2) that puts at least 0.9 of the weight on "
             "key 3 (same keys, d_k = 1).",
             satisfies(vector(2, "the query"), (lambda q: sp.N(weight_on_key3(q), 30) >= sp.Rational(9, 10),
                                                "with this query key 3 gets less than 0.9 of the weight.")),
             "[-3, 0]", also=("[-10, 5]",), wrong={"[3, 0]": "less than 0.9", "[-1, 0]": "less than 0.9"},
             hint="the score of key 3 is -q1; make it much larger than the others.", points=2,
             visibility="after_published"),
]
