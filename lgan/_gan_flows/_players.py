"""Each player steps its own loss with an Optax update: Adam, and Euler with alternating updates.

Simultaneous: both players step from the same (theta, phi). Alternating: the discriminator steps
first, then the generator takes its gradient at the new discriminator (same minibatch). With
``optax.sgd(h)`` the update is theta <- theta - h grad, the Euler step of the flow, so alternating
Euler and Adam share one two-player step.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from ._engine import Problem
from ._vector_field import disc_velocity, gen_velocity


class PlayerStepper(eqx.Module):
    """theta <- theta + u_theta(grad_theta (l_D + R)), then phi <- phi + u_phi(grad_phi l_G) at the old or new theta.

    Attributes:
        optimizer: ``"adam"`` (Optax's Adam with ``b1``, ``b2``) or ``"euler"`` (``optax.sgd``).
        alternating: Whether the generator's gradient is taken at the new discriminator.
        b1, b2: Adam's beta_1 and beta_2 (Adam only).
    """

    optimizer: str = eqx.field(static=True)
    alternating: bool = eqx.field(static=True)
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
        """``advance(y, (opt_d, opt_g), k)``: both players' updates on step k's minibatch."""
        transform = self._transform(step)

        def advance(y, opt, k):
            (d, g), (opt_d, opt_g), batch = y, opt, problem.batch(k)
            grad_d = jax.tree_util.tree_map(jnp.negative, disc_velocity(problem.flow, problem.parts, d, g, batch))
            upd_d, opt_d = transform.update(grad_d, opt_d, d)
            d_new = problem.finish_step(y, optax.apply_updates(d, upd_d), batch, step)
            d_seen = d_new if self.alternating else d
            grad_g = jax.tree_util.tree_map(jnp.negative, gen_velocity(problem.flow, problem.parts, d_seen, g, batch))
            upd_g, opt_g = transform.update(grad_g, opt_g, g)
            return (d_new, optax.apply_updates(g, upd_g)), (opt_d, opt_g)

        return advance
