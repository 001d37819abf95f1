"""Benchmark: how long ``pricegraph --help`` takes, against the libraries it cannot avoid.

Each repetition runs, in fresh interpreters and in alternating order:

* ``pricegraph --help`` (the installed console script when it sits beside this
  Python, else the same entry point through ``python -c``);
* ``python -c "import typer, rich, pydantic_settings"``: the floor of any command
  line built on typer with typed settings.

It prints the median wall time of each (seconds) and their ratio; the target is a
ratio of at most 2 (commands import their heavy parts inside the command: see
``tests/api/test_cli_imports.py``). Both are measured in the same run, so the ratio
holds on a busy machine even when the seconds do not.

Usage: ``python bench/bench_cli.py [--repeats 9] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_RATIO = 2.0
FLOOR = [sys.executable, "-c", "import typer, rich, pydantic_settings"]


def help_command() -> list[str]:
    """The ``pricegraph --help`` command line of this environment."""
    script = Path(sys.executable).with_name("pricegraph")
    if script.is_file():
        return [str(script), "--help"]
    return [sys.executable, "-c", "from pricegraph.api.cli import main; main()", "--help"]


def wall_s(command: list[str]) -> float:
    """Seconds from start to exit of ``command`` (which must exit 0)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(repeats: int) -> dict[str, float]:
    """Median wall times of ``--help`` and of the floor over ``repeats`` alternating runs."""
    command = help_command()
    wall_s(command)  # warm the file cache once; not counted
    help_s: list[float] = []
    floor_s: list[float] = []
    for i in range(repeats):
        pair = [(command, help_s), (FLOOR, floor_s)]
        for cmd, times in pair if i % 2 == 0 else pair[::-1]:
            times.append(wall_s(cmd))
    help_median, floor_median = statistics.median(help_s), statistics.median(floor_s)
    return {
        "repeats": repeats,
        "help_median_s": round(help_median, 3),
        "floor_median_s": round(floor_median, 3),
        "help_to_floor_ratio": round(help_median / floor_median, 2),
        "target_ratio": TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="Runs of each command.")
    parser.add_argument("--out", type=Path, help="Folder for bench_cli.json.")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats: expected an integer >= 1, got {args.repeats}")
    result = measure(args.repeats)
    print(
        f"pricegraph --help: {result['help_median_s']:.3f} s median over {args.repeats} runs; "
        f"import typer, rich, pydantic_settings: {result['floor_median_s']:.3f} s"
    )
    verdict = "within" if result["help_to_floor_ratio"] <= TARGET_RATIO else "above"
    print(f"help_to_floor_ratio {result['help_to_floor_ratio']:.2f} ({verdict} the target 2)")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_cli.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
