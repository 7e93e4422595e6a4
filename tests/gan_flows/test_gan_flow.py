"""The GAN-flow engine. Runs share a few configurations so that the whole file compiles only a handful of times."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan
from helpers import tree_allclose

DATA = np.asarray(jax.random.normal(jax.random.key(11), (32,)) * 0.5 + 1.0)  # 1-D data, shape (n,)
STATE = lgan.mlp_gan(1, latent_dim=1, width=4, depth=1, key=jax.random.key(12))
FLOW = lgan.gan_flow("standard", generator_loss="non_saturating", gamma=0.5, penalty_measure="mu_gp")
# Configuration A: rk4, 8 steps, batches of 8, metrics every step.
RUN_A = dict(solver="rk4", num_steps=8, batch_size=8, save_every=1)


def _run_a(key, step=0.1, flow=FLOW, **kwargs):
    return lgan.solve_gan_flow(flow, STATE, DATA, step=step, key=key, **(RUN_A | kwargs))


def _params(state):
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree_util.tree_leaves(eqx.filter(state, eqx.is_inexact_array))])


def test_mlp_gan_shapes(key):
    state = lgan.mlp_gan(2, latent_dim=3, width=5, depth=2, key=key)
    assert state.data_dim == 2 and state.latent_dim == 3
    assert state.discriminator(jnp.zeros(2)).shape == ()
    assert state.generator(jnp.zeros(3)).shape == (2,)


def test_nash_values_of_the_standard_gan(key):
    # With D = 0: l_D = phi_1(0) + phi_2(0) = log 4; non-saturating l_G = phi_1(0) = log 2; minimax -log 2.
    zero_d = jax.tree_util.tree_map(lambda a: jnp.zeros_like(a) if eqx.is_inexact_array(a) else a, STATE.discriminator)
    state = lgan.GANState(zero_d, STATE.generator, 1)
    batch = lgan.draw_minibatch(jnp.asarray(DATA)[:, None], 1, 16, key=key)
    loss_d, loss_g = lgan.gan_flow("standard", generator_loss="non_saturating").losses(state, batch)
    assert float(loss_d) == pytest.approx(math.log(4.0))
    assert float(loss_g) == pytest.approx(math.log(2.0))
    assert float(lgan.gan_flow("standard").losses(state, batch)[1]) == pytest.approx(-math.log(2.0))


@pytest.mark.slow
def test_same_seed_same_result_and_metrics(key):
    a = _run_a(key)
    b = _run_a(key)
    c = _run_a(jax.random.key(1))
    assert tree_allclose(a, b, rtol=0.0)
    assert not np.allclose(a.metrics["loss_d"][1:], c.metrics["loss_d"][1:])
    assert a.steps.tolist() == list(range(9))
    np.testing.assert_allclose(a.times, 0.1 * np.arange(9))
    assert set(a.metrics) == {"loss_d", "loss_g", "disc_sq_norm", "norm"}
    assert all(v.shape == (9,) for v in a.metrics.values())
    np.testing.assert_allclose(a.metrics["norm"][-1], jnp.linalg.norm(_params(a.final)))
    assert not bool(a.diverged) and int(a.diverged_at) == -1
    assert "finished 8 steps" in a.summary()


def test_divergence_is_reported_at_the_exact_step(key):
    free = _run_a(key, step=0.8, divergence_threshold=1e300)
    norms = np.asarray(free.metrics["norm"])
    assert not bool(free.diverged) and norms.max() > norms[0]
    threshold = 0.5 * (norms[0] + norms.max())
    k = int(np.argmax(norms > threshold))
    stopped = _run_a(key, step=0.8, divergence_threshold=threshold)
    assert bool(stopped.diverged) and int(stopped.diverged_at) == k
    assert float(stopped.divergence_norm) == pytest.approx(norms[k], rel=1e-12)
    np.testing.assert_allclose(stopped.metrics["norm"][:k], norms[:k], rtol=1e-12)
    np.testing.assert_allclose(stopped.metrics["norm"][k:], norms[k - 1])  # frozen at the last good state
    assert stopped.valid.tolist() == [i < k for i in range(9)]
    assert f"diverged at step {k}" in stopped.summary()


@pytest.mark.slow
def test_divergence_inside_a_block_of_steps_matches_step_by_step_saving(key):
    # With save_every=4 the single-run engine steps a block of 4 without per-step checks and redoes the
    # block up to the bad step when one is found: the result must equal the run that saves every step.
    free = _run_a(key, step=0.8, divergence_threshold=1e300)
    norms = np.asarray(free.metrics["norm"])
    k = 6  # the state after step 6 goes bad: the second step of the block of steps 5..8
    assert norms[k] > max(norms[:k])  # the norm grows here (step 0.8 is unstable)
    threshold = 0.5 * (norms[k] + max(norms[:k]))
    every = _run_a(key, step=0.8, divergence_threshold=threshold)
    blocks = _run_a(key, step=0.8, divergence_threshold=threshold, save_every=4)
    assert bool(blocks.diverged) and int(blocks.diverged_at) == int(every.diverged_at) == k
    assert float(blocks.divergence_norm) == pytest.approx(float(every.divergence_norm), rel=1e-12)
    assert float(blocks.max_norm) == pytest.approx(float(every.max_norm), rel=1e-12)
    np.testing.assert_allclose(_params(blocks.final), _params(every.final), rtol=1e-12)
    np.testing.assert_allclose(blocks.metrics["norm"], every.metrics["norm"][::4], rtol=1e-12)


def test_non_finite_blow_up_is_reported_without_nans(key):
    out = _run_a(key, step=1e8)
    assert bool(out.diverged) and 1 <= int(out.diverged_at) <= 8
    assert float(out.divergence_norm) > 1e6  # inf if the step produced NaN or inf
    assert all(np.all(np.isfinite(v)) for v in out.metrics.values())
    assert np.all(np.isfinite(_params(out.final)))


@pytest.mark.slow
def test_new_hyperparameters_do_not_recompile_and_user_metrics(key):
    traces = []

    def metric_fn(state, x, z):
        traces.append(1)
        return {"mean_fake": jnp.mean(jax.vmap(state.generator)(z))}

    first = _run_a(key, metric_fn=metric_fn)
    n = len(traces)
    second = _run_a(jax.random.key(5), step=0.05, flow=eqx.tree_at(lambda f: f.gamma, FLOW, jnp.asarray(2.0)), metric_fn=metric_fn)
    assert len(traces) == n  # no new trace
    assert first.metrics["mean_fake"].shape == (9,)
    assert not np.allclose(first.metrics["mean_fake"], second.metrics["mean_fake"])
    np.testing.assert_allclose(first.metrics["loss_d"], _run_a(key).metrics["loss_d"], rtol=1e-12)


@pytest.mark.slow
def test_rk4_local_error_has_order_five_on_a_deterministic_flow(key):
    """Full batch: the flow is an ODE; one RK4 step of size h is off by O(h^5) from the exact flow."""
    flow = lgan.gan_flow("standard")
    data = DATA[:16]
    steps = np.array([0.4, 0.2, 0.1, 0.05])
    errors = []
    for h in steps:
        kwargs = dict(solver="rk4", batch_size=None, key=key)
        one = lgan.solve_gan_flow(flow, STATE, data, step=float(h), num_steps=1, **kwargs)
        ref = lgan.solve_gan_flow(flow, STATE, data, step=float(h) / 32, num_steps=32, save_every=32, **kwargs)
        errors.append(float(jnp.linalg.norm(_params(one.final) - _params(ref.final))))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert 4.5 <= slope <= 5.5, (slope, errors)


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["heun", "rk4"])
def test_unrolled_stages_take_the_same_step_as_diffrax(key, solver):
    kwargs = dict(solver=solver, step=0.2, num_steps=1, batch_size=None, key=key)
    stock = lgan.solve_gan_flow(lgan.gan_flow("standard"), STATE, DATA[:16], **kwargs)
    unrolled = lgan.solve_gan_flow(lgan.gan_flow("standard"), STATE, DATA[:16], unroll_stages=True, **kwargs)
    np.testing.assert_allclose(_params(unrolled.final), _params(stock.final), rtol=1e-13, atol=1e-15)
    assert not np.allclose(_params(stock.final), _params(STATE))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rk4", "adam"])
def test_saved_states_are_the_states_of_shorter_runs(key, method):
    # The minibatch of step k depends on (key, k) only, so the state kept at step 4 of an 8-step run is
    # the final state of the 4-step run with the same key, for the flow and for Adam (whose moments
    # run on inside the one call).
    if method == "rk4":
        run = lambda n, **kw: _run_a(key, num_steps=n, **kw)  # noqa: E731
    else:
        run = lambda n, **kw: lgan.train_with_adam(FLOW, STATE, DATA, learning_rate=1e-2, num_steps=n, batch_size=8, key=key, **kw)  # noqa: E731
    long = run(8, save_states_every=4)
    assert run(8).states is None
    states = [jax.tree_util.tree_map(lambda a, j=j: a[j] if eqx.is_array(a) else a, long.states) for j in range(3)]
    np.testing.assert_allclose(_params(states[0]), _params(STATE), rtol=0)
    np.testing.assert_allclose(_params(states[1]), _params(run(4).final), rtol=1e-12)
    np.testing.assert_allclose(_params(states[2]), _params(long.final), rtol=0)
    assert not np.allclose(_params(states[1]), _params(states[2]))


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
    )  # fmt: skip
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
    )  # fmt: skip
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


@pytest.mark.slow
def test_adam_simultaneous_and_alternating(key):
    kwargs = dict(learning_rate=1e-2, num_steps=8, batch_size=8, save_every=4, key=key)
    sim = lgan.train_with_adam(FLOW, STATE, DATA, **kwargs)
    alt = lgan.train_with_adam(FLOW, STATE, DATA, alternating=True, **kwargs)
    assert (sim.solver, sim.alternating) == ("adam", False) and (alt.solver, alt.alternating) == ("adam", True)
    assert sim.metrics["loss_d"].shape == (3,)
    np.testing.assert_allclose(sim.times, [0.0, 0.04, 0.08])
    # The discriminator's first update is the same; the generator's differs.
    assert not np.allclose(_params(sim.final), _params(alt.final))
    assert np.all(np.isfinite(_params(alt.final)))


def test_weight_clipping_keeps_the_discriminator_in_the_box(key):
    flow = lgan.gan_flow("wgan", clip=0.05)
    out = lgan.solve_gan_flow(flow, STATE, DATA, solver="euler", step=0.1, num_steps=4, batch_size=8, save_every=4, key=key)
    for leaf in jax.tree_util.tree_leaves(eqx.filter(out.final.discriminator, eqx.is_inexact_array)):
        assert float(jnp.max(jnp.abs(leaf))) <= 0.05 + 1e-15


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(solver="rk45"), r"solver must be one of 'euler', 'heun', 'rk4'; got 'rk45'"),
        (dict(step=0.0), r"step must be > 0, got 0.0"),
        (dict(step=-0.1), r"step must be > 0, got -0.1"),
        (dict(step=[0.1, 0.2]), r"step must be a real scalar > 0"),
        (dict(num_steps=0), r"num_steps must be an integer >= 1, got 0"),
        (dict(save_every=3), r"save_every must divide num_steps, got save_every=3, num_steps=8"),
        (dict(batch_size=0), r"batch_size must be an integer >= 1, got 0"),
        (dict(divergence_threshold=-1.0), r"divergence_threshold must be > 0, got -1.0"),
        (dict(divergence_threshold=1e-3), r"divergence_threshold must exceed the initial parameter norm"),
        (dict(data=np.full((4, 1), np.nan)), r"data must be finite, got nan at index \(0, 0\)"),
        (dict(data=np.zeros((4, 2))), r"data has dimension 2 but the generator makes samples of dimension 1"),
        (dict(data=np.zeros((2, 2, 1))), r"data must have shape \(n, d\) with n >= 1, got shape \(2, 2, 1\)"),
        (dict(state="G"), r"state must be an lgan.GANState"),
        (dict(flow="standard"), r"flow must be an lgan.GANFlow"),
        (dict(metric_fn=3), r"metric_fn must be callable"),
        (dict(unroll_stages="yes"), r"unroll_stages must be True or False, got 'yes'"),
        (dict(save_states_every=0), r"save_states_every must be an integer >= 1, got 0"),
        (dict(save_states_every=3), r"save_states_every must be a multiple of save_every and divide num_steps, got save_states_every=3"),
        (dict(save_every=2, save_states_every=1), r"save_states_every must be a multiple of save_every"),
    ],
)
def test_solve_argument_errors(key, kwargs, match):
    args = dict(flow=FLOW, state=STATE, data=DATA, solver="rk4", step=0.1, num_steps=8, key=key)
    args.update(kwargs)
    flow, state, data = args.pop("flow"), args.pop("state"), args.pop("data")
    with pytest.raises(ValueError, match=match):
        lgan.solve_gan_flow(flow, state, data, **args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="hinge"), r"loss must be one of 'standard', 'wgan', 'lsgan', 'parametric'; got 'hinge'"),
        (dict(generator_loss="logD"), r"generator_loss must be one of 'minimax', 'non_saturating'; got 'logD'"),
        (dict(gamma=1.0, penalty_measure="p_x"), r"penalty_measure must be one of 'p_d', 'p_g', 'mu_gp', 'mu_mid', 'mu_g_anc'; got 'p_x'"),
        (dict(penalty_form="one_centred"), r"penalty_form must be one of 'simple', 'wgan_gp'; got 'one_centred'"),
        (dict(gamma=-1.0), r"gamma must be >= 0, got -1.0"),
        (dict(lam=-0.5), r"lam must be >= 0, got -0.5"),
        (dict(clip=0.0), r"clip must be > 0, got 0.0"),
        (dict(gamma=[1.0]), r"gamma must be a real scalar"),
        (dict(loss="parametric", alpha=-1.0, beta=1.0), r"alpha must be >= 0, got -1.0"),
        (dict(loss="parametric", alpha=1.0, beta=0.0), r"beta must be non-zero, got 0.0"),
        (dict(loss="wgan", alpha=1.0), r"alpha and beta are only accepted for name='parametric'"),
        (dict(gamma=1.0, penalty_measure="mu_g_anc"), r"anchor must be given for penalty_measure='mu_g_anc'"),
        (dict(gamma=1.0, anchor=[0.0]), r"anchor is only used by penalty_measure='mu_g_anc'"),
    ],
)
def test_gan_flow_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lgan.gan_flow(**kwargs)


def test_anchor_dimension_is_checked_against_the_data(key):
    flow = lgan.gan_flow("wgan", gamma=1.0, penalty_measure="mu_g_anc", anchor=[2.0, -1.0])
    with pytest.raises(ValueError, match=r"anchor has shape \(2,\) but the data have dimension 1"):
        lgan.solve_gan_flow(flow, STATE, DATA, step=0.1, num_steps=1, key=key)


def test_adam_argument_errors(key):
    with pytest.raises(ValueError, match=r"learning_rate must be > 0, got -0.001"):
        lgan.train_with_adam(FLOW, STATE, DATA, learning_rate=-1e-3, num_steps=4, key=key)
    with pytest.raises(ValueError, match=r"b1 must be in \[0, 1\), got 1.0"):
        lgan.train_with_adam(FLOW, STATE, DATA, learning_rate=1e-3, num_steps=4, key=key, b1=1.0)


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


# ----------------------------------------------------------------------------- no silent wrong answer


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(alternating="no"), TypeError, "alternating must be True or False, got 'no'"),
        (dict(b1=2.0), ValueError, r"b1 must be in \[0, 1\), got 2.0"),
        (dict(b2=float("nan")), ValueError, r"b2 must be a number in \[0, 1\), got nan"),
        (dict(b1="0.5"), TypeError, "b1 must be a real number or array, got str '0.5'"),
        (dict(key=0), TypeError, r"key must be a PRNG key such as jax.random.key\(0\), got 0"),
    ],
)
def test_train_with_adam_rejects_bad_switches(kwargs, error, match):
    args = dict(learning_rate=1e-2, num_steps=2, key=jax.random.key(0)) | kwargs
    with pytest.raises(error, match=match):
        lgan.train_with_adam(FLOW, STATE, DATA, **args)


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


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((DATA[:, None], 1, 0), ValueError, "batch_size must be an integer >= 1, got 0"),
        ((DATA[:, None], 0, 4), ValueError, "latent_dim must be an integer >= 1, got 0"),
        ((DATA, 1, 4), ValueError, r"data must have shape \(n, d\) \(n samples of dimension d\), got shape \(32,\)"),
        ((np.zeros((0, 1)), 1, 4), ValueError, r"data must hold at least one sample, got shape \(0, 1\)"),
    ],
)
def test_draw_minibatch_rejects_empty_batches(args, error, match):
    with pytest.raises(error, match=match):
        lgan.draw_minibatch(*args, key=jax.random.key(0))


def test_draw_minibatch_and_mlp_gan_check_the_key():
    with pytest.raises(TypeError, match=r"key must be a PRNG key such as jax.random.key\(0\), got 'x'"):
        lgan.draw_minibatch(DATA[:, None], 1, 4, key="x")
    with pytest.raises(TypeError, match=r"key must be a PRNG key such as jax.random.key\(0\), got 0"):
        lgan.mlp_gan(1, key=0)


# ----------------------------------------------------------------------------- one solver vocabulary


def test_a_diffrax_solver_object_takes_the_same_steps_as_its_name(key):
    import diffrax

    kwargs = dict(step=0.1, num_steps=2, batch_size=8, save_every=2, key=key)
    by_name = lgan.solve_gan_flow(FLOW, STATE, DATA, solver="euler", **kwargs)
    by_object = lgan.solve_gan_flow(FLOW, STATE, DATA, solver=diffrax.Euler(), **kwargs)
    assert by_object.solver == "euler" and tree_allclose(by_object, by_name, rtol=0.0)
    midpoint = lgan.solve_gan_flow(FLOW, STATE, DATA, solver=diffrax.Midpoint(), **kwargs)
    assert midpoint.solver == "Midpoint" and not bool(midpoint.diverged)


def test_alternating_euler_is_the_hand_written_alternating_step(key):
    # theta_1 = theta_0 - h grad_theta (l_D + R)(theta_0, phi_0); phi_1 = phi_0 - h grad_phi l_G(theta_1, phi_0)
    h = 0.1
    out = lgan.solve_gan_flow(FLOW, STATE, DATA, solver="euler", alternating=True, step=h, num_steps=1, batch_size=None, key=key)
    assert out.solver == "euler" and out.alternating
    d, d_static = eqx.partition(STATE.discriminator, eqx.is_inexact_array)
    g, g_static = eqx.partition(STATE.generator, eqx.is_inexact_array)
    noise_key, eval_key = jax.random.split(key)
    x = jnp.asarray(DATA)[:, None]
    batch = lgan.Minibatch(x, jax.random.normal(eval_key, (32, 1)), jax.random.uniform(jax.random.fold_in(eval_key, 1), (32,)))
    state_of = lambda dd, gg: lgan.GANState(eqx.combine(dd, d_static), eqx.combine(gg, g_static), 1)  # noqa: E731
    grad_d = jax.grad(lambda dd: FLOW.discriminator_objective(state_of(dd, g), batch))(d)
    d1 = jax.tree_util.tree_map(lambda a, b: a - h * b, d, grad_d)
    grad_g = jax.grad(lambda gg: FLOW.losses(state_of(d1, gg), batch)[1])(g)
    g1 = jax.tree_util.tree_map(lambda a, b: a - h * b, g, grad_g)
    np.testing.assert_allclose(_params(out.final), _params(state_of(d1, g1)), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: lgan.solve_gan_flow(FLOW, STATE, DATA, solver="rk4", alternating=True, step=0.1, num_steps=1, key=jax.random.key(0)),
         r"alternating=True needs solver='euler' \(the players' updates alternate\), got solver='rk4'"),
        (lambda: lgan.sweep(FLOW, STATE, DATA, keys=jax.random.split(jax.random.key(0), 2), step=0.1, num_steps=1, alternating=True),
         r"alternating=True needs solver='euler' or 'adam' \(the players' updates alternate\), got solver='rk4'"),
        (lambda: lgan.solve_gan_flow(FLOW, STATE, DATA, solver="adam", step=0.1, num_steps=1, key=jax.random.key(0)),
         r"solver must be one of 'euler', 'heun', 'rk4'; got 'adam'"),
        (lambda: lgan.solve_gan_flow(FLOW, STATE, DATA, solver=3, step=0.1, num_steps=1, key=jax.random.key(0)),
         r"solver must be one of 'euler', 'heun', 'rk4' or a Diffrax solver, got 3"),
    ],
)
def test_solver_and_alternating_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
