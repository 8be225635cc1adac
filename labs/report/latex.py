r"""Math in Markdown that reaches the math renderer unchanged, on GitHub and in MyST alike.

GitHub parses a report with cmark-gfm *before* its math renderer sees ``$...$`` and
``$$...$$``, so inside math it applies Markdown's own rules: a backslash before ASCII
punctuation is an escape (``\\`` becomes ``\``, ``\,`` becomes ``,``), ``_`` and ``*`` next
to punctuation open and close emphasis, ``<i>`` is an HTML tag, ``|`` splits a table cell.
markdown-it-py with the dollarmath plugin (MyST, Jupyter Book) passes math through as it
is. :func:`portable` rewrites every math span of a report into forms that both pipelines
pass through byte for byte: TeX control words instead of control symbols (``\cr`` for
``\\``, ``\thinspace`` for ``\,``, ``\lbrace`` for ``\{``), ``\lt``/``\gt``/``\vert`` for
``<``/``>``/``|``, and ``_`` and ``*`` with a space on each side where a neighbour is not a
letter or digit (TeX ignores those spaces; Markdown cannot pair a delimiter that has
whitespace on both sides). Every lab and reading report is written through it
(:func:`labs.report.render.render_markdown`, :func:`labs.read.render`), and
``tests/test_markdown_math.py`` renders the whole gallery with both parsers.
"""

import re

SYMBOLS = {  # a control symbol whose character is ASCII punctuation -> a control word that means the same
    "\\": r"\cr", ",": r"\thinspace", "!": r"\negthinspace", ":": r"\medspace", ";": r"\thickspace",
    ">": r"\medspace", "{": r"\lbrace", "}": r"\rbrace", "|": r"\Vert",
}
CHARACTERS = {"<": r"\lt", ">": r"\gt", "|": r"\vert", "~": "\\ "}
_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|.", re.S)
_ALNUM = re.compile(r"[A-Za-z0-9]")
_BLOCK_START = re.compile(r"(?:[-+*>#=|]|\d+[.)])")  # a display line starting so would start a list, quote, heading


class UnportableMath(ValueError):
    """Math with no form that both Markdown pipelines pass through unchanged (a bug in the lab that wrote it)."""


def safe(latex):
    r"""The same formula in a form that cmark-gfm and markdown-it-py + dollarmath leave byte-identical.

    >>> print(safe(r"\begin{bmatrix} 1 \\ 0 \end{bmatrix}"))
    \begin{bmatrix} 1 \cr 0 \end{bmatrix}
    >>> print(safe(r"\operatorname{softmax}\!(s)_{t} = \{x \,|\, x<1\}"))
    \operatorname{softmax}\negthinspace(s) _ {t} = \lbrace x \thinspace\vert\thinspace x\lt 1\rbrace
    >>> print(safe(r"\alpha_i v^{*}"))
    \alpha_i v^{ * }
    """
    tokens = _TOKEN.findall(latex)
    out = []
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.startswith("\\") and len(token) == 2 and not token[1].isalnum() and not token[1].isspace():
            if token[1] not in SYMBOLS:
                raise UnportableMath(f"{token!r} has no Markdown-safe form, in {latex!r}")
            word = SYMBOLS[token[1]]
            out.append(word + (" " if _ALNUM.match(after[:1]) else ""))
        elif token in CHARACTERS:
            out.append(CHARACTERS[token] + (" " if token != "~" and _ALNUM.match(after[:1]) else ""))
        elif token in "_*":
            before = out[-1][-1:] if out else ""
            inert = token == "_" and _ALNUM.match(before) and _ALNUM.match(after[:1])  # intraword: never emphasis
            out.append(token if inert else f" {token} ")
        elif token in "$`":
            raise UnportableMath(f"{token!r} cannot appear inside math, in {latex!r}")
        elif token == "&" and (_ALNUM.match(after[:1]) or after == "#"):
            out.append("& ")  # '&name;' would be read as an HTML entity
        elif token == "]" and after == "(":
            out.append("] ")  # '[text](url)' would be read as a link
        else:
            out.append(token)
    return re.sub(r"(?<=\S)  +(?=\S)", " ", "".join(out)).strip()


def _display_line(line):
    line = safe(line)
    return "{}" + line if _BLOCK_START.match(line) else line


def _inline(line, where):
    parts = re.split(r"(`+[^`]*`+)", line)  # code spans stay as they are
    for k in range(0, len(parts), 2):
        pieces = re.split(r"(?<!\\)\$", parts[k])
        if len(pieces) % 2 == 0:
            raise UnportableMath(f"an unclosed $ on {where}: {line!r}")
        pieces[1::2] = [safe(p) for p in pieces[1::2]]
        parts[k] = "$".join(pieces)
    return "".join(parts)


def portable(markdown):
    r"""A Markdown document with every math span (``$...$``, ``$$`` blocks) rewritten by :func:`safe`.

    Fenced code blocks and code spans are left alone; an unclosed ``$`` is an error.

    >>> print(portable("Let $x_{t}^{<i>}$ be\n\n$$\n\\begin{bmatrix} 1 \\\\ 0 \\end{bmatrix}\n$$\n\n`$x_{t}$`"))
    Let $x _ {t}^{\lt i\gt}$ be
    <BLANKLINE>
    $$
    \begin{bmatrix} 1 \cr 0 \end{bmatrix}
    $$
    <BLANKLINE>
    `$x_{t}$`
    """
    out, fence, display = [], False, False
    for number, line in enumerate(markdown.split("\n"), 1):
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.strip() == "$$":
            display = not display
        elif display:
            line = _display_line(line)
        elif not fence:
            line = _inline(line, f"line {number}")
        out.append(line)
    if display:
        raise UnportableMath("a $$ block is never closed")
    return "\n".join(out)
