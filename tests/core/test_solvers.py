import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan


def _logistic_errors(solver, steps, t1=2.0, y0=0.2):
    """Final-time errors of y' = y (1 - y), y(t) = 1 / (1 + (1/y0 - 1) e^{-t}), at constant steps."""
    term = diffrax.ODETerm(lambda t, y, args: y * (1.0 - y))
    exact = 1.0 / (1.0 + (1.0 / y0 - 1.0) * np.exp(-t1))
    errors = []
    for dt in steps:
        sol = diffrax.diffeqsolve(
            term,
            solver,
            t0=0.0,
            t1=t1,
            dt0=jnp.asarray(dt),
            y0=jnp.asarray(y0),
            stepsize_controller=diffrax.ConstantStepSize(),
        )
        errors.append(abs(float(sol.ys[-1]) - exact))
    return np.asarray(errors)


@pytest.mark.parametrize("name, low, high", [("euler", 0.9, 1.1), ("heun", 1.8, 2.2), ("rk4", 3.7, 4.3)])
def test_order_on_a_smooth_ode(name, low, high):
    steps = np.array([0.2, 0.1, 0.05, 0.025])
    errors = _logistic_errors(lgan.solver_by_name(name), steps)
    order = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert low <= order <= high, (name, order, errors)


def test_solver_by_name_types():
    assert isinstance(lgan.solver_by_name("euler"), diffrax.Euler)
    assert isinstance(lgan.solver_by_name("heun"), diffrax.Heun)
    assert isinstance(lgan.solver_by_name("rk4"), lgan.RK4)
    assert lgan.RK4().order(None) == 4
    assert isinstance(lgan.RK4(), diffrax.AbstractERK)


def test_solver_by_name_rejects_unknown():
    with pytest.raises(ValueError, match=r"name must be one of 'euler', 'heun', 'rk4'; got 'rk45'"):
        lgan.solver_by_name("rk45")


def test_rk4_step_is_the_truncated_exponential():
    # On a linear system one RK4 step is R(h L) = I + hL + (hL)^2/2 + (hL)^3/6 + (hL)^4/24.
    L = jnp.array([[-0.3, 1.0, 0.2], [-1.0, 0.0, 0.5], [0.1, -0.4, -0.2]])
    y0 = jnp.array([1.0, -2.0, 0.5])
    h = 0.3
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: L @ y),
        lgan.RK4(),
        t0=0.0,
        t1=h,
        dt0=h,
        y0=y0,
        stepsize_controller=diffrax.ConstantStepSize(),
    )
    expected = lgan.step_matrix("rk4", L, h) @ y0
    np.testing.assert_allclose(sol.ys[-1], expected, rtol=1e-13, atol=1e-14)


def test_rk4_works_with_an_adaptive_controller():
    # The embedded midpoint error estimate is conservative but correct.
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: -y),
        lgan.RK4(),
        t0=0.0,
        t1=1.0,
        dt0=0.1,
        y0=jnp.asarray(1.0),
        stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-8),
    )
    assert abs(float(sol.ys[-1]) - np.exp(-1.0)) < 1e-7


def test_rk4_step_equals_diffrax_generic_erk_step():
    """lgan.RK4 unrolls its stages; the step must equal Diffrax's AbstractERK.step on the same tableau."""
    term = diffrax.ODETerm(lambda t, y, args: {"a": -y["a"] * y["b"] + jnp.sin(t), "b": y["a"] ** 2 - 0.5 * y["b"]})
    y0 = {"a": jnp.array([0.3, -1.2]), "b": jnp.array([0.7, 0.1])}
    solver = lgan.RK4()
    fast = solver.step(term, 0.2, 0.45, y0, None, None, made_jump=False)
    generic = diffrax.AbstractERK.step(solver, term, 0.2, 0.45, y0, None, None, made_jump=False)
    for part in range(3):  # y1, y_error, dense_info (y0, y1, k)
        leaves_fast, leaves_generic = jax.tree_util.tree_leaves(fast[part]), jax.tree_util.tree_leaves(generic[part])
        assert len(leaves_fast) == len(leaves_generic)
        for a, b in zip(leaves_fast, leaves_generic):
            assert a.shape == b.shape
            assert jnp.max(jnp.abs(a - b)) < 1e-13
