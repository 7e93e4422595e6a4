"""Single runs of the engine: solve_gan_flow and train_with_adam (lgan/_gan_flows/_solve.py, _engine.py, _players.py)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gan_flows._setup import DATA, FLOW, RUN_A, STATE, _params, _run_a
from helpers import tree_allclose

import lgan


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


def test_a_diffrax_solver_object_takes_the_same_steps_as_its_name(key):
    import diffrax

    kwargs = dict(step=0.1, num_steps=2, batch_size=8, save_every=2, key=key)
    by_name = lgan.solve_gan_flow(FLOW, STATE, DATA, solver="euler", **kwargs)
    by_object = lgan.solve_gan_flow(FLOW, STATE, DATA, solver=diffrax.Euler(), **kwargs)
    assert by_object.solver == "euler" and tree_allclose(by_object, by_name, rtol=0.0)
    midpoint = lgan.solve_gan_flow(FLOW, STATE, DATA, solver=diffrax.Midpoint(), **kwargs)
    assert midpoint.solver == "Midpoint" and not bool(midpoint.diverged)


def _hand_written_pieces(key):
    """The full-batch minibatch of step 0 and the split parameters, as the engine builds them."""
    d, d_static = eqx.partition(STATE.discriminator, eqx.is_inexact_array)
    g, g_static = eqx.partition(STATE.generator, eqx.is_inexact_array)
    _, eval_key = jax.random.split(key)
    x = jnp.asarray(DATA)[:, None]
    batch = lgan.Minibatch(x, jax.random.normal(eval_key, (32, 1)), jax.random.uniform(jax.random.fold_in(eval_key, 1), (32,)))
    state_of = lambda dd, gg: lgan.GANState(eqx.combine(dd, d_static), eqx.combine(gg, g_static), 1)  # noqa: E731
    return d, g, batch, state_of


def test_alternating_euler_is_the_hand_written_alternating_step(key):
    # theta_1 = theta_0 - h grad_theta (l_D + R)(theta_0, phi_0); phi_1 = phi_0 - h grad_phi l_G(theta_1, phi_0)
    h = 0.1
    out = lgan.solve_gan_flow(FLOW, STATE, DATA, solver="euler", alternating=True, step=h, num_steps=1, batch_size=None, key=key)
    assert out.solver == "euler" and out.alternating
    d, g, batch, state_of = _hand_written_pieces(key)
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


@pytest.mark.slow
def test_algorithm_1_is_the_hand_written_rk4_step_then_the_lambda_step(key):
    # Qin et al. (2020), Algorithm 1: g = grad_theta ||d l_G / d phi||^2 at (theta_0, phi_0);
    # (theta, phi) <- RK4 step of the unregularised field; theta <- theta - h lam g.
    h, lam = 0.1, 0.3
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", gamma=0.5, penalty_measure="mu_gp", lam=lam, lam_placement="after_step")
    out = lgan.solve_gan_flow(flow, STATE, DATA, solver="rk4", step=h, num_steps=1, batch_size=None, key=key)
    d, g, batch, state_of = _hand_written_pieces(key)
    plain = lgan.gan_flow("standard", generator_loss="non_saturating", gamma=0.5, penalty_measure="mu_gp")

    def field(y):
        dd, gg = y
        vd = jax.grad(lambda a: plain.discriminator_objective(state_of(a, gg), batch))(dd)
        vg = jax.grad(lambda b: plain.losses(state_of(dd, b), batch)[1])(gg)
        return jax.tree_util.tree_map(jnp.negative, (vd, vg))

    add = lambda y, k, c: jax.tree_util.tree_map(lambda a, b: a + c * b, y, k)  # noqa: E731
    y0 = (d, g)
    k1 = field(y0)
    k2 = field(add(y0, k1, h / 2))
    k3 = field(add(y0, k2, h / 2))
    k4 = field(add(y0, k3, h))
    y1 = jax.tree_util.tree_map(lambda y, a, b, c, e: y + h / 6 * (a + 2 * b + 2 * c + e), y0, k1, k2, k3, k4)

    def gen_sq_norm(dd):
        grad_g = jax.grad(lambda b: plain.losses(state_of(dd, b), batch)[1])(g)
        return sum(jnp.sum(a**2) for a in jax.tree_util.tree_leaves(grad_g))

    g_theta = jax.grad(gen_sq_norm)(d)
    d1 = jax.tree_util.tree_map(lambda a, b: a - h * lam * b, y1[0], g_theta)
    np.testing.assert_allclose(_params(out.final), _params(state_of(d1, y1[1])), rtol=1e-12, atol=1e-14)


@pytest.mark.slow
def test_lambda_after_the_step_and_in_the_field_agree_for_euler_and_to_second_order_for_rk4(key):
    # Euler: theta_0 + h (v - lam g) either way (equal to round-off). RK4: the field version
    # evaluates lam's term at every stage, Algorithm 1 once, so one step differs by O(h^2).
    def final(placement, solver, h):
        flow = lgan.gan_flow("standard", generator_loss="non_saturating", gamma=0.5, penalty_measure="mu_gp", lam=0.3, lam_placement=placement)
        out = lgan.solve_gan_flow(flow, STATE, DATA, solver=solver, step=h, num_steps=1, batch_size=None, key=key)
        return _params(out.final)

    np.testing.assert_allclose(final("after_step", "euler", 0.1), final("field", "euler", 0.1), rtol=1e-13, atol=1e-15)
    gaps = [float(jnp.linalg.norm(final("after_step", "rk4", h) - final("field", "rk4", h))) for h in (0.04, 0.02)]
    assert gaps[0] > 0
    order = np.log2(gaps[0] / gaps[1])
    assert 1.8 < order < 2.2, order  # O(h^2): halving h quarters the gap


@pytest.mark.slow
def test_per_player_rk4_is_each_players_hand_written_rk4_with_the_other_held(key):
    # The public ODE-GAN code: phi <- RK4 of phi' = -grad_phi l_G(theta_0, phi); theta <- RK4 of
    # theta' = -grad_theta l_D(theta, phi_0); then Algorithm 1's lambda step at (theta_0, phi_0).
    h, lam = 0.1, 0.3
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", lam=lam, lam_placement="after_step")
    out = lgan.solve_gan_flow(flow, STATE, DATA, solver="rk4", per_player=True, step=h, num_steps=1, batch_size=None, key=key)
    d, g, batch, state_of = _hand_written_pieces(key)
    plain = lgan.gan_flow("standard", generator_loss="non_saturating")

    def rk4(f, y0):
        add = lambda y, k, c: jax.tree_util.tree_map(lambda a, b: a + c * b, y, k)  # noqa: E731
        k1 = f(y0)
        k2 = f(add(y0, k1, h / 2))
        k3 = f(add(y0, k2, h / 2))
        k4 = f(add(y0, k3, h))
        return jax.tree_util.tree_map(lambda y, a, b, c, e: y + h / 6 * (a + 2 * b + 2 * c + e), y0, k1, k2, k3, k4)

    neg = lambda t: jax.tree_util.tree_map(jnp.negative, t)  # noqa: E731
    d1 = rk4(lambda dd: neg(jax.grad(lambda a: plain.discriminator_objective(state_of(a, g), batch))(dd)), d)
    g1 = rk4(lambda gg: neg(jax.grad(lambda b: plain.losses(state_of(d, b), batch)[1])(gg)), g)

    def gen_sq_norm(dd):
        grad_g = jax.grad(lambda b: plain.losses(state_of(dd, b), batch)[1])(g)
        return sum(jnp.sum(a**2) for a in jax.tree_util.tree_leaves(grad_g))

    d1 = jax.tree_util.tree_map(lambda a, b: a - h * lam * b, d1, jax.grad(gen_sq_norm)(d))
    np.testing.assert_allclose(_params(out.final), _params(state_of(d1, g1)), rtol=1e-12, atol=1e-14)


@pytest.mark.slow
def test_per_player_is_the_joint_step_for_euler_and_first_order_in_the_coupling_for_rk4(key):
    # Euler evaluates the field once, at (theta_0, phi_0), either way. RK4 per player sees the
    # opponent only at the start of the step: one step differs from the joint RK4 step by O(h^2).
    def final(per_player, solver, h, unroll=False):
        out = lgan.solve_gan_flow(FLOW, STATE, DATA, solver=solver, per_player=per_player, unroll_stages=unroll, step=h, num_steps=1, batch_size=None, key=key)
        return _params(out.final)

    np.testing.assert_array_equal(final(True, "euler", 0.1), final(False, "euler", 0.1))
    np.testing.assert_allclose(final(True, "heun", 0.1, unroll=True), final(True, "heun", 0.1), rtol=1e-13, atol=1e-15)
    gaps = [float(jnp.linalg.norm(final(True, "rk4", h) - final(False, "rk4", h))) for h in (0.04, 0.02)]
    assert gaps[0] > 0
    order = np.log2(gaps[0] / gaps[1])
    assert 1.8 < order < 2.2, order  # O(h^2): halving h quarters the gap


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: lgan.solve_gan_flow(FLOW, STATE, DATA, per_player="yes", step=0.1, num_steps=1, key=jax.random.key(0)),
         r"per_player must be True or False, got 'yes'"),
        (lambda: lgan.solve_gan_flow(FLOW, STATE, DATA, solver="euler", alternating=True, per_player=True, step=0.1, num_steps=1, key=jax.random.key(0)),
         r"per_player=True needs an ODE solver stepped simultaneously, got solver='euler' with alternating=True"),
        (lambda: lgan.sweep(FLOW, STATE, DATA, keys=jax.random.split(jax.random.key(0), 2), solver="adam", per_player=True, step=0.1, num_steps=1),
         r"per_player=True needs an ODE solver stepped simultaneously, got solver='adam'"),
    ],
)
def test_per_player_errors(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


def test_lam_placement_is_checked():
    with pytest.raises(ValueError, match=r"lam_placement must be one of 'field', 'after_step'; got 'before'"):
        lgan.gan_flow("standard", lam=0.1, lam_placement="before")


@pytest.mark.slow
def test_a_sampler_that_picks_data_points_gives_the_run_on_the_data_set(key):
    # The minibatch rule draws indices with randint(k_x, (b,), 0, n); a sampler doing exactly that
    # with the key it is given must reproduce the run on the fixed data set step for step.
    x = jnp.asarray(DATA)[:, None]

    def pick(k, b):
        return x[jax.random.randint(k, (b,), 0, x.shape[0])]

    fixed = _run_a(key)
    fresh = _run_a(key, sampler=pick)
    np.testing.assert_allclose(fresh.metrics["loss_d"], fixed.metrics["loss_d"], rtol=1e-13)
    np.testing.assert_allclose(_params(fresh.final), _params(fixed.final), rtol=1e-13, atol=1e-15)
    # and a sampler of another measure changes the run (the minibatches really come from it)
    shifted = _run_a(key, sampler=lambda k, b: pick(k, b) + 1.0)
    assert not np.allclose(_params(shifted.final), _params(fixed.final))
    swept = lgan.sweep(FLOW, STATE, DATA, keys=key[None], step=0.1, sampler=pick, **RUN_A)
    np.testing.assert_allclose(_params(swept.run(0).final), _params(fixed.final), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sampler=3), r"sampler must be callable as sampler\(key, n\) -> \(n, d\) samples, got int"),
        (dict(sampler=lambda k, b: jnp.zeros((b, 1)), batch_size=None), r"sampler needs a batch_size .*got batch_size=None"),
        (dict(sampler=lambda k, b: jnp.zeros((b, 2))), r"sampler\(key, 8\) must return a real array of shape \(8, 1\) \(like the data\), got \(8, 2\)"),
        (dict(sampler=lambda k, b: jnp.zeros((b, 1), dtype=jnp.int32)), r"must return a real array of shape \(8, 1\)"),
        (dict(sampler=lambda k, b: 1 / 0), r"sampler\(key, 8\) failed: division by zero"),
    ],
)
def test_sampler_errors(key, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _run_a(key, **kwargs)
