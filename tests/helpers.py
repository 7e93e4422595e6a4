"""Shared test helpers (import with ``from helpers import tree_allclose``)."""

import subprocess
import sys
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def run_experiment(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``experiments/<name>`` in its own process (the scripts set JAX to float32), from the repository root."""
    return subprocess.run([sys.executable, str(ROOT / "experiments" / name), *args], check=False, capture_output=True, text=True, cwd=ROOT)


def tree_allclose(x, y, *, rtol: float = 1e-7, atol: float = 0.0) -> bool:
    """True when two pytrees have the same structure and all leaves are close.

    Array-like leaves are compared with ``numpy.allclose`` (shapes must match exactly);
    other leaves (ints, strings, None, ...) with ``==``.
    """
    leaves_x, tree_x = jax.tree_util.tree_flatten(x)
    leaves_y, tree_y = jax.tree_util.tree_flatten(y)
    if tree_x != tree_y:
        return False
    for a, b in zip(leaves_x, leaves_y):
        if isinstance(a, (jax.Array, np.ndarray, np.generic, float, complex)) or isinstance(
            b, (jax.Array, np.ndarray, np.generic, float, complex)
        ):
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                return False
            if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                return False
        elif a != b:
            return False
    return True


__all__ = ["tree_allclose"]
