"""Lab ``positional_encoding``: for any fixed offset k, PE(pos + k) is a linear function of PE(pos) (AIAYN §3.5).

PE(pos, 2i) = sin(pos w_i), PE(pos, 2i + 1) = cos(pos w_i), w_i = base^(-2i / d_model).
Exactly, each (sin, cos) pair at pos + k is the pair at pos turned by the rotation
R(k w_i): the map is block-diagonal 2 x 2 rotations that depend on k, never on pos.
"""

from dataclasses import dataclass, field
from typing import List

import numpy as np
import sympy as sp

from vecmix import VecmixError

from ..claims import Claim
from ..config.inputs import read_positive_int
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import display, image

TITLE = "Positional encoding: a fixed offset is a rotation"
SOURCE = "AIAYN §3.5"


@dataclass
class Config:
    """positional_encoding: PE(pos + k) = M_k PE(pos) (AIAYN §3.5)."""

    name: str = "positional_encoding"
    d_model: int = 512
    base: float = 10000.0
    positions: int = 128  # positions 0..positions-1 checked and drawn
    offsets: List[int] = field(default_factory=lambda: [1, 5, 50])


def encoding(positions, d_model, base):
    """PE for the given positions: (len(positions), d_model), sines in even columns, cosines in odd.

    >>> encoding(np.array([0]), 4, 10000.0).tolist()
    [[0.0, 1.0, 0.0, 1.0]]
    """
    w = base ** (-np.arange(0, d_model, 2) / d_model)  # (d_model/2,) frequencies w_i
    angles = np.outer(positions, w)  # (n, d_model/2)
    pe = np.empty((len(positions), d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return pe


def offset_map(k, d_model, base):
    """M_k: the block-diagonal matrix with R(k w_i) = [[cos, sin], [-sin, cos]](k w_i) on the diagonal.

    >>> offset_map(0, 4, 10000.0).tolist() == np.eye(4).tolist()
    True
    """
    M = np.zeros((d_model, d_model))
    for i, w in enumerate(base ** (-np.arange(0, d_model, 2) / d_model)):
        c, s = np.cos(k * w), np.sin(k * w)
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]  # acts on (sin, cos) of one frequency
    return M


def run(params):
    """Prove the rotation identity exactly, then check PE(pos + k) = M_k PE(pos) numerically.

    >>> run({"d_model": 64, "base": 10000, "positions": 50, "offsets": [1, 7]}).reproduced
    True
    """
    d_model = read_positive_int(params["d_model"], "lab.d_model")
    if d_model % 2:
        raise VecmixError(f"lab.d_model = {d_model} must be even: sines and cosines come in pairs")
    base = float(params["base"])
    if not base > 1:
        raise VecmixError(f"lab.base = {params['base']!r} must be a number larger than 1")
    n = read_positive_int(params["positions"], "lab.positions")
    offsets = [read_positive_int(k, "lab.offsets[]") for k in params["offsets"]]

    pos, k, w = sp.symbols("pos k omega", real=True)
    pair = lambda p: sp.Matrix([sp.sin(p * w), sp.cos(p * w)])  # noqa: E731  the pair of one frequency
    R = sp.Matrix([[sp.cos(k * w), sp.sin(k * w)], [-sp.sin(k * w), sp.cos(k * w)]])
    residual = (pair(pos + k) - R * pair(pos)).applyfunc(lambda e: sp.simplify(sp.expand_trig(e)))  # (2, 1)
    orthogonal = (R.T * R).applyfunc(sp.simplify) == sp.eye(2)
    free_of_pos = pos not in R.free_symbols

    positions = np.arange(n)
    pe = encoding(positions, d_model, base)  # (n, d_model)
    errors = {}
    for step in offsets:
        M = offset_map(step, d_model, base)  # (d_model, d_model)
        shifted = encoding(positions + step, d_model, base)  # (n, d_model)
        errors[step] = float(np.max(np.abs(shifted - pe @ M.T)))  # rows: PE(pos + k) - M_k PE(pos)
    worst = max(errors.values())
    claims = [
        Claim("rotation-identity", "for one frequency w, (sin, cos)((pos + k) w) = R(k w) (sin, cos)(pos w), "
              "exactly, for symbolic pos, k and w", SOURCE, "residual 0", sp.sstr(list(residual)),
              all(e == 0 for e in residual), True),
        Claim("independent-of-pos", "the map R(k w) involves k and w only, never pos", SOURCE, "pos not in R",
              "pos not in R" if free_of_pos else "pos appears", free_of_pos, True),
        Claim("rotation", "each block is a rotation: R^T R = I", SOURCE, "I", "I" if orthogonal else "not I",
              orthogonal, True),
        Claim("numeric", f"at d_model = {d_model}, base = {base:g}, PE(pos + k) = M_k PE(pos) for positions "
              f"0..{n - 1} and offsets {offsets}", SOURCE, "max error <= 1e-9", f"{worst:.1e}", worst <= 1e-9,
              False),
    ]
    figure = fig.image_figure(pe.T, "position", "dimension", "PE(pos): sines in even rows, cosines in odd")
    values = [Value("max_error_by_offset", [errors[s] for s in offsets]), Value("offsets", offsets),
              Value("rotation", None, R), Value("residual", None, residual)]
    sections = [
        "## The claim\n\n"
        "The paper chose sinusoids \"because we hypothesized it would allow the model to easily learn to attend "
        "by relative positions, since for any fixed offset $k$, $PE_{pos+k}$ can be represented as a linear "
        "function of $PE_{pos}$\".\n"
        + display(r"PE_{(pos, 2i)} = \sin(pos\, \omega_i), \qquad PE_{(pos, 2i+1)} = \cos(pos\, \omega_i), "
                  r"\qquad \omega_i = \text{base}^{-2i/d_\text{model}}"),
        "## The proof, exactly\n\n"
        "Take one frequency $\\omega$. The angle-addition formulas, expanded and simplified by SymPy with "
        "symbolic $pos$, $k$ and $\\omega$, give\n"
        + display(rf"\begin{{bmatrix}} \sin((pos + k)\omega) \\ \cos((pos + k)\omega) \end{{bmatrix}} = "
                  rf"{sp.latex(R)} \begin{{bmatrix}} \sin(pos\,\omega) \\ \cos(pos\,\omega) \end{{bmatrix}}")
        + "\nso $PE_{pos+k} = M_k\\, PE_{pos}$ with $M_k$ block-diagonal, one rotation by $k \\omega_i$ per "
        "frequency. $M_k$ depends on $k$ and not on $pos$; each block satisfies $R^\\top R = I$.\n",
        "## The check, numerically\n\n"
        f"With $d_\\text{{model}} = {d_model}$ and base {base:g}, over positions 0 to {n - 1}: the largest "
        f"difference between $PE_{{pos+k}}$ and $M_k PE_{{pos}}$ is {worst:.1e} (offsets {offsets}).\n\n"
        + image("figures/encodings.svg", "the positional encodings",
                f"Figure 1. PE(pos) for positions 0..{n - 1} (x) and the {d_model} dimensions (y): fast rotations "
                "in the first dimensions, slow ones in the last.") + "\n",
    ]
    intro = ("*Reproduces* the claim of \"Attention Is All You Need\" §3.5 that a fixed offset acts linearly on "
             "the sinusoidal encoding, read through the paper lab `001_8c65d19d1d0c4e45.txt`.")
    return LabResult("positional_encoding", TITLE, intro, sections, claims, values, {"encodings.svg": figure}, [])


# Exercises: graded by pytest (python -m labs.exercises positional_encoding)

LAB = "positional_encoding"
k, w = sp.symbols("k w")

EXERCISES = [
    Exercise(LAB, "rotation", "For one frequency w and an offset k, (sin((p + k) w), cos((p + k) w)) = "
             "R (sin(p w), cos(p w)) for every position p. Give the 2 x 2 matrix R, in k and w.",
             exact(sp.Matrix([[sp.cos(k * w), sp.sin(k * w)], [-sp.sin(k * w), sp.cos(k * w)]]), "R"),
             "[[cos(k*w), sin(k*w)], [-sin(k*w), cos(k*w)]]",
             also=("[[cos(w*k), sin(w*k)], [sin(-k*w), cos(-k*w)]]",),
             wrong={"[[cos(k*w), -sin(k*w)], [sin(k*w), cos(k*w)]]": "not right", "[[1, 0], [0, 1]]": "not right"},
             symbols=("k", "w"), hint="expand sin(a + b) and cos(a + b).", points=2, source="AIAYN §3.5"),
    Exercise(LAB, "frequency", "With d_model = 4 and base 10000, what is the frequency w_1 = base^(-2/d_model) of the "
             "second pair of dimensions?", exact(sp.Rational(1, 100), "w_1"), "1/100", also=("10000^(-1/2)",),
             wrong={"1/10000": "not right"}, source="AIAYN §3.5"),
]
