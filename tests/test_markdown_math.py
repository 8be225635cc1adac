r"""Every math span of the gallery reaches the math renderer byte-identical, on GitHub and in MyST.

GitHub renders Markdown with cmark-gfm and hands the resulting text to its math renderer;
MyST, Jupyter Book and VS Code use markdown-it-py with the dollarmath plugin. Each report
is parsed by both, and the math each delivers must be exactly the math that was written:
no escape eaten (``\\`` -> ``\``), no ``<em>`` from a pair of underscores, no HTML tag.
"""

import html
import re

import pytest

from labs import gallery

cmarkgfm = pytest.importorskip("cmarkgfm", reason="the test extra installs cmarkgfm")
markdown_it = pytest.importorskip("markdown_it", reason="the test extra installs markdown-it-py")
dollarmath = pytest.importorskip("mdit_py_plugins.dollarmath", reason="the test extra installs mdit-py-plugins")

REPORTS = sorted(p for p in gallery.REPORTS.rglob("*.md") if "site" not in p.relative_to(gallery.REPORTS).parts)


def written_math(text):
    """The math spans as written: ('block', body) for a $$ block, ('inline', body) for $...$; code is skipped."""
    spans, block, fence = [], None, False
    for line in text.split("\n"):
        if line.startswith("```"):
            fence = not fence
        elif fence:
            continue
        elif line == "$$":
            if block is None:
                block = []
            else:
                spans.append(("block", "\n".join(block)))
                block = None
        elif block is not None:
            block.append(line)
        else:
            no_code = re.sub(r"(`+)[^`]*\1", "", line)
            spans += [("inline", body) for body in re.findall(r"\$([^$]+)\$", no_code)]
    return spans


def myst_math(text):
    md = markdown_it.MarkdownIt("commonmark").enable("table").use(dollarmath.dollarmath_plugin)
    spans = []

    def walk(tokens):
        for token in tokens:
            if token.type == "math_block":
                spans.append(("block", token.content.strip("\n")))
            elif token.type == "math_inline":
                spans.append(("inline", token.content))
            walk(token.children or [])

    walk(md.parse(text))
    return spans


def github_math(text):
    """The math that GitHub's renderer receives: $-delimited text of cmark-gfm's HTML, tags inside kept visible."""
    out = cmarkgfm.github_flavored_markdown_to_html(text, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
    out = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", out, flags=re.S)
    spans = [("block", body) for body in re.findall(r"^(?:<p>)?\$\$\n(.*?)\n\$\$(?:</p>)?$", out, flags=re.S | re.M)]
    out = re.sub(r"^(?:<p>)?\$\$\n.*?\n\$\$(?:</p>)?$", "", out, flags=re.S | re.M)
    blocks = iter(spans)
    spans = list(blocks) + [("inline", body) for body in re.findall(r"\$([^$]+)\$", out)]
    # cmark-gfm writes a '<' of text as &lt;: a raw '<' is an HTML element (<em>, <i>) inside the math
    return [(kind if "<" not in body else "html", html.unescape(body)) for kind, body in spans]


def ordered(spans):
    return sorted(spans)


@pytest.fixture(params=REPORTS, ids=lambda p: p.relative_to(gallery.REPORTS).as_posix())
def report(request):
    return request.param.read_text()


def test_the_gallery_has_math():
    assert sum(len(written_math(p.read_text())) for p in REPORTS) > 500


def test_myst_receives_the_math_as_written(report):
    assert myst_math(report) == written_math(report)


def test_github_receives_the_math_as_written(report):
    written, received = written_math(report), github_math(report)
    assert ordered(received) == ordered(written), [pair for pair in zip(ordered(written), ordered(received))
                                                    if pair[0] != pair[1]][:3]


@pytest.mark.parametrize("broken", [r"$\begin{bmatrix} 1 \\ 0 \end{bmatrix}$", r"$\operatorname{softmax}\!(s)$",
                                    r"$a}_t + b_{ti}$ and $c}_t$", r"$v^{<i>}$", r"$x\,y$"])
def test_the_check_catches_what_github_damages(broken):
    """The comparison can fail: each form the issue found damaged differs after cmark-gfm."""
    assert ordered(github_math(broken)) != ordered(written_math(broken))


def test_claims_tables_show_values_without_emphasis(report):
    """Expected and observed values are text such as 4*d_model**2*n: GitHub must not italicise part of them."""
    out = cmarkgfm.github_flavored_markdown_to_html(report, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
    for row in re.findall(r"<tr>(.*?)</tr>", out, flags=re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
        if len(cells) == 6:  # id, claim, source, expected, observed, verdict
            assert not re.search(r"<(em|strong|del)>", cells[3] + cells[4]), cells[3:5]


MEANING = [  # one formula per rewrite of labs.report.latex.safe, as the labs write them
    r"\begin{bmatrix} 1 \\ 0 \end{bmatrix}", r"\operatorname{softmax}\!\left(s\right)", r"a \, b \: c \; d \> e",
    r"\{ x \mid x > 0 \}", r"\|v\|_2", r"v^{<i>}", r"{x}_t + y_{ti}", r"e^{m_\text{old} - m_\text{new}}",
    r"\alpha_i v_i^{*}", r"|t - h|^2 < 1", r"a~b", r"d_{model}^{2} n",
]


@pytest.mark.parametrize("formula", MEANING)
def test_the_portable_form_means_the_same(formula):
    """safe() changes spelling, not meaning: latex2mathml gives both forms the same glyphs in the same structure.

    latex2mathml marks some symbols differently by spelling (``|`` an operator, ``\\vert`` an
    identifier; ``\\:`` an mspace, ``\\medspace`` a space character) and names space widths
    differently, so identifiers and operators compare alike and every space as one space.
    """
    converter = pytest.importorskip("latex2mathml.converter", reason="the test extra installs latex2mathml")
    from labs.report.latex import safe

    def layout(tex):
        mathml = converter.convert(tex)
        mathml = re.sub(r'<mspace width="[^"]*"\s*/>|<mi>&#x0205F;</mi>', "<space/>", mathml)
        return re.sub(r"<m[io](?: [^>]*)?>(.*?)</m[io]>", r"<symbol>\1</symbol>", mathml)

    assert layout(safe(formula)) == layout(formula), (formula, safe(formula))
