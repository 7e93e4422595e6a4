"""The one fixed-step loop: y_{k+1} = advance(y_k, k), frozen at the first step that diverges.

Both :func:`lgan.simulate` and the GAN-flow engine step through here, so the divergence
bookkeeping is written once. A step k -> k + 1 *diverges* when ||y_{k+1}|| is above the threshold
or not finite (NaN counts). From the first such step on the state stays frozen at y_k, the last
good state, and the loop records (``LoopCarry``):

- ``diverged``: whether some step diverged;
- ``diverged_at``: the first such step index k + 1 (1..n), or -1;
- ``divergence_norm``: ||y_{k+1}|| at that step (inf if not finite; 0 if none diverged);
- ``max_norm``: the largest norm computed, up to and *including* the step that diverged (so
  ``max_norm >= divergence_norm``; inf if that step was not finite).

A step also advances an auxiliary state (a Diffrax solver state, Adam's moments), which freezes
with y but does not count in the norm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PyTree

from ._tree import tree_norm, tree_where

AdvanceFn = Callable[[PyTree, PyTree, Int[Array, ""]], tuple[PyTree, PyTree]]


class DivergenceRecord(eqx.Module):
    """Whether and where a fixed-step run diverged (module notes); every result of the loop carries it.

    Attributes:
        diverged: Whether some step produced a non-finite state or one with norm > threshold.
        diverged_at: The first such step index k (1..n), or -1.
        divergence_norm: The state norm at step ``diverged_at`` (inf if non-finite; 0 if none).
        max_norm: The largest state norm reached, up to and including step ``diverged_at`` (so at
            least ``divergence_norm``; inf if that state was non-finite).
    """

    diverged: Bool[Array, "..."]
    diverged_at: Int[Array, "..."]
    divergence_norm: Float[Array, "..."]
    max_norm: Float[Array, "..."]


class LoopCarry(DivergenceRecord):
    """What the loop carries: the state, its norm and the divergence record (module notes).

    Attributes:
        y: The state whose norm is watched.
        aux: The auxiliary state (solver or optimiser state; ``None`` if there is none).
        norm: ||y||.
    """

    y: PyTree
    aux: PyTree
    norm: Float[Array, ""]

    @classmethod
    def start(cls, y: PyTree, aux: PyTree) -> LoopCarry:
        """The carry at step 0: nothing diverged, ``max_norm = ||y_0||``."""
        norm = tree_norm(y)
        zero = jnp.zeros_like(norm)
        return cls(diverged=jnp.asarray(False), diverged_at=jnp.asarray(-1), divergence_norm=zero, max_norm=norm, y=y, aux=aux, norm=norm)

    def record(self, k: Int[Array, ""], norm: Float[Array, ""], threshold, *, off_grid=False) -> LoopCarry:
        """Note that step k produced a state of norm ``norm`` (y and norm left as they are).

        ``off_grid`` marks a step as bad whatever its norm (an adaptive solver that stopped early).
        """
        bad = ~(norm <= threshold) | off_grid  # True for NaN too
        seen = jnp.where(jnp.isfinite(norm), norm, jnp.inf)
        newly = bad & ~self.diverged
        return replace(
            self,
            diverged=self.diverged | bad,
            diverged_at=jnp.where(newly, k, self.diverged_at),
            divergence_norm=jnp.where(newly, seen, self.divergence_norm),
            max_norm=jnp.where(self.diverged, self.max_norm, jnp.maximum(self.max_norm, seen)),
        )


class FixedStepLoop(eqx.Module):
    """Steps ``(y, aux) <- advance(y, aux, k)`` for k = 0, 1, ..., freezing at the first bad step.

    Attributes:
        advance: One step, ``advance(y, aux, k) -> (y_new, aux_new)``.
        threshold: The divergence threshold on ||y||.
        two_pass: Step blocks without per-step selects and redo a block that went bad (the same
            result, cheaper on one run; under ``vmap`` every run would pay for the redo of any one,
            so a vmapped loop uses per-step selects).
    """

    advance: AdvanceFn
    threshold: Float[Array, ""]
    two_pass: bool = eqx.field(static=True, default=False)

    def step(self, carry: LoopCarry, k: Int[Array, ""]) -> LoopCarry:
        """One step k -> k + 1 with the bookkeeping: a bad step leaves y and aux as they were."""
        new = self._plain(k, carry)
        keep = new.diverged
        return replace(
            new, y=tree_where(keep, carry.y, new.y), aux=tree_where(keep, carry.aux, new.aux), norm=jnp.where(keep, carry.norm, new.norm)
        )

    def block(self, carry: LoopCarry, ks: Int[Array, " b"]) -> LoopCarry:
        """The steps ``ks`` (consecutive); a run that has already diverged skips them."""
        body = self._two_pass_block if self.two_pass else self._checked_block
        return jax.lax.cond(carry.diverged, lambda c: c, lambda c: body(c, ks), carry)

    def run(self, carry: LoopCarry, blocks: Int[Array, " s"], block_size: int, save: Callable[[LoopCarry], PyTree]):
        """Blocks i of ``block_size`` steps (i b, ..., i b + b - 1) for i in ``blocks``; ``save(carry)`` after each."""

        def one_block(c, i):
            c = self.block(c, i * block_size + jnp.arange(block_size))
            return c, save(c)

        return jax.lax.scan(one_block, carry, blocks)

    def _plain(self, k, carry: LoopCarry) -> LoopCarry:
        y, aux = self.advance(carry.y, carry.aux, k)
        norm = tree_norm(y)
        return replace(carry.record(k + 1, norm, self.threshold), y=y, aux=aux, norm=norm)

    def _checked_block(self, carry: LoopCarry, ks) -> LoopCarry:
        return jax.lax.scan(lambda c, k: (self.step(c, k), None), carry, ks)[0]

    def _two_pass_block(self, carry: LoopCarry, ks) -> LoopCarry:
        """The result of ``_checked_block`` without its per-step selects.

        Pass 0 takes plain steps and records the first bad step; only if there is one, pass 1 redoes
        the block's steps up to just before it, and the record of pass 0 is kept. One while loop runs
        both passes, so the step is traced (and compiled) once.
        """

        def one_pass(state):
            p, _, record = state
            stop = jnp.where(p == 0, ks[-1] + 1, record.diverged_at - 1)
            out = jax.lax.fori_loop(ks[0], stop, lambda k, c: self._plain(k, c), carry)
            return p + 1, out, tree_where(p == 0, out, record)

        def again(state):
            p, _, record = state
            return (p == 0) | ((p == 1) & record.diverged)

        _, out, record = jax.lax.while_loop(again, one_pass, (jnp.asarray(0), carry, carry))
        return replace(record, y=out.y, aux=out.aux, norm=out.norm)
