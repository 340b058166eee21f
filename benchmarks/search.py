"""The search engine against the tools users compare it with, side by side.

    python benchmarks/search.py                    # parts 1, 2 and 4 (about 35 minutes); part 3 only with --quality
    python benchmarks/search.py --overhead [--runs 5]
    python benchmarks/search.py --parallel [--runs 3]
    python benchmarks/search.py --quality [--panel test|dev|both] [--budget 30,120] [--tasks diamonds,hdma] [--quick]
    python benchmarks/search.py --strategies [--runs 3] [--trials 40]
    python benchmarks/search.py --quick            # a smoke run of every part (about 3 minutes)

1. **overhead**: the real CLI (``mlx run``, a subprocess, from start to exit)
   on a fixed grid — a decision tree, 10 ``max_depth`` x 4 ``min_samples_leaf``
   = 40 configurations x 5 folds on breast_cancer, preprocessing at its minimum
   (``scale: none``: a median imputer), ``tracking: false``, ``profile: false``
   — against a hand-written script (also a subprocess) doing the same work with
   scikit-learn's ``GridSearchCV``: the same split, the same
   ``StratifiedKFold(5, shuffle=True, random_state=seed)``, the same ``n_jobs``,
   the refit and a test-set score. Both must find the same best CV and test
   score (checked: the results are equal). ``mlx run`` fits a fold's
   preprocessing (the imputer) once and reuses it in the 39 other trials,
   where ``GridSearchCV`` refits the whole pipeline in each of its 200 fits
   (a script could do the same by hand; this one is what users write).
   Interleaved repetitions, medians; for
   ``n_jobs`` 1 and 2. Target: ratio <= 1.15. The same comparison again on a
   30-second job (``--grids forest``: 18 random-forest configurations), where
   the run's fixed costs are spread over more work. Then one instrumented run says
   where ``mlx run`` spends its time (start-up imports, data loading, search,
   refit, plots, permutation importance, model saving in MLflow's format...).
2. **parallel**: ``mlx run`` of a CPU-bound random search (random forests on
   digits, 24 trials x 3 folds) with ``n_jobs: 2`` against ``n_jobs: 1``,
   whole process; also the search phase alone. Target: >= 1.7x on 2 cores.
3. **quality**: automl-yaml against FLAML, AutoGluon, an Optuna-tuned and an
   untuned HistGradientBoosting on two panels of tasks, the test panel (the
   evidence: never used during development) and the dev panel; it lives in
   ``benchmarks/quality.py`` (see there), and ``--quality`` runs it with the
   options ``--panel``, ``--budget``, ``--tasks``, ``--systems``. It takes
   hours: a run without a part's flag leaves it out (``--quick`` runs its
   smoke run).

4. **strategies** (``--strategies``; needs the ``hyperopt`` extra): the
   ``hyperopt`` strategy (Hyperopt's TPE) against ``optuna`` (Optuna's TPE,
   pruning off) on the same conditional space — three cheap models with their
   own parameters and a searched scaling, on iris (fits take milliseconds
   whatever the configuration), 40 trials x 3 folds, ``n_jobs: 1``. Per trial:
   the strategy's own ``ask`` + ``tell`` (in a child process, a free
   objective), and the search phase of ``mlx run``; also the whole process.
   Interleaved runs, medians. Target: the search phase per trial <= 1.2x.

Every contender and every ``mlx run`` is a fresh subprocess. The machine is
shared and noisy: ratios, not seconds, and the load average next to each
result. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import quality  # benchmarks/quality.py (this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
MLX = Path(sys.executable).with_name("mlx")
TARGET_OVERHEAD = 1.15
TARGET_SPEEDUP = 1.7
SEED = 0


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def _env() -> dict:
    # Bytecode caching on, as on a user's machine; this checkout first on the path.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


def _timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def _child(*args: str, cwd: Path) -> dict:
    _, out = _timed([sys.executable, __file__, "--child", *args], cwd)
    return json.loads(out.strip().splitlines()[-1])


def _table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A plain-text table; ``align`` is one l/r per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


# =============================================================================== overhead

OVERHEAD_GRID = {"max_depth": [2, 3, 4, 5, 6, 7, 8, 10, 12, None], "min_samples_leaf": [1, 2, 5, 10]}
# Two sizes of the same job: fixed costs (start-up, plots, the MLflow model
# format) weigh on a 3-second search and vanish in a longer one.
OVERHEAD_CASES = {
    "tree": {
        "model": "decision_tree",
        "cls": "sklearn.tree.DecisionTreeClassifier",
        "grid": OVERHEAD_GRID,
        "about": "decision trees: 10 max_depth x 4 min_samples_leaf = 40 configurations x 5 folds (a 3-second job)",
    },
    "forest": {
        "model": "random_forest",
        "cls": "sklearn.ensemble.RandomForestClassifier",
        "grid": {"n_estimators": [100, 200, 300], "max_depth": [4, 8, None], "max_features": ["sqrt", 0.5]},
        "about": "random forests: 3 n_estimators x 3 max_depth x 2 max_features = 18 configurations x 5 folds (a 30-second job)",
    },
}

OVERHEAD_SPEC = """\
version: 1
name: overhead
seed: {seed}
sources:
  d: {{kind: sample, name: breast_cancer}}
data:
  target: target                      # malignant (the minority) is the positive class
preprocess: {{numeric: {{scale: none}}}}  # the minimum: a median imputer
models:
  {model}:
    params:
{params}
search:
  strategy: grid
  metric: roc_auc
  cv: {{folds: 5}}
tracking: false
profile: false
execution: {{n_jobs: {n_jobs}}}
output: out-{case}-{n_jobs}
"""

# What a user would write by hand for the same job: automl-yaml's split
# (stratified, ceil(20%) test rows, the minority class as 1, training rows in
# table order), the same folds, a median imputer, refit, test score.
BASELINE_SCRIPT = """\
import importlib, json, math, sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

seed, n_jobs = int(sys.argv[1]), int(sys.argv[2])
grid = json.loads(sys.argv[3])
module, _, name = sys.argv[4].rpartition(".")
Model = getattr(importlib.import_module(module), name)
t1 = time.perf_counter()
X, target = load_breast_cancer(return_X_y=True, as_frame=True)
y = 1 - target  # malignant (0 in scikit-learn, the minority) as the positive class
train, test = train_test_split(np.arange(len(X)), test_size=math.ceil(0.2 * len(X)), random_state=seed, stratify=y)
train, test = np.sort(train), np.sort(test)
X_train, y_train, X_test, y_test = X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test]
t2 = time.perf_counter()
search = GridSearchCV(
    Pipeline([("impute", SimpleImputer(strategy="median")), ("model", Model(random_state=seed))]),
    {f"model__{k}": v for k, v in grid.items()},
    scoring="roc_auc",
    cv=StratifiedKFold(5, shuffle=True, random_state=seed),
    n_jobs=n_jobs,
    refit=True,
)
search.fit(X_train, y_train)
t3 = time.perf_counter()
test_score = roc_auc_score(y_test, search.predict_proba(X_test)[:, 1])
t4 = time.perf_counter()
r = search.cv_results_
fits = 5 * float(sum(r["mean_fit_time"]) + sum(r["mean_score_time"]))  # inside the folds
print(json.dumps({"cv": search.best_score_, "test": test_score, "fold_fits": fits,
                  "phases": {"imports": t1 - t0, "load + split": t2 - t1, "search + refit": t3 - t2, "test score": t4 - t3}}))
"""


def _write_overhead(work: Path, seed: int, case: str) -> None:
    c = OVERHEAD_CASES[case]
    params = "\n".join(f"      {k}: {{choice: {json.dumps(v)}}}" for k, v in c["grid"].items())
    for n_jobs in (1, 2):
        spec = OVERHEAD_SPEC.format(seed=seed, n_jobs=n_jobs, model=c["model"], params=params, case=case)
        (work / f"spec-{case}-{n_jobs}.yaml").write_text(spec)
    (work / "baseline.py").write_text(BASELINE_SCRIPT)


def overhead(runs: int, seed: int = SEED, cases: tuple[str, ...] = ("tree", "forest")) -> dict:
    """Part 1, for each grid size in ``cases``."""
    out: dict = {}
    for case in cases:
        out[case] = _overhead_case(runs, seed, case)
    return out


def _overhead_case(runs: int, seed: int, case: str) -> dict:
    c = OVERHEAD_CASES[case]
    grid = c["grid"]
    print(f"\n== 1. overhead ({case}): `mlx run` vs a hand-written GridSearchCV script ({runs} interleaved runs, medians)")
    n_configs = math.prod(len(v) for v in grid.values())
    print(f"{c['about']} on breast_cancer, scale: none, tracking and profile off")
    out: dict = {"load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="mlx-bench-") as tmp:
        work = Path(tmp)
        _write_overhead(work, seed, case)
        cmds = {}
        for n_jobs in (1, 2):
            cmds[("mlx", n_jobs)] = [str(MLX), "run", f"spec-{case}-{n_jobs}.yaml", "--json"]
            cmds[("script", n_jobs)] = [sys.executable, "baseline.py", str(seed), str(n_jobs), json.dumps(grid), c["cls"]]
        for cmd in cmds.values():  # warm-up: bytecode caches, the sample's Parquet cache
            _timed(cmd, work)
        times: dict = {k: [] for k in cmds}
        scores: dict = {}
        for _ in range(runs):
            for key, cmd in cmds.items():
                wall, stdout = _timed(cmd, work)
                times[key].append(wall)
                data = json.loads(stdout[stdout.index("{") :])
                if key[0] == "mlx":
                    scores[key] = (data["best"]["cv"]["roc_auc"]["mean"], data["holdout"]["roc_auc"], data["trials"]["ok"])
                    out.setdefault("mlx_timings", {})[key[1]] = data["timings_s"]
                else:
                    scores[key] = (data["cv"], data["test"], n_configs)
                    out.setdefault("script_phases", {})[key[1]] = data["phases"]
                    out.setdefault("script_fold_fits", {})[key[1]] = data["fold_fits"]
        rows = []
        out["ratios"] = {}
        for n_jobs in (1, 2):
            m, s = statistics.median(times[("mlx", n_jobs)]), statistics.median(times[("script", n_jobs)])
            same = all(abs(a - b) < 1e-9 for a, b in zip(scores[("mlx", n_jobs)], scores[("script", n_jobs)]))
            ratio = m / s
            out["ratios"][n_jobs] = ratio
            rows.append([
                f"n_jobs={n_jobs}", f"{m:.2f} s", f"{s:.2f} s", f"{ratio:.2f}x",
                "ok" if ratio <= TARGET_OVERHEAD else "OVER",
                "yes" if same else f"NO: {scores[('mlx', n_jobs)]} vs {scores[('script', n_jobs)]}",
            ])
        print(_table(["", "mlx run", "GridSearchCV script", "ratio", f"<= {TARGET_OVERHEAD}", "same cv/test score"], rows))
        print(f"best cv roc_auc {scores[('mlx', 1)][0]:.4f}, test roc_auc {scores[('mlx', 1)][1]:.4f}; {_load()}")
        out["times"] = {f"{k[0]}-{k[1]}": v for k, v in times.items()}
        if case == "tree":  # where the fixed costs go, on the job where they weigh most
            out["phases"] = _overhead_phases(work, times, out)
    out["load_after"] = os.getloadavg()
    return out


def _overhead_phases(work: Path, times: dict, out: dict) -> dict:
    """Where the time goes: one instrumented in-process ``mlx run`` (n_jobs=1) beside the script's own phases."""
    wall, stdout = _timed([sys.executable, __file__, "--child", "phases", str(work / "spec-tree-1.yaml")], work)
    phases = json.loads(stdout.strip().splitlines()[-1])
    inside, fits, shared = phases.pop("_inside"), phases.pop("_fold_fits"), phases.pop("_shared", {})
    rows = [["interpreter start and exit", f"{max(0.0, wall - inside):.2f}"]]
    rows += [[k, f"{v:.2f}"] for k, v in phases.items()]
    rows.append(["= the instrumented run (wall)", f"{wall:.2f}"])
    print(
        "\nwhere `mlx run` (n_jobs=1) spends its time: one instrumented run in one process (the median"
        f" `mlx run` took {statistics.median(times[('mlx', 1)]):.2f} s), seconds:"
    )
    print(_table(["phase", "s"], rows))
    print(
        f"the trials' fit and score times sum to {fits:.2f} s (GridSearchCV's cv_results_: {out['script_fold_fits'][1]:.2f} s)."
        f" They count each fold's preprocessing in every trial, but `mlx run` fitted it {shared.get('misses', '?')} times"
        f" and reused it {shared.get('hits', '?')} times (automl_yaml.search.evaluator), where GridSearchCV refits the"
        " whole pipeline in each of its fits. The rest of the search phase is the driver, the evaluator and the journal"
    )
    script = out["script_phases"][1]
    swall = statistics.median(times[("script", 1)])
    srows = [["interpreter start and exit", f"{max(0.0, swall - sum(script.values())):.2f}"]] + [[k, f"{v:.2f}"] for k, v in script.items()]
    srows.append(["= script (median wall)", f"{swall:.2f}"])
    print("\nthe GridSearchCV script (n_jobs=1), seconds:")
    print(_table(["phase", "s"], srows))
    phases.update(_fold_fits=fits, _instrumented_wall=wall)
    return phases


def _child_phases(spec_path: str) -> dict:
    """Run the spec in this process with wall-clock timers around each phase.

    Only benchmark instrumentation: library functions are wrapped here, in
    this process, by replacing module attributes that the runner looks up at
    call time. Imports are timed first, one group after the other, so each
    group counts only what the groups before it did not import.
    """
    t_start = time.perf_counter()
    spent: dict[str, float] = {}
    depth: dict[str, int] = {}
    returned: dict[str, object] = {}

    def timed(module, name: str, label: str) -> None:
        fn = getattr(module, name, None)
        if fn is None:  # another version of the runner: time what exists
            return

        def wrapper(*a, **kw):
            depth[label] = depth.get(label, 0) + 1
            t = time.perf_counter()
            try:
                result = fn(*a, **kw)
                returned[name] = result
                return result
            finally:
                depth[label] -= 1
                if depth[label] == 0:  # the outermost call only (build_dataset calls split)
                    spent[label] = spent.get(label, 0.0) + time.perf_counter() - t

        setattr(module, name, wrapper)

    imports: dict[str, float] = {}

    def timed_import(label: str, *modules: str) -> None:
        import importlib

        t = time.perf_counter()
        for m in modules:
            importlib.import_module(m)
        imports[label] = time.perf_counter() - t

    timed_import("imports: the CLI (click, pydantic, the spec models)", "automl_yaml.cli")
    # `mlx run` starts its side processes before it imports pandas and scikit-learn (automl_yaml.sidecar);
    # so does this run, or they would start a second late and the wait for them would be the instrumentation's
    from automl_yaml import sidecar
    from automl_yaml.search.driver import preload

    preload(["automl_yaml._side_imports"])  # as `mlx run` does when its trials run in its own process
    sidecar.start()
    timed_import("imports: pandas, scikit-learn", "pandas", "sklearn.model_selection", "sklearn.pipeline", "sklearn.compose", "sklearn.metrics")
    # MLflow and matplotlib are imported by the side processes (automl_yaml.sidecar), not here
    timed_import(
        "imports: automl-yaml's run modules",
        "automl_yaml.runner", "automl_yaml.data.assemble", "automl_yaml.report.run", "automl_yaml.search.driver",
        "automl_yaml.search.evaluator", "automl_yaml.tracking", "automl_yaml.preprocess.pipeline",
    )
    import automl_yaml.data.assemble as assemble
    import automl_yaml.report.run as report
    import automl_yaml.search.driver as driver
    from automl_yaml import runner

    for name in ("build_dataset", "load_source", "load_sources", "assemble_frame", "split"):
        timed(assemble, name, "data: load, assemble, split")
    timed(driver, "run_search", "search: 40 configurations x 5 folds")
    for name in ("plot_history", "plot_confusion", "plot_roc", "plot_residuals", "plot_importances", "model_importance", "feature_importance"):
        timed(report, name, "report: plots drawn here")
    # (tracking.save_model is not wrapped: the run hands it to a side process, and a wrapper cannot be pickled)
    timed(sidecar.Job, "result", "waiting for the side processes (the model's folder, the plots)")
    for name in ("write_leaderboard", "write_summary", "write_html"):
        timed(report, name, "report: leaderboard, summary, HTML")
    timed(runner, "_write_html", "report: leaderboard, summary, HTML")
    from automl_yaml.search.evaluator import Evaluator

    shared: dict = {}
    clear = Evaluator.clear_cache

    def clear_cache(self):  # the preprocessing shared between trials, before the run frees it
        shared.update(self.cache_stats)
        clear(self)

    Evaluator.clear_cache = clear_cache
    t = time.perf_counter()
    result = runner.run(spec_path, quiet=True)
    run_wall = time.perf_counter() - t
    refit = result.summary["timings_s"].get("refit", 0.0)
    out = dict(imports)
    out.update(spent)
    out["refit on the whole training set"] = refit
    out["the rest of the run (plan, folds, test scores, spec copy...)"] = max(0.0, run_wall - sum(spent.values()) - refit)
    out["_inside"] = time.perf_counter() - t_start
    # The time spent in the folds' fit and score calls (the evaluator measures them).
    trials = returned["run_search"].results
    out["_fold_fits"] = sum((r.fit_time + r.score_time) * len(next(iter(r.scores.values()))["folds"]) for r in trials if r.scores)
    out["_shared"] = shared
    return out


# =============================================================================== parallel

PARALLEL_SPEC = """\
version: 1
name: parallel
seed: {seed}
sources:
  d: {{kind: sample, name: digits}}
data:
  target: target
preprocess: {{numeric: {{scale: none}}}}
models:
  random_forest:
    params:
      n_estimators: {{int: [150, 300]}}
      max_features: {{choice: [sqrt, 0.2]}}
      min_samples_leaf: {{int: [1, 3]}}
search:
  strategy: random
  metric: accuracy
  cv: {{folds: 3}}
  budget: {{trials: {trials}}}
tracking: false
profile: false
execution: {{n_jobs: {n_jobs}}}
output: out-{n_jobs}
"""


def parallel(runs: int, trials: int = 24, seed: int = SEED) -> dict:
    print(f"\n== 2. parallel trials: `mlx run` with n_jobs: 2 vs n_jobs: 1 ({runs} interleaved runs, medians)")
    print(f"random search, {trials} random-forest trials x 3 folds on digits (1,797 x 64), whole process")
    out: dict = {"runs": []}
    with tempfile.TemporaryDirectory(prefix="mlx-bench-") as tmp:
        work = Path(tmp)
        for n_jobs in (1, 2):
            (work / f"spec-{n_jobs}.yaml").write_text(PARALLEL_SPEC.format(seed=seed, trials=trials, n_jobs=n_jobs))
        _timed([str(MLX), "run", "spec-2.yaml", "--json", "--set", "search.budget.trials=2"], work)  # warm-up
        walls: dict[int, list[float]] = {1: [], 2: []}
        search: dict[int, list[float]] = {1: [], 2: []}
        evaluate: dict[int, list[float]] = {1: [], 2: []}
        report: dict[int, list[float]] = {1: [], 2: []}
        configs: dict[int, list] = {}
        for i in range(runs):
            for n_jobs in (1, 2):
                load = os.getloadavg()[0]
                wall, stdout = _timed([str(MLX), "run", f"spec-{n_jobs}.yaml", "--json"], work)
                summary = json.loads(stdout[stdout.index("{") :])
                walls[n_jobs].append(wall)
                search[n_jobs].append(summary["timings_s"]["search"])
                evaluate[n_jobs].append(summary["timings_s"].get("refit", math.nan) + summary["timings_s"].get("evaluate", math.nan))
                report[n_jobs].append(summary["timings_s"].get("report", math.nan))
                board = (work / f"out-{n_jobs}" / "leaderboard.csv").read_text().splitlines()
                configs[n_jobs] = sorted(board[1:])
                out["runs"].append({"n_jobs": n_jobs, "wall": wall, "search": search[n_jobs][-1], "load": load})
                print(f"run {i + 1}: n_jobs={n_jobs}: {wall:6.2f} s (search {search[n_jobs][-1]:6.2f} s, {summary['trials']['ok']} ok trials); load {load:.1f}", flush=True)
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    s1, s2 = statistics.median(search[1]), statistics.median(search[2])
    e1, e2 = statistics.median(evaluate[1]), statistics.median(evaluate[2])
    r1, r2 = statistics.median(report[1]), statistics.median(report[2])
    out.update(speedup=one / two, search_speedup=s1 / s2, evaluate=(e1, e2), report=(r1, r2), load=os.getloadavg())
    print(_table(
        ["", "n_jobs=1", "n_jobs=2", "speed-up", f">= {TARGET_SPEEDUP}"],
        [
            ["mlx run (whole process)", f"{one:.2f} s", f"{two:.2f} s", f"{one / two:.2f}x", "ok" if one / two >= TARGET_SPEEDUP else "UNDER"],
            ["search phase alone", f"{s1:.2f} s", f"{s2:.2f} s", f"{s1 / s2:.2f}x", "ok" if s1 / s2 >= TARGET_SPEEDUP else "UNDER"],
            ["refit and test scores", f"{e1:.2f} s", f"{e2:.2f} s", f"{e1 / e2:.2f}x", ""],
            ["report (waiting for the model's folder and the plots, leaderboard, summary)", f"{r1:.2f} s", f"{r2:.2f} s", f"{r1 / r2:.2f}x", ""],
        ],
    ))
    print(f"{_load()} (other work on the machine slows parallel trials most)")
    return out


# =============================================================================== strategies

# The same conditional space for both strategies: three cheap models with
# their own parameters, and a searched scaling shared by them. On iris each
# of these fits takes about as long whatever the configuration (a logistic
# regression would not: its iterations grow with C, and the strategy that
# prefers it pays for its fits), so what differs between the two runs is what
# each strategy costs per trial; the table shows the mean fit time to check.
STRATEGY_SPEC = """\
version: 1
name: strategy-{strategy}
seed: {seed}
sources:
  d: {{kind: sample, name: iris}}
data:
  target: target
preprocess: {{numeric: {{scale: {{choice: [standard, robust, minmax]}}}}}}
models:
  gaussian_nb:
    params:
      var_smoothing: {{float: [1.0e-12, 0.01], log: true}}
  knn:
    params:
      n_neighbors: {{int: [1, 30]}}
  decision_tree:
    params:
      max_depth: {{int: [1, 12]}}
      min_samples_leaf: {{int: [1, 16], log: true}}
search:
  strategy: {strategy}
  metric: accuracy
  cv: {{folds: 3}}
  options: {options}
  budget: {{trials: {trials}}}
tracking: false
profile: false
execution: {{n_jobs: 1}}
output: out-{strategy}
"""
#: Both TPEs start after 10 random trials; Optuna's pruner is off (Hyperopt has none), so both run every fold.
STRATEGY_OPTIONS = {"optuna": "{sampler: tpe, pruner: none, n_startup_trials: 10}", "hyperopt": "{algorithm: tpe, n_startup_trials: 10}"}
TARGET_STRATEGY = 1.2


def _ask_tell(strategy: str, spec_path: Path, trials: int, workdir: Path) -> float:
    """Seconds per trial the strategy itself takes (ask + tell), on the spec's space, with a free objective."""
    import zlib

    from automl_yaml import registry as R
    from automl_yaml.search.base import TrialResult, config_key
    from automl_yaml.search.space import compile_space
    from automl_yaml.spec import load_spec

    spec = load_spec(spec_path).spec
    space = compile_space(spec, "classification", 120)
    cls = R.strategies.get(strategy).load()
    searcher = cls(space, directions=["maximize"], seed=spec.seed, options=spec.search.options, budget_trials=trials, workdir=workdir)
    spent = 0.0
    for _ in range(trials):
        t = time.perf_counter()
        trial = searcher.ask()
        spent += time.perf_counter() - t
        score = zlib.crc32(config_key(trial.config).encode()) / 2**32
        result = TrialResult(trial.number, trial.config, "ok", [score])
        t = time.perf_counter()
        searcher.tell(trial, result)
        spent += time.perf_counter() - t
    searcher.close()
    return spent / trials


def strategies(runs: int, trials: int = 40, seed: int = SEED) -> dict:
    """Part 4: the hyperopt strategy's per-trial overhead against Optuna's TPE on the same space."""
    names = ("optuna", "hyperopt")
    print(f"\n== 4. strategies: hyperopt (Hyperopt's TPE) vs optuna (Optuna's TPE), {trials} trials ({runs} interleaved runs, medians)")
    print("iris, 3 models with their own parameters + a searched scaling, 3 folds, n_jobs 1, tracking and profile off")
    out: dict = {"load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="mlx-bench-") as tmp:
        work = Path(tmp)
        for name in names:
            (work / f"spec-{name}.yaml").write_text(STRATEGY_SPEC.format(strategy=name, seed=seed, trials=trials, options=STRATEGY_OPTIONS[name]))
            _timed([str(MLX), "run", f"spec-{name}.yaml", "--json", "--set", "search.budget.trials=2"], work)  # warm-up
        own: dict[str, list[float]] = {n: [] for n in names}
        search: dict[str, list[float]] = {n: [] for n in names}
        walls: dict[str, list[float]] = {n: [] for n in names}
        fits: dict[str, list[float]] = {n: [] for n in names}
        for i in range(runs):
            for name in names:
                own[name].append(_child("asktell", name, f"spec-{name}.yaml", str(trials), f"state-{name}-{i}", cwd=work)["per_trial"])
                wall, stdout = _timed([str(MLX), "run", f"spec-{name}.yaml", "--json"], work)
                summary = json.loads(stdout[stdout.index("{") :])
                walls[name].append(wall)
                search[name].append(summary["timings_s"]["search"] / summary["trials"]["ok"])
                with open(work / f"out-{name}" / "leaderboard.csv", newline="") as f:
                    fits[name].append(statistics.mean(float(row["fit_time_s"]) for row in csv.DictReader(f)))
                print(
                    f"run {i + 1}: {name:8s} ask+tell {1000 * own[name][-1]:6.1f} ms/trial, search phase {1000 * search[name][-1]:6.1f} ms/trial, "
                    f"whole run {wall:5.2f} s; {_load()}",
                    flush=True,
                )
    med = {k: {n: statistics.median(v[n]) for n in names} for k, v in (("own", own), ("search", search), ("wall", walls), ("fit", fits))}
    ratios = {k: med[k]["hyperopt"] / med[k]["optuna"] for k in med}
    rows = [
        ["the strategy itself (ask + tell), per trial", f"{1000 * med['own']['optuna']:.1f} ms", f"{1000 * med['own']['hyperopt']:.1f} ms", f"{ratios['own']:.2f}x", ""],
        [
            "search phase of mlx run, per trial",
            f"{1000 * med['search']['optuna']:.1f} ms",
            f"{1000 * med['search']['hyperopt']:.1f} ms",
            f"{ratios['search']:.2f}x",
            "ok" if ratios["search"] <= TARGET_STRATEGY else "OVER",
        ],
        ["mlx run, whole process", f"{med['wall']['optuna']:.2f} s", f"{med['wall']['hyperopt']:.2f} s", f"{ratios['wall']:.2f}x", ""],
        ["(the work: mean fit time of a fold, per trial)", f"{1000 * med['fit']['optuna']:.1f} ms", f"{1000 * med['fit']['hyperopt']:.1f} ms", f"{ratios['fit']:.2f}x", ""],
    ]
    print(_table(["", "optuna (TPE)", "hyperopt (TPE)", "ratio", f"<= {TARGET_STRATEGY}"], rows))
    print(_load())
    out.update(medians=med, ratios=ratios, runs={"own": own, "search": search, "wall": walls, "fit": fits}, load_after=os.getloadavg())
    return out


# =============================================================================== main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--overhead", action="store_true", help="run part 1 (mlx run vs GridSearchCV)")
    ap.add_argument("--parallel", action="store_true", help="run part 2 (n_jobs 2 vs 1)")
    ap.add_argument("--quality", action="store_true", help="run part 3 (benchmarks/quality.py: vs FLAML, AutoGluon, tuned and untuned HGB)")
    ap.add_argument("--strategies", action="store_true", help="run part 4 (the hyperopt strategy's per-trial overhead vs Optuna's TPE; needs the hyperopt extra)")
    ap.add_argument("--quick", action="store_true", help=f"smoke run: 2 runs, 4 parallel trials, {len(quality.QUICK)} test tasks at {quality.QUICK_BUDGET:g} s")
    ap.add_argument("--runs", type=int, help="repetitions of parts 1 and 2 (default 5 and 3)")
    ap.add_argument("--trials", type=int, help="part 2's random-forest trials (default 24: a 25-second search with one job); part 4's trials (default 40)")
    ap.add_argument("--grids", default="tree,forest", help="part 1's grid sizes: tree (a 3-second job), forest (a 30-second job)")
    quality.add_arguments(ap)  # --panel, --budget, --tasks, --systems
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--json", type=Path, help="also write every number to this JSON file")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        kind, *rest = a.child
        if kind == "asktell":
            strategy, spec_path, trials, workdir = rest
            print(json.dumps({"per_trial": _ask_tell(strategy, Path(spec_path), int(trials), Path(workdir))}))
        elif kind == "phases":
            print(json.dumps(_child_phases(rest[0])))
            from automl_yaml.cli import exit_now

            exit_now(0)  # as the mlx command ends
        return 0
    every = not (a.overhead or a.parallel or a.quality or a.strategies)
    quality_options = quality.options(ap, a, a.quick) if a.quality or (every and a.quick) else None
    report: dict = {"started": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "load_start": os.getloadavg()}
    print(f"benchmarks/search.py — {report['started']}, {_load()}, Python {sys.version.split()[0]}")
    if every or a.overhead:
        cases = tuple(g for g in a.grids.split(",") if g)
        if set(cases) - set(OVERHEAD_CASES):
            ap.error(f"unknown grid(s) {sorted(set(cases) - set(OVERHEAD_CASES))}; choose from {', '.join(OVERHEAD_CASES)}")
        report["overhead"] = overhead(a.runs or (2 if a.quick else 5), a.seed, ("tree",) if a.quick else cases)
    if every or a.parallel:
        report["parallel"] = parallel(a.runs or (2 if a.quick else 3), trials=a.trials or (4 if a.quick else 24), seed=a.seed)
    if quality_options is not None:  # a full quality run takes hours: only when asked for
        report["quality"] = quality.run(**quality_options)
    if every or a.strategies:
        report["strategies"] = strategies(a.runs or (2 if a.quick else 3), trials=a.trials or (10 if a.quick else 40), seed=a.seed)
    report["load_end"] = os.getloadavg()
    if a.json:
        a.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
