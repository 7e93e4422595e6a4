"""Print the seed statistics of a result file of experiments/kim2021_toy.py as Markdown tables, one per data set.

For each variant, at the last saved step: the seeds, how many diverged, the median (and the
range) of the modes covered (grid, of 25), the median fraction of high-quality samples (grid), the
median (and the range) of the Frechet distance to the data, and the seconds of the sweep call.

Usage: python experiments/summarise_kim2021.py lgan/_results/kim2021_toy.json
"""

from __future__ import annotations

import json
import sys

import numpy as np


def summary(run: dict) -> dict:
    """One row: statistics over the seeds of ``run`` (one variant on one data set) at the last saved step."""
    frechet = np.asarray(run["frechet"], dtype=float)[:, -1]
    row = {"seeds": len(run["diverged"]), "diverged": int(np.sum(run["diverged"]))}
    if "modes" in run:
        modes = np.asarray(run["modes"], dtype=float)[:, -1]
        row["median modes (min-max)"] = f"{np.nanmedian(modes):.0f} ({np.nanmin(modes):.0f}-{np.nanmax(modes):.0f})"
        row["median high-quality fraction"] = f"{np.nanmedian(np.asarray(run['high_quality'], dtype=float)[:, -1]):.3f}"
    row["median Frechet (min-max)"] = f"{np.nanmedian(frechet):.3g} ({np.nanmin(frechet):.3g}-{np.nanmax(frechet):.3g})"
    row["seconds"] = f"{run['seconds']:.0f}"
    return row


def main(path: str) -> int:
    result = json.loads(open(path).read())
    size, cost = result["size"], result["paper_cost"]
    print(f"`{result['command']}`  ({result['machine']['backend']}, jax {result['machine']['jax']}; size {result['size_name']})\n")
    print(
        f"Networks: {result['settings']['depth']} hidden ReLU layers of {size['width']} units (the paper: {result['paper']['width']}); "
        f"generator steps: {', '.join(f'{d} {n}' for d, n in size['steps'].items())} "
        f"(the paper: {', '.join(f'{d} {n}' for d, n in result['paper']['steps'].items())}); "
        f"{result['settings']['critic_steps']} critic steps, batch {result['settings']['batch_size']}, "
        f"Adam {result['settings']['learning_rate']:g} ({result['settings']['b1']}, {result['settings']['b2']}), lambda {result['settings']['lambda_code']}.\n"
    )
    print(
        f"Measured at width {cost['width']}: {cost['seconds_per_generator_step']:.3g} s per generator step of one run; "
        f"the paper's runs would take about {cost['extrapolated_hours_all_runs']:.3g} hours ({cost['extrapolated_for']}).\n"
    )
    for dataset, runs in result["results"].items():
        rows = [(variant, summary(run)) for variant, run in runs.items()]
        keys = list(rows[0][1])
        print(f"### {dataset}\n")
        print("| variant | " + " | ".join(keys) + " |")
        print("|---" * (len(keys) + 1) + "|")
        for variant, row in rows:
            print(f"| {variant} | " + " | ".join(str(v) for v in row.values()) + " |")
        print()
    print(f"Total: {result['total_seconds']:.0f} s wall, {result['total_cpu_seconds']:.0f} s CPU.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
