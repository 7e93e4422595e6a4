"""Argument checks that run before any compute: the one place every public entry point takes them from.

Errors come in the two tiers Diffrax uses. What is known before tracing (types, dtypes, shapes,
names, signs and finiteness of concrete values) raises here, as ``ValueError`` for a bad value and
``TypeError`` for a bad type (a string where a number belongs, a complex number, a bad PRNG key);
the type errors are :class:`ArgumentTypeError`, which is also a ``ValueError``, so one
``except ValueError`` catches every argument error. The concrete-value checks skip JAX tracers
(they return ``None``); what depends on traced values is checked with :func:`error_if_not_finite`
and friends, built on ``eqx.error_if``, so the check also holds under ``jit``.

Every message is one line that names the argument and says what was expected, e.g.
``ValueError("gamma must be >= 0, got -1.0")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type or dtype (a ``TypeError`` that is also a ``ValueError``)."""


# ----------------------------------------------------------------------------- concrete values


def concrete(value) -> np.ndarray | None:
    """The value as a numpy array, or ``None`` if it is (or holds) a JAX tracer."""
    if isinstance(value, jax.core.Tracer):
        return None
    try:
        return np.asarray(value)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def real_array(name: str, value) -> np.ndarray | None:
    """``value`` as a real numpy array (bool, integer or float dtype), or ``None`` for a tracer.

    Raises :class:`ArgumentTypeError` naming ``name`` for strings, ``None``, complex numbers
    (whose imaginary part would otherwise be dropped with only a ``ComplexWarning``), objects
    and ragged sequences.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise ArgumentTypeError(f"{name} must be a real number or array, got {type(value).__name__} {_describe(value)}")
    if isinstance(value, jax.core.Tracer):
        dtype = value.dtype
        if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_):
            raise ArgumentTypeError(f"{name} must be real, got dtype {dtype}")
        return None
    try:
        arr = np.asarray(value)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be a real number or array, got {_describe(value)}") from None
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ArgumentTypeError(f"{name} must be real, got complex value {_describe(value)}")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating) or arr.dtype == bool):
        raise ArgumentTypeError(f"{name} must be a real number or array, got {_describe(value)} (dtype {arr.dtype})")
    return arr


def real_float_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 numpy array after :func:`real_array` (concrete values only)."""
    arr = real_array(name, value)
    if arr is None:
        raise ValueError(f"{name} must be a concrete array here, not a value traced inside jit")
    return arr.astype(np.float64)


def check_real(name: str, value) -> None:
    """Raise if a concrete ``value`` is complex or non-numeric."""
    real_array(name, value)


def check_real_dtype(name: str, dtype) -> None:
    """Raise unless ``dtype`` is a real (integer or floating-point) dtype."""
    dtype = np.dtype(dtype.dtype if hasattr(dtype, "dtype") and not isinstance(dtype, type) else dtype)
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise ArgumentTypeError(f"{name} must hold real numbers, got dtype {dtype}")


def check_finite(name: str, value) -> None:
    """Raise if a concrete ``value`` is not real or has a NaN or infinity."""
    arr = real_array(name, value)
    if arr is None:
        return
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {_first_bad(arr, ~np.isfinite(arr))}")


def check_nonnegative(name: str, value) -> None:
    """Raise unless a concrete ``value`` is real, finite and >= 0 everywhere."""
    _check_finite_where(name, value, lambda arr: arr < 0, ">= 0")


def check_positive(name: str, value) -> None:
    """Raise unless a concrete ``value`` is real, finite and > 0 everywhere."""
    _check_finite_where(name, value, lambda arr: arr <= 0, "> 0")


def _check_finite_where(name: str, value, bad, expected: str) -> None:
    arr = real_array(name, value)
    if arr is None:
        return
    check_finite(name, arr)
    if np.any(bad(arr)):
        raise ValueError(f"{name} must be {expected}, got {_first_bad(arr, bad(arr))}")


def check_real_scalar(name: str, value, *, what: str = "a finite real number") -> float:
    """``value`` as a Python float, raising unless it is one finite real number (not a bool)."""
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be {what}, got {value!r}")
    arr = real_array(name, value)
    if arr is None:
        raise ValueError(f"{name} must be a concrete number here, not a value traced inside jit")
    if arr.dtype == bool:
        raise ArgumentTypeError(f"{name} must be {what}, got {_describe(value)}")
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    out = float(arr)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be {'finite' if what == 'a finite real number' else what}, got {out!r}")
    return out


def check_scalars(**values) -> None:
    """:func:`check_real_scalar` for each keyword (concrete values; traced ones are skipped)."""
    for name, value in values.items():
        if value is not None and not isinstance(value, jax.core.Tracer):
            check_real_scalar(name, value)


def check_probability(name: str, value, *, include_one: bool = False) -> float:
    """``value`` as a float in [0, 1) (or [0, 1] with ``include_one``), e.g. Adam's b1 and b2."""
    interval = "[0, 1]" if include_one else "[0, 1)"
    p = check_real_scalar(name, value, what=f"a number in {interval}")
    if not (0.0 <= p <= 1.0) or (p == 1.0 and not include_one):
        raise ValueError(f"{name} must be in {interval}, got {p!r}")
    return p


def check_bool(name: str, value) -> bool:
    """``value`` as a bool, raising unless it is ``True`` or ``False`` (not a string such as ``"no"``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Raise unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def check_int_at_least(name: str, value, minimum: int) -> None:
    """Raise unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_interval(name: str, value) -> tuple[float, float]:
    """Raise unless ``value`` is a pair ``(a, b)`` of finite numbers with a < b."""
    try:
        a, b = (check_real_scalar(name, v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (a, b) of finite numbers with a < b, got {value!r}") from None
    if not a < b:
        raise ValueError(f"{name} must be a pair (a, b) of finite numbers with a < b, got {value!r}")
    return a, b


def check_shape(name: str, value, shape: tuple, *, description: str = "") -> None:
    """Raise unless ``value`` has exactly ``shape``: ints must match, names (``"n"``) or ``None`` match any size."""
    got = tuple(np.shape(value))
    ok = len(got) == len(shape) and all(not isinstance(s, int) or s == g for s, g in zip(shape, got))
    if not ok:
        names = ["n" if s is None else str(s) for s in shape]
        want = "(" + ", ".join(names) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {want}{description}, got shape {got}")


def check_key(name: str, key) -> None:
    """Raise unless ``key`` is one PRNG key: ``jax.random.key(seed)`` (or a legacy ``PRNGKey``).

    Only the type, shape and dtype are looked at, so traced keys (under ``vmap``) pass.
    """
    dtype = getattr(key, "dtype", None)
    shape = getattr(key, "shape", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        if shape != ():
            raise ValueError(f"{name} must be a single PRNG key, got an array of keys of shape {shape}")
        return
    if dtype is not None and np.dtype(dtype) == np.uint32 and shape == (2,):
        return  # a legacy jax.random.PRNGKey(seed)
    raise ArgumentTypeError(f"{name} must be a PRNG key such as jax.random.key(0), got {_describe(key)}")


# ----------------------------------------------------------------------------- the working dtype


def working_dtype() -> np.dtype:
    """The floating-point dtype JAX computes in: float32, or float64 with ``jax_enable_x64``."""
    return np.dtype(jnp.result_type(float))


def _dtype_hint(dtype: np.dtype) -> str:
    return " (enable float64 with jax.config.update('jax_enable_x64', True))" if dtype == np.float32 else ""


def check_finite_in_dtype(name: str, value, dtype=None) -> None:
    """Raise unless a concrete ``value`` is finite, and stays finite after conversion to ``dtype``.

    ``dtype`` defaults to the working dtype (:func:`working_dtype`): 1e39 is finite in float64 but
    overflows float32.
    """
    arr = real_array(name, value)
    if arr is None:
        return
    check_finite(name, arr)
    dtype = working_dtype() if dtype is None else np.dtype(dtype)
    if np.issubdtype(arr.dtype, np.floating) and arr.size:
        big = np.abs(arr) > np.finfo(dtype).max
        if np.any(big):
            raise ValueError(
                f"{name} must be finite in {dtype} (at most {np.finfo(dtype).max:.4g} in absolute value), "
                f"got {_first_bad(arr, big)}{_dtype_hint(dtype)}"
            )


def check_result_finite(value, what: str, dtype=None) -> None:
    """Raise if a computed result (concrete) has a NaN or infinity: the arguments overflow ``dtype``.

    ``what`` names the arguments and their values, e.g. ``"lgan_eigenvalues(xi=1.0, alpha=1e20, beta=1.0)"``.
    """
    arr = concrete(value)
    if arr is None:
        return
    arr = np.asarray(arr)
    bad = ~np.isfinite(arr.real) | (~np.isfinite(arr.imag) if np.iscomplexobj(arr) else False)
    if np.any(bad):
        dtype = working_dtype() if dtype is None else np.dtype(dtype)
        raise ValueError(f"{what}: the result overflows {dtype}; rescale the arguments{_dtype_hint(dtype)}")


# ----------------------------------------------------------------------------- traced values


def error_if_not_finite(x, message: str):
    """``x`` unchanged, or a runtime error with ``message`` (also under ``jit``) if it has a NaN or inf.

    Built on ``eqx.error_if``: the returned value must be used for the check to run.
    """
    return eqx.error_if(x, ~jnp.all(jnp.isfinite(x)), message)


def error_if_outside(x, lo: float, hi: float, message: str):
    """``x`` unchanged, or a runtime error with ``message`` (also under ``jit``) if a value is outside [lo, hi]."""
    return eqx.error_if(x, jnp.any((x < lo) | (x > hi)) | ~jnp.all(jnp.isfinite(x)), message)


def _first_bad(arr: np.ndarray, mask: np.ndarray) -> str:
    if arr.ndim == 0:
        return repr(arr.item())
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return f"{arr[idx].item()!r} at index {idx}"
