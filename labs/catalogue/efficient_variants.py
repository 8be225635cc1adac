"""Lab ``efficient_variants``: what has changed since publication still mixes value vectors (001 §8).

* Blocked attention with an online softmax (FlashAttention's rescaling) is a mixture of
  per-block mixtures and equals full attention: a SymPy identity for two blocks and any
  running maxima, and numeric agreement to 1e-12.
* Sliding-window attention is attention under a band mask.
* Linear attention with a positive feature map is still a convex combination of the
  values, with different weights.
* Graph attention is attention masked by an adjacency matrix.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from vecmix import VecmixError, attention, exact_attention, in_span, to_numeric

from ..claims import Claim
from ..config.inputs import random_rationals, read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import display, image

TITLE = "Efficient and graph attention: still mixtures of value vectors"
SOURCE = "001 §8"


@dataclass
class Config:
    """efficient_variants: blocked, sliding-window, linear and graph attention (001 §8)."""

    name: str = "efficient_variants"
    n: int = 10  # tokens
    d: int = 4  # their dimension
    window: int = 2  # sliding-window radius
    block_size: int = 4  # keys per block of the online softmax
    seed: int = 0  # draws the tokens


def online_softmax_identity():
    """The two-block online softmax minus full softmax attention, over a common denominator: 0 for any maxima.

    >>> online_softmax_identity()
    0
    """
    s = sp.symbols("s1:5", real=True)
    v = sp.symbols("v1:5", real=True)
    m1, m2, m = sp.symbols("m1 m2 m", real=True)  # the running maxima: any values work
    l1, a1 = sp.exp(s[0] - m1) + sp.exp(s[1] - m1), sp.exp(s[0] - m1) * v[0] + sp.exp(s[1] - m1) * v[1]
    l2, a2 = sp.exp(s[2] - m2) + sp.exp(s[3] - m2), sp.exp(s[2] - m2) * v[2] + sp.exp(s[3] - m2) * v[3]
    online = (a1 * sp.exp(m1 - m) + a2 * sp.exp(m2 - m)) / (l1 * sp.exp(m1 - m) + l2 * sp.exp(m2 - m))
    full = sum(sp.exp(si) * vi for si, vi in zip(s, v)) / sum(sp.exp(si) for si in s)
    numerator, _ = sp.fraction(sp.together(online - full))
    return sp.expand(sp.powsimp(sp.expand(numerator)))


def feature_map(x):
    """phi(x) = elu(x) + 1: positive everywhere, the map of the linear transformers."""
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def run(params):
    """Check each variant against full attention on seeded inputs.

    >>> run({"n": 10, "d": 4, "window": 2, "block_size": 3, "seed": 0}).reproduced
    True
    """
    n = read_positive_int(params["n"], "lab.n")
    d = read_positive_int(params["d"], "lab.d")
    window = read_positive_int(params["window"], "lab.window")
    block = read_positive_int(params["block_size"], "lab.block_size")
    if n < 3:
        raise VecmixError(f"lab.n = {n} is too small to compare blocks, windows and graphs; use at least 3")
    rng = np.random.default_rng(params["seed"])
    X = random_rationals(rng, (n, d))  # exact token vectors (n, d): queries = keys = values
    Q = K = V = to_numeric(X)  # (n, d)

    # Blocked attention: a mixture of per-block mixtures.
    Z, A = attention(Q, K, V, weights=True)  # (n, d), (n, n): the full weights matrix
    Z_blocked = attention(Q, K, V, block_size=block)  # the online softmax, block by block
    starts = range(0, n, block)
    partial = [attention(Q, K[b:b + block], V[b:b + block]) for b in starts]  # each block's own mixture (n, d)
    mass = np.stack([A[:, b:b + block].sum(axis=1) for b in starts], axis=1)  # (n, blocks): weight of each block
    Z_mixture_of_mixtures = sum(mass[:, [j]] * partial[j] for j in range(len(partial)))  # (n, 1) * (n, d)
    identity = online_softmax_identity()

    # Sliding window: a band mask, and the same as attending to the window alone.
    band = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= window  # (n, n)
    Z_band, A_band = attention(Q, K, V, mask=band, weights=True)
    Z_slices = np.stack([attention(Q[t], K[max(0, t - window):t + window + 1], V[max(0, t - window):t + window + 1])
                         for t in range(n)])  # (n, d)

    # Linear attention: phi(q) . phi(k_i) as weights, computed the linear way.
    fq, fk = feature_map(Q / d ** 0.25), feature_map(K / d ** 0.25)  # (n, d) each
    W_lin = (fq @ fk.T) / (fq @ fk.T).sum(axis=1, keepdims=True)  # (n, d) @ (d, n) -> (n, n), rows sum to 1
    Z_lin = (fq @ (fk.T @ V)) / (fq @ fk.sum(axis=0))[:, None]  # (n, d) @ ((d, n) @ (n, d)) / (n, 1): O(n d^2)
    directions = rng.standard_normal((16, d))
    inside = all(np.all(Z_lin @ u <= np.max(V @ u) + 1e-12) for u in directions)

    # Graph attention: a ring with self-loops as the mask, exactly.
    ring = (np.abs(np.subtract.outer(np.arange(n), np.arange(n))) % (n - 1) <= 1)  # neighbours on a cycle
    Z_graph, A_graph = exact_attention(X, X, X, mask=ring)  # (n, d), (n, n) exact
    neighbours_only = all(A_graph[i, j] == 0 for i in range(n) for j in range(n) if not ring[i, j])
    graph_span = all(in_span(X.extract([j for j in range(n) if ring[i, j]], list(range(d))), Z_graph.row(i).T)
                     for i in range(n))

    blocked_err = float(np.max(np.abs(Z_blocked - Z)))
    mixture_err = float(np.max(np.abs(Z_mixture_of_mixtures - Z)))
    band_err = float(np.max(np.abs(Z_band - Z_slices)))
    linear_err = float(np.max(np.abs(Z_lin - W_lin @ V)))
    graph_err = float(np.max(np.abs(attention(Q, K, V, mask=ring) - to_numeric(Z_graph))))
    claims = [
        Claim("online-softmax-identity", "for two blocks and any running maxima m1, m2, m, the rescaled online "
              "softmax equals full softmax attention (symbolic scores and values)", SOURCE, "difference 0",
              sp.sstr(identity), identity == 0, True),
        Claim("blocked-equals-full", f"blocked attention (blocks of {block} keys) equals full attention",
              SOURCE, "max difference <= 1e-12", f"{blocked_err:.1e}", blocked_err <= 1e-12, False),
        Claim("mixture-of-mixtures", "full attention is the mixture of the per-block mixtures, weighted by each "
              "block's share of the softmax mass", SOURCE, "max difference <= 1e-12", f"{mixture_err:.1e}",
              mixture_err <= 1e-12 and np.allclose(mass.sum(axis=1), 1), False),
        Claim("sliding-window-is-a-band-mask", f"attention under the band mask |i - j| <= {window} equals each "
              "query attending to its window alone", SOURCE, "max difference <= 1e-12", f"{band_err:.1e}",
              band_err <= 1e-12 and bool((A_band[~band] == 0).all()), False),
        Claim("linear-attention-is-convex", "linear attention with phi = elu + 1 puts nonnegative weights summing to "
              "1 on the values: its outputs stay in their convex hull", SOURCE, "weights >= 0, rows sum to 1, in hull",
              f"min weight {W_lin.min():.3f}; in hull: {inside}",
              bool((W_lin >= 0).all()) and np.allclose(W_lin.sum(axis=1), 1) and inside and linear_err <= 1e-12,
              False),
        Claim("linear-attention-differs", "linear attention mixes with other weights than softmax attention", SOURCE,
              "max |difference| > 1e-3", f"{float(np.max(np.abs(Z_lin - Z))):.3f}",
              float(np.max(np.abs(Z_lin - Z))) > 1e-3, False),
        Claim("graph-attention-is-masked", "graph attention (a ring with self-loops) gives non-neighbours exactly "
              "zero weight and each node's output lies in the span of its neighbours' values", SOURCE,
              "0 off the graph; in the span (exact)", "as expected" if neighbours_only and graph_span else "no",
              neighbours_only and graph_span and graph_err <= 1e-12, True),
    ]
    tokens = [str(i + 1) for i in range(n)]
    figure = fig.heatmaps([("full", A, tokens, tokens), (f"band |i-j| <= {window}", A_band, tokens, tokens),
                           ("linear (elu + 1)", W_lin, tokens, tokens),
                           ("graph: ring", to_numeric(A_graph), tokens, tokens)])
    values = [Value("tokens", Q, X), Value("blocked_error", blocked_err), Value("block_mass", mass),
              Value("band_error", band_err), Value("linear_weights", W_lin), Value("graph_weights",
                                                                                   to_numeric(A_graph), A_graph)]
    sections = [
        "## The claim\n\n"
        "The paper lab's last reading lens: attention has branched into efficient, sparse and graph variants, "
        "\"but the weighted-vector-mixture view still survives\". Each variant below is checked against full "
        f"attention on {n} seeded tokens in $\\mathbb{{R}}^{{{d}}}$ (queries = keys = values).\n",
        "## Blocked attention with an online softmax\n\n"
        "Keys are processed in blocks; each block keeps its own maximum $m_b$, mass $l_b$ and unnormalised sum "
        "$a_b$, and the blocks are merged by rescaling with $e^{m_b - m}$. For two blocks SymPy proves, with "
        "symbolic scores, values and maxima,\n"
        + display(r"\frac{a_1 e^{m_1 - m} + a_2 e^{m_2 - m}}{l_1 e^{m_1 - m} + l_2 e^{m_2 - m}} = "
                  r"\frac{\sum_i e^{s_i} v_i}{\sum_i e^{s_i}} \quad \text{for all } m_1, m_2, m")
        + f"\nso the result is a mixture of the per-block mixtures $a_b / l_b$ (blocked vs full: {blocked_err:.1e}).\n",
        "## Sliding window, linear attention, graph attention\n\n"
        f"A sliding window of radius {window} is the band mask $|i - j| \\le {window}$ ({band_err:.1e} from "
        "attending to each window alone). Linear attention replaces $e^{q \\cdot k}$ by "
        "$\\phi(q) \\cdot \\phi(k)$ with $\\phi = \\text{elu} + 1 > 0$, so the weights are still nonnegative and "
        "sum to one, and it can be computed as $\\phi(Q)(\\phi(K)^\\top V)$ in $O(n d^2)$: a convex combination, "
        "with other weights. Graph attention masks by the adjacency matrix: each node mixes its neighbours' "
        "values only.\n\n"
        + image("figures/variants.svg", "weights of the variants",
                "Figure 1. Attention weights of full, sliding-window, linear and graph attention on the same tokens: "
                "every row is a distribution over the values.") + "\n",
    ]
    intro = ("*Reproduces* \"What has changed since publication\" of the paper lab "
             "(`001_8c65d19d1d0c4e45.txt`, §8): efficient and graph attention are still mixtures of value vectors.")
    return LabResult("efficient_variants", TITLE, intro, sections, claims, values, {"variants.svg": figure}, [
        "The variants are the lab's minimal versions (no learned feature maps, one ring graph)."])


# Exercises: graded by pytest (python -m labs.exercises efficient_variants)

LAB = "efficient_variants"
E = sp.E

EXERCISES = [
    Exercise(LAB, "merge_blocks", "Scores (0, 1 | 1, 2) in two blocks with values (1, 0 | 0, 1). Block 1 has mass "
             "l1 = 1 + e and block 2 mass l2 = e + e^2 (before any rescaling). What share of the total softmax "
             "weight falls on block 1? (exact)", exact((1 + E) / (1 + 2 * E + E**2), "the share"),
             "(1 + E)/(1 + 2*E + exp(2))", also=("1/(1 + E)",), wrong={"1/2": "not right", "0.269": "not exact"},
             hint="share = l1 / (l1 + l2).", points=2, source="001 §8"),
    Exercise(LAB, "band_mask", "Give the sliding-window mask of radius 1 for 4 tokens: a 4 x 4 matrix with 1 where "
             "|i - j| <= 1, else 0.", exact(sp.Matrix(4, 4, lambda i, j: 1 if abs(i - j) <= 1 else 0), "the mask"),
             "[[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]",
             wrong={"[[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]": "not right"}, source="001 §8"),
    Exercise(LAB, "linear_weights", "Linear attention with feature values phi(q) . phi(k_i) = (1, 3) for two keys: "
             "give the weights.", exact([sp.Rational(1, 4), sp.Rational(3, 4)], "the weights"), "[1/4, 3/4]",
             wrong={"[1, 3]": "not right"}, hint="normalise so the weights sum to 1.", source="001 §8"),
]
