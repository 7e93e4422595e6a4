"""The lGAN PDE (eq. 7) in 1D: a mixed finite-element discretisation integrated with Diffrax.

Weak form (eq. 6 with the penalty of Section 6): for all test functions u_hat, v_hat,
    <u_t, u_hat>_mu = -alpha <u, u_hat>_mu - beta <u_hat', v>_mu - gamma <u', u_hat'>_mu,
    <v_t, v_hat>_mu =  beta <u', v_hat>_mu.
The discriminator variation u is continuous piecewise linear (P1) and the generator velocity v is
piecewise constant (P0). Since u' is itself P0, the discrete coupling matrix is exactly
B = G^T diag(m) (G the element gradient, m_e = int_e rho) and the discrete stiffness is
K = G^T diag(m) G. Eliminating v from an eigenvector then gives, mode by mode,
lambda^2 + (alpha + gamma xi_h) lambda + beta^2 xi_h = 0 with xi_h the P1 eigenvalues of
K w = xi_h M w: the discretisation keeps Theorem 2's structure exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import diffrax
import equinox as eqx
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jaxtyping import Array, ArrayLike, Float

from .._core._custom_types import Density1D
from ._laplacian import assemble_weighted_fem_1d
from .._core._validation import (
    check_choice,
    check_finite,
    check_int_at_least,
    check_nonnegative,
    check_positive,
    check_shape,
    real_float_array,
)

_SOLVERS = {"tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5, "kvaerno5": diffrax.Kvaerno5}


class LinearizedGANPDE1D(eqx.Module):
    """The discretised lGAN operator d/dt (u, v) = L (u, v) on a 1D mesh.

    Attributes:
        nodes: Mesh nodes, shape (n,); u lives here.
        mass_matrix: M_ij = int rho phi_i phi_j, shape (n, n).
        stiffness_matrix: K_ij = int rho phi_i' phi_j', shape (n, n).
        gradient: G, with (G u)_e = u' on element e, shape (n - 1, n).
        element_mass: m_e = int_e rho, shape (n - 1,); v has one value per element.
        operator: L, shape (2n - 1, 2n - 1), acting on the stacked state (u, v).
        alpha: The damping (a 0-d array, so that a new value does not recompile the solve).
        beta: The coupling phi_2'(0) (0-d array).
        gamma: The penalty weight (0-d array).
    """

    nodes: Float[Array, " n"]
    mass_matrix: Float[Array, "n n"]
    stiffness_matrix: Float[Array, "n n"]
    gradient: Float[Array, "e n"]
    element_mass: Float[Array, " e"]
    operator: Float[Array, "m m"]
    alpha: Float[Array, ""]
    beta: Float[Array, ""]
    gamma: Float[Array, ""]

    @property
    def num_nodes(self) -> int:
        """The number n of P1 unknowns for u."""
        return self.nodes.shape[0]

    @property
    def total_mass(self) -> Array:
        """int rho over the domain (norms below are for the normalised measure)."""
        return jnp.sum(self.element_mass)

    def split(self, y: Float[Array, " m"]) -> tuple[Float[Array, " n"], Float[Array, " e"]]:
        """The stacked state y = (u, v) split into u (nodal) and v (per element)."""
        return y[: self.num_nodes], y[self.num_nodes :]

    def vector_field(self, t, y: Float[Array, " m"], args) -> Float[Array, " m"]:
        """L y, in Diffrax's ``(t, y, args)`` signature."""
        return self.operator @ y

    def mu_norm_u(self, u: Float[Array, "... n"]) -> Float[Array, "..."]:
        """||u||_mu = sqrt(u^T M u / int rho)."""
        return jnp.sqrt(jnp.einsum("...i,ij,...j->...", u, self.mass_matrix, u) / self.total_mass)

    def mu_norm_v(self, v: Float[Array, "... e"]) -> Float[Array, "..."]:
        """||v||_mu = sqrt(sum_e m_e v_e^2 / int rho)."""
        return jnp.sqrt(jnp.sum(self.element_mass * v**2, axis=-1) / self.total_mass)

    def eigenvalues(self) -> np.ndarray:
        """All eigenvalues of L (numpy, complex), sorted by decreasing real part."""
        lam = np.linalg.eigvals(np.asarray(self.operator))
        return lam[np.argsort(-lam.real, kind="stable")]

    def laplacian_eigenvalues(self) -> np.ndarray:
        """The P1 eigenvalues 0 = xi_0 < xi_1 <= ... of K w = xi M w on this mesh."""
        return scipy.linalg.eigh(np.asarray(self.stiffness_matrix), np.asarray(self.mass_matrix), eigvals_only=True)


def lgan_pde_1d(
    density: Density1D,
    domain: tuple[float, float],
    *,
    alpha: float,
    beta: float,
    gamma: float = 0.0,
    num_elements: int = 200,
) -> LinearizedGANPDE1D:
    """Discretise rho u_t = -alpha rho u + beta (rho v)' - gamma (rho u')', rho v_t = beta rho u' (eq. 7).

    Args:
        density: rho, vectorised over numpy arrays, positive on ``domain``.
        domain: (a, b); the natural boundary condition rho v = rho u' = 0 holds at its ends.
        alpha: The damping phi_1''(0) + phi_2''(0) >= 0 (see :class:`lgan.LGANConstants`).
        beta: phi_2'(0), non-zero.
        gamma: Gradient-penalty weight, >= 0.
        num_elements: Number of elements (>= 4).

    Returns:
        :class:`LinearizedGANPDE1D`.
    """
    check_nonnegative("alpha", alpha)
    check_finite("beta", beta)
    if beta == 0:
        raise ValueError("beta must be non-zero, got 0.0")
    check_nonnegative("gamma", gamma)
    check_int_at_least("num_elements", num_elements, 4)
    nodes, K, M, m = assemble_weighted_fem_1d(density, domain, num_elements, degree=1)
    h = nodes[1] - nodes[0]
    n = nodes.size
    G = (np.eye(n, k=1) - np.eye(n))[:-1] / h
    M = M.toarray()
    K = G.T @ (m[:, None] * G)  # equals the assembled P1 stiffness; built this way to keep B = G^T diag(m) exact
    Minv = np.linalg.inv(M)
    top = np.hstack([-alpha * np.eye(n) - gamma * Minv @ K, -beta * Minv @ G.T * m[None, :]])
    bottom = np.hstack([beta * G, np.zeros((n - 1, n - 1))])
    L = np.vstack([top, bottom])
    return LinearizedGANPDE1D(
        nodes=jnp.asarray(nodes),
        mass_matrix=jnp.asarray(M),
        stiffness_matrix=jnp.asarray(K),
        gradient=jnp.asarray(G),
        element_mass=jnp.asarray(m),
        operator=jnp.asarray(L),
        alpha=jnp.asarray(float(alpha)),
        beta=jnp.asarray(float(beta)),
        gamma=jnp.asarray(float(gamma)),
    )


def mean_zero_initial_state(
    pde: LinearizedGANPDE1D,
    u: Callable[[np.ndarray], np.ndarray] | Float[ArrayLike, " n"],
    v: Float[ArrayLike, " e"] | None = None,
) -> tuple[Float[Array, " n"], Float[Array, " e"]]:
    """(u0, v0) with u0 = u - <u, 1>_mu / <1, 1>_mu: an initial state whose u has zero mean under mu.

    The mean of u is not an lGAN mode: it decays at -alpha on its own (it is the kernel of L for
    alpha = 0), so only a mean-zero u decays at the rate eta of Theorem 4. The mean is the
    discrete one, 1^T M u / int rho, so u0 has zero mean up to round-off.

    Args:
        pde: The discretised operator from :func:`lgan_pde_1d`.
        u: The discriminator variation: a function of x (vectorised over a numpy array), evaluated
            at the nodes, or its values at the nodes, shape (n,).
        v: The generator velocity, one value per element, shape (n - 1,); default zero.

    Returns:
        ``(u0, v0)``, JAX arrays ready for :func:`solve_lgan_pde`.
    """
    if not isinstance(pde, LinearizedGANPDE1D):
        raise ValueError(f"pde must be a LinearizedGANPDE1D (from lgan.lgan_pde_1d), got {type(pde).__name__}")
    nodes = np.asarray(pde.nodes)
    n = nodes.size
    u_nodes = real_float_array("u", u(nodes) if callable(u) else u)
    check_shape("u", u_nodes, (n,), description=" (one value per node)")
    check_finite("u", u_nodes)
    v_elements = np.zeros(n - 1) if v is None else real_float_array("v", v)
    check_shape("v", v_elements, (n - 1,), description=" (one value per element)")
    check_finite("v", v_elements)
    mean = (np.asarray(pde.mass_matrix) @ u_nodes).sum() / float(pde.total_mass)
    return jnp.asarray(u_nodes - mean), jnp.asarray(v_elements)


class LGANSolution(NamedTuple):
    """A solve of the discretised lGAN PDE, saved at ``ts``.

    Attributes:
        ts: Save times, shape (s,).
        u: Discriminator variation at the nodes, shape (s, n).
        v: Generator velocity per element, shape (s, n - 1).
        u_norm: ||u(t)||_mu, shape (s,).
        v_norm: ||v(t)||_mu, shape (s,).
        num_steps: Accepted steps the adaptive solver took.
    """

    ts: Float[Array, " s"]
    u: Float[Array, "s n"]
    v: Float[Array, "s e"]
    u_norm: Float[Array, " s"]
    v_norm: Float[Array, " s"]
    num_steps: int


def solve_lgan_pde(
    pde: LinearizedGANPDE1D,
    u0: Float[Array, " n"],
    v0: Float[Array, " e"],
    *,
    t1: float,
    num_saves: int = 201,
    solver: str = "tsit5",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 200_000,
) -> LGANSolution:
    """Integrate d/dt (u, v) = L (u, v) from t = 0 to t1 with an adaptive Diffrax solver.

    Args:
        pde: The discretised operator from :func:`lgan_pde_1d`.
        u0: Initial u at the nodes, shape (n,).
        v0: Initial v per element, shape (n - 1,).
        t1: Final time, > 0.
        num_saves: Number of equally spaced save times (>= 2).
        solver: ``"tsit5"``, ``"dopri5"`` or ``"kvaerno5"`` (implicit, for large gamma).
        rtol: Relative tolerance of the error control (> 0).
        atol: Absolute tolerance of the error control (> 0).
        max_steps: Step budget of the solver.

    Returns:
        :class:`LGANSolution`.
    """
    n = pde.num_nodes
    u0, v0 = jnp.asarray(u0), jnp.asarray(v0)
    if u0.shape != (n,):
        raise ValueError(f"u0 must have shape ({n},) (one value per node), got {u0.shape}")
    if v0.shape != (n - 1,):
        raise ValueError(f"v0 must have shape ({n - 1},) (one value per element), got {v0.shape}")
    check_finite("u0", u0)
    check_finite("v0", v0)
    check_positive("t1", t1)
    check_int_at_least("num_saves", num_saves, 2)
    check_choice("solver", solver, tuple(_SOLVERS))
    check_positive("rtol", rtol)
    check_positive("atol", atol)
    check_int_at_least("max_steps", max_steps, 1)
    ts = jnp.linspace(0.0, float(t1), num_saves)
    sol = _solve(pde, jnp.concatenate([u0, v0]), ts, _SOLVERS[solver](), rtol, atol, max_steps)
    if bool(sol.result == diffrax.RESULTS.max_steps_reached):
        raise RuntimeError(
            f"the PDE solver used all max_steps={max_steps} steps before t = {float(t1):g}; raise max_steps or loosen rtol/atol"
        )
    if bool(sol.result != diffrax.RESULTS.successful):
        raise RuntimeError(f"the PDE solver failed before t = {float(t1):g}: {' '.join(str(sol.result).split())}")
    u, v = sol.ys[:, :n], sol.ys[:, n:]
    return LGANSolution(
        ts=ts, u=u, v=v, u_norm=pde.mu_norm_u(u), v_norm=pde.mu_norm_v(v), num_steps=int(sol.stats["num_accepted_steps"])
    )


@eqx.filter_jit
def _solve(pde, y0, ts, solver, rtol, atol, max_steps):
    return diffrax.diffeqsolve(
        diffrax.ODETerm(pde.vector_field),
        solver,
        t0=ts[0],
        t1=ts[-1],
        dt0=None,
        y0=y0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,  # a failure is reported in one line by solve_lgan_pde
    )


def fitted_decay_rate(ts: Float[Array, " s"], values: Float[Array, " s"], *, t_start: float = 0.0) -> float:
    """Least-squares slope of log(values) against t for t >= t_start.

    When the values oscillate (a complex pair of eigenvalues), the fit runs through the local
    maxima, i.e. the envelope, so the slope is the real part of the dominant eigenvalue.

    Args:
        ts: Times, shape (s,).
        values: Positive values (e.g. ||u(t)||_mu), shape (s,).
        t_start: Only times >= t_start are used (skip the transient of the fast modes).

    Returns:
        The fitted rate (negative for decay).
    """
    ts, values = np.asarray(ts, dtype=float), np.asarray(values, dtype=float)
    if ts.shape != values.shape or ts.ndim != 1:
        raise ValueError(f"ts and values must be 1-D of the same shape, got {ts.shape} and {values.shape}")
    keep = ts >= t_start
    t, y = ts[keep], values[keep]
    if t.size < 3:
        raise ValueError(f"need at least 3 points with t >= t_start={t_start}, got {t.size}")
    check_positive("values", y)
    logy = np.log(y)
    peaks = np.flatnonzero((logy[1:-1] >= logy[:-2]) & (logy[1:-1] >= logy[2:])) + 1
    if peaks.size >= 3:
        t, logy = t[peaks], logy[peaks]
    return float(np.polyfit(t, logy, 1)[0])


class DecayCurve(NamedTuple):
    """||u(t)||_mu of a long PDE run, as numpy float64 arrays (see :func:`decay_curve`).

    Attributes:
        ts: Save times in [0, t1), shape (s,).
        u_norm: ||u(t)||_mu at those times, shape (s,).
    """

    ts: Float[np.ndarray, " s"]
    u_norm: Float[np.ndarray, " s"]


def decay_curve(
    pde: LinearizedGANPDE1D,
    u0: Float[ArrayLike, " n"],
    v0: Float[ArrayLike, " e"],
    *,
    t1: float,
    windows: int = 1,
    num_saves: int = 201,
) -> DecayCurve:
    """||u(t)||_mu for 0 <= t < t1, integrated in ``windows`` renormalised pieces (L is linear).

    Each window starts from the state scaled to ||u||_mu = 1 and the scales are multiplied back
    in float64, so the adaptive solver keeps its relative accuracy over a horizon where the norm
    falls by many orders of magnitude (its absolute tolerance would otherwise stop resolving it).
    Feed the result to :func:`fitted_decay_rate` to measure the rate eta of Theorem 4.

    Args:
        pde: The discretised operator from :func:`lgan_pde_1d`.
        u0: Initial u at the nodes, shape (n,) (see :func:`mean_zero_initial_state`).
        v0: Initial v per element, shape (n - 1,).
        t1: The horizon, > 0.
        windows: Number of windows of length t1 / windows (>= 1).
        num_saves: Saves per window, both ends included (>= 2); a window's last save is the
            next one's first, so the curve has ``windows * (num_saves - 1)`` points and stops one
            save short of t1.

    Returns:
        :class:`DecayCurve`.
    """
    check_positive("t1", t1)
    check_int_at_least("windows", windows, 1)
    check_int_at_least("num_saves", num_saves, 2)
    t1 = float(t1)
    u, v = u0, v0
    ts, norms, log_scale = [], [], 0.0
    for k in range(windows):
        sol = solve_lgan_pde(pde, u, v, t1=t1 / windows, num_saves=num_saves)
        ts.append(k * t1 / windows + np.asarray(sol.ts[:-1], dtype=np.float64))
        norms.append(np.exp(log_scale) * np.asarray(sol.u_norm[:-1], dtype=np.float64))
        scale = float(sol.u_norm[-1])
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(
                f"||u||_mu is {scale!r} at t = {(k + 1) * t1 / windows:g}: nothing left to renormalise; give a non-zero u0 or v0"
            )
        u, v, log_scale = sol.u[-1] / scale, sol.v[-1] / scale, log_scale + np.log(scale)
    return DecayCurve(ts=np.concatenate(ts), u_norm=np.concatenate(norms))
