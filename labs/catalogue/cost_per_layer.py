"""Lab ``cost_per_layer``: Table 1 of "Attention Is All You Need", counted from layers that run.

The lab runs a self-attention layer (projections Q = X W_q, K = X W_k, V = X W_v, then
``vecmix.attention``, then the output map W_o) and a recurrent layer (h_t = tanh(W h_{t-1}
+ U x_t)), records every matrix product each performs, and fits the exact polynomials in n
and d through runs at tiny sizes. Table 1's complexity per layer counts, for
self-attention, the scores Q K^T and the mixture A V: O(n^2 d), against O(n d^2) for the
recurrent layer, and the paper's remark "faster when n < d" compares those two. With the
four projections (4 n d^2 more) self-attention is never the cheaper; ``lab.projections=true``
counts them. ``lab.measure=true`` adds measured times and fitted log-log slopes (shown,
never asserted: they are the one part of a report that differs run to run).
"""

import os
import platform
import time
from dataclasses import dataclass, field
from typing import List

import numpy as np
import sympy as sp

from vecmix import VecmixError, attention

from ..claims import Claim, inputs
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import display, image, table
from ._products import polynomial_through, recording, traced

TITLE = "Table 1: the cost of a self-attention layer against a recurrent one"
SOURCE = "AIAYN §4, Table 1"
n, d = sp.symbols("n d", positive=True, integer=True)
GRID = ([1, 2, 3], [1, 2, 3])  # tiny sizes (n, d) the polynomials are fitted through


@dataclass
class Config:
    """cost_per_layer: Table 1 of AIAYN, counted from the products two layers perform; measured times on request."""

    name: str = "cost_per_layer"
    d: int = 512  # representation dimension
    n: int = 128  # sequence length for the worked comparison
    projections: bool = False  # count self-attention's Q, K, V and output projections too (Table 1 does not)
    measure: bool = False  # time the layers too (the report then differs run to run)
    ns: List[int] = field(default_factory=lambda: [64, 128, 256, 512, 1024])  # lengths timed at d
    ds: List[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])  # dimensions timed at n
    repeats: int = 5


def self_attention(X, W=None):
    """One self-attention layer over the rows of X (n, d); W = (W_q, W_k, W_v, W_o), each (d, d), or None.

    Without W, Q = K = V = X and only the scores and the mixture run: what Table 1 counts.

    >>> self_attention(np.eye(2)).shape
    (2, 2)
    """
    if W is None:
        return attention(X, X, X)  # (n, d): scores Q K^T and mixture A V, scale 1/sqrt(d)
    Q = X @ W[0]  # (n, d) @ (d, d) -> (n, d)
    K = X @ W[1]  # (n, d) @ (d, d) -> (n, d)
    V = X @ W[2]  # (n, d) @ (d, d) -> (n, d)
    Z = attention(Q, K, V)  # (n, d)
    Y = Z @ W[3]  # (n, d) @ (d, d) -> (n, d)
    return Y


def recurrent(X, W, U):
    """A recurrent layer: h_t = tanh(W h_{t-1} + U x_t) for the rows x_t of X (n, d), from h_0 = 0; returns h_n.

    The n steps run one after another: step t needs h_{t-1}.

    >>> recurrent(np.zeros((3, 2)), np.eye(2), np.eye(2)).tolist()
    [0.0, 0.0]
    """
    h = np.zeros(W.shape[0])  # (d,)
    for x_t in X:
        carried = W @ h  # (d, d) @ (d,) -> (d,)
        read = U @ x_t  # (d, d) @ (d,) -> (d,)
        h = np.tanh(carried + read)
    return h


def layers(length, size, rng=0):
    """Random inputs of these sizes: X (n, d), the projections W (4 of (d, d)) and the recurrent W, U (d, d).

    >>> X, W, W_h, U = layers(3, 2)
    >>> X.shape, len(W), W_h.shape
    ((3, 2), 4, (2, 2))
    """
    rng = np.random.default_rng(rng)
    X = rng.standard_normal((length, size))  # (n, d)
    W = [rng.standard_normal((size, size)) / np.sqrt(size) for _ in range(4)]  # W_q, W_k, W_v, W_o
    return X, W, W[0], W[1]


def traced_counts(length, size):
    """{'core', 'projections', 'recurrent': multiply-adds} and the two recordings, from one run of each layer.

    >>> traced_counts(3, 2)[0]
    {'core': 36, 'projections': 48, 'recurrent': 24}
    """
    X, W, W_h, U = layers(length, size)
    with recording("vecmix.attention") as attended:
        self_attention(traced(X), [traced(w) for w in W])
    with recording() as recurred:
        recurrent(traced(X), traced(W_h), traced(U))
    core = attended.multiply_adds(_inside_attention)
    return {"core": core, "projections": attended.multiply_adds() - core,
            "recurrent": recurred.multiply_adds()}, attended, recurred


def run(params):
    """Count both layers from their products, fit the polynomials, find the crossover; time them on request.

    >>> r = run({"d": 512, "n": 128, "projections": False, "measure": False, "ns": [64], "ds": [32], "repeats": 1})
    >>> r.reproduced, r.values[0].to_json()["exact"]
    (True, '2*d*n**2')
    """
    d_here = read_positive_int(params["d"], "lab.d")
    n_here = read_positive_int(params["n"], "lab.n")
    projections = bool(params.get("projections", False))
    runs = {}

    def counts_at(*size):
        if size not in runs:
            runs[size] = traced_counts(*size)[0]
        return runs[size]

    fitted = {part: polynomial_through(lambda *s, p=part: counts_at(*s)[p], (n, d), GRID)
              for part in ("core", "projections", "recurrent")}
    attention_cost = fitted["core"] + (fitted["projections"] if projections else 0)
    recurrent_cost = fitted["recurrent"]
    crossover = sp.reduce_inequalities([attention_cost < recurrent_cost], [n])  # n, d > 0
    here, attended, recurred = traced_counts(n_here, d_here)
    here_attention = here["core"] + (here["projections"] if projections else 0)
    predicted = {part: int(cost.subs({n: n_here, d: d_here})) for part, cost in fitted.items()}
    orders = {"attention": sp.Poly(attention_cost, n, d).monoms(), "recurrent": sp.Poly(recurrent_cost, n, d).monoms()}
    counted = "the scores, the mixture and the four projections" if projections else "the scores and the mixture"

    claims = [
        Claim("orders", f"the counts of the layers that ran have Table 1's orders: self-attention ({counted}) "
              "n^2 d, recurrent n d^2; the polynomials predict the counts at the configured size", SOURCE,
              "c n^2 d and c' n d^2", f"self-attention {sp.sstr(attention_cost)}, recurrent {sp.sstr(recurrent_cost)}"
              + ("" if predicted == here else "; the polynomials miss the counts at the configured size"),
              orders == {"attention": [(2, 1)], "recurrent": [(1, 2)]} and predicted == here, True),
        Claim("crossover", f"self-attention ({counted}) costs fewer multiply-adds than a recurrent layer exactly when "
              "n < d", SOURCE, "n < d", sp.sstr(crossover), crossover == (n < d), True),
        Claim("cheaper-here", f"at n = {n_here}, d = {d_here}, running both layers: self-attention ({counted}) "
              "performs fewer multiply-adds", SOURCE, "fewer, since n < d",
              f"self-attention {here_attention:,}, recurrent {here['recurrent']:,}",
              here_attention < here["recurrent"], True),
    ]
    values = [Value("attention_multiply_adds", here_attention, attention_cost),
              Value("recurrent_multiply_adds", here["recurrent"], recurrent_cost),
              Value("projection_multiply_adds", here["projections"], fitted["projections"]),
              Value("crossover", None, crossover)]
    figures = {}
    sections = [_claim_section(fitted, projections), _products_section(attended, recurred, n_here, d_here, projections),
                _comparison_section(attention_cost, recurrent_cost, crossover, counted)]
    if params.get("measure"):
        sections.append(_measured(params, projections, attention_cost, recurrent_cost, values, figures))
    intro = ("*Reproduces* Table 1 of \"Attention Is All You Need\" (§4, complexity per layer) and its n < d "
             "remark, read through the paper lab `001_8c65d19d1d0c4e45.txt`.")
    deviations = ["Counts are multiply-adds of the matrix products that ran (the paper gives orders of growth); "
                  "the softmax, the tanh and additions are not counted. The convolutional and restricted rows of "
                  "Table 1, its sequential operations and its path lengths are quoted, not checked."]
    if params.get("measure"):
        deviations.append("Measured times vary from run to run and machine to machine; they are shown, not asserted, "
                          "and make this report differ run to run.")
    return LabResult("cost_per_layer", TITLE, intro, sections, claims, values, figures, deviations)


def _claim_section(fitted, projections):
    """Table 1 beside the counts of the layers that ran."""
    core, extra, rec = (f"${sp.latex(fitted[k])}$" for k in ("core", "projections", "recurrent"))
    rows = [["self-attention", "$O(n^2 \\cdot d)$", f"{core} (scores and mixture); {extra} more with the projections",
             "$O(1)$", "$O(1)$"],
            ["recurrent", "$O(n \\cdot d^2)$", f"{rec}", "$O(n)$", "$O(n)$"],
            ["convolutional (kernel $k$)", "$O(k \\cdot n \\cdot d^2)$", "not run here", "$O(1)$", "$O(\\log_k(n))$"],
            ["self-attention, restricted (neighbourhood $r$)", "$O(r \\cdot n \\cdot d)$", "not run here", "$O(1)$",
             "$O(n/r)$"]]
    scope = ("This run counts the projections too (`lab.projections=true`)." if projections else
             "Like Table 1, the comparison below counts the scores and the mixture only (`lab.projections=false`).")
    return ("## The claim\n\n"
            "Table 1 compares layer types by complexity per layer, sequential operations and maximum path length; "
            "§4 concludes that \"self-attention layers are faster than recurrent layers when the sequence length n "
            "is smaller than the representation dimensionality d\". Table 1 beside the multiply-adds of the layers "
            "this lab runs ($n$ tokens of dimension $d$):\n\n"
            + table(["layer", "Table 1: complexity per layer", "multiply-adds of the layer that ran",
                     "sequential operations (Table 1)", "maximum path length (Table 1)"], rows)
            + f"\n\nTable 1's $O(n^2 \\cdot d)$ is the scores $QK^\\top$ and the mixture $AV$; it leaves out the four "
            f"projections $XW_q$, $XW_k$, $XW_v$ and $ZW_o$ ({extra}), which are of the recurrent layer's order "
            f"$n d^2$. {scope}\n")


def _products_section(attended, recurred, n_here, d_here, projections):
    """Every product that ran at the configured size, and whether the comparison counts it."""
    rows = []
    for log, layer in ((attended, "self-attention"), (recurred, "recurrent")):
        for where, shapes, times, total in log.table():
            counted = layer == "recurrent" or projections or _inside_attention(where)
            rows.append([layer, f"`{where.split(': ', 1)[1]}` ({where.split(': ')[0].rsplit('.', 1)[0]})",
                         ", ".join(f"{a} @ {b}" for a, b in shapes), times, f"{total:,}", "yes" if counted else "no"])
    return ("## The products that ran\n\n"
            f"Both layers on {n_here} random tokens of dimension {d_here}, every matrix product recorded as it ran "
            "(the line of code, its operand shapes, how many times it ran). An $(a \\times b)$ by $(b \\times c)$ "
            "product costs $abc$ multiply-adds. The polynomials above are fitted through the counts of runs at "
            "$n, d \\in \\lbrace 1, 2, 3 \\rbrace$ and reproduce these counts exactly.\n\n"
            + table(["layer", "product (where)", "operand shapes", "runs", "multiply-adds", "in the comparison"], rows)
            + "\n")


def _comparison_section(attention_cost, recurrent_cost, crossover, counted):
    verdict = ("self-attention is the cheaper exactly when $n < d$" if crossover == (n < d) else
               f"the inequality solves to ${sp.latex(crossover)}$: with the projections, self-attention is never the "
               "cheaper")
    return ("## The crossover\n\n"
            f"Counting {counted} against the recurrent layer's two products per step:\n"
            + display(rf"{sp.latex(attention_cost)} < {sp.latex(recurrent_cost)} \iff {sp.latex(crossover)}")
            + f"\nSo {verdict}. The paper's remark compares the orders $n^2 d$ and $n d^2$: the work that grows "
            "with the length of the sequence, per layer, not the cost of a whole transformer layer.\n")


def _measured(params, projections, attention_cost, recurrent_cost, values, figures):
    """Median times of the two layers over lengths and dimensions, with log-log slopes beside the counts'."""
    ns = [read_positive_int(x, "lab.ns[]") for x in params["ns"]]
    ds = [read_positive_int(x, "lab.ds[]") for x in params["ds"]]
    repeats = read_positive_int(params["repeats"], "lab.repeats")
    if len(set(ns)) < 2 or len(set(ds)) < 2:
        raise VecmixError("lab.ns and lab.ds need at least two sizes each to fit a slope")
    d_fixed, n_fixed = int(params["d"]), int(params["n"])
    sweeps = {"n": (ns, [(size, d_fixed) for size in ns]), "d": (ds, [(n_fixed, size) for size in ds])}
    costs = {"self-attention": attention_cost, "recurrent": recurrent_cost}
    times, rows, slopes = {}, [], []
    for axis, (sizes, points) in sweeps.items():
        for layer, cost in costs.items():
            seconds = [_median_time(layer, *point, projections, repeats) for point in points]
            counts = [int(cost.subs({n: a, d: b})) for a, b in points]
            times[f"{layer} vs {axis}"] = seconds
            slopes.append([f"{layer} against {axis}", f"{_slope(sizes, seconds):.2f}", f"{_slope(sizes, counts):.2f}"])
            rows += [[layer, a, b, f"{1e3 * t:.3f}", f"{c:,}", f"{c / t / 1e9:.2f}"]
                     for (a, b), t, c in zip(points, seconds, counts)]
    values += [Value("measured_seconds", times), Value("measured_slopes", {r[0]: float(r[1]) for r in slopes})]
    figures["times.svg"] = fig.loglog_panels([
        (axis, sweeps[axis][0], f"seconds (median), {fixed}", {layer: times[f"{layer} vs {axis}"] for layer in costs})
        for axis, fixed in (("n", f"d = {d_fixed}"), ("d", f"n = {n_fixed}"))])
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    machine = (f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, Python "
               f"{platform.python_version()}, numpy {np.__version__} with {blas.get('name', 'an unknown BLAS')} "
               f"{blas.get('version', '')}".rstrip())
    return ("## Measured (shown, not asserted)\n\n"
            f"Median of {repeats} runs after one warm-up, `time.perf_counter`, on {machine}. The self-attention layer "
            f"timed is the one counted ({'with' if projections else 'without'} its projections); the recurrent layer "
            "is a Python loop of n steps, so at small d its time is mostly the loop, not the arithmetic.\n\n"
            + table(["layer", "n", "d", "milliseconds", "multiply-adds", "billions per second"], rows) + "\n\n"
            "Log-log slopes fitted to the times, beside the slopes of the counts over the same sizes (a count "
            "c n^2 d has slope 2 against n and 1 against d):\n\n"
            + table(["time", "fitted slope of the time", "slope of the count"], slopes) + "\n\n"
            "A time's slope below its count's means that costs which do not grow with the count (the Python loop, "
            "numpy's dispatch, BLAS start-up) still weigh at those sizes.\n\n"
            + image("figures/times.svg", "measured times", "Figure 1. Median times against n (left, d fixed) and "
                    "against d (right, n fixed), log-log: a count c n^p is a line of slope p.") + "\n")


def _median_time(layer, length, size, projections, repeats):
    X, W, W_h, U = layers(length, size)
    once = (lambda: self_attention(X, W if projections else None)) if layer == "self-attention" else (
        lambda: recurrent(X, W_h, U))
    once()  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def _inside_attention(where):
    """Whether a product ran inside vecmix.attention (the scores and the mixture), not on a line of this lab."""
    return not where.startswith(__name__ + ".")


def _slope(sizes, ys):
    return float(np.polyfit(np.log(sizes), np.log(ys), 1)[0])  # log y = slope log x + c


COUNTER_CASES = {
    "orders": inputs("the projections counted too: self-attention costs 4 n d^2 + 2 n^2 d, not of order n^2 d",
                     "lab.projections=true"),
    "crossover": inputs("the projections counted too: self-attention is never the cheaper", "lab.projections=true"),
    "cheaper-here": inputs("a sequence longer than d", "lab.n=1024"),
}


# Exercises: graded by pytest (python -m labs.exercises cost_per_layer)

LAB = "cost_per_layer"

EXERCISES = [
    Exercise(LAB, "attention_cost", "Multiply-adds of Q K^T and A V together for n = 100 tokens of dimension d = 50?",
             exact(1_000_000, "the count"), "1000000", also=("2*100**2*50",), wrong={"500000": "not right"},
             hint="each product costs n * n * d.", source="AIAYN §4, Table 1"),
    Exercise(LAB, "crossover", "For d = 512, what is the largest sequence length n at which self-attention, counted "
             "as Table 1 counts it (scores and mixture, 2 n^2 d), still costs strictly less than a recurrent layer "
             "(2 n d^2)?", exact(511, "n"), "511", also=("512 - 1",), wrong={"512": "not right"},
             hint="2 n^2 d < 2 n d^2 means n < d.",
             source="AIAYN §4, Table 1"),
    Exercise(LAB, "with_projections", "Count the four projections too: self-attention then costs 4 n d^2 + 2 n^2 d "
             "against 2 n d^2 for a recurrent layer. For d = 512, how many sequence lengths n >= 1 make "
             "self-attention strictly cheaper?", exact(0, "the number of lengths"), "0", also=("0.0",),
             wrong={"511": "not right", "512": "not right"}, hint="compare 4 n d^2 alone with 2 n d^2.",
             source="AIAYN §4, Table 1"),
]
