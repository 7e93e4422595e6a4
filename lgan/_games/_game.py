"""A two-player game as a vector field, and one simulator for its flow and its discrete schemes.

The state is a pair (x, y) of pytrees: x the discriminator parameters psi, y the generator
parameters theta. Each player descends its own loss (Qin et al. 2020, eq. 4),
    x' = -grad_x loss_d(x, y),    y' = -grad_y loss_g(x, y),
and :func:`simulate` follows that field either exactly (the flow) or with the discrete schemes a
GAN is trained with: simultaneous gradient steps (explicit Euler), alternating Euler steps
(discriminator first), or the Runge-Kutta steps of an ODE-GAN (Heun, RK4, any Diffrax solver).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Bool, Float, PyTree

from .._core._solvers import as_solver, check_alternating, ode_advance, solver_label
from .._core._stepping import DivergenceRecord, FixedStepLoop, LoopCarry
from .._core._tree import host_float64, tree_index, tree_norm, tree_prepend
from .._core._validation import check_finite, check_int_at_least, check_positive, check_real

FieldFn = Callable[[PyTree, PyTree], tuple[PyTree, PyTree]]


class _LossField(eqx.Module):
    """(-grad_x loss_d(x, y), -grad_y loss_g(x, y)), as a module so losses may carry arrays."""

    loss_d: Callable[[PyTree, PyTree], Array]
    loss_g: Callable[[PyTree, PyTree], Array]

    def __call__(self, x, y):
        gx = jax.grad(self.loss_d, argnums=0)(x, y)
        gy = jax.grad(self.loss_g, argnums=1)(x, y)
        return jax.tree_util.tree_map(jnp.negative, gx), jax.tree_util.tree_map(jnp.negative, gy)


class Game(eqx.Module):
    """A two-player game: the vector field (x', y') = v(x, y) over discriminator x and generator y.

    Build it from a field, ``Game(field)`` with ``field(x, y) -> (dx, dy)``, or from losses,
    :meth:`Game.from_losses`. A field that is an ``eqx.Module`` may hold its hyperparameters as
    arrays, so that a sweep over them does not recompile :func:`simulate`.

    Attributes:
        vector_field: The callable ``(x, y) -> (dx, dy)``; dx has the structure of x, dy of y.
    """

    vector_field: FieldFn

    def __init__(self, field: FieldFn):
        if not callable(field):
            raise ValueError(f"field must be callable as field(x, y) -> (dx, dy), got {type(field).__name__}")
        self.vector_field = field

    @classmethod
    def from_losses(
        cls, loss_d: Callable[[PyTree, PyTree], Array], loss_g: Callable[[PyTree, PyTree], Array]
    ) -> Game:
        """v(x, y) = (-grad_x loss_d(x, y), -grad_y loss_g(x, y)) (Qin et al. 2020, eq. 4).

        Args:
            loss_d: Scalar loss the discriminator x descends.
            loss_g: Scalar loss the generator y descends (a zero-sum game has loss_g = -loss_d).

        Returns:
            :class:`Game`.
        """
        for name, fn in (("loss_d", loss_d), ("loss_g", loss_g)):
            if not callable(fn):
                raise ValueError(f"{name} must be callable as {name}(x, y) -> scalar, got {type(fn).__name__}")
        return cls(_LossField(loss_d, loss_g))

    def field(self, x: PyTree, y: PyTree) -> tuple[PyTree, PyTree]:
        """(x', y') = v(x, y)."""
        return self.vector_field(x, y)

    def jacobian(self, x: PyTree, y: PyTree) -> Float[Array, "m m"]:
        """J = dv/d(x, y): the dense Jacobian on the flattened state (ravel_pytree order, x first).

        Args:
            x: Discriminator parameters.
            y: Generator parameters.

        Returns:
            J, shape (m, m) with m the total number of scalars in x and y.
        """
        return _jacobian(self, _as_float_tree(x), _as_float_tree(y))

    def eigenvalues(self, x: PyTree, y: PyTree) -> np.ndarray:
        """Eigenvalues of J(x, y) (numpy, complex), sorted by decreasing real part, then imaginary part."""
        lam = np.linalg.eigvals(np.asarray(self.jacobian(x, y)))
        return lam[np.lexsort((-lam.imag, -lam.real))]


@eqx.filter_jit
def _jacobian(game: Game, x: PyTree, y: PyTree) -> Float[Array, "m m"]:
    flat, unravel = ravel_pytree((x, y))

    def flat_field(z):
        out, _ = ravel_pytree(game.field(*unravel(z)))
        return out

    return jax.jacfwd(flat_field)(flat)


class Trajectory(DivergenceRecord):
    """States of a game at t_k = k * step, k = 0..n, from :func:`simulate`.

    A run that blows up is frozen: from ``diverged_at`` on, every entry repeats the last state that
    was finite and within the divergence threshold. The divergence record means what it means for
    :class:`lgan.GANFlowResult` (the one fixed-step loop, ``lgan/_core/_stepping.py``).

    Attributes:
        times: Cumulative learning rate t_k = k * step, shape (n + 1,).
        x: Discriminator states, each leaf with a leading axis of size n + 1.
        y: Generator states, likewise.
        norms: ||(x_k, y_k)||_2 over all leaves, shape (n + 1,).
        diverged: Whether some step produced a non-finite state or a norm above the threshold.
        diverged_at: The first such step index k (1..n), or -1.
        divergence_norm: The state norm at step ``diverged_at`` (inf if non-finite; 0 if none).
        max_norm: The largest state norm reached, up to and *including* step ``diverged_at`` (so at
            least ``divergence_norm``; one meaning for both results, from the one fixed-step loop
            of ``lgan/_core/_stepping.py``).
        solver: The solver that produced it: ``"euler"``, ``"heun"``, ``"rk4"``, ``"flow"`` or the
            class name of a Diffrax solver.
        alternating: Whether the Euler updates alternated (discriminator first).
    """

    times: Float[Array, " s"]
    x: PyTree
    y: PyTree
    norms: Float[Array, " s"]
    solver: str = eqx.field(static=True)
    alternating: bool = eqx.field(static=True, default=False)

    @property
    def num_steps(self) -> int:
        """n, the number of steps (entries minus one)."""
        return self.times.shape[0] - 1

    @property
    def final(self) -> tuple[PyTree, PyTree]:
        """The last entry (x_n, y_n), the frozen state if the run diverged."""
        return tree_index((self.x, self.y), -1)

    @property
    def valid(self) -> Bool[Array, " s"]:
        """True for the entries computed before any divergence."""
        k = jnp.arange(self.times.shape[0])
        return jnp.where(self.diverged, k < self.diverged_at, True)

    def summary(self) -> str:
        """One line: ``"diverged at step 37 (norm 1.2e+06)"`` or ``"finished 200 steps, final norm 3.1e-04"``."""
        if bool(self.diverged):
            return f"diverged at step {int(self.diverged_at)} (norm {float(self.divergence_norm):.1e})"
        return f"finished {self.num_steps} steps, final norm {float(self.norms[-1]):.1e}"


def simulate(
    game: Game,
    x0: PyTree,
    y0: PyTree,
    *,
    solver: str | diffrax.AbstractSolver,
    step: float,
    num_steps: int,
    alternating: bool = False,
    divergence_threshold: float = 1e6,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_steps: int = 16_384,
) -> Trajectory:
    """Follow (x', y') = v(x, y) for ``num_steps`` steps of size ``step``, by a fixed-step solver or exactly.

    With tau = step and v = (v_x, v_y):
    ``solver="euler"``: (x, y) <- (x, y) + tau v(x, y) (simultaneous gradient steps, ``diffrax.Euler``);
    with ``alternating=True``: x <- x + tau v_x(x, y), then y <- y + tau v_y(x_new, y);
    ``"heun"`` / ``"rk4"`` / a Diffrax solver: one ``solver.step`` of size tau per update;
    ``"flow"``: the exact flow, Diffrax ``Tsit5`` with a ``PIDController``, saved at t_k = k tau.
    Every solver returns states at the same cumulative learning rates t_k = k tau, so their
    trajectories can be plotted on one axis (Turinici 2020).

    Args:
        game: The :class:`Game`.
        x0: Initial discriminator parameters (pytree of real arrays).
        y0: Initial generator parameters.
        solver: A name of ``lgan.SOLVER_NAMES`` (``"euler"``, ``"heun"``, ``"rk4"``), a Diffrax ODE
            solver instance (stepped at the fixed step), or ``"flow"``.
        step: The learning rate tau > 0.
        num_steps: n >= 1.
        alternating: Alternating Euler updates (discriminator first); only with Euler.
        divergence_threshold: A state with norm above this (or non-finite) counts as diverged.
        rtol, atol: Error-control tolerances of the flow (ignored by the fixed-step solvers).
        max_steps: Step budget of the adaptive flow solver.

    Returns:
        :class:`Trajectory` with n + 1 entries (the initial state first).
    """
    if not isinstance(game, Game):
        raise ValueError(f"game must be an lgan.Game, got {type(game).__name__}")
    solver = as_solver(solver, extra=("flow",))
    alternating = check_alternating(alternating, solver)
    _check_step(step)
    check_int_at_least("num_steps", num_steps, 1)
    check_positive("divergence_threshold", divergence_threshold)
    x0, y0 = _check_state(game, x0, y0)
    norm0 = float(tree_norm(host_float64((x0, y0)), xp=np))
    if not norm0 <= divergence_threshold:
        raise ValueError(
            f"divergence_threshold must exceed the initial norm {norm0:.3g}, got {float(divergence_threshold)!r}"
        )
    step_arr = jnp.asarray(float(step))
    threshold = jnp.asarray(float(divergence_threshold))
    if solver == "flow":
        return _simulate_flow_checked(game, x0, y0, step_arr, threshold, num_steps, rtol, atol, max_steps)
    return _simulate_fixed(game, x0, y0, step_arr, threshold, num_steps, solver, alternating)


def _simulate_flow_checked(game, x0, y0, step, threshold, num_steps: int, rtol, atol, max_steps: int) -> Trajectory:
    check_positive("rtol", rtol)
    check_positive("atol", atol)
    check_int_at_least("max_steps", max_steps, 1)
    traj, result = _simulate_flow(game, x0, y0, step, threshold, num_steps, rtol, atol, max_steps)
    if bool(result == diffrax.RESULTS.max_steps_reached):
        raise RuntimeError(
            f"the flow solver used all max_steps={max_steps} steps before t = {num_steps * float(step):g}; "
            "raise max_steps or loosen rtol/atol"
        )
    return traj


def _check_step(step) -> None:
    if isinstance(step, bool) or np.ndim(step) != 0:
        raise ValueError(f"step must be a real scalar > 0, got {step!r}")
    check_real("step", step)
    check_positive("step", step)


def _as_float_tree(tree: PyTree) -> PyTree:
    def convert(leaf):
        arr = jnp.asarray(leaf)
        if jnp.issubdtype(arr.dtype, jnp.complexfloating):
            raise ValueError(f"the state must be real, got dtype {arr.dtype}")
        return arr if jnp.issubdtype(arr.dtype, jnp.floating) else arr.astype(jnp.result_type(float))

    return jax.tree_util.tree_map(convert, tree)


def _describe(tree: PyTree) -> str:
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    shapes = [tuple(leaf.shape) for leaf in leaves]
    return f"{shapes[0]}" if treedef.num_leaves == 1 and treedef.num_nodes == 1 else f"{treedef} with leaf shapes {shapes}"


def _check_state(game: Game, x0: PyTree, y0: PyTree) -> tuple[PyTree, PyTree]:
    """Arrays of floats for x0 and y0, checked finite and against the shapes the field returns."""
    try:
        x0 = _as_float_tree(x0)
        y0 = _as_float_tree(y0)
    except (TypeError, ValueError) as err:
        raise ValueError(f"x0 and y0 must be pytrees of real arrays: {err}") from None
    check_finite("x0", np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(x0)] + [np.zeros(0)]))
    check_finite("y0", np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(y0)] + [np.zeros(0)]))
    try:
        out = jax.eval_shape(game.field, x0, y0)
    except Exception as err:  # noqa: BLE001 - report what the user's field raised, with context
        raise ValueError(f"game.field(x0, y0) failed; check the shapes of x0 and y0: {err}") from err
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError(f"game.field(x, y) must return a pair (dx, dy), got {type(out).__name__}")
    for name, state, deriv in (("x0", x0, out[0]), ("y0", y0, out[1])):
        same_tree = jax.tree_util.tree_structure(state) == jax.tree_util.tree_structure(deriv)
        if not same_tree or any(
            a.shape != b.shape for a, b in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(deriv))
        ):
            part = "dx" if name == "x0" else "dy"
            raise ValueError(f"{name} has shape {_describe(state)} but game.field returns {part} of shape {_describe(deriv)}")
    return x0, y0


def _alternating_euler(game: Game, step):
    """x <- x + tau v_x(x, y), then y <- y + tau v_y(x_new, y), as an ``advance`` of the fixed-step loop."""

    def advance(state, aux, k):
        x, y = state
        x_new = jax.tree_util.tree_map(lambda a, d: a + step * d, x, game.field(x, y)[0])
        y_new = jax.tree_util.tree_map(lambda a, d: a + step * d, y, game.field(x_new, y)[1])
        return (x_new, y_new), aux

    return advance


@eqx.filter_jit
def _simulate_fixed(game, x0, y0, step, threshold, num_steps: int, solver, alternating: bool) -> Trajectory:
    state0 = (x0, y0)
    if alternating:
        advance, aux0 = _alternating_euler(game, step), None
    else:
        term = diffrax.ODETerm(lambda t, s, args: game.field(*s))
        advance = ode_advance(solver, term, step, args=None)
        aux0 = solver.init(term, 0.0, step, state0, None)
    loop = FixedStepLoop(advance, threshold)
    carry, (states, norms) = loop.run(LoopCarry.start(state0, aux0), jnp.arange(num_steps), 1, lambda c: (c.y, c.norm))
    states = tree_prepend(state0, states)
    return Trajectory(
        times=step * jnp.arange(num_steps + 1),
        x=states[0],
        y=states[1],
        norms=tree_prepend(tree_norm(state0), norms),
        diverged=carry.diverged,
        diverged_at=carry.diverged_at,
        divergence_norm=carry.divergence_norm,
        max_norm=carry.max_norm,
        solver=solver_label(solver),
        alternating=alternating,
    )


@eqx.filter_jit
def _simulate_flow(game, x0, y0, step, threshold, num_steps: int, rtol, atol, max_steps: int):
    ts = step * jnp.arange(num_steps + 1)
    term = diffrax.ODETerm(lambda t, s, args: game.field(*s))
    event = diffrax.Event(lambda t, s, args, **kwargs: ~(tree_norm(s) <= threshold))
    sol = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5(),
        t0=ts[0],
        t1=ts[-1],
        dt0=None,
        y0=(x0, y0),
        saveat=diffrax.SaveAt(ts=ts, t1=True),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        event=event,
        max_steps=max_steps,
        throw=False,
    )
    # Diffrax fills the save slots in order: after an event the t1=True save (the state at the
    # event time) lands in the first slot not reached on the grid ts, and later slots hold inf.
    # So slot ``diverged_at`` carries the state that crossed the threshold, and its norm; the
    # record is that of the fixed-step loop, read off the saved norms.
    saved = jax.tree_util.tree_map(lambda a: a[:-1], sol.ys)
    norms = jax.vmap(tree_norm)(saved)
    off_grid = sol.ts[:-1] != ts

    def record(c, k):
        return c.record(k, norms[k], threshold, off_grid=off_grid[k]), None

    carry0 = replace(LoopCarry.start((x0, y0), None), norm=norms[0], max_norm=norms[0])
    carry, _ = jax.lax.scan(record, carry0, jnp.arange(1, num_steps + 1))
    last_good = jnp.where(carry.diverged, carry.diverged_at - 1, num_steps)
    keep = jnp.arange(num_steps + 1) <= last_good
    frozen = jax.tree_util.tree_map(lambda a: jnp.where(keep.reshape((-1,) + (1,) * (a.ndim - 1)), a, a[last_good]), saved)
    traj = Trajectory(
        times=ts,
        x=frozen[0],
        y=frozen[1],
        norms=jnp.where(keep, norms, norms[last_good]),
        diverged=carry.diverged,
        diverged_at=carry.diverged_at,
        divergence_norm=carry.divergence_norm,
        max_norm=carry.max_norm,
        solver="flow",
    )
    return traj, sol.result
