"""Property-based tests: wrong or extreme inputs to the public API never give a silent wrong answer.

For each public function one argument at a time is replaced by a generated value (NaN, infinities,
huge and tiny numbers, negative numbers, complex numbers, strings, None, booleans, arrays of the
wrong shape), the others kept valid. The call must either return finite output of a floating-point
(or, for eigenvalues, complex) dtype, or raise ``ValueError`` / ``TypeError`` whose one-line message
names the argument. Run with ``--hypothesis-show-statistics`` to see how many examples were tried.
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lgan

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

_extreme = st.sampled_from([0.0, -0.0, 5e-324, 1e-320, 1e-40, 1e-30, 1e20, 1e30, 1e40, 1e300, 1e308, -1e308, -1.0, -1e-30])
_number = st.one_of(
    _extreme,
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.complex_numbers(max_magnitude=1e10, allow_nan=False),
    st.booleans(),
)
_junk = st.one_of(st.text(max_size=3), st.none(), st.just([1.0, "a"]), st.just({"a": 1}))
BAD = st.one_of(_number, _junk, st.lists(_number, min_size=0, max_size=3))


def _finite_output(out) -> None:
    """Every number in the output is finite, in a floating-point or complex dtype."""
    for leaf in jax.tree_util.tree_leaves(out):  # no leaves (e.g. clip_weights(None)): no number at all
        if isinstance(leaf, (str, bool)) or leaf is None or callable(leaf) and not hasattr(leaf, "dtype"):
            continue
        arr = np.asarray(leaf)
        if arr.dtype == object:
            continue
        assert np.issubdtype(arr.dtype, np.number), arr.dtype
        assert np.all(np.isfinite(arr)), f"non-finite output {arr!r}"


def _check_call(fn, kwargs: dict, bad_name: str, *, allow_inf: bool = False) -> None:
    """fn(**kwargs) returns finite output or raises ValueError/TypeError naming ``bad_name``."""
    try:
        out = fn(**kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        assert "\n" not in message.strip(), message
        assert bad_name in message, f"{bad_name!r} not named in: {message}"
        return
    if allow_inf and np.all(np.isinf(out)):
        return
    _finite_output(out)


KEY = jax.random.key(0)
IMAGES = np.full((2, 1, 4, 4), 0.5)

# (function, valid keyword arguments). The argument that gets a generated value is drawn too.
CASES = {
    "lgan_eigenvalues": (lgan.lgan_eigenvalues, dict(xi=1.0, alpha=1.0, beta=1.0, gamma=0.5)),
    "spectral_abscissa": (lgan.spectral_abscissa, dict(xi=[1.0, 2.0], alpha=1.0, beta=1.0, gamma=0.5)),
    "slowest_rate": (lgan.slowest_rate, dict(xi_min=1.0, alpha=1.0, beta=1.0, gamma=0.5)),
    "optimal_parameters": (lgan.optimal_parameters, dict(beta=1.0, xi_min=0.5)),
    "euler_growth_factor": (lgan.euler_growth_factor, dict(eigenvalues=[-1.0 + 1j], step=0.1)),
    "largest_stable_step": (lgan.largest_stable_step, dict(solver="rk4", eigenvalues=[-1.0 + 1j, -2.0])),
    "step_matrix": (lgan.step_matrix, dict(solver="heun", operator=[[-1.0, 1.0], [-1.0, 0.0]], step=0.1)),
    "qin_solution": (lgan.qin_solution, dict(t=[0.0, 1.0], theta0=1.0, phi0=1.0, epsilon=0.1)),
    "qin_euler_growth": (lgan.qin_euler_growth, dict(step=0.1, epsilon=0.1)),
    "gaussian_mixture": (lgan.gaussian_mixture, dict(means=[0.0, 2.0], stds=[1.0, 0.5], weights=[1.0, 2.0])),
    "two_gaussian_mixture": (lgan.two_gaussian_mixture, dict(separation=3.0, std=1.0)),
    "ring_of_gaussians": (lgan.ring_of_gaussians, dict(num_modes=4, radius=2.0, std=0.5)),
    "clip_weights": (lgan.clip_weights, dict(discriminator=jnp.array([-2.0, 0.5]), clip=1.0)),
    "frechet_distance": (lgan.frechet_distance, dict(x=[[0.0], [1.0], [3.0]], y=[[1.0], [2.0], [2.5]])),
    "draw_minibatch": (lgan.draw_minibatch, dict(data=jnp.ones((4, 1)), latent_dim=1, batch_size=2, key=KEY)),
    "augment": (lgan.augment, dict(name="brightness", images=IMAGES, strength=0.2, key=KEY)),
    "make_augmentation": (lgan.make_augmentation, dict(name="cutout", strength=0.2)),
    "mlp_gan": (lgan.mlp_gan, dict(data_dim=1, latent_dim=1, width=2, depth=1, key=KEY)),
    "power_law_fit": (lgan.power_law_fit, dict(x=[1.0, 2.0, 4.0], y=[3.0, 12.0, 48.0])),
    "hitting_time": (lgan.hitting_time, dict(times=[0.0, 1.0, 2.0, 3.0], values=[1.0, 0.5, 0.2, 0.1], level=0.3)),
    "windowed_decay_rate": (
        lgan.windowed_decay_rate,
        dict(times=[0.0, 1.0, 2.0, 3.0, 4.0], values=[1.0, 0.5, 0.25, 0.125, 0.0625], level=0.1),
    ),
    "augmented_mixture": (lgan.augmented_mixture, dict(separation=6.0, p=0.2, std=1.0)),
    "sample_augmented_mixture": (
        lambda **kw: lgan.sample_augmented_mixture(16, **kw), dict(separation=6.0, p=0.2, key=KEY, std=1.0)
    ),
    "sample_two_gaussian_mixture": (
        lambda **kw: lgan.sample_two_gaussian_mixture(16, **kw), dict(separation=3.0, key=KEY, std=1.0)
    ),
    "grid_of_gaussians": (lambda **kw: lgan.grid_of_gaussians(3, **kw), dict(spacing=1.0, std=0.1)),
    "sample_swiss_roll": (lambda **kw: lgan.sample_swiss_roll(16, **kw), dict(key=KEY, noise=0.25, scale=0.5)),
    "make_augmentation_flat": (lgan.make_augmentation, dict(name="cutout", strength=0.2, image_shape=(1, 4, 4))),
}


# Sizes: an integer size of 1e30 is a request for memory, not a numerical input (it would abort
# the process instead of returning a wrong number), so sizes get every bad value but huge integers.
SIZES = {"batch_size", "latent_dim", "data_dim", "width", "depth", "num_modes"}
SIZE_BAD = BAD.filter(lambda v: not (isinstance(v, int) and not isinstance(v, bool) and abs(v) > 10**4))
# Arguments that are not numbers (any pytree passes through clip_weights unchanged).
NOT_NUMBERS = {"clip_weights": {"discriminator"}}
# inf is a right answer here: lambda = 0 constrains no step ("any step is stable").
INF_ALLOWED = {"largest_stable_step", "hitting_time"}  # hitting_time: inf = never below the level


def _call_case(name: str, data) -> None:
    fn, valid = CASES[name]
    names = sorted(set(valid) - NOT_NUMBERS.get(name, set()))
    bad_name = data.draw(st.sampled_from(names), label="argument")
    value = data.draw(SIZE_BAD if bad_name in SIZES else BAD, label="value")
    _check_call(fn, valid | {bad_name: value}, bad_name, allow_inf=name in INF_ALLOWED)


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_one_bad_argument_float64(name, data):
    _call_case(name, data)


@pytest.mark.parametrize("name", ["lgan_eigenvalues", "optimal_parameters", "step_matrix", "qin_solution", "frechet_distance"])
@SETTINGS
@given(data=st.data())
def test_one_bad_argument_float32(name, data):
    jax.config.update("jax_enable_x64", False)
    try:
        _call_case(name, data)
    finally:
        jax.config.update("jax_enable_x64", True)


@SETTINGS
@given(
    xi=st.floats(min_value=1e-300, max_value=1e300),
    alpha=st.floats(min_value=0.0, max_value=1e300),
    beta=st.floats(min_value=-1e300, max_value=1e300),
)
def test_lgan_eigenvalues_are_right_or_refused(xi, alpha, beta):
    """Finite extreme inputs: the roots satisfy the quadratic (to relative accuracy), or a clear error."""
    try:
        lam = np.asarray(lgan.lgan_eigenvalues(xi, alpha, beta))
    except ValueError as err:
        assert "overflows float64" in str(err) or "must be" in str(err)
        return
    assert np.all(np.isfinite(lam))
    # Vieta: lambda_+ + lambda_- = -alpha and lambda_+ lambda_- = beta^2 xi, checked in log space.
    total = lam[0] + lam[1]
    assert abs(total + alpha) <= 1e-6 * max(alpha, abs(lam[0]), abs(lam[1]), 1e-300)
    with np.errstate(over="ignore"):
        c = float(np.float64(beta) ** 2 * xi)
    if 1e-290 < c < 1e290 and abs(lam[0]) > 1e-290 and abs(lam[1]) > 1e-290:
        assert abs(lam[0] * lam[1]) == pytest.approx(c, rel=1e-6)


@SETTINGS
@given(size=st.floats(min_value=1e-300, max_value=1e300), angle=st.floats(min_value=0.55, max_value=1.45))
def test_largest_stable_step_is_scale_invariant(size, angle):
    lam = size * np.exp(1j * np.pi * angle)  # left half plane
    unit = lgan.largest_stable_step("rk4", [lam / size])
    assert lgan.largest_stable_step("rk4", [lam]) == pytest.approx(unit / size, rel=1e-9)
