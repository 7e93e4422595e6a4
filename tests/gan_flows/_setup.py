"""What the GAN-flow tests share: one small problem, so that the test files compile only a handful of times."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import lgan

DATA = np.asarray(jax.random.normal(jax.random.key(11), (32,)) * 0.5 + 1.0)  # 1-D data, shape (n,)
STATE = lgan.mlp_gan(1, latent_dim=1, width=4, depth=1, key=jax.random.key(12))
FLOW = lgan.gan_flow("standard", generator_loss="non_saturating", gamma=0.5, penalty_measure="mu_gp")
# Configuration A: rk4, 8 steps, batches of 8, metrics every step.
RUN_A = dict(solver="rk4", num_steps=8, batch_size=8, save_every=1)


def _run_a(key, step=0.1, flow=FLOW, **kwargs):
    return lgan.solve_gan_flow(flow, STATE, DATA, step=step, key=key, **(RUN_A | kwargs))


def _params(state):
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree_util.tree_leaves(eqx.filter(state, eqx.is_inexact_array))])
