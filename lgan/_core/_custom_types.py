"""Shared type aliases (the Diffrax convention: one place for all of them)."""

from typing import Callable, Union

import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float

RealScalarLike = Union[float, int, Float[ArrayLike, ""]]
"""A real number: Python scalar or 0-d array."""

RealArrayLike = Union[float, int, Float[ArrayLike, "..."]]
"""A real number or an array of them (broadcast against each other)."""

Density1D = Callable[[Float[np.ndarray, " n"]], Float[np.ndarray, " n"]]
"""A (possibly unnormalised) density on R, vectorised over a 1-D numpy array."""

Density2D = Callable[[Float[np.ndarray, " n"], Float[np.ndarray, " n"]], Float[np.ndarray, " n"]]
"""A (possibly unnormalised) density on R^2, called as ``density(x, y)`` on arrays."""

__all__ = [
    "Array",
    "Complex",
    "Float",
    "RealScalarLike",
    "RealArrayLike",
    "Density1D",
    "Density2D",
]
