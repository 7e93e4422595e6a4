"""The single-run entry points: the GAN flow at a fixed step (:func:`solve_gan_flow`) and Adam (:func:`train_with_adam`)."""

from __future__ import annotations

import diffrax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._core._solvers import as_solver, check_alternating, solver_label
from .._core._validation import check_bool, check_int_at_least, check_key, check_probability
from ._checks import check_common, check_initial_norm, check_metric_fn, check_sampler, check_step
from ._engine import MetricFn, ODEStepper, RunConfig, Sampler, run_single
from ._players import PlayerStepper
from ._result import GANFlowResult
from ._state import GANState, StateParts
from ._vector_field import GANFlow, strong_types


def make_stepper(solver, *, alternating=False, critic_steps=1, unroll_stages=False, per_player=False, b1=0.5, b2=0.999, extra: tuple[str, ...] = ()):
    """The stepper of ``solver=`` (a name, a Diffrax ODE solver, or ``"adam"`` where ``extra`` allows it)."""
    check_int_at_least("critic_steps", critic_steps, 1)
    solver = as_solver(solver, extra=extra)
    alternating = check_alternating(alternating, solver, also=extra)
    players = isinstance(solver, str) or alternating
    if critic_steps != 1 and not players:
        raise ValueError(
            f"critic_steps={critic_steps} needs the players' updates (solver='adam', or solver='euler' with alternating=True), "
            f"got solver={solver_label(solver)!r}"
        )
    unroll = check_bool("unroll_stages", unroll_stages)
    per_player = check_bool("per_player", per_player)
    if per_player and (isinstance(solver, str) or alternating):
        raise ValueError(f"per_player=True needs an ODE solver stepped simultaneously, got solver={solver_label(solver)!r}" + (" with alternating=True" if alternating else ""))
    b1, b2 = check_probability("b1", b1), check_probability("b2", b2)  # checked even where unused
    if isinstance(solver, str):  # "adam"
        return PlayerStepper("adam", alternating, int(critic_steps), b1, b2)
    return PlayerStepper("euler", True, int(critic_steps)) if alternating else ODEStepper(solver, unroll, per_player)


def solve_gan_flow(
    flow: GANFlow,
    state: GANState,
    data: Float[Array, "n d"],
    *,
    solver: str | diffrax.AbstractSolver = "rk4",
    step: float,
    num_steps: int,
    alternating: bool = False,
    critic_steps: int = 1,
    batch_size: int | None = 64,
    save_every: int = 1,
    key: PRNGKeyArray,
    metric_fn: MetricFn | None = None,
    divergence_threshold: float = 1e6,
    unroll_stages: bool = False,
    per_player: bool = False,
    save_states_every: int | None = None,
    sampler: Sampler | None = None,
) -> GANFlowResult:
    """Integrate the GAN flow (theta', phi') = v(theta, phi) (Qin et al. 2020, eq. 4) at a fixed step.

    One Diffrax ``solver.step`` per step (Euler, Heun, :class:`lgan.RK4` or any Diffrax ODE solver)
    in a ``jax.lax.scan``; one minibatch per step, shared by its stages, from
    ``jax.random.fold_in(key, k)`` (notes of ``lgan/_gan_flows``). Metrics are evaluated on the whole
    data set and a fixed latent sample every ``save_every`` steps; the parameters are not stored.
    After a step whose parameters are non-finite or have norm above ``divergence_threshold`` the run
    stops (later steps are masked) and the result reports the step and the norm.

    Args:
        flow: The :class:`GANFlow` (:func:`gan_flow`).
        state: The initial :class:`GANState` (:func:`mlp_gan`).
        data: The data set, shape (n, d) (or (n,) when d = 1); finite.
        solver: A name of ``lgan.SOLVER_NAMES`` (``"euler"``, ``"heun"``, ``"rk4"``) or a Diffrax
            ODE solver instance, e.g. ``diffrax.Midpoint()``.
        step: The step h > 0 (a 0-d array is fine; a new value does not recompile).
        num_steps: n >= 1.
        alternating: Alternating Euler updates (the discriminator first, then the generator at the
            new discriminator); only with ``solver="euler"``.
        critic_steps: With ``alternating=True``: the discriminator's Euler steps per generator
            step (c >= 1), each on its own minibatch (notes of ``lgan/_gan_flows/_players.py``);
            1 with an ODE solver.
        batch_size: Minibatch size b >= 1; ``None`` for the full data set and a fixed latent
            sample (a deterministic ODE).
        save_every: Save metrics every e steps; e must divide ``num_steps``.
        key: PRNG key of the minibatches and of the evaluation latents.
        metric_fn: Optional ``metric_fn(state, x_eval, z_eval) -> dict`` of scalars, saved with
            the built-in metrics.
        divergence_threshold: Parameter norm above which a run counts as diverged.
        unroll_stages: Evaluate an explicit Runge-Kutta solver's Butcher tableau with the stages
            unrolled instead of calling Diffrax's ``solver.step`` (same scheme, equal up to
            round-off). Diffrax's generic step loops over the stages, which keeps XLA from fusing
            across them; ``lgan.RK4`` already unrolls its stages, so this mainly changes Heun.
        per_player: Step each player's own gradient field with the other player held at the start
            of the step, (theta', phi') = (v_theta(theta, phi_k), v_phi(theta_k, phi)), as the public
            ODE-GAN code (Qin et al. 2020) does: each player's RK4 then sees its opponent only
            through the first stage, so the step follows the joint flow to first order only. The
            same step as ``False`` for Euler.
        save_states_every: Also keep the whole state every s steps (s a multiple of ``save_every``
            that divides ``num_steps``) in ``result.states``, e.g. to draw the generator during
            training; ``None`` keeps only the final state.
        sampler: Optional ``sampler(key, b) -> (b, d)``: each minibatch takes b fresh samples of
            the data measure instead of b points of ``data`` (Qin et al.'s public code draws fresh
            samples; ``data`` stays the evaluation set of the metrics). Needs ``batch_size``.

    Returns:
        :class:`GANFlowResult`.
    """
    stepper = make_stepper(solver, alternating=alternating, critic_steps=critic_steps, unroll_stages=unroll_stages, per_player=per_player)
    check_step("step", step)
    config = RunConfig(stepper, num_steps, save_every, save_states_every, batch_size, metric_fn, sampler)
    return _solve(flow, state, data, config, step=step, key=key, divergence_threshold=divergence_threshold)


def train_with_adam(
    flow: GANFlow,
    state: GANState,
    data: Float[Array, "n d"],
    *,
    learning_rate: float,
    num_steps: int,
    alternating: bool = False,
    critic_steps: int = 1,
    b1: float = 0.5,
    b2: float = 0.999,
    batch_size: int | None = 64,
    save_every: int = 1,
    key: PRNGKeyArray,
    metric_fn: MetricFn | None = None,
    divergence_threshold: float = 1e6,
    save_states_every: int | None = None,
    sampler: Sampler | None = None,
) -> GANFlowResult:
    """What users do instead of solving the flow: Adam steps (Optax) on l_D + regularisers and on l_G.

    Simultaneous: both players step from the same (theta, phi). Alternating: the discriminator
    steps first, then the generator takes its gradient at the new discriminator (same minibatch).
    The minibatch rule, the metrics and the divergence report are those of :func:`solve_gan_flow`,
    so the two can be compared run for run; ``times`` is the cumulative learning rate.

    Args:
        flow: The :class:`GANFlow`.
        state: The initial :class:`GANState`.
        data: The data set, shape (n, d) (or (n,) when d = 1).
        learning_rate: Adam's learning rate > 0 (both players).
        num_steps: Number of updates n >= 1.
        alternating: Alternating (discriminator first) instead of simultaneous updates.
        critic_steps: The discriminator's updates per generator update (c >= 1; WGAN's n_critic),
            each on its own minibatch: step k's, then c - 1 more (notes of
            ``lgan/_gan_flows/_players.py``); 1 is the usual one-for-one step.
        b1: Adam's beta_1 in [0, 1) (0.5 is the usual GAN choice).
        b2: Adam's beta_2 in [0, 1).
        batch_size: Minibatch size, or ``None`` for the full data set.
        save_every: Save metrics every e updates; e must divide ``num_steps``.
        key: PRNG key.
        metric_fn: Optional extra metrics, as in :func:`solve_gan_flow`.
        divergence_threshold: Parameter norm above which a run counts as diverged.
        save_states_every: Also keep the whole state every s updates (s a multiple of ``save_every``
            that divides ``num_steps``) in ``result.states``; ``None`` keeps only the final state.
        sampler: Optional fresh samples for each minibatch, as in :func:`solve_gan_flow`.

    Returns:
        :class:`GANFlowResult` with ``solver="adam"`` and ``alternating`` as given.
    """
    check_step("learning_rate", learning_rate)
    stepper = make_stepper("adam", alternating=alternating, critic_steps=critic_steps, b1=b1, b2=b2, extra=("adam",))
    config = RunConfig(stepper, num_steps, save_every, save_states_every, batch_size, metric_fn, sampler)
    return _solve(flow, state, data, config, step=learning_rate, key=key, divergence_threshold=divergence_threshold)


def _solve(flow, state, data, config: RunConfig, *, step, key, divergence_threshold) -> GANFlowResult:
    check_key("key", key)
    data = check_common(
        flow, state, data, config.num_steps, config.save_every, config.batch_size, divergence_threshold, config.save_states_every
    )
    check_metric_fn(config.metric_fn)
    check_sampler(config.sampler, config.batch_size, data)
    y0, parts = StateParts.split(state)
    check_initial_norm(y0, divergence_threshold)
    dtype = data.dtype
    as_array = lambda value: jnp.asarray(value, dtype)  # noqa: E731
    return run_single(config, strong_types(flow, dtype), parts, data, key, y0, as_array(step), as_array(divergence_threshold))
