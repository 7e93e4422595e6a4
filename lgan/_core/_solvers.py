"""Fixed-step Runge-Kutta solvers for the game dynamics, as Diffrax solvers.

Diffrax ships Euler, Heun, Midpoint, Ralston, Bosh3, Tsit5 and Dopri5/8 but not the classical
fourth-order Runge-Kutta method, so it is defined here once from its Butcher tableau, the way
Diffrax defines ``Heun`` and ``Bosh3`` (``diffrax/_solver/heun.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import diffrax
import jax
import jax.numpy as jnp
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


def _combine(y0, coeffs, ks):
    """y0 + sum_i coeffs_i ks_i, leaf by leaf (the k's already carry the step, as ``vf_prod`` gives them)."""
    return jax.tree_util.tree_map(lambda y, *leaves: y + sum(a * k for a, k in zip(coeffs, leaves)), y0, *ks)


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

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        """One RK4 step, the same as ``AbstractERK.step`` on this tableau with the four stages unrolled.

        Diffrax's generic ERK loops over the stages, which keeps XLA from fusing across them
        (benchmarks/gan_flow.py times the two); the arithmetic here is the tableau's, term by term.
        """
        del solver_state, made_jump
        control = terms.contr(t0, t1)
        th = t0 + 0.5 * (t1 - t0)
        k1 = terms.vf_prod(t0, y0, args, control)
        k2 = terms.vf_prod(th, _combine(y0, (0.5,), (k1,)), args, control)
        k3 = terms.vf_prod(th, _combine(y0, (0.5,), (k2,)), args, control)
        k4 = terms.vf_prod(t1, _combine(y0, (1.0,), (k3,)), args, control)
        y1 = _combine(y0, (1 / 6, 1 / 3, 1 / 3, 1 / 6), (k1, k2, k3, k4))
        y_error = jax.tree_util.tree_map(lambda a, b, c, d: a / 6 + (1 / 3 - 1.0) * b + c / 3 + d / 6, k1, k2, k3, k4)
        k = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), k1, k2, k3, k4)
        dense_info = dict(y0=y0, y1=y1, k=k)
        return y1, y_error, dense_info, None, diffrax.RESULTS.successful


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
