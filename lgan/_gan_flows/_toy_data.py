"""Toy data sets of the GAN-convergence experiments, as JAX samplers with known densities.

Khrulkov et al. (2021, Section 7) train GANs on two one-dimensional measures: the two-Gaussian
mixture (1/2) N(0, 1) + (1/2) N(M, 1) with separation M, and the "augmented" mixture mu_p of
their eq. 34, which moves mass p/2 into the gap between the modes at -3 and 3. Kim et al. (2021,
Section 5.1) and Qin et al. (2020, Section 5.1) use the two-dimensional benchmarks of Gulrajani et
al. (2017): a ring of 8 Gaussians, a 5 x 5 grid of 25 Gaussians, and the swiss roll. Kim et al.
state that they run the code of Gulrajani et al. (``gan_toy.py`` of ``improved_wgan_training``)
unchanged apart from the loss, so the 2-D defaults here are the values of that code, including
its final rescaling by a fixed "stdev" (1.414 for the ring, 2.828 for the grid, 7.5 for the
swiss roll).

Every sampler is a pure function of an explicit key; the number of samples ``n`` sets a shape,
so it is static under ``jit``, while the other hyperparameters may be arrays (a new value does
not recompile). The 1-D measures also come as :class:`lgan.GaussianMixture1D` densities, so their
exact Poincare constant is ``lgan.poincare_constant(mix, mix.domain())``.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._core._custom_types import RealScalarLike
from .._linear._laplacian import GaussianMixture1D, gaussian_mixture
from .._core._validation import check_finite, check_int_at_least, check_key, check_nonnegative, check_positive, concrete

# Gulrajani et al. (2017), gan_toy.py: 8 Gaussians of std 0.02 on a circle of radius 2, and 25
# Gaussians of std 0.05 on the grid 2 {-2, ..., 2}^2, each data set then divided by a fixed
# "stdev" (the code's literal 1.414 and 2.828, not sqrt(2) and 2 sqrt(2)).
_RING_SCALE = 1.414
_GRID_SCALE = 2.828
RING_RADIUS = 2.0 / _RING_SCALE
RING_STD = 0.02 / _RING_SCALE
GRID_SPACING = 2.0 / _GRID_SCALE
GRID_STD = 0.05 / _GRID_SCALE
# sklearn.datasets.make_swiss_roll(noise=0.25), keeping coordinates (0, 2), divided by 7.5.
SWISS_ROLL_NOISE = 0.25
SWISS_ROLL_SCALE = 1.0 / 7.5


# ----------------------------------------------------------------------------- checks


def _check_n(n) -> None:
    check_int_at_least("n", n, 1)


def _check_probability(name: str, value) -> None:
    check_finite(name, value)
    arr = concrete(value)
    if arr is None:
        return
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    if not 0.0 <= float(arr) <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {float(arr)!r}")


def _check_scalar(name: str, value) -> None:
    arr = concrete(value)
    if arr is not None and arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")


# ----------------------------------------------------------------------------- 1-D mixtures


@partial(jax.jit, static_argnums=1)
def _sample_mixture_1d(key: PRNGKeyArray, n: int, means: Array, stds: Array, weights: Array) -> Float[Array, " n"]:
    """n draws of sum_i w_i N(m_i, s_i^2): a component index, then a Gaussian about its mean."""
    key_mode, key_noise = jax.random.split(key)
    k = jax.random.choice(key_mode, means.shape[0], (n,), p=weights)
    return means[k] + stds[k] * jax.random.normal(key_noise, (n,), dtype=means.dtype)


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
    _check_n(n)
    _check_scalar("separation", separation)
    check_nonnegative("separation", separation)
    _check_scalar("std", std)
    check_positive("std", std)
    m, s = _as_float(separation), _as_float(std)
    means = jnp.stack([jnp.zeros_like(m), m])
    return _sample_mixture_1d(key, n, means, jnp.stack([s, s]), jnp.full((2,), 0.5, dtype=means.dtype))


def _augmented_weights(p) -> Array:
    p = _as_float(p)
    side = 0.5 - p / 4
    return jnp.stack([side, p / 2, side])


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
    _check_scalar("separation", separation)
    check_nonnegative("separation", separation)
    _check_probability("p", p)
    _check_scalar("std", std)
    check_positive("std", std)
    half = float(separation) / 2
    return gaussian_mixture([-half, 0.0, half], float(std), np.asarray(_augmented_weights(float(p))))


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
    _check_n(n)
    _check_scalar("separation", separation)
    check_nonnegative("separation", separation)
    _check_probability("p", p)
    _check_scalar("std", std)
    check_positive("std", std)
    half = _as_float(separation) / 2
    means = jnp.stack([-half, jnp.zeros_like(half), half])
    stds = jnp.full((3,), _as_float(std))
    return _sample_mixture_1d(key, n, means, stds, _augmented_weights(p))


# ----------------------------------------------------------------------------- 2-D mixtures


class GaussianMixture2D(NamedTuple):
    """The equal-weight mixture (1/K) sum_k N(c_k, s^2 I) on the plane, callable as a density.

    Built by :func:`lgan.ring_of_gaussians` and :func:`lgan.grid_of_gaussians`; ``centres`` and
    ``std`` are what :func:`lgan.mode_coverage` takes. Called as ``mix(x, y)`` on numpy arrays it
    is the density that :func:`lgan.weighted_laplacian_spectrum_2d` takes.

    Attributes:
        centres: The component means c_k, a numpy array of shape (K, 2).
        std: The standard deviation s of every component.
    """

    centres: np.ndarray
    std: float

    @property
    def num_modes(self) -> int:
        """The number K of components."""
        return int(self.centres.shape[0])

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The density at the points (x, y) (numpy arrays of one shape)."""
        x = np.asarray(x, dtype=float)[..., None]
        y = np.asarray(y, dtype=float)[..., None]
        c = np.asarray(self.centres, dtype=float)
        r2 = (x - c[:, 0]) ** 2 + (y - c[:, 1]) ** 2
        return np.mean(np.exp(-0.5 * r2 / self.std**2), axis=-1) / (2 * np.pi * self.std**2)

    def domain(self, width: float = 6.0) -> tuple[tuple[float, float], tuple[float, float]]:
        """The bounding box of the centres widened by ``width`` standard deviations, as ((x0, x1), (y0, y1))."""
        c = np.asarray(self.centres, dtype=float)
        lo, hi = c.min(axis=0) - width * self.std, c.max(axis=0) + width * self.std
        return ((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])))

    def sample(self, n: int, *, key: PRNGKeyArray) -> Float[Array, "n 2"]:
        """n samples as a JAX array of shape (n, 2): a uniformly chosen centre plus N(0, s^2 I) noise."""
        check_key("key", key)
        _check_n(n)
        return _sample_isotropic(key, n, _as_float(self.centres), _as_float(self.std))


@partial(jax.jit, static_argnums=1)
def _sample_isotropic(key: PRNGKeyArray, n: int, centres: Array, std: Array) -> Float[Array, "n 2"]:
    key_mode, key_noise = jax.random.split(key)
    k = jax.random.randint(key_mode, (n,), 0, centres.shape[0])
    return centres[k] + std * jax.random.normal(key_noise, (n, 2), dtype=centres.dtype)


def _check_2d_scale(name: str, value, *, allow_zero: bool) -> float:
    _check_scalar(name, value)
    (check_nonnegative if allow_zero else check_positive)(name, value)
    return float(value)


def ring_of_gaussians(
    num_modes: int = 8, radius: float = RING_RADIUS, std: float = RING_STD
) -> GaussianMixture2D:
    """(1/K) sum_k N(R (cos(2 pi k / K), sin(2 pi k / K)), s^2 I): the 8-Gaussian ring (Kim et al. 2021, Section 5.1).

    The defaults are those of the code Kim et al. run (Gulrajani et al. 2017, ``gan_toy.py``):
    radius 2 and standard deviation 0.02, both divided by 1.414, so R is about 1.414 and s about
    0.0141. The centres are those of :func:`lgan.gaussian_ring_2d` (first centre on the positive
    x axis), whose default radius and width are much larger, for Poincare-constant experiments.

    Args:
        num_modes: The number K of components (an integer >= 1).
        radius: The radius R >= 0 of the circle of centres.
        std: The standard deviation s > 0 of each component.

    Returns:
        :class:`lgan.GaussianMixture2D`.
    """
    check_int_at_least("num_modes", num_modes, 1)
    r = _check_2d_scale("radius", radius, allow_zero=True)
    s = _check_2d_scale("std", std, allow_zero=False)
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    return GaussianMixture2D(r * np.stack([np.cos(angles), np.sin(angles)], axis=1), s)


def grid_of_gaussians(
    num_per_side: int = 5, spacing: float = GRID_SPACING, std: float = GRID_STD
) -> GaussianMixture2D:
    """(1/K^2) sum_{i,j} N(h (i - (K-1)/2, j - (K-1)/2), s^2 I): the 25-Gaussian grid (Kim et al. 2021, Section 5.1).

    The defaults are those of the code Kim et al. run (Gulrajani et al. 2017, ``gan_toy.py``): a
    5 x 5 grid of spacing 2 and standard deviation 0.05, both divided by 2.828, so h is about
    0.707 and s about 0.0177. The grid is centred at the origin; centres are listed row by row
    (x varying fastest).

    Args:
        num_per_side: The number K of centres along each axis (an integer >= 1).
        spacing: The distance h > 0 between neighbouring centres.
        std: The standard deviation s > 0 of each component.

    Returns:
        :class:`lgan.GaussianMixture2D` with K^2 components.
    """
    check_int_at_least("num_per_side", num_per_side, 1)
    h = _check_2d_scale("spacing", spacing, allow_zero=False)
    s = _check_2d_scale("std", std, allow_zero=False)
    ticks = h * (np.arange(num_per_side) - (num_per_side - 1) / 2)
    gx, gy = np.meshgrid(ticks, ticks, indexing="xy")
    return GaussianMixture2D(np.stack([gx.ravel(), gy.ravel()], axis=1), s)


# ----------------------------------------------------------------------------- swiss roll

SWISS_ROLL_T_RANGE = (1.5 * math.pi, 4.5 * math.pi)


def sample_swiss_roll(
    n: int, *, key: PRNGKeyArray, noise: RealScalarLike = SWISS_ROLL_NOISE, scale: RealScalarLike = SWISS_ROLL_SCALE
) -> Float[Array, "n 2"]:
    """n draws of c ((t cos t, t sin t) + sigma z), t ~ U(3 pi/2, 9 pi/2), z ~ N(0, I) (Kim et al. 2021, Section 5.1).

    This is the 2-D swiss roll of the code Kim et al. run (Gulrajani et al. 2017, ``gan_toy.py``):
    ``sklearn.datasets.make_swiss_roll(noise=0.25)`` keeps its coordinates 0 and 2 and divides
    them by 7.5, so the defaults are sigma = 0.25 and c = 1/7.5.

    Args:
        n: Number of samples (an integer >= 1; static under ``jit``).
        key: JAX PRNG key.
        noise: The standard deviation sigma >= 0 of the Gaussian noise, before scaling.
        scale: The factor c > 0 applied to the noisy points.

    Returns:
        Samples of shape (n, 2).
    """
    check_key("key", key)
    _check_n(n)
    _check_scalar("noise", noise)
    check_nonnegative("noise", noise)
    _check_scalar("scale", scale)
    check_positive("scale", scale)
    return _sample_swiss_roll(key, n, _as_float(noise), _as_float(scale))


@partial(jax.jit, static_argnums=1)
def _sample_swiss_roll(key: PRNGKeyArray, n: int, noise: Array, scale: Array) -> Float[Array, "n 2"]:
    key_t, key_noise = jax.random.split(key)
    lo, hi = SWISS_ROLL_T_RANGE
    t = jax.random.uniform(key_t, (n,), minval=lo, maxval=hi, dtype=noise.dtype)
    roll = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], axis=1)
    z = jax.random.normal(key_noise, (n, 2), dtype=roll.dtype)
    return scale * (roll + noise * z)
