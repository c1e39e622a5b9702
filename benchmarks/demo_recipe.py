"""Train and evaluate candidate `demo` settings; print one row of docs/demo-recipe.md each.

Each argument is one setting: comma-separated ``key=value`` overrides of the demo preset
(empty string: the preset itself). Runs go one after another (the machine has 2 cores):

    python benchmarks/demo_recipe.py "steps=6000" "steps=6000,velocity_units='m_per_s'" \\
        --out /tmp/demo-recipe

Runs already in ``--out`` are kept: the script refuses to start unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from gridform.training import load_config, train
from gridform.training.evaluate import evaluate_run


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("settings", nargs="+")
    p.add_argument("--out", default="demo-recipe-runs")
    p.add_argument("--force", action="store_true",
                   help="replace runs already in --out (they are kept otherwise)")
    args = p.parse_args()
    runs = [Path(args.out) / f"run{i}" for i in range(len(args.settings))]
    taken = [run for run in runs if run.exists()]
    if taken and not args.force:
        p.exit(2, f"demo_recipe.py: {', '.join(map(str, taken))}: a run is already there; "
                  "choose another --out, or pass --force to replace it\n")
    print("| setting | steps | minutes | error (cm) | > 0.3 | > 0.8 | mean pairwise corr "
          "| median spacing (m) vs predicted |", flush=True)
    for setting, run in zip(args.settings, runs, strict=True):
        overrides = [s for s in setting.split(",") if s.strip()]
        config = load_config("demo", overrides=overrides)
        t = time.perf_counter()
        train(config, run, force=args.force)
        minutes = (time.perf_counter() - t) / 60
        s = evaluate_run(run).summary
        (run / "row.json").write_text(json.dumps({"setting": setting, "minutes": minutes}))
        print(f"| {setting or 'demo preset'} | {s.steps} | {minutes:.1f} | "
              f"{s.error_cm:.1f} | {s.frac_above_0_3:.0%} | {s.frac_above_0_8:.0%} | "
              f"{s.mean_pairwise_corr:.3f} | {s.median_spacing_m:.3f} vs "
              f"{s.predicted_spacing_m:.3f} |", flush=True)


if __name__ == "__main__":
    main()
