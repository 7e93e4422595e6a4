"""The Rayleigh quotient of a test function on samples, and the trained estimate (Khrulkov et al. 2021, eqs. 30-32).

R(w) = E ``||grad w||^2`` / Var w over samples (eq. 31); every w gives an upper bound on xi_min
(eq. 30). :func:`rayleigh_quotient` is the batch loss of eq. 32 that the estimator trains on, and
:class:`PoincareEstimate` holds a trained w, which can be evaluated on new points and whose
quotient on an independent sample estimates R_mu(w).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, ArrayLike, Float, Scalar

from .._core._validation import (
    check_finite,
    check_finite_in_dtype,
    check_real_dtype,
    working_dtype,
)

# Samples per evaluation call (rounded to a multiple of the device count); one compilation.
_EVAL_CHUNK = 1024


# ----------------------------------------------------------------------------- the loss (eq. 32)


def _per_sample_value_and_grad_sq(model, state: eqx.nn.State, x: Array) -> tuple[Array, Array]:
    """w(x_i) and ``||grad_x w(x_i)||^2`` for each sample, with ``model`` in inference mode."""

    def batch_sum(x):
        values = jax.vmap(lambda xi: model(xi, state)[0])(x)
        return jnp.sum(values), values

    # w(x_j) depends on x_i only for j = i, so the gradient of the batch sum holds every per-sample
    # gradient. (jax.vmap(jax.grad(w)) is the same but batches the transposed convolution, which
    # JAX 0.7 cannot: NotImplementedError from its batching rule.)
    grads, values = jax.grad(batch_sum, has_aux=True)(x)
    grad_sq = jnp.sum(jnp.reshape(grads, (grads.shape[0], -1)) ** 2, axis=1)
    return values, grad_sq


def _rayleigh_quotient(model, state: eqx.nn.State, x: Array) -> tuple[Scalar, eqx.nn.State]:
    # One training-mode pass advances the power iteration of every SpectralNorm layer (the new
    # state does not depend on x, so the per-sample states are all equal: out_axes None). Inside
    # jit the unused outputs of this pass are dead code and cost nothing.
    _, new_state = jax.vmap(model, in_axes=(0, None), out_axes=(0, None))(x, state)
    # w and its input gradient through the inference-mode network with the advanced state: calling
    # the training-mode network again with the old state would raise "Attempted to use old state".
    values, grad_sq = _per_sample_value_and_grad_sq(eqx.nn.inference_mode(model), new_state, x)
    return _batch_quotient(values, grad_sq), new_state


def _roundoff_spread(max_abs, dtype):
    """64 ulps (of ``dtype``) of ``max |w|``: values that close are equal up to the round-off of a batched network."""
    return 64 * np.finfo(dtype).eps * max_abs


def _batch_quotient(values: Float[Array, " n"], grad_sq: Float[Array, " n"]) -> Scalar:
    """mean ``||grad w||^2`` / Var w on a minibatch (eq. 32); NaN, a skipped step, when Var w is round-off."""
    var = jnp.var(values)
    floor = _roundoff_spread(jnp.max(jnp.abs(values)), values.dtype)
    return jnp.where(var > floor**2, jnp.mean(grad_sq) / var, jnp.nan)


@eqx.filter_jit
def rayleigh_quotient(
    model: eqx.Module, state: eqx.nn.State, x: Float[Array, "n ..."]
) -> tuple[Scalar, eqx.nn.State]:
    """The batch loss L = mean_i ``||grad_x w(x_i)||^2`` / Var_i w(x_i) (Khrulkov et al. 2021, eq. 32).

    The denominator is the batch variance (1/N) sum_i w(x_i)^2 - ((1/N) sum_i w(x_i))^2. The
    spectral-norm state is advanced by one training-mode pass over the batch, and w and its input
    gradient are evaluated through ``eqx.nn.inference_mode(model)`` with the advanced state, so the
    loss can be differentiated with respect to the weights. The value is unchanged when w is
    scaled by a constant or shifted by one, and NaN when w is constant on the batch up to round-off
    (a spread within 64 ulps of ``max |w|``).

    Args:
        model: A stateful scalar network called per sample, ``model(x_i, state) -> (w, state)``,
            such as :class:`lgan.SpectralNormMLP` or :class:`lgan.SpectralNormConvNet`.
        state: Its ``eqx.nn.State``.
        x: A batch of at least two samples, shape (n, d) or (n, C, H, W).

    Returns:
        ``(value, new_state)``: the quotient (a scalar) and the advanced state.
    """
    return _rayleigh_quotient(model, state, x)


# ----------------------------------------------------------------------------- evaluation


@eqx.filter_jit
def _evaluate_chunk(model, state, x, key, augmentation, batch_sharding):
    if augmentation is not None:
        x = augmentation(key, x)
    x = jax.lax.with_sharding_constraint(x, batch_sharding)
    return _per_sample_value_and_grad_sq(model, state, x)


def _data_mesh() -> tuple[int, NamedSharding, NamedSharding]:
    """The device count, and the replicated and batch-split shardings of a one-axis mesh ("data",)."""
    devices = jax.devices()
    mesh = Mesh(np.asarray(devices), ("data",))
    return len(devices), NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))


def _pooled_evaluation(model, state, x_all: Array, *, key, augmentation, sweeps: int) -> tuple[np.ndarray, np.ndarray]:
    """w(x_i) and ``||grad w(x_i)||^2`` (float64) on every sample, ``sweeps`` times, in inference mode."""
    num_devices, _, batch_sharding = _data_mesh()
    eval_model = eqx.nn.inference_mode(model)
    n = x_all.shape[0]
    size = min(n, _EVAL_CHUNK)
    size = max(num_devices, size - size % num_devices)
    num_chunks = math.ceil(n / size)
    index = np.arange(num_chunks * size) % n  # the last chunk wraps around; the extra rows are dropped
    values, grad_sq = [], []
    for sweep in range(sweeps):
        key_sweep = jax.random.fold_in(key, sweep)
        for c in range(num_chunks):
            rows = index[c * size : (c + 1) * size]
            v, g = _evaluate_chunk(
                eval_model, state, x_all[rows], jax.random.fold_in(key_sweep, c), augmentation, batch_sharding
            )
            keep = min(size, n - c * size)
            values.append(np.asarray(v)[:keep])
            grad_sq.append(np.asarray(g)[:keep])
    return np.concatenate(values).astype(np.float64), np.concatenate(grad_sq).astype(np.float64)


def _quotient(values: np.ndarray, grad_sq: np.ndarray) -> float:
    """mean ``||grad w||^2`` / Var w in float64 (eq. 31 with expectations over the samples).

    NaN when w is constant on the samples up to the round-off of the working precision (a spread
    below 64 ulps of ``max |w|``): equal inputs can come out of a batched network a few ulps apart
    (vectorised and remainder rows round differently), and that is no variance.
    """
    roundoff = _roundoff_spread(np.max(np.abs(values), initial=0.0), working_dtype())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        var = np.var(values)
        return float("nan") if var <= roundoff**2 else float(np.mean(grad_sq) / var)


def check_samples(data, *, name: str = "data", min_samples: int = 2) -> np.ndarray:
    if isinstance(data, (str, bytes)) or data is None:
        raise ValueError(f"{name} must hold real numbers, got {type(data).__name__}")
    arr = np.asarray(data)
    check_real_dtype(name, arr.dtype)
    rank = f"{name} must have rank 2, shape (n, d), or rank 4, shape (n, C, H, W), got shape {arr.shape}"
    if arr.ndim == 3:
        raise ValueError(f"{rank}; for single-channel images add a channel axis: {name}[:, None]")
    if arr.ndim == 1:
        raise ValueError(f"{rank}; for samples of a 1-D distribution add a feature axis: {name}[:, None]")
    if arr.ndim not in (2, 4):
        raise ValueError(rank)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} must have at least {min_samples} samples (the quotient divides by their variance), got {arr.shape[0]}"
        )
    check_finite(name, arr)
    return arr


class PoincareEstimate(NamedTuple):
    """The result of :func:`lgan.estimate_poincare_constant`.

    Attributes:
        xi: The estimate of xi_min, the quotient of eq. 32 evaluated on the whole data set.
        learning_curve: The minibatch loss (eq. 32) at each training step, shape (num_steps,);
            NaN at a step whose minibatch had no variance (w constant on it up to round-off, e.g. the same
            sample drawn twice), which was skipped.
        model: The trained test-function network (in training mode).
        state: Its spectral-norm state after training.
        sample_shape: The shape of one data sample, (d,) or (C, H, W).
        input_shift: ``None``, or the mean m of data that were standardised on the host before
            training (data far from unit scale): ``model`` then takes (x - m) / s.
        input_scale: The spread s of that standardisation (1 when there was none).
    """

    xi: float
    learning_curve: np.ndarray
    model: Any
    state: Any
    sample_shape: tuple[int, ...] = ()
    input_shift: np.ndarray | None = None
    input_scale: float = 1.0

    @property
    def xi_min(self) -> float:
        """The same number as ``xi`` (the name the command line reads)."""
        return self.xi

    def _values_and_grad_sq(self, x, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
        arr = check_samples(x, name="x", min_samples=min_samples)
        if self.sample_shape and arr.shape[1:] != tuple(self.sample_shape):
            raise ValueError(f"x must have samples of shape {tuple(self.sample_shape)}, got shape {arr.shape}")
        if self.input_shift is not None:
            arr = (arr.astype(np.float64) - self.input_shift) / self.input_scale
        check_finite_in_dtype("x", arr)
        _, replicated, _ = _data_mesh()
        x_all = jax.device_put(jnp.asarray(arr, dtype=working_dtype()), replicated)
        values, grad_sq = _pooled_evaluation(self.model, self.state, x_all, key=jax.random.key(0), augmentation=None, sweeps=1)
        return values, grad_sq / np.float64(self.input_scale) ** 2

    def evaluate(self, x: Float[ArrayLike, "n ..."]) -> Float[np.ndarray, " n"]:
        """w(x_i) for each sample: the trained test function (inference mode, trained state).

        Args:
            x: Samples of the shape the estimate was trained on, (n, d) or (n, C, H, W).

        Returns:
            The values, a float64 numpy array of shape (n,).
        """
        return self._values_and_grad_sq(x, min_samples=1)[0]

    def quotient(self, x: Float[ArrayLike, "n ..."]) -> float:
        """R(w) = mean_i ``||grad w(x_i)||^2`` / Var_i w(x_i) of the trained w on the samples x (eq. 31).

        On independent samples of mu this estimates R_mu(w), an upper bound on xi_min
        (Khrulkov et al. 2021, eq. 30); on the training data (without augmentation) it is ``xi``.

        Args:
            x: At least two samples of the shape the estimate was trained on.

        Returns:
            The quotient, a float; ``ValueError`` if w is constant on x (no finite quotient).
        """
        xi = _quotient(*self._values_and_grad_sq(x, min_samples=2))
        if not (math.isfinite(xi) and xi > 0):
            raise ValueError(f"x: the trained w has no finite positive quotient on these samples (got {xi!r})")
        return xi
