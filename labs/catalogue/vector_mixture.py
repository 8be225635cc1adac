"""Lab ``vector_mixture``: take several vectors, weight them, add them (000 §2-6).

The same values are mixed three ways (000 §3): weights fixed in advance (average
pooling), weights produced by another component (given mixture weights), and attention
(weights from similarity scores, normalised). Every output is a linear combination of
the values; the matrix form V^T a is the explicit sum written compactly (000 §6).
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    attention,
    exact_attention,
    exact_equal,
    in_hull,
    in_span,
    is_nonnegative,
    one_fraction,
    to_numeric,
)

from ..claims import Claim
from ..config.inputs import check_pairs, check_query_size, read_positive_int, read_vector, read_vectors
from ..grading import Exercise, exact, satisfies, vector
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, decimal, display, image, matrix, table, tex, tuple_tex

TITLE = "Vector mixtures: pooling, given weights and attention on the same vectors"
SOURCE = "000 §5"
SEED_VALUES = [[1.0, 0.2], [0.4, 1.1], [1.2, 0.8]]
SEED_WEIGHTS = [0.2, 0.5, 0.3]
SEED_OUTPUT = [sp.Rational(19, 25), sp.Rational(83, 100)]  # (0.76, 0.83), exactly


@dataclass
class Config:
    """vector_mixture: m values mixed by pooling, by given weights and by attention."""

    name: str = "vector_mixture"
    values: List[List[Any]] = MISSING  # v_1..v_m
    weights: List[Any] = MISSING  # a, the given mixture weights
    query: List[Any] = MISSING  # q, for the attention scheme
    keys: Optional[List[List[Any]]] = None  # None: the values are their own keys
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


def run(params):
    """Mix the values three ways and check the claims of 000 §2-6.

    >>> r = run({"values": SEED_VALUES, "weights": SEED_WEIGHTS, "query": [1, 0], "keys": None, "d_k": None})
    >>> r.reproduced, r.values[3].to_json()["exact"]
    (True, ['19/25', '83/100'])
    """
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    a = read_vector(params["weights"], "lab.weights")  # (m, 1)
    q = read_vector(params["query"], "lab.query")  # (d_k, 1)
    K = V if params.get("keys") is None else read_vectors(params["keys"], "lab.keys")  # (m, d_k)
    m, d = V.shape
    if a.rows != m:
        raise VecmixError(f"lab.weights has {a.rows} numbers but there are {m} values in lab.values: one weight each")
    check_pairs(K, V)
    check_query_size(q.rows, K)
    d_k = K.cols if params.get("d_k") is None else read_positive_int(params["d_k"], "lab.d_k")

    explicit = sum((a[i] * V.row(i).T for i in range(m)), sp.zeros(d, 1))  # sum_i a_i v_i, (d, 1)
    matrix = V.T * a  # (d, m) (m, 1) -> (d, 1)
    Z, A = exact_attention(q.T, K, V, scale=1 / sp.sqrt(d_k))  # (1, d), (1, m)
    schemes = [  # (name, how the weights are chosen, exact weights (m, 1))
        ("pooling", "fixed in advance: the average, 1/m each", sp.ones(m, 1) / m),
        ("given", "produced by another component: the mixture weights a of the config", a),
        ("attention", "from similarity scores q . k_i / sqrt(d_k), normalised by softmax", A.T),
    ]
    outputs = {name: (Z.T if name == "attention" else (V.T * w).applyfunc(one_fraction)) for name, _, w in schemes}

    V_num = to_numeric(V)  # (m, d)
    z_num = V_num.T @ to_numeric(a).ravel()  # (d, m) @ (m,) -> (d,)
    z_att, alpha_num = attention(to_numeric(q).ravel(), to_numeric(K), V_num, scale=1 / float(np.sqrt(d_k)), weights=True)
    err = max(float(np.max(np.abs(z_num - to_numeric(matrix).ravel()))),
              float(np.max(np.abs(z_att - to_numeric(Z).ravel()))))

    claims = []
    if V == read_vectors(SEED_VALUES, "") and a == read_vector(SEED_WEIGHTS, ""):
        claims.append(Claim("seed-output", "0.2 v1 + 0.5 v2 + 0.3 v3 = (0.76, 0.83), exactly (19/25, 83/100)",
                            SOURCE, "(19/25, 83/100)", tuple_str(explicit), exact_equal(explicit, SEED_OUTPUT), True))
    claims.append(Claim("matrix-form", "the matrix form V^T a equals the explicit sum a_1 v_1 + ... + a_m v_m",
                        "000 §6", "V^T a - sum_i a_i v_i = 0", "0 exactly" if exact_equal(matrix, explicit) else
                        "nonzero", exact_equal(matrix, explicit), True))
    for name, _, w in schemes:
        convex = all(is_nonnegative(x) for x in w) and exact_equal(sp.Add(*w), 1)
        inside = in_hull(V, outputs[name])[0] if name != "attention" else convex
        claims.append(Claim(f"{name}-in-span", f"the {name} output is a linear combination of the values: in their "
                            "span", "000 §5", "in the span", "in the span" if in_span(V, outputs[name]) else
                            "outside", in_span(V, outputs[name]), True))
        if convex:
            claims.append(Claim(f"{name}-in-hull", f"the {name} weights are nonnegative and sum to 1, so the output "
                                "lies in the convex hull", "000 §3", "inside the hull",
                                "inside (exact)" if inside else "outside", inside, True))
    claims.append(Claim("numeric-agrees", "numpy (V.T @ a, and attention) agrees with the exact outputs to 1e-12",
                        "000 §6", "max difference <= 1e-12", f"{err:.1e}", err <= 1e-12, False))

    names = [fig.named("v", i + 1) for i in range(m)]
    P, note = fig.projection(V_num)  # (2, d)
    figures = {
        "schemes.svg": fig.mixture_figure(V_num @ P.T, names, [  # (m, d) (d, 2) -> (m, 2)
            (f"{n} output", P @ to_numeric(outputs[n]).ravel()) for n, _, _ in schemes]),  # (2, d) (d,) -> (2,)
        "weights.svg": fig.grouped_bars([fig.named("v", i + 1) for i in range(m)],
                                        [(n, to_numeric(w).ravel()) for n, _, w in schemes], "weight",
                                        "the three ways of choosing the weights"),
    }
    values = [Value("values", V_num, V), Value("weights", to_numeric(a).ravel(), a),
              Value("explicit_sum", to_numeric(explicit).ravel(), explicit),
              Value("output", z_num, matrix), Value("attention_weights", alpha_num, A.T)]
    values += [Value(f"{n}_output", to_numeric(outputs[n]).ravel(), outputs[n]) for n, _, _ in schemes]
    intro = f"*Reproduces* the problem setting and worked walkthrough of {cite('000', '2-6')}."
    return LabResult("vector_mixture", TITLE, intro, _sections(V, a, explicit, schemes, outputs, note), claims,
                     values, figures, [])


def tuple_str(M):
    """(x, y, ...) with SymPy's strings, for claims tables."""
    return "(" + ", ".join(sp.sstr(x) for x in M) + ")"


def _sections(V, a, explicit, schemes, outputs, note):
    m = V.rows
    vectors = r", \qquad ".join(f"v_{{{i + 1}}} = {column(V.row(i))}" for i in range(m))
    terms = " + ".join(f"{tex(a[i])} {column(V.row(i))}" for i in range(m))
    rows = [[name, how, f"${tuple_tex(w)}$", f"({', '.join(decimal(x) for x in to_numeric(w).ravel())})",
             f"${tuple_tex(outputs[name])}$", f"({', '.join(decimal(x) for x in to_numeric(outputs[name]).ravel())})"]
            for name, how, w in schemes]
    return [
        "## Problem setting\n\n"
        "Take a few vectors, weight them, and add them: that is a linear combination, and it is the operation "
        "inside pooled embeddings, feature mixtures and attention outputs. The vectors (exact: a decimal in the "
        "config is the number it spells):\n" + display(vectors),
        "## Worked walkthrough\n\n"
        "With the given weights $a$:\n"
        + display(rf"z = \sum_i a_i v_i = {terms} = {column(explicit)} \approx "
                  rf"{column(to_numeric(explicit).ravel(), fmt=decimal)}")
        + "\nThe summary vector is not a new primitive object: it is assembled from the directions already "
        "present. In code the same sum is a matrix product,\n"
        + display(rf"z = V^\top a = {matrix(V.T)} {column(a)} = {column(V.T * a)}")
        + "\nwhere the rows of $V$ are the values: the matrix form hides the same linear combination.\n",
        "## Three ways of choosing the weights\n\n"
        "The math object stays the same when the modelling story changes; only the weights differ.\n\n"
        + table(["scheme", "how the weights are chosen", "weights (exact)", "weights", "output (exact)", "output"],
                rows)
        + "\n\n" + image("figures/weights.svg", "the three weight vectors",
                         "Figure 1. The weights of the three schemes, value by value.")
        + "\n\n" + image("figures/schemes.svg", "values, hull and the three outputs",
                         "Figure 2. The values (arrows), their convex hull (shaded) and the output of each scheme."
                         + (f" {note}" if note else "")) + "\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises vector_mixture)

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
