"""lgan: the linearised GAN in function space, its spectrum, and its numerics."""

from ._losses import LOSS_NAMES as LOSS_NAMES
from ._losses import GANLoss as GANLoss
from ._losses import LGANConstants as LGANConstants
from ._losses import gan_loss as gan_loss
from ._losses import lgan_constants as lgan_constants
from ._laplacian import GaussianMixture1D as GaussianMixture1D
from ._laplacian import WeightedLaplacianSpectrum as WeightedLaplacianSpectrum
from ._laplacian import assemble_weighted_fem_1d as assemble_weighted_fem_1d
from ._laplacian import gaussian_mixture as gaussian_mixture
from ._laplacian import poincare_constant as poincare_constant
from ._laplacian import two_gaussian_mixture as two_gaussian_mixture
from ._laplacian import weighted_laplacian_spectrum as weighted_laplacian_spectrum
from ._laplacian import weighted_laplacian_spectrum_2d as weighted_laplacian_spectrum_2d
from ._pde import LGANSolution as LGANSolution
from ._pde import LinearizedGANPDE1D as LinearizedGANPDE1D
from ._pde import fitted_decay_rate as fitted_decay_rate
from ._pde import lgan_pde_1d as lgan_pde_1d
from ._pde import solve_lgan_pde as solve_lgan_pde
from ._spectrum import SCHEMES as SCHEMES
from ._spectrum import OptimalParameters as OptimalParameters
from ._spectrum import euler_growth_factor as euler_growth_factor
from ._spectrum import largest_stable_step as largest_stable_step
from ._spectrum import lgan_eigenvalues as lgan_eigenvalues
from ._spectrum import optimal_parameters as optimal_parameters
from ._spectrum import slowest_rate as slowest_rate
from ._spectrum import spectral_abscissa as spectral_abscissa
from ._spectrum import stability_function as stability_function
from ._spectrum import step_matrix as step_matrix

__version__ = "0.1.0"

__all__ = [
    "LOSS_NAMES",
    "GANLoss",
    "LGANConstants",
    "gan_loss",
    "lgan_constants",
    "GaussianMixture1D",
    "WeightedLaplacianSpectrum",
    "assemble_weighted_fem_1d",
    "gaussian_mixture",
    "poincare_constant",
    "two_gaussian_mixture",
    "weighted_laplacian_spectrum",
    "weighted_laplacian_spectrum_2d",
    "LGANSolution",
    "LinearizedGANPDE1D",
    "fitted_decay_rate",
    "lgan_pde_1d",
    "solve_lgan_pde",
    "SCHEMES",
    "OptimalParameters",
    "euler_growth_factor",
    "largest_stable_step",
    "lgan_eigenvalues",
    "optimal_parameters",
    "slowest_rate",
    "spectral_abscissa",
    "stability_function",
    "step_matrix",
]
