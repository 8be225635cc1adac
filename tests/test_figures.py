"""Every figure of the gallery is legible at 800 px: it fits, and no text collides with another text,
the edge, the frame of its axes, or an arrow or marker of the drawing.

The bound on width: figures are saved as SVG at their own size, 72 pt per inch
(:func:`labs.report.figures.svg_bytes`), so a figure at most ``MAX_WIDTH`` = 8 inches wide is at most
576 pt: 768 px in a browser (96 px per inch), 800 px at 100 dpi. It fits an 800 px column at the
size it is saved, with no scaling down that would shrink its text.

Each lab's default figures are built in-process (its ``run``, as the gallery calls it), laid out
with ``draw_without_rendering`` and measured with the renderer that lays them out.
"""

import re

import numpy as np
import pytest

from labs.catalogue import LABS
from labs.report import figures as fig
from labs.report.sweep import MAX_PANELS
from labs.reproduce import compose_lab

PX_PER_INCH = 100  # "fits 800 px at 100 dpi"
MAX_PX = 800


def lab_figures(lab):
    from omegaconf import OmegaConf

    return LABS[lab].run(OmegaConf.to_container(compose_lab(lab).lab, resolve=True)).figures


@pytest.fixture(scope="module")
def gallery():
    """{"lab/file": Figure} of every lab's default run, and of the figure helpers used outside labs at their largest:
    a sweep summary with MAX_PANELS panels and the measured cost_per_layer run's two log-log panels."""
    out = {f"{lab}/{name}": figure for lab in LABS for name, figure in lab_figures(lab).items()}
    out["sweep/summary.svg"] = fig.line_panels([1, 2, 4, 8], [(f"value {j}", {f"value {j}": [0.1, 0.2, 0.4, 0.8]})
                                                              for j in range(MAX_PANELS)], "lab.d_k")
    out["cost_per_layer_measured/times.svg"] = fig.loglog_panels([
        (axis, [64, 128, 256], "seconds (median), d = 64", {"self-attention": [1e-4, 4e-4, 1.6e-3],
                                                             "recurrent": [1e-3, 2e-3, 4e-3]}) for axis in ("n", "d")])
    return out


def texts(figure):
    """Every visible, non-empty text the figure draws: titles, labels, tick labels, annotations, legends."""
    from matplotlib.text import Text

    ticks = [tick for ax in figure.axes for axis in (ax.xaxis, ax.yaxis)
             for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks())]
    tick_labels = {id(label) for tick in ticks for label in (tick.label1, tick.label2)}
    others = [t for t in figure.findobj(Text) if id(t) not in tick_labels]
    drawn_ticks = [label for ax in figure.axes for axis in (ax.xaxis, ax.yaxis) for tick in in_view(axis)
                   for label in (tick.label1, tick.label2)]
    return [t for t in others + drawn_ticks if t.get_visible() and t.get_text().strip()]


def in_view(axis):
    """The ticks of ``axis`` inside its view interval: those matplotlib draws."""
    scale = axis.get_transform()  # the axis scale: log or linear
    lo, hi = sorted(scale.transform(np.asarray(axis.get_view_interval(), dtype=float)))
    slack = 1e-9 * (hi - lo)
    return [tick for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks())
            if lo - slack <= scale.transform([tick.get_loc()])[0] <= hi + slack]


def drawn(figure):
    figure.draw_without_rendering()
    return figure._get_renderer()


def test_the_gallery_has_the_figures_of_every_lab(gallery):
    assert len(gallery) >= 20, sorted(gallery)
    assert {"efficient_variants/variants.svg", "positional_encoding/rotation.svg", "masking/leak.svg"} <= set(gallery)


def test_figures_fit_800_px(gallery):
    wide = {name: round(float(f.get_figwidth()) * PX_PER_INCH) for name, f in gallery.items()
            if f.get_figwidth() > fig.MAX_WIDTH}
    assert not wide, f"wider than {fig.MAX_WIDTH} inches ({MAX_PX} px at {PX_PER_INCH} dpi): {wide}"
    assert fig.MAX_WIDTH * PX_PER_INCH <= MAX_PX


def test_the_saved_svg_is_as_wide_as_the_figure():
    figure = fig.grouped_bars(["a", "b"], [("weight", [0.5, 0.5], fig.POOLING_COLOR)], "weight")
    width = re.search(rb'<svg[^>]* width="([\d.]+)pt"', fig.svg_bytes(figure))[1]
    assert float(width) == pytest.approx(72 * figure.get_figwidth())


def test_no_text_collides(gallery):
    """No two texts overlap; every text is inside the figure, and a text drawn in an axes inside its frame."""
    problems = []
    for name, figure in gallery.items():
        renderer = drawn(figure)
        shown = texts(figure)
        boxes = [t.get_window_extent(renderer) for t in shown]
        page = figure.bbox
        for t, b in zip(shown, boxes):
            if not (page.x0 - 0.5 <= b.x0 and b.x1 <= page.x1 + 0.5 and page.y0 - 0.5 <= b.y0 and b.y1 <= page.y1 + 0.5):
                problems.append(f"{name}: {t.get_text()!r} leaves the figure")
        for ax in figure.axes:
            frame = ax.get_window_extent(renderer)
            for t in ax.texts:
                b = t.get_window_extent(renderer)
                if t.get_text().strip() and not (frame.x0 - 0.5 <= b.x0 and b.x1 <= frame.x1 + 0.5
                                                 and frame.y0 - 0.5 <= b.y0 and b.y1 <= frame.y1 + 0.5):
                    problems.append(f"{name}: {t.get_text()!r} crosses the frame of its axes")
        lo = np.array([[b.x0, b.y0] for b in boxes])  # (n, 2)
        hi = np.array([[b.x1, b.y1] for b in boxes])
        apart = (np.minimum(hi[:, None], hi[None]) - np.maximum(lo[:, None], lo[None]) <= 0.5).any(axis=2)  # (n, n)
        for i, j in zip(*np.nonzero(np.triu(~apart, 1))):
            problems.append(f"{name}: {shown[i].get_text()!r} overlaps {shown[j].get_text()!r}")
    assert not problems, "\n".join(problems)


def test_no_label_covers_an_arrow_or_a_marker(gallery):
    """Names written in a drawing (v₁, z, pos 0, a corner) meet no arrow and no marker."""
    from matplotlib.transforms import Bbox

    problems = []
    for name, figure in gallery.items():
        renderer = drawn(figure)
        for ax in figure.axes:
            arrows = [t.arrow_patch.get_path() for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
            markers = []
            for line in ax.lines:
                if line.get_marker() not in (None, "None", "", " ") and line.get_visible():
                    r = line.get_markersize() * figure.dpi / 72 / 2
                    markers += [Bbox([p - r, p + r]) for p in line.get_transform().transform(line.get_xydata())]
            for t in ax.texts:
                if not t.get_text().strip():
                    continue
                box = t.get_window_extent(renderer)
                if any(path.intersects_bbox(box, filled=False) for path in arrows):
                    problems.append(f"{name}: {t.get_text()!r} lies on an arrow")
                if any(box.overlaps(m) for m in markers):
                    problems.append(f"{name}: {t.get_text()!r} lies on a marker")
    assert not problems, "\n".join(problems)


def probe():
    figure = fig.new_figure((4, 4))
    ax = figure.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return figure, ax


def test_the_checks_see_a_collision():
    """The checks above are not vacuous: each finds the fault it is there for, and a clean figure passes."""
    figure, ax = probe()
    ax.annotate("v₁", (0.5, 0.5), xytext=(8, 0), textcoords="offset points")
    ax.plot(0.2, 0.8, marker="o", markersize=12)
    test_no_text_collides({"clean": figure})
    test_no_label_covers_an_arrow_or_a_marker({"clean": figure})
    faults = {"lies on an arrow": lambda ax: ax.annotate("", xy=(0.9, 0.52), xytext=(0.3, 0.52),
                                                           arrowprops={"arrowstyle": "-|>"}),
              "lies on a marker": lambda ax: ax.text(0.2, 0.8, "marker", ha="center"),
              "overlaps": lambda ax: ax.text(0.5, 0.5, "v₁ again", va="center"),
              "crosses the frame": lambda ax: ax.text(0.95, 0.3, "past the right edge"),
              "leaves the figure": lambda ax: ax.figure.suptitle("a title much too long to fit in a figure that is only four inches wide")}
    for message, fault in faults.items():
        figure, ax = probe()
        ax.annotate("v₁", (0.5, 0.5), xytext=(8, 0), textcoords="offset points")
        ax.plot(0.2, 0.8, marker="o", markersize=12)
        fault(ax)
        with pytest.raises(AssertionError, match=message):
            test_no_text_collides({"probe": figure})
            test_no_label_covers_an_arrow_or_a_marker({"probe": figure})


def test_one_colour_one_meaning(gallery):
    """The value colours, the three kinds of weights and the other colours are all distinct; vᵢ has the same
    colour in every figure that names it."""
    reserved = [*fig.VALUE_COLORS, fig.POOLING_COLOR, fig.GIVEN_COLOR, fig.ATTENTION_COLOR, *fig.OTHER_COLORS]
    assert len(set(reserved)) == len(reserved)
    from matplotlib.colors import to_hex

    seen = set()
    for name, figure in gallery.items():
        for ax in figure.axes:
            for t in ax.texts:
                if re.fullmatch(r"v[₀-₉]+", t.get_text()):
                    i = int(t.get_text()[1:].translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")))
                    assert to_hex(t.get_color()) == fig.value_color(i - 1), (name, t.get_text())
                    seen.add(t.get_text())
    assert {"v₁", "v₂", "v₃"} <= seen
