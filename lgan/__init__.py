"""lgan: the linearised GAN in function space, its spectrum, and its numerics."""

from ._linear._losses import LOSS_NAMES as LOSS_NAMES
from ._linear._losses import GANLoss as GANLoss
from ._linear._losses import LGANConstants as LGANConstants
from ._linear._losses import gan_loss as gan_loss
from ._linear._losses import lgan_constants as lgan_constants
from ._core._measures import GaussianMixture1D as GaussianMixture1D
from ._linear._laplacian import WeightedLaplacianSpectrum as WeightedLaplacianSpectrum
from ._linear._laplacian import assemble_weighted_fem_1d as assemble_weighted_fem_1d
from ._core._measures import gaussian_mixture as gaussian_mixture
from ._linear._laplacian import poincare_constant as poincare_constant
from ._core._measures import two_gaussian_mixture as two_gaussian_mixture
from ._linear._laplacian import weighted_laplacian_spectrum as weighted_laplacian_spectrum
from ._linear._laplacian import weighted_laplacian_spectrum_2d as weighted_laplacian_spectrum_2d
from ._linear._pde import LGANSolution as LGANSolution
from ._linear._pde import LinearizedGANPDE1D as LinearizedGANPDE1D
from ._linear._pde import fitted_decay_rate as fitted_decay_rate
from ._linear._pde import lgan_pde_1d as lgan_pde_1d
from ._linear._pde import solve_lgan_pde as solve_lgan_pde
from ._linear._pde import mean_zero_initial_state as mean_zero_initial_state
from ._linear._pde import DecayCurve as DecayCurve
from ._linear._pde import decay_curve as decay_curve
from ._linear._spectrum import OptimalParameters as OptimalParameters
from ._linear._spectrum import euler_growth_factor as euler_growth_factor
from ._linear._spectrum import largest_stable_step as largest_stable_step
from ._linear._spectrum import lgan_eigenvalues as lgan_eigenvalues
from ._linear._spectrum import optimal_parameters as optimal_parameters
from ._linear._spectrum import slowest_rate as slowest_rate
from ._linear._spectrum import spectral_abscissa as spectral_abscissa
from ._linear._spectrum import stability_function as stability_function
from ._linear._spectrum import step_matrix as step_matrix
from ._core._solvers import RK4 as RK4
from ._core._solvers import SOLVER_NAMES as SOLVER_NAMES
from ._core._solvers import solver_by_name as solver_by_name
from ._core._fits import PowerLawFit as PowerLawFit
from ._core._fits import power_law_fit as power_law_fit
from ._games._game import Game as Game
from ._games._game import Trajectory as Trajectory
from ._games._game import simulate as simulate
from ._games._toy_games import LEMMA2_PENALTIES as LEMMA2_PENALTIES
from ._games._toy_games import dirac_gan as dirac_gan
from ._games._toy_games import dirac_gan_critical_gamma as dirac_gan_critical_gamma
from ._games._toy_games import dirac_gan_eigenvalues as dirac_gan_eigenvalues
from ._games._toy_games import kim_lemma2_game as kim_lemma2_game
from ._games._toy_games import kim_lemma3_game as kim_lemma3_game
from ._games._toy_games import lemma1_basin_radius as lemma1_basin_radius
from ._games._toy_games import lemma2_eigenvalues as lemma2_eigenvalues
from ._games._toy_games import lemma2_equilibria as lemma2_equilibria
from ._games._toy_games import lemma2_invariant as lemma2_invariant
from ._games._toy_games import lemma2_second_moment as lemma2_second_moment
from ._games._toy_games import lemma3_invariant as lemma3_invariant
from ._games._toy_games import lemma3_limit as lemma3_limit
from ._games._toy_games import lemma3_nullcline as lemma3_nullcline
from ._games._toy_games import qin_eigenvalues as qin_eigenvalues
from ._games._toy_games import qin_euler_growth as qin_euler_growth
from ._games._toy_games import qin_rotational_game as qin_rotational_game
from ._games._toy_games import qin_solution as qin_solution
from ._games._toy_games import turinici_game as turinici_game
from ._games._toy_games import turinici_invariant as turinici_invariant
from ._games._toy_games import turinici_simultaneous_factor as turinici_simultaneous_factor
from ._games._toy_games import turinici_solution as turinici_solution
from ._games._convergence import EmpiricalOrder as EmpiricalOrder
from ._games._convergence import StepHalvingResult as StepHalvingResult
from ._games._convergence import empirical_order as empirical_order
from ._games._convergence import step_halving_test as step_halving_test
from ._poincare._augment import AUGMENTATION_NAMES as AUGMENTATION_NAMES
from ._poincare._augment import Augmentation as Augmentation
from ._poincare._augment import augment as augment
from ._poincare._augment import make_augmentation as make_augmentation
from ._poincare._datasets import instance_selection as instance_selection
from ._poincare._datasets import load_builtin as load_builtin
from ._poincare._datasets import load_cifar10 as load_cifar10
from ._poincare._datasets import load_digits_images as load_digits_images
from ._poincare._networks import SpectralNormConvNet as SpectralNormConvNet
from ._poincare._networks import SpectralNormMLP as SpectralNormMLP
from ._poincare._quotient import PoincareEstimate as PoincareEstimate
from ._poincare._estimator import estimate_poincare_constant as estimate_poincare_constant
from ._poincare._quotient import rayleigh_quotient as rayleigh_quotient
# GAN flows
from ._gan_flows._vector_field import GENERATOR_LOSSES as GENERATOR_LOSSES
from ._gan_flows._vector_field import GANFlow as GANFlow
from ._gan_flows._result import GANFlowResult as GANFlowResult
from ._gan_flows._state import GANState as GANState
from ._gan_flows._state import Minibatch as Minibatch
from ._gan_flows._state import draw_minibatch as draw_minibatch
from ._gan_flows._vector_field import gan_flow as gan_flow
from ._gan_flows._state import mlp_gan as mlp_gan
from ._gan_flows._solve import solve_gan_flow as solve_gan_flow
from ._gan_flows._sweep import sweep as sweep
from ._gan_flows._solve import train_with_adam as train_with_adam
from ._gan_flows._experiments import mlp_gan_batch as mlp_gan_batch
from ._gan_flows._experiments import select_state as select_state
from ._gan_flows._experiments import sweep_grid as sweep_grid
from ._gan_flows._evaluation import discriminator_on_grid as discriminator_on_grid
from ._gan_flows._evaluation import generator_samples as generator_samples
from ._gan_flows._evaluation import hitting_time as hitting_time
from ._gan_flows._evaluation import windowed_decay_rate as windowed_decay_rate
from ._gan_flows._regularisers import PENALTY_FORMS as PENALTY_FORMS
from ._gan_flows._regularisers import PENALTY_MEASURES as PENALTY_MEASURES
from ._gan_flows._regularisers import clip_weights as clip_weights
from ._gan_flows._regularisers import generator_gradient_penalty as generator_gradient_penalty
from ._gan_flows._regularisers import gradient_penalty as gradient_penalty
from ._gan_flows._regularisers import penalty_samples as penalty_samples
# GAN-flow data and metrics
from ._core._measures_2d import GaussianMixture2D as GaussianMixture2D
from ._core._measures import augmented_mixture as augmented_mixture
from ._core._measures_2d import grid_of_gaussians as grid_of_gaussians
from ._core._measures_2d import ring_of_gaussians as ring_of_gaussians
from ._core._measures import sample_augmented_mixture as sample_augmented_mixture
from ._core._measures_2d import sample_swiss_roll as sample_swiss_roll
from ._core._measures import sample_two_gaussian_mixture as sample_two_gaussian_mixture
from ._gan_flows._metrics import frechet_distance as frechet_distance
from ._gan_flows._metrics import gaussian_frechet_distance as gaussian_frechet_distance
from ._gan_flows._metrics import mode_coverage as mode_coverage
from ._core._experiment_results import experiment_result as experiment_result
from ._gan_flows._metrics import gradient_norm_metrics as gradient_norm_metrics
from ._gan_flows._metrics import sample_quality_metrics as sample_quality_metrics

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
    "mean_zero_initial_state",
    "DecayCurve",
    "decay_curve",
    "OptimalParameters",
    "euler_growth_factor",
    "largest_stable_step",
    "lgan_eigenvalues",
    "optimal_parameters",
    "slowest_rate",
    "spectral_abscissa",
    "stability_function",
    "step_matrix",
    "RK4",
    "SOLVER_NAMES",
    "solver_by_name",
    "PowerLawFit",
    "power_law_fit",
    "Game",
    "Trajectory",
    "simulate",
    "LEMMA2_PENALTIES",
    "dirac_gan",
    "dirac_gan_critical_gamma",
    "dirac_gan_eigenvalues",
    "kim_lemma2_game",
    "kim_lemma3_game",
    "lemma1_basin_radius",
    "lemma2_eigenvalues",
    "lemma2_equilibria",
    "lemma2_invariant",
    "lemma2_second_moment",
    "lemma3_invariant",
    "lemma3_limit",
    "lemma3_nullcline",
    "qin_eigenvalues",
    "qin_euler_growth",
    "qin_rotational_game",
    "qin_solution",
    "turinici_game",
    "turinici_invariant",
    "turinici_simultaneous_factor",
    "turinici_solution",
    "EmpiricalOrder",
    "StepHalvingResult",
    "empirical_order",
    "step_halving_test",
    "AUGMENTATION_NAMES",
    "Augmentation",
    "augment",
    "make_augmentation",
    "instance_selection",
    "load_builtin",
    "load_cifar10",
    "load_digits_images",
    "SpectralNormConvNet",
    "SpectralNormMLP",
    "PoincareEstimate",
    "estimate_poincare_constant",
    "rayleigh_quotient",
    # GAN flows
    "GENERATOR_LOSSES",
    "GANFlow",
    "GANFlowResult",
    "GANState",
    "Minibatch",
    "draw_minibatch",
    "gan_flow",
    "mlp_gan",
    "solve_gan_flow",
    "sweep",
    "train_with_adam",
    "mlp_gan_batch",
    "select_state",
    "sweep_grid",
    "discriminator_on_grid",
    "generator_samples",
    "hitting_time",
    "windowed_decay_rate",
    "PENALTY_FORMS",
    "PENALTY_MEASURES",
    "clip_weights",
    "generator_gradient_penalty",
    "gradient_penalty",
    "penalty_samples",
    # GAN-flow data and metrics
    "GaussianMixture2D",
    "augmented_mixture",
    "grid_of_gaussians",
    "ring_of_gaussians",
    "sample_augmented_mixture",
    "sample_swiss_roll",
    "sample_two_gaussian_mixture",
    "frechet_distance",
    "gaussian_frechet_distance",
    "mode_coverage",
    "gradient_norm_metrics",
    "experiment_result",
    "sample_quality_metrics",
]
