"""Lab ``multihead``: "multi-head attention repeats this pattern in parallel subspaces" (001 §6).

Each head projects the tokens with its own W_q, W_k, W_v, mixes its own projected
values, and so outputs a vector in the span of those values. The heads are
concatenated and mapped by W_o, which is the same as adding each head's output mapped
by its own block of W_o: the final output is still a mixture, of the rows V_j W_o^(j).
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    exact_equal,
    exact_multihead_attention,
    in_span,
    multihead_attention,
    one_fraction,
    to_numeric,
)

from ..claims import Claim
from ..config.inputs import random_rationals, read_labels, read_positive_int, read_vectors
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, decimal, display, image, matrix

TITLE = "Multi-head attention: the same mixture in parallel subspaces"
SOURCE = "001 §6"


@dataclass
class Config:
    """multihead: h heads with explicit projections over token embeddings."""

    name: str = "multihead"
    tokens: List[str] = MISSING
    embeddings: List[List[Any]] = MISSING  # X, one row per token (n, d_model)
    heads: int = 2  # h
    d_head: int = 2  # size of each head's queries, keys and values
    seed: int = 0  # draws the projections that are not given
    causal: bool = False
    W_q: Optional[List[List[List[Any]]]] = None  # per head (d_model, d_head)
    W_k: Optional[List[List[List[Any]]]] = None
    W_v: Optional[List[List[List[Any]]]] = None
    W_o: Optional[List[List[Any]]] = None  # (h * d_head, d_model)


def run(params):
    """Project the tokens per head, attend per head, concatenate and map by W_o.

    >>> r = run({"tokens": ["a", "b", "c"], "embeddings": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "heads": 2,
    ...          "d_head": 1, "seed": 0, "causal": False, "W_q": None, "W_k": None, "W_v": None, "W_o": None})
    >>> r.reproduced
    True
    """
    X = read_vectors(params["embeddings"], "lab.embeddings")  # (n, d_model)
    n, d_model = X.shape
    tokens = read_labels(params["tokens"], "lab.tokens", n)
    h = read_positive_int(params["heads"], "lab.heads")
    d_head = read_positive_int(params["d_head"], "lab.d_head")
    causal = bool(params.get("causal", False))
    rng = np.random.default_rng(params["seed"])
    drawn = {"W_q": [random_rationals(rng, (d_model, d_head)) for _ in range(h)],
             "W_k": [random_rationals(rng, (d_model, d_head)) for _ in range(h)],
             "W_v": [random_rationals(rng, (d_model, d_head)) for _ in range(h)],
             "W_o": random_rationals(rng, (h * d_head, d_model))}
    W = {key: _given(params.get(key), key, value) for key, value in drawn.items()}
    try:
        Y, Zs, As, Vs = exact_multihead_attention(X, X, W["W_q"], W["W_k"], W["W_v"], W["W_o"], causal=causal)
        Y_num, Z_num, A_num = multihead_attention(to_numeric(X), to_numeric(X), [to_numeric(w) for w in W["W_q"]],
                                                  [to_numeric(w) for w in W["W_k"]], [to_numeric(w) for w in W["W_v"]],
                                                  to_numeric(W["W_o"]), causal=causal, weights=True)
    except VecmixError as exc:
        raise VecmixError(f"the projections in lab.W_q/W_k/W_v/W_o do not fit: {exc}") from None
    d_v = Vs[0].cols
    blocks = [W["W_o"][j * d_v:(j + 1) * d_v, :] for j in range(h)]  # W_o^(j): (d_v, d_model) each
    by_blocks = sum((Zs[j] * blocks[j] for j in range(h)), sp.zeros(n, d_model))  # (n, d_v) (d_v, d_model)
    mapped = sp.Matrix.vstack(*(Vs[j] * blocks[j] for j in range(h)))  # rows V_j W_o^(j): (h n, d_model)

    sums = all(exact_equal(one_fraction(sp.Add(*A.row(t))), 1) for A in As for t in range(n))
    head_spans = all(in_span(Vs[j], Zs[j].row(t).T) for j in range(h) for t in range(n))
    output_span = all(in_span(mapped, Y.row(t).T) for t in range(n))
    blocks_ok = exact_equal(Y, by_blocks)
    err = float(np.max(np.abs(Y_num - to_numeric(Y))))
    claims = [
        Claim("head-weights", f"each of the {h} heads puts a distribution on the keys for every query", SOURCE,
              "every row of every A_j sums to 1", "1 for every row (exact)" if sums else "a row differs", sums, True),
        Claim("head-output-in-own-span", "each head's output lies in the span of its own projected values "
              "V_j = X W_v^(j)", SOURCE, "z_jt in span(rows of V_j)", "in the span for every head and position"
              if head_spans else "a head leaves its span", head_spans, True),
        Claim("concat-is-sum-of-blocks", "concatenating the heads then applying W_o equals adding each head's "
              "output mapped by its own block of W_o", SOURCE, "[Z_1 ... Z_h] W_o = sum_j Z_j W_o^(j)",
              "equal (exact)" if blocks_ok else "different", blocks_ok, True),
        Claim("output-still-a-mixture", "the final output lies in the span of the rows V_j W_o^(j) of all heads",
              SOURCE, "y_t in span", "in the span for every position" if output_span else "outside", output_span,
              True),
        Claim("numeric-agrees", "numpy's multi-head output agrees with the exact one to 1e-12", SOURCE,
              "max difference <= 1e-12", f"{err:.1e}", err <= 1e-12, False),
    ]
    figures = {"heads.svg": fig.heatmaps([(f"head {j + 1}", A_num[j], tokens, tokens) for j in range(h)])}
    values = [Value("embeddings", to_numeric(X), X), Value("output", Y_num, Y)]
    for j in range(h):
        values += [Value(f"head{j + 1}_weights", A_num[j], As[j]), Value(f"head{j + 1}_values", to_numeric(Vs[j]),
                                                                          Vs[j]),
                   Value(f"head{j + 1}_output", Z_num[j], Zs[j])]
    for key in ("W_q", "W_k", "W_v"):
        values.append(Value(key, [to_numeric(w) for w in W[key]], W[key]))
    values.append(Value("W_o", to_numeric(W["W_o"]), W["W_o"]))
    drawn_note = [key for key in drawn if params.get(key) is None]
    projections = "\n".join(
        display(rf"W_q^{{({j + 1})}} = {matrix(W['W_q'][j])}, \quad W_k^{{({j + 1})}} = {matrix(W['W_k'][j])}, "
                rf"\quad W_v^{{({j + 1})}} = {matrix(W['W_v'][j])}") for j in range(h))
    sections = [
        "## The idea\n\n"
        "Learned projections make queries, keys and values (the linear-map role); each head then mixes its own "
        "values (the vector-mixture role). With $h$ heads the pattern repeats in parallel subspaces:\n"
        + display(r"z^{(j)}_t = \sum_i A^{(j)}_{ti}\, v^{(j)}_i, \qquad v^{(j)}_i = x_i W_v^{(j)}, \qquad "
                  r"y_t = \left[z^{(1)}_t \cdots z^{(h)}_t\right] W_o = \sum_j z^{(j)}_t W_o^{(j)}")
        + f"\nHere $h = {h}$ heads of size {d_head} act on {n} tokens ({', '.join(f'`{t}`' for t in tokens)}) in "
        f"$\\mathbb{{R}}^{{{d_model}}}$"
        + (f"; {', '.join(drawn_note)} were drawn with seed {params['seed']} as small rationals." if drawn_note
           else "; every projection was given in the config.") + "\n",
        "## The projections\n\nEvery weight is an input, printed here, never hidden state:\n" + projections
        + display(f"W_o = {matrix(W['W_o'])}"),
        "## One mixture per head\n\n"
        + image("figures/heads.svg", "attention weights per head",
                "Figure 1. Each head's attention weights: the same tokens, different mixtures.")
        + "\n\nEach head's output is a mixture of its own projected values, so it lies in their span (checked "
        "exactly for every head and position). Concatenating and applying $W_o$ is the same as adding the heads "
        "mapped by their own blocks of $W_o$, so the final output is again a mixture, now of the rows "
        "$v^{(j)}_i W_o^{(j)}$ with the weights of all heads.\n",
        "## The outputs\n\n"
        + display(f"Y \\approx {matrix(sp.Matrix(Y_num), fmt=decimal)}"),
    ]
    intro = f"*Reproduces* the remark of {cite('001', 6)} that multi-head attention repeats the mixture in parallel subspaces."
    return LabResult("multihead", TITLE, intro, sections, claims, values, figures, [
        "The paper's heads are learned; these projections are small rationals so that every check is exact."])


def _given(value, key, default):
    """A projection from the config (a matrix, or a list of per-head matrices), or the drawn default."""
    if value is None:
        return default
    if isinstance(default, list):
        if not isinstance(value, (list, tuple)) or not value:
            raise VecmixError(f"lab.{key} must be a list of per-head matrices")
        return [read_vectors(w, f"lab.{key}[{j}]") for j, w in enumerate(value)]
    return read_vectors(value, f"lab.{key}")


# Exercises: graded by pytest (python -m labs.exercises multihead)

LAB = "multihead"

EXERCISES = [
    Exercise(LAB, "projected_values", "Two tokens x1 = (1, 1), x2 = (0, 1) (the rows of X) and a head with "
             "W_v = [[2], [1]]. Give that head's values V = X W_v as a matrix (one row per token).",
             exact(sp.Matrix([[3], [1]]), "V"), "[[3], [1]]", wrong={"[[3, 1]]": "shape 1 x 2", "[[2], [1]]": "not right"},
             hint="row i of X W_v is x_i W_v.", source="001 §6"),
    Exercise(LAB, "concatenated_size", "With d_model = 8 and h = 2 heads of size d_model / h, how many numbers per "
             "token does the concatenation [z1 z2] have, before W_o?", exact(8, "the size"), "8",
             wrong={"4": "not right"}, source="001 §6"),
    Exercise(LAB, "head_output", "One head has values v1 = (2), v2 = (1) and gives token 1 the weights (1/4, 3/4). "
             "What is that head's output for token 1?", exact(sp.Rational(5, 4), "the output"), "5/4",
             also=("[5/4]", "1.25"), wrong={"3": "not right"}, hint="a mixture of the head's own values.",
             source="001 §6"),
]
