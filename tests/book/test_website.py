"""Checks of the BUILT website (_build/html) as a browser shows it, with headless chromium.

Run `python tasks.py book` first. Skipped when the site or chromium is missing, unless
LGAN_REQUIRE_SITE=1 (as in CI), which turns that into a failure.
"""

import functools
import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # the book's toolchain; see test_book.py
from test_book import toc_docnames  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
REQUIRE = os.environ.get("LGAN_REQUIRE_SITE") == "1"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)

if not (SITE / "index.html").exists() or CHROMIUM is None:
    why = "no built site in _build/html (run `python tasks.py book`)" if CHROMIUM else "chromium is not installed"
    if not (SITE / "index.html").exists() and CHROMIUM is None:
        why = "no built site and no chromium"
    if REQUIRE:
        pytest.fail(f"LGAN_REQUIRE_SITE=1 but {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"]["branch"]
DOCNAMES = toc_docnames()
CHAPTERS = [d for d in DOCNAMES if (ROOT / f"{d}.ipynb").exists()]
FIGURE_CHAPTERS = CHAPTERS  # every chapter draws at least one figure


@functools.cache
def dom(docname: str) -> str:
    """The DOM of a built page after its scripts (MathJax) ran, as chromium dumps it."""
    page = SITE / f"{docname}.html"
    assert page.exists(), f"{page} was not built"
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=15000",
            "--dump-dom", page.as_uri(),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "</html>" in out.stdout, out.stderr[-2000:]
    return out.stdout


# A script run in the page after MathJax has typeset it; it writes its findings (JSON) into
# <pre id="lgan-probe">, which --dump-dom returns. Layout is measured at a given window width.
_PROBE_SHELL = """
<script>
(function () {
  function report() {
    var out = document.createElement("pre");
    out.id = "lgan-probe";
    try { out.textContent = JSON.stringify((function () { %s })()); }
    catch (e) { out.textContent = JSON.stringify({probe_error: String(e)}); }
    document.body.appendChild(out);
  }
  var tries = 0;
  function start() {  // after MathJax 2's first typesetting pass ("End" of its startup)
    if (window.MathJax && MathJax.Hub && MathJax.Hub.Register) {
      MathJax.Hub.Register.StartupHook("End", function () { MathJax.Hub.Queue(report); });
    } else if (tries++ < 150) { setTimeout(start, 100); } else { report(); }
  }
  setTimeout(start, 0);
})();
</script>
"""


@functools.cache
def probe(docname: str, js: str, width: int = 1280):
    """Run ``js`` (a function body returning a JSON-able value) in a built page at ``width`` px."""
    import json

    page = SITE / f"{docname}.html"
    copy = page.with_name(f"_probe_{width}_{abs(hash(js))}_{page.name}")  # same folder: same relative links
    copy.write_text(page.read_text().replace("</body>", _PROBE_SHELL % js + "</body>"))
    try:
        with tempfile.TemporaryDirectory() as profile:
            cmd = [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=20000",
                "--hide-scrollbars", f"--window-size={width},900", "--dump-dom", copy.as_uri(),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    finally:
        copy.unlink()
    found = re.search(r'<pre id="lgan-probe"[^>]*>(.*?)</pre>', out.stdout, re.S)
    assert found, f"the probe did not run on {docname}: {out.stderr[-1000:]}"
    result = json.loads(html.unescape(found.group(1)))
    assert not (isinstance(result, dict) and "probe_error" in result), result
    return result


def notebook_title(docname: str) -> str:
    import nbformat

    nb = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
    first = nb.cells[0].source.lstrip().splitlines()[0]
    assert first.startswith("# ")
    return first[2:].strip()


# Sphinx's smartquotes turns straight quotes into typographic ones in the rendered text.
_SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).translate(_SMART_QUOTES)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_title(docname):
    h1s = [text_of(h).replace("#", "").strip() for h in re.findall(r"<h1[^>]*>(.*?)</h1>", dom(docname), re.S)]
    # Inline math in a title renders through MathJax, so compare the plain prefix.
    title = notebook_title(docname)
    plain = title.split("$")[0].strip()
    assert any(h.startswith(plain) for h in h1s), (title, h1s)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_title_and_sidebar_show_no_raw_latex(docname):
    """The browser tab, the sidebar and links show a chapter's title as plain text, not TeX source."""
    page = dom(docname)
    tab = text_of(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
    nav = re.search(r'<nav class="[^"]*bd-docs-nav.*?</nav>', (SITE / f"{docname}.html").read_text(), re.S)
    sidebar = text_of(nav.group(0)) if nav else ""
    assert sidebar, "no sidebar navigation found"
    for where, text in (("tab", tab), ("sidebar", sidebar)):
        assert not re.search(r"\$|\\\(|\\[a-zA-Z]+", text), f"raw TeX in the {where}: {text[:200]!r}"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_no_unrendered_markup_in_prose(docname):
    """A field list or directive that MyST did not parse shows as ':Name:' at the start of a paragraph."""
    raw = re.findall(r"<p>\s*(:\w+:[^<]{0,60})", dom(docname))
    assert not raw, raw


@pytest.mark.parametrize("docname", FIGURE_CHAPTERS)
def test_chapter_has_figure(docname):
    imgs = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", dom(docname))
    figures = [s for s in imgs if "_images/" in s or s.startswith("data:image")]
    assert figures, f"no figure on {docname}: {imgs}"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_equations_render(docname):
    page = dom(docname)
    assert re.search(r"<script[^>]+src=\"[^\"]*mathjax/MathJax\.js", page), "local MathJax 2 not loaded"
    rendered = re.findall(r"class=\"(?:MathJax|MathJax_Display|MathJax_CHTML|MathJax_SVG)[\" ]", page)
    assert len(rendered) > 0, "no MathJax output: equations did not render"
    assert "Math Processing Error" not in page
    assert not re.search(r"class=\"[^\"]*\bMathJax_Error\b", page), "MathJax could not typeset an equation"
    # Nothing left untypeset in the prose.
    unrendered = re.findall(r"<span class=\"math notranslate nohighlight\">\\\(", page)
    assert not unrendered or len(rendered) >= len(unrendered)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_colab_launch_button(docname):
    want = f"https://colab.research.google.com/github/{REPO_URL.removeprefix('https://github.com/')}/blob/{BRANCH}/{docname}.ipynb"
    hrefs = [html.unescape(h) for h in re.findall(r"<a\b[^>]*\bhref=\"([^\"]+)\"", dom(docname))]
    assert want in hrefs, [h for h in hrefs if "colab" in h]


@pytest.mark.parametrize("docname", CHAPTERS)
def test_no_error_output(docname):
    page = dom(docname)
    assert "Traceback" not in page
    assert not re.search(r"class=\"[^\"]*\b(output traceback|traceback|nbexec-error|cell_output_error)\b", page)
    for block in re.findall(r"<div class=\"output stderr[^\"]*\">(.*?)</div>", page, re.S):
        assert "Error" not in text_of(block), text_of(block)[:2000]


def test_api_page_documents_public_api():
    import lgan

    page = dom("book/api")
    missing = [name for name in lgan.__all__ if f'id="lgan.{name}"' not in page]
    assert not missing, f"not documented on the API page: {missing}"


def test_bibliography_page_lists_references():
    page = dom("book/bibliography")
    text = text_of(page).lower()
    for needle in ("functional space analysis of local", "simple gradient penalty", "ordinary differential equations"):
        assert needle in text, needle


def test_every_reference_links_to_the_work():
    """Each bibliography entry carries an arXiv id, a DOI or a URL, rendered as a link."""
    entries = re.findall(r'role="doc-biblioentry">(.*?)</div>', dom("book/bibliography"), re.S)
    assert len(entries) == len(re.findall(r"^@", (ROOT / "references.bib").read_text(), re.M)), "one entry per .bib entry"
    unlinked = [text_of(e)[:60] for e in entries if not re.search(r'href="https://(arxiv\.org|doi\.org|\w)', e)]
    assert not unlinked, f"references without a link: {unlinked}"


@pytest.mark.parametrize(
    "noise",
    [
        "Alias for field number",  # NamedTuple fields repeated by autodoc
        "Built-in immutable sequence",  # tuple's docstring under a tuple constant
        "jaxlib._jax",  # JAX's private module path for jax.Array
    ],
)
def test_api_page_has_no_autodoc_noise(noise):
    assert noise not in text_of(dom("book/api"))


def test_index_redirects_to_introduction():
    assert TOC["root"].split("/")[-1] in (SITE / "index.html").read_text()


# Display equations whose typeset width exceeds their box and that cannot be scrolled: clipped.
_CLIPPED_EQUATIONS = """
var clipped = [];
document.querySelectorAll("div.math").forEach(function (box) {
  var eq = box.querySelector(".MathJax_Display, .MathJax_SVG_Display, .MathJax_CHTML") || box;
  var shown = eq.getBoundingClientRect(), right = shown.right, left = shown.left;
  eq.querySelectorAll("*").forEach(function (el) {  // how far the typeset glyphs reach
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) { right = Math.max(right, r.right); left = Math.min(left, r.left); }
  });
  var style = getComputedStyle(eq);
  // A scroll bar reaches what overflows on the right, never what overflows on the left.
  var scrolls = (style.overflowX === "auto" || style.overflowX === "scroll") && left >= shown.left - 1;
  var fits = right <= shown.right + 1 && left >= shown.left - 1;
  if (!fits && !scrolls) { clipped.push(box.id + ": " + Math.round(right - left) + " px in " + Math.round(shown.width)); }
});
return clipped;
"""


@pytest.mark.parametrize("width", [1280, 414])
@pytest.mark.parametrize("docname", CHAPTERS)
def test_display_math_never_clips(docname, width):
    """Every display equation fits the column or scrolls within it, at laptop and phone width."""
    assert probe(docname, _CLIPPED_EQUATIONS, width) == []


# ---------------------------------------------------------------------------------------------
# What a reader sees (CONTRIBUTING.md): tables, figures, widgets, code width, build noise.
from test_chapter_pages import MAX_LINE, MIN_FONT_PT  # noqa: E402  (the source-side rules)

MIN_TEXT_PX = 9  # the smallest figure text on the page at 1280 px

# The text a reader sees: prose, tables and printed output, without code (folded or not) and
# without what is folded away. innerText skips elements that are not rendered.
_READER_TEXT = """
document.querySelectorAll("div.cell_input, details.hide").forEach(function (e) { e.style.display = "none"; });
var article = document.querySelector("article.bd-article");
return article ? article.innerText : "";
"""


@functools.cache
def reader_text(docname: str) -> str:
    return probe(docname, _READER_TEXT, 1280)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_tables_render_as_tables(docname):
    """A printed pipe table is parsed into a table, not shown as rows of '|' and '---'."""
    raw = re.findall(r".{0,40}\|\s*(?:-{3,}|\u2014|:-+:?)\s*\|.{0,20}", reader_text(docname))
    assert not raw, raw[:3]


_FIGURES = """
return Array.from(document.querySelectorAll("article.bd-article img")).filter(function (im) {
  return im.closest(".cell_output") !== null;
}).map(function (im) {
  var fig = im.closest("figure"), cap = fig ? fig.querySelector("figcaption") : null;
  return {src: im.getAttribute("src"), natural: im.naturalWidth, shown: im.getBoundingClientRect().width,
          alt: im.getAttribute("alt") || "", caption: cap ? cap.innerText.trim() : ""};
});
"""


@pytest.mark.parametrize("docname", FIGURE_CHAPTERS)
def test_figures_are_numbered_captioned_and_readable(docname):
    """Every figure has a number, a caption, alt text, and no text below 9 px at 1280 px.

    The smallest text of a figure is MIN_FONT_PT (test_chapter_pages.py) at the dpi stored in the
    PNG; on the page it is scaled by shown / natural width.
    """
    from PIL import Image

    figures = probe(docname, _FIGURES, 1280)
    assert figures, "no figure in the cell outputs"
    problems = []
    for fig in figures:
        name = fig["src"].rsplit("/", 1)[-1][:12]
        if not re.match(r"Fig\. \d+", fig["caption"]) or len(fig["caption"]) < 40:
            problems.append(f"{name}: no numbered caption ({fig['caption'][:40]!r})")
        if len(fig["alt"]) < 20 or re.fullmatch(r"[0-9a-f]{16,}", fig["alt"]):
            problems.append(f"{name}: alt text {fig['alt'][:20]!r}")
        dpi = Image.open((SITE / docname).parent / fig["src"]).info.get("dpi", (72, 72))[0]
        smallest = MIN_FONT_PT * dpi / 72 * min(1.0, fig["shown"] / fig["natural"])
        if smallest < MIN_TEXT_PX:
            problems.append(f"{name}: {fig['natural']} px shown at {fig['shown']:.0f} px, text {smallest:.1f} px")
    assert not problems, problems


@pytest.mark.parametrize("docname", CHAPTERS)
def test_no_widget_areas(docname):
    """Widgets run with a kernel only: the website has no widget views, state or widget scripts."""
    page = dom(docname)
    assert "application/vnd.jupyter.widget" not in page, "a widget view or state reached the page"
    assert not re.search(r'class="[^"]*\b(jupyter-widgets|widget-area|widget-subarea)\b', page)
    external = re.findall(r'<script[^>]+src="(https?://[^"]+)"', page)
    assert not external, f"scripts from the network: {external}"


_OVERFLOWING_BLOCKS = """
document.querySelectorAll("details").forEach(function (d) { d.open = true; });
var wide = [];
document.querySelectorAll("article.bd-article pre").forEach(function (pre) {
  if (pre.scrollWidth > pre.clientWidth + 1) {
    var longest = pre.innerText.split("\\n").reduce(function (a, b) { return b.length > a.length ? b : a; }, "");
    wide.push(longest.slice(0, 60) + " (" + longest.length + " chars)");
  }
});
return wide;
"""


@pytest.mark.parametrize("docname", CHAPTERS)
def test_code_and_output_fit_the_column(docname):
    """At 1280 px no code or output block, folded ones opened, needs a scroll bar (lines <= MAX_LINE)."""
    assert probe(docname, _OVERFLOWING_BLOCKS, 1280) == []


_NOISE = {
    "a path of the build machine": r"(?:/work/|/home/|/tmp/|/root/|/Users/|site-packages|[A-Z]:\\\\)",
    "timings": r"\b(?:CPU time|wall[- ]clock time|wall time|\d+(?:\.\d+)? s (?:of )?(?:CPU|wall))\b",
    "the backend": r"\bbackend\s*[:=]\s*(?:cpu|gpu|tpu)\b",
    "an internal label": r"\bch\d+-(?:eq|thm|fig|lem|rem|def|cor|alg|prop|tab)-[\w-]+",
}


@pytest.mark.parametrize("what", sorted(_NOISE))
@pytest.mark.parametrize("docname", CHAPTERS)
def test_no_build_noise(docname, what):
    """What a reader sees holds no paths, timings or backend of the build, nor internal labels."""
    found = re.findall(rf".{{0,40}}{_NOISE[what]}.{{0,20}}", reader_text(docname), re.I)
    assert not found, f"{what}: {found[:3]}"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_author_year_mentions_are_cited(docname):
    """'Name et al. (2020)' or 'Name and Name, 2020' in the text is followed by its citation."""
    text = reader_text(docname)
    mention = r"[A-Z][\w'\u2019-]+ (?:et al\.|and [A-Z][\w'\u2019-]+),? \(?(?:19|20)\d\d\)?"
    uncited = [m.group(0) for m in re.finditer(mention, text) if not re.match(r"\s*[\[(]?\s*\[", text[m.end():])]
    assert not uncited, uncited


_OVERFLOWING_TABLES = """
var bad = [], article = document.querySelector("article.bd-article");
if (!article) return ["no article"];
var col = article.getBoundingClientRect();
article.querySelectorAll("table").forEach(function (table) {
  if (table.getBoundingClientRect().right <= col.right + 1) return;
  // Wider than the column: an ancestor within the column must scroll it.
  for (var e = table.parentElement; e && e !== article; e = e.parentElement) {
    var ox = getComputedStyle(e).overflowX;
    if ((ox === "auto" || ox === "scroll") && e.getBoundingClientRect().right <= col.right + 1) return;
  }
  bad.push(table.innerText.slice(0, 50));
});
return bad;
"""


@pytest.mark.parametrize("width", [1280, 414])
@pytest.mark.parametrize("docname", CHAPTERS)
def test_tables_fit_or_scroll(docname, width):
    """A result table wider than the column scrolls inside it (phone width included)."""
    assert probe(docname, _OVERFLOWING_TABLES, width) == []


def test_figures_open_at_full_size():
    """A click on a figure opens the image itself (book/_static/lgan.js)."""
    links = probe(CHAPTERS[1], 'return Array.from(document.querySelectorAll("a.lgan-figure-link")).map(a => a.href);')
    assert links and all("/_images/" in href for href in links), links


def test_errata_page_links_every_entry_to_where_the_book_shows_it():
    """One table per paper; every row ends in a link to a chapter (a remark, an equation or a page)."""
    page = dom("book/errata")
    tables = re.findall(r"<table.*?</table>", page, re.S)
    assert len(tables) == 4, len(tables)
    for table in tables:
        for row in re.findall(r"<tr class=\"row-(?:odd|even)\">(.*?)</tr>", table, re.S)[1:]:
            last = re.findall(r"<td>(.*?)</td>", row, re.S)[-1]
            assert re.search(r'href="\d\d_[a-z_]+\.html(#[\w-]+)?"', last), text_of(row)[:80]
