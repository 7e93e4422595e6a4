"""Looking at a trained GAN: its samples, its discriminator on a grid, and the time curves of its metrics.

:func:`generator_samples` and :func:`discriminator_on_grid` evaluate a :class:`lgan.GANState`
(or a batch of them, with ``batch_dims`` leading run axes) and are traceable, so they also serve
inside a ``metric_fn`` of :func:`lgan.solve_gan_flow`. :func:`hitting_time` and
:func:`windowed_decay_rate` read a saved metric curve (e.g. ``result.metrics["disc_sq_norm"]``)
on the host.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core._validation import (
    check_finite,
    check_int_at_least,
    check_positive,
    check_real_scalar,
    check_shape,
    real_array,
    real_float_array,
)
from ._experiments import _batch_shape, select_state
from ._state import GANState


def _over_runs(fn, batch_dims: int):
    """``fn`` of one state, vmapped over ``batch_dims`` leading run axes of the state."""
    for _ in range(batch_dims):
        fn = eqx.filter_vmap(fn)
    return fn


def _check_state(state, batch_dims: int) -> GANState:
    """The first run of ``state`` (checking it has ``batch_dims`` leading run axes)."""
    check_int_at_least("batch_dims", batch_dims, 0)
    _batch_shape("state", state, batch_dims)
    return select_state(state, (0,) * batch_dims) if batch_dims else state


def _floating(name: str, value) -> Array:
    real_array(name, value)
    check_finite(name, value)
    arr = jnp.asarray(value)
    return arr if jnp.issubdtype(arr.dtype, jnp.floating) else arr.astype(jnp.result_type(float))


def generator_samples(state: GANState, z: Float[Array, "n k"], *, batch_dims: int = 0) -> Float[Array, "*r n d"]:
    """x_i = G(z_i) for every latent z_i: samples of the generator's push-forward of N(0, I_k) when z_i ~ N(0, I_k).

    Args:
        state: A :class:`lgan.GANState`, or a batch of them with ``batch_dims`` leading run axes
            (``result.final`` of :func:`lgan.sweep` has one).
        z: Latents, shape (n, k) with k = ``state.latent_dim``.
        batch_dims: The number of leading run axes of ``state`` (0, 1, or 2 for :func:`lgan.sweep_grid`).

    Returns:
        The samples, shape ``(*r, n, d)``: one set per run, all from the same latents.
    """
    first = _check_state(state, batch_dims)
    check_shape("z", z, ("n", first.latent_dim), description=f" (n latents of dimension k = {first.latent_dim})")
    return _generator_samples(state, _floating("z", z), batch_dims)


@eqx.filter_jit
def _generator_samples(state, z, batch_dims: int):
    return _over_runs(lambda st: jax.vmap(st.generator)(z), batch_dims)(state)


def discriminator_on_grid(state: GANState, *axes: Float[Array, " m"], batch_dims: int = 0) -> Float[Array, "*r ..."]:
    """D(x) at every point x of the grid ``jnp.meshgrid(*axes)`` (one axis per data dimension).

    The grid uses meshgrid's default ``"xy"`` indexing, so in two dimensions the values have shape
    (len(y), len(x)), as ``plt.contour(x, y, values)`` expects; in one dimension they are D on
    the points of the axis.

    Args:
        state: A :class:`lgan.GANState`, or a batch of them with ``batch_dims`` leading run axes.
        *axes: d 1-D arrays of grid coordinates, finite (d = the data dimension).
        batch_dims: The number of leading run axes of ``state``.

    Returns:
        D on the grid, shape ``(*r, len(axes[1]), len(axes[0]), len(axes[2]), ...)`` (meshgrid's
        shape), or ``(*r, m)`` in one dimension.
    """
    first = _check_state(state, batch_dims)
    if not axes:
        raise ValueError("discriminator_on_grid needs one 1-D array of coordinates per data dimension, got none")
    axes = tuple(_floating(f"axes[{i}]", a) for i, a in enumerate(axes))
    for i, a in enumerate(axes):
        check_shape(f"axes[{i}]", a, ("m",), description=" (the grid coordinates along one dimension)")
    try:
        # Through a lambda: JAX 0.4 hashes the function of eval_shape, and a traced module is unhashable.
        out = jax.eval_shape(lambda x: first.discriminator(x), jax.ShapeDtypeStruct((len(axes),), axes[0].dtype))
    except Exception:  # noqa: BLE001 (any failure to trace means the discriminator takes another d)
        out = None
    if out is None or out.shape != ():
        raise ValueError(f"got {len(axes)} axes, but the discriminator does not map vectors of dimension {len(axes)} to scalars")
    mesh = jnp.meshgrid(*axes) if len(axes) > 1 else [axes[0]]
    points = jnp.stack([m.ravel() for m in mesh], axis=1)
    values = _discriminator_values(state, points, batch_dims)
    return values.reshape(values.shape[:batch_dims] + mesh[0].shape)


@eqx.filter_jit
def _discriminator_values(state, points, batch_dims: int):
    return _over_runs(lambda st: jax.vmap(st.discriminator)(points), batch_dims)(state)


# ----------------------------------------------------------------------------- metric curves


def _check_curve(times, values) -> tuple[np.ndarray, np.ndarray]:
    t = real_float_array("times", times)
    check_shape("times", t, ("s",), description=" (the saved times)")
    check_finite("times", t)
    if t.size < 1 or np.any(np.diff(t) <= 0):
        raise ValueError(f"times must be a non-empty increasing 1-D array, got {t[:6].tolist()}...")
    v = real_float_array("values", values)
    if v.ndim < 1 or v.shape[-1] != t.size:
        raise ValueError(f"values must have shape (..., {t.size}) (one value per entry of times), got shape {v.shape} for times of shape {t.shape}")
    if np.any(np.isinf(v)):
        raise ValueError("values must be finite or NaN (NaN for entries to skip), got an infinity")
    return t, v


def _first_below(values: np.ndarray, level: float, after_peak: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, hit, first): the start index (0, or the peak), whether some value from there is
    below ``level``, and the first such index; NaN values are never below and never the peak."""
    nan = np.isnan(values)
    start = np.argmax(np.where(nan, -np.inf, values), axis=-1) if after_peak else np.zeros(values.shape[:-1], int)
    below = ~nan & (values < level) & (np.arange(values.shape[-1]) >= start[..., None])
    return start, below.any(axis=-1), np.argmax(below, axis=-1)


def hitting_time(times: Float[Array, " s"], values: Float[Array, "*b s"], level: float, *, after_peak: bool = False):
    """inf {t_k : values_k < level}: the first saved time at which a curve is below ``level``.

    With ``after_peak=True`` only times from the curve's maximum on count (the time a curve that
    first rises takes to come back down). NaN entries (e.g. metrics masked after a divergence)
    never count.

    Args:
        times: The saved times t_k, increasing, shape (s,).
        values: One curve (s,) or a batch of curves (..., s).
        level: The level.
        after_peak: Start the search at the (first) maximum of each curve.

    Returns:
        The hitting time (``inf`` for a curve that never goes below the level): a float, or an
        array of shape (...) for a batch of curves.
    """
    t, v = _check_curve(times, values)
    level = check_real_scalar("level", level)
    _, hit, first = _first_below(v, level, after_peak)
    out = np.where(hit, t[first], np.inf)
    return float(out) if out.ndim == 0 else out


def windowed_decay_rate(times: Float[Array, " s"], values: Float[Array, "*b s"], level: float):
    """Least-squares slope of log(values) against t from the curve's peak to the first value below ``level``.

    The rate r of values ~ C e^{r t} over the decay window; a plain fit (not through the local
    maxima as :func:`lgan.fitted_decay_rate` does), for curves that are noisy rather than
    oscillating. If the curve never goes below ``level`` the window runs to the last time.

    Args:
        times: The saved times t_k, increasing, shape (s,).
        values: One curve (s,) or a batch of curves (..., s), positive in the window.
        level: The level that ends the window, > 0.

    Returns:
        The fitted rate, negative for decay; a float, or an array of shape (...) for a batch.
    """
    t, v = _check_curve(times, values)
    check_positive("level", check_real_scalar("level", level))
    start, hit, first = _first_below(v, level, after_peak=True)
    end = np.where(hit, first, t.size - 1)
    rates = np.empty(v.shape[:-1])
    for i in np.ndindex(rates.shape):
        window = slice(int(start[i]), int(end[i]) + 1)
        if end[i] - start[i] < 2:
            raise ValueError(f"values{list(i) if i else ''}: the window from the peak to the level holds fewer than 3 points")
        check_positive(f"values{list(i) if i else ''} in the decay window", v[i][window])
        rates[i] = np.polyfit(t[window], np.log(v[i][window]), 1)[0]
    return float(rates) if rates.ndim == 0 else rates
