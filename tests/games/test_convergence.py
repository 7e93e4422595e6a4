import matplotlib

matplotlib.use("Agg")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lgan  # noqa: E402

GAME = lgan.qin_rotational_game(0.1)


def test_large_step_is_not_converged_small_step_is():
    coarse = lgan.step_halving_test(GAME, 1.0, 1.0, solver="euler", step=0.2, num_steps=200)
    assert not coarse.converged_in_step
    assert coarse.relative_discrepancy > 0.1
    fine = lgan.step_halving_test(GAME, 1.0, 1.0, solver="heun", step=0.02, num_steps=500)
    assert fine.converged_in_step
    assert fine.relative_discrepancy < 1e-3
    # both curves live on the cumulative-learning-rate axis and meet at t_k = k tau
    np.testing.assert_allclose(fine.times, fine.fine_times[::2], rtol=1e-14)
    assert fine.times[-1] == pytest.approx(10.0)
    assert fine.coarse.shape == (501,) and fine.fine.shape == (1001,)


@pytest.mark.parametrize("solver, ratio", [("euler", 2.0), ("heun", 4.0)])
def test_discrepancy_shrinks_with_the_order(solver, ratio):
    # gap(tau) ~ (1 - 2^-p) C tau^p: it halves for Euler and quarters for Heun with each halving.
    gaps = [
        lgan.step_halving_test(GAME, 1.0, 0.0, solver=solver, step=tau, num_steps=round(4.0 / tau)).max_discrepancy
        for tau in (0.04, 0.02, 0.01)
    ]
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    np.testing.assert_allclose(ratios, ratio, rtol=0.1)


def test_custom_observable_and_divergence():
    # an unstable game: the test reports "not converged" with an infinite gap
    game = lgan.Game(lambda x, y: (x, 0.0 * y))
    result = lgan.step_halving_test(game, 1.0, 0.0, solver="euler", step=1.0, num_steps=30)
    assert not result.converged_in_step and result.relative_discrepancy == np.inf
    result = lgan.step_halving_test(
        GAME, 1.0, 1.0, solver="rk4", step=0.1, num_steps=50, observable=lambda x, y: x * y, tolerance=1e-4
    )
    np.testing.assert_allclose(result.coarse, np.asarray(result.coarse_trajectory.x * result.coarse_trajectory.y))
    assert result.converged_in_step


def test_plot_returns_a_figure():
    result = lgan.step_halving_test(GAME, 1.0, 1.0, solver="euler", step=0.2, num_steps=200)
    fig = result.plot(label="||(theta, phi)||")
    assert "not converged" in fig.axes[0].get_title()
    assert len(fig.axes[0].lines) == 2
    matplotlib.pyplot.close(fig)


def test_step_halving_errors():
    with pytest.raises(ValueError, match=r"tolerance must be > 0, got 0.0"):
        lgan.step_halving_test(GAME, 1.0, 1.0, solver="heun", step=0.1, num_steps=5, tolerance=0.0)
    with pytest.raises(ValueError, match=r"observable must be callable"):
        lgan.step_halving_test(GAME, 1.0, 1.0, solver="heun", step=0.1, num_steps=5, observable=3)
    with pytest.raises(ValueError, match=r"observable\(x, y\) must return a scalar, got shape \(2,\)"):
        lgan.step_halving_test(
            GAME, 1.0, 1.0, solver="heun", step=0.1, num_steps=5, observable=lambda x, y: jnp.stack([x, y])
        )
    with pytest.raises(ValueError, match=r"solver must be"):
        lgan.step_halving_test(GAME, 1.0, 1.0, solver="leapfrog", step=0.1, num_steps=5)


def test_empirical_order_errors():
    exact = lambda t: lgan.qin_solution(t, 1.0, 1.0, 0.1)  # noqa: E731
    with pytest.raises(ValueError, match=r"solver must be a fixed-step solver, got 'flow'"):
        lgan.empirical_order(GAME, 1.0, 1.0, solver="flow", t1=1.0, steps=[0.1, 0.05], exact=exact)
    with pytest.raises(ValueError, match=r"t1 / step must be a positive integer for every step, got t1 / 0.3"):
        lgan.empirical_order(GAME, 1.0, 1.0, solver="heun", t1=1.0, steps=[0.1, 0.3], exact=exact)
    with pytest.raises(ValueError, match=r"at least two distinct step sizes"):
        lgan.empirical_order(GAME, 1.0, 1.0, solver="heun", t1=1.0, steps=[0.1], exact=exact)
    with pytest.raises(ValueError, match=r"steps must be > 0, got -0.1 at index \(1,\)"):
        lgan.empirical_order(GAME, 1.0, 1.0, solver="heun", t1=1.0, steps=[0.1, -0.1], exact=exact)
    with pytest.raises(ValueError, match=r"t1 must be > 0, got 0.0"):
        lgan.empirical_order(GAME, 1.0, 1.0, solver="heun", t1=0.0, steps=[0.1, 0.05], exact=exact)


def test_empirical_order_result():
    result = lgan.empirical_order(
        GAME, 1.0, 1.0, solver="heun", t1=1.0, steps=[0.1, 0.05], exact=lambda t: lgan.qin_solution(t, 1.0, 1.0, 0.1)
    )
    assert result.steps.tolist() == [0.1, 0.05]
    assert result.errors[0] > result.errors[1] > 0
    assert result.order == pytest.approx(np.log2(result.errors[0] / result.errors[1]))
