#!/usr/bin/env python3
"""Copy the working tree into a fresh git repository, as a clean clone of it would look.

    python tools/snapshot.py DEST

DEST receives the files git tracks and the untracked ones it does not ignore (so uncommitted work
is included, and .venv, _build and caches are not), committed on a branch ``main``. The Colab
install test installs lgan from it with ``git+file://``; benchmarks/book_build.py builds it cold.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_GIT = ["git", "-c", "user.name=lgan", "-c", "user.email=lgan@localhost", "-c", "commit.gpgsign=false"]


def _git(args: list[str], cwd: Path) -> str:
    return subprocess.run(_GIT + args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def snapshot(dest: Path, source: Path = ROOT) -> Path:
    """Copy ``source``'s tracked and untracked-not-ignored files to ``dest``, committed on ``main``."""
    dest.mkdir(parents=True, exist_ok=True)
    names = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], source).split("\0")
    for name in filter(None, names):
        if (source / name).is_file():  # a deleted but still tracked file is skipped
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dest / name)
    _git(["init", "-q", "-b", "main"], dest)
    _git(["add", "-A"], dest)
    _git(["commit", "-q", "-m", "snapshot of the working tree"], dest)
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    print(snapshot(Path(sys.argv[1]).resolve()))
