"""Experiments over many runs: a batch of GAN states from a batch of keys, and sweeps over seeds x settings.

A *batched* :class:`lgan.GANState` carries every array leaf with leading run axes (one state per
run), the layout :func:`lgan.sweep` takes with ``batched_state=True`` and returns in
``result.final``. :func:`mlp_gan_batch` builds one from a batch of keys, :func:`select_state` picks
one run (and one saved snapshot) out of it, and :func:`sweep_grid` runs every seed at every
setting in one :func:`lgan.sweep`, with results laid out as (seeds, settings).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._core._tree import tree_index
from .._core._validation import ArgumentTypeError, check_finite, check_positive, real_array
from ._result import GANFlowResult
from ._state import GANState, mlp_gan
from ._sweep import SWEEP_HYPERPARAMETERS, sweep
from ._vector_field import GANFlow

SETTING_NAMES = ("step",) + SWEEP_HYPERPARAMETERS


def _check_keys(name: str, keys, ndims: tuple[int, ...]) -> jax.Array:
    """``keys`` as an array of typed PRNG keys with one of the numbers of axes in ``ndims``."""
    dtype = getattr(keys, "dtype", None)
    if isinstance(keys, (str, bytes)) or dtype is None or not jnp.issubdtype(dtype, jax.dtypes.prng_key):
        raise ArgumentTypeError(
            f"{name} must be an array of typed PRNG keys (jax.random.split(jax.random.key(0), r)), got {keys!r:.60}"
        )
    keys = jnp.asarray(keys)
    if keys.ndim not in ndims or keys.size == 0:
        want = " or ".join({1: "(r,)", 2: "(r, s)"}[n] for n in ndims)
        raise ValueError(f"{name} must have shape {want} with r >= 1, got shape {keys.shape}")
    return keys


def _batch_shape(name: str, states, batch_dims: int) -> tuple[int, ...]:
    """The leading shape, of length ``batch_dims``, that every array leaf of ``states`` shares."""
    if not isinstance(states, GANState):
        raise ArgumentTypeError(f"{name} must be an lgan.GANState (lgan.mlp_gan), got {type(states).__name__}")
    shapes = {tuple(leaf.shape[:batch_dims]) for leaf in jax.tree_util.tree_leaves(states) if eqx.is_array(leaf)}
    ranks = {leaf.ndim for leaf in jax.tree_util.tree_leaves(states) if eqx.is_array(leaf)}
    if len(shapes) != 1 or min(ranks) < batch_dims:
        raise ValueError(
            f"{name} must have {batch_dims} leading run axes shared by every parameter, got leading shapes "
            f"{sorted(shapes)}"
        )
    return shapes.pop()


def mlp_gan_batch(
    data_dim: int,
    latent_dim: int = 2,
    width: int = 32,
    depth: int = 2,
    *,
    activation: Callable[[Array], Array] = jax.nn.silu,
    init: str = "equinox",
    keys: PRNGKeyArray,
) -> GANState:
    """One :func:`lgan.mlp_gan` per key, stacked: state r is ``mlp_gan(..., key=keys[r])``.

    The result has a leading axis of size r on every parameter, the layout of
    ``lgan.sweep(..., batched_state=True)`` and of :func:`sweep_grid`.

    Args:
        data_dim: d >= 1.
        latent_dim: k >= 1.
        width: Units per hidden layer (>= 1).
        depth: Number of hidden layers (>= 1).
        activation: Elementwise activation of both networks.
        init: ``"equinox"`` or ``"haiku"``, as in :func:`lgan.mlp_gan`.
        keys: PRNG keys, shape (r,), e.g. ``jax.random.split(jax.random.key(0), r)``.

    Returns:
        A batched :class:`lgan.GANState` (leading axis r).
    """
    keys = _check_keys("keys", keys, (1,))
    # mlp_gan checks the other arguments (the key check passes for the traced keys of the vmap).
    return eqx.filter_vmap(lambda k: mlp_gan(data_dim, latent_dim, width, depth, activation=activation, init=init, key=k))(keys)


def select_state(states: GANState, index: int | tuple[int, ...]) -> GANState:
    """``states[index]`` on every parameter: one run (and snapshot) of a batched :class:`lgan.GANState`.

    ``select_state(result.final, r)`` is run r of a :func:`lgan.sweep`;
    ``select_state(result.states, (i, j, c))`` is snapshot c of run (i, j) of a :func:`sweep_grid`
    with ``save_states_every``.

    Args:
        states: A batched :class:`lgan.GANState`.
        index: An integer, or a tuple of integers (one per leading axis picked); negative
            integers count from the end.

    Returns:
        The :class:`lgan.GANState` with those leading axes removed.
    """
    index = (index,) if not isinstance(index, tuple) else index
    if not index or not all(isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) for i in index):
        raise ArgumentTypeError(f"index must be an integer or a non-empty tuple of integers, got {index!r:.60}")
    shape = _batch_shape("states", states, len(index))
    if not all(-n <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"index must lie within the leading shape {shape} of states, got {index}")
    return tree_index(states, index)


def _check_settings(settings, options: dict) -> dict[str, np.ndarray]:
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise ArgumentTypeError(f"settings must be a dict from names to arrays of shape (s,), got {type(settings).__name__}")
    clash = sorted({"keys", "hyperparameters", "batched_state"} & set(options) | set(settings) & set(options))
    if clash:
        raise ValueError(f"sweep_grid sets {clash} itself (give the values per setting in settings), got them as keywords")
    out = {}
    for name, values in settings.items():
        if name not in SETTING_NAMES:
            raise ValueError(f"settings keys must be among {', '.join(map(repr, SETTING_NAMES))}; got {name!r}")
        arr = real_array(f"settings[{name!r}]", values)
        if arr is None or arr.dtype == bool or arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"settings[{name!r}] must be a concrete 1-D array of numbers (one per setting), got {values!r:.60}")
        (check_positive if name == "step" else check_finite)(f"settings[{name!r}]", arr)
        out[name] = arr.astype(float)
    sizes = {name: arr.size for name, arr in out.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"settings must all have the same length (one entry per setting), got lengths {sizes}")
    if "step" not in out and "step" not in options:
        raise ValueError("step must be given, as settings['step'] (one per setting) or as a keyword (shared)")
    return out


def sweep_grid(
    flow: GANFlow,
    states: GANState,
    data: Float[Array, "n d"],
    *,
    keys: PRNGKeyArray,
    settings: dict[str, Float[Array, " s"]] | None = None,
    **options,
) -> GANFlowResult:
    """Every seed at every setting, as one :func:`lgan.sweep`; the result laid out as (seeds, settings).

    Run (i, j) starts from ``states[i]`` with the key ``keys[i]`` (or ``keys[i, j]``) and takes the
    step ``settings["step"][j]`` and, for each other name, the hyperparameter ``settings[name][j]``:
    it is the run :func:`lgan.sweep` makes with those values (runs are batched in the order
    i * s + j; the results do not depend on that order). With one key per seed, runs with the same
    seed see the same minibatches at every setting (paired comparisons).

    Args:
        flow: The :class:`lgan.GANFlow`; each swept hyperparameter must be part of it.
        states: One initial state per seed, leading axis r (:func:`mlp_gan_batch`).
        data: The data set, shared by all runs.
        keys: PRNG keys, shape (r,) (one per seed) or (r, s) (one per run).
        settings: Dict from ``"step"`` and names in ``("alpha", "beta", "gamma", "lam", "clip")``
            to arrays of shape (s,), one entry per setting; ``None`` or ``{}`` for one setting.
        **options: The other keyword arguments of :func:`lgan.sweep` (``num_steps``, ``solver``,
            ``batch_size``, ``save_every``, ``metric_fn``, ``save_states_every``, ...), shared
            by all runs; ``step`` here when it is not a setting.

    Returns:
        The :class:`lgan.GANFlowResult` of :func:`lgan.sweep` with every per-run array reshaped
        from (r * s, ...) to (r, s, ...): ``result.metrics["loss_d"][i, j]`` is run (i, j).
    """
    settings = _check_settings(settings, options)
    keys = _check_keys("keys", keys, (1, 2))
    num_seeds = keys.shape[0]
    num_settings = next(iter(settings.values())).size if settings else (keys.shape[1] if keys.ndim == 2 else 1)
    if keys.ndim == 2 and keys.shape[1] != num_settings:
        raise ValueError(f"keys of shape (r, s) must have s = {num_settings} (one per setting), got shape {keys.shape}")
    if _batch_shape("states", states, 1) != (num_seeds,):
        raise ValueError(f"states must have a leading axis of size {num_seeds} (one per key), got {_batch_shape('states', states, 1)}")
    seed_of_run = np.repeat(np.arange(num_seeds), num_settings)
    flat_states = jax.tree_util.tree_map(lambda a: a[seed_of_run] if eqx.is_array(a) else a, states)
    flat_keys = keys.reshape(-1) if keys.ndim == 2 else keys[seed_of_run]
    flat = {name: np.tile(arr, num_seeds) for name, arr in settings.items()}
    if "step" in flat:
        options["step"] = flat.pop("step")
    result = sweep(flow, flat_states, data, keys=flat_keys, hyperparameters=flat, batched_state=True, **options)
    runs = num_seeds * num_settings

    def unflatten(a):
        return a.reshape((num_seeds, num_settings) + a.shape[1:]) if eqx.is_array(a) and a.ndim and a.shape[0] == runs else a

    return jax.tree_util.tree_map(unflatten, result)
