import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import lgan

# A linear game w' = L w on w = (x, y), x in R^2 (discriminator), y in R^1 (generator).
L = np.array([[-0.2, 0.7, 1.0], [-0.5, -0.1, 0.3], [-1.0, 0.4, 0.0]])
W0 = np.array([1.0, -0.5, 2.0])


def _linear_game(matrix=L):
    M = jnp.asarray(matrix)

    def field(x, y):
        w = jnp.concatenate([x, y])
        dw = M @ w
        return dw[:2], dw[2:]

    return lgan.Game(field)


def _split(w):
    return jnp.asarray(w[:2]), jnp.asarray(w[2:])


def _stacked(traj):
    return np.concatenate([np.asarray(traj.x), np.asarray(traj.y)], axis=1)


def test_jacobian_and_eigenvalues_of_a_linear_game():
    game = _linear_game()
    x, y = _split(W0)
    np.testing.assert_allclose(game.jacobian(x, y), L, atol=1e-14)
    lam = game.eigenvalues(x, y)
    expected = np.linalg.eigvals(L)
    for root in expected:
        assert np.min(np.abs(lam - root)) < 1e-12
    assert np.all(np.diff(lam.real) <= 1e-12)


def test_from_losses_builds_minus_the_gradients():
    # loss_d = x^T A y + a/2 |x|^2, loss_g = -x^T A y: field (-(A y + a x), A^T x).
    A = jnp.array([[1.0, 2.0], [0.5, -1.0]])
    a = 0.3
    game = lgan.Game.from_losses(lambda x, y: x @ A @ y + 0.5 * a * x @ x, lambda x, y: -(x @ A @ y))
    x, y = jnp.array([1.0, -2.0]), jnp.array([0.5, 3.0])
    dx, dy = game.field(x, y)
    np.testing.assert_allclose(dx, -(A @ y + a * x), rtol=1e-14)
    np.testing.assert_allclose(dy, A.T @ x, rtol=1e-14)
    J = np.block([[-a * np.eye(2), -np.asarray(A)], [np.asarray(A).T, np.zeros((2, 2))]])
    np.testing.assert_allclose(game.jacobian(x, y), J, atol=1e-14)


def test_jacobian_on_pytree_state():
    game = lgan.Game(lambda x, y: ({"a": -x["a"] + y}, x["a"] ** 2))
    J = game.jacobian({"a": 2.0}, 1.0)
    np.testing.assert_allclose(J, [[-1.0, 1.0], [4.0, 0.0]])


@pytest.mark.parametrize("solver", ["euler", "heun", "rk4"])
def test_fixed_step_schemes_match_matrix_powers(solver):
    h, n = 0.3, 25
    traj = lgan.simulate(_linear_game(), *_split(W0), solver=solver, step=h, num_steps=n)
    R = np.asarray(lgan.step_matrix(solver, L, h))
    expected = np.stack([np.linalg.matrix_power(R, k) @ W0 for k in range(n + 1)])
    np.testing.assert_allclose(_stacked(traj), expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(traj.times, h * np.arange(n + 1), rtol=1e-15)
    assert not bool(traj.diverged) and int(traj.diverged_at) == -1
    np.testing.assert_allclose(traj.norms, np.linalg.norm(expected, axis=1), rtol=1e-12)


def test_alternating_matches_its_matrix():
    # x <- x + h (A x + B y); y <- y + h (C x_new + D y):
    # [[I + hA, hB], [hC (I + hA), I + hD + h^2 C B]].
    h, n = 0.3, 25
    A, B, C, D = L[:2, :2], L[:2, 2:], L[2:, :2], L[2:, 2:]
    top = np.hstack([np.eye(2) + h * A, h * B])
    bottom = np.hstack([h * C @ (np.eye(2) + h * A), np.eye(1) + h * D + h**2 * C @ B])
    R = np.vstack([top, bottom])
    traj = lgan.simulate(_linear_game(), *_split(W0), solver="euler", alternating=True, step=h, num_steps=n)
    expected = np.stack([np.linalg.matrix_power(R, k) @ W0 for k in range(n + 1)])
    np.testing.assert_allclose(_stacked(traj), expected, rtol=1e-11, atol=1e-12)


def test_flow_matches_the_matrix_exponential():
    h, n = 0.5, 20
    traj = lgan.simulate(_linear_game(), *_split(W0), solver="flow", step=h, num_steps=n)
    expected = np.stack([scipy.linalg.expm(L * h * k) @ W0 for k in range(n + 1)])
    np.testing.assert_allclose(_stacked(traj), expected, rtol=0, atol=1e-6)
    assert traj.summary().startswith("finished 20 steps, final norm ")


def _growth_game():
    # x' = x, y' = 0: each scheme multiplies x by its stability function R(h) per step.
    return lgan.Game(lambda x, y: (x, 0.0 * y))


@pytest.mark.parametrize(
    "solver, alternating, factor",
    [("euler", False, 2.0), ("euler", True, 2.0), ("heun", False, 2.5), ("rk4", False, 1 + 1 + 1 / 2 + 1 / 6 + 1 / 24)],
)
def test_divergence_is_reported_at_the_right_step(solver, alternating, factor):
    # With h = 1 and x0 = 1, x_k = factor^k: the first k with factor^k > 1e6.
    expected = math.floor(math.log(1e6) / math.log(factor)) + 1
    assert factor ** (expected - 1) <= 1e6 < factor**expected
    traj = lgan.simulate(_growth_game(), 1.0, 0.0, solver=solver, alternating=alternating, step=1.0, num_steps=40)
    assert bool(traj.diverged)
    assert int(traj.diverged_at) == expected
    np.testing.assert_allclose(float(traj.max_norm), factor**expected, rtol=1e-12)
    # frozen at the last state within the threshold, never NaN or inf
    x = np.asarray(traj.x)
    np.testing.assert_allclose(x[expected:], factor ** (expected - 1), rtol=1e-12)
    np.testing.assert_allclose(x[:expected], factor ** np.arange(expected), rtol=1e-12)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(np.asarray(traj.norms)))
    assert traj.summary() == f"diverged at step {expected} (norm {factor**expected:.1e})"
    assert np.asarray(traj.valid).sum() == expected


def test_flow_divergence():
    # x(t) = e^t crosses 1e6 at t = log(1e6) = 13.8: first missing save is t = 14.
    traj = lgan.simulate(_growth_game(), 1.0, 0.0, solver="flow", step=1.0, num_steps=30)
    assert bool(traj.diverged) and int(traj.diverged_at) == 14
    assert float(traj.max_norm) > 1e6
    x = np.asarray(traj.x)
    np.testing.assert_allclose(x[:14], np.exp(np.arange(14.0)), rtol=1e-7)
    np.testing.assert_allclose(x[14:], x[13])
    assert traj.summary().startswith("diverged at step 14 (norm 1.")


def test_non_finite_state_counts_as_divergence():
    # x' = log x from 0.5: x1 = 0.5 + log 0.5 < 0, then log x1 = NaN.
    game = lgan.Game(lambda x, y: (jnp.log(x), 0.0 * y))
    traj = lgan.simulate(game, 0.5, 0.0, solver="euler", step=1.0, num_steps=5)
    assert int(traj.diverged_at) == 2
    assert traj.summary() == "diverged at step 2 (norm inf)"
    assert np.all(np.isfinite(np.asarray(traj.x)))


def test_summary_when_finished():
    traj = lgan.simulate(lgan.Game(lambda x, y: (-x, -y)), 1.0, 0.0, solver="euler", step=0.5, num_steps=10)
    assert traj.summary() == f"finished 10 steps, final norm {0.5**10:.1e}"
    assert traj.num_steps == 10
    np.testing.assert_allclose(traj.final[0], 0.5**10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(solver="leapfrog"), r"solver must be one of 'euler', 'heun', 'rk4', 'flow'; got 'leapfrog'"),
        (dict(step=0.0), r"step must be > 0, got 0.0"),
        (dict(step=-0.1), r"step must be > 0, got -0.1"),
        (dict(step=float("nan")), r"step must be finite, got nan"),
        (dict(step=float("inf")), r"step must be finite, got inf"),
        (dict(step=[0.1, 0.2]), r"step must be a real scalar > 0"),
        (dict(num_steps=0), r"num_steps must be an integer >= 1, got 0"),
        (dict(num_steps=2.5), r"num_steps must be an integer >= 1, got 2.5"),
        (dict(num_steps=True), r"num_steps must be an integer >= 1, got True"),
        (dict(divergence_threshold=0.0), r"divergence_threshold must be > 0, got 0.0"),
        (dict(divergence_threshold=0.5), r"divergence_threshold must exceed the initial norm 2.29, got 0.5"),
    ],
)
def test_simulate_argument_errors(kwargs, match):
    args = dict(solver="euler", step=0.1, num_steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        lgan.simulate(_linear_game(), *_split(W0), **args)


def test_simulate_state_errors():
    game = _linear_game()
    x, y = _split(W0)
    with pytest.raises(ValueError, match=r"game.field\(x0, y0\) failed"):
        lgan.simulate(game, jnp.zeros(3), y, solver="rk4", step=0.1, num_steps=3)
    # a field that accepts the state but returns another shape
    bad = lgan.Game(lambda x, y: (jnp.zeros(3), y))
    with pytest.raises(ValueError, match=r"x0 has shape \(2,\) but game.field returns dx of shape \(3,\)"):
        lgan.simulate(bad, x, y, solver="rk4", step=0.1, num_steps=3)
    bad = lgan.Game(lambda x, y: (x, jnp.zeros(2)))
    with pytest.raises(ValueError, match=r"y0 has shape \(1,\) but game.field returns dy of shape \(2,\)"):
        lgan.simulate(bad, x, y, solver="rk4", step=0.1, num_steps=3)
    with pytest.raises(ValueError, match=r"must return a pair \(dx, dy\)"):
        lgan.simulate(lgan.Game(lambda x, y: x), x, y, solver="rk4", step=0.1, num_steps=3)
    with pytest.raises(ValueError, match=r"x0 must be finite, got nan at index \(0,\)"):
        lgan.simulate(game, jnp.array([np.nan, 0.0]), y, solver="rk4", step=0.1, num_steps=3)
    with pytest.raises(ValueError, match=r"game must be an lgan.Game"):
        lgan.simulate(lambda x, y: (x, y), x, y, solver="rk4", step=0.1, num_steps=3)


def test_game_construction_errors():
    with pytest.raises(ValueError, match=r"field must be callable as field\(x, y\) -> \(dx, dy\), got int"):
        lgan.Game(3)
    with pytest.raises(ValueError, match=r"loss_g must be callable"):
        lgan.Game.from_losses(lambda x, y: x * y, None)


def test_new_hyperparameters_and_steps_do_not_retrace():
    traces = []

    class Rotation(eqx.Module):
        speed: jax.Array

        def __call__(self, x, y):
            traces.append(None)  # runs only while tracing
            return self.speed * y, -self.speed * x

    lgan.simulate(lgan.Game(Rotation(jnp.asarray(1.0))), 1.0, 0.0, solver="rk4", step=0.1, num_steps=7)
    before = len(traces)
    lgan.simulate(lgan.Game(Rotation(jnp.asarray(2.0))), 0.5, 1.0, solver="rk4", step=0.05, num_steps=7)
    assert len(traces) - before <= 1  # only the shape check (jax.eval_shape); the scan is not retraced


def test_a_diffrax_solver_object_and_alternating_errors():
    import diffrax

    by_name = lgan.simulate(_linear_game(), *_split(W0), solver="heun", step=0.3, num_steps=5)
    by_object = lgan.simulate(_linear_game(), *_split(W0), solver=diffrax.Heun(), step=0.3, num_steps=5)
    np.testing.assert_array_equal(_stacked(by_object), _stacked(by_name))
    assert by_object.solver == "heun" and not by_object.alternating
    with pytest.raises(ValueError, match=r"alternating=True needs solver='euler' \(the players' updates alternate\), got solver='flow'"):
        lgan.simulate(_linear_game(), *_split(W0), solver="flow", alternating=True, step=0.3, num_steps=5)
    with pytest.raises(TypeError, match=r"alternating must be True or False, got 'yes'"):
        lgan.simulate(_linear_game(), *_split(W0), solver="euler", alternating="yes", step=0.3, num_steps=5)
    with pytest.raises(TypeError, match=r"solver must be a Diffrax solver of ODEs \(one ODETerm\), got SRA1"):
        lgan.simulate(_linear_game(), *_split(W0), solver=diffrax.SRA1(), step=0.3, num_steps=5)


def test_max_norm_includes_the_step_that_diverged_in_both_result_types():
    traj = lgan.simulate(_growth_game(), 1.0, 0.0, solver="euler", step=1.0, num_steps=40)
    assert float(traj.divergence_norm) == float(traj.max_norm) == 2.0**20  # 2^20 > 1e6 is the first bad state
