import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan


def test_mlp_per_sample_and_batched(key):
    model, state = eqx.nn.make_with_state(lgan.SpectralNormMLP)(3, width=8, depth=2, key=key)
    assert len(model.layers) == 3
    x = jnp.ones(3)
    y, state = model(x, state)
    assert y.shape == ()
    xs = jax.random.normal(key, (5, 3))
    ys, state = jax.vmap(model, in_axes=(0, None), out_axes=(0, None))(xs, state)
    assert ys.shape == (5,)


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_convnet_shapes(key, shape):
    model, state = eqx.nn.make_with_state(lgan.SpectralNormConvNet)(shape[0], width=4, key=key)
    y, state = model(jnp.zeros(shape), state)
    assert y.shape == ()
    grad = jax.grad(lambda x: eqx.nn.inference_mode(model)(x, state)[0])(jnp.ones(shape))
    assert grad.shape == shape and bool(jnp.all(jnp.isfinite(grad)))


def test_state_advances_only_in_training_mode(key):
    model, state = eqx.nn.make_with_state(lgan.SpectralNormMLP)(2, width=4, key=key)
    # Start every power iteration from random vectors: Equinox pre-converges them at construction,
    # to a degree that differs between versions, and a converged iteration cannot be seen to move.
    for i, layer in enumerate(model.layers):
        u, v = state.get(layer.uv_index)
        ku, kv = jax.random.split(jax.random.fold_in(key, i))
        state = state.set(layer.uv_index, (jax.random.normal(ku, u.shape), jax.random.normal(kv, v.shape)))
    x = jnp.ones(2)
    leaves0 = [np.asarray(a) for a in jax.tree.leaves(state)]  # read before the state is used up
    _, state1 = model(x, state)
    leaves1 = [np.asarray(a) for a in jax.tree.leaves(state1)]
    _, state2 = eqx.nn.inference_mode(model)(x, state1)
    leaves2 = jax.tree.leaves(state2)
    assert all(not np.allclose(a, b) for a, b in zip(leaves0, leaves1))
    assert all(np.array_equal(a, b) for a, b in zip(leaves1, leaves2))


def test_mlp_is_one_lipschitz_once_power_iteration_converged(key):
    model, state = eqx.nn.make_with_state(lgan.SpectralNormMLP)(4, width=16, depth=3, key=key)
    x = jnp.zeros(4)
    for _ in range(100):  # converge the power iteration
        _, state = model(x, state)
    inference = eqx.nn.inference_mode(model)
    xs = 3 * jax.random.normal(jax.random.key(1), (200, 4))
    grads = jax.vmap(jax.grad(lambda x: inference(x, state)[0]))(xs)
    norms = jnp.linalg.norm(grads, axis=1)
    assert float(jnp.max(norms)) <= 1 + 1e-6  # softplus is 1-Lipschitz, each layer has norm 1


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda k: lgan.SpectralNormMLP(0, key=k), "in_features must be an integer >= 1"),
        (lambda k: lgan.SpectralNormMLP(2, width=0, key=k), "width must be an integer >= 1"),
        (lambda k: lgan.SpectralNormMLP(2, depth=0, key=k), "depth must be an integer >= 1"),
        (lambda k: lgan.SpectralNormConvNet(0, key=k), "in_channels must be an integer >= 1"),
        (lambda k: lgan.SpectralNormConvNet(3, width=0, key=k), "width must be an integer >= 1"),
    ],
)
def test_network_errors(key, build, match):
    with pytest.raises(ValueError, match=match):
        build(key)
