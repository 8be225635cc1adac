"""Lab ``encoder_decoder``: encoder-decoder (cross) attention and the right-shifted decoder of AIAYN §3.1, §3.2.3.

In the third sub-layer of each decoder layer "the queries come from the previous decoder
layer, and the memory keys and values come from the output of the encoder": every decoder
position mixes the encoder's values, over all input positions. The decoder's input is the
output sequence "offset by one position" and its self-attention is masked, so that "the
predictions for position i can depend only on the known outputs at positions less than i".
This lab builds one decoder layer exactly (SymPy): X = [start, y_1, ..., y_{n-1}] (the shift),
D = X + SelfAttention_causal(X), Z = Attention(D W_Q, H W_K, H W_V) over the encoder's output
H, and the layer's output O = D + Z (the residual connections of §3.1; no LayerNorm or
feed-forward layer, so everything stays exact). Positions are numbered from 1.
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (VecmixError, exact_attention, exact_equal, exact_sign, exact_softmax, in_span, is_nonnegative,
                    null_space, to_numeric)

from ..claims import Claim, fault, inputs
from ..config.inputs import read_vector, read_vectors
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import display, image, matrix, table, tex

TITLE = "Encoder-decoder attention: the decoder mixes the encoder's values, and sees only earlier outputs"
SOURCE_CROSS = "AIAYN §3.2.3"
SOURCE_SHIFT = "AIAYN §3.1"
MAX_POSITIONS = 5  # targets and memory rows: the exact path's limit (nested exponentials: 6 x 5 takes minutes)
MAX_DIM = 4


@dataclass
class Config:
    """encoder_decoder: the encoder's output, the target outputs, the start vector, cross-attention's projections."""

    name: str = "encoder_decoder"
    memory: List[List[Any]] = MISSING  # H: one row per input position, the encoder's output
    targets: List[List[Any]] = MISSING  # y_1..y_n: the outputs the decoder is trained to produce
    start: List[Any] = MISSING  # the vector the shifted input starts with
    W_Q: List[List[Any]] = MISSING  # d x d_k: decoder states to queries
    W_K: List[List[Any]] = MISSING  # d x d_k: encoder output to keys
    W_V: List[List[Any]] = MISSING  # d x d_v: encoder output to values
    shift: bool = True  # the decoder reads [start, y_1, ..., y_{n-1}]; False: it reads y_1..y_n


COUNTER_CASES = {
    "cross-in-encoder-hull": fault("cross-reads-decoder"),
    "encoder-span-not-decoder": inputs("an encoder output whose values span all of R^3: the decoder's values lie in "
                                       "that span too, so membership no longer tells the sources apart",
                                       "lab.memory=[[1,0,0],[0,1,0],[0,0,1]]"),
    "all-input-positions": fault("cross-attention-causal"),
    "strictly-before": inputs("no shift: the decoder reads y_t at position t, so its output there depends on y_t",
                              "lab.shift=false"),
}


def memory_for(H, D):
    """What cross-attention projects its keys and values from: the encoder's output H (not the decoder's states D).

    >>> memory_for(sp.Matrix([[1, 0]]), sp.Matrix([[0, 1]]))
    Matrix([[1, 0]])
    """
    return H


def cross_mask(n, m):
    """Which of the m input positions each of the n decoder positions may attend to: all of them (no mask).

    >>> cross_mask(2, 3) is None
    True
    """
    return None


def decoder_layer(H, Y, start, W_Q, W_K, W_V, shift=True):
    """One decoder layer, exactly: (X, D, Z, O, A_self, A_cross) for encoder output H and targets Y.

    >>> I = sp.eye(2)
    >>> X, D, Z, O, A_self, A_cross = decoder_layer(sp.Matrix([[1, 0], [0, 1]]), sp.Matrix([[1, 1], [2, 0]]),
    ...                                             sp.Matrix([[0, 0]]), I, I, I)
    >>> X, A_self[0, :]
    (Matrix([
    [0, 0],
    [1, 1]]), Matrix([[1, 0]]))
    """
    X = start.col_join(Y[:-1, :]) if shift else Y  # n x d: the input at position t is y_{t-1}
    S, A_self = exact_attention(X, X, X, causal=True)  # n x d: the masked self-attention of §3.2.3
    D = X + S  # n x d: the residual connection
    M = memory_for(H, D)  # m x d: where keys and values come from
    Z, A_cross = _attend(D * W_Q, M * W_K, M * W_V, cross_mask(D.rows, M.rows))  # n x d_v; n x m
    O = D + Z  # n x d: the layer's output (d_v = d for the residual)
    return X, D, Z, O, A_self, A_cross


def _attend(Q, K, V, mask):
    """softmax(Q K^T / sqrt(d_k)) V, exactly, for queries that hold exponentials (D carries the self-attention's
    weights): vecmix.exact_attention reads rational inputs, vecmix.exact_softmax keeps expressions."""
    S = Q * K.T / sp.sqrt(K.cols)  # (n, d_k) (d_k, m) -> (n, m)
    rows = [np.ones(S.cols, dtype=bool) if mask is None else mask[t] for t in range(S.rows)]
    A = sp.Matrix.vstack(*(exact_softmax(list(S.row(t)), mask=rows[t]).T for t in range(S.rows)))  # (n, m)
    return A * V, A  # (n, m) (m, d_v) -> (n, d_v)


def run(params):
    """Build the decoder layer and check where its cross-attention mixes from and what each position can see.

    >>> r = run({"memory": [[1, 0, 0], [0, 1, 0], [1, 1, 0]], "targets": [[0, 0, 1], [1, 0, 1], [0, 1, 1]],
    ...          "start": [0, 0, 1], "W_Q": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "W_K": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ...          "W_V": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "shift": True})
    >>> r.reproduced
    True
    """
    H, Y, start, W_Q, W_K, W_V, shift = _read(params)
    n, m = Y.rows, H.rows
    X, D, Z, O, A_self, A_cross = decoder_layer(H, Y, start, W_Q, W_K, W_V, shift)
    V_enc = H * W_V  # m x d_v: the encoder's values
    V_dec = X  # n x d: the decoder's own values (its self-attention's, W = I)

    # the hull: nonnegative weights on the encoder's values, summing to 1, whose mixture is Z
    hull = A_cross.shape == (n, m) and all(is_nonnegative(a) for a in A_cross) and all(exact_equal(sum(A_cross.row(t)), 1) for t in range(n)) \
        and all(exact_equal(x, y) for x, y in zip(Z, A_cross * V_enc))
    # the span: Z in span(V_enc), which holds none of the decoder's own values
    outside = [t + 1 for t in range(n) if not in_span(V_enc.tolist(), list(Z.row(t)))]
    decoder_inside = [t + 1 for t in range(n) if in_span(V_enc.tolist(), list(V_dec.row(t)))]
    normals = null_space(V_enc.T.tolist()) if V_enc.rank() < V_enc.cols else []
    # every input position visible to every decoder position
    unseen = [(t + 1, j + 1) for t in range(n) for j in range(m) if exact_sign(A_cross[t, j]) <= 0]
    # what row t of O depends on: change the targets y_s one at a time
    moved = [_moved_rows(O, s, H, Y, start, W_Q, W_K, W_V, shift) for s in range(n)]  # rows that change with y_s
    depends = {t: [s + 1 for s in range(n) if t in moved[s]] for t in range(n)}
    before = all(depends[t] == list(range(1, t + 1)) for t in range(n))  # O_t reads y_1..y_{t-1} (1-based t+1)

    claims = [
        Claim("cross-in-encoder-hull", "every decoder position's encoder-decoder attention output is a mixture of the "
              "encoder's values: weights >= 0 summing to 1 on the input positions, so it lies in their convex hull",
              SOURCE_CROSS, "A_cross >= 0, each row summing to exactly 1, and Z = A_cross (H W_V), exactly",
              f"{n} decoder positions x {m} input positions; " + ("all hold" if hull else "a condition fails"),
              hull, True),
        Claim("encoder-span-not-decoder", "the mixture is of the encoder's values, never the decoder's own: every "
              "output row lies in the span of the encoder's values, a span that holds none of the decoder's values",
              SOURCE_CROSS, "Z_t in span(H W_V) for every t (exact); no decoder value in that span",
              f"outside the span: {outside or 'none'}; decoder values inside it: {decoder_inside or 'none'}; "
              f"span of dimension {V_enc.rank()} in R^{V_enc.cols}", not outside and not decoder_inside, True),
        Claim("all-input-positions", "\"every position in the decoder [can] attend over all positions in the input "
              "sequence\": cross-attention has no mask", SOURCE_CROSS,
              "every weight of A_cross exactly positive", f"zero weights at (decoder, input) {unseen or 'none'}",
              not unseen, True),
        Claim("strictly-before", "with the outputs offset by one position and the self-attention masked, the "
              "decoder's output at position t depends, of the outputs, on y_1..y_{t-1} only: those strictly before t",
              SOURCE_SHIFT, "changing y_s changes O_t exactly when s < t (every t, every s, exact)",
              "; ".join(f"O_{t + 1}: " + (", ".join(f"y_{s}" for s in depends[t]) or "none") for t in range(n)),
              before, True),
    ]
    sections = _sections(H, Y, start, X, A_self, A_cross, Z, V_enc, normals, depends, shift, decoder_inside)
    figures = {"weights.svg": fig.heatmaps([
        ("self-attention (masked)", to_numeric(A_self), [f"x{t + 1}" for t in range(n)], [f"x{t + 1}" for t in range(n)]),
        ("encoder-decoder attention", to_numeric(A_cross), [f"d{t + 1}" for t in range(n)],
         [f"h{j + 1}" for j in range(m)])])}
    values = [Value("A_self", to_numeric(A_self), A_self), Value("A_cross", to_numeric(A_cross), A_cross),
              Value("Z", to_numeric(Z), Z), Value("O", to_numeric(O), O),
              Value("depends_on", [depends[t] for t in range(n)])]
    intro = ("*Reproduces* the encoder-decoder attention of \"Attention Is All You Need\" (Vaswani et al., 2017, "
             "arXiv:1706.03762, §3.2.3) and the right-shifted, masked decoder input of §3.1, exactly, on one decoder "
             "layer small enough to write out.")
    return LabResult("encoder_decoder", TITLE, intro, sections, claims, values, figures, [
        "One decoder layer with one head, identity self-attention projections, and no LayerNorm or feed-forward "
        "layer (§3.1, §3.3) and no dropout (§5.4): every step stays exact. None of them changes which positions a "
        "row can see (LayerNorm and the feed-forward layer act on each position alone), nor where the values come "
        "from; but with h heads and W^O the sub-layer's output is sum_h Z_h W^O_h, a sum of the heads' mixtures "
        "mapped by W^O, not one point of one hull.",
        "strictly-before changes each target once, by (1, 2, ..., d): where O_t does not move, that one change shows "
        "it; the mask's zero weights show it for every change.",
        "The encoder's output H is given, not computed by an encoder; the decoder's self-attention uses the shifted "
        "inputs themselves as queries, keys and values. The start vector stands for the paper's start symbol."])


def _moved_rows(O, s, H, Y, start, W_Q, W_K, W_V, shift):
    """The rows of the layer's output that change when y_s does (y_s + (1, 2, ..., d): a change in every entry)."""
    changed = Y.copy()
    changed[s, :] = Y.row(s) + sp.Matrix([list(range(1, Y.cols + 1))])
    O_changed = decoder_layer(H, changed, start, W_Q, W_K, W_V, shift)[3]
    return {t for t in range(O.rows) if not all(exact_equal(a, b) for a, b in zip(O.row(t), O_changed.row(t)))}


def _read(params):
    H = read_vectors(params["memory"], "lab.memory")
    Y = read_vectors(params["targets"], "lab.targets")
    start = read_vector(params["start"], "lab.start").T  # 1 x d
    W = [read_vectors(params[k], f"lab.{k}") for k in ("W_Q", "W_K", "W_V")]
    d = H.cols
    for name, M in (("lab.memory", H), ("lab.targets", Y)):
        if M.rows > MAX_POSITIONS or M.cols > MAX_DIM:
            raise VecmixError(f"{name} is {M.rows} x {M.cols}; this exact lab takes at most {MAX_POSITIONS} rows of "
                              f"at most {MAX_DIM} entries")
    if Y.cols != d or start.cols != d:
        raise VecmixError(f"lab.memory has vectors of size {d}, lab.targets of size {Y.cols} and lab.start of size "
                          f"{start.cols}: the decoder adds them, so they must match")
    if Y.rows < 2:
        raise VecmixError("lab.targets has one output: give at least two, so that a position has one before it")
    if W[0].cols > MAX_DIM:
        raise VecmixError(f"lab.W_Q maps to d_k = {W[0].cols}; this exact lab takes d_k of at most {MAX_DIM}")
    if W[0].shape != (d, W[1].cols) or W[1].rows != d:
        raise VecmixError(f"lab.W_Q is {W[0].rows} x {W[0].cols} and lab.W_K {W[1].rows} x {W[1].cols}: both must "
                          f"be {d} x d_k with the same d_k, to map vectors of size {d} to queries and keys")
    if W[2].shape != (d, d):
        raise VecmixError(f"lab.W_V is {W[2].rows} x {W[2].cols}: it must be {d} x {d}, so that the residual "
                          "D + Z adds vectors of one size")
    if not isinstance(params["shift"], bool):
        raise VecmixError(f"lab.shift = {params['shift']!r} must be true or false")
    return H, Y, start, *W, params["shift"]


def _sections(H, Y, start, X, A_self, A_cross, Z, V_enc, normals, depends, shift, decoder_inside):
    n = Y.rows
    inputs_ = (r"X = \begin{bmatrix} \text{start} \\ y_1 \\ \vdots \\ y_{n-1} \end{bmatrix}" if shift
               else r"X = \begin{bmatrix} y_1 \\ \vdots \\ y_n \end{bmatrix}")
    rows = [[f"$O_{{{t + 1}}}$", ", ".join(f"$y_{{{s}}}$" for s in depends[t]) or "none"] for t in range(n)]
    plane = (f" Its orthogonal complement is spanned by ${', '.join(tex(c.T) for c in normals)}$: every $Z_t$ is "
             "orthogonal to it." if normals else " It is all of the space, so membership tells nothing apart.")
    return [
        "## One decoder layer\n\n"
        + display(inputs_)
        + display(r"D = X + \mathrm{softmax}_{\text{causal}}\!\left(\frac{X X^\top}{\sqrt{d}}\right) X")
        + display(r"Z = \mathrm{softmax}\!\left(\frac{(D W_Q)(H W_K)^\top}{\sqrt{d_k}}\right) H W_V, \qquad O = D + Z")
        + f"\nThe encoder's output $H$ ({H.rows} input positions) and the targets $y_1..y_{{{n}}}$:\n"
        + display(f"H = {matrix(H)}, \\qquad Y = {matrix(Y)}, \\qquad X = {matrix(X)}")
        + ("\nThe first row of $X$ is the start vector and row $t$ is $y_{t-1}$: the outputs offset by one "
           "position (§3.1)." if shift else "\n**No shift** (`lab.shift=false`): row $t$ of $X$ is $y_t$ itself.")
        + "\n\n" + image("figures/weights.svg", "the masked self-attention weights and the encoder-decoder weights",
                         "Figure 1. Left: the decoder's masked self-attention over its shifted inputs (blank: "
                         "exactly 0). Right: encoder-decoder attention, decoder positions d_t over input positions "
                         "h_j; every weight positive.") + "\n",
        "## Whose values are mixed\n\n"
        f"Every row of $Z$ is $\\sum_j (A_{{\\text{{cross}}}})_{{tj}} \\, v_j$ over the encoder's values $v_j$, the "
        f"rows of $H W_V = {matrix(V_enc)}$, with weights that are positive and sum to 1: a point of their convex "
        f"hull. Their span has dimension {V_enc.rank()}.{plane} " + (
            "The decoder's own values (the rows of $X$, which its self-attention mixes) lie outside that span, so "
            "the span alone shows that none of them is mixed in." if not decoder_inside else
            f"The decoder's own values at positions {', '.join(map(str, decoder_inside))} lie inside that span too, so "
            "span membership cannot tell the two sources apart here (the weights still name the encoder's values)."
        ) + "\n",
        "## What each position can see\n\n"
        "Each target $y_s$ is changed in every entry, one at a time, and the layer recomputed exactly. Row $t$ of "
        "the output moves exactly for these $s$:\n\n" + table(["output", "changes with"], rows) + "\n\n"
        + ("With the shift and the causal mask, $O_t$ reads $X_1..X_t$ = start, $y_1..y_{t-1}$: only the outputs "
           "strictly before $t$. The mask alone gives $j \\leq t$; the shift makes it $< t$." if shift else
           "Without the shift, $O_t$ reads $y_t$ itself: the prediction for position $t$ could copy its answer.")
        + "\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises encoder_decoder)

LAB = "encoder_decoder"

EXERCISES = [
    Exercise(LAB, "visible_outputs", "The decoder's input is the output sequence offset by one position, and its "
             "self-attention is masked. Which target outputs y_s can the decoder's output at position 4 depend on? "
             "Give the set of indices s.", exact(sp.FiniteSet(1, 2, 3), "the set"), "{1, 2, 3}",
             wrong={"{1, 2, 3, 4}": "not the right set", "{4}": "not the right set"},
             hint="position t reads start, y_1, ..., y_{t-1}.", source=SOURCE_SHIFT),
    Exercise(LAB, "cross_weights", "A decoder position attends over an input sentence of 5 positions with "
             "encoder-decoder attention. How many of its 5 weights are nonzero?", exact(5, "the count"), "5",
             wrong={"1": "not right", "0": "not right"},
             hint="encoder-decoder attention has no mask, and every softmax weight is positive.", source=SOURCE_CROSS),
]
