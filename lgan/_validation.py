"""Argument checks that run before any compute.

Errors come in the two tiers Diffrax uses: what is known before tracing (names,
signs, shapes of concrete values) raises ``ValueError`` here; values that are only
known inside ``jit`` are skipped by these checks (they return ``None`` for tracers).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np


def concrete(value) -> np.ndarray | None:
    """The value as a numpy array, or ``None`` if it is a JAX tracer."""
    try:
        return np.asarray(value)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def check_finite(name: str, value) -> None:
    """Raise if a concrete ``value`` has a NaN or infinity."""
    arr = concrete(value)
    if arr is None:
        return
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {_first_bad(arr, ~np.isfinite(arr))}")


def check_nonnegative(name: str, value) -> None:
    """Raise unless a concrete ``value`` is finite and >= 0 everywhere."""
    arr = concrete(value)
    if arr is None:
        return
    check_finite(name, arr)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {_first_bad(arr, arr < 0)}")


def check_positive(name: str, value) -> None:
    """Raise unless a concrete ``value`` is finite and > 0 everywhere."""
    arr = concrete(value)
    if arr is None:
        return
    check_finite(name, arr)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {_first_bad(arr, arr <= 0)}")


def check_real(name: str, value) -> None:
    """Raise if a concrete ``value`` is complex or non-numeric."""
    arr = concrete(value)
    if arr is None:
        return
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating) or arr.dtype == bool):
        raise ValueError(f"{name} must be real, got dtype {arr.dtype}")


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def check_int_at_least(name: str, value, minimum: int) -> None:
    """Raise unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_interval(name: str, value) -> tuple[float, float]:
    """Raise unless ``value`` is a pair ``(a, b)`` of finite numbers with a < b."""
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (a, b) of finite numbers with a < b, got {value!r}") from None
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ValueError(f"{name} must be a pair (a, b) of finite numbers with a < b, got {value!r}")
    return a, b


def _first_bad(arr: np.ndarray, mask: np.ndarray) -> str:
    if arr.ndim == 0:
        return repr(arr.item())
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return f"{arr[idx].item()!r} at index {idx}"
