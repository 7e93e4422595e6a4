import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import lgan


@pytest.mark.parametrize("exponent, prefactor", [(3.0, 0.25), (-1.7, 3.0), (-0.5, 2 * np.sqrt(2)), (0.0, 1e-3)])
def test_exact_power_laws(exponent, prefactor):
    x = np.geomspace(1e-3, 1e3, 13)
    fit = lgan.power_law_fit(x, prefactor * x**exponent)
    # Exact data: only round-off in the logs remains (tolerance fixed before running: 1e-12).
    assert fit.exponent == pytest.approx(exponent, abs=1e-12)
    assert fit.prefactor == pytest.approx(prefactor, rel=1e-12)
    np.testing.assert_allclose(fit(x), prefactor * x**exponent, rtol=1e-11)


def test_matches_an_independent_least_squares():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.01, 100.0, 40)
    y = 2.5 * x**-1.3 * np.exp(0.3 * rng.standard_normal(40))  # noisy data
    fit = lgan.power_law_fit(jnp.asarray(x), list(y))
    reference = scipy.stats.linregress(np.log(x), np.log(y))
    assert fit.exponent == pytest.approx(reference.slope, rel=1e-12)
    assert np.log(fit.prefactor) == pytest.approx(reference.intercept, rel=1e-12, abs=1e-12)


def test_two_points_give_the_line_through_them():
    fit = lgan.power_law_fit([2.0, 8.0], [3.0, 48.0])  # 48 / 3 = (8 / 2)^2
    assert fit.exponent == pytest.approx(2.0, rel=1e-14)
    assert fit.prefactor == pytest.approx(0.75, rel=1e-14)
    assert isinstance(fit.exponent, float) and isinstance(fit.prefactor, float)


@pytest.mark.parametrize(
    "x, y, message",
    [
        ([1.0, 2.0], [1.0, 0.0], r"y must be > 0, got 0.0 at index \(1,\)"),
        ([1.0, -2.0], [1.0, 2.0], r"x must be > 0, got -2.0 at index \(1,\)"),
        ([1.0, np.nan], [1.0, 2.0], r"x must be finite, got nan at index \(1,\)"),
        ([1.0, 2.0], [np.inf, 2.0], r"y must be finite, got inf at index \(0,\)"),
        ([1.0], [1.0], r"x must be a 1-D array of at least 2 values, got shape \(1,\)"),
        ([[1.0, 2.0]], [1.0, 2.0], r"x must be a 1-D array of at least 2 values, got shape \(1, 2\)"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "x and y must have the same length, got 3 and 2"),
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "x must hold at least two distinct values"),
        ([1.0, 2.0], [1.0, 2.0 + 1j], "y must be real"),
        ("ab", [1.0, 2.0], "x must be a real number or array"),
        ([1e-300, 1e-299], [1e300, 1e-300], "not representable in float64"),
    ],
)
def test_bad_input(x, y, message):
    with pytest.raises(ValueError, match=message):
        lgan.power_law_fit(x, y)
