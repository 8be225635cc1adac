"""Exercises of vector_mixture: the walkthrough of 000 §5-6 and Try It 3 of 000 §9."""

import sympy as sp

from ..grading import Exercise, exact, satisfies, vector

LAB = "vector_mixture"
V = sp.Matrix([[1, sp.Rational(1, 5)], [sp.Rational(2, 5), sp.Rational(11, 10)], [sp.Rational(6, 5), sp.Rational(4, 5)]])
SETUP = "v1 = (1.0, 0.2), v2 = (0.4, 1.1), v3 = (1.2, 0.8)."
q, k1, k2, k3, v1, v2, v3 = sp.symbols("q k1 k2 k3 v1 v2 v3")
ATTN = (sp.exp(q * k1) * v1 + sp.exp(q * k2) * v2 + sp.exp(q * k3) * v3) / (
    sp.exp(q * k1) + sp.exp(q * k2) + sp.exp(q * k3))

EXERCISES = [
    Exercise(LAB, "mixture", f"{SETUP}\nGive z = 0.2 v1 + 0.5 v2 + 0.3 v3 exactly.", exact([sp.Rational(19, 25),
             sp.Rational(83, 100)], "z"), "[19/25, 83/100]", also=("[0.76, 0.83]",),
             wrong={"[0.8, 0.8]": "not right", "[0.76]": "shape 1 x 1"}, source="000 §5"),
    Exercise(LAB, "average_pooling", f"{SETUP}\nGive the average-pooling output (weights fixed to 1/3 each), exactly.",
             exact([sp.Rational(13, 15), sp.Rational(7, 10)], "the pooled vector"), "[13/15, 7/10]",
             wrong={"[0.867, 0.7]": "not exact", "[2.6, 2.1]": "not right"}, hint="average, do not just add.",
             source="000 §3"),
    Exercise(LAB, "matrix_form", f"{SETUP}\nWrite V^T, whose columns are v1, v2, v3, as a matrix [[...], [...]].",
             exact(V.T, "V^T"), "[[1, 0.4, 1.2], [0.2, 1.1, 0.8]]",
             wrong={"[[1, 0.2], [0.4, 1.1], [1.2, 0.8]]": "shape 3 x 2"}, hint="V has the values as rows; transpose.",
             source="000 §6"),
    Exercise(LAB, "weights_for_v3", f"{SETUP}\nGive mixture weights (nonnegative, summing to 1) whose output is v3.",
             satisfies(vector(3, "the weights"), (lambda c: all(x >= 0 for x in c), "every weight must be nonnegative."),
                       (lambda c: sum(c) == 1, "the weights must sum to 1."),
                       (lambda c: V.T * c == V.row(2).T, "these weights do not give v3.")),
             "[0, 0, 1]", wrong={"[0.2, 0.5, 0.3]": "do not give v3", "[0, 0, 2]": "sum to 1"}, source="000 §3"),
    Exercise(LAB, "attention_as_linear_combination",
             "Try It 3. Read the attention equation Attn(q, K, V) = softmax(q K^T / sqrt(d_k)) V and rewrite it as an "
             "explicit linear combination, for one query, three keys, d_k = 1 and numbers (not vectors) q, k1, k2, "
             "k3, v1, v2, v3.",
             exact(ATTN, "the expression"),
             "(exp(q*k1)*v1 + exp(q*k2)*v2 + exp(q*k3)*v3)/(exp(q*k1) + exp(q*k2) + exp(q*k3))",
             also=("v1/(1 + exp(q*(k2 - k1)) + exp(q*(k3 - k1))) + v2/(exp(q*(k1 - k2)) + 1 + exp(q*(k3 - k2)))"
                   " + v3/(exp(q*(k1 - k3)) + exp(q*(k2 - k3)) + 1)",),
             wrong={"q*k1*v1 + q*k2*v2 + q*k3*v3": "not right", "(v1 + v2 + v3)/3": "not right",
                    "exp(q*k1)*v1 + exp(q*k2)*v2 + exp(q*k3)*v3": "not right"},
             symbols=("q", "k1", "k2", "k3", "v1", "v2", "v3"), points=3,
             hint="the weight of v_i is exp(q k_i) divided by the sum of exp(q k_j).", source="000 §9"),
]
