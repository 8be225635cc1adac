"""Lab ``additive_vs_dot``: additive (Bahdanau) and dot-product scoring side by side (AIAYN §3.2.1).

The paper names the two common compatibility functions: the dot product q . k (its own, divided
by sqrt(d_k)) and additive attention, a feed-forward network with one hidden layer,

    e_j = w^T tanh(W_q q + W_k k_j),  W_q, W_k of shape (d_a, d_k)   (Bahdanau et al.: v_a^T tanh(W_a s + U_a h_j)).

Either way the output is a softmax mixture of the values. The lab checks that on random draws, counts
each scorer's work as it runs (a dot-product head with its projections W^Q, W^K beside the additive
scorer with its W_q, W_k), and follows the weights as d_k grows: unscaled dot products spread like
sqrt(d_k) and push softmax onto one key; 1/sqrt(d_k) keeps dot products steady, fan-in-scaled W_q, W_k
(entries N(0, 1/d_k)) keep additive scores steady the same way, and the tanh bounds them by ||w||_1
whatever the scale. The paper's trained comparison (Britz et al. 2017) is beyond a lab.
"""

import itertools
from dataclasses import dataclass, field
from typing import List

import numpy as np
import sympy as sp

from vecmix import VecmixError, attention, softmax

from ..claims import Claim, fault, inputs
from ..config.inputs import read_positive_int, read_seed
from ..config.resources import FLOAT, check_memory
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, display, error_text, image, table, tex
from ._products import Product, polynomial_through
from .scaling import jacobian_norms

TITLE = "Additive and dot-product attention side by side: cost, and what a growing d_k does to each"
SOURCE = "AIAYN §3.2.1"
LAB = "additive_vs_dot"
MAX_DIM = 65536  # d_k and d_a: far beyond the paper's 64 (and Britz et al.'s 1024)
MAX_COUNT = 4096  # queries per draw
MAX_KEYS = 32  # keys (and values) per draw: the figure draws and labels every value
MAX_DRAWS = 100000
D_V = 2  # the values live in the plane: the hull test is a polygon's and the figure draws it as it is
STRESS = 1000  # the bound is checked again on the same q and k multiplied by this
TOLERANCE = 1e-12  # float rounding allowed in the mixture checks (relative to the size of the values)
SATURATED_WEIGHT = 0.9  # unscaled: the mean largest weight reaches this at the largest d_k
COLLAPSE = 100  # unscaled: the median Jacobian norm at the largest d_k falls below 1/COLLAPSE of the smallest's
STEADY = 1.5  # scaled and additive: largest / smallest across d_k at most this
AHEAD = 10  # additive: at the largest d_k, at least this many times the unscaled median Jacobian norm
VANISHING = 1e-3  # a Jacobian norm below this counts as a vanishing gradient in the tables
PATHS = ("unscaled", "scaled", "additive")
NAMES = {"unscaled": "unscaled dot product", "scaled": "scaled dot product", "additive": "additive"}
LABELS = {"unscaled": "q · k (unscaled)", "scaled": "q · k / √d_k",
          "additive": "additive, wᵀ tanh(W_q q + W_k k)"}
n, m, dk, da = sp.symbols("n m d_k d_a", positive=True, integer=True)
GRID = ([1, 2],) * 4  # tiny (n, m, d_k, d_a) the counts are fitted through: every count is multilinear in them


@dataclass
class Config:
    """additive_vs_dot: additive and dot-product scores of random queries and keys at several d_k (AIAYN §3.2.1)."""

    name: str = "additive_vs_dot"
    seed: int = 0  # draws the queries, keys, values and the additive network
    queries: int = 16  # n: queries per draw
    keys: int = 8  # m: keys (and values) per draw, at least 3 (the values' hull is then a polygon)
    d_k: List[int] = field(default_factory=lambda: [4, 16, 64, 256, 1024])  # increasing, at least two
    d_a: int = 64  # the additive network's hidden size
    draws: int = 50  # independent draws of (Q, K, V); the statistics pool their draws x queries rows
    fan_in: bool = True  # W_q, W_k entries N(0, 1/d_k), fan-in scaled; false: N(0, 1), whatever d_k


# --- the scorers ----------------------------------------------------------------------------------------------------

def dot_scores(Q, K, scale=None):
    """Dot-product scores S = Q K^T * scale, scale 1/sqrt(d_k) by default (the paper's); ``scale=1``: unscaled.

    Q (..., n, d_k), K (..., m, d_k) -> S (..., n, m).

    >>> dot_scores([[1.0, 1.0]], [[1.0, 0.0], [2.0, 2.0]], scale=1).tolist()
    [[1.0, 4.0]]
    >>> float(dot_scores([[2.0, 0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0, 0.0]])[0, 0])  # 2 / sqrt(4)
    1.0
    """
    Q, K = np.asanyarray(Q, dtype=float), np.asanyarray(K, dtype=float)  # asanyarray: a counted array stays counted
    S = Q @ np.swapaxes(K, -1, -2)  # (..., n, d_k) @ (..., d_k, m) -> (..., n, m)
    return S * (1 / np.sqrt(Q.shape[-1]) if scale is None else float(scale))


def head_scores(Q, K, W_q, W_k):
    """A dot-product head's scores from the additive scorer's inputs: (W_q q) . (W_k k) / sqrt(d_a).

    A Transformer head projects its queries and keys (W^Q, W^K, §3.2.2) before it takes dot products;
    here its projections have the additive scorer's shapes, so that the two scorers are counted alike.
    Q (..., n, d_k), K (..., m, d_k), W_q and W_k (d_a, d_k) -> S (..., n, m).

    >>> head_scores([[1.0, 2.0]], [[3.0, 4.0]], np.eye(2), 2 * np.eye(2)) * np.sqrt(2)  # (1, 2) . (6, 8)
    array([[22.]])
    """
    Q, K = np.asanyarray(Q, dtype=float), np.asanyarray(K, dtype=float)
    W_q, W_k = np.asanyarray(W_q, dtype=float), np.asanyarray(W_k, dtype=float)
    return dot_scores(_project(Q, W_q.T), _project(K, W_k.T))  # (..., n, d_a) . (..., m, d_a) -> (..., n, m)


def additive_scores(Q, K, W_q, W_k, w):
    """Additive scores e_ij = w^T tanh(W_q q_i + W_k k_j): one hidden layer of size d_a, then w.

    Q (..., n, d_k), K (..., m, d_k), W_q and W_k (d_a, d_k), w (d_a,) -> e (..., n, m). Each query
    and each key is projected once; the pairs meet only in the hidden layer, an (..., n, m, d_a) array.

    >>> e = additive_scores([[1.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]], np.eye(2), np.eye(2), [1.0, -1.0])  # d_a = d_k
    >>> bool(np.allclose(e, [[np.tanh(1.0), np.tanh(2.0) - np.tanh(1.0)]]))
    True
    """
    Q, K = np.asanyarray(Q, dtype=float), np.asanyarray(K, dtype=float)
    W_q, W_k, w = (np.asanyarray(x, dtype=float) for x in (W_q, W_k, w))
    P_q = _project(Q, W_q.T)  # (..., n, d_k) @ (d_k, d_a) -> (..., n, d_a): each query projected once, W_q q
    P_k = _project(K, W_k.T)  # (..., m, d_k) @ (d_k, d_a) -> (..., m, d_a): each key projected once, W_k k
    H = np.tanh(P_q[..., :, np.newaxis, :] + P_k[..., np.newaxis, :, :])  # (..., n, m, d_a): the hidden layer
    return H @ w  # (..., n, m, d_a) @ (d_a,) -> (..., n, m)


def _project(X, W):
    """X (..., r, d_k) @ W (d_k, d_a) as one product of the stacked rows: numpy's batched matmul does not use BLAS
    when one operand is broadcast over the batch axes, and is then a hundred times slower."""
    return (X.reshape(-1, X.shape[-1]) @ W).reshape(*X.shape[:-1], W.shape[-1])  # (rows, d_k) @ (d_k, d_a)


def additive_attention(Q, K, V, W_q, W_k, w):
    """(Z, A): additive scores, softmax over the keys (vecmix's), and the mixture Z = A V of the values.

    >>> Z, A = additive_attention([[1.0, 0.0]], [[1.0, 0.0], [-1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], np.eye(2),
    ...                           np.eye(2), [1.0, 0.0])
    >>> A.sum(axis=-1).tolist(), bool(np.allclose(Z, A @ [[1.0, 0.0], [0.0, 1.0]]))
    ([1.0], True)
    """
    A = softmax(additive_scores(Q, K, W_q, W_k, w))  # (..., n, m)
    return A @ np.asarray(V, dtype=float), A  # (..., n, m) @ (..., m, d_v) -> (..., n, d_v)


def hidden_slope(Q, K, W_q, W_k):
    """The mean of tanh'(h) = 1 - tanh(h)^2 over the hidden units h = W_q q_i + W_k k_j of every pair.

    Every gradient that reaches q or k through the additive scorer passes through a tanh' factor:
    near 1 where the tanh is near linear, near 0 where it saturates.

    >>> hidden_slope([[0.0]], [[0.0]], [[1.0]], [[1.0]]), round(hidden_slope([[10.0]], [[10.0]], [[1.0]], [[1.0]]), 12)
    (1.0, 0.0)
    """
    Q, K, W_q, W_k = (np.asarray(x, dtype=float) for x in (Q, K, W_q, W_k))
    H = _project(Q, W_q.T)[..., :, np.newaxis, :] + _project(K, W_k.T)[..., np.newaxis, :, :]  # (..., n, m, d_a)
    return float(np.mean(1 - np.tanh(H) ** 2))


# --- counting the work a scorer does, from the scorer itself -------------------------------------------------------

@dataclass
class Cost:
    """What one call of a scorer did: multiply-adds of its matrix products, tanh evaluations, its largest array."""

    multiply_adds: int = 0
    tanh: int = 0
    largest: int = 0  # entries of the largest result of an operation with no weight among its operands (past the
    # projections, which both scorers make alike: n x d_a and m x d_a)


_TALLIES = []  # the counts in progress, innermost last


class _Counted(np.ndarray):
    """An ndarray that reports to the tally in progress every operation it takes part in (and stays counted)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, _Counted) else x for x in inputs]
        result = getattr(ufunc, method)(*plain, **kwargs)
        if _TALLIES and method == "__call__" and isinstance(result, np.ndarray):
            tally = _TALLIES[-1]
            if ufunc is np.matmul:
                tally.multiply_adds += Product("", tuple(np.shape(x) for x in inputs)).multiply_adds
            if ufunc is np.tanh:
                tally.tanh += int(result.size)
            if all(isinstance(x, _Counted) for x in inputs if isinstance(x, np.ndarray)):  # no weight among them
                tally.largest = max(tally.largest, int(result.size))
        return result.view(_Counted) if isinstance(result, np.ndarray) and "out" not in kwargs else result


def count(scorer, Q, K, *weights):
    """The :class:`Cost` of ``scorer(Q, K, *weights)``, counted from the operations it performs.

    Q and K, and whatever is made from them, are counted; the weights are not, so that a product
    with a weight (a projection) counts its multiply-adds but not its result among the arrays.

    >>> count(dot_scores, np.ones((3, 5)), np.ones((4, 5)))  # (3, 5) @ (5, 4), then the scale on a 3 x 4 matrix
    Cost(multiply_adds=60, tanh=0, largest=12)
    """
    tally = Cost()
    _TALLIES.append(tally)
    try:
        scorer(*(np.asarray(x, dtype=float).view(_Counted) for x in (Q, K)), *weights)
    finally:
        _TALLIES.remove(tally)
    return tally


def costs(sizes):
    """{"dot": Cost, "additive": Cost} of a dot-product head and of additive scoring at (n, m, d_k, d_a) = ``sizes``.

    Both take n queries and m keys of dimension d_k and project them to d_a dimensions first.

    >>> c = costs((2, 3, 4, 5))  # (2 + 3) 4 5 + 2 3 5 multiply-adds each
    >>> c["dot"].multiply_adds, c["additive"].multiply_adds, c["additive"].tanh, c["dot"].largest, c["additive"].largest
    (130, 130, 30, 6, 30)
    """
    n_, m_, d_k, d_a = sizes
    Q, K = np.ones((n_, d_k)), np.ones((m_, d_k))  # the work depends on the shapes, not on the numbers
    W_q, W_k, w = np.ones((d_a, d_k)), np.ones((d_a, d_k)), np.ones(d_a)
    return {"dot": count(head_scores, Q, K, W_q, W_k), "additive": count(additive_scores, Q, K, W_q, W_k, w)}


# --- the run -----------------------------------------------------------------------------------------------------

def run(params):
    """Both scorers on random draws at every d_k: mixtures, the additive bound, saturation, and their counted cost.

    >>> r = run({"seed": 0, "queries": 4, "keys": 6, "d_k": [4, 256, 1024], "d_a": 16, "draws": 40})
    >>> r.reproduced
    True
    """
    seed = read_seed(params["seed"])
    n_q = read_positive_int(params["queries"], "lab.queries", maximum=MAX_COUNT)
    n_k = read_positive_int(params["keys"], "lab.keys", maximum=MAX_KEYS,
                            reason="the figure draws and labels every value")
    if n_k < 3:
        raise VecmixError(f"lab.keys = {n_k} is too few: at least 3 keys, so that the {n_k} values' convex hull in "
                          "the plane is a polygon")
    grid = _read_d_k(params["d_k"])
    d_a = read_positive_int(params["d_a"], "lab.d_a", maximum=MAX_DIM)
    draws = read_positive_int(params["draws"], "lab.draws", maximum=MAX_DRAWS)
    fan_in = params.get("fan_in", True)
    if not isinstance(fan_in, bool):
        raise VecmixError(f"lab.fan_in = {fan_in!r} must be true or false")
    d_max = grid[-1]
    check_memory(LAB, (FLOAT * 2 * draws * (n_q + n_k) * d_max, {"lab.draws": draws, "lab.d_k": d_max}),  # Q, K
                 (FLOAT * 4 * draws * n_q * n_k * d_a, {"lab.draws": draws, "lab.d_a": d_a}),  # hidden layers
                 (FLOAT * 4 * draws * n_q * n_k * n_k, {"lab.draws": draws, "lab.queries": n_q,
                                                         "lab.keys": n_k}),  # softmax Jacobians, m x m per row
                 (FLOAT * 2 * d_max * d_a, {"lab.d_k": d_max, "lab.d_a": d_a}))  # W_q, W_k

    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((draws, n_q, d_max))  # (draws, n, d_max): entries iid N(0, 1), as in footnote 4
    K = rng.standard_normal((draws, n_k, d_max))  # (draws, m, d_max)
    V = rng.standard_normal((draws, n_k, D_V))  # (draws, m, 2)
    G_q, G_k = rng.standard_normal((d_a, d_max)), rng.standard_normal((d_a, d_max))  # W at d_k: first d_k columns
    w = rng.standard_normal(d_a) / np.sqrt(d_a)  # (d_a,): entries N(0, 1/d_a)
    bound = float(np.sum(np.abs(w)))  # ||w||_1

    stats = {p: [] for p in PATHS}  # per d_k: mean largest weight, median Jacobian norm, share vanishing, largest norm
    slope = []  # per d_k: the additive hidden layer's mean tanh'
    departure = {p: 0.0 for p in PATHS}  # the largest departure from a mixture in the hull, relative to the values
    top = {1: 0.0, STRESS: 0.0}  # the largest |e_j| on the draws, and on the same q and k times STRESS
    log_ratio = 0.0  # the largest log(largest additive weight / smallest)
    shown = {}  # the first query of the first draw at the largest d_k: its three outputs, for the figure
    size = float(np.max(np.abs(V)))
    hulls = [fig.convex_hull(v) for v in V]  # counter-clockwise vertices of each draw's values
    for d_k in grid:
        q, k = Q[..., :d_k], K[..., :d_k]  # common random numbers: the first d_k components
        W_q, W_k = (G[:, :d_k] / np.sqrt(d_k if fan_in else 1) for G in (G_q, G_k))  # (d_a, d_k): N(0, 1/d_k) or N(0,1)
        out = {"unscaled": attention(q, k, V, scale=1.0, weights=True), "scaled": attention(q, k, V, weights=True),
               "additive": additive_attention(q, k, V, W_q, W_k, w)}  # (Z (draws, n, 2), A (draws, n, m)) each
        for path, (Z, A) in out.items():
            a = A.reshape(-1, n_k)  # (draws n, m): one row per query
            J = jacobian_norms(a)
            stats[path].append((float(np.mean(a.max(axis=1))), float(np.median(J)), float(np.mean(J < VANISHING)),
                                float(np.max(J))))
            departure[path] = max(departure[path], _mixture_error(Z, A, V) / size,
                                  max(_outside(h, z) for h, z in zip(hulls, Z)) / size)
            if d_k == d_max:
                shown[path] = (Z[0, 0], float(A[0, 0].max()))
        slope.append(hidden_slope(q, k, W_q, W_k))
        for factor in top:  # the additive bound, on the draws and on the same q, k a thousand times larger
            e = additive_scores(factor * q, factor * k, W_q, W_k, w)  # (draws, n, m)
            top[factor] = max(top[factor], float(np.max(np.abs(e))))
            with np.errstate(divide="ignore"):  # a weight of exactly 0 makes the ratio infinite: the bound fails
                logs = np.log(softmax(e))  # (draws, n, m)
            log_ratio = max(log_ratio, float(np.max(logs.max(axis=-1) - logs.min(axis=-1))))

    cost_claims, cost_rows, fits = _cost_claims(n_q, n_k, grid, d_a)
    claims = [_mixture_claim(departure, grid, draws * n_q), _bound_claim(bound, top, log_ratio, grid),
              *_saturation_claims(stats, slope, grid, fan_in), *cost_claims]
    figures = {
        "saturation.svg": fig.line_panels(grid, [
            ("mean largest weight", {LABELS[p]: [s[0] for s in stats[p]] for p in PATHS}),
            ("median softmax Jacobian norm", {LABELS[p]: [s[1] for s in stats[p]] for p in PATHS}),
        ], "d_k", log_x=True),
        "mixtures.svg": fig.mixture_figure(V[0], [fig.named("v", j + 1) for j in range(n_k)], [
            (p, f"{LABELS[p]}, d_k = {d_max}", shown[p][0], fig.OTHER_COLORS[i]) for i, p in enumerate(PATHS)]),
    }
    values = [Value("d_k", grid), Value("w_l1", _sig(bound)), Value("largest_additive_score", _sig(top[1])),
              Value("largest_additive_score_stressed", _sig(top[STRESS])),
              *[Value(f"{name}_{p}", [_sig(s[i]) for s in stats[p]]) for p in PATHS for i, name in enumerate((
                  "mean_largest_weight", "median_jacobian_norm", "share_vanishing", "largest_jacobian_norm"))],
              Value("mean_tanh_slope_additive", [_sig(s) for s in slope]),
              *[Value(f"{key}_polynomial", None, fits[key]) for key in sorted(fits)],
              *[Value(f"multiply_adds_{s}", [r[s].multiply_adds for r in cost_rows]) for s in ("dot", "additive")]]
    sections = _sections(n_q, n_k, grid, d_a, draws, fan_in, bound, top, log_ratio, stats, slope, cost_rows, fits,
                         departure, shown)
    intro = ("*Reproduces* the comparison of \"Attention Is All You Need\" (Vaswani et al., 2017, arXiv:1706.03762) "
             "§3.2.1 between its scaled dot-product attention and additive attention (Bahdanau et al., 2015, "
             "arXiv:1409.0473): both make a mixture of the values; their counted cost, each with its projections; "
             "and, as $d_k$ grows, what happens to the weights of each, with and without the $1/\\sqrt{d_k}$ scale. "
             "The trained comparison the paper cites for additive attention's advantage at large $d_k$ is not "
             "reproduced (see the deviations); the mechanism it points to is.")
    return LabResult(LAB, TITLE, intro, sections, claims, values, figures, [
        "The paper's remark that \"additive attention outperforms dot product attention without scaling for larger "
        "values of d_k\" is a trained result of its reference [3] (Britz et al., 2017, Massive Exploration of Neural "
        "Machine Translation Architectures): it is not reproduced here. The lab shows the mechanism the paper "
        "suspects behind it, in an untrained network on random queries and keys with iid N(0, 1) entries (footnote "
        "4's assumption).",
        "The additive network is this lab's: e = w^T tanh(W_q q + W_k k), no bias, W_q and W_k of shape (d_a, d_k) "
        f"with entries {'N(0, 1/d_k)' if fan_in else 'N(0, 1)'}, w with entries N(0, 1/d_a), one network per d_k "
        "(the first d_k columns of one draw) shared by every draw. Bahdanau et al.'s v_a^T tanh(W_a s + U_a h) has "
        "its own sizes and initialisation, and training can make w, and so the bound ||w||_1, larger.",
        "With W_q and W_k drawn N(0, 1), without the fan-in scaling (lab.fan_in=false), the pre-activations have "
        "variance 2 d_k and the tanh saturate inside the hidden layer: their mean slope tanh' falls roughly as "
        f"1/sqrt(pi d_k) (about {decimal(1 / np.sqrt(np.pi * grid[0]), 2)} at d_k = {grid[0]}, "
        f"{decimal(1 / np.sqrt(np.pi * d_max), 3)} at d_k = {d_max}), so the gradients to q and k vanish in the "
        "hidden layer, while the tanh's bound keeps the largest weight and the softmax Jacobian steady. The "
        "softmax-side statistics cannot see that vanishing gradient; the tanh' column (run with lab.fan_in=false) "
        "shows it.",
        "The cost counts give the dot product a head's projections W^Q, W^K (§3.2.2), so that both scorers start "
        "from the same inputs; §3.2.1 compares the compatibility functions alone. \"Much faster ... in practice\" "
        "is not timed: a time depends on the machine and would make the report differ from run to run.",
        "The saturation statistics pool draws x queries random queries; their thresholds (a mean largest weight of "
        f"{SATURATED_WEIGHT}, a factor of {COLLAPSE}, {STEADY} and {AHEAD}) are this lab's. The values live in the "
        "plane (d_v = 2), so that the hull test is a polygon's and the figure needs no projection.",
    ])


def _read_d_k(value):
    """The d_k list: at least two dimensions, each a positive integer, increasing."""
    if not isinstance(value, (list, tuple)):
        raise VecmixError(f"lab.d_k must be a list of dimensions such as [4, 64, 1024], got {value!r}")
    if not value:
        raise VecmixError("lab.d_k is empty: give at least two dimensions, such as [4, 1024]")
    grid = [read_positive_int(x, f"lab.d_k[{i}]", maximum=MAX_DIM) for i, x in enumerate(value)]
    if len(grid) < 2 or any(b <= a for a, b in zip(grid, grid[1:])):
        raise VecmixError(f"lab.d_k = {grid} must hold at least two dimensions, increasing: the claims compare the "
                          "smallest d_k with the largest")
    return grid


def _sig(x, digits=4):
    """x to a few significant digits: statistics of a sample, stable across CPUs and BLAS builds.

    >>> _sig(0.123456789), _sig(2.0)
    (0.1235, 2.0)
    """
    return float(f"{x:.{digits}g}")


def _mixture_error(Z, A, V):
    """The largest of: a negative weight, a row's departure from sum 1, |Z - A V| (A (..., n, m), V (..., m, d_v))."""
    with np.errstate(invalid="ignore"):
        return float(max(np.max(-A, initial=0.0), np.max(np.abs(A.sum(axis=-1) - 1)),
                         np.max(np.abs(Z - A @ V))))  # (..., n, m) @ (..., m, d_v) -> (..., n, d_v)


def _outside(hull, Z):
    """How far the farthest point of Z (n, 2) lies outside the convex polygon ``hull`` (counter-clockwise), or 0.

    >>> square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    >>> _outside(square, np.array([[0.5, 0.5], [1.0, 1.0]])), _outside(square, np.array([[0.5, 1.25]]))
    (0.0, 0.25)
    """
    a, b = hull, np.roll(hull, -1, axis=0)  # (h, 2) each: the edges a -> b
    edge = b - a
    normal = np.stack([edge[:, 1], -edge[:, 0]], axis=1) / np.linalg.norm(edge, axis=1)[:, np.newaxis]  # outward
    signed = np.einsum("nhd,hd->nh", Z[:, np.newaxis, :] - a[np.newaxis], normal)  # (n, h): > 0 outside edge h
    return float(max(np.max(signed), 0.0))


def _spread(xs):
    """largest / smallest of positive statistics (infinite when the smallest is 0)."""
    return max(xs) / min(xs) if min(xs) > 0 else np.inf


# --- the claims ------------------------------------------------------------------------------------------------------

def _mixture_claim(departure, grid, rows):
    return Claim(
        "both-are-mixtures", "with either scorer, and the dot product with or without its scale, the weights are "
        "nonnegative and sum to 1 and the output is their mixture of the values, inside the values' convex hull: "
        f"{rows} queries at each of d_k = {', '.join(map(str, grid))}", SOURCE,
        f"every weight >= 0, every row sum within {TOLERANCE:g} of 1, Z = A V and every output within {TOLERANCE:g} "
        "of the hull (relative to the largest value entry)",
        "; ".join(f"{p}: largest departure {error_text(departure[p], TOLERANCE / 10)}" for p in PATHS),
        max(departure.values()) <= TOLERANCE, False)


def _bound_claim(bound, top, log_ratio, grid):
    ok = max(top.values()) <= bound * (1 + TOLERANCE) and log_ratio <= 2 * bound * (1 + TOLERANCE) + TOLERANCE
    return Claim(
        "additive-scores-bounded", "the additive score w^T tanh(W_q q + W_k k) is bounded by ||w||_1 for every q and "
        "k, since |tanh| < 1, so no two additive weights differ by more than a factor exp(2 ||w||_1): checked at "
        f"every d_k = {', '.join(map(str, grid))}, on the draws and on the same q and k multiplied by {STRESS}",
        SOURCE, f"every |e_j| <= ||w||_1 = {decimal(bound, 4)}; every log(largest weight / smallest) <= 2 ||w||_1 = "
        f"{decimal(2 * bound, 4)}",
        f"largest |e_j| {decimal(top[1], 4)} on the draws, {decimal(top[STRESS], 4)} on the draws times {STRESS}; "
        f"largest log weight ratio {decimal(log_ratio, 4)}", ok, False)


def _saturation_claims(stats, slope, grid, fan_in):
    """The three d_k claims. Each also checks that every Jacobian norm is at most 1/2, as it is for weights that sum
    to 1: ||diag(a) - a a^T||_F^2 = s_2 - 2 s_3 + s_2^2 <= s_2 - s_2^2 <= 1/4, with s_k = sum_i a_i^k and
    s_3 >= s_2^2 (Cauchy-Schwarz)."""
    first, last = grid[0], grid[-1]
    un, sc, ad = (stats[p] for p in PATHS)
    within = {p: max(s[3] for s in stats[p]) <= 0.5 * (1 + TOLERANCE) for p in PATHS}
    steady = {p: max(_spread([s[i] for s in stats[p]]) for i in (0, 1)) <= STEADY for p in ("scaled", "additive")}
    bounded = "; every Jacobian norm <= 1/2 (weights that sum to 1)"

    def observed(p):
        s = stats[p]
        return (f"mean largest weight {decimal(min(x[0] for x in s))} .. {decimal(max(x[0] for x in s))}; median "
                f"Jacobian norm {decimal(min(x[1] for x in s), 4)} .. {decimal(max(x[1] for x in s), 4)}; largest "
                f"Jacobian norm {decimal(max(x[3] for x in s), 4)}")

    return [
        Claim("unscaled-dot-saturates", "without the scale, as d_k grows softmax puts nearly all the weight on one "
              f"key (mean largest weight at least {SATURATED_WEIGHT} at the largest d_k) and its Jacobian diag(a) - a "
              f"a^T all but vanishes (median Frobenius norm at the largest d_k below 1/{COLLAPSE} of its value at the "
              "smallest)", SOURCE,
              f"mean largest weight >= {SATURATED_WEIGHT} at d_k = {last}; median Jacobian norm at d_k = {last} "
              f"<= 1/{COLLAPSE} of that at d_k = {first}{bounded}",
              f"mean largest weight {decimal(un[0][0])} at d_k = {first}, {decimal(un[-1][0])} at d_k = {last}; "
              f"median Jacobian norm {decimal(un[0][1], 4)} -> {decimal(un[-1][1], 4)}; largest Jacobian norm "
              f"{decimal(max(s[3] for s in un), 4)}",
              un[-1][0] >= SATURATED_WEIGHT and un[-1][1] * COLLAPSE <= un[0][1] and within["unscaled"], False),
        Claim("scaled-dot-steady", "with vecmix's default scale 1/sqrt(d_k), the mean largest weight and the median "
              f"Jacobian norm each stay within a factor of {STEADY} across d_k = {first}..{last}", SOURCE,
              f"largest / smallest <= {STEADY} for both{bounded}", observed("scaled"),
              steady["scaled"] and within["scaled"], False),
        Claim("additive-steady", "with fan-in-scaled projections (W_q, W_k entries N(0, 1/d_k)"
              + ("" if fan_in else "; this run draws N(0, 1), which makes that variance 2 d_k") + ") the hidden "
              "pre-activations W_q q + W_k k have variance 2 at every d_k, as 1/sqrt(d_k) keeps the dot products' at "
              "1, so the additive scorer stays steady as d_k "
              "grows: its mean largest weight, median Jacobian norm and mean tanh' (the hidden layer's slope, which "
              f"every gradient to q and k passes through) each stay within a factor of {STEADY}, and at the largest "
              f"d_k its median Jacobian norm is at least {AHEAD} times the unscaled dot product's: a mechanism "
              "that could explain additive attention doing better than unscaled dot products at large d_k",
              f"{SOURCE} (and its reference [3])",
              f"largest / smallest <= {STEADY} for all three; median Jacobian norm at d_k = {last} >= {AHEAD} x the "
              f"unscaled one{bounded}",
              f"{observed('additive')}; mean tanh' {decimal(min(slope), 4)} .. {decimal(max(slope), 4)}; at d_k = "
              f"{last} median Jacobian norm additive {decimal(ad[-1][1], 4)}, unscaled {decimal(un[-1][1], 4)}",
              steady["additive"] and _spread(slope) <= STEADY and ad[-1][1] >= AHEAD * un[-1][1]
              and within["additive"], False),
    ]


def _cost_claims(n_q, n_k, grid, d_a):
    """The two cost claims, the counts at the configured sizes, and the polynomials fitted through tiny sizes."""
    tiny = {size: costs(size) for size in itertools.product(*GRID)}
    fits = {f"{what}_{s}": sp.factor(polynomial_through(lambda *size: getattr(tiny[size][s], what), (n, m, dk, da),
                                                        GRID))
            for s in ("dot", "additive") for what in ("multiply_adds", "tanh", "largest")}
    rows = [costs((n_q, n_k, d_k, d_a)) for d_k in grid]
    predicted = all(getattr(r[s], what) == fits[f"{what}_{s}"].subs({n: n_q, m: n_k, dk: d_k, da: d_a})
                    for r, d_k in zip(rows, grid) for s in ("dot", "additive")
                    for what in ("multiply_adds", "tanh", "largest"))
    same = sp.expand(fits["multiply_adds_additive"] - fits["multiply_adds_dot"]) == 0
    equal = [r["additive"].multiply_adds == r["dot"].multiply_adds for r in rows]
    space = [sp.Rational(r["additive"].largest, r["dot"].largest) for r in rows]
    space_fit = sp.simplify(fits["largest_additive"] / fits["largest_dot"])
    unfitted = "" if predicted else "; some configured count differs from the fitted polynomial"
    return [
        Claim("similar-complexity", "the two are similar in theoretical complexity: counted from the scorers as they "
              "run, from the same n queries and m keys of dimension d_k, each projected to d_a dimensions first (a "
              "dot-product head's W^Q, W^K; the additive scorer's W_q, W_k), both take (n + m) d_k d_a + n m d_a "
              "multiply-adds; additive scoring adds n m d_a tanh (with the projections left out on both sides, n m "
              "d_a multiply-adds each)", SOURCE,
              "multiply-adds additive = dot, as polynomials and at every configured d_k; every configured count as "
              "fitted",
              f"dot {sp.sstr(fits['multiply_adds_dot'])}, additive {sp.sstr(fits['multiply_adds_additive'])}; at "
              f"n = {n_q}, m = {n_k}, d_a = {d_a}: "
              + ", ".join((f"{r['dot'].multiply_adds:,} each" if eq else f"dot {r['dot'].multiply_adds:,}, additive "
                           f"{r['additive'].multiply_adds:,}") + f" at d_k = {g}"
                          for r, g, eq in zip(rows, grid, equal))
              + unfitted,
              same and all(equal) and predicted, True),
        Claim("dot-more-space-efficient", "dot-product attention is more space-efficient in practice: vectorised as "
              "one array operation (as matrix-multiplication code runs it), additive scoring builds an n x m x d_a "
              "hidden layer where dot products need the n x m score matrix, besides the n x d_a and m x d_a "
              "projections both make (a loop over the hidden units would avoid the large array at the price of d_a "
              "passes over an n x m one)", SOURCE,
              "largest array beyond the projections: additive / dot = d_a (fitted), > 1 at every configured d_k",
              f"dot {sp.sstr(fits['largest_dot'])}, additive {sp.sstr(fits['largest_additive'])} entries; at the "
              f"configured sizes additive / dot = {', '.join(sorted({sp.sstr(s) for s in space}))}" + unfitted,
              space_fit == da and all(s > 1 for s in space) and predicted, True),
    ], rows, fits


def _sections(n_q, n_k, grid, d_a, draws, fan_in, bound, top, log_ratio, stats, slope, cost_rows, fits, departure,
              shown):
    d_max = grid[-1]
    cost_table = table(["$d_k$", "dot: multiply-adds", "additive: multiply-adds", "additive: tanh",
                        "largest array past the projections: dot", "additive"],
                       [[g, *(f"{x:,}" for x in (r["dot"].multiply_adds, r["additive"].multiply_adds,
                                                 r["additive"].tanh, r["dot"].largest, r["additive"].largest))]
                        for g, r in zip(grid, cost_rows)])
    rows = [[g, *(decimal(stats[p][i][0]) for p in PATHS), *(decimal(stats[p][i][1], 4) for p in PATHS),
             *(f"{100 * stats[p][i][2]:.1f}%" for p in PATHS), decimal(slope[i], 4)] for i, g in enumerate(grid)]
    saturation_table = table(["$d_k$", "largest weight: unscaled", "scaled", "additive", "Jacobian norm: unscaled",
                              "scaled", "additive", f"norm below {VANISHING:g}: unscaled", "scaled", "additive",
                              "additive: tanh'"], rows)
    init = "$N(0, 1/d_k)$ (fan-in scaled)" if fan_in else "$N(0, 1)$ (not fan-in scaled: `lab.fan_in=false`)"
    return [
        "## Two compatibility functions\n\n"
        "The paper: \"The two most commonly used attention functions are additive attention, and dot-product "
        "(multiplicative) attention. Dot-product attention is identical to our algorithm, except for the scaling "
        "factor of $\\frac{1}{\\sqrt{d_k}}$. Additive attention computes the compatibility function using a "
        "feed-forward network with a single hidden layer.\" For a query $q$ and keys $k_j$ in $\\mathbb{R}^{d_k}$:\n"
        + display(r"s_j = \frac{q \cdot k_j}{\sqrt{d_k}} \qquad \text{or} \qquad e_j = w^\top \tanh\left(W_q q "
                  r"+ W_k k_j\right), \qquad W_q, W_k \in \mathbb{R}^{d_a \times d_k}, \; w \in "
                  r"\mathbb{R}^{d_a}")
        + "\nand either way $\\alpha = \\mathrm{softmax}(s)$ and $z = \\sum_j \\alpha_j v_j$. The additive form is "
        "Bahdanau et al.'s $v_a^\\top \\tanh(W_a s_{i-1} + U_a h_j)$ with the decoder state as the query and the "
        f"encoder states as the keys. Here {draws} draws of {n_q} queries and {n_k} keys, entries iid $N(0, 1)$, "
        f"values in the plane, at $d_k = {', '.join(map(str, grid))}$; the additive network has $d_a = {d_a}$ "
        f"hidden units, $W_q$ and $W_k$ entries {init} and $w$ entries $N(0, 1/d_a)$.\n",
        "## Both give mixtures of the values\n\n"
        "Softmax makes weights that are positive and sum to 1 whatever the scores are, so the output is a convex "
        "combination of the values and lies in their convex hull, for the additive scores as for the dot products. "
        f"Over every query at every $d_k$ the largest departure (a negative weight, a row sum off 1, $z \\ne A V$, "
        "or a distance outside the hull, relative to the largest value entry) is: "
        + "; ".join(f"{NAMES[p]} {error_text(departure[p], TOLERANCE / 10)}" for p in PATHS) + ".\n\n"
        + image("figures/mixtures.svg", "the values of one draw, their hull and three outputs",
                f"Figure 1. The {n_k} values of the first draw, their convex hull, and the outputs of its first query "
                f"at d_k = {d_max}. The query's largest weight is {decimal(shown['unscaled'][1], 4)} with the "
                f"unscaled dot product, {decimal(shown['scaled'][1], 4)} with the scaled one and "
                f"{decimal(shown['additive'][1], 4)} with the additive scorer: the closer to 1, the closer the output "
                "sits to one value.")
        + "\n",
        "## What each costs\n\n"
        "A Transformer head projects its queries and keys before it takes dot products ($W^Q q$, $W^K k$, §3.2.2; "
        "the rest of this lab takes the dot products of vectors already projected), as the additive scorer projects "
        "with $W_q$ and $W_k$: a fair count gives both their projections. So both start here from $n$ queries and "
        "$m$ keys of dimension $d_k$, project them to $d_a$ dimensions and score every pair: the head by "
        "$(W^Q q) \\cdot (W^K k) / \\sqrt{d_a}$, with $W^Q, W^K$ of the additive scorer's shapes, the additive "
        "scorer by $w^\\top \\tanh(W_q q + W_k k)$. Counted from the scorers as they run (every matrix product, $abc$ "
        "multiply-adds for an $a \\times b$ by $b \\times c$ one; every tanh; the largest array past the "
        "projections) at the 16 sizes $n, m, d_k, d_a \\in \\{1, 2\\}$, fitted exactly as polynomials (each count "
        "has degree at most 1 in each size) and counted again at the configured sizes:\n"
        + display(rf"\text{{dot: }} {tex(fits['multiply_adds_dot'])}, \qquad \text{{additive: }} "
                  rf"{tex(fits['multiply_adds_additive'])} \text{{ multiply-adds}}, \quad "
                  rf"{tex(fits['tanh_additive'])} \text{{ tanh}}")
        + "\nThe multiply-adds are equal: each query and each key is projected once, $(n + m)\\, d_k d_a$, then "
        "each pair takes $d_a$, for the dot product of two projections or for applying $w$ to the hidden units "
        "(with the projections left out on both sides, $n m d_a$ each): \"similar in theoretical complexity\". What "
        "differs is the shape of the pairs' work. The head's is one matrix product, what \"highly optimized matrix "
        "multiplication code\" is made for; the additive scorer's also takes $n m d_a$ additions and $n m d_a$ "
        "tanh, elementwise over an $n \\times m \\times d_a$ array. Vectorised as one array operation, as such "
        "code runs it, that array is $d_a$ times the $n \\times m$ score matrix the head needs; a loop over the "
        "hidden units would keep it to $n \\times m$, at the price of $d_a$ passes. "
        f"At $n = {n_q}$, $m = {n_k}$, $d_a = {d_a}$:\n\n"
        + cost_table + "\n",
        "## As d_k grows\n\n"
        "The paper: \"While for small values of $d_k$ the two mechanisms perform similarly, additive attention "
        "outperforms dot product attention without scaling for larger values of $d_k$. We suspect that for large "
        "values of $d_k$, the dot products grow large in magnitude, pushing the softmax function into regions where "
        "it has extremely small gradients.\" With iid entries of mean 0 and variance 1, $q \\cdot k$ has variance "
        "$d_k$ (the lab `scaling` derives it): unscaled scores spread like $\\sqrt{d_k}$, and $1/\\sqrt{d_k}$ "
        "brings them back to variance 1. The additive scorer's projections can do the same: with $W_q$ and $W_k$ "
        "entries $N(0, 1/d_k)$, fan-in scaled as common initialisations draw them, each hidden pre-activation "
        "$h = W_q q + W_k k$ has variance 2 at every $d_k$, so the additive scores have the same spread at every "
        "$d_k$, tanh or no tanh. The tanh does something else: it bounds the scores whatever the scale of "
        "$W$, $q$ and $k$. Every hidden unit lies in $(-1, 1)$, so\n"
        + display(r"|e_j| = \left| \sum_{i=1}^{d_a} w_i \tanh(h_{ij}) \right| < \sum_{i=1}^{d_a} |w_i| = "
                  r"\|w\|_1, \qquad \frac{\alpha_i}{\alpha_j} = e^{e_i - e_j} < e^{2 \|w\|_1}")
        + f"\nHere $\\|w\\|_1 = {decimal(bound, 4)}$; the largest $|e_j|$ on the draws is {decimal(top[1], 4)}, and "
        f"on the same $q$ and $k$ multiplied by {STRESS} it is {decimal(top[STRESS], 4)} (the tanh are then all "
        f"but $\\pm 1$), while a dot product grows {STRESS ** 2:,}-fold; the largest log ratio of two additive "
        f"weights is {decimal(log_ratio, 4)}, below $2 \\|w\\|_1 = {decimal(2 * bound, 4)}$. A bound on the "
        "scores is not a gradient, though: without the fan-in scaling the tanh saturate and their slope "
        "$\\tanh'(h) = 1 - \\tanh^2(h)$, the factor every gradient to $q$ and $k$ passes through, falls as $d_k$ "
        "grows (see the deviations).\n\n"
        "Per $d_k$, over all queries: the mean largest weight, the median Frobenius norm of the softmax Jacobian "
        "$\\operatorname{diag}(\\alpha) - \\alpha\\alpha^\\top$ (how much the weights can still move when the scores "
        "do; the mean is dominated by the rare near-ties; for weights that sum to 1 it is at most 1/2), the share "
        f"of queries whose Jacobian norm is below {VANISHING:g} (vanishing gradients), and the additive hidden "
        "layer's mean $\\tanh'$:\n\n" + saturation_table + "\n\n"
        + image("figures/saturation.svg", "largest weight and Jacobian norm against d_k",
                "Figure 2. Mean largest weight and median softmax Jacobian norm against d_k (log scale): the unscaled "
                "dot product saturates, the scaled one and the additive one stay where they started.")
        + "\n\nBoth steady curves owe something to choices: the scaled dot product to the $1/\\sqrt{d_k}$, the "
        + ("additive one to the fan-in scaling of $W_q$, $W_k$" if fan_in else "additive one to its tanh bound (here "
           "without the fan-in scaling, at the price of a falling $\\tanh'$)")
        + " and to a $w$ drawn with variance $1/d_a$; whether a trained network keeps them steady is beyond this "
        "lab (see the deviations).\n",
    ]


COUNTER_CASES = {
    "both-are-mixtures": fault("softmax-unnormalised"),
    "additive-scores-bounded": fault("additive-without-tanh"),
    "unscaled-dot-saturates": inputs("small dimensions only: unscaled scores do not grow large enough to saturate",
                                     "lab.d_k=[1,2]"),
    "scaled-dot-steady": fault("scale-missing"),
    "additive-steady": inputs("W_q, W_k drawn N(0, 1), without the fan-in scaling: the pre-activations have variance "
                              "2 d_k and the tanh saturate, so the hidden layer's mean tanh' falls as d_k grows (the "
                              "tanh's bound keeps the softmax side steady: only the hidden layer shows it)",
                              "lab.fan_in=false"),
    "similar-complexity": fault("additive-projects-per-pair"),
    "dot-more-space-efficient": inputs("one hidden unit: the additive hidden layer is no larger than the score "
                                       "matrix", "lab.d_a=1"),
}


# Exercises: graded by pytest (python -m labs.exercises additive_vs_dot)

EXERCISES = [
    Exercise(LAB, "multiply_adds", "Additive scoring of n = 10 queries against m = 20 keys with d_k = d_a = 64, "
             "projecting each query once with W_q and each key once with W_k, then applying w to each of the n m "
             "hidden vectors: how many multiply-adds does it take in all?", exact(135680, "the count"), "135680",
             also=("(10 + 20)*64*64 + 10*20*64",),
             wrong={"12800": "not right", "1651200": "not right", "122880": "not right"},
             hint="(n + m) d_k d_a for the projections, then n m d_a for w. A dot-product head that projects with "
             "W^Q, W^K of the same shapes and then takes every dot product takes as many.", source=SOURCE),
    Exercise(LAB, "weight_ratio_bound", "An additive scorer has w = (1/2, -1/4, 1/4), and W_k has rank 3, so for "
             "any query, W_q q + W_k k_j can be any vector of R^3 as the key k_j varies. What is the least upper "
             "bound of the ratio alpha_i / alpha_j of two of one query's softmax weights, over all queries and keys?",
             exact(sp.exp(2), "the bound"), "exp(2)",
             also=("E**2", "exp(1)**2"), wrong={"exp(1)": "not right", "2": "not right", "exp(sqrt(6)/2)": "not right"},
             hint="each score lies strictly between -||w||_1 and ||w||_1, and alpha_i / alpha_j = exp(e_i - e_j).",
             source=SOURCE),
    Exercise(LAB, "scaled_weight", "At d_k = 256 the unscaled dot products of a query with two keys are 16 and 0. "
             "What weight does scaled dot-product attention give the first key (exactly)?",
             exact(sp.E / (sp.E + 1), "the weight"), "exp(1)/(exp(1) + 1)", also=("1/(1 + exp(-1))",),
             wrong={"exp(16)/(exp(16) + 1)": "not right", "1/2": "not right"},
             hint="divide the scores by sqrt(256) first, then take the softmax.", source=SOURCE),
]
