"""Lab ``vector_mixture``: take several vectors, weight them, add them (000 §2-6).

The same values are mixed three ways (000 §3): weights fixed in advance (average
pooling), weights produced by another component (given mixture weights), and attention
(weights from similarity scores between a query and keys, normalised by softmax). Every
output is a linear combination of the values; the matrix form V^T a (or Z = A V) is the
explicit sum written compactly (000 §6). Weights that are nonnegative and sum to 1 keep
the output in the convex hull of the values (002 §5).
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
    is_nonnegative,
    is_zero,
    solution_set,
    to_numeric,
)

from ..claims import Claim, fault, inputs
from ..config.inputs import check_pairs, check_query_size, read_positive_int, read_vector, read_vectors
from ..grading import Exercise, equivalent, exact, same, satisfies, sign, vector
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import (
    cite,
    column,
    decimal,
    display,
    error_text,
    image,
    matrix,
    table,
    tex,
    tuple_tex,
    tuple_text,
)
from ._geometry import affine_dimension, beyond, checked_hull, on_solution_set

COLORS = {"pooling": fig.POOLING_COLOR, "given": fig.GIVEN_COLOR, "attention": fig.ATTENTION_COLOR}
TITLE = "Vector mixtures: pooling, given weights and attention on the same vectors"
SOURCE = "000 §5"
SEED_VALUES = [[1.0, 0.2], [0.4, 1.1], [1.2, 0.8]]
SEED_WEIGHTS = [0.2, 0.5, 0.3]
SEED_OUTPUT = [sp.Rational(19, 25), sp.Rational(83, 100)]  # (0.76, 0.83), exactly
TOLERANCE = 1e-12


@dataclass
class Config:
    """vector_mixture: m values mixed by pooling, by given weights and by attention."""

    name: str = "vector_mixture"
    values: List[List[Any]] = MISSING  # v_1..v_m
    weights: List[Any] = MISSING  # a, the given mixture weights
    query: List[Any] = MISSING  # q, for the attention scheme
    keys: Optional[List[List[Any]]] = None  # k_1..k_m; None: the values are their own keys
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


def run(params):
    """Mix the values three ways and check the claims of 000 §2-6.

    >>> r = run({"values": SEED_VALUES, "weights": SEED_WEIGHTS, "query": [1, 0], "keys": [[1, 0], [0, 0], [-1, 0]],
    ...          "d_k": None})
    >>> r.reproduced, [v.to_json()["exact"] for v in r.values if v.name == "explicit_sum"]
    (True, [['19/25', '83/100']])
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
    library_scale = d_k == K.cols  # then vecmix is called with its default scale 1/sqrt(d_k), as a user would

    # 000 §5: the given weights, term by term.
    explicit = sum((a[i] * V.row(i).T for i in range(m)), sp.zeros(d, 1))  # sum_i a_i v_i, (d, 1)

    # 002 §2, term by term: s_i = q . k_i / sqrt(d_k), alpha_i = e^(s_i) / sum_j e^(s_j), z = sum_i alpha_i v_i.
    s = [sp.Add(*(q[j] * K[i, j] for j in range(K.cols))) / sp.sqrt(d_k) for i in range(m)]
    e = [sp.exp(x) for x in s]
    alpha = sp.Matrix([x / sp.Add(*e) for x in e])  # (m, 1)
    z_formula = sum((alpha[i] * V.row(i).T for i in range(m)), sp.zeros(d, 1))  # (d, 1)
    Z, A = exact_attention(q.T, K, V, **({} if library_scale else {"scale": 1 / sp.sqrt(d_k)}))  # (1, d), (1, m)
    formula_ok = all(is_zero(x) for x in list(A.T - alpha) + list(Z.T - z_formula))

    schemes = [  # (name, how the weights are chosen, exact weights (m, 1), exact output (d, 1))
        ("pooling", "fixed in advance: the average, 1/m each", sp.ones(m, 1) / m, (V.T * sp.ones(m, 1) / m)),
        ("given", "produced by another component: the mixture weights a of the config", a, explicit),
        ("attention", "from similarity scores q . k_i / sqrt(d_k), normalised by softmax", A.T, Z.T),
    ]

    V_num, q_num, K_num = to_numeric(V), to_numeric(q).ravel(), to_numeric(K)  # (m, d), (d_k,), (m, d_k)
    numeric_scale = {} if library_scale else {"scale": 1 / float(np.sqrt(d_k))}
    z_full, alpha_num = attention(q_num, K_num, V_num, weights=True, **numeric_scale)  # (d,), (m,)
    z_blocked = attention(q_num, K_num, V_num, block_size=1, **numeric_scale)  # (d,): one key per block
    by_hand = sum(alpha_num[i] * V_num[i] for i in range(m))  # sum_i alpha_i v_i with the weights returned, (d,)
    form_err = max(float(np.max(np.abs(z - by_hand))) for z in (z_full, z_blocked))
    exact_num = {name: to_numeric(z).ravel() for name, _, _, z in schemes}
    num_err = max(float(np.max(np.abs(alpha_num - to_numeric(alpha).ravel()))),
                  *(float(np.max(np.abs(z - exact_num["attention"]))) for z in (z_full, z_blocked)),
                  *(float(np.max(np.abs(V_num.T @ to_numeric(w).ravel() - exact_num[name])))  # (d, m) @ (m,)
                    for name, _, w, _ in schemes[:2]))

    claims = [
        Claim("seed-output", "the given weights, summed term by term, give the output 000 §5 prints: 0.2 v1 + "
              "0.5 v2 + 0.3 v3 = (0.76, 0.83), exactly (19/25, 83/100)", SOURCE, "(19/25, 83/100)",
              tuple_text(explicit), exact_equal(explicit, SEED_OUTPUT), True),
        Claim("attention-formula", "vecmix's exact attention equals the formula of 002 §2 written out term by term: "
              "s_i = q . k_i / sqrt(d_k), alpha_i = e^(s_i) / sum_j e^(s_j), z = sum_i alpha_i v_i", "002 §2",
              "the same weights and output, exactly",
              "the same, exactly" if formula_ok else "they differ", formula_ok, True),
        Claim("matrix-form", "Z = A V: the output vecmix.attention returns (from the full weights matrix, and from "
              "the blocked online softmax) is the explicit sum of alpha_i v_i with the weights it returns",
              "000 §6", f"difference <= {TOLERANCE:g}", error_text(form_err), form_err <= TOLERANCE, False),
        Claim("numeric-agrees", "numpy's weights and outputs (attention, and V^T a for pooling and the given weights) "
              "agree with the exact ones", "vecmix (numeric = exact)", f"max difference <= {TOLERANCE:g}", error_text(num_err),
              num_err <= TOLERANCE, False),
    ]
    on_set = [(name, on_solution_set(w, S.particular, S.directions))
              for name, _, w, z in schemes for S in [solution_set(V, z)]]
    claims.append(Claim("weights-on-solution-set", "each output lies in the span of the values, and the weights "
                        "that made it are one of the coefficient vectors c with V^T c = z that vecmix finds",
                        "000 §5, §7", "for every scheme: z in the span, its weights on particular + span(directions)",
                        "; ".join(f"{name}: {'on it' if ok else 'not on it'}" for name, ok in on_set),
                        all(ok for _, ok in on_set), True))
    for name, _, w, z in schemes:
        convex = all(is_nonnegative(x) for x in w) and is_zero(sp.Add(*w) - 1)
        inside, seen = checked_hull(V, z)
        p, _ = beyond(V, z)  # outside the hull: the test must say so too
        p_out = not checked_hull(V, p)[0]
        claims.append(Claim(f"{name}-in-hull", f"the {name} output lies in the convex hull of the values, and the "
                            "point beyond it through the farthest value does not (vecmix's exact hull test, its "
                            "certificate checked here)", "002 §5", "z inside, 2 v_far - z outside",
                            f"weights >= 0 with sum 1: {'yes' if convex else 'no'}; {seen}; the point beyond: "
                            f"{'outside' if p_out else 'inside'}", inside and p_out, True))

    deps = list(solution_set(V, explicit).directions)  # the dependencies among the values
    names = [fig.named("v", i + 1) for i in range(m)]
    P, note = fig.projection(V_num)  # (2, d)
    figures = {
        "schemes.svg": fig.mixture_figure(V_num @ P.T, names, [  # (m, d) (d, 2) -> (m, 2)
            (n, f"the output of the {n} weights", P @ exact_num[n], COLORS[n]) for n, _, _, _ in schemes],
            affine_dimension(V)),  # (2, d) (d,)
        "weights.svg": fig.grouped_bars(names, [(n, to_numeric(w).ravel(), COLORS[n]) for n, _, w, _ in schemes],
                                        "weight", "the three ways of choosing the weights"),
    }
    values = [Value("values", V_num, V), Value("weights", to_numeric(a).ravel(), a),
              Value("explicit_sum", to_numeric(explicit).ravel(), explicit),
              Value("query", q_num, q), Value("keys", K_num, K), Value("d_k", d_k, sp.Integer(d_k)),
              Value("scores", [float(to_numeric(x)) for x in s], list(s)),
              Value("attention_weights", alpha_num, A.T),
              Value("null_space", [to_numeric(c).ravel() for c in deps], deps)]
    values += [Value(f"{n}_output", exact_num[n], z) for n, _, _, z in schemes]
    intro = f"*Reproduces* the problem setting and worked walkthrough of {cite('000', '2-6')}."
    sections = _sections(V, a, explicit, q, K, d_k, s, schemes, deps, note)
    return LabResult("vector_mixture", TITLE, intro, sections, claims, values, figures, _deviations(V, a))


def _deviations(V, a):
    out = ["000 gives no query or keys for its attention sentence; the lab uses those of the config (by default "
           "the query and keys of 002 §5). The scale uses d_k = the dimension of the keys unless `lab.d_k` says "
           "otherwise; 002 §5 takes d_k = 1 for its two-dimensional keys, which gives other weights."]
    if V != read_vectors(SEED_VALUES, "") or a != read_vector(SEED_WEIGHTS, ""):
        out.append("The values or weights differ from those of 000 §5, so the printed output (0.76, 0.83) is not "
                   "expected to match (claim `seed-output`).")
    return out


def _sections(V, a, explicit, q, K, d_k, s, schemes, dependencies, note):
    m = V.rows
    vectors = r", \qquad ".join(f"v_{{{i + 1}}} = {column(V.row(i))}" for i in range(m))
    terms = " + ".join(f"{tex(a[i])} {column(V.row(i))}" for i in range(m))
    alpha = schemes[2][2]
    rows = [[name, how, f"${tuple_tex(w)}$", f"({', '.join(decimal(x) for x in to_numeric(w).ravel())})",
             f"${tuple_tex(z)}$" if name != "attention" else "see above",
             f"({', '.join(decimal(x) for x in to_numeric(z).ravel())})"] for name, how, w, z in schemes]
    key_rows = [[i + 1, f"${tuple_tex(K.row(i))}$", f"${tex(s[i])}$", f"${tex(alpha[i])}$",
                 decimal(to_numeric(alpha[i]))] for i in range(m)]
    d = V.cols
    whole = (f" (here they span all of $\\mathbb{{R}}^{{{d}}}$, so that alone says little)"
             if m - len(dependencies) == d else "")
    if dependencies:
        relation = ", ".join(f"${tex(sp.Add(*(c[i] * sp.Symbol(f'v_{i + 1}') for i in range(m))))} = 0$"
                             for c in dependencies)
        span = (f"The values are linearly dependent ({relation}), so every output is reached by a whole family of "
                "coefficient vectors: the weights of each scheme are one of them, and adding any multiple of a "
                "dependency changes nothing (the redundancy failure mode of 000 §7).")
    else:
        span = "The values are linearly independent, so each output has exactly one coefficient vector."
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
        "## Attention: weights from a query and keys\n\n"
        "In attention the coefficients come from similarity scores between a query and the keys, normalised by "
        "softmax (002 §2):\n"
        + display(r"s_i = \frac{q \cdot k_i}{\sqrt{d_k}}, \qquad \alpha_i = \frac{e^{s_i}}{\sum_j e^{s_j}}, \qquad "
                  r"z = \sum_i \alpha_i v_i")
        + f"\nHere $q = {tuple_tex(q)}$ and $d_k = {d_k}$, so the scale is $1/\\sqrt{{d_k}} = {tex(1 / sp.sqrt(d_k))}$:"
        "\n\n" + table(["$i$", "key $k_i$", "score $s_i$", r"weight $\alpha_i$ (exact)", r"$\alpha_i$"], key_rows)
        + "\n\nThe output, exactly:\n"
        + display(rf"z = {column(schemes[2][3])} \approx {column(to_numeric(schemes[2][3]).ravel(), fmt=decimal)}"),
        "## Three ways of choosing the weights\n\n"
        "The math object stays the same when the modelling story changes; only the weights differ (000 §3).\n\n"
        + table(["scheme", "how the weights are chosen", "weights (exact)", "weights", "output (exact)", "output"],
                rows)
        + "\n\n" + image("figures/weights.svg", "the three weight vectors",
                         "Figure 1. The weights of the three schemes, value by value.")
        + f"\n\nEvery output lies in the span of the values{whole}. {span} Weights that are nonnegative and sum "
        "to 1 make a convex combination, whose output lies "
        "in the convex hull of the values (002 §5): pooling and attention weights always are; the given weights "
        "are when the config makes them so.\n\n"
        + image("figures/schemes.svg", "values, hull and the three outputs",
                "Figure 2. The values (arrows), their convex hull and the output of each scheme."
                + (f" {note}" if note else "")) + "\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises vector_mixture)

LAB = "vector_mixture"
V = sp.Matrix([[1, sp.Rational(1, 5)], [sp.Rational(2, 5), sp.Rational(11, 10)],
               [sp.Rational(6, 5), sp.Rational(4, 5)]])  # the values of 000 §2, exactly
SETUP = "v1 = (1.0, 0.2), v2 = (0.4, 1.1), v3 = (1.2, 0.8)."
Z_SEED = sp.Matrix(SEED_OUTPUT)
q, k1, k2, k3, v1, v2, v3 = sp.symbols("q k1 k2 k3 v1 v2 v3")
ATTN = (sp.exp(q * k1) * v1 + sp.exp(q * k2) * v2 + sp.exp(q * k3) * v3) / (
    sp.exp(q * k1) + sp.exp(q * k2) + sp.exp(q * k3))

EXERCISES = [
    Exercise(LAB, "mixture", f"{SETUP}\nGive z = 0.2 v1 + 0.5 v2 + 0.3 v3 exactly.", exact([sp.Rational(19, 25),
             sp.Rational(83, 100)], "z"), "[19/25, 83/100]", also=("[0.76, 0.83]",),
             wrong={"[0.8, 0.8]": "not right", "[0.76]": "shape 1 x 1"},
             hint="scale each vector, then add entry by entry.", source="000 §5"),
    Exercise(LAB, "average_pooling", f"{SETUP}\nGive the average-pooling output (weights fixed to 1/3 each), exactly.",
             exact([sp.Rational(13, 15), sp.Rational(7, 10)], "the pooled vector"), "[13/15, 7/10]",
             also=("[(1 + 0.4 + 1.2)/3, (0.2 + 1.1 + 0.8)/3]",),
             wrong={"[0.867, 0.7]": "not exact", "[2.6, 2.1]": "not right"}, hint="average, do not just add.",
             source="000 §3"),
    Exercise(LAB, "matrix_form", f"{SETUP}\nWrite V^T, whose columns are v1, v2, v3, as a matrix [[...], [...]].",
             exact(V.T, "V^T"), "[[1, 0.4, 1.2], [0.2, 1.1, 0.8]]", also=("[[1, 2/5, 6/5], [1/5, 11/10, 4/5]]",),
             wrong={"[[1, 0.2], [0.4, 1.1], [1.2, 0.8]]": "shape 3 x 2"}, hint="V has the values as rows; transpose.",
             source="000 §6"),
    Exercise(LAB, "weights_for_v3", f"{SETUP}\nGive mixture weights (nonnegative, summing to 1) whose output is v3.",
             satisfies(vector(3, "the weights"),
                       (lambda c: all(sign(x) >= 0 for x in c), "every weight must be nonnegative."),
                       (lambda c: equivalent(sum(c), 1), "the weights must sum to 1."),
                       (lambda c: same(V.T * c, V.row(2).T), "these weights do not give v3.")),
             "[0, 0, 1]", also=("[0, 0, 1.0]",), wrong={"[0.2, 0.5, 0.3]": "do not give v3", "[0, 0, 2]": "sum to 1"},
             hint="v3 is a corner of the triangle the three values span.", source="000 §3"),
    Exercise(LAB, "other_coefficients", f"{SETUP}\nThree vectors in R^2 are always dependent. Give coefficients "
             "(c1, c2, c3), other than (0.2, 0.5, 0.3), whose combination is the same z = (0.76, 0.83).",
             satisfies(vector(3, "the coefficients"),
                       (lambda c: not same(c, sp.Matrix([sp.Rational(1, 5), sp.Rational(1, 2), sp.Rational(3, 10)])),
                        "these are the page's own weights; find different ones."),
                       (lambda c: same(V.T * c, Z_SEED), "these coefficients do not give (0.76, 0.83).")),
             "[0.2 + 50/51*0.3, 0.5 + 28/51*0.3, 0]", also=("[0.2 - 50, 0.5 - 28, 0.3 + 51]",),
             wrong={"[0.2, 0.5, 0.3]": "the page's own weights", "[0.3, 0.5, 0.2]": "do not give"},
             hint="write v3 as a combination of v1 and v2, then move the 0.3 v3 onto them.", points=2,
             source="000 §7"),
    Exercise(LAB, "scores", "q = (1, 0); keys k1 = (1, 0), k2 = (0, 0), k3 = (-1, 0) (those of 002 §5); d_k = 2, the "
             "dimension of the keys. Give the scores s = (s1, s2, s3) exactly.",
             exact([sp.sqrt(2) / 2, 0, -sp.sqrt(2) / 2], "s"), "[sqrt(2)/2, 0, -sqrt(2)/2]",
             also=("[1/sqrt(2), 0, -1/sqrt(2)]",),
             wrong={"[1, 0, -1]": "not right", "[0.707, 0, -0.707]": "not exact"},
             hint="s_i = q . k_i / sqrt(d_k).", source="002 §2"),
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

FOUR_VALUES = ("lab.values=[[0,0],[1,0],[0,1],[2,2]]", "lab.weights=[0.25,0.25,0.25,0.25]", "lab.keys=null")

COUNTER_CASES = {
    "seed-output": inputs("other weights: the sum is no longer the output the page prints",
                          "lab.weights=[0.3,0.5,0.2]"),
    "attention-formula": fault("exact-softmax-negated"),
    "matrix-form": fault("mixes-keys"),
    "numeric-agrees": fault("scale-missing"),
    "weights-on-solution-set": fault("solutions-without-directions"),
    "pooling-in-hull": fault("hull-one-basis", *FOUR_VALUES),
    "given-in-hull": inputs("given weights with a negative entry: the output leaves the hull",
                            "lab.weights=[-0.3,0.8,0.5]"),
    "attention-in-hull": fault("hull-one-basis", *FOUR_VALUES),
}
