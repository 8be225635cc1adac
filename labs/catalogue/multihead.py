"""Lab ``multihead``: "multi-head attention repeats this pattern in parallel subspaces" (001 §6).

Each head j projects the tokens with its own W_q^(j), W_k^(j), W_v^(j), scales its scores by
1/sqrt(d_head), mixes its own projected values, and writes through its own block W_o^(j)
of W_o into its own subspace of R^d_model. vecmix's multi-head attention is compared with
the same computation written out head by head in the lab (explicit products, exact and in
numpy). The attention mechanism is not the whole transformer block (002 §7): its output
lies in the span of the mapped values, while the residual connection, LayerNorm and the
ReLU feed-forward layer carry the block's output out of that span.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    eliminate,
    exact_equal,
    exact_multihead_attention,
    in_span,
    is_nonnegative,
    is_zero,
    multihead_attention,
    one_fraction,
)

from ..claims import Claim, fault, inputs
from ..config.inputs import random_rationals, read_labels, read_positive_int, read_seed, read_vectors
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, decimal, display, error_text, image, matrix, table, tex

TITLE = "Multi-head attention: the same mixture in parallel subspaces"
SOURCE = "001 §6"
TOLERANCE = 1e-12


@dataclass
class Config:
    """multihead: h heads with explicit projections over token embeddings, then the rest of the block."""

    name: str = "multihead"
    tokens: List[str] = MISSING
    embeddings: List[List[Any]] = MISSING  # X, one row per token (n, d_model)
    heads: int = 2  # h
    d_head: int = 2  # size of each head's queries, keys and values (d_k = d_v = d_head)
    d_ff: int = 8  # width of the feed-forward layer of the block
    seed: int = 0  # draws the projections that are not given
    causal: bool = False
    W_q: Optional[List[List[List[Any]]]] = None  # per head (d_model, d_head)
    W_k: Optional[List[List[List[Any]]]] = None
    W_v: Optional[List[List[List[Any]]]] = None
    W_o: Optional[List[List[Any]]] = None  # (h * d_head, d_model)
    W_1: Optional[List[List[Any]]] = None  # the feed-forward layer's (d_model, d_ff)
    W_2: Optional[List[List[Any]]] = None  # and (d_ff, d_model)


COUNTER_CASES = {
    "head-weights": fault("exact-softmax-unnormalised"),
    "heads-match-explicit": fault("exact-heads-reversed"),
    "heads-in-own-subspaces": inputs("a W_o whose two blocks are equal: both heads write into the same plane",
                                     "lab.W_o=[[1,0,0,0,0,0],[0,1,0,0,0,0],[1,0,0,0,0,0],[0,1,0,0,0,0]]"),
    "attention-is-not-the-block": inputs("tokens, the all-ones vector and the rows of W_2 inside the 4-dimensional "
                                         "span of the mapped values (x_4 = x_5 = x_6): every stage of the block "
                                         "stays in it", "lab.embeddings=[[1,0,1,0,0,0],[0,1,1,0,0,0],[1,1,0,1,1,1],"
                                         "[0,0,1,1,1,1]]", "lab.W_o=[[1,0,0,0,0,0],[0,1,0,0,0,0],[0,0,1,0,0,0],"
                                         "[0,0,0,1,1,1]]", "lab.d_ff=2", "lab.W_2=[[1,-1,0,2,2,2],[0,1,1,-1,-1,-1]]"),
    "numeric-agrees": fault("heads-share-projections"),
}


def run(params):
    """Project the tokens per head, attend per head, concatenate and map by W_o; then the rest of the block.

    >>> r = run({"tokens": ["a", "b", "c"], "embeddings": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "heads": 2,
    ...          "d_head": 1, "d_ff": 2, "seed": 0, "causal": False, "W_q": None, "W_k": None, "W_v": None,
    ...          "W_o": None})
    >>> [c.id for c in r.claims if not c.holds]
    []
    """
    X = read_vectors(params["embeddings"], "lab.embeddings")  # (n, d_model)
    n, d_model = X.shape
    tokens = read_labels(params["tokens"], "lab.tokens", n)
    h = read_positive_int(params["heads"], "lab.heads", maximum=4)  # every head is computed exactly
    d_head = read_positive_int(params["d_head"], "lab.d_head", maximum=4)
    d_ff = read_positive_int(params.get("d_ff", 8), "lab.d_ff", maximum=32)
    causal = bool(params.get("causal", False))
    rng = np.random.default_rng(read_seed(params["seed"]))
    drawn = {"W_q": [random_rationals(rng, (d_model, d_head)) for _ in range(h)],
             "W_k": [random_rationals(rng, (d_model, d_head)) for _ in range(h)],
             "W_v": [random_rationals(rng, (d_model, d_head)) for _ in range(h)],
             "W_o": random_rationals(rng, (h * d_head, d_model))}
    W = {key: _given(params.get(key), key, value) for key, value in drawn.items()}
    _check_heads(W, d_model)
    W_1 = _sized(_given(params.get("W_1"), "W_1", random_rationals(rng, (d_model, d_ff))), "W_1", (d_model, d_ff))
    W_2 = _sized(_given(params.get("W_2"), "W_2", random_rationals(rng, (d_ff, d_model))), "W_2", (d_ff, d_model))
    F = {key: [_floats(w) for w in W[key]] for key in ("W_q", "W_k", "W_v")}  # the rational inputs as floats
    F.update(X=_floats(X), W_o=_floats(W["W_o"]), W_1=_floats(W_1), W_2=_floats(W_2))
    try:
        Y, Zs, As, Vs = exact_multihead_attention(X, X, W["W_q"], W["W_k"], W["W_v"], W["W_o"], causal=causal)
        Y_num, Z_num, A_num = multihead_attention(F["X"], F["X"], F["W_q"], F["W_k"], F["W_v"], F["W_o"],
                                                  causal=causal, weights=True)
        Y_blocked, _ = multihead_attention(F["X"], F["X"], F["W_q"], F["W_k"], F["W_v"], F["W_o"],
                                           causal=causal)  # the default blocked path, no weights matrix
    except VecmixError as exc:
        raise VecmixError(f"the projections in lab.W_q/W_k/W_v/W_o do not fit: {exc}") from None
    d_v = Vs[0].cols
    blocks = [W["W_o"][j * d_v:(j + 1) * d_v, :] for j in range(h)]  # W_o^(j): (d_v, d_model) each
    own = [_head_by_hand(X, W["W_q"][j], W["W_k"][j], W["W_v"][j]) for j in range(h)]  # (Q, K, V, S) per head
    Y_own_num, Z_own_num, A_own_num = _numeric_by_hand(F, causal)

    sums = all(exact_equal(one_fraction(sp.Add(*A.row(t))), 1) for A in As for t in range(n))
    sums_num = float(np.max(np.abs(A_num.sum(axis=-1) - 1)))
    match = (all(_matches(As[j], Zs[j], own[j][3], own[j][2], causal) for j in range(h))
             and exact_equal(Y, sum((Zs[j] * blocks[j] for j in range(h)), sp.zeros(n, d_model))))  # sum_j Z_j W_o^(j)
    contributions = [Zs[j] * blocks[j] for j in range(h)]  # (n, d_v) (d_v, d_model): what head j adds to y_t
    ranks = [eliminate(b).rank for b in blocks]  # each block's row space: where its head writes
    rank_o = eliminate(W["W_o"]).rank
    independent = rank_o == sum(ranks)  # the blocks' row spaces are independent: their sum is direct
    shared = [(j, k, t) for j in range(h) for k in range(h) if k != j for t in range(n)
              if in_span(blocks[k], contributions[j].row(t).T)]  # head j's contribution inside head k's space
    separate = h >= 2 and independent and not shared
    mapped = sp.Matrix.vstack(*(own[j][2] * blocks[j] for j in range(h)))  # lab's rows v_i^(j) W_o^(j): (h n, d_model)
    stages = _block(X, Y, W_1, W_2)  # name -> (n, d_model), the block step by step
    E = eliminate(mapped)  # one elimination for every stage, token and ingredient
    inside = {name: [in_span(mapped, M.row(t).T, E) for t in range(n)] for name, M in stages.items()}
    not_block = not all(inside["block output"])  # y_t is in the span by construction: the table shows it, unchecked
    ingredients = {"some token $x_t$": all(in_span(mapped, X.row(t).T, E) for t in range(n)),
                   "the all-ones vector": in_span(mapped, sp.ones(d_model, 1), E),
                   "some row of $W_2$": all(in_span(mapped, W_2.row(i).T, E) for i in range(W_2.rows))}
    u_num = _layer_norm(F["X"] + Y_num)  # the block in numpy, from numpy's attention output
    block_num = _layer_norm(u_num + np.maximum(u_num @ F["W_1"], 0.0) @ F["W_2"])  # (n, d_model) -> (n, d_ff) -> ...
    err = max(float(np.max(np.abs(Y_num - _evaluate(Y)))), float(np.max(np.abs(Y_num - Y_own_num))),
              float(np.max(np.abs(Y_blocked - Y_own_num))),
              float(np.max(np.abs(Z_num - Z_own_num))), float(np.max(np.abs(A_num - A_own_num))),
              max(float(np.max(np.abs(A_num[j] - _evaluate(As[j])))) for j in range(h)))

    claims = [
        Claim("head-weights", f"each of the {h} heads puts a distribution on the keys for every query",
              "follows from 002 §2", "every row of every A_j sums to 1 (exact and numeric)",
              f"exact: {'1 for every row' if sums else 'a row differs from 1'}; numeric: largest |sum - 1| "
              f"{error_text(sums_num)}", sums and sums_num <= TOLERANCE, True),
        Claim("heads-match-explicit", "vecmix's multi-head attention equals the lab's head-by-head computation: "
              "A_j = softmax(X W_q^(j) (X W_k^(j))^T / sqrt(d_head)), Z_j = A_j X W_v^(j), y = sum_j Z_j W_o^(j)",
              "AIAYN §3.2.2", "A_j, Z_j and Y equal, exactly", "equal (exact)" if match else "different", match, True),
        Claim("heads-in-own-subspaces", "the heads write into separate subspaces of R^d_model: the row spaces of the "
              "blocks W_o^(j) are independent, and for every token each head's contribution z_t^(j) W_o^(j) lies "
              "outside every other head's row space", SOURCE,
              "rank W_o = sum_j rank W_o^(j); z_t^(j) W_o^(j) outside the row space of W_o^(k), every t and j != k",
              _subspaces_text(h, n, rank_o, ranks, shared), separate, True),
        Claim("attention-is-not-the-block", "unlike the attention output, a combination of the mapped values "
              "v_i^(j) W_o^(j), the block output (residual, LayerNorm, ReLU feed-forward) leaves their span for some "
              "token", "002 §7", f"some block output o_t outside the span (rank {E.rank} in R^{d_model})",
              _inside_text(inside, E.rank, d_model), not_block, True),
        Claim("numeric-agrees", "numpy's multihead_attention (Y, each head's Z_j and A_j; Y also by the default "
              "blocked path) agrees with the exact path and with the lab's own per-head numpy products",
              "vecmix (numeric = exact)", f"max difference <= {TOLERANCE:g}", error_text(err), err <= TOLERANCE, False),
    ]
    figures = {"heads.svg": fig.heatmaps([(f"head {j + 1}", A_num[j], _labels(tokens), _labels(tokens))
                                          for j in range(h)])}
    values = [Value("embeddings", F["X"], X), Value("d_head", d_head), Value("scale", 1 / np.sqrt(d_head),
                                                                                       1 / sp.sqrt(d_head))]
    for j in range(h):
        values += [Value(f"head{j + 1}_weights", A_num[j], As[j]),
                   Value(f"head{j + 1}_values", _floats(Vs[j]), Vs[j]), Value(f"head{j + 1}_output", Z_num[j], Zs[j])]
    for key in ("W_q", "W_k", "W_v"):
        values.append(Value(key, F[key], W[key]))
    values += [Value("W_o", F["W_o"], W["W_o"]), Value("output", Y_num, Y), Value("W_1", F["W_1"], W_1),
               Value("W_2", F["W_2"], W_2),
               Value("block_output", block_num),
               Value("in_span", {name: [bool(x) for x in flags] for name, flags in inside.items()})]
    sections = _sections(params, tokens, X, h, d_head, d_ff, W, own, A_num, Y_num, inside, E.rank,
                         [key for key in (*drawn, "W_1", "W_2") if params.get(key) is None], causal,
                         dict(ranks=ranks, rank_o=rank_o, ingredients=ingredients, W_1=W_1, W_2=W_2))
    intro = (f"*Reproduces* the remark of {cite('001', 6)} that multi-head attention repeats the mixture in parallel "
             f"subspaces, and the failure mode of {cite('002', 7)}: confusing the attention mechanism with the whole "
             "transformer block around it.")
    return LabResult("multihead", TITLE, intro, sections, claims, values, figures, [
        "The paper's heads are learned; these projections are small rationals so that every check is exact.",
        f"The paper has h d_head = d_model (8 x 64 = 512); here h d_head = {h * d_head} and d_model = {d_model}"
        + (", so that the mapped values can span a proper subspace and leaving it can be seen." if h * d_head < d_model
           else
           ": the mapped values can span all of the model space, and then membership in their span says nothing "
           "about the block."),
        "The block is the paper's post-LN encoder layer without dropout: LayerNorm without learned gain and bias "
        "and with epsilon = 0 (exact), a feed-forward layer max(0, u W_1) W_2 without biases, with W_1 and W_2 drawn "
        "from lab.seed unless given (lab.W_1, lab.W_2).",
        "001 §6 says the paper's evidence is mainly experimental: for multi-head attention, \"Attention Is All You "
        "Need\" §6.2, Table 3 rows (A) (single-head attention 0.9 BLEU worse than the best setting; too many heads "
        "worse too). That is a result about trained translation models: not reproduced at lab scale, and no check "
        "here stands in for it (see \"What the paper's evidence is\")."])


def _given(value, key, default):
    """A projection from the config (a matrix, or a list of per-head matrices), or the drawn default."""
    if value is None:
        return default
    if isinstance(default, list):
        if not isinstance(value, (list, tuple)) or not value:
            raise VecmixError(f"lab.{key} must be a list of per-head matrices")
        return [read_vectors(w, f"lab.{key}[{j}]") for j, w in enumerate(value)]
    return read_vectors(value, f"lab.{key}")


def _check_heads(W, d_model):
    """Every head's W_q, W_k, W_v maps from d_model, one size per kind for all heads; W_o maps back to d_model."""
    for key in ("W_q", "W_k", "W_v"):
        shapes = [w.shape for w in W[key]]
        if any(shape != shapes[0] for shape in shapes) or shapes[0][0] != d_model:
            raise VecmixError(f"lab.{key} has heads of shapes {', '.join(map(str, shapes))}: every head's matrix "
                              f"must be ({d_model}, size), d_model = {d_model} from lab.embeddings, one size for all")
    if W["W_o"].cols != d_model:
        raise VecmixError(f"lab.W_o has {W['W_o'].cols} columns but the block adds its output to the tokens: it "
                          f"must map back to d_model = {d_model} (lab.embeddings)")


def _sized(M, key, shape):
    """M, after checking that it has the shape the block needs."""
    if M.shape != shape:
        d_model, d_ff = shape if key == "W_1" else shape[::-1]
        raise VecmixError(f"lab.{key} has shape {M.shape} but the block needs {shape}: d_model = {d_model} from "
                          f"lab.embeddings, d_ff = {d_ff} from lab.d_ff")
    return M


def _head_by_hand(X, W_q, W_k, W_v):
    """(Q_j, K_j, V_j, S_j) of one head, exactly, with the lab's own products: S_j = Q_j K_j^T / sqrt(d_head)."""
    Q, K, V = X * W_q, X * W_k, X * W_v  # (n, d_model) (d_model, d_head) -> (n, d_head) each
    return Q, K, V, Q * K.T / sp.sqrt(Q.cols)  # (n, d_head) (d_head, n) -> (n, n)


def _matches(A, Z, S, V, causal):
    """Whether vecmix's head (A, Z) is the softmax of the lab's scores S and the mixture of the lab's values V.

    Row t: A_ti = A_t1 exp(s_ti - s_t1) for every visible key i (a softmax of s_t, given that the
    row sums to 1, which ``head-weights`` checks), A_ti = 0 for hidden keys, and Z = A V.
    """
    n = S.rows
    for t in range(n):
        for i in range(n):
            want = 0 if causal and i > t else A[t, 0] * sp.exp(S[t, i] - S[t, 0])
            if not is_zero(A[t, i] - want):
                return False
    return exact_equal(Z, A * V)  # (n, n) (n, d_head) -> (n, d_head)


def _numeric_by_hand(F, causal):
    """(Y, Z, A) in numpy, head by head, with explicit products: an independent twin of vecmix.multihead_attention."""
    X, Zs, As = F["X"], [], []  # X: (n, d_model)
    for W_q, W_k, W_v in zip(F["W_q"], F["W_k"], F["W_v"]):
        Q, K, V = X @ W_q, X @ W_k, X @ W_v  # (n, d_model) @ (d_model, d_head) -> (n, d_head) each
        S = Q @ K.T / np.sqrt(Q.shape[1])  # (n, d_head) @ (d_head, n) -> (n, n)
        if causal:
            S = np.where(np.tri(*S.shape, dtype=bool), S, -np.inf)
        e = np.exp(S - S.max(axis=1, keepdims=True))
        As.append(e / e.sum(axis=1, keepdims=True))
        Zs.append(As[-1] @ V)  # (n, n) @ (n, d_head) -> (n, d_head)
    d_v = Zs[0].shape[1]
    Y = sum(Z @ F["W_o"][j * d_v:(j + 1) * d_v] for j, Z in enumerate(Zs))  # (n, d_v) @ (d_v, d_model) per head
    return Y, np.array(Zs), np.array(As)


def _floats(M):
    """A rational matrix as float64 (each entry correctly rounded)."""
    return np.array(M.tolist(), dtype=float)


def _centred(M):
    """Each row minus its mean: LayerNorm's numerator (LayerNorm then divides each row by its positive std)."""
    means = sp.Matrix([sp.Add(*M.row(t)) / M.cols for t in range(M.rows)])  # (n, 1)
    return M - means * sp.ones(1, M.cols)  # (n, 1) (1, d_model) -> (n, d_model)


def _block(X, Y, W_1, W_2):
    """The encoder layer around the attention output Y, stage by stage, exactly, each row up to a positive factor.

    LayerNorm divides row t by its standard deviation s_t > 0, and max(0, c a) = c max(0, a) for c > 0,
    so the rows below are the true stages times positive numbers: the same span membership, without
    square roots. The true block output is the last one with each row divided by its standard deviation.
    """
    residual = X + Y  # (n, d_model)
    u = _centred(residual)  # LayerNorm(x + y) times s_t
    hidden = (u * W_1).applyfunc(lambda x: x if _nonnegative(x) else sp.Integer(0))  # ReLU(u W_1): (n, d_ff)
    return {"attention output y": Y, "x + y": residual, "LayerNorm(x + y)": u,
            "block output": _centred(u + hidden * W_2)}  # (n, d_ff) (d_ff, d_model) -> (n, d_model)


def _nonnegative(x):
    """x >= 0, decided from 15 correct digits (SymPy's evalf guarantees them) or, near 0, by vecmix exactly."""
    value = x.evalf(15)
    return bool(value > 0) if value.is_Number and abs(value) > 1e-9 else is_nonnegative(x)


def _layer_norm(M):
    """Numeric LayerNorm of each row (no learned gain or bias, epsilon 0)."""
    centred = M - M.mean(axis=1, keepdims=True)  # (n, d_model)
    std = np.sqrt((centred**2).mean(axis=1, keepdims=True))  # (n, 1)
    if not (std > 0).all():
        raise VecmixError(f"token {int(np.argmin(std[:, 0])) + 1}: every entry of a row entering LayerNorm is the "
                          "same, so it divides by zero; change lab.embeddings")
    return centred / std


def _evaluate(M):
    """An exact matrix as float64, each entry from 17 correct digits (SymPy's evalf)."""
    return np.array([[float(x.evalf(17)) for x in M.row(t)] for t in range(M.rows)])


def _subspaces_text(h, n, rank_o, ranks, shared):
    if h < 2:
        return "only one head: no other subspace"
    independent = rank_o == sum(ranks)
    text = (f"rank W_o = {rank_o} {'=' if independent else '<'} {' + '.join(str(r) for r in ranks)}: the blocks' "
            "row spaces " + ("are independent" if independent else "overlap"))
    if not shared:
        return text + f"; every head's contribution outside every other head's row space, for all {n} tokens"
    j, k, t = shared[0]
    return (text + f"; head {j + 1}'s contribution for token {t + 1} lies in head {k + 1}'s row space"
            + (f" ({len(shared)} such head, head, token triples)" if len(shared) > 1 else ""))


def _subspaces_prose(h, rank_o, ranks, d_model):
    if h < 2:
        return "With one head there is no other subspace to keep apart."
    if rank_o == sum(ranks):
        return (f"Here these row spaces are independent (rank $W_o = {rank_o} = {' + '.join(map(str, ranks))}$), so "
                f"each head has a subspace of $\\mathbb{{R}}^{{{d_model}}}$ of its own and $y_t$ splits uniquely into "
                "the heads' contributions.")
    return (f"Here these row spaces overlap (rank $W_o = {rank_o} < {' + '.join(map(str, ranks))}$): the heads share "
            "directions, and $y_t$ does not tell their contributions apart.")


def _block_prose(inside, ingredients, rank, d_model):
    """Why the stages stay in the span of the mapped values or leave it, from what the block adds."""
    reason = ("The attention output is a mixture of the mapped values, so it stays in their span. The rest of the "
              "block can leave it only through what it adds: the token $x_t$ (the residual connection), a multiple "
              "of the all-ones vector (the mean that LayerNorm subtracts) and combinations of the rows of $W_2$ (the "
              "feed-forward layer); the divisions by standard deviations and the ReLU only rescale or choose among "
              "those. ")
    if rank == d_model:
        return reason + (f"Here the mapped values span all of $\\mathbb{{R}}^{{{d_model}}}$, so every vector lies "
                         "in their span and the table cannot tell the block from the mechanism.")
    missed = [name for name, ok in ingredients.items() if not ok]
    misses = ", ".join(missed[:-1]) + (" and " if len(missed) > 1 else "") + (missed[-1] if missed else "")
    if all(inside["block output"]):
        return reason + ("Here the span holds every token, the all-ones vector and every row of $W_2$, so every "
                         "stage stays in it: this block does not leave the mechanism's subspace." if not missed else
                         f"Here the span misses {misses}, yet with these numbers every block output stays in it.")
    return reason + (f"Here the span misses {misses}, and the block output leaves it: what reaches the next layer is "
                     "the block output, not the mixture.")


def _inside_text(inside, rank, d_model):
    counts = {name: sum(flags) for name, flags in inside.items()}
    n = len(next(iter(inside.values())))
    return (f"span of rank {rank} in R^{d_model}; tokens inside it: "
            + ", ".join(f"{name} {counts[name]} of {n}" for name in inside))


def _labels(tokens):
    return [f"{t + 1} {tok}" for t, tok in enumerate(tokens)]


def _sections(params, tokens, X, h, d_head, d_ff, W, own, A_num, Y_num, inside, rank, drawn, causal, found):
    n, d_model = X.shape
    scale = tex(1 / sp.sqrt(d_head))
    per_head = []
    for j in range(h):
        Q, K, V, _ = own[j]
        per_head.append(
            f"### Head {j + 1}\n"
            + display(rf"W_q^{{({j + 1})}} = {matrix(W['W_q'][j])}, \quad W_k^{{({j + 1})}} = {matrix(W['W_k'][j])}, "
                      rf"\quad W_v^{{({j + 1})}} = {matrix(W['W_v'][j])}")
            + f"\nIts queries, keys and values are $Q_{j + 1} = X W_q^{{({j + 1})}}$, "
            f"$K_{j + 1} = X W_k^{{({j + 1})}}$ "
            f"and $V_{j + 1} = X W_v^{{({j + 1})}}$; its scores are scaled by $1/\\sqrt{{d_{{head}}}} = {scale}$:\n"
            + display(rf"Q_{j + 1} = {matrix(Q)}, \qquad K_{j + 1} = {matrix(K)}, \qquad V_{j + 1} = {matrix(V)}")
            + "\n" + table(["query \\ key"] + _labels(tokens),
                           [[_labels(tokens)[t]] + [decimal(a) for a in A_num[j][t]] for t in range(n)]) + "\n")
    stage_rows = [[name] + ["yes" if ok else "**no**" for ok in flags] for name, flags in inside.items()]
    return [
        "## The idea\n\n"
        "Learned projections make queries, keys and values (the linear-map role); each head then mixes its own "
        "values (the vector-mixture role). With $h$ heads the pattern repeats in parallel subspaces:\n"
        + display(r"z_t^{(j)} = \sum_i A_{ti}^{(j)} v_i^{(j)}, \qquad v_i^{(j)} = x_i W_v^{(j)}, \qquad "
                  r"y_t = \left[z_t^{(1)} \cdots z_t^{(h)}\right] W_o = \sum_j z_t^{(j)} W_o^{(j)}")
        + f"\nHere $h = {h}$ heads of size $d_{{head}} = {d_head}$ (each head's $d_k$, so each scales its scores by "
        f"$1/\\sqrt{{{d_head}}}$, not $1/\\sqrt{{d_{{model}}}}$) act on {n} tokens "
        f"({', '.join(f'`{t}`' for t in tokens)}) in $\\mathbb{{R}}^{{{d_model}}}$"
        + (", with the causal mask" if causal else "")
        + (f"; {', '.join(drawn)} were drawn with seed {params['seed']} as small rationals." if drawn
           else "; every projection was given in the config.") + "\n"
        + display(f"X = {matrix(X)}"),
        "## Each head: its projections, its scale, its weights\n\n"
        "Every weight is an input, printed here, never hidden state. vecmix's `multihead_attention` is compared "
        "with exactly this computation written out in the lab, head by head.\n\n" + "\n".join(per_head)
        + "\n" + image("figures/heads.svg", "attention weights per head",
                       "Figure 1. Each head's attention weights (rows: queries, columns: keys, numbered from 1): the "
                       "same tokens, different mixtures."),
        "## Concatenate, then map by $W_o$\n\n"
        + display(f"W_o = {matrix(W['W_o'])}")
        + f"\nThe rows of $W_o$ come in $h = {h}$ blocks $W_o^{{(j)}}$ of {d_head} rows. Concatenating and applying "
        "$W_o$ is the same as adding each head's output mapped by its own block, so head $j$ writes only into the "
        "row space of $W_o^{(j)}$. " + _subspaces_prose(h, found["rank_o"], found["ranks"], d_model)
        + (f" The output is a sum of {h} mixtures, one per head: a linear combination of the rows "
           "$v_i^{(j)} W_o^{(j)}$ whose coefficients $A_{ti}^{(j)}$ add up to $h = " + str(h) + "$, not 1. So $y_t$ "
           "is a point of the sum of the heads' hulls (one point of each head's hull, added), and $y_t / h$, not "
           "$y_t$, is a convex mixture of all the mapped rows:\n" if h > 1 else
           " With one head the output is a convex mixture of the mapped rows $v_i W_o$:\n")
        + display(f"Y \\approx {matrix(sp.Matrix(Y_num), fmt=decimal)}"),
        "## The mechanism is not the block\n\n"
        "In a transformer the attention output does not go to the next layer on its own. The encoder layer of "
        "\"Attention Is All You Need\" (§3.1) adds it to its input (a residual connection), normalises each row "
        "(LayerNorm), applies the position-wise feed-forward layer of §3.3 with a ReLU, adds and normalises again:\n"
        + display(r"u_t = \operatorname{LayerNorm}(x_t + y_t), \qquad "
                  r"o_t = \operatorname{LayerNorm}\big(u_t + \max(0, u_t W_1) W_2\big)")
        + f"\nwith $W_1$ of size {d_model} x {d_ff} and $W_2$ of size {d_ff} x {d_model}:\n"
        + display(f"W_1 = {matrix(found['W_1'])}, \\qquad W_2 = {matrix(found['W_2'])}")
        + "\nThe mapped values span a "
        f"subspace of dimension {rank} in $\\mathbb{{R}}^{{{d_model}}}$; which stages stay in it, token by token, "
        "checked exactly (LayerNorm divides each row by its standard deviation, a positive number that changes "
        "neither the ReLU's signs nor membership in a span, so the lab checks each stage times that number, "
        "free of square roots):\n\n"
        + table(["stage"] + _labels(tokens), stage_rows)
        + "\n\n" + _block_prose(inside, found["ingredients"], rank, d_model) + "\n",
        "## What the paper's evidence is\n\n"
        f"{cite('001', 6)} notes that the paper's evidence is mainly experimental, not theorem-based. For multi-head "
        "attention it is \"Attention Is All You Need\" §6.2, Table 3 rows (A): the number of heads is varied while "
        "the computation is kept constant ($d_k = d_v = d_{model}/h$); single-head attention is 0.9 BLEU worse than "
        "the best setting on English-to-German newstest2013, and quality also drops off with too many heads. "
        "That needs trained translation models, so this lab does not reproduce it; what it checks is the algebra "
        "above.\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises multihead)

LAB = "multihead"

EXERCISES = [
    Exercise(LAB, "projected_values", "Two tokens x1 = (1, 1), x2 = (0, 1) (the rows of X) and a head with "
             "W_v = [[2], [1]]. Give that head's values V = X W_v as a matrix (one row per token).",
             exact(sp.Matrix([[3], [1]]), "V"), "[[3], [1]]",
             wrong={"[[3, 1]]": "shape 1 x 2", "[[2], [1]]": "not right"},
             hint="row i of X W_v is x_i W_v.", source="001 §6"),
    Exercise(LAB, "concatenated_size", "With d_model = 8 and h = 2 heads of size d_model / h, how many numbers per "
             "token does the concatenation [z1 z2] have, before W_o?", exact(8, "the size"), "8",
             wrong={"4": "not right"}, source="001 §6"),
    Exercise(LAB, "head_output", "One head has values v1 = (2), v2 = (1) and gives token 1 the weights (1/4, 3/4). "
             "What is that head's output for token 1?", exact(sp.Rational(5, 4), "the output"), "5/4",
             also=("[5/4]", "1.25"), wrong={"3": "not right"}, hint="a mixture of the head's own values.",
             source="001 §6"),
    Exercise(LAB, "head_scale", "d_model = 512 and h = 8 heads of size d_model / h. By what factor does each head "
             "scale its scores q . k?", exact(sp.Rational(1, 8), "the factor"), "1/8", also=("1/sqrt(64)",),
             wrong={"1/sqrt(512)": "not right", "1/64": "not right"},
             hint="each head's d_k is its own size, d_model / h.", source="AIAYN §3.2.2"),
    Exercise(LAB, "weights_of_all_heads", "h = 2 heads each give token 1 a distribution over the keys, and "
             "y_1 = sum_j sum_i A_1i^(j) v_i^(j) W_o^(j). What do all the coefficients A_1i^(j), over both heads, "
             "add up to?", exact(2, "the sum"), "2", wrong={"1": "not right", "1/2": "not right"},
             hint="each head's weights add up to 1; y_1 is a sum of one mixture per head, not one mixture.",
             source="AIAYN §3.2.2"),
    Exercise(LAB, "block_leaves_span", "A single head's values span the line through (1, 0) in R^2; for the token "
             "x = (0, 1) its output is y = (1/2, 0), on that line. Give the residual x + y that the block passes on "
             "(it is off the line).", exact([sp.Rational(1, 2), 1], "x + y"), "[1/2, 1]",
             wrong={"[1/2, 0]": "not right", "[1, 1/2]": "not right"},
             hint="add the token's own vector to the attention output.", source="002 §7"),
]
