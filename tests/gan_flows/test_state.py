"""GAN states, parameters and minibatches (lgan/_gan_flows/_state.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gan_flows._setup import DATA

import lgan


def test_mlp_gan_shapes(key):
    state = lgan.mlp_gan(2, latent_dim=3, width=5, depth=2, key=key)
    assert state.data_dim == 2 and state.latent_dim == 3
    assert state.discriminator(jnp.zeros(2)).shape == ()
    assert state.generator(jnp.zeros(3)).shape == (2,)


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
