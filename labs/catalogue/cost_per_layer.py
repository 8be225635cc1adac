"""Lab ``cost_per_layer``: Table 1 of "Attention Is All You Need", counted exactly.

Multiply-adds per layer as polynomials in the sequence length n and the representation
dimension d: self-attention 2 n^2 d against recurrent 2 n d^2, so self-attention is the
cheaper exactly when n < d, the crossover the paper states. With ``lab.measure=true``
the report adds measured times and fitted log-log slopes (shown, never asserted: they
are the one part of a report that is not the same bytes run to run).
"""

import time
from dataclasses import dataclass, field
from typing import List

import numpy as np
import sympy as sp

from vecmix import VecmixError, attention

from ..claims import Claim
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import display, image, table

TITLE = "Table 1: the cost of a self-attention layer against a recurrent one"
SOURCE = "AIAYN §4, Table 1"
n, d, k, r = sp.symbols("n d k r", positive=True)
ROWS = [  # (layer, multiply-adds per layer, sequential operations, maximum path length), as in Table 1
    ("self-attention", 2 * n**2 * d, sp.Integer(1), sp.Integer(1)),
    ("recurrent", 2 * n * d**2, n, n),
    ("convolutional (kernel k)", k * n * d**2, sp.Integer(1), sp.log(n) / sp.log(k)),
    ("self-attention, restricted (neighbourhood r)", 2 * r * n * d, sp.Integer(1), n / r),
]


@dataclass
class Config:
    """cost_per_layer: Table 1 of AIAYN, counted exactly; measured times on request."""

    name: str = "cost_per_layer"
    d: int = 512  # representation dimension
    n: int = 128  # sequence length for the worked comparison
    measure: bool = False  # time numpy layers too (the report then differs run to run)
    ns: List[int] = field(default_factory=lambda: [64, 128, 256, 512, 1024])  # lengths timed at d
    ds: List[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])  # dimensions timed at n
    repeats: int = 5


def run(params):
    """Count, find the crossover, and (on request) time both layers.

    >>> r = run({"d": 512, "n": 128, "measure": False, "ns": [64, 128], "ds": [32, 64], "repeats": 3})
    >>> r.reproduced, r.values[0].to_json()["exact"]
    (True, '2*d*n**2')
    """
    d_here = read_positive_int(params["d"], "lab.d")
    n_here = read_positive_int(params["n"], "lab.n")
    attention_cost, recurrent_cost = ROWS[0][1], ROWS[1][1]
    ratio = sp.simplify(attention_cost / recurrent_cost)
    crossover = sp.reduce_inequalities([attention_cost < recurrent_cost], [n])  # solved for n, with n, d > 0
    here = {name: int(cost.subs({n: n_here, d: d_here})) for name, cost in (("attention", attention_cost),
                                                                          ("recurrent", recurrent_cost))}
    cheaper_here = here["attention"] < here["recurrent"]
    claims = [
        Claim("ratio", "self-attention costs n / d times what a recurrent layer costs", SOURCE, "n/d",
              sp.sstr(ratio), sp.simplify(ratio - n / d) == 0, True),
        Claim("crossover", "self-attention is cheaper than a recurrent layer exactly when n < d", SOURCE, "n < d",
              sp.sstr(crossover), crossover == (n < d), True),
        Claim("here", f"at n = {n_here}, d = {d_here}: {'self-attention' if n_here < d_here else 'recurrent'} is "
              "cheaper", SOURCE, "the cheaper one by the rule n < d",
              f"self-attention {here['attention']:,}, recurrent {here['recurrent']:,}",
              cheaper_here == (n_here < d_here) or n_here == d_here, True),
    ]
    rows = [[layer, f"${sp.latex(cost)}$", f"${sp.latex(steps)}$", f"${sp.latex(path)}$"]
            for layer, cost, steps, path in ROWS]
    values = [Value("attention_multiply_adds", None, attention_cost),
              Value("recurrent_multiply_adds", None, recurrent_cost), Value("crossover", None, crossover),
              Value("counts_here", here)]
    figures = {}
    sections = [
        "## The claim\n\n"
        "Table 1 of the paper compares layer types by complexity per layer, sequential operations and maximum "
        "path length, and notes that \"self-attention layers are faster than recurrent layers when the sequence "
        "length n is smaller than the representation dimensionality d\". Counting multiply-adds exactly (scores "
        "and mixture for self-attention, the d x d transition at every step for a recurrent layer):\n\n"
        + table(["layer", "multiply-adds per layer", "sequential operations", "maximum path length"], rows)
        + "\n" + display(rf"\frac{{{sp.latex(attention_cost)}}}{{{sp.latex(recurrent_cost)}}} = "
                         rf"{sp.latex(ratio)} < 1 \iff n < d"),
    ]
    if params.get("measure"):
        sections.append(_measured(params, values, figures))
    intro = ("*Reproduces* Table 1 of \"Attention Is All You Need\" (complexity per layer) and its n < d "
             "crossover, read through the paper lab `001_8c65d19d1d0c4e45.txt`.")
    deviations = ["Counts are multiply-adds of the matrix products (the paper gives orders of growth)."]
    if params.get("measure"):
        deviations.append("Measured times vary from run to run and machine to machine; they are shown, not asserted, "
                          "and make this report differ run to run.")
    return LabResult("cost_per_layer", TITLE, intro, sections, claims, values, figures, deviations)


def _measured(params, values, figures):
    """Median times of numpy self-attention and a numpy recurrent layer, and their log-log slopes."""
    ns = [read_positive_int(x, "lab.ns[]") for x in params["ns"]]
    ds = [read_positive_int(x, "lab.ds[]") for x in params["ds"]]
    repeats = read_positive_int(params["repeats"], "lab.repeats")
    if len(ns) < 2 or len(ds) < 2:
        raise VecmixError("lab.ns and lab.ds need at least two sizes each to fit a slope")
    d_fixed, n_fixed = int(params["d"]), int(params["n"])
    by_n = {kind: [_time(kind, size, d_fixed, repeats) for size in ns] for kind in ("attention", "recurrent")}
    by_d = {kind: [_time(kind, n_fixed, size, repeats) for size in ds] for kind in ("attention", "recurrent")}
    slope = {key: float(np.polyfit(np.log(x), np.log(t), 1)[0]) for key, x, t in
             [(f"{kind} vs n", ns, by_n[kind]) for kind in by_n] + [(f"{kind} vs d", ds, by_d[kind]) for kind in by_d]}
    values += [Value("times_by_n", by_n), Value("times_by_d", by_d), Value("slopes", slope)]
    figures["times.svg"] = fig.line_panels(ns, [("seconds (median)", {f"{k} (d = {d_fixed})": v for k, v in
                                                                      by_n.items()})], "n", log_x=True)
    rows = [[key, f"{value:.2f}", "2" if key == "attention vs n" or key == "recurrent vs d" else "1"]
            for key, value in slope.items()]
    return ("## Measured (not asserted)\n\n"
            f"Median of {repeats} runs; numpy on this machine. Fitted log-log slopes, against the counts' exponents:"
            "\n\n" + table(["time", "fitted slope", "exponent in the count"], rows) + "\n\n"
            + image("figures/times.svg", "times against n", "Figure 1. Measured times against n (log-log).") + "\n")


def _time(kind, n_, d_, repeats):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_, d_))  # (n, d)
    W = rng.standard_normal((d_, d_)) / np.sqrt(d_)  # (d, d)

    def once():
        if kind == "attention":
            attention(X, X, X)
        else:
            h = np.zeros(d_)
            for t in range(n_):  # h_t = tanh(W h_{t-1} + x_t): n sequential d x d steps
                h = np.tanh(W @ h + X[t])

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# Exercises: graded by pytest (python -m labs.exercises cost_per_layer)

LAB = "cost_per_layer"

EXERCISES = [
    Exercise(LAB, "attention_cost", "Multiply-adds of Q K^T and A V together for n = 100 tokens of dimension d = 50?",
             exact(1_000_000, "the count"), "1000000", also=("2*100**2*50",), wrong={"500000": "not right"},
             hint="each product costs n * n * d.", source="AIAYN Table 1"),
    Exercise(LAB, "crossover", "For d = 512, what is the largest sequence length n at which self-attention "
             "(2 n^2 d) still costs strictly less than a recurrent layer (2 n d^2)?", exact(511, "n"), "511",
             wrong={"512": "not right"}, hint="2 n^2 d < 2 n d^2 means n < d.", source="AIAYN Table 1"),
]
