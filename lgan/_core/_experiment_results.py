"""The result files of the scripts in ``experiments/``, shipped with the package so that a chapter can read them anywhere (Colab included)."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np


def _results_dir():
    return resources.files("lgan") / "_results"


def experiment_result(name: str) -> dict:
    """The result file ``name`` of an ``experiments/`` script: its JSON as a dict, plus its arrays.

    Each file records the exact command that wrote it (``result["command"]``), the settings and
    the per-seed results. Where the script also saved arrays (``name.npz``, e.g. generator samples
    for drawing), they are in ``result["arrays"]`` as a dict of NumPy arrays.

    Args:
        name: The file's name without suffix, e.g. ``"qin2020_mixture_figure2"``.

    Returns:
        The parsed JSON, a dict.
    """
    available = sorted(p.name[: -len(".json")] for p in _results_dir().iterdir() if p.name.endswith(".json"))
    if not isinstance(name, str) or name not in available:
        raise ValueError(f"name must be one of {', '.join(map(repr, available))}; got {name!r}")
    result = json.loads((_results_dir() / f"{name}.json").read_text())
    arrays = _results_dir() / f"{name}.npz"
    if arrays.is_file():
        with arrays.open("rb") as f, np.load(f) as npz:
            result["arrays"] = {key: npz[key] for key in npz.files}
    return result
