"""GAN flows: a discriminator and a generator following the simultaneous-gradient vector field.

State. A :class:`GANState` holds a discriminator D: R^d -> R and a generator G: R^k -> R^d
(Equinox modules; :func:`mlp_gan` builds MLPs). Writing theta for D's parameters and phi for G's,
the flow is (Qin et al. 2020, eq. 4)

    theta' = -grad_theta [ l_D(theta, phi) + regularisers ],    phi' = -grad_phi l_G(theta, phi),

with l_D = E_mu phi_1(D(x)) + E_z phi_2(D(G(z))) (Khrulkov et al. 2021, eq. 2) and either the
minimax generator loss l_G = -E_z phi_2(D(G(z))) or the non-saturating one
l_G = E_z phi_1(D(G(z))) (for the standard GAN, -E_z log sigmoid(D(G(z))); Qin et al. 2020,
Section 2). It is integrated at a fixed step by Euler, Heun or the classical RK4 (:class:`lgan.RK4`),
one Diffrax ``solver.step`` per step inside a ``jax.lax.scan`` (or, with ``unroll_stages=True``,
the same Butcher tableau with its stages unrolled; :class:`lgan.RK4` unrolls its own stages, so the
flag only matters for Heun, whose Diffrax step loops over its stages).

Modules: ``_state`` (the networks, their parameters, the minibatch), ``_vector_field`` (the loss
pair and regularisers), ``_engine`` (one run: configuration, problem, ODE stepper), ``_players``
(Adam and alternating Euler), ``_result``, ``_checks``, ``_solve`` (single runs) and ``_sweep``.

Minibatch rule: one minibatch per step, shared by all the stages of that step, drawn from the key
``jax.random.fold_in(key, k)`` at step k. Between t_k and t_k + h the solver then integrates one
fixed, deterministic vector field v_k (the field of the step's empirical measures), so an RK4 step
is a genuine RK4 step of v_k and keeps its order in h. Fresh noise at each stage would make the
stages estimates of different fields, and the stage weights would no longer cancel the error terms
(the scheme degrades to a first-order stochastic one). Folding in k makes the batch of step k a
function of (key, k) only: Euler, Heun, RK4 and Adam at the same key see the same batches (paired
comparisons), and the batches do not depend on ``save_every`` or on a divergence earlier in the
run. With ``batch_size=None`` the batch is the whole data set and a latent sample drawn once, so
the flow is a deterministic ODE (used to test the order of the solvers).
"""
