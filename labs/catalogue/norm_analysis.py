"""Lab ``norm_analysis``: "Attention is Not Only a Weight" (Kobayashi et al., EMNLP 2020) on all-MiniLM-L6-v2.

Each head's output for query i is sum_j alpha_ij f(x_j), f(x_j) = (x_j W_V^h + b_V^h) W_O^h,
and the layer adds b_O once: the weight alpha_ij is one factor of a contribution, the
length ||f(x_j)|| the other. The paper measures ||alpha f(x)|| instead of alpha alone and
finds, in BERT-base, that [CLS], [SEP] and punctuation receive large weights but have
short f(x), so they contribute little, and that alpha and ||f(x)|| are negatively
correlated. This lab checks those claims on another model (MiniLM-L6, the ``[model]``
extra) over a handful of sentences: each verdict holds for this model and these sentences.
"""

import unicodedata
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import VecmixError
from vecmix.encoder import encode, value_norms

from ..claims import Claim, fault, inputs
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, display, error_text, image, table
from . import _minilm

TITLE = "Attention is not only a weight: the norms of the transformed values, on MiniLM"
SOURCE = "Kobayashi et al. (2020)"
TOLERANCE = 1e-12
LARGE = 2.0  # "large weights": at least twice the average weight a word token receives
DISAGREE = 0.25  # "disagree": the top tokens differ in at least a quarter of the (head, query) rows
CLASSES = ("cls", "sep", "punctuation", "word")
NAMES = {"cls": "[CLS]", "sep": "[SEP]", "punctuation": "punctuation", "word": "words"}
EMPIRICAL = True  # the paper's findings on another model: a default verdict may be "not reproduced"


@dataclass
class Config:
    """norm_analysis: sentences through all-MiniLM-L6-v2; the layers to analyse."""

    name: str = "norm_analysis"
    sentences: List[str] = MISSING
    layers: Optional[List[int]] = None  # 1..6; None: every layer


COUNTER_CASES = {
    "decomposition": fault("online-unnormalised"),
    "cls-large-weights": fault("softmax-wrong-axis"),
    "sep-large-weights": fault("cls-sep-swapped"),
    "punctuation-large-weights": fault("brackets-are-punctuation", "lab.layers=[2,3,4,5,6]"),
    "cls-contribute-little": fault("contributions-are-weights"),
    "sep-contribute-little": fault("cls-sep-swapped"),
    "punctuation-contribute-little": fault("brackets-are-punctuation", "lab.layers=[2,3,4,5,6]"),
    "weights-norms-negative": fault("contributions-are-weights"),
    "norms-disagree": fault("contributions-are-weights"),
}


def token_class(token):
    """'cls', 'sep', 'punctuation' for a token made of punctuation only, else 'word'.

    >>> [token_class(t) for t in ("[CLS]", ",", "...", "dog", "##s", "[SEP]")]
    ['cls', 'punctuation', 'punctuation', 'word', 'word', 'sep']
    """
    if token in ("[CLS]", "[SEP]"):
        return token[1:-1].lower()
    if all(unicodedata.category(c).startswith("P") for c in token):
        return "punctuation"
    return "word"


def run(params):
    """Weights and norms per token class and layer, over the sentences.

    >>> r = run({"sentences": ["The cat sat on the mat, then slept."], "layers": [5]})
    >>> {c.id: c.holds for c in r.claims}["cls-contribute-little"]
    True
    """
    encoder, tokenizer = _minilm.load()
    L = len(encoder.layers)
    texts = _minilm.sentences(tokenizer, params["sentences"])
    chosen = params.get("layers")
    if chosen is not None and not chosen:
        raise VecmixError("lab.layers is empty: give layer numbers (1..6), or null for all")
    layers = list(range(L)) if chosen is None else [
        read_positive_int(x, f"lab.layers[{k}]", maximum=L, reason=f"the model has {L} layers") - 1
        for k, x in enumerate(chosen)]
    if len(set(layers)) < len(layers):
        twice = next(l for l in layers if layers.count(l) > 1)
        raise VecmixError(f"lab.layers names layer {twice + 1} twice")
    layers = sorted(layers)
    kinds = {token_class(t) for _, tokens in texts for t in tokens}  # [CLS] and [SEP] are in every sentence
    absent = [NAMES[c] for c in ("punctuation", "word") if c not in kinds]
    if absent:
        raise VecmixError(f"lab.sentences hold no {absent[0]} token: the claims compare [CLS], [SEP], punctuation "
                          "and words, so the sentences need each (add a comma or a full stop)")
    W_O = [np.float64(layer.W_O) for layer in encoder.layers]
    b_O = [np.float64(layer.b_O) for layer in encoder.layers]
    per = {l: {"alpha": [], "norm": [], "kind": [], "head": [], "gap": 0.0, "rows": 0, "differ": 0} for l in layers}
    for ids, tokens in texts:
        f = encode(encoder, ids)
        kinds = [token_class(t) for t in tokens]
        n = len(ids)
        for l in layers:
            A, V, Z, H = f.A[l], f.V[l], f.Z[l], f.A.shape[1]  # (H, n, n), (H, n, d_head), (H, n, d_head)
            N = value_norms(V, W_O[l])  # (H, n): ||f(x_j)|| per head
            F = V @ W_O[l].reshape(H, -1, W_O[l].shape[1])  # (H, n, d_head) @ (H, d_head, d_model) -> (H, n, d_model)
            Y = Z.transpose(1, 0, 2).reshape(n, -1) @ W_O[l] + b_O[l]  # (n, H * d_head) @ (H * d_head, d_model)
            mixed = (A @ F).sum(axis=0) + b_O[l]  # sum_h (n, n) @ (n, d_model) -> (n, d_model), then b_O once
            rec = per[l]
            rec["gap"] = max(rec["gap"], float(np.abs(Y - mixed).max()))
            C = A * N[:, None, :]  # (H, n, n): ||alpha_ij f(x_j)||
            rec["differ"] += int((A.argmax(axis=2) != C.argmax(axis=2)).sum())
            rec["rows"] += H * n
            rec["alpha"].append(A.reshape(-1))  # (H * n * n,) over (head, query, key)
            rec["norm"].append(np.broadcast_to(N[:, None, :], A.shape).reshape(-1))  # ||f(x_j)|| for each entry
            rec["kind"].append(np.broadcast_to(np.array(kinds)[None, None, :], A.shape).reshape(-1))
            rec["head"].append(np.broadcast_to(np.arange(H)[:, None, None], A.shape).reshape(-1))
    table_rows = [_layer_stats(l, per[l]) for l in layers]
    return _result(texts, layers, table_rows)


def exact_decomposition():
    """[Z_1 Z_2] W_O = sum_h A_h (V_h W_O^h), decided symbolically for two heads (n = 2, d_head = 1, d_model = 2):
    joining the heads and projecting is the sum over heads and tokens of alpha_ij f(x_j).

    >>> exact_decomposition()
    True
    """
    A = [sp.Matrix(2, 2, sp.symbols(f"a{h}_1:3_1:3")) for h in (1, 2)]  # (n, n) per head
    V = [sp.Matrix(2, 1, sp.symbols(f"v{h}_1:3")) for h in (1, 2)]  # (n, d_head) per head
    W_O = sp.Matrix(2, 2, sp.symbols("w1:3_1:3"))  # (H * d_head, d_model): row h is head h's block W_O^h
    joined = sp.Matrix.hstack(A[0] * V[0], A[1] * V[1]) * W_O  # (n, H * d_head) (H * d_head, d_model)
    summed = sum((A[h] * (V[h] * W_O[h, :]) for h in (0, 1)), sp.zeros(2, 2))  # F_h = V_h W_O^h: (n, d_model)
    return all(sp.expand(x) == 0 for x in joined - summed)


def spearman(a, b):
    """Spearman's rank correlation of two samples: Pearson's on their ranks, tied values sharing their mean rank
    (each ||f(x_j)|| appears once per query, so ties are many).

    >>> round(spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 2.0])), 3)
    -0.5
    >>> round(spearman(np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 5.0, 7.0, 7.0])), 3)
    0.894
    >>> spearman(np.array([1.0, 2.0]), np.array([3.0, 3.0]))
    nan
    """
    ra, rb = _ranks(a), _ranks(b)
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:  # a constant sample has no correlation with anything
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x):
    """Ranks 0..n-1 with ties given their mean rank."""
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])  # the rank of each distinct value's first occurrence
    return (first + (counts - 1) / 2)[inverse]


def _layer_stats(l, rec):
    """One layer's averages per class, shares, correlation and disagreement."""
    alpha, norm, kind, head = (np.concatenate(rec[k]) for k in ("alpha", "norm", "kind", "head"))
    contribution = alpha * norm
    rhos = [spearman(alpha[head == h], norm[head == h]) for h in np.unique(head)]  # within each head
    out = {"layer": l + 1, "gap": rec["gap"], "rhos": rhos, "negative": sum(r < 0 for r in rhos),
           "differ": rec["differ"] / rec["rows"], "alpha": alpha, "norm": norm}
    for c in CLASSES:
        m = kind == c
        out[c] = {"alpha": float(alpha[m].mean()) if m.any() else float("nan"),
                  "norm": float(norm[m].mean()) if m.any() else float("nan"),
                  "weight_share": float(alpha[m].sum() / alpha.sum()),
                  "norm_share": float(contribution[m].sum() / contribution.sum())}
    return out


def _result(texts, layers, rows):
    every = lambda test: all(test(r) for r in rows)  # noqa: E731  (nan compares false: an empty class fails)
    where = lambda test: _layers_text([r["layer"] for r in rows if test(r)])  # noqa: E731
    gap = max(r["gap"] for r in rows)
    identity = exact_decomposition()
    big = lambda c: lambda r: r[c]["alpha"] >= LARGE * r["word"]["alpha"]  # noqa: E731
    little = lambda c: lambda r: (r[c]["norm"] < r["word"]["norm"]  # noqa: E731
                                  and r[c]["norm_share"] < r[c]["weight_share"])
    pooled = spearman(np.concatenate([r["alpha"] for r in rows]), np.concatenate([r["norm"] for r in rows]))
    differ = lambda r: r["differ"] >= DISAGREE  # noqa: E731
    ratios = lambda c, key: ", ".join(decimal(r[c][key] / r["word"][key], 2) for r in rows)  # noqa: E731
    n_layers = f"{len(rows)} layer{'s' if len(rows) > 1 else ''}"
    claims = [
        Claim("decomposition", "the attention output is the sum over heads and tokens of alpha_ij f(x_j), "
              "f(x) = (x W_V^h + b_V^h) W_O^h, plus b_O once", f"{SOURCE}, §2.2 and §3",
              "an exact identity; on the model |[Z_1 ... Z_H] W_O + b_O - (sum_h A_h F_h + b_O)| <= 1e-12",
              f"identity {'proved' if identity else 'fails'} (exact); largest gap on the model {error_text(gap)}",
              identity and gap <= TOLERANCE, True),
    ]
    for c in ("cls", "sep", "punctuation"):
        name = NAMES[c]
        claims += [
            Claim(f"{c}-large-weights", f"{name} receives large weights: at least {LARGE:g} times a word's average, "
                  "in every layer", f"{SOURCE}, §4 (after Clark et al., 2019)",
                  f"ratio >= {LARGE:g} in each of the {n_layers}",
                  f"ratios {ratios(c, 'alpha')}; at least {LARGE:g} in {where(big(c))}", every(big(c)), False),
            Claim(f"{c}-contribute-little", f"... but its transformed vector f(x) is short, so it contributes less "
                  f"than its weights suggest: {name}'s share of the contributions ||alpha f(x)|| is below its share "
                  "of the weights, in every layer", f"{SOURCE}, abstract and §4",
                  f"||f(x)|| ratio < 1 and norm share < weight share in each of the {n_layers}",
                  f"||f(x)|| ratios {ratios(c, 'norm')}; shares (weight -> norm) "
                  + ", ".join(f"{decimal(r[c]['weight_share'], 2)} -> {decimal(r[c]['norm_share'], 2)}"
                              for r in rows) + f"; both hold in {where(little(c))}", every(little(c)), False),
        ]
    claims += [
        Claim("weights-norms-negative", "alpha and ||f(x)|| are negatively correlated: the model offsets large "
              "weights with short vectors (Spearman over every (layer, head, query, key), pooled as the authors' "
              "code pools them)", f"{SOURCE}, §4", f"rho < 0 over the {n_layers}",
              f"rho {pooled:+.3f} pooled; within heads, rho < 0 in "
              + ", ".join(f"{r['negative']}" for r in rows) + f" of {len(rows[0]['rhos'])} heads of the layers in "
              "turn", pooled < 0, False),
        Claim("norms-disagree", "weight-based and norm-based analyses disagree: in at least a quarter of the "
              "(head, query) rows of every layer, the most-weighted token is not the largest contributor",
              f"{SOURCE}, abstract and §4", f"a share >= {100 * DISAGREE:.0f}% in each of the {n_layers}",
              "shares " + ", ".join(f"{100 * r['differ']:.1f}%" for r in rows), every(differ), False),
    ]
    x = [r["layer"] for r in rows]
    ratio = lambda key: {NAMES[c]: [r[c][key] / r["word"][key] for r in rows] for c in CLASSES[:3]}  # noqa: E731
    share = lambda key: {NAMES[c]: [r[c][key] for r in rows] for c in CLASSES}  # noqa: E731
    panels = [("weight received / a word's", ratio("alpha")), ("‖f(x)‖ / a word's", ratio("norm")),
              ("share of the weights α", share("weight_share")),
              ("share of the contributions ‖α f(x)‖", share("norm_share"))]
    titles = ["(a) weights, against words'", "(b) vector lengths, against words'", "(c) who gets the weights",
              "(d) who gets the contributions"]
    figures = {"classes.svg": fig.line_panels(x, panels, "layer", xticks=[str(v) for v in x], titles=titles,
                                              ylims=[None, None, (0, 1), (0, 1)], guides=[[1, LARGE], [1], [], []])}
    values = [Value("layers", x), Value("tokens", [t for _, t in texts]),
              Value("spearman_alpha_norm_pooled", pooled),
              Value("spearman_alpha_norm_per_head", [r["rhos"] for r in rows]),
              Value("top_token_disagreement", [r["differ"] for r in rows]),
              *(Value(f"{c}_{key}", [r[c][key] for r in rows])
                for c in CLASSES for key in ("alpha", "norm", "weight_share", "norm_share"))]
    intro = (f"*Checks* the central claims of Kobayashi, Kuribayashi, Yokoi and Inui, \"Attention is Not Only a "
             f"Weight: Analyzing Transformers with Vector Norms\" (EMNLP 2020) on all-MiniLM-L6-v2, over "
             f"{len(texts)} sentences.")
    return LabResult("norm_analysis", TITLE, intro, _sections(texts, rows, pooled), claims, values, figures, [
        "The paper analyses BERT-base (12 layers of 12 heads) on Wikipedia text; this lab analyses MiniLM-L6 "
        "(6 layers of 12 heads, distilled, then trained for sentence embeddings) on the sentences of its config. "
        "Each verdict holds for this model and these sentences only.",
        f"\"Large weights\" is read as at least {LARGE:g} times a word token's average weight, and \"disagree\" as "
        f"different top tokens in at least {100 * DISAGREE:.0f}% of the rows; the paper states its findings without "
        "such thresholds. The correlation is pooled over every layer, head, query and key, as the authors' code "
        "pools its pairs (the paper's text on it was not consulted); the report also shows it within each head, "
        "where the verdict could differ. Punctuation here is any token made only of punctuation characters; the "
        "authors' code groups commas and full stops.",
        "The paper's word-frequency analysis and its word-alignment experiments need its data (corpus counts, a "
        "trained translation model, gold alignments): the reading report lists them as not reproduced at lab "
        "scale."])


def _layers_text(layers):
    """'layers 1, 2', 'layer 4' or 'no layer'.

    >>> _layers_text([1, 2]), _layers_text([4]), _layers_text([])
    ('layers 1, 2', 'layer 4', 'no layer')
    """
    if not layers:
        return "no layer"
    return ("layer " if len(layers) == 1 else "layers ") + ", ".join(map(str, layers))


def _sections(texts, rows, pooled):
    sentences = table(["sentence", "n", "tokens"], [[i + 1, len(ids), " ".join(f"`{t}`" for t in tokens)]
                                                    for i, (ids, tokens) in enumerate(texts)])
    per_class = table(["layer", "token", "weight / a word's", "‖f(x)‖ / a word's", "share of the weights",
                       "share of the contributions"],
                      [[r["layer"], NAMES[c], decimal(r[c]["alpha"] / r["word"]["alpha"], 2),
                        decimal(r[c]["norm"] / r["word"]["norm"], 2), decimal(r[c]["weight_share"], 3),
                        decimal(r[c]["norm_share"], 3)] for r in rows for c in CLASSES[:3]])
    per_layer = table(["layer", "heads with ρ(α, ‖f(x)‖) < 0", "median ρ over heads", "top token differs"],
                      [[r["layer"], f"{r['negative']} of {len(r['rhos'])}", f"{np.median(r['rhos']):+.3f}",
                        f"{100 * r['differ']:.1f}%"] for r in rows])
    return [
        "## The idea\n\n"
        "Writing a head's value vector through the output projection, the attention output for query i is\n"
        + display(r"y_i = \sum_h \sum_j \alpha^h_{ij} f^h(x_j) + b_O, \qquad "
                  r"f^h(x) = (x W_V^h + b_V^h) W_O^h")
        + "\nso a token's contribution is $\\alpha_{ij} f(x_j)$, of length $\\alpha_{ij} \\lVert f(x_j) \\rVert$. "
        "A large weight on a short vector can contribute less than a small weight on a long one: reading "
        "weights alone misses the second factor. The paper (§3) proposes to read $\\lVert \\alpha f(x) \\rVert$.\n",
        "## The sentences\n\n"
        "Token classes: [CLS]; [SEP]; punctuation (tokens made only of punctuation characters); words (all "
        "other tokens, word pieces included).\n\n" + sentences + "\n",
        "## Per layer and token class\n\n"
        "Over every head, query and sentence: the average weight a token of each class receives and the average "
        "length of its transformed vector, each divided by a word token's, and the class's share of all the "
        "weights and of all the contributions.\n\n" + per_class + "\n\n"
        "Within each head, the Spearman correlation of $\\alpha_{ij}$ with $\\lVert f(x_j) \\rVert$ over its (query, "
        "key) pairs, and the share of (head, query) rows whose most-weighted token is not the largest "
        "contributor:\n\n" + per_layer + "\n\n"
        + image("figures/classes.svg", "weights and norms per token class and layer",
                f"Figure 1. Per layer: (a) the average weight a token of each class receives, divided by a word's (the "
                f"dashed lines mark 1 and the claims' threshold {LARGE:g}); (b) the average length of its f(x), "
                "divided by a word's; (c) each class's share of all the weights α and (d) of all the contributions "
                "‖α f(x)‖. A class that falls from (c) to (d) takes more weight than it contributes.")
        + "\n\n" + _reading(rows, pooled) + "\n",
    ]


def _reading(rows, pooled):
    """What the numbers say, in words, computed from them."""
    lo_hi = lambda values, digits=2: (f"{decimal(min(values), digits)}" if len(values) == 1  # noqa: E731
                                      else f"{decimal(min(values), digits)} to {decimal(max(values), digits)}")
    parts = []
    for c in CLASSES[:3]:
        weights = [r[c]["alpha"] / r["word"]["alpha"] for r in rows]
        shares = [r[c]["weight_share"] for r in rows]
        contributions = [r[c]["norm_share"] for r in rows]
        parts.append(f"{NAMES[c]} receives {lo_hi(weights)} times a word's weight per token, and takes "
                     f"{lo_hi(shares)} of the weights against {lo_hi(contributions)} of the contributions")
    negative = ", ".join(str(r["negative"]) for r in rows)
    sign = "negative" if pooled < 0 else "not negative"
    strength = "weak" if abs(pooled) < 0.3 else "moderate" if abs(pooled) < 0.6 else "strong"
    return ("On this model, per layer: " + "; ".join(parts) + f". Pooled over every layer, head, query and key, "
            f"Spearman's ρ(α, ‖f(x)‖) = {pooled:+.3f}: {sign}, and {strength}; within heads it is negative in "
            f"{negative} of the {len(rows[0]['rhos'])} heads of the layers in turn.")


# Exercises: graded by pytest (python -m labs.exercises norm_analysis)

LAB = "norm_analysis"

EXERCISES = [
    Exercise(LAB, "contribution_length", "A token gets weight 0.6 and its transformed vector f(x) has length 0.5; "
             "another gets weight 0.1 with length 4. Give the lengths of the two contributions ||alpha f(x)||, as a "
             "list.", exact([sp.Rational(3, 10), sp.Rational(2, 5)], "the lengths"), "[0.3, 0.4]",
             wrong={"[0.6, 0.1]": "not right"},
             hint="multiply each weight by its length.", source="Kobayashi et al. (2020), §3"),
    Exercise(LAB, "larger_contribution", "Same two tokens: which contributes more to the output, 1 or 2?",
             exact(2, "the token"), "2", wrong={"1": "not right"},
             hint="compare 0.6 * 0.5 with 0.1 * 4.", source="Kobayashi et al. (2020), §3"),
]
