"""Qin et al. (2020), Section 5.1 and Appendix H: ODE-GAN on a mixture of 16 Gaussians, at the paper's settings.

The settings are those of the paper and of its public code: 16 Gaussians of standard deviation
0.02 centred on {-1.5, -0.5, 0.5, 1.5}^2, fresh samples for every minibatch of 512, two-layer ReLU
MLPs of 25 units, latent dimension 32, the non-saturating generator loss, Haiku's initialisation,
and the regulariser lambda ||d l_G / d phi||^2 applied as in Algorithm 1 (a separate step after the
solver's step). Each experiment runs all its seeds and settings as one `lgan.sweep_grid` call.

- figure2: Euler, RK4 and RK4 per player (the public code's step: each player's own RK4 with the
  other held at the start of the step), lambda = 0.07, h = 0.03, 18,000 steps (the paper's
  Figure 2); seed 0's generator samples and discriminator at 0, 6k, 12k, 18k go to a .npz beside
  the JSON.
- stability, large_steps: Euler, Heun and RK4 at h = 0.03 to 0.1 (6,000 steps) and 0.15 to 0.6
  (3,000 steps). The paper's statement that Euler is unstable for h >= 0.04 while Heun and RK4
  are not is about CIFAR-10 (its Figure 3, Section 5.2.1), not this mixture.
- public_defaults: the public notebook's own defaults, RK4 per player at h = 0.1 for 30,000 steps
  (t = 3000 against Figure 2's 540), lambda = 0.07.
- lambda: RK4 at h = 0.04 for lambda in {0, 0.01, 0.03, 0.07, 0.1}, 6,000 steps (the paper's
  Figure 4 is again CIFAR-10; Appendix H.3 is about this mixture without the regulariser).
- ablations: RK4, h = 0.03, lambda = 0.07, one of lgan's departures from the paper at a time:
  the regulariser inside the vector field, a fixed sample instead of fresh samples, Equinox's
  initialisation.

Every run records, every `save_every` steps, both losses (Nash values log 4 and log 2), the modes
covered and the fraction of high-quality samples (`lgan.mode_coverage`: within 3 standard
deviations, 0.06, of the nearest centre, a mode counting when it holds 1% of the samples), the
same two scores within 0.25 of the nearest centre, and both players' gradient norms
(`lgan.gradient_norm_metrics`), on a fixed evaluation sample of the data and as many latents.
The output is one JSON file with the settings, the command and the per-seed results.

Usage:
    python experiments/qin2020_mixture.py --only figure2 --out lgan/_results/qin2020_mixture_figure2.json
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
FULL = dict(seeds=8, steps=18_000, save_every=500, stability_steps=6_000, long_steps=30_000, eval_size=4096)
REDUCED = dict(seeds=2, steps=300, save_every=100, stability_steps=400, long_steps=300, eval_size=512)
BATCH = 512
LOOSE_RADIUS = 0.25  # a quarter of the spacing: 12.5 standard deviations
SNAPSHOTS = 4  # the generator and the discriminator at 0, n/3, 2n/3 and n steps (Figure 2)
SNAPSHOT_SAMPLES, SNAPSHOT_GRID = 2000, np.linspace(-2.0, 2.0, 61)
METRICS = ("loss_d", "loss_g", "modes", "high_quality", "modes_loose", "high_quality_loose", "grad_norm_d", "grad_norm_g")


def _sampler(key, n):
    return MIXTURE.sample(n, key=key)


def _metric_fn(flow):
    """Losses come built in; add modes and high-quality fraction at 3 sigma and at LOOSE_RADIUS, and both gradient norms."""
    strict = lgan.sample_quality_metrics(MIXTURE.centres, MIXTURE.std)
    loose = lgan.sample_quality_metrics(MIXTURE.centres, MIXTURE.std, threshold=LOOSE_RADIUS / MIXTURE.std)
    grads = lgan.gradient_norm_metrics(flow)

    def metric_fn(state, x, z):
        wide = loose(state, x, z)
        return {**strict(state, x, z), "modes_loose": wide["modes"], "high_quality_loose": wide["high_quality"], **grads(state, x, z)}

    return metric_fn


def _run(settings, *, solver, num_steps, save_every, size, lam_placement="after_step", fresh=True, init="haiku", per_player=False, snapshots=None):
    """All seeds at every setting (dict of arrays: "step", "lam"); the summary of each run as lists.

    With ``snapshots`` (a dict), seed 0's generator samples and discriminator on a grid at
    SNAPSHOTS equally spaced steps are stored there (for the first setting).
    """
    flow = lgan.gan_flow("standard", generator_loss="non_saturating", lam=0.0, lam_placement=lam_placement)
    keys = jax.random.split(jax.random.key(0), size["seeds"])
    states = lgan.mlp_gan_batch(2, **NETWORK, activation=jax.nn.relu, init=init, keys=keys)
    data = MIXTURE.sample(size["eval_size"], key=jax.random.key(1))
    start = time.perf_counter()
    out = lgan.sweep_grid(
        flow,
        states,
        data,
        keys=jax.random.split(jax.random.key(2), size["seeds"]),
        settings={k: np.asarray(v, dtype=np.float32) for k, v in settings.items()},
        solver=solver,
        per_player=per_player,
        num_steps=num_steps,
        save_every=save_every,
        save_states_every=num_steps // (SNAPSHOTS - 1) if snapshots is not None else None,
        batch_size=BATCH,
        metric_fn=_metric_fn(flow),
        sampler=_sampler if fresh else None,
    )
    jax.block_until_ready(out.metrics["loss_d"])
    seconds = time.perf_counter() - start
    m = {k: np.asarray(v) for k, v in out.metrics.items()}
    if snapshots is not None:
        seed0 = lgan.select_state(out.states, (0, 0))  # leading axis: the snapshots
        z = jax.random.normal(jax.random.key(3), (SNAPSHOT_SAMPLES, NETWORK["latent_dim"]))
        snapshots["samples"] = np.asarray(lgan.generator_samples(seed0, z, batch_dims=1))
        snapshots["discriminator"] = np.asarray(lgan.discriminator_on_grid(seed0, SNAPSHOT_GRID, SNAPSHOT_GRID, batch_dims=1))
    return {
        "settings": {k: list(map(float, v)) for k, v in settings.items()},
        "solver": solver,
        "per_player": per_player,
        "steps": np.asarray(out.steps).tolist()[0][0] if np.ndim(out.steps) > 1 else np.asarray(out.steps).tolist(),
        "seconds": seconds,
        "diverged": np.asarray(out.diverged).tolist(),  # (seed, setting)
        "diverged_at": np.asarray(out.diverged_at).tolist(),
        **{name: np.where(np.isfinite(m[name]), m[name], np.nan).tolist() for name in METRICS},
    }


def experiments(size, snapshots):
    """Each experiment as a thunk; ``snapshots`` collects figure2's drawings (run label -> arrays)."""
    steps, every, short = size["steps"], size["save_every"], size["stability_steps"]
    ablation = dict(step=[0.03], lam=[0.07])
    figure2 = {"euler": dict(solver="euler"), "rk4": dict(solver="rk4"), "rk4 per player": dict(solver="rk4", per_player=True)}
    large_steps = [0.15, 0.2, 0.3, 0.4, 0.6]
    return {
        "figure2": lambda: {
            label: _run(ablation, num_steps=steps, save_every=every, size=size, snapshots=snapshots.setdefault(label, {}), **kw)
            for label, kw in figure2.items()
        },
        "stability": lambda: {
            s: _run(dict(step=[0.03, 0.04, 0.05, 0.06, 0.08, 0.1], lam=[0.07] * 6), solver=s, num_steps=short, save_every=every, size=size)
            for s in ("euler", "heun", "rk4")
        },
        "large_steps": lambda: {
            s: _run(dict(step=large_steps, lam=[0.07] * len(large_steps)), solver=s, num_steps=short // 2, save_every=every, size=size)
            for s in ("euler", "heun", "rk4")
        },
        "public_defaults": lambda: {
            "rk4 per player": _run(
                dict(step=[0.1], lam=[0.07]), solver="rk4", per_player=True, num_steps=size["long_steps"], save_every=every, size=size, snapshots=snapshots.setdefault("public defaults", {})
            )
        },
        "lambda": lambda: _run(dict(step=[0.04] * 5, lam=[0.0, 0.01, 0.03, 0.07, 0.1]), solver="rk4", num_steps=short, save_every=every, size=size),
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
    snapshots = {}
    todo = experiments(size, snapshots)
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
    if snapshots:
        arrays = {f"{label}/{name}": a for label, snap in snapshots.items() for name, a in snap.items()}
        arrays["grid"] = SNAPSHOT_GRID
        np.savez_compressed(Path(args.out).with_suffix(".npz"), **arrays)
        print(f"wrote {Path(args.out).with_suffix('.npz')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
