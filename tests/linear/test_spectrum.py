import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan


def _brute_roots(xi, alpha, beta, gamma):
    return np.roots([1.0, alpha + gamma * xi, beta**2 * xi])


@pytest.mark.parametrize("alpha, beta, gamma", [(0.0, 1.0, 0.0), (1.0, 1.0, 0.0), (3.0, 1.0, 0.0), (0.5, -2.0, 1.5)])
def test_eigenvalues_are_roots_of_eq22(alpha, beta, gamma):
    xi = np.array([0.1, 1.0, 2.0, 7.5, 100.0])
    lam = np.asarray(lgan.lgan_eigenvalues(xi, alpha, beta, gamma))
    assert lam.shape == (5, 2)
    for i, x in enumerate(xi):
        brute = _brute_roots(x, alpha, beta, gamma)
        for root in lam[i]:  # the same two roots, in whichever order
            assert np.min(np.abs(brute - root)) <= 1e-10 * np.abs(root) + 1e-12
        # residual of the quadratic
        res = lam[i] ** 2 + (alpha + gamma * x) * lam[i] + beta**2 * x
        assert np.max(np.abs(res)) < 1e-9 * (1 + beta**2 * x)
    assert np.all(lam[:, 0].real >= lam[:, 1].real - 1e-12)


def test_eigenvalues_broadcast_and_jit():
    xi = jnp.linspace(0.1, 5, 11)
    gammas = jnp.array([0.0, 1.0, 2.0])[:, None]
    lam = lgan.lgan_eigenvalues(xi, 1.0, 1.0, gammas)
    assert lam.shape == (3, 11, 2)
    jitted = jax.jit(lambda g: lgan.lgan_eigenvalues(xi, 1.0, 1.0, g))
    np.testing.assert_allclose(jitted(1.0), lam[1], rtol=1e-12)


def test_slow_root_has_no_cancellation():
    # With gamma > 0 the slow root tends to -beta^2/gamma; the naive formula loses all digits.
    lam = lgan.lgan_eigenvalues(1e12, 0.0, 1.0, 2.0)[0]
    assert float(lam.real) == pytest.approx(-0.5, rel=1e-9)


def test_wgan_is_purely_oscillatory():
    lam = np.asarray(lgan.lgan_eigenvalues(np.array([0.5, 1.0, 4.0]), 0.0, 1.0))
    np.testing.assert_allclose(lam.real, 0.0, atol=1e-15)
    np.testing.assert_allclose(lam[:, 0].imag, np.sqrt([0.5, 1.0, 4.0]), rtol=1e-12)


@pytest.mark.parametrize("alpha, beta, xi_min", [(1.0, 1.0, 1.0), (3.0, 1.0, 1.0), (0.25, 0.5, 0.12)])
def test_slowest_rate_theorem4(alpha, beta, xi_min):
    eta = (-alpha + np.sqrt(complex(alpha**2 - 4 * beta**2 * xi_min))).real / 2
    assert lgan.slowest_rate(xi_min, alpha, beta) == pytest.approx(eta, abs=1e-12)


@pytest.mark.parametrize("alpha, beta, gamma, xi_min", [(0.0, 1.0, 4.0, 0.25), (0.5, 1.0, 1.0, 1.0), (2.0, 1.0, 3.0, 0.1), (0.1, 2.0, 0.3, 0.5)])
def test_slowest_rate_is_sup_over_the_half_line(alpha, beta, gamma, xi_min):
    xs = np.concatenate([np.geomspace(xi_min, 1e9, 200_001)])
    dense = float(np.max(np.real(lgan.lgan_eigenvalues(xs, alpha, beta, gamma)[:, 0])))
    eta = lgan.slowest_rate(xi_min, alpha, beta, gamma)
    assert eta >= dense - 1e-9  # a supremum: not below any sampled value
    assert eta == pytest.approx(dense, abs=1e-6)


def test_optimal_parameters_eq25():
    beta, xi_min = 1.0, 0.25
    low = lgan.optimal_parameters(beta, xi_min)
    assert (low.alpha, low.gamma) == pytest.approx((0.5, 2.0), abs=1e-14)
    assert low.rate_at_xi_min == pytest.approx(-0.5, abs=1e-12)  # -|beta| sqrt(xi_min)
    assert low.rate == pytest.approx(-0.5, abs=1e-12)  # every mode at the optimal rate
    high = lgan.optimal_parameters(beta, xi_min, gamma=4.0)
    assert high.alpha == pytest.approx(0.0, abs=1e-14)
    assert high.rate_at_xi_min == pytest.approx(-0.5, abs=1e-9)
    assert high.rate == pytest.approx(-0.25, abs=1e-12)  # -|beta| sqrt(xi_min) / c with c = 2
    # the xi_min mode is critically damped: a double real root
    lam = np.asarray(lgan.lgan_eigenvalues(xi_min, high.alpha, beta, high.gamma))
    np.testing.assert_allclose(lam, [-0.5, -0.5], atol=1e-7)


def test_optimal_parameters_errors():
    with pytest.raises(ValueError, match=r"gamma must lie in \[.*1, 2\] \(eq. 25\), got 3.0"):
        lgan.optimal_parameters(1.0, 1.0, gamma=3.0)
    with pytest.raises(ValueError, match="xi_min must be > 0, got 0.0"):
        lgan.optimal_parameters(1.0, 0.0)
    with pytest.raises(ValueError, match="beta must be non-zero"):
        lgan.optimal_parameters(0.0, 1.0)


def test_euler_growth_factor_eq29():
    alpha, beta, tau = 0.5, 1.0, 0.1
    xi = np.array([1.0, 10.0, 1000.0])
    lam = np.asarray(lgan.lgan_eigenvalues(xi, alpha, beta))[:, 0]
    g = np.asarray(lgan.euler_growth_factor(lam, tau))
    # eq. 29 with the 1/4 of (Im lambda)^2 = (4 beta^2 xi - alpha^2)/4
    np.testing.assert_allclose(g**2, (1 - tau * alpha / 2) ** 2 + tau**2 * (4 * beta**2 * xi - alpha**2) / 4, rtol=1e-12)
    assert g[-1] > 1 > g[0]  # a large enough mode always grows: absolute instability


def test_stability_functions():
    z = np.array([-1.0, 0.5j, -0.3 + 0.2j])
    np.testing.assert_allclose(lgan.stability_function("euler", z), 1 + z)
    np.testing.assert_allclose(lgan.stability_function("heun", z), 1 + z + z**2 / 2)
    np.testing.assert_allclose(lgan.stability_function("rk4", z), 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24)


def test_largest_stable_step_closed_forms():
    # Euler: |1 + tau lambda| <= 1  <=>  tau <= -2 Re(lambda) / |lambda|^2.
    for lam in [-1.0, -1 + 1j, -0.1 + 3j]:
        assert lgan.largest_stable_step("euler", [lam]) == pytest.approx(-2 * np.real(lam) / abs(lam) ** 2, rel=1e-9)
    # Real axis: Heun 2, RK4 2.785293563405282...; imaginary axis: RK4 2 sqrt(2), Euler and Heun 0.
    assert lgan.largest_stable_step("heun", [-2.0]) == pytest.approx(1.0, rel=1e-9)
    assert lgan.largest_stable_step("rk4", [-1.0]) == pytest.approx(2.785293563405282, rel=1e-9)
    assert lgan.largest_stable_step("rk4", [2j]) == pytest.approx(math.sqrt(2), rel=1e-9)
    assert lgan.largest_stable_step("euler", [1j]) == 0.0
    assert lgan.largest_stable_step("heun", [1j]) == 0.0
    assert lgan.largest_stable_step("rk4", [0.1 + 1j]) == 0.0
    # The spectrum's bound is the worst mode, and lambda = 0 constrains nothing.
    assert lgan.largest_stable_step("euler", [0.0, -1.0, -4.0]) == pytest.approx(0.5, rel=1e-9)
    assert lgan.largest_stable_step("rk4", [0.0]) == math.inf


@pytest.mark.parametrize("solver", lgan.SOLVER_NAMES)
def test_largest_stable_step_is_the_boundary(solver):
    rng = np.random.default_rng(0)
    lam = -rng.uniform(0.1, 2, 20) + 1j * rng.uniform(-5, 5, 20)
    tau = lgan.largest_stable_step(solver=solver, eigenvalues=lam)
    inside = np.abs(lgan.stability_function(solver, np.outer(np.linspace(1e-3, 1, 200) * tau, lam)))
    assert np.all(inside <= 1 + 1e-9)
    outside = np.abs(lgan.stability_function(solver=solver, z=1.001 * tau * lam))
    assert np.max(outside) > 1


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"xi must be >= 0, got -1.0 at index \(1,\)"):
        lgan.lgan_eigenvalues(np.array([1.0, -1.0]), 1.0, 1.0)
    with pytest.raises(ValueError, match="xi must be finite, got nan"):
        lgan.lgan_eigenvalues(np.nan, 1.0, 1.0)
    with pytest.raises(ValueError, match="gamma must be >= 0, got -0.5"):
        lgan.lgan_eigenvalues(1.0, 1.0, 1.0, -0.5)
    with pytest.raises(ValueError, match="alpha must be >= 0, got -1"):
        lgan.slowest_rate(1.0, -1, 1.0)
    with pytest.raises(ValueError, match="step must be > 0, got 0.0"):
        lgan.euler_growth_factor([1j], 0.0)
    with pytest.raises(ValueError, match=r"solver must be one of 'euler', 'heun', 'rk4'; got 'rk45'"):
        lgan.largest_stable_step("rk45", [-1.0])
    with pytest.raises(ValueError, match=r"solver must be one of 'euler', 'heun', 'rk4'; got 'simultaneous'"):
        lgan.stability_function("simultaneous", 0.5)
    with pytest.raises(ValueError, match="eigenvalues must be finite"):
        lgan.largest_stable_step("rk4", [np.inf])
    with pytest.raises(ValueError, match="xi must be a non-empty 1-D array"):
        lgan.spectral_abscissa([], 1.0, 1.0)


@pytest.mark.parametrize("solver", lgan.SOLVER_NAMES)
def test_step_matrix_eigenvalues_are_stability_function(solver):
    rng = np.random.default_rng(1)
    L = rng.normal(size=(6, 6))
    tau = 0.1
    P = np.asarray(lgan.step_matrix(solver=solver, operator=L, step=tau))
    lam = np.linalg.eigvals(L)
    expected = np.asarray(lgan.stability_function(solver, tau * lam))
    got = np.linalg.eigvals(P)
    for e in expected:
        assert np.min(np.abs(got - e)) < 1e-10


def test_step_matrix_rk4_matches_explicit_stages():
    L = np.array([[0.0, 1.0], [-4.0, -0.3]])
    y, tau = np.array([1.0, 0.5]), 0.05
    k1 = L @ y
    k2 = L @ (y + tau / 2 * k1)
    k3 = L @ (y + tau / 2 * k2)
    k4 = L @ (y + tau * k3)
    np.testing.assert_allclose(np.asarray(lgan.step_matrix("rk4", L, tau)) @ y, y + tau / 6 * (k1 + 2 * k2 + 2 * k3 + k4), rtol=1e-13)
    with pytest.raises(ValueError, match=r"operator must be a square matrix, got shape \(2, 3\)"):
        lgan.step_matrix("rk4", np.zeros((2, 3)), 0.1)


def _alternating_by_hand(L, tau, split, w, num_steps):
    """Iterate the alternating Euler update coordinate block by coordinate block."""
    for _ in range(num_steps):
        x, y = w[:split], w[split:]
        x = x + tau * (L[:split, :split] @ x + L[:split, split:] @ y)  # the first player, with the old y
        y = y + tau * (L[split:, :split] @ x + L[split:, split:] @ y)  # then the second, with the new x
        w = np.concatenate([x, y])
    return w


@pytest.mark.parametrize("size, split", [(2, None), (2, 1), (5, 3), (6, None), (7, 1)])
def test_alternating_step_matrix_is_the_alternating_update(size, split):
    rng = np.random.default_rng(size)
    L = rng.normal(size=(size, size))
    w0, tau, n = rng.normal(size=size), 0.07, 25
    R = np.asarray(lgan.step_matrix("euler", L, tau, alternating=True, split=split))
    expected = _alternating_by_hand(L, tau, size // 2 if split is None else split, w0, n)
    np.testing.assert_allclose(np.linalg.matrix_power(R, n) @ w0, expected, rtol=1e-11, atol=1e-12)


def test_alternating_dirac_gan_closed_form():
    # Dirac GAN with penalty gamma, J = [[-gamma, -1], [1, 0]]: det R = 1 - tau gamma, and for a
    # complex pair the spectral radius is sqrt(1 - tau gamma) (simultaneous: sqrt(1 - tau gamma + tau^2)).
    gamma, tau = 0.5, 0.6
    J = np.array([[-gamma, -1.0], [1.0, 0.0]])
    R = np.asarray(lgan.step_matrix("euler", J, tau, alternating=True))
    np.testing.assert_allclose(R, [[1 - tau * gamma, -tau], [tau * (1 - tau * gamma), 1 - tau**2]], rtol=1e-15)
    assert np.max(np.abs(np.linalg.eigvals(R))) == pytest.approx(math.sqrt(1 - tau * gamma), rel=1e-12)
    simultaneous = np.asarray(lgan.step_matrix("euler", J, tau, alternating=False))
    assert np.max(np.abs(np.linalg.eigvals(simultaneous))) == pytest.approx(math.sqrt(1 - tau * gamma + tau**2), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(solver="heun", alternating=True), r"alternating=True needs solver='euler' .*got 'heun'"),
        (dict(solver="euler", alternating="yes"), "alternating must be True or False, got 'yes'"),
        (dict(solver="euler", alternating=True, split=2), r"split must be an integer < 2 \(the size of the operator\), got 2"),
        (dict(solver="euler", alternating=True, split=0), "split must be an integer >= 1, got 0"),
        (dict(solver="euler", alternating=True, split=1.5), "split must be an integer >= 1, got 1.5"),
        (dict(solver="euler", split=1), "split is only used with alternating=True, got split=1"),
        (dict(solver="simultaneous"), "solver must be one of 'euler', 'heun', 'rk4'; got 'simultaneous'"),
    ],
)
def test_step_matrix_bad_update_order(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lgan.step_matrix(operator=[[-1.0, 1.0], [-1.0, 0.0]], step=0.1, **kwargs)
    with pytest.raises(ValueError, match="split must be given for an operator of odd size 3"):
        lgan.step_matrix("euler", np.eye(3), 0.1, alternating=True)


# ----------------------------------------------------------------------------- no silent wrong answer


@pytest.mark.parametrize("solver, unit_step", [("euler", 2.0), ("rk4", 2.785293563405282)])
@pytest.mark.parametrize("size", [1e-300, 1e-20, 1e20, 1e300])
def test_largest_stable_step_scales_as_one_over_the_eigenvalue(solver, unit_step, size):
    # It used to answer inf ("any step is stable") for tiny eigenvalues and raise for huge ones.
    assert lgan.largest_stable_step(solver, [-size]) == pytest.approx(unit_step / size, rel=1e-9)
    lam = size * np.exp(1j * np.array([0.6, 0.8]) * np.pi)
    assert lgan.largest_stable_step(solver, lam) == pytest.approx(lgan.largest_stable_step(solver, lam / size) / size, rel=1e-9)


def test_largest_stable_step_errors():
    with pytest.raises(ValueError, match=r"eigenvalues: the largest stable step for lambda = .* overflows float64"):
        lgan.largest_stable_step("euler", [-1e-320])
    with pytest.raises(TypeError, match="eigenvalues must be an array of \\(complex\\) numbers, got 'abc'"):
        lgan.largest_stable_step("euler", "abc")
    with pytest.raises(ValueError, match=r"eigenvalues must be finite, got \(nan\+0j\) at index \(1,\)"):
        lgan.largest_stable_step("euler", [-1.0, np.nan])
    # Subnormal and huge eigenvalues together: no overflow warning while grouping equal ones.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lgan.largest_stable_step("euler", [-1e308 - 1e308j, -1e308 - 1e308j, -1.0]) == pytest.approx(1e-308, rel=1e-9)
        # A subnormal eigenvalue's own step overflows, but the spectrum's step is the other one's.
        assert lgan.largest_stable_step("rk4", [5e-324j, -1.0]) == pytest.approx(2.785293563405282, rel=1e-9)
        with pytest.raises(ValueError, match=r"lambda = 5e-324j is about 1 / abs\(lambda\), which overflows float64"):
            lgan.largest_stable_step("rk4", [5e-324j, 0.0])


def test_lgan_eigenvalues_do_not_overflow_float32(float32):
    lam = np.asarray(lgan.lgan_eigenvalues(1.0, 1e20, 1.0))  # (1e20)^2 overflows float32
    np.testing.assert_allclose(lam.real, [-1e-20, -1e20], rtol=1e-6)
    lam = np.asarray(lgan.lgan_eigenvalues(1e-30, 1e-20, 1.0))  # a^2 and 4c underflow
    np.testing.assert_allclose(np.sort_complex(lam), np.sort_complex(np.roots([1.0, 1e-20, 1e-30])), rtol=1e-5)
    with pytest.raises(ValueError, match=r"alpha must be finite in float32 .*got 1e\+39"):
        lgan.lgan_eigenvalues(1.0, 1e39, 1.0)
    with pytest.raises(ValueError, match=r"lgan_eigenvalues\(xi=1e\+30, alpha=0, beta=1e\+30, gamma=0\): the result overflows float32"):
        lgan.lgan_eigenvalues(1e30, 0.0, 1e30)  # abs(lambda) = beta sqrt(xi) = 1e45


@pytest.mark.parametrize("xi_min", [1e-40, 1e40])
def test_optimal_parameters_at_extreme_xi_min(float32, xi_min):
    opt = lgan.optimal_parameters(1.0, xi_min)
    assert opt.rate_at_xi_min == pytest.approx(-math.sqrt(xi_min), rel=1e-5)
    assert opt.rate == pytest.approx(-math.sqrt(xi_min), rel=1e-5)
    assert opt.gamma == pytest.approx(1 / math.sqrt(xi_min), rel=1e-12)


def test_optimal_parameters_out_of_range_name_beta_and_xi_min(float32):
    with pytest.raises(ValueError, match=r"beta=1.0 and xi_min=5e-324 are out of range: abs\(beta\) sqrt\(xi_min\) = .* float32"):
        lgan.optimal_parameters(1, 5e-324)  # was an OverflowError
    with pytest.raises(ValueError, match=r"beta=1e\+308 and xi_min=0.5 are out of range"):
        lgan.optimal_parameters(1e308, 0.5)  # used to blame alpha, which is not an argument


def test_optimal_parameters_in_float64_range():
    opt = lgan.optimal_parameters(1, 5e-324)  # representable in float64: the right answer
    assert opt.rate_at_xi_min == pytest.approx(-math.sqrt(5e-324), rel=1e-6)
    with pytest.raises(ValueError, match=r"beta=1e\+308 and xi_min=0.5 are out of range: 2 abs\(beta\) / sqrt\(xi_min\)"):
        lgan.optimal_parameters(1e308, 0.5)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: lgan.lgan_eigenvalues(1 + 1j, 1.0, 1.0), TypeError, r"xi must be real, got complex value \(1\+1j\)"),
        (lambda: lgan.spectral_abscissa([1 + 1j], 1.0, 1.0), TypeError, "xi must be real, got complex value"),
        (lambda: lgan.lgan_eigenvalues("1", 1.0, 1.0), TypeError, "xi must be a real number or array, got str '1'"),
        (lambda: lgan.slowest_rate(1.0, "a", 1.0), TypeError, "alpha must be a real number or array, got str 'a'"),
        (lambda: lgan.step_matrix("euler", [[np.nan]], 0.1), ValueError, r"operator must be finite, got nan at index \(0, 0\)"),
        (lambda: lgan.step_matrix("euler", [[1.0]], np.nan), ValueError, "step must be finite, got nan"),
        (lambda: lgan.step_matrix("euler", [[1j]], 0.1), TypeError, "operator must be real"),
    ],
)
def test_strings_complex_and_nan_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_step_matrix_overflow_is_an_error(float32):
    with pytest.raises(ValueError, match=r"step_matrix\('rk4', operator, step=1\): the result overflows float32"):
        lgan.step_matrix("rk4", [[1e20]], 1.0)
