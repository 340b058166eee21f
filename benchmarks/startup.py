"""Start-up cost of the CLI, as ratios to importing pydantic and yaml.

    python benchmarks/startup.py [--runs 15]

Measures, interleaved in the same run (the machine is shared and noisy, so
only ratios mean something):

* baseline: ``python -c "import pydantic, yaml"``
* ``mlx --help``
* ``mlx validate examples/*/spec.yaml`` (all examples in one process)

Targets: ``mlx --help`` <= 1.5x and ``mlx validate`` <= 4x the baseline.
Bytecode caching is left on (``PYTHONDONTWRITEBYTECODE`` is removed), as on a
user's machine; one warm-up run fills the caches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"mlx --help": 1.5, "mlx validate examples": 4.0}


def _time(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    py = sys.executable
    specs = sorted(str(p) for p in ROOT.glob("examples/*/spec.yaml")) or sorted(str(p) for p in ROOT.glob("tests/spec/valid/*.yaml"))
    cmds = {
        "baseline (import pydantic, yaml)": [py, "-c", "import pydantic, yaml"],
        "mlx --help": [py, "-m", "automl_yaml", "--help"],
        "mlx validate examples": [py, "-m", "automl_yaml", "validate", "-q", *specs],
    }
    for cmd in cmds.values():  # warm up: bytecode and metadata caches
        _time(cmd, env)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(args.runs):
        for name, cmd in cmds.items():  # interleaved, so drift hits all alike
            times[name].append(_time(cmd, env))
    base = statistics.median(times["baseline (import pydantic, yaml)"])
    print(f"{len(specs)} spec(s); median of {args.runs} runs each")
    print(f"{'command':<34} {'median':>9} {'ratio':>7} {'target':>7}")
    ok = True
    for name, ts in times.items():
        m = statistics.median(ts)
        ratio = m / base
        target = TARGETS.get(name)
        flag = "" if target is None else ("  ok" if ratio <= target else "  OVER")
        ok &= target is None or ratio <= target
        print(f"{name:<34} {m * 1000:>7.0f}ms {ratio:>6.2f}x {(f'<= {target:.1f}x') if target else '':>7}{flag}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
