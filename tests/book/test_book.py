"""Hygiene of the book sources: the notebooks in _toc.yml, their setup cell, and _config.yml."""

import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

# The book's toolchain (requirements.txt). Environments with the package alone (`tasks.py
# lower-bounds`, the Colab simulation) may lack it and skip these tests.
nbformat = pytest.importorskip("nbformat")
yaml = pytest.importorskip("yaml")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from execute_chapters import toc_docnames  # noqa: E402  (one reading of _toc.yml for the build and the tests)

ROOT = Path(__file__).resolve().parents[2]

# The first code cell of every chapter, verbatim. On Colab it installs lgan; elsewhere it does nothing.
SETUP_CELL = '''# Setup: on Colab, install lgan beside Colab's own JAX; elsewhere, nothing.
import sys
if "google.colab" in sys.modules:
    import subprocess
    from importlib.metadata import version
    # Pin Colab's jax and jaxlib (its CUDA build): pip picks releases of
    # equinox, diffrax and optax that fit them, or stops with an error.
    keep_jax = [f"{n}=={version(n)}" for n in ("jax", "jaxlib")]
    package = "lgan @ git+https://github.com/lgan-book/lgan@main"
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, package, *keep_jax], check=True)
    from google.colab import output
    output.enable_custom_widget_manager()  # for the widgets
try:  # numbers in the text come from the computation (myst-nb glue, on the website)
    from myst_nb import glue
except ImportError:  # Colab, plain Jupyter: the printed output shows the numbers

    def glue(name, value, display=True):
        """myst-nb's glue where no website is built: does nothing."""'''


def load_yaml(name):
    return yaml.safe_load((ROOT / name).read_text())


def toc_notebooks():
    return [d for d in toc_docnames() if (ROOT / f"{d}.ipynb").exists() or not (ROOT / f"{d}.md").exists()]


CONFIG = load_yaml("_config.yml")
REPO_URL = CONFIG["repository"]["url"]
NOTEBOOKS = toc_notebooks()


def test_toc_lists_chapters_and_pages():
    names = toc_docnames()
    assert names[0] == "book/01_introduction"
    assert {"book/api", "book/bibliography"} <= set(names)
    for name in names:
        assert (ROOT / f"{name}.ipynb").exists() or (ROOT / f"{name}.md").exists(), name
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_notebook_is_clean(docname):
    path = ROOT / f"{docname}.ipynb"
    assert path.exists(), f"{path} listed in _toc.yml is missing"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in nb.metadata, "widget state stored: run tools/strip_outputs.py"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs: run tools/strip_outputs.py"
            assert cell.execution_count is None, f"cell {i} has an execution_count"
        assert "widgets" not in cell.metadata, f"cell {i} stores widget state"
    # The raw JSON too: no stray widget views or data left behind.
    raw = path.read_text()
    assert "application/vnd.jupyter.widget-state+json" not in raw
    assert "application/vnd.jupyter.widget-view+json" not in raw


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_first_code_cell_is_the_setup_cell(docname):
    nb = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a chapter needs code cells"
    assert code[0].source.strip() == SETUP_CELL, "first code cell must be the standard setup cell"
    # A title comes first.
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.lstrip().startswith("# ")


def test_repository_url_is_defined_once():
    assert REPO_URL.startswith("https://github.com/") and not REPO_URL.endswith("/")
    urls = re.findall(r"git\+(https://github\.com/[^@\"\s]+)@", SETUP_CELL)
    assert urls == [REPO_URL], "the setup cell installs from a different repository than _config.yml"
    branch = re.findall(r"@(\w+)\"", SETUP_CELL)
    assert branch == [CONFIG["repository"]["branch"]]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Repository"] == REPO_URL
    assert REPO_URL in (ROOT / "README.md").read_text()


def test_config_executes_strictly():
    execute = CONFIG["execute"]
    # Cached outputs, but never stale ones: the cache is emptied when the package or the
    # configuration changes (tools/execute_chapters.py), and every build goes through that script.
    assert execute["execute_notebooks"] == "cache"
    assert "tools/execute_chapters.py" in (ROOT / "tasks.py").read_text()
    assert execute.get("allow_errors") is False
    assert 0 < int(execute["timeout"]) <= 1800
    sphinx = CONFIG["sphinx"]["config"]
    assert sphinx["nb_execution_raise_on_error"] is True
    # A reply that pyzmq fails to signal must not stall a chapter for the whole cell timeout.
    assert CONFIG["sphinx"]["local_extensions"]["sphinx_kernel_poll"] == "tools/"
    assert (ROOT / "tools" / "sphinx_kernel_poll.py").exists()
    assert CONFIG["only_build_toc_files"] is True
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    # "" (not "."): the Colab link must read .../blob/main/book/NN_name.ipynb
    assert CONFIG["repository"]["path_to_book"] == ""


def test_bibliography_keys_resolve():
    """Every {cite} key used in a chapter exists in references.bib."""
    bib = (ROOT / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,\s]+),", bib))
    used = set()
    for docname in toc_docnames():
        for suffix in (".ipynb", ".md"):
            path = ROOT / f"{docname}{suffix}"
            if path.exists():
                text = path.read_text()
                if suffix == ".ipynb":
                    text = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                                     for c in json.loads(text)["cells"])
                for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
                    used.update(k.strip() for k in group.split(","))
    assert used, "no citations found"
    assert used <= keys, f"unknown citation keys: {sorted(used - keys)}"
