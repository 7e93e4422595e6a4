"""Sample-quality metrics of the toy GAN experiments.

Khrulkov et al. (2021, Section 7) measure a GAN on the two-Gaussian mixture by "the Earth mover's
distance between the Gaussians fitted on real and synthetic data", which "resembles the Frechet
Inception Distance": :func:`gaussian_frechet_distance` is that closed form, and
:func:`frechet_distance` fits the Gaussians to two sample sets first. Both return the squared
2-Wasserstein distance, the quantity FID reports; its square root is W2 itself.

On the ring and grid benchmarks (Kim et al. 2021, Section 5.1; Qin et al. 2020, Section 5.1)
the usual summary is the number of modes covered and the fraction of high-quality samples
(:func:`mode_coverage`).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Scalar

from .._core._tree import tree_norm
from .._core._validation import (
    ArgumentTypeError,
    check_finite_in_dtype,
    check_int_at_least,
    check_positive,
    check_result_finite,
    concrete,
    working_dtype,
)
from ._state import GANState, Minibatch
from ._vector_field import GANFlow

# Relative tolerance for the symmetry and positive semi-definiteness checks of covariances.
_COV_RTOL = 1e-6


# ----------------------------------------------------------------------------- checks


def _shape(name: str, value) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or value is None:
        raise ArgumentTypeError(f"{name} must be an array of numbers, got {type(value).__name__} {value!r:.60}")
    try:
        return tuple(jnp.shape(value))
    except TypeError:
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from None


def _check_real_finite(name: str, value) -> None:
    if isinstance(value, (str, bytes)):
        raise ArgumentTypeError(f"{name} must be an array of numbers, got str {value!r:.60}")
    check_finite_in_dtype(name, value)


def _check_squares_fit(name: str, x) -> None:
    """The covariance of samples x holds their squares: raise if those overflow the working dtype."""
    arr = concrete(x)
    if arr is None or arr.size == 0:
        return
    dtype = working_dtype()
    centred = np.asarray(arr, dtype=np.float64)
    centred = centred - np.mean(centred, axis=0)
    biggest = float(np.max(np.abs(centred)))
    limit = float(np.sqrt(np.finfo(dtype).max / max(1, centred.size // centred.shape[0]))) / 4
    if biggest > limit:
        raise ValueError(
            f"{name} has deviations from its mean up to {biggest:.4g}; their squares (the covariance) overflow {dtype} "
            f"above about {limit:.3g}: rescale x and y by the same factor (the distance scales with its square)"
        )


def _as_mean(name: str, mean) -> tuple[int, ...]:
    shape = _shape(name, mean)
    if len(shape) > 1:
        raise ValueError(f"{name} must be a scalar or a vector of shape (d,), got shape {shape}")
    _check_real_finite(name, mean)
    return shape


def _check_cov(name: str, cov, d: int, scalar_mean: bool) -> None:
    shape = _shape(name, cov)
    allowed = [(d, d)] + ([()] if scalar_mean else [])
    if shape not in allowed:
        want = "a scalar variance or shape (1, 1)" if scalar_mean else f"shape ({d}, {d})"
        raise ValueError(f"{name} must have {want} to match its mean, got shape {shape}")
    _check_real_finite(name, cov)
    arr = concrete(cov)
    if arr is None:
        return
    arr = np.atleast_2d(np.asarray(arr, dtype=float))
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    if not np.allclose(arr, arr.T, rtol=0.0, atol=_COV_RTOL * scale):
        raise ValueError(f"{name} must be symmetric, got max |C - C^T| = {float(np.max(np.abs(arr - arr.T)))!r}")
    lam_min = float(np.linalg.eigvalsh((arr + arr.T) / 2)[0])
    if lam_min < -_COV_RTOL * scale:
        raise ValueError(f"{name} must be positive semi-definite, got smallest eigenvalue {lam_min!r}")


def _check_samples(name: str, x) -> tuple[int, ...]:
    shape = _shape(name, x)
    if len(shape) not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (n, d), got shape {shape}")
    _check_real_finite(name, x)
    return shape


# ----------------------------------------------------------------------------- Frechet distance


def _psd_sqrt(c: Float[Array, "d d"]) -> Float[Array, "d d"]:
    """C^(1/2) from the eigendecomposition of the symmetric part, negative round-off clipped to 0."""
    lam, v = jnp.linalg.eigh((c + c.T) / 2)
    return (v * jnp.sqrt(jnp.maximum(lam, 0.0))) @ v.T


@eqx.filter_jit
def _gaussian_frechet(m1: Array, c1: Array, m2: Array, c2: Array) -> Scalar:
    # tr (C1^(1/2) C2 C1^(1/2))^(1/2) is the nuclear norm of C1^(1/2) C2^(1/2), since
    # (S1 S2)(S1 S2)^T = S1 C2 S1: a sum of singular values, symmetric in the two Gaussians and
    # without the square root of a matrix that round-off can make slightly indefinite.
    s1, s2 = _psd_sqrt(c1), _psd_sqrt(c2)
    cross = jnp.sum(jnp.linalg.svd(s1 @ s2, compute_uv=False))
    d2 = jnp.sum((m1 - m2) ** 2) + jnp.trace(c1) + jnp.trace(c2) - 2 * cross
    return jnp.maximum(d2, 0.0)


def gaussian_frechet_distance(
    mean1: Float[ArrayLike, "..."],
    cov1: Float[ArrayLike, "..."],
    mean2: Float[ArrayLike, "..."],
    cov2: Float[ArrayLike, "..."],
) -> Float[Array, ""]:
    """W2^2 = ``|m1 - m2|^2`` + tr(C1 + C2 - 2 (C1^(1/2) C2 C1^(1/2))^(1/2)) between N(m1, C1) and N(m2, C2).

    The squared 2-Wasserstein (Frechet) distance between Gaussians, the closed form behind FID and
    behind the "Earth mover's distance between fitted Gaussians" of Khrulkov et al. (2021,
    Section 7). In 1-D it is (m1 - m2)^2 + (s1 - s2)^2. The matrix square roots come from
    symmetric eigendecompositions and the cross term is the nuclear norm of C1^(1/2) C2^(1/2), so
    the result is symmetric in the two Gaussians and stable for singular covariances.

    Args:
        mean1: Mean m1, shape (d,), or a scalar for d = 1.
        cov1: Covariance C1, shape (d, d), symmetric positive semi-definite; a scalar variance
            (not a standard deviation) when ``mean1`` is a scalar.
        mean2: Mean m2, of the shape of ``mean1``.
        cov2: Covariance C2, of the shape of ``cov1``.

    Returns:
        The squared distance, a scalar >= 0.
    """
    shape1 = _as_mean("mean1", mean1)
    shape2 = _as_mean("mean2", mean2)
    if shape1 != shape2:
        raise ValueError(f"mean2 must have the shape of mean1 {shape1}, got shape {shape2}")
    d = shape1[0] if shape1 else 1
    _check_cov("cov1", cov1, d, scalar_mean=not shape1)
    _check_cov("cov2", cov2, d, scalar_mean=not shape1)
    dtype = jnp.result_type(float)
    m1, m2 = (jnp.reshape(jnp.asarray(m, dtype=dtype), (d,)) for m in (mean1, mean2))
    c1, c2 = (jnp.reshape(jnp.asarray(c, dtype=dtype), (d, d)) for c in (cov1, cov2))
    return _gaussian_frechet(m1, c1, m2, c2)


def _fit_gaussian(x: Float[Array, "n d"]) -> tuple[Float[Array, " d"], Float[Array, "d d"]]:
    mean = jnp.mean(x, axis=0)
    centred = x - mean
    return mean, centred.T @ centred / (x.shape[0] - 1)


@eqx.filter_jit
def _frechet_from_samples(x: Array, y: Array) -> Scalar:
    mx, cx = _fit_gaussian(x)
    my, cy = _fit_gaussian(y)
    return _gaussian_frechet(mx, cx, my, cy)


def frechet_distance(x: Float[ArrayLike, "n *d"], y: Float[ArrayLike, "m *d"]) -> Float[Array, ""]:
    """W2^2 between N(mean x, cov x) and N(mean y, cov y), Gaussians fitted to samples (Khrulkov et al. 2021, Sec. 7).

    The sample mean and the unbiased sample covariance (divisor n - 1, as in FID) of each set,
    then :func:`lgan.gaussian_frechet_distance`. Jitted; the sample counts may differ.

    Args:
        x: Samples, shape (n,) for 1-D data or (n, d), n >= 2.
        y: Samples, shape (m,) or (m, d) with the same d, m >= 2.

    Returns:
        The squared distance, a scalar >= 0.
    """
    sx = _check_samples("x", x)
    sy = _check_samples("y", y)
    if sx[1:] != sy[1:]:
        raise ValueError(f"y must have the dimension of x, got shapes {sx} and {sy}")
    if sx[0] < 2:
        raise ValueError(f"x must hold at least 2 samples to fit a covariance, got {sx[0]}")
    if sy[0] < 2:
        raise ValueError(f"y must hold at least 2 samples to fit a covariance, got {sy[0]}")
    _check_squares_fit("x", x)
    _check_squares_fit("y", y)
    dtype = jnp.result_type(float)
    x2 = jnp.reshape(jnp.asarray(x, dtype=dtype), (sx[0], -1))
    y2 = jnp.reshape(jnp.asarray(y, dtype=dtype), (sy[0], -1))
    out = _frechet_from_samples(x2, y2)
    check_result_finite(out, "frechet_distance(x, y)")
    return out


# ----------------------------------------------------------------------------- mode coverage


@eqx.filter_jit
def _mode_coverage(samples: Array, centres: Array, std: Array, threshold: Array, min_count: int):
    dist2 = jnp.sum((samples[:, None, :] - centres[None, :, :]) ** 2, axis=-1)  # (n, K)
    nearest = jnp.argmin(dist2, axis=1)
    radius = threshold * std[nearest]
    good = dist2[jnp.arange(samples.shape[0]), nearest] <= radius**2
    counts = jnp.zeros(centres.shape[0], dtype=jnp.int32).at[nearest].add(good.astype(jnp.int32))
    return jnp.sum(counts >= min_count), jnp.mean(good.astype(dist2.dtype))


def mode_coverage(
    samples: Float[ArrayLike, "n *d"],
    centres: Float[ArrayLike, "k *d"],
    std: Float[ArrayLike, "*k"],
    *,
    threshold: float = 3.0,
    min_count: int = 1,
) -> tuple[Int[Array, ""], Float[Array, ""]]:
    """Modes covered and fraction of high-quality samples, with x high quality iff ``|x - c_k(x)|`` <= t s_k(x).

    c_k(x) is the centre nearest to x and s_k its standard deviation. This is the mixture
    benchmark's usual score (Srivastava et al. 2017, VEEGAN, with t = 3), which Kim et al. (2021,
    Section 5.1) and Qin et al. (2020, Section 5.1) show in figures but do not define: a sample is
    high quality when it lies within t standard deviations of its nearest mode, and a mode is
    covered when at least ``min_count`` high-quality samples have it as nearest mode (1 by
    default; some later papers ask for more). The distance is Euclidean, so in d dimensions an
    exact sample of a mode is high quality with probability P(chi_d <= t), 0.9973 in 1-D and
    1 - exp(-t^2/2) = 0.9889 in 2-D
    for t = 3, not 1. Jitted.

    Args:
        samples: Generated samples, shape (n, d), or (n,) for 1-D data.
        centres: Mode centres, shape (K, d), or (K,) for 1-D data.
        std: Standard deviation of the modes, > 0: a scalar or one per mode, shape (K,).
        threshold: The radius t > 0 in standard deviations.
        min_count: High-quality samples a mode needs to count as covered (an integer >= 1).

    Returns:
        ``(num_covered, fraction_high_quality)``: an integer in [0, K] and a float in [0, 1].
    """
    ss = _check_samples("samples", samples)
    if ss[0] < 1:
        raise ValueError("samples must hold at least 1 sample, got 0")
    c, s = _modes(centres, std, sample_shape=ss)
    check_positive("threshold", threshold)
    check_int_at_least("min_count", min_count, 1)
    dtype = jnp.result_type(float)
    x = jnp.reshape(jnp.asarray(samples, dtype=dtype), (ss[0], -1))
    return _mode_coverage(x, c, s, jnp.asarray(threshold, dtype=dtype), int(min_count))


def _modes(centres, std, sample_shape: tuple[int, ...] | None = None) -> tuple[Array, Array]:
    """Checked centres as (K, d) and standard deviations as (K,), in the default float dtype."""
    sc = _shape("centres", centres)
    if len(sc) not in (1, 2) or sc[0] < 1:
        raise ValueError(f"centres must have shape (K,) or (K, d) with K >= 1, got shape {sc}")
    _check_real_finite("centres", centres)
    if sample_shape is not None and sc[1:] != sample_shape[1:]:
        raise ValueError(f"centres must have the dimension of samples, got shapes {sc} and {sample_shape}")
    sd = _shape("std", std)
    if sd not in ((), (sc[0],)):
        raise ValueError(f"std must be a scalar or have shape ({sc[0]},), one per centre, got shape {sd}")
    check_positive("std", std)
    dtype = jnp.result_type(float)
    return jnp.reshape(jnp.asarray(centres, dtype=dtype), (sc[0], -1)), jnp.broadcast_to(jnp.asarray(std, dtype=dtype), (sc[0],))


# ----------------------------------------------------------------------------- along a solve


def sample_quality_metrics(
    centres: Float[ArrayLike, "k *d"] | None = None,
    std: Float[ArrayLike, "*k"] | None = None,
    *,
    threshold: float = 3.0,
    min_fraction: float = 0.01,
):
    """A ``metric_fn`` for :func:`lgan.solve_gan_flow` and :func:`lgan.sweep` that scores the generator.

    At every saved step it pushes the evaluation latents z through G and records ``frechet``,
    :func:`frechet_distance` between the data and G(z) (the paper's metric, Khrulkov et al. 2021,
    Section 7); with ``centres`` and ``std`` also ``modes``, the number of modes covered, and
    ``high_quality``, the fraction of high-quality samples (:func:`mode_coverage`). The flow
    evaluates it on the whole data set and as many latents, so a mode counts as covered when at
    least ``min_fraction`` of the n samples are high-quality samples of it.

    Args:
        centres: Mode centres, shape (K, d) (or (K,) for 1-D data); ``None`` for ``frechet`` only.
        std: Standard deviation of the modes, > 0: a scalar or shape (K,); with ``centres``.
        threshold: The radius t > 0 of :func:`mode_coverage`, in standard deviations.
        min_fraction: The fraction of the samples in (0, 1] that a mode needs to count as covered.

    Returns:
        ``metric_fn(state, x, z) -> dict`` of scalars.
    """
    if (centres is None) != (std is None):
        raise ValueError("centres and std must be given together (or neither, for the Frechet distance only)")
    check_positive("threshold", threshold)
    if isinstance(min_fraction, bool) or np.ndim(min_fraction) != 0 or not 0.0 < float(min_fraction) <= 1.0:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction!r}")
    if centres is not None:
        c, s = _modes(centres, std)
    t = float(threshold)

    def metric_fn(state, x, z):
        fake = jax.vmap(state.generator)(z)
        fake = jnp.reshape(fake, (fake.shape[0], -1))
        x2 = jnp.reshape(x, (x.shape[0], -1))
        out = {"frechet": _frechet_from_samples(x2, fake)}
        if centres is not None:
            if c.shape[1] != fake.shape[1]:
                raise ValueError(f"centres have dimension {c.shape[1]} but the generator makes samples of dimension {fake.shape[1]}")
            min_count = max(1, int(np.ceil(float(min_fraction) * fake.shape[0])))
            modes, quality = _mode_coverage(fake, c.astype(fake.dtype), s.astype(fake.dtype), jnp.asarray(t, fake.dtype), min_count)
            out.update(modes=modes, high_quality=quality)
        return out

    return metric_fn


def gradient_norm_metrics(flow):
    """A ``metric_fn`` that records the players' gradient norms ``grad_norm_d`` = ||d l_D / d theta|| and ``grad_norm_g`` = ||d l_G / d phi||.

    The losses are the unregularised ones of ``flow`` (``flow.losses``) on the whole data set and
    the evaluation latents, the quantities Qin et al. (2020, Figure 2 and Appendix H.3) plot: the
    regulariser lambda ||d l_G / d phi||^2 exists to keep the second one bounded.

    Args:
        flow: The :class:`lgan.GANFlow` of the run.

    Returns:
        ``metric_fn(state, x, z) -> dict`` of two scalars, for :func:`lgan.solve_gan_flow` and
        :func:`lgan.sweep` (combine it with others in a ``metric_fn`` of your own).
    """
    if not isinstance(flow, GANFlow):
        raise ValueError(f"flow must be an lgan.GANFlow (build it with lgan.gan_flow), got {type(flow).__name__}")

    def metric_fn(state, x, z):
        batch = Minibatch(x, z, jnp.zeros(x.shape[0], dtype=x.dtype))
        d, d_static = eqx.partition(state.discriminator, eqx.is_inexact_array)
        grad_d = jax.grad(lambda dd: flow.losses(GANState(eqx.combine(dd, d_static), state.generator, state.latent_dim), batch)[0])(d)
        return {"grad_norm_d": tree_norm(grad_d), "grad_norm_g": jnp.sqrt(flow.generator_gradient_sq_norm(state, batch))}

    return metric_fn
