"""Fixed-step Runge-Kutta solvers for the game dynamics, as Diffrax solvers.

Diffrax ships Euler, Heun, Midpoint, Ralston, Bosh3, Tsit5 and Dopri5/8 but not the classical
fourth-order Runge-Kutta method, so it is defined here once from its Butcher tableau, the way
Diffrax defines ``Heun`` and ``Bosh3`` (``diffrax/_solver/heun.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import diffrax
import numpy as np

from ._validation import check_choice

# Classical RK4 (Kutta 1901; Hairer, Norsett and Wanner, Table II.1.2):
#   0   |
#   1/2 | 1/2
#   1/2 | 0    1/2
#   1   | 0    0    1
#   ----+-------------------
#       | 1/6  1/3  1/3  1/6
# It has no embedded method of its own. For the error estimate we use the embedded explicit
# midpoint rule (b_hat = [0, 1, 0, 0], order 2), so err = (b_sol - b_hat) . k is O(h^3): an
# adaptive controller stays correct but conservative. RK4 is meant for diffrax.ConstantStepSize.
_rk4_tableau = diffrax.ButcherTableau(
    a_lower=(
        np.array([1 / 2]),
        np.array([0.0, 1 / 2]),
        np.array([0.0, 0.0, 1.0]),
    ),
    b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
    b_error=np.array([1 / 6, 1 / 3 - 1.0, 1 / 3, 1 / 6]),
    c=np.array([1 / 2, 1 / 2, 1.0]),
)


class RK4(diffrax.AbstractERK):
    """Classical fourth-order Runge-Kutta method: y1 = y0 + h (k1 + 2 k2 + 2 k3 + k4) / 6.

    4th order explicit Runge-Kutta method with 4 stages and no FSAL. Its stability function on
    y' = lambda y is R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24 (:func:`lgan.stability_function`).
    The error estimate is against the embedded midpoint rule (order 2), so use it with
    ``diffrax.ConstantStepSize``; with an adaptive controller it works but takes too many steps.
    Uses 3rd order Hermite interpolation for dense/ts output, as Diffrax's Heun and Bosh3 do.
    """

    tableau: ClassVar[diffrax.ButcherTableau] = _rk4_tableau
    interpolation_cls: ClassVar[Callable[..., diffrax.ThirdOrderHermitePolynomialInterpolation]] = (
        diffrax.ThirdOrderHermitePolynomialInterpolation.from_k
    )

    def order(self, terms):
        del terms
        return 4


SOLVER_NAMES = ("euler", "heun", "rk4")
_SOLVERS = {"euler": diffrax.Euler, "heun": diffrax.Heun, "rk4": RK4}


def solver_by_name(name: str) -> diffrax.AbstractSolver:
    """The fixed-step solver of order p = 1, 2, 4 named ``"euler"``, ``"heun"`` or ``"rk4"``.

    Args:
        name: ``"euler"`` (``diffrax.Euler``), ``"heun"`` (``diffrax.Heun``) or ``"rk4"``
            (:class:`RK4`).

    Returns:
        A fresh solver instance.
    """
    check_choice("name", name, SOLVER_NAMES)
    return _SOLVERS[name]()
