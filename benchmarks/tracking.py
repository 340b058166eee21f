"""Per-trial cost of MLflow tracking, measured against the same search untracked.

    python benchmarks/tracking.py [--trials 200] [--repeats 3]

Runs one small search (``--trials`` random-search trials of a decision tree
on iris, 2-fold CV, ``n_jobs: 1``) three ways, interleaved, in fresh folders:

* ``tracking.log_trials: true`` — a nested MLflow run per trial (SQLite store);
* ``tracking.log_trials: summary`` — the parent run only (same fixed costs:
  experiment, spec params, model, artifacts);
* ``tracking: false``.

Per-trial overhead = (median wall time with trials logged - median with the
parent only) / trials. Target: <= 10 ms per trial. Beside it, the naive cost
of logging the same trials with one MLflow call per value (``log_param`` /
``log_metric`` / ``set_tag``) is measured directly against a fresh store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

SPEC = {
    "name": "bench",
    "seed": 0,
    "sources": {"iris": {"kind": "sample", "name": "iris"}},
    "data": {"target": "target"},
    "preprocess": {"numeric": {"scale": "none"}},
    "models": {"decision_tree": {"params": {"max_depth": {"int": [1, 8]}, "min_samples_leaf": {"int": [1, 20]}}}},
    "search": {"strategy": "random", "cv": {"folds": 2}},
    "execution": {"n_jobs": 1},
}


def _run(folder: Path, trials: int, tracking) -> float:
    import automl_yaml

    spec = dict(SPEC, search=dict(SPEC["search"], budget={"trials": trials}), tracking=tracking)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    t = time.perf_counter()
    automl_yaml.run(path, quiet=True, progress=False)
    return time.perf_counter() - t


def _naive(trials: int) -> float:
    """ms per trial with one MLflow call per value (what batching avoids)."""
    from mlflow import MlflowClient

    with tempfile.TemporaryDirectory() as d:
        c = MlflowClient(f"sqlite:///{d}/mlflow.db")
        exp = c.create_experiment("naive", artifact_location=Path(d, "a").as_uri())
        parent = c.create_run(exp).info.run_id
        t = time.perf_counter()
        for i in range(trials):
            r = c.create_run(exp, tags={"mlflow.parentRunId": parent}).info.run_id
            c.set_tag(r, "mlflow.runName", f"trial-{i}")
            c.set_tag(r, "trial.number", str(i))
            c.set_tag(r, "trial.status", "ok")
            for p in ("model", "decision_tree.max_depth", "decision_tree.min_samples_leaf"):
                c.log_param(r, p, "1")
            for m in ("cv_accuracy_mean", "cv_accuracy_std", "fit_time", "duration"):
                c.log_metric(r, m, 0.5)
            c.set_terminated(r)
        return (time.perf_counter() - t) / trials * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    modes = {"trials logged": {"log_trials": True}, "parent only": {"log_trials": "summary"}, "tracking off": False}
    times: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as root:
        _run(Path(root), 5, False)  # warm-up: imports and caches
        for r in range(args.repeats):
            for name, tracking in modes.items():
                folder = Path(root) / f"{name.replace(' ', '-')}-{r}"
                folder.mkdir()
                times[name].append(_run(folder, args.trials, tracking))
    med = {k: statistics.median(v) for k, v in times.items()}
    per_trial = (med["trials logged"] - med["parent only"]) / args.trials * 1000
    naive = statistics.median(_naive(args.trials) for _ in range(args.repeats))
    print(f"{args.trials}-trial search, median of {args.repeats} runs each")
    for k, v in med.items():
        print(f"  {k:<14} {v:7.2f} s   ({v / med['tracking off']:.2f}x tracking off)")
    print(f"per-trial tracking overhead: {per_trial:6.1f} ms   (target <= 10 ms)  {'ok' if per_trial <= 10 else 'OVER'}")
    print(f"naive one-call-per-value logging of the same trials: {naive:6.1f} ms per trial (measured directly)")
    return 0 if per_trial <= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
