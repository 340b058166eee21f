"""Hints for the mistakes users bring from other tools and from YAML itself.

:mod:`automl_yaml.spec.errors` turns pydantic's errors into located problems;
this module says what to *do* about the common ones:

* a key spelt as scikit-learn, Optuna, FLAML, PyCaret or pandas spell it
  (``n_trials``, ``scoring``, ``strategy: median``, ``header: 0``) -> where
  that setting lives here;
* a key at the wrong indentation (``target`` at the top level) -> the section
  it belongs to;
* a hyperparameter written beside ``params:`` instead of inside it;
* a section that is empty, a list instead of a mapping, a scalar instead of a
  mapping (``cv: 5``, ``split: 0.2``), a quoted number, ``None`` for null.

Nothing here accepts anything: the hints only explain refusals.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel

from ..errors import did_you_mean

# ----------------------------------------------------------------- keys by model
_PANDAS_READ_ARGS = {
    "header",
    "index_col",
    "na_values",
    "keep_default_na",
    "skiprows",
    "skipfooter",
    "usecols",
    "nrows",
    "parse_dates",
    "decimal",
    "thousands",
    "low_memory",
    "engine",
    "dtype",
    "names",
    "quotechar",
    "comment",
    "lines",
    "orient",
    "sheet_name",
    "compression",
}

_BUDGET_TRIALS = ("n_trials", "n_iter", "max_evals", "num_samples", "max_trials", "trials", "iterations", "n_calls", "max_iter")
_BUDGET_TIME = ("timeout", "time_budget", "time_limit", "time", "max_time", "max_runtime_secs", "max_time_mins", "total_time_limit")

_SEARCH_KEYS: dict[str, str] = {
    **{k: "the number of trials is set in the budget: budget: {trials: N}" for k in _BUDGET_TRIALS},
    **{k: "the time limit is set in the budget: budget: {time: 10m}" for k in _BUDGET_TIME},
    **{k: "write cv: {folds: N}" for k in ("folds", "n_folds", "cv_folds", "k_folds", "kfold", "n_splits", "k")},
    **{k: "write metric: <name> (see `mlx list metrics`)" for k in ("scoring", "metrics", "eval_metric", "objective", "score")},
    "direction": "the direction follows the metric: scores such as accuracy are maximised, losses such as rmse minimised",
    "mode": "the direction follows the metric: scores such as accuracy are maximised, losses such as rmse minimised",
    "random_state": "the search is seeded by the top-level `seed:`",
    "seed": "the search is seeded by the top-level `seed:`",
    "early_stopping": "stop after N trials without improvement: budget: {patience: N}",
    "early_stopping_rounds": "stop after N trials without improvement: budget: {patience: N}",
    "n_jobs": "parallel trials are set in execution: {n_jobs: N}",
    "algorithm": "write strategy: grid | random | bayesian | genetic | optuna | hyperopt",
    "method": "write strategy: grid | random | bayesian | genetic | optuna | hyperopt",
    "search": "write strategy: grid | random | bayesian | genetic | optuna | hyperopt",
    "type": "write strategy: grid | random | bayesian | genetic | optuna | hyperopt",
}

_PREPROCESS_KEYS: dict[str, str] = {
    **{k: "impute" for k in ("strategy", "imputer", "imputation", "imputation_strategy", "missing", "fillna", "impute_strategy")},
    **{k: "scale" for k in ("scaler", "scaling", "normalize", "normalization", "normalise", "standardize")},
    **{k: "encode" for k in ("encoder", "encoding", "categorical_encoding")},
    **{k: "fill_value" for k in ("fill", "fill_values", "constant", "fillna_value")},
    **{k: "outliers" for k in ("outlier", "remove_outliers", "outlier_method")},
}

#: unknown key -> hint, by the name of the model the key was found in.
KEY_HINTS: dict[str, dict[str, str]] = {
    "Spec": {
        "model": "the section is `models:` (a mapping of model names)",
        **{k: "the section is `sources:` (named inputs)" for k in ("source", "dataset", "datasets", "catalog", "inputs", "input")},
        **{k: "the section is `models:`: models: {random_forest: {params: {...}}}" for k in ("hyperparameters", "search_space", "estimators", "algorithms")},
        **{k: "the section is `search:`" for k in ("tuning", "tune", "hpo", "optimization", "optimisation", "hyperopt", "automl")},
        "preprocessing": "the section is `preprocess:`",
        **{k: "the section is `select:` (a list of steps)" for k in ("feature_selection", "features", "selection")},
        "mlflow": "the section is `tracking:`",
        "random_state": "the seed is `seed:`",
        "output_dir": "the output folder is `output:`",
        **{k: "the test share is part of data: data: {split: {test_size: 0.2}}" for k in ("test_size", "test_split", "holdout")},
        **{k: "the number of trials is part of search: search: {budget: {trials: N}}" for k in ("trials", "n_trials", "max_trials")},
        **{k: "folds are part of search: search: {cv: {folds: N}}" for k in ("folds", "n_folds", "cv_folds")},
        **{k: "the time limit is part of search: search: {budget: {time: 10m}}" for k in ("time_budget", "timeout", "time_limit")},
    },
    "DataSpec": {
        **{k: "target" for k in ("label", "y", "target_column", "label_column", "target_col", "label_col", "outcome")},
        **{k: "task" for k in ("problem_type", "task_type", "type", "ml_task", "problem")},
        **{k: "drop" for k in ("exclude", "ignore", "drop_columns", "ignore_columns", "ignored_columns", "ignore_features", "exclude_columns")},
        "source": "from",
        "features": "every column but the target and `drop` is a feature: list the others in `drop`",
        "test_size": "the test share is part of the split: split: {test_size: 0.2}",
        "stratify": "stratification is part of the split: split: {stratify: true}",
        "positive_class": "positive",
        "pos_label": "positive",
    },
    "SplitSpec": {
        **{k: "by" for k in ("kind", "method", "type", "strategy", "split_by", "mode")},
        **{k: "column" for k in ("time_column", "group_column", "groups", "group", "date_column", "time", "timestamp", "order_by")},
        "stratified": "stratify",
        **{k: "test_size" for k in ("test_ratio", "holdout", "test", "test_fraction", "holdout_size", "train_size")},
        **{
            k: "there is no validation split: the search cross-validates the training rows (search.cv); the held-out share is test_size"
            for k in ("valid_size", "validation_size", "val_size", "validation_split", "valid", "validation")
        },
        "random_state": "the split is seeded by the top-level `seed:`",
        "seed": "the split is seeded by the top-level `seed:`",
    },
    "NumericSpec": _PREPROCESS_KEYS,
    "CategoricalSpec": _PREPROCESS_KEYS,
    "ColumnOverride": _PREPROCESS_KEYS,
    "ModelSpec": {
        **{
            k: "params"
            for k in ("hyperparameters", "hyperparams", "search_space", "space", "param_grid", "param_distributions", "grid", "parameters", "config", "kwargs")
        },
        **{k: "estimator" for k in ("class", "type", "model", "name", "model_type", "algorithm")},
    },
    "Budget": {
        **{k: "trials" for k in _BUDGET_TRIALS},
        **{k: "time" for k in _BUDGET_TIME},
        **{k: "patience" for k in ("early_stopping", "early_stopping_rounds", "early_stop", "n_iter_no_change")},
    },
    "CVSpec": {
        **{k: "folds" for k in ("n_folds", "n_splits", "k", "k_folds", "kfold", "cv", "nfolds")},
        "n_repeats": "repeats",
        "stratified": "stratification follows data.split (classification targets are stratified)",
        **{k: "the kind of folds follows data.split: stratified for classification, grouped for by: group, ordered for by: time" for k in ("kind", "type", "method", "strategy", "splitter")},
    },
    "FileSource": {
        "delimiter": "sep",
        **{k: "path" for k in ("file", "filename", "filepath", "file_path", "url", "uri", "location")},
        **{k: "format" for k in ("type", "file_type", "filetype", "file_format")},
    },
    "SqlSource": {
        **{k: "query" for k in ("sql", "statement", "select")},
        **{k: "url" for k in ("connection", "connection_string", "uri", "dsn", "con", "conn", "engine")},
        "table_name": "table",
    },
    "MongoSource": {
        **{k: "uri" for k in ("url", "connection", "connection_string", "host")},
        "db": "database",
        "query": "filter",
    },
    "TrackingSpec": {
        "tracking_uri": "uri",
        **{k: "register" for k in ("registered_model_name", "model_name", "registry", "register_model")},
        "run_name": "runs are named after the spec's `name:`",
    },
    "ExecutionSpec": {
        **{k: "n_jobs" for k in ("workers", "n_workers", "parallel", "processes", "cpus", "n_cpus", "jobs", "parallelism")},
    },
}
for _name in ("GridSearch", "RandomSearch", "BayesianSearch", "GeneticSearch", "OptunaSearch"):
    KEY_HINTS[_name] = _SEARCH_KEYS


def _is_field_name(text: str) -> bool:
    return re.fullmatch(r"[a-z_]+", text) is not None


def key_hint(model: type[BaseModel] | None, key: str, data: Any, loc: tuple, *, sections: bool = True) -> str | None:
    """Where an unknown ``key`` of ``model`` belongs, or None if nothing specific is known.

    ``sections``: also look one level down (a key of a section, written at the
    wrong indentation).
    """
    if model is None or not isinstance(key, str):
        return None
    from .errors import field_names

    fields = field_names(model)
    name = model.__name__
    if name == "Spec" and key.startswith("x-"):  # only a --set can bring one here: the file's are left out
        return "x- keys only hold YAML anchors of the spec file and are ignored: set the field that uses the anchor"
    if key.startswith("x-"):
        return "keys starting with x- (blocks that hold YAML anchors) are allowed at the top level only"
    if name == "Spec" and re.match(r"(?i)x[_-]", key) and len(key) > 2:
        return f"a top-level block that holds YAML anchors is named x-...: x-{key[2:]}"
    table = KEY_HINTS.get(name, {})
    lowered = key.lower()
    if lowered in table:
        target = table[lowered]
        if _is_field_name(target) and target in fields:
            return f"write `{target}` (this tool's name for it)"
        return target
    if name == "FileSource" and lowered in _PANDAS_READ_ARGS:
        return f"pandas reader arguments go under options: options: {{{key}: ...}}"
    if name.endswith("Options"):
        owner = _option_owner(key)
        if owner:
            return f"`{key}` is an option of strategy: {owner}"
    if name.endswith("Search"):
        owner = _option_owner(key)
        if owner:
            return f"strategy options go under options: options: {{{key}: ...}} (an option of strategy: {owner})"
    if name == "ModelSpec":
        estimator = _model_name(data, loc)
        owner = _param_owner(estimator, key) if estimator else None
        if owner:
            return f"'{key}' is a hyperparameter of {owner}: put it under params: (models.{loc[1]}.params.{key})"
    parent = _section_of(model, key) if sections else None
    if parent:
        return f"'{key}' belongs in `{parent}`: indent it under {parent}:"
    return None


def _option_owner(key: str) -> str | None:
    from .models import _STRATEGIES

    for strategy, model in _STRATEGIES.items():
        options = model.model_fields["options"].annotation
        if key in getattr(options, "model_fields", {}):
            return strategy
    return None


def _model_name(data: Any, loc: tuple) -> str | None:
    if len(loc) < 2 or loc[0] != "models" or not isinstance(data, dict):
        return None
    entry = (data.get("models") or {}).get(loc[1]) if isinstance(data.get("models"), dict) else None
    if isinstance(entry, dict) and isinstance(entry.get("estimator"), str):
        return entry["estimator"]
    return loc[1] if isinstance(loc[1], str) else None


def _param_owner(estimator: str, key: str) -> str | None:
    from .. import registry as R
    from ..components import catalog

    catalog.ensure_estimators()
    if estimator not in R.estimators:
        return None
    try:
        classes = catalog.estimator_classes(estimator)
    except Exception:
        return None
    owners = []
    for target in classes.values():
        info = catalog.estimator_info(target)
        if info and key in info["params"]:
            owners.append(target.rpartition(":")[2])
    return "/".join(owners) or None


def _models_in(tp: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's annotation can hold (through unions, Annotated, Optional)."""
    out: list[type[BaseModel]] = []
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(tp)[0])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        for member in typing.get_args(tp):
            out += _models_in(member)
    return out


def _section_of(model: type[BaseModel], key: str) -> str | None:
    """The field of ``model`` whose own model has a field named ``key`` (one level down)."""
    from .errors import field_names

    for name, field in model.model_fields.items():
        for sub in _models_in(field.annotation):
            if key in field_names(sub) and key not in ("enabled", "kind", "cache"):
                return field.alias or name
    return None


# ------------------------------------------------------------------ values by path
_NONE_WORDS = ("none", "None", "NONE", "nil", "undefined", "nan", "NaN")
_RANGE_TEXT = re.compile(r"^\s*(?:range\s*\(\s*)?(-?\d+(?:\.\d+)?)\s*(?:,|\.\.|\.\.\.|:|-|to)\s*(-?\d+(?:\.\d+)?)\s*(?:,\s*\d+\s*)?\)?\s*$")
#: Search-space notations of other tools: hyperopt, Ray Tune, Optuna, W&B sweeps, Ludwig.
_FOREIGN_SPACE_KEYS = {
    "uniform": "float",
    "quniform": "float",
    "loguniform": "float-log",
    "qloguniform": "float-log",
    "randint": "int",
    "lograndint": "int-log",
    "randn": "float",
    "categorical": "choice",
    "values": "choice",
    "grid_search": "choice",
    "options": "choice",
    "choices": "choice",
    "one_of": "choice",
    "range": "int",
    "between": "int",
}


def space_syntax_hint(value: Any) -> str | None:
    """How to write ``value`` as this tool's search space, if it looks like another notation."""
    if isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
        items = ", ".join(_yaml(v) for v in value)
        return f"a plain list is a fixed value; to search among these values write {{choice: [{items}]}}"
    if isinstance(value, str):
        m = _RANGE_TEXT.match(value)
        if m and (value.strip().startswith("range") or ".." in value or " to " in value):
            low, high = m.group(1), m.group(2)
            kind = "float" if "." in low + high.replace("..", "") and ("." in low or "." in high) else "int"
            return f"a range is written {{{kind}: [{low}, {high}]}} (both ends included)"
        return None
    if not isinstance(value, dict):
        return None
    keys = {str(k).lower() for k in value}
    if {"low", "high"} <= keys or {"min", "max"} <= keys or {"lower", "upper"} <= keys:
        lo = next(value[k] for k in value if str(k).lower() in ("low", "min", "lower"))
        hi = next(value[k] for k in value if str(k).lower() in ("high", "max", "upper"))
        kind = "float" if isinstance(lo, float) or isinstance(hi, float) else "int"
        log = ", log: true" if any(str(k).lower() in ("log", "log_scale") and value[k] for k in value) or "log" in str(value.get("type", value.get("distribution", ""))) else ""
        return f"a search space is written {{{kind}: [{_yaml(lo)}, {_yaml(hi)}]{log}}}"
    for k, v in value.items():
        kind = _FOREIGN_SPACE_KEYS.get(str(k).lower())
        if kind is None:
            continue
        if kind == "choice":
            items = ", ".join(_yaml(x) for x in v) if isinstance(v, list) else "..."
            return f"a search space is written {{choice: [{items}]}}"
        base, _, log = kind.partition("-")
        if isinstance(v, list) and len(v) == 2:
            ends = f"{_yaml(v[0])}, {_yaml(v[1])}"
        else:
            ends = "low, high"
        return f"a search space is written {{{base}: [{ends}]{', log: true' if log else ''}}}"
    return None


def _yaml(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def value_hint(value: Any, *, accepts_none: bool = True, numeric: bool = True) -> str | None:
    """A hint for a scalar that is almost right: a quoted number, ``None``, ``1_000``, a foreign space."""
    space = space_syntax_hint(value)
    if space:
        return space
    if isinstance(value, str):
        text = value.strip()
        if accepts_none and text in _NONE_WORDS:
            return "write null (or ~) for None: in YAML, `None` and `none` are strings"
        if numeric and re.fullmatch(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?", text):
            return f"remove the quotes: {text} is a number, '{text}' a string"
        if numeric and re.fullmatch(r"[-+]?\d{1,3}([_,]\d{3})+", text):
            return f"write {re.sub(r'[_,]', '', text)}: YAML 1.2 numbers have no digit separators"
        if numeric and re.fullmatch(r"\d+(\.\d+)?\s*%", text):
            return f"write a fraction: {float(text.rstrip('% ')) / 100:g}"
    return None


def type_hint(path: tuple, value: Any, expected: str) -> str | None:
    """A hint for ``value`` at ``path`` not being of the ``expected`` type."""
    p = tuple(x for x in path if not isinstance(x, int))
    if value is None:
        return "give it a value, or remove the key; to nest a block under it, indent that block by two more spaces"
    if p == ("models",):
        if isinstance(value, str):
            return f"models is a mapping (or a list) of names: models: [{value}]"
        if isinstance(value, list):
            return "models is a mapping from names to models, not a list of mappings: drop the '- ' and write random_forest: {params: {n_estimators: 100}}"
    if p == ("sources",) and isinstance(value, list):
        return "sources is a mapping from names to sources: sources: {penguins: data/penguins.csv}"
    if p == ("select",) and isinstance(value, str):
        return f"select is a list of steps: select: [{value}]"
    if p == ("select",) and isinstance(value, dict):
        return "select is a list of steps, one selector each: put '- ' before each selector"
    if p == ("data", "join") and isinstance(value, (str, dict)):
        src = value if isinstance(value, str) else value.get("source", "<source>")
        return f"join is a list: join: [{{source: {src}, on: <key column>}}]"
    if p == ("data", "split") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"write split: {{test_size: {value}}}"
    if p == ("data", "split") and isinstance(value, str):
        return f"write split: {{by: {value}}}" if value in ("random", "group", "time") else "split is a mapping: split: {test_size: 0.2}"
    if p == ("search", "cv") and isinstance(value, int) and not isinstance(value, bool):
        return f"write cv: {{folds: {max(value, 2)}}}" + (" (at least 2 folds)" if value < 2 else "")
    if p == ("search", "budget") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"write budget: {{trials: {value}}} or budget: {{time: {value}}} (seconds)"
    if p == ("search",) and isinstance(value, str):
        return f"write search: {{strategy: {value}}}"
    if p == ("data",) and isinstance(value, str):
        return f"write data: {{target: {value}}}"
    if p == ("data", "target") and isinstance(value, list):
        return "give one target column: predicting several columns at once is not supported"
    if p == ("seed",) and isinstance(value, str):
        return "give a whole number, e.g. seed: 42: the same seed gives the same splits, folds and search"
    if p[-1:] == ("metric",) and isinstance(value, dict) and isinstance(value.get("name"), str):
        return f"write metric: {value['name']}"
    if p[-1:] == ("n_jobs",) and isinstance(value, str):
        return "-1 runs one trial per CPU; otherwise give a positive number"
    if p[-1:] == ("register",) and isinstance(value, bool):
        return "give the registered model's name: register: my-model"
    if p[-1:] == ("choice",) and not isinstance(value, (list, dict)):
        return f"choice takes a list: {{choice: [{_yaml(value)}]}}"
    if path[-1:] in (("int",), ("float",)) and not isinstance(value, list):
        return f"a range is a list of its two ends: {{{p[-1]}: [low, high]}}"
    if expected in ("a mapping",) and isinstance(value, list):
        return "this is a mapping (key: value lines), not a list: remove the '- '"
    if p[-1:] in (("test_size",), ("min_frequency",)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "give a share between 0 and 1 (0.2), or a count of at least 1 (500)"
    if expected == "true or false" and isinstance(value, str):
        close = did_you_mean(value.lower(), ["true", "false"])
        if close or value.lower() in ("yes", "no", "on", "off", "y", "n"):
            return "write true or false, unquoted"
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("choice", "int", "float") and p[:1] not in ("models", "preprocess", "select"):
        return "this key takes one fixed value; search spaces ({choice: ...}, {int: ...}, {float: ...}) go in models, preprocess and select"
    if expected == "a string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"quote it to make it text: '{value}'"
    if isinstance(value, list) and p[:1] not in ("models", "preprocess", "select"):
        return None  # a plain list is not a search space here: no {choice: [...]} hint
    hint = value_hint(value, accepts_none=True, numeric=expected.startswith(("an integer", "a number", "a whole")))
    return hint
