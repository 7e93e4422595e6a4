"""Fixed-step Runge-Kutta solvers for the game dynamics, as Diffrax solvers.

Diffrax ships Euler, Heun, Midpoint, Ralston, Bosh3, Tsit5 and Dopri5/8 but not the classical
fourth-order Runge-Kutta method, so it is defined here once from its Butcher tableau, the way
Diffrax defines ``Heun`` and ``Bosh3`` (``diffrax/_solver/heun.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from ._validation import ArgumentTypeError, check_bool, check_choice

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


def combine_stages(y0: PyTree, coeffs, ks: Sequence[PyTree], scale=None) -> PyTree:
    """y0 + scale * sum_i a_i k_i over the non-zero a_i, leaf by leaf.

    ``scale`` is the step h, or ``None`` when the k_i already carry it (as Diffrax's ``vf_prod``
    gives them). This is the one stage combiner of the package: :class:`RK4` and the GAN-flow
    engine's unrolled steps (:func:`erk_stages`) both use it.
    """
    terms = [(float(a), k) for a, k in zip(coeffs, ks) if float(a) != 0.0]
    weights = [a for a, _ in terms]

    def leafwise(y, *leaves):
        total = sum(a * leaf for a, leaf in zip(weights, leaves))
        return y + (total if scale is None else scale * total)

    return jax.tree_util.tree_map(leafwise, y0, *[k for _, k in terms])


def erk_stages(tableau: diffrax.ButcherTableau, stage: Callable[[int, PyTree], PyTree], y0: PyTree, scale=None) -> list:
    """The stages k_1 = stage(0, y0), k_i = stage(i - 1, y0 + scale sum_j a_ij k_j) of an explicit RK step, unrolled.

    Diffrax's generic ``AbstractERK.step`` loops over the stages, which keeps XLA from fusing
    across them (benchmarks/gan_flow.py times the two); unrolled in Python they fuse. The step is
    then ``combine_stages(y0, tableau.b_sol, ks, scale)``.
    """
    ks = [stage(0, y0)]
    for i, row in enumerate(tableau.a_lower, start=1):
        ks.append(stage(i, combine_stages(y0, row, ks, scale)))
    return ks


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
        """One RK4 step, the same as ``AbstractERK.step`` on this tableau with the stages unrolled (``erk_stages``)."""
        del solver_state, made_jump
        control = terms.contr(t0, t1)
        times = [t0] + [t0 + c * (t1 - t0) for c in self.tableau.c]
        ks = erk_stages(self.tableau, lambda i, y: terms.vf_prod(times[i], y, args, control), y0)
        y1 = combine_stages(y0, self.tableau.b_sol, ks)
        y_error = combine_stages(jax.tree_util.tree_map(jnp.zeros_like, y0), self.tableau.b_error, ks)
        k = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *ks)
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


def as_solver(solver, *, extra: tuple[str, ...] = ()) -> diffrax.AbstractSolver | str:
    """The ``solver=`` argument of every entry point: a name of ``SOLVER_NAMES`` or a Diffrax ODE solver.

    Args:
        solver: ``"euler"``, ``"heun"``, ``"rk4"``, or an instance of a Diffrax solver of ODEs (one
            ``diffrax.ODETerm``), e.g. ``diffrax.Midpoint()``.
        extra: Further names the entry point accepts (``"flow"`` for :func:`lgan.simulate`,
            ``"adam"`` for :func:`lgan.sweep`); they are returned as they are.

    Returns:
        The solver instance, or the extra name.
    """
    if isinstance(solver, diffrax.AbstractSolver):
        if not _solves_odes(solver):
            raise ArgumentTypeError(f"solver must be a Diffrax solver of ODEs (one ODETerm), got {type(solver).__name__}")
        return solver
    if isinstance(solver, str) and solver in extra:
        return solver
    names = SOLVER_NAMES + extra
    if not isinstance(solver, str):
        raise ArgumentTypeError(f"solver must be one of {', '.join(map(repr, names))} or a Diffrax solver, got {solver!r:.60}")
    check_choice("solver", solver, names)
    return solver_by_name(solver)


def _solves_odes(solver: diffrax.AbstractSolver) -> bool:
    structure = getattr(solver, "term_structure", None)
    return isinstance(structure, type) and issubclass(diffrax.ODETerm, structure)


def solver_label(solver: diffrax.AbstractSolver | str) -> str:
    """The name of a solver as results report it: ``"euler"``, ``"heun"``, ``"rk4"``, an extra name, or the class name."""
    if isinstance(solver, str):
        return solver
    for name, cls in _SOLVERS.items():
        if type(solver) is cls:
            return name
    return type(solver).__name__


def is_euler(solver) -> bool:
    """Whether ``solver`` is explicit Euler (the one ODE solver with an alternating variant)."""
    return type(solver) is diffrax.Euler or solver == "euler"


def ode_advance(solver: diffrax.AbstractSolver, term: diffrax.AbstractTerm, step, args, *, made_jump: bool = False):
    """One ``solver.step`` from t_k = k h to t_k + h, as an ``advance(y, solver_state, k)`` of the fixed-step loop.

    ``made_jump=True`` makes a first-same-as-last solver (Tsit5, Dopri5) evaluate its first stage
    afresh, as it must when ``args`` (a minibatch) changes from step to step.
    """

    def advance(y, solver_state, k, args=args):
        t0 = k * step
        y1, _, _, solver_state, _ = solver.step(term, t0, t0 + step, y, args, solver_state, made_jump=made_jump)
        return y1, solver_state

    return advance


def check_alternating(alternating, solver, *, also: tuple[str, ...] = ()) -> bool:
    """``alternating`` as a bool, raising unless it is one and, if True, ``solver`` is Euler (or a name in ``also``)."""
    alternating = check_bool("alternating", alternating)
    if alternating and not (is_euler(solver) or (isinstance(solver, str) and solver in also)):
        names = " or ".join(repr(name) for name in ("euler",) + also)
        raise ValueError(f"alternating=True needs solver={names} (the players' updates alternate), got solver={solver_label(solver)!r}")
    return alternating
