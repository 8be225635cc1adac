"""Lab ``multihead_cost``: h heads of size d_model/h cost about what one full-size head costs (AIAYN §3.2.2).

Nothing here is counted by hand. The lab runs ``vecmix.multihead_attention`` and records
every matrix product it performs (the operand shapes and the line of vecmix that asked for
it) and every exponential its softmax takes; multiply-adds follow from the shapes. Runs
at 27 tiny sizes give the exact polynomial in n, d_model and h, and a run at the
configured size checks it. The multiply-adds do not depend on h; the softmax's
exponentials grow h-fold, one reason the cost is only *similar*, not *equal*.
"""

import importlib
from dataclasses import dataclass

import numpy as np
import sympy as sp

from vecmix import VecmixError
from vecmix.attention import BLOCK_SIZE

from ..claims import Claim, inputs
from ..config.inputs import read_positive_int
from ..config.resources import FLOAT, check_memory
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report.markdown import display, table
from ._products import polynomial_through, recording

TITLE = "Multi-head cost: h heads of size d_model/h against one head of full size"
SOURCE = "AIAYN §3.2.2"
n, d, h = sp.symbols("n d_model h", positive=True, integer=True)
GRID = ([1, 2, 3], [6, 12, 18], [1, 2, 3])  # tiny sizes (n, d_model, h) the polynomials are fitted through
HEAD_SIZES = ("reduced", "full")


@dataclass
class Config:
    """multihead_cost: multiply-adds of h heads of size d_model/h against one full head (AIAYN §3.2.2)."""

    name: str = "multihead_cost"
    d_model: int = 512
    heads: int = 8
    n: int = 128  # sequence length
    head_size: str = "reduced"  # d_k = d_v = d_model/h as in the paper, or "full": every head of size d_model


def traced_run(length, d_model, heads, head_size="reduced"):
    """Run vecmix.multihead_attention on random inputs of these sizes and return its :class:`Recording`.

    Heads have size d_model/h ("reduced", the paper's) or d_model ("full"). The numbers do
    not change the work; the shapes do.

    >>> log = traced_run(4, 6, 2)
    >>> [where.split(": ")[1] for where, *_ in log.table()]
    ['Q = X_q @ W_q', 'K = X_kv @ W_k', 'V = X_kv @ W_v', 'S = Q @ K[keys].T', 'acc += S @ V[keys]', 'Y = concat @ W_o']
    """
    d_k = d_model // heads if head_size == "reduced" else d_model
    rng = np.random.default_rng(0)
    X = rng.standard_normal((length, d_model))  # (n, d_model): the tokens, queries and keys alike
    W_q, W_k, W_v = (rng.standard_normal((heads, d_model, d_k)) / np.sqrt(d_model) for _ in range(3))  # (h, d_model, d_k)
    W_o = rng.standard_normal((heads * d_k, d_model)) / np.sqrt(heads * d_k)  # (h d_k, d_model)
    multihead = importlib.import_module("vecmix.multihead")
    with recording("vecmix.multihead", "vecmix.attention") as log:
        # the default path (blocked, scale 1/sqrt(d_k)) with numpy's step: the compiled one of the [fast] extra, which
        # backend='auto' takes for large n, takes the same exponentials where no recording can see them
        multihead.multihead_attention(X, X, W_q, W_k, W_v, W_o, backend="numpy")
    return log


def run(params):
    """Record the products of h heads and of one head, fit their polynomials, and compare.

    >>> run({"d_model": 96, "heads": 12, "n": 7, "head_size": "reduced"}).reproduced
    True
    """
    d_model = read_positive_int(params["d_model"], "lab.d_model")
    heads = read_positive_int(params["heads"], "lab.heads")
    length = read_positive_int(params["n"], "lab.n", maximum=8192, reason="every product is traced as it runs; "
                               "this size takes about 15 seconds, and the time grows as n^2")
    head_size = params.get("head_size", "reduced")
    if head_size not in HEAD_SIZES:
        raise VecmixError(f"lab.head_size = {head_size!r} must be one of: {', '.join(HEAD_SIZES)}")
    if head_size == "reduced" and d_model % heads:
        raise VecmixError(f"lab.d_model = {d_model} is not divisible by lab.heads = {heads}: heads have size d_model/h")

    d_k = d_model // heads if head_size == "reduced" else d_model
    check_memory(LAB, (FLOAT * 3 * heads * d_model * d_k, {"lab.d_model": d_model, "lab.heads": heads}),  # W_q, W_k, W_v
                 (FLOAT * (2 * length * d_model + 3 * length * heads * d_k), {"lab.n": length, "lab.d_model": d_model}),
                 (FLOAT * heads * length * min(length, BLOCK_SIZE), {"lab.n": length, "lab.heads": heads}))  # scores
    runs = {}  # (n, d_model, h) -> Recording of one traced run

    def log_at(*size):
        if size not in runs:
            runs[size] = traced_run(*size, head_size)
        return runs[size]

    multi = polynomial_through(lambda *s: log_at(*s).multiply_adds(), (n, d, h), GRID)
    single = multi.subs(h, 1)  # one head: size d_model either way
    exps = polynomial_through(lambda *s: log_at(*s).score_exponentials(), (n, d, h), GRID)
    here, one = log_at(length, d_model, heads), log_at(length, d_model, 1)
    counts = {"multi": here.multiply_adds(), "single": one.multiply_adds()}
    predicted = {"multi": int(multi.subs({n: length, d: d_model, h: heads})),
                 "single": int(single.subs({n: length, d: d_model}))}
    exps_multi, exps_single = here.score_exponentials(), one.score_exponentials()
    h_free = sp.expand(multi - single) == 0

    claims = [
        Claim("same-multiply-adds", "h heads of size d_model/h perform exactly as many multiply-adds as one head of "
              "size d_model, for every n, d_model and h (polynomials fitted through the products vecmix performed)",
              SOURCE, "a polynomial free of h", f"h heads: {sp.sstr(multi)}; one head: {sp.sstr(single)}", h_free,
              True),
        Claim("same-here", f"at n = {length}, d_model = {d_model}, h = {heads}, running both: the same count, the one "
              "the polynomial predicts", SOURCE, f"equal counts, {predicted['single']:,} as predicted",
              f"h heads {counts['multi']:,}, one head {counts['single']:,}"
              + ("" if counts == predicted else f" (the polynomials predict {predicted['multi']:,} and "
                                                  f"{predicted['single']:,})"),
              counts["multi"] == counts["single"] and counts == predicted, True),
        Claim("exponentials-grow", f"what grows is the softmax: {heads} heads exponentiate h n^2 scores against n^2 "
              "for one head, so the cost is similar, not identical", f"follows from {SOURCE}",
              f"{heads} x the one head's, more than it", f"{exps_multi:,} against {exps_single:,}"
              + (f" ({exps_multi / exps_single:g} x)" if exps_single else "") + f"; fitted: {sp.sstr(exps)}",
              exps_multi == heads * exps_single and exps_multi > exps_single, True),
    ]
    def line_polynomial(where):  # the count of one line of vecmix, fitted like the total
        return polynomial_through(lambda *s: log_at(*s).multiply_adds(lambda w: w == where), (n, d, h), GRID)

    rows = [[f"`{where.split(': ', 1)[1]}`", ", ".join(f"{a} @ {b}" for a, b in shapes), times, f"{total:,}",
             f"${sp.latex(line_polynomial(where))}$"] for where, shapes, times, total in here.table()]
    values = [Value("multiply_adds_multi_head", counts["multi"], multi),
              Value("multiply_adds_one_head", counts["single"], single),
              Value("score_exponentials_multi_head", exps_multi, exps),
              Value("score_exponentials_one_head", exps_single),
              Value("rescaling_exponentials_multi_head", here.other_exponentials())]
    size = "d_\\text{model}/h" if head_size == "reduced" else "d_\\text{model}"
    sections = [
        "## The claim\n\n"
        "\"Due to the reduced dimension of each head, the total computational cost is similar to that of "
        "single-head attention with full dimensionality.\" Each head projects the $n$ tokens to queries, keys and "
        f"values of size ${size}$, mixes its values, and the heads are concatenated and mapped by $W_o$.\n",
        "## The products that ran\n\n"
        f"`vecmix.multihead_attention` on {length} random tokens with $d_\\text{{model}} = {d_model}$ and $h = {heads}$ "
        "heads, every matrix product recorded as it ran (the line of vecmix, its operand shapes, how many times it "
        "ran). An $(a \\times b)$ by $(b \\times c)$ product costs $abc$ multiply-adds, times the number of heads when "
        "the heads are one batched product. The last column is the polynomial through the counts of 27 runs at "
        "tiny sizes ($n \\in \\lbrace 1, 2, 3 \\rbrace$, $d_\\text{model} \\in \\lbrace 6, 12, 18 \\rbrace$, "
        "$h \\in \\lbrace 1, 2, 3 \\rbrace$):\n\n"
        + table(["product (vecmix)", "operand shapes", "runs", "multiply-adds", "polynomial"], rows)
        + "\n\nAdded up, and for one head of size $d_\\text{model}$ (the same products with $h = 1$):\n"
        + display(rf"\text{{{heads} heads}}: {sp.latex(multi)}, \qquad \text{{one head}}: {sp.latex(single)}")
        + f"\nAt this size: {counts['multi']:,} multiply-adds for {heads} heads, {counts['single']:,} for one head.\n",
        "## What does grow: the softmax\n\n"
        f"Each head exponentiates its own $n \\times n$ scores: {exps_multi:,} exponentials for {heads} heads against "
        f"{exps_single:,} for one (fitted: ${sp.latex(exps)}$). The blocked softmax also takes one rescaling "
        f"exponential $e^{{m_\\text{{old}} - m_\\text{{new}}}}$ per query, head and key block "
        f"({here.other_exponentials():,} here). Multiply-adds are equal, exponentials are not: the cost is *similar*.\n",
    ]
    intro = ("*Reproduces* the cost remark of \"Attention Is All You Need\" §3.2.2. (Multi-head attention itself is "
             "the paper lab's \"repeats this pattern in parallel subspaces\", `001_8c65d19d1d0c4e45.txt` §6; its "
             "cost is not discussed there.)")
    return LabResult("multihead_cost", TITLE, intro, sections, claims, values, {}, [
        "Counts are multiply-adds of the matrix products vecmix performs, and the exponentials of its softmax; the "
        "softmax's additions and divisions, the scaling of the scores, the reshapes and memory traffic are not counted.",
        *(["Every head has size d_model here (lab.head_size=full), not the paper's d_model/h."]
          if head_size == "full" else [])])


COUNTER_CASES = {
    "same-multiply-adds": inputs("heads of full size d_model: h heads cost h times one head",
                                 "lab.head_size=full"),
    "same-here": inputs("heads of full size d_model: h heads cost h times one head", "lab.head_size=full"),
    "exponentials-grow": inputs("one head: nothing grows", "lab.heads=1"),
}


# Exercises: graded by pytest (python -m labs.exercises multihead_cost)

LAB = "multihead_cost"

EXERCISES = [
    Exercise(LAB, "scores_cost", "How many multiply-adds does Q K^T cost for n = 10 tokens and keys of size 64?",
             exact(6400, "the count"), "6400", also=("10*10*64",), wrong={"640": "not right"},
             hint="an (a x b) by (b x c) product costs a b c.", source="AIAYN §3.2.2"),
    Exercise(LAB, "heads_scores_cost", "Same n = 10, but h = 8 heads of size 8 (d_model = 64): total multiply-adds "
             "of the h products Q_j K_j^T?", exact(6400, "the count"), "6400", also=("8*10*10*8",),
             wrong={"800": "not right"},
             hint="h times a smaller product.", source="AIAYN §3.2.2"),
    Exercise(LAB, "heads_exponentials", "Same n = 10 tokens and h = 8 heads: how many exponentials do the heads' "
             "softmaxes take in all (one per score)?", exact(800, "the count"), "800", also=("8*10**2",),
             wrong={"100": "not right", "6400": "not right"}, hint="each head has its own n x n scores.",
             source="AIAYN §3.2.2"),
]
