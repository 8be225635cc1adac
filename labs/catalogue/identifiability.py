"""Lab ``identifiability``: does summing lose which words mattered? (003)

Weights that sum to one can be read back from the output exactly when the values are
affinely independent. Otherwise (always when m > d + 1) there are different attention
distributions with the same output: a whole family of them, constructed here exactly.
Nothing is lost by the layer itself, though: the weights are an output too.
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    affine_solution_set,
    attention,
    eliminate,
    exact_attention,
    exact_equal,
    exact_softmax,
    is_nonnegative,
    one_fraction,
    to_numeric,
)

from ..claims import Claim
from ..config.inputs import read_labels, read_vectors
from ..grading import Exercise, exact, satisfies, vector
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, decimal, display, image, tex, tuple_tex

TITLE = "Does the weighted sum lose which words mattered?"
SOURCE = "003"


@dataclass
class Config:
    """identifiability: one sentence, embedded twice (weights recoverable, and not)."""

    name: str = "identifiability"
    words: List[str] = MISSING  # the sentence, one word per value
    values: List[List[Any]] = MISSING  # embeddings that are affinely independent (m <= d + 1)
    flat_values: List[List[Any]] = MISSING  # the same words in fewer dimensions (m > d + 1)
    query_word: int = 1  # the word under consideration: q = its value, keys = values


def run(params):
    """Attend from one word of the sentence, twice: with embeddings that pin the weights down, and without.

    >>> r = run({"words": ["i", "love", "sushi"], "values": [[1, 0], [0, 1], [1, 1]], "flat_values": [[0], [0.5], [1]],
    ...          "query_word": 1})
    >>> r.reproduced
    True
    """
    words = list(params["words"])
    V = read_vectors(params["values"], "lab.values")  # (m, d), affinely independent
    F = read_vectors(params["flat_values"], "lab.flat_values")  # (m, d'), m > d' + 1
    words = read_labels(words, "lab.words", V.rows)
    if F.rows != V.rows:
        raise VecmixError(f"lab.flat_values has {F.rows} vectors but there are {V.rows} words: one per word")
    t = params["query_word"]
    if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < len(words):
        raise VecmixError(f"lab.query_word = {t!r} must be a word index from 0 to {len(words) - 1}")
    m = V.rows

    # A: embeddings in which the weights can be read back.
    Z, A = exact_attention(V.row(t), V, V, scale=1)  # q = v^<t>, keys = values, exp(q . k) as on the page
    alpha, z = A.T, Z.T  # (m, 1), (d, 1)
    coords = affine_solution_set(V, z)
    recovered = coords.dimension == 0 and exact_equal(coords.particular, alpha)

    # B: the same words in fewer dimensions: a family of distributions with one output.
    Zf, Af = exact_attention(F.row(t), F, F, scale=1)
    beta, zf = Af.T, Zf.T  # (m, 1), (d', 1)
    family = affine_solution_set(F, zf)
    if family.dimension < 1:
        raise VecmixError(f"lab.flat_values are affinely independent (m = {m} <= d + 1 = {F.cols + 1}), so they "
                          "pin the weights down; give more words than dimensions + 1")
    lifted_rank = eliminate(F.row_join(sp.ones(m, 1))).rank  # (m, d' + 1): affine dependencies, counted apart
    n = family.directions[0]  # (m, 1): sum n = 0 and F^T n = 0
    lo, hi = _interval(beta, n)  # beta + s n > 0 exactly for s in (lo, hi)
    s_star = hi / 2
    gamma = (beta + s_star * n).applyfunc(one_fraction)  # (m, 1): another attention distribution
    s = sp.Symbol("s")
    along = (F.T * (beta + s * n)).applyfunc(sp.expand) - zf  # (d', m) (m, 1) - (d', 1): zero for every s
    scores = [sp.log(g) for g in gamma]  # scores whose softmax is gamma
    same_output = exact_equal(F.T * gamma, zf)
    as_softmax = exact_equal(exact_softmax(scores), gamma)

    V_num, F_num = to_numeric(V), to_numeric(F)
    z_num, alpha_num = attention(V_num[t], V_num, V_num, scale=1.0, weights=True)
    zf_num, beta_num = attention(F_num[t], F_num, F_num, scale=1.0, weights=True)
    gamma_num = to_numeric(gamma).ravel()
    claims = [
        Claim("recoverable", f"with affinely independent values (m = {m}, d = {V.cols}) the weights are read back "
              "from z exactly", SOURCE, "the only c with V^T c = z, sum c = 1, is alpha",
              "unique, equal to alpha" if recovered else "not unique", recovered, True),
        Claim("not-recoverable", f"with m = {m} > d + 1 = {F.cols + 1} the weights sum to one in a "
              f"{family.dimension}-parameter family of ways", SOURCE,
              f"m - rank[U | 1] = {m - lifted_rank} free parameters", f"dimension {family.dimension}",
              family.dimension == m - lifted_rank >= 1, True),
        Claim("two-distributions-one-output", "two different attention distributions give exactly the same output",
              SOURCE, "beta != gamma, both > 0, sum 1, same z", "equal outputs, different weights" if same_output and
              not exact_equal(beta, gamma) else "no", same_output and not exact_equal(beta, gamma) and all(
                  is_nonnegative(g) for g in gamma), True),
        Claim("whole-family", "every beta + s n with s in (lo, hi) is a positive distribution with the same output",
              SOURCE, "F^T (beta + s n) = z for all s", f"identically 0 in s; s in ({_short(lo)}, {_short(hi)})",
              all(a == 0 for a in along.applyfunc(one_fraction)), True),
        Claim("also-a-softmax", "the second distribution is itself a softmax: of the scores log(gamma_i)", SOURCE,
              "softmax(log gamma) = gamma", "equal (exact)" if as_softmax else "different", as_softmax, True),
        Claim("numeric-agrees", "numpy's weights and outputs agree with the exact ones to 1e-12", SOURCE,
              "max difference <= 1e-12", f"{_err(alpha_num, alpha, beta_num, beta, z_num, z, zf_num, zf):.1e}",
              _err(alpha_num, alpha, beta_num, beta, z_num, z, zf_num, zf) <= 1e-12, False),
    ]
    if m == 3:
        ends = [to_numeric((beta + x * n).applyfunc(one_fraction)).ravel() for x in (lo, hi)]
        figure = fig.simplex_figure(words, [("attention weights, values in R^%d" % V.cols, to_numeric(alpha).ravel()),
                                            ("attention weights, values in R^%d" % F.cols, beta_num),
                                            ("another distribution, same output", gamma_num)],
                                    ("every distribution with that same output", ends[0], ends[1]))
    else:
        figure = fig.grouped_bars(words, [("beta", beta_num), ("gamma", gamma_num)], "weight")
    values = [Value("values", V_num, V), Value("weights", alpha_num, alpha), Value("output", z_num, z),
              Value("recovered_weights", to_numeric(coords.particular).ravel(), coords.particular),
              Value("flat_values", F_num, F), Value("flat_weights", beta_num, beta), Value("flat_output", zf_num, zf),
              Value("family_direction", to_numeric(n).ravel(), n), Value("family_interval", [float(lo), float(hi)],
                                                                           [lo, hi]),
              Value("other_weights", gamma_num, gamma)]
    word = words[t]
    sections = [
        "## The question\n\n"
        f"The page asks: if the attention output for a word is the sum $\\sum_i \\alpha_i v^{{<i>}}$, doesn't the "
        "sum lose which other words mattered? Two different weightings could give the same vector. Here the "
        f"sentence is *{' '.join(words)}*, the word under consideration is *{word}* ($q = v^{{<{t}>}}$, keys = "
        "values), and the weights are the page's $\\exp(q \\cdot k^{<i>}) / \\sum_j \\exp(q \\cdot k^{<j>})$.\n",
        "## When the weights can be read back\n\n"
        f"With the embeddings ${', '.join(f'v^{{<{i}>}} = {tuple_tex(V.row(i))}' for i in range(m))}$ the output is "
        f"$z = {tuple_tex(z)}$. Weights that sum to one and give $z$ solve $V^\\top c = z$, $\\sum_i c_i = 1$: "
        f"{m} unknowns, {V.cols + 1} equations. The values are affinely independent, so the solution is unique, "
        "and it is exactly the attention weights:\n"
        + display(rf"c = \alpha = {column(alpha)} \approx {column(to_numeric(alpha).ravel(), fmt=decimal)}"),
        "## When they cannot\n\n"
        f"Put the same words in $\\mathbb{{R}}^{{{F.cols}}}$: "
        f"${', '.join(f'u^{{<{i}>}} = {tuple_tex(F.row(i))}' for i in range(m))}$ (rows of $U$). Now $m = {m} > d + 1 = "
        f"{F.cols + 1}$, and the direction $n = {tuple_tex(n)}$ changes neither the sum of the weights nor the "
        "output. Every\n"
        + display(rf"\beta + s\, n, \qquad {tex(lo)} < s < {tex(hi)}")
        + "\nis a strictly positive distribution with the same output, and each of them is the softmax of some "
        f"scores (its logarithms). At $s = {tex(s_star)}$:\n"
        + display(rf"\beta \approx {column(beta_num, fmt=decimal)}, \qquad \gamma \approx "
                  rf"{column(gamma_num, fmt=decimal)}, \qquad U^\top \beta = U^\top \gamma = {column(zf)}")
        + "\n" + image("figures/distributions.svg", "distributions with the same output",
                       "Figure 1. All distributions over the three words (the triangle). With 2-D embeddings the "
                       "weights are pinned down; with 1-D embeddings every point of the red segment gives the "
                       "same output.") + "\n",
        "## The answer\n\n"
        "Yes, the sum alone can lose which words mattered: exactly when the values are affinely dependent, which "
        "is unavoidable once there are more words than dimensions plus one. But the layer does not throw the "
        "weights away. **The weights are themselves an output of the layer**: `vecmix.attention` returns "
        "$A$ beside $Z$, and in a transformer they are recomputed from the query and keys whenever they are "
        "needed. Which words mattered is recorded in $q \\cdot k^{<i>}$ and in $A$, not in $z$; $z$ is what the "
        "next layer receives.\n",
    ]
    intro = f"*Answers* the question of {cite('003', 'question and answer')}, on its sentence *i love sushi*."
    return LabResult("identifiability", TITLE, intro, sections, claims, values, {"distributions.svg": figure}, [
        "The page leaves the embeddings abstract; these small illustrative ones are the lab's choice, and the scores "
        "follow the page's formula exp(q . k) without the 1/sqrt(d_k) scale."])


def _interval(beta, n):
    """(lo, hi): the open interval of s for which beta + s n stays strictly positive (beta > 0, sum n = 0)."""
    lows = [-b / c for b, c in zip(beta, n) if c > 0]
    highs = [-b / c for b, c in zip(beta, n) if c < 0]
    lo = max(lows, key=lambda x: float(to_numeric(x)))
    hi = min(highs, key=lambda x: float(to_numeric(x)))
    return one_fraction(lo), one_fraction(hi)


def _short(x):
    return f"{float(to_numeric(x)):.3f}"


def _err(*pairs):
    return max(float(np.max(np.abs(np.ravel(a) - to_numeric(b).ravel()))) for a, b in zip(pairs[::2], pairs[1::2]))


# Exercises: graded by pytest (python -m labs.exercises identifiability)

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
