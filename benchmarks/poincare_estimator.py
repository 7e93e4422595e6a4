"""Training throughput of lgan.estimate_poincare_constant's step, against a floor and across devices.

Measures, side by side in one run (float32, CPU unless JAX finds an accelerator):

1. the estimator's training step: spectrally normalised MLP (width 64, depth 2, softplus), the
   Rayleigh-quotient loss of eq. 32 (which needs the input gradient of w, so the parameter
   gradient is a second-order derivative), Adam, one fresh minibatch per step;
2. the floor: the same MLP architecture without spectral normalisation, a plain MSE regression
   step with ``optax.adam`` and the same minibatch sampling, no input gradient;
3. the estimator's step on 1 device and on 4 forced host devices (a subprocess started with
   ``XLA_FLAGS=--xla_force_host_platform_device_count=4``; the batch is sharded over the devices).

Both steps run inside ``jax.lax.scan`` chunks of 100 steps after a compile-and-warm-up call.

Run: ``python benchmarks/poincare_estimator.py [--steps 1000] [--batch-size 256]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 100


def _time(fn, repeats: int) -> float:
    """Seconds per call of fn (which must block), after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def estimator_throughput(steps: int, batch_size: int, width: int, depth: int) -> float:
    """Samples per second of the estimator's training step (the code path of estimate_poincare_constant)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    import lgan
    from lgan._poincare import _estimator as _poincare

    devices = jax.devices()
    mesh = Mesh(np.asarray(devices), ("data",))
    replicated, sharded = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    data = jax.device_put(jnp.asarray(np.random.default_rng(0).standard_normal((20000, 1)), jnp.float32), replicated)
    net, state = eqx.nn.make_with_state(lgan.SpectralNormMLP)(1, width, depth, key=jax.random.key(0))
    model = _poincare._Standardized(net, jnp.zeros(1), jnp.asarray(4.0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    params, state = jax.device_put((params, state), replicated)
    opt_state = jax.device_put(_poincare._ADAM.init(params), replicated)
    carry = [params, state, opt_state]
    batch = batch_size - batch_size % len(devices)

    def run():
        p, s, o, losses = _poincare._train_chunk_jit(
            *carry[:1], static, *carry[1:], data, jax.random.key(1), jnp.float32(1e-2), jnp.asarray(0),
            jnp.asarray(CHUNK), chunk=CHUNK, batch_size=batch, augmentation=None, batch_sharding=sharded,
        )
        jax.block_until_ready(losses)
        carry[:] = [p, s, o]

    return batch * CHUNK / _time(run, max(1, steps // CHUNK))


def floor_throughput(steps: int, batch_size: int, width: int, depth: int) -> float:
    """Samples per second of a plain MSE regression step of the same MLP without spectral norm."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    data = jnp.asarray(np.random.default_rng(0).standard_normal((20000, 1)), jnp.float32)
    target = jnp.sin(data[:, 0])
    model = eqx.nn.MLP(1, "scalar", width, depth, activation=jax.nn.softplus, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    optimizer = optax.adam(1e-2)
    carry = [params, optimizer.init(params)]

    @jax.jit
    def chunk(params, opt_state, key):
        def step(c, i):
            params, opt_state = c
            idx = jax.random.randint(jax.random.fold_in(key, i), (batch_size,), 0, data.shape[0])

            def loss(p):
                m = eqx.combine(p, static)
                return jnp.mean((jax.vmap(m)(data[idx]) - target[idx]) ** 2)

            value, grads = jax.value_and_grad(loss)(params)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), value

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), jnp.arange(CHUNK))
        return params, opt_state, losses

    def run():
        p, o, losses = chunk(*carry, jax.random.key(1))
        jax.block_until_ready(losses)
        carry[:] = [p, o]

    return batch_size * CHUNK / _time(run, max(1, steps // CHUNK))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="timed steps per measurement (default 1000)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = (args.steps, args.batch_size, args.width, args.depth)

    import jax

    if args.child:  # the subprocess with forced host devices: print one number
        print(f"{len(jax.devices())} {estimator_throughput(*shape):.6g}")
        return

    print(f"JAX {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPU cores visible; "
          f"MLP width {args.width}, depth {args.depth}, batch {args.batch_size}, {args.steps} timed steps, float32")
    est = estimator_throughput(*shape)
    flo = floor_throughput(*shape)
    print(f"estimator step (SN MLP, eq. 32 loss with input gradient): {est:12,.0f} samples/s  "
          f"({args.batch_size / est * 1e3:.3f} ms/step)")
    print(f"floor (plain MLP, MSE regression, optax.adam)          : {flo:12,.0f} samples/s  "
          f"({args.batch_size / flo * 1e3:.3f} ms/step)")
    print(f"estimator / floor throughput ratio: {est / flo:.3f}  (the estimator step costs {flo / est:.2f}x the floor)")

    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, __file__, "--child", *sys.argv[1:]], env=env, capture_output=True, text=True, check=True
    )
    num_devices, est4 = out.stdout.split()
    est4 = float(est4)
    print(f"estimator step on 1 device                : {est:12,.0f} samples/s")
    print(f"estimator step on {num_devices} forced host devices   : {est4:12,.0f} samples/s  "
          f"(speed-up {est4 / est:.2f}x; forced host devices share the same {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
