"""Lab ``multihead_cost``: h heads of size d_model/h cost about what one full-size head costs (AIAYN §3.2.2).

Multiply-adds are counted exactly, product by product, from the shapes of the matrix
products multi-head attention performs (vecmix.multihead_attention), as polynomials in
the sequence length n, d_model and h. They are equal for every n, d_model and h; only
the number of exponentials (softmax) grows, h-fold.
"""

from dataclasses import dataclass

import sympy as sp

from vecmix import VecmixError

from ..claims import Claim
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report.markdown import display, table

TITLE = "Multi-head cost: h heads of size d_model/h against one head of full size"
SOURCE = "AIAYN §3.2.2"
n, d, h = sp.symbols("n d_model h", positive=True, integer=True)


@dataclass
class Config:
    """multihead_cost: multiply-adds of h heads of size d_model/h against one full head (AIAYN §3.2.2)."""

    name: str = "multihead_cost"
    d_model: int = 512
    heads: int = 8
    n: int = 128  # sequence length


def products(n, d_model, heads):
    """The matrix products of self-attention over n tokens, as (what, rows, inner, cols, times).

    A product of an (a x b) and a (b x c) matrix costs a b c multiply-adds.

    >>> [p[0] for p in products(4, 8, 2)]
    ['Q = X W_q', 'K = X W_k', 'V = X W_v', 'scores Q K^T', 'mixture A V', 'output [Z_1 ... Z_h] W_o']
    """
    size = sp.sympify(d_model) / heads  # exact: an integer for integer sizes, a fraction of symbols otherwise
    return [("Q = X W_q", n, d_model, size, heads), ("K = X W_k", n, d_model, size, heads),
            ("V = X W_v", n, d_model, size, heads), ("scores Q K^T", n, size, n, heads),
            ("mixture A V", n, n, size, heads), ("output [Z_1 ... Z_h] W_o", n, heads * size, d_model, 1)]


def multiply_adds(n, d_model, heads):
    """Total multiply-adds of the products above.

    >>> multiply_adds(10, 512, 8) == multiply_adds(10, 512, 1)
    True
    """
    return sp.expand(sum(rows * inner * cols * times for _, rows, inner, cols, times in products(n, d_model, heads)))


def exponentials(n, d_model, heads):
    """Softmax exponentials: one per entry of every score matrix Q_j K_j^T.

    >>> exponentials(10, 64, 8), exponentials(10, 64, 1)
    (800, 100)
    """
    _, rows, _, cols, times = next(p for p in products(n, d_model, heads) if p[0] == "scores Q K^T")
    return int(rows * cols * times)


def run(params):
    """Count both ways, symbolically and for the configured sizes.

    >>> run({"d_model": 512, "heads": 8, "n": 100}).reproduced
    True
    """
    d_model = read_positive_int(params["d_model"], "lab.d_model")
    heads = read_positive_int(params["heads"], "lab.heads")
    length = read_positive_int(params["n"], "lab.n")
    if d_model % heads:
        raise VecmixError(f"lab.d_model = {d_model} is not divisible by lab.heads = {heads}: heads have size d_model/h")
    multi, single = multiply_adds(n, d, h), multiply_adds(n, d, 1)
    here_multi, here_single = multiply_adds(length, d_model, heads), multiply_adds(length, d_model, 1)
    exps_multi, exps_single = exponentials(length, d_model, heads), exponentials(length, d_model, 1)
    claims = [
        Claim("same-multiply-adds", "h heads of size d_model/h perform exactly as many multiply-adds as one head "
              "of size d_model, for every n, d_model and h", SOURCE, f"{sp.sstr(single)} for both",
              f"multi-head {sp.sstr(multi)}", sp.expand(multi - single) == 0, True),
        Claim("same-here", f"at n = {length}, d_model = {d_model}, h = {heads} the counts are equal", SOURCE,
              f"{int(here_single):,}", f"{int(here_multi):,}", here_multi == here_single, True),
        Claim("exponentials-grow", "the softmax computes h times as many exponentials (h n^2 against n^2): "
              "the cost is similar, not identical", SOURCE, f"{heads} x {exps_single:,}", f"{exps_multi:,}",
              exps_multi == heads * exps_single, True),
    ]
    rows = [[what, f"{sp.sstr(rows_)} x {sp.sstr(inner)} by {sp.sstr(inner)} x {sp.sstr(cols)}", sp.sstr(times),
             f"${sp.latex(sp.simplify(rows_ * inner * cols * times))}$"]
            for what, rows_, inner, cols, times in products(n, d, h)]
    sizes = [[dm, hh, f"{int(multiply_adds(length, dm, 1)):,}", f"{int(multiply_adds(length, dm, hh)):,}"]
             for dm, hh in ((64, 1), (64, 4), (512, 1), (512, 8), (1024, 16))]
    values = [Value("multiply_adds_formula", None, single), Value("multiply_adds_here", int(here_multi)),
              Value("exponentials_multi_head", exps_multi), Value("exponentials_single_head", exps_single)]
    sections = [
        "## The claim\n\n"
        "\"Due to the reduced dimension of each head, the total computational cost is similar to that of "
        "single-head attention with full dimensionality.\" Counting the multiply-adds of every matrix product "
        "of self-attention over $n$ tokens, with $h$ heads of size $d_\\text{model}/h$:\n\n"
        + table(["product", "shapes", "times", "multiply-adds"], rows)
        + "\n\nThe sum does not depend on $h$:\n"
        + display(rf"\text{{multi-head}} = \text{{one head}} = {sp.latex(single)}"),
        "## At a few sizes\n\n"
        + table(["$d_\\text{model}$", "$h$", f"one head (n = {length})", "h heads"], sizes)
        + f"\n\nWhat does grow with $h$ is the softmax: $h n^2$ exponentials instead of $n^2$ ({exps_multi:,} "
        f"against {exps_single:,} here), which is why the paper says *similar*, not *equal*.\n",
    ]
    intro = ("*Reproduces* the cost remark of \"Attention Is All You Need\" §3.2.2, read through the paper lab "
             "`001_8c65d19d1d0c4e45.txt` (§6: multi-head attention repeats the mixture in parallel subspaces).")
    return LabResult("multihead_cost", TITLE, intro, sections, claims, values, {}, [
        "Counts are multiply-adds of the matrix products; additions of biases, the softmax's additions and "
        "divisions, and memory traffic are not counted."])


# Exercises: graded by pytest (python -m labs.exercises multihead_cost)

LAB = "multihead_cost"

EXERCISES = [
    Exercise(LAB, "scores_cost", "How many multiply-adds does Q K^T cost for n = 10 tokens and keys of size 64?",
             exact(6400, "the count"), "6400", also=("10*10*64",), wrong={"640": "not right"},
             hint="an (a x b) by (b x c) product costs a b c.", source="AIAYN §3.2.2"),
    Exercise(LAB, "heads_scores_cost", "Same n = 10, but h = 8 heads of size 8 (d_model = 64): total multiply-adds "
             "of the h products Q_j K_j^T?", exact(6400, "the count"), "6400", wrong={"800": "not right"},
             hint="h times a smaller product.", source="AIAYN §3.2.2"),
]
