"""Lab ``scaling``: why "Attention Is All You Need" divides the scores by sqrt(d_k) (§3.2.1 and its footnote).

If the components of q and k are independent with mean 0 and variance 1, then q . k has
mean 0 and variance d_k: proved exactly for a symbolic d_k, and confirmed by Monte
Carlo. The consequence the paper names: large scores push softmax into regions with
extremely small gradients, measured as the largest weight, the entropy and the norm of
the softmax Jacobian against d_k, with and without the scaling.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from vecmix import VecmixError, softmax

from ..claims import Claim
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, display, image, table

TITLE = "Why scale by 1/sqrt(d_k): the variance of q . k grows with d_k"
SOURCE = "AIAYN §3.2.1"
GRID = (1, 4, 16, 64, 256, 1024)  # d_k values of the curves drawn in every run


@dataclass
class Config:
    """scaling: the variance of q . k against d_k, and softmax saturation (AIAYN §3.2.1)."""

    name: str = "scaling"
    d_k: int = 64  # the dimension checked by Monte Carlo (sweep it: -m lab=scaling lab.d_k=4,16,64)
    n_keys: int = 16  # keys per query in the saturation measurements
    samples: int = 20000  # Monte Carlo pairs
    trials: int = 200  # random queries per point of the saturation curves
    seed: int = 0  # draws the Monte Carlo pairs and the random queries and keys


def run(params):
    """Prove Var(q . k) = d_k, check it by Monte Carlo, and measure softmax saturation against d_k.

    >>> r = run({"d_k": 16, "n_keys": 16, "samples": 4000, "trials": 100, "seed": 0})
    >>> r.reproduced
    True
    """
    d_k = read_positive_int(params["d_k"], "lab.d_k")
    n_keys = read_positive_int(params["n_keys"], "lab.n_keys")
    samples = read_positive_int(params["samples"], "lab.samples")
    trials = read_positive_int(params["trials"], "lab.trials")
    if samples < 100:
        raise VecmixError(f"lab.samples = {samples} is too few for a Monte Carlo check; use at least 100")
    rng = np.random.default_rng(params["seed"])

    mean, variance, term_mean, term_variance = exact_moments()
    d = sp.Symbol("d_k", positive=True, integer=True)
    q = rng.standard_normal((samples, d_k))  # (samples, d_k)
    k = rng.standard_normal((samples, d_k))
    dots = np.einsum("sd,sd->s", q, k)  # (samples,): one q . k per sample
    mc_mean, mc_var = float(dots.mean()), float(dots.var(ddof=1))
    stderr = float(np.sqrt(d_k / samples))  # standard error of the mean of q . k
    curves = {scaled: [saturation(g, n_keys, trials, rng, scaled) for g in GRID] for scaled in (False, True)}
    here = {scaled: saturation(d_k, n_keys, trials, rng, scaled) for scaled in (False, True)}
    jac_plain = [c[2] for c in curves[False]]
    jac_scaled = [c[2] for c in curves[True]]

    claims = [
        Claim("mean-zero", "E[q . k] = 0 when the components are independent with mean 0 and variance 1", SOURCE,
              "0 (exact, any d_k)", sp.sstr(mean), mean == 0, True),
        Claim("variance-d_k", "Var(q . k) = d_k, proved for a symbolic d_k (each term q_i k_i has variance "
              f"{sp.sstr(term_variance)}, and independent terms add)", f"{SOURCE}, footnote 4", "d_k",
              sp.sstr(variance), sp.simplify(variance - d) == 0 and term_mean == 0, True),
        Claim("scaled-variance-one", "dividing by sqrt(d_k) gives the scores unit variance", SOURCE, "1",
              sp.sstr(sp.simplify(variance / d)), sp.simplify(variance / d) == 1, True),
        Claim("monte-carlo", f"{samples} random (q, k) pairs at d_k = {d_k} confirm mean 0 and variance d_k",
              SOURCE, f"mean within 4 standard errors ({4 * stderr:.3f}); variance within 5% of {d_k}",
              f"mean {mc_mean:.3f}, variance {mc_var:.2f}",
              abs(mc_mean) <= 4 * stderr and abs(mc_var / d_k - 1) <= 0.05, False),
        Claim("unscaled-saturates", "without scaling, the typical softmax Jacobian norm collapses as d_k grows: "
              "extremely small gradients", SOURCE, f"at d_k = {GRID[-1]} below 1/100 of its value at d_k = 1",
              f"{jac_plain[0]:.3f} -> {jac_plain[-1]:.2g}", jac_plain[-1] * 100 <= jac_plain[0], False),
        Claim("scaled-stays", "with scaling, the Jacobian norm stays within a factor of 2 across d_k", SOURCE,
              "max / min <= 2", f"{min(jac_scaled):.3f} .. {max(jac_scaled):.3f}",
              max(jac_scaled) <= 2 * min(jac_scaled), False),
    ]
    labels = {False: "q . k (unscaled)", True: "q . k / sqrt(d_k)"}
    figure = fig.line_panels(list(GRID), [
        ("largest weight", {labels[s]: [c[0] for c in curves[s]] for s in curves}),
        ("entropy of the weights (nats)", {labels[s]: [c[1] for c in curves[s]] for s in curves}),
        ("softmax Jacobian norm", {labels[s]: [c[2] for c in curves[s]] for s in curves}),
    ], "d_k", log_x=True)
    rows = [[g, decimal(curves[False][i][0]), decimal(curves[True][i][0]), decimal(curves[False][i][2], 4),
             decimal(curves[True][i][2], 4)] for i, g in enumerate(GRID)]
    values = [Value("d_k", d_k), Value("exact_mean", 0, mean), Value("exact_variance", None, variance),
              Value("monte_carlo_mean", mc_mean), Value("monte_carlo_variance", mc_var),
              Value("saturation_here", {"unscaled": here[False], "scaled": here[True]}),
              Value("grid", list(GRID)), Value("jacobian_norm_unscaled", jac_plain),
              Value("jacobian_norm_scaled", jac_scaled)]
    sections = [
        "## The claim\n\n"
        "The paper scales the dot products by $1/\\sqrt{d_k}$ because, for large $d_k$, \"the dot products grow "
        "large in magnitude, pushing the softmax function into regions where it has extremely small gradients\". "
        "Its footnote: if the components of $q$ and $k$ are independent random variables with mean 0 and variance "
        "1, then $q \\cdot k = \\sum_{i=1}^{d_k} q_i k_i$ has mean 0 and variance $d_k$.\n",
        "## The proof, exactly\n\n"
        "For one term, independence gives $E[q_i k_i] = E[q_i] E[k_i] = 0$ and "
        "$\\operatorname{Var}(q_i k_i) = E[q_i^2] E[k_i^2] - 0 = 1$. The terms are independent, so their variances "
        "add. SymPy carries this out with a symbolic $d_k$:\n"
        + display(rf"E[q \cdot k] = {sp.latex(mean)}, \qquad \operatorname{{Var}}(q \cdot k) = "
                  rf"\sum_{{i=1}}^{{d_k}} \operatorname{{Var}}(q_i k_i) = {sp.latex(variance)}, \qquad "
                  rf"\operatorname{{Var}}\!\left(\frac{{q \cdot k}}{{\sqrt{{d_k}}}}\right) = 1")
        + f"\nMonte Carlo with {samples} pairs at $d_k = {d_k}$: mean {mc_mean:.3f}, variance {mc_var:.2f}.\n",
        "## The consequence: saturation\n\n"
        f"For {trials} random queries against {n_keys} random keys, medians over the queries of the softmax "
        "weights with and without the scaling (the Jacobian of softmax is $\\operatorname{diag}(\\alpha) - \\alpha\\alpha^\\top$; its Frobenius "
        "norm measures how much the weights can still move):\n\n"
        + table(["$d_k$", "largest weight, unscaled", "scaled", "Jacobian norm, unscaled", "scaled"], rows)
        + "\n\n" + image("figures/saturation.svg", "saturation against d_k",
                         "Figure 1. Median largest weight, entropy and Jacobian norm against d_k (log scale), unscaled and "
                         "scaled: without the scaling softmax collapses onto one key and its gradient vanishes.")
        + "\n",
    ]
    intro = ("*Reproduces* the argument of \"Attention Is All You Need\" §3.2.1 and footnote 4 for the "
             "$1/\\sqrt{d_k}$ scale, read through the paper lab `001_8c65d19d1d0c4e45.txt`.")
    return LabResult("scaling", TITLE, intro, sections, claims, values, {"saturation.svg": figure}, [
        "The paper states the variance without proof; the proof and the saturation measurements are this lab's."])


def exact_moments():
    """(E[q . k], Var(q . k), E[q_i k_i], Var(q_i k_i)) for a symbolic d_k, from one term's exact moments."""
    from sympy import stats  # only when a lab needs it: it is slow to import

    qi, ki = stats.Normal("q_i", 0, 1), stats.Normal("k_i", 0, 1)  # any mean 0, variance 1 law gives the same
    term_mean = sp.simplify(stats.E(qi * ki))
    term_variance = sp.simplify(stats.variance(qi * ki))
    i, d = sp.Symbol("i", integer=True, positive=True), sp.Symbol("d_k", positive=True, integer=True)
    mean = sp.summation(term_mean, (i, 1, d))
    variance = sp.summation(term_variance, (i, 1, d))  # independent terms: variances add
    return mean, variance, term_mean, term_variance


def saturation(d_k, n_keys, trials, rng, scaled):
    """Median (largest weight, entropy, Frobenius norm of the softmax Jacobian) over random queries.

    Medians, because the typical query is the point: a mean is dominated by the rare near-ties.
    """
    q = rng.standard_normal((trials, 1, d_k))  # (trials, 1, d_k)
    K = rng.standard_normal((trials, n_keys, d_k))  # (trials, n_keys, d_k)
    s = (q @ np.swapaxes(K, 1, 2))[:, 0, :]  # (trials, 1, d_k) @ (trials, d_k, n_keys) -> (trials, n_keys)
    if scaled:
        s = s / np.sqrt(d_k)
    a = softmax(s)  # (trials, n_keys)
    entropy = -np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0)), 0.0), axis=1)
    J = a[:, :, None] * np.eye(n_keys) - a[:, :, None] * a[:, None, :]  # (trials, n_keys, n_keys)
    return (float(np.median(a.max(axis=1))), float(np.median(entropy)),
            float(np.median(np.linalg.norm(J, axis=(1, 2)))))


# Exercises: graded by pytest (python -m labs.exercises scaling)

LAB = "scaling"
SETUP = "The components of q and k are independent, with mean 0 and variance 1."

EXERCISES = [
    Exercise(LAB, "variance", f"{SETUP}\nWhat is the variance of q . k when d_k = 64?", exact(64, "the variance"),
             "64", wrong={"8": "not right", "1": "not right"}, hint="each term q_i k_i has variance 1.",
             source="AIAYN §3.2.1"),
    Exercise(LAB, "scale", f"{SETUP}\nBy what factor must q . k be multiplied, for d_k = 16, to have variance 1?",
             exact(sp.Rational(1, 4), "the factor"), "1/4", also=("1/sqrt(16)", "0.25"),
             wrong={"1/16": "not right"}, hint="variance scales with the square of the factor.",
             source="AIAYN §3.2.1"),
    Exercise(LAB, "saturated_gradient", "The softmax weights of one query are alpha = (1, 0, 0), as when the "
             "scores are huge. Give the softmax Jacobian diag(alpha) - alpha alpha^T as a matrix.",
             exact(sp.zeros(3, 3), "the Jacobian"), "[[0, 0, 0], [0, 0, 0], [0, 0, 0]]",
             wrong={"[[1, 0, 0], [0, 0, 0], [0, 0, 0]]": "not right"}, hint="compute diag(alpha) and alpha alpha^T.",
             source="AIAYN §3.2.1"),
]
