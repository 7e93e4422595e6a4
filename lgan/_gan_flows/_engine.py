"""The GAN-flow engine: one pure function of arrays, jitted for a single run and vmapped for a sweep.

A run is a static :class:`RunConfig` (how to step, how long, what to save), a :class:`Problem`
(the flow, the data, the minibatches and the metrics of one run) and the parameters y = (theta,
phi), which the one fixed-step loop of ``lgan/_core/_stepping.py`` advances and freezes at the
first step that diverges. The minibatch rule is in the notes of ``lgan/_gan_flows/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._core._solvers import combine_stages, erk_stages, ode_advance, solver_label
from .._core._stepping import FixedStepLoop, LoopCarry
from .._core._tree import tree_norm, tree_prepend
from ._regularisers import _clip_weights
from ._result import GANFlowResult
from ._state import GANState, Minibatch, StateParts, _draw_minibatch
from ._vector_field import GANFlow, disc_velocity, gen_velocity, lam_step, velocity

MetricFn = Callable[[GANState, Float[Array, "n d"], Float[Array, "n k"]], dict]
Sampler = Callable[[PRNGKeyArray, int], Float[Array, "b d"]]


class RunConfig(eqx.Module):
    """The static configuration of a run: the stepper, the number of steps and what is saved.

    Attributes:
        stepper: :class:`ODEStepper` or :class:`lgan._gan_flows._players.PlayerStepper`.
        num_steps: n.
        save_every: Metrics every e steps.
        save_states_every: The whole state every s steps, or ``None``.
        batch_size: Minibatch size, or ``None`` for the full data set.
        metric_fn: The user's extra metrics, or ``None``.
        sampler: ``sampler(key, b)``, fresh data samples for each minibatch, or ``None`` to draw
            the minibatch from the data set.
        vmapped: Whether the run is one of a vmapped sweep (per-step divergence checks).
    """

    stepper: PyTree
    num_steps: int = eqx.field(static=True)
    save_every: int = eqx.field(static=True)
    save_states_every: int | None = eqx.field(static=True)
    batch_size: int | None = eqx.field(static=True)
    metric_fn: MetricFn | None
    sampler: Sampler | None = None
    vmapped: bool = eqx.field(static=True, default=False)


class Problem(eqx.Module):
    """What a step of one run needs besides the parameters: the flow, the data, the random inputs."""

    flow: GANFlow
    parts: StateParts
    data: Float[Array, "n d"]
    noise_key: PRNGKeyArray
    z_eval: Float[Array, "n k"]
    u_eval: Float[Array, " n"]
    batch_size: int | None = eqx.field(static=True)
    metric_fn: MetricFn | None
    sampler: Sampler | None = None

    @classmethod
    def build(cls, flow: GANFlow, parts: StateParts, data, key: PRNGKeyArray, config: RunConfig) -> Problem:
        """The problem of the run with PRNG key ``key``: latents and uniforms for the metrics, noise for the batches."""
        noise_key, eval_key = jax.random.split(key)
        n = data.shape[0]
        z_eval = jax.random.normal(eval_key, (n, parts.latent_dim), dtype=data.dtype)
        u_eval = jax.random.uniform(jax.random.fold_in(eval_key, 1), (n,), dtype=data.dtype)
        return cls(flow, parts, data, noise_key, z_eval, u_eval, config.batch_size, config.metric_fn, config.sampler)

    def batch(self, k) -> Minibatch:
        """The minibatch of step k, from ``fold_in(key, k)`` (the whole data set with ``batch_size=None``).

        With a sampler the data points are ``sampler(k_x, b)`` with the key k_x that otherwise picks
        the points of the data set; latents and uniforms are the same either way.
        """
        if self.batch_size is None:
            return Minibatch(self.data, self.z_eval, self.u_eval)
        key = jax.random.fold_in(self.noise_key, k)
        batch = _draw_minibatch(self.data, self.parts.latent_dim, self.batch_size, key)
        if self.sampler is None:
            return batch
        x = jnp.asarray(self.sampler(jax.random.split(key, 3)[0], self.batch_size), dtype=self.data.dtype)
        return batch._replace(x=x)

    def velocity(self, y, batch: Minibatch):
        """v(y) on ``batch`` (:func:`lgan._gan_flows._vector_field.velocity`)."""
        return velocity(self.flow, self.parts, y, batch)

    def project(self, d):
        """The discriminator's parameters clipped to [-c, c] (weight clipping), or unchanged."""
        return d if self.flow.clip is None else _clip_weights(d, self.flow.clip)

    def finish_step(self, y, d_new, batch: Minibatch, step):
        """The discriminator after a step from y: Algorithm 1's separate lambda step (if asked for), then clipping."""
        return self.project(lam_step(self.flow, self.parts, y, d_new, batch, step))

    def metrics(self, y) -> dict:
        """The built-in metrics on the whole data set and the fixed latents, and the user's."""
        state = self.parts.state(*y)
        loss_d, loss_g = self.flow.losses(state, Minibatch(self.data, self.z_eval, self.u_eval))
        d_real = jax.vmap(state.discriminator)(self.data)
        out = {"loss_d": loss_d, "loss_g": loss_g, "disc_sq_norm": jnp.mean(d_real**2), "norm": tree_norm(y)}
        if self.metric_fn is not None:
            extra = self.metric_fn(state, self.data, self.z_eval)
            if not isinstance(extra, dict):
                raise ValueError(f"metric_fn must return a dict of arrays, got {type(extra).__name__}")
            clash = sorted(set(extra) & set(out))
            if clash:
                raise ValueError(f"metric_fn must not return the built-in metric names {clash}")
            out.update(extra)
        return out


class ODEStepper(eqx.Module):
    """A fixed step of a Diffrax ODE solver on the GAN flow (or its Butcher tableau, unrolled).

    Attributes:
        solver: The Diffrax solver.
        unroll: Evaluate an explicit Runge-Kutta solver's tableau with the stages unrolled
            (:func:`lgan._core._solvers.erk_stages`) instead of calling ``solver.step``.
        per_player: Step each player's own field with the other player held where the step
            started, (theta', phi') = (v_theta(theta, phi_k), v_phi(theta_k, phi)), as the public
            ODE-GAN code does; the same step as the joint one for Euler, not for RK4 or Heun.
    """

    solver: diffrax.AbstractSolver
    unroll: bool = eqx.field(static=True, default=False)
    per_player: bool = eqx.field(static=True, default=False)
    alternating = False

    @property
    def label(self) -> str:
        """The name results report (:func:`lgan._core._solvers.solver_label`)."""
        return solver_label(self.solver)

    def _field(self, problem: Problem, y, args):
        """The field the solver steps: v(y) on ``args = (batch, y_k)``, or each player's own with y_k's opponent."""
        batch, y_k = args
        if not self.per_player:
            return problem.velocity(y, batch)
        (d, g), (d_k, g_k) = y, y_k
        return disc_velocity(problem.flow, problem.parts, d, g_k, batch), gen_velocity(problem.flow, problem.parts, d_k, g, batch)

    def _term(self, problem: Problem) -> diffrax.ODETerm:
        return diffrax.ODETerm(lambda t, y, args: self._field(problem, y, args))

    def init(self, problem: Problem, y0, step):
        """The solver's state before the first step."""
        return self.solver.init(self._term(problem), 0.0, step, y0, (problem.batch(0), y0))

    def advance(self, problem: Problem, step):
        """``advance(y, solver_state, k)``: one step of size h on the field of step k's minibatch."""
        if self.unroll and isinstance(self.solver, diffrax.AbstractERK):
            tableau = self.solver.tableau

            def unrolled(y, solver_state, k):
                args = (problem.batch(k), y)
                ks = erk_stages(tableau, lambda i, yy: self._field(problem, yy, args), y, step)
                d, g = combine_stages(y, tableau.b_sol, ks, step)
                return (problem.finish_step(y, d, args[0], step), g), solver_state

            return unrolled
        # A first-same-as-last solver must evaluate its first stage afresh when the field changes
        # (a new minibatch, or new opponents held fixed).
        made_jump = problem.batch_size is not None or self.per_player
        stock = ode_advance(self.solver, self._term(problem), step, None, made_jump=made_jump)

        def stepped(y, solver_state, k):
            batch = problem.batch(k)
            (d, g), solver_state = stock(y, solver_state, k, args=(batch, y))
            return (problem.finish_step(y, d, batch, step), g), solver_state

        return stepped


def run(config: RunConfig, problem: Problem, y0, step, threshold) -> GANFlowResult:
    """n steps from y0 = (theta_0, phi_0), metrics every e steps, frozen at the first divergence."""
    loop = FixedStepLoop(config.stepper.advance(problem, step), threshold, two_pass=not config.vmapped)
    carry, (metrics, snapshots) = _save_loop(config, problem, loop, LoopCarry.start(y0, config.stepper.init(problem, y0, step)))
    steps = config.save_every * jnp.arange(config.num_steps // config.save_every + 1)
    states = None
    if config.save_states_every:
        d_all, g_all = tree_prepend(y0, snapshots)
        states = GANState(eqx.combine(d_all, problem.parts.d_static), eqx.combine(g_all, problem.parts.g_static), problem.parts.latent_dim)
    return GANFlowResult(
        steps=steps,
        times=step * steps,
        metrics=tree_prepend(problem.metrics(y0), metrics),
        final=problem.parts.state(*carry.y),
        diverged=carry.diverged,
        diverged_at=carry.diverged_at,
        divergence_norm=carry.divergence_norm,
        max_norm=carry.max_norm,
        solver=config.stepper.label,
        alternating=config.stepper.alternating,
        states=states,
    )


def _save_loop(config: RunConfig, problem: Problem, loop: FixedStepLoop, carry: LoopCarry):
    """The metrics after every e steps, and with ``save_states_every`` the parameters after every s steps."""
    per_snapshot = (config.save_states_every or config.num_steps) // config.save_every
    num_saves = config.num_steps // config.save_every

    def one_snapshot(c, j):
        c, saved = loop.run(c, j * per_snapshot + jnp.arange(per_snapshot), config.save_every, lambda cc: problem.metrics(cc.y))
        return c, (saved, c.y if config.save_states_every else None)

    carry, (saved, snapshots) = jax.lax.scan(one_snapshot, carry, jnp.arange(num_saves // per_snapshot))
    saved = jax.tree_util.tree_map(lambda a: a.reshape((num_saves,) + a.shape[2:]), saved)
    return carry, (saved, snapshots)


@eqx.filter_jit
def run_single(config: RunConfig, flow: GANFlow, parts: StateParts, data, key, y0, step, threshold) -> GANFlowResult:
    """:func:`run` of one run, compiled."""
    return run(config, Problem.build(flow, parts, data, key, config), y0, step, threshold)


@eqx.filter_jit
def run_batch(config: RunConfig, flows: GANFlow, parts: StateParts, data, keys, y0s, steps, threshold, *, state_axis) -> GANFlowResult:
    """:func:`run` vmapped over the leading axis of ``flows``, ``keys``, ``steps`` (and ``y0s`` if ``state_axis=0``)."""

    def one(flow, key, y0, step):
        return run(config, Problem.build(flow, parts, data, key, config), y0, step, threshold)

    return eqx.filter_vmap(one, in_axes=(0, 0, state_axis, 0))(flows, keys, y0s, steps)
