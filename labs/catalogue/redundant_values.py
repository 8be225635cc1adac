"""Lab ``redundant_values``: Try It 2 of 000 §9, replace v_3 by v_1 + v_2.

Three vectors in R^2 are always linearly dependent: the page's own v_1, v_2, v_3 already
were, so its weights were already one of many coefficient vectors for their output. The
replacement keeps the span and swaps that dependency for a visible one, (1, 1, -1); in a
space where the values would be independent, it is the replacement that creates the
redundancy. Either way every output in the span has a whole line of coefficient vectors
(the failure mode of 000 §7). Weights that must sum to 1, as attention's do, are another
matter: they stay unique unless the dependency's coefficients sum to 0.
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import VecmixError, affine_solution_set, eliminate, exact_equal, in_span, solution_set, to_numeric

from ..claims import Claim, fault, inputs
from ..config.inputs import read_number, read_vector, read_vectors
from ..grading import Exercise, same, satisfies, vector, zero
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, display, error_text, image, tex, tuple_tex, tuple_text
from ._geometry import on_solution_set, primitive

TITLE = "Redundant values: the same output from many coefficient vectors"
SOURCE = "000 §9, Try It 2"
TOLERANCE = 1e-12


@dataclass
class Config:
    """redundant_values: independent values plus one that is their combination."""

    name: str = "redundant_values"
    values: List[List[Any]] = MISSING  # v_1..v_k, linearly independent
    replaced: List[Any] = MISSING  # the value v_{k+1} that Try It 2 replaces (the page's own v_3)
    combination: List[Any] = MISSING  # the replacement is sum_j combination_j v_j
    weights: List[Any] = MISSING  # a coefficient vector for all k + 1 values
    shift: Any = 1  # t: the second coefficient vector is weights + t * (combination, -1)


def run(params):
    """Compare the page's values with the ones Try It 2 makes, and find every coefficient vector of an output.

    >>> r = run({"values": [[1.0, 0.2], [0.4, 1.1]], "replaced": [1.2, 0.8], "combination": [1, 1],
    ...          "weights": [0.2, 0.5, 0.3], "shift": 1})
    >>> r.reproduced, [c.observed for c in r.claims if c.id == "null-direction"]
    (True, ['null space = span(1, 1, -1); V^T n = 0'])
    """
    base = read_vectors(params["values"], "lab.values")  # (k, d): the independent values v_1..v_k
    old = read_vector(params["replaced"], "lab.replaced")  # (d, 1): the value the page had in place k + 1
    combo = read_vector(params["combination"], "lab.combination")  # (k, 1): v_new = sum_j combo_j v_j
    a = read_vector(params["weights"], "lab.weights")  # (k + 1, 1)
    t = read_number(params["shift"], "lab.shift")
    k, d = base.shape
    if old.rows != d:
        raise VecmixError(f"lab.replaced has {old.rows} numbers but the values in lab.values live in R^{d}")
    if combo.rows != k:
        raise VecmixError(f"lab.combination has {combo.rows} numbers but lab.values has {k} vectors: one each")
    if a.rows != k + 1:
        raise VecmixError(f"lab.weights has {a.rows} numbers but there are {k + 1} values with the redundant one")
    if t == 0:
        raise VecmixError("lab.shift = 0 would give the same coefficient vector twice; choose a nonzero shift")
    if eliminate(base).rank != k:
        raise VecmixError(f"lab.values must be linearly independent (they have rank {eliminate(base).rank} < {k})")

    V0 = base.col_join(old.T)  # (k + 1, d): the page's values
    v_new = base.T * combo  # (d, k) (k, 1) -> (d, 1)
    V = base.col_join(v_new.T)  # (k + 1, d): after Try It 2
    elim0, elim = eliminate(V0), eliminate(V)
    deps0 = [primitive(c) for c in elim0.null_space]
    already = bool(deps0) and all(V0.T * c == sp.zeros(d, 1) for c in deps0)  # (d, k + 1) (k + 1, 1)
    same_span = (all(in_span(V0, V.row(i).T, elim0) for i in range(k + 1))
                 and all(in_span(V, V0.row(i).T, elim) for i in range(k + 1)))

    expected = combo.col_join(sp.Matrix([-1]))  # sum_j combo_j v_j - v_new = 0, (k + 1, 1)
    n = primitive(elim.null_space[0]) if len(elim.null_space) == 1 else None
    parallel = n is not None and sp.Matrix.hstack(n, expected).rank() == 1 and V.T * n == sp.zeros(d, 1)
    c1, c2 = a, a + t * expected  # (k + 1, 1) each
    z1, z2 = V.T * c1, V.T * c2  # (d, k + 1) (k + 1, 1) -> (d, 1)
    S = solution_set(V, z1)
    both_on = on_solution_set(c1, S.particular, S.directions) and on_solution_set(c2, S.particular, S.directions)
    x = sp.Matrix(sp.symbols(f"x_1:{d + 1}"))  # a generic output (d, 1)
    conditions, c_x = elim.parametrize(x)
    residual = (V.T * c_x - x).subs(_solve_conditions(conditions, x)).applyfunc(sp.expand)  # (d, 1)
    identity = exact_equal(residual, sp.zeros(d, 1))
    affine = affine_solution_set(V, z1)
    affine_unique = affine.consistent and affine.dimension == 0 and (sum(a) != 1 or affine.particular == a)

    V_num = to_numeric(V)  # (k + 1, d)
    outputs_num = [V_num.T @ to_numeric(c).ravel() for c in (c1, c2)]  # (d, k + 1) @ (k + 1,) -> (d,)
    err = max(float(np.max(np.abs(o - to_numeric(z1).ravel()))) for o in outputs_num)
    claims = [
        Claim("already-dependent", f"the page's own {k + 1} values were already linearly dependent before the "
              "replacement: some combination of them is 0", "000 §2; §9, Try It 2", "a nonzero n with V^T n = 0",
              f"rank {elim0.rank} of {k + 1}; " + ("; ".join(f"{_relation(c)} = 0" for c in deps0) if deps0 else
                                                  "no dependency"), already, True),
        Claim("span-unchanged", "the replacement changes no reachable output: each old value is in the span of the "
              "new ones, and each new value in the span of the old", SOURCE, f"the same span (rank {elim0.rank})",
              f"rank {elim0.rank} before, {elim.rank} after; spans {'equal' if same_span else 'differ'}",
              same_span, True),
        Claim("null-direction", "the coefficient directions that change nothing are the multiples of "
              f"{tuple_text(primitive(expected))}", "000 §7", f"null space = span{tuple_text(primitive(expected))}",
              f"null space = span{tuple_text(n)}; V^T n {'= 0' if V.T * n == sp.zeros(d, 1) else '!= 0'}"
              if n is not None else f"null space of dimension {len(elim.null_space)}", parallel, True),
        Claim("two-representations", "two different coefficient vectors give the same output, and both lie on the "
              "solution set vecmix finds for it, a line", "000 §7", "c != c', V^T c = V^T c', both on a line",
              f"c = {tuple_text(c1)}, c' = {tuple_text(c2)}: outputs {'equal' if z1 == z2 else 'differ'}; solution "
              f"set of dimension {S.dimension}, {'both on it' if both_on else 'not both on it'}",
              c1 != c2 and z1 == z2 and S.dimension == 1 and both_on, True),
        Claim("every-output-many-ways", "every output x in the span is reached by a whole line of coefficient vectors "
              "c(x) + s n (checked for a symbolic x)", SOURCE, "V^T c(x) = x identically, 1 free parameter",
              f"{len(elim.null_space)} free parameter(s); identity {'holds' if identity else 'fails'}",
              identity and len(elim.null_space) == 1, True),
        Claim("mixture-weights-unique", "weights that must sum to 1, as attention's do, are still unique: the "
              "dependency's coefficients do not sum to 0, so the values are affinely independent", f"{SOURCE}; 002 §5",
              "one set of weights summing to 1 for the output",
              f"dependency coefficients sum to {sp.sstr(sum(expected))}; weights summing to 1: "
              + (f"{tuple_text(affine.particular)}, a set of dimension {affine.dimension}" if affine.consistent
                 else "none"), bool(affine_unique), True),
        Claim("numeric-agrees", "numpy gives both coefficient vectors the exact output", "numpy (numeric = exact)",
              f"max difference <= {TOLERANCE:g}", error_text(err), err <= TOLERANCE, False),
    ]
    names = [fig.named("v", i + 1) for i in range(k + 1)]
    P, note = fig.projection(V_num)  # (2, d)
    figure = fig.paths_figure(V_num @ P.T, names, [  # (k + 1, d) (d, 2) -> (k + 1, 2)
        (f"c = {tuple_text(c1)}", to_numeric(c1).ravel()), (f"c' = {tuple_text(c2)}", to_numeric(c2).ravel())],
        P @ to_numeric(z1).ravel())  # (2, d) (d,) -> (2,)
    values = [Value("values_before", to_numeric(V0), V0), Value("values", V_num, V), Value("rank", elim.rank),
              Value("null_space_before", [to_numeric(c).ravel() for c in deps0], deps0),
              Value("weights", to_numeric(c1).ravel(), c1),
              Value("null_space", [to_numeric(c).ravel() for c in elim.null_space], list(elim.null_space)),
              Value("shifted_weights", to_numeric(c2).ravel(), c2), Value("output", to_numeric(z1).ravel(), z1),
              Value("generic_coefficients", None, c_x), Value("span_conditions", None, list(conditions))]
    parts = dict(V0=V0, V=V, k=k, d=d, combo=combo, t=t, expected=expected, deps0=deps0, n=n, c1=c1, c2=c2, z1=z1,
                 conditions=conditions, c_x=c_x, affine=affine, same_span=same_span, note=note)
    intro = f"*Reproduces* {cite('000', 9)}, Try It 2, with the vectors of §2, and the redundancy failure mode of §7."
    return LabResult("redundant_values", TITLE, intro, _sections(parts), claims, values, {"paths.svg": figure}, [])


def _relation(c, fmt=None):
    """sum_i c_i v_i written out (the left side of a dependency): LaTeX with ``fmt=tex``, else plain text
    without '*' (which Markdown would read as emphasis in a table).

    >>> _relation(sp.Matrix([50, 28, -51]))
    '50 v_1 + 28 v_2 - 51 v_3'
    """
    if fmt is not None:
        return fmt(sp.Add(*(c[i] * sp.Symbol(f"v_{i + 1}") for i in range(c.rows))))
    terms = [(x, f"v_{i + 1}") for i, x in enumerate(c) if x != 0]
    text = " ".join(f"{'-' if x < 0 else '+'} {'' if abs(x) == 1 else sp.sstr(abs(x)) + ' '}{v}" for x, v in terms)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _solve_conditions(conditions, x):
    """A substitution that satisfies the span's linear conditions, solving for the last coordinates."""
    if not conditions:
        return {}
    solved = sp.solve(conditions, list(x)[-len(conditions):], dict=True)
    return solved[0] if solved else {}


def _sections(s):
    V0, V, k, d, combo = s["V0"], s["V"], s["k"], s["d"], s["combo"]
    terms = tex(sp.Add(*(combo[j] * sp.Symbol(f"v_{j + 1}") for j in range(k))))  # sum_j combo_j v_j
    new = k + 1
    before = r", \qquad ".join(f"v_{{{i + 1}}} = {column(V0.row(i))}" for i in range(k + 1))
    after = rf"v_{{{new}}} := {terms} = {column(V.row(k))}"
    if s["deps0"]:
        history = (f"Before the replacement the {k + 1} values were already dependent: "
                   + ", ".join(f"${_relation(c, tex)} = 0$" for c in s["deps0"])
                   + (f" (any {k + 1} vectors in $\\mathbb{{R}}^{{{d}}}$ are)" if k + 1 > d else "")
                   + ". So the page's own weights were already one of a line of coefficient vectors for their "
                   "output. The replacement does not create the redundancy here: it keeps the span "
                   f"{'unchanged' if s['same_span'] else '(not here: it changes)'} and swaps that dependency for "
                   f"${terms} - v_{{{new}}} = 0$, whose coefficients are simple.")
    else:
        history = (f"Before the replacement the {k + 1} values were independent; the replacement creates the "
                   f"dependency ${terms} - v_{{{new}}} = 0$ and loses the direction of the old $v_{{{new}}}$.")
    reachable = (f"$x$ is reachable exactly when {', '.join(f'${tex(cnd)} = 0$' for cnd in s['conditions'])}"
                 if s["conditions"] else f"every $x$ in $\\mathbb{{R}}^{{{d}}}$ is reachable")
    n = s["n"] if s["n"] is not None else primitive(s["expected"])
    affine = s["affine"]
    weights_one = (f"exactly one set of weights summing to 1 reaches it: ${tuple_tex(affine.particular)}$"
                   if affine.consistent and affine.dimension == 0 else
                   f"the weights summing to 1 that reach it form a set of dimension {affine.dimension}")
    return [
        "## The idea\n\n"
        f"Try It 2 of the source: replace $v_{{{new}}}$ by ${terms}$. The values the page starts from:\n"
        + display(before) + "\nand the replacement:\n" + display(after) + "\n" + history + "\n",
        "## Two coefficient vectors, one output\n\n"
        + display(rf"V^\top {column(s['c1'])} = V^\top {column(s['c2'])} = {column(s['z1'])}")
        + f"\nThe second vector is the first plus ${tex(s['t'])}$ times ${tuple_tex(s['expected'])}$, a direction in "
        "the null space of $V^\\top$.\n\n"
        + image("figures/paths.svg", "two coefficient vectors reaching the same output",
                "Figure 1. Each coefficient vector drawn as its terms c_i v_i, tip to tail: two different paths, "
                "one output." + (f" {s['note']}" if s["note"] else "")) + "\n",
        "## Which outputs become representable in more than one way\n\n"
        f"As linear combinations, all of them. For a generic output $x$: {reachable}, and every coefficient vector "
        "that reaches it is\n"
        + display(rf"c = {column(s['c_x'])} + s {column(n)}, \qquad s \in \mathbb{{R}}")
        + "\nWith redundant values the output does not determine its coefficients: knowing $z$ leaves a whole line "
        "of coefficient vectors that produce it (the coefficients, of course, always determine the output). This is "
        "the failure mode of 000 §7.\n\n"
        "Attention's weights are not arbitrary coefficients: they sum to 1. Adding $s n$ keeps that sum only if the "
        f"entries of $n$ sum to 0, and here they sum to ${tex(sum(s['expected']))}$. So for the output above, "
        f"{weights_one}. Weights summing to 1 become ambiguous only when the redundant value is an *affine* "
        f"combination of the others (coefficients summing to 1, such as $2 v_1 - v_2$): then the values are "
        "affinely dependent, and two different attention weightings can give the same output.\n",
    ]


# Exercises: graded by pytest (python -m labs.exercises redundant_values)

LAB = "redundant_values"
v1, v2 = sp.Matrix([1, sp.Rational(1, 5)]), sp.Matrix([sp.Rational(2, 5), sp.Rational(11, 10)])
V_EX = sp.Matrix.vstack(v1.T, v2.T, (v1 + v2).T)  # rows v1, v2, v3 = v1 + v2
V_PAGE = sp.Matrix.vstack(v1.T, v2.T, sp.Matrix([[sp.Rational(6, 5), sp.Rational(4, 5)]]))  # the page's v3
SETUP = "v1 = (1.0, 0.2), v2 = (0.4, 1.1), and v3 := v1 + v2."


def _two_rows(c):
    return isinstance(c, sp.MatrixBase) and c.shape == (2, 3)


def _collinear_with_v1_v2(v):
    return isinstance(v, sp.MatrixBase) and v.shape == (2, 1) and zero(sp.Matrix.hstack(v2 - v1, v - v1).det())


EXERCISES = [
    Exercise(LAB, "same_output_twice", f"Try It 2. {SETUP}\nGive two different coefficient vectors with the same "
             "output, as a matrix [[c1, c2, c3], [d1, d2, d3]].",
             satisfies((_two_rows, "write the two coefficient vectors as the rows of a 2 x 3 matrix."),
                       (lambda c: not same(c.row(0), c.row(1)), "the two coefficient vectors must be different."),
                       (lambda c: same(V_EX.T * c.row(0).T, V_EX.T * c.row(1).T),
                        "these two do not give the same output.")),
             "[[1, 1, 0], [0, 0, 1]]", also=("[[0.2, 0.5, 0.3], [1.2, 1.5, -0.7]]",),
             wrong={"[[1, 1, 0], [1, 1, 0]]": "must be different", "[[1, 0, 0], [0, 1, 0]]": "same output"},
             hint="v1 + v2 - v3 = 0.", points=2, source="000 §9"),
    Exercise(LAB, "null_direction", f"{SETUP}\nGive a nonzero direction n with n1 v1 + n2 v2 + n3 v3 = 0.",
             satisfies(vector(3, "n"), (lambda n: not zero(n), "n must not be zero."),
                       (lambda n: zero(V_EX.T * n), "this combination of the values is not zero.")),
             "[1, 1, -1]", also=("[-2, -2, 2]",), wrong={"[0, 0, 0]": "must not be zero", "[1, 1, 1]": "not zero"},
             hint="v3 was built from v1 and v2.", source="000 §7"),
    Exercise(LAB, "page_dependency", "Before Try It 2, the page's values are v1 = (1.0, 0.2), v2 = (0.4, 1.1), "
             "v3 = (1.2, 0.8). Give a nonzero n with n1 v1 + n2 v2 + n3 v3 = 0: they were already dependent.",
             satisfies(vector(3, "n"), (lambda n: not zero(n), "n must not be zero."),
                       (lambda n: zero(V_PAGE.T * n), "this combination of the values is not zero.")),
             "[50, 28, -51]", also=("[-50/51, -28/51, 1]",),
             wrong={"[1, 1, -1]": "not zero", "[0, 0, 0]": "not be zero"},
             hint="write v3 = x v1 + y v2 and solve the 2 x 2 system.", points=2, source="000 §2; §9"),
    Exercise(LAB, "ambiguous_attention", "v1 = (1.0, 0.2), v2 = (0.4, 1.1). Give a replacement v3, a combination of "
             "v1 and v2, for which two different weight vectors that each sum to 1 (as attention weights do) give "
             "the same output.",
             satisfies((lambda v: isinstance(v, sp.MatrixBase) and v.shape == (2, 1), "v3 must be a vector of 2 "
                        "numbers, written [a, b]."),
                       (_collinear_with_v1_v2, "with this v3 the weights summing to 1 are still unique: v1, v2, v3 "
                        "are not on one line.")),
             "[1.6, -0.7]", also=("[0.7, 0.65]", "[1, 0.2]"),
             wrong={"[1.4, 1.3]": "still unique", "[0, 0]": "still unique"},
             hint="a dependency whose coefficients sum to 0 needs v3 = x v1 + y v2 with x + y = 1.", points=2,
             source="000 §9; 002 §5"),
]

COUNTER_CASES = {
    "already-dependent": inputs("values in R^3 with an independent third value: the page's set would be independent",
                                "lab.values=[[1,0,0],[0,1,0]]", "lab.replaced=[0,0,1]"),
    "span-unchanged": inputs("values in R^3 with an independent third value: the replacement loses a direction",
                             "lab.values=[[1,0,0],[0,1,0]]", "lab.replaced=[0,0,1]"),
    "null-direction": fault("null-space-sign"),
    "two-representations": fault("solutions-without-directions"),
    "every-output-many-ways": fault("null-space-empty"),
    "mixture-weights-unique": inputs("v3 = 2 v1 - v2, an affine combination: weights summing to 1 are no longer unique",
                                     "lab.combination=[2,-1]"),
    "numeric-agrees": inputs("a huge shift: the second coefficient vector cancels in floating point",
                             "lab.shift=1e17"),
}
