"""Many GAN-flow runs as one vmapped, compiled call: seeds, steps and hyperparameters per run."""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._core._tree import tree_index
from .._core._validation import check_bool, check_choice, check_finite, check_nonnegative, check_positive, real_array
from ._checks import check_common, check_initial_norm, check_metric_fn, check_sampler
from ._engine import MetricFn, RunConfig, Sampler, run_batch
from ._result import GANFlowResult
from ._solve import make_stepper
from ._state import GANState, StateParts
from ._vector_field import GANFlow, strong_types

SWEEP_HYPERPARAMETERS = ("alpha", "beta", "gamma", "lam", "clip")


def sweep(
    flow: GANFlow,
    state: GANState,
    data: Float[Array, "n d"],
    *,
    keys: PRNGKeyArray,
    step: Float[Array, " r"] | float,
    num_steps: int,
    solver: str | diffrax.AbstractSolver = "rk4",
    alternating: bool = False,
    critic_steps: int = 1,
    hyperparameters: dict | None = None,
    batched_state: bool = False,
    batch_size: int | None = 64,
    save_every: int = 1,
    metric_fn: MetricFn | None = None,
    divergence_threshold: float = 1e6,
    b1: float = 0.5,
    b2: float = 0.999,
    unroll_stages: bool = False,
    per_player: bool = False,
    save_states_every: int | None = None,
    sampler: Sampler | None = None,
) -> GANFlowResult:
    """Many runs of :func:`solve_gan_flow` (or :func:`train_with_adam`) as one vmapped, compiled call.

    Run r uses ``keys[r]``, ``step[r]`` and, for each name in ``hyperparameters``, the value
    ``hyperparameters[name][r]``; everything is an array, so other values of the same shape do
    not recompile. ``result.run(r)`` is run r as a single-run result.

    What holds between run r and the single run with the same arguments: the same steps with the
    same minibatches (drawn bit for bit alike), the same divergence step whenever the norms are not
    within round-off of the threshold, and numbers (``loss_d``, the parameters) equal to round-off,
    not necessarily bit for bit. The two are compiled separately, and XLA evaluates the vmapped
    (batched) matrix products and reductions of a sweep with its own kernels, which may sum in
    another order; the difference starts in the last bit (relative 1e-7 in float32, 1e-16 in
    float64) and, like any round-off, can grow over the steps of an unstable run. With several
    devices (``jax.devices()``) and r a multiple of their number, the runs are split across them.

    Args:
        flow: The :class:`GANFlow`; each swept hyperparameter must be part of it (not ``None``).
        state: The initial :class:`GANState`, shared by all runs; or, with ``batched_state=True``,
            one per run (every array leaf with a leading axis of size r, e.g. from
            ``eqx.filter_vmap(lambda k: lgan.mlp_gan(1, key=k))(init_keys)``).
        data: The data set, shape (n, d) (or (n,) when d = 1), shared by all runs.
        keys: One PRNG key per run, shape (r,).
        step: Step h (learning rate for Adam), a scalar or shape (r,); all > 0.
        num_steps: n >= 1.
        solver: As in :func:`solve_gan_flow`, or ``"adam"`` for the runs of :func:`train_with_adam`.
        alternating: Alternating updates (discriminator first); with ``"euler"`` or ``"adam"`` only.
        critic_steps: The discriminator's updates per generator update, as in :func:`train_with_adam`
            (``"adam"``, or ``"euler"`` with ``alternating=True``; 1 otherwise).
        hyperparameters: Dict from names in ``("alpha", "beta", "gamma", "lam", "clip")`` to
            arrays of shape (r,).
        batched_state: Whether ``state`` carries one state per run.
        batch_size: Minibatch size, or ``None`` for the full data set.
        save_every: Save metrics every e steps; e must divide ``num_steps``.
        metric_fn: Optional extra metrics, as in :func:`solve_gan_flow`.
        divergence_threshold: Parameter norm above which a run counts as diverged.
        b1: Adam's beta_1 in [0, 1) (Adam only).
        b2: Adam's beta_2 in [0, 1) (Adam only).
        unroll_stages: As in :func:`solve_gan_flow`.
        per_player: As in :func:`solve_gan_flow`.
        save_states_every: As in :func:`solve_gan_flow`; ``result.states`` then has leading axes
            (r, n / s + 1).
        sampler: Optional fresh samples for each minibatch, as in :func:`solve_gan_flow`.

    Returns:
        :class:`GANFlowResult` whose array leaves have a leading axis of size r.
    """
    stepper = make_stepper(solver, alternating=alternating, critic_steps=critic_steps, unroll_stages=unroll_stages, per_player=per_player, b1=b1, b2=b2, extra=("adam",))
    batched_state = check_bool("batched_state", batched_state)
    r = _check_keys(keys)
    if not isinstance(state, GANState):
        raise ValueError(f"state must be an lgan.GANState (build it with lgan.mlp_gan), got {type(state).__name__}")
    y0, parts = StateParts.split(state)
    if batched_state:
        _check_batched_state(y0, r)
    # With one state per run, the model checks look at run 0.
    first = tree_index(state, 0) if batched_state else state
    data = check_common(flow, first, data, num_steps, save_every, batch_size, divergence_threshold, save_states_every)
    check_metric_fn(metric_fn)
    check_sampler(sampler, batch_size, data)
    steps = _steps_per_run(step, r)
    flows = _flows_per_run(flow, dict(hyperparameters or {}), r, data.dtype)
    check_initial_norm(y0, divergence_threshold, batched=batched_state)
    config = RunConfig(stepper, num_steps, save_every, save_states_every, batch_size, metric_fn, sampler, vmapped=True)
    put = _runs_sharding(r)
    state_axis = 0 if batched_state else None
    y0 = put(y0) if batched_state else y0
    threshold = jnp.asarray(divergence_threshold, data.dtype)
    return run_batch(
        config, put(flows), parts, data, put(jnp.asarray(keys)), y0, put(jnp.asarray(steps, data.dtype)), threshold, state_axis=state_axis
    )


def _check_keys(keys) -> int:
    """r, after checking that ``keys`` is an array of r typed PRNG keys."""
    want = "keys must be an array of typed PRNG keys of shape (r,) (jax.random.split(key, r))"
    if isinstance(keys, (str, bytes)) or not hasattr(keys, "dtype"):
        raise ValueError(f"{want}, got {keys!r:.60}")
    keys = jnp.asarray(keys)
    if not jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        raise ValueError(f"{want}, got dtype {keys.dtype}")
    if keys.ndim != 1:
        raise ValueError(f"keys must have shape (r,), got shape {keys.shape}")
    return keys.shape[0]


def _check_batched_state(y0, r: int) -> None:
    for leaf in jax.tree_util.tree_leaves(y0):
        if leaf.ndim == 0 or leaf.shape[0] != r:
            raise ValueError(f"batched_state=True needs a leading axis of size {r} on every parameter, got shape {leaf.shape}")


def _steps_per_run(step, r: int) -> np.ndarray:
    """``step`` as r positive numbers (a scalar is repeated)."""
    step_arr = real_array("step", step)
    if step_arr is None or step_arr.dtype == bool:
        raise ValueError(f"step must be a real scalar > 0 or an array of shape ({r},), got {step!r:.60}")
    step_arr = step_arr.astype(float)
    if step_arr.ndim == 0:
        step_arr = np.full((r,), float(step_arr))
    if step_arr.shape != (r,):
        raise ValueError(f"step must be a scalar or have shape ({r},) (one per key), got shape {step_arr.shape}")
    check_positive("step", step_arr)
    return step_arr


def _check_hyperparameter(flow: GANFlow, name: str, values, r: int) -> np.ndarray:
    check_choice("hyperparameters key", name, SWEEP_HYPERPARAMETERS)
    label = f"hyperparameters[{name!r}]"
    if getattr(flow, name) is None:
        raise ValueError(f"{label}: this flow has no {name}; build it with lgan.gan_flow({name}=...)")
    arr = real_array(label, values)
    if arr is None:
        raise ValueError(f"{label} must be a concrete array of shape ({r},)")
    arr = arr.astype(float)
    if arr.shape != (r,):
        raise ValueError(f"{label} must have shape ({r},) (one per key), got shape {arr.shape}")
    if name in ("gamma", "lam", "alpha"):
        check_nonnegative(label, arr)
    elif name == "clip":
        check_positive(label, arr)
    else:
        check_finite(label, arr)
        if np.any(arr == 0):
            raise ValueError(f"{label} must be non-zero, got {arr.tolist()}")
    return arr


def _flows_per_run(flow: GANFlow, hyperparameters: dict, r: int, dtype) -> GANFlow:
    """The flow with a leading axis of size r on every array leaf: the swept values, or the flow's own repeated."""
    swept = {name: _check_hyperparameter(flow, name, values, r) for name, values in hyperparameters.items()}
    flows = flow
    for name in ("alpha", "beta", "gamma", "lam", "clip", "anchor"):
        value = getattr(flow, name)
        if value is not None:
            new = jnp.asarray(swept[name], dtype) if name in swept else jnp.broadcast_to(value, (r,) + value.shape)
            flows = eqx.tree_at(lambda f, name=name: getattr(f, name), flows, new)
    return strong_types(flows, dtype)


def _runs_sharding(r: int):
    """A function placing the leading (run) axis of every array leaf across the devices, if r splits evenly.

    With one device, or when r is not a multiple of the device count, it returns the tree unchanged
    and the sweep runs on the default device. (Several devices: GPUs, or CPU cores exposed as host
    devices through XLA_FLAGS=--xla_force_host_platform_device_count=N.)
    """
    devices = jax.devices()
    if len(devices) < 2 or r % len(devices):
        return lambda tree: tree
    mesh = jax.sharding.Mesh(np.asarray(devices), ("runs",))
    runs = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("runs"))
    return lambda tree: jax.tree_util.tree_map(lambda a: jax.device_put(a, runs) if eqx.is_array(a) else a, tree)
