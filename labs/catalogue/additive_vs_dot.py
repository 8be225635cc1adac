"""Lab ``additive_vs_dot``: additive (Bahdanau) and dot-product scoring side by side (AIAYN §3.2.1).

The paper names the two common compatibility functions: the dot product q . k (its own, divided
by sqrt(d_k)) and additive attention, a feed-forward network with one hidden layer,

    e_j = w^T tanh(W_q q + W_k k_j),  W_q, W_k of shape (d_a, d_k)   (Bahdanau et al.: v_a^T tanh(W_a s + U_a h_j)).

Either way the scores go through softmax and the output is a mixture of the values. The lab
checks that on random draws, counts each scorer's work from the scorer itself as it runs
(multiply-adds, tanh evaluations, the largest array it makes), and follows the scores and
weights as d_k grows: unscaled dot products spread like sqrt(d_k) and push softmax onto one key,
the scaled ones and the additive ones (bounded by ||w||_1 whatever q and k are) do not. That is
the mechanism behind the paper's remark that additive attention beats unscaled dot products at
large d_k; the remark itself (Britz et al. 2017, a trained comparison) is beyond a lab.
"""

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
MAX_COUNT = 4096  # queries and keys per draw
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


# --- the two scorers ----------------------------------------------------------------------------------------------

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


# --- counting the work a scorer does, from the scorer itself -------------------------------------------------------

@dataclass
class Cost:
    """What one call of a scorer did: multiply-adds of its matrix products, tanh evaluations, the largest array made."""

    multiply_adds: int = 0
    tanh: int = 0
    largest: int = 0  # entries of the largest array any of its operations produced (its inputs aside)


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
            tally.largest = max(tally.largest, int(result.size))
        return result.view(_Counted) if isinstance(result, np.ndarray) and "out" not in kwargs else result


def count(scorer, *arrays):
    """The :class:`Cost` of ``scorer(*arrays)``, counted from the operations it performs on them.

    >>> count(dot_scores, np.ones((3, 5)), np.ones((4, 5)))  # (3, 5) @ (5, 4), then the scale on a 3 x 4 matrix
    Cost(multiply_adds=60, tanh=0, largest=12)
    """
    tally = Cost()
    _TALLIES.append(tally)
    try:
        scorer(*(np.asarray(a, dtype=float).view(_Counted) for a in arrays))
    finally:
        _TALLIES.remove(tally)
    return tally


def costs(sizes):
    """{"dot": Cost, "additive": Cost} of scoring n queries against m keys at (n, m, d_k, d_a) = ``sizes``.

    >>> c = costs((2, 3, 4, 5))
    >>> c["dot"].multiply_adds, c["additive"].multiply_adds, c["additive"].tanh, c["additive"].largest
    (24, 130, 30, 30)
    """
    n_, m_, d_k, d_a = sizes
    Q, K = np.ones((n_, d_k)), np.ones((m_, d_k))  # the work depends on the shapes, not on the numbers
    W_q, W_k, w = np.ones((d_a, d_k)), np.ones((d_a, d_k)), np.ones(d_a)
    return {"dot": count(dot_scores, Q, K), "additive": count(additive_scores, Q, K, W_q, W_k, w)}


# --- the run -----------------------------------------------------------------------------------------------------

def run(params):
    """Both scorers on random draws at every d_k: mixtures, the additive bound, saturation, and their counted cost.

    >>> r = run({"seed": 0, "queries": 4, "keys": 6, "d_k": [4, 256, 1024], "d_a": 16, "draws": 40})
    >>> r.reproduced
    True
    """
    seed = read_seed(params["seed"])
    n_q = read_positive_int(params["queries"], "lab.queries", maximum=MAX_COUNT)
    n_k = read_positive_int(params["keys"], "lab.keys", maximum=MAX_COUNT)
    if n_k < 3:
        raise VecmixError(f"lab.keys = {n_k} is too few: at least 3 keys, so that the {n_k} values' convex hull in "
                          "the plane is a polygon")
    grid = _read_d_k(params["d_k"])
    d_a = read_positive_int(params["d_a"], "lab.d_a", maximum=MAX_DIM)
    draws = read_positive_int(params["draws"], "lab.draws", maximum=MAX_DRAWS)
    d_max = grid[-1]
    check_memory(LAB, (FLOAT * draws * (n_q + n_k) * d_max, {"lab.draws": draws, "lab.d_k": d_max}),  # Q, K
                 (FLOAT * 4 * draws * n_q * n_k * d_a, {"lab.draws": draws, "lab.d_a": d_a}),  # hidden layers
                 (FLOAT * 2 * d_max * d_a, {"lab.d_k": d_max, "lab.d_a": d_a}))  # W_q, W_k

    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((draws, n_q, d_max))  # (draws, n, d_max): entries iid N(0, 1), as in footnote 4
    K = rng.standard_normal((draws, n_k, d_max))  # (draws, m, d_max)
    V = rng.standard_normal((draws, n_k, D_V))  # (draws, m, 2)
    G_q, G_k = rng.standard_normal((d_a, d_max)), rng.standard_normal((d_a, d_max))  # W at d_k: first d_k columns
    w = rng.standard_normal(d_a) / np.sqrt(d_a)  # (d_a,): entries N(0, 1/d_a)
    bound = float(np.sum(np.abs(w)))  # ||w||_1

    stats = {p: [] for p in PATHS}  # per d_k: (mean largest weight, median Jacobian norm, share vanishing)
    mixture = {p: 0.0 for p in PATHS}  # the largest departure from a mixture, relative to the values' size
    hull_gap = {p: 0.0 for p in PATHS}
    largest_score, largest_stressed, largest_log_ratio = 0.0, 0.0, 0.0
    shown = {}  # the first query of the first draw at the largest d_k: its three outputs, for the figure
    size = float(np.max(np.abs(V)))
    hulls = [fig.convex_hull(v) for v in V]  # counter-clockwise vertices of each draw's values
    for d_k in grid:
        q, k = Q[..., :d_k], K[..., :d_k]  # common random numbers: the first d_k components
        W_q, W_k = G_q[:, :d_k] / np.sqrt(d_k), G_k[:, :d_k] / np.sqrt(d_k)  # (d_a, d_k): entries N(0, 1/d_k)
        out = {"unscaled": attention(q, k, V, scale=1.0, weights=True), "scaled": attention(q, k, V, weights=True),
               "additive": additive_attention(q, k, V, W_q, W_k, w)}  # (Z (draws, n, 2), A (draws, n, m)) each
        for path, (Z, A) in out.items():
            a = A.reshape(-1, n_k)  # (draws n, m): one row per query
            J = jacobian_norms(a)
            stats[path].append((float(np.mean(a.max(axis=1))), float(np.median(J)), float(np.mean(J < VANISHING))))
            mixture[path] = max(mixture[path], _mixture_error(Z, A, V) / size)
            hull_gap[path] = max(hull_gap[path], max(_outside(h, z) for h, z in zip(hulls, Z)) / size)
            if d_k == d_max:
                shown[path] = (Z[0, 0], float(A[0, 0].max()))
        for factor in (1, STRESS):  # the additive bound, on the draws and on the same q, k a thousand times larger
            e = additive_scores(factor * q, factor * k, W_q, W_k, w)  # (draws, n, m)
            top = float(np.max(np.abs(e)))
            if factor == 1:
                largest_score = max(largest_score, top)
            else:
                largest_stressed = max(largest_stressed, top)
            with np.errstate(divide="ignore"):  # a weight of exactly 0 makes the ratio infinite: the bound fails
                logs = np.log(softmax(e))  # (draws, n, m)
            largest_log_ratio = max(largest_log_ratio, float(np.max(logs.max(axis=-1) - logs.min(axis=-1))))

    claims, cost_rows, fits = _cost_claims(n_q, n_k, grid, d_a)
    claims = [_mixture_claim(mixture, hull_gap, grid, draws * n_q),
              _bound_claim(bound, largest_score, largest_stressed, largest_log_ratio, grid),
              *_saturation_claims(stats, grid), *claims]
    figures = {
        "saturation.svg": fig.line_panels(grid, [
            ("mean largest weight", {LABELS[p]: [s[0] for s in stats[p]] for p in PATHS}),
            ("median softmax Jacobian norm", {LABELS[p]: [s[1] for s in stats[p]] for p in PATHS}),
        ], "d_k", log_x=True),
        "mixtures.svg": fig.mixture_figure(V[0], [fig.named("v", j + 1) for j in range(n_k)], [
            (p, f"{LABELS[p]}, d_k = {d_max}", shown[p][0], fig.OTHER_COLORS[i]) for i, p in enumerate(PATHS)]),
    }
    values = [Value("d_k", grid), Value("w_l1", _sig(bound)), Value("largest_additive_score", _sig(largest_score)),
              Value("largest_additive_score_stressed", _sig(largest_stressed)),
              *[Value(f"{name}_{p}", [_sig(s[i]) for s in stats[p]])
                for p in PATHS for i, name in enumerate(("mean_largest_weight", "median_jacobian_norm",
                                                         "share_vanishing"))],
              *[Value(f"{key}_polynomial", None, fits[key]) for key in sorted(fits)],
              Value("multiply_adds_dot", [r["dot"].multiply_adds for r in cost_rows]),
              Value("multiply_adds_additive", [r["additive"].multiply_adds for r in cost_rows])]
    sections = _sections(n_q, n_k, grid, d_a, draws, bound, (largest_score, largest_stressed, largest_log_ratio),
                         stats, cost_rows, fits, (mixture, hull_gap), shown)
    intro = ("*Reproduces* the comparison of \"Attention Is All You Need\" (Vaswani et al., 2017, arXiv:1706.03762) "
             "§3.2.1 between its scaled dot-product attention and additive attention (Bahdanau et al., 2015, "
             "arXiv:1409.0473): both make a mixture of the values; their counted cost; and, as $d_k$ grows, what "
             "happens to the scores and weights of each, with and without the $1/\\sqrt{d_k}$ scale. The trained "
             "comparison the paper cites for additive attention's advantage at large $d_k$ is not reproduced (see "
             "the deviations); the mechanism it points to is.")
    return LabResult(LAB, TITLE, intro, sections, claims, values, figures, [
        "The paper's remark that \"additive attention outperforms dot product attention without scaling for larger "
        "values of d_k\" is a trained result of its reference [3] (Britz et al., 2017, Massive Exploration of Neural "
        "Machine Translation Architectures: translation quality after training): it is not reproduced here. The lab "
        "shows the mechanism the paper suspects behind it, on random queries and keys with iid N(0, 1) entries "
        "(footnote 4's assumption): unscaled dot products grow like sqrt(d_k) and saturate softmax, additive scores "
        "are bounded by ||w||_1 whatever q and k are.",
        "The additive network's shapes and initialisation are this lab's choices: e = w^T tanh(W_q q + W_k k), "
        "no bias, W_q and W_k of shape (d_a, d_k) with entries N(0, 1/d_k), w with entries N(0, 1/d_a), one network "
        "per d_k (the first d_k columns of one draw), shared by every draw. Bahdanau et al. write v_a^T tanh(W_a s + "
        "U_a h) with their own sizes and initialisation. The additive weights measured here are those of this "
        "untrained network: with w scaled by 1/sqrt(d_a) its scores are of order 1 at every d_k; training can make "
        "w, and so the bound ||w||_1, larger.",
        "\"Much faster ... in practice\" is not timed: a time depends on the machine and would make the report "
        "differ from run to run. The lab counts the work instead, from the scorers as they run.",
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


def _mixture_claim(mixture, hull_gap, grid, rows):
    worst = max(max(mixture.values()), max(hull_gap.values()))
    return Claim(
        "both-are-mixtures", "with either scorer, and the dot product with or without its scale, the weights are "
        "nonnegative and sum to 1 and the output is their mixture of the values, inside the values' convex hull: "
        f"{rows} queries at each of d_k = {', '.join(map(str, grid))}", SOURCE,
        f"every weight >= 0, every row sum within {TOLERANCE:g} of 1, Z = A V and every output within {TOLERANCE:g} "
        "of the hull (relative to the largest value entry)",
        "; ".join(f"{p}: largest departure {error_text(max(mixture[p], hull_gap[p]), TOLERANCE / 10)}" for p in PATHS),
        worst <= TOLERANCE, False)


def _bound_claim(bound, largest, stressed, log_ratio, grid):
    ok = largest <= bound * (1 + TOLERANCE) and stressed <= bound * (1 + TOLERANCE) and \
        log_ratio <= 2 * bound * (1 + TOLERANCE) + TOLERANCE
    return Claim(
        "additive-scores-bounded", "the additive score w^T tanh(W_q q + W_k k) is bounded by ||w||_1 for every q and "
        "k, since |tanh| < 1, so no two additive weights differ by more than a factor exp(2 ||w||_1): checked at "
        f"every d_k = {', '.join(map(str, grid))}, on the draws and on the same q and k multiplied by {STRESS}",
        SOURCE, f"every |e_j| <= ||w||_1 = {decimal(bound, 4)}; every log(largest weight / smallest) <= 2 ||w||_1 = "
        f"{decimal(2 * bound, 4)}",
        f"largest |e_j| {decimal(largest, 4)} on the draws, {decimal(stressed, 4)} on the draws times {STRESS}; "
        f"largest log weight ratio {decimal(log_ratio, 4)}", ok, False)


def _saturation_claims(stats, grid):
    first, last = grid[0], grid[-1]
    un, sc, ad = (stats[p] for p in PATHS)
    spread = {p: max(max(s[i] for s in stats[p]) / max(min(s[i] for s in stats[p]), 1e-300) for i in (0, 1))
              for p in ("scaled", "additive")}  # the larger of the two statistics' largest / smallest
    return [
        Claim("unscaled-dot-saturates", "without the scale the dot products spread like sqrt(d_k) (variance d_k): at "
              f"the largest d_k softmax puts nearly all the weight on one key (mean largest weight at least "
              f"{SATURATED_WEIGHT}) and its Jacobian diag(a) - a a^T has all but vanished (median Frobenius norm "
              f"below 1/{COLLAPSE} of its value at the smallest d_k)", SOURCE,
              f"mean largest weight >= {SATURATED_WEIGHT} at d_k = {last}; median Jacobian norm at d_k = {last} "
              f"<= 1/{COLLAPSE} of that at d_k = {first}",
              f"mean largest weight {decimal(un[0][0])} at d_k = {first}, {decimal(un[-1][0])} at d_k = {last}; "
              f"median Jacobian norm {decimal(un[0][1], 4)} -> {decimal(un[-1][1], 4)}",
              un[-1][0] >= SATURATED_WEIGHT and un[-1][1] * COLLAPSE <= un[0][1], False),
        Claim("scaled-dot-steady", "with vecmix's default scale 1/sqrt(d_k) the scores keep variance 1, and the mean "
              f"largest weight and the median Jacobian norm each stay within a factor of {STEADY} across d_k = "
              f"{first}..{last}", SOURCE, f"largest / smallest <= {STEADY} for both",
              f"mean largest weight {decimal(min(s[0] for s in sc))} .. {decimal(max(s[0] for s in sc))}; median "
              f"Jacobian norm {decimal(min(s[1] for s in sc), 4)} .. {decimal(max(s[1] for s in sc), 4)}",
              spread["scaled"] <= STEADY, False),
        Claim("additive-steady", "the additive scores are bounded and do not grow with d_k: their mean largest weight "
              f"and median Jacobian norm stay within a factor of {STEADY} across d_k, and at the largest d_k the "
              f"additive Jacobian norm is at least {AHEAD} times the unscaled dot product's: the mechanism behind "
              "additive attention doing better than unscaled dot products at large d_k", f"{SOURCE} (and its "
              "reference [3])", f"largest / smallest <= {STEADY} for both; median Jacobian norm at d_k = {last} >= "
              f"{AHEAD} x the unscaled one",
              f"mean largest weight {decimal(min(s[0] for s in ad))} .. {decimal(max(s[0] for s in ad))}; median "
              f"Jacobian norm {decimal(min(s[1] for s in ad), 4)} .. {decimal(max(s[1] for s in ad), 4)}; at d_k = "
              f"{last} additive {decimal(ad[-1][1], 4)}, unscaled {decimal(un[-1][1], 4)}",
              spread["additive"] <= STEADY and ad[-1][1] >= AHEAD * un[-1][1], False),
    ]


def _cost_claims(n_q, n_k, grid, d_a):
    """The two cost claims, the counts at the configured sizes, and the polynomials fitted through tiny sizes."""
    tiny = {}

    def at(*size):
        if size not in tiny:
            tiny[size] = costs(size)
        return tiny[size]

    variables = (n, m, dk, da)
    fits = {f"{what}_{scorer}": sp.factor(polynomial_through(lambda *s: getattr(at(*s)[scorer], what), variables,
                                                             GRID))
            for scorer in ("dot", "additive") for what in ("multiply_adds", "tanh", "largest")}
    rows = [costs((n_q, n_k, d_k, d_a)) for d_k in grid]
    predicted = all(getattr(r[s], what) == fits[f"{what}_{s}"].subs({n: n_q, m: n_k, dk: d_k, da: d_a})
                    for r, d_k in zip(rows, grid) for s in ("dot", "additive") for what in ("multiply_adds", "tanh",
                                                                                            "largest"))
    N, d = sp.symbols("N d", positive=True)
    same = {n: N, m: N, dk: d, da: d}  # as many queries as keys, and d_a = d_k
    ratio = sp.limit(fits["multiply_adds_additive"].subs(same) / fits["multiply_adds_dot"].subs(same), N, sp.oo)
    ratios = [sp.Rational(r["additive"].multiply_adds, r["dot"].multiply_adds) for r in rows]
    space = [sp.Rational(r["additive"].largest, r["dot"].largest) for r in rows]
    space_fit = sp.simplify(fits["largest_additive"] / fits["largest_dot"])
    claims = [
        Claim("similar-complexity", "the two are similar in theoretical complexity: counted from the scorers as they "
              "run, dot-product scoring takes n m d_k multiply-adds and additive scoring (n + m) d_k d_a + n m d_a "
              "(each query and each key projected once), so with d_a = d_k = d both grow as n m d and their ratio "
              "tends to 1 as n = m grow; the counts at the configured sizes are the fitted ones", SOURCE,
              "ratio additive / dot -> 1 as n = m -> oo with d_a = d_k; every configured count as fitted",
              f"dot {sp.sstr(fits['multiply_adds_dot'])}, additive {sp.sstr(fits['multiply_adds_additive'])}; ratio "
              f"-> {sp.sstr(ratio)}; at n = {n_q}, m = {n_k}, d_a = {d_a}: "
              + ", ".join(f"{sp.sstr(r)} at d_k = {g}" for r, g in zip(ratios, grid))
              + ("" if predicted else "; some configured count differs from the fitted polynomial"),
              ratio == 1 and predicted, True),
        Claim("dot-more-space-efficient", "dot-product scoring is more space-efficient: its largest array is the "
              "n x m score matrix, additive scoring's the n x m x d_a hidden layer, d_a times larger", SOURCE,
              f"largest array additive / dot = d_a = {d_a} > 1 at every configured d_k",
              f"largest arrays: dot {sp.sstr(fits['largest_dot'])}, additive {sp.sstr(fits['largest_additive'])} "
              f"entries; at the configured sizes additive / dot = {', '.join(sorted({sp.sstr(s) for s in space}))}",
              all(s == d_a for s in space) and space_fit == da and d_a > 1 and predicted, True),
    ]
    return claims, rows, fits


def _sections(n_q, n_k, grid, d_a, draws, bound, bounds, stats, cost_rows, fits, mixtures, shown):
    largest, stressed, log_ratio = bounds
    mixture, hull_gap = mixtures
    d_max = grid[-1]
    cost_table = table(["$d_k$", "dot: multiply-adds", "additive: multiply-adds", "ratio", "additive: tanh",
                        "largest array, dot", "largest array, additive"],
                       [[g, f"{r['dot'].multiply_adds:,}", f"{r['additive'].multiply_adds:,}",
                         decimal(r["additive"].multiply_adds / r["dot"].multiply_adds, 2), f"{r['additive'].tanh:,}",
                         f"{r['dot'].largest:,}", f"{r['additive'].largest:,}"] for g, r in zip(grid, cost_rows)])
    rows = [[g, *(decimal(stats[p][i][0]) for p in PATHS), *(decimal(stats[p][i][1], 4) for p in PATHS),
             *(f"{100 * stats[p][i][2]:.1f}%" for p in PATHS)] for i, g in enumerate(grid)]
    saturation_table = table(["$d_k$", "largest weight: unscaled", "scaled", "additive", "Jacobian norm: unscaled",
                              "scaled", "additive", f"norm below {VANISHING:g}: unscaled", "scaled", "additive"], rows)
    ratios = [r["additive"].multiply_adds / r["dot"].multiply_adds for r in cost_rows]
    mult = f"{tex(fits['multiply_adds_additive'])}"
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
        "hidden units, $W$ entries $N(0, 1/d_k)$ and $w$ entries $N(0, 1/d_a)$.\n",
        "## Both give mixtures of the values\n\n"
        "Softmax makes weights that are positive and sum to 1 whatever the scores are, so the output is a convex "
        "combination of the values and lies in their convex hull, for the additive scores as for the dot products. "
        f"Over every query at every $d_k$ the largest departure (a negative weight, a row sum off 1, $z \\ne A V$, "
        "or a distance outside the hull, relative to the largest value entry) is: "
        + "; ".join(f"{NAMES[p]} {error_text(max(mixture[p], hull_gap[p]), TOLERANCE / 10)}" for p in PATHS) + ".\n\n"
        + image("figures/mixtures.svg", "the values of one draw, their hull and three outputs",
                f"Figure 1. The {n_k} values of the first draw, their convex hull, and the outputs of its first query "
                f"at d_k = {d_max}. The query's largest weight is {decimal(shown['unscaled'][1], 4)} with the "
                f"unscaled dot product, {decimal(shown['scaled'][1], 4)} with the scaled one and "
                f"{decimal(shown['additive'][1], 4)} with the additive scorer: the closer to 1, the closer the output "
                "sits to one value.")
        + "\n",
        "## What each costs\n\n"
        "Counted from the scorers themselves: every matrix product they perform (a product of an $a \\times b$ and "
        "a $b \\times c$ matrix is $abc$ multiply-adds), every tanh, and the size of every array they make, at 16 "
        "tiny sizes $n, m, d_k, d_a \\in \\{1, 2\\}$ and fitted exactly as polynomials (each count is of degree at "
        "most 1 in each size), then counted again at the configured sizes:\n"
        + display(rf"\text{{dot: }} {tex(fits['multiply_adds_dot'])}, \qquad \text{{additive: }} {mult} "
                  rf"\text{{ multiply-adds}}, \quad {tex(fits['tanh_additive'])} \text{{ tanh}}")
        + "\nThe additive scorer projects each query and each key once ($(n + m)\\, d_k d_a$) and then works on "
        "every pair in its hidden layer ($n m d_a$ additions, tanh and multiply-adds with $w$); the dot product "
        "works on every pair with $d_k$ multiply-adds. With $d_a = d_k$ both are of order $n m d$ once $n$ and $m$ "
        "exceed $d$: \"similar in theoretical complexity\". What differs is their shape. The dot product's "
        "$n m d_k$ multiply-adds are one matrix product, $Q K^\\top$, the operation \"highly optimized matrix "
        "multiplication code\" is made for; the additive scorer's pairwise part is an elementwise sum and a tanh "
        "over an $n \\times m \\times d_a$ array before its last product, and that array is its largest, $d_a$ "
        "times the $n \\times m$ score matrix that is the dot product's largest. At "
        f"$n = {n_q}$, $m = {n_k}$, $d_a = {d_a}$:\n\n" + cost_table + "\n\n"
        f"Here additive scoring costs {decimal(min(ratios), 2)} to {decimal(max(ratios), 2)} times the multiply-adds "
        "of dot-product scoring: the per-pair parts are in the ratio $d_a / d_k$, and the projections add "
        f"$(n + m)\\, d_a / (n m) = {decimal((n_q + n_k) * d_a / (n_q * n_k), 2)}$ times the dot product's count, "
        "a share that shrinks as the sequences grow. (An implementation can keep the hidden layer smaller by taking "
        "the pairs a block at a time, at the cost of more passes; the score matrix can be blocked likewise, as "
        "vecmix's online softmax does.)\n",
        "## As d_k grows\n\n"
        "The paper: \"While for small values of $d_k$ the two mechanisms perform similarly, additive attention "
        "outperforms dot product attention without scaling for larger values of $d_k$. We suspect that for large "
        "values of $d_k$, the dot products grow large in magnitude, pushing the softmax function into regions where "
        "it has extremely small gradients.\" With iid entries of mean 0 and variance 1, $q \\cdot k$ has variance "
        "$d_k$ (the lab `scaling` derives it): unscaled scores spread like $\\sqrt{d_k}$. An additive score "
        "cannot grow: every hidden unit is a tanh, in $(-1, 1)$, so\n"
        + display(r"|e_j| = \left| \sum_{i=1}^{d_a} w_i \tanh(h_{ij}) \right| < \sum_{i=1}^{d_a} |w_i| = "
                  r"\|w\|_1, \qquad \frac{\alpha_i}{\alpha_j} = e^{e_i - e_j} < e^{2 \|w\|_1}")
        + f"\nwhatever $d_k$ and however large $q$ and $k$ are. Here $\\|w\\|_1 = {decimal(bound, 4)}$; the largest "
        f"$|e_j|$ on the draws is {decimal(largest, 4)}, and on the same $q$ and $k$ multiplied by {STRESS} it is "
        f"{decimal(stressed, 4)} (the tanh are then all but $\\pm 1$), while a dot product grows "
        f"{STRESS ** 2:,}-fold; the largest log ratio of two additive weights is {decimal(log_ratio, 4)}, below "
        f"$2 \\|w\\|_1 = {decimal(2 * bound, 4)}$.\n\n"
        "Per $d_k$, over all queries: the mean largest weight, the median Frobenius norm of the softmax Jacobian "
        "$\\operatorname{diag}(\\alpha) - \\alpha\\alpha^\\top$ (how much the weights can still move when the scores "
        f"do; the mean is dominated by the rare near-ties), and the share of queries whose Jacobian norm is below "
        f"{VANISHING:g} (vanishing gradients):\n\n" + saturation_table + "\n\n"
        + image("figures/saturation.svg", "largest weight and Jacobian norm against d_k",
                "Figure 2. Mean largest weight and median softmax Jacobian norm against d_k (log scale): the unscaled "
                "dot product saturates, the scaled one and the additive one stay where they started.")
        + "\n\nBoth steady curves owe something to choices: the scaled dot product to the $1/\\sqrt{d_k}$, the "
        "additive one to its bounded tanh and to a $w$ drawn with variance $1/d_a$. That the additive network "
        "therefore trains better than unscaled dot products at large $d_k$ is what the paper's reference [3] "
        "measured; a lab can show the mechanism, not the trained outcome.\n",
    ]


COUNTER_CASES = {
    "both-are-mixtures": fault("softmax-unnormalised"),
    "additive-scores-bounded": fault("additive-without-tanh"),
    "unscaled-dot-saturates": inputs("small dimensions only: unscaled scores do not grow large enough to saturate",
                                     "lab.d_k=[1,2]"),
    "scaled-dot-steady": fault("scale-missing"),
    "additive-steady": inputs("small dimensions only: the unscaled dot product is not saturated, so additive "
                              "attention is not ahead of it", "lab.d_k=[1,2]"),
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
             hint="(n + m) d_k d_a for the projections, then n m d_a for w.", source=SOURCE),
    Exercise(LAB, "weight_ratio_bound", "An additive scorer has w = (1/2, -1/4, 1/4), and W_q has full rank, so "
             "W_q q + W_k k_j can be any vector of R^3. What is the least upper bound of the ratio alpha_i / alpha_j "
             "of two of its softmax weights, over all queries and keys?", exact(sp.exp(2), "the bound"), "exp(2)",
             also=("E**2", "exp(1)**2"), wrong={"exp(1)": "not right", "2": "not right", "exp(sqrt(6)/2)": "not right"},
             hint="each score lies strictly between -||w||_1 and ||w||_1, and alpha_i / alpha_j = exp(e_i - e_j).",
             source=SOURCE),
    Exercise(LAB, "scaled_weight", "At d_k = 256 the unscaled dot products of a query with two keys are 16 and 0. "
             "What weight does scaled dot-product attention give the first key (exactly)?",
             exact(sp.E / (sp.E + 1), "the weight"), "exp(1)/(exp(1) + 1)", also=("1/(1 + exp(-1))",),
             wrong={"exp(16)/(exp(16) + 1)": "not right", "1/2": "not right"},
             hint="divide the scores by sqrt(256) first, then take the softmax.", source=SOURCE),
]
