"""The default model zoo: what is searched when a spec has no ``models``.

Written in the spec's own search-space syntax, so that ``mlx plan`` can show
it and a user can copy any entry into a spec. Entries marked ``max_rows`` are
only used on data sets up to that many training rows (k-NN and SVMs scale
badly). LightGBM, XGBoost and CatBoost join when they are installed.

Spaces follow common practice (FLAML's and Optuna's examples, scikit-learn's
defaults as a centre): log scales for learning rates, regularisation and
counts; the default value inside every range.

Each entry also names its library's default configuration (``start``, with
``start_by_task`` for defaults that differ between the classifier and the
regressor) and a rough ``cost`` rank (1: cheapest to fit). The Optuna
strategies evaluate every model's default first, cheapest first: a search
then never ends worse than the best untuned model (as far as cross-validation
can tell), and a short time budget still sees every model once — the way
FLAML starts each learner from a low-cost configuration.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

# name -> {"params": {...}, "tasks": [...], "max_rows": int | None, "needs": module,
#          "cost": rank, "start": {...}, "start_by_task": {task: {...}}}
ZOO: dict[str, dict[str, Any]] = {
    "hist_gradient_boosting": {
        "tasks": ["classification", "regression"],
        "cost": 3,
        "start": {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "min_samples_leaf": 20, "l2_regularization": 0.0},
        "params": {
            "learning_rate": {"float": [0.01, 0.3], "log": True},
            "max_iter": {"int": [50, 500], "log": True},
            "max_leaf_nodes": {"int": [8, 128], "log": True},
            "min_samples_leaf": {"int": [5, 100], "log": True},
            "l2_regularization": {"float": [1e-8, 10.0], "log": True},
        },
    },
    "random_forest": {
        "tasks": ["classification", "regression"],
        "cost": 6,
        "start": {"n_estimators": 100, "max_features": "sqrt", "min_samples_leaf": 1, "max_depth": None},
        "start_by_task": {"regression": {"max_features": 1.0}},
        "params": {
            "n_estimators": {"int": [50, 300], "log": True},
            "max_features": {"choice": ["sqrt", "log2", 0.5, 1.0]},
            "min_samples_leaf": {"int": [1, 10], "log": True},
            "max_depth": {"choice": [None, 8, 16, 32]},
        },
    },
    "extra_trees": {
        "tasks": ["classification", "regression"],
        "cost": 5,
        "start": {"n_estimators": 100, "max_features": "sqrt", "min_samples_leaf": 1},
        "start_by_task": {"regression": {"max_features": 1.0}},
        "params": {
            "n_estimators": {"int": [50, 300], "log": True},
            "max_features": {"choice": ["sqrt", "log2", 0.5, 1.0]},
            "min_samples_leaf": {"int": [1, 10], "log": True},
        },
    },
    "logistic_regression": {
        "tasks": ["classification"],
        "cost": 1,
        "start": {"C": 1.0},
        "params": {"C": {"float": [0.001, 100.0], "log": True}, "max_iter": 2000},
    },
    "ridge": {
        "tasks": ["regression"],
        "cost": 1,
        "start": {"alpha": 1.0},
        "params": {"alpha": {"float": [0.001, 100.0], "log": True}},
    },
    "knn": {
        "tasks": ["classification", "regression"],
        "cost": 2,
        "start": {"n_neighbors": 5, "weights": "uniform"},
        "max_rows": 20_000,
        "params": {"n_neighbors": {"int": [3, 50], "log": True}, "weights": {"choice": ["uniform", "distance"]}},
    },
    "svm": {
        "tasks": ["classification", "regression"],
        "cost": 7,
        "start": {"C": 1.0, "gamma": "scale"},
        "max_rows": 10_000,
        "params": {"C": {"float": [0.01, 100.0], "log": True}, "gamma": {"choice": ["scale", "auto"]}},
    },
    "lightgbm": {
        "tasks": ["classification", "regression"],
        "cost": 3,
        "start": {
            "n_estimators": 100,
            "learning_rate": 0.1,
            "num_leaves": 31,
            "min_child_samples": 20,
            "subsample": 1.0,
            "colsample_bytree": 1.0,
            "reg_lambda": 0.0,
        },
        "needs": "lightgbm",
        "params": {
            "n_estimators": {"int": [50, 1000], "log": True},
            "learning_rate": {"float": [0.01, 0.3], "log": True},
            "num_leaves": {"int": [8, 256], "log": True},
            "min_child_samples": {"int": [5, 100], "log": True},
            "subsample": {"float": [0.5, 1.0]},
            "subsample_freq": 1,
            "colsample_bytree": {"float": [0.5, 1.0]},
            "reg_lambda": {"float": [1e-8, 10.0], "log": True},
            "verbose": -1,
        },
    },
    "xgboost": {
        "tasks": ["classification", "regression"],
        "cost": 4,
        "start": {
            "n_estimators": 100,
            "learning_rate": 0.3,
            "max_depth": 6,
            "min_child_weight": 1.0,
            "subsample": 1.0,
            "colsample_bytree": 1.0,
            "reg_lambda": 1.0,
        },
        "needs": "xgboost",
        "params": {
            "n_estimators": {"int": [50, 1000], "log": True},
            "learning_rate": {"float": [0.01, 0.3], "log": True},
            "max_depth": {"int": [3, 10]},
            "min_child_weight": {"float": [0.5, 20.0], "log": True},
            "subsample": {"float": [0.5, 1.0]},
            "colsample_bytree": {"float": [0.5, 1.0]},
            "reg_lambda": {"float": [1e-8, 10.0], "log": True},
        },
    },
    # The parameters CatBoost's parameter tuning guide names
    # (https://catboost.ai/docs/en/concepts/parameter-tuning): depth "from 4 to
    # 10"; learning_rate and l2_leaf_reg on log scales, iterations as for
    # LightGBM and XGBoost. ``start``: its defaults (1000 iterations, depth 6,
    # l2_leaf_reg 3; learning_rate 0.03, the documented default where it is not
    # chosen from the data). Seed, threads and quiet, file-less training are
    # set by :func:`automl_yaml.components.estimators.make_estimator`.
    "catboost": {
        "tasks": ["classification", "regression"],
        "cost": 5,
        "start": {"iterations": 1000, "learning_rate": 0.03, "depth": 6, "l2_leaf_reg": 3.0},
        "needs": "catboost",
        "params": {
            "iterations": {"int": [50, 1000], "log": True},
            "learning_rate": {"float": [0.01, 0.3], "log": True},
            "depth": {"int": [4, 10]},
            "l2_leaf_reg": {"float": [1.0, 10.0], "log": True},
        },
    },
}


def default_models(task: str | None, n_rows: int | None = None) -> dict[str, dict[str, Any]]:
    """The zoo entries for ``task`` (both tasks when None) that fit ``n_rows``.

    Returns:
        ``{name: {"params": {...}}}`` in the spec's ``models`` syntax.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, entry in ZOO.items():
        if task is not None and task not in entry["tasks"]:
            continue
        needs = entry.get("needs")
        if needs and find_spec(needs) is None:
            continue
        limit = entry.get("max_rows")
        if limit is not None and n_rows is not None and n_rows > limit:
            continue
        out[name] = {"params": dict(entry["params"])}
    return out


def default_params(name: str) -> dict[str, Any] | None:
    """The zoo's space for one model name, if the zoo has it."""
    entry = ZOO.get(name)
    return dict(entry["params"]) if entry else None


def params_for_rows(params: dict[str, Any], n_rows: int | None) -> dict[str, Any]:
    """A zoo space fitted to ``n_rows`` training rows.

    k-NN fails when ``n_neighbors`` exceeds the rows a CV fold trains on
    ("Expected n_neighbors <= n_samples_fit"): on small data its range stops at
    half the training rows (at or below any fold's training rows, time-series
    folds included). A space the user wrote is theirs and is not changed.
    """
    space = params.get("n_neighbors")
    if n_rows is None or not isinstance(space, dict) or "int" not in space:
        return params
    low, high = space["int"]
    cap = max(1, n_rows // 2)
    if high <= cap:
        return params
    return {**params, "n_neighbors": {**space, "int": [low, cap]} if low < cap else cap}


def start_params(name: str, task: str | None = None) -> dict[str, Any] | None:
    """The library's default configuration of a zoo model, for ``task`` (None: the common one).

    Values may lie outside a spec's range (a ``reg_lambda`` of 0 on a log
    scale): :func:`automl_yaml.search.space.compile_space` moves them inside.
    None when the zoo does not know ``name``.
    """
    entry = ZOO.get(name)
    if entry is None or "start" not in entry:
        return None
    out = dict(entry["start"])
    out.update(entry.get("start_by_task", {}).get(task, {}))
    return out


def cost(name: str) -> int | None:
    """The zoo's rough rank of ``name``'s cost to fit (1: cheapest), or None."""
    entry = ZOO.get(name)
    return entry.get("cost") if entry else None
