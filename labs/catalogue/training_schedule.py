"""Lab ``training_schedule``: the learning rate of AIAYN §5.3 and the label smoothing of §5.4, exactly.

§5.3 sets lrate = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5): a linear rise for
warmup_steps steps, then a decay proportional to step^-0.5. SymPy decides where the two
branches meet, the peak and the decay exactly. §5.4 smooths the targets with
epsilon_ls = 0.1; in the form of the paper it cites (Szegedy et al.), the smoothed target
q = (1 - epsilon) onehot + epsilon * uniform is a mixture of two distributions (this project's
subject, for probability vectors). The prediction that minimises the smoothed loss is q
itself, which gives the true token less than 1: the model "learns to be more unsure".
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import VecmixError, exact_equal, is_nonnegative, is_zero

from ..claims import Claim, fault, inputs
from ..config.inputs import read_number, read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, display, image, table, tex

TITLE = "Training: the warmup schedule and label smoothing, checked exactly"
SOURCE_LR = "AIAYN §5.3"
SOURCE_LS = "AIAYN §5.4"
MAX_STEPS = 10**9  # steps in the table: beyond a billion no run of the paper's kind goes
MAX_SIZE = 10**7  # d_model and the vocabulary: ten million is beyond any model of the paper's kind
step, d, w = sp.symbols("step d_model warmup_steps", positive=True)


@dataclass
class Config:
    """training_schedule: the schedule's d_model and warmup_steps; the smoothing's epsilon and vocabulary size."""

    name: str = "training_schedule"
    d_model: int = MISSING
    warmup_steps: int = MISSING
    steps: List[int] = MISSING  # the steps tabulated (and checked) besides the peak
    smoothing: Any = MISSING  # epsilon_ls, a number in [0, 1)
    vocabulary: int = MISSING  # K, the number of classes the target spreads over


COUNTER_CASES = {
    "branches-meet-at-warmup": fault("schedule-warmup-exponent"),
    "peak": fault("schedule-warmup-exponent"),
    "decay-inverse-sqrt": fault("schedule-decay-exponent"),
    "smoothed-target-is-a-mixture": fault("smoothing-keeps-the-one-hot"),
    "smoothing-caps-confidence": inputs("no smoothing: the best prediction is the one-hot target itself",
                                        "lab.smoothing=0"),
}


def learning_rate(s, d_model, warmup):
    """AIAYN eq. (3): d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5), exactly.

    >>> learning_rate(4000, 512, 4000) == 1 / sp.sqrt(512 * 4000)
    True
    """
    return d_model ** sp.Rational(-1, 2) * sp.Min(s ** sp.Rational(-1, 2), s * warmup ** sp.Rational(-3, 2))


def smoothed_target(epsilon, K):
    """(true class, any other class) of q = (1 - epsilon) onehot + epsilon u, u the uniform distribution on K classes.

    >>> smoothed_target(sp.Rational(1, 10), 4)
    (37/40, 1/40)
    """
    return 1 - epsilon + epsilon / K, epsilon / K


def run(params):
    """The schedule at the configured steps and its peak; the smoothed target and its entropy.

    >>> r = run({"d_model": 512, "warmup_steps": 4000, "steps": [100, 40000], "smoothing": "0.1", "vocabulary": 37000})
    >>> r.reproduced
    True
    """
    d_model = read_positive_int(params["d_model"], "lab.d_model", maximum=MAX_SIZE)
    warmup = read_positive_int(params["warmup_steps"], "lab.warmup_steps", maximum=MAX_STEPS)
    if not params["steps"]:
        raise VecmixError("lab.steps is empty: give at least one step to tabulate")
    steps = [read_positive_int(s, f"lab.steps[{i}]", maximum=MAX_STEPS) for i, s in enumerate(params["steps"])]
    epsilon = read_number(params["smoothing"], "lab.smoothing")
    if not (is_nonnegative(epsilon) and not is_nonnegative(epsilon - 1)):
        raise VecmixError(f"lab.smoothing = {params['smoothing']} must lie in [0, 1): the weight of the uniform "
                          "distribution in the target")
    K = read_positive_int(params["vocabulary"], "lab.vocabulary", maximum=MAX_SIZE)
    if K < 2:
        raise VecmixError("lab.vocabulary = 1 leaves nothing to smooth over: at least 2 classes")

    # the schedule: where the branches of the lab's own formula meet, the peak, the decay
    general = learning_rate(step, d, w)
    mins = general.atoms(sp.Min)
    meet = sp.solve(sp.Eq(*next(iter(mins)).args), step) if len(mins) == 1 else []  # the one crossing, if any
    at_w = sp.simplify(general.subs(step, w))
    meets_at_w = meet == [w] and sp.simplify(at_w - 1 / sp.sqrt(d * w)) == 0
    checked = sorted({*steps, 1, warmup, *(s for s in (warmup - 1, warmup + 1) if s >= 1)})  # either side of the peak
    rates = {s: learning_rate(sp.Integer(s), sp.Integer(d_model), sp.Integer(warmup)) for s in checked}
    linear = all(exact_equal(rates[s] * warmup, rates[warmup] * s) for s in checked if s <= warmup)  # rate/step fixed
    peak_value = rates[warmup]
    expected_peak = 1 / sp.sqrt(sp.Integer(d_model) * warmup)
    others = [s for s in rates if s != warmup]
    peak_ok = exact_equal(peak_value, expected_peak) and all(is_nonnegative(peak_value - rates[s]) for s in others) \
        and all(not is_zero(peak_value - rates[s]) for s in others)
    ratios = [(s, learning_rate(4 * s, d_model, warmup) / rates[s]) for s in sorted(rates) if s >= warmup]
    decay_ok = bool(ratios) and all(exact_equal(r, sp.Rational(1, 2)) for _, r in ratios)

    # label smoothing: q built by mixing the two distributions, entry by entry, against the lab's formula
    true_class, other_class = smoothed_target(epsilon, K)
    mixed = ((1 - epsilon) * 1 + epsilon / K, (1 - epsilon) * 0 + epsilon / K)  # (true, other) of the mixture
    total = true_class + (K - 1) * other_class
    mixture_ok = (exact_equal(true_class, mixed[0]) and exact_equal(other_class, mixed[1]) and exact_equal(total, 1)
                  and is_nonnegative(other_class))
    a = sp.Symbol("a", positive=True)  # a prediction: a on the true token, (1 - a) / (K - 1) on each other one
    loss = -true_class * sp.log(a) - (K - 1) * other_class * sp.log((1 - a) / (K - 1))  # CE(q, p)
    best = [x for x in sp.solve(sp.diff(loss, a), a) if x.is_real and 0 < x <= 1] if not is_zero(other_class) else [1]
    confidence = best[0] if len(best) == 1 else None
    unsure = confidence is not None and exact_equal(confidence, true_class) and not is_nonnegative(confidence - 1)

    claims = [
        Claim("branches-meet-at-warmup", "the rate rises linearly (rate / step is the same at every step up to "
              "warmup_steps) until the rise step * warmup^-1.5 meets the decay step^-0.5 at step = warmup_steps, "
              "where the rate is d_model^-0.5 * warmup_steps^-0.5", SOURCE_LR,
              "the one positive solution of step * w^-1.5 = step^-0.5 is w (symbolic); rate / step equal at every "
              "step checked up to warmup_steps",
              f"solutions {sp.sstr(meet)}; rate there {sp.sstr(at_w)}; rate / step "
              f"{'the same' if linear else 'not the same'} at the steps up to {warmup}", meets_at_w and linear, True),
        Claim("peak", f"with d_model = {d_model} and warmup_steps = {warmup}, the largest rate of the steps checked is "
              f"at step {warmup}: 1/sqrt({d_model} * {warmup})", SOURCE_LR,
              f"lrate({warmup}) = {sp.sstr(expected_peak)}, above every other step checked",
              f"lrate({warmup}) = {sp.sstr(sp.nsimplify(peak_value))} = {decimal(float(peak_value), 6)}; steps "
              f"checked {', '.join(map(str, sorted(rates)))}", peak_ok, True),
        Claim("decay-inverse-sqrt", "after warmup the rate decays as step^-0.5: four times the steps, half the rate",
              SOURCE_LR, "lrate(4 s) / lrate(s) = 1/2 for every s >= warmup_steps checked",
              "ratios " + (", ".join(f"{sp.sstr(r)} at {s}" for s, r in ratios) or "none"),
              decay_ok and bool(ratios), True),
        Claim("smoothed-target-is-a-mixture", f"label smoothing with epsilon = {sp.sstr(epsilon)} (the form of the "
              "paper's reference [36]) makes the target the mixture (1 - epsilon) onehot + epsilon uniform: a "
              "probability vector, in the convex hull of the two", SOURCE_LS,
              "each entry the mixture of the two distributions' entries; entries >= 0 summing to exactly 1",
              f"true class {sp.sstr(true_class)}, each of the other {K - 1} classes {sp.sstr(other_class)}; sum "
              f"{sp.sstr(total)}", mixture_ok, True),
        Claim("smoothing-caps-confidence", "the prediction that minimises the smoothed loss is q itself, which gives "
              "the true token 1 - epsilon + epsilon/K < 1: the model learns to be more unsure, and its perplexity on "
              "the true tokens cannot reach 1", SOURCE_LS,
              "the minimiser of CE(q, p) over p puts exactly q's weight on the true token, and that weight is < 1",
              (f"minimiser a = {sp.sstr(confidence)} on the true token; true-token perplexity at best "
               f"{sp.sstr(1 / confidence)} = {decimal(float(1 / confidence), 4)}") if confidence is not None else
              f"minimisers {sp.sstr(best)}", unsure, True),
    ]
    shown = sorted({*steps, warmup, *(int(s) for s in np.geomspace(1, max(steps + [warmup]) * 4, 40))})
    curve = [float(learning_rate(s, d_model, warmup)) for s in shown]
    figures = {"schedule.svg": fig.line_panels(shown, [("learning rate", {"lrate": curve})], "step", log_x=True,
                                               guides=[[float(expected_peak)]],
                                               titles=[f"d_model = {d_model}, warmup_steps = {warmup}"])}
    values = [Value("steps", checked), Value("rates", [float(rates[s]) for s in checked], [rates[s] for s in checked]),
              Value("peak", float(peak_value), peak_value), Value("smoothed_true_class", float(true_class), true_class),
              Value("smoothed_other_class", float(other_class), other_class)]
    sections = _sections(d_model, warmup, rates, epsilon, K, true_class, other_class)
    intro = ("*Reproduces* two formulas of the training setup of \"Attention Is All You Need\" (Vaswani et al., "
             "2017, arXiv:1706.03762), exactly, with the paper's values by default: the learning-rate schedule (§5.3) "
             "and the label-smoothed target (§5.4).")
    return LabResult("training_schedule", TITLE, intro, sections, claims, values, figures, [
        "The paper gives the schedule's formula and constants, and epsilon_ls = 0.1 with a reference ([36], Szegedy "
        "et al.) for the smoothing; the form (1 - epsilon) onehot + epsilon/K on every class is that reference's. "
        "The authors' tensor2tensor code gives the true class 1 - epsilon and epsilon/(K - 1) to each other class: "
        "another mixture, of the one-hot and the uniform distribution on the other classes.",
        "The steps tabulated and the vocabulary size (37000; §5.1 says about 37000 tokens for English-German) are "
        "this lab's choices. Adam's settings (§5.3) and residual dropout (§5.4) are not part of this lab.",
        "The paper's perplexity is measured on held-out text against the real tokens (Table 3, row (D)), and "
        "whether smoothing improves accuracy and BLEU needs training on the paper's data: neither is reproduced "
        "here; the lab shows the mechanism, the cap on the confidence the smoothed loss rewards."])


def _sections(d_model, warmup, rates, epsilon, K, true_class, other_class):
    rows = [[s, f"${tex(sp.nsimplify(r))}$", decimal(float(r), 8),
             "rise" if s < warmup else ("peak" if s == warmup else "decay")] for s, r in sorted(rates.items())]
    return [
        "## The learning rate (§5.3)\n\n"
        + display(r"\mathrm{lrate} = d_{model}^{-0.5} \cdot \min\left(\mathrm{step}^{-0.5}, \; \mathrm{step} "
                  r"\cdot w^{-1.5}\right)")
        + "\nwith $w$ = warmup_steps. The second term rises linearly, the first falls as $\\mathrm{step}^{-1/2}$; they are equal where "
        "$\\mathrm{step} \\cdot w^{-3/2} = \\mathrm{step}^{-1/2}$, that is at $\\mathrm{step} = w$, so the rate "
        "rises for $w$ steps, peaks at $d_{model}^{-1/2} w^{-1/2}$ and then decays; four times the steps halve it.\n\n"
        + table(["step", "lrate (exact)", "lrate", "branch"], rows) + "\n\n"
        + image("figures/schedule.svg", "the learning rate against the step",
                f"Figure 1. The learning rate against the step (log scale), d_model = {d_model}, warmup_steps = "
                f"{warmup}; the dashed line marks the peak value.")
        + "\n",
        "## Label smoothing (§5.4)\n\n"
        "The one-hot target of the true class is mixed with the uniform distribution over the $K$ classes:\n"
        + display(r"q = (1 - \epsilon)\, e_y + \epsilon \, u, \qquad u = \left(\tfrac{1}{K}, \ldots, "
                  r"\tfrac{1}{K}\right)")
        + f"\nWith $\\epsilon = {tex(epsilon)}$ and $K = {K}$ the true class gets ${tex(true_class)}$ and every "
        f"other class ${tex(other_class)}$: a mixture of two distributions, so a distribution. Against $q$ the "
        "cross-entropy of a prediction $p$ is $H(q) + \\mathrm{KL}(q \\,\\|\\, p)$, smallest at $p = q$: the smoothed "
        f"loss rewards putting ${tex(true_class)}$ on the true token, never 1, so even the best prediction has a "
        f"perplexity of ${tex(1 / true_class)} \\approx {decimal(float(1 / true_class), 4)}$ on the true tokens "
        "where the one-hot target rewards perplexity 1: the paper's \"this hurts perplexity, as the model learns to "
        "be more unsure\". How much it hurts on real text (the paper's Table 3, row (D)) needs the paper's data.\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises training_schedule)

LAB = "training_schedule"

EXERCISES = [
    Exercise(LAB, "peak_rate", "With d_model = 100 and warmup_steps = 2500, what is the largest learning rate the "
             "schedule of §5.3 reaches (exactly)?", exact(sp.Rational(1, 500), "the rate"), "1/500",
             wrong={"1/10": "not right", "1/50": "not right"},
             hint="the two terms of the min are equal at step = warmup_steps; the rate there is "
             "d_model^-0.5 * warmup_steps^-0.5.", source=SOURCE_LR),
    Exercise(LAB, "decay_ratio", "After warmup, by what factor does the learning rate change when the step is "
             "multiplied by 4?", exact(sp.Rational(1, 2), "the factor"), "1/2", wrong={"1/4": "not right"},
             hint="the rate is proportional to step^-0.5.", source=SOURCE_LR),
    Exercise(LAB, "smoothed_true_class", "Label smoothing q = (1 - epsilon) onehot + epsilon * uniform, with "
             "epsilon = 0.1 over K = 10 classes: what probability does q give the true class?", exact(sp.Rational(91, 100), "the probability"),
             "0.91", wrong={"0.9": "not right", "1": "not right"},
             hint="(1 - epsilon) + epsilon / K.", source=SOURCE_LS),
]
