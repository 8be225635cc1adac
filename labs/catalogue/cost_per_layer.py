"""Lab ``cost_per_layer``: Table 1 of "Attention Is All You Need", counted from layers that run.

The lab runs a self-attention layer (projections Q = X W_q, K = X W_k, V = X W_v, then
``vecmix.attention``, then the output map W_o) and a recurrent layer, records every matrix
product each performs, and fits the exact polynomials in n and d through runs at tiny sizes.
Table 1's complexity per layer counts, for self-attention, the scores Q K^T and the mixture
A V: O(n^2 d), against O(n d^2) for the recurrent layer, and the paper's remark "faster when
n < d" compares those two orders. The exact boundary depends on a choice Table 1 does not
make, the recurrent cell (``lab.cell``): an Elman cell h_t = tanh(W h_{t-1} + U x_t) performs
2 n d^2 multiply-adds, a GRU 6 n d^2, an LSTM 8 n d^2; against them the scores and mixture
(2 n^2 d) are cheaper when n < d, n < 3 d, n < 4 d. ``lab.projections=true`` counts the four
projections too (4 n d^2 more): then n < d for a GRU, n < 2 d for an LSTM, and no length for
an Elman cell. ``lab.measure=true`` adds measured times and fitted log-log slopes (shown,
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
from vecmix.attention import BLOCK_SIZE

from ..claims import Claim, inputs
from ..config.inputs import read_positive_int
from ..config.resources import FLOAT, check_memory, progress
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import display, image, table
from ._products import polynomial_through, recording, traced

TITLE = "Table 1: the cost of a self-attention layer against a recurrent one"
SOURCE = "AIAYN §4, Table 1"
n, d = sp.symbols("n d", positive=True, integer=True)
GRID = ([1, 2, 3], [1, 2, 3])  # tiny sizes (n, d) the polynomials are fitted through
CELLS = {"elman": ("h",), "gru": ("z", "r", "h"), "lstm": ("i", "f", "o", "g")}  # each gate: a W_g and a U_g, (d, d)
CELL_NAMES = {"elman": "Elman", "gru": "GRU", "lstm": "LSTM"}
CELL_FORMULAS = {
    "elman": r"h_t = \tanh(W h_{t-1} + U x_t)",
    "gru": r"z = \sigma(W_z h_{t-1} + U_z x_t), \quad r = \sigma(W_r h_{t-1} + U_r x_t), \quad "
           r"h_t = (1 - z) \odot h_{t-1} + z \odot \tanh(W_h (r \odot h_{t-1}) + U_h x_t)",
    "lstm": r"i, f, o = \sigma(W_{i,f,o} h_{t-1} + U_{i,f,o} x_t), \quad "
            r"c_t = f \odot c_{t-1} + i \odot \tanh(W_g h_{t-1} + U_g x_t), \quad h_t = o \odot \tanh(c_t)",
}


@dataclass
class Config:
    """cost_per_layer: Table 1 of AIAYN, counted from the products two layers perform; measured times on request."""

    name: str = "cost_per_layer"
    d: int = 512  # representation dimension
    n: int = 128  # sequence length for the worked comparison
    projections: bool = False  # count self-attention's Q, K, V and output projections too (Table 1 does not)
    cell: str = "elman"  # the recurrent cell counted: elman (2 n d^2), gru (6 n d^2) or lstm (8 n d^2)
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


def recurrent(X, gates, cell="elman"):
    """A recurrent layer over the rows x_t of X (n, d), from h_0 = 0 (and c_0 = 0); returns h_n.

    Each gate g has two (d, d) matrices, W_g for h_{t-1} and U_g for x_t (biases left out):

    * elman: h_t = tanh(W_h h + U_h x);
    * gru: z = sigmoid(W_z h + U_z x), r = sigmoid(W_r h + U_r x),
      h_t = (1 - z) h + z tanh(W_h (r h) + U_h x);
    * lstm: i, f, o = sigmoid(W_. h + U_. x), c_t = f c + i tanh(W_g h + U_g x), h_t = o tanh(c_t).

    The n steps run one after another: step t needs h_{t-1}.

    >>> I = {g: (np.eye(2), np.eye(2)) for g in "hzrifog"}
    >>> recurrent(np.zeros((3, 2)), I).tolist(), recurrent(np.zeros((3, 2)), I, "lstm").tolist()
    ([0.0, 0.0], [0.0, 0.0])
    """
    def gate(g, h_in, x_t):
        W_g, U_g = gates[g]
        carried = W_g @ h_in  # (d, d) @ (d,) -> (d,)
        read = U_g @ x_t  # (d, d) @ (d,) -> (d,)
        return carried + read

    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    h = c = np.zeros(X.shape[1])  # (d,)
    for x_t in X:
        if cell == "elman":
            h = np.tanh(gate("h", h, x_t))
        elif cell == "gru":
            z, r = sigmoid(gate("z", h, x_t)), sigmoid(gate("r", h, x_t))
            h = (1 - z) * h + z * np.tanh(gate("h", r * h, x_t))
        else:
            i, f, o = (sigmoid(gate(g, h, x_t)) for g in "ifo")
            c = f * c + i * np.tanh(gate("g", h, x_t))
            h = o * np.tanh(c)
    return h


def layers(length, size, cell="elman", rng=0):
    """Random inputs of these sizes: X (n, d), the projections W (4 of (d, d)) and the cell's gates {g: (W_g, U_g)}.

    >>> X, W, gates = layers(3, 2, "gru")
    >>> X.shape, len(W), sorted(gates), gates["z"][0].shape
    ((3, 2), 4, ['h', 'r', 'z'], (2, 2))
    """
    rng = np.random.default_rng(rng)
    X = rng.standard_normal((length, size))  # (n, d)
    W = [rng.standard_normal((size, size)) / np.sqrt(size) for _ in range(4)]  # W_q, W_k, W_v, W_o
    gates = {g: tuple(rng.standard_normal((size, size)) / np.sqrt(size) for _ in range(2)) for g in CELLS[cell]}
    return X, W, gates


def traced_counts(length, size, cell="elman"):
    """{'core', 'projections', 'recurrent': multiply-adds} and the two recordings, from one run of each layer.

    >>> traced_counts(3, 2)[0], traced_counts(3, 2, "lstm")[0]["recurrent"]
    ({'core': 36, 'projections': 48, 'recurrent': 24}, 96)
    """
    X, W, gates = layers(length, size, cell)
    with recording("vecmix.attention") as attended:
        self_attention(traced(X), [traced(w) for w in W])
    with recording() as recurred:
        recurrent(traced(X), {g: (traced(W_g), traced(U_g)) for g, (W_g, U_g) in gates.items()}, cell)
    core = attended.multiply_adds(_inside_attention)
    return {"core": core, "projections": attended.multiply_adds() - core,
            "recurrent": recurred.multiply_adds()}, attended, recurred


def run(params):
    """Count both layers from their products, fit the polynomials, find the crossover; time them on request.

    >>> r = run({"d": 512, "n": 128, "projections": False, "cell": "elman", "measure": False, "ns": [64, 128], "ds": [32, 64],
    ...          "repeats": 1})
    >>> r.reproduced, r.values[0].to_json()["exact"]
    (True, '2*d*n**2')
    """
    d_here = read_positive_int(params["d"], "lab.d")
    n_here = read_positive_int(params["n"], "lab.n")
    projections = bool(params.get("projections", False))
    cell = params.get("cell", "elman")
    if cell not in CELLS:
        raise VecmixError(f"lab.cell = {cell!r} must be one of: {', '.join(CELLS)}")
    plan = _timing_plan(params, n_here, d_here)  # read and checked whether or not lab.measure asks for times
    check_memory(LAB, (_layer_bytes(n_here, d_here), {"lab.n": n_here, "lab.d": d_here}))  # the traced run
    if params.get("measure"):
        check_memory(LAB, (_layer_bytes(max(plan.ns), d_here), {"lab.ns": plan.ns, "lab.d": d_here}),
                     (_layer_bytes(n_here, max(plan.ds)), {"lab.n": n_here, "lab.ds": plan.ds}))

    fitted = {c: _fitted(c) for c in CELLS}  # every cell's polynomials, to show how the boundary moves
    boundaries = {c: {scope: sp.reduce_inequalities([f["core"] + (f["projections"] if scope else 0) < f["recurrent"]],
                                                    [n])  # n, d > 0
                      for scope in (False, True)} for c, f in fitted.items()}
    attention_cost = fitted[cell]["core"] + (fitted[cell]["projections"] if projections else 0)
    recurrent_cost = fitted[cell]["recurrent"]
    crossover = boundaries[cell][projections]
    here, attended, recurred = traced_counts(n_here, d_here, cell)
    here_attention = here["core"] + (here["projections"] if projections else 0)
    predicted = {part: int(cost.subs({n: n_here, d: d_here})) for part, cost in fitted[cell].items()}
    orders = {"attention": sp.Poly(attention_cost, n, d).monoms(), "recurrent": sp.Poly(recurrent_cost, n, d).monoms()}
    counted = "the scores, the mixture and the four projections" if projections else "the scores and the mixture"
    layer = (f"a recurrent layer of {CELL_NAMES[cell]} cells ({2 * len(CELLS[cell])} products of a d x d matrix by a "
             "vector per step)")

    claims = [
        Claim("orders", f"the counts of the layers that ran have Table 1's orders: self-attention ({counted}) "
              f"n^2 d, recurrent ({CELL_NAMES[cell]} cells) n d^2; the polynomials predict the counts at the "
              "configured size", SOURCE,
              "c n^2 d and c' n d^2", f"self-attention {sp.sstr(attention_cost)}, recurrent {sp.sstr(recurrent_cost)}"
              + ("" if predicted == here else "; the polynomials miss the counts at the configured size"),
              orders == {"attention": [(2, 1)], "recurrent": [(1, 2)]} and predicted == here, True),
        Claim("crossover", f"self-attention ({counted}) costs fewer multiply-adds than {layer} exactly when n < d, the "
              "boundary of the paper's remark", "AIAYN §4", "n < d",
              "at no n >= 1" if crossover == sp.false else sp.sstr(crossover), crossover == (n < d), True),
        Claim("cheaper-here", f"at n = {n_here}, d = {d_here}, running both layers: self-attention ({counted}) "
              f"performs fewer multiply-adds than {layer}", "AIAYN §4", "fewer",
              f"self-attention {here_attention:,}, recurrent {here['recurrent']:,}",
              here_attention < here["recurrent"], True),
    ]
    values = [Value("attention_multiply_adds", here_attention, attention_cost),
              Value("recurrent_multiply_adds", here["recurrent"], recurrent_cost),
              Value("projection_multiply_adds", here["projections"], fitted[cell]["projections"]),
              Value("crossover", None, crossover),
              Value("crossover_by_cell", {c: {"table_1_count": sp.sstr(b[False]), "with_projections": sp.sstr(b[True])}
                                          for c, b in boundaries.items()})]
    figures = {}
    sections = [_claim_section(fitted[cell], cell, projections),
                _products_section(attended, recurred, n_here, d_here, projections),
                _comparison_section(attention_cost, recurrent_cost, crossover, counted, cell, fitted, boundaries)]
    if params.get("measure"):
        sections.append(_measured(plan, projections, cell, attention_cost, recurrent_cost, values, figures))
    intro = ("*Reproduces* Table 1 of \"Attention Is All You Need\" (§4, complexity per layer) and its n < d "
             "remark, counted from layers that run.")
    deviations = ["Counts are multiply-adds of the matrix products that ran (the paper gives orders of growth); "
                  "the softmax, the tanh and the sigmoids, the gates' elementwise products and additions are not "
                  "counted. The convolutional and restricted rows of Table 1, its sequential operations and its path "
                  "lengths are quoted, not checked.",
                  f"Table 1 does not say which recurrent cell it counts; this run counts {CELL_NAMES[cell]} cells "
                  "without biases (lab.cell), and the exact boundary depends on that choice."]
    if params.get("measure"):
        deviations.append("Measured times vary from run to run and machine to machine; they are shown, not asserted, "
                          "and make this report differ run to run.")
    return LabResult("cost_per_layer", TITLE, intro, sections, claims, values, figures, deviations)


def _fitted(cell):
    """{'core', 'projections', 'recurrent': the polynomial in n and d through the counts of runs at tiny sizes}."""
    runs = {}

    def counts_at(*size):
        if size not in runs:
            runs[size] = traced_counts(*size, cell)[0]
        return runs[size]

    return {part: polynomial_through(lambda *s, p=part: counts_at(*s)[p], (n, d), GRID)
            for part in ("core", "projections", "recurrent")}


def _claim_section(fitted, cell, projections):
    """Table 1 beside the counts of the layers that ran."""
    core, extra, rec = (f"${sp.latex(fitted[k])}$" for k in ("core", "projections", "recurrent"))
    rows = [["self-attention", "$O(n^2 \\cdot d)$", f"{core} (scores and mixture); {extra} more with the projections",
             "$O(1)$", "$O(1)$"],
            [f"recurrent ({CELL_NAMES[cell]} cells)", "$O(n \\cdot d^2)$", f"{rec}", "$O(n)$", "$O(n)$"],
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
            f"$n d^2$. {scope}\n\n"
            "Table 1's $O(n \\cdot d^2)$ for the recurrent layer leaves its constant open: it depends on the cell, "
            f"which the table does not name. This run counts {CELL_NAMES[cell]} cells (`lab.cell`; biases left out), "
            f"{2 * len(CELLS[cell])} products of a $d \\times d$ matrix by a vector per step:\n"
            + display(CELL_FORMULAS[cell]))


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


def _comparison_section(attention_cost, recurrent_cost, crossover, counted, cell, fitted, boundaries):
    if crossover == (n < d):
        verdict = "self-attention is the cheaper exactly when $n < d$, the boundary of the paper's remark"
    elif crossover == sp.false:
        verdict = f"against {CELL_NAMES[cell]} cells, counted this way, self-attention is the cheaper at no length $n$"
    else:
        verdict = (f"self-attention is the cheaper exactly when ${sp.latex(crossover)}$: not the paper's $n < d$, "
                   "because the constants differ")
    def when(boundary):
        return "at no $n \\ge 1$" if boundary == sp.false else f"${sp.latex(boundary)}$"

    rows = [[CELL_NAMES[c], 2 * len(CELLS[c]), f"${sp.latex(f['recurrent'])}$", when(boundaries[c][False]),
             when(boundaries[c][True])] for c, f in fitted.items()]
    return ("## The crossover\n\n"
            f"Counting {counted} against the recurrent layer's {2 * len(CELLS[cell])} products per step "
            f"({CELL_NAMES[cell]} cells):\n"
            + display(rf"{sp.latex(attention_cost)} < {sp.latex(recurrent_cost)} \iff {sp.latex(crossover)}")
            + f"\nSo {verdict}. The boundary's constant is the cell's: every cell counted the same way, with "
            "self-attention's scores and mixture ($2 n^2 d$) alone and with its four projections added "
            "($4 n d^2$ more):\n\n"
            + table(["cell", "products per step", "multiply-adds", "cheaper when (Table 1's count)",
                     "cheaper when (with the projections)"], rows)
            + "\n\nThe paper's remark compares the orders $n^2 d$ and $n d^2$ per layer and per sequence, not the "
            "cost of a whole transformer layer; Table 1 gives orders only, so an exact boundary is always the "
            "boundary for some choice of cell and of what is counted.\n")


@dataclass
class TimingPlan:
    """The sizes lab.measure times: lengths ns at d, dimensions ds at n, each layer repeats times."""

    ns: list
    ds: list
    repeats: int
    n: int
    d: int

    @property
    def sweeps(self):
        """{axis: (sizes, [(n, d) per size])}"""
        return {"n": (self.ns, [(size, self.d) for size in self.ns]), "d": (self.ds, [(self.n, size) for size in self.ds])}


LARGEST_TIMED = {"ns": 8192, "ds": 4096}  # measured: 14.9 s (ns=[64,8192]) and 10.8 s (ds=[32,4096]) with 5 repeats


def _timing_plan(params, n_fixed, d_fixed):
    """lab.ns, lab.ds and lab.repeats, read and checked (whatever lab.measure says)."""
    sizes = {}
    for key in ("ns", "ds"):
        given = params[key]
        if not isinstance(given, (list, tuple)):
            raise VecmixError(f"lab.{key} = {given!r} must be a list of sizes such as [64, 128, 256]")
        largest = LARGEST_TIMED[key]
        sizes[key] = [read_positive_int(x, f"lab.{key}[{j}]", maximum=largest, reason=f"every size is timed "
                                        f"lab.repeats times; {key[0]} = {largest} takes about 15 seconds")
                      for j, x in enumerate(given)]
        if len(set(sizes[key])) < 2:
            raise VecmixError(f"lab.{key} = {list(given)!r} needs at least two different sizes to fit a slope")
    ns, ds = sizes["ns"], sizes["ds"]
    repeats = read_positive_int(params["repeats"], "lab.repeats", maximum=1000, reason="every size is timed this "
                                "many times")
    return TimingPlan(ns, ds, repeats, n_fixed, d_fixed)


def _layer_bytes(length, size):
    """Memory to run both layers at n = length, d = size: X, the projections and gates (d, d), a block of scores."""
    return FLOAT * (4 * length * size + 12 * size**2 + length * min(length, BLOCK_SIZE))


def _measured(plan, projections, cell, attention_cost, recurrent_cost, values, figures):
    """Median times of the two layers over lengths and dimensions, with log-log slopes beside the counts'."""
    sweeps, repeats, n_fixed, d_fixed = plan.sweeps, plan.repeats, plan.n, plan.d
    costs = {"self-attention": attention_cost, "recurrent": recurrent_cost}
    work = [(axis, layer, point) for axis, (_, points) in sweeps.items() for layer in costs for point in points]
    timed = iter([_median_time(layer, *point, projections, cell, repeats)
                  for _, layer, point in progress(work, "cost_per_layer: timing the layers")])
    times, rows, slopes = {}, [], []
    for axis, (sizes, points) in sweeps.items():
        for layer, cost in costs.items():
            seconds = [next(timed) for _ in points]
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


def _median_time(layer, length, size, projections, cell, repeats):
    X, W, gates = layers(length, size, cell)
    once = (lambda: self_attention(X, W if projections else None)) if layer == "self-attention" else (
        lambda: recurrent(X, gates, cell))
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
    "crossover": inputs("LSTM cells (8 n d^2): the boundary moves to n < 4 d", "lab.cell=lstm"),
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
             "of Elman cells (2 n d^2)?", exact(511, "n"), "511", also=("512 - 1",), wrong={"512": "not right"},
             hint="2 n^2 d < 2 n d^2 means n < d.",
             source="AIAYN §4, Table 1"),
    Exercise(LAB, "with_projections", "Count the four projections too: self-attention then costs 4 n d^2 + 2 n^2 d "
             "against 2 n d^2 for a recurrent layer of Elman cells. For d = 512, how many sequence lengths n >= 1 "
             "make self-attention strictly cheaper?", exact(0, "the number of lengths"), "0", also=("0.0",),
             wrong={"511": "not right", "512": "not right"}, hint="compare 4 n d^2 alone with 2 n d^2.",
             source="AIAYN §4, Table 1"),
    Exercise(LAB, "lstm_projections", "Count the four projections again (4 n d^2 + 2 n^2 d), now against a recurrent "
             "layer of LSTM cells: four gates, each with two d x d products per step, 8 n d^2 in all. For d = 512, "
             "what is the largest n at which self-attention is strictly cheaper?", exact(1023, "n"), "1023",
             also=("2*512 - 1",), wrong={"511": "not right", "0": "not right", "2047": "not right"},
             hint="subtract 4 n d^2 from both sides, then divide by 2 n d.", source="AIAYN §4, Table 1"),
]
