import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

import lgan

GAUSS = lgan.gaussian_mixture([0.0], [1.0])


def _match(computed, expected):
    """Largest distance from each computed eigenvalue to the nearest expected one."""
    return max(np.min(np.abs(expected - lam)) / (1 + abs(lam)) for lam in computed)


@pytest.mark.parametrize("alpha, beta, gamma", [(1.0, 1.0, 0.0), (0.0, 1.0, 0.0), (0.5, -2.0, 0.7)])
def test_discrete_operator_keeps_theorem2_structure(alpha, beta, gamma):
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=alpha, beta=beta, gamma=gamma, num_elements=120)
    xi_h = pde.laplacian_eigenvalues()
    assert xi_h[0] == pytest.approx(0.0, abs=1e-9)
    # Every eigenvalue of L is a root of eq. 22 at a discrete xi_h, plus -alpha for the mean of u.
    expected = np.concatenate([np.asarray(lgan.lgan_eigenvalues(xi_h[1:], alpha, beta, gamma)).ravel(), [-alpha]])
    lam = pde.eigenvalues()
    assert lam.size == 2 * 121 - 1
    assert _match(lam, expected) < 1e-8
    assert _match(expected, lam) < 1e-8


def test_lowest_modes_match_the_continuous_spectrum():
    # For N(0, 1), xi_k = k; the lowest lGAN eigenvalues converge to the roots at xi = 1, 2, 3 as h -> 0.
    alpha, beta = 1.0, 1.0
    exact = np.asarray(lgan.lgan_eigenvalues(np.array([1.0, 2.0, 3.0]), alpha, beta)).ravel()
    errors = []
    for n in (80, 160, 320):
        pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=alpha, beta=beta, num_elements=n)
        lam = pde.eigenvalues()
        errors.append(max(np.min(np.abs(lam - e)) for e in exact))
    assert errors[-1] < 2e-3
    assert errors[0] / errors[-1] == pytest.approx(16.0, rel=0.1)  # second order in h


@pytest.mark.parametrize(
    "alpha, beta, gamma, t_start",
    [(3.0, 1.0, 0.0, 8.0), (1.0, 1.0, 0.0, 4.0), (0.5, 1.0, 1.0, 4.0)],
)
def test_measured_decay_matches_eta(alpha, beta, gamma, t_start):
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=alpha, beta=beta, gamma=gamma, num_elements=100)
    x = np.asarray(pde.nodes)
    u0 = np.exp(-((x - 1.0) ** 2))
    u0 = u0 - np.sum(pde.element_mass * 0.5 * (u0[1:] + u0[:-1])) / float(pde.total_mass)  # zero mu-mean (approx.)
    sol = lgan.solve_lgan_pde(pde, jnp.asarray(u0), jnp.zeros(x.size - 1), t1=25.0, num_saves=501)
    xi_h = pde.laplacian_eigenvalues()[1:]
    eta = lgan.spectral_abscissa(xi_h, alpha, beta, gamma)
    measured = lgan.fitted_decay_rate(sol.ts, sol.u_norm, t_start=t_start)
    assert measured == pytest.approx(eta, rel=0.02)


def test_wgan_conserves_energy():
    # alpha = gamma = 0: L is skew-adjoint in the mu inner product, so ||u||^2 + ||v||^2 is constant.
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=0.0, beta=1.0, num_elements=100)
    x = np.asarray(pde.nodes)
    sol = lgan.solve_lgan_pde(pde, jnp.asarray(np.sin(x) * np.exp(-(x**2) / 8)), jnp.zeros(x.size - 1), t1=10.0)
    energy = np.asarray(sol.u_norm**2 + sol.v_norm**2)
    np.testing.assert_allclose(energy, energy[0], rtol=1e-6)


def test_fitted_decay_rate_on_known_signals():
    t = np.linspace(0, 20, 2001)
    assert lgan.fitted_decay_rate(t, np.exp(-0.3 * t)) == pytest.approx(-0.3, rel=1e-9)
    # an oscillating mode: the envelope decays at the real part
    assert lgan.fitted_decay_rate(t, np.exp(-0.2 * t) * np.abs(np.cos(2 * t)) + 1e-300, t_start=1.0) == pytest.approx(-0.2, rel=1e-3)


def test_bad_input():
    with pytest.raises(ValueError, match="gamma must be >= 0, got -1.0"):
        lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=1.0, beta=1.0, gamma=-1.0)
    with pytest.raises(ValueError, match="beta must be non-zero"):
        lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=1.0, beta=0.0)
    with pytest.raises(ValueError, match="num_elements must be an integer >= 4, got 2"):
        lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=1.0, beta=1.0, num_elements=2)
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=1.0, beta=1.0, num_elements=10)
    with pytest.raises(ValueError, match=r"u0 must have shape \(11,\) \(one value per node\), got \(10,\)"):
        lgan.solve_lgan_pde(pde, jnp.zeros(10), jnp.zeros(10), t1=1.0)
    with pytest.raises(ValueError, match="t1 must be > 0, got 0.0"):
        lgan.solve_lgan_pde(pde, jnp.zeros(11), jnp.zeros(10), t1=0.0)
    with pytest.raises(ValueError, match="solver must be one of 'tsit5', 'dopri5', 'kvaerno5'; got 'euler'"):
        lgan.solve_lgan_pde(pde, jnp.zeros(11), jnp.zeros(10), t1=1.0, solver="euler")
    with pytest.raises(ValueError, match="u0 must be finite, got nan"):
        lgan.solve_lgan_pde(pde, jnp.full(11, jnp.nan), jnp.zeros(10), t1=1.0)


def test_solve_lgan_pde_out_of_steps_is_one_line():
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=1.0, beta=1.0, num_elements=20)
    u0 = jnp.asarray(pde.nodes * np.exp(-pde.nodes**2))
    v0 = jnp.zeros(pde.num_nodes - 1)
    with pytest.raises(RuntimeError, match=r"^the PDE solver used all max_steps=1 steps before t = 5; raise max_steps") as err:
        lgan.solve_lgan_pde(pde, u0, v0, t1=5.0, max_steps=1)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1, got 0"):
        lgan.solve_lgan_pde(pde, u0, v0, t1=5.0, max_steps=0)


# ----------------------------------------------------------------------------- initial state and long runs

MIX = lgan.two_gaussian_mixture(3.0)


def _mu_integral(density, nodes, u):
    """int rho u_h over the mesh, u_h the piecewise-linear interpolant, by adaptive quadrature per element."""
    interpolant = lambda x: np.interp(x, nodes, u)  # noqa: E731
    return sum(
        scipy.integrate.quad(lambda x: density(np.atleast_1d(x))[0] * interpolant(x), a, b, epsabs=0, epsrel=1e-12)[0]
        for a, b in zip(nodes[:-1], nodes[1:])
    )


def test_mean_zero_initial_state_has_zero_mu_mean():
    pde = lgan.lgan_pde_1d(MIX, MIX.domain(width=8.0), alpha=1.0, beta=1.0, num_elements=60)
    nodes = np.asarray(pde.nodes)
    u0, v0 = lgan.mean_zero_initial_state(pde, lambda x: np.tanh(x - 1.0))
    # Independent quadrature (scipy's adaptive rule, not the package's Gauss rule): the mu-mean of
    # u0 is zero to the accuracy of the assembly's quadrature, 1e-9 of int rho |u0|.
    scale = _mu_integral(MIX, nodes, np.abs(np.asarray(u0)))
    assert abs(_mu_integral(MIX, nodes, np.asarray(u0))) <= 1e-9 * scale
    # Only a constant was removed, and v0 is zero by default.
    shift = np.tanh(nodes - 1.0) - np.asarray(u0)
    np.testing.assert_allclose(shift, shift[0], rtol=0, atol=1e-14)
    assert abs(shift[0]) > 0.1
    np.testing.assert_array_equal(np.asarray(v0), np.zeros(nodes.size - 1))
    # Values at the nodes give the same state as the function; v is passed through.
    v = np.linspace(-1.0, 1.0, nodes.size - 1)
    u1, v1 = lgan.mean_zero_initial_state(pde, np.tanh(nodes - 1.0), v)
    np.testing.assert_array_equal(np.asarray(u1), np.asarray(u0))
    np.testing.assert_array_equal(np.asarray(v1), v)


def test_mean_zero_initial_state_bad_input():
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=1.0, beta=1.0, num_elements=10)
    with pytest.raises(ValueError, match=r"u must have shape \(11,\) \(one value per node\), got shape \(10,\)"):
        lgan.mean_zero_initial_state(pde, np.zeros(10))
    with pytest.raises(ValueError, match=r"u must have shape \(11,\) \(one value per node\), got shape \(\)"):
        lgan.mean_zero_initial_state(pde, lambda x: 1.0)
    with pytest.raises(ValueError, match=r"v must have shape \(10,\) \(one value per element\), got shape \(11,\)"):
        lgan.mean_zero_initial_state(pde, np.zeros(11), np.zeros(11))
    with pytest.raises(ValueError, match=r"u must be finite, got nan at index \(0,\)"), np.errstate(invalid="ignore"):
        lgan.mean_zero_initial_state(pde, np.sqrt)
    with pytest.raises(ValueError, match="v must be finite, got inf"):
        lgan.mean_zero_initial_state(pde, np.zeros(11), np.full(10, np.inf))
    with pytest.raises(TypeError, match="u must be a real number or array, got str"):
        lgan.mean_zero_initial_state(pde, "tanh")
    with pytest.raises(ValueError, match="pde must be a LinearizedGANPDE1D"):
        lgan.mean_zero_initial_state(GAUSS, np.zeros(11))


def test_decay_curve_follows_an_eigenmode_far_below_the_solver_tolerance():
    # alpha = 3, beta = 1 on N(0, 1): every eigenvalue of L is real. From an eigenvector the
    # solution is exactly e^{lambda t} w0; over t = 200 the norm falls to about 1e-33, far below
    # the solver's absolute tolerance 1e-10, which the windows' renormalisation keeps irrelevant.
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=3.0, beta=1.0, num_elements=80)
    lam, vecs = np.linalg.eig(np.asarray(pde.operator))
    slow = np.argmax(np.where(np.abs(lam + 3.0) > 1e-6, lam.real, -np.inf))  # the slowest mode but the mean's
    assert abs(lam[slow].imag) == 0.0
    w0 = vecs[:, slow].real
    u0, v0 = pde.split(jnp.asarray(w0))
    curve = lgan.decay_curve(pde, u0, v0, t1=200.0, windows=5, num_saves=101)
    assert curve.ts.shape == curve.u_norm.shape == (500,)
    np.testing.assert_allclose(curve.ts, np.arange(500) * 0.4, rtol=1e-14, atol=1e-13)
    exact = float(pde.mu_norm_u(u0)) * np.exp(lam[slow].real * curve.ts)
    assert exact[-1] < 1e-30
    np.testing.assert_allclose(curve.u_norm, exact, rtol=1e-6)


def test_decay_curve_rate_is_the_slowest_eigenvalue():
    # A generic mean-zero state on N(0, 1) with (alpha, beta) = (3, 1): the fitted rate over the
    # second half is the slowest lGAN root at the discrete xi_1 (Theorem 4), to 1e-3.
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=3.0, beta=1.0, num_elements=80)
    u0, v0 = lgan.mean_zero_initial_state(pde, lambda x: np.tanh(x - 0.5) + 0.3 * np.cos(2 * x))
    curve = lgan.decay_curve(pde, u0, v0, t1=100.0, windows=4)
    eta = lgan.spectral_abscissa(pde.laplacian_eigenvalues()[1:], 3.0, 1.0)
    assert eta == pytest.approx(-(3 - np.sqrt(5)) / 2, rel=1e-3)  # xi_1 = 1 for N(0, 1)
    assert lgan.fitted_decay_rate(*curve, t_start=50.0) == pytest.approx(eta, rel=1e-3)
    # One window or four: the same curve (L is linear), to the solver's tolerance.
    short = [lgan.decay_curve(pde, u0, v0, t1=10.0, windows=w, num_saves=s) for w, s in ((1, 401), (4, 101))]
    np.testing.assert_allclose(short[0].ts, short[1].ts, rtol=1e-14)
    np.testing.assert_allclose(short[0].u_norm, short[1].u_norm, rtol=1e-6)


def test_decay_curve_bad_input():
    pde = lgan.lgan_pde_1d(GAUSS, (-8, 8), alpha=1.0, beta=1.0, num_elements=10)
    zero_u, zero_v = jnp.zeros(11), jnp.zeros(10)
    with pytest.raises(ValueError, match=r"\|\|u\|\|_mu is 0.0 at t = 1: nothing left to renormalise"):
        lgan.decay_curve(pde, zero_u, zero_v, t1=2.0, windows=2)
    with pytest.raises(ValueError, match="windows must be an integer >= 1, got 0"):
        lgan.decay_curve(pde, zero_u, zero_v, t1=2.0, windows=0)
    with pytest.raises(ValueError, match="t1 must be finite, got nan"):
        lgan.decay_curve(pde, zero_u, zero_v, t1=np.nan)
    with pytest.raises(ValueError, match="num_saves must be an integer >= 2, got 1"):
        lgan.decay_curve(pde, zero_u, zero_v, t1=1.0, num_saves=1)
