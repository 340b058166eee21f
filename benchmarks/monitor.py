"""Drift checking against a reference profile, as ratios to numpy.histogram.

    python benchmarks/monitor.py [--rows 1000000] [--features 20] [--runs 5]

Builds a reference profile from a table (half numbers, a quarter categories, a
quarter numbers with missing values), then compares a shifted copy of the
same size with it (:func:`automl_yaml.monitor.compare`). Measured, interleaved
in the same process:

* baseline: ``numpy.histogram`` of every numeric feature over 10 bins, and
  ``value_counts`` of every categorical one: the least any drift check reads;
* ``compare``: PSI, Kolmogorov-Smirnov, Jensen-Shannon, chi-square and the
  missing shares of every feature.

Targets: ``compare`` within 2x the baseline's time; its peak memory (traced
with ``tracemalloc``, beyond the table itself) within 2x the data frame's size.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automl_yaml.monitor import build_reference, compare  # noqa: E402

TARGET_TIME, TARGET_MEMORY = 2.0, 2.0


def table(rows: int, features: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(features):
        if i % 4 == 3:
            cols[f"c{i}"] = pd.Series(rng.choice(["a", "b", "c", "d", "e"], rows), dtype="category")
        else:
            x = rng.normal(shift * (i % 2), 1.0, rows)
            if i % 4 == 2:
                x[rng.random(rows) < 0.1] = np.nan
            cols[f"x{i}"] = x
    return pd.DataFrame(cols)


def baseline(df: pd.DataFrame) -> None:
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s.value_counts()
        else:
            v = s.to_numpy()
            np.histogram(v[np.isfinite(v)], bins=10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    ref = build_reference(table(args.rows, args.features, 0), task="regression")
    current = table(args.rows, args.features, 1, shift=0.3)
    size = current.memory_usage(deep=True).sum()
    times: dict[str, list[float]] = {"baseline": [], "compare": []}
    for _ in range(args.runs):  # interleaved: the machine is shared
        for name, fn in (("baseline", lambda: baseline(current)), ("compare", lambda: compare(ref, current))):
            gc.collect()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    gc.collect()
    tracemalloc.start()
    report = compare(ref, current)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    base, ours = statistics.median(times["baseline"]), statistics.median(times["compare"])
    ratio, mem = ours / base, peak / size
    print(f"{args.rows:,} rows x {args.features} features ({size / 2**20:.0f} MiB), {args.runs} runs, load {os.getloadavg()[0]:.2f}")
    print(f"  numpy.histogram + value_counts  median {base:.3f}s")
    print(f"  monitor.compare                 median {ours:.3f}s   {ratio:.2f}x   (target <= {TARGET_TIME}x)")
    print(f"  peak memory of compare          {peak / 2**20:.0f} MiB   {mem:.2f}x the frame   (target <= {TARGET_MEMORY}x)")
    print(f"  features drifted: {sum(f['drift'] for f in report['features'].values())} of {args.features}")
    return 0 if ratio <= TARGET_TIME and mem <= TARGET_MEMORY else 1


if __name__ == "__main__":
    raise SystemExit(main())
