"""Lab ``identifiability``: does summing lose which words mattered? (003)

Two questions, kept apart. (a) Which distributions give the same output z? Those c with
V^T c = z and sum c = 1: a single point exactly when the values are affinely independent,
else a whole family. (b) Which of them can the layer produce? A distribution alpha is the
attention of some query q exactly when log alpha_i = q . k_i + c for all i (003's scores,
without a scale), i.e. log alpha lies in the span of the key coordinates and the all-ones
vector. With keys equal to the values (the lab's reading of 003's answer, which does not
say what the keys are) the output pins the producible distribution down (two of them with
one output would have a positive symmetrised KL divergence equal to (q - q') . (z - z') = 0),
and so it does whenever the keys are an affine function of the values (k_i = B^T v_i + b);
with keys that see what the values do not, two queries can (but need not) give different distributions and the
same output. Around this: the three spaces of 003's answer (word embeddings e, x = e + PE,
values v = x W_v) and the asker's two near-one-hot extremes. Words are numbered from 1 (003
numbers them from 0).
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
    in_span,
    is_nonnegative,
    is_zero,
    one_fraction,
    solution_set,
    to_numeric,
)

from ..claims import Claim, fault, inputs
from ..config.inputs import read_labels, read_number, read_vectors
from ..grading import Exercise, equivalent, exact, same, satisfies, sign, vector, zero
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite_part, column, decimal, display, error_text, image, matrix, table, tex, tuple_tex

TITLE = "Does the weighted sum lose which words mattered?"
QUESTION, COMMENTS = "003 (question)", "003 (comments)"
FORMULA, FOLLOWS_ANSWER = "follows from 003 (question)", "follows from 003 (answer)"  # derived from 003's formula
TOLERANCE = 1e-12
NEARLY_ALL = sp.Rational(99, 100)  # "nearly all the weight": at least this much on the favoured word
NEG_INF, POS_INF = r"-\infty", r"\infty"


@dataclass
class Config:
    """identifiability: one sentence; its values in R^2 and in R^1; keys equal to the values, and keys that differ."""

    name: str = "identifiability"
    words: List[str] = MISSING  # the sentence, one word per position
    embeddings: List[List[Any]] = MISSING  # e: word embeddings, one per word
    positions: List[List[Any]] = MISSING  # PE: positional encodings, one per position (same size as e)
    W_v: List[List[Any]] = MISSING  # values v = (e + PE) W_v
    query_position: int = 2  # the word under consideration, from 1: q = its value, keys = values (003)
    extremes: List[int] = MISSING  # two positions: the asker's x^<t> and x^<t+1>
    extreme_score: Any = 10  # the score lambda on the favoured word (0 on the others)
    flat_values: List[List[Any]] = MISSING  # the same words with values in fewer dimensions
    other_keys: List[List[Any]] = MISSING  # keys that differ from the flat values
    other_queries: List[List[Any]] = MISSING  # two queries for those keys


COUNTER_CASES = {
    "output-mixes-values": inputs("no positional encoding and W_v = I: the values are the word embeddings",
                                  "lab.positions=[[0,0],[0,0],[0,0]]", "lab.W_v=[[1,0],[0,1]]"),
    "extremes-differ": inputs("a W_v that maps love and sushi to the same value", "lab.W_v=[[1,0],[2,0]]"),
    "recoverable": inputs("a W_v that puts the three values on a line", "lab.W_v=[[1,0],[2,0]]"),
    "not-recoverable": inputs("flat values that are affinely independent", "lab.flat_values=[[0,0],[1,0],[0,1]]"),
    "whole-family": fault("affine-without-sum"),
    "other-member-not-realisable": fault("null-space-sign"),
    "two-queries-one-output": inputs("keys equal to the values again", "lab.other_keys=[[0],[0.5],[1]]"),
    "numeric-agrees": fault("online-unnormalised"),
}


def run(params):
    """Attend from one word of the sentence; ask which distributions give its output, and which a query can produce.

    >>> from labs.reproduce import compose_lab
    >>> from omegaconf import OmegaConf
    >>> r = run(OmegaConf.to_container(compose_lab("identifiability").lab))
    >>> r.reproduced
    True
    """
    e = read_vectors(params["embeddings"], "lab.embeddings")  # (m, d)
    m, d = e.shape
    words = read_labels(params["words"], "lab.words", m)
    PE = _same_shape(read_vectors(params["positions"], "lab.positions"), e, "lab.positions")
    W_v = read_vectors(params["W_v"], "lab.W_v")  # (d, d_v)
    if W_v.rows != d:
        raise VecmixError(f"lab.W_v has {W_v.rows} rows but the embeddings have {d} entries: x W_v needs {d}")
    t = _position(params["query_position"], "lab.query_position", m)
    ends = [_position(p, "lab.extremes", m) for p in _pair(params["extremes"], "lab.extremes")]
    if ends[0] == ends[1]:
        raise VecmixError(f"lab.extremes = {params['extremes']} names the same word twice: give two positions")
    lam = read_number(params["extreme_score"], "lab.extreme_score")
    if not sp.Rational(1, 1000) <= lam <= 100:
        raise VecmixError(f"lab.extreme_score = {params['extreme_score']!r} must lie between 0.001 and 100: the "
                          "favoured word's score, against 0 for the others")
    U = read_vectors(params["flat_values"], "lab.flat_values")  # (m, d')
    if U.rows != m:
        raise VecmixError(f"lab.flat_values has {U.rows} vectors but there are {m} words: one per word")
    K2 = read_vectors(params["other_keys"], "lab.other_keys")  # (m, d_k)
    if K2.rows != m:
        raise VecmixError(f"lab.other_keys has {K2.rows} vectors but there are {m} words: one per word")
    Q2 = read_vectors(_pair(params["other_queries"], "lab.other_queries"), "lab.other_queries")  # (2, d_k)
    if Q2.cols != K2.cols:
        raise VecmixError(f"lab.other_queries have {Q2.cols} numbers but each key in lab.other_keys has {K2.cols}")

    # The three spaces: word embeddings e, positionally encoded x = e + PE, values v = x W_v.
    X = e + PE  # (m, d)
    V = X * W_v  # (m, d) (d, d_v) -> (m, d_v)
    Z, A = exact_attention(V.row(t), V, V, scale=1)  # q = v_t, keys = values, exp(q . k) as 003 writes it
    alpha, z = A.T, Z.T.applyfunc(one_fraction)  # (m, 1), (d_v, 1)
    mixed_x = (X.T * alpha).applyfunc(one_fraction)  # (d, m) (m, 1): sum_i alpha_i x_i
    mixed_e = (e.T * alpha).applyfunc(one_fraction)  # sum_i alpha_i e_i
    through_W = exact_equal(z, W_v.T * mixed_x)  # z = (sum_i alpha_i x_i) W_v, written as a column
    not_words = W_v.cols != d or not exact_equal(z, mixed_e)
    on_words = affine_solution_set(e, z) if W_v.cols == d else None  # z's own weights on the word embeddings

    # The asker's two extremes: nearly all the weight on one word, then on the other.
    extremes = [_extreme(V, p, lam) for p in ends]  # (alpha, z, the query that produces alpha or None)
    apart = not exact_equal(extremes[0][1], extremes[1][1])
    nearly_all = [is_nonnegative(ea[p] - NEARLY_ALL) for p, (ea, _, _) in zip(ends, extremes)]
    gap2 = _squared_norm(V.row(ends[0]) - V.row(ends[1]))  # |v_a - v_b|^2
    near = [_positive(gap2 - 4 * _squared_norm(ez.T - V.row(p))) for p, (_, ez, _) in zip(ends, extremes)]

    # (a) in R^d_v: can the weights be read back from z?
    coords = affine_solution_set(V, z)
    recovered = coords.dimension == 0 and exact_equal(coords.particular, alpha)

    # (a) with flat values: the family of distributions with one output. (b) which of them a query produces.
    Zf, Af = exact_attention(U.row(t), U, U, scale=1)  # keys = values, as in 003
    beta, zf = Af.T, Zf.T.applyfunc(one_fraction)  # (m, 1), (d', 1)
    family = affine_solution_set(U, zf)
    lifted = eliminate(U.row_join(sp.ones(m, 1)))  # [U | 1] (m, d' + 1): affine dependencies; the realisability test
    s = sp.Symbol("s")
    if family.dimension >= 1:
        n = family.directions[0]  # (m, 1)
        lo, hi = _interval(beta, n)
        s_star = hi / 2 if hi is not None else (lo / 2 if lo is not None else sp.Integer(1))
        s_star = one_fraction(s_star)
        gamma = (beta + s_star * n).applyfunc(one_fraction)  # (m, 1): another member of the family
        line = beta + s * n  # (m, 1), every member
        along = all(x == 0 for x in (U.T * line - zf).applyfunc(lambda x: one_fraction(sp.expand(x))))
        sums = one_fraction(sp.expand(sp.Add(*line))) == 1
        positive = _positive_exactly_between(beta, n, lo, hi, gamma)
    else:
        n, lo, hi, s_star, gamma, along, sums, positive = None, None, None, None, None, False, False, False
    realisable = [_realisable(p, lifted.null_space) for p in (beta, gamma) if p is not None]

    # (b) continued: keys that differ from the values, two queries, one output.
    Z2, A2 = exact_attention(Q2, K2, U, scale=1)  # both queries at once: (2, d'), (2, m)
    Z2 = Z2.applyfunc(one_fraction)
    pair = not exact_equal(A2.row(0), A2.row(1)) and exact_equal(Z2.row(0), Z2.row(1))
    lifted_K2 = K2.row_join(sp.ones(m, 1))  # (m, d_k + 1)
    blind = [j for j in range(lifted_K2.cols) if not in_span(U.row_join(sp.ones(m, 1)).T, lifted_K2[:, j])]
    level = _constant_output(U, K2)  # whether every distribution the other keys produce has one output

    numeric, err = _numeric(V, t, U, Q2, K2, (alpha, z, beta, zf, A2, Z2))
    claims = [
        Claim("output-mixes-values", "the output z is the alpha-mixture of the values v_i = (e_i + PE_i) W_v (the "
              "lab's (sum_i alpha_i x_i) W_v), not the alpha-mixture of the word embeddings: z != sum_i alpha_i e_i",
              COMMENTS, "z = (sum alpha_i x_i) W_v exactly; z != sum alpha_i e_i",
              ("z = (sum alpha_i x_i) W_v" if through_W else "z differs from (sum alpha_i x_i) W_v")
              + ("; z differs from sum alpha_i e_i" if not_words else "; z = sum alpha_i e_i: the values are the "
                 "word embeddings here"), through_W and not_words, True),
        Claim("extremes-differ", f"nearly all the weight (at least {float(NEARLY_ALL)}) on word {ends[0] + 1} or "
              f"on word {ends[1] + 1} gives two different outputs, each within half the distance |v_{ends[0] + 1} - "
              f"v_{ends[1] + 1}| of its own word's value", FORMULA,
              f"alpha_p >= {float(NEARLY_ALL)}; z^(a) != z^(b); |z^(p) - v_p| < |v_a - v_b| / 2",
              _extremes_text(extremes, ends, apart, gap2, V), all(nearly_all) and apart and all(near), True),
        Claim("recoverable", f"with these values in R^{V.cols} the weights are read back from z exactly", FORMULA,
              "the only c with V^T c = z, sum c = 1, is alpha",
              "unique, equal to alpha" if recovered else f"a family of dimension {coords.dimension}", recovered, True),
        Claim("not-recoverable", f"with the flat values ({m} words in R^{U.cols}) a family of distributions gives the "
              "same output", FORMULA, f"dimension m - rank[U | 1] = {m - lifted.rank} >= 1",
              f"dimension {family.dimension}", family.dimension == m - lifted.rank >= 1, True),
        Claim("whole-family", "every beta + s n with lo < s < hi is a distribution with beta's output: it sums to 1 "
              "and gives z for every s, and it is strictly positive exactly on (lo, hi)", FORMULA,
              "sum and U^T (beta + s n) - z identically 0 in s; beta + s n > 0 inside (lo, hi), a zero entry at "
              "each end", _family_text(along, sums, positive, lo, hi, n), along and sums and positive, True),
        Claim("other-member-not-realisable", "with keys = values (the lab's reading of 003's answer), beta is the "
              "attention of q = u_t but the other member gamma is the attention of no query: log gamma is not "
              "affine in the keys", FOLLOWS_ANSWER,
              "w . log beta = 0 and w . log gamma != 0 for the dependencies w of [U | 1]",
              _realisable_text(realisable), realisable == [True, False], True),
        Claim("two-queries-one-output", "with keys that differ from the values, two queries give different "
              "attention distributions and exactly the same output", QUESTION,
              "alpha != alpha', U^T alpha = U^T alpha'",
              _pair_text(A2, Z2), pair, True),
        Claim("numeric-agrees", "numpy's weights and outputs (full weights path, default blocked path and two key "
              "blocks) agree with the exact ones", "vecmix (numeric = exact)", f"max difference <= {TOLERANCE:g}",
              error_text(err), err <= TOLERANCE, False),
    ]
    figures = {"distributions.svg": _figure(words, alpha, beta, gamma, n, lo, hi, U, K2, numeric, V.cols)}
    values = [Value("word_embeddings", to_numeric(e), e), Value("positions", to_numeric(PE), PE),
              Value("values", to_numeric(V), V), Value("weights", numeric["alpha"], alpha),
              Value("output", to_numeric(z).ravel(), z),
              Value("output_on_word_embeddings", *_word_weights(on_words)),
              Value("extreme_outputs", [to_numeric(ez).ravel() for _, ez, _ in extremes],
                    [ez for _, ez, _ in extremes]),
              Value("flat_values", to_numeric(U), U), Value("flat_weights", numeric["beta"], beta),
              Value("flat_output", to_numeric(zf).ravel(), zf), Value("family_dimension", family.dimension),
              Value("other_weights", None if gamma is None else to_numeric(gamma).ravel(), gamma),
              Value("other_keys_weights", numeric["A2"], A2), Value("other_keys_outputs", to_numeric(Z2), Z2)]
    sections = _sections(dict(
        words=words, e=e, PE=PE, X=X, V=V, W_v=W_v, t=t, alpha=alpha, z=z, mixed_e=mixed_e, not_words=not_words,
        on_words=on_words, U=U, ends=ends, extremes=extremes, lam=lam, nearly_all=nearly_all, near=near,
        recovered=recovered, coords=coords, beta=beta, zf=zf, n=n, lo=lo, hi=hi, s_star=s_star, gamma=gamma,
        family_ok=along and sums and positive, numeric=numeric, lifted=lifted, realisable=realisable, K2=K2, Q2=Q2,
        A2=A2, Z2=Z2, pair=pair, blind=blind, level=level))
    intro = (f"*Answers* the question of {cite_part('003', 'the question, the answer and its comments')}, on its "
             f"sentence *{' '.join(words)}*.")
    return LabResult("identifiability", TITLE, intro, sections, claims, values, figures, [
        "003 leaves the embeddings abstract; the word embeddings, positional encodings (small rationals standing in "
        "for the sinusoids of the `positional_encoding` lab), W_v and the keys are the lab's choice.",
        "003's answer sets q = v^<1> and writes the scores q . k^<i> without saying what the keys are; the lab "
        "takes the keys equal to the values (k_i = v_i). That is its interpretation, not the page's statement.",
        "The scores follow 003's formula exp(q . k), without the 1/sqrt(d_k) of 002; a scale would only rescale q.",
        "003 numbers the words from 0 (v^<0> = i, v^<1> = love, v^<2> = sushi); this report numbers them from 1, so "
        "003's q = v^<1> is q = v_2 here, and lab.query_position and lab.extremes count from 1."])


def _word_weights(on_words):
    """(numeric, exact) weights c summing to 1 with z = sum_i c_i e_i, when there is exactly one such c."""
    if on_words is None or on_words.dimension != 0:
        return None, None
    return to_numeric(on_words.particular).ravel(), on_words.particular


def _same_shape(M, like, key):
    if M.shape != like.shape:
        raise VecmixError(f"{key} has shape {M.shape} but lab.embeddings has {like.shape}: one per word")
    return M


def _position(p, key, m):
    if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= m:
        raise VecmixError(f"{key} = {p!r} must be a word position from 1 to {m}")
    return p - 1


def _pair(value, key):
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise VecmixError(f"{key} must hold exactly two entries, got {value!r}")
    return list(value)


def _extreme(V, p, lam):
    """(alpha, z, q): the scores lambda on word p and 0 elsewhere, through a query when the keys (= V) allow one."""
    m = V.rows
    target = sp.Matrix([lam if i == p else 0 for i in range(m)])  # the scores, up to a constant
    found = solution_set(V.row_join(sp.ones(m, 1)).T, target)  # [V | 1] (q; c) = lambda e_p
    if found.consistent:
        q = found.particular[:V.cols, 0]  # (d_v, 1)
        Z, A = exact_attention(q.T, V, V, scale=1)
        return A.T, Z.T, q
    alpha = exact_softmax(list(target))  # (m, 1): no query gives it; the weights themselves
    return alpha, (V.T * alpha).applyfunc(one_fraction), None


def _interval(beta, n):
    """(lo, hi): the open interval of s for which beta + s n > 0 (beta > 0); None where it is unbounded."""
    lows = [-b / c for b, c in zip(beta, n) if c > 0]
    highs = [-b / c for b, c in zip(beta, n) if c < 0]
    lo = one_fraction(max(lows, key=lambda x: float(to_numeric(x)))) if lows else None
    hi = one_fraction(min(highs, key=lambda x: float(to_numeric(x)))) if highs else None
    return lo, hi


def _positive_exactly_between(beta, n, lo, hi, inside):
    """Whether beta + s n > 0 exactly for lo < s < hi: every entry >= 0 at both ends with a zero entry at each
    end (so the interval cannot be widened), and every entry > 0 at the point ``inside`` of the interval.

    Each entry is affine in s, so it is positive on the open interval when it is >= 0 at both ends and
    positive somewhere between them.
    """
    if lo is None or hi is None:
        return False  # n sums to 0 and is not 0, so it has entries of both signs: both ends are finite
    ends = [(beta + x * n).applyfunc(one_fraction) for x in (lo, hi)]  # (m, 1) each
    return (all(is_nonnegative(x) for end in ends for x in end) and all(any(is_zero(x) for x in end) for end in ends)
            and all(_positive(x) for x in inside))


def _positive(x):
    """x > 0, exactly."""
    return is_nonnegative(x) and not is_zero(x)


def _squared_norm(row):
    """|r|^2 of an exact row or column, as one expression."""
    return one_fraction(sp.expand(sum(x**2 for x in row)))


def _constant_output(U, K):
    """Whether q -> U^T softmax(q k) is constant for 1-D keys k (None for keys of another size).

    Its derivative is sum_{i<j} (u_i - u_j)(k_i - k_j) e^{q (k_i + k_j)} / (sum_i e^{q k_i})^2; exponentials
    with different exponents are linearly independent, so the output is constant exactly when, for each
    exponent k_i + k_j, the coefficients (u_i - u_j)(k_i - k_j) of the pairs with that exponent add up to 0.
    """
    if K.cols != 1:
        return None
    m, k = K.rows, list(K)
    by_exponent = {}
    for i in range(m):
        for j in range(i + 1, m):
            by_exponent.setdefault(k[i] + k[j], []).append((U.row(i) - U.row(j)) * (k[i] - k[j]))  # (1, d')
    return all(sum(terms, sp.zeros(1, U.cols)).is_zero_matrix for terms in by_exponent.values())


def _realisable(p, dependencies):
    """Whether log p is affine in the keys: every p_i > 0 and prod p_i^(w_i) = 1 for every integer dependency w
    of [K | 1]."""
    if not all(_positive(x) for x in p):
        return False  # softmax weights are positive; with a zero entry log p does not exist
    for w in dependencies:
        scale = sp.ilcm(*[x.q for x in w])
        w = [int(x * scale) for x in w]  # integers, same direction
        plus = sp.Mul(*(x**c for x, c in zip(p, w) if c > 0))
        minus = sp.Mul(*(x**-c for x, c in zip(p, w) if c < 0))
        if not is_zero(plus - minus):
            return False
    return True


def _numeric(V, t, U, Q2, K2, exact):
    """numpy's weights (full path) and the largest difference from the exact ones, blocked paths included."""
    alpha, z, beta, zf, A2, Z2 = exact
    V_n, U_n, Q2_n, K2_n = (to_numeric(M) for M in (V, U, Q2, K2))
    runs = [(V_n[t], V_n, V_n, alpha, z), (U_n[t], U_n, U_n, beta, zf), (Q2_n, K2_n, U_n, A2, Z2)]
    out, err = {}, 0.0
    for name, (q, K, W, a, zz) in zip(("alpha", "beta", "A2"), runs):
        z_full, a_num = attention(q, K, W, scale=1.0, weights=True)
        z_blocked = attention(q, K, W, scale=1.0)  # the default blocked path: here all keys in one block
        z_two = attention(q, K, W, scale=1.0, block_size=2)  # two blocks: the online rescaling runs
        want_a, want_z = to_numeric(a).reshape(a_num.shape), to_numeric(zz).reshape(z_full.shape)
        err = max(err, float(np.max(np.abs(a_num - want_a))),
                  *(float(np.max(np.abs(z_ - want_z))) for z_ in (z_full, z_blocked, z_two)))
        out[name] = a_num
    return out, err


def _extremes_text(extremes, ends, apart, gap2, V):
    a, b = (p + 1 for p in ends)
    weights = ", ".join(f"alpha_{p + 1} = {decimal(float(to_numeric(ea[p])), 5)}" for p, (ea, _, _) in
                        zip(ends, extremes))
    gap = float(np.linalg.norm(to_numeric(extremes[0][1] - extremes[1][1])))
    dist = ", ".join(f"|z^({p + 1}) - v_{p + 1}| = {decimal(float(np.linalg.norm(to_numeric(ez.T - V.row(p)))), 4)}"
                     for p, (_, ez, _) in zip(ends, extremes))
    how = "; a query gives each" if all(q is not None for _, _, q in extremes) else "; no query gives both"
    return (f"{weights}; " + (f"|z^({a}) - z^({b})| = {decimal(gap)}; " if apart else "the two outputs are equal; ")
            + f"{dist} against |v_{a} - v_{b}| / 2 = {decimal(float(sp.sqrt(gap2).evalf(30)) / 2, 4)}" + how)


def _family_text(along, sums, positive, lo, hi, n):
    if n is None:
        return "no family: the output pins the distribution down"
    bounds = f"({'-oo' if lo is None else decimal(float(to_numeric(lo)))}, " \
             f"{'oo' if hi is None else decimal(float(to_numeric(hi)))})"
    return (f"output {'identically z' if along else 'changes with s'}, "
            f"sum {'identically 1' if sums else 'changes with s'}; "
            + (f"positive exactly on {bounds}" if positive else f"not positive exactly on {bounds}"))


def _realisable_text(realisable):
    if len(realisable) < 2:
        return "no other member: the family is a single point"
    said = ("realisable", "not realisable")
    return f"beta {said[not realisable[0]]}, gamma {said[not realisable[1]]}"


def _pair_text(A2, Z2):
    same_w = exact_equal(A2.row(0), A2.row(1))
    same_z = exact_equal(Z2.row(0), Z2.row(1))
    shown = [sp.sstr(tuple(Z2.row(i))) for i in range(2)]
    return f"weights {'equal' if same_w else 'different'}; outputs {shown[0]} and {shown[1]} " \
        f"{'equal' if same_z else 'different'} (exact)"


def _figure(words, alpha, beta, gamma, n, lo, hi, U, K2, numeric, d_v):
    """The triangle of distributions over three words (or bars for other sentence lengths)."""
    points = [(f"attention weights, values in R^{d_v}", numeric["alpha"], fig.ATTENTION_COLOR),
              (f"attention weights β, values in R^{U.cols}", numeric["beta"], fig.ATTENTION_COLOR)]
    if gamma is not None:
        points.append(("another distribution γ, same output", to_numeric(gamma).ravel(), fig.OTHER_COLORS[0]))
    if len(words) != 3:
        return fig.grouped_bars(words, points, "weight")
    lines = []
    if n is not None and lo is not None and hi is not None:
        lines.append(("every distribution with β's output", np.array([to_numeric(beta + x * n).ravel()
                                                                     for x in (lo, hi)])))
    q = np.sinh(np.linspace(-5, 5, 201))  # queries from about -74 to 74, dense near 0
    for label, K in (("what a query can produce, keys = values", U), ("what a query can produce, other keys", K2)):
        if K.cols == 1:
            s = q[:, np.newaxis] * to_numeric(K).ravel()  # (201, m) scores
            w = np.exp(s - s.max(axis=1, keepdims=True))
            lines.append((label, w / w.sum(axis=1, keepdims=True)))
    return fig.simplex_figure(words, points, lines)


def _sections(v):
    """The report's prose, from the named results ``v`` of the run."""
    words, e, PE, X, V, W_v, t, alpha, z, U = (v[k] for k in ("words", "e", "PE", "X", "V", "W_v", "t", "alpha",
                                                              "z", "U"))
    m = len(words)
    word = words[t]
    rows = [[f"{i + 1} {w}", f"${tuple_tex(e.row(i))}$", f"${tuple_tex(PE.row(i))}$", f"${tuple_tex(X.row(i))}$",
             f"${tuple_tex(V.row(i))}$"] for i, w in enumerate(words)]
    ends, extremes, lam = v["ends"], v["extremes"], v["lam"]
    ext_rows = [[f"{p + 1} {words[p]}", decimal(float(to_numeric(ea[p])), 5),
                 f"${tuple_tex(to_numeric(ez).ravel(), decimal)}$",
                 f"${tuple_tex(V.row(p))}$", "none" if q is None else f"${tuple_tex(q)}$"]
                for p, (ea, ez, q) in zip(ends, extremes)]
    beta, zf, n, lo, hi, gamma = (v[k] for k in ("beta", "zf", "n", "lo", "hi", "gamma"))
    lifted = v["lifted"]
    out = [
        "## The question\n\n"
        f"The asker of 003 writes the attention for a word as $\\sum_i \\frac{{\\exp(q \\cdot k^{{<i>}})}}"
        "{\\sum_j \\exp(q \\cdot k^{<j>})} v^{<i>}$ and asks: doesn't the sum lose which words mattered? Two "
        "extremes, the output depending almost entirely on one word or almost entirely on the next, might give the "
        f"same vector. The answer takes the sentence *{' '.join(words)}* with the word under consideration "
        f"*{word}*: $q = v_{{{t + 1}}}$ (003's $v^{{<{t}>}}$; 003 numbers words from 0, this report from 1) and "
        "scores $q \\cdot k_i$ with no scale. It does not say what the keys are; this lab reads them as equal to "
        "the values, its interpretation of the answer. Two questions have to be kept apart: **(a)** which attention "
        "distributions give the same output, and **(b)** which of those the layer can actually produce, for some "
        "query, with these keys.\n",
        "## Three embeddings of each word\n\n"
        "The answer's comments separate three spaces: the word embedding $e$ (where word2vec-style analogies "
        "live), the positionally encoded $x = e + PE$, and the value $v = x W_v$ that attention mixes:\n"
        + display(f"W_v = {matrix(W_v)}") + "\n"
        + table(["word", "$e$", "$PE$", "$x = e + PE$", "$v = x W_v$"], rows)
        + f"\n\nThe output for *{word}* is a mixture of the values, "
        f"$z = \\sum_i \\alpha_i v_i = (\\sum_i \\alpha_i x_i) "
        f"W_v = {tuple_tex(z)}$ with $\\alpha = {tuple_tex(alpha)}$: it lives where the values live. "
        + _words_text(v) + "\n",
        "## The two extremes\n\n"
        f"Put the score $\\lambda = {tex(lam)}$ on one word and $0$ on the others ("
        + ("with these keys a query does it, up to a constant that softmax ignores" if all(
            q is not None for _, _, q in extremes) else "with these keys no query does it for every word; the "
           "weights are taken as they are") + "):\n\n"
        + table(["favoured word", "its weight", "output $z$", "its value", "a query giving it"], ext_rows)
        + "\n\n" + _extremes_prose(v) + "\n",
        "## (a) Reading the weights back\n\n"
        f"Weights that sum to one and give $z$ solve $V^\\top c = z$, $\\sum_i c_i = 1$: {m} unknowns, "
        f"{V.cols + 1} equations. "
        + ("The values are affinely independent, so the solution is unique and it is the attention weights:\n"
           + display(rf"c = \alpha = {column(alpha)} \approx {column(to_numeric(alpha).ravel(), fmt=decimal)}")
           if v["recovered"] else
           f"These values are affinely dependent: a family of dimension {v['coords'].dimension} gives $z$.\n"),
    ]
    if n is not None:
        out.append(_family_section(v))
    dep = (f"the dependencies are {', '.join(f'$w = {tuple_tex(w)}$' for w in lifted.null_space)}" if
           lifted.null_space else "the rows $(u_i, 1)$ are independent, so every strictly positive distribution is "
           "the attention of some query")
    out += [
        "## (b) Which of them can a query produce?\n\n"
        "A distribution is the attention of some query exactly when $\\log \\alpha_i = q \\cdot k_i + c$ for every "
        "$i$: $\\log \\alpha$ lies in the column span of $[K \\mid 1]$. Equivalently $w \\cdot \\log \\alpha = 0$, "
        "i.e. $\\prod_i \\alpha_i^{w_i} = 1$, for every dependency $w$ of the rows $(k_i, 1)$. With keys = values "
        f"$u$ here {dep}. "
        + (f"$\\beta$ passes (it is the attention of $q = u_{{{t + 1}}}$); "
           + ("$\\gamma$ does not: no query produces it. " if v["realisable"] == [True, False] else
              "the test does not separate it from $\\gamma$ here. ") if gamma is not None else "")
        + "This is no accident of the numbers. If two queries $q, q'$ gave distributions $\\alpha \\ne \\alpha'$ with "
        "the same output, then $\\sum_i (\\alpha_i - \\alpha'_i)(\\log \\alpha_i - \\log \\alpha'_i)$, which is the "
        "sum of the two Kullback-Leibler divergences and so positive, would equal $(q - q') \\cdot (z - z') = 0$, "
        "since with keys equal to the values $\\log \\alpha_i - \\log \\alpha'_i = (q - q') \\cdot v_i + c$. **So "
        "with keys equal to the values, the lab's reading of 003's answer, the output does determine the attention "
        "distribution**: summing loses nothing the layer could have produced. The same argument works whenever "
        "every column of $[K \\mid 1]$ lies in the column span of $[V \\mid 1]$: then $k_i = B^\\top v_i + b$, "
        "so $q \\cdot k_i = (B q) \\cdot v_i + b \\cdot q$, and $B q$ takes the place of $q$. That condition is "
        "sufficient, not necessary.\n",
        _keys_section(v),
        "## The answer\n\n"
        "The sum alone loses which words mattered only in a restricted sense. Among *all* distributions, whole "
        "families share one output whenever the values are affinely dependent (for instance when there are more "
        "words than dimensions plus one). Among the distributions the layer can produce, the output pins the "
        "weights down when the keys see nothing the values do not (every column of $[K \\mid 1]$ in the span of "
        "$[V \\mid 1]$), as when the keys equal the values, the lab's reading of 003's answer; with other keys it "
        + ("can fail to, as with the keys above. " if v["pair"] else
           "can fail to, although the two queries above are still told apart. ")
        + "Weights concentrated on two different words give different outputs whenever the two words' values "
        "differ. And the layer does not throw the weights away: **they are an output too** "
        "(`vecmix.attention(..., weights=True)` returns $A$ beside $Z$), recomputed from $q \\cdot k_i$ whenever "
        "they are needed, while $z$, the $\\alpha$-mixture of the values (not of the word embeddings), is what the "
        "next layer receives.\n",
    ]
    return out


def _words_text(v):
    """What the weights alpha say about the word embeddings e: z is not their alpha-mixture; its own weights on e."""
    e, z, on_words = v["e"], v["z"], v["on_words"]
    if on_words is None:
        return (f"The values live in $\\mathbb{{R}}^{{{z.rows}}}$ and the word embeddings in "
                f"$\\mathbb{{R}}^{{{e.cols}}}$: $z$ is not even in the embeddings' space.")
    if not v["not_words"]:
        return ("Here the same weights applied to the word embeddings give $z$ too: these values act like the word "
                "embeddings (as they are exactly when there is no positional encoding and $W_v = I$).")
    said = (f"The same weights applied to the word embeddings give another vector, $\\sum_i \\alpha_i e_i \\approx "
            f"{tuple_tex(to_numeric(v['mixed_e']).ravel(), decimal)} \\ne z$: $\\alpha$ weighs the values, not the "
            "words' embeddings. ")
    if not on_words.consistent:
        return said + ("No weights summing to 1 give $z$ from the word embeddings at all: $z$ lies off their "
                       "affine hull.")
    if on_words.dimension >= 1:
        return said + (f"As a mixture of the word embeddings $z$ needs other weights: a family of dimension "
                       f"{on_words.dimension} of weights summing to 1 gives it, and $\\alpha$ is not among them.")
    c = on_words.particular
    inside = all(is_nonnegative(x) for x in c)
    return said + ("As a mixture of the word embeddings $z$ needs other weights: $z = \\sum_i c_i e_i$ with "
                   f"$c \\approx {tuple_tex(to_numeric(c).ravel(), decimal)}$, "
                   + ("all nonnegative, so $z$ even lies in the convex hull of the word embeddings; only the weights "
                      "differ." if inside else "not all nonnegative, so $z$ lies outside the convex hull of the word "
                      "embeddings."))


def _extremes_prose(v):
    """The two extremes: the bound that holds for every distribution, then what this run's numbers show."""
    ends, extremes, words = v["ends"], v["extremes"], v["words"]
    a, b = (p + 1 for p in ends)
    bound = ("For any weights $z - v_p = \\sum_{i \\ne p} \\alpha_i (v_i - v_p)$, so $\\lVert z - v_p \\rVert \\le "
             "(1 - \\alpha_p) \\max_i \\lVert v_i - v_p \\rVert$: nearly all the weight on word $p$ puts $z$ near "
             "$v_p$ unless another value lies far away. ")
    same = exact_equal(extremes[0][1], extremes[1][1])
    most = f"Here each favoured word gets at least {float(NEARLY_ALL)} of the weight"
    if not all(v["nearly_all"]):
        here = (f"Here $\\lambda = {tex(v['lam'])}$ leaves a favoured word less than {float(NEARLY_ALL)} of the "
                "weight: these are not the asker's near-one-hot extremes. ")
    elif same:
        here = f"{most}, but the two words have the same value, so neither output is nearer one value than the other. "
    elif all(v["near"]):
        here = (f"{most}, and each output lies within half the distance $\\lVert v_{{{a}}} - v_{{{b}}} \\rVert$ of "
                "its own word's value, so it is nearer that value than the other word's. ")
    else:
        far = [p + 1 for p, ok in zip(ends, v["near"]) if not ok]
        whose = (f"the output for word {far[0]} is farther than half of $\\lVert v_{{{a}}} - v_{{{b}}} \\rVert$ "
                 f"from $v_{{{far[0]}}}$" if len(far) == 1 else f"the outputs for words {a} and {b} are farther than "
                 f"half of $\\lVert v_{{{a}}} - v_{{{b}}} \\rVert$ from their own words' values")
        here = f"{most}, yet {whose}: another value lies far away. "
    return (bound + here + "Exactly, the two weight vectors differ only on the two favoured words, so "
            "$z^{(a)} - z^{(b)} = \\frac{e^{\\lambda} - 1}{m - 1 + e^{\\lambda}} (v_a - v_b)$: the two extremes give "
            "the same output only if the two words have the same value"
            + (f", as *{words[ends[0]]}* and *{words[ends[1]]}* do here." if same else
               f"; *{words[ends[0]]}* and *{words[ends[1]]}* do not, so the outputs differ."))


def _family_section(v):
    """(a) with the flat values: the family beta + s n of distributions with beta's output."""
    U, t, m, n, lo, hi, lifted = v["U"], v["t"], len(v["words"]), v["n"], v["lo"], v["hi"], v["lifted"]
    gap = f"{tex(lo) if lo is not None else NEG_INF} < s < {tex(hi) if hi is not None else POS_INF}"
    d1 = U.cols
    why = (f"Now $m = {m} > d' + 1 = {d1 + 1}$ (here $d' = {d1}$, the size of the flat values): more words than "
           "dimensions plus one, so the values are affinely dependent" if m > d1 + 1 else
           f"The values are affinely dependent: $[U \\mid 1]$ has rank ${lifted.rank} < m = {m}$")
    return ("## (a) When the sum forgets\n\n"
            f"Give the same words values $u = {_rows_tex(U)}$ in $\\mathbb{{R}}^{{{d1}}}$ (rows of $U$) and attend "
            f"from *{v['words'][t]}* again, $q = u_{{{t + 1}}}$, keys = values. {why}, and the direction "
            f"$n = {tuple_tex(n)}$ changes neither the sum of the weights nor the output. Every\n"
            + display(rf"\beta + s n, \qquad {gap}")
            + ("\nis a strictly positive distribution with the same output" if v["family_ok"] else
               "\nshould be a strictly positive distribution with the same output, but the lab's check of this "
               "family failed (see `whole-family`); the output")
            + f" $z = {tuple_tex(v['zf'])}$; at $s = {tex(v['s_star'])}$ it is $\\gamma$:\n"
            + display(rf"\beta \approx {column(v['numeric']['beta'], fmt=decimal)}, \qquad \gamma \approx "
                      rf"{column(to_numeric(v['gamma']).ravel(), fmt=decimal)}, \qquad U^\top \beta = U^\top \gamma = "
                      rf"{column(v['zf'])}"))


def _keys_section(v):
    """(b) with keys that differ from the values: two queries, and whether their outputs coincide."""
    U, K2, Q2, A2, Z2, blind, level = (v[k] for k in ("U", "K2", "Q2", "A2", "Z2", "blind", "level"))
    shown = [tex(Z2[i, 0]) if U.cols == 1 else tuple_tex(Z2.row(i)) for i in range(2)]
    text = ("## (b) " + ("Keys that see what the values miss" if blind else "Other keys")
            + "\n\nIn a transformer the keys and the values come from different maps ($W_k \\ne W_v$). Keep the "
            f"values $u$ but take the keys $k = {_rows_tex(K2)}$: "
            + (f"column {', '.join(str(j + 1) for j in blind)} of $[K \\mid 1]$ lies outside the column span of "
               "$[U \\mid 1]$, so the argument above no longer applies. " if blind else
               "every column of $[K \\mid 1]$ lies in the column span of $[U \\mid 1]$, so the argument above "
               "applies. ")
            + f"The queries ${tuple_tex(Q2.row(0))}$ and ${tuple_tex(Q2.row(1))}$ give\n"
            + display(rf"\alpha = {column(A2.row(0))}, \qquad \alpha' = {column(A2.row(1))}, \qquad "
                      rf"U^\top \alpha = {shown[0]}, \quad U^\top \alpha' = {shown[1]}") + "\n")
    if exact_equal(A2.row(0), A2.row(1)):
        text += "The two queries give the same distribution, so there is nothing to tell apart."
    elif v["pair"]:
        diff = (A2.row(1) - A2.row(0)).applyfunc(one_fraction)  # (1, m)
        text += (f"The two distributions differ, yet their outputs are equal: $\\alpha' - \\alpha \\approx "
                 f"{tuple_tex(to_numeric(diff).ravel(), decimal)}$ sums to 0 and $U^\\top (\\alpha' - \\alpha) = 0$, "
                 "a direction the values cannot see, and the keys move weight along it. Here two realisable "
                 "distributions share one output, and the asker's worry is real.")
    else:
        text += ("The two distributions differ and so do their outputs: these two queries are told apart by the "
                 "output" + (", although the argument above does not cover these keys." if blind else "."))
    if level:
        text += (" In fact every distribution these keys can produce has the same output: for 1-D keys the "
                 "derivative of the output in $q$ is $\\sum_{i<j} (u_i - u_j)(k_i - k_j) e^{q (k_i + k_j)}$ over a "
                 "positive denominator, and here the coefficients of each exponential add up to 0.")
    return text + "\n\n" + image("figures/distributions.svg", "distributions with the same output", _caption(v))


def _rows_tex(M):
    """The rows of M inline: one tuple of numbers when each row is a number, else one tuple per row."""
    return tuple_tex(M) if M.cols == 1 else ", ".join(tuple_tex(M.row(i)) for i in range(M.rows))


def _caption(v):
    """Figure 1's caption: only what the figure draws, said the way this run's numbers have it."""
    if len(v["words"]) != 3:
        return ("Figure 1. The attention weights of this report, one group of bars per word (the triangle picture "
                "needs three words).")
    parts = ["Figure 1. All distributions over the three words (the triangle)."]
    if v["n"] is not None and v["lo"] is not None and v["hi"] is not None:
        parts.append("The thick segment holds every distribution with β's output (a).")
    curves = []
    if v["U"].cols == 1:
        curves.append("with keys = values the curve " + ("crosses the segment only at β" if v["n"] is not None
                                                          else "passes through β"))
    if v["level"] is not None:
        curves.append("with the other keys " + ("the whole curve gives one output" if v["level"] else
                                                "the output changes along the curve"))
    if curves:
        parts.append("The curves hold what some query can produce (b): " + "; ".join(curves) + ".")
    return " ".join(parts)


# Exercises: graded by pytest (python -m labs.exercises identifiability)

LAB = "identifiability"
U1 = sp.Matrix([[0], [sp.Rational(1, 2)], [1]])  # i, love, sushi in R^1


def _distribution_pair(c):
    return (isinstance(c, sp.MatrixBase) and c.shape == (2, 3) and all(sign(x) >= 0 for x in c)
            and all(equivalent(sum(c.row(i)), 1) for i in range(2)))


EXERCISES = [
    Exercise(LAB, "two_distributions", "The words i, love, sushi have the 1-D values u = (0, 1/2, 1). Give two "
             "different weight vectors (each nonnegative, summing to 1) with the same output, as [[...], [...]].",
             satisfies((_distribution_pair, "give two rows of three nonnegative weights, each row summing to 1."),
                       (lambda c: not same(c.row(0), c.row(1)), "the two weight vectors must be different."),
                       (lambda c: same(U1.T * c.row(0).T, U1.T * c.row(1).T), "these two give different outputs.")),
             "[[1/2, 0, 1/2], [0, 1, 0]]", also=("[[1/4, 1/2, 1/4], [1/3, 1/3, 1/3]]",),
             wrong={"[[1, 0, 0], [0, 0, 1]]": "different outputs",
                    "[[1/2, 0, 1/2], [1/2, 0, 1/2]]": "must be different",
                    "[[1, -1, 1], [0, 1, 0]]": "nonnegative"},
             hint="love sits halfway between i and sushi.", points=2, source="003"),
    Exercise(LAB, "recover_weights", "With values v1 = (1, 0), v2 = (0, 1), v3 = (1, 1), an attention output is "
             "z = (2/3, 2/3). Give the weights (summing to 1) that produced it.",
             exact([sp.Rational(1, 3)] * 3, "the weights"), "[1/3, 1/3, 1/3]",
             wrong={"[2/3, 2/3, 0]": "not right", "[0.333, 0.333, 0.333]": "not exact"},
             hint="solve c1 + c3 = 2/3, c2 + c3 = 2/3, c1 + c2 + c3 = 1.", source="003"),
    Exercise(LAB, "invisible_direction", "For u = (0, 1/2, 1), give a nonzero direction n that changes neither the "
             "sum of the weights nor the output: n1 + n2 + n3 = 0 and 0 n1 + n2/2 + n3 = 0.",
             satisfies(vector(3, "n"), (lambda n: not zero(n), "n must not be zero."),
                       (lambda n: equivalent(sum(n), 0), "n changes the sum of the weights."),
                       (lambda n: zero(U1.T * n), "n changes the output.")),
             "[1, -2, 1]", also=("[-1/2, 1, -1/2]",), wrong={"[1, -1, 0]": "changes the output",
                                                             "[1, 1, 1]": "changes the sum"}, source="003"),
    Exercise(LAB, "which_is_attention", "Keys = values = u = (0, 1/2, 1) and scores q k_i (no scale). The weight "
             "vectors (1/4, 1/2, 1/4) and (1/3, 1/3, 1/3) both give the output 1/2. Give the one that is the "
             "attention of some query q.", exact([sp.Rational(1, 3)] * 3, "the weights"), "[1/3, 1/3, 1/3]",
             wrong={"[1/4, 1/2, 1/4]": "not right"},
             hint="the weights are proportional to (1, r, r^2) with r = exp(q/2): is alpha2^2 = alpha1 alpha3?",
             points=2, source="003"),
    Exercise(LAB, "keys_apart", "The values stay u = (0, 1/2, 1) but the keys are k = (0, 1, 0) (scores q k_i). Give "
             "the output z as an expression in the query q.", exact(sp.Rational(1, 2), "z"), "1/2",
             also=("(exp(q)/2 + 1)/(exp(q) + 2)",), wrong={"exp(q)/(exp(q) + 2)": "not right", "1": "not right"},
             symbols=("q",), hint="the weights are (1, e^q, 1)/(2 + e^q).", source="003"),
    Exercise(LAB, "weights_on_the_words", "Word embeddings e1 = (1, 0), e2 = (0, 1), e3 = (1, 1); the values are "
             "v = 2 e (W_v = 2 I, no positional encoding). The attention weights alpha = (1/2, 1/4, 1/4) give "
             "z = sum alpha_i v_i = (3/2, 1). Give the weights c, summing to 1, with z = sum c_i e_i.",
             exact([0, sp.Rational(-1, 2), sp.Rational(3, 2)], "the weights"), "[0, -1/2, 3/2]",
             wrong={"[1/2, 1/4, 1/4]": "not right", "[1, 1/2, 1/2]": "not right"},
             hint="solve c1 + c3 = 3/2, c2 + c3 = 1, c1 + c2 + c3 = 1: z is a mixture of the word embeddings too, "
             "with other weights than alpha.", source="003"),
    Exercise(LAB, "weights_are_an_output", "For one query, m = 3 keys and values in R^2, the attention layer gives "
             "the output z and the weights alpha. Give [the number of entries of z, the number of entries of alpha].",
             exact([2, 3], "the counts"), "[2, 3]", wrong={"[2, 0]": "not right"},
             hint="vecmix.attention returns both.", source="003"),
]
