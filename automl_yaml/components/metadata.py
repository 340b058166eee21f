"""Estimator and scorer metadata, so that validation needs no heavy import.

Importing ``sklearn.ensemble`` alone takes about 1.5 s, so ``mlx validate``
cannot import every estimator to check its hyperparameters. Instead the facts
it needs — each estimator's module, task, parameter names, defaults and the
value constraints scikit-learn declares — are introspected once from the
installed libraries and kept as JSON:

* ``estimators.json`` beside this module, generated for the versions this
  release was built with (``python -m automl_yaml.components.metadata``);
* when an installed version differs, the same introspection runs once and
  its result is kept in the user cache (``$XDG_CACHE_HOME/automl-yaml``).

A test checks that what :func:`load` returns matches live introspection.

scikit-learn declares constraints in the ``_parameter_constraints`` class
attribute, which is private. We only *read* it, by duck typing, at generation
time; anything we do not recognise becomes ``{"kind": "other"}``, which
validation treats as "cannot check statically" rather than as an error.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import sys
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGED = Path(__file__).with_name("estimators.json")
FORMAT = 4  # 3: LightGBM's and XGBoost's ranges (DOCUMENTED); 4: CatBoost's parameters (its __init__)

#: The libraries introspected, with the classes to take from each. scikit-learn
#: lists its own estimators (``all_estimators``, a public API).
LIBRARIES: dict[str, list[str]] = {
    "scikit-learn": [],
    "lightgbm": ["lightgbm:LGBMClassifier", "lightgbm:LGBMRegressor"],
    "xgboost": ["xgboost:XGBClassifier", "xgboost:XGBRegressor"],
    "catboost": ["catboost:CatBoostClassifier", "catboost:CatBoostRegressor"],
}

# Estimators that cannot be used as "a model for a table and a target" with
# their defaults: they need other estimators as arguments, multi-output targets,
# or a single feature.
_EXCLUDED = {
    "ClassifierChain",
    "RegressorChain",
    "MultiOutputClassifier",
    "MultiOutputRegressor",
    "MultiTaskElasticNet",
    "MultiTaskElasticNetCV",
    "MultiTaskLasso",
    "MultiTaskLassoCV",
    "OneVsOneClassifier",
    "OneVsRestClassifier",
    "OutputCodeClassifier",
    "StackingClassifier",
    "StackingRegressor",
    "VotingClassifier",
    "VotingRegressor",
    "IsotonicRegression",
    "FixedThresholdClassifier",
    "TunedThresholdClassifierCV",
    "SelfTrainingClassifier",
    "CategoricalNB",
    "CCA",
    "PLSCanonical",
}


def installed_version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "automl-yaml"


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """Metadata for every installed library, keyed by class name.

    Returns:
        ``{"estimators": {ClassName: {...}}, "versions": {dist: version}}``.
    """
    packaged = json.loads(PACKAGED.read_text()) if PACKAGED.exists() else {"format": FORMAT, "libraries": {}}
    estimators: dict[str, Any] = {}
    versions: dict[str, str] = {}
    for dist in LIBRARIES:
        v = installed_version(dist)
        if v is None:
            continue
        lib = packaged.get("libraries", {}).get(dist)
        if packaged.get("format") != FORMAT or not lib or lib.get("version") != v:
            lib = _cached_or_generate(dist, v)
        if lib is None:
            continue
        versions[dist] = v
        estimators.update(lib["estimators"])
    return {"estimators": estimators, "versions": versions}


def _cached_or_generate(dist: str, v: str) -> dict | None:
    path = _cache_dir() / f"estimators-{FORMAT}-{dist}-{v}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    try:
        lib = generate_library(dist)
    except Exception:  # a broken optional library must not break validation
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(lib, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: regenerate next time
    return lib


def generate_library(dist: str) -> dict[str, Any]:
    """Introspect one installed library."""
    out: dict[str, Any] = {"version": installed_version(dist), "estimators": {}}
    if dist == "scikit-learn":
        from sklearn.utils.discovery import all_estimators

        classes = []
        for kind in ("classifier", "regressor"):
            for name, cls in all_estimators(type_filter=kind):
                if name not in _EXCLUDED:
                    classes.append((cls, "classification" if kind == "classifier" else "regression"))
    else:
        classes = []
        for target in LIBRARIES[dist]:
            module, _, attr = target.partition(":")
            cls = getattr(importlib.import_module(module), attr)
            classes.append((cls, "classification" if attr.endswith("Classifier") else "regression"))
    for cls, task in classes:
        info = describe(cls, task)
        if info is not None:
            out["estimators"][cls.__name__] = info
    return out


def _at_least(t: str, left: float, *, closed: str = "left", right: float | None = None) -> dict[str, Any]:
    return {"kind": "interval", "type": t, "left": left, "right": right, "closed": closed, "hidden": False}


_FRACTION = _at_least("real", 0.0, right=1.0, closed="right")  # (0, 1]
_NON_NEGATIVE = _at_least("real", 0.0)
# Ranges LightGBM and XGBoost check when fitting but do not declare as
# scikit-learn does (``_parameter_constraints``), in the form ``_constraint``
# writes: a value outside one failed every trial ("Check failed:
# (num_leaves) > (1)"). Each one was measured against lightgbm 4 and
# xgboost 3 (a fit that fails at the bound's other side).
_LIGHTGBM = {
    "num_leaves": [_at_least("int", 1, closed="neither")],
    "learning_rate": [_at_least("real", 0.0, closed="neither")],
    "n_estimators": [_at_least("int", 1)],
    "subsample": [_FRACTION],
    "colsample_bytree": [_FRACTION],
    "min_child_samples": [_at_least("int", 0)],
    "min_child_weight": [_NON_NEGATIVE],
    "min_split_gain": [_NON_NEGATIVE],
    "reg_alpha": [_NON_NEGATIVE],
    "reg_lambda": [_NON_NEGATIVE],
}
_UNIT = _at_least("real", 0.0, right=1.0, closed="both")  # [0, 1]
_NONE = {"kind": "none"}  # XGBoost's defaults: None, its own default then
_XGBOOST = {
    "learning_rate": [_NON_NEGATIVE, _NONE],
    "max_depth": [_at_least("int", 0), _NONE],
    "max_leaves": [_at_least("int", 0), _NONE],
    "max_bin": [_at_least("int", 2), _NONE],
    "subsample": [_UNIT, _NONE],
    "colsample_bytree": [_UNIT, _NONE],
    "colsample_bylevel": [_UNIT, _NONE],
    "colsample_bynode": [_UNIT, _NONE],
    "min_child_weight": [_NON_NEGATIVE, _NONE],
    "gamma": [_NON_NEGATIVE, _NONE],
    "reg_alpha": [_NON_NEGATIVE, _NONE],
    "reg_lambda": [_NON_NEGATIVE, _NONE],
}
DOCUMENTED: dict[str, dict[str, list[dict[str, Any]]]] = {
    "LGBMClassifier": _LIGHTGBM,
    "LGBMRegressor": _LIGHTGBM,
    "XGBClassifier": _XGBOOST,
    "XGBRegressor": _XGBOOST,
}


def describe(cls: type, task: str) -> dict[str, Any] | None:
    """The metadata of one estimator class, or None if it needs arguments."""
    sig = inspect.signature(cls.__init__)
    required = [
        p.name
        for p in list(sig.parameters.values())[1:]
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if required:
        return None
    kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)  # deprecated classes are left out
            defaults = cls().get_params(deep=False)
    except Exception:
        return None
    # CatBoost's get_params lists only the values set (``{}`` for a default
    # model): every parameter was unknown to ``mlx validate``. Its __init__
    # names them all, with their defaults.
    for p in list(sig.parameters.values())[1:]:
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in defaults:
            defaults[p.name] = p.default
    declared = getattr(cls, "_parameter_constraints", None) or {}
    documented = DOCUMENTED.get(cls.__name__, {})
    params = {}
    for name, default in sorted(defaults.items()):
        entry: dict[str, Any] = {"default": _jsonable(default)}
        if name in declared:
            entry["constraints"] = [_constraint(c) for c in declared[name]]
        elif name in documented:
            entry["constraints"] = [dict(c) for c in documented[name]]
        params[name] = entry
    module = cls.__module__
    public = module.split("._")[0]  # sklearn.ensemble._forest -> sklearn.ensemble
    try:
        if getattr(importlib.import_module(public), cls.__name__, None) is cls:
            module = public
    except ImportError:
        pass
    return {
        "module": module,
        "task": task,
        "params": params,
        "kwargs": kwargs,
        "proba": hasattr(cls, "predict_proba"),
        "decision_function": hasattr(cls, "decision_function"),
    }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, str, bool)) or v is None for v in value):
        return list(value)
    return {"repr": repr(value)}


def _type_name(t: Any) -> str:
    name = getattr(t, "__name__", repr(t))
    return {"Integral": "int", "Real": "real", "RealNotInt": "real_not_int"}.get(name, name)


def _constraint(c: Any) -> dict[str, Any]:
    """A scikit-learn constraint as JSON (see the module docstring)."""
    if c is None:
        return {"kind": "none"}
    if isinstance(c, str):
        return {"kind": c}  # "boolean", "random_state", "verbose", "array-like", ...
    if c is callable:
        return {"kind": "callable"}
    if isinstance(c, type):
        t = _type_name(c)
        if t in ("int", "real", "dict", "list", "str", "bool", "float", "tuple"):
            return {"kind": "type", "type": t}
        return {"kind": "instance", "type": t}  # an object of a class: never a YAML value
    cname = type(c).__name__
    hidden = bool(getattr(c, "hidden", False))
    if cname == "Hidden":
        inner = _constraint(getattr(c, "constraint", None))
        inner["hidden"] = True
        return inner
    if cname == "Interval" and hasattr(c, "left"):
        return {
            "kind": "interval",
            "type": _type_name(c.type),
            "left": _jsonable(c.left),
            "right": _jsonable(c.right),
            "closed": c.closed,
            "hidden": hidden,
        }
    if cname in ("StrOptions", "Options") and hasattr(c, "options"):
        values = sorted((_jsonable(o) for o in c.options), key=repr)
        deprecated = sorted(_jsonable(o) for o in getattr(c, "deprecated", ()) or ())
        return {"kind": "options", "values": values, "deprecated": deprecated, "hidden": hidden}
    return {"kind": "other", "repr": cname}


def generate() -> dict[str, Any]:
    """The packaged file's content, for every library installed here."""
    libs = {}
    for dist in LIBRARIES:
        if installed_version(dist) is not None:
            libs[dist] = generate_library(dist)
    return {"format": FORMAT, "libraries": libs}


def main(argv: list[str] | None = None) -> int:
    """Regenerate ``estimators.json``: ``python -m automl_yaml.components.metadata``."""
    data = generate()
    text = json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
    tmp = PACKAGED.with_suffix(".json.tmp")
    tmp.write_text(text)
    os.replace(tmp, PACKAGED)
    n = sum(len(lib["estimators"]) for lib in data["libraries"].values())
    print(f"wrote {PACKAGED} ({n} estimators from {', '.join(data['libraries'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
