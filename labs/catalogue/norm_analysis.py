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
CLASSES = ("special", "punctuation", "word")
NAMES = {"special": "[CLS], [SEP]", "punctuation": "punctuation", "word": "words"}
EMPIRICAL = True  # the paper's findings on another model: a default verdict may be "not reproduced"


@dataclass
class Config:
    """norm_analysis: sentences through all-MiniLM-L6-v2; the layers to analyse."""

    name: str = "norm_analysis"
    sentences: List[str] = MISSING
    layers: Optional[List[int]] = None  # 1..6; None: every layer


COUNTER_CASES = {
    "decomposition": fault("online-unnormalised"),
    "special-large-weights": fault("softmax-wrong-axis"),
    "special-short-vectors": fault("contributions-are-weights"),
    "special-contribute-little": fault("contributions-are-weights"),
    "punctuation-large-weights": fault("brackets-are-punctuation", "lab.layers=[2,3,4,5,6]"),
    "weights-norms-negative": inputs("layers 4 and 5 only, where the correlation is negative",
                                     "lab.layers=[4,5]"),
    "norms-disagree": fault("contributions-are-weights"),
}


def token_class(token):
    """'special' for [CLS] and [SEP], 'punctuation' for a token made of punctuation only, else 'word'.

    >>> [token_class(t) for t in ("[CLS]", ",", "...", "dog", "##s", "[SEP]")]
    ['special', 'punctuation', 'punctuation', 'word', 'word', 'special']
    """
    if token in ("[CLS]", "[SEP]"):
        return "special"
    if all(unicodedata.category(c).startswith("P") for c in token):
        return "punctuation"
    return "word"


def run(params):
    """Weights and norms per token class and layer, over the sentences.

    >>> r = run({"sentences": ["The cat sat on the mat, then slept."], "layers": [5]})
    >>> {c.id: c.holds for c in r.claims}["special-contribute-little"]
    True
    """
    encoder, tokenizer = _minilm.load()
    L = len(encoder.layers)
    if not params["sentences"]:
        raise VecmixError("lab.sentences is empty: give at least one sentence")
    texts = [_minilm.tokenize(tokenizer, s, f"lab.sentences[{i}]") for i, s in enumerate(params["sentences"])]
    chosen = params.get("layers")
    if chosen is not None and not chosen:
        raise VecmixError("lab.layers is empty: give layer numbers (1..6), or null for all")
    layers = list(range(L)) if chosen is None else sorted({
        read_positive_int(x, f"lab.layers[{k}]", maximum=L, reason=f"the model has {L} layers") - 1
        for k, x in enumerate(chosen)})
    W_O = [np.float64(layer.W_O) for layer in encoder.layers]
    b_O = [np.float64(layer.b_O) for layer in encoder.layers]
    per = {l: {"alpha": [], "norm": [], "kind": [], "gap": 0.0, "rows": 0, "differ": 0} for l in layers}
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
    """Spearman's rank correlation of two samples (ranks by sorting; ties are rare among floats).

    >>> round(spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 2.0])), 3)
    -0.5
    """
    rank = lambda x: np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float)  # noqa: E731
    return float(np.corrcoef(rank(a), rank(b))[0, 1])


def _layer_stats(l, rec):
    """One layer's averages per class, shares, correlation and disagreement."""
    alpha, norm, kind = (np.concatenate(rec[k]) for k in ("alpha", "norm", "kind"))
    contribution = alpha * norm
    out = {"layer": l + 1, "gap": rec["gap"], "rho": spearman(alpha, norm), "differ": rec["differ"] / rec["rows"]}
    for c in CLASSES:
        m = kind == c
        out[c] = {"alpha": float(alpha[m].mean()) if m.any() else float("nan"),
                  "norm": float(norm[m].mean()) if m.any() else float("nan"),
                  "weight_share": float(alpha[m].sum() / alpha.sum()),
                  "norm_share": float(contribution[m].sum() / contribution.sum())}
    return out


def _result(texts, layers, rows):
    every = lambda test: all(test(r) for r in rows)  # noqa: E731  (nan compares false: an empty class fails)
    where = lambda test: ", ".join(str(r["layer"]) for r in rows if test(r)) or "none"  # noqa: E731
    gap = max(r["gap"] for r in rows)
    identity = exact_decomposition()
    big = lambda c: lambda r: r[c]["alpha"] >= LARGE * r["word"]["alpha"]  # noqa: E731
    short = lambda r: r["special"]["norm"] < r["word"]["norm"]  # noqa: E731
    little = lambda r: r["special"]["norm_share"] < r["special"]["weight_share"]  # noqa: E731
    negative = lambda r: r["rho"] < 0  # noqa: E731
    differ = lambda r: r["differ"] > 0  # noqa: E731
    ratios = lambda c, key: ", ".join(decimal(r[c][key] / r["word"][key], 2) for r in rows)  # noqa: E731
    n_layers = f"{len(rows)} layer{'s' if len(rows) > 1 else ''}"
    claims = [
        Claim("decomposition", "the attention output is the sum over heads and tokens of alpha_ij f(x_j), "
              "f(x) = (x W_V^h + b_V^h) W_O^h, plus b_O once", f"{SOURCE}, §2.2 and §3",
              "an exact identity; on the model |[Z_1 ... Z_H] W_O + b_O - (sum_h A_h F_h + b_O)| <= 1e-12",
              f"identity {'proved' if identity else 'fails'} (exact); largest gap on the model {error_text(gap)}",
              identity and gap <= TOLERANCE, True),
        Claim("special-large-weights", f"[CLS] and [SEP] receive large weights: at least {LARGE:g} times a word's "
              "average, in every layer", f"{SOURCE}, §4 (after Clark et al., 2019)",
              f"ratio >= {LARGE:g} in each of the {n_layers}", f"ratios {ratios('special', 'alpha')} (layers "
              f"{where(lambda r: True)}); at least {LARGE:g} in layers {where(big('special'))}",
              every(big("special")), False),
        Claim("special-short-vectors", "... but their transformed vectors f(x) are shorter than the words' "
              "(average ||f(x)||), in every layer", f"{SOURCE}, §4", f"ratio < 1 in each of the {n_layers}",
              f"ratios {ratios('special', 'norm')}", every(short), False),
        Claim("special-contribute-little", "so [CLS] and [SEP] take a smaller share of the contributions "
              "||alpha f(x)|| than of the weights alpha: BERT pays poor attention to special tokens",
              f"{SOURCE}, abstract and §4", f"norm share < weight share in each of the {n_layers}",
              "shares (weight -> norm) " + ", ".join(f"{decimal(r['special']['weight_share'], 2)} -> "
                                                     f"{decimal(r['special']['norm_share'], 2)}" for r in rows),
              every(little), False),
        Claim("punctuation-large-weights", f"punctuation receives large weights too: at least {LARGE:g} times a "
              "word's average, in every layer", f"{SOURCE}, §4 (after Clark et al., 2019)",
              f"ratio >= {LARGE:g} in each of the {n_layers}", f"ratios {ratios('punctuation', 'alpha')}; at least "
              f"{LARGE:g} in layers {where(big('punctuation'))}", every(big("punctuation")), False),
        Claim("weights-norms-negative", "alpha and ||f(x)|| are negatively correlated (Spearman), in every layer: "
              "the model offsets large weights with short vectors", f"{SOURCE}, §4",
              f"rho < 0 in each of the {n_layers}",
              "rho " + ", ".join(f"{r['rho']:+.3f}" for r in rows) + f"; negative in layers {where(negative)}",
              every(negative), False),
        Claim("norms-disagree", "weight-based and norm-based analyses disagree: in every layer some query's "
              "most-weighted token is not its largest contributor", f"{SOURCE}, abstract and §4",
              f"a share above 0 in each of the {n_layers}",
              "shares " + ", ".join(f"{100 * r['differ']:.1f}%" for r in rows), every(differ), False),
    ]
    x = [r["layer"] for r in rows]
    panels = [("average weight α received", {NAMES[c]: [r[c]["alpha"] for r in rows] for c in CLASSES}),
              ("average ‖f(x)‖", {NAMES[c]: [r[c]["norm"] for r in rows] for c in CLASSES}),
              ("share of the weights α", {NAMES[c]: [r[c]["weight_share"] for r in rows] for c in CLASSES}),
              ("share of the contributions ‖α f(x)‖", {NAMES[c]: [r[c]["norm_share"] for r in rows] for c in CLASSES})]
    figures = {"classes.svg": fig.line_panels(x, panels, "layer", xticks=[str(v) for v in x])}
    values = [Value("layers", x), Value("tokens", [t for _, t in texts]),
              Value("spearman_alpha_norm", [r["rho"] for r in rows]),
              Value("top_token_disagreement", [r["differ"] for r in rows]),
              *(Value(f"{c}_{key}", [r[c][key] for r in rows])
                for c in CLASSES for key in ("alpha", "norm", "weight_share", "norm_share"))]
    intro = (f"*Checks* the central claims of Kobayashi, Kuribayashi, Yokoi and Inui, \"Attention is Not Only a "
             f"Weight: Analyzing Transformers with Vector Norms\" (EMNLP 2020) on all-MiniLM-L6-v2, over "
             f"{len(texts)} sentences.")
    return LabResult("norm_analysis", TITLE, intro, _sections(texts, rows), claims, values, figures, [
        "The paper analyses BERT-base (12 layers of 12 heads) on Wikipedia text; this lab analyses MiniLM-L6 "
        "(6 layers of 12 heads, distilled, then trained for sentence embeddings) on the sentences of its config. "
        "Each verdict holds for this model and these sentences only.",
        f"\"Large weights\" is read as at least {LARGE:g} times a word token's average weight; the paper shows the "
        "weights in figures without a threshold.",
        "The paper's word-frequency analysis and its word-alignment experiments need its data (corpus counts, a "
        "trained translation model, gold alignments): the reading report lists them as not reproduced at lab "
        "scale."])


def _sections(texts, rows):
    sentences = table(["sentence", "n", "tokens"], [[i + 1, len(ids), " ".join(f"`{t}`" for t in tokens)]
                                                    for i, (ids, tokens) in enumerate(texts)])
    per_layer = table(["layer", "α: [CLS]/[SEP]", "α: punct.", "α: words", "‖f(x)‖: [CLS]/[SEP]", "‖f(x)‖: punct.",
                       "‖f(x)‖: words", "ρ(α, ‖f(x)‖)", "top token differs"],
                      [[r["layer"], *(decimal(r[c]["alpha"]) for c in CLASSES),
                        *(decimal(r[c]["norm"], 2) for c in CLASSES), f"{r['rho']:+.3f}",
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
        "Token classes: [CLS] and [SEP]; punctuation (tokens made only of punctuation characters); words (all "
        "other tokens, word pieces included).\n\n" + sentences + "\n",
        "## Per layer\n\n"
        "Averages over every head, query and sentence of the weight a token of each class receives and the length "
        "of its transformed vector; the Spearman correlation of the weights with the lengths over every "
        "(head, query, key); and the share of (head, query) rows whose most-weighted token is not the largest "
        "contributor.\n\n" + per_layer + "\n\n"
        + image("figures/classes.svg", "weights and norms per token class and layer",
                "Figure 1. Per layer and token class: the average weight received, the average length of f(x), "
                "and each class's share of the weights and of the contributions ‖α f(x)‖.")
        + "\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises norm_analysis)

LAB = "norm_analysis"

EXERCISES = [
    Exercise(LAB, "contribution_length", "A token gets weight 0.6 and its transformed vector f(x) has length 0.5; "
             "another gets weight 0.1 with length 4. Give the lengths of the two contributions ||alpha f(x)||, as a "
             "list.", exact([sp.Rational(3, 10), sp.Rational(2, 5)], "the lengths"), "[0.3, 0.4]", wrong={"[0.6, 0.1]": "not right"},
             hint="multiply each weight by its length.", source="Kobayashi et al. (2020), §3"),
    Exercise(LAB, "larger_contribution", "Same two tokens: which contributes more to the output, 1 or 2?",
             exact(2, "the token"), "2", wrong={"1": "not right"},
             hint="compare 0.6 * 0.5 with 0.1 * 4.", source="Kobayashi et al. (2020), §3"),
]
