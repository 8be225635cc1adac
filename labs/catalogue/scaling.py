"""Lab ``scaling``: why "Attention Is All You Need" divides the scores by sqrt(d_k) (§3.2.1 and its footnote 4).

Footnote 4 assumes the components of q and k are independent random variables with mean 0
and variance 1; then q . k has mean 0 and variance d_k. The lab derives E[q . k] and
Var(q . k) exactly for a symbolic d_k from the components' mean, variance and correlation
(``lab.mean``, ``lab.variance``, ``lab.correlation``: the footnote's assumptions are inputs
here, so a learner can break them), and compares a Monte Carlo sample with the derived
values. vecmix's default scale is read back from its weights, pair by pair. The consequence
the paper suspects: large scores push softmax into regions with extremely small gradients,
measured as the largest weight and the norm of the softmax Jacobian against d_k, unscaled
and scaled by vecmix's default 1/sqrt(d_k), on the same random draws (in float64); and in
float32, as on accelerators, unscaled scores pass e^s's overflow and vecmix's weights stay
finite only because it subtracts each row's maximum.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from vecmix import VecmixError, attention

from ..claims import Claim, fault, inputs
from ..config.inputs import read_number, read_positive_int, read_seed
from ..config.resources import FLOAT, check_memory, progress
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, display, error_text, image, table

TITLE = "Why scale by 1/sqrt(d_k): the variance of q . k grows with d_k"
SOURCE = "AIAYN §3.2.1"
FOOTNOTE = "AIAYN §3.2.1, footnote 4"
GRID = (1, 4, 16, 64, 256, 1024)  # d_k values of the saturation curves drawn in every run
READ_BACK = 1e-9  # relative tolerance of the scores read back from vecmix's weights
READ_BACK_FLOOR = 1e-11  # read-back differences below this are printed as such (their digits are rounding noise)
FLOAT32 = 1e-3  # float32 weights against float64 ones: float32 keeps about 7 digits
EXP_OVERFLOW = float(np.log(np.finfo(np.float32).max))  # 88.72: e^s is inf in float32 above it
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
    """Derive E[q . k] and Var(q . k), compare a Monte Carlo sample, read the default scale back, measure saturation.

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
    law = tuple(read_number(params[key], f"lab.{key}") for key in ("mean", "variance", "correlation"))
    if not abs(law[0]) <= 100:
        raise VecmixError(f"lab.mean = {params['mean']!r} must lie between -100 and 100 (the scores grow like "
                          "d_k mean^2 and must stay finite in float32)")
    if not 0 < law[1] <= 100:
        raise VecmixError(f"lab.variance = {params['variance']!r} must be positive and at most 100")
    if not 0 <= law[2] <= 1:
        raise VecmixError(f"lab.correlation = {params['correlation']!r} must lie between 0 and 1")
    rng = np.random.default_rng(read_seed(params["seed"]))
    check_memory(LAB, (FLOAT * 6 * samples * d_k, {"lab.samples": samples, "lab.d_k": d_k}),  # q, k, their draws
                 (FLOAT * 4 * trials * n_keys * GRID[-1], {"lab.trials": trials, "lab.n_keys": n_keys}),  # saturation
                 (FLOAT * 3 * trials * n_keys**2, {"lab.trials": trials, "lab.n_keys": n_keys}))  # the Jacobians

    mean_f, square_f, variance_f = moments()
    given = dict(zip((mu, sigma2, rho), law))
    mean, variance = sp.factor(mean_f.subs(given)), sp.factor(variance_f.subs(given))
    at_d_k = {"mean": mean.subs(d, d_k), "variance": variance.subs(d, d_k)}  # exact, at the Monte Carlo's d_k
    q, k = draw(rng, (samples, d_k), law), draw(rng, (samples, d_k), law)  # (samples, d_k) each
    dots = np.einsum("sd,sd->s", q, k)  # (samples,): one q . k per pair
    mc_mean, mc_var, se_mean, se_var = _sample_moments(dots)
    mc_ok = (abs(mc_mean - float(at_d_k["mean"])) <= 4 * se_mean
             and abs(mc_var - float(at_d_k["variance"])) <= 4 * se_var)
    read = _read_back(q, k, dots)
    curves, largest = _saturation(rng, n_keys, trials, law, GRID)
    jac = {s: [c[1] for c in curves[s]] for s in (False, True)}
    f32 = curves["float32"]

    claims = [
        Claim("mean-zero", "E[q . k] = 0, derived for a symbolic d_k from the components' law", FOOTNOTE,
              "0 for every d_k", sp.sstr(mean), mean == 0, True),
        Claim("variance-d_k", "Var(q . k) = d_k, derived for a symbolic d_k from the components' law", FOOTNOTE,
              "d_k", sp.sstr(variance), sp.expand(variance - d) == 0, True),
        Claim("monte-carlo", f"{samples} random (q, k) pairs drawn with this law at d_k = {d_k} have the derived mean "
              "and variance", "vecmix (numeric = exact)",
              f"mean within 4 standard errors of {sp.sstr(at_d_k['mean'])}, variance within 4 of "
              f"{sp.sstr(at_d_k['variance'])}",
              f"mean {_sig(mc_mean)} (standard error {_sig(se_mean, 2)}), variance {_sig(mc_var)} (standard error "
              f"{_sig(se_var, 2)})", mc_ok, False),
        Claim("default-scale", f"called without scale=, vecmix scores each pair as q . k / sqrt(d_k): the scores read "
              f"back from its weights equal q . k / sqrt({d_k}) for all {samples} pairs", "vecmix (policy)",
              f"every difference <= {READ_BACK:g} (relative)", read["observed"], read["holds"], False),
        Claim("unscaled-saturates", "without the scale, the typical softmax Jacobian norm collapses as d_k grows: "
              "extremely small gradients", SOURCE, f"at d_k = {GRID[-1]} below 1/100 of its value at d_k = 1",
              f"{decimal(jac[False][0], 4)} -> {decimal(jac[False][-1], 4)}", jac[False][-1] * 100 <= jac[False][0],
              False),
        Claim("scaled-stays", "with vecmix's default scale 1/sqrt(d_k), the Jacobian norm stays within a factor of "
              f"2 across d_k = {GRID[0]}..{GRID[-1]}", SOURCE, "max / min <= 2",
              f"{decimal(min(jac[True]), 4)} .. {decimal(max(jac[True]), 4)}", max(jac[True]) <= 2 * min(jac[True]),
              False),
        Claim("float32-finite", f"in float32, unscaled scores at d_k = {GRID[-1]} pass e^s's overflow "
              f"({EXP_OVERFLOW:.2f}), yet vecmix's weights are finite and equal the float64 ones: it subtracts each "
              "row's maximum before exponentiating", "vecmix (policy)",
              f"largest score > {EXP_OVERFLOW:.2f}; weights finite, within {FLOAT32:g} of float64",
              f"largest unscaled score {_sig(largest, 4)}; " + (
                  f"{f32['infinite']} float32 weights not finite" if f32["infinite"] else
                  f"largest difference of the float32 weights from float64 {error_text(f32['error'], FLOAT32)}"),
              largest > EXP_OVERFLOW and not f32["infinite"] and f32["error"] <= FLOAT32, False),
    ]
    labels = {False: "q . k (unscaled)", True: "q . k / sqrt(d_k) (vecmix's default)"}
    figure = fig.line_panels(list(GRID), [
        ("largest weight", {labels[s]: [c[0] for c in curves[s]] for s in (False, True)}),
        ("softmax Jacobian norm", {labels[s]: jac[s] for s in (False, True)}),
    ], "d_k", log_x=True)
    values = [Value("d_k", d_k), Value("exact_mean", None, mean), Value("exact_variance", None, variance),
              Value("monte_carlo_mean", _sig(mc_mean, as_text=False)),
              Value("monte_carlo_variance", _sig(mc_var, as_text=False)),
              Value("default_scale_score_variance", _sig(read["variance"], as_text=False)),
              Value("default_scale_read_back_error", read["error_text"]), Value("grid", list(GRID)),
              Value("largest_weight_unscaled", [_sig(c[0], 4, False) for c in curves[False]]),
              Value("largest_weight_scaled", [_sig(c[0], 4, False) for c in curves[True]]),
              Value("jacobian_norm_unscaled", [_sig(x, 4, False) for x in jac[False]]),
              Value("jacobian_norm_scaled", [_sig(x, 4, False) for x in jac[True]]),
              Value("largest_unscaled_score", _sig(largest, 4, False))]
    sections = _sections(law, (mean_f, square_f, variance_f), (mean, variance, at_d_k), d_k, samples,
                         (mc_mean, mc_var, mc_ok), read, (n_keys, trials, curves, largest), claims)
    intro = ("*Reproduces* the argument of \"Attention Is All You Need\" §3.2.1 and its footnote 4 for the "
             "$1/\\sqrt{d_k}$ scale; the scaled score $s_i = q \\cdot k_i / \\sqrt{d_k}$ is the one of "
             "`002_7fa86cbe478c569d.txt` §2.")
    deviations = ["The paper states the variance without proof and suspects the saturation; the derivation and the "
                  "measurements are this lab's."]
    if law != (0, 1, 0):
        deviations.append(f"The components here have mean {law[0]}, variance {law[1]} and correlation {law[2]}, not "
                          "the footnote's independent components with mean 0 and variance 1.")
    return LabResult("scaling", TITLE, intro, sections, claims, values, {"saturation.svg": figure}, deviations)


def _sig(x, digits=3, as_text=True):
    """x to a few significant digits: a sample statistic supports no more, and last bits differ between CPUs.

    >>> _sig(0.0220123456789), _sig(64.1234, 4), _sig(0.00969756, 4, as_text=False)
    ('0.022', '64.12', 0.009698)
    """
    text = f"{x:.{digits}g}"
    return text if as_text else float(text)


def _sample_moments(x):
    """(mean, variance, standard error of the mean, standard error of the variance) of a sample (NaN below 2 entries)."""
    if len(x) < 2:
        return (float("nan"),) * 4
    centred = x - x.mean()
    var = float(np.mean(centred**2)) * len(x) / (len(x) - 1)
    fourth = float(np.mean(centred**4))
    return float(x.mean()), var, float(np.sqrt(var / len(x))), float(np.sqrt(max(fourth - var**2, 0.0) / len(x)))


def _read_back(q, k, dots):
    """The scores vecmix's softmax saw at its default scale, read from its weights, against q . k / sqrt(d_k).

    Each q gets the two keys k and 0, so its scores are (s, 0) and its weights e^s / (e^s + 1) and
    1 / (e^s + 1): s = log(alpha_1) - log(alpha_2), accurate even where alpha_1 is within 1e-16 of 1
    (alpha_2 comes from vecmix's own exponential, not from 1 - alpha_1). A weight that underflows to 0
    gives no score.
    """
    samples, d_k = q.shape
    K = np.stack([k, np.zeros_like(k)], axis=1)  # (samples, 2, d_k): each q's two keys
    _, A = attention(q[:, np.newaxis, :], K, np.zeros((samples, 2, 1)), weights=True)  # A (samples, 1, 2)
    with np.errstate(divide="ignore"):
        s = np.log(A[:, 0, 0]) - np.log(A[:, 0, 1])  # (samples,)
    expected = dots / np.sqrt(d_k)  # (samples,): the lab's own q . k, scaled as the paper says
    readable = np.isfinite(s)
    error = float(np.max(np.abs(s - expected)[readable] / np.maximum(1, np.abs(expected[readable])), initial=0.0))
    holds = bool(readable.all()) and error <= READ_BACK
    worst = int(np.argmax(np.where(readable, np.abs(s - expected), -1.0)))
    observed = (f"largest relative difference {error_text(error, READ_BACK_FLOOR)}" if holds else
                f"pair {worst + 1}: read back {decimal(s[worst], 4)}, q . k / sqrt({d_k}) = "
                f"{decimal(expected[worst], 4)}")
    if not readable.all():
        observed += f"; {int(np.sum(~readable))} weights of exactly 0 give no score"
    variance = float(np.var(s[readable], ddof=1)) if readable.sum() > 1 else float("nan")
    return {"holds": holds, "observed": observed, "error_text": error_text(error, READ_BACK_FLOOR),
            "variance": variance}


def jacobian_norms(a):
    """Frobenius norms of the softmax Jacobians diag(alpha) - alpha alpha^T, one per row of weights a (t, n).

    The diagonal entries alpha_i (1 - alpha_i) take 1 - alpha_i as sum_{j != i} alpha_j, so a weight
    within 1e-6 of 1 loses no digits to cancellation.

    >>> jacobian_norms(np.array([[0.5, 0.5], [1.0, 0.0]])).tolist()
    [0.5, 0.0]
    """
    others = ~np.eye(a.shape[-1], dtype=bool)  # (n, n): j != i
    rest = np.sum(a[:, np.newaxis, :] * others, axis=-1)  # (t, n): sum_{j != i} alpha_j
    products = a[:, :, np.newaxis] * a[:, np.newaxis, :]  # (t, n, n): alpha_i alpha_j
    return np.sqrt(np.sum((a * rest) ** 2, axis=-1) + np.sum(products**2 * others, axis=(1, 2)))  # (t,)


def _saturation(rng, n_keys, trials, law, grid):
    """({False, True: [(median largest weight, median Jacobian norm) per d_k], "float32": ...}, the largest
    unscaled score at the largest d_k).

    The random queries and keys are drawn once at the largest d_k; each d_k uses their first d_k
    components (common random numbers), so at d_k = 1, where the scale is 1, both curves agree.
    Medians, because the typical query is the point: a mean is dominated by the rare near-ties.
    The curves are computed in float64, where they are the same on every machine; the unscaled
    weights at the largest d_k are computed again in float32, as on accelerators.
    """
    q = draw(rng, (trials, 1, max(grid)), law)  # (trials, 1, d_max)
    K = draw(rng, (trials, n_keys, max(grid)), law)  # (trials, n_keys, d_max)
    V = np.zeros((trials, n_keys, 1))  # the weights are the point; the values do not matter
    curves, weights = {False: [], True: []}, {}
    largest = float(np.max(q @ np.swapaxes(K, 1, 2)))  # (trials, 1, d) @ (trials, d, n_keys): the unscaled scores
    for g in progress(grid, "scaling: saturation curves"):
        for scaled in (False, True):
            kwargs = {} if scaled else {"scale": 1.0}  # scaled: vecmix's default 1/sqrt(d_k)
            _, weights[scaled] = attention(q[..., :g], K[..., :g], V, weights=True, **kwargs)  # (trials, 1, n_keys)
            a = weights[scaled][:, 0, :]  # (trials, n_keys)
            curves[scaled].append((float(np.median(a.max(axis=1))), float(np.median(jacobian_norms(a)))))
    with np.errstate(invalid="ignore"):  # a softmax without its max shift gives inf / inf here
        _, A32 = attention(*(x.astype(np.float32) for x in (q, K, V)), weights=True, scale=1.0)  # (trials, 1, n_keys)
    finite = np.isfinite(A32)
    error = np.abs(A32.astype(np.float64) - weights[False])[finite]  # against float64, unscaled, at the largest d_k
    curves["float32"] = {"infinite": int(np.sum(~finite)), "error": float(np.max(error, initial=0.0))}
    return curves, largest


def _sections(law, formulas, exact, d_k, samples, mc, read, saturation, claims):
    mean_f, square_f, _ = formulas
    mean, variance, at_d_k = exact
    n_keys, trials, curves, largest = saturation
    verdict = {c.id: c.holds for c in claims}
    rows = [[g, decimal(curves[False][i][0]), decimal(curves[True][i][0]), decimal(curves[False][i][1], 4),
             decimal(curves[True][i][1], 4)] for i, g in enumerate(GRID)]
    footnote = law == (0, 1, 0)
    f32 = curves["float32"]
    if largest <= EXP_OVERFLOW:
        overflow = (f"The largest unscaled score at $d_k = {GRID[-1]}$ is {_sig(largest, 4)}, below {EXP_OVERFLOW:.2f} "
                    "where $e^s$ overflows float32: with this law there is nothing to overflow.")
    else:
        overflow = (f"The largest unscaled score at $d_k = {GRID[-1]}$ is {_sig(largest, 4)}, past {EXP_OVERFLOW:.2f} "
                    "where $e^s$ overflows float32, the format attention often runs in on accelerators. Given the same "
                    "queries and keys in float32, vecmix returns "
                    + (f"{f32['infinite']} weights that are not finite." if f32["infinite"] else
                       "finite weights (largest difference from the float64 ones "
                       f"{error_text(f32['error'], FLOAT32)}), because it subtracts each row's maximum before "
                       "exponentiating: every exponent is then at most 0."))
    if verdict["unscaled-saturates"]:
        caption = "without the scale, softmax collapses onto one key and its Jacobian norm falls towards 0."
    else:
        caption = (f"here the unscaled Jacobian norm does not collapse (it ends at {decimal(curves[False][-1][1], 4)}, "
                   f"against {decimal(curves[False][0][1], 4)} at d_k = 1): with these components the scores stay "
                   "small.")
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
        + f"\nAt $d_k = {d_k}$ the derivation gives mean ${sp.latex(at_d_k['mean'])}$ and variance "
        f"${sp.latex(at_d_k['variance'])}$; {samples} pairs drawn with this law give mean {_sig(mc[0])} and variance "
        f"{_sig(mc[1])}, {'within' if mc[2] else 'not within'} 4 standard errors of them.\n\n"
        "Given to vecmix without `scale=`, with the two keys $k$ and $0$, each pair's scores are $(s, 0)$ and its "
        "weights $e^s / (e^s + 1)$ and $1 / (e^s + 1)$, so $s = \\log \\alpha_1 - \\log \\alpha_2$ comes back from "
        f"the weights. Against $q \\cdot k / \\sqrt{{{d_k}}}$ computed here: {read['observed']}. Their sample variance "
        f"is {_sig(read['variance'])}.\n",
        "## The consequence: saturation\n\n"
        f"For {trials} random queries against {n_keys} random keys of the same law, the softmax weights with "
        "`scale=1` and with vecmix's default $1/\\sqrt{d_k}$, on the same draws (so at $d_k = 1$, where the scale "
        "is 1, the columns agree), in float64. Medians over the queries; the Jacobian of softmax is "
        "$\\operatorname{diag}(\\alpha) - \\alpha\\alpha^\\top$, and its Frobenius norm measures how much the weights "
        "can still move (its diagonal $\\alpha_i (1 - \\alpha_i)$ is computed with $1 - \\alpha_i = "
        "\\sum_{j \\ne i} \\alpha_j$, so a weight near 1 loses no digits):\n\n"
        + table(["$d_k$", "largest weight, unscaled", "scaled", "Jacobian norm, unscaled", "scaled"], rows)
        + "\n\n" + overflow + "\n\n"
        + image("figures/saturation.svg", "saturation against d_k",
                "Figure 1. Median largest weight and Jacobian norm against d_k (log scale), unscaled and scaled: "
                + caption)
        + "\n",
    ]

COUNTER_CASES = {
    "mean-zero": inputs("components with mean 1/2", "lab.mean=1/2"),
    "variance-d_k": inputs("correlated components (not independent)", "lab.correlation=1/2"),
    "monte-carlo": fault("moments-cross-terms-as-diagonal"),
    "default-scale": fault("scale-missing"),
    "unscaled-saturates": inputs("tiny components: the unscaled scores stay small up to d_k = 1024",
                                 "lab.variance=1/10000"),
    "scaled-stays": inputs("strongly correlated components: even the scaled scores grow like sqrt(d_k)",
                           "lab.correlation=9/10"),
    "float32-finite": fault("softmax-no-max-shift"),
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
    Exercise(LAB, "half_correlated", "The components of q have mean 0, variance 1, and any two of them correlation 1/2; "
             "k has the same law and is independent of q. For d_k = 4, what is Var(q . k)?",
             exact(7, "the variance"), "7", also=("4*(4 + 3)/4",), wrong={"4": "not right", "16": "not right"},
             hint="E[(q . k)^2] = sum over i, j of E[q_i q_j] E[k_i k_j]: 4 terms with i = j, 12 with E[q_i q_j] = 1/2.",
             source="AIAYN §3.2.1, footnote 4"),
]
