"""Batches of GAN states and sweeps over seeds x settings, against states built and runs made one by one."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan
from helpers import tree_allclose

DATA = np.asarray(jax.random.normal(jax.random.key(11), (32,)) * 0.5 + 1.0)
INIT_KEYS = jax.random.split(jax.random.key(3), 2)
SMALL = dict(data_dim=1, latent_dim=1, width=4, depth=1)


def _params(state):
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree_util.tree_leaves(eqx.filter(state, eqx.is_inexact_array))])


def test_batch_of_states_equals_states_built_one_by_one():
    keys = jax.random.split(jax.random.key(0), 3)
    batch = lgan.mlp_gan_batch(2, latent_dim=3, width=5, depth=2, keys=keys)
    for r in range(3):
        one = lgan.mlp_gan(2, latent_dim=3, width=5, depth=2, key=keys[r])
        picked = jax.tree_util.tree_map(lambda a: a[r] if eqx.is_array(a) else a, batch)
        assert tree_allclose(picked, one, rtol=0.0)  # bit for bit
    assert batch.latent_dim == 3


def test_select_state_picks_runs_and_snapshots():
    # A (2, 3) batch stacked by hand from six separately built states.
    keys = jax.random.split(jax.random.key(1), 6)
    singles = [lgan.mlp_gan(**SMALL, key=k) for k in keys]
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a).reshape((2, 3) + a[0].shape) if eqx.is_array(a[0]) else a[0], *singles)
    for i in range(2):
        for j in range(3):
            assert tree_allclose(lgan.select_state(stacked, (i, j)), singles[3 * i + j], rtol=0.0)
    assert tree_allclose(lgan.select_state(stacked, (-1, -1)), singles[5], rtol=0.0)
    row = lgan.select_state(stacked, 1)  # one index: the first axis only
    assert tree_allclose(lgan.select_state(row, 2), singles[5], rtol=0.0)


def test_sweep_grid_equals_single_runs_at_each_seed_and_setting():
    # Run (i, j) must be the single run from state i with key i at setting j (float64; the sweep
    # docstring promises agreement to round-off: rtol 1e-10, fixed before running).
    states = lgan.mlp_gan_batch(**SMALL, keys=INIT_KEYS)
    run_keys = jax.random.split(jax.random.key(5), 2)
    steps, lams = np.array([0.05, 0.2]), np.array([0.0, 0.3])
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", lam=0.0)
    grid = lgan.sweep_grid(
        flow, states, DATA, keys=run_keys, settings={"step": steps, "lam": lams}, num_steps=6, solver="heun", batch_size=8,
        save_every=2,
    )  # fmt: skip
    assert grid.metrics["loss_d"].shape == (2, 2, 4) and grid.diverged.shape == (2, 2)
    assert grid.valid.shape == (2, 2, 4)
    for i in range(2):
        state = lgan.mlp_gan(**SMALL, key=INIT_KEYS[i])
        for j in range(2):
            single = lgan.solve_gan_flow(
                lgan.gan_flow("standard", generator_loss="non_saturating", lam=float(lams[j])), state, DATA, solver="heun",
                step=float(steps[j]), num_steps=6, batch_size=8, save_every=2, key=run_keys[i],
            )  # fmt: skip
            for name, values in single.metrics.items():
                np.testing.assert_allclose(grid.metrics[name][i, j], values, rtol=1e-10, atol=1e-12)
            final = jax.tree_util.tree_map(lambda a: a[i, j] if eqx.is_array(a) else a, grid.final)
            np.testing.assert_allclose(_params(final), _params(single.final), rtol=1e-10)
            np.testing.assert_allclose(grid.times[i, j], single.times, rtol=1e-12)


@pytest.mark.slow
def test_sweep_grid_with_one_key_per_run_and_a_shared_step():
    # keys of shape (seeds, settings): run (i, j) is lgan.sweep's run with keys[i, j]; no settings
    # but keys (2, 2) gives two runs per seed that differ only in their minibatches.
    states = lgan.mlp_gan_batch(**SMALL, keys=INIT_KEYS)
    keys = jax.random.split(jax.random.key(6), 4).reshape(2, 2)
    flow = lgan.gan_flow("standard")
    grid = lgan.sweep_grid(flow, states, DATA, keys=keys, step=0.1, num_steps=4, solver="euler", batch_size=8)
    flat_states = jax.tree_util.tree_map(lambda a: jnp.repeat(a, 2, axis=0) if eqx.is_array(a) else a, states)
    ref = lgan.sweep(flow, flat_states, DATA, keys=keys.reshape(-1), step=0.1, num_steps=4, solver="euler", batch_size=8,
                     batched_state=True)  # fmt: skip
    np.testing.assert_allclose(grid.metrics["loss_d"].reshape(4, -1), ref.metrics["loss_d"], rtol=1e-12)
    assert not np.allclose(grid.metrics["loss_d"][0, 0], grid.metrics["loss_d"][0, 1])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(settings={"step": [0.1, 0.2], "gamma": [0.1]}), ValueError, "settings must all have the same length"),
        (dict(settings={"stepsize": [0.1]}), ValueError, "settings keys must be among 'step', 'alpha'"),
        (dict(settings={"step": [0.1, -0.2]}), ValueError, r"settings\['step'\] must be > 0, got -0.2"),
        (dict(settings={"step": 0.1}), ValueError, r"settings\['step'\] must be a concrete 1-D array"),
        (dict(settings={"step": ["a"]}), TypeError, r"settings\['step'\] must be a real number or array"),
        (dict(settings={"lam": [0.1]}), ValueError, "step must be given, as settings"),
        (dict(settings={"step": [0.1]}, step=0.1), ValueError, r"sweep_grid sets \['step'\] itself"),
        (dict(settings={"step": [0.1]}, hyperparameters={}), ValueError, r"sweep_grid sets \['hyperparameters'\]"),
        (dict(settings=[0.1]), TypeError, "settings must be a dict"),
        (dict(step=0.1, keys=jax.random.split(jax.random.key(0), 3)), ValueError, "states must have a leading axis of size 3"),
        (dict(step=0.1, keys=np.zeros(2)), TypeError, "keys must be an array of typed PRNG keys"),
        (dict(step=0.1, keys=jax.random.key(0)), ValueError, r"keys must have shape \(r,\) or \(r, s\)"),
        (dict(settings={"step": [0.1, 0.2, 0.3]}, keys=jax.random.split(jax.random.key(0), 4).reshape(2, 2)), ValueError,
         r"keys of shape \(r, s\) must have s = 3"),
    ],
)  # fmt: skip
def test_sweep_grid_argument_errors(kwargs, error, match):
    states = lgan.mlp_gan_batch(**SMALL, keys=INIT_KEYS)
    args = dict(keys=jax.random.split(jax.random.key(0), 2), num_steps=4) | kwargs
    with pytest.raises(error, match=match):
        lgan.sweep_grid(lgan.gan_flow("standard", lam=0.0), states, DATA, **args)


def test_batch_and_selection_argument_errors():
    with pytest.raises(TypeError, match="keys must be an array of typed PRNG keys"):
        lgan.mlp_gan_batch(1, keys=[1, 2])
    with pytest.raises(ValueError, match=r"keys must have shape \(r,\)"):
        lgan.mlp_gan_batch(1, keys=jax.random.split(jax.random.key(0), 4).reshape(2, 2))
    with pytest.raises(ValueError, match="width must be an integer >= 1, got 0"):
        lgan.mlp_gan_batch(1, width=0, keys=INIT_KEYS)
    states = lgan.mlp_gan_batch(**SMALL, keys=INIT_KEYS)
    with pytest.raises(ValueError, match=r"index must lie within the leading shape \(2,\)"):
        lgan.select_state(states, 2)
    with pytest.raises(TypeError, match="index must be an integer or a non-empty tuple of integers"):
        lgan.select_state(states, True)
    with pytest.raises(ValueError, match="states must have 3 leading run axes"):
        lgan.select_state(states, (0, 0, 0))
    with pytest.raises(TypeError, match="states must be an lgan.GANState"):
        lgan.select_state({"a": jnp.zeros(2)}, 0)
