"""Exact reference spectra of the weighted Laplacian -Delta_mu w = -(1/rho) div(rho grad w) (eq. 13).

The weak form (eq. 14), <grad w, grad w_hat>_mu = xi <w, w_hat>_mu for all w_hat, is discretised by
Lagrange finite elements: the natural (Neumann) boundary condition rho dw/dn = 0 is built into the
weak form, so nothing is imposed at the ends of the domain. These solvers use numpy and scipy in
float64, independently of JAX, so they can check everything else in the package.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from jaxtyping import Float

from .._core._custom_types import Density1D, Density2D
from .._core._validation import (
    check_int_at_least,
    check_interval,
)


class WeightedLaplacianSpectrum(NamedTuple):
    """The lowest non-zero eigenpairs of -Delta_mu on a mesh.

    Attributes:
        xi: Eigenvalues xi_1 <= ... <= xi_k (the zero eigenvalue of the constants is left out).
        nodes: Mesh nodes, shape (n,) in 1D or (n, 2) in 2D.
        eigenfunctions: w_{xi_j} at the nodes, shape (k, n), normalised to <w, w>_mu = 1 with mu
            the normalised measure, and with sign fixed so that w is positive at the right end
            (1D) or has a positive largest entry (2D).
        mass: The total mass of the (unnormalised) density on the domain.
    """

    xi: Float[np.ndarray, " k"]
    nodes: np.ndarray
    eigenfunctions: Float[np.ndarray, "k n"]
    mass: float

    @property
    def xi_min(self) -> float:
        """The smallest non-zero eigenvalue, i.e. the Poincare constant."""
        return float(self.xi[0])


def _evaluate_density(density, *points: np.ndarray) -> np.ndarray:
    values = np.asarray(density(*points), dtype=float)
    if values.shape != points[0].shape:
        raise ValueError(
            f"density must return one value per point (shape {points[0].shape}), got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        i = int(np.argmin(np.isfinite(values)))
        where = ", ".join(f"{p.ravel()[i]:.6g}" for p in points)
        raise ValueError(f"density must be finite on the domain, got {values.ravel()[i].item()!r} at ({where})")
    if np.any(values <= 0):
        i = int(np.argmin(values.ravel()))
        where = ", ".join(f"{p.ravel()[i]:.6g}" for p in points)
        raise ValueError(f"density must be positive on the domain, got {values.ravel()[i].item()!r} at ({where})")
    return values


def _check_mass(mass: float) -> float:
    if not (np.isfinite(mass) and mass > 0):
        raise ValueError(f"density must be normalisable on the domain: its integral must be finite and > 0, got {mass!r}")
    return mass


def _lagrange_1d(degree: int, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape functions and their derivatives on the reference element [-1, 1] at points s."""
    if degree == 1:
        phi = np.stack([(1 - s) / 2, (1 + s) / 2])
        dphi = np.stack([-0.5 * np.ones_like(s), 0.5 * np.ones_like(s)])
    else:
        phi = np.stack([s * (s - 1) / 2, 1 - s**2, s * (s + 1) / 2])
        dphi = np.stack([s - 0.5, -2 * s, s + 0.5])
    return phi, dphi


def assemble_weighted_fem_1d(
    density: Density1D, domain: tuple[float, float], num_elements: int, degree: int = 2
) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """Stiffness K_ij = int rho phi_i' phi_j' and mass M_ij = int rho phi_i phi_j on a uniform mesh.

    Args:
        density: rho, vectorised over numpy arrays, positive and finite on ``domain``.
        domain: (a, b).
        num_elements: Number of elements (>= 2).
        degree: 1 (linear) or 2 (quadratic) elements.

    Returns:
        ``(nodes, K, M, element_mass)``; ``element_mass[e] = int_e rho``.
    """
    a, b = check_interval("domain", domain)
    check_int_at_least("num_elements", num_elements, 2)
    if degree not in (1, 2):
        raise ValueError(f"degree must be 1 or 2, got {degree!r}")
    n_nodes = degree * num_elements + 1
    nodes = np.linspace(a, b, n_nodes)
    h = (b - a) / num_elements
    s, w = np.polynomial.legendre.leggauss(degree + 4)
    left = nodes[: -1 : degree]  # element left ends
    xq = left[:, None] + (s[None, :] + 1) * h / 2  # (E, q)
    _evaluate_density(density, nodes)  # also check the nodes (the ends are not quadrature points)
    rho = _evaluate_density(density, xq.ravel()).reshape(xq.shape)
    phi, dphi = _lagrange_1d(degree, s)  # (p+1, q)
    wr = rho * w[None, :] * (h / 2)  # quadrature weights times rho times Jacobian
    with np.errstate(over="ignore"):
        _check_mass(float(wr.sum()))
    m_loc = np.einsum("eq,iq,jq->eij", wr, phi, phi)
    k_loc = np.einsum("eq,iq,jq->eij", wr, dphi, dphi) * (2 / h) ** 2
    conn = degree * np.arange(num_elements)[:, None] + np.arange(degree + 1)[None, :]
    rows = np.repeat(conn, degree + 1, axis=1).ravel()
    cols = np.tile(conn, (1, degree + 1)).ravel()
    K = sp.csr_matrix((k_loc.ravel(), (rows, cols)), shape=(n_nodes, n_nodes))
    M = sp.csr_matrix((m_loc.ravel(), (rows, cols)), shape=(n_nodes, n_nodes))
    return nodes, K, M, wr.sum(axis=1)


def _lowest_modes(K, M, num_modes: int, mass: float, shift_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The num_modes smallest non-zero generalised eigenpairs of K w = xi M w."""
    n = K.shape[0]
    k = num_modes + 1
    if k >= n - 1:
        raise ValueError(f"num_modes must be smaller than the number of unknowns minus 2 ({n - 2}), got {num_modes}")
    # Shift-invert about a small negative shift: K - sigma M is positive definite, and the
    # eigenvalues closest to sigma are the smallest ones (0 = xi_0 < xi_1 <= ...). The shift is a
    # fraction of (pi / domain length)^2, the first Neumann eigenvalue of a flat density: close to
    # the wanted end of the spectrum whatever the mesh size.
    sigma = -1e-2 * shift_scale
    # A fixed starting vector: ARPACK's own random one differs from process to process, and with
    # it the last digits of every spectrum (and of the book's printed numbers).
    start = np.random.default_rng(0).uniform(-1.0, 1.0, n)
    vals, vecs = spla.eigsh(K.tocsc(), k=k, M=M.tocsc(), sigma=sigma, which="LM", v0=start)
    order = np.argsort(vals)
    vals, vecs = vals[order], vecs[:, order]
    # eigsh normalises w^T M w = 1 for the unnormalised density; rescale to the probability measure.
    vecs = vecs * np.sqrt(mass)
    return vals[1:], vecs[:, 1:].T


def weighted_laplacian_spectrum(
    density: Density1D,
    domain: tuple[float, float],
    *,
    num_modes: int = 5,
    num_elements: int = 2000,
    degree: int = 2,
) -> WeightedLaplacianSpectrum:
    """Lowest eigenpairs of -(1/rho)(rho w')' = xi w with rho w' = 0 at the ends (eq. 14, 1D).

    Finite elements of the given degree on a uniform mesh; eigenvalue errors fall as h^(2 degree).
    For a density on the whole line pick ``domain`` wide enough that rho is negligible at its
    ends (for a Gaussian, 10 standard deviations either side is plenty for the lowest modes; the
    k-th mode lives out to about 2 sqrt(k) standard deviations, so high modes need a wider domain).

    Args:
        density: rho (need not be normalised), vectorised over numpy arrays.
        domain: (a, b) with a < b.
        num_modes: How many non-zero eigenvalues to return (>= 1).
        num_elements: Number of elements (>= 8).
        degree: 1 or 2.

    Returns:
        :class:`WeightedLaplacianSpectrum`.
    """
    check_int_at_least("num_modes", num_modes, 1)
    check_int_at_least("num_elements", num_elements, 8)
    nodes, K, M, element_mass = assemble_weighted_fem_1d(density, domain, num_elements, degree)
    mass = float(element_mass.sum())
    xi, w = _lowest_modes(K, M, num_modes, mass, (np.pi / (nodes[-1] - nodes[0])) ** 2)
    w = w * np.where(w[:, -1] < 0, -1.0, 1.0)[:, None]
    return WeightedLaplacianSpectrum(xi=xi, nodes=nodes, eigenfunctions=w, mass=mass)


def weighted_laplacian_spectrum_2d(
    density: Density2D,
    domain: tuple[tuple[float, float], tuple[float, float]],
    *,
    num_modes: int = 5,
    num_cells: int | tuple[int, int] = 200,
) -> WeightedLaplacianSpectrum:
    """Lowest eigenpairs of -(1/rho) div(rho grad w) = xi w on a rectangle, natural boundary.

    Bilinear (Q1) finite elements on a uniform grid, with the density sampled at 2x2 Gauss
    points of each cell; eigenvalue errors fall as h^2. Solved with a sparse shift-invert
    Lanczos iteration (``scipy.sparse.linalg.eigsh``).

    Args:
        density: rho(x, y) (need not be normalised), vectorised over numpy arrays.
        domain: ((x0, x1), (y0, y1)).
        num_modes: How many non-zero eigenvalues to return (>= 1).
        num_cells: Cells per axis (>= 8), an int or a pair.

    Returns:
        :class:`WeightedLaplacianSpectrum` with ``nodes`` of shape (n, 2), x varying fastest.
    """
    check_int_at_least("num_modes", num_modes, 1)
    try:
        dx_dom, dy_dom = domain
    except (TypeError, ValueError):
        raise ValueError(f"domain must be ((x0, x1), (y0, y1)), got {domain!r}") from None
    x0, x1 = check_interval("domain[0]", dx_dom)
    y0, y1 = check_interval("domain[1]", dy_dom)
    nx, ny = (num_cells, num_cells) if isinstance(num_cells, (int, np.integer)) else tuple(num_cells)
    check_int_at_least("num_cells", nx, 8)
    check_int_at_least("num_cells", ny, 8)
    hx, hy = (x1 - x0) / nx, (y1 - y0) / ny
    s, w = np.polynomial.legendre.leggauss(2)
    # Reference bilinear shape functions at the 2x2 Gauss points.
    phi1, dphi1 = _lagrange_1d(1, s)  # (2, q)
    # Local index (i, j) -> node offset; products over the tensor quadrature.
    cx = x0 + (np.arange(nx) + 0.5) * hx
    cy = y0 + (np.arange(ny) + 0.5) * hy
    qx = cx[:, None] + s[None, :] * hx / 2  # (nx, q)
    qy = cy[:, None] + s[None, :] * hy / 2  # (ny, q)
    X = qx[None, :, None, :]  # (1, nx, 1, q) -> broadcast to (ny, nx, q_y, q_x)
    Y = qy[:, None, :, None]
    Xb, Yb = np.broadcast_arrays(X, Y)
    rho = _evaluate_density(density, Xb.ravel(), Yb.ravel()).reshape(Xb.shape)  # (ny, nx, qy, qx)
    gx, gy = np.meshgrid(np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1), indexing="xy")
    _evaluate_density(density, gx.ravel(), gy.ravel())
    wq = rho * (w[None, None, :, None] * w[None, None, None, :]) * (hx * hy / 4)
    with np.errstate(over="ignore"):
        mass = _check_mass(float(wq.sum()))
    # Shape functions N_{a b}(sx, sy) = phi_a(sx) phi_b(sy), a for x, b for y.
    N = np.einsum("ax,by->abyx", phi1, phi1)  # (2, 2, qy, qx)
    Nx = np.einsum("ax,by->abyx", dphi1, phi1) * (2 / hx)
    Ny = np.einsum("ax,by->abyx", phi1, dphi1) * (2 / hy)
    m_loc = np.einsum("jiyx,abyx,cdyx->jiabcd", wq, N, N).reshape(ny, nx, 4, 4)
    k_loc = (
        np.einsum("jiyx,abyx,cdyx->jiabcd", wq, Nx, Nx) + np.einsum("jiyx,abyx,cdyx->jiabcd", wq, Ny, Ny)
    ).reshape(ny, nx, 4, 4)
    jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    # local (a, b) flattened as a*2 + b: a is the x offset, b the y offset.
    offsets = [(a, b) for a in range(2) for b in range(2)]
    conn = np.stack([(jj + b) * (nx + 1) + (ii + a) for a, b in offsets], axis=-1)  # (ny, nx, 4)
    rows = np.repeat(conn[..., :, None], 4, axis=-1).ravel()
    cols = np.repeat(conn[..., None, :], 4, axis=-2).ravel()
    n = (nx + 1) * (ny + 1)
    K = sp.csr_matrix((k_loc.ravel(), (rows, cols)), shape=(n, n))
    M = sp.csr_matrix((m_loc.ravel(), (rows, cols)), shape=(n, n))
    xi, vecs = _lowest_modes(K, M, num_modes, mass, (np.pi / max(x1 - x0, y1 - y0)) ** 2)
    big = np.argmax(np.abs(vecs), axis=1)
    vecs = vecs * np.sign(vecs[np.arange(len(xi)), big])[:, None]
    nodes = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    return WeightedLaplacianSpectrum(xi=xi, nodes=nodes, eigenfunctions=vecs, mass=mass)


def poincare_constant(density: Density1D, domain: tuple[float, float], **kwargs) -> float:
    """xi_min = min over w with E_mu w = 0 of E_mu (w')^2 / E_mu w^2 (eqs. 15 and 30), computed exactly.

    Args:
        density: rho on R, vectorised.
        domain: (a, b), wide enough that rho is negligible at the ends.
        **kwargs: Passed to :func:`weighted_laplacian_spectrum`.

    Returns:
        xi_min as a float.
    """
    return weighted_laplacian_spectrum(density, domain, num_modes=1, **kwargs).xi_min
