"""The result of a GAN-flow run or of a sweep of runs."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from .._core._stepping import DivergenceRecord
from .._core._tree import tree_index
from ._state import GANState


class GANFlowResult(DivergenceRecord):
    """Metrics of a GAN flow saved every ``save_every`` steps, the final state, and divergence.

    A run that diverges is frozen: from ``diverged_at`` on, the state (and every metric) repeats
    the last state that was finite and within the threshold.

    Attributes:
        steps: Step indices k of the saved entries (0, e, 2e, ..., n with e = save_every).
        times: t_k = k * step (for Adam: k * learning rate, the cumulative learning rate).
        metrics: Dict of arrays with one entry per saved step: ``loss_d`` and ``loss_g`` (the
            unregularised losses; Nash values log 4 and log 2 for the standard GAN with the
            non-saturating generator loss), ``disc_sq_norm`` (E_mu D(x)^2 over the data),
            ``norm`` (the parameter norm), and the user's metrics.
        final: The :class:`GANState` after the last step (the frozen one if the run diverged).
        diverged: True if the parameters went non-finite or above the threshold at some step.
        diverged_at: That step's index k in 1..n (-1 for a run that did not diverge).
        divergence_norm: Parameter norm there: inf when non-finite, 0 without divergence.
        max_norm: Largest parameter norm seen, the diverging step included (as for :class:`lgan.Trajectory`).
        solver: What advanced the parameters: ``"euler"``, ``"heun"``, ``"rk4"``, ``"adam"`` or the
            class name of a Diffrax solver.
        alternating: Whether the players' updates alternated (discriminator first).
        states: With ``save_states_every=s``: the whole :class:`GANState` at steps 0, s, 2s, ..., n
            (every parameter with a leading axis of size n / s + 1; frozen after a divergence,
            like the metrics); else ``None``.
    """

    steps: Int[Array, " s"]
    times: Float[Array, " s"]
    metrics: dict
    final: GANState
    solver: str = eqx.field(static=True)
    alternating: bool = eqx.field(static=True)
    states: GANState | None = None

    @property
    def num_runs(self) -> int | None:
        """r for a :func:`sweep` result, ``None`` for a single run."""
        shape = np.shape(self.diverged)
        return shape[0] if shape else None

    def run(self, r: int) -> GANFlowResult:
        """Run r of a :func:`sweep` result, as the :class:`GANFlowResult` of that one run.

        Every array gets the entry r of its leading (run) axis; the result then has the shapes of a
        :func:`solve_gan_flow` result (how it compares with the single run: :func:`sweep`).
        """
        if self.num_runs is None:
            raise ValueError("run(r) picks a run out of a sweep result; this result is a single run")
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, np.integer)) or not -self.num_runs <= r < self.num_runs:
            raise ValueError(f"r must be an integer in [0, {self.num_runs}), got {r!r}")
        return tree_index(self, int(r))

    @property
    def valid(self) -> Bool[Array, "*r s"]:
        """True for the saved entries computed before any divergence (shape (r, s) for a :func:`sweep`)."""
        diverged, at = jnp.asarray(self.diverged)[..., None], jnp.asarray(self.diverged_at)[..., None]
        return jnp.where(diverged, self.steps < at, True)

    def summary(self) -> str:
        """``"rk4: diverged at step 37 (norm 1.2e+06)"`` or ``"rk4: finished 200 steps, ..."``.

        One line for a single run; for a :func:`sweep`, one line per run, ``"run r: ..."``.
        """
        if self.num_runs is None:
            return self._summary_line()
        return "\n".join(f"run {r}: {self.run(r)._summary_line()}" for r in range(self.num_runs))

    def _summary_line(self) -> str:
        name = f"{self.solver} (alternating)" if self.alternating else self.solver
        if bool(self.diverged):
            return f"{name}: diverged at step {int(self.diverged_at)} (norm {float(self.divergence_norm):.1e})"
        loss_d, loss_g = float(self.metrics["loss_d"][-1]), float(self.metrics["loss_g"][-1])
        return f"{name}: finished {int(self.steps[-1])} steps, loss_d {loss_d:.4g}, loss_g {loss_g:.4g}"
