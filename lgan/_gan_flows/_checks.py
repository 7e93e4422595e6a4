"""Checks of the GAN-flow entry points that run before any compute."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._core._tree import host_float64, tree_norm
from .._core._validation import check_finite, check_int_at_least, check_positive
from ._state import GANState, _output_shape
from ._vector_field import GANFlow


def check_common(flow, state, data, num_steps, save_every, batch_size, divergence_threshold, save_states_every=None):
    if not isinstance(flow, GANFlow):
        raise ValueError(f"flow must be an lgan.GANFlow (build it with lgan.gan_flow), got {type(flow).__name__}")
    if not isinstance(state, GANState):
        raise ValueError(f"state must be an lgan.GANState (build it with lgan.mlp_gan), got {type(state).__name__}")
    check_int_at_least("num_steps", num_steps, 1)
    check_int_at_least("save_every", save_every, 1)
    if num_steps % save_every:
        raise ValueError(f"save_every must divide num_steps, got save_every={save_every}, num_steps={num_steps}")
    if save_states_every is not None:
        check_int_at_least("save_states_every", save_states_every, 1)
        if save_states_every % save_every or num_steps % save_states_every:
            raise ValueError(
                "save_states_every must be a multiple of save_every and divide num_steps, got "
                f"save_states_every={save_states_every}, save_every={save_every}, num_steps={num_steps}"
            )
    if batch_size is not None:
        check_int_at_least("batch_size", batch_size, 1)
    if isinstance(divergence_threshold, bool) or np.ndim(divergence_threshold) != 0:
        raise ValueError(f"divergence_threshold must be a real scalar > 0, got {divergence_threshold!r}")
    check_positive("divergence_threshold", divergence_threshold)
    return _check_data(data, state, flow)


def _check_data(data, state: GANState, flow: GANFlow):
    try:
        arr = np.asarray(data)
    except Exception:  # noqa: BLE001
        raise ValueError(f"data must be an array of shape (n, d), got {type(data).__name__}") from None
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"data must be real, got dtype {arr.dtype}")
    dtype = jnp.result_type(float)
    try:
        out = _output_shape(state.generator, (state.latent_dim,), dtype)
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"state.generator failed on a latent of shape ({state.latent_dim},): {err}") from err
    if len(out) != 1:
        raise ValueError(f"state.generator must return a vector of shape (d,), got shape {out}")
    d = out[0]
    if arr.ndim == 1 and d == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise ValueError(f"data must have shape (n, d) with n >= 1, got shape {arr.shape}")
    if arr.shape[1] != d:
        raise ValueError(f"data has dimension {arr.shape[1]} but the generator makes samples of dimension {d}")
    try:
        d_out = _output_shape(state.discriminator, (d,), dtype)
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"data has dimension {d} but state.discriminator fails on a sample of shape ({d},): {err}") from err
    if d_out != ():
        raise ValueError(f"state.discriminator must return a scalar, got shape {d_out}")
    check_finite("data", arr)
    if flow.anchor is not None and flow.anchor.shape != (d,):
        raise ValueError(f"anchor has shape {flow.anchor.shape} but the data have dimension {d}")
    return jnp.asarray(arr, dtype=dtype)


def check_initial_norm(y0, threshold, *, batched: bool = False) -> None:
    """Raise unless the initial parameters are finite with norm <= threshold (each run's, when ``batched``)."""
    norms = np.atleast_1d(tree_norm(host_float64(y0), xp=np, batch_dims=int(batched)))
    if not np.all(np.isfinite(norms)):
        raise ValueError("state must have finite parameters")
    if not np.all(norms <= float(threshold)):
        which = "every initial parameter norm (max" if batched else "the initial parameter norm"
        raise ValueError(f"divergence_threshold must exceed {which} {float(np.max(norms)):.3g}{')' if batched else ''}, got {float(threshold)!r}")


def check_step(name: str, step) -> None:
    """Raise unless ``step`` is one real number > 0."""
    if isinstance(step, bool) or np.ndim(step) != 0:
        raise ValueError(f"{name} must be a real scalar > 0, got {step!r}")
    check_positive(name, step)


def check_metric_fn(metric_fn) -> None:
    """Raise unless ``metric_fn`` is ``None`` or callable."""
    if metric_fn is not None and not callable(metric_fn):
        raise ValueError(f"metric_fn must be callable as metric_fn(state, x, z) -> dict, got {type(metric_fn).__name__}")


def check_sampler(sampler, batch_size, data) -> None:
    """Raise unless ``sampler`` is ``None`` or ``sampler(key, b)`` returns b samples shaped like the data's."""
    if sampler is None:
        return
    if not callable(sampler):
        raise ValueError(f"sampler must be callable as sampler(key, n) -> (n, d) samples, got {type(sampler).__name__}")
    if batch_size is None:
        raise ValueError("sampler needs a batch_size (it draws each minibatch afresh); got batch_size=None")
    want = (batch_size, data.shape[1])
    try:
        out = jax.eval_shape(lambda key: sampler(key, batch_size), jax.random.key(0))
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"sampler(key, {batch_size}) failed: {err}") from err
    shape, dtype = getattr(out, "shape", None), getattr(out, "dtype", None)
    if shape != want or dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"sampler(key, {batch_size}) must return a real array of shape {want} (like the data), got {shape} {dtype}")
