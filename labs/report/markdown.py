"""Markdown and LaTeX pieces that render the same on GitHub, Quarto and MyST.

Display math is ``$$`` on its own lines with blank lines around it and none inside;
inline math is ``$...$``; tables are GFM pipe tables; images are relative links with
an italic caption line.
"""

import re

import sympy as sp

SOURCES = {
    "000": ("Vector Mixtures in Embeddings and Attention", "000_32d6096e9112cc52.txt"),
    "001": ("Paper Lab: Attention as Weighted Vector Mixture", "001_8c65d19d1d0c4e45.txt"),
    "002": ("Attention, Softmax, and Weighted Mixtures", "002_7fa86cbe478c569d.txt"),
    "003": ("Why sum the softmax-weighted values? (Q&A)", "003_188c77765dbd8ce2.txt"),
}


def cite(page, section):
    """A full citation of a source page: bold title, file name and section.

    >>> cite("002", 5)
    '**Attention, Softmax, and Weighted Mixtures** (`002_7fa86cbe478c569d.txt`, §5)'
    """
    title, filename = SOURCES[page]
    return f"**{title}** (`{filename}`, §{section})"


def tex(x):
    """LaTeX for an exact number or expression (``E`` prints as e).

    >>> tex(sp.exp(2) / (1 + sp.E + sp.exp(2)))
    '\\\\frac{e^{2}}{1 + e + e^{2}}'
    """
    return sp.latex(sp.sympify(x))


def column(entries, fmt=tex):
    """A column vector in LaTeX.

    >>> column([1, 0])
    '\\\\begin{bmatrix} 1 \\\\\\\\ 0 \\\\end{bmatrix}'
    """
    return r"\begin{bmatrix} " + r" \\ ".join(fmt(v) for v in entries) + r" \end{bmatrix}"


def matrix(M, fmt=tex):
    r"""A matrix in LaTeX, row by row.

    >>> print(matrix(sp.Matrix([[1, 2], [3, 4]])))
    \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}
    """
    rows = r" \\ ".join(" & ".join(fmt(x) for x in M.row(i)) for i in range(M.rows))
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def tuple_tex(entries, fmt=tex):
    """A vector written inline as a tuple, for tables and prose.

    >>> tuple_tex([sp.Rational(1, 5), 0])
    '(\\\\frac{1}{5}, 0)'
    """
    return "(" + ", ".join(fmt(v) for v in entries) + ")"


def tuple_text(entries):
    """A vector as plain text (SymPy's strings), for claims tables and results.

    >>> tuple_text([sp.Rational(1, 5), sp.E])
    '(1/5, E)'
    """
    return "(" + ", ".join(sp.sstr(v) for v in entries) + ")"


def display(*lines):
    """A display-math block: ``$$`` alone on its lines, blank lines around, none inside.

    >>> print(display(r"z = V^\\top \\alpha"))
    <BLANKLINE>
    $$
    z = V^\\top \\alpha
    $$
    <BLANKLINE>
    """
    body = "\n".join(line for line in lines if line.strip())
    return f"\n$$\n{body}\n$$\n"


def decimal(x, digits=3):
    """A float for reading: fixed decimals in the ordinary range, else 3 significant digits.

    >>> decimal(0.09003057), decimal(-2.0), decimal(1.5e-7), decimal(0.0)
    ('0.090', '-2.000', '1.5e-07', '0.000')
    """
    x = float(x)
    if x == 0 or 10.0 ** -digits <= abs(x) < 1e6:
        return f"{x:.{digits}f}".replace("-0.000", "0.000")
    return f"{x:.{digits}g}"


def error_text(err, floor=1e-13):
    """A floating-point error for reports: below ``floor`` it reads the same on every machine.

    Rounding errors of a few units in the last place (1e-16 .. 1e-14 for numbers near 1) depend
    on the CPU's instruction set and the BLAS build (fused multiply-add, summation order), so
    printing them, or an exact 0 that another machine computes as 1e-17, would make a report's
    bytes differ from machine to machine. Tolerances in the claims are 1e-12 or looser.

    >>> error_text(5.6e-17), error_text(1.8e-15), error_text(2.5e-13), error_text(0.0)
    ('below 1e-13', 'below 1e-13', '2.5e-13', 'below 1e-13')
    """
    err = float(err)
    return f"below {floor:g}" if err < floor else f"{err:.1e}"


def table(header, rows):
    """A GFM pipe table; cells are converted with str and their pipes escaped.

    >>> print(table(["i", "v_i"], [[1, "$(1, 0)$"]]))
    | i | v_i |
    | --- | --- |
    | 1 | $(1, 0)$ |
    """
    def cells(row):
        return "| " + " | ".join(str(c).replace("|", r"\|").replace("\n", " ") for c in row) + " |"

    return "\n".join([cells(header), "| " + " | ".join("---" for _ in header) + " |", *map(cells, rows)])


def literal(text):
    r"""Plain text (a value, a formula in SymPy's notation) that Markdown must not read as emphasis or HTML.

    ``*``, ``_``, ``~`` and ``<`` are escaped outside ``$...$`` math, which :mod:`labs.report.latex` makes safe.

    >>> print(literal("4*d_model**2*n, and $x_{i}$"))
    4\*d\_model\*\*2\*n, and $x_{i}$
    """
    pieces = str(text).split("$")
    pieces[::2] = [re.sub(r"([*_~<])", r"\\\1", piece) for piece in pieces[::2]]
    return "$".join(pieces)


def image(path, alt, caption):
    """A relative image link followed by its italic caption line.

    >>> print(image("figures/mixture.svg", "values and output", "Figure 1. The output z."))
    ![values and output](figures/mixture.svg)
    <BLANKLINE>
    *Figure 1. The output z.*
    """
    return f"![{alt}]({path})\n\n*{caption}*"


def cite_part(page, part):
    """A full citation of a named part of a source page without numbered sections (003 is a question and answers).

    >>> cite_part("003", "the answer")
    '**Why sum the softmax-weighted values? (Q&A)** (`003_188c77765dbd8ce2.txt`, the answer)'
    """
    title, filename = SOURCES[page]
    return f"**{title}** (`{filename}`, {part})"
