#!/usr/bin/env python3
"""Strip outputs, execution counts and widget state from notebooks, in place.

    python tools/strip_outputs.py book/*.ipynb      (no arguments: every book/*.ipynb)

Uses only the standard library, and keeps the file's JSON layout (1-space indent, as Jupyter writes).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def strip(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        for key in ("widgets", "execution", "collapsed", "scrolled"):
            meta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    for path in paths:
        print(("stripped  " if strip(path) else "unchanged ") + str(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
