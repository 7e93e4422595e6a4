#!/usr/bin/env python3
"""The project's two commands, runnable with nothing but Python 3.11+.

    python tasks.py book        build the website into _build/html (executes every chapter)
    python tasks.py test [ARGS] run pytest; ARGS go to pytest, e.g. -m "not slow" or -k website
    python tasks.py lower-bounds [ARGS]
                                run the package tests with every dependency at the lower bound
                                that pyproject.toml declares (in .venv-lower)
    python tasks.py clean       remove _build, the copied MathJax (_mathjax) and the JAX cache

`book` and `test` first make sure `.venv` (in the repository root) exists and holds
requirements.txt plus this package installed editable. The install is skipped when
`.venv/.lgan-stamp` records the hash of requirements.txt and pyproject.toml.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOWER_VENV = ROOT / ".venv-lower"  # every dependency at its declared lower bound
BUILD = ROOT / "_build"
MATHJAX_DEST = ROOT / "_mathjax" / "mathjax"  # served as _static/mathjax/ (html_static_path)
# XLA's persistent compilation cache for the book build and the tests (git-ignored): an unchanged
# computation is compiled once, then read from disk by later chapters, rebuilds and test runs.
JAX_CACHE = ROOT / ".jax_cache"


def say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def exe(name: str, venv_dir: Path = VENV) -> str:
    folder = venv_dir / ("Scripts" if os.name == "nt" else "bin")
    return str(folder / (name + (".exe" if os.name == "nt" else "")))


def run(cmd: list[str], **kwargs) -> int:
    say("$ " + " ".join(cmd))
    return subprocess.call(cmd, cwd=ROOT, **kwargs)


def check(cmd: list[str]) -> None:
    rc = run(cmd)
    if rc != 0:
        say(f"command failed with exit code {rc}")
        sys.exit(rc)


def deps_hash(extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for name in ("requirements.txt", "pyproject.toml"):
        h.update(name.encode())
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_venv(venv_dir: Path, install: list[list[str]], what: str) -> None:
    """Create ``venv_dir`` and run the pip ``install`` argument lists in it, unless its stamp is current."""
    stamp = venv_dir / ".lgan-stamp"
    if not Path(exe("python", venv_dir)).exists():
        say(f"creating virtual environment {venv_dir.relative_to(ROOT)}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    want = deps_hash(repr(install))
    if stamp.exists() and stamp.read_text().strip() == want:
        say(f"{venv_dir.relative_to(ROOT)} is up to date (requirements.txt and pyproject.toml unchanged)")
        return
    t0 = time.perf_counter()
    say(f"installing {what} into {venv_dir.relative_to(ROOT)}")
    pip = [exe("python", venv_dir), "-m", "pip", "--disable-pip-version-check"]
    check(pip + ["install", "--upgrade", "pip", "setuptools>=68"])
    for args in install:
        check(pip + ["install", *args])
    check(pip + ["check"])
    stamp.write_text(want + "\n")
    say(f"install done in {time.perf_counter() - t0:.0f} s")


def ensure_book_venv() -> None:
    ensure_venv(VENV, [["-r", "requirements.txt"], ["--no-deps", "-e", "."]],
                "requirements.txt and lgan (editable)")


def jax_cache_env() -> dict[str, str]:
    """The environment with XLA's persistent compilation cache in JAX_CACHE (every compile is kept)."""
    return {
        **os.environ,
        "JAX_COMPILATION_CACHE_DIR": str(JAX_CACHE),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


def copy_mathjax() -> None:
    """Copy MathJax 2 (from the jupyter-server-mathjax wheel) into _mathjax/mathjax/."""
    if (ROOT / "_static").is_dir():
        # jupyter-book turns every .js under html_static_path into a <script> on every page
        # as soon as a root _static/ folder exists: that would load all of MathJax's files.
        say("a root _static/ folder makes jupyter-book load every MathJax file on every page; "
            "put custom static files elsewhere (and list them in _config.yml)")
        sys.exit(1)
    out = subprocess.run(
        [exe("python"), "-c", "import jupyter_server_mathjax, pathlib; "
         "print(pathlib.Path(jupyter_server_mathjax.__file__).parent / 'static')"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    src = Path(out.stdout.strip())
    if not (src / "MathJax.js").exists():
        say(f"MathJax.js not found in {src}")
        sys.exit(1)
    if (MATHJAX_DEST / "MathJax.js").exists():
        say(f"MathJax already in {MATHJAX_DEST.relative_to(ROOT)}/")
        return
    say(f"copying MathJax 2 from {src} to {MATHJAX_DEST.relative_to(ROOT)}/")
    shutil.rmtree(MATHJAX_DEST, ignore_errors=True)
    shutil.copytree(src, MATHJAX_DEST)


def cmd_book(args: list[str]) -> int:
    ensure_book_venv()
    copy_mathjax()
    t0 = time.perf_counter()
    say("executing the chapters, one per CPU core, into _build/.jupyter_cache")
    rc = run([exe("python"), "tools/execute_chapters.py"], env=jax_cache_env())
    if rc != 0:
        return rc
    say("building the book (chapters not executed above run now; warnings are errors)")
    rc = run([exe("jupyter-book"), "build", ".", "-W", "-n", "--keep-going", *args], env=jax_cache_env())
    say(f"book build finished in {time.perf_counter() - t0:.0f} s with exit code {rc}")
    if rc == 0:
        say(f"open {BUILD / 'html' / 'index.html'}")
    return rc


def pytest(venv_dir: Path, args: list[str]) -> int:
    # One pytest-xdist worker per core, unless the caller chose (-n 0 runs in one process): most
    # tests are a short XLA compile and a run, and the environment-building tests wait on pip.
    if not any(a.startswith(("-n", "--numprocesses")) for a in args):
        args = ["-n", "auto", "--dist", "worksteal", *args]
    args = ["--durations=20", *args]  # the slowest tests, for whoever trims the CI time next
    t0 = time.perf_counter()
    rc = run([exe("python", venv_dir), "-m", "pytest", *args], env=jax_cache_env())
    say(f"pytest finished in {time.perf_counter() - t0:.0f} s with exit code {rc}")
    if rc == 5:
        say("pytest collected no tests: treating that as a failure")
        return 1
    return rc


def cmd_test(args: list[str]) -> int:
    ensure_book_venv()
    return pytest(VENV, args)


def cmd_lower_bounds(args: list[str]) -> int:
    """The package tests (not the book's) with every dependency pinned to its declared lower bound."""
    if not Path(exe("python", LOWER_VENV)).exists():
        say(f"creating virtual environment {LOWER_VENV.relative_to(ROOT)}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(LOWER_VENV)
    constraints = LOWER_VENV / "lower-bounds.txt"
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "lower_bounds.py")],
                         check=True, capture_output=True, text=True)
    constraints.write_text(out.stdout)
    say("lower bounds from pyproject.toml: " + ", ".join(
        line for line in out.stdout.splitlines() if not line.startswith("#")))
    ensure_venv(LOWER_VENV, [["-c", str(constraints), "-e", ".[test]"]],
                "lgan (editable) with its dependencies at their lower bounds")
    check([exe("python", LOWER_VENV), "-m", "pip", "list", "--format=freeze"])
    # The book's own tests need the book toolchain (requirements.txt) and skip without it;
    # the tests that create environments of their own run once, in .venv.
    # tests/experiments run the repository's experiment scripts (tools of the book, run with the
    # pinned requirements); the package features they use are tested here in tests/gan_flows.
    return pytest(LOWER_VENV, ["-m", "not installs", "--ignore=tests/experiments", *args])


def cmd_clean(args: list[str]) -> int:
    for path in (BUILD, MATHJAX_DEST.parent, JAX_CACHE):
        if path.exists():
            say(f"removing {path.relative_to(ROOT)}/")
            shutil.rmtree(path)
    return 0


COMMANDS = {"book": cmd_book, "test": cmd_test, "lower-bounds": cmd_lower_bounds, "clean": cmd_clean}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    if sys.version_info < (3, 11):
        say("Python 3.11 or newer is needed")
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
