"""Speed of the GAN-flow engine, with every ratio measured side by side in one run.

1. ``lgan.solve_gan_flow`` with the Diffrax RK4 solver against the same vector field stepped by a
   hand-written ``jax.lax.scan`` RK4 loop (same minibatch rule, no metrics, no divergence check):
   run-time ratio (target <= 1.10) and compile times.
2. RK4 per step against Euler per step (four field evaluations against one: close to 4), and what
   one field evaluation costs on its own.
3. A vmapped sweep of 16 runs (``lgan.sweep``) against the same 16 runs one after another
   (aim >= 5x on 2 CPU cores), at three network sizes.

Every call is timed whole (argument checks and dispatch included), after a first call that
compiles. Ratios are medians over rounds of the per-round ratio of calls made back to back (see
``paired``); absolute times are the fastest of the rounds.

Run: .venv/bin/python benchmarks/gan_flow.py [--no-sweep | --sweep-only] [--host-devices N]
  --no-sweep: parts 1 and 2 only; --sweep-only: part 3 only; --host-devices N: expose the CPU as N
  XLA host devices, across which lgan.sweep splits its runs (part 3 then uses every core).
"""

import os
import platform
import sys
import time

if "--host-devices" in sys.argv:  # before JAX starts
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={int(sys.argv[sys.argv.index('--host-devices') + 1])}"

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
REPEATS = 15


def eight_gaussians(n, *, seed=0):
    """The 2-D mixture of 8 Gaussians on a circle of radius 2 (std 0.05), as in Qin et al. (2020), Section 5.1."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * rng.integers(0, 8, n) / 8
    centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + 0.05 * rng.standard_normal((n, 2))).astype(np.float32)


def plain_field(flow, state):
    """(y0, field): the parameters (theta, phi) of ``state`` and v(y, batch) = -(grad_theta (l_D + R), grad_phi l_G)."""
    d0, d_static = eqx.partition(state.discriminator, eqx.is_inexact_array)
    g0, g_static = eqx.partition(state.generator, eqx.is_inexact_array)

    def assemble(d, g):
        return lgan.GANState(eqx.combine(d, d_static), eqx.combine(g, g_static), state.latent_dim)

    def field(y, batch):
        d, g = y
        gd = jax.grad(lambda dd: flow.discriminator_objective(assemble(dd, g), batch))(d)
        gg = jax.grad(lambda gg_: flow.losses(assemble(d, gg_), batch)[1])(g)
        return jax.tree_util.tree_map(jnp.negative, (gd, gg))

    return (d0, g0), field


def hand_written_rk4(flow, state, data, key, step, num_steps, batch_size, *, diffrax_step=False):
    """The same field theta' = -grad(l_D + R), phi' = -grad l_G, stepped by a plain scan RK4 loop.

    With ``diffrax_step=True`` the loop is the same but each step is ``lgan.RK4().step``; with
    ``diffrax_step="generic"`` it is Diffrax's generic ``AbstractERK.step`` on the same tableau, which
    loops over the stages. This separates the cost of the solver from that of the engine (argument
    checks, metrics, divergence checks).
    """
    y0, field = plain_field(flow, state)
    k = state.latent_dim

    def axpy(a, x, y):
        return jax.tree_util.tree_map(lambda u, v: u + a * v, y, x)

    noise_key, _ = jax.random.split(key)

    solver = lgan.RK4()
    term = diffrax.ODETerm(lambda t, y, args: field(y, args))

    def body(y, i):
        batch = lgan.draw_minibatch(data, k, batch_size, key=jax.random.fold_in(noise_key, i))
        if diffrax_step:
            stepper = diffrax.AbstractERK.step if diffrax_step == "generic" else type(solver).step
            y1, _, _, _, _ = stepper(solver, term, i * step, (i + 1) * step, y, batch, None, made_jump=False)
            return y1, None
        k1 = field(y, batch)
        k2 = field(axpy(step / 2, k1, y), batch)
        k3 = field(axpy(step / 2, k2, y), batch)
        k4 = field(axpy(step, k3, y), batch)
        incr = jax.tree_util.tree_map(lambda a, b, c, e: (a + 2 * b + 2 * c + e) / 6, k1, k2, k3, k4)
        return axpy(step, incr, y), None

    y, _ = jax.lax.scan(body, y0, jnp.arange(num_steps))
    return y


def timed(fn):
    start = time.perf_counter()
    out = fn()
    jax.block_until_ready(jax.tree_util.tree_leaves(eqx.filter(out, eqx.is_array)))
    return time.perf_counter() - start, out


def paired(fns, repeats):
    """Run the functions in turn, ``repeats`` rounds; return every time of each.

    On a shared 2-core machine the speed drifts by tens of per cent within a minute. Two calls made
    back to back see the same drift, so a ratio is the median over rounds of the per-round ratio,
    not a ratio of two medians.
    """
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn)[0])
    return {name: np.asarray(t) for name, t in times.items()}


def ratio(times, a, b):
    return float(np.median(times[a] / times[b]))


def main():
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, jax {jax.__version__}, "
          f"backend {jax.default_backend()}, {len(jax.devices())} device(s)")
    data = jnp.asarray(eight_gaussians(2048))
    key = jax.random.key(0)
    state = lgan.mlp_gan(2, latent_dim=2, width=WIDTH, depth=DEPTH, key=jax.random.key(1))
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", lam=0.01)
    print(
        f"8 Gaussians, MLPs width {WIDTH} depth {DEPTH}, batch {BATCH}, {NUM_STEPS} steps of h = {STEP}, "
        f"standard loss (non-saturating) + Qin penalty lambda = 0.01; ratios are medians of {REPEATS} interleaved rounds\n"
    )

    def diffrax_run(solver):
        return lgan.solve_gan_flow(
            flow, state, data, solver=solver, step=STEP, num_steps=NUM_STEPS, batch_size=BATCH, save_every=NUM_STEPS, key=key,
        )

    if "--sweep-only" in sys.argv:
        return sweeps(flow, data, key)
    hand = jax.jit(lambda k, h: hand_written_rk4(flow, state, data, k, h, NUM_STEPS, BATCH))
    hand_dfx = jax.jit(lambda k, h: hand_written_rk4(flow, state, data, k, h, NUM_STEPS, BATCH, diffrax_step=True))
    hand_generic = jax.jit(lambda k, h: hand_written_rk4(flow, state, data, k, h, NUM_STEPS, BATCH, diffrax_step="generic"))
    step_arr = jnp.asarray(STEP, dtype=data.dtype)
    fns = {
        "rk4": lambda: diffrax_run("rk4"),
        "hand": lambda: hand(key, step_arr),
        "hand_dfx": lambda: hand_dfx(key, step_arr),
        "hand_generic": lambda: hand_generic(key, step_arr),
        "euler": lambda: diffrax_run("euler"),
    }
    first = {}
    outs = {}
    for name, fn in fns.items():  # compile and first run
        first[name], outs[name] = timed(fn)
    # Same numbers from both RK4 implementations (the hand-written loop has no clipping or checks).
    diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(
        jax.tree_util.tree_leaves((eqx.filter(outs["rk4"].final.discriminator, eqx.is_inexact_array), eqx.filter(outs["rk4"].final.generator, eqx.is_inexact_array))),
        jax.tree_util.tree_leaves(outs["hand"]),
    ))
    t = paired(fns, REPEATS)
    best = {name: float(np.min(v)) for name, v in t.items()}

    print("1. Diffrax RK4 (lgan.solve_gan_flow) vs hand-written lax.scan RK4, same field and minibatches")
    print(f"   compile (first call - fastest call): diffrax {first['rk4'] - best['rk4']:.2f} s, hand-written {first['hand'] - best['hand']:.2f} s")
    print(f"   run: diffrax {best['rk4'] * 1e3:.1f} ms, hand-written {best['hand'] * 1e3:.1f} ms (fastest of {REPEATS}); "
          f"ratio {ratio(t, 'rk4', 'hand'):.3f} (target <= 1.10; per-round ratios {np.min(t['rk4'] / t['hand']):.3f} to {np.max(t['rk4'] / t['hand']):.3f})")
    print(f"   max |difference| of the final parameters: {diff:.2e} (float32, {NUM_STEPS} steps)")
    print(f"   breakdown: the hand-written loop with lgan.RK4().step in place of the manual stages: ratio {ratio(t, 'hand_dfx', 'hand'):.3f} "
          f"(the solver); the whole call over that loop: {ratio(t, 'rk4', 'hand_dfx'):.3f} (argument checks, dispatch, metrics, divergence checks)")
    print(f"   for comparison, Diffrax's generic AbstractERK.step on the same tableau (a loop over the stages) in that loop: "
          f"ratio {ratio(t, 'hand_generic', 'hand'):.3f} to hand-written, compile {first['hand_generic'] - best['hand_generic']:.2f} s")
    print("\n2. RK4 vs Euler per step (lgan.solve_gan_flow)")
    print(f"   per step: rk4 {best['rk4'] / NUM_STEPS * 1e6:.1f} us, euler {best['euler'] / NUM_STEPS * 1e6:.1f} us, ratio {ratio(t, 'rk4', 'euler'):.2f} (4 field evaluations against 1)")
    print(f"   compile (first call - fastest call): rk4 {first['rk4'] - best['rk4']:.2f} s, euler {first['euler'] - best['euler']:.2f} s")
    field_cost(flow, state, data, key)
    if "--no-sweep" not in sys.argv:
        sweeps(flow, data, key)


def sweeps(flow, data, key):
    print(f"\n3. 16 runs (16 keys x 16 steps h in [0.01, 0.04]), RK4, vmapped lgan.sweep ({len(jax.devices())} device(s)) vs the same runs one after another")
    for width, batch in ((8, 16), (16, 64), (WIDTH, BATCH)):
        sweep_speedup(flow, data, key, width, batch)
    if len(jax.devices()) == 1:
        print("   the ceiling: 400 Euler steps of the bare field (no engine), vmapped over 16 parameter sets vs one set, times 16")
        for width, batch in ((8, 16), (16, 64), (WIDTH, BATCH)):
            vmapped_field(flow, data, key, width, batch)


def vmapped_field(flow, data, key, width, batch):
    """How much vmapping itself gains: XLA:CPU runs a batch of small matrix products little faster than one by one."""
    state = lgan.mlp_gan(2, latent_dim=2, width=width, depth=DEPTH, key=jax.random.key(1))
    y0, field = plain_field(flow, state)

    def steps(y, k):
        def body(c, i):
            b = lgan.draw_minibatch(data, 2, batch, key=jax.random.fold_in(k, i))
            return jax.tree_util.tree_map(lambda a, v: a + 1e-3 * v, c, field(c, b)), None

        return jax.lax.scan(body, y, jnp.arange(NUM_STEPS))[0]

    one, many = jax.jit(steps), jax.jit(jax.vmap(steps))
    ys = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 16), y0)
    ks = jax.random.split(key, 16)
    timed(lambda: one(y0, key))
    timed(lambda: many(ys, ks))
    t = paired({"one": lambda: one(y0, key), "many": lambda: many(ys, ks)}, REPEATS // 3)
    print(f"     width {width}, batch {batch}: one {np.min(t['one']) / NUM_STEPS * 1e6:.0f} us/step, 16 vmapped {np.min(t['many']) / NUM_STEPS * 1e6:.0f} us/step, "
          f"speed-up {16 * ratio(t, 'one', 'many'):.2f}x")


def field_cost(flow, state, data, key):
    """What a step costs besides its field evaluations: the minibatch draw and the bookkeeping."""
    y0, field = plain_field(flow, state)
    batch = lgan.draw_minibatch(data, state.latent_dim, BATCH, key=key)

    def euler(y):
        return jax.tree_util.tree_map(lambda a, v: a + 1e-3 * v, y, field(y, batch))

    loop = jax.jit(lambda y: jax.lax.scan(lambda c, _: (euler(c), None), y, None, length=NUM_STEPS)[0])
    timed(lambda: loop(y0))
    per_field = min(timed(lambda: loop(y0))[0] for _ in range(REPEATS)) / NUM_STEPS
    print(f"   one field evaluation (a fixed minibatch, in a scan): {per_field * 1e6:.1f} us; the rest of an Euler step is the minibatch draw "
          "and the bookkeeping, which RK4 pays once for four evaluations, so the ratio stays below 4")


def sweep_speedup(flow, data, key, width, batch):
    state = lgan.mlp_gan(2, latent_dim=2, width=width, depth=DEPTH, key=jax.random.key(1))
    keys = jax.random.split(key, 16)
    steps16 = jnp.linspace(0.01, 0.04, 16)

    def sweep_run():
        return lgan.sweep(flow, state, data, keys=keys, step=steps16, num_steps=NUM_STEPS, solver="rk4", batch_size=batch, save_every=NUM_STEPS)

    def sequential_run():
        return [
            lgan.solve_gan_flow(flow, state, data, solver="rk4", step=float(steps16[r]), num_steps=NUM_STEPS, batch_size=batch, save_every=NUM_STEPS, key=keys[r])
            for r in range(16)
        ]

    first_sweep, out = timed(sweep_run)
    first_seq, _ = timed(sequential_run)
    t = paired({"sweep": sweep_run, "sequential": sequential_run}, max(3, REPEATS // 3))
    print(f"   width {width}, batch {batch}: sweep {np.min(t['sweep']) * 1e3:.0f} ms (compile+first {first_sweep:.1f} s), "
          f"one after another {np.min(t['sequential']) * 1e3:.0f} ms (compile+first {first_seq:.1f} s): speed-up {ratio(t, 'sequential', 'sweep'):.2f}x "
          f"(aim >= 5x); diverged {int(np.sum(np.asarray(out.diverged)))} of 16")


if __name__ == "__main__":
    main()
