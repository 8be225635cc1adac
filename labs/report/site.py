"""The Markdown gallery as a static HTML site: one self-contained page per report.

Each page is one file: Markdown is rendered with markdown-it-py (GFM tables, dollar math),
every formula is converted to MathML when the site is built (latex2mathml; the browser
lays it out, no JavaScript, no CDN), every figure is inlined as a ``data:`` URI, and a
small stylesheet is embedded. The gallery's pages map to the site as

    README.md           -> index.html
    <lab>/report.md     -> <lab>.html
    papers/<paper>.md   -> papers/<paper>.html

Links between reports are rewritten to the pages; links to anything else (``results.json``,
a folder) point at the Markdown gallery, which holds the site in its ``site/`` folder
(:data:`SITE`). Rendering only renders: which reports exist and what the index says come
from the caller (``labs.gallery``). The same gallery gives the same bytes.

>>> files = build_site({"README.md": b"# Gallery\\n\\n[masks](masking/report.md)\\n",
...                     "masking/report.md": b"# Masks\\n\\nWeights $\\\\alpha_i$ sum to 1.\\n"})
>>> sorted(files)
['index.html', 'masking.html']
>>> '<a href="masking.html">masks</a>' in files["index.html"].decode()
True
"""

import base64
import html
import posixpath
import re
from urllib.parse import urlsplit

import latex2mathml.converter
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

__all__ = ["SITE", "SiteError", "build_site", "page_of", "rewrite_link", "tex_to_mathml", "render_page"]

SITE = "site"  # the site's folder inside the Markdown gallery
COMMAND = "python -m labs.gallery --html"
IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif"}

CSS = """\
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:48rem;padding:1rem;font:1rem/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;
color:#1f2328;background:#fff;overflow-wrap:break-word}
h1,h2,h3{line-height:1.25}
a{color:#0969da;text-underline-offset:.25em}
nav,footer{font-size:.875rem;color:#59636e}
footer{margin-top:3rem;border-top:1px solid #d1d9e0;padding-top:.5rem}
img{max-width:100%;height:auto}
code{font:.875em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;padding:.1em .3em;
border-radius:4px;overflow-wrap:anywhere}
pre{background:#f6f8fa;padding:.75rem;overflow-x:auto;border-radius:6px}
pre code{padding:0;overflow-wrap:normal}
.table{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;font-size:.875rem}
th,td{border:1px solid #d1d9e0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.table code{overflow-wrap:normal}
.math.block{overflow-x:auto;overflow-y:hidden;padding:.25rem 0}
math{font-size:1.1em;font-family:"STIX Two Math","Cambria Math","Latin Modern Math","DejaVu Math TeX Gyre",math}
math[display=block]{overflow-x:auto}
"""


class SiteError(ValueError):
    """A gallery that cannot be rendered: the page and what in it is at fault, in one line."""


def page_of(source):
    """The site page (a path inside the site) of a gallery Markdown file, or None if it gets none.

    >>> page_of("README.md"), page_of("masking/report.md"), page_of("papers/aiayn.md"), page_of("masking/notes.md")
    ('index.html', 'masking.html', 'papers/aiayn.html', None)
    """
    parts = source.split("/")
    if parts == ["README.md"]:
        return "index.html"
    if len(parts) == 2 and parts[1] == "report.md":
        return f"{parts[0]}.html"
    if len(parts) == 2 and parts[0] == "papers" and parts[1].endswith(".md"):
        return f"papers/{parts[1][:-3]}.html"
    return None


def rewrite_link(href, source, pages):
    """Where a link in the gallery file ``source`` points from that file's page.

    ``pages`` maps gallery files to their pages. A link to another report becomes a link to
    its page; any other relative link points at the gallery file (the site sits in the
    gallery's ``site/`` folder); absolute URLs and anchors are left as they are.

    >>> pages = {"README.md": "index.html", "masking/report.md": "masking.html",
    ...          "papers/aiayn.md": "papers/aiayn.html"}
    >>> rewrite_link("../masking/report.md#figures", "papers/aiayn.md", pages)
    '../masking.html#figures'
    >>> rewrite_link("masking/report.md", "README.md", pages), rewrite_link("results.json", "masking/report.md", pages)
    ('masking.html', '../masking/results.json')
    >>> rewrite_link("https://arxiv.org/abs/1706.03762", "README.md", pages), rewrite_link("#top", "README.md", pages)
    ('https://arxiv.org/abs/1706.03762', '#top')
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("/", "#")) or not parts.path:
        return href
    target = posixpath.normpath(posixpath.join("/gallery", posixpath.dirname(source), parts.path))
    gallery_path = posixpath.relpath(target, "/gallery")
    if gallery_path in pages:
        target = posixpath.join("/gallery", SITE, pages[gallery_path])
    here = posixpath.dirname(posixpath.join("/gallery", SITE, pages[source]))
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    query = f"?{parts.query}" if parts.query else ""
    return posixpath.relpath(target, here) + query + fragment


def tex_to_mathml(tex, display=False):
    r"""MathML for a LaTeX formula (``display=True``: a display block).

    A command latex2mathml does not know would be shown as its raw text, so it is refused.

    >>> tex_to_mathml(r"x _ {t}").removeprefix('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    '<mrow><msub><mi>x</mi><mrow><mi>t</mi></mrow></msub></mrow></math>'
    >>> tex_to_mathml(r"\alpha + \foo")
    Traceback (most recent call last):
    ...
    labs.report.site.SiteError: cannot convert the formula '\\alpha + \\foo' to MathML: unknown command \foo
    """
    tex = tex.strip()
    try:
        mathml = latex2mathml.converter.convert(tex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises several kinds of error on bad LaTeX
        raise SiteError(f"cannot convert the formula {tex!r} to MathML ({type(exc).__name__}: {exc})") from exc
    unknown = re.search(r">(\\[A-Za-z]+)<", mathml)
    if unknown:
        raise SiteError(f"cannot convert the formula {tex!r} to MathML: unknown command {unknown.group(1)}")
    return mathml


def _markdown(source, pages, files):
    """A markdown-it parser whose links, images, tables and math render for the page of ``source``."""
    md = (MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
          .use(front_matter_plugin)
          .use(dollarmath_plugin, allow_digits=False,
               renderer=lambda tex, options: tex_to_mathml(tex, options["display_mode"]))
          .use(anchors_plugin, max_level=3))

    def link_open(self, tokens, idx, options, env):
        token = tokens[idx]
        token.attrSet("href", rewrite_link(token.attrGet("href"), source, pages))
        return self.renderToken(tokens, idx, options, env)

    def image(self, tokens, idx, options, env):
        token = tokens[idx]
        token.attrSet("src", _data_uri(token.attrGet("src"), source, files))
        return self.image(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("image", image)
    md.add_render_rule("table_open", lambda self, *args: '<div class="table">\n' + self.renderToken(*args))
    md.add_render_rule("table_close", lambda self, *args: self.renderToken(*args) + "</div>\n")
    return md


def _data_uri(src, source, files):
    """A relative image link of ``source`` as a data: URI of the gallery file it names."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith("/"):
        raise SiteError(f"the image {src!r} is not a file of the gallery, so the page would not be "
                        "self-contained")
    path = posixpath.relpath(posixpath.normpath(posixpath.join("/gallery", posixpath.dirname(source), parts.path)),
                             "/gallery")
    kind = IMAGE_TYPES.get(posixpath.splitext(path)[1].lower())
    if path not in files:
        raise SiteError(f"the image {src!r} ({path}) is not in the gallery")
    if kind is None:
        raise SiteError(f"the image {src!r} is not one of {', '.join(IMAGE_TYPES)}")
    return f"data:{kind};base64,{base64.b64encode(files[path]).decode('ascii')}"


def render_page(text, source, pages, files):
    """The HTML page (str) of the gallery Markdown ``text`` found at ``source``.

    ``pages`` maps gallery files to pages (:func:`page_of`); ``files`` maps gallery paths to
    their bytes, for the images the page inlines.

    >>> page = render_page("---\\ntitle: x\\n---\\n# Scores\\n\\n$$\\ns = q \\\\cdot k\\n$$\\n",
    ...                    "masking/report.md", {"masking/report.md": "masking.html"}, {})
    >>> "<title>Scores · vecmix</title>" in page, '<div class="math block">\\n<math xmlns=' in page
    (True, True)
    >>> render_page("$x^$", "masking/report.md", {"masking/report.md": "masking.html"}, {})
    Traceback (most recent call last):
    ...
    labs.report.site.SiteError: masking/report.md: cannot convert the formula 'x^' to MathML (MissingSuperScript...)
    """
    md = _markdown(source, pages, files)
    tokens = md.parse(text)
    title = next((tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"), source)
    try:
        body = md.renderer.render(tokens, md.options, {})
    except SiteError as exc:
        raise SiteError(f"{source}: {exc}") from None
    home = posixpath.relpath("index.html", posixpath.dirname(pages[source]) or ".")
    nav = "" if pages[source] == "index.html" else f'<nav><a href="{home}">vecmix report gallery</a></nav>\n'
    origin = "the Markdown gallery <code>reports/</code>" if source == "README.md" else \
        f"<code>reports/{html.escape(source)}</code>"
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(_plain(title))} · vecmix</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n"
            f"{nav}<main>\n{body}</main>\n<footer>Made from {origin} by "
            f"<code>{COMMAND}</code>; generated, do not edit by hand.</footer>\n</body>\n</html>\n")


def _plain(inline):
    """A heading's Markdown as plain text for <title>: code ticks and emphasis marks dropped.

    >>> _plain("Why scale by `1/sqrt(d_k)`: *variance*")
    'Why scale by 1/sqrt(d_k): variance'
    """
    return re.sub(r"`([^`]*)`|\*\*?([^*]+)\*\*?", lambda m: m.group(1) or m.group(2), inline)


def build_site(files, index=None):
    """The site of a gallery: {path inside the site: bytes}, one page per report.

    ``files`` maps the gallery's paths (``README.md``, ``masking/report.md``,
    ``masking/figures/weights.svg``, ...) to their bytes; ``index`` replaces README.md's
    Markdown as the text of ``index.html`` (the gallery passes one with more counts).

    >>> site = build_site({"papers/p.md": b"# P\\n\\n![fig](../lab/figures/a.svg)\\n",
    ...                    "lab/figures/a.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>"})
    >>> sorted(site), b'src="data:image/svg+xml;base64,' in site["papers/p.html"]
    (['papers/p.html'], True)
    """
    pages = {path: page_of(path) for path in sorted(files) if page_of(path)}
    texts = {path: files[path].decode("utf-8") for path in pages}
    if index is not None:
        pages.setdefault("README.md", "index.html")
        texts["README.md"] = index
    return {pages[path]: render_page(texts[path], path, pages, files).encode("utf-8") for path in sorted(pages)}
