"""Figures of a mixture: values, their convex hull and the output; weights beside contributions.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI
backend) and saved as SVG with a fixed hash salt and no date, so their bytes depend
only on the numbers and the matplotlib version. Labels are plain Unicode text (v₁, αᵢ):
no mathtext, whose parser costs a noticeable part of a lab's start-up.
"""

import io

import numpy as np

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
HULL_COLOR = "#9ecae1"
OUTPUT_COLOR = "#222222"
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def new_figure(figsize):
    """A bare matplotlib Figure; matplotlib is imported here, when a lab first draws, not when it is imported."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def named(symbol, i):
    """A symbol with a numeric subscript, in Unicode.

    >>> named("v", 12), named("α", 3)
    ('v₁₂', 'α₃')
    """
    return f"{symbol}{str(i).translate(SUBSCRIPTS)}"


def projection(V):
    """A linear map R^d -> R^2 for drawing vectors in the plane, and a caption note naming it.

    d = 2 is drawn as it is; d = 1 on a line; d > 2 is projected onto the two leading
    right singular vectors of V (a linear map, so the projected hull is the hull of
    the projected values and the projected output stays inside it).

    >>> P, note = projection(np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> P.tolist(), note
    ([[1.0, 0.0], [0.0, 1.0]], '')
    """
    V = np.asarray(V, dtype=float)
    d = V.shape[1]
    if d == 1:
        return np.array([[1.0], [0.0]]), "The values are numbers, drawn on a line."
    if d == 2:
        return np.eye(2), ""
    _, sing, Wt = np.linalg.svd(V)  # V (m, d) = U diag(sing) Wt, Wt (d, d)
    P = Wt[:2].copy()  # (2, d): the two leading right singular vectors
    for row in P:  # fix the sign so the drawing does not flip between LAPACK builds
        row *= np.sign(row[np.argmax(np.abs(row))])
    rank = int(np.sum(sing > sing[0] * 1e-12)) if sing.size else 0
    kind = "it loses nothing, since the values span at most a plane" if rank <= 2 else (
        "a shadow: the other directions are flattened")
    return P, (f"The values live in R^{d}; this is a 2-D projection onto the two leading right "
               f"singular vectors of V ({kind}).")


def convex_hull(points):
    """Vertices of the convex hull of 2-D points, counter-clockwise (Andrew's monotone chain).

    >>> convex_hull(np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]])).tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    """
    pts = sorted(map(tuple, np.asarray(points, dtype=float)))
    pts = list(dict.fromkeys(pts))
    if len(pts) <= 2:
        return np.array(pts)

    def half(seq):
        chain = []
        for p in seq:
            while len(chain) >= 2 and _cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(reversed(pts))
    return np.array(lower[:-1] + upper[:-1])


MARKERS = ("*", "D", "s", "P", "X", "^", "v", "o")


def mixture_figure(Vp, names, outputs, affine_dim=None):
    """Value vectors as arrows from the origin, their convex hull drawn as what it is, and output points.

    ``Vp`` (m, 2) holds the values in the drawing plane, ``names`` their labels, and
    ``outputs`` a list of (label, point (2,)) drawn as distinct markers. The hull is a shaded
    region, a segment or a point according to ``affine_dim``, the dimension of the values'
    affine hull; a lab that knows it exactly passes it (collinear values projected in floating
    point are never exactly collinear, and their hull would be filled as a thin sliver),
    otherwise it is read from the drawn points.

    >>> f = mixture_figure(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), ["a", "b", "c"], [], 1)
    >>> [t.get_text() for t in f.axes[0].get_legend().get_texts()]
    ['convex hull of the values: a segment']
    >>> f = mixture_figure(np.eye(2), [named("v", 1), named("v", 2)], [("z", np.array([0.5, 0.5]))])
    >>> len(f.axes), svg_bytes(f)[:5]
    (1, b'<?xml')
    """
    rows = len(outputs) + 1  # legend entries, one per line below the axes
    height = 4.6 + 0.22 * rows
    fig = new_figure((5.6, height))
    ax = fig.add_subplot()
    Vp = np.asarray(Vp, dtype=float)
    if affine_dim is None:
        affine_dim = min(len(convex_hull(Vp)), 3) - 1  # 3 or more vertices: a region; 2: a segment; 1: a point
    if affine_dim >= 2:
        hull = convex_hull(Vp)
        ax.fill(hull[:, 0], hull[:, 1], color=HULL_COLOR, alpha=0.35, label="convex hull of the values (shaded)")
    elif affine_dim == 1:
        gaps = Vp[:, np.newaxis, :] - Vp[np.newaxis, :, :]  # (m, m, 2)
        i, j = np.unravel_index(np.argmax(np.sum(gaps ** 2, axis=2)), gaps.shape[:2])  # the two values farthest apart
        ax.plot(Vp[[i, j], 0], Vp[[i, j], 1], color=HULL_COLOR, lw=6, alpha=0.8, solid_capstyle="butt",
                label="convex hull of the values: a segment")
    else:
        ax.plot(*Vp[0], marker="o", markersize=16, color=HULL_COLOR, linestyle="none",
                label="convex hull of the values: one point")
    for i, (v, name) in enumerate(zip(Vp, names)):
        _arrow(ax, (0.0, 0.0), v, COLORS[i % len(COLORS)])
        ax.annotate(name, v, textcoords="offset points", xytext=(6, 4), color=COLORS[i % len(COLORS)], fontsize=12)
    for k, (label, point) in enumerate(outputs):
        ax.plot(*point, marker=MARKERS[k % len(MARKERS)], markersize=14 if k == 0 else 9, color=OUTPUT_COLOR,
                markerfacecolor=OUTPUT_COLOR if k == 0 else "white", linestyle="none", label=label)
    ax.plot(0, 0, marker="o", markersize=4, color="#555555", linestyle="none")
    _frame(ax, np.vstack([Vp, np.zeros((1, 2)), *[np.asarray(p)[None, :] for _, p in outputs]]))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=1, fontsize=9, frameon=False)
    fig.subplots_adjust(left=0.11, right=0.97, top=0.97, bottom=(0.35 + 0.2 * rows) / height)  # fixed: no text pass
    return fig


def paths_figure(Vp, names, paths, zp):
    """Several coefficient vectors, each drawn as its terms c_i v_i laid tip to tail, all ending at z.

    ``paths`` is a list of (label, coefficients (m,)); faint arrows show the values themselves.

    >>> f = paths_figure(np.eye(2), ["v₁", "v₂"], [("c", np.array([0.5, 0.5]))], np.array([0.5, 0.5]))
    >>> len(f.axes)
    1
    """
    fig = new_figure((5.8, 5.0))
    ax = fig.add_subplot()
    for i, (v, name) in enumerate(zip(Vp, names)):
        _arrow(ax, (0.0, 0.0), v, COLORS[i % len(COLORS)], alpha=0.3, lw=1.2)
        ax.annotate(name, v, textcoords="offset points", xytext=(6, 4), color=COLORS[i % len(COLORS)], fontsize=12)
    styles = ("-", "--", ":", "-.")
    points = [np.zeros((1, 2)), Vp, zp[None, :]]
    for k, (label, c) in enumerate(paths):
        tip = np.zeros(2)
        for i, (ci, v) in enumerate(zip(c, Vp)):
            if ci != 0:
                _arrow(ax, tip, tip + ci * v, COLORS[i % len(COLORS)], lw=2.0, linestyle=styles[k % len(styles)])
                tip = tip + ci * v
                points.append(tip[None, :])
        ax.plot([], [], color="#444444", linestyle=styles[k % len(styles)], label=label)
    ax.plot(*zp, marker="*", markersize=15, color=OUTPUT_COLOR, linestyle="none", label="the same output z")
    _frame(ax, np.vstack(points))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def simplex_figure(corners, points, segment=None):
    """Distributions over three items drawn in the triangle of all such distributions.

    ``corners`` names the three items; ``points`` is a list of (label, p (3,)); ``segment``
    an optional (label, p_start, p_end) drawn as a thick line (a family of distributions).

    >>> f = simplex_figure(["a", "b", "c"], [("uniform", np.ones(3) / 3)])
    >>> len(f.axes)
    1
    """
    vertices = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])  # (3, 2)
    fig = new_figure((5.4, 5.0))
    ax = fig.add_subplot()
    ax.fill(vertices[:, 0], vertices[:, 1], color="#f3f3f3", edgecolor="#999999")
    for name, v, offset in zip(corners, vertices, ((-14, -14), (6, -14), (-6, 8))):
        ax.annotate(name, v, textcoords="offset points", xytext=offset, fontsize=11)
    if segment is not None:
        label, start, end = segment
        ends = np.array([start, end]) @ vertices  # (2, 3) @ (3, 2) -> (2, 2)
        ax.plot(ends[:, 0], ends[:, 1], color=COLORS[3], lw=4, alpha=0.7, label=label)
    for k, (label, p) in enumerate(points):
        ax.plot(*(np.asarray(p) @ vertices), marker=MARKERS[k % len(MARKERS)], markersize=12,  # (3,) @ (3, 2)
                color=COLORS[k % len(COLORS)], linestyle="none", label=label)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=1, fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def simplex_lines_figure(corners, points, lines):
    """Distributions over three items in their triangle, with curves or segments of distributions.

    ``points`` is a list of (label, p (3,)); ``lines`` a list of (label, P (k, 3)) drawn as
    polylines through the k distributions P (a segment is k = 2, a sampled curve more).

    >>> f = simplex_lines_figure(["a", "b", "c"], [("uniform", np.ones(3) / 3)],
    ...                          [("an edge", np.array([[1.0, 0, 0], [0, 1.0, 0]]))])
    >>> len(f.axes)
    1
    """
    vertices = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])  # (3, 2)
    fig = new_figure((5.6, 5.6))
    ax = fig.add_subplot()
    ax.fill(vertices[:, 0], vertices[:, 1], color="#f3f3f3", edgecolor="#999999")
    for name, v, offset in zip(corners, vertices, ((-14, -14), (6, -14), (-6, 8))):
        ax.annotate(name, v, textcoords="offset points", xytext=offset, fontsize=11)
    styles = ("-", "--", ":", "-.")
    for k, (label, P) in enumerate(lines):
        xy = np.asarray(P, dtype=float) @ vertices  # (k, 3) @ (3, 2) -> (k, 2)
        ax.plot(xy[:, 0], xy[:, 1], color=COLORS[(k + 3) % len(COLORS)], lw=4 if len(P) == 2 else 2.2,
                linestyle=styles[k % len(styles)], alpha=0.8, label=label)
    for k, (label, p) in enumerate(points):
        xy = np.asarray(p, dtype=float) @ vertices  # (3,) @ (3, 2) -> (2,)
        ax.plot(*xy, marker=MARKERS[k % len(MARKERS)], markersize=11,
                color=COLORS[k % len(COLORS)], linestyle="none", label=label)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=1, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def heatmaps(panels, suptitle=None):
    """Attention-weight heatmaps side by side; ``panels`` is a list of (title, A, row_labels, col_labels).

    Each cell shows its weight; exact zeros (masked keys) are printed as a blank cell.

    >>> f = heatmaps([("no mask", np.full((2, 2), 0.5), ["a", "b"], ["a", "b"])])
    >>> [ax.get_title() for ax in f.axes]
    ['no mask']
    """
    n = len(panels)
    width = max(len(p[3]) for p in panels)
    fig = new_figure((0.9 + (1.0 + 0.62 * width) * n, 1.4 + 0.55 * max(len(p[2]) for p in panels)))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (title, A, rows, cols) in zip(axes, panels):
        A = np.asarray(A, dtype=float)
        ax.imshow(np.where(np.isnan(A), 0.0, A), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        for (i, j), a in np.ndenumerate(A):
            if a != 0:
                ax.text(j, i, f"{a:.2f}", ha="center", va="center", fontsize=8, color="white" if a > 0.6 else "#222222")
        ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right", fontsize=9)
        ax.set_yticks(range(len(rows)), rows, fontsize=9)
        ax.set_xlabel("key", fontsize=9)
        ax.set_ylabel("query", fontsize=9)
        ax.set_title(title, fontsize=10)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def grouped_bars(labels, series, ylabel, title=""):
    """Bars for several series over the same labels; ``series`` is a list of (name, values).

    >>> f = grouped_bars(["a", "b"], [("weight", [0.6, 0.4]), ("effect", [0.0, 1.0])], "size")
    >>> len(f.axes[0].patches)
    4
    """
    fig = new_figure((1.6 + 0.9 * len(labels) * max(1, len(series) / 2), 3.8))
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    x = np.arange(len(labels))
    for k, (name, values) in enumerate(series):
        bars = ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=name, color=COLORS[k % len(COLORS)])
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7)
    ax.set_xticks(x, labels)
    ax.axhline(0, color="#888888", lw=0.8)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def weights_figure(alpha, Vp, zp):
    """Left: the weights alpha_i. Right: the contributions alpha_i v_i laid tip to tail, ending at z.

    >>> f = weights_figure(np.array([0.25, 0.75]), np.eye(2), np.array([0.25, 0.75]))
    >>> [ax.get_title()[:7] for ax in f.axes]
    ['weights', 'contrib']
    """
    fig = new_figure((10.0, 4.4))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
    colors = [COLORS[i % len(COLORS)] for i in range(len(alpha))]
    bars = left.bar(range(len(alpha)), alpha, color=colors)
    left.bar_label(bars, labels=[f"{a:.3f}" for a in alpha], fontsize=9)
    left.set_xticks(range(len(alpha)), [named("α", i + 1) for i in range(len(alpha))])
    left.set_ylim(0, max(1.0, float(np.max(alpha)) * 1.15))
    left.set_ylabel("weight")
    left.set_title("weights αᵢ (what attention viewers show)", fontsize=10)

    tip = np.zeros(2)
    for i, (a, v) in enumerate(zip(alpha, Vp)):
        _arrow(right, (0.0, 0.0), v, colors[i], alpha=0.25, lw=1.2)
        _arrow(right, tip, tip + a * v, colors[i], lw=2.2)
        tip = tip + a * v
    right.plot(*zp, marker="*", markersize=16, color=OUTPUT_COLOR, linestyle="none")
    right.annotate("z", zp, textcoords="offset points", xytext=(8, -12), fontsize=13, color=OUTPUT_COLOR)
    right.set_title("contributions αᵢvᵢ, tip to tail (faint: vᵢ)", fontsize=10)
    _frame(right, np.vstack([Vp, zp[None, :], np.zeros((1, 2))]))
    fig.subplots_adjust(left=0.06, right=0.98, top=0.92, bottom=0.08, wspace=0.16)  # fixed, as in mixture_figure
    return fig


def line_panels(x, panels, xlabel, log_x=False):
    """Curves against a swept variable: one panel per (ylabel, {series name: values}).

    >>> f = line_panels([1, 4, 16], [("max weight", {"scaled": [0.5, 0.5, 0.6]})], "d_k", log_x=True)
    >>> f.axes[0].get_xlabel()
    'd_k'
    """
    fig = new_figure((4.2 * len(panels), 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (ylabel, series) in zip(axes, panels):
        for k, (name, values) in enumerate(series.items()):
            ax.plot(x, values, marker=MARKERS[(k + 1) % len(MARKERS)], color=COLORS[k % len(COLORS)], label=name)
        if log_x:
            ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, color="#eeeeee", lw=0.6)
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def loglog_panels(panels):
    """Measurements against a size on log-log axes, one panel per (xlabel, x, ylabel, {series name: values}).

    A power law y = c x^p is a straight line of slope p on such axes.

    >>> f = loglog_panels([("n", [64, 128], "seconds", {"attention": [0.01, 0.04]})])
    >>> f.axes[0].get_xscale(), f.axes[0].get_yscale()
    ('log', 'log')
    """
    fig = new_figure((4.4 * len(panels), 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (xlabel, x, ylabel, series) in zip(axes, panels):
        for k, (name, values) in enumerate(series.items()):
            ax.plot(x, values, marker=MARKERS[(k + 1) % len(MARKERS)], color=COLORS[k % len(COLORS)], label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", color="#eeeeee", lw=0.6)
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def image_figure(M, xlabel, ylabel, title):
    """A matrix drawn as an image with a colour bar (for matrices too large to annotate).

    >>> image_figure(np.eye(3), "x", "y", "identity").axes[0].get_title()
    'identity'
    """
    fig = new_figure((8.0, 4.2))
    ax = fig.add_subplot()
    shown = ax.imshow(M, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fig.colorbar(shown, ax=ax, fraction=0.04)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def svg_bytes(fig):
    """The figure as SVG bytes that depend only on its content and the matplotlib version.

    >>> f = new_figure((2, 2))
    >>> svg_bytes(f) == svg_bytes(f)
    True
    """
    buffer = io.BytesIO()
    from matplotlib import rc_context

    with rc_context({"svg.hashsalt": "vecmix", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _arrow(ax, start, end, color, alpha=1.0, lw=2.0, linestyle="-"):
    ax.annotate("", xy=tuple(end), xytext=tuple(start),
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw, "alpha": alpha, "shrinkA": 0, "shrinkB": 0,
                            "linestyle": linestyle})


def _frame(ax, points):
    """Equal axes that show every point with a margin (annotations do not autoscale)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.12 * max(float(np.max(hi - lo)), 1e-9)
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.axhline(0, color="#cccccc", lw=0.8, zorder=0)
    ax.axvline(0, color="#cccccc", lw=0.8, zorder=0)
    ax.grid(True, color="#eeeeee", lw=0.6)


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
