import time

import jax
import numpy as np
import pytest

import lgan


@pytest.mark.parametrize("sigma", [1.0, 0.5, 3.0])
def test_gaussian_closed_form_first_five_modes(sigma):
    # -Delta_mu for N(0, sigma^2) is the Ornstein-Uhlenbeck operator: xi_k = k / sigma^2 (Hermite functions).
    g = lgan.gaussian_mixture([0.7], [sigma])
    spec = lgan.weighted_laplacian_spectrum(g, g.domain(), num_modes=5)
    np.testing.assert_allclose(spec.xi, np.arange(1, 6) / sigma**2, rtol=1e-6)


def test_gaussian_eigenfunctions_are_hermite_polynomials():
    g = lgan.gaussian_mixture([0.0], [1.0])
    spec = lgan.weighted_laplacian_spectrum(g, g.domain(), num_modes=3)
    x = spec.nodes
    inner = (spec.nodes > -4) & (spec.nodes < 4)
    # Probabilists' Hermite He_1 = x, He_2 = x^2 - 1, He_3 = x^3 - 3x, normalised in L2(N(0,1)) by sqrt(k!).
    for k, he in enumerate([x, x**2 - 1, x**3 - 3 * x], start=1):
        expected = he / np.sqrt(float(np.prod(np.arange(1, k + 1))))
        np.testing.assert_allclose(spec.eigenfunctions[k - 1][inner], expected[inner], atol=1e-6)


def test_eigenfunctions_orthonormal_in_l2_mu():
    m = lgan.two_gaussian_mixture(3.0)
    spec = lgan.weighted_laplacian_spectrum(m, m.domain(), num_modes=4)
    _, _, M, _ = lgan.assemble_weighted_fem_1d(m, m.domain(), 2000, degree=2)
    gram = spec.eigenfunctions @ (M @ spec.eigenfunctions.T) / spec.mass
    np.testing.assert_allclose(gram, np.eye(4), atol=1e-8)
    # zero mean: orthogonal to the constant eigenfunction
    np.testing.assert_allclose(spec.eigenfunctions @ (M @ np.ones(M.shape[0])), 0.0, atol=1e-8)


@pytest.mark.parametrize("degree, order", [(1, 2.0), (2, 4.0)])
def test_convergence_order_under_refinement(degree, order):
    # Eigenvalue error of degree-p Lagrange elements falls as h^(2p); fit the log-log slope.
    g = lgan.gaussian_mixture([0.0], [1.0])
    counts = np.array([40, 80, 160, 320]) if degree == 2 else np.array([100, 200, 400, 800])
    errors = [abs(lgan.weighted_laplacian_spectrum(g, (-8, 8), num_modes=3, num_elements=int(n), degree=degree).xi[2] - 3.0) for n in counts]
    slope = -np.polyfit(np.log(counts), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.25, (slope, errors)


def test_mixture_xi_min_is_fast_and_decreasing():
    start = time.perf_counter()
    m = lgan.two_gaussian_mixture(4.0)
    xi4 = lgan.poincare_constant(m, m.domain())
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    # A finer mesh agrees to 1e-8 relative: the default mesh is converged.
    fine = lgan.poincare_constant(m, m.domain(), num_elements=8000)
    assert xi4 == pytest.approx(fine, rel=1e-8)
    seps = [0.0, 1.0, 2.0, 4.0, 6.0]
    xis = [lgan.poincare_constant(lgan.two_gaussian_mixture(s), lgan.two_gaussian_mixture(s).domain()) for s in seps]
    assert xis[0] == pytest.approx(1.0, rel=1e-8)
    assert np.all(np.diff(xis) < 0)


def test_uniform_density_on_interval():
    # rho = 1 on [0, 1] with Neumann conditions: xi_k = (k pi)^2, w_k = sqrt(2) cos(k pi x).
    spec = lgan.weighted_laplacian_spectrum(lambda x: np.ones_like(x), (0.0, 1.0), num_modes=3, num_elements=400)
    np.testing.assert_allclose(spec.xi, (np.pi * np.arange(1, 4)) ** 2, rtol=1e-8)


def test_2d_anisotropic_gaussian():
    # N(0, diag(1, 4)): xi = k/1 + l/4 for k, l >= 0 not both 0: 0.25, 0.5, 0.75, 1, 1.
    rho = lambda x, y: np.exp(-(x**2) / 2 - y**2 / 8)  # noqa: E731
    spec = lgan.weighted_laplacian_spectrum_2d(rho, ((-9, 9), (-18, 18)), num_modes=5, num_cells=160)
    np.testing.assert_allclose(spec.xi, [0.25, 0.5, 0.75, 1.0, 1.0], rtol=5e-3)
    assert spec.nodes.shape == (161 * 161, 2)


def test_2d_converges_at_second_order():
    # N(0, I): xi = 1, 1, 2, 2, 2. Bilinear elements hold x, y and xy exactly, so the modes that
    # converge are x^2 - 1 and y^2 - 1 (from above): the fifth eigenvalue.
    rho = lambda x, y: np.exp(-(x**2 + y**2) / 2)  # noqa: E731
    counts = np.array([40, 80, 160])
    errors = [abs(lgan.weighted_laplacian_spectrum_2d(rho, ((-8, 8), (-8, 8)), num_modes=5, num_cells=int(n)).xi[4] - 2) for n in counts]
    slope = -np.polyfit(np.log(counts), np.log(errors), 1)[0]
    assert abs(slope - 2.0) < 0.25, (slope, errors)


def test_bad_density():
    with pytest.raises(ValueError, match=r"density must be positive on the domain, got 0.0 at \(0"):
        lgan.weighted_laplacian_spectrum(lambda x: np.maximum(x, 0.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="density must be positive on the domain, got -"):
        lgan.weighted_laplacian_spectrum(lambda x: x, (-1.0, 1.0))
    with pytest.raises(ValueError, match="density must be finite on the domain, got inf"):
        lgan.weighted_laplacian_spectrum(lambda x: np.full_like(x, np.inf), (-1.0, 1.0))
    with pytest.raises(ValueError, match="density must be normalisable on the domain: its integral must be finite and > 0, got inf"):
        lgan.weighted_laplacian_spectrum(lambda x: np.full_like(x, 1e308), (-10.0, 10.0))
    with pytest.raises(ValueError, match="density must return one value per point"):
        lgan.weighted_laplacian_spectrum(lambda x: 1.0, (-1.0, 1.0))


def test_bad_grid_and_domain():
    g = lgan.gaussian_mixture([0.0], [1.0])
    with pytest.raises(ValueError, match="num_elements must be an integer >= 8, got 3"):
        lgan.weighted_laplacian_spectrum(g, (-5, 5), num_elements=3)
    with pytest.raises(ValueError, match=r"domain must be a pair \(a, b\) of finite numbers with a < b, got \(5, -5\)"):
        lgan.weighted_laplacian_spectrum(g, (5, -5))
    with pytest.raises(ValueError, match="degree must be 1 or 2, got 3"):
        lgan.weighted_laplacian_spectrum(g, (-5, 5), degree=3)
    with pytest.raises(ValueError, match="num_modes must be an integer >= 1, got 0"):
        lgan.weighted_laplacian_spectrum(g, (-5, 5), num_modes=0)
    with pytest.raises(ValueError, match="num_cells must be an integer >= 8, got 4"):
        lgan.weighted_laplacian_spectrum_2d(lambda x, y: np.ones_like(x), ((0, 1), (0, 1)), num_cells=4)


def test_bad_mixture():
    with pytest.raises(ValueError, match="stds must be > 0, got 0.0"):
        lgan.gaussian_mixture([0.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="weights must be >= 0 and not all zero"):
        lgan.gaussian_mixture([0.0, 1.0], 1.0, [0.0, 0.0])
    with pytest.raises(ValueError, match="separation must be finite, got nan"):
        lgan.two_gaussian_mixture(float("nan"))


@pytest.mark.parametrize("how", ["key", "seed"])
def test_mixture_samples_have_the_mixture_moments(how):
    # 1/4 N(-1, 0.5^2) + 3/4 N(2, 1): mean 5/4, variance E[s^2 + m^2] - mean^2 = 0.8125 + 3.25 - 1.5625 = 2.5.
    g = lgan.gaussian_mixture([-1.0, 2.0], [0.5, 1.0], [1.0, 3.0])
    kwargs = {"key": jax.random.key(3)} if how == "key" else {"seed": 3}
    x = g.sample(200_000, **kwargs)
    assert x.shape == (200_000,)
    # Standard errors: sqrt(2.5 / 2e5) = 0.0035 for the mean, about 0.01 for the variance; 5 of each.
    assert abs(x.mean() - 1.25) < 0.018 and abs(x.var() - 2.5) < 0.05
    np.testing.assert_array_equal(g.sample(10, **kwargs), g.sample(10, **kwargs))


def test_mixture_sample_errors():
    g = lgan.gaussian_mixture([0.0], [1.0])
    with pytest.raises(ValueError, match="give exactly one of key"):
        g.sample(5)
    with pytest.raises(ValueError, match="give exactly one of key"):
        g.sample(5, key=jax.random.key(0), seed=0)
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        g.sample(0, seed=0)


def test_gaussian_mixture_with_huge_weights():
    mix = lgan.gaussian_mixture([0.0, 1.0], [1.0, 1.0], [1e308, 1e308])  # their sum overflows float64
    np.testing.assert_allclose(mix.weights, [0.5, 0.5])
    mix = lgan.gaussian_mixture([0.0, 1.0], 1.0, [1e308, 5e307])
    np.testing.assert_allclose(mix.weights, [2 / 3, 1 / 3])


@pytest.mark.parametrize(
    "args, match",
    [
        (([0.0, 1j], 1.0), "means must be real, got complex value"),
        (([0.0], "1"), "stds must be a real number or array, got str '1'"),
        (([0.0, 1.0], [1.0, 1.0, 1.0]), r"stds must be a scalar or have the length of means \(2\), got shape \(3,\)"),
        (([0.0], 1.0, ["a"]), "weights must be a real number or array"),
    ],
)
def test_gaussian_mixture_names_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        lgan.gaussian_mixture(*args)
