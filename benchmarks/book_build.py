"""The build budget: how long the book and the tests take, from a fresh clone, measured in one run.

In a snapshot of the working tree (tools/snapshot.py, so the run starts as a clean clone does: no
.venv, no _build, no caches), it runs the README's commands and prints side by side:

1. `python tasks.py book` cold: the install into a new .venv, then the build (every chapter
   executed, one per CPU core, by tools/execute_chapters.py);
2. the same command again with nothing changed;
3. again after touching one chapter (its modification time: Sphinx re-reads it, and its outputs
   come from the Jupyter cache), and after changing one of its code cells (it is executed again,
   now with XLA's persistent compilation cache warm);
4. again after emptying the Jupyter cache: every chapter executed with the compilation cache warm,
   next to its time in the cold build, i.e. what the compilation cache saves;
5. `python tasks.py test`: the whole test suite (skip with --no-tests).

Budgets (issue 10): cold build <= 8 min, unchanged rebuild <= 60 s, one changed chapter <= its
execution time + 60 s; the whole `.ci/run` <= 30 min is measured by running it from a clean clone.
Measure on a quiet machine: anything else running on two cores doubles these times.

Run: python benchmarks/book_build.py [--chapter book/04_time_discretisation.ipynb] [--no-tests] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from snapshot import snapshot  # noqa: E402

BUDGET_COLD_S = 8 * 60
BUDGET_UNCHANGED_S = 60
BUDGET_ONE_CHAPTER_EXTRA_S = 60
EXECUTED = re.compile(r"/(book/[^/\s]+\.ipynb): Executed notebook in ([0-9.]+) seconds")
INSTALL = re.compile(r"\[tasks\] install done in ([0-9.]+) s")


def timed(args: list[str], cwd: Path, log: Path) -> tuple[float, str]:
    """Run ``python tasks.py ARGS`` in ``cwd``; (wall seconds, its output). Exit on failure."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "tasks.py", *args], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log.write_text(out.stdout + out.stderr)
    if out.returncode != 0:
        sys.exit(f"python tasks.py {' '.join(args)} failed with exit code {out.returncode}; see {log}")
    return seconds, out.stdout + out.stderr


def chapter_times(output: str) -> dict[str, float]:
    return {name: float(s) for name, s in EXECUTED.findall(output)}


def change_code(path: Path) -> None:
    """Append a comment to the last code cell: the chapter's code hash changes, so it runs again."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cell = [c for c in notebook["cells"] if c["cell_type"] == "code"][-1]
    cell["source"] = "".join(cell["source"]) + "\n# changed by benchmarks/book_build.py"
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def verdict(ok: bool) -> str:
    return "within budget" if ok else "OVER BUDGET"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="book/04_time_discretisation.ipynb", help="the chapter to touch in step 3")
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite timing (step 5)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="lgan-book-build-"))
    if work.exists() and any(work.iterdir()):
        sys.exit(f"{work} is not empty")
    snapshot(work)
    logs = work / "_benchmark_logs"
    logs.mkdir()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}; "
          f"snapshot of the working tree in {work}", flush=True)

    cold_s, out = timed(["book"], work, logs / "1-cold.log")
    install = INSTALL.search(out)
    install_s = float(install.group(1)) if install else float("nan")
    cold = chapter_times(out)
    build_s = cold_s - install_s
    print(f"1. cold `tasks.py book`: {cold_s:.0f} s = install {install_s:.0f} s + build {build_s:.0f} s "
          f"(budget {BUDGET_COLD_S} s for the build: {verdict(build_s <= BUDGET_COLD_S)})", flush=True)

    unchanged_s, out = timed(["book"], work, logs / "2-unchanged.log")
    print(f"2. unchanged rebuild: {unchanged_s:.1f} s, {len(chapter_times(out))} chapters executed "
          f"(budget {BUDGET_UNCHANGED_S} s: {verdict(unchanged_s <= BUDGET_UNCHANGED_S)})", flush=True)

    os.utime(work / args.chapter)
    touch_s, out = timed(["book"], work, logs / "3a-touch.log")
    print(f"3. rebuild after touching {args.chapter}: {touch_s:.1f} s, re-executed {sorted(chapter_times(out))} "
          f"(budget {BUDGET_UNCHANGED_S} s: {verdict(touch_s <= BUDGET_UNCHANGED_S)})", flush=True)
    change_code(work / args.chapter)
    one_s, out = timed(["book"], work, logs / "3b-one-chapter.log")
    one = chapter_times(out)
    limit = cold.get(args.chapter, float("nan")) + BUDGET_ONE_CHAPTER_EXTRA_S
    print(f"   rebuild after changing a code cell of it: {one_s:.1f} s, re-executed {sorted(one)} in "
          f"{sum(one.values()):.1f} s (budget: its cold execution + {BUDGET_ONE_CHAPTER_EXTRA_S} s = {limit:.0f} s: "
          f"{verdict(one_s <= limit)})", flush=True)

    shutil.rmtree(work / "_build" / ".jupyter_cache")
    warm_s, out = timed(["book"], work, logs / "4-all-chapters-warm.log")
    warm = chapter_times(out)
    print(f"4. rebuild with the Jupyter cache emptied, compilation cache warm: {warm_s:.0f} s", flush=True)
    print(f"   {'chapter':<38} {'cold [s]':>9} {'warm [s]':>9} {'warm/cold':>9}")
    for chapter, seconds in cold.items():
        w = warm.get(chapter, float("nan"))
        print(f"   {chapter:<38} {seconds:>9.1f} {w:>9.1f} {w / seconds:>9.2f}")
    total_cold, total_warm = sum(cold.values()), sum(warm.get(c, float("nan")) for c in cold)
    print(f"   {'all chapters':<38} {total_cold:>9.1f} {total_warm:>9.1f} {total_warm / total_cold:>9.2f}")
    print(f"   cache size: {sum(f.stat().st_size for f in (work / '.jax_cache').rglob('*') if f.is_file()) / 2**20:.0f} MiB",
          flush=True)

    if not args.no_tests:
        test_s, out = timed(["test", "-q", "-p", "no:cacheprovider"], work, logs / "5-tests.log")
        last = [line for line in out.splitlines() if re.search(r"\d+ passed", line)]
        print(f"5. `tasks.py test`: {test_s:.0f} s ({last[-1].strip('= ') if last else 'no summary'})", flush=True)

    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
