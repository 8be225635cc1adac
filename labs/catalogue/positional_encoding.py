"""Lab ``positional_encoding``: for any fixed offset k, PE(pos + k) is a linear function of PE(pos) (AIAYN §3.5).

PE(pos, 2i) = sin(pos w_i), PE(pos, 2i + 1) = cos(pos w_i), w_i = base^(-2i / d_model).
The lab solves, with SymPy, for the linear map that takes one block of channels at two
positions to the same block k positions later, and checks it at every symbolic position:
for a (sin, cos) pair sharing one frequency it is the rotation R(k w), free of pos.
Numerically, a least-squares map is fitted block by block over the configured positions,
and compared with R(k w_i). Two variants that break the claim are inputs here: a
different frequency for the sine and the cosine of a pair (``lab.frequencies=per_dimension``,
a common slip) and an odd d_model (the last sine has no cosine). The wavelengths are read
back from the encoding itself. The paper's formula counts pos, i and the dimensions from 0;
the report numbers tokens and dimensions from 1 (token t sits at pos = t - 1).
"""

import functools
from dataclasses import dataclass, field
from typing import Any, List

import numpy as np
import sympy as sp

from vecmix import VecmixError

from ..claims import Claim, inputs
from ..config.inputs import read_number, read_positive_int
from ..config.resources import FLOAT, check_memory, progress
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import column, display, error_text, image, matrix, tex

TITLE = "Positional encoding: a fixed offset is a rotation"
SOURCE = "AIAYN §3.5"
FREQUENCIES = ("per_pair", "per_dimension")
TOLERANCE = 1e-9
END_TOLERANCE = 1 / 20  # the last wavelength within 5% of 10000 * 2 pi: the formula's last is 2 pi base^(1 - 2/d_model)
FLOOR = 1e-10  # numeric errors below this are reported as "below 1e-10", the same on every machine
pos, k = sp.symbols("pos k", real=True)
w, w2 = sp.symbols("omega nu", positive=True)  # nu: the cosine's frequency when it is not the sine's


@dataclass
class Config:
    """positional_encoding: PE(pos + k) = M_k PE(pos) (AIAYN §3.5)."""

    name: str = "positional_encoding"
    d_model: int = 512
    base: Any = 10000
    positions: int = 128  # positions 0..positions-1 checked and drawn
    offsets: List[int] = field(default_factory=lambda: [1, 5, 50])
    frequencies: str = "per_pair"  # sin and cos of pair i share w_i (the paper), or "per_dimension": base^(-j/d_model)


def frequencies(d_model, base, per="per_pair"):
    """w_j of every dimension j: base^(-2i/d_model) for both dimensions of pair i, or base^(-j/d_model) per dimension.

    >>> frequencies(4, 10000.0).tolist(), frequencies(4, 10000.0, "per_dimension").tolist()
    ([1.0, 1.0, 0.01, 0.01], [1.0, 0.1, 0.01, 0.001])
    """
    j = np.arange(d_model)
    exponent = j - j % 2 if per == "per_pair" else j
    return float(base) ** (-exponent / d_model)  # (d_model,)


def encoding(positions, d_model, base, per="per_pair"):
    """PE for the given positions: (len(positions), d_model), sines in even dimensions, cosines in odd ones.

    >>> encoding(np.array([0]), 4, 10000.0).tolist()
    [[0.0, 1.0, 0.0, 1.0]]
    """
    angles = np.outer(positions, frequencies(d_model, base, per))  # (n, d_model)
    return np.where(np.arange(d_model) % 2 == 0, np.sin(angles), np.cos(angles))


def blocks(d_model):
    """The blocks of dimensions a shift could map to themselves: pairs (2i, 2i+1), a lone last sine if d_model is odd.

    >>> blocks(5)
    [[0, 1], [2, 3], [4]]
    """
    return [list(range(j, min(j + 2, d_model))) for j in range(0, d_model, 2)]


def solved_shift(channels, size):
    """(M, residual, det P): M solved from positions 1..size so that M g(p) = g(p + k) there; residual =
    g(pos + k) - M g(pos); det P the determinant of the positions solved at, which the solve needs to be nonzero.

    A residual that is not 0 at one rational point is not 0 (and is left as it is); otherwise
    SymPy expands and simplifies it, and M, to show that they are exactly 0 and R(k w).

    >>> M, residual, det = solved_shift(lambda p: sp.Matrix([sp.sin(p * w), sp.cos(p * w)]), 2)
    >>> M, residual.T, det
    (Matrix([
    [ cos(k*omega), sin(k*omega)],
    [-sin(k*omega), cos(k*omega)]]), Matrix([[0, 0]]), -sin(omega))
    """
    P = sp.Matrix.hstack(*[channels(p) for p in range(1, size + 1)])  # (size, size): g at positions 1..size
    P_k = sp.Matrix.hstack(*[channels(p + k) for p in range(1, size + 1)])  # the same positions shifted by k
    M = P_k * P.inv()  # (size, size)
    residual = channels(pos + k) - M * channels(pos)  # (size, 1)
    det = sp.simplify(sp.expand_trig(P.det()))
    if _at_a_point(residual)[1] != "0":
        return M, residual, det
    simplified = lambda e: sp.simplify(sp.expand_trig(e))  # noqa: E731
    return M.applyfunc(simplified), residual.applyfunc(simplified), det


def rotation_parts(M):
    """(c, J) with M = c I + sin(k w) J, c = cos(k w): J = (M - c I) / sin(k w), simplified.

    J is antisymmetric (J^T = -J), so g^T J g = 0 for every g, and g^T M g = c |g|^2.

    >>> rotation_parts(sp.Matrix([[sp.cos(k * w), sp.sin(k * w)], [-sp.sin(k * w), sp.cos(k * w)]]))
    (cos(k*omega), Matrix([
    [ 0, 1],
    [-1, 0]]))
    """
    c = sp.cos(k * w)
    return c, ((M - c * sp.eye(M.rows)) / sp.sin(k * w)).applyfunc(sp.simplify)


KINDS = {  # name: (channels g(p) in SymPy, size)
    "a (sin, cos) pair sharing w": (lambda p: sp.Matrix([sp.sin(p * w), sp.cos(p * w)]), 2),
    "a (sin, cos) pair with frequencies w, nu": (lambda p: sp.Matrix([sp.sin(p * w), sp.cos(p * w2)]), 2),
    "the lone last sine": (lambda p: sp.Matrix([sp.sin(p * w)]), 1),
}


def kinds(d_model, per):
    """The kinds of block the encoding has, as names of :data:`KINDS`.

    >>> kinds(5, "per_pair")
    ['a (sin, cos) pair sharing w', 'the lone last sine']
    """
    pair = "a (sin, cos) pair sharing w" if per == "per_pair" else "a (sin, cos) pair with frequencies w, nu"
    return ([pair] if d_model > 1 else []) + (["the lone last sine"] if d_model % 2 else [])


@functools.lru_cache(maxsize=None)
def solved_kind(name):
    """:func:`solved_shift` of one kind of block: symbolic, the same for every config, so solved once."""
    return solved_shift(*KINDS[name])


def run(params):
    """Solve the shift map exactly, fit it numerically, and check dot products and wavelengths.

    >>> run({"d_model": 1024, "base": 10000, "positions": 50, "offsets": [1, 7], "frequencies": "per_pair"}).reproduced
    True
    """
    d_model = read_positive_int(params["d_model"], "lab.d_model", maximum=4096, reason="each offset's exact dot "
                                "product sums d_model/2 cosines to 30 digits; this size takes about 10 seconds")
    base = read_number(params["base"], "lab.base")
    if not base > 1:
        raise VecmixError(f"lab.base = {params['base']!r} must be a number larger than 1")
    n = read_positive_int(params["positions"], "lab.positions")
    offsets = [read_positive_int(step, f"lab.offsets[{j + 1}]") for j, step in enumerate(params["offsets"])]
    if not offsets:
        raise VecmixError("lab.offsets is empty: give at least one offset k, such as [1, 5, 50]")
    per = params.get("frequencies", "per_pair")
    if per not in FREQUENCIES:
        raise VecmixError(f"lab.frequencies = {per!r} must be one of: {', '.join(FREQUENCIES)}")
    check_memory(LAB, (FLOAT * 6 * n * d_model, {"lab.positions": n, "lab.d_model": d_model}))  # PE, PE(pos + k)

    solved = [(name, *solved_kind(name)) for name in kinds(d_model, per)]
    misses = [(name, _at_a_point(residual)) for name, _, residual, _ in solved if any(e != 0 for e in residual)]
    undecided = [name for name, (_, value) in misses if value == "0"]  # 0 at the point, yet not simplified to 0

    positions = np.arange(n)  # pos = 0..n-1: tokens 1..n
    pe = encoding(positions, d_model, float(base), per)  # (n, d_model)
    omega = frequencies(d_model, float(base), per)  # (d_model,)
    fit_err, rotation_err, spread, formula_err, compared = 0.0, 0.0, 0.0, 0.0, 0
    shown = _shown_pair(omega, offsets[0]) if d_model > 1 else None  # the pair drawn turning, at the first offset
    shown_map = None  # its fitted map, (2, 2)
    for step in progress(offsets, "positional_encoding: offsets"):
        shifted = encoding(positions + step, d_model, float(base), per)  # (n, d_model): PE(pos + k)
        for b in blocks(d_model):
            P, P_k = pe[:, b], shifted[:, b]  # (n, size) each: the block at pos and at pos + k
            M_t = np.linalg.lstsq(P, P_k, rcond=None)[0]  # (size, size): P M^T ~ P_k, the best linear map
            if step == offsets[0] and shown is not None and b[0] == 2 * shown:
                shown_map = M_t
            fit_err = max(fit_err, float(np.max(np.abs(P @ M_t - P_k))))  # (n, size) @ (size, size)
            if len(b) == 2 and omega[b[0]] == omega[b[1]]:
                c, s = np.cos(step * omega[b[0]]), np.sin(step * omega[b[0]])
                rotation_err = max(rotation_err, float(np.max(np.abs(M_t.T - [[c, s], [-s, c]]))))
                compared += 1
        dots = np.einsum("pj,pj->p", pe, shifted)  # (n,): PE(pos) . PE(pos + k) for every pos
        exact_dot = float(sp.Add(*[sp.cos(step * base ** sp.Rational(-2 * i, d_model))
                                   for i in range(d_model // 2)]).evalf(30))  # sum_i cos(k w_i)
        spread = max(spread, float(dots.max() - dots.min()))
        formula_err = max(formula_err, float(np.max(np.abs(dots - exact_dot))))
    wavelengths = _wavelengths(encoding(np.array([1]), d_model, float(base), per)[0])

    claims = [
        Claim("shift-map", "for every kind of block of the encoding, the linear map solved from two positions takes "
              "it from pos to pos + k at every position (symbolic pos and k; symbolic w with sin w != 0, which every "
              "w_i in (0, 1] has): for a (sin, cos) pair it is R(k w), free of pos", SOURCE, "residual 0; M = R(k w)",
              "; ".join(f"{name}: M = {sp.sstr(M.tolist())}, residual {sp.sstr(list(residual))}"
                        for name, M, residual, _ in solved if not misses)
              or "; ".join(f"{name}: residual at {where} is {value} (not 0)" for name, (where, value) in misses
                           if name not in undecided)
              or f"{', '.join(undecided)}: the residual did not simplify to 0",
              not misses, True),
        Claim("numeric", f"at d_model = {d_model}, base = {sp.sstr(base)}: for tokens 1..{n} (pos = 0..{n - 1}) and "
              f"offsets {offsets}, each block at pos + k is a linear map of the block at pos (fitted by least "
              "squares), and the fitted map of a pair is R(k w_i)", "vecmix (numeric = exact)",
              f"fit and rotation errors <= {TOLERANCE:g}",
              f"largest fit error {error_text(fit_err, FLOOR)}; " + (
                  f"largest difference from R(k w_i) {error_text(rotation_err, FLOOR)}" if compared else
                  "no pair shares one frequency, so there is no R(k w_i) to compare with"),
              fit_err <= TOLERANCE and rotation_err <= TOLERANCE and compared > 0, False),
        Claim("dot-product", "PE(pos) . PE(pos + k) is the same at every position and equals sum_i cos(k w_i) "
              "(evaluated exactly): the encodings' dot products see the offset, not the position",
              "follows from AIAYN §3.5", f"spread and difference <= {TOLERANCE:g}",
              f"largest spread over positions {error_text(spread, FLOOR)}; "
              f"largest difference from sum_i cos(k w_i) {error_text(formula_err, FLOOR)}",
              spread <= TOLERANCE and formula_err <= TOLERANCE, False),
        Claim("wavelengths", "the wavelengths 2 pi / w_i, read from the encoding (w_i = arcsin PE(pos = 1, sine "
              "dimension i)), form a geometric progression from 2 pi to 10000 * 2 pi", SOURCE,
              f"the first 2 pi; equal ratios (within {TOLERANCE:g}); the last within "
              f"{END_TOLERANCE:.0%} of 10000 * 2 pi", wavelengths["observed"], wavelengths["holds"], False),
    ]
    figures = {"encodings.svg": fig.image_panels([
        ("sine of pair i", pe[:, 0::2].T, (1, (d_model + 1) // 2)),  # (ceil(d_model / 2), n): dimensions 1, 3, ...
        ("cosine of pair i", pe[:, 1::2].T, (1, d_model // 2))],  # (floor(d_model / 2), n): dimensions 2, 4, ...
        "token t (pos = t - 1)", (1, n), "PE(pos): the sines of the pairs above, their cosines below")}
    if shown is not None:
        figures["rotation.svg"] = _rotation_figure(d_model, float(base), per, offsets[0], shown, shown_map, n)
    values = [Value("offsets", offsets), Value("fit_error", error_text(fit_err, FLOOR)),
              Value("rotation_error", error_text(rotation_err, FLOOR)),
              Value("dot_product_spread", error_text(spread, FLOOR)),
              Value("wavelengths_over_2_pi", wavelengths["range"]),
              *[Value(f"shift_map_{i + 1}", None, M) for i, (_, M, _, _) in enumerate(solved)]]
    sections = _sections(d_model, base, per, n, offsets, solved, misses, (fit_err, rotation_err, compared, spread),
                         wavelengths, shown)
    intro = ("*Reproduces* the claim of \"Attention Is All You Need\" §3.5 that a fixed offset acts linearly on "
             "the sinusoidal encoding, and its wavelengths.")
    deviations = [f"Numeric errors below {FLOOR:g} are reported as such: their last digits differ between machines.",
                  ("Tokens and dimensions are numbered from 1 in this report; the paper's formula counts pos, i and "
                   "the dimensions from 0.")]
    if per == "per_dimension":
        deviations.append("Each dimension has its own frequency base^(-j/d_model) here (lab.frequencies="
                          "per_dimension), not the paper's base^(-2i/d_model) shared by a pair.")
    if d_model % 2:
        deviations.append(f"d_model = {d_model} is odd: the paper's formula leaves the last sine without a cosine.")
    return LabResult("positional_encoding", TITLE, intro, sections, claims, values, figures, deviations)


def _shown_pair(omega, step):
    """The pair (counted from 0) drawn turning: the fastest whose turn k w_i is at most 60 degrees, else the slowest.

    >>> _shown_pair(frequencies(8, 10000.0), 1), _shown_pair(frequencies(8, 10000.0), 10 ** 6)
    (0, 3)
    """
    turns = step * omega[0::2][: len(omega) // 2]  # (d_model // 2,): k w_i of each full pair
    small = np.flatnonzero(turns <= np.pi / 3)
    return int(small[0]) if small.size else len(turns) - 1


def _rotation_figure(d_model, base, per, step, pair, M_t, n):
    """One pair at positions 0, k, 2k, ... (up to 6 turns, among the positions checked where there are enough),
    each turned by R(k w) towards the next, with the fitted map M applied to it."""
    turns = max(1, min(6, (n - 1) // step))
    at = step * np.arange(turns + 1)  # positions 0, k, ..., turns * k
    G = encoding(at, d_model, base, per)[:, [2 * pair, 2 * pair + 1]]  # (turns + 1, 2): (sin, cos) of the pair
    angle = step * frequencies(d_model, base, per)[2 * pair]
    return fig.rotation_figure(G, G[:-1] @ M_t, angle, [f"pos {p}" for p in at],  # (turns, 2) @ (2, 2)
                               f"pair {pair + 1} (dimensions {2 * pair + 1}, {2 * pair + 2}), k = {step}: "
                               f"k ω = {angle:.3f} rad ({np.degrees(angle):.1f}°)")


def _at_a_point(residual):
    """(where, how far from 0) for a residual at one point (an integer position): above 1e-20 proves it is not 0."""
    point = {pos: 3, k: 1, w: sp.Rational(1, 2), w2: sp.Rational(1, 3)}  # position 3: past the two it was solved at
    value = max(abs(e.subs(point).evalf(30)) for e in residual)
    where = ", ".join(f"{s} = {v}" for s, v in point.items() if any(s in e.free_symbols for e in residual))
    return where, f"{float(value):.3g}" if value > 1e-20 else "0"


def _wavelengths(pe_at_1):
    """{'observed', 'holds', 'range'}: the wavelengths of the encoding, read from its sines at pos = 1.

    A sine dimension holds sin(1 * w) there, and every w = base^(-j/d_model) lies in (0, 1], below
    pi/2, so arcsin gives w back. The wavelengths 2 pi / w (divided by 2 pi below) must start at 1,
    grow by one ratio, and end within END_TOLERANCE of 10000. Printed to 6 digits at most: their
    last bits come from libm's sin and arcsin.

    >>> _wavelengths(np.sin([1.0, 0.0, 0.1, 0.0, 0.01]))["holds"], _wavelengths(np.sin([1.0, 0.0]))["observed"]
    (False, 'a single wavelength, 2 pi * 1: no progression')
    """
    lengths = 1 / np.arcsin(pe_at_1[0::2])  # (ceil(d_model / 2),): wavelength / (2 pi) of each sine dimension
    first, last = float(lengths[0]), float(lengths[-1])
    if len(lengths) == 1:
        return {"observed": f"a single wavelength, 2 pi * {first:.6g}: no progression", "holds": False,
                "range": [float(f"{first:.6g}")]}
    ratios = lengths[1:] / lengths[:-1]  # (ceil(d_model / 2) - 1,)
    uneven = float(ratios.max() / ratios.min() - 1)
    holds = abs(first - 1) <= TOLERANCE and uneven <= TOLERANCE and abs(last / 10000 - 1) <= END_TOLERANCE
    observed = (f"{len(lengths)} wavelengths from 2 pi * {first:.6g} to 2 pi * {last:.6g} ({last / 10000:.3f} of "
                f"10000 * 2 pi); ratios {float(ratios.min()):.6g} to {float(ratios.max()):.6g}")
    return {"observed": observed, "holds": holds, "range": [float(f"{first:.6g}"), float(f"{last:.6g}")]}


def _sections(d_model, base, per, n, offsets, solved, misses, errors, wavelengths, shown):
    fit_err, rotation_err, compared, spread = errors
    shared = per == "per_pair"
    failed = {name for name, _ in misses}
    maps = "".join(
        display(rf"\text{{{name}}}: \quad M = {matrix(M)}, \qquad g(pos + k) - M g(pos) = {column(residual)}, "
                rf"\qquad \det P = {tex(det)}")
        for name, M, residual, det in solved if name not in failed)
    if not misses:
        c, J = rotation_parts(next(M for _, M, _, _ in solved))
        proof = ("So $PE_{pos+k} = M_k PE_{pos}$ with $M_k$ block-diagonal, one block $R(k \\omega_i)$ per pair: it "
                 "depends on $k$ and not on $pos$. ($R(k\\omega)$ turns the point $(\\sin, \\cos)$ clockwise by "
                 "$k\\omega$, a rotation by $-k\\omega$ in the usual orientation.) For the dot products, write "
                 + f"$R(k\\omega) = {tex(c)} I + \\sin(k \\omega) J$ with $J = {matrix(J)}$: $J^\\top = -J$, so "
                 "$g^\\top J g = 0$ for every $g$, and each pair has "
                 "$\\lVert g_i(pos) \\rVert^2 = \\sin^2 + \\cos^2 = 1$; "
                 "hence $g_i(pos)^\\top R g_i(pos) = \\cos(k \\omega_i)$ and "
                 "$PE_{pos} \\cdot PE_{pos+k} = \\sum_i \\cos(k \\omega_i)$ whatever $pos$ is. ($R^\\top R = I$ alone "
                 "would not do: the reflection $\\operatorname{diag}(1, -1)$ has it too, and gives "
                 "$\\sin^2 - \\cos^2 = -\\cos(2 pos\\, \\omega)$, which depends on $pos$.)")
    else:
        proof = ("Some residual is not 0 ("
                 + "; ".join(f"{name}: {value} at {where}" for name, (where, value) in misses)
                 + "): the map that shifts the positions it was solved at (1 and 2, or 1 for a lone channel) misses "
                 "at position 3, so no block-wise linear map (one map per block) takes $PE_{pos}$ to $PE_{pos+k}$ "
                 "at every position. Over all integer positions no map mixing the blocks does either: the shifted "
                 "channel needs the sinusoid its block lacks, and sinusoids of distinct frequencies in $(0, 1]$ are "
                 "linearly independent functions of $pos$. (On finitely many positions a map mixing many blocks can "
                 "still fit them.)")
    formula = (r"PE_{(pos, 2i)} = \sin(pos \cdot \omega_i), \qquad PE_{(pos, 2i+1)} = \cos(pos \cdot \omega_i), \qquad "
               r"\omega_i = \text{base}^{-2i/d_\text{model}}" if shared else
               r"PE_{(pos, j)} = \sin \text{ or } \cos(pos \cdot \omega_j), \qquad "
               r"\omega_j = \text{base}^{-j/d_\text{model}} \quad \text{(per dimension: not the paper's)}")
    return [
        "## The claim\n\n"
        "The paper chose sinusoids \"because we hypothesized it would allow the model to easily learn to attend "
        "by relative positions, since for any fixed offset $k$, $PE_{pos+k}$ can be represented as a linear "
        "function of $PE_{pos}$\"; the wavelengths \"form a geometric progression from $2\\pi$ to "
        "$10000 \\cdot 2\\pi$\". The paper's formula counts from 0 ($pos = 0, 1, \\dots$; dimensions $2i$ and "
        "$2i + 1$ for $i = 0, 1, \\dots$). This report numbers tokens and dimensions from 1: token $t$ sits at "
        "$pos = t - 1$, and the paper's dimensions $2i$, $2i + 1$ are dimensions $2i + 1$ (the sine) and $2i + 2$ "
        "(the cosine) here.\n" + display(formula),
        "## The map, solved exactly\n\n"
        "Take one block of channels $g(p)$ (a sine and a cosine, or a lone sine when $d_\\text{model}$ is odd). SymPy "
        "solves for the matrix $M$ with $M g(p) = g(p + k)$ at the positions $p = 1, 2$ (one position for a single "
        "channel), which needs the matrix $P$ of those positions to be invertible: $\\det P = -\\sin \\omega$ for a "
        "pair sharing $\\omega$, nonzero for every $\\omega_i \\in (0, 1]$. It then expands and simplifies "
        "$g(pos + k) - M g(pos)$ for a symbolic $pos$:\n" + maps + "\n" + proof + "\n",
        "## The check, numerically\n\n"
        f"With $d_\\text{{model}} = {d_model}$ and base {sp.sstr(base)}, over tokens 1 to {n} ($pos = 0$ to {n - 1}) "
        f"and offsets {offsets}: the best linear map of each block at $pos$ onto the same block at $pos + k$ (least "
        f"squares) misses by {error_text(fit_err, FLOOR)} at most, and "
        + (f"the map of each pair differs from $R(k \\omega_i)$ by {error_text(rotation_err, FLOOR)}" if compared else
           "no pair shares one frequency, so there is no $R(k \\omega_i)$ to compare with")
        + f". The dot products $PE_{{pos}} \\cdot PE_{{pos+k}}$ vary over the positions "
        f"by {error_text(spread, FLOOR)}.\n\n"
        "Each sine dimension holds $\\sin \\omega$ at $pos = 1$, and every $\\omega$ lies in $(0, 1]$, so "
        f"$\\arcsin$ reads the frequencies back from the encoding: {wavelengths['observed']}. The paper's \"to "
        "$10000 \\cdot 2\\pi$\" is rounded: for an even $d_\\text{model}$ the slowest pair has "
        "$\\omega = \\text{base}^{-(d_\\text{model} - 2)/d_\\text{model}}$, a wavelength "
        "$2\\pi \\cdot \\text{base}^{1 - 2/d_\\text{model}}$, which approaches $\\text{base} \\cdot 2\\pi$ as "
        f"$d_\\text{{model}}$ grows (the claim allows {END_TOLERANCE:.0%}).\n\n"
        + image("figures/encodings.svg", "the positional encodings",
                f"Figure 1. PE for tokens 1..{n} (x; pos = 0..{n - 1}): above, the sine of each pair (dimensions 1, "
                "3, 5, ...); below, its cosine (dimensions 2, 4, 6, ...). Fast turns in the first pairs, slow ones "
                "in the last.") + "\n"
        + ("" if shown is None else "\n" + image(
            "figures/rotation.svg", "one pair turned by a fixed offset",
            f"Figure 2. Pair {shown + 1} (dimensions {2 * shown + 1} and {2 * shown + 2}) as the point "
            f"(sin pos w, cos pos w) at positions 0, {offsets[0]}, {2 * offsets[0]}, ...; each arc is the rotation "
            f"R(k w) for k = {offsets[0]}, the same for every position, and the crosses are the map fitted by least "
            "squares applied to the point before. Where they land on the next point, the fitted map is that "
            "rotation.") + "\n"),
    ]

COUNTER_CASES = {
    "shift-map": inputs("the sine and the cosine of a pair at different frequencies", "lab.frequencies=per_dimension"),
    "numeric": inputs("an odd d_model: the last sine has no cosine partner", "lab.d_model=511"),
    "dot-product": inputs("the sine and the cosine of a pair at different frequencies",
                          "lab.frequencies=per_dimension"),
    "wavelengths": inputs("another base", "lab.base=100"),
}


# Exercises: graded by pytest (python -m labs.exercises positional_encoding)

LAB = "positional_encoding"
k_, w_ = sp.symbols("k w")

EXERCISES = [
    Exercise(LAB, "rotation", "For one frequency w and an offset k, (sin((p + k) w), cos((p + k) w)) = "
             "R (sin(p w), cos(p w)) for every position p. Give the 2 x 2 matrix R, in k and w.",
             exact(sp.Matrix([[sp.cos(k_ * w_), sp.sin(k_ * w_)], [-sp.sin(k_ * w_), sp.cos(k_ * w_)]]), "R"),
             "[[cos(k*w), sin(k*w)], [-sin(k*w), cos(k*w)]]",
             also=("[[cos(w*k), sin(w*k)], [sin(-k*w), cos(-k*w)]]",),
             wrong={"[[cos(k*w), -sin(k*w)], [sin(k*w), cos(k*w)]]": "not right", "[[1, 0], [0, 1]]": "not right"},
             symbols=("k", "w"), hint="expand sin(a + b) and cos(a + b).", points=2, source="AIAYN §3.5"),
    Exercise(LAB, "frequency", "With d_model = 4 and base 10000, what is the frequency w_1 = base^(-2/d_model) of the "
             "second pair (the paper's i = 1: dimensions 3 and 4, numbered from 1)?", exact(sp.Rational(1, 100), "w_1"),
             "1/100", also=("10000^(-1/2)", "0.01"),
             wrong={"1/10000": "not right"}, hint="the exponent is -2i/d_model with i = 1.", source="AIAYN §3.5"),
    Exercise(LAB, "dot_product", "Take d_model = 2 and base 10000, so PE(p) = (sin(p), cos(p)). Give PE(p) . PE(p + k) "
             "as an expression (it may use p and k).", exact(sp.cos(k_), "the dot product"), "cos(k)",
             also=("cos(-k)", "sin(p)*sin(p + k) + cos(p)*cos(p + k)"),
             wrong={"sin(k)": "not right", "1": "not right"}, symbols=("k", "p"),
             hint="cos(a - b) = cos a cos b + sin a sin b.", source="AIAYN §3.5"),
    Exercise(LAB, "reflection", "The reflection F = [[1, 0], [0, -1]] satisfies F^T F = I, like a rotation. For "
             "g(p) = (sin(p), cos(p)), give g(p)^T F g(p) as an expression in p.",
             exact(-sp.cos(2 * sp.Symbol("p")), "g(p)^T F g(p)"), "-cos(2*p)",
             also=("sin(p)**2 - cos(p)**2",), wrong={"1": "not right", "cos(0)": "not right"}, symbols=("p",),
             hint="F flips the sign of the cosine; then use cos(2p) = cos(p)^2 - sin(p)^2.", source="AIAYN §3.5"),
    Exercise(LAB, "lone_sine", "With d_model = 5, the formula gives dimensions 1..5 (the paper's 0..4). How many of "
             "them have no partner of the same frequency, so that no fixed linear map shifts them?",
             exact(1, "the number"), "1",
             also=("5 - 4",), wrong={"0": "not right", "2": "not right"},
             hint="a sine and a cosine share each frequency: count the sines left over.",
             source="AIAYN §3.5"),
]
