"""Lab ``masking``: many queries at once, and the masks that decide who may attend to whom (002 §6-7).

A = softmax(Q K^T / sqrt(d_k)) row by row and Z = A V, equal to the page's formula applied
one query at a time. Queries, keys and values are the token embeddings themselves, so
d_k is their dimension. A padding mask hides the keys past the valid length; vecmix's
``causal=True`` hides the future, so the output at position t lies in the span of
v_1..v_t. Forgetting the causal mask lets the future leak into early positions. A query
that may see no key at all has no mixture: vecmix refuses it by name unless told what to
output instead. Positions are numbered from 1.
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import VecmixError, attention, exact_attention, exact_equal, in_span, is_zero, one_fraction, to_numeric

from ..claims import Claim, fault
from ..config.inputs import read_labels, read_positive_int, read_vectors
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, decimal, display, error_text, image, matrix, table, tex, tuple_tex

TITLE = "Masking: many queries at once, padding and causal masks"
SOURCE = "002 §6"
TOLERANCE = 1e-12
BLOCK = 2  # keys per block in the second blocked run: several blocks, so the online rescaling is exercised


@dataclass
class Config:
    """masking: token embeddings attending to each other under padding and causal masks."""

    name: str = "masking"
    tokens: List[str] = MISSING  # one label per position
    embeddings: List[List[Any]] = MISSING  # one vector per token: the queries, keys and values
    valid_length: int = MISSING  # the real tokens; those after are padding (at least one)


COUNTER_CASES = {
    "matrix-form-equals-sums": fault("exact-scale-missing"),
    "rows-sum-to-one": fault("mask-after-softmax"),
    "padding-zero-real-positive": fault("mask-ignored"),
    "causal-triangle": fault("causal-shifted"),
    "causal-span": fault("exact-causal-shifted"),
    "causal-blocks-the-leak": fault("exact-causal-shifted"),
    "fully-masked-row": fault("mask-inverted"),
    "numeric-agrees": fault("scale-missing"),
}

MAX_TOKENS = 24  # the exact path's limit; see read_inputs


def run(params):
    """Attend with no mask, a padding mask and the causal mask, and check what each lets through.

    >>> r = run({"tokens": ["a", "b", "<pad>"], "embeddings": [[1, 0], [0, 1], [0, 0]], "valid_length": 2})
    >>> r.reproduced
    True
    """
    X = read_vectors(params["embeddings"], "lab.embeddings")  # (n, d): queries = keys = values = X
    n, d_k = X.shape
    if n > MAX_TOKENS:
        raise VecmixError(f"lab.embeddings has {n} tokens, more than this lab takes: at most {MAX_TOKENS} (every "
                          "weight of every mask is computed exactly; 24 tokens take about 20 seconds)")
    tokens = read_labels(params["tokens"], "lab.tokens", n)
    if params.get("valid_length") is None:
        raise VecmixError(f"lab.valid_length is not set: give the number of real tokens, at most {n - 1}, so that the "
                          "padding claims have a padded token to check")
    L = read_positive_int(params["valid_length"], "lab.valid_length")
    if L >= n:
        raise VecmixError(f"lab.valid_length = {L} leaves no padding among the {n} tokens: the padding claims need "
                          f"at least one padded token (at most {n - 1})")
    pad = np.broadcast_to(np.arange(n) < L, (n, n))  # (n, n): key j is a real token, for every query
    # name -> (mask, causal, the keys query t may see, written out by the lab: j <= t is the causal triangle)
    setups = {"no mask": (None, False, lambda t, j: True),
              "padding": (pad, False, lambda t, j: j < L),
              "causal + padding": (pad, True, lambda t, j: j < L and j <= t)}
    # A row with no visible key (none here) would come back as zeros and fail the checks below, not stop the lab.
    exact = {name: exact_attention(X, X, X, mask=mask, causal=causal, fully_masked="zeros")  # (Z, A), default scale
             for name, (mask, causal, _) in setups.items()}
    by_hand = {name: _by_hand(X, visible) for name, (_, _, visible) in setups.items()}
    X_num = to_numeric(X)  # (n, d_k)
    numeric = {name: attention(X_num, X_num, X_num, mask=mask, causal=causal, weights=True, fully_masked="zeros")
               for name, (mask, causal, _) in setups.items()}
    blocked = {name: [attention(X_num, X_num, X_num, mask=mask, causal=causal, fully_masked="zeros"),  # default path
                      attention(X_num, X_num, X_num, mask=mask, causal=causal, block_size=BLOCK, fully_masked="zeros")]
               for name, (mask, causal, _) in setups.items()}

    sums_exact = all(exact_equal(one_fraction(sp.Add(*A.row(t))), 1) for _, A in exact.values() for t in range(n))
    sums_num = max(float(np.max(np.abs(A.sum(axis=1) - 1))) for _, A in numeric.values())
    form_ok = all(exact_equal(a, b) for a, b in zip(exact["no mask"], by_hand["no mask"]))
    padding = _zero_and_positive(exact["padding"][1], numeric["padding"][1], setups["padding"][2], n)
    causal = _zero_and_positive(exact["causal + padding"][1], numeric["causal + padding"][1],
                                setups["causal + padding"][2], n)
    causal_same = all(exact_equal(a, b) for a, b in zip(exact["causal + padding"], by_hand["causal + padding"]))
    Z_c, Z_p = exact["causal + padding"][0], exact["padding"][0]
    spans = [in_span(X[: min(t, L - 1) + 1, :], Z_c.row(t).T) for t in range(n)]  # z_t in span(v_1..v_t)
    first_leaves = L >= 2 and not in_span(X[:1, :], Z_p.row(0).T)  # without the causal mask, z_1 leaves span(v_1)
    leak = [_leak(X, j, pad, (Z_p, Z_c)) for j in range(1, L)]  # change each later real token's value in turn
    leak_ok = L >= 2 and all(moved and kept for moved, kept, _ in leak)
    refusal, refusal_exact, Z_zeros, Z_nan = _fully_masked(X, X_num, pad)
    listed = ", ".join(str(r) for r in range(L, min(n, L + 5)))  # vecmix names up to 5 rows, from 0
    named = refusal.startswith(f"query row {listed} {'has' if n - L <= 5 else 'and'}")
    named_exact = refusal_exact.startswith(f"query row {L} has")  # the exact path stops at the first such row
    policy_ok = (named and named_exact
                 and bool((Z_zeros[L:] == 0).all()) and bool(np.isnan(Z_nan[L:]).all())
                 and float(np.max(np.abs(Z_zeros[:L] - numeric["padding"][0][:L]))) <= TOLERANCE)
    err = max(float(np.max(np.abs(Z - to_numeric(exact[name][0])))) for name in setups
              for Z in (numeric[name][0], *blocked[name]))
    err = max(err, *(float(np.max(np.abs(numeric[name][1] - to_numeric(exact[name][1])))) for name in setups))

    claims = [
        Claim("matrix-form-equals-sums", "Z = softmax(QK^T/sqrt(d_k)) V for all queries at once (vecmix, its "
              f"default scale 1/sqrt({d_k})) equals the page's formula applied one query at a time", SOURCE,
              "A and Z equal the lab's own exp(s_i)/sum_j exp(s_j) and sum_i alpha_i v_i, term by term",
              "equal (exact)" if form_ok else "different", form_ok, True),
        Claim("rows-sum-to-one", "every row of A sums to 1 under each mask", SOURCE,
              "exactly 1 (exact); within 1e-12 (numeric)",
              f"exact: {'1 for every row' if sums_exact else 'a row differs from 1'}; numeric: largest |sum - 1| "
              f"{error_text(sums_num)}", sums_exact and sums_num <= TOLERANCE, True),
        Claim("padding-zero-real-positive", f"under the padding mask the padded keys ({_positions(L + 1, n)}) get "
              f"exactly zero weight and the real keys ({_positions(1, L)}) positive weight", SOURCE,
              "0 and 0.0 on padded keys; > 0 on real keys", padding[1], padding[0], True),
        Claim("causal-triangle", "with causal=True, query t puts exactly zero weight on every later key and positive "
              "weight on every real key j <= t", "002 §6", "A_tj = 0 for j > t, A_tj > 0 for j <= t (exact and "
              "numeric); the weights equal the lab's softmax over keys 1..t",
              causal[1] + ("" if causal_same else "; differs from the lab's softmax over keys 1..t"),
              causal[0] and causal_same, True),
        Claim("causal-span", "with the causal mask z_t lies in the span of v_1..v_t for every t; without it z_1 "
              "leaves the span of v_1", "002 §6", "z_t in span(v_1..v_t); z_1 (padding mask only) not in span(v_1)",
              _span_text(spans, first_leaves, L), all(spans) and first_leaves, True),
        Claim("causal-blocks-the-leak", "changing a later token's value v_j moves every earlier output z_t (t < j) "
              "when the causal mask is forgotten, and leaves them exactly unchanged with it", "002 §7",
              f"for j = 2..{L}: z_1..z_(j-1) move without the mask, not with it", _leak_text(leak), leak_ok, True),
        Claim("fully-masked-row", "a query that may see no key has no mixture: numeric and exact attention refuse "
              "it by name; asked for, 'zeros' gives a zero row and 'nan' a NaN row, the other rows unchanged",
              "vecmix (policy)", f"an error naming position(s) {', '.join(str(r + 1) for r in range(L, n))} (vecmix's "
              f"row(s) {', '.join(str(r) for r in range(L, n))}, counted from 0); zeros / NaN only in those rows",
              refusal, policy_ok, True),
        Claim("numeric-agrees", "numpy agrees with the exact weights and outputs under every mask, on the full "
              f"weights path, the default blocked path and blocks of {BLOCK} keys", "vecmix (numeric = exact)",
              "max difference <= 1e-12", error_text(err), err <= TOLERANCE, False),
    ]
    labels = [f"{t + 1} {tok}" for t, tok in enumerate(tokens)]
    future = [float(np.sum(numeric["padding"][1][t, t + 1:])) for t in range(L)]
    figures = {
        "weights.svg": fig.heatmaps([(name, numeric[name][1], labels, labels) for name in setups]),
        "leak.svg": fig.line_panels(list(range(1, L + 1)), [("weight on later tokens", {
            "causal mask forgotten": future,
            "causal mask": [float(np.sum(numeric["causal + padding"][1][t, t + 1:])) for t in range(L)]})],
            "query token", xticks=labels[:L]),
    }
    values = [Value("embeddings", X_num, X), Value("d_k", d_k), Value("scale", 1 / np.sqrt(d_k), 1 / sp.sqrt(d_k)),
              Value("valid_length", L)]
    for name in setups:
        key = name.replace(" + ", "_").replace(" ", "_")
        values += [Value(f"weights_{key}", numeric[name][1], exact[name][1]),
                   Value(f"outputs_{key}", numeric[name][0], exact[name][0])]
    values += [Value("future_weight", future), Value("fully_masked_error", refusal)]
    sections = _sections(tokens, X, L, numeric, future, refusal, setups)
    intro = (f"*Reproduces* the matrix form and the masking remark of {cite('002', 6)}, and the failure mode "
             f"\"ignoring masking\" of {cite('002', 7)}.")
    return LabResult("masking", TITLE, intro, sections, claims, values, figures, [
        "The source describes masking in words; the tokens, embeddings and valid length are the lab's choice. "
        "Queries, keys and values are the embeddings themselves (no learned projections: see the `multihead` lab), "
        "so d_k is the embedding dimension.",
        "Positions are numbered from 1 in this report; vecmix's error messages number query rows from 0, as numpy "
        "indexes them."])


def _positions(first, last):
    """'position 5', 'positions 1 to 4' or 'no position', for prose."""
    if first > last:
        return "no position"
    return f"position {first}" if first == last else f"positions {first} to {last}"


def _by_hand(X, visible):
    """(Z, A) by the page's formula, one query at a time: alpha_ti = exp(s_ti) / sum_j exp(s_tj) over the visible j."""
    n, d_k = X.shape
    if n > MAX_TOKENS:
        raise VecmixError(f"lab.embeddings has {n} tokens, more than this lab takes: at most {MAX_TOKENS} (every "
                          "weight of every mask is computed exactly; 24 tokens take about 20 seconds)")
    A, Z = sp.zeros(n, n), sp.zeros(n, d_k)
    for t in range(n):
        e = [sp.exp((X.row(t) * X.row(j).T)[0] / sp.sqrt(d_k)) if visible(t, j) else sp.Integer(0)
             for j in range(n)]  # (1, d_k) (d_k, 1): s_tj = x_t . x_j / sqrt(d_k)
        total = sp.Add(*e)
        A[t, :] = sp.Matrix([[x / total for x in e]])
        Z[t, :] = sum((A[t, j] * X.row(j) for j in range(n)), sp.zeros(1, d_k))  # sum_j alpha_tj v_j
    return Z, A


def _zero_and_positive(A_exact, A_num, visible, n):
    """(holds, observed): hidden keys get exactly 0 (exact and numeric), visible keys > 0 (exact and numeric)."""
    hidden = [(t, j) for t in range(n) for j in range(n) if not visible(t, j)]
    shown = [(t, j) for t in range(n) for j in range(n) if visible(t, j)]
    leaked = [(t, j) for t, j in hidden if A_exact[t, j] != 0 or A_num[t, j] != 0.0]
    starved = [(t, j) for t, j in shown if A_num[t, j] <= 0.0 or is_zero(A_exact[t, j])]
    pairs = lambda ps: ", ".join(f"(query {t + 1}, key {j + 1})" for t, j in ps[:3])  # noqa: E731
    observed = (f"{len(hidden)} hidden entries exactly 0 and {len(shown)} visible entries > 0" if not leaked + starved
                else "; ".join(part for part in (leaked and f"weight on hidden {pairs(leaked)}",
                                                 starved and f"no weight on visible {pairs(starved)}") if part))
    return not leaked and not starved, observed


def _leak(X, j, pad, before):
    """Whether changing the value v_j (keys unchanged) moves the earlier outputs z_t, t < j: (moved, kept, size).

    ``moved``: every earlier z_t moves without the causal mask; ``kept``: every earlier z_t is exactly
    unchanged with it; ``size``: how far z_{j-1} moves without the mask.
    """
    V = X.copy()
    V[j, :] = X.row(j) + sp.ones(1, X.cols)  # v_j + (1, ..., 1)
    Z_open = exact_attention(X, X, V, mask=pad, fully_masked="zeros")[0]  # (n, d_k), every query at once
    Z_causal = exact_attention(X, X, V, mask=pad, causal=True, fully_masked="zeros")[0]
    moves = [(Z_open.row(t) - before[0].row(t)).applyfunc(one_fraction) for t in range(j)]
    moved = all(not all(is_zero(x) for x in move) for move in moves)
    kept = all(exact_equal(Z_causal.row(t), before[1].row(t)) for t in range(j))
    return moved, kept, float(np.linalg.norm(to_numeric(moves[-1])))


def _fully_masked(X, X_num, pad):
    """The refusals (numeric, exact) and the 'zeros' and 'nan' outputs when padded queries see no key either."""
    both = pad & pad.T  # (n, n): real queries see real keys; padded queries see nothing
    texts = []
    for call in (lambda: attention(X_num, X_num, X_num, mask=both), lambda: exact_attention(X, X, X, mask=both)):
        try:
            call()
            texts.append("no error")
        except VecmixError as exc:
            texts.append(str(exc))
    return (*texts, attention(X_num, X_num, X_num, mask=both, fully_masked="zeros"),
            attention(X_num, X_num, X_num, mask=both, fully_masked="nan"))


def _span_text(spans, first_leaves, L):
    outside = [t + 1 for t, ok in enumerate(spans) if not ok]
    with_mask = "z_t in span(v_1..v_t) for every t" if not outside else f"z_t leaves the span at t = {outside}"
    if L < 2:
        return with_mask + "; no later real token, so nothing can leak into z_1"
    return with_mask + ("; without the mask z_1 is outside span(v_1)" if first_leaves else
                        "; without the mask z_1 stays in span(v_1)")


def _leak_text(leak):
    if not leak:
        return "no later real token: nothing can leak"
    moved = [j + 2 for j, (m, _, _) in enumerate(leak) if m]
    kept = [j + 2 for j, (_, k, _) in enumerate(leak) if k]
    sizes = ", ".join(decimal(size) for _, _, size in leak)
    return (f"without the mask the earlier outputs move for j in {moved or 'none'} (|z_(j-1) move| = {sizes}); "
            f"with it they stay exactly unchanged for j in {kept or 'none'}")


def _sections(tokens, X, L, numeric, future, refusal, setups):
    n, d_k = X.shape
    if n > MAX_TOKENS:
        raise VecmixError(f"lab.embeddings has {n} tokens, more than this lab takes: at most {MAX_TOKENS} (every "
                          "weight of every mask is computed exactly; 24 tokens take about 20 seconds)")
    A_num = numeric["no mask"][1]
    heads = ["query \\ key"] + [f"{j + 1} `{tokens[j]}`" for j in range(n)]
    rows = "\n".join(f"| {t + 1} | `{tok}` | ${tuple_tex(X.row(t))}$ |" for t, tok in enumerate(tokens))
    return [
        "## The idea\n\n"
        "For many queries at once, attention is written in matrix form: $QK^\\top$ holds every query-key score, "
        "softmax turns each row into weights, and multiplying by $V$ forms one weighted mixture per row.\n"
        + display(r"A = \operatorname{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right), \qquad Z = AV")
        + "\nA mask decides which positions may receive weight: padding positions carry no token, and in a "
        "decoder the future is not visible yet. Here the queries, keys and values are all the token embeddings "
        f"(the rows of $X$), so $d_k = {d_k}$ and every score is scaled by "
        f"$1/\\sqrt{{{d_k}}} = {tex(1 / sp.sqrt(d_k))}$:\n"
        + display(f"Q = K = V = X = {matrix(X)}")
        + f"\n| position | token | embedding $x_t$ |\n| --- | --- | --- |\n{rows}\n\n"
        f"The first {L} tokens are real; "
        + f"{_positions(L + 1, n)} {'is' if L + 1 == n else 'are'} padding.\n",
        "## Many queries at once\n\n"
        "Without a mask, every row of $A$ is a distribution over all keys (row $t$: query $x_t$, scores "
        f"$x_t \\cdot x_j / \\sqrt{{{d_k}}}$):\n\n"
        + table(heads, [[f"{t + 1} `{tokens[t]}`"] + [decimal(a) for a in A_num[t]] for t in range(n)])
        + "\n\nComputing $Z = AV$ at once gives exactly the rows of the page's formula applied one query at a "
        "time (the lab computes $e^{s_{tj}} / \\sum_j e^{s_{tj}}$ and $\\sum_j \\alpha_{tj} v_j$ itself and compares "
        "expression by expression).\n\n"
        + image("figures/weights.svg", "attention weights under three masks",
                "Figure 1. Attention weights with no mask, with the padding mask, and with vecmix's causal=True "
                "plus the padding mask (rows: queries, columns: keys, numbered from 1); blank cells are exactly "
                "zero.") + "\n",
        "## Padding and causal masks\n\n"
        "A masked key gets exactly zero weight: softmax runs over the visible keys only, so no sentinel like "
        "$-10^9$ is needed and no small leftover weight remains. Every visible key keeps a positive weight, "
        "since $e^{s} > 0$. The causal mask here is vecmix's own `causal=True`, checked against the triangle "
        "$j \\le t$ written out in the lab: the output at position $t$ is a mixture of $v_1, \\dots, v_t$ only, so "
        "it lies in their span (checked exactly for every $t$), while without the mask $z_1$ already leaves the "
        "span of $v_1$.\n",
        "## What leaks when the causal mask is forgotten\n\n"
        + table(["position", "weight on later tokens (no causal mask)", "with the causal mask"],
                [[f"{t + 1} `{tokens[t]}`", decimal(future[t]),
                  decimal(float(np.sum(numeric['causal + padding'][1][t, t + 1:])))] for t in range(L)])
        + "\n\nWithout the causal mask every position mixes in the tokens after it: change a later value "
        "$v_j$ (keys unchanged) and every earlier output $z_t$, $t < j$, moves. With the mask they do not change "
        "at all.\n\n"
        + image("figures/leak.svg", "weight taken from the future",
                "Figure 2. How much weight each position takes from later tokens, with and without the causal mask.")
        + "\n",
        "## A query that may see nothing\n\n"
        "If the padded positions are masked as queries too, their rows have no visible key and softmax has "
        "nothing to normalise: there is no mixture. vecmix's policy is to refuse such a row by name (its "
        "messages number rows from 0, as numpy does: row $t$ is position $t + 1$),\n\n"
        + f"> `{refusal}`\n\n"
        + "and to produce a row only when asked: `fully_masked=\"zeros\"` gives zero weights and a zero output "
        "(PyTorch SDPA's choice; note that a zero output is not a mixture of the values), `\"nan\"` marks the row "
        "as undefined. The other rows are the same as under the padding mask.\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises masking)

LAB = "masking"
E = sp.E

EXERCISES = [
    Exercise(LAB, "causal_mask", "Give the causal mask for 4 positions as a 4 x 4 matrix: 1 where query i may "
             "attend to key j, else 0.", exact(sp.Matrix(4, 4, lambda i, j: 1 if j <= i else 0), "the mask"),
             "[[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]",
             wrong={"[[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]]": "not right",
                    "[[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]]": "not right"},
             hint="a query may look at itself and the past, not the future.", source="002 §7"),
    Exercise(LAB, "padding_visible_keys", "Five positions, the last two are padding (valid length 3), no causal "
             "mask. Which key positions (1 to 5) may query 4 attend to? Give a set.",
             exact({1, 2, 3}, "the set of positions"), "{1, 2, 3}", also=("{3, 2, 1}",),
             wrong={"{1, 2, 3, 4}": "not the right set", "[1, 2, 3]": "must be a set"}, source="002 §6"),
    Exercise(LAB, "future_weight", "With the causal mask, how much weight does query 2 put on key 3?", exact(0),
             "0", wrong={"0.001": "not exact", "1/3": "not right"}, hint="masked means exactly zero weight.",
             source="002 §7"),
    Exercise(LAB, "masked_softmax", "One query has scores s = (1, 0, 2), and key 3 is masked. Give the exact weights.",
             exact(sp.Matrix([E, 1, 0]) / (1 + E), "alpha"), "[E, 1, 0]/(1 + E)",
             wrong={"[E, 1, exp(2)]/(1 + E + exp(2))": "not right", "[0.731, 0.269, 0]": "not exact",
                    "[E, 1, 0]/(1 + E + exp(2))": "not right"},
             hint="softmax over the visible keys only: renormalise, do not just zero the masked weight.", points=2,
             source="002 §6"),
    Exercise(LAB, "scaled_scores", "Queries, keys and values are the embeddings x1 = (1, 0, 1, 0) and "
             "x2 = (0, 1, 1, 0), so d_k = 4, and the causal mask is on. Give query 2's weights on keys 1 and 2 "
             "exactly.", exact(sp.Matrix([1, sp.exp(sp.Rational(1, 2))]) / (1 + sp.exp(sp.Rational(1, 2))),
                                "the weights"),
             "[1, exp(1/2)]/(1 + exp(1/2))", also=("[exp(1/2), E]/(exp(1/2) + E)",),
             wrong={"[1, E]/(1 + E)": "not right", "[1, exp(1/4)]/(1 + exp(1/4))": "not right"},
             hint="s_2j = x2 . xj / sqrt(d_k), and sqrt(4) = 2.", source="002 §6"),
]
