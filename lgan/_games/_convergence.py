"""Is a training curve converged in the step size? Turinici's step-halving test and empirical orders.

Turinici (2020, slide 8): a curve has converged only if it is stable in the limit of vanishing
learning rate: twice as many steps of half the size must give the same curve, plotted against
the cumulative learning rate t = k tau. For a scheme of order p the gap between the two curves
is about (1 - 2^-p) C tau^p, so it halves (Euler) or quarters (Heun) with each halving.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import diffrax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from .._core._fits import power_law_fit
from ._game import Game, Trajectory, simulate
from .._core._validation import check_finite, check_positive


def _state_norm(x, y):
    return jnp.sqrt(sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves((x, y))))


def _observe(traj: Trajectory, observable: Callable[[PyTree, PyTree], Any]) -> np.ndarray:
    values = jax.vmap(observable)(traj.x, traj.y)
    values = np.asarray(values, dtype=float)
    if values.shape != traj.times.shape:
        raise ValueError(f"observable(x, y) must return a scalar, got shape {values.shape[1:]}")
    return values


class StepHalvingResult(NamedTuple):
    """Two runs of the same game, (tau, n steps) and (tau/2, 2n steps), on the cumulative-lr axis.

    Attributes:
        times: Common cumulative learning rates t_k = k tau, shape (n + 1,).
        coarse: Observable along the run with step tau, shape (n + 1,).
        fine_times: Cumulative learning rates of the fine run, shape (2n + 1,).
        fine: Observable along the run with step tau/2, shape (2n + 1,).
        max_discrepancy: max_k abs(coarse(t_k) - fine(t_k)) over the entries valid in both runs.
        relative_discrepancy: max_discrepancy / max_k abs(fine(t_k)) (inf if a run diverged).
        converged_in_step: relative_discrepancy <= tolerance and neither run diverged.
        tolerance: The tolerance used.
        coarse_trajectory: The :class:`lgan.Trajectory` with step tau.
        fine_trajectory: The :class:`lgan.Trajectory` with step tau/2.
    """

    times: np.ndarray
    coarse: np.ndarray
    fine_times: np.ndarray
    fine: np.ndarray
    max_discrepancy: float
    relative_discrepancy: float
    converged_in_step: bool
    tolerance: float
    coarse_trajectory: Trajectory
    fine_trajectory: Trajectory

    def plot(self, ax=None, *, label: str = "observable"):
        """Both curves against the cumulative learning rate (matplotlib); returns the figure."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 3.5))
        else:
            fig = ax.figure
        tau = float(self.times[1] - self.times[0])
        ax.plot(self.times, self.coarse, label=f"step {tau:g}, {self.times.size - 1} steps")
        ax.plot(self.fine_times, self.fine, "--", label=f"step {tau / 2:g}, {self.fine_times.size - 1} steps")
        verdict = "converged" if self.converged_in_step else "not converged"
        ax.set_title(f"{verdict} in the step (relative gap {self.relative_discrepancy:.2g})")
        ax.set_xlabel("cumulative learning rate")
        ax.set_ylabel(label)
        ax.legend()
        return fig


def step_halving_test(
    game: Game,
    x0: PyTree,
    y0: PyTree,
    *,
    solver: str | diffrax.AbstractSolver,
    step: float,
    num_steps: int,
    alternating: bool = False,
    observable: Callable[[PyTree, PyTree], Any] | None = None,
    tolerance: float = 1e-2,
    divergence_threshold: float = 1e6,
) -> StepHalvingResult:
    """max_k abs(O(w(tau)_k) - O(w(tau/2)_2k)) / max_k abs(O(w(tau/2)_2k)) <= tolerance (Turinici 2020).

    Runs ``solver`` with step tau for n steps and with tau/2 for 2n steps, so both reach the
    cumulative learning rate n tau, and compares the observable at the common points t_k = k tau.

    Args:
        game: The :class:`lgan.Game`.
        x0, y0: Initial state.
        solver: Any ``solver`` of :func:`lgan.simulate` (a name or a Diffrax solver).
        alternating: Alternating updates (Euler only), as in :func:`lgan.simulate`.
        step: tau > 0.
        num_steps: n >= 1.
        observable: Scalar O(x, y); default the state norm ||(x, y)||.
        tolerance: Largest relative gap still called converged (> 0).
        divergence_threshold: Passed to :func:`lgan.simulate`.

    Returns:
        :class:`StepHalvingResult`.
    """
    check_positive("tolerance", tolerance)
    if observable is not None and not callable(observable):
        raise ValueError(f"observable must be callable as observable(x, y) -> scalar, got {type(observable).__name__}")
    observable = _state_norm if observable is None else observable
    kwargs = dict(solver=solver, alternating=alternating, divergence_threshold=divergence_threshold)
    coarse_traj = simulate(game, x0, y0, step=step, num_steps=num_steps, **kwargs)
    fine_traj = simulate(game, x0, y0, step=float(step) / 2, num_steps=2 * num_steps, **kwargs)
    coarse, fine = _observe(coarse_traj, observable), _observe(fine_traj, observable)
    valid = np.asarray(coarse_traj.valid) & np.asarray(fine_traj.valid)[::2]
    gap = np.abs(coarse - fine[::2])[valid]
    max_gap = float(np.max(gap))
    diverged = bool(coarse_traj.diverged) or bool(fine_traj.diverged)
    scale = float(np.max(np.abs(fine[::2][valid])))
    if diverged or not np.isfinite(max_gap):
        rel = float("inf")
    else:
        rel = max_gap / scale if scale > 0 else (0.0 if max_gap == 0 else float("inf"))
    return StepHalvingResult(
        times=np.asarray(coarse_traj.times),
        coarse=coarse,
        fine_times=np.asarray(fine_traj.times),
        fine=fine,
        max_discrepancy=max_gap,
        relative_discrepancy=rel,
        converged_in_step=bool(rel <= tolerance),
        tolerance=float(tolerance),
        coarse_trajectory=coarse_traj,
        fine_trajectory=fine_traj,
    )


class EmpiricalOrder(NamedTuple):
    """The fitted order p in err(tau) ~ C tau^p, with the data it was fitted to.

    Attributes:
        order: Least-squares slope of log err against log tau.
        steps: The step sizes tau, shape (k,).
        errors: ||(x_n, y_n) - exact(t1)||_2 for each step, shape (k,).
    """

    order: float
    steps: np.ndarray
    errors: np.ndarray


def empirical_order(
    game: Game,
    x0: PyTree,
    y0: PyTree,
    *,
    solver: str | diffrax.AbstractSolver,
    t1: float,
    steps: Sequence[float],
    exact: Callable[[float], tuple[PyTree, PyTree]],
    alternating: bool = False,
) -> EmpiricalOrder:
    """p = slope of log ||w_n(tau) - w(t1)|| against log tau, with n tau = t1 (Diffrax's ``test_ode_order``).

    Args:
        game: The :class:`lgan.Game`.
        x0, y0: Initial state.
        solver: A fixed-step ``solver`` of :func:`lgan.simulate` (``"flow"`` has no order).
        alternating: Alternating updates (Euler only), as in :func:`lgan.simulate`.
        t1: Final time > 0; each t1 / tau must be an integer.
        steps: At least two distinct step sizes tau > 0.
        exact: exact(t) -> (x(t), y(t)), the exact solution.

    Returns:
        :class:`EmpiricalOrder`.
    """
    if isinstance(solver, str) and solver == "flow":
        raise ValueError("solver must be a fixed-step solver, got 'flow'")
    check_positive("t1", t1)
    steps_arr = np.asarray(steps, dtype=float)
    if steps_arr.ndim != 1 or np.unique(steps_arr).size < 2:
        raise ValueError(f"steps must be a 1-D sequence of at least two distinct step sizes, got {steps!r}")
    check_positive("steps", steps_arr)
    if not callable(exact):
        raise ValueError(f"exact must be callable as exact(t) -> (x, y), got {type(exact).__name__}")
    ratios = float(t1) / steps_arr
    counts = np.rint(ratios).astype(int)
    bad = np.flatnonzero((np.abs(ratios - counts) > 1e-9 * ratios) | (counts < 1))
    if bad.size:
        raise ValueError(f"t1 / step must be a positive integer for every step, got t1 / {float(steps_arr[bad[0]])!r} = {float(ratios[bad[0]])!r}")
    target = exact(float(t1))
    errors = []
    for tau, n in zip(steps_arr, counts):
        traj = simulate(game, x0, y0, solver=solver, alternating=alternating, step=float(tau), num_steps=int(n))
        if bool(traj.diverged):
            raise ValueError(f"the run with step {tau!r} diverged ({traj.summary()}); use smaller steps")
        diff = jax.tree_util.tree_map(lambda a, b: a - jnp.asarray(b), traj.final, target)
        errors.append(float(_state_norm(*diff)))
    errors = np.asarray(errors)
    check_finite("errors", errors)
    if np.any(errors <= 0):
        raise ValueError(f"errors must be > 0 to fit a slope (round-off floor reached?), got {errors!r}")
    order = power_law_fit(steps_arr, errors).exponent
    return EmpiricalOrder(order=order, steps=steps_arr, errors=errors)
