"""Sweeps of many runs (lgan/_gan_flows/_sweep.py) and picking one run out of them."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gan_flows._setup import DATA, FLOW, RUN_A, STATE, _params, _run_a
from helpers import tree_allclose

import lgan


@pytest.mark.slow
def test_sweep_equals_individual_runs(key):
    keys = jax.random.split(key, 3)
    steps = jnp.array([0.05, 0.1, 0.2])
    gammas = jnp.array([0.0, 0.5, 2.0])
    # One state per run (here three copies): the same compiled sweep serves the next test.
    states = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 3) if eqx.is_inexact_array(a) else a, STATE)
    swept = lgan.sweep(
        FLOW, states, DATA, keys=keys, step=steps, num_steps=8, batch_size=8, hyperparameters={"gamma": gammas}, batched_state=True
    )
    assert swept.metrics["loss_d"].shape == (3, 9)
    for r in range(3):
        single = _run_a(keys[r], step=float(steps[r]), flow=eqx.tree_at(lambda f: f.gamma, FLOW, gammas[r]))
        for name in single.metrics:
            np.testing.assert_allclose(swept.metrics[name][r], single.metrics[name], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_params(jax.tree_util.tree_map(lambda a: a[r] if eqx.is_array(a) else a, swept.final)), _params(single.final), rtol=1e-10)


def test_sweep_over_seeds_with_one_state_per_run(key):
    init_keys = jax.random.split(jax.random.key(3), 3)
    states = eqx.filter_vmap(lambda k: lgan.mlp_gan(1, latent_dim=1, width=4, depth=1, key=k))(init_keys)
    swept = lgan.sweep(
        FLOW, states, DATA, keys=jax.random.split(key, 3), step=0.1, num_steps=8, batch_size=8,
        hyperparameters={"gamma": jnp.full(3, 0.5)}, batched_state=True,
    )
    assert swept.metrics["norm"].shape == (3, 9)
    assert not np.allclose(swept.metrics["norm"][0], swept.metrics["norm"][1])
    assert not np.any(np.asarray(swept.diverged))


def test_sweep_reports_valid_entries_per_run(key):
    # Same configuration as the test above (no new compile); run 2 blows up at its first steps.
    init_keys = jax.random.split(jax.random.key(3), 3)
    states = eqx.filter_vmap(lambda k: lgan.mlp_gan(1, latent_dim=1, width=4, depth=1, key=k))(init_keys)
    swept = lgan.sweep(
        FLOW, states, DATA, keys=jax.random.split(key, 3), step=jnp.array([0.1, 0.1, 1e8]), num_steps=8, batch_size=8,
        hyperparameters={"gamma": jnp.full(3, 0.5)}, batched_state=True,
    )
    assert np.asarray(swept.diverged).tolist() == [False, False, True]
    k = int(swept.diverged_at[2])
    assert 1 <= k <= 8
    assert swept.valid.shape == (3, 9)
    assert np.asarray(swept.valid).tolist() == [[True] * 9, [True] * 9, [i < k for i in range(9)]]
    # The single run (whose engine checks blocks of steps, not each step) reports the same.
    state2 = jax.tree_util.tree_map(lambda a: a[2] if eqx.is_array(a) else a, states)
    single = lgan.solve_gan_flow(FLOW, state2, DATA, step=1e8, key=jax.random.split(key, 3)[2], **RUN_A)
    run2 = swept.run(2)
    assert int(single.diverged_at) == int(run2.diverged_at) == k
    assert float(single.divergence_norm) == float(run2.divergence_norm)
    np.testing.assert_allclose(single.metrics["norm"], swept.metrics["norm"][2], rtol=1e-12)
    # run(r) has the shapes of the single run and equals it to round-off (the sweep's docstring)
    assert tree_allclose(run2, single, rtol=1e-12, atol=1e-15)
    assert run2.summary() == single.summary()


def test_run_picks_a_run_of_a_sweep_only():
    single = _run_a(jax.random.key(0), num_steps=1, save_every=1)
    with pytest.raises(ValueError, match=r"run\(r\) picks a run out of a sweep result"):
        single.run(0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(solver="sgd"), r"solver must be one of 'euler', 'heun', 'rk4', 'adam'; got 'sgd'"),
        (dict(step=jnp.array([0.1, 0.2])), r"step must be a scalar or have shape \(3,\) \(one per key\), got shape \(2,\)"),
        (dict(step=jnp.array([0.1, -0.2, 0.1])), r"step must be > 0, got -0.2 at index \(1,\)"),
        (dict(hyperparameters={"eta": jnp.ones(3)}), r"hyperparameters key must be one of 'alpha', 'beta', 'gamma', 'lam', 'clip'; got 'eta'"),
        (dict(hyperparameters={"lam": jnp.ones(3)}), r"hyperparameters\['lam'\]: this flow has no lam"),
        (dict(hyperparameters={"gamma": jnp.array([1.0, -1.0, 0.0])}), r"hyperparameters\['gamma'\] must be >= 0, got -1.0"),
        (dict(hyperparameters={"gamma": jnp.ones(2)}), r"hyperparameters\['gamma'\] must have shape \(3,\)"),
        (dict(batched_state=True), r"batched_state=True needs a leading axis of size 3"),
    ],
)
def test_sweep_argument_errors(key, kwargs, match):
    args = dict(keys=jax.random.split(key, 3), step=0.1, num_steps=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        lgan.sweep(FLOW, STATE, DATA, **args)


_SWEEP_SCRIPT = """
import equinox as eqx, jax, numpy as np
jax.config.update("jax_enable_x64", True)
import lgan
data = np.asarray(jax.random.normal(jax.random.key(11), (32,)) * 0.5 + 1.0)
flow = lgan.gan_flow("standard", generator_loss="non_saturating", gamma=0.5, penalty_measure="mu_gp")
states = eqx.filter_vmap(lambda k: lgan.mlp_gan(1, latent_dim=1, width=4, depth=1, key=k))(jax.random.split(jax.random.key(3), 4))
res = lgan.sweep(flow, states, data, keys=jax.random.split(jax.random.key(0), 4), step=np.array([0.1, 0.2, 0.1, 1e8]),
                 num_steps=8, batch_size=8, save_every=2, save_states_every=4, batched_state=True)
np.savez("OUT", norm=res.metrics["norm"], diverged_at=res.diverged_at,
         devices=len(res.final.generator.layers[0].weight.sharding.device_set),
         final=np.concatenate([np.ravel(a) for a in jax.tree_util.tree_leaves(res.states) if hasattr(a, "shape")]))
"""


@pytest.mark.slow
def test_sweep_splits_runs_across_devices_with_the_same_results(tmp_path):
    # Two host devices need XLA_FLAGS before JAX starts: the same script runs in a fresh interpreter
    # with two devices, and here with one.
    import os
    import subprocess
    import sys

    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    script = _SWEEP_SCRIPT.replace("OUT", str(tmp_path / "sharded.npz"))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    sharded = np.load(tmp_path / "sharded.npz")
    assert len(jax.devices()) == 1
    exec(_SWEEP_SCRIPT.replace("OUT", str(tmp_path / "single.npz")), {})
    single = np.load(tmp_path / "single.npz")
    assert int(sharded["devices"]) == 2 and int(single["devices"]) == 1  # the runs were split
    assert single["diverged_at"].tolist() == sharded["diverged_at"].tolist() and int(single["diverged_at"][3]) >= 1
    np.testing.assert_allclose(single["norm"], sharded["norm"], rtol=1e-12)
    np.testing.assert_allclose(single["final"], sharded["final"], rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(b1=2.0), ValueError, r"b1 must be in \[0, 1\), got 2.0"),
        (dict(b1=-5), ValueError, r"b1 must be in \[0, 1\), got -5.0"),
        (dict(b2=float("nan")), ValueError, r"b2 must be a number in \[0, 1\), got nan"),
        (dict(step=True), ValueError, "step must be a real scalar > 0 or an array of shape \\(3,\\), got True"),
        (dict(step="0.1"), TypeError, "step must be a real number or array, got str"),
        (dict(keys=0), ValueError, r"keys must be an array of typed PRNG keys"),
        (dict(batched_state="yes"), TypeError, "batched_state must be True or False, got 'yes'"),
    ],
)
def test_sweep_rejects_bad_adam_settings(kwargs, error, match):
    args = dict(keys=jax.random.split(jax.random.key(0), 3), step=0.1, num_steps=4, solver="adam") | kwargs
    with pytest.raises(error, match=match):
        lgan.sweep(FLOW, STATE, DATA, **args)


def test_sweep_summary_has_one_line_per_run(key):
    swept = lgan.sweep(FLOW, STATE, DATA, keys=jax.random.split(key, 2), step=jnp.array([0.1, 1e8]), num_steps=2, batch_size=8)
    lines = swept.summary().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("run 0: rk4: finished 2 steps, loss_d ")
    assert lines[1].startswith("run 1: rk4: diverged at step ")


@pytest.mark.slow
def test_run_r_of_a_float32_sweep_equals_the_single_run_to_round_off(float32):
    # What the sweep's docstring promises: the same steps and minibatches, numbers equal to round-off.
    # In float32 XLA's batched kernels may sum in another order: allow 100 ulps over 20 stable steps.
    data = np.asarray(jax.random.normal(jax.random.key(2), (256, 2)))
    state = lgan.mlp_gan(2, latent_dim=2, width=32, depth=2, key=jax.random.key(1))
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", lam=0.01)
    keys, steps = jax.random.split(jax.random.key(0), 3), [0.02, 0.05, 0.1]
    swept = lgan.sweep(flow, state, data, keys=keys, step=np.array(steps), num_steps=20, batch_size=64)
    for r in range(3):
        single = lgan.solve_gan_flow(flow, state, data, step=steps[r], num_steps=20, batch_size=64, key=keys[r])
        run = swept.run(r)
        assert run.steps.tolist() == single.steps.tolist() and int(run.diverged_at) == int(single.diverged_at) == -1
        assert tree_allclose(run, single, rtol=1e-5, atol=1e-6)
