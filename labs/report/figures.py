"""Figures of a mixture: values, their convex hull and the output; weights beside contributions.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI
backend) and saved as SVG with a fixed hash salt and no date, so their bytes depend
only on the numbers and the matplotlib version. Labels are plain Unicode text (v₁, αᵢ):
no mathtext, whose parser costs a noticeable part of a lab's start-up.
"""

import io

import numpy as np

# One colour means one thing across the gallery.
VALUE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")  # v₁, v₂, ... (then again from v₁)
POOLING_COLOR = "#7f7f7f"  # weights fixed in advance: the uniform average
GIVEN_COLOR = "#8c564b"  # weights handed in by another component (a config's mixture weights)
ATTENTION_COLOR = "#e7298a"  # attention weights softmax(q·kᵢ/√d_k), and the outputs they make
OTHER_COLORS = ("#222222", "#d4a017", "#17becf")  # anything else: targets, nearest points, series of a sweep
HULL_COLOR = "#9ecae1"  # the convex hull of the values (a region, not a series)
MARKERS = ("*", "D", "s", "P", "X", "^", "v", "o")
STYLES = ("-", "--", ":", "-.")
MAX_WIDTH = 8.0  # inches: saved at 72 pt per inch, a figure is at most 576 pt, 768 px in a browser
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def value_color(i):
    """The colour of the value vᵢ₊₁ (counted from 0) in every figure.

    >>> value_color(0) == value_color(len(VALUE_COLORS)) == VALUE_COLORS[0]
    True
    """
    return VALUE_COLORS[i % len(VALUE_COLORS)]


def new_figure(figsize, layout=None):
    """A bare matplotlib Figure; matplotlib is imported here, when a lab first draws, not when it is imported."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout=layout)


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


def mixture_figure(Vp, names, outputs, affine_dim=None):
    """Value vectors as arrows from the origin, their convex hull drawn as what it is, and output points.

    ``Vp`` (m, 2) holds the values in the drawing plane, ``names`` their labels, and
    ``outputs`` a list of (name, description, point (2,), colour): each point is a marker
    named beside it and described in the legend. The hull is a shaded region, a segment or
    a point according to ``affine_dim``, the dimension of the values' affine hull; a lab that
    knows it exactly passes it (collinear values projected in floating point are never
    exactly collinear, and their hull would be filled as a thin sliver), otherwise it is read
    from the drawn points. The axes keep equal scales and frame the points, so the figure's
    height follows their extent.

    >>> f = mixture_figure(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), ["a", "b", "c"], [], 1)
    >>> [t.get_text() for t in f.axes[0].get_legend().get_texts()]
    ['convex hull of the values: a segment']
    >>> f = mixture_figure(np.eye(2), [named("v", 1), named("v", 2)], [("z", "output", np.array([0.5, 0.5]), "k")])
    >>> sorted(t.get_text() for t in f.axes[0].texts if t.get_text()), svg_bytes(f)[:5]
    (['v₁', 'v₂', 'z'], b'<?xml')
    """
    Vp = np.asarray(Vp, dtype=float)
    points = np.vstack([Vp, np.zeros((1, 2)), *[np.asarray(p, dtype=float)[None, :] for _, _, p, _ in outputs]])
    fig, ax = _plane(points, legend_rows=len(outputs) + 1, legend_columns=1)
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
    for i, v in enumerate(Vp):
        _arrow(ax, (0.0, 0.0), v, value_color(i))
    for k, (name, description, point, color) in enumerate(outputs):
        ax.plot(*point, marker=MARKERS[k % len(MARKERS)], markersize=13 if k == 0 else 9, color=color,
                markerfacecolor=color if k == 0 else "white", markeredgewidth=1.6, linestyle="none",
                label=f"{name}: {description}")
    ax.plot(0, 0, marker="o", markersize=4, color="#555555", linestyle="none")
    _legend_below(ax, columns=1)
    _place_labels(ax, [(name, v, value_color(i)) for i, (v, name) in enumerate(zip(Vp, names))])
    _place_labels(ax, [(name, point, color) for name, _, point, color in outputs], fontsize=10)
    return fig


def paths_figure(Vp, names, paths, zp):
    """Several coefficient vectors, each drawn as its terms c_i v_i laid tip to tail, all ending at z.

    ``paths`` is a list of (label, coefficients (m,)); faint arrows show the values themselves.

    >>> f = paths_figure(np.eye(2), ["v₁", "v₂"], [("c", np.array([0.5, 0.5]))], np.array([0.5, 0.5]))
    >>> len(f.axes)
    1
    """
    Vp = np.asarray(Vp, dtype=float)
    tips = [np.cumsum(np.asarray(c)[:, np.newaxis] * Vp, axis=0) for _, c in paths]  # (m, 2) each: partial sums
    fig, ax = _plane(np.vstack([np.zeros((1, 2)), Vp, zp[None, :], *tips]), legend_rows=(len(paths) + 2) // 2,
                     legend_columns=2)
    for i, v in enumerate(Vp):
        _arrow(ax, (0.0, 0.0), v, value_color(i), alpha=0.3, lw=1.2)
    for k, (label, c) in enumerate(paths):
        tip = np.zeros(2)
        for i, (ci, v) in enumerate(zip(c, Vp)):
            if ci != 0:
                _arrow(ax, tip, tip + ci * v, value_color(i), lw=2.0, linestyle=STYLES[k % len(STYLES)])
                tip = tip + ci * v
        ax.plot([], [], color="#444444", linestyle=STYLES[k % len(STYLES)], label=label)
    ax.plot(*zp, marker="*", markersize=15, color=OTHER_COLORS[0], linestyle="none", label="z: the same output")
    _legend_below(ax, columns=2)
    _place_labels(ax, [(name, v, value_color(i)) for i, (v, name) in enumerate(zip(Vp, names))]
                  + [("z", zp, OTHER_COLORS[0])])
    return fig


def simplex_figure(corners, points, lines):
    """Distributions over three items in their triangle, with curves or segments of distributions.

    ``points`` is a list of (label, p (3,), colour); ``lines`` a list of (label, P (k, 3)) drawn as
    polylines through the k distributions P (a segment is k = 2, a sampled curve more).

    >>> f = simplex_figure(["a", "b", "c"], [("uniform", np.ones(3) / 3, POOLING_COLOR)],
    ...                    [("an edge", np.array([[1.0, 0, 0], [0, 1.0, 0]]))])
    >>> len(f.axes)
    1
    """
    vertices = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])  # (3, 2)
    fig = new_figure((5.6, 4.0 + 0.2 * (len(points) + len(lines))))
    ax = fig.add_subplot()
    ax.fill(vertices[:, 0], vertices[:, 1], color="#f3f3f3", edgecolor="#999999")
    for name, v, offset, ha, va in zip(corners, vertices, ((-6, -4), (6, -4), (0, 6)), ("right", "left", "center"),
                                       ("top", "top", "bottom")):
        ax.annotate(name, v, textcoords="offset points", xytext=offset, ha=ha, va=va, fontsize=11)
    for k, (label, P) in enumerate(lines):
        xy = np.asarray(P, dtype=float) @ vertices  # (k, 3) @ (3, 2) -> (k, 2)
        ax.plot(xy[:, 0], xy[:, 1], color=OTHER_COLORS[k % len(OTHER_COLORS)], lw=4 if len(P) == 2 else 2.2,
                linestyle=STYLES[k % len(STYLES)], alpha=0.8, label=label)
    for k, (label, p, color) in enumerate(points):
        xy = np.asarray(p, dtype=float) @ vertices  # (3,) @ (3, 2) -> (2,)
        ax.plot(*xy, marker=MARKERS[k % len(MARKERS)], markersize=11, color=color, linestyle="none", label=label,
                zorder=3)
    ax.set_xlim(-0.25, 1.25)  # room for the corners' names inside the axes
    ax.set_ylim(-0.1, np.sqrt(3) / 2 + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    _legend_below(ax, columns=1, fontsize=8)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.98, bottom=(0.3 + 0.2 * (len(points) + len(lines))) /
                        fig.get_figheight())
    return fig


def heatmaps(panels, suptitle=None):
    """Attention-weight heatmaps, as many side by side as fit 8 inches; ``panels`` is a list of (title, A,
    row_labels, col_labels).

    Each cell shows its weight; exact zeros (masked keys) are printed as a blank cell.

    >>> f = heatmaps([("no mask", np.full((2, 2), 0.5), ["a", "b"], ["a", "b"])])
    >>> [ax.get_title() for ax in f.axes]
    ['no mask']
    >>> f = heatmaps([(str(j), np.eye(10), list("abcdefghij"), list("abcdefghij")) for j in range(4)])
    >>> f.axes[0].get_subplotspec().get_geometry()[:2], round(float(f.get_figwidth()), 2)  # 2 x 2, 8 inches
    ((2, 2), 8.0)
    """
    n = len(panels)
    n_cols, n_rows = max(len(p[3]) for p in panels), max(len(p[2]) for p in panels)
    columns = max(1, min(n, int((MAX_WIDTH - 0.2) // (0.9 + 0.28 * n_cols))))  # cells at least 0.28 inch
    rows = -(-n // columns)
    cell = min(0.45, ((MAX_WIDTH - 0.2) / columns - 0.9) / n_cols)  # inches
    fig = new_figure((min(MAX_WIDTH, 0.2 + columns * (0.9 + cell * n_cols)),
                      rows * (1.3 + cell * n_rows) + (0.3 if suptitle else 0)), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.remove()
    for ax, (title, A, row_labels, col_labels) in zip(axes, panels):
        A = np.asarray(A, dtype=float)
        ax.imshow(np.where(np.isnan(A), 0.0, A), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        for (i, j), a in np.ndenumerate(A):
            if a != 0:
                ax.text(j, i, f"{a:.2f}", ha="center", va="center", fontsize=8 if cell >= 0.4 else 7,
                        color="white" if a > 0.6 else "#222222")
        upright = max(map(len, col_labels)) > 2  # longer names stand upright: slanted, their boxes would overlap
        ax.set_xticks(range(len(col_labels)), col_labels, rotation=90 if upright else 0, fontsize=8)
        ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
        ax.set_xlabel("key", fontsize=9)
        ax.set_ylabel("query", fontsize=9)
        ax.set_title(title, fontsize=10)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig


def paired_heatmaps(pairs, labels, left, right):
    """Per head, two maps side by side (its weights, then the shares of its contributions), two heads a row.

    ``pairs`` is a list of (title, L, R) with L and R (n, n) in [0, 1]; ``labels`` name the n
    tokens (queries on the rows, keys on the columns); ``left`` and ``right`` name the two
    kinds of map. Both colour scales run from 0 to 1, each with its colour bar below.

    >>> f = paired_heatmaps([("L1 H1", np.eye(3), np.eye(3))] * 3, ["a", "b", "c"], "weights", "contributions")
    >>> f.axes[0].get_title(), f.axes[1].get_title(), len(f.axes)  # 6 maps and 2 colour bars
    ('L1 H1: weights', 'L1 H1: contributions', 8)
    """
    n = len(labels)
    per_row, rows = min(2, len(pairs)), -(-len(pairs) // 2)
    side = min(1.9, (MAX_WIDTH - 1.2) / (2 * per_row) - 0.15)  # inches per map
    fig = new_figure((min(MAX_WIDTH, 1.2 + 2 * per_row * (side + 0.15)), 1.3 + rows * (side + 0.55)),
                     layout="constrained")
    axes = fig.subplots(rows, 2 * per_row, squeeze=False)
    for ax in axes.ravel()[2 * len(pairs):]:
        ax.remove()
    size = 7 if n <= 12 else 5
    images = {}
    for k, (title, L, R) in enumerate(pairs):
        r, c = divmod(k, per_row)
        for ax, M, kind, color in ((axes[r, 2 * c], L, left, "Blues"), (axes[r, 2 * c + 1], R, right, "Oranges")):
            images[kind] = ax.imshow(np.asarray(M, dtype=float), cmap=color, vmin=0.0, vmax=1.0, aspect="equal")
            ax.set_title(f"{title}: {kind}", fontsize=8)
            ax.set_yticks(range(n), labels if ax is axes[r, 0] else [], fontsize=size)
            ax.set_xticks(range(n), labels, rotation=90, fontsize=size)
            ax.tick_params(length=0)
    used = list(axes.ravel()[:2 * len(pairs)])
    for kind, image in reversed(images.items()):  # stacked upwards from the bottom: the left map's bar on top
        fig.colorbar(image, ax=used, orientation="horizontal", fraction=0.04, aspect=40, label=kind, shrink=0.45)
    fig.supylabel("query", fontsize=9)
    return fig


def grouped_bars(labels, series, ylabel, title=""):
    """Bars for several series over the same labels, each bar's value printed inside the axes.

    ``series`` is a list of (name, values, colour).

    >>> f = grouped_bars(["a", "b"], [("weight", [0.6, 0.4], ATTENTION_COLOR), ("effect", [0.0, 1.0], "k")], "size")
    >>> len(f.axes[0].patches), bool(f.axes[0].get_ylim()[1] > 1.0)
    (4, True)
    """
    fig = new_figure((min(MAX_WIDTH, 1.6 + 0.45 * len(labels) * max(2, len(series))), 3.8), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    x = np.arange(len(labels))
    for k, (name, values, color) in enumerate(series):
        bars = ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=name, color=color)
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7, padding=2)
    every = np.concatenate([np.asarray(v, dtype=float) for _, v, _ in series])
    top, bottom = max(float(every.max()), 0.0), min(float(every.min()), 0.0)
    room = 0.14 * ((top - bottom) or 1.0)  # headroom for the values printed above (or below) the bars
    ax.set_ylim(bottom - room if bottom < 0 else 0.0, top + room)
    ax.set_xticks(x, labels)
    ax.axhline(0, color="#888888", lw=0.8)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    longest = max(len(name) for name, _, _ in series)
    columns = max(1, min(len(series), int(fig.get_figwidth() * 72 // (5.5 * longest + 40))))  # ~5.5 pt a letter
    fig.legend(loc="outside lower center", ncol=columns, fontsize=9, frameon=False)
    return fig


def weights_figure(alpha, Vp, zp):
    """Left: the weights alpha_i. Right: the contributions alpha_i v_i laid tip to tail, ending at z.

    Each weight's bar and each contribution have the colour of their value vᵢ.

    >>> f = weights_figure(np.array([0.25, 0.75]), np.eye(2), np.array([0.25, 0.75]))
    >>> [ax.get_title()[:7] for ax in f.axes]
    ['weights', 'contrib']
    """
    fig = new_figure((MAX_WIDTH, 4.0))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
    colors = [value_color(i) for i in range(len(alpha))]
    bars = left.bar(range(len(alpha)), alpha, color=colors)
    left.bar_label(bars, labels=[f"{a:.3f}" for a in alpha], fontsize=9, padding=2)
    left.set_xticks(range(len(alpha)), [named("α", i + 1) for i in range(len(alpha))])
    left.set_ylim(0, max(1.0, float(np.max(alpha)) * 1.15))
    left.set_ylabel("weight")
    left.set_title("weights αᵢ (what attention viewers show)", fontsize=9)

    tip = np.zeros(2)
    for i, (a, v) in enumerate(zip(alpha, Vp)):
        _arrow(right, (0.0, 0.0), v, colors[i], alpha=0.25, lw=1.2)
        _arrow(right, tip, tip + a * v, colors[i], lw=2.2)
        tip = tip + a * v
    right.plot(*zp, marker="*", markersize=16, color=ATTENTION_COLOR, linestyle="none")
    right.set_title("contributions αᵢvᵢ, tip to tail (faint: vᵢ)", fontsize=9)
    _frame(right, *_limits(np.vstack([Vp, zp[None, :], np.zeros((1, 2))])))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.08, wspace=0.22)  # fixed: labels are placed after
    _place_labels(right, [("z", zp, ATTENTION_COLOR)], fontsize=13)
    return fig


def line_panels(x, panels, xlabel, log_x=False, xticks=None, titles=None, ylims=None, guides=None):
    """Curves against a swept variable: one panel per (ylabel, {series name: values}), two panels a row.

    Each series has its own colour, line style and marker, later series drawn over earlier ones,
    so a series that lies under another (a row of zeros, say) still shows. ``xticks`` names the
    x positions. Panels with the same series share one legend below them. Optional, one entry
    per panel: ``titles``, ``ylims`` ((low, high) or None) and ``guides`` (y values drawn as
    grey dashed lines: a threshold, a reference).

    >>> f = line_panels([1, 4, 16], [("max weight", {"scaled": [0.5, 0.5, 0.6]})], "d_k", log_x=True)
    >>> f.axes[0].get_xlabel()
    'd_k'
    >>> f = line_panels([1, 2], [("share", {"a": [0.2, 0.3]})], "layer", titles=["(a) shares"], ylims=[(0, 1)],
    ...                 guides=[[0.5]])
    >>> f.axes[0].get_title(), tuple(map(float, f.axes[0].get_ylim()))
    ('(a) shares', (0.0, 1.0))
    """
    fig, axes = _panel_grid(len(panels))
    for k, (ax, (ylabel, series)) in enumerate(zip(axes, panels)):
        for y in (guides[k] if guides else None) or ():
            ax.axhline(y, color="#999999", lw=1.0, linestyle="--", zorder=1)
        if titles:
            ax.set_title(titles[k], fontsize=10)
        if ylims and ylims[k]:
            ax.set_ylim(*ylims[k])
        _series(ax, x, series)
        if log_x:
            ax.set_xscale("log", base=2)
        if xticks is not None:
            ax.set_xticks(x, xticks)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, color="#eeeeee", lw=0.6)
    _panel_legends(fig, axes, [series for _, series in panels])
    return fig


def loglog_panels(panels):
    """Measurements against a size on log-log axes, one panel per (xlabel, x, ylabel, {series name: values}).

    A power law y = c x^p is a straight line of slope p on such axes.

    >>> f = loglog_panels([("n", [64, 128], "seconds", {"attention": [0.01, 0.04]})])
    >>> f.axes[0].get_xscale(), f.axes[0].get_yscale()
    ('log', 'log')
    """
    fig, axes = _panel_grid(len(panels))
    for ax, (xlabel, x, ylabel, series) in zip(axes, panels):
        _series(ax, x, series)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(True, which="both", color="#eeeeee", lw=0.6)
    _panel_legends(fig, axes, [series for _, _, _, series in panels])
    return fig


def image_panels(panels, xlabel, x_extent, title):
    """Matrices too large to annotate, drawn as images stacked over one x axis with one colour bar.

    ``panels`` is a list of (ylabel, M (rows, len(x)), (first row number, last row number)); ``x_extent``
    the numbers of the first and last column. Each image is drawn pixel for pixel (no smoothing).

    >>> f = image_panels([("even", np.eye(3), (1, 3)), ("odd", -np.eye(3), (1, 3))], "x", (1, 3), "identity")
    >>> [ax.get_ylabel() for ax in f.axes[:2]], f.axes[0].get_title()
    (['even', 'odd'], 'identity')
    """
    fig = new_figure((MAX_WIDTH, 1.2 + 2.0 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (ylabel, M, (first, last)) in zip(axes, panels):
        shown = ax.imshow(M, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest",
                          extent=(x_extent[0] - 0.5, x_extent[1] + 0.5, last + 0.5, first - 0.5))  # pixel centres
        ax.set_ylabel(ylabel, fontsize=9)
    axes[0].set_title(title, fontsize=10)
    axes[-1].set_xlabel(xlabel)
    fig.colorbar(shown, ax=list(axes), fraction=0.04)
    return fig


def rotation_figure(G, mapped, angle, names, caption):
    """Points G (J + 1, 2) of one (sin, cos) pair on the unit circle, each but the last turned by ``angle``.

    From G[j] an arc shows the rotation by ``angle`` (clockwise: the rotation that takes (sin a, cos a)
    to (sin(a + angle), cos(a + angle))); when the claim holds it ends at G[j + 1]. ``mapped`` (J, 2)
    holds a fitted map applied to G[:-1], drawn as crosses; ``names`` label the points.

    >>> G = np.array([[np.sin(t), np.cos(t)] for t in (0.0, 1.0, 2.0)])
    >>> f = rotation_figure(G, G[1:], 1.0, ["pos 0", "pos 1", "pos 2"], "k ω = 1 rad")
    >>> f.axes[0].get_title()
    'k ω = 1 rad'
    """
    G, mapped = np.asarray(G, dtype=float), np.asarray(mapped, dtype=float)
    fig, ax = _plane(np.vstack([G, mapped, [[-1.0, -1.0], [1.0, 1.0]]]), legend_rows=3, legend_columns=1,
                     title=caption)
    turn = np.linspace(0.0, angle, 40)
    ax.plot(np.sin(np.linspace(0, 2 * np.pi, 200)), np.cos(np.linspace(0, 2 * np.pi, 200)), color="#bbbbbb",
            lw=1.0, zorder=1)
    for j, g in enumerate(G[:-1]):
        R = np.array([[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]])  # (2, 2, 40): R(t), t in turn
        arc = np.einsum("abt,b->ta", R, g)  # (40, 2): R(t) g
        ax.plot(arc[:, 0], arc[:, 1], color=OTHER_COLORS[1], lw=2.4,
                label="rotation by k ω from each point" if j == 0 else None)
        _arrow(ax, arc[-2], arc[-1], OTHER_COLORS[1], lw=2.4)
    ax.plot(G[:, 0], G[:, 1], marker="o", markersize=7, color=OTHER_COLORS[0], linestyle="none", zorder=3,
            label="(sin pos ω, cos pos ω) from the encoding")
    ax.plot(mapped[:, 0], mapped[:, 1], marker="x", markersize=11, markeredgewidth=1.6, color=OTHER_COLORS[2],
            linestyle="none", zorder=4, label="the fitted map applied to the point before")
    _legend_below(ax, columns=1)
    _place_labels(ax, [(name, g, OTHER_COLORS[0]) for name, g in zip(names, G)], fontsize=9)
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



def _plane(points, legend_rows, legend_columns, title=""):
    """A figure with one axes of equal scales framing ``points`` (n, 2), sized to their extent, with room
    below for a legend of ``legend_rows`` rows; the layout is fixed, so labels can be placed at once."""
    lo, hi = _limits(points)
    width = 4.4  # inches of axes
    height = width * (hi[1] - lo[1]) / (hi[0] - lo[0])
    left, right, top, bottom = 0.6, 0.3, 0.45 if title else 0.2, 0.55 + 0.21 * legend_rows
    fig = new_figure((left + width + right, bottom + height + top))
    ax = fig.add_axes((left / fig.get_figwidth(), bottom / fig.get_figheight(), width / fig.get_figwidth(),
                       height / fig.get_figheight()))
    _frame(ax, lo, hi)
    if title:
        ax.set_title(title, fontsize=10)
    return fig, ax


def _limits(points, ratios=(0.55, 1.25), pad=0.12):
    """(low corner, high corner) of a frame around ``points`` (n, 2) with a margin, its height / width
    widened into ``ratios`` so that equal scales leave no blank half.

    >>> [np.round(c, 2).tolist() for c in _limits(np.array([[0.0, 0.0], [10.0, 1.0]]))]  # 12.4 wide, 6.82 high
    [[-1.2, -2.91], [11.2, 3.91]]
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = pad * max(float(np.max(hi - lo)), 1e-9)
    lo, hi = lo - margin, hi + margin
    span = hi - lo
    target = np.clip(span[1] / span[0], *ratios)
    grow = np.array([span[1] / target - span[0], span[0] * target - span[1]]).clip(min=0) / 2  # (2,)
    return lo - grow, hi + grow


def _frame(ax, lo, hi):
    """Equal axes from ``lo`` to ``hi`` (annotations do not autoscale), with the coordinate axes drawn."""
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    ax.axhline(0, color="#cccccc", lw=0.8, zorder=0)
    ax.axvline(0, color="#cccccc", lw=0.8, zorder=0)
    ax.grid(True, color="#eeeeee", lw=0.6)


def _legend_below(ax, columns, fontsize=9):
    """The axes' legend under it, below its tick labels."""
    from matplotlib.transforms import ScaledTranslation

    below = ax.transAxes + ScaledTranslation(0, -0.36, ax.figure.dpi_scale_trans)  # 0.36 inch under the axes
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, ncol=columns, fontsize=fontsize,
              frameon=False)


def _place_labels(ax, labels, fontsize=12):
    """Name points beside them, each where its text meets no arrow, marker, thick line, frame or earlier name.

    ``labels`` is a list of (text, point (2,), colour). Spots around a point, nearest first and those
    pointing away from the centre of the axes before the others, are tried in turn; where
    none is free, the one with the fewest collisions is kept. Needs the axes' layout fixed; names
    already written in the axes are avoided too.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    ax.apply_aspect()
    segments, boxes = _obstacles(ax, renderer)
    frame = ax.get_window_extent(renderer)
    centre = np.array([frame.x0 + frame.x1, frame.y0 + frame.y1]) / 2
    for text, point, color in labels:
        xy = ax.transData.transform(np.asarray(point, dtype=float))
        away = np.arctan2(*(xy - centre)[::-1]) if np.hypot(*(xy - centre)) > 1 else np.pi / 4
        angles = sorted(np.arange(12) * np.pi / 6, key=lambda a: abs(np.angle(np.exp(1j * (a - away)))))
        best = None
        for radius in (5, 11, 20):  # points from the point's centre, past its marker
            for angle in angles:
                label = _label_at(ax, text, point, color, angle, radius + _marker_radius(ax, point), fontsize)
                box = label.get_window_extent(renderer).padded(2)
                hits = sum(p.intersects_bbox(box, filled=False) for p in segments) + sum(
                    box.overlaps(b) for b in boxes) + 10 * (not frame.contains(box.x0, box.y0) or
                                                            not frame.contains(box.x1, box.y1))
                if best is None or hits < best[0]:
                    best = (hits, angle, radius)
                label.remove()
                if hits == 0:
                    break
            if best[0] == 0:
                break
        label = _label_at(ax, text, point, color, best[1], best[2] + _marker_radius(ax, point), fontsize)
        boxes.append(label.get_window_extent(renderer).padded(2))


def _label_at(ax, text, point, color, angle, radius, fontsize):
    """``text`` at ``radius`` points from ``point`` in the direction ``angle``, aligned to point away from it."""
    c, s = np.cos(angle), np.sin(angle)
    ha = "left" if c > 0.3 else "right" if c < -0.3 else "center"
    va = "bottom" if s > 0.3 else "top" if s < -0.3 else "center"
    return ax.annotate(text, tuple(point), textcoords="offset points", xytext=(radius * c, radius * s), ha=ha, va=va,
                       color=color, fontsize=fontsize)


def _obstacles(ax, renderer):
    """(paths, boxes) in display coordinates a label must not meet: arrows and thick lines; markers and texts."""
    from matplotlib.path import Path
    from matplotlib.transforms import Bbox

    segments, boxes = [], []
    for text in ax.texts:
        if getattr(text, "arrow_patch", None) is not None:
            text.update_positions(renderer)
            segments.append(text.arrow_patch.get_path())  # shaft and head, in display coordinates
        elif text.get_text().strip():
            boxes.append(text.get_window_extent(renderer).padded(2))
    for line in ax.lines:
        xy = line.get_transform().transform(line.get_xydata())  # (n, 2) display
        if line.get_marker() not in (None, "None", "", " "):
            r = line.get_markersize() * ax.figure.dpi / 72 / 2
            boxes += [Bbox([p - r, p + r]) for p in xy]
        elif line.get_linewidth() >= 2 and len(xy) >= 2:
            segments.append(Path(xy))
    return segments, boxes


def _marker_radius(ax, point):
    """Half the size, in points, of the largest marker drawn at ``point`` (0 if none)."""
    sizes = [line.get_markersize() / 2 for line in ax.lines if line.get_marker() not in (None, "None", "", " ")
             and np.any(np.all(np.isclose(line.get_xydata(), point), axis=1))]
    return max(sizes, default=0.0)


def _panel_grid(n):
    """A constrained-layout figure of ``n`` panels, two a row, at most 8 inches wide; (figure, axes)."""
    columns, rows = min(n, 2), -(-n // 2)
    fig = new_figure((MAX_WIDTH if columns == 2 else 4.8, 3.2 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]


def _series(ax, x, series):
    """Each of ``series`` ({name: values}) as a line of its own colour, style and marker, later ones on top."""
    for k, (name, values) in enumerate(series.items()):
        ax.plot(x, values, color=OTHER_COLORS[k % len(OTHER_COLORS)], linestyle=STYLES[k % len(STYLES)],
                marker=("o", "X", "s", "^")[k % 4], markersize=6 if k == 0 else 8, lw=1.6, zorder=2 + k, label=name)


def _panel_legends(fig, axes, series):
    """One legend below the panels when they all show the same series, else one in each panel."""
    if all(list(s) == list(series[0]) for s in series):
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=min(len(series[0]), 3),
                   fontsize=9, frameon=False)
    else:
        for ax in axes:
            ax.legend(fontsize=8, frameon=False)


def _arrow(ax, start, end, color, alpha=1.0, lw=2.0, linestyle="-"):
    ax.annotate("", xy=tuple(end), xytext=tuple(start),
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw, "alpha": alpha, "shrinkA": 0, "shrinkB": 0,
                            "linestyle": linestyle})


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
