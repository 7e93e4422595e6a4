"""Variational estimate of the Poincare constant xi_min of a data set (Khrulkov et al. 2021, Section 6).

xi_min is the smallest value of the Rayleigh quotient E_mu ``||grad w||^2`` / Var_mu w over test
functions w (eqs. 30 and 31). Parameterising w by a spectrally normalised network and replacing the
expectations by batch means gives the training loss of eq. 32; its minimum over the network's
weights is an upper bound on xi_min (the network class is smaller than H^1(mu)), and it is the
estimate the paper uses to compare augmentations of CIFAR-10 (Section 7, Figures 4 and 5).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core._validation import (
    check_finite_in_dtype,
    check_int_at_least,
    check_key,
    check_positive,
    working_dtype,
)
from ._augment import Augmentation
from ._networks import SpectralNormConvNet, SpectralNormMLP
from ._quotient import (
    PoincareEstimate,
    _data_mesh,
    _pooled_evaluation,
    _quotient,
    _rayleigh_quotient,
    check_samples,
)

AugmentationFn = Callable[[PRNGKeyArray, Array], Array]

# Optax's Adam direction; the learning rate is applied as an array so a new value does not recompile.
_ADAM = optax.scale_by_adam()


# ----------------------------------------------------------------------------- training


def _train_chunk(
    params,
    static,
    state,
    opt_state,
    data,
    key,
    learning_rate,
    start,
    num_steps,
    *,
    chunk: int,
    batch_size: int,
    augmentation,
    batch_sharding,
):
    """``chunk`` Adam steps from step ``start``; steps >= ``num_steps`` are skipped (loss NaN)."""
    n = data.shape[0]

    def loss_fn(p, st, batch):
        return _rayleigh_quotient(eqx.combine(p, static), st, batch)

    def do_step(carry, step):
        params, state, opt_state = carry
        old = carry
        key_idx, key_aug = jax.random.split(jax.random.fold_in(key, step))
        batch = data[jax.random.randint(key_idx, (batch_size,), 0, n)]
        if augmentation is not None:
            batch = augmentation(key_aug, batch)
        # Data parallel: the batch is split over the devices, the weights stay replicated; the
        # batch means in the loss and the gradient sums become all-reduces.
        batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, batch)
        updates, opt_state = _ADAM.update(grads, opt_state, params)
        params = eqx.apply_updates(params, jax.tree.map(lambda u: -learning_rate * u, updates))
        # A minibatch on which w is constant (repeated rows, e.g. two draws of the same sample) has
        # no variance: its quotient is undefined (NaN, also for a spread of round-off), so the step is skipped.
        ok = jnp.isfinite(loss)
        new = jax.tree.map(lambda a, b: jnp.where(ok, a, b), (params, state, opt_state), old)
        return new, loss

    def body(carry, i):
        step = start + i
        return jax.lax.cond(
            step < num_steps,
            do_step,
            lambda c, _: (c, jnp.full((), jnp.nan, dtype=data.dtype)),
            carry,
            step,
        )

    (params, state, opt_state), losses = jax.lax.scan(body, (params, state, opt_state), jnp.arange(chunk))
    return params, state, opt_state, losses


_train_chunk_jit = eqx.filter_jit(_train_chunk)


# ----------------------------------------------------------------------------- the estimator


class _Standardized(eqx.Module):
    """x -> net(gain (x - shift), state) with fixed (untrained) shift and gain."""

    net: eqx.Module
    shift: Array
    gain: Array

    def __call__(self, x, state):
        z = jax.lax.stop_gradient(self.gain) * (x - jax.lax.stop_gradient(self.shift))
        return self.net(z, state)


# The default convolutional network halves the image three times (4x4 kernels, stride 2, padding 1):
# below 8x8 pixels its last feature map is empty and w is NaN.
_MIN_IMAGE_SIZE = 8


def _shift_and_spread(arr: np.ndarray) -> tuple[np.ndarray, float]:
    """The mean sample and the root mean feature variance, in float64 without overflow or underflow.

    The data are first divided by a power of two near their largest magnitude (exact in floating
    point), so values near 1e308 or 1e-320 give the same digits as values near 1.
    """
    x = np.asarray(arr, dtype=np.float64)
    biggest = float(np.max(np.abs(x)))
    p = 2.0 ** math.floor(math.log2(biggest)) if biggest > 0 else 1.0
    y = x / p
    shift = np.mean(y, axis=0) * p
    spread = float(np.sqrt(np.mean(np.var(y, axis=0)))) * p
    return shift, spread


def _badly_scaled(arr: np.ndarray, shift: np.ndarray, spread: float, dtype) -> bool:
    """Whether training on the raw data in ``dtype`` would lose the answer to overflow, underflow or round-off.

    The gradients are about input_gain / spread, so their squares leave the range of float32 for a
    spread far from 1; and a mean much larger than the spread leaves too few digits for the variation.
    """
    info = np.finfo(dtype)
    if not np.all(np.abs(arr.astype(np.float64)) <= info.max):
        return True
    if not (2.0**-20 <= spread <= 2.0**20):
        return True
    return bool(np.max(np.abs(shift)) > spread / (64 * info.eps))


def _check_options(key, n: int, num_steps, batch_size, learning_rate, eval_sweeps, input_gain, depth, width) -> None:
    check_key("key", key)
    check_int_at_least("num_steps", num_steps, 1)
    check_int_at_least("batch_size", batch_size, 2)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of samples ({n}), got {batch_size}")
    check_positive("learning_rate", learning_rate)
    if np.ndim(learning_rate) != 0:
        raise ValueError(f"learning_rate must be a scalar, got shape {np.shape(learning_rate)}")
    if float(learning_rate) > 1e3:
        raise ValueError(
            f"learning_rate must be at most 1e3 (Adam moves each weight by about learning_rate per step), got {learning_rate!r}"
        )
    check_int_at_least("eval_sweeps", eval_sweeps, 1)
    check_positive("input_gain", input_gain)
    if float(input_gain) > 1e6:
        raise ValueError(f"input_gain must be at most 1e6, got {input_gain!r}")
    check_int_at_least("depth", depth, 1)
    if width is not None:
        check_int_at_least("width", width, 1)


def _check_callables(arr: np.ndarray, augmentation, network, progress):
    """The augmentation (value-checked once on the data when it is lgan's), after checking the callables."""
    if augmentation is not None and not callable(augmentation):
        raise ValueError(f"augmentation must be a callable augmentation(key, batch) -> batch, got {augmentation!r}")
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be a callable progress(step, loss), got {progress!r}")
    if network is not None:
        if not (isinstance(network, tuple) and len(network) == 2 and isinstance(network[1], eqx.nn.State)):
            raise ValueError(
                "network must be a pair (model, state) as returned by eqx.nn.make_with_state, "
                f"got {type(network).__name__}"
            )
    if isinstance(augmentation, Augmentation):
        # lgan's augmentations clip their output to [0, 1]: on other values they would change the data.
        augmentation = augmentation.checked_for(arr)
    if network is None and arr.ndim == 4 and min(arr.shape[2:]) < _MIN_IMAGE_SIZE:
        raise ValueError(
            f"data must be images of at least {_MIN_IMAGE_SIZE}x{_MIN_IMAGE_SIZE} pixels for the default convolutional "
            f"network (it halves them three times), got {arr.shape[2]}x{arr.shape[3]}; pass network=... for smaller ones"
        )
    return augmentation


def _prepare_data(arr: np.ndarray, may_standardise: bool, dtype) -> tuple[np.ndarray, np.ndarray, float, np.ndarray | None, float]:
    """(data, shift, spread, input_shift, unit): the data as trained on, standardised on the host if needed.

    Data far from unit scale would overflow or underflow the working dtype (gradients ~ 1 / spread):
    the default network then trains on (x - m) / s, standardised in float64, and since the quotient
    of x -> (x - m) / s is the quotient in x times s^2, the estimate is divided by s^2 at the end.
    Without the default network, or with an augmentation (which needs the raw pixels), the data
    must fit the working dtype as they are.
    """
    shift, spread = _shift_and_spread(arr)
    if not spread > 0:
        raise ValueError("data must not be constant: all samples are equal, so every w has zero variance")
    if may_standardise and _badly_scaled(arr, shift, spread, dtype):
        standardised = (arr.astype(np.float64) - shift) / spread
        return standardised, np.zeros_like(shift), 1.0, shift, spread
    check_finite_in_dtype("data", arr, dtype)
    return arr, shift, spread, None, 1.0


def _default_network(arr: np.ndarray, width, depth: int, input_gain, shift, spread: float, dtype, key):
    """The spectrally normalised MLP (vectors) or conv net (images), behind the input standardisation."""
    if arr.ndim == 2:
        net, state = eqx.nn.make_with_state(SpectralNormMLP)(arr.shape[1], 64 if width is None else width, depth, key=key)
    else:
        net, state = eqx.nn.make_with_state(SpectralNormConvNet)(arr.shape[1], 32 if width is None else width, key=key)
    gain = float(input_gain) / spread
    return _Standardized(net, jnp.asarray(shift, dtype=dtype), jnp.asarray(gain, dtype=dtype)), state


def _train(model, state, x_all, key, *, learning_rate, num_steps, batch_size, augmentation, progress):
    """Adam on the loss of eq. 32, in scanned chunks of about 1% of the steps (for ``progress``)."""
    _, replicated, batch_sharding = _data_mesh()
    params, static = eqx.partition(model, eqx.is_inexact_array)
    params = jax.device_put(params, replicated)
    state = jax.device_put(state, replicated)
    opt_state = jax.device_put(_ADAM.init(params), replicated)
    lr = jnp.asarray(learning_rate, dtype=x_all.dtype)
    total = jnp.asarray(num_steps)
    chunk = max(1, math.ceil(num_steps / 100))
    curve = []
    for start in range(0, num_steps, chunk):
        params, state, opt_state, losses = _train_chunk_jit(
            params, static, state, opt_state, x_all, key, lr, jnp.asarray(start), total,
            chunk=chunk, batch_size=batch_size, augmentation=augmentation, batch_sharding=batch_sharding,
        )  # fmt: skip
        curve.append(losses)
        if progress is not None:
            done = min(start + chunk, num_steps)
            progress(done - 1, float(losses[done - 1 - start]))
    learning_curve = np.concatenate([np.asarray(c) for c in curve])[:num_steps]
    return eqx.combine(params, static), state, learning_curve


def _checked_xi(xi: float, model, learning_rate, unit: float) -> float:
    """xi divided by unit^2, or ``ValueError`` naming the cause when it is not a finite positive float64."""
    if not (math.isfinite(xi) and xi > 0):
        params = eqx.filter(model, eqx.is_inexact_array)
        weights_ok = all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(params))
        cause = (
            f"training diverged (non-finite weights): lower learning_rate (got {learning_rate!r})"
            if not weights_ok
            else "the trained w is constant on the data or its gradient vanishes; check the data and the network"
        )
        raise ValueError(f"data: no finite estimate of xi_min (got {xi!r}): {cause}")
    if unit == 1.0:
        return xi
    with np.errstate(over="ignore", under="ignore"):
        xi = float(np.float64(xi) / np.float64(unit) ** 2)
    if not (math.isfinite(xi) and xi > 0):
        raise ValueError(
            f"data: xi_min = (estimate for the standardised data) / spread^2 with spread {unit:.4g} is not a "
            "normal float64 number; rescale the data"
        )
    return xi


def estimate_poincare_constant(
    data: Float[ArrayLike, "n ..."],
    *,
    key: PRNGKeyArray,
    augmentation: AugmentationFn | None = None,
    network: tuple[eqx.Module, eqx.nn.State] | None = None,
    width: int | None = None,
    depth: int = 2,
    num_steps: int = 2000,
    batch_size: int = 256,
    learning_rate: float = 1e-2,
    eval_sweeps: int = 1,
    input_gain: float = 4.0,
    progress: Callable[[int, float], None] | None = None,
) -> PoincareEstimate:
    """xi_min ~ min over theta of E ``||grad_x w(x; theta)||^2`` / Var w(x; theta) (Khrulkov et al. 2021, eqs. 31-32).

    Trains a spectrally normalised network w with Adam on the minibatch loss of eq. 32 (one fresh
    minibatch per step, drawn with replacement from ``key`` folded with the step index), then
    evaluates the quotient on the whole data set with the trained network in inference mode. With
    an ``augmentation`` it is applied to every training batch, and the evaluation makes
    ``eval_sweeps`` passes over the augmented data set and pools all of them, as the paper does for
    CIFAR-10 (Section 7). The estimate is an upper bound on the xi_min of the empirical measure,
    up to the noise of training.

    The training step is data parallel over all local devices (``jax.devices()``): the batch is
    sharded along a one-axis mesh ``("data",)`` and the weights are replicated, so ``batch_size`` is
    rounded down to a multiple of the device count. With one device this changes nothing.

    The default network sees the standardised input z = c (x - m) / s, with m the mean sample, s
    the root mean variance of the features and c = ``input_gain``; the chain rule keeps the
    quotient in the units of x, so scaling the data by a gives xi / a^2. Each spectrally
    normalised layer is 1-Lipschitz with curvature on the scale of one unit of its input, so c
    sets the finest detail w can resolve, about s / c: too small a gain cannot fit the
    eigenfunction (the estimate comes out high), too large a one lets w jump across gaps between
    samples (the estimate of the population value comes out low).

    Data far from unit scale (a feature spread outside [2^-20, 2^20], a mean that would swallow
    the variation in the working dtype, or values beyond its range, e.g. 1e-30 or 1e30 in float32)
    are standardised on the host in float64 before training, and the estimate is divided by s^2:
    the same answer, without the gradients under- or overflowing. Images must be at least 8x8
    for the default convolutional network. Every failure (an xi_min that is not a finite float64
    number, training that diverges) raises ``ValueError``; the estimate is never NaN or inf.

    Args:
        data: Samples of mu: vectors of shape (n, d), or images of shape (n, C, H, W).
        key: PRNG key for the initial weights, the minibatches and the augmentations.
        augmentation: Optional ``augmentation(key, batch) -> batch`` keeping the batch shape,
            such as the result of :func:`lgan.make_augmentation`.
        network: Optional ``(model, state)`` to train instead of the default network: a stateful
            scalar network called per sample, as built by ``eqx.nn.make_with_state``.
        width: Width of the default network: hidden units of the :class:`lgan.SpectralNormMLP`
            built for vectors (default 64), or first-layer channels of the
            :class:`lgan.SpectralNormConvNet` built for images (default 32).
        depth: Hidden layers of the default MLP (ignored for images).
        num_steps: Training steps (>= 1).
        batch_size: Samples per step, at least 2 and at most n. A minibatch on which w is
            constant (repeated samples) has no quotient; that step is skipped.
        learning_rate: Adam step size, in (0, 1e3].
        eval_sweeps: Passes over the (augmented) data set in the final evaluation (>= 1).
        input_gain: The gain c of the input standardisation of the default network, in (0, 1e6];
            ignored with ``network``.
        progress: Optional ``progress(step, loss)`` called about every 1% of the steps with the
            index of the last step done (counted from 0) and its minibatch loss.

    Returns:
        :class:`lgan.PoincareEstimate` with the estimate ``xi``, the learning curve, and the
        trained network and state.
    """
    arr = check_samples(data)
    _check_options(key, arr.shape[0], num_steps, batch_size, learning_rate, eval_sweeps, input_gain, depth, width)
    augmentation = _check_callables(arr, augmentation, network, progress)
    dtype = working_dtype()  # float32, or float64 with jax_enable_x64
    may_standardise = network is None and augmentation is None
    arr, shift, spread, input_shift, unit = _prepare_data(arr, may_standardise, dtype)
    num_devices, replicated, _ = _data_mesh()
    if batch_size < 2 * num_devices and num_devices > 1:
        raise ValueError(
            f"batch_size must be at least 2 per device ({2 * num_devices} on {num_devices} devices), got {batch_size}"
        )
    batch_size -= batch_size % num_devices

    x_all = jax.device_put(jnp.asarray(arr, dtype=dtype), replicated)
    key_init, key_train, key_eval = jax.random.split(key, 3)
    if network is None:
        model, state = _default_network(arr, width, depth, input_gain, shift, spread, dtype, key_init)
    else:
        model, state = network
    model, state, learning_curve = _train(
        model, state, x_all, key_train, learning_rate=learning_rate, num_steps=num_steps,
        batch_size=batch_size, augmentation=augmentation, progress=progress,
    )  # fmt: skip
    values, grad_sq = _pooled_evaluation(model, state, x_all, key=key_eval, augmentation=augmentation, sweeps=eval_sweeps)
    xi = _checked_xi(_quotient(values, grad_sq), model, learning_rate, unit)
    if unit != 1.0:
        with np.errstate(over="ignore", under="ignore"):
            learning_curve = learning_curve.astype(np.float64) / np.float64(unit) ** 2
    return PoincareEstimate(xi, learning_curve, model, state, arr.shape[1:], input_shift, unit)
