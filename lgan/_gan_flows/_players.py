"""Each player steps its own loss with an Optax update: Adam, and Euler with alternating updates.

Simultaneous: both players step from the same (theta, phi). Alternating: the discriminator steps
first, then the generator takes its gradient at the new discriminator (same minibatch). With
``optax.sgd(h)`` the update is theta <- theta - h grad, the Euler step of the flow, so alternating
Euler and Adam share one two-player step.

Critic steps: with ``critic_steps = c > 1`` the discriminator takes c updates per generator update
(WGAN's n_critic; Gulrajani et al. 2017, Algorithm 1), each on its own minibatch. The first is step
k's minibatch (``Problem.batch(k)``, so c = 1 is the one-update step, bit for bit); the i-th
(i = 1, ..., c - 1) is the minibatch the engine would draw at step k under the noise key
``fold_in(fold_in(noise_key, CRITIC_TAG), i)``, a family of keys apart from the steps' keys
``fold_in(noise_key, k)`` (CRITIC_TAG = 2**32 - 1, a step no run reaches). The generator then
updates once on step k's minibatch, at the discriminator of the start of the step (simultaneous)
or at the discriminator after its c updates (alternating).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from ._engine import Problem
from ._state import Minibatch
from ._vector_field import disc_velocity, gen_velocity

CRITIC_TAG = 2**32 - 1


def critic_batch(problem: Problem, k, i) -> Minibatch:
    """The minibatch of the i-th critic update of step k (i = 0: step k's own minibatch; ``i`` static or traced >= 1)."""
    if isinstance(i, int) and i == 0:
        return problem.batch(k)
    key = jax.random.fold_in(jax.random.fold_in(problem.noise_key, CRITIC_TAG), i)
    return eqx.tree_at(lambda p: p.noise_key, problem, key).batch(k)


class PlayerStepper(eqx.Module):
    """theta <- theta + u_theta(grad_theta (l_D + R)) (c times), then phi <- phi + u_phi(grad_phi l_G) at the old or new theta.

    Attributes:
        optimizer: ``"adam"`` (Optax's Adam with ``b1``, ``b2``) or ``"euler"`` (``optax.sgd``).
        alternating: Whether the generator's gradient is taken at the new discriminator.
        critic_steps: c >= 1, the discriminator's updates per generator update, each on its own
            minibatch (notes of this module).
        b1, b2: Adam's beta_1 and beta_2 (Adam only).
    """

    optimizer: str = eqx.field(static=True)
    alternating: bool = eqx.field(static=True)
    critic_steps: int = eqx.field(static=True, default=1)
    b1: float = eqx.field(static=True, default=0.5)
    b2: float = eqx.field(static=True, default=0.999)

    @property
    def label(self) -> str:
        """The name results report: ``"adam"`` or ``"euler"``."""
        return self.optimizer

    def _transform(self, step) -> optax.GradientTransformation:
        return optax.adam(step, b1=self.b1, b2=self.b2) if self.optimizer == "adam" else optax.sgd(step)

    def init(self, problem: Problem, y0, step):
        """The optimiser states of the two players."""
        d0, g0 = y0
        transform = self._transform(step)
        return transform.init(d0), transform.init(g0)

    def advance(self, problem: Problem, step):
        """``advance(y, (opt_d, opt_g), k)``: the discriminator's c updates and the generator's update of step k."""
        transform = self._transform(step)

        def critic_update(d, g, opt_d, batch):
            grad_d = jax.tree_util.tree_map(jnp.negative, disc_velocity(problem.flow, problem.parts, d, g, batch))
            upd_d, opt_d = transform.update(grad_d, opt_d, d)
            return problem.finish_step((d, g), optax.apply_updates(d, upd_d), batch, step), opt_d

        def advance(y, opt, k):
            (d, g), (opt_d, opt_g), batch = y, opt, problem.batch(k)
            d_new, opt_d = critic_update(d, g, opt_d, batch)
            if self.critic_steps > 1:

                def more(i, carry):
                    return critic_update(carry[0], g, carry[1], critic_batch(problem, k, i))

                d_new, opt_d = jax.lax.fori_loop(1, self.critic_steps, more, (d_new, opt_d))
            d_seen = d_new if self.alternating else d
            grad_g = jax.tree_util.tree_map(jnp.negative, gen_velocity(problem.flow, problem.parts, d_seen, g, batch))
            upd_g, opt_g = transform.update(grad_g, opt_g, g)
            return (d_new, optax.apply_updates(g, upd_g)), (opt_d, opt_g)

        return advance
