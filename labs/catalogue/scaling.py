"""Lab ``scaling``: why "Attention Is All You Need" divides the scores by sqrt(d_k) (§3.2.1 and its footnote 4).

Footnote 4 assumes the components of q and k are independent random variables with mean 0
and variance 1; then q . k has mean 0 and variance d_k. The lab derives E[q . k] and
Var(q . k) exactly for a symbolic d_k from the components' mean, variance and correlation
(``lab.mean``, ``lab.variance``, ``lab.correlation``: the footnote's assumptions are inputs
here, so a learner can break them), and confirms them by Monte Carlo. The consequence the
paper suspects: large scores push softmax into regions with extremely small gradients,
measured as the largest weight and the norm of the softmax Jacobian against d_k, unscaled
and scaled by vecmix's default 1/sqrt(d_k), on the same random draws.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from vecmix import VecmixError, attention, exact_number

from ..claims import Claim, fault, inputs
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, display, image, table

TITLE = "Why scale by 1/sqrt(d_k): the variance of q . k grows with d_k"
SOURCE = "AIAYN §3.2.1"
FOOTNOTE = "AIAYN §3.2.1, footnote 4"
GRID = (1, 4, 16, 64, 256, 1024)  # d_k values of the saturation curves drawn in every run
d = sp.Symbol("d_k", positive=True, integer=True)
mu, sigma2, rho = sp.symbols("mu sigma^2 rho", real=True)


@dataclass
class Config:
    """scaling: the variance of q . k against d_k, and softmax saturation (AIAYN §3.2.1)."""

    name: str = "scaling"
    d_k: int = 64  # the dimension checked by Monte Carlo (sweep it: -m lab=scaling lab.d_k=4,16,64)
    n_keys: int = 16  # keys per query in the saturation measurements
    samples: int = 20000  # Monte Carlo pairs
    trials: int = 200  # random queries per point of the saturation curves
    seed: int = 0  # draws the Monte Carlo pairs and the random queries and keys
    mean: Any = 0  # of every component of q and k (the footnote: 0)
    variance: Any = 1  # of every component (the footnote: 1)
    correlation: Any = 0  # between two components of the same vector, 0..1 (the footnote: independent, 0)


def moments():
    """(E[q . k], E[(q . k)^2], Var(q . k)) for a symbolic d_k, components of mean mu, variance sigma^2, correlation rho.

    q and k are independent of each other and have the same law, so E[q . k] = sum_i E[q_i] E[k_i]
    and E[(q . k)^2] = sum_{i, j} E[q_i q_j] E[k_i k_j], with E[q_i q_j] = sigma^2 + mu^2 on the
    d_k terms i = j and rho sigma^2 + mu^2 on the d_k (d_k - 1) others.

    >>> mean, _, variance = moments()
    >>> mean.subs(mu, 0), sp.factor(variance.subs({mu: 0, sigma2: 1, rho: 0}))
    (0, d_k)
    """
    second = {True: sigma2 + mu**2, False: rho * sigma2 + mu**2}  # E[q_i q_j], for i = j and i != j
    mean = d * mu**2
    square = d * second[True] ** 2 + d * (d - 1) * second[False] ** 2
    return mean, square, sp.expand(square - mean**2)


def draw(rng, shape, law):
    """Vectors along the last axis with components of the given (mean, variance, correlation), as floats.

    Each vector is mu + sigma (sqrt(1 - rho) z + sqrt(rho) x 1): z has independent N(0, 1)
    components and x is one N(0, 1) number shared by the whole vector.

    >>> v = draw(np.random.default_rng(0), (100000, 3), (1, 4, 0))
    >>> v.shape, bool(abs(v.mean() - 1) < 0.02), bool(abs(v.var() - 4) < 0.1)
    ((100000, 3), True, True)
    """
    m, v, r = (float(x) for x in law)
    z = rng.standard_normal(shape)
    shared = rng.standard_normal((*shape[:-1], 1))  # one per vector
    return m + np.sqrt(v) * (np.sqrt(1 - r) * z + np.sqrt(r) * shared)


def run(params):
    """Derive E[q . k] and Var(q . k), check them by Monte Carlo, and measure softmax saturation against d_k.

    >>> r = run({"d_k": 16, "n_keys": 16, "samples": 4000, "trials": 100, "seed": 0, "mean": 0, "variance": 1,
    ...          "correlation": 0})
    >>> r.reproduced
    True
    """
    d_k = read_positive_int(params["d_k"], "lab.d_k")
    n_keys = read_positive_int(params["n_keys"], "lab.n_keys")
    samples = read_positive_int(params["samples"], "lab.samples")
    trials = read_positive_int(params["trials"], "lab.trials")
    if samples < 100:
        raise VecmixError(f"lab.samples = {samples} is too few for a Monte Carlo check; use at least 100")
    law = tuple(exact_number(params[key], f"lab.{key}") for key in ("mean", "variance", "correlation"))
    if not law[1] > 0:
        raise VecmixError(f"lab.variance = {params['variance']!r} must be positive")
    if not 0 <= law[2] <= 1:
        raise VecmixError(f"lab.correlation = {params['correlation']!r} must lie between 0 and 1")
    rng = np.random.default_rng(params["seed"])

    mean_f, square_f, variance_f = moments()
    given = dict(zip((mu, sigma2, rho), law))
    mean, variance = sp.factor(mean_f.subs(given)), sp.factor(variance_f.subs(given))
    q, k = draw(rng, (samples, d_k), law), draw(rng, (samples, d_k), law)  # (samples, d_k) each
    dots = np.einsum("sd,sd->s", q, k)  # (samples,): one q . k per pair
    mc_mean, mc_var, se_mean, se_var = _sample_moments(dots)
    scores = _default_scores(q, k)  # (samples,): the scores vecmix's softmax sees, default scale
    unreadable = int(np.sum(~np.isfinite(scores)))
    sc_mean, sc_var, _, se_sc = _sample_moments(scores[np.isfinite(scores)])
    curves, largest = _saturation(rng, n_keys, trials, law, GRID)
    jac = {s: [c[1] for c in curves[s]] for s in curves}

    claims = [
        Claim("mean-zero", "E[q . k] = 0, derived for a symbolic d_k from the components' law", FOOTNOTE,
              "0 for every d_k", sp.sstr(mean), mean == 0, True),
        Claim("variance-d_k", "Var(q . k) = d_k, derived for a symbolic d_k from the components' law", FOOTNOTE,
              "d_k", sp.sstr(variance), sp.expand(variance - d) == 0, True),
        Claim("monte-carlo", f"{samples} random (q, k) pairs at d_k = {d_k} have mean 0 and variance d_k", FOOTNOTE,
              f"mean within 4 standard errors of 0, variance within 4 of {d_k}",
              f"mean {mc_mean:.3f} (standard error {se_mean:.3f}), variance {mc_var:.2f} (standard error "
              f"{se_var:.2f})", abs(mc_mean) <= 4 * se_mean and abs(mc_var - d_k) <= 4 * se_var, False),
        Claim("default-scale-unit-variance", f"the scores softmax sees with vecmix's default scale have variance 1 at "
              f"d_k = {d_k} (read back from its weights on the same pairs)", SOURCE,
              "variance within 4 standard errors of 1", f"variance {sc_var:.3f} (standard error {se_sc:.3f})" + (
                  f"; {unreadable} weights of exactly 0 or 1 give no score" if unreadable else ""),
              abs(sc_var - 1) <= 4 * se_sc and not unreadable, False),
        Claim("unscaled-saturates", "without the scale, the typical softmax Jacobian norm collapses as d_k grows: "
              "extremely small gradients", SOURCE, f"at d_k = {GRID[-1]} below 1/100 of its value at d_k = 1",
              f"{decimal(jac[False][0], 4)} -> {decimal(jac[False][-1], 4)}", jac[False][-1] * 100 <= jac[False][0],
              False),
        Claim("scaled-stays", "with vecmix's default scale 1/sqrt(d_k), the Jacobian norm stays within a factor of "
              f"2 across d_k = {GRID[0]}..{GRID[-1]}", SOURCE, "max / min <= 2",
              f"{decimal(min(jac[True]), 4)} .. {decimal(max(jac[True]), 4)}", max(jac[True]) <= 2 * min(jac[True]),
              False),
    ]
    labels = {False: "q . k (unscaled)", True: "q . k / sqrt(d_k) (vecmix's default)"}
    figure = fig.line_panels(list(GRID), [
        ("largest weight", {labels[s]: [c[0] for c in curves[s]] for s in curves}),
        ("softmax Jacobian norm", {labels[s]: jac[s] for s in curves}),
    ], "d_k", log_x=True)
    values = [Value("d_k", d_k), Value("exact_mean", None, mean), Value("exact_variance", None, variance),
              Value("monte_carlo_mean", _six(mc_mean)), Value("monte_carlo_variance", _six(mc_var)),
              Value("default_scale_score_variance", _six(sc_var)), Value("grid", list(GRID)),
              Value("largest_weight_unscaled", [_six(c[0]) for c in curves[False]]),
              Value("largest_weight_scaled", [_six(c[0]) for c in curves[True]]),
              Value("jacobian_norm_unscaled", [_six(x) for x in jac[False]]),
              Value("jacobian_norm_scaled", [_six(x) for x in jac[True]])]
    sections = _sections(law, (mean_f, square_f, variance_f), mean, variance, d_k, samples, (mc_mean, mc_var),
                         sc_var, n_keys, trials, curves, largest)
    intro = ("*Reproduces* the argument of \"Attention Is All You Need\" §3.2.1 and its footnote 4 for the "
             "$1/\\sqrt{d_k}$ scale, read through the paper lab `001_8c65d19d1d0c4e45.txt`; the scaled score "
             "$s_i = q \\cdot k_i / \\sqrt{d_k}$ is the one of `002_7fa86cbe478c569d.txt` §2.")
    deviations = ["The paper states the variance without proof and suspects the saturation; the derivation and the "
                  "measurements are this lab's."]
    if law != (0, 1, 0):
        deviations.append(f"The components here have mean {law[0]}, variance {law[1]} and correlation {law[2]}, not "
                          "the footnote's independent components with mean 0 and variance 1.")
    return LabResult("scaling", TITLE, intro, sections, claims, values, {"saturation.svg": figure}, deviations)


def _six(x):
    """x to 6 significant digits: sums of many random terms differ in their last bits between CPUs.

    >>> _six(0.0220123456789)
    0.0220123
    """
    return float(f"{x:.6g}")


def _sample_moments(x):
    """(mean, variance, standard error of the mean, standard error of the variance) of a sample (NaN below 2 entries)."""
    if len(x) < 2:
        return (float("nan"),) * 4
    centred = x - x.mean()
    var = float(np.mean(centred**2)) * len(x) / (len(x) - 1)
    fourth = float(np.mean(centred**4))
    return float(x.mean()), var, float(np.sqrt(var / len(x))), float(np.sqrt(max(fourth - var**2, 0.0) / len(x)))


def _default_scores(q, k):
    """The scores vecmix's softmax sees for q against the keys (k, 0) at its default scale, read from the weights.

    With keys k and 0 the scores are (s, 0) with s = scale q . k, and alpha_1 = e^s / (e^s + 1), so
    s = log(alpha_1 / (1 - alpha_1)). A weight of exactly 0 or 1 gives an infinite s.
    """
    samples, d_k = q.shape
    K = np.stack([k, np.zeros_like(k)], axis=1)  # (samples, 2, d_k): each q's two keys
    _, A = attention(q[:, np.newaxis, :], K, np.zeros((samples, 2, 1)), weights=True)  # A (samples, 1, 2)
    alpha = A[:, 0, 0]  # (samples,)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(alpha) - np.log1p(-alpha)  # (samples,)


def _saturation(rng, n_keys, trials, law, grid):
    """({scaled: [(median largest weight, median Jacobian norm) per d_k]}, the largest unscaled score at the largest d_k).

    Scaled and unscaled weights come from the same draws.

    The random queries and keys are drawn once at the largest d_k; each d_k uses their first d_k
    components (common random numbers), so at d_k = 1, where the scale is 1, both curves agree.
    Medians, because the typical query is the point: a mean is dominated by the rare near-ties.
    """
    q = draw(rng, (trials, 1, max(grid)), law).astype(np.float32)  # (trials, 1, d_max), float32 as on accelerators
    K = draw(rng, (trials, n_keys, max(grid)), law).astype(np.float32)  # (trials, n_keys, d_max)
    V = np.zeros((trials, n_keys, 1), dtype=np.float32)  # the weights are the point; the values do not matter
    curves = {False: [], True: []}
    largest = float(np.max(q @ np.swapaxes(K, 1, 2)))  # (trials, 1, d) @ (trials, d, n_keys): the unscaled scores
    for g in grid:
        for scaled in (False, True):
            kwargs = {} if scaled else {"scale": 1.0}  # scaled: vecmix's default 1/sqrt(d_k)
            _, A = attention(q[..., :g], K[..., :g], V, weights=True, **kwargs)  # A (trials, 1, n_keys)
            a = A[:, 0, :]  # (trials, n_keys)
            J = a[:, :, None] * np.eye(n_keys) - a[:, :, None] * a[:, None, :]  # (trials, n_keys, n_keys)
            curves[scaled].append((float(np.median(a.max(axis=1))), float(np.median(np.linalg.norm(J, axis=(1, 2))))))
    return curves, largest


def _sections(law, formulas, mean, variance, d_k, samples, mc, sc_var, n_keys, trials, curves, largest):
    mean_f, square_f, _ = formulas
    rows = [[g, decimal(curves[False][i][0]), decimal(curves[True][i][0]), decimal(curves[False][i][1], 4),
             decimal(curves[True][i][1], 4)] for i, g in enumerate(GRID)]
    footnote = law == (0, 1, 0)
    return [
        "## The claim\n\n"
        "The paper divides the dot products by $\\sqrt{d_k}$: \"We suspect that for large values of $d_k$, the dot "
        "products grow large in magnitude, pushing the softmax function into regions where it has extremely small "
        "gradients.\" Its footnote 4 illustrates why: \"assume that the components of $q$ and $k$ are independent "
        "random variables with mean 0 and variance 1. Then their dot product, $q \\cdot k = \\sum_{i=1}^{d_k} q_i "
        "k_i$, has mean 0 and variance $d_k$.\" Those are assumptions, not facts about trained queries and keys; "
        "here they are inputs: every component has mean $\\mu$, variance $\\sigma^2$, and two components of the same "
        "vector have correlation $\\rho$ (independent: $\\rho = 0$); $q$ and $k$ are independent of each other.\n",
        "## The derivation, exactly\n\n"
        "Expectation is linear and $q$ is independent of $k$, so $E[q \\cdot k] = \\sum_i E[q_i] E[k_i]$ and "
        "$E[(q \\cdot k)^2] = \\sum_{i,j} E[q_i q_j] E[k_i k_j]$, where $E[q_i q_j]$ is $\\sigma^2 + \\mu^2$ on the "
        "$d_k$ terms $i = j$ and $\\rho \\sigma^2 + \\mu^2$ on the $d_k (d_k - 1)$ others. No normal law is needed, "
        "only these moments. SymPy, with a symbolic $d_k$:\n"
        + display(rf"E[q \cdot k] = {sp.latex(mean_f)}, \qquad E[(q \cdot k)^2] = {sp.latex(square_f)}, \qquad "
                  r"\operatorname{Var}(q \cdot k) = E[(q \cdot k)^2] - E[q \cdot k]^2")
        + f"\nWith {'the footnote' if footnote else 'this run'}'s $\\mu = {sp.latex(law[0])}$, $\\sigma^2 = "
        f"{sp.latex(law[1])}$, $\\rho = {sp.latex(law[2])}$:\n"
        + display(rf"E[q \cdot k] = {sp.latex(mean)}, \qquad \operatorname{{Var}}(q \cdot k) = {sp.latex(variance)}, "
                  rf"\qquad \operatorname{{Var}}\left(\frac{{q \cdot k}}{{\sqrt{{d_k}}}}\right) = "
                  rf"{sp.latex(sp.factor(variance / d))}")
        + f"\nMonte Carlo with {samples} pairs at $d_k = {d_k}$: mean {mc[0]:.3f}, variance {mc[1]:.2f}. Given to "
        "vecmix with the two keys $k$ and $0$, the scores are $(s, 0)$ and the first weight is "
        "$\\alpha_1 = e^s / (e^s + 1)$, so $s = \\log(\\alpha_1 / (1 - \\alpha_1))$ comes back from the weights: at "
        f"vecmix's default scale their variance is {sc_var:.3f}.\n",
        "## The consequence: saturation\n\n"
        f"For {trials} random queries against {n_keys} random keys of the same law, the softmax weights with "
        "`scale=1` and with vecmix's default $1/\\sqrt{d_k}$, on the same draws (so at $d_k = 1$, where the scale "
        "is 1, the columns agree), computed in float32 as attention usually is on accelerators. There the "
        f"largest unscaled score at $d_k = {GRID[-1]}$ is {largest:.1f}; $e^s$ overflows float32 above 88.7, and "
        "softmax stays finite only because each row's maximum is subtracted first. Medians over the queries; the "
        "Jacobian of softmax is "
        "$\\operatorname{diag}(\\alpha) - \\alpha\\alpha^\\top$, and its Frobenius norm measures how much the weights "
        "can still move:\n\n"
        + table(["$d_k$", "largest weight, unscaled", "scaled", "Jacobian norm, unscaled", "scaled"], rows)
        + "\n\n" + image("figures/saturation.svg", "saturation against d_k",
                         "Figure 1. Median largest weight and Jacobian norm against d_k (log scale), unscaled and "
                         "scaled: without the scale softmax collapses onto one key and its gradient vanishes.")
        + "\n",
    ]


COUNTER_CASES = {
    "mean-zero": inputs("components with mean 1/2", "lab.mean=1/2"),
    "variance-d_k": inputs("correlated components (not independent)", "lab.correlation=1/2"),
    "monte-carlo": inputs("components with variance 2", "lab.variance=2"),
    "default-scale-unit-variance": fault("scale-missing"),
    "unscaled-saturates": inputs("tiny components: the unscaled scores stay small up to d_k = 1024",
                                 "lab.variance=1/10000"),
    "scaled-stays": inputs("strongly correlated components: even the scaled scores grow like sqrt(d_k)",
                           "lab.correlation=9/10"),
}


# Exercises: graded by pytest (python -m labs.exercises scaling)

LAB = "scaling"
SETUP = "The components of q and k are independent, with mean 0 and variance 1."

EXERCISES = [
    Exercise(LAB, "variance", f"{SETUP}\nWhat is the variance of q . k when d_k = 64?", exact(64, "the variance"),
             "64", also=("8**2",), wrong={"8": "not right", "1": "not right"}, hint="each term q_i k_i has variance 1.",
             source="AIAYN §3.2.1"),
    Exercise(LAB, "scale", f"{SETUP}\nBy what factor must q . k be multiplied, for d_k = 16, to have variance 1?",
             exact(sp.Rational(1, 4), "the factor"), "1/4", also=("1/sqrt(16)", "0.25"),
             wrong={"1/16": "not right"}, hint="variance scales with the square of the factor.",
             source="AIAYN §3.2.1"),
    Exercise(LAB, "saturated_gradient", "The softmax weights of one query are alpha = (1, 0, 0), as when the "
             "scores are huge. Give the softmax Jacobian diag(alpha) - alpha alpha^T as a matrix.",
             exact(sp.zeros(3, 3), "the Jacobian"), "[[0, 0, 0], [0, 0, 0], [0, 0, 0]]",
             also=("[[1 - 1, 0, 0], [0, 0, 0], [0, 0, 0]]",),
             wrong={"[[1, 0, 0], [0, 0, 0], [0, 0, 0]]": "not right"}, hint="compute diag(alpha) and alpha alpha^T.",
             source="AIAYN §3.2.1"),
    Exercise(LAB, "nonzero_mean", "The components of q and k are independent with mean 1/2 and variance 1. What is "
             "E[q . k] when d_k = 64?", exact(16, "the mean"), "16", also=("64/4",),
             wrong={"0": "not right", "32": "not right"}, hint="E[q_i k_i] = E[q_i] E[k_i].", source="AIAYN §3.2.1"),
    Exercise(LAB, "not_independent", "Now every component of q is the same N(0, 1) number x, and every component of k "
             "the same N(0, 1) number y, independent of x. For d_k = 4, what is Var(q . k)?",
             exact(16, "the variance"), "16", also=("4**2",), wrong={"4": "not right"},
             hint="q . k = 4 x y.", source="AIAYN §3.2.1, footnote 4"),
]
