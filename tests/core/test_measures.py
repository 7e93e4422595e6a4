"""Probability measures (lgan/_core/_measures.py, _measures_2d.py): exact moments, densities, reproducibility, checks.

Moment tolerances come from the sample size: a sample mean of n draws is within 5 standard
errors sqrt(Var / n) of the exact mean except with probability < 1e-6, and the same holds for a
sample second moment with the standard error estimated from the samples themselves.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import lgan

N = 20_000
Z = 5.0  # standard errors allowed


def _mean_within(samples, exact_mean, *, z=Z):
    """Each column's sample mean is within z standard errors of its exact value."""
    x = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    se = x.std(axis=0, ddof=1) / math.sqrt(len(x))
    np.testing.assert_array_less(np.abs(x.mean(axis=0) - np.ravel(exact_mean)), z * se + 1e-12)


def _second_moments_within(samples, exact_second, *, z=Z):
    """The sample E[x_i x_j] is within z standard errors of its exact value, for every i, j."""
    x = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    prods = x[:, :, None] * x[:, None, :]
    se = prods.std(axis=0, ddof=1) / math.sqrt(len(x))
    np.testing.assert_array_less(np.abs(prods.mean(axis=0) - np.atleast_2d(exact_second)), z * se + 1e-12)


def _mixture_moments(mix: lgan.GaussianMixture1D) -> tuple[float, float]:
    """E x and E x^2 of a 1-D density by quadrature (independent of the samplers)."""
    a, b = mix.domain(12.0)
    m1 = integrate.quad(lambda x: x * mix(np.array([x]))[0], a, b, limit=200)[0]
    m2 = integrate.quad(lambda x: x**2 * mix(np.array([x]))[0], a, b, limit=200)[0]
    return m1, m2


# ----------------------------------------------------------------------------- two-Gaussian mixture


@pytest.mark.parametrize("separation, std", [(0.0, 1.0), (4.0, 1.0), (7.0, 0.5)])
def test_two_gaussian_mixture_moments(key, separation, std):
    x = lgan.sample_two_gaussian_mixture(N, separation, key=key, std=std)
    assert x.shape == (N,) and x.dtype == jnp.float64
    # Closed form: E x = M/2, E x^2 = s^2 + M^2/2; and the same from the density lgan uses.
    m1, m2 = separation / 2, std**2 + separation**2 / 2
    np.testing.assert_allclose(_mixture_moments(lgan.two_gaussian_mixture(separation, std)), (m1, m2), rtol=1e-8)
    _mean_within(x, m1)
    _second_moments_within(x, m2)


def test_two_gaussian_mixture_modes_at_0_and_M(key):
    # Narrow modes: every sample is near 0 or M, about half each (5 binomial standard errors).
    x = np.asarray(lgan.sample_two_gaussian_mixture(N, 10.0, key=key, std=0.1))
    right = np.abs(x - 10.0) < 1.0
    assert np.all(right | (np.abs(x) < 1.0))
    assert abs(right.mean() - 0.5) < Z * math.sqrt(0.25 / N)


# ----------------------------------------------------------------------------- augmented mixture (eq. 34)


@pytest.mark.parametrize("p", [0.0, 0.2, 0.4, 1.0])
def test_augmented_mixture_is_eq_34(p):
    mix = lgan.augmented_mixture(p=p)
    np.testing.assert_array_equal(mix.means, [-3.0, 0.0, 3.0])
    np.testing.assert_array_equal(mix.stds, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(mix.weights, [0.5 - p / 4, p / 2, 0.5 - p / 4], rtol=1e-15)


def test_augmented_mixture_p0_is_eq_33():
    x = np.linspace(-8, 8, 101)
    gauss = lambda m: np.exp(-0.5 * (x - m) ** 2) / math.sqrt(2 * math.pi)  # noqa: E731
    eq33 = 0.5 * gauss(-3) + 0.5 * gauss(3)
    np.testing.assert_allclose(lgan.augmented_mixture(6.0, 0.0)(x), eq33, rtol=1e-14)


def test_augmented_mixture_xi_min_grows_with_p():
    # The claim of Khrulkov et al. (2021, Section 7, Figure 2): augmentation raises xi_min.
    mixtures = [lgan.augmented_mixture(p=p) for p in (0.0, 0.2, 0.4)]
    xi = [lgan.poincare_constant(m, m.domain(), num_elements=400) for m in mixtures]
    assert xi[0] < xi[1] < xi[2]


@pytest.mark.parametrize("separation, p, std", [(6.0, 0.0, 1.0), (6.0, 0.4, 1.0), (4.0, 1.0, 0.5)])
def test_augmented_mixture_moments(key, separation, p, std):
    x = lgan.sample_augmented_mixture(N, separation, p, key=key, std=std)
    assert x.shape == (N,)
    # E x = 0 and E x^2 = s^2 + (1 - p/2) M^2/4, also from the density by quadrature.
    m2 = std**2 + (1 - p / 2) * separation**2 / 4
    np.testing.assert_allclose(_mixture_moments(lgan.augmented_mixture(separation, p, std)), (0.0, m2), atol=1e-8)
    _mean_within(x, 0.0)
    _second_moments_within(x, m2)


def test_augmented_mixture_component_weights(key):
    # Narrow components: the share nearest each mean is its weight, within 5 binomial standard errors.
    p = 0.4
    x = np.asarray(lgan.sample_augmented_mixture(N, 6.0, p, key=key, std=0.1))
    share = np.array([(x < -1.5).mean(), (np.abs(x) <= 1.5).mean(), (x > 1.5).mean()])
    w = np.array([0.5 - p / 4, p / 2, 0.5 - p / 4])
    np.testing.assert_array_less(np.abs(share - w), Z * np.sqrt(w * (1 - w) / N))


# ----------------------------------------------------------------------------- ring and grid


def test_ring_defaults_follow_gan_toy():
    ring = lgan.ring_of_gaussians()
    assert ring.num_modes == 8
    np.testing.assert_allclose(np.linalg.norm(ring.centres, axis=1), 2 / 1.414, rtol=1e-14)
    np.testing.assert_allclose(ring.std, 0.02 / 1.414, rtol=1e-14)
    angles = np.mod(np.arctan2(ring.centres[:, 1], ring.centres[:, 0]), 2 * np.pi)
    np.testing.assert_allclose(np.sort(angles), 2 * np.pi * np.arange(8) / 8, atol=1e-12)


def test_grid_defaults_follow_gan_toy():
    grid = lgan.grid_of_gaussians()
    assert grid.num_modes == 25
    np.testing.assert_allclose(grid.std, 0.05 / 2.828, rtol=1e-14)
    ticks = 2 * np.arange(-2, 3) / 2.828
    np.testing.assert_allclose(np.unique(np.round(grid.centres[:, 0], 12)), ticks, rtol=1e-12)
    np.testing.assert_allclose(np.unique(np.round(grid.centres[:, 1], 12)), ticks, rtol=1e-12)
    assert len({tuple(c) for c in np.round(grid.centres, 12)}) == 25


@pytest.mark.parametrize(
    "mix",
    [lgan.ring_of_gaussians(), lgan.grid_of_gaussians(), lgan.ring_of_gaussians(5, 2.0, 0.5)],
    ids=["ring8", "grid25", "ring5_wide"],
)
def test_2d_mixture_moments(key, mix):
    x = mix.sample(N, key=key)
    assert x.shape == (N, 2) and x.dtype == jnp.float64
    c = mix.centres
    # E x = mean of the centres; E x x^T = mean of c c^T + s^2 I.
    _mean_within(x, c.mean(axis=0))
    _second_moments_within(x, c.T @ c / len(c) + mix.std**2 * np.eye(2))


def test_2d_mixture_density_integrates_to_one():
    mix = lgan.ring_of_gaussians(8, 2.0, 0.5)
    (x0, x1), (y0, y1) = mix.domain()
    xs, ys = np.linspace(x0, x1, 401), np.linspace(y0, y1, 401)
    gx, gy = np.meshgrid(xs, ys)
    mass = integrate.trapezoid(integrate.trapezoid(mix(gx, gy), xs, axis=1), ys)  # numpy < 2 has no trapezoid
    assert abs(mass - 1) < 1e-6


def test_wide_ring_density_and_samples():
    # The ring of chapter 12 (formerly lgan.gaussian_ring_2d): the density integrates to one on its
    # domain (Riemann sum, 1e-4), the centres lie on the circle, and the samples look like it.
    ring = lgan.ring_of_gaussians(8, radius=2.0, std=0.7)
    (x0, x1), (y0, y1) = ring.domain()
    assert np.isclose(x1, 2.0 + 6 * 0.7) and x0 == -x1 and (y0, y1) == (x0, x1)
    g = np.linspace(x0, x1, 401)
    X, Y = np.meshgrid(g, g)
    h = g[1] - g[0]
    assert np.isclose(ring(X, Y).sum() * h * h, 1.0, rtol=1e-4)
    assert ring.centres.shape == (8, 2) and np.allclose(np.linalg.norm(ring.centres, axis=1), 2.0)
    samples = ring.sample(20000, key=jax.random.key(0))
    assert samples.shape == (20000, 2)
    assert np.allclose(np.mean(samples, axis=0), 0.0, atol=0.05)
    assert 1.8 < np.median(np.linalg.norm(samples, axis=1)) < 2.3


def test_2d_density_is_scipys():
    # Against scipy.stats.multivariate_normal, term by term (an independent implementation), 1e-12.
    from scipy.stats import multivariate_normal

    mix = lgan.grid_of_gaussians(3, 1.0, 0.4)
    pts = np.random.default_rng(0).uniform(-2, 2, size=(50, 2))
    expected = np.mean([multivariate_normal(c, 0.16 * np.eye(2)).pdf(pts) for c in mix.centres], axis=0)
    np.testing.assert_allclose(mix(pts[:, 0], pts[:, 1]), expected, rtol=1e-12)


def test_1d_density_is_scipys():
    from scipy.stats import norm

    mix = lgan.gaussian_mixture([-1.0, 0.5, 3.0], [0.3, 1.0, 2.0], [1.0, 2.0, 3.0])
    x = np.linspace(-5, 8, 101)
    expected = sum(w * norm(m, s).pdf(x) for m, s, w in zip([-1.0, 0.5, 3.0], [0.3, 1.0, 2.0], [1 / 6, 2 / 6, 3 / 6]))
    np.testing.assert_allclose(mix(x), expected, rtol=1e-12)


def test_seeded_2d_samples_are_numpys_draws():
    # The numpy path, against a hand-written draw: a uniform centre index, then standard normals.
    mix = lgan.ring_of_gaussians(8, 2.0, 0.7)
    rng = np.random.default_rng(3)
    k = rng.integers(0, 8, size=500)
    expected = mix.centres[k] + 0.7 * rng.standard_normal((500, 2))
    np.testing.assert_array_equal(mix.sample(500, seed=3), expected)
    assert np.array_equal(lgan.load_builtin("ring"), mix.sample(4000, seed=0))


# ----------------------------------------------------------------------------- swiss roll


def _swiss_roll_moments(noise, scale):
    a, b = 1.5 * math.pi, 4.5 * math.pi
    e = lambda f: integrate.quad(f, a, b, limit=200)[0] / (b - a)  # noqa: E731
    mean = np.array([e(lambda t: t * math.cos(t)), e(lambda t: t * math.sin(t))])
    second = np.array(
        [
            [e(lambda t: (t * math.cos(t)) ** 2), e(lambda t: t**2 * math.cos(t) * math.sin(t))],
            [e(lambda t: t**2 * math.cos(t) * math.sin(t)), e(lambda t: (t * math.sin(t)) ** 2)],
        ]
    )
    return scale * mean, scale**2 * (second + noise**2 * np.eye(2))


def test_swiss_roll_exact_mean():
    # E t cos t = 2 and E t sin t = 2 / (3 pi) for t ~ U(3 pi/2, 9 pi/2).
    mean, _ = _swiss_roll_moments(0.0, 1.0)
    np.testing.assert_allclose(mean, [2.0, 2 / (3 * math.pi)], rtol=1e-10)


@pytest.mark.parametrize("noise, scale", [(0.25, 1 / 7.5), (0.0, 1.0), (1.0, 0.5)])
def test_swiss_roll_moments(key, noise, scale):
    x = lgan.sample_swiss_roll(N, key=key, noise=noise, scale=scale)
    assert x.shape == (N, 2) and x.dtype == jnp.float64
    mean, second = _swiss_roll_moments(noise, scale)
    _mean_within(x, mean)
    _second_moments_within(x, second)


def test_swiss_roll_noiseless_lies_on_the_spiral(key):
    x = np.asarray(lgan.sample_swiss_roll(N, key=key, noise=0.0, scale=1.0))
    t = np.linalg.norm(x, axis=1)
    assert np.all((t >= 1.5 * np.pi - 1e-9) & (t <= 4.5 * np.pi + 1e-9))
    np.testing.assert_allclose(x, np.stack([t * np.cos(t), t * np.sin(t)], axis=1), atol=1e-9)


# ----------------------------------------------------------------------------- keys and jit


SAMPLERS = {
    "two_gaussian": lambda n, key: lgan.sample_two_gaussian_mixture(n, 4.0, key=key),
    "augmented": lambda n, key: lgan.sample_augmented_mixture(n, 6.0, 0.2, key=key),
    "ring": lambda n, key: lgan.ring_of_gaussians().sample(n, key=key),
    "grid": lambda n, key: lgan.grid_of_gaussians().sample(n, key=key),
    "swiss_roll": lambda n, key: lgan.sample_swiss_roll(n, key=key),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_same_key_same_samples(key, name):
    sampler = SAMPLERS[name]
    a, b = sampler(64, key), sampler(64, key)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sampler(64, jax.random.key(1)))


def test_hyperparameters_may_be_traced(key):
    # separation, p, std and noise are arrays under jit: one trace serves every value.
    @jax.jit
    def f(m, p, s):
        return (
            lgan.sample_augmented_mixture(64, m, p, key=key, std=s),
            lgan.sample_two_gaussian_mixture(64, m, key=key, std=s),
            lgan.sample_swiss_roll(64, key=key, noise=s),
        )

    a, b, c = f(6.0, 0.2, 0.25)
    np.testing.assert_allclose(a, lgan.sample_augmented_mixture(64, 6.0, 0.2, key=key, std=0.25), rtol=1e-14)
    np.testing.assert_allclose(b, lgan.sample_two_gaussian_mixture(64, 6.0, key=key, std=0.25), rtol=1e-14)
    np.testing.assert_allclose(c, lgan.sample_swiss_roll(64, key=key, noise=0.25), rtol=1e-14)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda k: lgan.sample_two_gaussian_mixture(0, 4.0, key=k), r"n must be an integer >= 1, got 0"),
        (lambda k: lgan.sample_two_gaussian_mixture(2.5, 4.0, key=k), r"n must be an integer >= 1, got 2.5"),
        (lambda k: lgan.sample_two_gaussian_mixture(10, -1.0, key=k), r"separation must be >= 0, got -1.0"),
        (lambda k: lgan.sample_two_gaussian_mixture(10, float("nan"), key=k), r"separation must be finite, got nan"),
        (lambda k: lgan.sample_two_gaussian_mixture(10, [1.0, 2.0], key=k), r"separation must be a scalar, got shape"),
        (lambda k: lgan.sample_two_gaussian_mixture(10, 4.0, key=k, std=0.0), r"std must be > 0, got 0.0"),
        (lambda k: lgan.sample_augmented_mixture(-3, 6.0, 0.2, key=k), r"n must be an integer >= 1, got -3"),
        (lambda k: lgan.sample_augmented_mixture(10, -6.0, 0.2, key=k), r"separation must be >= 0, got -6.0"),
        (lambda k: lgan.sample_augmented_mixture(10, 6.0, 1.5, key=k), r"p must be in \[0, 1\], got 1.5"),
        (lambda k: lgan.sample_augmented_mixture(10, 6.0, -0.1, key=k), r"p must be in \[0, 1\], got -0.1"),
        (lambda k: lgan.sample_augmented_mixture(10, 6.0, float("nan"), key=k), r"p must be a number in \[0, 1\], got nan"),
        (lambda k: lgan.sample_augmented_mixture(10, 6.0, 0.2, key=k, std=-1.0), r"std must be > 0, got -1.0"),
        (lambda k: lgan.augmented_mixture(6.0, 2.0), r"p must be in \[0, 1\], got 2.0"),
        (lambda k: lgan.augmented_mixture(-1.0, 0.2), r"separation must be >= 0, got -1.0"),
        (lambda k: lgan.augmented_mixture(6.0, 0.2, 0.0), r"std must be > 0, got 0.0"),
        (lambda k: lgan.ring_of_gaussians(0), r"num_modes must be an integer >= 1, got 0"),
        (lambda k: lgan.ring_of_gaussians(8, -1.0), r"radius must be >= 0, got -1.0"),
        (lambda k: lgan.ring_of_gaussians(8, 2.0, 0.0), r"std must be > 0, got 0.0"),
        (lambda k: lgan.ring_of_gaussians(8, float("nan")), r"radius must be finite, got nan"),
        (lambda k: lgan.ring_of_gaussians().sample(10, key=k, seed=0), r"give exactly one of key .* and seed"),
        (lambda k: lgan.grid_of_gaussians(0), r"num_per_side must be an integer >= 1, got 0"),
        (lambda k: lgan.grid_of_gaussians(5, 0.0), r"spacing must be > 0, got 0.0"),
        (lambda k: lgan.grid_of_gaussians(5, 1.0, float("inf")), r"std must be finite, got inf"),
        (lambda k: lgan.grid_of_gaussians().sample(0, key=k), r"n must be an integer >= 1, got 0"),
        (lambda k: lgan.sample_swiss_roll(0, key=k), r"n must be an integer >= 1, got 0"),
        (lambda k: lgan.sample_swiss_roll(10, key=k, noise=-0.1), r"noise must be >= 0, got -0.1"),
        (lambda k: lgan.sample_swiss_roll(10, key=k, scale=0.0), r"scale must be > 0, got 0.0"),
    ],
)
def test_errors(key, call, match):
    with pytest.raises(ValueError, match=match):
        call(key)
