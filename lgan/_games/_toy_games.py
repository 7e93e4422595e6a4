"""Ready-made two-player games with closed forms: the test bed of the time-stepping chapter.

Every game is a function returning a :class:`lgan.Game` on scalar states (x = psi the
discriminator, y = theta the generator), next to functions for what is known about it in closed
form: equilibria, Jacobian eigenvalues, invariants, analytic trajectories.

Sources: the Dirac GAN and the two D = psi x^2 examples of Kim et al. (2021, Section 3,
Appendices A and B), the strongly rotational game of Qin et al. (2020, Section 3.2.2) and the
2D example of Turinici (2020, slides 4-5).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize
from jaxtyping import Array, Complex, Float

from .._core._custom_types import RealArrayLike, RealScalarLike
from ._game import Game
from .._core._validation import (
    check_choice,
    check_finite,
    check_finite_in_dtype,
    check_nonnegative,
    check_positive,
    check_result_finite,
    check_scalars,
)

MassFn = Callable[[Array, Array], Array]

# ---------------------------------------------------------------------------------------------
# Dirac GAN (Mescheder et al. 2018; Kim et al. 2021, Definition 5 and Lemma 1)
# ---------------------------------------------------------------------------------------------

DIRAC_LOSSES = ("wgan", "standard")
DIRAC_PENALTIES = ("data", "generator", "interpolates")
_F_PRIME_AT_ZERO = {"wgan": 1.0, "standard": 0.5}


def _f(loss: str, t):
    """f(t) = t (WGAN) or f(t) = -log(1 + exp(-t)) = log sigmoid(t) (standard GAN)."""
    return t if loss == "wgan" else -jax.nn.softplus(-t)


class _DiracGAN(eqx.Module):
    """V(psi, theta) = f(D(0)) + f(-D(theta)) with D(x) = psi x, and the penalty gamma/2 psi^2 M."""

    gamma: Array
    mass: Array | MassFn
    loss: str = eqx.field(static=True)

    def value(self, psi, theta):
        return _f(self.loss, 0.0 * psi) + _f(self.loss, -psi * theta)

    def penalty(self, psi, theta):
        mass = self.mass(psi, theta) if callable(self.mass) else self.mass
        return 0.5 * self.gamma * psi**2 * mass  # gamma/2 E_mu[D'(x)^2], D'(x) = psi for every x

    def loss_d(self, psi, theta):
        return -self.value(psi, theta) + self.penalty(psi, theta)

    def loss_g(self, psi, theta):
        return self.value(psi, theta)


def dirac_gan(
    loss: str = "wgan",
    gamma: RealScalarLike = 0.0,
    penalty: str = "data",
    mass: RealScalarLike | MassFn | None = None,
) -> Game:
    """psi' = -theta f'(-psi theta) - gamma/2 d/dpsi (psi^2 M), theta' = psi f'(-psi theta) (Kim et al. 2021, Def. 5).

    The Dirac GAN: D(x) = psi x, data delta_0, generator delta_theta. The discriminator ascends
    V = f(D(0)) + f(-D(theta)) minus the simple gradient penalty gamma/2 E_mu[D'(x)^2]; the
    generator descends V. For the WGAN (f(t) = t) this is Kim et al.'s Appendix A system
    psi' = -theta - gamma/2 d/dpsi (psi^2 M(psi, theta)), theta' = psi. Mescheder et al. (2018)
    write the same game with D positive on fake samples, which flips the sign of psi.

    Since D'(x) = psi at every x, E_mu[D'(x)^2] = psi^2 M with M = mu(R) the mass of the penalty
    measure: every probability measure (``penalty`` = ``"data"``, ``"generator"`` or
    ``"interpolates"``) gives M = 1 and the same game. The name is kept so a chapter can loop
    over the measures and see that they coincide; ``mass`` changes the game.

    Args:
        loss: ``"wgan"`` (f(t) = t) or ``"standard"`` (f(t) = -log(1 + exp(-t)), f'(0) = 1/2).
        gamma: Penalty weight >= 0 (Kim et al.'s rho).
        penalty: The penalty measure, ``"data"``, ``"generator"`` or ``"interpolates"``.
        mass: M >= 0, a number or a function M(psi, theta) as in Lemma 1 (the measure
            mu_{psi, theta}); default 1 (a probability measure).

    Returns:
        :class:`lgan.Game` on scalar states (psi, theta); equilibrium (0, 0).
    """
    check_choice("loss", loss, DIRAC_LOSSES)
    check_nonnegative("gamma", gamma)
    check_choice("penalty", penalty, DIRAC_PENALTIES)
    if mass is None:
        mass = 1.0
    if not callable(mass):
        check_nonnegative("mass", mass)
        mass = jnp.asarray(float(mass))
    model = _DiracGAN(gamma=jnp.asarray(float(gamma)), mass=mass, loss=loss)
    return Game.from_losses(model.loss_d, model.loss_g)


def dirac_gan_eigenvalues(
    loss: str = "wgan", gamma: RealScalarLike = 0.0, mass: RealScalarLike = 1.0
) -> Complex[np.ndarray, " 2"]:
    """(-gamma M +- sqrt(gamma^2 M^2 - 4 f'(0)^2)) / 2: the Jacobian spectrum at (0, 0) (Kim et al. 2021, App. A).

    The Jacobian there is [[-gamma M, -f'(0)], [f'(0), 0]] with M = M(0, 0); for the WGAN
    (f'(0) = 1) and gamma = 0 the eigenvalues are +-i.

    Args:
        loss: ``"wgan"`` or ``"standard"``.
        gamma: Penalty weight >= 0.
        mass: M(0, 0) >= 0.

    Returns:
        [lambda_plus, lambda_minus] (complex numpy array), lambda_plus with the larger real part, or for a
        complex pair the positive imaginary part.
    """
    check_choice("loss", loss, DIRAC_LOSSES)
    check_nonnegative("gamma", gamma)
    check_nonnegative("mass", mass)
    a = float(gamma) * float(mass)
    b = _F_PRIME_AT_ZERO[loss]
    root = np.sqrt(complex(a**2 - 4 * b**2))
    return np.array([(-a + root) / 2, (-a - root) / 2])


def dirac_gan_critical_gamma(loss: str = "wgan", mass: RealScalarLike = 1.0) -> float:
    """gamma_c = 2 f'(0) / M: above it the eigenvalues at (0, 0) are real and the rotation stops.

    WGAN: gamma M = 2; standard GAN: gamma M = 1. At gamma_c both eigenvalues equal -f'(0).

    Args:
        loss: ``"wgan"`` or ``"standard"``.
        mass: M(0, 0) > 0.

    Returns:
        gamma_c as a float.
    """
    check_choice("loss", loss, DIRAC_LOSSES)
    check_positive("mass", mass)
    return 2 * _F_PRIME_AT_ZERO[loss] / float(mass)


def lemma1_basin_radius(
    mass: MassFn,
    *,
    r_max: float = 10.0,
    num_radii: int = 200,
    num_angles: int = 720,
    refinements: int = 3,
) -> float:
    """R = max{eta >= 0 : 2 M + psi dM/dpsi >= 0 on the disc psi^2 + theta^2 <= eta^2} (Kim et al. 2021, Lemma 1).

    On that disc the Lyapunov function L = psi^2 + theta^2 of the WGAN Dirac GAN decreases,
    dL/dt = -gamma psi^2 (2 M + psi dM/dpsi) <= 0 (Appendix A), so trajectories starting in the
    open disc of radius R stay in it and converge to (0, 0). The radius does not depend on gamma.

    Computed on a polar grid: the first grid radius where the minimum over ``num_angles`` angles
    of g = 2 M + psi dM/dpsi is negative brackets R, and the bracket is refined ``refinements``
    times. The angular minimum is exact when the worst angle lies on the grid (multiples of
    2 pi / num_angles), else off by O((2 pi / num_angles)^2).

    Args:
        mass: M(psi, theta) >= 0, a JAX-differentiable function of two scalars.
        r_max: Largest radius searched; returns ``inf`` if the condition holds up to r_max.
        num_radii, num_angles: Grid sizes (>= 2).
        refinements: Number of bracket refinements (>= 0).

    Returns:
        The radius R as a float; 0 if g(0, 0) < 0, ``inf`` if g >= 0 on the whole disc of radius r_max.
    """
    if not callable(mass):
        raise ValueError(f"mass must be a function M(psi, theta), got {type(mass).__name__}")
    check_positive("r_max", r_max)
    for name, value, minimum in (("num_radii", num_radii, 2), ("num_angles", num_angles, 2), ("refinements", refinements, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")

    def g(psi, theta):
        return 2.0 * mass(psi, theta) + psi * jax.grad(mass, argnums=0)(psi, theta)

    angles = jnp.linspace(0.0, 2 * jnp.pi, num_angles, endpoint=False)

    @jax.jit
    def min_on_circles(radii):
        psi = radii[:, None] * jnp.cos(angles)[None, :]
        theta = radii[:, None] * jnp.sin(angles)[None, :]
        vals = jax.vmap(jax.vmap(g))(psi, theta)
        return jnp.min(vals, axis=1)

    dtype = jnp.result_type(float)
    lo, hi = 0.0, float(r_max)
    if float(g(jnp.zeros((), dtype), jnp.zeros((), dtype))) < 0:
        return 0.0
    for level in range(refinements + 1):
        radii = np.linspace(lo, hi, num_radii + 1)
        worst = np.asarray(min_on_circles(jnp.asarray(radii, dtype=dtype)))
        neg = np.flatnonzero(~(worst >= 0))
        if neg.size == 0:
            return float("inf") if level == 0 else hi
        i = int(neg[0])
        if i == 0:
            return lo
        lo, hi = float(radii[i - 1]), float(radii[i])
    return lo


# ---------------------------------------------------------------------------------------------
# Kim et al. (2021) Lemma 2: D = psi x^2, data U(-1, 1), generator U(-|theta|, |theta|)
# ---------------------------------------------------------------------------------------------

LEMMA2_PENALTIES = ("data", "generator", "interpolates")


def lemma2_second_moment(penalty: str | Callable[[Array], Array], theta: RealArrayLike) -> Array:
    """E_mu_theta[x^2] for the penalty measure of Lemma 2: 1/3, theta^2/3 or (1 + theta^2)/9.

    ``"data"``: mu = U(-1, 1); ``"generator"``: mu = U(-abs(theta), abs(theta)); ``"interpolates"``:
    the law of t x + (1 - t) z with t ~ U(0, 1), x ~ U(-1, 1), z ~ U(-abs(theta), abs(theta))
    independent (WGAN-GP's mu_GP), whose second moment is (E t^2 + E (1 - t)^2 theta^2) / 3.

    Args:
        penalty: One of the names above, or a function theta -> E_mu_theta[x^2] >= 0.
        theta: Generator parameter(s).

    Returns:
        E_mu_theta[x^2], shape of ``theta``.
    """
    theta = jnp.asarray(theta)
    if callable(penalty):
        return penalty(theta)
    check_choice("penalty", penalty, LEMMA2_PENALTIES)
    if penalty == "data":
        return jnp.full_like(theta, 1.0 / 3.0, dtype=jnp.result_type(theta, float))
    if penalty == "generator":
        return theta**2 / 3.0
    return (1.0 + theta**2) / 9.0


class _Lemma2Field(eqx.Module):
    rho: Array
    penalty: str | Callable[[Array], Array] = eqx.field(static=True)

    def __call__(self, psi, theta):
        m2 = lemma2_second_moment(self.penalty, theta)
        return (1.0 - theta**2) / 3.0 - 4.0 * self.rho * psi * m2, 2.0 * psi * theta / 3.0


def kim_lemma2_game(rho: RealScalarLike = 0.0, penalty: str | Callable[[Array], Array] = "data") -> Game:
    """psi' = 1/3 - theta^2/3 - 4 rho psi E_mu[x^2], theta' = 2 psi theta / 3 (Kim et al. 2021, App. A, proof of Lemma 2).

    D(x) = psi x^2, data U(-1, 1), generator U(-abs(theta), abs(theta)), simple gradient penalty
    rho/2 E_mu[(2 psi x)^2] on a measure mu_theta independent of psi. The desired equilibria are
    (0, +-1); without penalty (rho = 0) the WGAN rotates around them forever and conserves
    :func:`lemma2_invariant`.

    Args:
        rho: Penalty weight >= 0.
        penalty: The penalty measure (see :func:`lemma2_second_moment`).

    Returns:
        :class:`lgan.Game` on scalar states (psi, theta).
    """
    check_nonnegative("rho", rho)
    if not callable(penalty):
        check_choice("penalty", penalty, LEMMA2_PENALTIES)
    return Game(_Lemma2Field(rho=jnp.asarray(float(rho)), penalty=penalty))


def lemma2_equilibria(
    rho: RealScalarLike = 0.0, penalty: str | Callable[[Array], Array] = "data"
) -> list[tuple[float, float]]:
    """(0, 1), (0, -1), and (1 / (12 rho E_mu_0[x^2]), 0) when rho E_mu_0[x^2] > 0.

    theta' = 0 needs psi = 0 or theta = 0. With psi = 0, psi' = 0 gives theta = +-1. With
    theta = 0 (the generator collapsed to delta_0), psi' = 1/3 - 4 rho psi E_mu_0[x^2] = 0 has a
    root only when the penalty measure at theta = 0 has mass away from 0 (e.g. ``"data"``:
    psi = 1 / (4 rho)). That extra equilibrium is a saddle: its Jacobian has the eigenvalue
    2 psi / 3 > 0. Lemma 2 names only (0, +-1).

    Args:
        rho: Penalty weight >= 0.
        penalty: The penalty measure (see :func:`lemma2_second_moment`).

    Returns:
        List of (psi, theta) pairs.
    """
    check_nonnegative("rho", rho)
    out = [(0.0, 1.0), (0.0, -1.0)]
    m0 = float(lemma2_second_moment(penalty, 0.0))
    if float(rho) * m0 > 0:
        out.append((1.0 / (12.0 * float(rho) * m0), 0.0))
    return out


def lemma2_eigenvalues(
    rho: RealScalarLike = 0.0, penalty: str | Callable[[Array], Array] = "data"
) -> Complex[np.ndarray, " 2"]:
    """-2 rho E_mu*[x^2] +- sqrt(4 rho^2 E_mu*[x^2]^2 - 4/9) at (0, +-1) (Kim et al. 2021, Lemma 2).

    The Jacobian there is [[-4 rho A^2, -+2/3], [+-2/3, 0]] with A^2 = E_mu*[x^2] the second
    moment of the penalty measure at theta = +-1. With rho = 0 the eigenvalues are +-2i/3.

    Args:
        rho: Penalty weight >= 0.
        penalty: The penalty measure (see :func:`lemma2_second_moment`).

    Returns:
        [lambda_plus, lambda_minus] (complex numpy array).
    """
    check_nonnegative("rho", rho)
    a2 = float(lemma2_second_moment(penalty, 1.0))
    a = 2.0 * float(rho) * a2
    root = np.sqrt(complex(a**2 - 4.0 / 9.0))
    return np.array([-a + root, -a - root])


def lemma2_invariant(psi: RealArrayLike, theta: RealArrayLike) -> Array:
    """H = psi^2 - log abs(theta) + theta^2 / 2, conserved by the rho = 0 flow of :func:`kim_lemma2_game`.

    From d psi / d theta = (1 - theta^2) / (2 psi theta): dH/dt = 2 psi (1 - theta^2)/3 - 2 psi/3
    + 2 psi theta^2 / 3 = 0. Its level sets around (0, +-1) are closed: the plain WGAN cycles.
    """
    psi, theta = jnp.asarray(psi), jnp.asarray(theta)
    return psi**2 - jnp.log(jnp.abs(theta)) + theta**2 / 2


# ---------------------------------------------------------------------------------------------
# Kim et al. (2021) Lemma 3: D = psi x^2, Dirac data and generator, mu_GP
# ---------------------------------------------------------------------------------------------


class _Lemma3Field(eqx.Module):
    rho: Array

    def __call__(self, psi, theta):
        return -(theta**2) - (4.0 / 3.0) * self.rho * psi * theta**2, 2.0 * psi * theta


def kim_lemma3_game(rho: RealScalarLike = 3 / 8) -> Game:
    """psi' = -theta^2 - (4/3) rho psi theta^2, theta' = 2 psi theta (Kim et al. 2021, App. B, proof of Lemma 3).

    D(x) = psi x^2, data delta_0, generator delta_theta, penalty measure mu_GP = U[0, theta] (the
    interpolates), so E_mu[(2 psi x)^2] = 4 psi^2 theta^2 / 3. Every point of the psi-axis is an
    equilibrium; the nullclines are psi = 0 (theta' = 0) and psi = -3 / (4 rho) (psi' = 0,
    = -2 for rho = 3/8). Trajectories with theta(0) != 0 end at (b, 0) with b < 0
    (:func:`lemma3_limit`), never at the origin.

    Args:
        rho: Penalty weight >= 0 (the paper's Figure 3 uses 3/8).

    Returns:
        :class:`lgan.Game` on scalar states (psi, theta).
    """
    check_nonnegative("rho", rho)
    return Game(_Lemma3Field(rho=jnp.asarray(float(rho))))


def lemma3_nullcline(rho: RealScalarLike = 3 / 8) -> float:
    """psi = -3 / (4 rho): the vertical line where psi' = 0 off the axis theta = 0 (-2 for rho = 3/8)."""
    check_positive("rho", rho)
    return -3.0 / (4.0 * float(rho))


def _lemma3_g(psi, rho: float):
    """G(psi) = (2/c) psi - (2/c^2) log abs(1 + c psi), c = 4 rho / 3 (G = psi^2 for rho = 0)."""
    if rho == 0:
        return psi**2
    c = 4.0 * rho / 3.0
    return (2.0 / c) * psi - (2.0 / c**2) * np.log(np.abs(1.0 + c * psi))


def lemma3_invariant(psi: RealArrayLike, theta: RealArrayLike, rho: RealScalarLike = 3 / 8) -> np.ndarray:
    """H = (2/c) psi - (2/c^2) log abs(1 + c psi) + theta^2/2 with c = 4 rho / 3, conserved by the Lemma 3 flow.

    From d psi / d theta = -theta (1 + c psi) / (2 psi): 2 psi / (1 + c psi) d psi + theta d theta
    = 0. For rho = 0 it is psi^2 + theta^2 / 2. Undefined on the nullcline psi = -1/c.
    """
    check_nonnegative("rho", rho)
    psi, theta = np.asarray(psi, dtype=float), np.asarray(theta, dtype=float)
    return _lemma3_g(psi, float(rho)) + theta**2 / 2


def lemma3_limit(psi0: RealScalarLike, theta0: RealScalarLike, rho: RealScalarLike = 3 / 8) -> float:
    """b = lim psi(t): the point (b, 0) where the Lemma 3 trajectory from (psi0, theta0) ends.

    theta' = 2 psi theta drives theta to 0 once psi < 0, and H (:func:`lemma3_invariant`) is
    conserved, so b solves G(b) = G(psi0) + theta0^2 / 2 on the branch the trajectory lives on:
    b in (-1/c, min(psi0, 0)) when psi0 > -1/c, b in (psi0, -1/c) when psi0 < -1/c, with
    c = 4 rho / 3. G has its minimum G(0) = 0 at psi = 0, so b < 0 whenever theta0 != 0.

    Args:
        psi0, theta0: The initial state.
        rho: Penalty weight >= 0.

    Returns:
        b as a float (psi0 itself if theta0 = 0; -1/c on the nullcline).
    """
    check_nonnegative("rho", rho)
    check_finite("psi0", psi0)
    check_finite("theta0", theta0)
    psi0, theta0, rho = float(psi0), float(theta0), float(rho)
    if theta0 == 0:
        return psi0
    edge = -3.0 / (4.0 * rho) if rho > 0 else -np.inf
    if psi0 == edge:  # on the nullcline G has its pole: the trajectory runs straight down to (edge, 0)
        return edge
    level = float(_lemma3_g(psi0, rho)) + theta0**2 / 2
    f = lambda p: float(_lemma3_g(p, rho)) - level  # noqa: E731
    if rho == 0:
        return -np.sqrt(level)
    span = abs(edge)
    if psi0 > edge:  # G decreases on (edge, 0) from +inf to 0 < level
        lo, hi = edge + span * 1e-15, 0.0
        while f(lo) < 0:  # pragma: no cover - level is huge; move closer to the pole
            lo = edge + (lo - edge) * 1e-3
        return float(scipy.optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-14))
    # psi0 < edge: G increases on (-inf, edge) to +inf and the trajectory moves right from psi0
    hi = edge - span * 1e-15
    return float(scipy.optimize.brentq(f, psi0, hi, xtol=1e-14, rtol=1e-14))


# ---------------------------------------------------------------------------------------------
# Qin et al. (2020), Section 3.2.2: the strongly rotational game
# ---------------------------------------------------------------------------------------------


class _QinField(eqx.Module):
    epsilon: Array

    def __call__(self, theta, phi):
        return -self.epsilon * theta + phi, -theta


def qin_rotational_game(epsilon: RealScalarLike = 0.1) -> Game:
    """(theta', phi') = -[[epsilon, -1], [1, 0]] (theta, phi) (Qin et al. 2020, eq. 7).

    From loss_d = epsilon theta^2 / 2 - theta phi (discriminator theta) and loss_g = theta phi
    (generator phi). Nash equilibrium (0, 0) for epsilon > 0; eigenvalues
    -epsilon/2 +- i sqrt(4 - epsilon^2)/2. Qin et al.'s experiment: epsilon = 0.1, step 0.2,
    200 steps; Euler grows by abs(1 + step lambda) = sqrt(1 - step epsilon + step^2) per step, Heun
    decays.

    Args:
        epsilon: The discriminator's curvature (finite; > 0 for a stable equilibrium).

    Returns:
        :class:`lgan.Game` on scalar states (theta, phi).
    """
    check_finite("epsilon", epsilon)
    return Game(_QinField(epsilon=jnp.asarray(float(epsilon))))


def qin_eigenvalues(epsilon: RealScalarLike = 0.1) -> Complex[np.ndarray, " 2"]:
    """-epsilon/2 +- sqrt(epsilon^2 - 4)/2: the spectrum of Qin et al.'s eq. 7 (roots of lambda^2 + epsilon lambda + 1)."""
    check_finite("epsilon", epsilon)
    e = float(epsilon)
    root = np.sqrt(complex(e**2 - 4.0))
    return np.array([(-e + root) / 2, (-e - root) / 2])


def qin_solution(
    t: RealArrayLike, theta0: RealScalarLike, phi0: RealScalarLike, epsilon: RealScalarLike = 0.1
) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
    """theta(t) = e^{-epsilon t/2} (a0 cos wt + b0 sin wt), phi likewise, w = sqrt(4 - epsilon^2)/2 (Qin et al. 2020, eqs. 8-9).

    With a0 = theta0, b0 = (phi0 - epsilon theta0 / 2) / w, a1 = phi0,
    b1 = (epsilon phi0 / 2 - theta0) / w. Written with C = cos(wt) and S = sin(wt)/w, which stay
    real for every epsilon: for abs(epsilon) > 2 they become cosh and sinh/abs(w), and at
    abs(epsilon) = 2, C = 1 and S = t.

    Args:
        t: Time(s).
        theta0, phi0: Initial state.
        epsilon: As in :func:`qin_rotational_game`.

    Returns:
        (theta(t), phi(t)), each of the shape of ``t``.
    """
    check_scalars(theta0=theta0, phi0=phi0, epsilon=epsilon)
    check_finite("epsilon", epsilon)
    for name, value in (("t", t), ("theta0", theta0), ("phi0", phi0)):
        check_finite_in_dtype(name, value)
    for name, value in (("theta0", theta0), ("phi0", phi0)):
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    t = jnp.asarray(t, dtype=jnp.result_type(float))
    theta0, phi0, e = float(theta0), float(phi0), float(epsilon)
    with np.errstate(over="ignore"):
        w2 = float(1.0 - np.float64(e) ** 2 / 4.0)  # -inf for a huge epsilon: the result check below reports it
    if w2 > 0:
        w = np.sqrt(w2)
        c, s = jnp.cos(w * t), jnp.sin(w * t) / w
    elif w2 < 0:
        w = np.sqrt(-w2)
        c, s = jnp.cosh(w * t), jnp.sinh(w * t) / w
    else:
        c, s = jnp.ones_like(t), t
    decay = jnp.exp(-e * t / 2)
    theta = decay * (theta0 * c + (phi0 - e * theta0 / 2) * s)
    phi = decay * (phi0 * c + (e * phi0 / 2 - theta0) * s)
    what = f"qin_solution(t, theta0={float(theta0):g}, phi0={float(phi0):g}, epsilon={e:g})"
    check_result_finite(theta, what)
    check_result_finite(phi, what)
    return theta, phi


def qin_euler_growth(step: RealScalarLike, epsilon: RealScalarLike = 0.1) -> float:
    """abs(1 + step lambda) = sqrt(1 - step epsilon + step^2): the factor of one Euler step on Qin's game.

    It exceeds 1 exactly when step > epsilon: at epsilon = 0.1, step = 0.2 it is sqrt(1.02), so
    200 steps multiply the norm by about 7.2 while the flow divides it by e^2.
    """
    check_scalars(step=step, epsilon=epsilon)
    check_positive("step", step)
    check_finite("epsilon", epsilon)
    h, e = float(step), float(epsilon)
    if abs(e) <= 2 and h > 1e150:  # 1 - h e + h^2 = (1 - h e / 2)^2 + h^2 (1 - e^2 / 4) without overflow
        return math.hypot(1.0 - h * e / 2, h * math.sqrt(1.0 - e * e / 4))
    if abs(e) > 2:
        raise ValueError(f"epsilon must satisfy |epsilon| <= 2 (complex eigenvalues), got {e!r}")
    return float(np.sqrt(1.0 - h * e + h**2))


# ---------------------------------------------------------------------------------------------
# Turinici (2020): y' = x - x_r, x' = -+y, and its alternating discrete scheme
# ---------------------------------------------------------------------------------------------


def _turinici_sign(as_printed: bool) -> float:
    """s in gen' = s disc: -1 for the WGAN update (rotation), +1 as printed on the slides (saddle)."""
    return 1.0 if as_printed else -1.0


class _TuriniciField(eqx.Module):
    x_ref: Array
    sign: float = eqx.field(static=True)

    def __call__(self, disc, gen):
        return gen - self.x_ref, self.sign * disc


def turinici_game(x_ref: RealScalarLike = 0.0, *, as_printed: bool = False) -> Game:
    """y' = x - x_r, x' = -y (discriminator y, generator x; Turinici 2020, slide 4, with the WGAN sign).

    The slides print x' = +y, but the WGAN update they derive it from (slide 5: the generator
    descends E_mu(l) - E_mu_r(l) with l(z) = y z) gives x' = -y: a rotation about (x_r, 0) that
    conserves y^2 + (x - x_r)^2. As printed (``as_printed=True``), u = x - x_r solves u'' = u, a
    saddle with eigenvalues +-1 that conserves y^2 - (x - x_r)^2 and diverges from almost every
    start. The state is ordered as every :class:`lgan.Game`: discriminator y first.

    Args:
        x_ref: The reference (data) point x_r.
        as_printed: Use the slides' sign x' = +y instead of the WGAN sign.

    Returns:
        :class:`lgan.Game` on scalar states (y, x).
    """
    check_finite("x_ref", x_ref)
    return Game(_TuriniciField(x_ref=jnp.asarray(float(x_ref)), sign=_turinici_sign(as_printed)))


def turinici_solution(
    t: RealArrayLike, disc0: RealScalarLike, gen0: RealScalarLike, x_ref: RealScalarLike = 0.0, *, as_printed: bool = False
) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
    """y(t) = y0 cos t + u0 sin t, u(t) = u0 cos t - y0 sin t with u = x - x_r (cosh, sinh as printed).

    Args:
        t: Time(s).
        disc0, gen0: Initial discriminator y0 and generator x0.
        x_ref: x_r.
        as_printed: As in :func:`turinici_game`.

    Returns:
        (y(t), x(t)).
    """
    t = jnp.asarray(t, dtype=jnp.result_type(float))
    y0, u0 = float(disc0), float(gen0) - float(x_ref)
    if as_printed:
        y = y0 * jnp.cosh(t) + u0 * jnp.sinh(t)
        u = u0 * jnp.cosh(t) + y0 * jnp.sinh(t)
    else:
        y = y0 * jnp.cos(t) + u0 * jnp.sin(t)
        u = u0 * jnp.cos(t) - y0 * jnp.sin(t)
    return y, u + float(x_ref)


def turinici_invariant(
    disc: RealArrayLike,
    gen: RealArrayLike,
    x_ref: RealScalarLike = 0.0,
    *,
    step: RealScalarLike = 0.0,
    as_printed: bool = False,
) -> Array:
    """Q_tau = y^2 + tau y u - s u^2 with u = x - x_r and s = -1 (WGAN sign) or +1 (as printed).

    step = 0: the invariant of the flow (y^2 + u^2, or y^2 - u^2 as printed). step = tau > 0: the
    quadratic form that the alternating scheme y_{n+1} = y_n + tau u_n, u_{n+1} = u_n + s tau y_{n+1}
    conserves exactly; its one-step matrix [[1, tau], [s tau, 1 + s tau^2]] has determinant 1 and
    M^T S M = S for S = [[1, tau/2], [tau/2, -s]]. With the WGAN sign and tau < 2 it is an
    ellipse (Turinici's "ellipsoid"): the alternating iterates neither grow nor decay.

    Args:
        disc, gen: Discriminator y and generator x (arrays broadcast).
        x_ref: x_r.
        step: tau >= 0.
        as_printed: As in :func:`turinici_game`.

    Returns:
        Q_tau, broadcast shape of ``disc`` and ``gen``.
    """
    check_nonnegative("step", step)
    s = _turinici_sign(as_printed)
    y = jnp.asarray(disc)
    u = jnp.asarray(gen) - x_ref
    return y**2 + float(step) * y * u - s * u**2


def turinici_simultaneous_factor(step: RealScalarLike, *, as_printed: bool = False) -> float:
    """1 - s tau^2: one simultaneous (Euler) step multiplies y^2 - s u^2 by it (1 + tau^2 for the rotation).

    (y + tau u)^2 - s (u + s tau y)^2 = (1 - s tau^2)(y^2 - s u^2), using s^2 = 1.
    """
    check_positive("step", step)
    return 1.0 - _turinici_sign(as_printed) * float(step) ** 2

