"""How a chapter is laid out for the reader, checked on the notebook sources (CONTRIBUTING.md).

The browser tests (test_website.py) check the same rules on the built pages; these run without a
build and name the cell to fix.
"""

import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from execute_chapters import toc_docnames  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = [d for d in toc_docnames() if (ROOT / f"{d}.ipynb").exists()]

MAX_LINE = 88  # characters in a code or printed line: 88 fit the column at 1280 px (test_website.py)
MAX_CELL = 30  # lines in a code cell the reader sees
MAX_HIDDEN_CELL = 40  # lines in a folded plotting cell
MIN_FONT_PT = 8  # the smallest text in a figure; test_website.py checks it is >= 9 px on the page


def cells(docname):
    return nbformat.read(ROOT / f"{docname}.ipynb", as_version=4).cells


def code_cells(docname):
    return [(i, c) for i, c in enumerate(cells(docname)) if c.cell_type == "code"]


def tags(cell):
    return set(cell.metadata.get("tags", []))


def is_setup(cell):
    return cell.source.startswith("# Setup: on Colab")


def draws(source):
    """Whether a cell draws with matplotlib (makes or fills a figure)."""
    source = re.sub(r"plt\.rcParams(\.update\(\s*\{.*?\}\s*\))?", "", source, flags=re.S)  # the style
    return bool(re.search(r"\bplt\.|\bfig\.|\bax(es)?(\[[^]]*\])?\.|\.imshow\(", source))


@pytest.mark.parametrize("docname", CHAPTERS)
def test_code_lines_fit_the_column(docname):
    long = [(i, n + 1, len(line)) for i, c in code_cells(docname) for n, line in enumerate(c.source.splitlines())
            if len(line) > MAX_LINE]
    assert not long, f"(cell, line, length) longer than {MAX_LINE} characters: {long}"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_code_cells_are_short(docname):
    for i, c in code_cells(docname):
        if is_setup(c) or "remove-cell" in tags(c):
            continue
        limit = MAX_HIDDEN_CELL if "hide-input" in tags(c) else MAX_CELL
        n = len(c.source.strip().splitlines())
        assert n <= limit, f"cell {i} has {n} lines (at most {limit}): move the computation into lgan or split it"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_check_cells_are_folded_with_a_summary(docname):
    """A cell that asserts is a check: folded (hide-input), printing what it checked."""
    for i, c in code_cells(docname):
        if re.search(r"^\s*assert\b", c.source, re.M):
            assert "hide-input" in tags(c), f"check cell {i} is not tagged hide-input"
            assert "print(" in c.source, f"check cell {i} prints no summary of what it checked"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_plotting_cells_are_folded_and_captioned(docname):
    """A cell that shows a figure is folded and gives it a name, a caption and alt text."""
    for i, c in code_cells(docname):
        if is_setup(c) or "remove-cell" in tags(c) or not draws(c.source):
            continue
        assert "hide-input" in tags(c), f"plotting cell {i} is not tagged hide-input"
        if "def " in c.source and "plt.show()" not in c.source:
            continue  # defines drawing functions, shows nothing
        figure = c.metadata.get("mystnb", {}).get("figure", {})
        image = c.metadata.get("mystnb", {}).get("image", {})
        assert re.fullmatch(r"fig-ch\d+-[a-z0-9-]+", figure.get("name", "")), f"cell {i}: figure name fig-chN-..."
        assert len(figure.get("caption", "")) >= 40, f"cell {i}: a caption that says what to see"
        assert len(image.get("alt", "")) >= 20, f"cell {i}: alt text"
        assert c.source.count("plt.show()") <= 1, f"cell {i} shows more than one figure"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_figure_text_is_not_too_small(docname):
    """No figure text below MIN_FONT_PT (test_website.py turns that into pixels on the page)."""
    named_small = ("xx-small", "x-small")
    for i, c in code_cells(docname):
        for size in re.findall(r"\b(?:fontsize|labelsize|size|title_fontsize)\s*=\s*([0-9.]+)", c.source):
            assert float(size) >= MIN_FONT_PT, f"cell {i}: font size {size} < {MIN_FONT_PT} pt"
        for name in named_small:
            assert f'"{name}"' not in c.source and f"'{name}'" not in c.source, f"cell {i}: font size {name}"
    style = next(c for _, c in code_cells(docname) if "plt.rcParams" in c.source)
    assert "font.size" in style.source


@pytest.mark.parametrize("docname", CHAPTERS)
def test_widgets_are_for_readers_with_a_kernel(docname):
    """A widget cell is removed from the website, next to a static figure and a note that says so."""
    all_cells = cells(docname)
    for i, c in enumerate(all_cells):
        if c.cell_type == "code" and "widgets.interact" in c.source:
            assert "remove-cell" in tags(c), f"widget cell {i} is not tagged remove-cell"
            note = all_cells[i - 1]
            assert note.cell_type == "markdown" and "Colab" in note.source, f"cell {i - 1}: say where it runs"


@pytest.mark.parametrize("docname", [d for d in CHAPTERS if not d.endswith("01_introduction")])
def test_chapter_ends_with_exercises(docname):
    """Two or three exercises, solutions folded; one asks for a prediction before running."""
    text = "\n".join(c.source for c in cells(docname) if c.cell_type == "markdown")
    assert re.search(r"^## Exercises\s*$", text, re.M), "no '## Exercises' section"
    exercises = text.split("## Exercises", 1)[1]
    n = len(re.findall(r"^\*\*Exercise \d+", exercises, re.M))
    assert 2 <= n <= 4, f"{n} exercises"
    assert len(re.findall(r":::\{admonition\} Solution\n:class: dropdown", exercises)) == n, "fold each solution"
    assert re.search(r"\bpredict", exercises, re.I), "one exercise asks the reader to predict before running"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_no_build_noise_in_code(docname):
    """Timings, the backend and paths of the machine that built the page are not the reader's business."""
    for i, c in code_cells(docname):
        assert not re.search(r"perf_counter|time\.time\(|process_time", c.source), f"cell {i} measures time"
        assert not re.search(r"print\((?:[^()]|\([^()]*\))*default_backend", c.source), f"cell {i} prints the backend"
