"""Speed of the GAN-flow engine, with every ratio measured side by side in one run.

1. ``lgan.solve_gan_flow`` with the Diffrax RK4 solver against the same vector field stepped by a
   hand-written ``jax.lax.scan`` RK4 loop (same minibatch rule, no metrics, no divergence check):
   run-time ratio (target <= 1.10) and compile times.
2. RK4 per step against Euler per step (four field evaluations against one: close to 4).
3. A vmapped sweep of 16 runs (``lgan.sweep``) against the same 16 runs one after another
   (target >= 5x on 2 CPU cores).

Timings are the minimum over interleaved repeats, after a warm-up call that compiles.

Run: .venv/bin/python benchmarks/gan_flow.py
"""

import os
import platform
import time

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import lgan

NUM_STEPS = 400
BATCH = 64
WIDTH = 32
DEPTH = 2
STEP = 0.02
REPEATS = 5


def eight_gaussians(n, *, seed=0):
    """The 2-D mixture of 8 Gaussians on a circle of radius 2 (std 0.05), as in Qin et al. (2020), Section 5.1."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * rng.integers(0, 8, n) / 8
    centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + 0.05 * rng.standard_normal((n, 2))).astype(np.float32)


def hand_written_rk4(flow, state, data, key, step, num_steps, batch_size, *, diffrax_step=False):
    """The same field theta' = -grad(l_D + R), phi' = -grad l_G, stepped by a plain scan RK4 loop.

    With ``diffrax_step=True`` the loop is the same but each step is ``lgan.RK4().step``: this
    separates the cost of Diffrax's stage loop from that of the engine (metrics, divergence checks).
    """
    d0, d_static = eqx.partition(state.discriminator, eqx.is_inexact_array)
    g0, g_static = eqx.partition(state.generator, eqx.is_inexact_array)
    k = state.latent_dim

    def assemble(d, g):
        return lgan.GANState(eqx.combine(d, d_static), eqx.combine(g, g_static), k)

    def field(y, batch):
        d, g = y
        gd = jax.grad(lambda dd: flow.discriminator_objective(assemble(dd, g), batch))(d)
        gg = jax.grad(lambda gg_: flow.losses(assemble(d, gg_), batch)[1])(g)
        return jax.tree_util.tree_map(jnp.negative, (gd, gg))

    def axpy(a, x, y):
        return jax.tree_util.tree_map(lambda u, v: u + a * v, y, x)

    noise_key, _ = jax.random.split(key)

    solver = lgan.RK4()
    term = diffrax.ODETerm(lambda t, y, args: field(y, args))

    def body(y, i):
        batch = lgan.draw_minibatch(data, k, batch_size, key=jax.random.fold_in(noise_key, i))
        if diffrax_step:
            y1, _, _, _, _ = solver.step(term, i * step, (i + 1) * step, y, batch, None, made_jump=False)
            return y1, None
        k1 = field(y, batch)
        k2 = field(axpy(step / 2, k1, y), batch)
        k3 = field(axpy(step / 2, k2, y), batch)
        k4 = field(axpy(step, k3, y), batch)
        incr = jax.tree_util.tree_map(lambda a, b, c, e: (a + 2 * b + 2 * c + e) / 6, k1, k2, k3, k4)
        return axpy(step, incr, y), None

    y, _ = jax.lax.scan(body, (d0, g0), jnp.arange(num_steps))
    return y


def timed(fn):
    start = time.perf_counter()
    out = fn()
    jax.block_until_ready(jax.tree_util.tree_leaves(eqx.filter(out, eqx.is_array)))
    return time.perf_counter() - start, out


def main():
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, jax {jax.__version__}, backend {jax.default_backend()}")
    data = jnp.asarray(eight_gaussians(2048))
    key = jax.random.key(0)
    state = lgan.mlp_gan(2, latent_dim=2, width=WIDTH, depth=DEPTH, key=jax.random.key(1))
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", lam=0.01)
    print(
        f"8 Gaussians, MLPs width {WIDTH} depth {DEPTH}, batch {BATCH}, {NUM_STEPS} steps of h = {STEP}, "
        f"standard loss (non-saturating) + Qin penalty lambda = 0.01; min of {REPEATS} interleaved repeats\n"
    )

    def diffrax_run(solver, step=STEP, k=key, unroll=False):
        return lgan.solve_gan_flow(
            flow, state, data, solver=solver, step=step, num_steps=NUM_STEPS, batch_size=BATCH, save_every=NUM_STEPS, key=k,
            unroll_stages=unroll,
        )  # fmt: skip

    hand = jax.jit(lambda k, h: hand_written_rk4(flow, state, data, k, h, NUM_STEPS, BATCH))
    hand_dfx = jax.jit(lambda k, h: hand_written_rk4(flow, state, data, k, h, NUM_STEPS, BATCH, diffrax_step=True))
    step_arr = jnp.asarray(STEP, dtype=data.dtype)

    # --- compile times (first call minus a steady call) ---------------------------------------------
    first = {}
    first["rk4"], out_rk4 = timed(lambda: diffrax_run("rk4"))
    first["euler"], _ = timed(lambda: diffrax_run("euler"))
    first["unrolled"], out_unrolled = timed(lambda: diffrax_run("rk4", unroll=True))
    first["hand"], out_hand = timed(lambda: hand(key, step_arr))
    first["hand_dfx"], _ = timed(lambda: hand_dfx(key, step_arr))
    # Same numbers from both RK4 implementations (the hand-written loop has no clipping or checks).
    diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(
        jax.tree_util.tree_leaves((eqx.filter(out_rk4.final.discriminator, eqx.is_inexact_array), eqx.filter(out_rk4.final.generator, eqx.is_inexact_array))),
        jax.tree_util.tree_leaves(out_hand),
    ))  # fmt: skip

    best = {name: np.inf for name in ("rk4", "euler", "hand", "hand_dfx", "unrolled")}
    for _ in range(REPEATS):
        best["rk4"] = min(best["rk4"], timed(lambda: diffrax_run("rk4"))[0])
        best["hand"] = min(best["hand"], timed(lambda: hand(key, step_arr))[0])
        best["euler"] = min(best["euler"], timed(lambda: diffrax_run("euler"))[0])
        best["hand_dfx"] = min(best["hand_dfx"], timed(lambda: hand_dfx(key, step_arr))[0])
        best["unrolled"] = min(best["unrolled"], timed(lambda: diffrax_run("rk4", unroll=True))[0])

    print("1. Diffrax RK4 (lgan.solve_gan_flow) vs hand-written lax.scan RK4, same field and minibatches")
    print(f"   compile+first run: diffrax {first['rk4']:.2f} s, hand-written {first['hand']:.2f} s")
    print(f"   compile (first - steady): diffrax {first['rk4'] - best['rk4']:.2f} s, hand-written {first['hand'] - best['hand']:.2f} s")
    print(f"   run: diffrax {best['rk4'] * 1e3:.1f} ms, hand-written {best['hand'] * 1e3:.1f} ms, ratio {best['rk4'] / best['hand']:.3f} (target <= 1.10)")
    print(f"   max |difference| of the final parameters: {diff:.2e} (float32, 400 steps)")
    print(f"   breakdown: the hand-written loop with lgan.RK4().step in place of the manual stages: {best['hand_dfx'] * 1e3:.1f} ms, "
          f"ratio to hand-written {best['hand_dfx'] / best['hand']:.3f} (Diffrax's stage loop); "
          f"engine over that {best['rk4'] / best['hand_dfx']:.3f} (metrics, divergence masking)")
    diff_u = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(
        jax.tree_util.tree_leaves(eqx.filter(out_unrolled.final, eqx.is_inexact_array)),
        jax.tree_util.tree_leaves(eqx.filter(out_rk4.final, eqx.is_inexact_array)),
    ))  # fmt: skip
    print(f"   lgan.solve_gan_flow(..., unroll_stages=True) (lgan.RK4's tableau, stages unrolled): {best['unrolled'] * 1e3:.1f} ms, "
          f"ratio to hand-written {best['unrolled'] / best['hand']:.3f} (target <= 1.10); compile {first['unrolled'] - best['unrolled']:.2f} s; "
          f"max |difference| to the Diffrax step {diff_u:.1e}")
    print("\n2. RK4 vs Euler per step (lgan.solve_gan_flow)")
    print(f"   per step: rk4 {best['rk4'] / NUM_STEPS * 1e6:.1f} us, euler {best['euler'] / NUM_STEPS * 1e6:.1f} us, ratio {best['rk4'] / best['euler']:.2f} (close to 4)")
    print(f"   with unroll_stages=True: rk4 {best['unrolled'] / NUM_STEPS * 1e6:.1f} us per step, ratio to euler {best['unrolled'] / best['euler']:.2f}")
    print(f"   compile (first - steady): rk4 {first['rk4'] - best['rk4']:.2f} s, euler {first['euler'] - best['euler']:.2f} s")
    print("\n3. 16 runs (16 keys x 16 steps h in [0.01, 0.04]), RK4, vmapped lgan.sweep vs the same runs one after another")
    for width, batch in ((8, 16), (WIDTH, BATCH)):
        for unroll in (False, True):
            sweep_speedup(flow, data, key, width, batch, unroll)


def sweep_speedup(flow, data, key, width, batch, unroll):
    state = lgan.mlp_gan(2, latent_dim=2, width=width, depth=DEPTH, key=jax.random.key(1))
    keys = jax.random.split(key, 16)
    steps16 = jnp.linspace(0.01, 0.04, 16)

    def sweep_run():
        return lgan.sweep(flow, state, data, keys=keys, step=steps16, num_steps=NUM_STEPS, method="rk4", batch_size=batch, save_every=NUM_STEPS,
                          unroll_stages=unroll)

    def sequential_run():
        return [
            lgan.solve_gan_flow(flow, state, data, solver="rk4", step=float(steps16[r]), num_steps=NUM_STEPS, batch_size=batch, save_every=NUM_STEPS, key=keys[r],
                                unroll_stages=unroll)
            for r in range(16)
        ]

    first_sweep, out = timed(sweep_run)
    first_seq, _ = timed(sequential_run)
    best_sweep = best_seq = np.inf
    for _ in range(max(2, REPEATS // 2)):
        best_sweep = min(best_sweep, timed(sweep_run)[0])
        best_seq = min(best_seq, timed(sequential_run)[0])
    print(f"   width {width}, batch {batch}, unroll_stages={unroll}: sweep {best_sweep * 1e3:.0f} ms (compile+first {first_sweep:.1f} s), "
          f"one after another {best_seq * 1e3:.0f} ms (compile+first {first_seq:.1f} s): speed-up {best_seq / best_sweep:.2f}x (aim >= 5x); "
          f"diverged {int(np.sum(np.asarray(out.diverged)))} of 16")


if __name__ == "__main__":
    main()
