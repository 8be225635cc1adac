"""Lab ``masking``: many queries at once, and the masks that decide who may attend to whom (002 §6-7).

A = softmax(Q K^T / sqrt(d_k)) row by row and Z = A V, equal to the per-query sums. A
padding mask hides the keys past the valid length; a causal mask hides the future, so
the output at position t lies in the span of v_1..v_t. Forgetting the causal mask lets
the future leak into early positions. A query that may see no key at all has no
mixture: vecmix refuses it by name unless told what to output instead.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    attention,
    exact_attention,
    exact_equal,
    in_span,
    is_nonnegative,
    is_zero,
    one_fraction,
    to_numeric,
)

from ..claims import Claim
from ..config.inputs import read_labels, read_positive_int, read_vectors
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, decimal, display, image, matrix, table

TITLE = "Masking: many queries at once, padding and causal masks"
SOURCE = "002 §6"


@dataclass
class Config:
    """masking: token embeddings attending to each other under padding and causal masks."""

    name: str = "masking"
    tokens: List[str] = MISSING  # one label per position
    embeddings: List[List[Any]] = MISSING  # one vector per token: the queries, keys and values
    valid_length: Optional[int] = None  # tokens after this are padding; None: no padding


def run(params):
    """Attend with no mask, a padding mask and a causal mask, and check what each lets through.

    >>> r = run({"tokens": ["a", "b", "<pad>"], "embeddings": [[1, 0], [0, 1], [0, 0]], "valid_length": 2})
    >>> r.reproduced
    True
    """
    X = read_vectors(params["embeddings"], "lab.embeddings")  # (n, d): queries = keys = values = X
    n, d = X.shape
    tokens = read_labels(params["tokens"], "lab.tokens", n)
    L = n if params.get("valid_length") is None else read_positive_int(params["valid_length"], "lab.valid_length")
    if L > n:
        raise VecmixError(f"lab.valid_length = {L} is longer than the {n} tokens")
    pad = np.arange(n) < L  # (n,): key j is a real token
    causal = np.tri(n, dtype=bool)  # (n, n): key j visible to query t iff j <= t
    masks = {"no mask": np.ones((n, n), dtype=bool), "padding": np.broadcast_to(pad, (n, n)),
             "causal + padding": causal & pad}  # each (n, n), True = may attend
    exact = {name: exact_attention(X, X, X, mask=mask) for name, mask in masks.items()}  # name -> (Z, A)
    X_num = to_numeric(X)  # (n, d)
    numeric = {name: attention(X_num, X_num, X_num, mask=mask, weights=True) for name, mask in masks.items()}

    # One query at a time, the page's formula: z_t = sum_i alpha_ti v_i.
    Z_full, A_full = exact["no mask"]
    loop = sp.Matrix.vstack(*(exact_attention(X.row(t), X, X)[0] for t in range(n)))  # n x (1, d) -> (n, d)
    Z_c, A_c = exact["causal + padding"]
    Z_p, A_p = exact["padding"]
    err = max(float(np.max(np.abs(numeric[k][0] - to_numeric(exact[k][0])))) for k in masks)

    # The leak: change a future value and watch the first output.
    last = L - 1
    V_changed = X.copy()
    V_changed[last, :] = X.row(last) + sp.ones(1, d)  # v_L + (1, ..., 1), keys unchanged
    z1_causal = exact_attention(X.row(0), X, V_changed, mask=masks["causal + padding"][0])[0]  # (1, d)
    z1_leaky = exact_attention(X.row(0), X, V_changed, mask=masks["padding"][0])[0]  # (1, d)
    future = [one_fraction(sp.Add(*A_p.row(t)[t + 1:])) for t in range(L)]  # weight on keys after t

    # Padded queries that may see nothing: the policy for a fully masked row.
    query_pad = np.outer(pad, pad)  # (n, n): pad queries see no key
    try:
        attention(X_num, X_num, X_num, mask=query_pad)
        refusal = "no error"
    except VecmixError as exc:
        refusal = str(exc)
    Z_zeros = attention(X_num, X_num, X_num, mask=query_pad, fully_masked="zeros")  # (n, d)

    rows_sum = all(exact_equal(one_fraction(sp.Add(*A.row(t))), 1) for Z, A in exact.values() for t in range(n))
    pad_zero = all(A_p[t, j] == 0 and numeric["padding"][1][t, j] == 0.0 for t in range(n) for j in range(L, n))
    causal_zero = all(A_c[t, j] == 0 and numeric["causal + padding"][1][t, j] == 0.0
                      for t in range(n) for j in range(n) if j > t or j >= L)
    spans = all(in_span(X[: min(t, last) + 1, :], Z_c.row(t).T) for t in range(n))
    leaks = all(is_nonnegative(f) and not is_zero(f) for f in future[:-1]) and not exact_equal(z1_leaky, Z_p.row(0))
    claims = [
        Claim("matrix-form-equals-sums", "Z = A V computed for all queries at once equals each query's own weighted "
              "sum", SOURCE, "Z = loop over t of sum_i alpha_ti v_i", "equal (exact)" if exact_equal(Z_full, loop)
              else "different", exact_equal(Z_full, loop), True),
        Claim("rows-sum-to-one", "every row of A sums to exactly 1 under each mask", SOURCE, "1 for every row",
              "1 for every row" if rows_sum else "a row differs", rows_sum, True),
        Claim("padding-exact-zero", f"padded keys (positions {L + 1}..{n}) get exactly zero weight, exact and numeric",
              "002 §6", "0 (not a small number)", "0 and 0.0" if pad_zero else "nonzero", pad_zero, True),
        Claim("causal-exact-zero", "with the causal mask no query puts any weight on a later key", "002 §7",
              "A_tj = 0 for j > t", "0 and 0.0 above the diagonal" if causal_zero else "nonzero", causal_zero, True),
        Claim("causal-span", "with the causal mask the output at position t lies in the span of v_1..v_t",
              "002 §7", "z_t in span(v_1..v_t) for every t", "in the span for every t (exact)" if spans else
              "a z_t leaves it", spans, True),
        Claim("future-leaks-without-causal", "without the causal mask, early positions weigh future tokens, and "
              f"changing v_{L} moves z_1", "002 §7", "future weight > 0; z_1 moves",
              f"future weight of position 1 = {decimal(float(to_numeric(future[0])))}; z_1 moves by "
              f"{decimal(float(to_numeric((z1_leaky - Z_p.row(0)).norm())))}", leaks, True),
        Claim("causal-blocks-the-leak", f"with the causal mask, changing v_{L} leaves z_1 exactly unchanged",
              "002 §7", "z_1 unchanged", "unchanged (exact)" if exact_equal(z1_causal, Z_c.row(0)) else "moved",
              exact_equal(z1_causal, Z_c.row(0)), True),
        Claim("fully-masked-row", "a query that may see no key has no mixture: refused by name unless a policy is "
              "asked for", "002 §6", "an error naming the rows", refusal,
              refusal.startswith(f"query row {L}") and bool((Z_zeros[L:] == 0).all()), True),
        Claim("numeric-agrees", "numpy agrees with the exact outputs under every mask to 1e-12", SOURCE,
              "max difference <= 1e-12", f"{err:.1e}", err <= 1e-12, False),
    ]
    panels = [(name, numeric[name][1], tokens, tokens) for name in masks]
    figures = {
        "weights.svg": fig.heatmaps(panels),
        "leak.svg": fig.grouped_bars(tokens[:L], [
            ("causal mask forgotten", [float(to_numeric(f)) for f in future]),
            ("causal mask", [float(np.sum(numeric["causal + padding"][1][t, t + 1:])) for t in range(L)])],
            "weight on later tokens", "what each position takes from the future"),
    }
    values = [Value("embeddings", X_num, X), Value("valid_length", L)]
    for name in masks:
        key = name.replace(" + ", "_").replace(" ", "_")
        values += [Value(f"weights_{key}", numeric[name][1], exact[name][1]),
                   Value(f"outputs_{key}", numeric[name][0], exact[name][0])]
    values += [Value("future_weight", [float(to_numeric(f)) for f in future], future),
               Value("fully_masked_error", refusal)]
    sections = _sections(tokens, X, L, A_full, future, refusal, numeric, n)
    intro = (f"*Reproduces* the matrix form and the masking remark of {cite('002', 6)}, and the failure mode "
             f"\"ignoring masking\" of {cite('002', 7)}.")
    return LabResult("masking", TITLE, intro, sections, claims, values, figures, [
        "The source describes masking in words; the tokens, embeddings and valid length are the lab's choice. "
        "Queries, keys and values are the embeddings themselves (no learned projections: see the `multihead` lab)."])


def _sections(tokens, X, L, A_full, future, refusal, numeric, n):
    A_num = numeric["no mask"][1]
    return [
        "## The idea\n\n"
        "For many queries at once, attention is written in matrix form: $QK^\\top$ holds every query-key score, "
        "softmax turns each row into weights, and multiplying by $V$ forms one weighted mixture per row.\n"
        + display(r"A = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right), \qquad Z = AV")
        + "\nA mask decides which positions may receive weight: padding positions carry no token, and in a "
        "decoder the future is not visible yet. Here the queries, keys and values are the token embeddings:\n"
        + display(f"X = {matrix(X)}")
        + f"\nwith tokens {', '.join(f'`{t}`' for t in tokens)} and {L} real tokens before the padding.\n",
        "## Many queries at once\n\n"
        "Without a mask, every row of $A$ is a distribution over all keys:\n\n"
        + table(["query"] + [f"`{t}`" for t in tokens],
                [[f"`{tokens[t]}`"] + [decimal(a) for a in A_num[t]] for t in range(n)])
        + "\n\nComputing $Z = AV$ at once gives exactly the same rows as the page's formula applied one query at a "
        "time (checked exactly, expression by expression).\n\n"
        + image("figures/weights.svg", "attention weights under three masks",
                "Figure 1. Attention weights with no mask, with a padding mask, and with causal + padding masks; "
                "blank cells are exactly zero.") + "\n",
        "## Padding and causal masks\n\n"
        "A masked key gets exactly zero weight: softmax runs over the visible keys only, so no sentinel like "
        "$-10^9$ is needed and no small leftover weight remains. With the causal mask, the output at position $t$ "
        "is a mixture of $v_1, \\dots, v_t$ only, so it lies in their span (checked exactly for every $t$).\n",
        "## What leaks when the causal mask is forgotten\n\n"
        + table(["position", "weight on later tokens (no causal mask)", "with the causal mask"],
                [[f"`{tokens[t]}`", decimal(float(to_numeric(future[t]))),
                  decimal(float(np.sum(numeric['causal + padding'][1][t, t + 1:])))] for t in range(L)])
        + f"\n\nWithout the causal mask the first position already mixes in every later token: change $v_{{{L}}}$ "
        "and $z_1$ moves. With the mask, $z_1$ does not change at all.\n\n"
        + image("figures/leak.svg", "weight taken from the future",
                "Figure 2. How much weight each position takes from later tokens, with and without the causal mask.")
        + "\n",
        "## A query that may see nothing\n\n"
        "If the padded positions are masked as queries too, their rows have no visible key and softmax has "
        "nothing to normalise: there is no mixture. vecmix's policy is to refuse such a row by name,\n\n"
        f"> `{refusal}`\n\n"
        "and to produce a row only when asked: `fully_masked=\"zeros\"` gives zero weights and a zero output "
        "(PyTorch SDPA's choice; note that a zero output is not a mixture of the values), `\"nan\"` marks the row "
        "as undefined.\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises masking)

LAB = "masking"
E = sp.E

EXERCISES = [
    Exercise(LAB, "causal_mask", "Give the causal mask for 4 positions as a 4 x 4 matrix: 1 where query i may "
             "attend to key j, else 0.", exact(sp.Matrix(4, 4, lambda i, j: 1 if j <= i else 0), "the mask"),
             "[[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]",
             wrong={"[[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]]": "not right"},
             hint="a query may look at itself and the past, not the future.", source="002 §7"),
    Exercise(LAB, "padding_visible_keys", "Five positions, the last two are padding (valid length 3), no causal "
             "mask. Which key positions (1 to 5) may query 4 attend to? Give a set.",
             exact({1, 2, 3}, "the set of positions"), "{1, 2, 3}", also=("{3, 2, 1}",),
             wrong={"{1, 2, 3, 4}": "not the right set", "[1, 2, 3]": "must be a set"}, source="002 §6"),
    Exercise(LAB, "first_output", "With the causal mask, the first position sees only itself. If v1 = (2, -1), what "
             "is the output z1?", exact([2, -1], "z1"), "[2, -1]", wrong={"[0, 0]": "not right"},
             hint="a mixture of one vector.", source="002 §7"),
    Exercise(LAB, "future_weight", "With the causal mask, how much weight does query 2 put on key 3?", exact(0),
             "0", wrong={"0.001": "not exact", "1/3": "not right"}, hint="masked means exactly zero weight.",
             source="002 §7"),
    Exercise(LAB, "masked_softmax", "One query has scores s = (1, 0, 2), and key 3 is masked. Give the exact weights.",
             exact(sp.Matrix([E, 1, 0]) / (1 + E), "alpha"), "[E, 1, 0]/(1 + E)",
             wrong={"[E, 1, exp(2)]/(1 + E + exp(2))": "not right", "[0.731, 0.269, 0]": "not exact"},
             hint="softmax over the visible keys only.", points=2, source="002 §6"),
]
