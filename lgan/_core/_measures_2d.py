"""Measures on the plane: the ring and grid of Gaussians and the swiss roll.

Kim et al. (2021, Section 5.1) and Qin et al. (2020, Section 5.1) use the two-dimensional
benchmarks of Gulrajani et al. (2017): a ring of 8 Gaussians, a 5 x 5 grid of 25 Gaussians, and
the swiss roll. Kim et al. state that they run the code of Gulrajani et al. (``gan_toy.py`` of
``improved_wgan_training``) unchanged apart from the loss, so the defaults here are the values of
that code, including its final rescaling by a fixed "stdev" (1.414 for the ring, 2.828 for the
grid, 7.5 for the swiss roll). The ring with a larger radius and width (e.g.
``ring_of_gaussians(8, radius=2.0, std=0.5)``) is also the 2-D test measure of the Poincare
estimator (chapter 12). The mixtures use the one density and sampler of :mod:`lgan._core._measures`.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ._custom_types import RealScalarLike
from ._measures import _as_float, mixture_density, sample_mixture
from ._validation import (
    check_int_at_least,
    check_key,
    check_nonnegative,
    check_positive,
    check_result_finite,
    check_scalars,
)

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
SWISS_ROLL_T_RANGE = (1.5 * math.pi, 4.5 * math.pi)


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
        points = np.stack(np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float)), axis=-1)
        k = self.num_modes
        return mixture_density(points, np.asarray(self.centres, dtype=float), np.full(k, float(self.std)), 1.0 / k)

    def domain(self, width: float = 6.0) -> tuple[tuple[float, float], tuple[float, float]]:
        """The bounding box of the centres widened by ``width`` standard deviations, as ((x0, x1), (y0, y1))."""
        c = np.asarray(self.centres, dtype=float)
        lo, hi = c.min(axis=0) - width * self.std, c.max(axis=0) + width * self.std
        return ((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])))

    def sample(self, n: int, *, key: PRNGKeyArray | None = None, seed: int | None = None) -> Float[Array, "n 2"]:
        """n samples of shape (n, 2): a uniformly chosen centre plus N(0, s^2 I) noise.

        Args:
            n: Number of samples, >= 1.
            key: A JAX PRNG key: the samples are a JAX array in the working dtype.
            seed: Or an integer seed for numpy's generator: a float64 numpy array. Give exactly
                one of ``key`` and ``seed``.
        """
        if key is not None:
            check_key("key", key)
        check_int_at_least("n", n, 1)
        stds = np.full(self.num_modes, float(self.std))
        return sample_mixture(n, self.centres, stds, key=key, seed=seed)


def _scale(name: str, value, *, allow_zero: bool) -> float:
    check_scalars(**{name: value})
    (check_nonnegative if allow_zero else check_positive)(name, value)
    return float(value)


def ring_of_gaussians(
    num_modes: int = 8, radius: float = RING_RADIUS, std: float = RING_STD
) -> GaussianMixture2D:
    """(1/K) sum_k N(R (cos(2 pi k / K), sin(2 pi k / K)), s^2 I): the 8-Gaussian ring (Kim et al. 2021, Section 5.1).

    The defaults are those of the code Kim et al. run (Gulrajani et al. 2017, ``gan_toy.py``):
    radius 2 and standard deviation 0.02, both divided by 1.414, so R is about 1.414 and s about
    0.0141. The first centre lies on the positive x axis. Chapter 12 estimates the Poincare
    constant of the wider ring ``ring_of_gaussians(8, radius=2.0, std=0.5)``.

    Args:
        num_modes: The number K of components (an integer >= 1).
        radius: The radius R >= 0 of the circle of centres.
        std: The standard deviation s > 0 of each component.

    Returns:
        :class:`lgan.GaussianMixture2D`.
    """
    check_int_at_least("num_modes", num_modes, 1)
    r = _scale("radius", radius, allow_zero=True)
    s = _scale("std", std, allow_zero=False)
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
    h = _scale("spacing", spacing, allow_zero=False)
    s = _scale("std", std, allow_zero=False)
    ticks = h * (np.arange(num_per_side) - (num_per_side - 1) / 2)
    gx, gy = np.meshgrid(ticks, ticks, indexing="xy")
    return GaussianMixture2D(np.stack([gx.ravel(), gy.ravel()], axis=1), s)


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
    check_int_at_least("n", n, 1)
    check_scalars(noise=noise, scale=scale)
    check_nonnegative("noise", noise)
    check_positive("scale", scale)
    samples = _sample_swiss_roll(key, n, _as_float(noise), _as_float(scale))
    check_result_finite(samples, f"sample_swiss_roll(noise={noise!r}, scale={scale!r})")
    return samples


@partial(jax.jit, static_argnums=1)
def _sample_swiss_roll(key: PRNGKeyArray, n: int, noise: Array, scale: Array) -> Float[Array, "n 2"]:
    key_t, key_noise = jax.random.split(key)
    lo, hi = SWISS_ROLL_T_RANGE
    t = jax.random.uniform(key_t, (n,), minval=lo, maxval=hi, dtype=noise.dtype)
    roll = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], axis=1)
    z = jax.random.normal(key_noise, (n, 2), dtype=roll.dtype)
    return scale * (roll + noise * z)
