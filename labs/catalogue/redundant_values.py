"""Lab ``redundant_values``: Try It 2 of 000 §9, replace v_3 by v_1 + v_2.

The redundant value adds no direction (the span stays the same) but it makes every
representation non-unique: the null space direction (1, 1, -1) can be added to any
coefficient vector without changing the output (the failure mode of 000 §7).
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import VecmixError, eliminate, exact_equal, solution_set, to_numeric

from ..claims import Claim
from ..config.inputs import read_vector, read_vectors
from ..grading import Exercise, satisfies, vector
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, display, image, tex, tuple_tex

TITLE = "Redundant values: the same output from many coefficient vectors"
SOURCE = "000 §9, Try It 2"


@dataclass
class Config:
    """redundant_values: independent values plus one that is their combination."""

    name: str = "redundant_values"
    values: List[List[Any]] = MISSING  # v_1..v_k, linearly independent
    combination: List[Any] = MISSING  # the redundant value is sum_j combination_j v_j
    weights: List[Any] = MISSING  # a coefficient vector for all k + 1 values
    shift: Any = 1  # t: the second coefficient vector is weights + t * (combination, -1)


def run(params):
    """Build v_3 from v_1, v_2, then find every coefficient vector that reaches an output.

    >>> r = run({"values": [[1.0, 0.2], [0.4, 1.1]], "combination": [1, 1], "weights": [0.2, 0.5, 0.3], "shift": 1})
    >>> r.reproduced, [c.observed for c in r.claims if c.id == "null-direction"]
    (True, ['null space = span(-1, -1, 1)'])
    """
    base = read_vectors(params["values"], "lab.values")  # (k, d): the independent values v_1..v_k
    combo = read_vector(params["combination"], "lab.combination")  # (k, 1): v_new = sum_j combo_j v_j
    a = read_vector(params["weights"], "lab.weights")  # (k + 1, 1)
    t = read_vector([params["shift"]], "lab.shift")[0]
    k, d = base.shape
    if combo.rows != k:
        raise VecmixError(f"lab.combination has {combo.rows} numbers but lab.values has {k} vectors: one each")
    if a.rows != k + 1:
        raise VecmixError(f"lab.weights has {a.rows} numbers but there are {k + 1} values with the redundant one")
    if t == 0:
        raise VecmixError("lab.shift = 0 would give the same coefficient vector twice; choose a nonzero shift")
    base_elim = eliminate(base)
    if base_elim.rank != k:
        raise VecmixError(f"lab.values must be linearly independent (they have rank {base_elim.rank} < {k})")

    v_new = base.T * combo  # (d, k) (k, 1) -> (d, 1)
    V = base.col_join(v_new.T)  # (k + 1, d)
    elim = eliminate(V)
    expected = combo.col_join(sp.Matrix([-1]))  # sum_j combo_j v_j - v_new = 0
    n = elim.null_space[0] if len(elim.null_space) == 1 else None
    parallel = n is not None and all(sp.simplify(n[i] * expected[j] - n[j] * expected[i]) == 0
                                     for i in range(k + 1) for j in range(k + 1))
    c1, c2 = a, a + t * expected  # (k + 1, 1) each
    z1, z2 = V.T * c1, V.T * c2  # (d, k + 1) (k + 1, 1) -> (d, 1)
    x = sp.Matrix(sp.symbols(f"x_1:{d + 1}"))  # a generic output (d, 1)
    conditions, c_x = elim.parametrize(x)
    identity = exact_equal((V.T * c_x - x).applyfunc(sp.expand), sp.zeros(d, 1)) if not conditions else (
        exact_equal((V.T * c_x - x).subs(_solve_conditions(conditions, x)).applyfunc(sp.expand), sp.zeros(d, 1)))
    before = solution_set(base, z1)

    claims = [
        Claim("span-unchanged", "the redundant value adds no direction: rank(v_1..v_k, v_new) = rank(v_1..v_k)",
              SOURCE, f"rank {k}", f"rank {elim.rank}", elim.rank == base_elim.rank == k, True),
        Claim("null-direction", f"the coefficient directions that change nothing are the multiples of "
              f"{tuple_str(expected)}", "000 §7", f"null space = span{tuple_str(expected)}",
              f"null space = span{tuple_str(n)}" if n is not None else f"dimension {len(elim.null_space)}",
              parallel, True),
        Claim("two-representations", "two different coefficient vectors give the same output", "000 §7",
              "c != c', V^T c = V^T c'", f"c = {tuple_str(c1)}, c' = {tuple_str(c2)}: outputs "
              f"{'equal' if exact_equal(z1, z2) else 'differ'}", c1 != c2 and exact_equal(z1, z2), True),
        Claim("every-output-many-ways", "every output in the span is reached by a whole line of coefficient vectors "
              "c(x) + t n (checked for a symbolic output x)", SOURCE, "V^T c(x) = x identically, 1 free parameter",
              f"{len(elim.null_space)} free parameter(s); identity {'holds' if identity else 'fails'}",
              identity and len(elim.null_space) == 1, True),
        Claim("unique-before", "without the redundant value each output has exactly one coefficient vector",
              "000 §7", "a single point", "a single point" if before.dimension == 0 else f"dimension "
              f"{before.dimension}", before.dimension == 0, True),
    ]
    V_num = to_numeric(V)  # (k + 1, d)
    outputs_num = [V_num.T @ to_numeric(c).ravel() for c in (c1, c2)]  # (d, k + 1) @ (k + 1,) -> (d,)
    err = max(float(np.max(np.abs(o - to_numeric(z1).ravel()))) for o in outputs_num)
    claims.append(Claim("numeric-agrees", "numpy gives both coefficient vectors the exact output, to 1e-12", "000 §6",
                        "max difference <= 1e-12", f"{err:.1e}", err <= 1e-12, False))
    names = [fig.named("v", i + 1) for i in range(k + 1)]
    P, note = fig.projection(V_num)  # (2, d)
    figure = fig.paths_figure(V_num @ P.T, names, [  # (k + 1, d) (d, 2) -> (k + 1, 2)
        (f"c = {tuple_str(c1)}", to_numeric(c1).ravel()), (f"c' = {tuple_str(c2)}", to_numeric(c2).ravel())],
        P @ to_numeric(z1).ravel())  # (2, d) (d,) -> (2,)
    values = [Value("values", V_num, V), Value("rank", elim.rank), Value("weights", to_numeric(c1).ravel(), c1),
              Value("null_space", [to_numeric(c).ravel() for c in elim.null_space], list(elim.null_space)),
              Value("shifted_weights", to_numeric(c2).ravel(), c2), Value("output", to_numeric(z1).ravel(), z1),
              Value("generic_coefficients", None, c_x), Value("span_conditions", None, list(conditions))]
    terms = " + ".join(f"{tex(combo[j])} v_{{{j + 1}}}" for j in range(k))
    reachable = (f"$x$ is reachable exactly when {', '.join(f'${tex(cnd)} = 0$' for cnd in conditions)}"
                 if conditions else f"every $x$ in $\\mathbb{{R}}^{{{d}}}$ is reachable")
    sections = [
        "## The idea\n\n"
        f"Try It 2 of the source: replace $v_{{{k + 1}}}$ by ${terms}$. The new value points in no new direction, "
        "so the outputs that can be reached do not change. What changes is uniqueness: the combination "
        f"${terms} - v_{{{k + 1}}} = 0$ can be added to any coefficient vector, any number of times, without "
        "changing the output.\n"
        + display(r", \qquad ".join(f"v_{{{i + 1}}} = {column(V.row(i))}" for i in range(k + 1))),
        "## Two coefficient vectors, one output\n\n"
        + display(rf"V^\top {column(c1)} = V^\top {column(c2)} = {column(z1)}")
        + f"\nThe second vector is the first plus ${tex(t)}$ times ${tuple_tex(expected)}$, a direction in the null "
        "space of $V^\\top$.\n\n"
        + image("figures/paths.svg", "two coefficient vectors reaching the same output",
                "Figure 1. Each coefficient vector drawn as its terms c_i v_i, tip to tail: two different paths, "
                "one output." + (f" {note}" if note else "")) + "\n",
        "## Which outputs become representable in more than one way\n\n"
        f"All of them. For a generic output $x$: {reachable} (the redundant value changes nothing there), and "
        "every coefficient vector that reaches it is\n"
        + display(rf"c = {column(c_x)} + t {column(n if n is not None else expected)}, \qquad t \in \mathbb{{R}}")
        + "\nWithout the redundant value the same output has exactly one coefficient vector. Redundant values "
        "are why coefficients, unlike outputs, are not determined by the output (000 §7).\n",
    ]
    intro = f"*Reproduces* {cite('000', 9)}, Try It 2, with the vectors of §2."
    return LabResult("redundant_values", TITLE, intro, sections, claims, values, {"paths.svg": figure}, [])


def tuple_str(M):
    return "(" + ", ".join(sp.sstr(x) for x in M) + ")"


def _solve_conditions(conditions, x):
    """A substitution that satisfies the span's linear conditions, solving for the last coordinates."""
    solved = sp.solve(conditions, list(x)[-len(conditions):], dict=True)
    return solved[0] if solved else {}


# Exercises: graded by pytest (python -m labs.exercises redundant_values)

LAB = "redundant_values"
v1, v2 = sp.Matrix([1, sp.Rational(1, 5)]), sp.Matrix([sp.Rational(2, 5), sp.Rational(11, 10)])
V = sp.Matrix.vstack(v1.T, v2.T, (v1 + v2).T)  # rows v1, v2, v3 = v1 + v2
SETUP = "v1 = (1.0, 0.2), v2 = (0.4, 1.1), and v3 := v1 + v2."


def _two_rows(c):
    return isinstance(c, sp.MatrixBase) and c.shape == (2, 3)


EXERCISES = [
    Exercise(LAB, "same_output_twice", f"Try It 2. {SETUP}\nGive two different coefficient vectors with the same "
             "output, as a matrix [[c1, c2, c3], [d1, d2, d3]].",
             satisfies((_two_rows, "write the two coefficient vectors as the rows of a 2 x 3 matrix."),
                       (lambda c: c.row(0) != c.row(1), "the two coefficient vectors must be different."),
                       (lambda c: V.T * c.row(0).T == V.T * c.row(1).T, "these two do not give the same output.")),
             "[[1, 1, 0], [0, 0, 1]]", also=("[[0.2, 0.5, 0.3], [1.2, 1.5, -0.7]]",),
             wrong={"[[1, 1, 0], [1, 1, 0]]": "must be different", "[[1, 0, 0], [0, 1, 0]]": "same output"},
             hint="v1 + v2 - v3 = 0.", points=2, source="000 §9"),
    Exercise(LAB, "null_direction", f"{SETUP}\nGive a nonzero direction n with n1 v1 + n2 v2 + n3 v3 = 0.",
             satisfies(vector(3, "n"), (lambda n: any(x != 0 for x in n), "n must not be zero."),
                       (lambda n: V.T * n == sp.zeros(2, 1), "this combination of the values is not zero.")),
             "[1, 1, -1]", also=("[-2, -2, 2]",), wrong={"[0, 0, 0]": "must not be zero", "[1, 1, 1]": "not zero"},
             source="000 §7"),
]
