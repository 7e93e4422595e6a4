"""The players' steppers with several critic updates per generator update (lgan/_gan_flows/_players.py)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from gan_flows._setup import DATA, FLOW, STATE, _params

import lgan

LR, BATCH = 1e-2, 8


def _batch(key):
    """The engine's minibatch rule (``_draw_minibatch``), written out: data indices, latents, uniforms."""
    ki, kz, ku = jax.random.split(key, 3)
    x = jnp.asarray(DATA)[:, None][jax.random.randint(ki, (BATCH,), 0, DATA.shape[0])]
    return lgan.Minibatch(x, jax.random.normal(kz, (BATCH, 1)), jax.random.uniform(ku, (BATCH,)))


def _hand_written_adam(key, num_steps, critic_steps, alternating):
    """c Adam updates of the discriminator on their own minibatches, then one of the generator, n times."""
    d, d_static = eqx.partition(STATE.discriminator, eqx.is_inexact_array)
    g, g_static = eqx.partition(STATE.generator, eqx.is_inexact_array)
    state_of = lambda dd, gg: lgan.GANState(eqx.combine(dd, d_static), eqx.combine(gg, g_static), 1)  # noqa: E731
    noise_key = jax.random.split(key)[0]
    critic_root = jax.random.fold_in(noise_key, 2**32 - 1)
    adam = optax.adam(LR, b1=0.5, b2=0.999)
    opt_d, opt_g = adam.init(d), adam.init(g)
    for k in range(num_steps):
        step_batch = _batch(jax.random.fold_in(noise_key, k))
        d_start = d
        for i in range(critic_steps):
            batch = step_batch if i == 0 else _batch(jax.random.fold_in(jax.random.fold_in(critic_root, i), k))
            grad_d = jax.grad(lambda dd, b=batch: FLOW.discriminator_objective(state_of(dd, g), b))(d)
            upd, opt_d = adam.update(grad_d, opt_d, d)
            d = optax.apply_updates(d, upd)
        d_seen = d if alternating else d_start
        grad_g = jax.grad(lambda gg: FLOW.losses(state_of(d_seen, gg), step_batch)[1])(g)
        upd, opt_g = adam.update(grad_g, opt_g, g)
        g = optax.apply_updates(g, upd)
    return state_of(d, g)


@pytest.mark.slow
@pytest.mark.parametrize("alternating", [True, False])
def test_critic_steps_are_the_hand_written_adam_loop(key, alternating):
    out = lgan.train_with_adam(
        FLOW, STATE, DATA, learning_rate=LR, num_steps=3, alternating=alternating, critic_steps=3, batch_size=BATCH, save_every=3, key=key
    )
    want = _hand_written_adam(key, 3, 3, alternating)
    np.testing.assert_allclose(_params(out.final), _params(want), rtol=1e-6, atol=1e-9)


def test_critic_batches_differ_from_each_other_and_from_the_steps(key):
    from lgan._gan_flows._engine import Problem, RunConfig
    from lgan._gan_flows._players import PlayerStepper, critic_batch
    from lgan._gan_flows._state import StateParts

    _, parts = StateParts.split(STATE)
    config = RunConfig(PlayerStepper("adam", True, 3), 4, 1, None, BATCH, None)
    problem = Problem.build(FLOW, parts, jnp.asarray(DATA)[:, None], key, config)
    zs = [critic_batch(problem, k, i).z for k in range(3) for i in range(3)]
    assert np.array_equal(critic_batch(problem, 2, 0).z, problem.batch(2).z)
    assert len({np.asarray(z).tobytes() for z in zs + [problem.batch(k).z for k in range(3, 9)]}) == 9 + 6


@pytest.mark.parametrize("alternating", [True, False])
def test_one_critic_step_is_bit_for_bit_the_step_without_the_option(key, alternating):
    kwargs = dict(learning_rate=LR, num_steps=4, alternating=alternating, batch_size=BATCH, save_every=2, key=key)
    plain = lgan.train_with_adam(FLOW, STATE, DATA, **kwargs)
    one = lgan.train_with_adam(FLOW, STATE, DATA, critic_steps=1, **kwargs)
    assert np.array_equal(_params(plain.final), _params(one.final))
    assert np.array_equal(plain.metrics["loss_d"], one.metrics["loss_d"])
    # Bit for bit also against the update written without critic steps (the engine before the option).
    want = _hand_written_adam(key, 4, 1, alternating)
    np.testing.assert_allclose(_params(one.final), _params(want), rtol=1e-12, atol=1e-14)


@pytest.mark.slow
def test_alternating_euler_and_the_sweep_take_critic_steps(key):
    euler = lgan.solve_gan_flow(FLOW, STATE, DATA, solver="euler", alternating=True, critic_steps=2, step=0.1, num_steps=2, batch_size=BATCH, key=key)
    once = lgan.solve_gan_flow(FLOW, STATE, DATA, solver="euler", alternating=True, step=0.1, num_steps=2, batch_size=BATCH, key=key)
    assert not np.allclose(_params(euler.final), _params(once.final))
    keys = jax.random.split(key, 2)
    swept = lgan.sweep(FLOW, STATE, DATA, keys=keys, step=LR, num_steps=3, solver="adam", alternating=True, critic_steps=3, batch_size=BATCH, save_every=3)
    single = lgan.train_with_adam(FLOW, STATE, DATA, learning_rate=LR, num_steps=3, alternating=True, critic_steps=3, batch_size=BATCH, save_every=3, key=keys[1])
    np.testing.assert_allclose(_params(swept.run(1).final), _params(single.final), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (dict(critic_steps=0), r"critic_steps must be an integer >= 1, got 0"),
        (dict(critic_steps=2.0), r"critic_steps must be an integer >= 1, got 2.0"),
        (dict(critic_steps=True), r"critic_steps must be an integer >= 1, got True"),
        (dict(critic_steps=5, solver="rk4"), r"critic_steps=5 needs the players' updates \(solver='adam', or solver='euler' with alternating=True\), got solver='rk4'"),
        (dict(critic_steps=2, solver="euler"), r"critic_steps=2 needs the players' updates .* got solver='euler'"),
    ],
)
def test_bad_critic_steps_are_refused(key, call, match):
    kwargs = dict(step=0.1, num_steps=1, key=key) | call
    with pytest.raises(ValueError, match=match):
        lgan.solve_gan_flow(FLOW, STATE, DATA, **kwargs)
    if "solver" not in call:
        with pytest.raises(ValueError, match=match):
            lgan.train_with_adam(FLOW, STATE, DATA, learning_rate=0.1, num_steps=1, key=key, critic_steps=call["critic_steps"])
        with pytest.raises(ValueError, match=match):
            lgan.sweep(FLOW, STATE, DATA, keys=jax.random.split(key, 2), step=0.1, num_steps=1, solver="adam", critic_steps=call["critic_steps"])
