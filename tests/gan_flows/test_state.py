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


@pytest.mark.parametrize("init", ["equinox", "haiku"])
def test_mlp_gan_initialisations_have_the_stated_laws(init):
    # Reference laws from scipy, independent of JAX's samplers: Haiku's hk.Linear draws
    # W = truncnorm(-2, 2) / sqrt(n_in) and b = 0; Equinox draws W, b ~ U(-1/sqrt(n_in), 1/sqrt(n_in)).
    from scipy import stats

    n_in = 300
    state = lgan.mlp_gan(2, latent_dim=3, width=n_in, depth=2, init=init, key=jax.random.key(5))
    hidden = state.discriminator.layers[1]  # n_in -> n_in: 90,000 weights
    w, b = np.asarray(hidden.weight), np.asarray(hidden.bias)
    law = stats.truncnorm(-2, 2, scale=1 / np.sqrt(n_in)) if init == "haiku" else stats.uniform(-1 / np.sqrt(n_in), 2 / np.sqrt(n_in))
    # Kolmogorov-Smirnov distance of 90,000 draws from their law: about 1 / sqrt(n) = 0.003
    assert stats.kstest(w.ravel(), law.cdf).statistic < 0.01
    if init == "haiku":
        assert np.all(b == 0) and np.all(np.asarray(state.generator.layers[0].bias) == 0)
    else:
        assert np.all(np.abs(b) <= 1 / np.sqrt(n_in)) and np.std(b) > 0
    first = state.generator.layers[0].weight  # fan-in 3
    assert float(jnp.max(jnp.abs(first))) <= (2.0 if init == "haiku" else 1.0) / np.sqrt(3)


def test_mlp_gan_init_is_checked():
    with pytest.raises(ValueError, match=r"init must be one of 'equinox', 'haiku'; got 'torch'"):
        lgan.mlp_gan(1, init="torch", key=jax.random.key(0))
    batch = lgan.mlp_gan_batch(1, init="haiku", keys=jax.random.split(jax.random.key(0), 3))
    assert batch.discriminator.layers[0].weight.shape[0] == 3
    assert np.all(np.asarray(batch.discriminator.layers[0].bias) == 0)
