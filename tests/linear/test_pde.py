import jax.numpy as jnp
import numpy as np
import pytest

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
