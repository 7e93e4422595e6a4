"""Kim et al. (2021), Section 5.1 and Appendix D (Figure 4): the five penalty measures and WGAN-GP on the 2-D benchmarks.

Kim et al. run Gulrajani et al.'s ``gan_toy.py`` (github.com/igul222/improved_wgan_training) with
only the loss changed: ReLU MLPs with 3 hidden layers of 512 units (G: latent 2 -> 2, D: 2 -> 1),
batches of 256, 5 critic (discriminator) steps per generator step, each on a fresh batch, Adam
with learning rate 1e-4 and (beta_1, beta_2) = (0.5, 0.9), penalty weight LAMBDA = 0.1, 200K
generator steps on the grid of 25 Gaussians and 100K on the swiss roll, the anchor (2, -1) for
mu_g_anc. The simple penalty of the code is LAMBDA E_mu ||grad D||^2, lgan's (gamma / 2) E_mu
||grad D||^2 with gamma = 2 LAMBDA = 0.2; WGAN-GP's is LAMBDA E (||grad D|| - 1)^2, lgan's
``penalty_form="wgan_gp"`` with gamma = LAMBDA = 0.1.

Variants: the five simple-penalty measures of Table 1 (p_d, p_g, mu_gp, mu_mid, mu_g_anc) and
WGAN-GP. Each (data set, variant) runs all its seeds as one ``lgan.sweep_grid`` call (the penalty
measure is part of the compiled flow, so the variants are separate calls). Every run records,
every ``save_every`` generator steps, the losses, the Frechet distance between Gaussians fitted to
the data and to G(z) (``lgan.sample_quality_metrics``) and, on the grid, the modes covered and the
fraction of high-quality samples (within 3 standard deviations; a mode counts as covered when at
least 1% of the samples are high-quality samples of it), on a fixed evaluation sample of the data
and as many latents. lgan has no distance that sees the swiss roll's shape (energy distance,
sliced Wasserstein); its only distance is the Frechet one, which compares means and covariances.

Sizes:
- ``paper`` (``--paper``): the paper's (width 512, 200K / 100K steps), a GPU's work: far beyond
  this 2-core CPU. Every size measures the cost of one generator step at width 512 (a short single
  run after compiling) and records it with the extrapolated total for the paper's runs.
- ``cpu`` (the default): depth, latent, batch, critic steps, optimiser and penalty weights as in
  the paper; the width and the number of generator steps shrunk to fit about 25 minutes of CPU.
- ``long`` (``--long``): the ``cpu`` size trained five times longer (20K / 10K steps), to see
  whether the modes come with training time; run on the grid only (``--only grid``).
- ``reduced`` (``--reduced``): the CI size, seconds.

Usage:
    python experiments/kim2021_toy.py --out lgan/_results/kim2021_toy.json
    python experiments/kim2021_toy.py --long --only grid --out lgan/_results/kim2021_toy_long.json
    python experiments/kim2021_toy.py --reduced --out /tmp/kim_reduced.json   # CI size
    python experiments/kim2021_toy.py --paper --out lgan/_results/kim2021_toy_paper.json   # on a GPU
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

GRID = lgan.grid_of_gaussians()  # gan_toy's 25 Gaussians: spacing 2 / 2.828, std 0.05 / 2.828
DATASETS = ("grid", "swissroll")
VARIANTS = ("p_d", "p_g", "mu_gp", "mu_mid", "mu_g_anc", "wgan_gp")
ANCHOR = (2.0, -1.0)
LAMBDA = 0.1  # gan_toy's penalty weight
SETTINGS = dict(
    depth=3,
    latent_dim=2,
    batch_size=256,
    critic_steps=5,
    learning_rate=1e-4,
    b1=0.5,
    b2=0.9,
    alternating=True,
    activation="relu",
    init="haiku",
    lambda_code=LAMBDA,
    gamma_simple=2 * LAMBDA,
    gamma_wgan_gp=LAMBDA,
    anchor=list(ANCHOR),
    min_fraction=0.01,
    threshold=3.0,
)
PAPER = dict(width=512, steps={"grid": 200_000, "swissroll": 100_000}, seeds=8)
SIZES = {
    "cpu": dict(width=64, steps={"grid": 4000, "swissroll": 2000}, saves=5, seeds=8, eval_size=2048, timing_width=512, timing_steps=5),
    "long": dict(width=64, steps={"grid": 20_000, "swissroll": 10_000}, saves=10, seeds=8, eval_size=2048, timing_width=512, timing_steps=5),
    "paper": dict(width=512, steps=PAPER["steps"], saves=20, seeds=8, eval_size=2048, timing_width=512, timing_steps=5),  # for a GPU
    "reduced": dict(width=8, steps={"grid": 20, "swissroll": 10}, saves=2, seeds=8, eval_size=256, timing_width=8, timing_steps=2),
}
DEPARTURES = [
    "width and number of generator steps shrunk to fit a 2-core CPU (see size); the paper's cost is measured, not run",
    "initialisation: lgan's 'haiku' (truncated normal, variance 1/fan_in) instead of gan_toy's He initialisation (variance 2/fan_in)",
    "grid data: fresh samples of the mixture for every batch (gan_toy cycles through a fixed, shuffled set of 100,000 points)",
    "the generator's step reuses the latents of the step's first critic batch (gan_toy draws fresh ones)",
    "gan_toy's first iteration has no generator step (it trains D first); here every step ends with one",
    "metrics: Frechet distance only as a distance to the data (lgan has no energy or sliced Wasserstein distance)",
]


def _sampler(dataset):
    if dataset == "grid":
        return lambda key, n: GRID.sample(n, key=key)
    return lambda key, n: lgan.sample_swiss_roll(n, key=key)


def _flow(variant):
    if variant == "wgan_gp":
        return lgan.gan_flow("wgan", gamma=SETTINGS["gamma_wgan_gp"], penalty_measure="mu_gp", penalty_form="wgan_gp")
    anchor = np.asarray(ANCHOR, dtype=np.float32) if variant == "mu_g_anc" else None
    return lgan.gan_flow("wgan", gamma=SETTINGS["gamma_simple"], penalty_measure=variant, anchor=anchor)


def _metric_fn(dataset):
    if dataset == "grid":
        return lgan.sample_quality_metrics(GRID.centres, GRID.std, threshold=SETTINGS["threshold"], min_fraction=SETTINGS["min_fraction"])
    return lgan.sample_quality_metrics()


def _states(width, seeds):
    keys = jax.random.split(jax.random.key(0), seeds)
    return lgan.mlp_gan_batch(2, SETTINGS["latent_dim"], width, SETTINGS["depth"], activation=jax.nn.relu, init=SETTINGS["init"], keys=keys)


def _options(num_steps, save_every):
    return dict(
        step=SETTINGS["learning_rate"],
        solver="adam",
        alternating=SETTINGS["alternating"],
        critic_steps=SETTINGS["critic_steps"],
        b1=SETTINGS["b1"],
        b2=SETTINGS["b2"],
        batch_size=SETTINGS["batch_size"],
        num_steps=num_steps,
        save_every=save_every,
    )


def run_variant(dataset, variant, size):
    """All seeds of one (data set, variant) as one ``lgan.sweep_grid`` call; per-seed lists."""
    steps = size["steps"][dataset]
    every = steps // size["saves"]
    data = _sampler(dataset)(jax.random.key(1), size["eval_size"])  # the evaluation sample
    start, cpu_start = time.perf_counter(), time.process_time()
    out = lgan.sweep_grid(
        _flow(variant),
        _states(size["width"], size["seeds"]),
        data,
        keys=jax.random.split(jax.random.key(2), size["seeds"]),
        metric_fn=_metric_fn(dataset),
        sampler=_sampler(dataset),
        **_options(steps, every),
    )
    jax.block_until_ready(out.metrics["loss_d"])
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    m = {k: np.asarray(v)[:, 0] for k, v in out.metrics.items()}  # (seed, save)
    names = ("loss_d", "loss_g", "frechet") + (("modes", "high_quality") if dataset == "grid" else ())
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "steps": np.asarray(out.steps).reshape(-1, np.asarray(out.steps).shape[-1])[0].tolist(),
        "diverged": np.asarray(out.diverged)[:, 0].tolist(),
        "diverged_at": np.asarray(out.diverged_at)[:, 0].tolist(),
        **{name: np.where(np.isfinite(m[name]), m[name], np.nan).tolist() for name in names},
    }


def paper_cost(width, num_steps):
    """Seconds per generator step of one run at ``width`` (the paper's, 512, except at the CI size), mu_gp on the grid, after compiling."""
    flow, data = _flow("mu_gp"), GRID.sample(256, key=jax.random.key(1))
    state = lgan.select_state(_states(width, 1), 0)
    opts = _options(num_steps, num_steps)
    opts["learning_rate"] = opts.pop("step")
    del opts["solver"]

    def once():
        out = lgan.train_with_adam(flow, state, data, key=jax.random.key(2), sampler=_sampler("grid"), **opts)
        jax.block_until_ready(out.metrics["loss_d"])

    start = time.perf_counter()
    once()  # compiles
    compile_and_run = time.perf_counter() - start
    start = time.perf_counter()
    once()
    per_step = (time.perf_counter() - start) / num_steps
    runs = len(VARIANTS) * PAPER["seeds"]
    total = per_step * runs * sum(PAPER["steps"].values())
    return {
        "width": width,
        "steps": PAPER["steps"],
        "timed_steps": num_steps,
        "first_call_seconds": compile_and_run,
        "seconds_per_generator_step": per_step,
        "what": "one run (one seed), mu_gp on the grid, 5 critic steps + 1 generator step per step, after compiling",
        "extrapolated_hours_all_runs": total / 3600,
        "extrapolated_for": f"{len(VARIANTS)} variants x {PAPER['seeds']} seeds x ({' + '.join(map(str, PAPER['steps'].values()))}) steps, run one after another",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the JSON file to write")
    size_flags = parser.add_mutually_exclusive_group()
    size_flags.add_argument("--reduced", action="store_true", help="CI size: width 8, 20 and 10 steps")
    size_flags.add_argument("--long", action="store_true", help="the CPU size trained 5 times longer: 20K and 10K steps (about two hours for the grid on 2 cores)")
    size_flags.add_argument("--paper", action="store_true", help="the paper's size: width 512, 200K and 100K steps (a GPU's work)")
    parser.add_argument("--only", default=None, help=f"comma-separated data sets and/or variants among {', '.join(DATASETS + VARIANTS)} (default: all)")
    args = parser.parse_args(argv)
    names = [] if args.only is None else [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in DATASETS + VARIANTS]
    if args.only is not None and (unknown or not names):
        print(f"--only must name data sets or variants among {', '.join(DATASETS + VARIANTS)}; got {', '.join(unknown) or repr(args.only)}", file=sys.stderr)
        return 2
    datasets = [d for d in DATASETS if d in names] or list(DATASETS)
    variants = [v for v in VARIANTS if v in names] or list(VARIANTS)
    size_name = "reduced" if args.reduced else "paper" if args.paper else "long" if args.long else "cpu"
    size = SIZES[size_name]
    result = {
        "command": "python experiments/kim2021_toy.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "size_name": size_name,
        "size": size,
        "paper": PAPER,
        "settings": SETTINGS,
        "departures": DEPARTURES,
        "data": {"grid": {"centres": np.asarray(GRID.centres).tolist(), "std": float(GRID.std)}, "swissroll": {"noise": 0.25, "scale": 1 / 7.5}},
        "machine": {"backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()], "python": platform.python_version(), "jax": jax.__version__},
        "results": {},
    }
    start, cpu_start = time.perf_counter(), time.process_time()
    result["paper_cost"] = paper_cost(size["timing_width"], size["timing_steps"])
    print(f"width {size['timing_width']}: {result['paper_cost']['seconds_per_generator_step']:.3f} s per generator step", flush=True)
    for dataset in datasets:
        result["results"][dataset] = {}
        for variant in variants:
            result["results"][dataset][variant] = run_variant(dataset, variant, size)
            print(f"{dataset} {variant}: {result['results'][dataset][variant]['seconds']:.0f} s", flush=True)
    result["total_seconds"], result["total_cpu_seconds"] = time.perf_counter() - start, time.process_time() - cpu_start
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, allow_nan=True))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
