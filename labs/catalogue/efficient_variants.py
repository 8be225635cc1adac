"""Lab ``efficient_variants``: what has changed since publication still mixes value vectors (001 §8).

* Blocked attention with an online softmax (FlashAttention's rescaling) is a mixture of
  per-block mixtures and equals full attention: a SymPy identity for two blocks and any
  running maxima, the lab's own merge of vecmix's per-block mixtures, and vecmix's blocked
  path against its full one.
* Causal sliding-window attention is attention under a band mask: the same as each token
  attending to its window alone.
* Linear attention with a positive feature map weighs the values by
  phi(q) . phi(k_i) / sum_j phi(q) . phi(k_j): still a convex combination, computed in O(n d^2).
* Graph attention (GAT) scores each edge with LeakyReLU(a . [h_i, h_j]) and takes a softmax
  over the neighbours: each node's output is a convex combination of its neighbours' values.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from vecmix import VecmixError, attention, exact_softmax, in_hull, is_nonnegative, is_zero, softmax, to_numeric

from ..claims import Claim, fault, inputs
from ..config.inputs import random_rationals, read_positive_int, read_seed
from ..config.resources import progress
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, display, error_text, image, table, tex, tuple_tex

TITLE = "Efficient and graph attention: still mixtures of value vectors"
SOURCE = "001 §8"
TOLERANCE = 1e-12
FLASH = "FlashAttention (Dao et al. 2022) §3.1"
FEATURE_MAPS = {"elu_plus_one": "elu(x) + 1", "identity": "x"}  # config value -> phi(x)
SLOPE = sp.Rational(1, 5)  # GAT's LeakyReLU slope for negative inputs (0.2, as in Velickovic et al.)


@dataclass
class Config:
    """efficient_variants: blocked, sliding-window, linear and graph attention (001 §8)."""

    name: str = "efficient_variants"
    n: int = 10  # tokens
    d: int = 4  # their dimension (d_k = d_v = d)
    window: int = 2  # sliding window: each token sees itself and the window tokens before it
    block_size: int = 4  # keys per block of the online softmax
    seed: int = 0  # draws the tokens and GAT's attention vector a
    rescale: bool = True  # merge blocks with the correction e^(m_b - m); false shows what it is for
    feature_map: str = "elu_plus_one"  # linear attention's phi: elu(x) + 1 > 0, or "identity" (may be negative)


def online_softmax_identity(rescale=True):
    """Two-block online softmax minus full softmax attention, over a common denominator: 0 for any maxima.

    Without the rescaling by e^(m_b - m) the blocks are merged with their own maxima, and the
    difference is not 0.

    >>> online_softmax_identity(), online_softmax_identity(rescale=False) == 0
    (0, False)
    """
    s = sp.symbols("s1:5", real=True)
    v = sp.symbols("v1:5", real=True)
    m1, m2, m = sp.symbols("m1 m2 m", real=True)  # the running maxima: any values work
    l1, a1 = sp.exp(s[0] - m1) + sp.exp(s[1] - m1), sp.exp(s[0] - m1) * v[0] + sp.exp(s[1] - m1) * v[1]
    l2, a2 = sp.exp(s[2] - m2) + sp.exp(s[3] - m2), sp.exp(s[2] - m2) * v[2] + sp.exp(s[3] - m2) * v[3]
    c1, c2 = (sp.exp(m1 - m), sp.exp(m2 - m)) if rescale else (1, 1)
    online = (a1 * c1 + a2 * c2) / (l1 * c1 + l2 * c2)
    full = sum(sp.exp(si) * vi for si, vi in zip(s, v)) / sum(sp.exp(si) for si in s)
    numerator, _ = sp.fraction(sp.together(online - full))
    return sp.expand(sp.powsimp(sp.expand(numerator)))


def phi(x, feature_map):
    """The feature map, exactly: elu(x) + 1 (x + 1 above 0, e^x below), or x itself.

    >>> phi(sp.Rational(1, 2), "elu_plus_one"), phi(-1, "elu_plus_one"), phi(-1, "identity")
    (3/2, exp(-1), -1)
    """
    if feature_map == "identity":
        return sp.sympify(x)
    return x + 1 if x > 0 else sp.exp(x)


def run(params):
    """Check each variant against full attention on seeded tokens.

    >>> run({"n": 7, "d": 3, "window": 1, "block_size": 2, "seed": 5, "rescale": True,
    ...      "feature_map": "elu_plus_one"}).reproduced
    True
    """
    n = read_positive_int(params["n"], "lab.n", maximum=128, reason="the n x n weights of linear and graph attention "
                          "are computed exactly; this size takes about 30 seconds, and 256 more memory than most "
                          "machines have")
    d = read_positive_int(params["d"], "lab.d", maximum=512, reason="the tokens are exact; this size takes about 25 "
                          "seconds")
    window = read_positive_int(params["window"], "lab.window")
    block = read_positive_int(params["block_size"], "lab.block_size")
    rescale = bool(params.get("rescale", True))
    feature_map = params.get("feature_map", "elu_plus_one")
    if n < 3:
        raise VecmixError(f"lab.n = {n} is too small to compare blocks, windows and graphs; use at least 3")
    if feature_map not in FEATURE_MAPS:
        raise VecmixError(f"lab.feature_map = {feature_map!r} must be one of: {', '.join(FEATURE_MAPS)}")
    rng = np.random.default_rng(read_seed(params["seed"]))
    X = random_rationals(rng, (n, d))  # exact token vectors (n, d): queries = keys = values
    a = random_rationals(rng, (2 * d, 1))  # GAT's attention vector, (2d, 1)
    Q = K = V = to_numeric(X)  # (n, d)
    Z, A = attention(Q, K, V, weights=True)  # (n, d), (n, n): the full weights matrix, scale 1/sqrt(d)

    blocked = _blocked(Q, K, V, Z, block, rescale)
    window_part = _sliding_window(Q, K, V, window)
    linear = _linear(X, feature_map)
    graph = _graph(X, a)
    identity = online_softmax_identity(rescale)
    claims = [
        Claim("online-softmax-identity", "for two blocks and any running maxima m1, m2, m, merging the blocks' sums "
              "rescaled by e^(m_b - m) gives full softmax attention (symbolic scores and values)", FLASH,
              "difference 0", "0" if identity == 0 else f"not 0: a numerator of {len(sp.Add.make_args(identity))} terms",
              identity == 0, True),
        Claim("blocked-equals-full", f"vecmix's blocked path (blocks of {block} keys, whose maxima differ for some "
              "queries, so that the blocks must be rescaled; and its default blocks) equals its full path",
              f"follows from {FLASH}", f"max difference <= {TOLERANCE:g}; block maxima differ for some query",
              f"max difference {error_text(blocked['vecmix_error'])}; block maxima differ for {blocked['differ']} of "
              f"{n} queries", blocked["vecmix_error"] <= TOLERANCE and blocked["differ"] > 0, False),
        Claim("mixture-of-mixtures", "full attention is the mixture of the per-block mixtures, each weighted by its "
              "block's mass l_b e^(m_b - m) (the lab merges vecmix's per-block outputs itself)",
              f"follows from {FLASH}",
              f"max difference <= {TOLERANCE:g}", error_text(blocked["merge_error"]),
              blocked["merge_error"] <= TOLERANCE, False),
        Claim("sliding-window-is-a-band-mask", f"causal attention under the band mask i - {window} <= j <= i equals "
              "each token attending to its window alone; keys outside the window get weight exactly 0 and keys "
              "inside a positive weight", "follows from Longformer (Beltagy et al. 2020) §3.1",
              f"max difference <= {TOLERANCE:g}; 0 outside, > 0 inside",
              f"{error_text(window_part['error'])}; {window_part['outside']} nonzero weights outside the window, "
              f"{window_part['inside']} zero weights inside", window_part["holds"], False),
        Claim("linear-attention-is-convex", f"linear attention with phi(x) = {FEATURE_MAPS[feature_map]} weighs "
              "the values by phi(q) . phi(k_i) / sum_j phi(q) . phi(k_j) >= 0 (exactly): each output is a convex "
              "combination of the values, and the O(n d^2) form with its normaliser computes it",
              "follows from Katharopoulos et al. (2020) §3.2",
              f"every weight >= 0 (exact); the O(n d^2) form within {TOLERANCE:g}", linear["observed"],
              linear["holds"], True),
        Claim("graph-attention-mixes-neighbours", "GAT's softmax over the neighbours gives non-neighbours weight "
              "exactly 0 and neighbours a positive weight summing to 1 (exact); vecmix's numeric masked softmax "
              "agrees; each node's output lies in the convex hull of its neighbours' values, and the reflection "
              "2 h_i - h_(i+1), an affine combination with a negative weight, does not (exact)",
              "follows from GAT (Velickovic et al. 2018) §2.1",
              f"as stated; numeric within {TOLERANCE:g}", graph["observed"], graph["holds"], True),
    ]
    tokens = [str(i + 1) for i in range(n)]
    figure = fig.heatmaps([("full", A, tokens, tokens), (f"causal window {window}", window_part["A"], tokens, tokens),
                           (f"linear, phi(x) = {FEATURE_MAPS[feature_map]}", linear["W"], tokens, tokens),
                           ("GAT on a ring", graph["A"], tokens, tokens)])
    values = [Value("tokens", Q, X), Value("full_weights", A),
              Value("blocked_error", error_text(blocked["vecmix_error"])),
              Value("queries_whose_block_maxima_differ", blocked["differ"]),
              Value("band_error", error_text(window_part["error"])),
              Value("linear_weights", linear["W"]), Value("gat_vector", to_numeric(a), a),
              Value("gat_weights", graph["A"], graph["exact"])]
    sections = _sections(X, a, n, d, window, block, rescale, feature_map, identity, blocked, window_part, linear,
                         graph, A)
    intro = ("*Reproduces* \"What has changed since publication\" of the paper lab "
             "(`001_8c65d19d1d0c4e45.txt`, §8): efficient and graph attention are still mixtures of value vectors.")
    deviations = ["The variants are the lab's minimal versions: no learned projections (queries = keys = values = "
                  "the tokens; GAT's W is the identity), one ring graph, a fixed feature map.",
                  "GAT's output nonlinearity sigma is left out: its node outputs are sigma(sum_j alpha_ij W h_j), and "
                  "the convex-hull statement here is about the mixture inside sigma."]
    if not rescale:
        deviations.append("lab.rescale=false merges the blocks without FlashAttention's correction e^(m_b - m).")
    return LabResult("efficient_variants", TITLE, intro, sections, claims, values, {"variants.svg": figure},
                     deviations)


def _blocked(Q, K, V, Z, block, rescale):
    """vecmix's blocked paths against its full one, and the lab's own merge of per-block mixtures."""
    n, d = Q.shape
    S = Q @ K.T / np.sqrt(d)  # (n, d) @ (d, n) -> (n, n): the scores, computed here
    starts = range(0, n, block)
    m_b = np.stack([S[:, b:b + block].max(axis=1) for b in starts], axis=1)  # (n, blocks): each block's maximum
    l_b = np.stack([np.exp(S[:, b:b + block] - m_b[:, [j]]).sum(axis=1) for j, b in enumerate(starts)], axis=1)
    mass = l_b * np.exp(m_b - m_b.max(axis=1, keepdims=True)) if rescale else l_b  # (n, blocks)
    mass = mass / mass.sum(axis=1, keepdims=True)
    partial = [attention(Q, K[b:b + block], V[b:b + block]) for b in starts]  # each block's own mixture, (n, d)
    merged = sum(mass[:, [j]] * partial[j] for j in range(len(partial)))  # (n, 1) * (n, d)
    paths = [attention(Q, K, V, block_size=block), attention(Q, K, V)]  # blocked online softmax; default blocks
    return {"vecmix_error": max(float(np.max(np.abs(p - Z))) for p in paths),
            "merge_error": float(np.max(np.abs(merged - Z))), "mass": mass,
            "differ": int(np.sum(m_b.max(axis=1) > m_b.min(axis=1)))}  # queries whose blocks need rescaling


def _sliding_window(Q, K, V, window):
    """Causal band-masked attention (blocked and full paths) against each token's window alone."""
    n = Q.shape[0]
    gap = np.subtract.outer(np.arange(n), np.arange(n))  # (n, n): i - j
    band = np.abs(gap) <= window  # (n, n); causal=True removes j > i
    # fully_masked="zeros": no row is fully masked (a token sees itself), but under a faulty mask the check
    # should say "not reproduced" rather than stop the lab
    Z_band = attention(Q, K, V, mask=band, causal=True, fully_masked="zeros")  # the default blocked path
    Z_full, A_band = attention(Q, K, V, mask=band, causal=True, fully_masked="zeros", weights=True)
    Z_alone = np.stack([attention(Q[t], K[max(0, t - window):t + 1], V[max(0, t - window):t + 1])
                        for t in range(n)])  # (n, d): token t attends to keys t - window .. t only
    inside = (gap >= 0) & (gap <= window)
    error = max(float(np.max(np.abs(Z_band - Z_alone))), float(np.max(np.abs(Z_full - Z_alone))))
    outside_nonzero, inside_zero = int(np.sum(A_band[~inside] != 0)), int(np.sum(A_band[inside] == 0))
    return {"A": A_band, "error": error, "outside": outside_nonzero, "inside": inside_zero,
            "holds": error <= TOLERANCE and outside_nonzero == 0 and inside_zero == 0}


def _linear(X, feature_map):
    """Linear attention, exactly (weights) and numerically in O(n d^2) (phi(Q) (phi(K)^T V) over its normaliser)."""
    n, d = X.shape
    F = X.applyfunc(lambda x: phi(x, feature_map))  # (n, d) exact: phi(Q) = phi(K)
    N = F * F.T  # (n, d) (d, n) -> (n, n): phi(q_t) . phi(k_i)
    totals = [sp.Add(*N.row(t)) for t in range(n)]  # the normalisers sum_j phi(q_t) . phi(k_j)
    zero_rows = [t for t, total in enumerate(totals) if is_zero(total)]
    negative = [(t, i) for t in progress(range(n), "efficient_variants: signs of the linear weights")
                if t not in zero_rows for i in range(n) if not is_nonnegative(N[t, i] / totals[t])]
    Fn, Vn = to_numeric(F), to_numeric(X)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero normaliser is reported below, by query
        W = to_numeric(N) / to_numeric(sp.Matrix(totals))  # (n, n) / (n, 1): the weights, rows sum to 1
        Z_linear = (Fn @ (Fn.T @ Vn)) / (Fn @ Fn.sum(axis=0))[:, np.newaxis]  # (n, d) @ ((d, n) @ (n, d)) / (n, 1)
    error = float(np.max(np.abs(Z_linear - W @ Vn))) if not zero_rows else float("inf")
    problems = []
    if zero_rows:
        problems.append(f"the normaliser is 0 for query {', '.join(str(t + 1) for t in zero_rows)}: no mixture there")
    if negative:
        (t, i), count = negative[0], len(negative)
        problems.append(f"{count} negative weights, e.g. w_{t + 1},{i + 1} = {decimal(W[t, i])}: an affine, not a "
                        "convex, combination")
    observed = "; ".join(problems) or (f"every weight >= 0, smallest {decimal(W.min())}; the O(n d^2) form differs "
                                       f"by {error_text(error)}")
    return {"W": np.where(np.isfinite(W), W, 0.0), "observed": observed, "error": error,
            "holds": not zero_rows and not negative and error <= TOLERANCE}


def _graph(X, a):
    """GAT on a ring with self-loops: exact and numeric weights, and each output in its neighbours' hull."""
    n, d = X.shape
    gap = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))  # (n, n)
    edges = (gap <= 1) | (gap == n - 1)  # (n, n): each node, its two ring neighbours, itself
    e = (X * a[:d, :]) * sp.ones(1, n) + sp.ones(n, 1) * (X * a[d:, :]).T  # (n, 1)(1, n) + (n, 1)(1, n): a . [h_i, h_j]
    e = e.applyfunc(lambda x: x if x > 0 else SLOPE * x)  # LeakyReLU, exact
    rows = [exact_softmax(list(e.row(i)), mask=edges[i]) for i in range(n)]  # (n,) columns of exact weights
    A_exact = sp.Matrix.hstack(*rows).T  # (n, n)
    A = softmax(to_numeric(e), mask=edges)  # (n, n), numeric, vecmix
    error = float(np.max(np.abs(A - to_numeric(A_exact))))
    off = sum(A_exact[i, j] != 0 for i in range(n) for j in range(n) if not edges[i, j])
    on = sum(is_zero(A_exact[i, j]) or not is_nonnegative(A_exact[i, j]) for i in range(n) for j in range(n)
             if edges[i, j])
    sums = sum(not is_zero(sp.Add(*A_exact.row(i)) - 1) for i in range(n))
    def neighbours(i):
        return X.extract([j for j in range(n) if edges[i, j]], list(range(d)))  # (3, d): the rows h_j, j in N_i

    outside = [i + 1 for i in progress(range(n), "efficient_variants: graph outputs in their neighbours' hulls")
               if not in_hull(neighbours(i), X.T * A_exact.row(i).T)[0]]  # (d, n) (n, 1): z_i
    # the other direction: 2 h_i - h_(i+1) has affine coordinates (0, 2, -1) on the neighbours, so it is outside
    reflected = [i + 1 for i in range(n) if in_hull(neighbours(i), 2 * X.row(i).T - X.row((i + 1) % n).T)[0]]
    observed = (f"{off} nonzero weights off the graph, {on} neighbours without a positive weight, {sums} rows not "
                f"summing to 1; numeric {error_text(error)}; outputs outside their neighbours' hull: "
                + (", ".join(map(str, outside)) or "none") + "; reflections 2 h_i - h_(i+1) inside it: "
                + (", ".join(map(str, reflected)) or "none"))
    return {"A": A, "exact": A_exact, "e": e, "edges": edges, "observed": observed,
            "holds": off == 0 and on == 0 and sums == 0 and error <= TOLERANCE and not outside and not reflected}


def _sections(X, a, n, d, window, block, rescale, feature_map, identity, blocked, window_part, linear, graph, A):
    tokens = table(["token", *[f"$x_{{{c + 1}}}$" for c in range(d)]],
                   [[i + 1, *[f"${tex(x)}$" for x in X.row(i)]] for i in range(n)])
    merge = "rescaled by $e^{m_b - m}$" if rescale else "**without** the rescaling (`lab.rescale=false`)"
    return [
        "## The claim\n\n"
        "The paper lab's last reading lens: attention has branched into efficient, sparse and graph variants, "
        "\"but the weighted-vector-mixture view still survives\". Each variant below runs on the same "
        f"{n} seeded tokens in $\\mathbb{{R}}^{{{d}}}$, which are the queries, the keys and the values; dot-product "
        f"attention scales by $1/\\sqrt{{d_k}} = 1/\\sqrt{{{d}}}$:\n\n" + tokens + "\n\n"
        "The variants follow their papers in miniature: the online softmax of FlashAttention (Dao et al., 2022), "
        "the sliding window of Longformer (Beltagy et al., 2020), causal here as in Mistral 7B, the linear "
        "attention of Katharopoulos et al. (2020), and graph attention networks (Velickovic et al., 2018).\n",
        "## Blocked attention with an online softmax\n\n"
        f"Keys are processed in blocks of {block}; block $b$ keeps its maximum score $m_b$, its mass "
        "$l_b = \\sum_{i \\in b} e^{s_i - m_b}$ and its sum $a_b = \\sum_{i \\in b} e^{s_i - m_b} v_i$, and the "
        f"blocks are merged {merge}. For two blocks SymPy finds, with symbolic scores, values and maxima,\n"
        + display((r"\frac{a_1 e^{m_1 - m} + a_2 e^{m_2 - m}}{l_1 e^{m_1 - m} + l_2 e^{m_2 - m}}" if rescale else
                   r"\frac{a_1 + a_2}{l_1 + l_2}") + r" - \frac{\sum_i e^{s_i} v_i}{\sum_i e^{s_i}} = "
                  + ("0" if identity == 0 else r"\text{a nonzero expression}")
                  + (r" \quad \text{for all } m_1, m_2, m" if identity == 0 else ""))
        + ("\nso the output is the mixture of the per-block mixtures $a_b / l_b$ with weights "
           "$l_b e^{m_b - m} / \\sum_c l_c e^{m_c - m}$." if identity == 0 else
           "\nWithout the rescaling each block's mass is measured from its own maximum, and blocks with different "
           "maxima are weighted wrongly.")
        + f" On these tokens the block maxima differ for {blocked['differ']} of {n} queries"
        + (", so the rescaling matters there" if blocked["differ"] else
           ": every factor $e^{m_b - m}$ is 1, and these inputs cannot tell a merge with the rescaling from one "
           "without")
        + f". Merging vecmix's per-block outputs {'this way' if rescale else 'without it'} misses full attention by "
        f"{error_text(blocked['merge_error'])}, and vecmix's own blocked path by "
        f"{error_text(blocked['vecmix_error'])}.\n",
        "## Causal sliding window\n\n"
        f"Each token sees itself and the {window} tokens before it: the band mask $|i - j| \\le {window}$ with "
        f"`causal=True`. That is the same as attending to the window alone ({error_text(window_part['error'])}), and "
        "every key outside the window gets weight exactly 0.\n",
        "## Linear attention, with its normaliser\n\n"
        "Linear attention replaces $e^{q \\cdot k / \\sqrt{d_k}}$ by $\\phi(q) \\cdot \\phi(k)$ with "
        + ("$\\phi(x) = \\text{elu}(x) + 1$, which is $x + 1$ above 0 and $e^x$ below, so always positive"
           if feature_map == "elu_plus_one" else "$\\phi(x) = x$, which may be negative")
        + ". Each output divides by the sum of its weights:\n"
        + display(r"z_t = \frac{\sum_i \phi(q_t) \cdot \phi(k_i) v_i}{\sum_j \phi(q_t) \cdot \phi(k_j)} = "
                  r"\frac{\phi(q_t)^\top \left( \sum_i \phi(k_i) v_i^\top \right)}{\phi(q_t)^\top \sum_j \phi(k_j)}, "
                  r"\qquad Z = \frac{\phi(Q) \left( \phi(K)^\top V \right)}{\phi(Q) \left( \phi(K)^\top \mathbf{1} "
                  r"\right)} \text{ row by row}")
        + "\nThe right-hand form costs $O(n d^2)$ instead of $O(n^2 d)$. The weights "
        "$\\phi(q_t) \\cdot \\phi(k_i) / \\sum_j \\phi(q_t) \\cdot \\phi(k_j)$ are checked to be nonnegative exactly: "
        f"they certify that each output is a convex combination of the values ({linear['observed']}). They are not "
        f"softmax's: they differ from the full weights by up to {decimal(float(np.max(np.abs(linear['W'] - A))))}.\n",
        "## Graph attention (GAT)\n\n"
        f"Nodes on a ring, each linked to its two neighbours and itself. GAT scores an edge with "
        "$e_{ij} = \\text{LeakyReLU}(a^\\top [h_i ; h_j])$ (slope 1/5 below 0; its projection $W$ is the identity "
        f"here) instead of a dot product, with the seeded $a = {tuple_tex(a)}$, and takes a softmax over the "
        "neighbours only: non-neighbours are masked. Each node's output is then a convex combination of its "
        "neighbours' values; the exact hull test is also asked about a point that is not one, "
        "$2 h_i - h_{i+1}$ (affine coordinates $0, 2, -1$ on $h_{i-1}, h_i, h_{i+1}$), and must say no "
        f"({graph['observed']}).\n\n"
        + image("figures/variants.svg", "weights of the variants",
                "Figure 1. Weights of full, causal sliding-window, linear and GAT attention on the tokens above (row: "
                "query or node, column: key or neighbour): every row is a distribution over the values.") + "\n",
    ]


COUNTER_CASES = {
    "online-softmax-identity": inputs("blocks merged without the rescaling e^(m_b - m)", "lab.rescale=false"),
    "blocked-equals-full": fault("online-no-rescale"),
    "mixture-of-mixtures": inputs("blocks merged without the rescaling e^(m_b - m)", "lab.rescale=false"),
    "sliding-window-is-a-band-mask": fault("mask-ignored"),
    "linear-attention-is-convex": inputs("a feature map that can be negative", "lab.feature_map=identity"),
    "graph-attention-mixes-neighbours": fault("mask-inverted"),
}


# Exercises: graded by pytest (python -m labs.exercises efficient_variants)

LAB = "efficient_variants"
E = sp.E

EXERCISES = [
    Exercise(LAB, "merge_blocks", "Scores (0, 1 | 1, 2) in two blocks. As in the lab, block b keeps its maximum m_b "
             "and its mass l_b = sum over the block of e^(s_i - m_b): m_1 = 1, l_1 = 1 + e^(-1) and m_2 = 2, "
             "l_2 = 1 + e^(-1). Rescaled to the common maximum m = 2, what share of the total softmax weight falls on "
             "block 1? (exact)", exact(1 / (1 + E), "the share"), "1/(1 + E)",
             also=("exp(-1)/(1 + exp(-1))", "(1 + E)/(1 + 2*E + exp(2))"),
             wrong={"1/2": "not right", "0.269": "not exact"},
             hint="share = l_1 e^(m_1 - m) / (l_1 e^(m_1 - m) + l_2 e^(m_2 - m)); the equal masses alone would give "
             "each block the same share.", points=2, source="FlashAttention (Dao et al. 2022) §3.1"),
    Exercise(LAB, "band_mask", "Give the causal sliding-window mask of window 1 for 4 tokens: a 4 x 4 matrix with 1 "
             "where token i may see key j (i - 1 <= j <= i), else 0.",
             exact(sp.Matrix(4, 4, lambda i, j: 1 if 0 <= i - j <= 1 else 0), "the mask"),
             "[[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]",
             also=("[[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1.0]]",),
             wrong={"[[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]": "not right"},
             hint="causal: no key after the query; window 1: at most one key before it.", source="001 §8"),
    Exercise(LAB, "linear_weights", "Linear attention with feature values phi(q) . phi(k_i) = (1, 3) for two keys: "
             "give the weights.", exact([sp.Rational(1, 4), sp.Rational(3, 4)], "the weights"), "[1/4, 3/4]",
             also=("[0.25, 0.75]",), wrong={"[1, 3]": "not right"}, hint="normalise so the weights sum to 1.",
             source="001 §8"),
    Exercise(LAB, "linear_output", "Linear attention, one query with phi(q) . phi(k_i) = (1, 3) and values v_1 = (4, 0), "
             "v_2 = (0, 4). Give the output z (with the normaliser).",
             exact([1, 3], "z"), "[1, 3]", also=("[4/4, 12/4]",), wrong={"[4, 12]": "not right"},
             hint="divide sum_i w_i v_i by sum_i w_i.", source="001 §8"),
]
