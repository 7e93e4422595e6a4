"""Gaussian mixtures on the line: the test measures of the book, as densities and samplers.

Every measure of the book is a Gaussian mixture sum_k w_k N(m_k, s_k^2 I): the one- and
two-Gaussian measures of the spectral chapters, the two-Gaussian mixture of Khrulkov et al.
(2021, Section 7) and their "augmented" mixture mu_p (eq. 34), and the ring and grid of
:mod:`lgan._core._measures_2d`. This module holds the one density and the one sampler of such a
mixture in any dimension, and the 1-D measures built on them. The densities are numpy (float64),
for the exact solvers of :mod:`lgan._linear._laplacian`; the samplers are JAX functions of an
explicit key (or, for the chapters written before keys, numpy generators of an integer seed).

The free samplers (:func:`sample_two_gaussian_mixture`, :func:`sample_augmented_mixture`) take the
number of samples ``n`` as a shape, static under ``jit``; their other hyperparameters may be
traced arrays (a new value does not recompile).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ._custom_types import RealScalarLike
from ._validation import (
    check_finite,
    check_int_at_least,
    check_key,
    check_nonnegative,
    check_positive,
    check_probability,
    check_real_scalar,
    check_scalars,
    concrete,
    real_float_array,
)

# ----------------------------------------------------------------------------- any dimension


def mixture_density(
    points: Float[np.ndarray, "... d"], means: Float[np.ndarray, "k d"], stds: Float[np.ndarray, " k"], weights
) -> Float[np.ndarray, ...]:
    """sum_k w_k (2 pi s_k^2)^(-d/2) exp(-|x - m_k|^2 / (2 s_k^2)) at each point (numpy, float64)."""
    x = np.asarray(points, dtype=float)[..., None, :]
    d = x.shape[-1]
    z2 = np.sum(((x - means) / stds[:, None]) ** 2, axis=-1)
    return np.sum(weights * np.exp(-0.5 * z2) / (np.sqrt(2 * np.pi) ** d * stds**d), axis=-1)


@partial(jax.jit, static_argnums=1)
def _sample_mixture_jax(key: PRNGKeyArray, n: int, means: Array, stds: Array, weights: Array | None) -> Array:
    key_mode, key_noise = jax.random.split(key)
    if weights is None:  # equal weights
        k = jax.random.randint(key_mode, (n,), 0, means.shape[0])
    else:
        k = jax.random.choice(key_mode, means.shape[0], (n,), p=weights)
    return means[k] + stds[k][:, None] * jax.random.normal(key_noise, (n, means.shape[1]), dtype=means.dtype)


def sample_mixture(
    n: int, means, stds, weights=None, *, key: PRNGKeyArray | None = None, seed: int | None = None
) -> Float[Array, "n d"]:
    """n draws of sum_k w_k N(m_k, s_k^2 I): a component k with probability w_k, then m_k + s_k z.

    Args:
        n: Number of samples (static under ``jit``).
        means: The means m_k, shape (K, d).
        stds: The standard deviations s_k, shape (K,).
        weights: The weights w_k, shape (K,), summing to one; ``None`` for equal weights.
        key: A JAX PRNG key: the samples are a JAX array in the working dtype (the arguments may
            be traced).
        seed: Or an integer seed for numpy's generator: the samples are a float64 numpy array.
            Give exactly one of ``key`` and ``seed``.

    Returns:
        The samples, shape (n, d).
    """
    if (key is None) == (seed is None):
        raise ValueError("give exactly one of key (a jax.random.key) and seed (an integer)")
    if key is not None:
        dtype = jnp.result_type(float)
        w = None if weights is None else jnp.asarray(weights, dtype=dtype)
        return _sample_mixture_jax(key, n, jnp.asarray(means, dtype=dtype), jnp.asarray(stds, dtype=dtype), w)
    rng = np.random.default_rng(seed)
    means, stds = np.asarray(means, dtype=float), np.asarray(stds, dtype=float)
    k = rng.integers(0, len(stds), size=n) if weights is None else rng.choice(len(stds), size=n, p=weights)
    return means[k] + stds[k][:, None] * rng.standard_normal((n, means.shape[1]))


# ----------------------------------------------------------------------------- the 1-D mixture


class GaussianMixture1D(NamedTuple):
    """A mixture sum_i w_i N(m_i, s_i^2) on R, callable as a density.

    Attributes:
        means: Component means.
        stds: Component standard deviations (> 0).
        weights: Mixture weights (>= 0, normalised on construction by :func:`gaussian_mixture`).
    """

    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The density at x."""
        return mixture_density(np.asarray(x, dtype=float)[..., None], self.means[:, None], self.stds, self.weights)

    def domain(self, width: float = 10.0) -> tuple[float, float]:
        """(min_i m_i - width s_i, max_i m_i + width s_i): an interval holding all but ~e^(-width^2/2) of the mass."""
        return float(np.min(self.means - width * self.stds)), float(np.max(self.means + width * self.stds))

    def sample(self, n: int, *, key: PRNGKeyArray | None = None, seed: int | None = None) -> np.ndarray:
        """n samples as a numpy array of shape (n,): a component i with probability w_i, then N(m_i, s_i^2).

        Args:
            n: Number of samples, >= 1.
            key: A JAX PRNG key (``jax.random.key``), as everywhere else in lgan: the samples
                are in the working dtype.
            seed: Or an integer seed for numpy's generator (the chapters written before ``key``
                existed use it): the samples are float64. Give exactly one of ``key`` and ``seed``.

        Returns:
            The samples, shape (n,).
        """
        if key is not None:
            check_key("key", key)
        check_int_at_least("n", n, 1)
        out = sample_mixture(n, self.means[:, None], self.stds, self.weights, key=key, seed=seed)
        return np.asarray(out)[:, 0]


def gaussian_mixture(means, stds, weights=None) -> GaussianMixture1D:
    """The density sum_i w_i N(m_i, s_i^2) with weights normalised to sum to one.

    Args:
        means: Component means (1-D, length c >= 1).
        stds: Standard deviations, > 0, scalar or length c.
        weights: Non-negative weights, length c, not all zero; default equal.

    Returns:
        :class:`GaussianMixture1D`.
    """
    means = np.atleast_1d(real_float_array("means", means))
    if means.ndim != 1:
        raise ValueError(f"means must be a 1-D sequence, got shape {means.shape}")
    check_finite("means", means)
    stds = real_float_array("stds", stds)
    try:
        stds = np.broadcast_to(stds, means.shape).copy()
    except ValueError:
        raise ValueError(f"stds must be a scalar or have the length of means ({means.size}), got shape {stds.shape}") from None
    check_positive("stds", stds)
    if weights is None:
        weights = np.ones_like(means)
    weights = real_float_array("weights", weights)
    if weights.shape != means.shape:
        raise ValueError(f"weights must have the same length as means ({means.size}), got shape {weights.shape}")
    check_finite("weights", weights)
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(f"weights must be >= 0 and not all zero, got {weights.tolist()}")
    total = weights.sum()
    if not np.isfinite(total):  # e.g. weights of 1e308: normalise by the largest first
        weights = weights / weights.max()
        total = weights.sum()
    return GaussianMixture1D(means, stds, weights / total)


def two_gaussian_mixture(separation: float, std: float = 1.0) -> GaussianMixture1D:
    """(1/2) N(0, s^2) + (1/2) N(M, s^2): the paper's Section 7 test measure with separation M."""
    separation = check_real_scalar("separation", separation)
    return gaussian_mixture([0.0, separation], check_real_scalar("std", std))


def _check_mixture_scales(separation, std, *p) -> None:
    """The checks shared by the two-mode and augmented mixtures (traced values pass)."""
    check_scalars(separation=separation, std=std)
    check_nonnegative("separation", separation)
    check_positive("std", std)
    if p and concrete(p[0]) is not None:
        check_probability("p", p[0], include_one=True)


def _as_float(x) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def sample_two_gaussian_mixture(
    n: int, separation: RealScalarLike, *, key: PRNGKeyArray, std: RealScalarLike = 1.0
) -> Float[Array, " n"]:
    """n draws of (1/2) N(0, s^2) + (1/2) N(M, s^2), the Section 7 mixture of Khrulkov et al. (2021).

    The modes sit at 0 and M, as in the paper and in :func:`lgan.two_gaussian_mixture`, whose
    density (and exact Poincare constant) belongs to these samples.

    Args:
        n: Number of samples (an integer >= 1; static under ``jit``).
        separation: The separation M >= 0 between the modes.
        key: JAX PRNG key.
        std: The standard deviation s > 0 of each mode.

    Returns:
        Samples of shape (n,).
    """
    check_key("key", key)
    check_int_at_least("n", n, 1)
    _check_mixture_scales(separation, std)
    m, s = _as_float(separation), _as_float(std)
    means = jnp.stack([jnp.zeros_like(m), m])[:, None]
    return sample_mixture(n, means, jnp.stack([s, s]), jnp.full((2,), 0.5, dtype=means.dtype), key=key)[:, 0]


def _augmented_weights(p):
    side = 0.5 - p / 4
    return [side, p / 2, side]


def augmented_mixture(separation: float = 6.0, p: float = 0.0, std: float = 1.0) -> GaussianMixture1D:
    """mu_p = (1/2 - p/4) N(-M/2, s^2) + (p/2) N(0, s^2) + (1/2 - p/4) N(M/2, s^2) (Khrulkov et al. 2021, eq. 34).

    With the defaults M = 6 and s = 1 this is the paper's eq. 34, and p = 0 gives its eq. 33,
    (1/2) N(-3, 1) + (1/2) N(3, 1). The mixture is centred at 0 as in eq. 34 (the two-mode mixture
    of :func:`lgan.two_gaussian_mixture` has its modes at 0 and M instead; a shift changes neither
    xi_min nor any distance between fitted Gaussians of shifted pairs). It is the law of a draw
    from mu that, with probability p, is moved by M/2 towards the other mode with probability 1/2.

    Args:
        separation: The distance M >= 0 between the outer modes.
        p: The augmentation probability, in [0, 1] (the paper uses 0, 0.2 and 0.4).
        std: The standard deviation s > 0 of every component.

    Returns:
        :class:`lgan.GaussianMixture1D`, a numpy density for :func:`lgan.poincare_constant`.
    """
    _check_mixture_scales(separation, std, p)
    half = float(separation) / 2
    weights = np.asarray(jnp.stack(_augmented_weights(_as_float(float(p)))))
    return gaussian_mixture([-half, 0.0, half], float(std), weights)


def sample_augmented_mixture(
    n: int, separation: RealScalarLike, p: RealScalarLike, *, key: PRNGKeyArray, std: RealScalarLike = 1.0
) -> Float[Array, " n"]:
    """n draws of (1/2 - p/4) N(-M/2, s^2) + (p/2) N(0, s^2) + (1/2 - p/4) N(M/2, s^2) (Khrulkov et al. 2021, eq. 34).

    ``separation=6.0, std=1.0`` is the paper's measure; its density is :func:`lgan.augmented_mixture`.

    Args:
        n: Number of samples (an integer >= 1; static under ``jit``).
        separation: The distance M >= 0 between the outer modes (6 in the paper).
        p: The augmentation probability, in [0, 1].
        key: JAX PRNG key.
        std: The standard deviation s > 0 of every component.

    Returns:
        Samples of shape (n,).
    """
    check_key("key", key)
    check_int_at_least("n", n, 1)
    _check_mixture_scales(separation, std, p)
    half = _as_float(separation) / 2
    means = jnp.stack([-half, jnp.zeros_like(half), half])[:, None]
    stds = jnp.full((3,), _as_float(std))
    return sample_mixture(n, means, stds, jnp.stack(_augmented_weights(_as_float(p))), key=key)[:, 0]
