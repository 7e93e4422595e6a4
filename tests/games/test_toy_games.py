import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import lgan


def _same_roots(a, b, tol=1e-12):
    a, b = np.sort_complex(np.asarray(a)), np.sort_complex(np.asarray(b))
    return np.max(np.abs(a - b)) <= tol


# ----------------------------------------------------------------------------- Dirac GAN


@pytest.mark.parametrize("gamma, mass", [(0.0, 1.0), (0.7, 1.0), (0.5, 3.0)])
def test_dirac_wgan_field_is_kims_appendix_a(gamma, mass):
    game = lgan.dirac_gan("wgan", gamma=gamma, mass=mass)
    psi, theta = 0.8, -1.3
    dpsi, dtheta = game.field(psi, theta)
    np.testing.assert_allclose(dpsi, -theta - gamma * mass * psi, rtol=1e-14)
    np.testing.assert_allclose(dtheta, psi, rtol=1e-14)
    assert np.allclose(game.field(0.0, 0.0), 0.0)


def test_dirac_standard_field():
    # psi' = -theta f'(-psi theta) - gamma psi, theta' = psi f'(-psi theta), f'(s) = 1 / (1 + e^s).
    gamma, psi, theta = 0.4, 0.8, -1.3
    dpsi, dtheta = lgan.dirac_gan("standard", gamma=gamma).field(psi, theta)
    fp = 1.0 / (1.0 + np.exp(-psi * theta))
    np.testing.assert_allclose(dpsi, -theta * fp - gamma * psi, rtol=1e-14)
    np.testing.assert_allclose(dtheta, psi * fp, rtol=1e-14)


@pytest.mark.parametrize("loss", ["wgan", "standard"])
@pytest.mark.parametrize("gamma, mass", [(0.0, 1.0), (0.5, 1.0), (1.0, 1.0), (3.0, 1.0), (1.0, 0.25)])
def test_dirac_eigenvalues_at_the_equilibrium(loss, gamma, mass):
    game = lgan.dirac_gan(loss, gamma=gamma, mass=mass)
    closed = lgan.dirac_gan_eigenvalues(loss, gamma, mass)
    assert _same_roots(game.eigenvalues(0.0, 0.0), closed)
    b = 1.0 if loss == "wgan" else 0.5
    expected = np.roots([1.0, gamma * mass, b**2])  # lambda^2 + gamma M lambda + f'(0)^2
    assert _same_roots(closed, expected, tol=1e-7)


def test_dirac_wgan_without_penalty_rotates():
    assert _same_roots(lgan.dirac_gan_eigenvalues(), [1j, -1j])
    assert _same_roots(lgan.dirac_gan_eigenvalues("standard"), [0.5j, -0.5j])


@pytest.mark.parametrize("loss, mass, expected", [("wgan", 1.0, 2.0), ("standard", 1.0, 1.0), ("wgan", 4.0, 0.5)])
def test_dirac_critical_gamma(loss, mass, expected):
    gc = lgan.dirac_gan_critical_gamma(loss, mass)
    assert gc == pytest.approx(expected)
    below = lgan.dirac_gan_eigenvalues(loss, 0.99 * gc, mass)
    at = lgan.dirac_gan_eigenvalues(loss, gc, mass)
    above = lgan.dirac_gan_eigenvalues(loss, 1.01 * gc, mass)
    assert np.all(np.abs(below.imag) > 0)
    assert np.all(at.imag == 0) and at[0] == pytest.approx(at[1])
    assert np.all(above.imag == 0) and above[0].real > above[1].real


def test_dirac_penalty_measures_coincide():
    fields = [lgan.dirac_gan(gamma=0.3, penalty=p).field(0.4, 0.9) for p in lgan._games._toy_games.DIRAC_PENALTIES]
    for f in fields[1:]:
        np.testing.assert_allclose(f, fields[0], rtol=1e-15)


def test_dirac_mass_function_enters_through_its_psi_derivative():
    # psi' = -theta - gamma/2 d/dpsi (psi^2 M), M = exp(-psi^2): d/dpsi = 2 psi e^{-psi^2} (1 - psi^2).
    gamma, psi, theta = 0.7, 0.6, 0.2
    game = lgan.dirac_gan(gamma=gamma, mass=lambda p, t: jnp.exp(-(p**2)))
    dpsi, dtheta = game.field(psi, theta)
    np.testing.assert_allclose(dpsi, -theta - gamma * psi * np.exp(-(psi**2)) * (1 - psi**2), rtol=1e-14)
    np.testing.assert_allclose(dtheta, psi)


@pytest.mark.parametrize(
    "mass, expected",
    [
        (lambda p, t: jnp.exp(-(p**2)), 1.0),  # g = 2 e^{-psi^2} (1 - psi^2)
        (lambda p, t: 1.0 - p * t, 2.0 / np.sqrt(3.0)),  # g = 2 - 3 psi theta, max psi theta = r^2 / 2
        (lambda p, t: p**2, np.inf),  # M(0, 0) = 0, psi dM/dpsi = 2 psi^2 >= 0: global
        (lambda p, t: 1.0 + 0.0 * p, np.inf),  # probability measure: global (Mescheder et al.)
        (lambda p, t: p - 1.0, 0.0),  # g(0, 0) = -2 < 0
    ],
)
def test_lemma1_basin_radius(mass, expected):
    R = lgan.lemma1_basin_radius(mass)
    if np.isfinite(expected):
        assert R == pytest.approx(expected, rel=1e-7, abs=1e-9)
    else:
        assert R == expected


def test_lemma1_trajectories_inside_the_basin_converge():
    mass = lambda p, t: jnp.exp(-(p**2))  # noqa: E731
    R = lgan.lemma1_basin_radius(mass)
    game = lgan.dirac_gan(gamma=1.0, mass=mass)
    for angle in np.linspace(0, 2 * np.pi, 5, endpoint=False):
        r0 = 0.98 * R
        traj = lgan.simulate(game, r0 * np.cos(angle), r0 * np.sin(angle), solver="rk4", step=0.1, num_steps=300)
        norms = np.asarray(traj.norms)
        assert np.all(np.diff(norms) <= 1e-9)  # L = psi^2 + theta^2 never increases (Appendix A)
        assert norms[-1] < 1e-5
    # R is only a sufficient radius: the basin is larger, bounded by an unstable periodic orbit of
    # radius 1.20-1.34 (chapter 5). From radius 1.5 the trajectory escapes and keeps drifting out.
    traj = lgan.simulate(game, 1.5, 0.0, solver="rk4", step=0.1, num_steps=300)
    assert float(traj.norms[-1]) > 2.0  # still growing at t = 30


def test_dirac_errors():
    with pytest.raises(ValueError, match=r"loss must be one of 'wgan', 'standard'; got 'hinge'"):
        lgan.dirac_gan("hinge")
    with pytest.raises(ValueError, match=r"gamma must be >= 0, got -1.0"):
        lgan.dirac_gan(gamma=-1.0)
    with pytest.raises(ValueError, match=r"penalty must be one of 'data', 'generator', 'interpolates'; got 'anchor'"):
        lgan.dirac_gan(penalty="anchor")
    with pytest.raises(ValueError, match=r"mass must be >= 0, got -0.5"):
        lgan.dirac_gan(mass=-0.5)
    with pytest.raises(ValueError, match=r"mass must be > 0, got 0.0"):
        lgan.dirac_gan_critical_gamma("wgan", 0.0)
    with pytest.raises(ValueError, match=r"mass must be a function M\(psi, theta\), got float"):
        lgan.lemma1_basin_radius(1.0)
    with pytest.raises(ValueError, match=r"num_angles must be an integer >= 2, got 1"):
        lgan.lemma1_basin_radius(lambda p, t: 1.0 + 0 * p, num_angles=1)


# ----------------------------------------------------------------------------- Kim Lemma 2


def _lemma2_from_losses(rho, penalty):
    # Definition 4 with D = psi x^2: E_U(-1,1)[x^2] = 1/3, E_U(-|t|,|t|)[x^2] = t^2/3, (D')^2 = 4 psi^2 x^2.
    def value(psi, theta):
        return psi / 3.0 - psi * theta**2 / 3.0

    def loss_d(psi, theta):
        return -value(psi, theta) + 0.5 * rho * 4.0 * psi**2 * lgan.lemma2_second_moment(penalty, theta)

    return lgan.Game.from_losses(loss_d, value)


@pytest.mark.parametrize("penalty", ["data", "generator", "interpolates"])
def test_lemma2_field_is_definition4_with_d_psi_x2(penalty):
    rho = 0.6
    game, reference = lgan.kim_lemma2_game(rho, penalty), _lemma2_from_losses(rho, penalty)
    for psi, theta in [(0.3, 1.4), (-0.8, 0.2), (1.1, -0.7)]:
        np.testing.assert_allclose(game.field(psi, theta), reference.field(psi, theta), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("penalty, a2", [("data", 1 / 3), ("generator", 1 / 3), ("interpolates", 2 / 9)])
@pytest.mark.parametrize("rho", [0.0, 0.2, 1.0, 3.0])
def test_lemma2_eigenvalues_at_the_desired_equilibria(penalty, a2, rho):
    game = lgan.kim_lemma2_game(rho, penalty)
    closed = lgan.lemma2_eigenvalues(rho, penalty)
    root = np.sqrt(complex(4 * rho**2 * a2**2 - 4 / 9))
    assert _same_roots(closed, [-2 * rho * a2 + root, -2 * rho * a2 - root])
    for theta in (1.0, -1.0):
        assert np.allclose(game.field(0.0, theta), 0.0)
        # a double root (rho = 1, A^2 = 1/3) is only computed to ~sqrt(machine epsilon)
        assert _same_roots(game.eigenvalues(0.0, theta), closed, tol=1e-7)
    if rho == 0:
        assert _same_roots(closed, [2j / 3, -2j / 3])


def test_lemma2_extra_equilibrium_is_a_saddle():
    equilibria = lgan.lemma2_equilibria(0.5, "data")
    assert equilibria[:2] == [(0.0, 1.0), (0.0, -1.0)]
    assert equilibria[2] == pytest.approx((0.5, 0.0))  # psi = 1 / (4 rho)
    game = lgan.kim_lemma2_game(0.5, "data")
    for psi, theta in equilibria:
        assert np.allclose(game.field(psi, theta), 0.0, atol=1e-15)
    assert np.max(game.eigenvalues(*equilibria[2]).real) == pytest.approx(2 * 0.5 / 3)
    assert len(lgan.lemma2_equilibria(0.5, "generator")) == 2
    assert len(lgan.lemma2_equilibria(0.0, "data")) == 2


def test_lemma2_wgan_cycles_and_penalty_converges():
    # rho = 0: H = psi^2 - log|theta| + theta^2/2 is conserved (no convergence);
    # rho > 0: local convergence to (0, 1).
    traj = lgan.simulate(lgan.kim_lemma2_game(0.0), 0.2, 1.1, solver="rk4", step=0.05, num_steps=400)
    H = np.asarray(lgan.lemma2_invariant(traj.x, traj.y))
    assert np.max(np.abs(H - H[0])) < 1e-8
    dist = np.hypot(np.asarray(traj.x), np.asarray(traj.y) - 1.0)
    assert dist[-100:].min() > 0.05  # stays on its closed orbit
    traj = lgan.simulate(lgan.kim_lemma2_game(1.0), 0.2, 1.1, solver="rk4", step=0.05, num_steps=400)
    final = np.array([float(v) for v in traj.final])
    np.testing.assert_allclose(final, [0.0, 1.0], atol=1e-4)


# ----------------------------------------------------------------------------- Kim Lemma 3


def test_lemma3_field_is_definition4_with_gp_interpolates():
    rho = 3 / 8

    # data delta_0, generator delta_theta, mu_GP = U[0, theta]: E[x^2] = theta^2 / 3.
    def value(psi, theta):
        return -psi * theta**2

    def loss_d(psi, theta):
        return -value(psi, theta) + 0.5 * rho * 4.0 * psi**2 * theta**2 / 3.0

    reference = lgan.Game.from_losses(loss_d, value)
    game = lgan.kim_lemma3_game(rho)
    for psi, theta in [(0.3, 1.4), (-0.8, 0.2), (-2.5, -0.7)]:
        np.testing.assert_allclose(game.field(psi, theta), reference.field(psi, theta), rtol=1e-13)


def test_lemma3_equilibria_nullclines_and_eigenvalues():
    game = lgan.kim_lemma3_game(3 / 8)
    assert lgan.lemma3_nullcline(3 / 8) == pytest.approx(-2.0)
    for a in (-3.0, -1.0, 0.0, 0.5):
        assert np.allclose(game.field(a, 0.0), 0.0)
        # J at (a, 0) = [[0, 0], [0, 2a]]
        assert _same_roots(game.eigenvalues(a, 0.0), [0.0, 2 * a])
    for theta in (-1.0, 0.5, 2.0):
        assert float(game.field(-2.0, theta)[0]) == pytest.approx(0.0, abs=1e-14)  # psi' = 0 on psi = -2
        assert float(game.field(0.0, theta)[1]) == 0.0  # theta' = 0 on psi = 0


@pytest.mark.parametrize("psi0, theta0", [(1.0, 1.0), (0.0, 0.5), (-1.0, -1.5), (-3.0, 1.0), (0.5, -2.0)])
def test_lemma3_trajectories_end_on_the_negative_psi_axis(psi0, theta0):
    rho = 3 / 8
    b = lgan.lemma3_limit(psi0, theta0, rho)
    assert b < 0
    assert (-2.0 < b < 0.0) if psi0 > -2 else (psi0 < b < -2.0)
    game = lgan.kim_lemma3_game(rho)
    traj = lgan.simulate(game, psi0, theta0, solver="rk4", step=0.02, num_steps=1500)
    psi_end, theta_end = (float(v) for v in traj.final)
    assert abs(theta_end) < 1e-6
    assert psi_end == pytest.approx(b, abs=1e-6)
    assert np.hypot(psi_end, theta_end) > 0.1  # never the origin
    H = lgan.lemma3_invariant(np.asarray(traj.x), np.asarray(traj.y), rho)
    assert np.max(np.abs(H - H[0])) < 1e-5


def test_lemma3_flow_agrees_with_the_first_integral():
    traj = lgan.simulate(lgan.kim_lemma3_game(3 / 8), 1.0, 1.0, solver="flow", step=0.5, num_steps=60)
    assert float(traj.final[0]) == pytest.approx(lgan.lemma3_limit(1.0, 1.0, 3 / 8), abs=1e-7)


def test_lemma3_without_penalty():
    # rho = 0: psi^2 + theta^2/2 conserved, limit -sqrt(psi0^2 + theta0^2/2).
    assert lgan.lemma3_limit(0.5, 1.0, 0.0) == pytest.approx(-np.sqrt(0.25 + 0.5))
    assert lgan.lemma3_invariant(0.5, 1.0, 0.0) == pytest.approx(0.75)


# ----------------------------------------------------------------------------- Qin et al.


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 1.0, 2.0, 3.0])
def test_qin_eigenvalues_and_solution(epsilon):
    game = lgan.qin_rotational_game(epsilon)
    assert _same_roots(game.eigenvalues(0.0, 0.0), lgan.qin_eigenvalues(epsilon), tol=1e-7)
    J = np.asarray(game.jacobian(0.0, 0.0))
    np.testing.assert_allclose(J, -np.array([[epsilon, -1.0], [1.0, 0.0]]))  # eq. 7
    ts = np.linspace(0, 6, 7)
    theta, phi = lgan.qin_solution(ts, 1.0, -0.5, epsilon)
    expected = np.stack([scipy.linalg.expm(J * t) @ [1.0, -0.5] for t in ts])
    np.testing.assert_allclose(np.stack([theta, phi], axis=1), expected, rtol=1e-10, atol=1e-12)


def test_qin_rk4_at_small_step_matches_the_analytic_solution():
    traj = lgan.simulate(lgan.qin_rotational_game(0.1), 1.0, 1.0, solver="rk4", step=0.02, num_steps=2000)
    theta, phi = lgan.qin_solution(traj.times, 1.0, 1.0, 0.1)
    # global RK4 error ~ h^4 t1 / 120 ... 1e-8 here
    np.testing.assert_allclose(traj.x, theta, rtol=0, atol=5e-8)
    np.testing.assert_allclose(traj.y, phi, rtol=0, atol=5e-8)


def test_qin_experiment_euler_grows_heun_converges():
    # epsilon = 0.1, step 0.2, 200 steps (Qin et al. 2020, Fig. 1).
    game, h = lgan.qin_rotational_game(0.1), 0.2
    J = np.asarray(game.jacobian(0.0, 0.0))
    growth = lgan.qin_euler_growth(h, 0.1)
    assert growth == pytest.approx(np.sqrt(1.02))
    assert np.max(np.abs(np.linalg.eigvals(np.asarray(lgan.step_matrix("euler", J, h))))) == pytest.approx(growth)
    euler = lgan.simulate(game, 1.0, 1.0, solver="euler", step=h, num_steps=200)
    heun = lgan.simulate(game, 1.0, 1.0, solver="heun", step=h, num_steps=200)
    exact = np.hypot(*lgan.qin_solution(40.0, 1.0, 1.0, 0.1))
    assert float(euler.norms[-1]) > 5 * float(euler.norms[0])
    assert float(heun.norms[-1]) < 0.2 * float(heun.norms[0])
    assert float(heun.norms[-1]) == pytest.approx(exact, rel=0.05)


# ----------------------------------------------------------------------------- Turinici


@pytest.mark.parametrize("as_printed", [False, True])
def test_turinici_alternating_conserves_its_modified_invariant(as_printed):
    x_ref, h = 1.0, 0.3
    game = lgan.turinici_game(x_ref, as_printed=as_printed)
    n = 12 if as_printed else 60
    traj = lgan.simulate(game, 0.5, 2.0, solver="euler", alternating=True, step=h, num_steps=n)
    Q = np.asarray(lgan.turinici_invariant(traj.x, traj.y, x_ref, step=h, as_printed=as_printed))
    np.testing.assert_allclose(Q, Q[0], rtol=1e-11)
    # and the simultaneous scheme multiplies the flow invariant by 1 - s tau^2 per step
    traj = lgan.simulate(game, 0.5, 2.0, solver="euler", step=h, num_steps=n)
    Q0 = np.asarray(lgan.turinici_invariant(traj.x, traj.y, x_ref, as_printed=as_printed))
    factor = lgan.turinici_simultaneous_factor(h, as_printed=as_printed)
    assert factor == pytest.approx(1 + h**2 if not as_printed else 1 - h**2)
    np.testing.assert_allclose(Q0[1:] / Q0[:-1], factor, rtol=1e-11)


@pytest.mark.parametrize("as_printed, spectrum", [(False, [1j, -1j]), (True, [1.0, -1.0])])
def test_turinici_flow(as_printed, spectrum):
    game = lgan.turinici_game(1.0, as_printed=as_printed)
    assert _same_roots(game.eigenvalues(0.0, 1.0), spectrum)
    assert np.allclose(game.field(0.0, 1.0), 0.0)  # equilibrium (y, x) = (0, x_r)
    traj = lgan.simulate(game, 0.5, 2.0, solver="rk4", step=0.01, num_steps=300)
    y, x = lgan.turinici_solution(traj.times, 0.5, 2.0, 1.0, as_printed=as_printed)
    scale = max(np.max(np.abs(y)), 1.0)
    np.testing.assert_allclose(traj.x, y, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(traj.y, x, rtol=0, atol=1e-9 * scale)
    Q = np.asarray(lgan.turinici_invariant(traj.x, traj.y, 1.0, as_printed=as_printed))
    np.testing.assert_allclose(Q, Q[0], rtol=1e-9)


# ----------------------------------------------------------------------------- orders


@pytest.mark.parametrize("solver, low, high", [("euler", 0.9, 1.1), ("heun", 1.8, 2.2), ("rk4", 3.7, 4.3)])
def test_empirical_orders_on_qins_game(solver, low, high):
    game = lgan.qin_rotational_game(0.5)
    result = lgan.empirical_order(
        game, 1.0, 0.5, solver=solver, t1=2.0, steps=[0.1, 0.05, 0.025], exact=lambda t: lgan.qin_solution(t, 1.0, 0.5, 0.5)
    )
    assert low <= result.order <= high, result


def test_alternating_is_first_order():
    game = lgan.turinici_game(0.0)
    result = lgan.empirical_order(
        game,
        0.5,
        1.0,
        solver="euler", alternating=True,
        t1=2.0,
        steps=[0.1, 0.05, 0.025],
        exact=lambda t: lgan.turinici_solution(t, 0.5, 1.0),
    )
    assert 0.9 <= result.order <= 1.1


def test_toy_game_argument_errors():
    with pytest.raises(ValueError, match=r"rho must be >= 0, got -0.1"):
        lgan.kim_lemma2_game(-0.1)
    with pytest.raises(ValueError, match=r"penalty must be one of 'data', 'generator', 'interpolates'; got 'mid'"):
        lgan.kim_lemma2_game(0.1, "mid")
    with pytest.raises(ValueError, match=r"rho must be >= 0, got -1.0"):
        lgan.kim_lemma3_game(-1.0)
    with pytest.raises(ValueError, match=r"rho must be > 0, got 0.0"):
        lgan.lemma3_nullcline(0.0)
    with pytest.raises(ValueError, match=r"epsilon must be finite, got nan"):
        lgan.qin_rotational_game(float("nan"))
    with pytest.raises(ValueError, match=r"epsilon must satisfy \|epsilon\| <= 2"):
        lgan.qin_euler_growth(0.1, 3.0)
    with pytest.raises(ValueError, match=r"x_ref must be finite, got inf"):
        lgan.turinici_game(float("inf"))
    with pytest.raises(ValueError, match=r"step must be >= 0, got -0.1"):
        lgan.turinici_invariant(1.0, 1.0, step=-0.1)


def test_hyperparameters_are_arrays_so_sweeps_do_not_recompile():
    leaves = jax.tree_util.tree_leaves(lgan.qin_rotational_game(0.3))
    assert any(isinstance(leaf, jax.Array) and float(leaf) == 0.3 for leaf in leaves)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.nan, 1.0, 1.0), "t must be finite, got nan"),
        (([0.0, np.inf], 1.0, 1.0), r"t must be finite, got inf at index \(1,\)"),
        ((1.0, np.nan, 1.0), "theta0 must be finite, got nan"),
        ((1.0, 1.0, np.nan), "phi0 must be finite, got nan"),
        ((1.0, "a", 1.0), "theta0 must be a real number or array, got str 'a'"),
        ((1.0, 1.0, [1.0, 2.0]), r"phi0 must be a scalar, got shape \(2,\)"),
    ],
)
def test_qin_solution_rejects_nan_and_strings(args, match):
    with pytest.raises(ValueError, match=match):
        lgan.qin_solution(*args)


def test_qin_solution_overflow_is_an_error():
    with pytest.raises(ValueError, match=r"qin_solution\(t, theta0=1, phi0=1, epsilon=-0.1\): the result overflows float64"):
        lgan.qin_solution(1e5, 1.0, 1.0, epsilon=-0.1)  # grows like exp(t / 20)
