"""Lab ``attention_basic``: one query, m keys and values, computed exactly and numerically.

Reproduces the worked walkthrough of 002 §5 along the five steps of 001 §7: choose
values, keys and query; compute the scores and the weights; form the sum; verify the
span. Any inputs work (any dimension, any number of pairs); the seed's printed numbers
are compared only when the inputs are the seed's.
"""

import numpy as np
import sympy as sp

from vecmix import (
    VecmixError,
    attention,
    eliminate,
    exact_attention,
    exact_scores,
    in_span,
    is_nonnegative,
    is_zero,
    solution_set,
    to_numeric,
)

from . import figures
from .inputs import read_positive_int, read_vector, read_vectors
from .markdown import cite, column, decimal, display, image, table, tex, tuple_tex
from .report import Claim, LabResult, Value

TITLE = "Attention as a weighted mixture of value vectors"
WALKTHROUGH = "002 §5"
STEPS = "001 §7"
TOLERANCE = 1e-12

# The worked example of 002 §5 and the numbers it prints (decimals rounded there).
SEED_INPUTS = {"query": [1, 0], "keys": [[1, 0], [0, 0], [-1, 0]], "values": [[1, 0], [0, 1], [1, 1]], "d_k": 1}
_e = sp.E
SEED_SCORES = [1, 0, -1]
SEED_WEIGHTS = [_e**2 / (1 + _e + _e**2), _e / (1 + _e + _e**2), 1 / (1 + _e + _e**2)]
SEED_WEIGHTS_PRINTED = (0.665, 0.245, 0.090)
SEED_OUTPUT = [(1 + _e**2) / (1 + _e + _e**2), (1 + _e) / (1 + _e + _e**2)]
SEED_OUTPUT_PRINTED = (0.755, 0.335)


def run(params):
    """Run the lab on ``params`` (query, keys, values, d_k) and return its :class:`LabResult`.

    >>> result = run(SEED_INPUTS)
    >>> result.reproduced, [c.id for c in result.claims][:3]
    (True, ['weights-nonnegative', 'weights-sum-to-one', 'explicit-sum'])
    """
    q, K, V, d_k = _read(params)
    m, d = V.shape
    scale = 1 / sp.sqrt(d_k)

    # Exact path: s = K q / sqrt(d_k), alpha = softmax(s), z = V^T alpha.
    s = exact_scores(q.T, K, scale=scale).T  # (1, d_k) (d_k, m) -> (1, m), as a column (m, 1)
    Z, A = exact_attention(q.T, K, V, scale=scale)  # (1, d), (1, m)
    alpha, z = A.T, Z.T  # columns (m, 1), (d, 1)
    z_explicit = sum((alpha[i] * V.row(i).T for i in range(m)), sp.zeros(d, 1))  # sum_i alpha_i v_i, (d, 1)

    # Numeric path, through the same formula in numpy.
    V_num = to_numeric(V)  # (m, d)
    z_num, alpha_num = attention(to_numeric(q).ravel(), to_numeric(K), V_num, scale=float(scale))  # (d,), (m,)
    alpha_err = float(np.max(np.abs(alpha_num - to_numeric(alpha).ravel())))
    z_err = float(np.max(np.abs(z_num - to_numeric(z).ravel())))
    z_tol = TOLERANCE * max(1.0, float(np.max(np.abs(V_num))))

    # Span: one rational elimination of the values serves every question below.
    elim = eliminate(V)
    solutions = solution_set(V, z, elim)
    free = [j for j in range(m) if j not in elim.pivots]
    weights_sum = sp.cancel(sp.Add(*alpha))
    nonnegative = all(is_nonnegative(a) for a in alpha)
    explicit_ok = all(is_zero(x) for x in z_explicit - z)
    span_ok = in_span(V, z, elim)
    on_solutions = solutions.contains(alpha)

    claims = [
        Claim("weights-nonnegative", "every weight is nonnegative", "002 §2", "alpha_i >= 0 for all i",
              f"all {m} weights are positive (exact sign)" if nonnegative else "a weight is negative",
              nonnegative, True),
        Claim("weights-sum-to-one", "the weights sum to exactly 1 (symbolic cancellation, not a float comparison)",
              "002 §2", "1", sp.sstr(weights_sum), weights_sum == 1, True),
        Claim("explicit-sum", "the matrix form V^T alpha equals the explicit sum of alpha_i v_i", "000 §6",
              "V^T alpha - sum_i alpha_i v_i = 0", "0 exactly" if explicit_ok else "nonzero", explicit_ok, True),
        Claim("numeric-agrees", f"numpy's weights and output agree with the exact values to {TOLERANCE:g}",
              STEPS, f"max difference <= {TOLERANCE:g}", f"weights {alpha_err:.1e}, output {z_err:.1e}",
              alpha_err <= TOLERANCE and z_err <= z_tol, False),
        Claim("in-span", "the output z lies in the span of the values", f"{STEPS}, step 5",
              "n . z = 0 for every n orthogonal to the values",
              f"rank {elim.rank} = d: the values span R^{d}" if not elim.complement
              else f"n . z = 0 exactly for all {len(elim.complement)} complement vectors" if span_ok
              else "z has a component outside the span", span_ok, True),
        Claim("in-hull", "z is a convex combination of the values, so it lies in their convex hull", "002 §5",
              "alpha >= 0, sum alpha = 1, V^T alpha = z", "all three hold exactly"
              if nonnegative and weights_sum == 1 and explicit_ok else "one of the three fails",
              nonnegative and weights_sum == 1 and explicit_ok, True),
        Claim("weights-on-solution-set", "alpha is one of the coefficient vectors c with V^T c = z",
              f"{STEPS}, step 5", f"a solution set of dimension m - rank = {m - elim.rank} containing alpha",
              f"{_solution_kind(solutions.dimension)}; alpha on it" if on_solutions else "alpha is not on it",
              solutions.consistent and on_solutions and solutions.dimension == m - elim.rank, True),
    ]
    is_seed = _is_seed(q, K, V, d_k)
    if is_seed:
        claims += _seed_claims(s, alpha, z, alpha_num, z_num)

    values = [
        Value("query", to_numeric(q).ravel(), q),
        Value("keys", to_numeric(K), K),
        Value("values", V_num, V),
        Value("d_k", d_k, sp.Integer(d_k)),
        Value("scores", to_numeric(s).ravel(), s),
        Value("weights", alpha_num, alpha),
        Value("weights_sum", float(np.sum(alpha_num)), weights_sum),
        Value("output", z_num, z),
        Value("rank", elim.rank, sp.Integer(elim.rank)),
        Value("null_space", [to_numeric(c).ravel() for c in elim.null_space], list(elim.null_space)),
        Value("particular_solution", to_numeric(solutions.particular).ravel(), solutions.particular),
        Value("weights_position", [float(to_numeric(alpha[f])) for f in free], [alpha[f] for f in free]),
    ]

    P, note = figures.projection(V_num)
    Vp, zp = V_num @ P.T, P @ z_num  # (m, d) (d, 2) -> (m, 2); (2, d) (d,) -> (2,)
    names = [f"$v_{{{i + 1}}}$" for i in range(m)]
    figs = {
        "mixture.svg": figures.mixture_figure(Vp, zp, names),
        "weights.svg": figures.weights_figure(alpha_num, Vp, zp),
    }
    sections = _sections(q, K, V, d_k, s, alpha, z, alpha_num, z_num, alpha_err, z_err, elim, solutions, free,
                         weights_sum, note)
    deviations = _deviations(params, is_seed)
    intro = (f"*Reproduces* the worked walkthrough of {cite('002', 5)}, following the five reproduction steps "
             f"of {cite('001', 7)}.")
    return LabResult("attention_basic", TITLE, intro, sections, claims, values, figs, deviations)


def _read(params):
    """The inputs as exact matrices, with errors that name the config key."""
    q = read_vector(params["query"], "lab.query")  # (d_k, 1)
    K = read_vectors(params["keys"], "lab.keys")  # (m, d_k)
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    if q.rows != K.cols:
        raise VecmixError(f"lab.query has {q.rows} numbers but each key in lab.keys has {K.cols}: "
                          "the query and the keys must have the same dimension")
    if K.rows != V.rows:
        raise VecmixError(f"lab.keys has {K.rows} vectors but lab.values has {V.rows}: keys and values come in pairs")
    d_k = K.cols if params.get("d_k") is None else read_positive_int(params["d_k"], "lab.d_k")
    return q, K, V, d_k


def _is_seed(q, K, V, d_k):
    seed = SEED_INPUTS
    return (d_k == seed["d_k"] and q == read_vector(seed["query"], "") and K == read_vectors(seed["keys"], "")
            and V == read_vectors(seed["values"], ""))


def _seed_claims(s, alpha, z, alpha_num, z_num):
    """The numbers 002 §5 prints (and their exact forms), compared with ours."""
    def exact_equal(got, want):
        return all(is_zero(g - w) for g, w in zip(got, want))

    def printed(got, want):
        return tuple(round(float(g), 3) for g in got) == want

    fmt = ", ".join
    return [
        Claim("seed-scores", "the scores are s = (1, 0, -1), exactly", WALKTHROUGH, "(1, 0, -1)",
              f"({fmt(sp.sstr(v) for v in s)})", exact_equal(s, SEED_SCORES), True),
        Claim("seed-weights-exact", "alpha = (e^2, e, 1) / (1 + e + e^2), exactly", WALKTHROUGH,
              "(e^2, e, 1)/(1 + e + e^2)", f"({fmt(sp.sstr(v) for v in alpha)})", exact_equal(alpha, SEED_WEIGHTS),
              True),
        Claim("seed-weights-printed", "alpha = (0.665, 0.245, 0.090) to three decimals", WALKTHROUGH,
              "(0.665, 0.245, 0.090)", f"({fmt(f'{a:.3f}' for a in alpha_num)})",
              printed(alpha_num, SEED_WEIGHTS_PRINTED), False),
        Claim("seed-output-exact", "z = ((1 + e^2), (1 + e)) / (1 + e + e^2), exactly", WALKTHROUGH,
              "((1 + e^2)/(1 + e + e^2), (1 + e)/(1 + e + e^2))", f"({fmt(sp.sstr(v) for v in z)})",
              exact_equal(z, SEED_OUTPUT), True),
        Claim("seed-output-printed", "z = (0.755, 0.335) to three decimals", WALKTHROUGH, "(0.755, 0.335)",
              f"({fmt(f'{v:.3f}' for v in z_num)})", printed(z_num, SEED_OUTPUT_PRINTED), False),
    ]


def _solution_kind(dimension):
    return {0: "a single point", 1: "a line", 2: "a plane"}.get(dimension, f"a {dimension}-dimensional flat")


def _weights_tex(alpha):
    """alpha with its common denominator factored out when there is one."""
    parts = [sp.fraction(sp.together(a)) for a in alpha]
    dens = {den for _, den in parts}
    if len(dens) == 1 and dens != {1}:
        return rf"\frac{{1}}{{{tex(dens.pop())}}} {column([num for num, _ in parts])}"
    return column(alpha)


def _relation(c, f):
    """The dependency c (with c_f = 1) written as v_f = sum of the others."""
    others = sp.Add(*(-c[p] * sp.Symbol(f"v_{p + 1}") for p in range(c.rows) if p != f and c[p] != 0))
    return f"v_{{{f + 1}}} = {tex(others)}"


def _sections(q, K, V, d_k, s, alpha, z, alpha_num, z_num, alpha_err, z_err, elim, solutions, free, weights_sum,
              note):
    m, d = V.shape
    num = lambda xs: column(xs, fmt=decimal)  # noqa: E731
    rows = [[i + 1, f"${tuple_tex(K.row(i))}$", f"${tuple_tex(V.row(i))}$", f"${tex(s[i])}$",
             f"${tex(alpha[i])}$", decimal(alpha_num[i])] for i in range(m)]
    idea = (
        "## The idea\n\n"
        "One query is compared with every key. Softmax turns the similarity scores into weights that are "
        "nonnegative and sum to one, and the output is the weighted sum of the value vectors. Nothing new is "
        "created: the output is assembled from the values already present, so it lies in their span, and "
        "because the weights are nonnegative and sum to one, inside their convex hull.\n"
        + display(r"s_i = \frac{q^\top k_i}{\sqrt{d_k}}, \qquad \alpha_i = \frac{e^{s_i}}{\sum_{j=1}^{m} e^{s_j}}, "
                  r"\qquad z = \sum_{i=1}^{m} \alpha_i v_i = V^\top \alpha")
    )
    choose = (
        "## Step 1: choose values, keys and query\n\n"
        f"There are $m = {m}$ key-value pairs; the query and the keys live in $\\mathbb{{R}}^{{{K.cols}}}$, the "
        f"values in $\\mathbb{{R}}^{{{d}}}$, and the scale uses $d_k = {d_k}$. Every input is an exact rational "
        "(a decimal in the config is the number it spells).\n"
        + display(f"q = {column(q)}, \\qquad \\frac{{1}}{{\\sqrt{{d_k}}}} = {tex(1 / sp.sqrt(d_k))}")
        + "\n" + table(["$i$", "key $k_i$", "value $v_i$", "score $s_i$", r"weight $\alpha_i$ (exact)",
                        r"$\alpha_i$ (numeric)"], rows) + "\n"
    )
    scores = (
        "## Step 2: compute the scores\n\n"
        "Each score is the dot product of the query with one key, divided by $\\sqrt{d_k}$:\n"
        + display(rf"s = \frac{{K q}}{{\sqrt{{d_k}}}} = {column(s)}")
    )
    weights = (
        "## Step 3: compute the weights\n\n"
        "Softmax exponentiates and normalises. Exactly (each exponent shifted by the smallest score, which "
        "changes nothing):\n"
        + display(rf"\alpha = \operatorname{{softmax}}(s) = {_weights_tex(alpha)} \approx {num(alpha_num)}")
        + f"\nAdding the weights over their common denominator, SymPy cancels the sum to exactly "
        f"${tex(weights_sum)}$: a symbolic identity, not a float comparison. Every weight is positive, "
        "because an exponential is.\n"
    )
    terms = " + ".join(rf"\alpha_{{{i + 1}}} v_{{{i + 1}}}" for i in range(min(m, 4))) + (r" + \cdots" if m > 4 else "")
    form = (
        "## Step 4: form the weighted sum\n\n"
        + display(rf"z = {terms} = {column(z)} \approx {num(z_num)}")
        + f"\nnumpy computes the same weights and output in floating point; the largest differences from the "
        f"exact values are {alpha_err:.1e} (weights) and {z_err:.1e} (output).\n\n"
        + image("figures/weights.svg", "weights and contributions",
                "Figure 1. Left: the weights, which is what attention viewers usually show. Right: the value "
                "side they leave out: each contribution alpha_i v_i, laid tip to tail; together they reach z."
                + (f" {note}" if note else ""))
        + "\n"
    )
    span = ["## Step 5: verify the span\n\n",
            f"The values have rank {elim.rank} (a basis: {', '.join(f'$v_{{{p + 1}}}$' for p in elim.pivots)}).",
            ]
    if elim.complement:
        normals = ", ".join(f"$n_{{{j + 1}}} = {tuple_tex(n)}$" for j, n in enumerate(elim.complement))
        span.append(f" Their span is orthogonal to {normals}; exactly, $n \\cdot z = 0$ for each, so $z$ lies in the "
                    "span. The exact output is never put through symbolic elimination: the complement is computed "
                    "once over the rationals and $z$ is checked against it.")
    else:
        span.append(f" They span all of $\\mathbb{{R}}^{{{d}}}$, so every vector, $z$ included, is in their span.")
    span.append("\n\nEvery coefficient vector $c$ with $V^\\top c = z$ reaches the same output. "
                f"They form {_solution_kind(solutions.dimension)}")
    if solutions.directions:
        ts = ", ".join(f"t_{{{j + 1}}}" for j in range(len(free)))
        combo = " + ".join(f"t_{{{j + 1}}} {column(c)}" for j, c in enumerate(solutions.directions))
        deps = ", ".join(f"${_relation(c, f)}$" for c, f in zip(solutions.directions, free))
        span.append(f", since the values are dependent ({deps}):\n"
                    + display(rf"c = {column(solutions.particular)} + {combo}, \qquad {ts} \in \mathbb{{R}}")
                    + "\nThe attention weights are the point of this set at "
                    + ", ".join(f"$t_{{{j + 1}}} = {tex(alpha[f])}$" for j, f in enumerate(free))
                    + ": $\\alpha$ is one way, among infinitely many, to reach $z$.")
    else:
        span.append(f": the values are independent, so $c = {column(solutions.particular)}$ is the only "
                    "solution, and it is $\\alpha$.")
    span.append(
        "\n\nBecause the weights are nonnegative and sum to one, $z$ is a convex combination of the values: "
        "it lies inside their convex hull.\n\n"
        + image("figures/mixture.svg", "values, convex hull and output",
                "Figure 2. The value vectors (arrows), their convex hull (shaded) and the output z (star)."
                + (f" {note}" if note else ""))
        + "\n")
    return [idea, choose, scores, weights, form, "".join(span)]


def _deviations(params, is_seed):
    if not is_seed:
        changed = [f"`lab.{k}`" for k in SEED_INPUTS if params.get(k) != SEED_INPUTS[k]]
        return [f"The inputs differ from the worked example of {WALKTHROUGH} (changed: {', '.join(changed)}), so the "
                "numbers printed there are not compared; the other claims hold for any inputs."]
    return ["The source prints the weights and the output rounded to three decimals, and forms z from the "
            "rounded weights. Here every number is exact first and rounded only for display; the exact results "
            "round to the printed ones (the claims above)."]
