"""Lab ``missing_direction``: "if the value vectors miss an important direction, no weighting
scheme can create it from nothing" (000 §7).

Values in R^d that span a proper subspace, and a target t with a component off it. Each
kind of weights reaches a different set, and the lab finds exactly the point of each set
nearest to t:

* any weights (a linear combination): the span; the nearest point is the projection of t
  onto the span, at the distance numpy's least-squares residual measures;
* weights summing to 1 (an affine combination): the affine hull of the values;
* weights >= 0 summing to 1 (a convex combination): the convex hull, whose nearest point
  can be farther from t than the projection onto the span;
* softmax weights, always > 0: the relative interior of the hull. A nearest point there is
  an attention output; one on the relative boundary (a vertex, an end of a segment) is
  only approached as a limit, never reached.

Whatever the query, an attention output has no component along the missing direction.
"""

from dataclasses import dataclass
from typing import Any, List

import numpy as np
import sympy as sp
from omegaconf import MISSING

from vecmix import (
    VecmixError,
    attention,
    distance_to_span,
    eliminate,
    exact_attention,
    exact_softmax,
    in_hull,
    in_span,
    is_zero,
    one_fraction,
    solution_set,
    to_numeric,
)

from ..claims import Claim, fault, inputs
from ..config.inputs import check_pairs, check_query_size, read_vector, read_vectors
from ..grading import Exercise, exact, satisfies, vector, zero
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import cite, column, decimal, display, error_text, image, table, tex, tuple_tex, tuple_text
from ._geometry import (
    affine_dimension,
    checked_hull,
    is_nearest,
    nearest_in_hull,
    primitive,
    project_onto_affine_hull,
    project_onto_span,
    widest_weights,
)

TITLE = "A missing direction: what no weighting of the values can reach"
SOURCE = "000 §7"
TOLERANCE = 1e-12


@dataclass
class Config:
    """missing_direction: values spanning a proper subspace, a target off it, and attention outputs."""

    name: str = "missing_direction"
    values: List[List[Any]] = MISSING  # v_1..v_m in R^d, spanning less than R^d
    target: List[Any] = MISSING  # t, a vector with a component off their span
    keys: List[List[Any]] = MISSING  # k_1..k_m; d_k is their dimension, the scale 1/sqrt(d_k)
    queries: List[List[Any]] = MISSING  # several queries, one attention output each


def run(params):
    """Locate the target against the values' span and hull, and every attention output along the missing direction.

    >>> r = run({"values": [[1, 0, 1], [0, 1, 1], [2, -1, 1]], "target": [1, 1, 1],
    ...          "keys": [[1, 0], [0, 1], [1, 1]], "queries": [[1, 0], [0, 2]]})
    >>> r.reproduced, [v.to_json()["exact"] for v in r.values if v.name == "nearest_convex"]
    (True, [['1/2', '1/2', '1']])
    """
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    t = read_vector(params["target"], "lab.target")  # (d, 1)
    K = read_vectors(params["keys"], "lab.keys")  # (m, d_k)
    Q = read_vectors(params["queries"], "lab.queries")  # (n_q, d_k)
    m, d = V.shape
    if t.rows != d:
        raise VecmixError(f"lab.target has {t.rows} numbers but the values in lab.values live in R^{d}")
    check_pairs(K, V)
    check_query_size(Q.cols, K, query="each of lab.queries")

    # The span: vecmix's elimination, its missing directions checked against the values here.
    elim = eliminate(V)
    normals = [primitive(c) for c in elim.complement]  # each (d, 1), integer entries
    w = sp.Matrix(sp.symbols(f"w_1:{m + 1}"))  # any weights at all (m, 1)
    generic = [sp.expand((n.T * V.T * w)[0]) for n in normals]  # (1, d) (d, m) (m, 1) -> (1, 1)
    reachable = in_span(V, t, elim)
    p_lin = project_onto_span(V, t)  # the best linear combination (d, 1)
    d_lin2 = _squared(t - p_lin)
    distance = distance_to_span(V, t)
    orthogonal = all(x == 0 for x in V * (t - p_lin))  # (m, d) (d, 1): t - p is orthogonal to every value
    V_num, t_num = to_numeric(V), to_numeric(t).ravel()  # (m, d), (d,)
    c_ls, *_ = np.linalg.lstsq(V_num.T, t_num, rcond=None)  # argmin |V^T c - t|, (m,)
    residual = float(np.linalg.norm(V_num.T @ c_ls - t_num))  # (d, m) @ (m,) -> (d,)
    ls_err = max(abs(residual - float(distance)), float(np.max(np.abs(V_num.T @ c_ls - to_numeric(p_lin).ravel()))))

    # The affine and the convex hull: the lab's exact nearest points, vecmix's membership tests.
    lifted = V.row_join(sp.ones(m, 1))  # (m, d + 1): rows (v_i, 1)
    p_aff = project_onto_affine_hull(V, t)  # the best affine combination (d, 1)
    lin_in_affine = in_span(lifted, p_lin.col_join(sp.Matrix([1])))
    lin_in_hull = in_hull(V, p_lin)[0]
    near = nearest_in_hull(V, t)  # the best convex combination
    p_conv, d_conv2 = near.point, near.distance_squared
    pythagoras = bool(d_conv2 == d_lin2 + _squared(p_lin - p_conv))  # the hull lies in the span; t - p_lin is normal
    conv_in_hull = in_hull(V, p_conv)[0]
    alpha_near = widest_weights(V, p_conv)  # (m, 1), positive exactly when attention reaches p_conv
    reached = all(bool(a > 0) for a in alpha_near)
    scores_near = [sp.log(a / min(alpha_near)) for a in alpha_near] if reached else None
    softmax_back = reached and all(is_zero(x - a) for x, a in zip(exact_softmax(scores_near), alpha_near))
    affine_deps = eliminate(lifted).null_space  # c with sum c_i v_i = 0 and sum c_i = 0

    # Attention: exact and numeric, both with the library's default scale 1/sqrt(d_k).
    Z, A = exact_attention(Q, K, V)  # (n_q, d), (n_q, m)
    Q_num, K_num = to_numeric(Q), to_numeric(K)  # (n_q, d_k), (m, d_k)
    Z_full, A_num = attention(Q_num, K_num, V_num, weights=True)  # (n_q, d), (n_q, m)
    Z_blocked = attention(Q_num, K_num, V_num)  # (n_q, d): the online softmax, no weights matrix
    num_err = max(float(np.max(np.abs(M - to_numeric(X)))) for M, X in ((Z_full, Z), (Z_blocked, Z), (A_num, A)))
    along = [[one_fraction((n.T * Z.row(i).T)[0]) for n in normals] for i in range(Q.rows)]  # (1, d) (d, 1)
    outputs_in_hull = [checked_hull(V, Z.row(i).T)[0] for i in range(Q.rows)]

    n_text = ", ".join(tuple_text(n) for n in normals)
    claims = [
        Claim("missing-direction", f"the {m} values span a proper subspace of R^{d}: a direction n orthogonal to "
              "every value exists, so n . (V^T w) = 0 for every weight vector w (symbols): no weighting creates it",
              SOURCE, f"rank < {d}; n . (V^T w) = 0 identically",
              f"rank {elim.rank}; n = {n_text}; n . (V^T w) = {sp.sstr(generic)}" if normals else
              f"rank {elim.rank}; no direction orthogonal to the values was found",
              elim.rank < d and bool(normals) and all(g == 0 for g in generic), True),
        Claim("unreachable", "no weights reach the target: t is not in the span of the values", SOURCE,
              "in_span(V, t) is false; the projection of t onto the span differs from t",
              f"in_span: {'yes' if reachable else 'no'}; |t - p|^2 = {sp.sstr(d_lin2)}",
              not reachable and d_lin2 != 0, True),
        Claim("best-linear", "the best linear combination is the projection p of t onto the span: t - p is "
              "orthogonal to every value, and |t - p| is vecmix's exact distance from t to the span", SOURCE,
              f"V (t - p) = 0, |t - p| = {sp.sstr(sp.sqrt(d_lin2))}",
              f"p = {tuple_text(p_lin)}; V (t - p) {'= 0' if orthogonal else '!= 0'}; distance_to_span = "
              f"{sp.sstr(distance)}", orthogonal and is_zero(sp.expand(distance ** 2 - d_lin2)), True),
        Claim("residual-is-distance", "numpy's least-squares solution reaches the same point p, and its residual "
              "equals the exact distance", SOURCE, f"difference <= {TOLERANCE:g}", error_text(ls_err),
              ls_err <= TOLERANCE, False),
        Claim("projection-not-a-mixture", "the best linear combination p is not an attention output: it is not even "
              "an affine combination of the values (weights summing to 1), let alone a convex one", "000 §7; 002 §5",
              "p outside the affine hull and outside the convex hull",
              f"in the affine hull: {'yes' if lin_in_affine else 'no'} (the nearest point of the affine hull is "
              f"{tuple_text(p_aff)}); in the convex hull: {'yes' if lin_in_hull else 'no'}",
              not lin_in_affine and not lin_in_hull and p_aff != p_lin, True),
        Claim("nearest-convex", "the best convex combination, the point of the hull nearest t, is farther from t "
              "than p: (t - h) . (v_i - h) <= 0 for every value, and |t - h|^2 = |t - p|^2 + |p - h|^2", "002 §5",
              "h in the hull, nearest to t, |t - h| > |t - p|",
              f"h = {tuple_text(p_conv)}, in the hull: {'yes' if conv_in_hull else 'no'}; nearest: "
              f"{'yes' if is_nearest(V, t, p_conv) else 'no'}; |t - h| = {sp.sstr(sp.sqrt(d_conv2))} vs |t - p| = "
              f"{sp.sstr(sp.sqrt(d_lin2))}",
              conv_in_hull and is_nearest(V, t, p_conv) and pythagoras and bool(d_conv2 > d_lin2), True),
        Claim("nearest-reached", "the nearest point h of the hull is itself an attention output: strictly positive "
              "weights reach it, and softmax of the scores ln(alpha_i / min alpha) gives exactly those weights",
              "002 §2", "alpha > 0, sum 1, V^T alpha = h, softmax(ln alpha) = alpha",
              (f"alpha = {tuple_text(alpha_near)}; softmax gives it back: {'yes' if softmax_back else 'no'}" if reached
               else f"only approached: every weight vector reaching h has alpha_i = 0 for i in "
               f"{[i + 1 for i, a in enumerate(alpha_near) if a == 0]}"),
              reached and softmax_back and V.T * alpha_near == p_conv, True),
        Claim("attention-outputs-miss-it", f"each of the {Q.rows} attention outputs has exactly zero component along "
              "every missing direction", "000 §5, §7", "n . z = 0 for every query",
              ("0 exactly for every query" if all(is_zero(x) for a in along for x in a) else "a nonzero component")
              if normals else "no missing direction to test",
              bool(normals) and all(is_zero(x) for a in along for x in a), True),
        Claim("attention-outputs-in-hull", f"each of the {Q.rows} attention outputs lies in the convex hull of the "
              "values (vecmix's exact hull test, its certificate checked here)", "002 §5",
              "inside, with weights >= 0 summing to 1 that reach z",
              f"{sum(outputs_in_hull)} of {Q.rows} inside with a valid certificate", all(outputs_in_hull), True),
        Claim("numeric-agrees", "numpy's attention (the full weights matrix and the blocked online softmax, both with "
              "the default scale) agrees with the exact outputs and weights", "vecmix (numeric = exact)",
              f"max difference <= {TOLERANCE:g}", error_text(num_err), num_err <= TOLERANCE, False),
    ]

    n_plot = normals[0] if normals else None
    figures = _figures(V_num, t_num, n_plot, to_numeric(Z), Q.rows, p_conv, affine_dimension(V))  # exact Z drawn
    values = [Value("values", V_num, V), Value("rank", elim.rank, sp.Integer(elim.rank)),
              Value("missing_directions", [to_numeric(n).ravel() for n in normals], normals),
              Value("target", t_num, t), Value("nearest_linear", to_numeric(p_lin).ravel(), p_lin),
              Value("distance_to_span", float(distance), distance),
              Value("least_squares_agreement", error_text(ls_err)),
              Value("nearest_affine", to_numeric(p_aff).ravel(), p_aff),
              Value("nearest_convex", to_numeric(p_conv).ravel(), p_conv),
              Value("distance_to_hull", float(sp.sqrt(d_conv2)), sp.sqrt(d_conv2)),
              Value("weights_reaching_nearest", to_numeric(alpha_near).ravel(), alpha_near),
              Value("keys", K_num, K), Value("queries", Q_num, Q), Value("d_k", K.cols, sp.Integer(K.cols)),
              Value("attention_outputs", to_numeric(Z), Z),  # the exact values, evaluated: no float noise
              Value("attention_weights", to_numeric(A), A)]
    parts = dict(V=V, t=t, K=K, Q=Q, Z=Z, A=A, Z_num=to_numeric(Z), elim=elim, normals=normals, p_lin=p_lin,
                 d_lin2=d_lin2, residual=residual, p_aff=p_aff, p_conv=p_conv, d_conv2=d_conv2, alpha_near=alpha_near,
                 scores_near=scores_near, affine_deps=affine_deps, along=along,
                 solvable=solution_set(V, t, elim).consistent)
    intro = f"*Reproduces* the failure mode \"no weighting scheme can create it from nothing\" of {cite('000', 7)}."
    return LabResult("missing_direction", TITLE, intro, _sections(parts), claims, values, figures, [
        "The source states the failure mode without numbers; the values, target, keys and queries are the lab's "
        "choice. The comparison of linear, affine, convex and softmax weights goes beyond the page, which speaks "
        "of \"no weighting scheme\" at once."])


def _squared(x):
    return (x.T * x)[0]  # (1, d) (d, 1) -> (1, 1)


def _flat(k):
    """A flat of dimension k, in words."""
    return {0: "a point", 1: "a line", 2: "a plane"}.get(k, f"a {k}-dimensional flat")


def _figures(V_num, t_num, n, Z_num, n_q, p_conv, affine_dim):
    P, _ = fig.projection(V_num)  # (2, d): lossless for values spanning at most a plane
    names = [fig.named("v", i + 1) for i in range(V_num.shape[0])]
    outputs = [("p", "t flattened onto the plane, the best linear combination", P @ t_num,  # (2, d) (d,) -> (2,)
                fig.OTHER_COLORS[0]),
               ("h", "the nearest point of the hull, the best convex combination", P @ to_numeric(p_conv).ravel(),
                fig.OTHER_COLORS[1])]
    outputs += [(fig.named("z", i + 1), f"attention output {i + 1}", P @ z, fig.ATTENTION_COLOR)
                for i, z in enumerate(Z_num)]
    figures = {"plane.svg": fig.mixture_figure(V_num @ P.T, names, outputs, affine_dim)}  # (m, d) (d, 2) -> (m, 2)
    if n is not None:
        unit = to_numeric(n).ravel() / float(np.linalg.norm(to_numeric(n).ravel()))  # (d,)
        labels = ["t"] + [fig.named("z", i + 1) for i in range(n_q)]
        components = [float(t_num @ unit)] + [float(z @ unit) for z in Z_num]  # (d,) @ (d,)
        figures["components.svg"] = fig.grouped_bars(labels, [("component along n", components, fig.OTHER_COLORS[0])], "n . x / |n|",
                                                      "component along the missing direction")
    return figures


def _sections(s):
    V, t, normals = s["V"], s["t"], s["normals"]
    m, d = V.shape
    values = r", \qquad ".join(f"v_{{{i + 1}}} = {column(V.row(i))}" for i in range(m))
    if normals:
        n = normals[0]
        named = (f"$n = {tuple_tex(n)}$" if len(normals) == 1 else
                 ", ".join(f"$n_{{{j + 1}}} = {tuple_tex(x)}$" for j, x in enumerate(normals)))
        missing = (f"They have rank {s['elim'].rank} in $\\mathbb{{R}}^{{{d}}}$: every one of them is orthogonal to "
                   f"{named}, so every mixture $V^\\top w$ is too, whatever the weights $w$. The target "
                   f"$t = {tuple_tex(t)}$ is not: $n \\cdot t = {tex((n.T * t)[0])}$"
                   + (" for $n = n_1$." if len(normals) > 1 else "."))
    else:
        missing = (f"They span all of $\\mathbb{{R}}^{{{d}}}$ (rank {s['elim'].rank}): no direction is missing, and "
                   "every target is reachable.")
    idea = ("## The idea\n\n"
            "Attention can only reweight the value vectors it is given. If they all lie in a plane, every mixture "
            "lies in that plane too: a direction the values miss cannot be created by any choice of weights. "
            + missing + "\n" + display(values))
    solvable = "has a solution" if s["solvable"] else "has no solution (exact elimination finds the inconsistent row)"
    linear = ("## The best linear combination\n\n"
              f"The system $V^\\top c = t$ {solvable}. With weights of any sign and size (a linear combination), the "
              "closest one can get to $t$ is its orthogonal projection onto the span, solved exactly from the normal "
              "equations:\n"
              + display(rf"p = {column(s['p_lin'])}, \qquad |t - p| = {tex(sp.sqrt(s['d_lin2']))} \approx "
                        rf"{decimal(float(sp.sqrt(s['d_lin2'])), 6)}")
              + f"\nnumpy's least-squares solution reaches the same point; its residual is "
              f"{decimal(s['residual'], 6)}.\n")
    return [idea, linear, _tiers(s), _reached(s), _attention(s)]


def _tiers(s):
    V, t, p_lin, p_aff, p_conv = s["V"], s["t"], s["p_lin"], s["p_aff"], s["p_conv"]
    deps = s["affine_deps"]
    if deps:
        relation = ", ".join(f"${tex(sp.Add(*(c[i] * sp.Symbol(f'v_{i + 1}') for i in range(V.rows))))} = 0$"
                             for c in deps)
        shape = (f"The values are affinely dependent ({relation}, coefficients summing to $0$), so their affine "
                 f"hull is {_flat(affine_dimension(V))}")
    else:
        shape = f"The values are affinely independent: their affine hull is {_flat(affine_dimension(V))}"
    dist = lambda x: f"${tex(sp.sqrt(_squared(t - x)))}$"  # noqa: E731
    k = affine_dimension(V)
    hull = {0: "a point", 1: "a segment", 2: "a polygon"}.get(k, f"a {k}-dimensional polytope")
    rows = [["any weights (linear)", f"the span: {_flat(s['elim'].rank)}", f"$p = {tuple_tex(p_lin)}$", dist(p_lin)],
            ["weights summing to 1 (affine)", f"the affine hull: {_flat(k)}", f"${tuple_tex(p_aff)}$", dist(p_aff)],
            ["weights $\\geq 0$ summing to 1 (convex)", f"the convex hull: {hull}", f"$h = {tuple_tex(p_conv)}$",
             dist(p_conv)]]
    return ("## Linear, affine, convex: three different bests\n\n"
            "Attention's weights are not arbitrary: softmax makes them positive and sum to one (002 §5), so an "
            "attention output is a convex combination of the values and lies in their convex hull. The projection "
            "$p$ is the best *linear* combination; the best an attention output could do is the point $h$ of the "
            f"convex hull nearest to $t$. {shape}.\n\n"
            + table(["weights", "reachable set", "nearest point to $t$", "distance"], rows)
            + "\n\nThe nearest point of the convex hull is found exactly: $t$ is projected onto the affine hull of "
            "every affinely independent subset of the values, and the nearest projection whose coordinates are all "
            "nonnegative is $h$. A certificate that checks it independently: $(t - h) \\cdot (v_i - h) \\leq 0$ for "
            "every value, so no point of the hull is closer. Because the hull lies in the span and $t - p$ is "
            "orthogonal to the span, the distances add like the sides of a right triangle:\n"
            + display(rf"|t - h|^2 = |t - p|^2 + |p - h|^2 = {tex(s['d_lin2'])} + {tex(_squared(p_lin - p_conv))} "
                      rf"= {tex(s['d_conv2'])}")
            + ("\nSo what the values miss costs twice here: the missing direction (no weights at all can cross it) "
               "and the part of their span that the hull does not cover (no attention output can leave the hull).\n"
               if s["d_conv2"] > s["d_lin2"] else
               "\nHere the hull contains $p$: an attention output can do as well as any linear combination, and only "
               "the missing direction is lost.\n"))


def _reached(s):
    alpha, scores = s["alpha_near"], s["scores_near"]
    head = ("## Reached, or only approached\n\n"
            "Softmax weights are strictly positive: $e^{s_i} > 0$ for every score. So attention outputs are the "
            "points of the hull with *all* weights positive, its relative interior; a point of the relative "
            "boundary (a vertex, an end of a segment, an edge of a polygon) needs some weight to be exactly $0$, "
            "and is only approached, as the scores of the values off that face fall towards $-\\infty$ relative to "
            "the others.\n\n")
    if scores is not None:
        return head + (
            "Here $h$ lies in the relative interior. Weights that reach it, all positive:\n"
            + display(rf"\alpha = {column(alpha)}, \qquad V^\top \alpha = {column(s['V'].T * alpha)} = h")
            + "\nand they are softmax weights: the scores $s_i = \\ln(\\alpha_i / \\min_j \\alpha_j) = "
            f"{tuple_tex(scores, fmt=lambda x: sp.latex(x, ln_notation=True))}$ give exactly "
            f"$\\operatorname{{softmax}}(s) = \\alpha$ (checked with vecmix's "
            "exact softmax). A query produces any scores at all when the keys are linearly independent (for "
            "example $k_i = e_i$ and $q = \\sqrt{d_k} s$), so $h$ is an attention output. The keys of a given "
            "layer restrict which scores its queries can produce; the statement here is about softmax weights, "
            "whatever produced the scores.\n")
    zero = ", ".join(f"$\\alpha_{{{i + 1}}}$" for i, a in enumerate(alpha) if a == 0)
    return head + (f"Here $h$ lies on the relative boundary: every weight vector that reaches it has {zero} "
                   "$= 0$. No attention output equals $h$; outputs come arbitrarily close as the scores of those "
                   "values fall, but never reach it.\n")


def _attention(s):
    V, K, Q, A, normals, along = s["V"], s["K"], s["Q"], s["A"], s["normals"], s["along"]
    d_k = K.cols
    keys = r", \qquad ".join(f"k_{{{i + 1}}} = {column(K.row(i))}" for i in range(K.rows))
    rows = []
    for i in range(Q.rows):
        smallest = min(A.row(i), key=lambda a: a.evalf(30))
        rows.append([i + 1, f"${tuple_tex(Q.row(i))}$", f"({', '.join(decimal(x) for x in s['Z_num'][i])})",
                     ", ".join(f"${tex(x)}$" for x in along[i]) if normals else "none",
                     sp.sstr(sp.N(smallest, 3))])
    n_col = "$n \\cdot z$ (exact)" if len(normals) <= 1 else "$n_j \\cdot z$ (exact)"
    components = (image("figures/components.svg", "components along the missing direction",
                        "Figure 1. The component along the missing direction n: the target has one, no attention "
                        "output does.") + "\n\n") if normals else ""
    _, note = fig.projection(to_numeric(V))
    return (
        "## Attention outputs never leave the plane\n\n"
        f"The keys live in $\\mathbb{{R}}^{{{d_k}}}$, so $d_k = {d_k}$ and every score is $s_i = q \\cdot k_i / "
        f"\\sqrt{{{d_k}}}$ (the library's default scale, used by both the exact and the numeric path):\n"
        + display(keys)
        + "\n" + table(["query", "$q$", "output $z$", n_col, "smallest weight"], rows)
        + "\n\nFor weights $w$ that are any symbols at all, $n \\cdot (V^\\top w)$ expands to exactly $0$: the "
        "identity holds for every weighting scheme, attention or not. Every output is also in the relative "
        "interior of the hull (its smallest weight is positive). A query whose scores single out one value pushes "
        "the output towards that value, within about the sum of the other weights: if that value is an end of the "
        "hull (a vertex), the output approaches the boundary without reaching it; if it is not (a value between "
        "others, as v_1 is here on the segment from v_2 to v_3), the output stays well inside.\n\n"
        + components
        + image("figures/plane.svg", "the plane of the values",
                "Figure 2. The plane of the values with their convex hull, the target flattened onto the plane "
                "(which is the best linear combination p), the nearest point h of the hull, and the attention "
                "outputs." + (f" {note}" if note else ""))
        + "\n")


# Exercises: graded by pytest (python -m labs.exercises missing_direction)

LAB = "missing_direction"
V_EX = sp.Matrix([[1, 0, 1], [0, 1, 1], [2, -1, 1]])
SETUP = "Values v1 = (1, 0, 1), v2 = (0, 1, 1), v3 = (2, -1, 1) in R^3; target t = (1, 1, 1)."

EXERCISES = [
    Exercise(LAB, "missing_direction", f"{SETUP}\nGive a nonzero direction n orthogonal to all three values.",
             satisfies(vector(3, "n"), (lambda n: not zero(n), "n must not be zero."),
                       (lambda n: zero(V_EX * n), "n is not orthogonal to every value.")),
             "[1, 1, -1]", also=("[-2, -2, 2]",), wrong={"[0, 0, 1]": "not orthogonal", "[0, 0, 0]": "not be zero"},
             hint="every value has x + y = z.", source="000 §7"),
    Exercise(LAB, "distance", f"{SETUP}\nHow far is t from the span of the values (the best any linear combination "
             "can do)? Exactly.",
             exact(sp.sqrt(3) / 3, "the distance"), "sqrt(3)/3", also=("1/sqrt(3)",),
             wrong={"0.577": "not exact", "1": "not right", "sqrt(2)/2": "not right"},
             hint="project t onto the missing direction.", points=2, source="000 §7"),
    Exercise(LAB, "nearest_mixture", f"{SETUP}\nNote v3 = 2 v1 - v2: the values lie on one line. Give the point of "
             "their convex hull nearest to t, the best that weights >= 0 summing to 1 (attention's) can do.",
             exact(sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2), 1]), "the point"), "[1/2, 1/2, 1]",
             also=("[0.5, 0.5, 1]",),
             wrong={"[2/3, 2/3, 4/3]": "not right", "[1, 0, 1]": "not right"},
             hint="the hull is the segment from v2 to v3; minimise |t - x|^2 along it.", points=2,
             source="000 §7; 002 §5"),
]

COUNTER_CASES = {
    "missing-direction": inputs("values that span all of R^3: no direction is missing",
                                "lab.values=[[1,0,1],[0,1,1],[0,0,1]]"),
    "unreachable": inputs("a target in the plane of the values", "lab.target=[1,1,2]"),
    "best-linear": fault("distance-squared"),
    "residual-is-distance": fault("complement-missing"),
    "projection-not-a-mixture": inputs("values whose triangle contains the projection of the target",
                                       "lab.values=[[1,0,1],[0,1,1],[2,2,4]]"),
    "nearest-convex": inputs("values whose triangle contains the projection of the target",
                             "lab.values=[[1,0,1],[0,1,1],[2,2,4]]"),
    "nearest-reached": inputs("a target whose nearest point of the hull is the end v_3 of the segment",
                              "lab.target=[3,-1,1]"),
    "attention-outputs-miss-it": fault("exact-mixes-keys", "lab.keys=[[1,0,0],[0,1,0],[0,0,1]]",
                                       "lab.queries=[[1,0,0],[0,1,0]]"),
    "attention-outputs-in-hull": fault("hull-one-basis"),
    "numeric-agrees": fault("scale-missing"),
}
