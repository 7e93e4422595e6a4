"""Qin et al. (2020), Section 5.1 and Appendix H: ODE-GAN on a mixture of 16 Gaussians, at the paper's settings.

The settings are those of the paper and of its public code: 16 Gaussians of standard deviation
0.02 centred on {-1.5, -0.5, 0.5, 1.5}^2, fresh samples for every minibatch of 512, two-layer ReLU
MLPs of 25 units, latent dimension 32, the non-saturating generator loss, Haiku's initialisation,
and the regulariser lambda ||d l_G / d phi||^2 applied as in Algorithm 1 (a separate step after the
solver's step). Each experiment runs all its seeds and settings as one `lgan.sweep_grid` call.

- figure2: Euler and RK4, lambda = 0.07, h = 0.03 (the paper's Figure 2).
- stability: the largest stable step of Euler, Heun and RK4 (Figure 3; the paper: Euler is
  unstable for h >= 0.04, Heun and RK4 are not).
- lambda: RK4 at h = 0.04 for a range of lambda, 0 included (Figure 4 and Appendix H.3).
- ablations: RK4, h = 0.03, lambda = 0.07, one of lgan's departures from the paper at a time:
  the regulariser inside the vector field, a fixed sample instead of fresh samples, Equinox's
  initialisation.

Every run records, every `save_every` steps, both losses (Nash values log 4 and log 2), the modes
covered and the fraction of high-quality samples (`lgan.mode_coverage`, 3 standard deviations), on
a fixed evaluation sample of the data and as many latents. The output is one JSON file with the
settings, the command and the per-seed results.

Usage:
    python experiments/qin2020_mixture.py --out experiments/results/qin2020_mixture.json
    python experiments/qin2020_mixture.py --reduced --out /tmp/qin_reduced.json   # CI size
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", False)  # float32, as the paper's code

import numpy as np  # noqa: E402

import lgan  # noqa: E402

MIXTURE = lgan.grid_of_gaussians(4, spacing=1.0, std=0.02)  # centres {-1.5, -0.5, 0.5, 1.5}^2
NETWORK = dict(latent_dim=32, width=25, depth=2)
FULL = dict(seeds=8, steps=18_000, save_every=500, stability_steps=6_000, eval_size=4096)
REDUCED = dict(seeds=2, steps=300, save_every=100, stability_steps=300, eval_size=512)
BATCH = 512


def _sampler(key, n):
    return MIXTURE.sample(n, key=key)


def _run(settings, *, solver, num_steps, save_every, size, lam_placement="after_step", fresh=True, init="haiku"):
    """All seeds at every setting (dict of arrays: "step", "lam"); the summary of each run as lists."""
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", lam=0.0, lam_placement=lam_placement)
    keys = jax.random.split(jax.random.key(0), size["seeds"])
    states = lgan.mlp_gan_batch(2, **NETWORK, activation=jax.nn.relu, init=init, keys=keys)
    data = MIXTURE.sample(size["eval_size"], key=jax.random.key(1))
    metric_fn = lgan.sample_quality_metrics(MIXTURE.centres, MIXTURE.std)
    start = time.perf_counter()
    out = lgan.sweep_grid(
        flow,
        states,
        data,
        keys=jax.random.split(jax.random.key(2), size["seeds"]),
        settings={k: np.asarray(v, dtype=np.float32) for k, v in settings.items()},
        solver=solver,
        num_steps=num_steps,
        save_every=save_every,
        batch_size=BATCH,
        metric_fn=metric_fn,
        sampler=_sampler if fresh else None,
    )
    jax.block_until_ready(out.metrics["loss_d"])
    seconds = time.perf_counter() - start
    m = {k: np.asarray(v) for k, v in out.metrics.items()}
    return {
        "settings": {k: list(map(float, v)) for k, v in settings.items()},
        "solver": solver,
        "steps": np.asarray(out.steps).tolist()[0][0] if np.ndim(out.steps) > 1 else np.asarray(out.steps).tolist(),
        "seconds": seconds,
        "diverged": np.asarray(out.diverged).tolist(),  # (seed, setting)
        "diverged_at": np.asarray(out.diverged_at).tolist(),
        **{name: np.where(np.isfinite(m[name]), m[name], np.nan).tolist() for name in ("loss_d", "loss_g", "modes", "high_quality")},
    }


def experiments(size):
    steps, every = size["steps"], size["save_every"]
    ablation = dict(step=[0.03], lam=[0.07])
    return {
        "figure2": lambda: {s: _run(dict(step=[0.03], lam=[0.07]), solver=s, num_steps=steps, save_every=every, size=size) for s in ("euler", "rk4")},
        "stability": lambda: {
            s: _run(
                dict(step=[0.03, 0.04, 0.05, 0.06, 0.08, 0.1], lam=[0.07] * 6),
                solver=s,
                num_steps=size["stability_steps"],
                save_every=every,
                size=size,
            )
            for s in ("euler", "heun", "rk4")
        },
        "lambda": lambda: _run(dict(step=[0.04] * 5, lam=[0.0, 0.01, 0.03, 0.07, 0.1]), solver="rk4", num_steps=steps, save_every=every, size=size),
        "ablations": lambda: {
            "paper": _run(ablation, solver="rk4", num_steps=steps, save_every=every, size=size),
            "regulariser in the field": _run(ablation, solver="rk4", num_steps=steps, save_every=every, size=size, lam_placement="field"),
            "fixed sample": _run(ablation, solver="rk4", num_steps=steps, save_every=every, size=size, fresh=False),
            "equinox init": _run(ablation, solver="rk4", num_steps=steps, save_every=every, size=size, init="equinox"),
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument("--reduced", action="store_true", help="CI size: 2 seeds, 300 steps")
    parser.add_argument("--only", default=None, help="comma-separated experiments (default: all)")
    args = parser.parse_args(argv)
    size = REDUCED if args.reduced else FULL
    todo = experiments(size)
    names = list(todo) if args.only is None else args.only.split(",")
    unknown = sorted(set(names) - set(todo))
    if unknown:
        print(f"--only must name experiments among {', '.join(todo)}; got {', '.join(unknown)}", file=sys.stderr)
        return 2
    result = {
        "command": "python experiments/qin2020_mixture.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "size": size,
        "batch_size": BATCH,
        "network": NETWORK,
        "mixture": {"centres": MIXTURE.centres.tolist(), "std": MIXTURE.std},
        "machine": {"backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()], "python": platform.python_version(), "jax": jax.__version__},
        "experiments": {},
    }
    for name in names:
        start = time.perf_counter()
        result["experiments"][name] = todo[name]()
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, allow_nan=True))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
