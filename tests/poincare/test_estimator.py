import os
import subprocess
import sys
import textwrap
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan
from lgan._core._validation import working_dtype
from lgan._poincare._quotient import _batch_quotient, _quotient

ROOT = Path(__file__).resolve().parents[2]


def gaussian(n, seed):
    return np.random.default_rng(seed).standard_normal((n, 1))


# ----------------------------------------------------------------------------- the batch loss (eq. 32)


class _Affine(eqx.Module):
    """w(x) = a . x + b: a stateless test function with a known quotient ``|a|^2 / Var(a . x)``."""

    a: jax.Array
    b: jax.Array

    def __call__(self, x, state):
        return jnp.dot(self.a, x) + self.b, state


class _ScaleShift(eqx.Module):
    """c w(x) + t for a stateful network w."""

    net: eqx.Module
    c: float
    t: float

    def __call__(self, x, state):
        y, state = self.net(x, state)
        return self.c * y + self.t, state


def test_rayleigh_quotient_of_linear_function():
    x = jax.random.normal(jax.random.key(0), (500, 2)) * jnp.array([1.0, 3.0])
    a = jnp.array([2.0, -1.0])
    model = _Affine(a, jnp.array(5.0))
    value, _ = lgan.rayleigh_quotient(model, eqx.nn.State(model), x)
    expected = jnp.sum(a**2) / jnp.var(x @ a)
    assert np.isclose(float(value), float(expected), rtol=1e-10)
    # A batch of one point repeated: w is constant, there is no quotient (NaN, a skipped step).
    value, _ = lgan.rayleigh_quotient(model, eqx.nn.State(model), jnp.ones((5, 2)))
    assert np.isnan(float(value))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_loss_takes_a_round_off_spread_for_no_variance(dtype):
    # The training loss (eq. 32) follows the rule of _quotient in the batch's own precision: values
    # 1 + k ulps are no variance (NaN: the step is skipped), a spread of 1e-2 is, to 1000 ulps.
    eps = float(np.finfo(dtype).eps)
    ulps = jnp.asarray(1.0 + eps * (np.arange(9) % 8), dtype)
    assert ulps.dtype == dtype and np.isnan(float(_batch_quotient(ulps, jnp.ones(9, dtype))))
    spread = 1.0 + 1e-2 * np.arange(9)
    value = _batch_quotient(jnp.asarray(spread, dtype), jnp.full(9, 2.0, dtype))
    assert float(value) == pytest.approx(2.0 / np.var(spread), rel=1000 * eps)


def _clone(state):
    leaves, treedef = jax.tree_util.tree_flatten(state)
    return jax.tree_util.tree_unflatten(treedef, leaves)


def test_rayleigh_quotient_is_scale_and_shift_invariant(key):
    model, state = eqx.nn.make_with_state(lgan.SpectralNormMLP)(2, width=16, key=key)
    x = jax.random.normal(jax.random.key(1), (64, 2))
    value, new_state = lgan.rayleigh_quotient(model, _clone(state), x)
    scaled, _ = lgan.rayleigh_quotient(_ScaleShift(model, 3.0, 0.0), _clone(state), x)
    shifted, _ = lgan.rayleigh_quotient(_ScaleShift(model, 3.0, -7.0), _clone(state), x)
    assert float(value) > 0
    assert np.isclose(float(scaled), float(value), rtol=1e-10)
    assert np.isclose(float(shifted), float(value), rtol=1e-10)
    # The state was advanced (one power iteration) and can be used again.
    again, _ = lgan.rayleigh_quotient(model, new_state, x)
    assert np.isfinite(float(again))


def test_rayleigh_quotient_is_differentiable(key):
    model, state = eqx.nn.make_with_state(lgan.SpectralNormMLP)(1, width=8, key=key)
    x = jax.random.normal(jax.random.key(1), (32, 1))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    grads = jax.grad(lambda p: lgan.rayleigh_quotient(eqx.combine(p, static), state, x)[0])(params)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    assert any(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(grads))


# ----------------------------------------------------------------------------- accuracy against the exact solvers

# Seeds, sample sizes and step counts are fixed; the numbers in the comments are what these
# settings give (estimate vs exact). Sampling noise of n = 20000 points is about 1%.


@pytest.mark.slow
def test_standard_gaussian_within_5_percent():
    result = lgan.estimate_poincare_constant(gaussian(20000, 0), key=jax.random.key(0), num_steps=1000)
    assert abs(result.xi - 1.0) <= 0.05  # exact 1
    assert result.learning_curve.shape == (1000,)
    assert np.all(np.isfinite(result.learning_curve))


@pytest.mark.slow
@pytest.mark.parametrize("separation, num_steps", [(2.0, 1500), (4.0, 2000)])
def test_two_gaussian_mixture_within_5_percent(separation, num_steps):
    mixture = lgan.two_gaussian_mixture(separation)
    exact = lgan.poincare_constant(mixture, mixture.domain())
    data = mixture.sample(20000, seed=0)[:, None]
    result = lgan.estimate_poincare_constant(data, key=jax.random.key(0), num_steps=num_steps)
    assert abs(result.xi / exact - 1) <= 0.05, (result.xi, exact)


@pytest.mark.slow
def test_gaussian_ring_within_10_percent():
    ring = lgan.ring_of_gaussians(8, radius=2.0, std=0.7)
    exact = lgan.weighted_laplacian_spectrum_2d(ring, ring.domain(6.0), num_modes=1, num_cells=120).xi_min
    data = ring.sample(20000, key=jax.random.key(1))
    result = lgan.estimate_poincare_constant(data, key=jax.random.key(0), num_steps=2000)
    assert abs(result.xi / exact - 1) <= 0.10, (result.xi, exact)


@pytest.mark.slow
def test_estimate_is_an_upper_bound_on_a_large_sample():
    # On the empirical measure the quotient of any w is >= that measure's xi_min, which for
    # 200000 samples of N(0, 1) is within about 0.3% of 1.
    result = lgan.estimate_poincare_constant(gaussian(200000, 3), key=jax.random.key(3), num_steps=300)
    assert result.xi >= 1.0 * (1 - 0.01)


# ----------------------------------------------------------------------------- behaviour


def test_same_seed_same_result():
    data = gaussian(500, 0)
    a = lgan.estimate_poincare_constant(data, key=jax.random.key(7), num_steps=40, batch_size=64)
    b = lgan.estimate_poincare_constant(data, key=jax.random.key(7), num_steps=40, batch_size=64)
    c = lgan.estimate_poincare_constant(data, key=jax.random.key(8), num_steps=40, batch_size=64)
    assert a.xi == b.xi and a.xi_min == a.xi
    np.testing.assert_array_equal(a.learning_curve, b.learning_curve)
    assert c.xi != a.xi


def test_rescaling_the_data_divides_xi_by_the_square():
    data = gaussian(500, 1)
    a = lgan.estimate_poincare_constant(data, key=jax.random.key(0), num_steps=40, batch_size=64)
    b = lgan.estimate_poincare_constant(3.0 * data, key=jax.random.key(0), num_steps=40, batch_size=64)
    assert np.isclose(9 * b.xi, a.xi, rtol=1e-6)


def test_progress_is_called_about_every_percent():
    calls = []
    lgan.estimate_poincare_constant(
        gaussian(300, 0), key=jax.random.key(0), num_steps=250, batch_size=32, progress=lambda s, l: calls.append((s, l))
    )
    steps = [s for s, _ in calls]
    assert 80 <= len(calls) <= 130
    assert steps == sorted(steps) and steps[-1] == 249
    assert all(np.isfinite(l) for _, l in calls)


@pytest.mark.slow
def test_augmentation_changes_the_measure():
    # x + 0.5 z with z ~ N(0, 1) is N(0, 1.25): xi_min = 1 / 1.25 = 0.8.
    def jitter(key, batch):
        return batch + 0.5 * jax.random.normal(key, batch.shape)

    result = lgan.estimate_poincare_constant(
        gaussian(5000, 0), key=jax.random.key(0), augmentation=jitter, num_steps=600, eval_sweeps=3
    )
    assert abs(result.xi / 0.8 - 1) <= 0.05


def test_images_and_custom_network(key):
    images = jax.random.uniform(key, (40, 1, 8, 8))
    result = lgan.estimate_poincare_constant(images, key=key, width=2, num_steps=3, batch_size=8)
    assert np.isfinite(result.xi) and result.xi > 0
    y, _ = eqx.nn.inference_mode(result.model)(images[0], result.state)
    assert y.shape == ()
    network = eqx.nn.make_with_state(lgan.SpectralNormMLP)(1, width=4, depth=1, key=key)
    result = lgan.estimate_poincare_constant(gaussian(100, 0), key=key, network=network, num_steps=5, batch_size=16)
    assert np.isfinite(result.xi) and result.learning_curve.shape == (5,)


@pytest.mark.parametrize(
    "data, kwargs, match",
    [
        (np.zeros((0, 1)), {}, "data must not be empty"),
        (np.ones((1, 1)), {}, "data must have at least 2 samples"),
        (np.array([[0.0], [np.nan], [1.0]]), {}, r"data must be finite, got nan at index \(1, 0\)"),
        (np.array([[0.0], [np.inf], [1.0]]), {}, "data must be finite, got inf"),
        (np.zeros(10), {}, r"data must have rank 2.*add a feature axis: data\[:, None\]"),
        (np.zeros((10, 8, 8)), {}, r"data must have rank 2.*add a channel axis: data\[:, None\]"),
        (np.zeros((10, 1, 2, 2, 2)), {}, "data must have rank 2, shape \\(n, d\\), or rank 4"),
        (np.array([["a"], ["b"]]), {}, "data must hold real numbers"),
        (np.ones((10, 2)), {}, "data must not be constant"),
        (None, {"batch_size": 1}, "batch_size must be an integer >= 2, got 1"),
        (None, {"batch_size": 11}, r"batch_size must be at most the number of samples \(10\), got 11"),
        (None, {"num_steps": 0}, "num_steps must be an integer >= 1, got 0"),
        (None, {"learning_rate": 0.0}, "learning_rate must be > 0, got 0.0"),
        (None, {"learning_rate": -1e-3}, "learning_rate must be > 0"),
        (None, {"eval_sweeps": 0}, "eval_sweeps must be an integer >= 1, got 0"),
        (None, {"input_gain": 0.0}, "input_gain must be > 0"),
        (None, {"width": 0}, "width must be an integer >= 1"),
        (None, {"depth": 0}, "depth must be an integer >= 1"),
        (None, {"augmentation": 3}, "augmentation must be a callable"),
        (None, {"progress": "bar"}, "progress must be a callable"),
        (None, {"network": "mlp"}, r"network must be a pair \(model, state\)"),
    ],
)
def test_errors_before_training(data, kwargs, match):
    if data is None:
        data = gaussian(10, 0)
    kwargs = {"batch_size": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        lgan.estimate_poincare_constant(data, key=jax.random.key(0), **kwargs)


# ----------------------------------------------------------------------------- data parallel

_SUBPROCESS = """
import sys
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np
import lgan
data = np.random.default_rng(0).standard_normal((4000, 1))
result = lgan.estimate_poincare_constant(data, key=jax.random.key(0), num_steps=300, batch_size=256)
print(len(jax.devices()), repr(result.xi))
"""


@pytest.mark.slow
def test_four_host_devices_match_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SUBPROCESS)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    num_devices, xi4 = out.stdout.split()
    assert num_devices == "4"
    assert len(jax.devices()) == 1  # this process: one device
    xi1 = lgan.estimate_poincare_constant(gaussian(4000, 0), key=jax.random.key(0), num_steps=300, batch_size=256).xi
    assert abs(float(xi4) / xi1 - 1) <= 0.05  # the same minibatches; only the order of sums differs
    assert abs(xi1 - 1) <= 0.1


# ----------------------------------------------------------------------------- no silent wrong answer


@pytest.mark.parametrize("scale", [1e-30, 1e30])
def test_badly_scaled_data_give_the_rescaled_answer(float32, scale):
    # xi scales as 1 / c^2 under x -> c x; in float32 the gradients used to under- or overflow (NaN).
    data = gaussian(400, 0)
    kwargs = dict(key=jax.random.key(0), num_steps=60, batch_size=64)
    base = lgan.estimate_poincare_constant(data, **kwargs).xi
    scaled = lgan.estimate_poincare_constant(scale * data, **kwargs)
    assert np.isfinite(scaled.xi) and scaled.xi * scale**2 == pytest.approx(base, rel=1e-3)
    assert np.all(np.isfinite(scaled.learning_curve))


def test_data_with_a_huge_mean_keep_their_variation(float32):
    data = gaussian(400, 0)
    kwargs = dict(key=jax.random.key(0), num_steps=60, batch_size=64)
    base = lgan.estimate_poincare_constant(data, **kwargs).xi
    assert lgan.estimate_poincare_constant(1e10 + data, **kwargs).xi == pytest.approx(base, rel=1e-3)


def test_data_whose_xi_is_not_a_float64_number():
    with pytest.raises(ValueError, match=r"data: xi_min = .* / spread\^2 with spread .*e\+\d+ is not a normal float64 number"):
        lgan.estimate_poincare_constant(1e300 * gaussian(20, 0), key=jax.random.key(0), num_steps=2, batch_size=4)


def test_zero_variance_minibatches_are_skipped():
    # batch_size 2 on 4 samples draws the same sample twice a quarter of the time; repeated rows
    # make most batches constant. Those steps are skipped (loss NaN) instead of poisoning the weights.
    result = lgan.estimate_poincare_constant(gaussian(4, 0), key=jax.random.key(0), num_steps=50, batch_size=2)
    assert np.isfinite(result.xi) and result.xi > 0
    assert np.any(~np.isfinite(result.learning_curve)) and np.any(np.isfinite(result.learning_curve))
    repeated = np.concatenate([np.zeros((98, 1)), gaussian(2, 1)])
    result = lgan.estimate_poincare_constant(repeated, key=jax.random.key(0), num_steps=20, batch_size=4)
    assert np.isfinite(result.xi) and result.xi > 0


@pytest.mark.parametrize(
    "data, kwargs, error, match",
    [
        (np.random.default_rng(0).uniform(size=(6, 1, 1, 1)), {}, ValueError,
         r"data must be images of at least 8x8 pixels for the default convolutional network .* got 1x1"),
        (np.random.default_rng(0).uniform(size=(6, 1, 7, 9)), {}, ValueError, "got 7x9"),
        (3 * np.random.default_rng(0).uniform(size=(6, 1, 8, 8)), {"augmentation": lgan.make_augmentation("zoom_in", 0.2)},
         ValueError, r"data must be images of shape \(n, C, H, W\) with values in \[0, 1\] for the augmentation 'zoom_in', got values in"),
        (None, {"learning_rate": 1e300}, ValueError, r"learning_rate must be at most 1e3 .*got 1e\+300"),
        (None, {"input_gain": 1e30}, ValueError, r"input_gain must be at most 1e6, got 1e\+30"),
        (None, {"learning_rate": "0.1"}, TypeError, "learning_rate must be a real number or array, got str"),
        (None, {"key": 0}, TypeError, r"key must be a PRNG key such as jax.random.key\(0\), got 0"),
        (np.ones((4, 2)) * 1j, {}, TypeError, "data must hold real numbers, got dtype complex128"),
        ("abc", {}, ValueError, "data must hold real numbers, got str"),
    ],
)
def test_bad_inputs_fail_before_training(data, kwargs, error, match):
    if data is None:
        data = gaussian(10, 0)
    kwargs = {"key": jax.random.key(0), "batch_size": 4, "num_steps": 2, **kwargs}
    with pytest.raises(error, match=match):
        lgan.estimate_poincare_constant(data, **kwargs)


def test_custom_network_data_must_fit_the_working_dtype(float32, key):
    network = eqx.nn.make_with_state(lgan.SpectralNormMLP)(1, 8, 1, key=key)
    with pytest.raises(ValueError, match=r"data must be finite in float32 \(at most 3.403e\+38 in absolute value\)"):
        lgan.estimate_poincare_constant(1e39 * gaussian(10, 0), key=key, network=network, num_steps=2, batch_size=4)


# ----------------------------------------------------------------------------- the trained estimate on new points


def _finite_difference_quotient(est, x, h=1e-5):
    """mean |grad w|^2 / Var w with w called one sample at a time and central differences (float64)."""
    model = eqx.nn.inference_mode(est.model)

    def w(point):
        return float(model(jnp.asarray(point), est.state)[0])

    values = np.array([w(p) for p in x])
    grad_sq = np.zeros(len(x))
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        grad_sq += np.array([(w(p + e) - w(p - e)) / (2 * h) for p in x]) ** 2
    return values, np.mean(grad_sq) / np.var(values)


def test_evaluate_and_quotient_match_a_hand_written_loop():
    data = np.random.default_rng(0).standard_normal((300, 2)) * [1.0, 2.0]
    est = lgan.estimate_poincare_constant(data, key=jax.random.key(0), num_steps=30, batch_size=64, width=16)
    fresh = np.random.default_rng(1).standard_normal((40, 2)) * [1.0, 2.0]
    values, expected = _finite_difference_quotient(est, fresh)
    np.testing.assert_allclose(est.evaluate(fresh), values, rtol=1e-12)
    assert est.quotient(fresh) == pytest.approx(expected, rel=1e-6)  # central differences, h = 1e-5
    # On the training data (no augmentation) the quotient is the estimate itself.
    assert est.quotient(data) == pytest.approx(est.xi, rel=1e-12)


def test_quotient_of_standardised_data_is_in_the_units_of_x(float32):
    # Data at 1e-30 are standardised on the host: evaluate and quotient take the raw points.
    data = 1e-30 * gaussian(400, 0)
    est = lgan.estimate_poincare_constant(data, key=jax.random.key(0), num_steps=40, batch_size=64)
    assert est.input_shift is not None and est.input_scale == pytest.approx(1e-30, rel=0.2)
    assert est.quotient(data) == pytest.approx(est.xi, rel=1e-5)
    unit = lgan.estimate_poincare_constant(gaussian(400, 0), key=jax.random.key(0), num_steps=40, batch_size=64)
    fresh = gaussian(200, 5)
    assert est.quotient(1e-30 * fresh) * 1e-60 == pytest.approx(unit.quotient(fresh), rel=1e-3)
    assert np.all(np.isfinite(est.evaluate(1e-30 * fresh)))


@pytest.mark.parametrize(
    "x, match",
    [
        (np.ones((5, 3)), r"x must have samples of shape \(1,\), got shape \(5, 3\)"),
        (np.ones((1, 1)), "x must have at least 2 samples"),
        (np.ones((5, 1)), "x: the trained w has no finite positive quotient"),
        (np.full((5, 1), np.nan), "x must be finite"),
        (np.ones(5), "x must have rank 2"),
    ],
)
def test_quotient_errors(x, match):
    est = lgan.estimate_poincare_constant(gaussian(50, 0), key=jax.random.key(0), num_steps=2, batch_size=8)
    with pytest.raises(ValueError, match=match):
        est.quotient(x)


@pytest.mark.parametrize("rows", [5, 9, 33])
def test_equal_samples_have_no_quotient_whatever_the_batch_rounds(rows):
    # A batched network may return equal inputs a few ulps apart (vectorised and remainder rows
    # round differently on some CPUs); that spread is round-off, not variance. The rule, on values
    # 1 + k ulps: a spread of up to 64 ulps of max |w| is no variance, a spread of 1e-3 is.
    ulps = 1.0 + np.finfo(working_dtype()).eps * (np.arange(rows) % 8)
    assert np.isnan(_quotient(ulps, np.ones(rows)))
    spread = 1.0 + 1e-3 * np.arange(rows)
    assert _quotient(spread, np.ones(rows)) == pytest.approx(1.0 / np.var(spread), rel=1e-12)
    est = lgan.estimate_poincare_constant(gaussian(50, 0), key=jax.random.key(0), num_steps=2, batch_size=8)
    with pytest.raises(ValueError, match="no finite positive quotient"):
        est.quotient(np.full((rows, 1), 0.3))
