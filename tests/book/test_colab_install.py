"""The chapters' Colab setup cell keeps the JAX that is already installed (Colab's CUDA build).

Simulated as a new Colab user would meet it: a fresh environment with an older JAX preinstalled,
then the setup cell itself, run with ``google.colab`` present and the repository URL pointed at a
``git+file://`` copy of this working tree. pip must leave jax and jaxlib as they were and pick
versions of equinox, diffrax, lineax and optax that work with them; chapter 1 then runs in that
environment, importing the installed lgan (not this checkout), and with the newer JAX the package's
fast tests do too, apart from the experiment scripts (with the oldest JAX, the lower-bounds suite
runs them all on that same JAX).

Each case creates an environment and installs from the package index: a few minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from lower_bounds import lower_bounds  # noqa: E402
from snapshot import snapshot  # noqa: E402

yaml = pytest.importorskip("yaml")

REPO_URL = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
# A JAX older than the newest (0.7.2, the version with which the problem was found) and the oldest
# JAX that lgan declares.
JAX_VERSIONS = sorted({"0.7.2", lower_bounds()["jax"]})
# What Colab has besides JAX and what running a notebook needs (none of it depends on JAX).
PREINSTALLED = ["ipykernel", "nbclient", "nbformat", "PyYAML"]

pytestmark = [pytest.mark.slow, pytest.mark.installs]


def setup_cell() -> str:
    """The first code cell of chapter 1 (tests/book/test_book.py checks that every chapter has it)."""
    notebook = json.loads((ROOT / "book" / "01_introduction.ipynb").read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    return "".join(code[0]["source"])


def sh(cmd: list[str], cwd: Path, timeout: float = 1200, **kwargs) -> str:
    """Run ``cmd``; on failure, fail the test with the command's output (the timeout guards against hangs)."""
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if out.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {out.returncode}\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}")
    return out.stdout


def freeze(python: Path) -> dict[str, str]:
    lines = sh([str(python), "-m", "pip", "list", "--format=json"], python.parent).strip()
    return {p["name"].lower(): p["version"] for p in json.loads(lines)}


RUN_SETUP_CELL = textwrap.dedent(
    """
    import sys, types
    # Stand-ins for what Colab provides, so that the cell takes its Colab branch.
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: None)
    google = types.ModuleType("google")
    google.colab = colab
    sys.modules.update({"google": google, "google.colab": colab})
    exec(compile(sys.argv[1], "setup cell", "exec"))
    """
)

RUN_CHAPTER = textwrap.dedent(
    """
    import sys, nbclient, nbformat
    sys.path.insert(0, sys.argv[3])
    import sphinx_kernel_poll  # as in the book build: no stall when pyzmq misses a wake-up
    sphinx_kernel_poll.setup(None)
    nb = nbformat.read(sys.argv[1], as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": sys.argv[2]}}).execute()
    print("executed", sum(c.cell_type == "code" for c in nb.cells), "code cells")
    """
)


def jax_pins(jax_version: str) -> list[str]:
    return [f"jax=={jax_version}", f"jaxlib=={jax_version}"]


def colab_like(tmp_path: Path, jax_version: str) -> tuple[Path, Path, Path, list[str]]:
    """(python, repo, work, setup-cell command): a fresh environment with JAX preinstalled, as on Colab."""
    repo, work = tmp_path / "repo", tmp_path / "work"
    work.mkdir()
    snapshot(repo)
    sh([sys.executable, "-m", "venv", str(tmp_path / "env")], tmp_path)
    python = tmp_path / "env" / "bin" / "python"
    # Colab's pip is recent; the pip bundled with Python 3.11's venv (23.2) rejects git+file URLs.
    sh([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], tmp_path)
    sh([str(python), "-m", "pip", "install", "-q", *jax_pins(jax_version), *PREINSTALLED], tmp_path)
    # The setup cell, verbatim except for the repository it installs from.
    cell = setup_cell()
    public = f"git+{REPO_URL}@main"
    assert cell.count(public) == 1, f"the setup cell should install from {public}"
    command = [str(python), "-c", RUN_SETUP_CELL, cell.replace(public, f"git+file://{repo}@main")]
    return python, repo, work, command


@pytest.mark.parametrize("jax_version", JAX_VERSIONS)
def test_setup_cell_keeps_preinstalled_jax(tmp_path, jax_version):
    python, repo, work, setup = colab_like(tmp_path, jax_version)
    before = freeze(python)
    sh(setup, work)
    after = freeze(python)

    changed = {n: (before.get(n), v) for n, v in after.items() if before.get(n) != v}
    print(f"\njax {jax_version}: packages the setup cell installed or changed:")
    for name, (old, new) in sorted(changed.items()):
        print(f"  {name}: {old or '-'} -> {new}")
    assert (after["jax"], after["jaxlib"]) == (jax_version, jax_version), changed
    assert "lgan" in after

    # The installed lgan, not this checkout, is what the tests and the chapter import.
    where = sh([str(python), "-c", "import lgan; print(lgan.__file__)"], work).strip()
    assert Path(where).is_relative_to(tmp_path / "env"), where

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "LGAN_"))}  # not this run's settings
    if jax_version != lower_bounds()["jax"]:
        # The fast tests with the newest JAX here. At the oldest JAX, `python tasks.py lower-bounds`
        # runs every package test (slow ones too) on that same JAX, so chapter 1 suffices here.
        sh([str(python), "-m", "pip", "install", "-q", "pytest", "hypothesis", *jax_pins(jax_version)], work)
        # As in the lower-bounds suite, not the experiment scripts (tools of the book, run with the
        # pinned requirements; the package features they use are tested in tests/gan_flows).
        summary = sh([str(python), "-m", "pytest", str(repo / "tests"), "-q", "-p", "no:cacheprovider",
                      "-m", "not slow and not installs", f"--ignore={repo / 'tests' / 'experiments'}", "-x"],
                     work, env=env, timeout=3600)  # about 10 minutes alone; 20 and more beside other work
        print(summary.strip().splitlines()[-1])
    chapter = repo / "book" / "01_introduction.ipynb"
    print(sh([str(python), "-c", RUN_CHAPTER, str(chapter), str(work), str(repo / "tools")], work, env=env).strip())


def test_setup_cell_stops_rather_than_replace_a_too_old_jax(tmp_path):
    """A JAX older than lgan supports: the cell fails with pip's error, and JAX stays as it was."""
    too_old = "0.4.26"
    assert tuple(map(int, too_old.split("."))) < tuple(map(int, lower_bounds()["jax"].split(".")))
    python, _, work, setup = colab_like(tmp_path, too_old)
    out = subprocess.run(setup, cwd=work, capture_output=True, text=True, timeout=1200)
    assert out.returncode != 0, out.stdout
    assert "CalledProcessError" in out.stderr and "jax" in out.stderr.lower(), out.stderr[-3000:]
    after = freeze(python)
    assert (after["jax"], after["jaxlib"]) == (too_old, too_old)
    assert "lgan" not in after
