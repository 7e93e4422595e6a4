#!/usr/bin/env python3
"""Execute the book's chapters, several at a time, into the Jupyter cache that the book build reads.

    .venv/bin/python tools/execute_chapters.py [--jobs N] [book/NN_name.ipynb ...]

`python tasks.py book` runs this before `jupyter-book build`. The chapters run N at a time (default:
one per CPU core), each in its own kernel, exactly as myst-nb would run them (jupyter-cache's
worker, the notebook's folder as working directory, the timeout of _config.yml), and the build
then takes their outputs from _build/.jupyter_cache (`execute_notebooks: cache`). Sphinx itself
reads serially: two of the extensions jupyter-book adds do not declare parallel reading safe.

A chapter whose code cells are unchanged since it was cached is not run again (editing prose costs
no execution). The whole cache is emptied when the package, requirements.txt, pyproject.toml or
_config.yml change (a stamp holds their hash), so no output outlives the code that made it; CI
starts from a clean clone, with an empty cache. A chapter that fails here stays uncached: the
build runs it again and fails with its error.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"  # myst-nb's default: next to _build/html
STAMP = CACHE / "lgan-code-hash"


def code_hash() -> str:
    """Hash of everything besides a chapter's own code that its outputs depend on."""
    h = hashlib.sha256()
    files = sorted((ROOT / "lgan").rglob("*.py")) + sorted((ROOT / "lgan" / "_results").glob("*"))  # the result files chapters read
    files += [ROOT / n for n in ("requirements.txt", "pyproject.toml", "_config.yml")]
    for path in files:
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def toc_docnames() -> list[str]:
    """The documents of _toc.yml (root, chapters, sections), in reading order, without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return names


def toc_notebooks() -> list[Path]:
    """The .ipynb files of _toc.yml, in reading order."""
    return [ROOT / f"{name}.ipynb" for name in toc_docnames() if (ROOT / f"{name}.ipynb").exists()]


def main() -> int:
    # Imported here: tests/test_book.py imports toc_docnames where jupyter-cache may be missing.
    from jupyter_cache import get_cache
    from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sphinx_kernel_poll

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="chapters run at once")
    parser.add_argument("chapters", nargs="*", type=Path, help="run only these notebooks (default: every chapter)")
    args = parser.parse_args()
    chapters = [p.resolve() for p in args.chapters] or toc_notebooks()

    want = code_hash()
    if CACHE.exists() and (not STAMP.exists() or STAMP.read_text().strip() != want):
        print("[execute] package or configuration changed since the cached outputs: emptying the cache", flush=True)
        shutil.rmtree(CACHE)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(CACHE))
    STAMP.write_text(want + "\n")

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]
    for path in chapters:
        cache.add_nb_to_project(str(path))
    todo = [r for r in cache.list_unexecuted() if Path(r.uri) in set(chapters)]
    if not todo:
        print("[execute] every chapter's outputs are cached", flush=True)
        return 0
    # Later chapters first: they train networks and run longest, and must not be the last to start.
    todo.sort(key=lambda r: r.uri, reverse=True)
    print(f"[execute] running {len(todo)} chapter(s), {args.jobs} at a time", flush=True)

    sphinx_kernel_poll.setup(None)  # inherited by the forked workers
    # No widget state in the cached outputs: the website shows each widget's static figure instead
    # (the widget cells are tagged remove-cell), so it needs neither the state (hundreds of kB per
    # page) nor the CDN scripts that myst-nb adds for it. (Executing with nbclient's
    # store_widget_state=False instead makes its Output-widget hook fail with a KeyError.)
    from jupyter_cache.cache.main import JupyterCacheBase

    cache_bundle = JupyterCacheBase.cache_notebook_bundle

    def cache_without_widget_state(self, bundle, *args, **kwargs):
        bundle.nb.metadata.pop("widgets", None)
        return cache_bundle(self, bundle, *args, **kwargs)

    JupyterCacheBase.cache_notebook_bundle = cache_without_widget_state
    worker = ExecutionWorkerLocalMProc()
    jobs = [ProcessData(r.pk, r.uri, cache, int(config["timeout"]), bool(config["allow_errors"])) for r in todo]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        for status, uri in pool.imap_unordered(worker, jobs, chunksize=1):
            name = Path(uri).relative_to(ROOT).as_posix()
            if status == 0:
                seconds = cache.get_cached_project_nb(uri).data.get("execution_seconds", float("nan"))
                print(f"{uri}: Executed notebook in {seconds:.2f} seconds [execute]", flush=True)
            else:
                print(f"[execute] {name} failed; the build will run it again and report the error", flush=True)
    print(f"[execute] done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
