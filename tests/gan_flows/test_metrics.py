"""Sample-quality metrics (lgan/_metrics.py) against closed forms."""

import math

import jax
import numpy as np
import pytest
import scipy.linalg
from scipy import special

import lgan


def _random_spd(rng, d, *, rank=None):
    a = rng.normal(size=(d, rank or d))
    return a @ a.T + (0.0 if rank else 0.1 * np.eye(d))


def _reference_w2sq(m1, c1, m2, c2):
    """|m1 - m2|^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2) with scipy's sqrtm."""
    s1 = scipy.linalg.sqrtm(c1).real
    cross = scipy.linalg.sqrtm(s1 @ c2 @ s1).real
    return float(np.sum((m1 - m2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * np.trace(cross))


# ----------------------------------------------------------------------------- Gaussian Frechet distance


@pytest.mark.parametrize(
    "m1, s1, m2, s2", [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, 3.0, 1.0), (-2.5, 0.3, 4.0, 7.0), (0.0, 0.0, 1.0, 2.0)]
)
def test_1d_closed_form(m1, s1, m2, s2):
    # In 1-D, W2^2 = (m1 - m2)^2 + (s1 - s2)^2; covariances are variances.
    exact = (m1 - m2) ** 2 + (s1 - s2) ** 2
    np.testing.assert_allclose(lgan.gaussian_frechet_distance(m1, s1**2, m2, s2**2), exact, rtol=1e-12, atol=1e-12)
    got = lgan.gaussian_frechet_distance(np.array([m1]), np.array([[s1**2]]), np.array([m2]), np.array([[s2**2]]))
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12)


def test_commuting_covariances():
    # C1 = Q diag(a) Q^T, C2 = Q diag(b) Q^T: W2^2 = |m1 - m2|^2 + sum (sqrt a - sqrt b)^2.
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    a, b = rng.uniform(0.1, 3.0, 4), rng.uniform(0.1, 3.0, 4)
    m1, m2 = rng.normal(size=4), rng.normal(size=4)
    exact = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = lgan.gaussian_frechet_distance(m1, q @ np.diag(a) @ q.T, m2, q @ np.diag(b) @ q.T)
    np.testing.assert_allclose(got, exact, rtol=1e-10)


def test_singular_covariances():
    # N(0, diag(1, 0)) and N(0, diag(0, 1)): the cross term vanishes, W2^2 = 1 + 1.
    got = lgan.gaussian_frechet_distance(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([0.0, 1.0]))
    np.testing.assert_allclose(got, 2.0, rtol=1e-14)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_general_covariances_match_sqrtm(d):
    rng = np.random.default_rng(d)
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = _random_spd(rng, d), _random_spd(rng, d)
    got = lgan.gaussian_frechet_distance(m1, c1, m2, c2)
    np.testing.assert_allclose(got, _reference_w2sq(m1, c1, m2, c2), rtol=1e-9)


def test_symmetric_and_zero_for_identical():
    rng = np.random.default_rng(1)
    m1, m2 = rng.normal(size=3), rng.normal(size=3)
    c1, c2 = _random_spd(rng, 3), _random_spd(rng, 3, rank=1)
    d12 = lgan.gaussian_frechet_distance(m1, c1, m2, c2)
    d21 = lgan.gaussian_frechet_distance(m2, c2, m1, c1)
    np.testing.assert_allclose(d12, d21, rtol=1e-12)
    assert d12 > 0
    for m, c in [(m1, c1), (m2, c2)]:  # full rank and rank 1
        np.testing.assert_allclose(lgan.gaussian_frechet_distance(m, c, m, c), 0.0, atol=1e-10)


# ----------------------------------------------------------------------------- Frechet distance of samples


def test_frechet_distance_fits_mean_and_unbiased_covariance():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(50, 3)), 2.0 + rng.normal(size=(70, 3)) @ np.diag([1.0, 2.0, 0.5])
    expected = lgan.gaussian_frechet_distance(x.mean(0), np.cov(x.T), y.mean(0), np.cov(y.T))
    np.testing.assert_allclose(lgan.frechet_distance(x, y), expected, rtol=1e-12)
    np.testing.assert_allclose(lgan.frechet_distance(x, x), 0.0, atol=1e-10)
    np.testing.assert_allclose(lgan.frechet_distance(x, y), lgan.frechet_distance(y, x), rtol=1e-12)


def test_frechet_distance_1d_converges_to_closed_form(key):
    # N(0, 1) vs N(1, 2^2): W2^2 = 1 + 1. Standard error of the estimate ~ 2 sqrt(5 / n) ~ 0.03.
    n = 20_000
    k1, k2 = jax.random.split(key)
    x = jax.random.normal(k1, (n,))
    y = 1.0 + 2.0 * jax.random.normal(k2, (n,))
    assert abs(float(lgan.frechet_distance(x, y)) - 2.0) < 5 * 2 * math.sqrt(5 / n)


def test_frechet_distance_jits(key):
    x = lgan.sample_two_gaussian_mixture(64, 4.0, key=key)
    y = lgan.sample_augmented_mixture(64, 6.0, 0.2, key=key)
    np.testing.assert_allclose(jax.jit(lgan.frechet_distance)(x, y), lgan.frechet_distance(x, y), rtol=1e-12)


# ----------------------------------------------------------------------------- mode coverage


N = 10_000


def _binomial_close(fraction, p, n, z=5.0):
    assert abs(float(fraction) - p) <= z * math.sqrt(p * (1 - p) / n)


def test_grid_samples_cover_all_modes(key):
    grid = lgan.grid_of_gaussians()
    covered, good = lgan.mode_coverage(grid.sample(N, key=key), grid.centres, grid.std)
    assert int(covered) == 25
    # An exact 2-D Gaussian draw lies within 3 std of its mean with probability 1 - exp(-9/2).
    _binomial_close(good, 1 - math.exp(-4.5), N)


def test_single_mode_covers_one(key):
    ring = lgan.ring_of_gaussians()
    x = ring.centres[3] + ring.std * jax.random.normal(key, (N, 2))
    covered, good = lgan.mode_coverage(x, ring.centres, ring.std)
    assert int(covered) == 1
    _binomial_close(good, 1 - math.exp(-4.5), N)
    # Samples exactly at a centre are all high quality.
    covered, good = lgan.mode_coverage(np.repeat(ring.centres[:1], 5, axis=0), ring.centres, ring.std)
    assert (int(covered), float(good)) == (1, 1.0)


def test_threshold_is_in_standard_deviations(key):
    grid = lgan.grid_of_gaussians()
    _, good = lgan.mode_coverage(grid.sample(N, key=key), grid.centres, grid.std, threshold=1.0)
    _binomial_close(good, 1 - math.exp(-0.5), N)


def test_1d_mode_coverage(key):
    # Modes at 0 and 10 with std 1: both covered; P(|z| <= 3) = erf(3 / sqrt 2) = 0.9973.
    x = lgan.sample_two_gaussian_mixture(N, 10.0, key=key)
    covered, good = lgan.mode_coverage(x, np.array([0.0, 10.0]), 1.0)
    assert int(covered) == 2
    _binomial_close(good, special.erf(3 / math.sqrt(2)), N)


def test_far_samples_cover_nothing():
    covered, good = lgan.mode_coverage(np.full((4, 2), 100.0), lgan.ring_of_gaussians().centres, 0.1)
    assert (int(covered), float(good)) == (0, 0.0)


def test_min_count_and_per_mode_std():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    x = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [10.5, 0.0]])
    assert int(lgan.mode_coverage(x, centres, 1.0)[0]) == 2
    assert int(lgan.mode_coverage(x, centres, 1.0, min_count=2)[0]) == 1
    # Per-mode std: the sample 0.5 from the second centre is high quality only if 3 s_2 >= 0.5.
    covered, good = lgan.mode_coverage(x, centres, np.array([1.0, 0.1]))
    assert (int(covered), float(good)) == (1, 0.75)


def test_mode_coverage_jits(key):
    grid = lgan.grid_of_gaussians()
    x = grid.sample(256, key=key)
    f = jax.jit(lambda x: lgan.mode_coverage(x, grid.centres, grid.std))
    eager = lgan.mode_coverage(x, grid.centres, grid.std)
    assert [float(v) for v in f(x)] == [float(v) for v in eager]


# ----------------------------------------------------------------------------- errors

I2 = np.eye(2)
Z2 = np.zeros(2)
X4, C3 = np.zeros((4, 2)), np.zeros((3, 2))
GFD, FD, MC = lgan.gaussian_frechet_distance, lgan.frechet_distance, lgan.mode_coverage


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: GFD(Z2, I2, np.zeros(3), np.eye(3)), r"mean2 must have the shape of mean1 \(2,\), got shape \(3,\)"),
        (lambda: GFD(np.zeros((2, 2)), I2, Z2, I2), r"mean1 must be a scalar or a vector of shape \(d,\), got shape \(2, 2\)"),
        (lambda: GFD(np.array([0.0, np.nan]), I2, Z2, I2), r"mean1 must be finite, got nan"),
        (lambda: GFD(Z2, np.eye(3), Z2, I2), r"cov1 must have shape \(2, 2\) to match its mean, got shape \(3, 3\)"),
        (lambda: GFD(Z2, I2, Z2, np.array([[1.0, 0.5], [0.0, 1.0]])), r"cov2 must be symmetric"),
        (lambda: GFD(Z2, np.diag([1.0, -1.0]), Z2, I2), r"cov1 must be positive semi-definite, got smallest eigenvalue -1.0"),
        (lambda: GFD(0.0, -1.0, 0.0, 1.0), r"cov1 must be positive semi-definite"),
        (lambda: GFD(0.0, 1.0, 0.0, np.inf), r"cov2 must be finite, got inf"),
        (lambda: FD(np.zeros((5, 2)), np.zeros((5, 3))), r"y must have the dimension of x, got shapes \(5, 2\) and \(5, 3\)"),
        (lambda: FD(np.zeros((5, 2, 1)), np.zeros((5, 2))), r"x must have shape \(n,\) or \(n, d\), got shape \(5, 2, 1\)"),
        (lambda: FD(np.zeros(1), np.zeros(5)), r"x must hold at least 2 samples to fit a covariance, got 1"),
        (lambda: FD(np.zeros(5), np.array([0.0, np.nan])), r"y must be finite, got nan"),
        (lambda: MC(np.array([[np.nan, 0.0]]), np.zeros((3, 2)), 1.0), r"samples must be finite, got nan"),
        (lambda: MC(np.zeros((0, 2)), np.zeros((3, 2)), 1.0), r"samples must hold at least 1 sample, got 0"),
        (lambda: MC(np.zeros((4, 2)), np.zeros((3, 3)), 1.0), r"centres must have the dimension of samples"),
        (lambda: MC(np.zeros((4, 2)), np.zeros((3, 2, 1)), 1.0), r"centres must have shape \(K,\) or \(K, d\)"),
        (lambda: MC(X4, C3, 0.0), r"std must be > 0, got 0.0"),
        (lambda: MC(X4, C3, np.ones(2)), r"std must be a scalar or have shape \(3,\)"),
        (lambda: MC(X4, C3, 1.0, threshold=-3.0), r"threshold must be > 0, got -3.0"),
        (lambda: MC(X4, C3, 1.0, min_count=0), r"min_count must be an integer >= 1, got 0"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- sample_quality_metrics


def test_sample_quality_metrics_equal_the_direct_scores(key):
    ring = lgan.ring_of_gaussians(8, radius=2.0, std=0.1)
    x = ring.sample(400, key=key)
    state = lgan.mlp_gan(2, latent_dim=2, width=4, depth=1, key=jax.random.key(5))
    # A generator that maps half its latents onto mode 0 and half onto mode 4 covers exactly those two.
    centres = np.asarray(ring.centres)
    z = np.concatenate([np.tile(centres[0], (200, 1)), np.tile(centres[4], (200, 1))])
    exact = lgan.GANState(state.discriminator, lambda zz: zz, 2)
    out = lgan.sample_quality_metrics(ring.centres, ring.std)(exact, x, z)
    assert int(out["modes"]) == 2 and float(out["high_quality"]) == 1.0
    np.testing.assert_allclose(out["frechet"], lgan.frechet_distance(x, z), rtol=1e-12)
    # A random network: the same numbers as frechet_distance and mode_coverage with min_count = 1% of n.
    zr = jax.random.normal(jax.random.key(6), (400, 2))
    fake = jax.vmap(state.generator)(zr)
    got = lgan.sample_quality_metrics(ring.centres, ring.std, threshold=20.0)(state, x, zr)
    modes, quality = lgan.mode_coverage(fake, ring.centres, ring.std, threshold=20.0, min_count=4)
    assert int(got["modes"]) == int(modes) and float(got["high_quality"]) == pytest.approx(float(quality), rel=1e-12)
    np.testing.assert_allclose(got["frechet"], lgan.frechet_distance(x, fake), rtol=1e-12)
    assert set(lgan.sample_quality_metrics()(state, x, zr)) == {"frechet"}


@pytest.mark.slow
def test_sample_quality_metrics_along_a_solve(key):
    ring = lgan.ring_of_gaussians(8, radius=2.0, std=0.1)
    x = ring.sample(64, key=key)
    state = lgan.mlp_gan(2, latent_dim=2, width=4, depth=1, key=jax.random.key(5))
    res = lgan.solve_gan_flow(
        lgan.gan_flow("standard"), state, x, solver="euler", step=0.05, num_steps=4, save_every=2, batch_size=16, key=key,
        metric_fn=lgan.sample_quality_metrics(ring.centres, ring.std),
    )  # fmt: skip
    assert {"frechet", "modes", "high_quality"} <= set(res.metrics)
    assert res.metrics["modes"].shape == (3,) and np.all((0 <= res.metrics["modes"]) & (res.metrics["modes"] <= 8))
    assert np.all(np.asarray(res.metrics["frechet"]) > 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(centres=np.zeros((3, 2))), r"centres and std must be given together"),
        (dict(std=0.1), r"centres and std must be given together"),
        (dict(centres=np.zeros((3, 2)), std=-0.1), r"std must be > 0, got -0.1"),
        (dict(centres=np.zeros((3, 2)), std=np.ones(2)), r"std must be a scalar or have shape \(3,\)"),
        (dict(threshold=0.0), r"threshold must be > 0, got 0.0"),
        (dict(min_fraction=0.0), r"min_fraction must be in \(0, 1\], got 0.0"),
        (dict(min_fraction=2), r"min_fraction must be in \(0, 1\], got 2"),
    ],
)
def test_sample_quality_metrics_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lgan.sample_quality_metrics(**kwargs)


def test_frechet_distance_of_huge_data(float32):
    x = 1e30 * np.random.default_rng(0).standard_normal((50, 2))
    with pytest.raises(ValueError, match=r"x has deviations from its mean up to .*overflow float32.*rescale x and y"):
        lgan.frechet_distance(x, np.ones((50, 2)))
    with pytest.raises(ValueError, match=r"y must be finite in float32"):
        lgan.frechet_distance(np.ones((50, 2)), np.full((50, 2), 1e39))


def test_frechet_distance_rejects_strings_and_complex():
    with pytest.raises(TypeError, match="x must be an array of numbers, got str"):
        lgan.frechet_distance("abc", np.ones((3, 1)))
    with pytest.raises(TypeError, match="y must be real, got complex value"):
        lgan.frechet_distance(np.ones((3, 1)), np.ones((3, 1)) * 1j)


def test_gradient_norms_are_the_loss_slopes_along_the_gradients():
    # ||grad f|| is the slope of f along u = grad f / ||grad f||: central differences of the losses,
    # evaluated by hand (sigmoid cross-entropy, non-saturating l_G), error O(eps^2) ~ 1e-10.
    import equinox as eqx
    import jax.numpy as jnp
    from gan_flows._setup import DATA, STATE

    flow = lgan.gan_flow("standard", generator_loss="non_saturating")
    x, z = jnp.asarray(DATA)[:, None], jax.random.normal(jax.random.key(3), (32, 1))
    out = lgan.gradient_norm_metrics(flow)(STATE, x, z)
    d, d_static = eqx.partition(STATE.discriminator, eqx.is_inexact_array)
    g, g_static = eqx.partition(STATE.generator, eqx.is_inexact_array)

    def loss_d(dd):
        disc = eqx.combine(dd, d_static)
        fake = jax.vmap(STATE.generator)(z)
        return jnp.mean(jax.nn.softplus(-jax.vmap(disc)(x))) + jnp.mean(jax.nn.softplus(jax.vmap(disc)(fake)))

    def loss_g(gg):
        fake = jax.vmap(eqx.combine(gg, g_static))(z)
        return jnp.mean(jax.nn.softplus(-jax.vmap(STATE.discriminator)(fake)))

    eps = 1e-5
    for name, f, p in (("grad_norm_d", loss_d, d), ("grad_norm_g", loss_g, g)):
        grad = jax.grad(f)(p)
        unit = jax.tree_util.tree_map(lambda a: a / float(jnp.sqrt(sum(jnp.sum(b**2) for b in jax.tree_util.tree_leaves(grad)))), grad)
        step = lambda c: jax.tree_util.tree_map(lambda a, b: a + c * b, p, unit)  # noqa: E731
        slope = (f(step(eps)) - f(step(-eps))) / (2 * eps)
        np.testing.assert_allclose(float(out[name]), float(slope), rtol=1e-7)


def test_gradient_norm_metrics_wants_a_flow():
    with pytest.raises(ValueError, match="flow must be an lgan.GANFlow"):
        lgan.gradient_norm_metrics("standard")
