"""Power laws fitted to measured data: y = c x^p by least squares on (log x, log y).

Convergence orders (the slope of the error against the step, Diffrax's ``test_ode_order``),
the scaling of stable steps with the largest eigenvalue and the order of a remainder are all the
exponent of such a fit. The fit runs in numpy float64, on concrete data, after any JAX compute.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from jaxtyping import ArrayLike, Float

from ._validation import check_positive, real_float_array


class PowerLawFit(NamedTuple):
    """The least-squares line log y = log c + p log x, as the power law y = c x^p."""

    exponent: float
    """p, the slope of log y against log x."""
    prefactor: float
    """c = exp(intercept), the value of the fitted power law at x = 1."""

    def __call__(self, x: Float[ArrayLike, "..."]) -> Float[np.ndarray, "..."]:
        """The fitted curve c x^p at ``x`` (e.g. to draw it next to the data)."""
        return self.prefactor * np.asarray(x, dtype=np.float64) ** self.exponent


def power_law_fit(x: Float[ArrayLike, " n"], y: Float[ArrayLike, " n"]) -> PowerLawFit:
    """p and c minimising sum_i (log y_i - log c - p log x_i)^2: the straight line through the log-log plot.

    Args:
        x: Positive, finite abscissae (e.g. step sizes), shape (n,) with n >= 2 and at least two
            distinct values.
        y: Positive, finite ordinates (e.g. errors), shape (n,).

    Returns:
        :class:`PowerLawFit` with ``exponent`` p and ``prefactor`` c; calling it evaluates c x^p.
    """
    xs, ys = real_float_array("x", x), real_float_array("y", y)
    for name, arr in (("x", xs), ("y", ys)):
        if arr.ndim != 1 or arr.size < 2:
            raise ValueError(f"{name} must be a 1-D array of at least 2 values, got shape {arr.shape}")
        check_positive(name, arr)
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    log_x = np.log(xs)
    if np.ptp(log_x) == 0:
        raise ValueError(f"x must hold at least two distinct values to fit a slope, got all equal to {xs[0]!r}")
    exponent, intercept = np.polyfit(log_x, np.log(ys), 1)
    with np.errstate(over="ignore", under="ignore"):
        prefactor = float(np.exp(intercept))
    if not (math.isfinite(exponent) and 0.0 < prefactor < math.inf):
        raise ValueError(
            f"the fitted power law y = c x^p is not representable in float64 (p = {float(exponent):.4g}, "
            f"log c = {float(intercept):.4g}); rescale x or y"
        )
    return PowerLawFit(exponent=float(exponent), prefactor=prefactor)
