"""The five reproduction steps of 001 §7 for one query, exact and numeric, as report parts.

``walk`` computes everything once (exact path in SymPy, numeric path in numpy, one
rational elimination of the values) into a frozen :class:`Walkthrough`; ``claims``,
``values``, ``sections`` and ``figures`` read it. Labs that follow the five steps
(``attention_basic``, ``paper_lab``) call these and add what is their own.

Every check compares vecmix with something computed here independently: the page's
formula term by term, the explicit sum of ``alpha_i v_i``, products with the values.
When ``d_k`` is the keys' own dimension, vecmix is called with its default scale, so the
default is checked too.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from vecmix import (
    Elimination,
    SolutionSet,
    VecmixError,
    attention,
    eliminate,
    exact_attention,
    exact_equal,
    exact_scores,
    in_hull,
    in_span,
    is_nonnegative,
    one_fraction,
    softmax,
    solution_set,
    to_numeric,
)

from ..claims import Claim
from ..report import Value
from ..report import figures as fig
from ..report.markdown import column, decimal, display, error_text, image, table, tex, tuple_tex
from ._geometry import beyond

TOLERANCE = 1e-12
STEPS = "001 §7"
SHIFT = 1000  # added to every score to show that softmax sees only differences (e^1000 overflows float64)


@dataclass(frozen=True)
class Walkthrough:
    """One query q against keys K (m x d_k) and values V (m x d), computed both ways."""

    q: sp.Matrix  # (d_k, 1)
    K: sp.Matrix  # (m, d_k)
    V: sp.Matrix  # (m, d)
    d_k: int
    s: sp.Matrix  # vecmix's exact scores (m, 1)
    s_page: sp.Matrix  # the page's formula, term by term (m, 1)
    alpha: sp.Matrix  # exact weights (m, 1)
    z: sp.Matrix  # exact output (d, 1)
    z_explicit: sp.Matrix  # sum_i alpha_i v_i, term by term (d, 1)
    alpha_num: np.ndarray  # numpy weights, through the full weights matrix (m,)
    z_num: np.ndarray  # numpy output, through the full weights matrix (d,)
    z_blocked: np.ndarray  # numpy output, vecmix's default blocked online softmax (d,)
    alpha_shifted: np.ndarray  # numpy softmax of the scores + SHIFT (m,)
    alpha_doubled: sp.Matrix  # exact weights for the query 2q (m, 1)
    elim: Elimination
    solutions: SolutionSet
    far: int  # index of the value farthest from z
    p: sp.Matrix  # 2 v_far - z: the reflection of z through its farthest value (d, 1)
    p_tex: str  # how p was built, in LaTeX
    hull: tuple  # (z inside, p inside) by vecmix's exact hull test, or None where it refuses

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
        """Largest |numpy - exact| for the weights, and for the output by either numeric path."""
        z = to_numeric(self.z).ravel()  # (d, 1) -> (d,)
        return (float(np.max(np.abs(self.alpha_num - to_numeric(self.alpha).ravel()))),  # (m,) - (m,)
                float(max(np.max(np.abs(self.z_num - z)), np.max(np.abs(self.z_blocked - z)))))


def walk(q, K, V, d_k):
    """Compute the five steps for exact inputs q (d_k x 1), K (m x d_k), V (m x d).

    >>> w = walk(sp.Matrix([1, 0]), sp.Matrix([[1, 0], [0, 0], [-1, 0]]), sp.Matrix([[1, 0], [0, 1], [1, 1]]), 1)
    >>> list(w.s), w.weights_sum, w.elim.rank, w.alpha_num.round(3), w.hull
    ([1, 0, -1], 1, 2, array([0.665, 0.245, 0.09 ]), (True, False))
    """
    default = d_k == K.cols  # then vecmix's own default scale is used, and checked
    scale = None if default else 1 / sp.sqrt(d_k)
    scale_num = None if default else float(1 / np.sqrt(d_k))
    s = exact_scores(q.T, K, scale=scale).T  # (1, d_k) (d_k, m) -> (1, m) -> (m, 1)
    s_page = sp.Matrix([sp.Add(*(q[j] * K[i, j] for j in range(K.cols))) / sp.sqrt(d_k) for i in range(K.rows)])
    Z, A = exact_attention(q.T, K, V, scale=scale)  # (1, d), (1, m)
    alpha, z = A.T, Z.T  # (m, 1), (d, 1)
    z_explicit = sum((alpha[i] * V.row(i).T for i in range(V.rows)), sp.zeros(V.cols, 1))  # sum of (d, 1)
    q_num, K_num, V_num = to_numeric(q).ravel(), to_numeric(K), to_numeric(V)  # (d_k,), (m, d_k), (m, d)
    z_num, alpha_num = attention(q_num, K_num, V_num, scale=scale_num, weights=True)  # (d,), (m,)
    z_blocked = attention(q_num, K_num, V_num, scale=scale_num)  # (d,): the default path, no weights held
    alpha_shifted = softmax(to_numeric(s).ravel() + SHIFT)  # (m,)
    alpha_doubled = exact_attention(2 * q.T, K, V, scale=scale)[1].T  # (m, 1)
    elim = eliminate(V)
    p, far = beyond(V, z)  # (d, 1): 2 v_far - z, outside the hull
    p_tex = f"2v_{{{far + 1}}} - z" if far is not None else "z + 2e_1"
    far = 0 if far is None else far
    try:
        hull = (in_hull(V, z)[0], in_hull(V, p)[0])
    except VecmixError:  # too many subsets for the exact test: the claim says so
        hull = None
    return Walkthrough(q, K, V, d_k, s, s_page, alpha, z, z_explicit, alpha_num, z_num, z_blocked, alpha_shifted,
                       alpha_doubled, elim, solution_set(V, z, elim), far, p, p_tex, hull)


def claims(w):
    """The claims every mixture satisfies, checked for these inputs.

    >>> w = walk(sp.Matrix([2]), sp.Matrix([[1], [-1]]), sp.Matrix([[1, 0], [0, 1]]), 1)
    >>> [(c.id, c.verdict) for c in claims(w)][:2]
    [('scores', 'reproduced'), ('weights-distribution', 'reproduced')]
    """
    scores_ok = exact_equal(w.s, w.s_page)
    positive = all(is_nonnegative(a) and a != 0 for a in w.alpha)
    distribution = positive and w.weights_sum == 1
    shift_err = float(np.max(np.abs(w.alpha_shifted - w.alpha_num)))
    shift_ok = bool(np.isfinite(w.alpha_shifted).all()) and shift_err <= TOLERANCE
    explicit = exact_equal(w.z_explicit, w.z)
    alpha_err, z_err = w.errors
    z_tol = TOLERANCE * max(1.0, float(np.max(np.abs(to_numeric(w.V)))))
    doubled_differs = not exact_equal(w.alpha_doubled, w.alpha)
    doubled_form = all(is_nonnegative(a) for a in w.alpha_doubled) and one_fraction(sp.Add(*w.alpha_doubled)) == 1
    return [
        Claim("scores", "each score is s_i = q . k_i / sqrt(d_k), computed here term by term", "002 §2",
              "vecmix's scores = the formula's", "equal (exact)" if scores_ok else
              f"vecmix gives {_short(w.s)}, the formula {_short(w.s_page)}", scores_ok, True),
        Claim("weights-distribution", "softmax makes the scores into weights that are positive and sum to exactly 1",
              "002 §2", "alpha_i > 0, sum alpha_i = 1 (symbolic cancellation, not a float comparison)",
              f"all {w.m} positive; sum = {sp.sstr(w.weights_sum)}" if positive else
              f"a weight is not positive; sum = {sp.sstr(w.weights_sum)}", distribution, True),
        Claim("weights-see-differences", f"softmax sees only differences of scores: adding {SHIFT} to every score "
              "changes no weight, and numpy (which subtracts the row maximum) stays finite",
              "follows from 002 §2's formula",
              f"the same weights to {TOLERANCE:g}, all finite",
              f"largest change {error_text(shift_err)}" if np.isfinite(w.alpha_shifted).all() else
              "the weights are not finite", shift_ok, False),
        Claim("explicit-sum", "the output is the explicit weighted sum alpha_1 v_1 + ... + alpha_m v_m", "002 §2",
              "z - sum_i alpha_i v_i = 0", "0 exactly" if explicit else "nonzero", explicit, True),
        Claim("numeric-agrees", f"numpy's weights and output (full and blocked) agree with the exact values to "
              f"{TOLERANCE:g}", "vecmix (numeric = exact)", f"max difference <= {TOLERANCE:g}"
              + (f" (output: {z_tol:.1g}, scaled by the largest value)" if z_tol != TOLERANCE else ""),
              f"weights {error_text(alpha_err)}, output {error_text(z_err)}",
              alpha_err <= TOLERANCE and z_err <= z_tol, False),
        *([_span_claim(w)] if w.elim.rank < w.d else []),  # values spanning R^d: every vector is in the span
        _hull_claim(w),
        _solutions_claim(w),
        Claim("changing-scores", "changing the scores changes the mixture, not its form: the query 2q gives other "
              "weights, again positive and summing to 1", "002 §5", "other weights; still a distribution",
              ("other weights" if doubled_differs else "the same weights: every score difference is 0, for q and "
               "for 2q") + ("; a distribution" if doubled_form else "; not a distribution"),
              doubled_differs and doubled_form, True),
    ]


def _span_claim(w):
    """z lies in the span of the values, and a vector n orthogonal to them does not (rank < d only).

    When the values span all of R^d every vector is in their span, so the question has no
    teeth and there is no claim (:func:`claims` leaves it out).
    """
    z_in = in_span(w.V, w.z, w.elim)
    found = len(w.elim.complement) == w.d - w.elim.rank  # the orthogonal complement has dimension d - rank
    n_out = found and not in_span(w.V, w.elim.complement[0], w.elim)  # n != 0 is orthogonal to the values
    seen = ("z in the span" if z_in else "z outside the span") + "; " + (
        ("n outside it" if n_out else "n in it") if found else
        f"{len(w.elim.complement)} complement vectors for d - rank = {w.d - w.elim.rank}") + (
        f" (rank {w.elim.rank} < d = {w.d})")
    return Claim("in-span", "the output z lies in the span of the values, and a vector n orthogonal to every value "
                 "does not", f"{STEPS}, step 5", "z in span(v_1..v_m); n not in it", seen, z_in and n_out, True)


def _hull_claim(w):
    """z lies in the convex hull; p = 2 v_f - z (beyond the farthest value) does not."""
    built = w.p_tex.replace("{", "").replace("}", "")  # 2v_2 - z
    statement = (f"z is a convex combination of the values (in their convex hull); p = {built}, beyond the value "
                 "farthest from z, is not, so no query reaches it")
    if w.hull is None:
        return Claim("in-hull", statement, "002 §5", "z inside, p outside (exact hull test)",
                     f"the exact hull test refuses {w.m} values in R^{w.d} (too many subsets to try)", False, True)
    z_in, p_in = w.hull
    seen = f"z {'inside' if z_in else 'outside'}, p {'inside' if p_in else 'outside'} (exact)"
    return Claim("in-hull", statement, "002 §5", "z inside, p outside (exact hull test)", seen, z_in and not p_in,
                 True)


def _solutions_claim(w):
    """Every coefficient vector reaching z: c_0 + span of the dependencies, alpha among them."""
    S = w.solutions
    cancel = all((w.V.T * n).is_zero_matrix for n in S.directions)  # (d, m) (m, 1) -> (d, 1): each gives 0
    on_set = S.consistent and S.contains(w.alpha)
    right_size = S.dimension == w.m - w.elim.rank
    seen = (f"{_kind(S.dimension)}; each direction gives V^T n = 0" if cancel else
            "a direction n with V^T n != 0") + ("; alpha on it" if on_set else "; alpha not on it")
    return Claim("weights-on-solution-set", "alpha is one of the coefficient vectors c with V^T c = z, which form "
                 "c_0 plus any combination of the dependencies among the values", f"{STEPS}, step 5",
                 f"a solution set of dimension m - rank = {w.m - w.elim.rank} containing alpha", seen,
                 cancel and on_set and right_size, True)


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
        Value("weights_for_2q", col(w.alpha_doubled), w.alpha_doubled),
        Value("rank", w.elim.rank, sp.Integer(w.elim.rank)),
        Value("null_space", [col(c) for c in w.elim.null_space], list(w.elim.null_space)),
        Value("particular_solution", col(w.solutions.particular) if w.solutions.consistent else None,
              w.solutions.particular),
        Value("weights_position", [float(to_numeric(w.alpha[f])) for f in w.free], [w.alpha[f] for f in w.free]),
        Value("outside_point", col(w.p), w.p),
    ]


def figures(w):
    """({file name: Figure}, projection note): the weights beside the contributions, the hull with z and p.

    >>> w = walk(sp.Matrix([0]), sp.Matrix([[1], [-1]]), sp.Matrix([[1, 0, 0], [0, 1, 0]]), 1)
    >>> figs, note = figures(w)
    >>> sorted(figs), note.startswith("The values live in R^3")
    (['mixture.svg', 'weights.svg'], True)
    """
    V_num = to_numeric(w.V)  # (m, d)
    P, note = fig.projection(V_num)  # (2, d)
    Vp, zp, pp = V_num @ P.T, P @ w.z_num, P @ to_numeric(w.p).ravel()  # (m, d) (d, 2); (2, d) (d,) -> (2,)
    names = [fig.named("v", i + 1) for i in range(w.m)]
    outputs = [("z", "the attention output", zp, fig.ATTENTION_COLOR),
               ("p", "beyond the farthest value (no query reaches it)", pp, fig.OTHER_COLORS[0])]
    return {"weights.svg": fig.weights_figure(w.alpha_num, Vp, zp),
            "mixture.svg": fig.mixture_figure(Vp, names, outputs)}, note


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
        "positive and sum to one, and the output is the weighted sum of the value vectors. Nothing new is "
        "created: the output is assembled from the values already present, so it lies in their span, and "
        "because the weights are nonnegative and sum to one, inside their convex hull.\n"
        + display(r"s_i = \frac{q^\top k_i}{\sqrt{d_k}}, \qquad \alpha_i = \frac{e^{s_i}}{\sum_{j=1}^{m} e^{s_j}}, "
                  r"\qquad z = \sum_{i=1}^{m} \alpha_i v_i = V^\top \alpha")
    )


def _choose(w):
    rows = [[i + 1, f"${tuple_tex(w.K.row(i))}$", f"${tuple_tex(w.V.row(i))}$", f"${tex(w.s[i])}$",
             f"${tex(w.alpha[i])}$", decimal(w.alpha_num[i])] for i in range(w.m)]
    scale = ("the keys' own dimension, so vecmix's default scale is used" if w.d_k == w.K.cols else
             f"set in the config; the keys themselves have {w.K.cols} coordinates")
    return (
        "## Step 1: choose values, keys and query\n\n"
        f"There are $m = {w.m}$ key-value pairs; the query and the keys live in $\\mathbb{{R}}^{{{w.K.cols}}}$, "
        f"the values in $\\mathbb{{R}}^{{{w.d}}}$, and the scale uses $d_k = {w.d_k}$ ({scale}). Every input is "
        "an exact rational (a decimal in the config is the number it spells).\n"
        + display(f"q = {column(w.q)}, \\qquad \\frac{{1}}{{\\sqrt{{d_k}}}} = {tex(1 / sp.sqrt(w.d_k))}")
        + "\n" + table(["$i$", "key $k_i$", "value $v_i$", "score $s_i$", r"weight $\alpha_i$ (exact)",
                        r"$\alpha_i$ (numeric)"], rows) + "\n"
    )


def _scores(w):
    return (
        "## Step 2: compute the scores\n\n"
        "Each score is the dot product of the query with one key, divided by $\\sqrt{d_k}$. The lab computes "
        "them from the formula, term by term, and compares them with vecmix's:\n"
        + display(rf"s = \frac{{K q}}{{\sqrt{{d_k}}}} = {column(w.s)}")
    )


def _weights(w):
    doubled = column(to_numeric(w.alpha_doubled).ravel(), fmt=decimal)
    return (
        "## Step 3: compute the weights\n\n"
        "Softmax exponentiates and normalises. Exactly (each exponent shifted by the smallest score, which "
        "changes nothing):\n"
        + display(rf"\alpha = \operatorname{{softmax}}(s) = {_factored(w.alpha)} \approx "
                  rf"{column(w.alpha_num, fmt=decimal)}")
        + f"\nAdding the weights over their common denominator, SymPy cancels the sum to exactly "
        f"${tex(w.weights_sum)}$: a symbolic identity, not a float comparison. Every weight is positive, "
        "because an exponential is.\n\n"
        f"Softmax sees only the differences of the scores: adding {SHIFT} to every score changes no weight. In "
        f"floating point $e^{{{SHIFT}}}$ overflows, so numpy's softmax subtracts each row's largest score before "
        "exponentiating; its weights for the shifted scores are the same.\n\n"
        "Changing the scores changes the mixture, not its form: with the query doubled, $2q$, every score "
        f"doubles and the weights become ${doubled}$, again positive and summing to one.\n"
    )


def _sum(w, note):
    alpha_err, z_err = w.errors
    terms = " + ".join(rf"\alpha_{{{i + 1}}} v_{{{i + 1}}}" for i in range(min(w.m, 4))) + (
        r" + \cdots" if w.m > 4 else "")
    return (
        "## Step 4: form the weighted sum\n\n"
        + display(rf"z = {terms} = {column(w.z)} \approx {column(w.z_num, fmt=decimal)}")
        + "\nnumpy computes the same weights and output in floating point, once through the full weights matrix "
        "and once block by block with an online softmax (vecmix's default, which never holds the weights); the "
        f"largest differences from the exact values are {error_text(alpha_err)} (weights) and "
        f"{error_text(z_err)} (output).\n\n"
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
                     "the span, while $n_1$ itself (orthogonal to every value) does not. The exact output is never "
                     "put through symbolic elimination: the complement is computed once over the rationals and $z$ "
                     "is checked against it.")
    else:
        parts.append(f" They span all of $\\mathbb{{R}}^{{{w.d}}}$, so every vector, $z$ included, is in their span: "
                     "with these values membership is no question, and no claim pretends to check it.")
    S = w.solutions
    parts.append("\n\nEvery coefficient vector $c$ with $V^\\top c = z$ reaches the same output. "
                 + (f"They form {_kind(S.dimension)}" if S.consistent else "Here none does: $z$ is outside the span"))
    if not S.consistent:
        parts.append(".")
    elif S.directions:
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
        "it lies inside their convex hull, and so does the output for every other query. A point outside the "
        f"hull is out of reach: $p = {w.p_tex} \\approx {tuple_tex(w.p, fmt=_short_tex)}$, "
        + (f"the reflection of $z$ through $v_{{{w.far + 1}}}$ (the value farthest from $z$), lies farther from $z$ "
           "than any point of the hull (whose farthest points from $z$ are values)" if w.p_tex.startswith("2v")
           else "a step away from $z$, is not in the hull, which is the single point $z$ (every value equals $z$)")
        + ", and vecmix's exact hull test (Carathéodory: every affinely independent subset of the values, "
        "solved exactly) finds $z$ inside and $p$ outside.\n\n"
        + image("figures/mixture.svg", "values, convex hull and output",
                "Figure 2. The value vectors (arrows), their convex hull (shaded), the output z (star) and the point "
                "p outside the hull." + (f" {note}" if note else ""))
        + "\n")
    return "".join(parts)


def _kind(dimension):
    return {0: "a single point", 1: "a line", 2: "a plane"}.get(dimension, f"a {dimension}-dimensional flat")


def _short(M):
    return "(" + ", ".join(decimal(float(to_numeric(x))) for x in M) + ")"


def _short_tex(x):
    return decimal(float(to_numeric(x)))


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
