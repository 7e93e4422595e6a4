"""Samples and discriminator grids against point-by-point calls; hitting times and decay rates on curves with known answers."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan

KEYS = jax.random.split(jax.random.key(0), 3)
STATES = lgan.mlp_gan_batch(2, latent_dim=3, width=6, depth=2, keys=KEYS)
SINGLES = [lgan.mlp_gan(2, latent_dim=3, width=6, depth=2, key=k) for k in KEYS]
Z = jax.random.normal(jax.random.key(1), (5, 3))
X_AXIS, Y_AXIS = np.linspace(-2.0, 2.0, 4), np.linspace(0.0, 1.0, 3)


def test_generator_samples_equal_calls_one_latent_at_a_time():
    # Independent reference: G called on each z_i in a Python loop (float64; rtol 1e-12 fixed in advance).
    one = lgan.generator_samples(SINGLES[0], Z)
    np.testing.assert_allclose(one, np.stack([SINGLES[0].generator(z) for z in Z]), rtol=1e-12)
    batch = lgan.generator_samples(STATES, Z, batch_dims=1)
    assert batch.shape == (3, 5, 2)
    for r, state in enumerate(SINGLES):
        np.testing.assert_allclose(batch[r], np.stack([state.generator(z) for z in Z]), rtol=1e-12)


def test_discriminator_on_grid_equals_calls_point_by_point():
    values = lgan.discriminator_on_grid(SINGLES[1], X_AXIS, Y_AXIS)
    assert values.shape == (3, 4)  # (len(y), len(x)), as plt.contour(x, y, values) expects
    for iy, y in enumerate(Y_AXIS):
        for ix, x in enumerate(X_AXIS):
            assert float(values[iy, ix]) == pytest.approx(float(SINGLES[1].discriminator(jnp.array([x, y]))), rel=1e-12)
    # Two run axes (a (1, 3) batch): each run is the single state's grid.
    two = jax.tree_util.tree_map(lambda a: a[None] if eqx.is_array(a) else a, STATES)
    batch = lgan.discriminator_on_grid(two, X_AXIS, Y_AXIS, batch_dims=2)
    assert batch.shape == (1, 3, 3, 4)
    for r, state in enumerate(SINGLES):
        np.testing.assert_allclose(batch[0, r], lgan.discriminator_on_grid(state, X_AXIS, Y_AXIS), rtol=1e-12)


def test_discriminator_on_a_1d_grid_and_inside_jit():
    state = lgan.mlp_gan(1, latent_dim=1, width=4, depth=1, key=jax.random.key(2))
    axis = jnp.linspace(-3.0, 3.0, 7)
    ref = np.array([float(state.discriminator(jnp.array([x]))) for x in axis])
    np.testing.assert_allclose(lgan.discriminator_on_grid(state, axis), ref, rtol=1e-12)
    # Traceable: usable in a metric_fn of the GAN flow, whose state is traced.
    traced = eqx.filter_jit(lambda st: lgan.discriminator_on_grid(st, axis))(state)
    np.testing.assert_allclose(traced, ref, rtol=1e-12)
    z = jnp.linspace(-1.0, 1.0, 4)[:, None]
    traced_samples = eqx.filter_jit(lambda st, zz: lgan.generator_samples(st, zz))(state, z)
    np.testing.assert_allclose(traced_samples, np.stack([state.generator(x) for x in z]), rtol=1e-12)


def test_evaluation_argument_errors():
    with pytest.raises(ValueError, match=r"z must have shape \(n, 3\) \(n latents of dimension k = 3\), got shape \(5, 2\)"):
        lgan.generator_samples(SINGLES[0], Z[:, :2])
    with pytest.raises(ValueError, match="z must be finite"):
        lgan.generator_samples(SINGLES[0], Z.at[0, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="got 1 axes, but the discriminator does not map vectors of dimension 1"):
        lgan.discriminator_on_grid(SINGLES[0], X_AXIS)
    with pytest.raises(ValueError, match="needs one 1-D array of coordinates per data dimension, got none"):
        lgan.discriminator_on_grid(SINGLES[0])
    with pytest.raises(ValueError, match=r"axes\[1\] must have shape \(m,\)"):
        lgan.discriminator_on_grid(SINGLES[0], X_AXIS, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"axes\[0\] must be finite"):
        lgan.discriminator_on_grid(SINGLES[0], [np.inf, 0.0], Y_AXIS)
    with pytest.raises(ValueError, match="state must have 2 leading run axes"):
        lgan.generator_samples(STATES, Z, batch_dims=2)
    with pytest.raises(ValueError, match="batch_dims must be an integer >= 0, got -1"):
        lgan.generator_samples(STATES, Z, batch_dims=-1)


# ----------------------------------------------------------------------------- metric curves

T = np.arange(0.0, 10.5, 0.5)


def test_hitting_time_at_a_known_crossing():
    # exp(-t) < e^{-3.2} first at the grid time 3.5.
    assert lgan.hitting_time(T, np.exp(-T), np.exp(-3.2)) == 3.5
    # t e^{-t} rises to its peak at t = 1: it starts below 0.2 (t = 0), and after the peak it is
    # first below 0.2 at t = 3 (2.5 e^{-2.5} = 0.205, 3 e^{-3} = 0.149).
    bump = T * np.exp(-T)
    assert lgan.hitting_time(T, bump, 0.2) == 0.0
    assert lgan.hitting_time(T, bump, 0.2, after_peak=True) == 3.0
    # A batch, NaN entries skipped, and inf for a curve that never crosses.
    masked = np.exp(-T)
    masked[5:9] = np.nan  # t = 2.5 .. 4 masked
    out = lgan.hitting_time(T, np.stack([np.exp(-T), masked, np.ones_like(T)]), np.exp(-3.2))
    assert out.tolist() == [3.5, 4.5, np.inf]


def test_windowed_decay_rate_of_exponential_pieces():
    # Rises as e^t up to t = 2, then decays at rate r until it reaches the level 1e-2, then stays flat:
    # the window [peak, first value below the level] holds exactly the decaying piece, so the fit is r.
    def curve(r):
        v = np.where(T <= 2, np.exp(T), np.exp(2 + r * (T - 2)))
        first = np.flatnonzero(v < 1e-2)[0]
        v[first + 1 :] = v[first]  # the flat tail must not enter the window
        return v

    assert lgan.windowed_decay_rate(T, curve(-3.0), 1e-2) == pytest.approx(-3.0, rel=1e-10)
    np.testing.assert_allclose(lgan.windowed_decay_rate(T, np.stack([curve(-3.0), curve(-5.0)]), 1e-2), [-3.0, -5.0], rtol=1e-10)
    # Never below the level: the window runs to the end.
    assert lgan.windowed_decay_rate(T, np.exp(-0.25 * T), 1e-9) == pytest.approx(-0.25, rel=1e-10)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: lgan.hitting_time(T[::-1], T, 1.0), ValueError, "times must be a non-empty increasing 1-D array"),
        (lambda: lgan.hitting_time(T, T[:-1], 1.0), ValueError, r"values must have shape \(..., 21\)"),
        (lambda: lgan.hitting_time(T, T, "a"), TypeError, "level must be a real number or array"),
        (lambda: lgan.hitting_time(T, T + np.inf, 1.0), ValueError, "values must be finite or NaN"),
        (lambda: lgan.windowed_decay_rate(T, np.exp(-T), 0.0), ValueError, "level must be > 0, got 0.0"),
        (lambda: lgan.windowed_decay_rate(T, np.exp(-T), 0.7), ValueError, "fewer than 3 points"),
        (lambda: lgan.windowed_decay_rate(T, np.where(T < 5, 1 - T / 4, 0.5), 0.01), ValueError,
         "values in the decay window must be > 0"),
    ],
)  # fmt: skip
def test_curve_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
