"""The HTML site (`python -m labs.gallery --html`): built in-process, then checked in a real browser.

Headless chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
the browser reads commands on fd 3 and writes answers on fd 4, NUL-terminated JSON), so no
package beyond the standard library is needed. Each page is loaded in an 800 px wide
window (785 px inside its scroll bar) and measured by the browser itself: every <math> element laid out with a nonzero
size, no raw LaTeX or dollar signs left in the visible text, every image decoded, and no
element past the right edge of the viewport unless it sits in a container that scrolls
horizontally. A screenshot of each page is kept in tmp_path. Without a chromium binary the
browser tests are skipped (Debian: ``apt-get install chromium``).
"""

import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time

import pytest

from labs import gallery
from labs.report.site import SITE, SiteError, build_site

WIDTH = 800
PAGES = ["index.html", "masking.html", "papers/attention_is_all_you_need.html"]

# The Markdown-safe LaTeX that reports may use (GitHub's parser leaves it alone), on a page of its own.
MACROS = r"""# Markdown-safe LaTeX

Inline: $\alpha _ {t} \thinspace x ^ * \negthinspace + \medspace y \thickspace \lt z \gt 0$ and
$\lbrace 1, 2 \rbrace$, $\vert v \vert$, $\Vert v \Vert$.

$$
X = \begin{bmatrix} 1 & 0 & 1 & 0 \cr 0 & 1 & 1 & 0 \end{bmatrix}, \qquad
s _ {tj} = \frac{x _ t \cdot x _ j}{\sqrt{d _ k}}
$$

| formula | value |
| --- | --- |
| $\frac{e ^ {2}}{1 + e + e ^ {2}}$ | $\begin{bmatrix} 1 \cr 0 \end{bmatrix}$ |

Wider than the page, so each scrolls in its own box:

$$
v = \begin{bmatrix} WIDE \end{bmatrix}
$$

| WIDE_HEADER |
| WIDE_RULE |
| WIDE_CELLS |
""".replace("WIDE_HEADER", " | ".join(f"key {j}" for j in range(30))).replace("WIDE_RULE", " | ".join(["---"] * 30)) \
   .replace("WIDE_CELLS", " | ".join(f"`position_{j}`" for j in range(30))) \
   .replace("WIDE", " & ".join(rf"\frac{{{j}}}{{1000}}" for j in range(40)))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The gallery's site built in-process into a temporary folder: (folder, {path: bytes})."""
    files = gallery.site_files()
    folder = tmp_path_factory.mktemp("reports") / SITE
    files = {**files, "macros.html": build_site({"macros/report.md": MACROS.encode()})["macros.html"]}
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return folder, files


def test_every_report_has_a_page_and_the_build_is_deterministic(site):
    _, files = site
    reports = [p.parent.name for p in gallery.REPORTS.glob("*/report.md")]
    papers = [p.stem for p in gallery.REPORTS.glob("papers/*.md")]
    expected = {"index.html", "macros.html", *(f"{r}.html" for r in reports), *(f"papers/{p}.html" for p in papers)}
    assert set(files) == expected
    assert gallery.site_files() == {k: v for k, v in files.items() if k != "macros.html"}


def test_index_counts_every_lab_and_reading_report(site):
    index = site[1]["index.html"].decode()
    assert re.search(r'<a href="masking.html"><code>masking</code></a></td>\s*<td>[^<]*</td>\s*<td>\d+ of \d+</td>',
                     index)
    assert re.search(r'<a href="papers/attention_is_all_you_need.html">Attention Is All You Need</a></td>\s*'
                     r"<td>\d+ of \d+</td>", index)


def test_links_lead_to_pages_or_gallery_files(site):
    """Every relative link resolves, with the site where the command puts it (reports/site/)."""
    _, files = site
    for page, data in files.items():
        for href in re.findall(r'href="([^"]*)"', data.decode()):
            if re.match(r"[a-z]+:|#", href):
                continue
            path, _, fragment = href.partition("#")
            target = os.path.normpath(os.path.join(SITE, os.path.dirname(page), path))
            if target.startswith(SITE + os.sep):
                name = target[len(SITE) + 1:].replace(os.sep, "/")
                assert name in files, f"{page}: {href} is not a page of the site"
                assert not fragment or f'id="{fragment}"' in files[name].decode(), f"{page}: no #{fragment} in {name}"
            else:
                assert (gallery.REPORTS / target).exists(), f"{page}: {href} names no file of the gallery"


def test_pages_are_self_contained(site):
    for page, data in site[1].items():
        text = data.decode()
        assert not re.search(r'<(?:script|link)\b|src="(?!data:)', text), f"{page} loads something from outside"
        assert '<meta name="viewport"' in text and '<meta charset="utf-8">' in text


def test_a_bad_formula_is_refused_in_one_line(tmp_path, capsys):
    shutil.copytree(gallery.REPORTS / "masking", tmp_path / "masking")
    with open(tmp_path / "masking" / "report.md", "a") as report:
        report.write("\n$\\frac{1}{2} + \\nosuchmacro$\n")
    assert gallery.write_site(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: masking/report.md: cannot convert the formula")
    assert "\\nosuchmacro" in err and not (tmp_path / SITE).exists()


def test_missing_packages_are_named_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.delitem(sys.modules, "labs.report.site")
    monkeypatch.setitem(sys.modules, "latex2mathml", None)
    assert gallery.write_site(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[site]"' in err and "latex2mathml" in err


def test_help_describes_the_flag(capsys):
    with pytest.raises(SystemExit) as exit:
        gallery.main(["--help"])
    assert exit.value.code == 0 and "--html" in capsys.readouterr().out


def test_site_error_is_a_value_error():
    with pytest.raises(SiteError, match="is not in the gallery"):
        build_site({"lab/report.md": b"![missing](figures/none.svg)\n"})


# --- in the browser ------------------------------------------------------------------------------------------------

def chromium_binary():
    return next(filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome", "chrome"])), None)


class Chromium:
    """A headless chromium on a DevTools pipe: ``call`` sends a command and waits for its answer."""

    def __init__(self, binary, profile):
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()

        def on_fds_3_and_4():  # in the child: the pipe ends chromium expects (dup2'd copies are inheritable)
            a, b = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser))
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             "--allow-file-access-from-files", f"--user-data-dir={profile}", f"--window-size={WIDTH},1000",
             "about:blank"],
            preexec_fn=on_fds_3_and_4, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._events, self._id = b"", [], 0

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            if not select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, session=None, timeout=20, **params):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._id:
                assert "error" not in answer, f"{method}: {answer['error']}"
                return answer["result"]
            self._events.append(answer)

    def wait_for(self, event, session, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    return self._events.pop(i)
            self._events.append(self._receive(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, TimeoutError, EOFError, AssertionError):
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._in)
        os.close(self._out)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium): the site is not checked in a "
                    "browser")
    chromium = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        target = chromium.call("Target.createTarget", url="about:blank", timeout=60)["targetId"]
        session = chromium.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        chromium.call("Page.enable", session)
        chromium.call("Emulation.setDeviceMetricsOverride", session, width=WIDTH, height=1000, deviceScaleFactor=1,
                      mobile=False)
        yield chromium, session
    finally:
        chromium.close()


MEASURE = r"""(() => {
  const width = document.documentElement.clientWidth;
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const inScroller = el => { for (let p = el.parentElement; p; p = p.parentElement) if (scrolls(p)) return true;
                             return false; };
  const describe = el => el.tagName.toLowerCase() + ': ' + el.textContent.trim().slice(0, 60);
  const box = el => el.getBoundingClientRect();
  const loose = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode())
    if (!n.parentElement.closest('code, pre, math')) loose.push(n.textContent);
  return {
    width, window: window.innerWidth, title: document.title, scrollWidth: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight, text: document.body.innerText, prose: loose.join(''),
    math: [...document.querySelectorAll('math')].map(m => [box(m).width, box(m).height, m.textContent.slice(0, 60)]),
    images: [...document.images].map(i => [i.complete, i.naturalWidth, i.alt]),
    scrolled: [...document.querySelectorAll('.table, .math.block, math, pre')]
              .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className || e.tagName.toLowerCase()),
    wide: [...document.body.querySelectorAll('*')].filter(e => box(e).right > width + 0.5 && !inScroller(e))
          .map(describe),
  };
})()"""


def load(browser, url):
    chromium, session = browser
    chromium.call("Page.navigate", session, url=url)
    chromium.wait_for("Page.loadEventFired", session)
    result = chromium.call("Runtime.evaluate", session, expression=MEASURE, returnByValue=True)
    return result["result"]["value"]


def screenshot(browser, height, path):
    import base64

    chromium, session = browser
    shot = chromium.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1})
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("page", [*PAGES, "macros.html"])
def test_page_lays_out_in_the_browser(page, site, browser, tmp_path):
    folder, _ = site
    m = load(browser, (folder / page).as_uri())
    assert m["window"] == WIDTH and m["title"].endswith("· vecmix")
    assert m["scrollWidth"] <= m["width"], f"{page} scrolls sideways: {m['scrollWidth']} px wide"
    assert not m["wide"], f"{page}: elements past the right edge, outside a scrolling box: {m['wide'][:5]}"
    if page in ("masking.html", "macros.html"):
        assert m["math"], f"{page} has no <math>"
    flat = [(w, h, tex) for w, h, tex in m["math"] if not (w > 0 and h > 0)]
    assert not flat, f"{page}: MathML not laid out: {flat[:3]}"
    for raw in ["$$", r"\frac", r"\begin", r"\cr", r"\sqrt"]:
        assert raw not in m["text"], f"{page} shows raw LaTeX {raw!r}"
    assert "$" not in m["prose"], f"{page} shows a dollar sign outside code: unconverted math?"
    broken = [alt for complete, natural, alt in m["images"] if not (complete and natural > 0)]
    assert not broken, f"{page}: images that did not load: {broken}"
    if page == "masking.html":
        assert m["images"], "the masking page has figures"
    if page == "macros.html":
        assert "table" in m["scrolled"] and {"math block", "math"} & set(m["scrolled"]), \
            f"the wide formula and table should scroll in their boxes: {m['scrolled']}"
    screenshot(browser, m["height"], tmp_path / (page.replace("/", "_") + ".png"))
    assert (tmp_path / (page.replace("/", "_") + ".png")).stat().st_size > 10_000


def test_every_page_fits_an_800px_window(site, browser):
    """The other pages, checked more briefly: laid-out math, loaded images, nothing past the edge."""
    folder, files = site
    for page in sorted(set(files) - {*PAGES, "macros.html"}):
        m = load(browser, (folder / page).as_uri())
        assert m["scrollWidth"] <= m["width"] and not m["wide"], f"{page}: too wide: {m['wide'][:5]}"
        assert all(w > 0 and h > 0 for w, h, _ in m["math"]), f"{page}: MathML not laid out"
        assert all(complete and natural > 0 for complete, natural, _ in m["images"]), f"{page}: an image did not load"
        assert not re.search(r"\$\$|\\frac|\\begin", m["text"]) and "$" not in m["prose"], f"{page} shows raw LaTeX"


def test_the_site_is_written_by_the_command(tmp_path, capsys):
    """write_site puts the pages in reports/site/ atomically, and refuses to replace a folder that is not a site."""
    shutil.copytree(gallery.REPORTS / "masking", tmp_path / "masking")
    assert gallery.write_site(tmp_path) == 0
    assert sorted(p.name for p in (tmp_path / SITE).iterdir()) == ["index.html", "masking.html"]
    assert "open" in capsys.readouterr().out
    (tmp_path / SITE / "index.html").unlink()
    (tmp_path / SITE / "notes.txt").write_text("mine")
    assert gallery.write_site(tmp_path) == 2
    assert "holds files that are not a vecmix site" in capsys.readouterr().err
    assert (tmp_path / SITE / "notes.txt").read_text() == "mine"

