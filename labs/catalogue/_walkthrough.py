"""The five reproduction steps of 001 §7 for one query, exact and numeric, as report parts.

``walk`` computes everything once (exact path in SymPy, numeric path in numpy, one
rational elimination of the values) into a frozen :class:`Walkthrough`; ``claims``,
``values``, ``sections`` and ``figures`` read it. Labs that follow the five steps
(``attention_basic``) call these and add what is their own.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from vecmix import (
    Elimination,
    SolutionSet,
    attention,
    eliminate,
    exact_attention,
    exact_scores,
    in_span,
    is_nonnegative,
    is_zero,
    one_fraction,
    solution_set,
    to_numeric,
)

from ..claims import Claim
from ..report import Value
from ..report import figures as fig
from ..report.markdown import column, decimal, display, image, table, tex, tuple_tex

TOLERANCE = 1e-12
STEPS = "001 §7"


@dataclass(frozen=True)
class Walkthrough:
    """One query q against keys K (m x d_k) and values V (m x d), computed both ways."""

    q: sp.Matrix  # (d_k, 1)
    K: sp.Matrix  # (m, d_k)
    V: sp.Matrix  # (m, d)
    d_k: int
    s: sp.Matrix  # exact scores (m, 1)
    alpha: sp.Matrix  # exact weights (m, 1)
    z: sp.Matrix  # exact output (d, 1)
    z_explicit: sp.Matrix  # sum_i alpha_i v_i, term by term (d, 1)
    alpha_num: np.ndarray  # numpy weights (m,)
    z_num: np.ndarray  # numpy output (d,)
    elim: Elimination
    solutions: SolutionSet

    @property
    def m(self):
        return self.V.rows

    @property
    def d(self):
        return self.V.cols

    @property
    def free(self):
        """Indices of the values outside the pivot basis: the parameters of the solution set."""
        return [j for j in range(self.m) if j not in self.elim.pivots]

    @property
    def weights_sum(self):
        return one_fraction(sp.Add(*self.alpha))

    @property
    def errors(self):
        """Largest |numpy - exact| for the weights and for the output."""
        return (float(np.max(np.abs(self.alpha_num - to_numeric(self.alpha).ravel()))),  # (m,) - (m, 1) -> (m,)
                float(np.max(np.abs(self.z_num - to_numeric(self.z).ravel()))))  # (d,) - (d, 1) -> (d,)


def walk(q, K, V, d_k):
    """Compute the five steps for exact inputs q (d_k x 1), K (m x d_k), V (m x d).

    >>> w = walk(sp.Matrix([1, 0]), sp.Matrix([[1, 0], [0, 0], [-1, 0]]), sp.Matrix([[1, 0], [0, 1], [1, 1]]), 1)
    >>> list(w.s), w.weights_sum, w.elim.rank, w.alpha_num.round(3)
    ([1, 0, -1], 1, 2, array([0.665, 0.245, 0.09 ]))
    """
    scale = 1 / sp.sqrt(d_k)
    s = exact_scores(q.T, K, scale=scale).T  # (1, d_k) (d_k, m) -> (1, m) -> (m, 1)
    Z, A = exact_attention(q.T, K, V, scale=scale)  # (1, d), (1, m)
    alpha, z = A.T, Z.T  # (m, 1), (d, 1)
    z_explicit = sum((alpha[i] * V.row(i).T for i in range(V.rows)), sp.zeros(V.cols, 1))  # sum of (d, 1)
    z_num, alpha_num = attention(to_numeric(q).ravel(), to_numeric(K), to_numeric(V), scale=float(scale),
                               weights=True)  # (d,), (m,)
    elim = eliminate(V)
    return Walkthrough(q, K, V, d_k, s, alpha, z, z_explicit, alpha_num, z_num, elim, solution_set(V, z, elim))


def claims(w):
    """The claims every mixture satisfies, checked for these inputs.

    >>> w = walk(sp.Matrix([2]), sp.Matrix([[1], [-1]]), sp.Matrix([[1, 0], [0, 1]]), 1)
    >>> [(c.id, c.verdict) for c in claims(w)][:2]
    [('weights-nonnegative', 'reproduced'), ('weights-sum-to-one', 'reproduced')]
    """
    nonnegative = all(is_nonnegative(a) for a in w.alpha)
    sums_to_one = w.weights_sum == 1
    explicit = all(is_zero(x) for x in w.z_explicit - w.z)
    alpha_err, z_err = w.errors
    z_tol = TOLERANCE * max(1.0, float(np.max(np.abs(to_numeric(w.V)))))
    span = in_span(w.V, w.z, w.elim)
    on_set = w.solutions.contains(w.alpha)
    if not w.elim.complement:
        span_seen = f"rank {w.elim.rank} = d: the values span R^{w.d}"
    else:
        span_seen = (f"n . z = 0 exactly for all {len(w.elim.complement)} complement vectors" if span
                     else "z has a component outside the span")
    return [
        Claim("weights-nonnegative", "every weight is nonnegative", "002 §2", "alpha_i >= 0 for all i",
              f"all {w.m} weights are positive (exact sign)" if nonnegative else "a weight is negative",
              nonnegative, True),
        Claim("weights-sum-to-one", "the weights sum to exactly 1 (symbolic cancellation, not a float comparison)",
              "002 §2", "1", sp.sstr(w.weights_sum), sums_to_one, True),
        Claim("explicit-sum", "the matrix form V^T alpha equals the explicit sum of alpha_i v_i", "000 §6",
              "V^T alpha - sum_i alpha_i v_i = 0", "0 exactly" if explicit else "nonzero", explicit, True),
        Claim("numeric-agrees", f"numpy's weights and output agree with the exact values to {TOLERANCE:g}",
              STEPS, f"max difference <= {TOLERANCE:g}", f"weights {alpha_err:.1e}, output {z_err:.1e}",
              alpha_err <= TOLERANCE and z_err <= z_tol, False),
        Claim("in-span", "the output z lies in the span of the values", f"{STEPS}, step 5",
              "n . z = 0 for every n orthogonal to the values", span_seen, span, True),
        Claim("in-hull", "z is a convex combination of the values, so it lies in their convex hull", "002 §5",
              "alpha >= 0, sum alpha = 1, V^T alpha = z",
              "all three hold exactly" if nonnegative and sums_to_one and explicit else "one of the three fails",
              nonnegative and sums_to_one and explicit, True),
        Claim("weights-on-solution-set", "alpha is one of the coefficient vectors c with V^T c = z",
              f"{STEPS}, step 5", f"a solution set of dimension m - rank = {w.m - w.elim.rank} containing alpha",
              f"{_kind(w.solutions.dimension)}; alpha on it" if on_set else "alpha is not on it",
              on_set and w.solutions.dimension == w.m - w.elim.rank, True),
    ]


def values(w):
    """The named results of results.json, numeric (numpy) beside exact (SymPy).

    >>> w = walk(sp.Matrix([0]), sp.Matrix([[1], [-1]]), sp.Matrix([[1, 0], [0, 1]]), 1)
    >>> {v.name: v.to_json() for v in values(w)}["weights"]
    {'numeric': [0.5, 0.5], 'exact': ['1/2', '1/2']}
    """
    col = lambda M: to_numeric(M).ravel()  # noqa: E731  (n, 1) -> (n,)
    return [
        Value("query", col(w.q), w.q),
        Value("keys", to_numeric(w.K), w.K),
        Value("values", to_numeric(w.V), w.V),
        Value("d_k", w.d_k, sp.Integer(w.d_k)),
        Value("scores", col(w.s), w.s),
        Value("weights", w.alpha_num, w.alpha),
        Value("weights_sum", float(np.sum(w.alpha_num)), w.weights_sum),
        Value("output", w.z_num, w.z),
        Value("rank", w.elim.rank, sp.Integer(w.elim.rank)),
        Value("null_space", [col(c) for c in w.elim.null_space], list(w.elim.null_space)),
        Value("particular_solution", col(w.solutions.particular), w.solutions.particular),
        Value("weights_position", [float(to_numeric(w.alpha[f])) for f in w.free], [w.alpha[f] for f in w.free]),
    ]


def figures(w):
    """({file name: Figure}, projection note): the weights beside the contributions, the hull with z.

    >>> w = walk(sp.Matrix([0]), sp.Matrix([[1], [-1]]), sp.Matrix([[1, 0, 0], [0, 1, 0]]), 1)
    >>> figs, note = figures(w)
    >>> sorted(figs), note.startswith("The values live in R^3")
    (['mixture.svg', 'weights.svg'], True)
    """
    V_num = to_numeric(w.V)  # (m, d)
    P, note = fig.projection(V_num)  # (2, d)
    Vp, zp = V_num @ P.T, P @ w.z_num  # (m, d) (d, 2) -> (m, 2); (2, d) (d,) -> (2,)
    names = [fig.named("v", i + 1) for i in range(w.m)]
    return {"weights.svg": fig.weights_figure(w.alpha_num, Vp, zp),
            "mixture.svg": fig.mixture_figure(Vp, names, [("output z", zp)])}, note


def sections(w, note=""):
    """The report's body: the idea and the formula, then one section per step.

    >>> w = walk(sp.Matrix([0]), sp.Matrix([[1], [-1]]), sp.Matrix([[1, 0], [0, 1]]), 1)
    >>> [s.splitlines()[0] for s in sections(w)][1:3]
    ['## Step 1: choose values, keys and query', '## Step 2: compute the scores']
    """
    return [_idea(), _choose(w), _scores(w), _weights(w), _sum(w, note), _span(w, note)]


def _idea():
    return (
        "## The idea\n\n"
        "One query is compared with every key. Softmax turns the similarity scores into weights that are "
        "nonnegative and sum to one, and the output is the weighted sum of the value vectors. Nothing new is "
        "created: the output is assembled from the values already present, so it lies in their span, and "
        "because the weights are nonnegative and sum to one, inside their convex hull.\n"
        + display(r"s_i = \frac{q^\top k_i}{\sqrt{d_k}}, \qquad \alpha_i = \frac{e^{s_i}}{\sum_{j=1}^{m} e^{s_j}}, "
                  r"\qquad z = \sum_{i=1}^{m} \alpha_i v_i = V^\top \alpha")
    )


def _choose(w):
    rows = [[i + 1, f"${tuple_tex(w.K.row(i))}$", f"${tuple_tex(w.V.row(i))}$", f"${tex(w.s[i])}$",
             f"${tex(w.alpha[i])}$", decimal(w.alpha_num[i])] for i in range(w.m)]
    return (
        "## Step 1: choose values, keys and query\n\n"
        f"There are $m = {w.m}$ key-value pairs; the query and the keys live in $\\mathbb{{R}}^{{{w.K.cols}}}$, "
        f"the values in $\\mathbb{{R}}^{{{w.d}}}$, and the scale uses $d_k = {w.d_k}$. Every input is an exact "
        "rational (a decimal in the config is the number it spells).\n"
        + display(f"q = {column(w.q)}, \\qquad \\frac{{1}}{{\\sqrt{{d_k}}}} = {tex(1 / sp.sqrt(w.d_k))}")
        + "\n" + table(["$i$", "key $k_i$", "value $v_i$", "score $s_i$", r"weight $\alpha_i$ (exact)",
                        r"$\alpha_i$ (numeric)"], rows) + "\n"
    )


def _scores(w):
    return (
        "## Step 2: compute the scores\n\n"
        "Each score is the dot product of the query with one key, divided by $\\sqrt{d_k}$:\n"
        + display(rf"s = \frac{{K q}}{{\sqrt{{d_k}}}} = {column(w.s)}")
    )


def _weights(w):
    return (
        "## Step 3: compute the weights\n\n"
        "Softmax exponentiates and normalises. Exactly (each exponent shifted by the smallest score, which "
        "changes nothing):\n"
        + display(rf"\alpha = \operatorname{{softmax}}(s) = {_factored(w.alpha)} \approx "
                  rf"{column(w.alpha_num, fmt=decimal)}")
        + f"\nAdding the weights over their common denominator, SymPy cancels the sum to exactly "
        f"${tex(w.weights_sum)}$: a symbolic identity, not a float comparison. Every weight is positive, "
        "because an exponential is.\n"
    )


def _sum(w, note):
    alpha_err, z_err = w.errors
    terms = " + ".join(rf"\alpha_{{{i + 1}}} v_{{{i + 1}}}" for i in range(min(w.m, 4))) + (
        r" + \cdots" if w.m > 4 else "")
    return (
        "## Step 4: form the weighted sum\n\n"
        + display(rf"z = {terms} = {column(w.z)} \approx {column(w.z_num, fmt=decimal)}")
        + f"\nnumpy computes the same weights and output in floating point; the largest differences from the "
        f"exact values are {alpha_err:.1e} (weights) and {z_err:.1e} (output).\n\n"
        + image("figures/weights.svg", "weights and contributions",
                "Figure 1. Left: the weights, which is what attention viewers usually show. Right: the value "
                "side they leave out: each contribution alpha_i v_i, laid tip to tail; together they reach z."
                + (f" {note}" if note else ""))
        + "\n"
    )


def _span(w, note):
    basis = ", ".join(f"$v_{{{p + 1}}}$" for p in w.elim.pivots)
    parts = ["## Step 5: verify the span\n\n", f"The values have rank {w.elim.rank} (a basis: {basis})."]
    if w.elim.complement:
        normals = ", ".join(f"$n_{{{j + 1}}} = {tuple_tex(n)}$" for j, n in enumerate(w.elim.complement))
        parts.append(f" Their span is orthogonal to {normals}; exactly, $n \\cdot z = 0$ for each, so $z$ lies in "
                     "the span. The exact output is never put through symbolic elimination: the complement is "
                     "computed once over the rationals and $z$ is checked against it.")
    else:
        parts.append(f" They span all of $\\mathbb{{R}}^{{{w.d}}}$, so every vector, $z$ included, is in their span.")
    parts.append("\n\nEvery coefficient vector $c$ with $V^\\top c = z$ reaches the same output. "
                 f"They form {_kind(w.solutions.dimension)}")
    S = w.solutions
    if S.directions:
        ts = ", ".join(f"t_{{{j + 1}}}" for j in range(len(w.free)))
        combo = " + ".join(f"t_{{{j + 1}}} {column(c)}" for j, c in enumerate(S.directions))
        deps = ", ".join(f"${_relation(c, f)}$" for c, f in zip(S.directions, w.free))
        parts.append(f", since the values are dependent ({deps}):\n"
                     + display(rf"c = {column(S.particular)} + {combo}, \qquad {ts} \in \mathbb{{R}}")
                     + "\nThe attention weights are the point of this set at "
                     + ", ".join(f"$t_{{{j + 1}}} = {tex(w.alpha[f])}$" for j, f in enumerate(w.free))
                     + ": $\\alpha$ is one way, among infinitely many, to reach $z$.")
    else:
        parts.append(f": the values are independent, so $c = {column(S.particular)}$ is the only solution, and it "
                     "is $\\alpha$.")
    parts.append(
        "\n\nBecause the weights are nonnegative and sum to one, $z$ is a convex combination of the values: "
        "it lies inside their convex hull.\n\n"
        + image("figures/mixture.svg", "values, convex hull and output",
                "Figure 2. The value vectors (arrows), their convex hull (shaded) and the output z (star)."
                + (f" {note}" if note else ""))
        + "\n")
    return "".join(parts)


def _kind(dimension):
    return {0: "a single point", 1: "a line", 2: "a plane"}.get(dimension, f"a {dimension}-dimensional flat")


def _factored(alpha):
    """alpha in LaTeX with its common denominator factored out when there is one."""
    parts = [sp.fraction(one_fraction(a)) for a in alpha]
    dens = {den for _, den in parts}
    if len(dens) == 1 and dens != {1}:
        return rf"\frac{{1}}{{{tex(dens.pop())}}} {column([num for num, _ in parts])}"
    return column(alpha)


def _relation(c, f):
    """The dependency c (with c_f = 1) written as v_f = a combination of the others."""
    others = sp.Add(*(-c[p] * sp.Symbol(f"v_{p + 1}") for p in range(c.rows) if p != f and c[p] != 0))
    return f"v_{{{f + 1}}} = {tex(others)}"
