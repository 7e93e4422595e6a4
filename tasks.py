#!/usr/bin/env python3
"""The project's two commands, runnable with nothing but Python 3.11+.

    python tasks.py book        build the website into _build/html (executes every chapter)
    python tasks.py test [ARGS] run pytest; ARGS go to pytest, e.g. -m "not slow" or -k website
    python tasks.py clean       remove _build and the copied MathJax (_mathjax)

Each command first makes sure `.venv` (in the repository root) exists and holds
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
STAMP = VENV / ".lgan-stamp"
BUILD = ROOT / "_build"
MATHJAX_DEST = ROOT / "_mathjax" / "mathjax"  # served as _static/mathjax/ (html_static_path)
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def exe(name: str) -> str:
    path = BIN / (name + (".exe" if os.name == "nt" else ""))
    return str(path)


def run(cmd: list[str], **kwargs) -> int:
    say("$ " + " ".join(cmd))
    return subprocess.call(cmd, cwd=ROOT, **kwargs)


def check(cmd: list[str]) -> None:
    rc = run(cmd)
    if rc != 0:
        say(f"command failed with exit code {rc}")
        sys.exit(rc)


def deps_hash() -> str:
    h = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        h.update(name.encode())
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    if not Path(exe("python")).exists():
        say(f"creating virtual environment {VENV.relative_to(ROOT)}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    want = deps_hash()
    if STAMP.exists() and STAMP.read_text().strip() == want:
        say(".venv is up to date (requirements.txt and pyproject.toml unchanged)")
        return
    t0 = time.perf_counter()
    say("installing requirements.txt and lgan (editable) into .venv")
    pip = [exe("python"), "-m", "pip", "--disable-pip-version-check"]
    check(pip + ["install", "--upgrade", "pip", "setuptools>=68"])
    check(pip + ["install", "-r", "requirements.txt"])
    check(pip + ["install", "--no-deps", "-e", "."])
    check(pip + ["check"])
    STAMP.write_text(want + "\n")
    say(f"install done in {time.perf_counter() - t0:.0f} s")


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
    ensure_venv()
    copy_mathjax()
    t0 = time.perf_counter()
    say("building the book (executes every chapter; warnings are errors)")
    rc = run([exe("jupyter-book"), "build", ".", "-W", "-n", "--keep-going", *args])
    say(f"book build finished in {time.perf_counter() - t0:.0f} s with exit code {rc}")
    if rc == 0:
        say(f"open {BUILD / 'html' / 'index.html'}")
    return rc


def cmd_test(args: list[str]) -> int:
    ensure_venv()
    t0 = time.perf_counter()
    rc = run([exe("python"), "-m", "pytest", *args])
    say(f"pytest finished in {time.perf_counter() - t0:.0f} s with exit code {rc}")
    if rc == 5:
        say("pytest collected no tests: treating that as a failure")
        return 1
    return rc


def cmd_clean(args: list[str]) -> int:
    for path in (BUILD, MATHJAX_DEST.parent):
        if path.exists():
            say(f"removing {path.relative_to(ROOT)}/")
            shutil.rmtree(path)
    return 0


COMMANDS = {"book": cmd_book, "test": cmd_test, "clean": cmd_clean}


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
