"""Start-up time of the command line: `gridform --help` and each command's `--help`.

Every call is a fresh process, as a user's would be; the median of --repeats runs is
reported, with the heavy libraries the call imported (none, for a help page).

    python benchmarks/bench_cli_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = ["", "demo", "theory", "pattern", "train", "evaluate", "score", "topology",
            "reproduce", "report", "sweep", "sweep-report", "import-trajectory",
            "assumptions", "export-nwb"]
PROBE = ("import sys, runpy; sys.argv = ['gridform', *{args!r}]\n"
         "try:\n    runpy.run_module('gridform.cli.app', run_name='__main__')\n"
         "except SystemExit:\n    pass\n"
         "print('HEAVY', sorted(m for m in ('jax', 'scipy', 'distributed', 'matplotlib') "
         "if m in sys.modules), file=sys.stderr)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    print(f"{'command':<32} {'median s':>9}  heavy imports")
    for command in COMMANDS:
        argv = [command, "--help"] if command else ["--help"]
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            subprocess.run(["gridform", *argv], check=True, capture_output=True)
            times.append(time.perf_counter() - t)
        probe = subprocess.run([sys.executable, "-c", PROBE.format(args=argv)],
                               capture_output=True, text=True, check=True)
        heavy = probe.stderr.strip().splitlines()[-1].removeprefix("HEAVY ")
        print(f"gridform {' '.join(argv):<23} {statistics.median(times):9.3f}  {heavy}")


if __name__ == "__main__":
    main()
