"""The built-in names of every registry.

This module is light on purpose (no scikit-learn, pandas or optuna import):
validation resolves names here, and only running a step imports the code an
entry points to. Estimators come from the metadata that
:mod:`automl_yaml.components.metadata` keeps for the installed libraries.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from .. import registry as R
from ..errors import UsageError, suggestion_hint

# --------------------------------------------------------------------------- sources
R.sources.register("file", "automl_yaml.data.sources:FileSource", help="CSV/TSV, Parquet, JSON(L), Excel; local or any fsspec URL")
R.sources.register("sql", "automl_yaml.data.sources:SqlSource", help="any SQLAlchemy database (PostgreSQL, SQLite, ...)")
R.sources.register("mongo", "automl_yaml.data.sources:MongoSource", help="a MongoDB collection")
R.sources.register("sample", "automl_yaml.data.sources:SampleSource", help="a data set shipped inside an installed package")
R.sources.register("frame", "automl_yaml.data.sources:FrameSource", help='a pandas DataFrame given from Python: automl_yaml.run(spec, frames={"name": df})')

#: Data sets the ``sample`` source can read offline, and the package that ships each.
SAMPLE_DATASETS = {
    "penguins": ("palmerpenguins", "species", "classification"),
    "iris": ("scikit-learn", "target", "classification"),
    "wine": ("scikit-learn", "target", "classification"),
    "breast_cancer": ("scikit-learn", "target", "classification"),
    "digits": ("scikit-learn", "target", "classification"),
    "diabetes": ("scikit-learn", "target", "regression"),
}

# ------------------------------------------------------------------------ transforms
# Qualified "<kind>:<name>" so one registry serves imputers, scalers, encoders
# and outlier handlers; plugins register e.g. "scale:my_scaler".
_PRE = "automl_yaml.preprocess.transforms"
TRANSFORM_KINDS: dict[str, dict[str, str]] = {
    "impute": {
        "mean": "replace missing numbers by the training mean",
        "median": "replace missing numbers by the training median",
        "most_frequent": "replace missing values by the most frequent training value",
        "constant": "replace missing values by fill_value",
        "knn": "k-nearest-neighbours imputation (KNNImputer)",
        "iterative": "model each column from the others (IterativeImputer)",
        "drop": "drop training rows with missing values (training rows only)",
        "none": "leave missing values (for models that handle NaN)",
    },
    "scale": {
        "standard": "zero mean, unit variance (StandardScaler)",
        "minmax": "to [0, 1] (MinMaxScaler)",
        "robust": "median and IQR (RobustScaler)",
        "maxabs": "to [-1, 1] keeping zeros (MaxAbsScaler)",
        "power": "Yeo-Johnson power transform (PowerTransformer)",
        "quantile": "to a normal distribution by quantiles (QuantileTransformer)",
        "none": "no scaling",
    },
    "encode": {
        "onehot": "one column per category, capped by max_categories (OneHotEncoder)",
        "ordinal": "one integer per category (OrdinalEncoder)",
        "target": "cross-fitted target mean (TargetEncoder)",
        "frequency": "the category's share of the training rows",
        "none": "pass through (for models that handle categories)",
    },
    "outliers": {
        "iqr": "outside [Q1 - factor*IQR, Q3 + factor*IQR]",
        "zscore": "more than factor standard deviations from the mean",
        "isolation_forest": "IsolationForest on the numeric columns (action: drop)",
        "none": "keep outliers",
    },
}
for _kind, _names in TRANSFORM_KINDS.items():
    for _name, _help in _names.items():
        R.transforms.register(f"{_kind}:{_name}", f"{_PRE}:{_kind}", kind=_kind, help=_help)


def transform_names(kind: str) -> list[str]:
    """Registered names of one kind of transform, unqualified (``median``, ...)."""
    prefix = kind + ":"
    return [n[len(prefix) :] for n in R.transforms.names() if n.startswith(prefix)]


# ------------------------------------------------------------------------- selectors
_SEL = "automl_yaml.preprocess.selectors"
for _name, _help in {
    "correlation": "drop one feature of each pair correlated above a threshold",
    "variance": "drop features whose variance is at most a threshold",
    "univariate": "keep the k best (or a percentile) by a univariate test",
    "sequential": "forward/backward (floating) sequential selection (mlxtend)",
    "importance": "keep features important to a random forest or decision tree",
    "rfe": "recursive feature elimination (RFE / RFECV)",
}.items():
    R.selectors.register(_name, f"{_SEL}:{_name}", help=_help)

# ------------------------------------------------------------------------ strategies
for _name, _target, _help in (
    ("grid", "automl_yaml.search.grid:GridSearcher", "every combination (ParameterGrid semantics)"),
    ("random", "automl_yaml.search.grid:RandomSearcher", "seeded random sampling (ParameterSampler semantics)"),
    ("bayesian", "automl_yaml.search.optuna_search:BayesianSearcher", "Gaussian-process Bayesian optimisation"),
    ("genetic", "automl_yaml.search.genetic:GeneticSearcher", "an evolutionary algorithm on DEAP"),
    ("optuna", "automl_yaml.search.optuna_search:OptunaSearcher", "Optuna: TPE, CMA-ES, NSGA-II, QMC; pruning"),
    ("hyperopt", "automl_yaml.search.hyperopt_search:HyperoptSearcher", "Hyperopt: TPE, annealing, random (the hyperopt extra)"),
):
    R.strategies.register(_name, _target, help=_help)

# --------------------------------------------------------------------------- metrics
# Every scikit-learn scorer is a greater-is-better score. Friendly aliases of the
# ``neg_*`` ones are shown as positive losses (sign -1, lower is better).
CLASSIFICATION_ONLY_BINARY = {
    "roc_auc",
    "average_precision",
    "f1",
    "precision",
    "recall",
    "jaccard",
    "neg_brier_score",
    "d2_brier_score",
    "positive_likelihood_ratio",
    "neg_negative_likelihood_ratio",
}
REGRESSION_SCORERS = {
    "explained_variance",
    "r2",
    "neg_max_error",
    "neg_mean_absolute_error",
    "neg_mean_squared_error",
    "neg_root_mean_squared_error",
    "neg_mean_squared_log_error",
    "neg_root_mean_squared_log_error",
    "neg_median_absolute_error",
    "neg_mean_absolute_percentage_error",
    "neg_mean_poisson_deviance",
    "neg_mean_gamma_deviance",
    "d2_absolute_error_score",
    "d2_pinball_score",
    "d2_tweedie_score",
}
CLUSTERING_SCORERS = {
    "adjusted_mutual_info_score",
    "adjusted_rand_score",
    "completeness_score",
    "fowlkes_mallows_score",
    "homogeneity_score",
    "mutual_info_score",
    "normalized_mutual_info_score",
    "rand_score",
    "v_measure_score",
}
CLASSIFICATION_SCORERS = {
    "accuracy",
    "balanced_accuracy",
    "top_k_accuracy",
    "average_precision",
    "neg_brier_score",
    "d2_brier_score",
    "d2_log_loss_score",
    "f1",
    "f1_macro",
    "f1_micro",
    "f1_samples",
    "f1_weighted",
    "neg_log_loss",
    "precision",
    "precision_macro",
    "precision_micro",
    "precision_samples",
    "precision_weighted",
    "recall",
    "recall_macro",
    "recall_micro",
    "recall_samples",
    "recall_weighted",
    "jaccard",
    "jaccard_macro",
    "jaccard_micro",
    "jaccard_samples",
    "jaccard_weighted",
    "roc_auc",
    "roc_auc_ovr",
    "roc_auc_ovo",
    "roc_auc_ovr_weighted",
    "roc_auc_ovo_weighted",
    "matthews_corrcoef",
    "positive_likelihood_ratio",
    "neg_negative_likelihood_ratio",
}
#: Scorers that need predicted probabilities (or a decision function).
NEEDS_SCORES = {n for n in CLASSIFICATION_SCORERS if n.startswith(("roc_auc", "average_precision"))}
NEEDS_PROBA = {"neg_log_loss", "neg_brier_score", "d2_brier_score", "d2_log_loss_score", "top_k_accuracy"}

for _name in sorted(CLASSIFICATION_SCORERS | REGRESSION_SCORERS):
    R.metrics.register(
        _name,
        None,
        scorer=_name,
        task="classification" if _name in CLASSIFICATION_SCORERS else "regression",
        sign=1,
        binary_only=_name in CLASSIFICATION_ONLY_BINARY,
    )
for _alias, _scorer in {
    "rmse": "neg_root_mean_squared_error",
    "mse": "neg_mean_squared_error",
    "mae": "neg_mean_absolute_error",
    "mape": "neg_mean_absolute_percentage_error",
    "medae": "neg_median_absolute_error",
    "rmsle": "neg_root_mean_squared_log_error",
    "max_error": "neg_max_error",
    "log_loss": "neg_log_loss",
    "brier": "neg_brier_score",
}.items():
    R.metrics.register(
        _alias,
        None,
        scorer=_scorer,
        task="classification" if _scorer in CLASSIFICATION_SCORERS else "regression",
        sign=-1,
        binary_only=_scorer in CLASSIFICATION_ONLY_BINARY,
    )
R.metrics.register("auc", None, scorer="roc_auc", task="classification", sign=1, binary_only=True)
# Secondary objectives for multi-objective search (minimised; measured, not scored).
R.metrics.register("fit_time", None, scorer=None, task="any", sign=-1, binary_only=False, objective_only=True)
R.metrics.register("predict_time", None, scorer=None, task="any", sign=-1, binary_only=False, objective_only=True)
R.metrics.register("model_size", None, scorer=None, task="any", sign=-1, binary_only=False, objective_only=True)

DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "classification": "accuracy", "regression": "r2"}

# ------------------------------------------------------------------------ estimators
# Family names that read better than the class names' snake_case.
_FAMILY_ALIASES: dict[str, list[str]] = {
    "svm": ["SVC", "SVR"],
    "linear_svm": ["LinearSVC", "LinearSVR"],
    "knn": ["KNeighborsClassifier", "KNeighborsRegressor"],
    "lightgbm": ["LGBMClassifier", "LGBMRegressor"],
    "lgbm": ["LGBMClassifier", "LGBMRegressor"],
    "xgboost": ["XGBClassifier", "XGBRegressor"],
    "catboost": ["CatBoostClassifier", "CatBoostRegressor"],
    "naive_bayes": ["GaussianNB"],
    "adaboost": ["AdaBoostClassifier", "AdaBoostRegressor"],
    "linear": ["LogisticRegression", "Ridge"],
}

_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``HistGradientBoostingClassifier`` -> ``hist_gradient_boosting_classifier``."""
    return _SNAKE.sub("_", name).lower()


def family_name(class_name: str) -> str:
    """``RandomForestClassifier`` -> ``random_forest``; ``Ridge`` -> ``ridge``."""
    snake = snake_case(class_name)
    for suffix in ("_classifier", "_regressor"):
        if snake.endswith(suffix) and len(snake) > len(suffix):
            return snake[: -len(suffix)]
    return snake


_estimators_loaded = False
_estimators_lock = threading.RLock()  # re-entrant: plugins may ask for names while registering


def ensure_estimators() -> None:
    """Register every estimator known to the metadata (once, on first use).

    Thread-safe: the flag was set before the names were registered, and specs
    loaded from several threads at once (a notebook's runs) saw an empty list
    ("unknown estimator 'decision_tree'") while the first thread filled it.
    """
    global _estimators_loaded
    if _estimators_loaded:
        return
    with _estimators_lock:
        if not _estimators_loaded:
            _register_estimators()
            _estimators_loaded = True


def _register_estimators() -> None:
    from .metadata import load

    meta = load()["estimators"]
    families: dict[str, dict[str, str]] = {}
    for cls_name, info in meta.items():
        target = f"{info['module']}:{cls_name}"
        fam = family_name(cls_name)
        families.setdefault(fam, {}).setdefault(info["task"], target)
        snake = snake_case(cls_name)
        names = {cls_name: target}
        if snake != fam:
            names[snake] = target
        for n, t in names.items():
            if not R.estimators.has(n):
                R.estimators.register(n, None, classes={info["task"]: t}, builtin=True)
    for alias, classes in _FAMILY_ALIASES.items():
        fam = {}
        for cls_name in classes:
            if cls_name in meta:
                fam.setdefault(meta[cls_name]["task"], f"{meta[cls_name]['module']}:{cls_name}")
        if fam:
            families[alias] = fam
    for fam, classes in families.items():
        if R.estimators.has(fam):  # a snake_case name equal to its family (Ridge -> "ridge")
            R.estimators.register(fam, None, classes=classes, builtin=True, replace=True)
        else:
            R.estimators.register(fam, None, classes=classes, builtin=True)


def estimator_classes(name: str) -> dict[str, str]:
    """``{task: "module:Class"}`` for a registered estimator name."""
    ensure_estimators()
    entry = R.estimators.get(name)
    classes = entry.meta.get("classes")
    if classes:
        return dict(classes)
    task = entry.meta.get("task")
    if task is None:
        raise UsageError(f"estimator '{name}' was registered without a task", hint="register it with task=...")
    return {task: entry.target if isinstance(entry.target, str) else f"{entry.target.__module__}:{entry.target.__qualname__}"}


def estimator_info(target: str) -> dict | None:
    """Metadata (params, defaults, constraints) of ``"module:Class"``, if known."""
    from .metadata import load

    return load()["estimators"].get(target.rpartition(":")[2])


def estimator_names() -> list[str]:
    ensure_estimators()
    return R.estimators.names(aliases=True)


def selector_estimator_ok(name: str, tasks: Iterable[str]) -> bool:
    classes = estimator_classes(name)
    return any(t in classes for t in tasks)


# ------------------------------------------------------------- names from other tools
# Names users bring from scikit-learn, PyCaret, FLAML, XGBoost/LightGBM or
# hyperopt. They are not accepted (a spec names registered components, one
# spelling each) but the error says which name this tool uses.

#: Estimator abbreviations of PyCaret (``rf``, ``et``, ``gbc``...) and FLAML (``extra_tree``, ``lrl1``...).
ESTIMATOR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "rf": ("random_forest",),
    "randomforest": ("random_forest",),
    "et": ("extra_trees",),
    "extratrees": ("extra_trees",),
    "dt": ("decision_tree",),
    "tree": ("decision_tree",),
    "lr": ("logistic_regression", "linear_regression"),
    "lrl1": ("logistic_regression",),
    "lrl2": ("logistic_regression",),
    "logreg": ("logistic_regression",),
    "logistic": ("logistic_regression",),
    "gbc": ("gradient_boosting",),
    "gbr": ("gradient_boosting",),
    "gbm": ("gradient_boosting", "lightgbm"),
    "hgb": ("hist_gradient_boosting",),
    "hgbc": ("hist_gradient_boosting",),
    "hgbr": ("hist_gradient_boosting",),
    "ada": ("adaboost",),
    "nb": ("naive_bayes",),
    "kneighbor": ("knn",),
    "rbfsvm": ("svm",),
    "en": ("elastic_net",),
    "elasticnet": ("elastic_net",),
    "lda": ("linear_discriminant_analysis",),
    "qda": ("quadratic_discriminant_analysis",),
    "xgb": ("xgboost",),
    "xgb_limitdepth": ("xgboost",),
    "lgb": ("lightgbm",),
    "light_gbm": ("lightgbm",),
    "cat": ("catboost",),
}

#: Metric names of scikit-learn's functions and of XGBoost/LightGBM's ``eval_metric``.
METRIC_SYNONYMS: dict[str, str] = {
    "logloss": "log_loss",
    "mlogloss": "log_loss",
    "binary_logloss": "log_loss",
    "multi_logloss": "log_loss",
    "cross_entropy": "log_loss",
    "crossentropy": "log_loss",
    "error": "accuracy",
    "binary_error": "accuracy",
    "merror": "accuracy",
    "acc": "accuracy",
    "l1": "mae",
    "l2": "mse",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "root_mean_squared_error": "rmse",
    "mean_absolute_percentage_error": "mape",
    "median_absolute_error": "medae",
    "r_squared": "r2",
    "rsquared": "r2",
    "mcc": "matthews_corrcoef",
    "auc_roc": "roc_auc",
    "rocauc": "roc_auc",
    "macro_f1": "f1_macro",
    "micro_f1": "f1_micro",
    "weighted_f1": "f1_weighted",
}

#: Search strategies of other tools, and what gives the same search here.
STRATEGY_SYNONYMS: dict[str, str] = {
    "tpe": "strategy: optuna (its default sampler is TPE)",
    "cmaes": "strategy: optuna with options: {sampler: cmaes}",
    "cma-es": "strategy: optuna with options: {sampler: cmaes}",
    "nsga2": "strategy: optuna with options: {sampler: nsga2}",
    "hyperband": "strategy: optuna with options: {pruner: hyperband}",
    "bo": "strategy: bayesian",
    "gp": "strategy: bayesian",
    "skopt": "strategy: bayesian",
    "ga": "strategy: genetic",
    "evolutionary": "strategy: genetic",
    "tpot": "strategy: genetic",
    "deap": "strategy: genetic",
    "flaml": "strategy: optuna (cost-aware start from each model's defaults)",
    "cfo": "strategy: optuna (cost-aware start from each model's defaults)",
    "blendsearch": "strategy: optuna (cost-aware start from each model's defaults)",
    "gridsearchcv": "strategy: grid",
    "randomizedsearchcv": "strategy: random",
    "randomized": "strategy: random",
}

#: The task written as other tools write it.
TASK_SYNONYMS: dict[str, str] = {
    "binary": "classification",
    "multiclass": "classification",
    "multi-class": "classification",
    "multiclass_classification": "classification",
    "binary_classification": "classification",
    "classifier": "classification",
    "classify": "classification",
    "clf": "classification",
    "regressor": "regression",
    "regress": "regression",
    "reg": "regression",
}

#: Transform names of scikit-learn and pandas, by kind.
TRANSFORM_SYNONYMS: dict[str, dict[str, str]] = {
    "impute": {
        "mode": "most_frequent",
        "frequent": "most_frequent",
        "zero": "constant (with fill_value: 0)",
        "zeros": "constant (with fill_value: 0)",
        "simpleimputer": "mean, median, most_frequent or constant",
        "knnimputer": "knn",
        "iterativeimputer": "iterative",
        "mice": "iterative",
        "ffill": "most_frequent (rows are shuffled, so there is no order to fill forward in)",
        "dropna": "drop",
    },
    "scale": {
        "zscore": "standard",
        "z-score": "standard",
        "z_score": "standard",
        "standardize": "standard",
        "standardization": "standard",
        "normalize": "minmax (to [0, 1]) or standard (zero mean, unit variance)",
        "normalization": "minmax (to [0, 1]) or standard (zero mean, unit variance)",
        "min_max": "minmax",
        "min-max": "minmax",
        "yeo-johnson": "power",
        "box-cox": "power",
        "log": "power (Yeo-Johnson, which also takes zeros and negatives)",
    },
    "encode": {
        "one_hot": "onehot",
        "one-hot": "onehot",
        "dummies": "onehot",
        "dummy": "onehot",
        "get_dummies": "onehot",
        "label": "ordinal",
        "labelencoder": "ordinal",
        "count": "frequency",
        "mean": "target",
    },
}


def synonym_hint(table: dict[str, Any], name: str, known: Iterable[str] = ()) -> str | None:
    """This tool's name for ``name`` when it is another tool's spelling (``table``),
    differs only in case, or is scikit-learn's function name (``r2_score`` -> ``r2``)."""
    key = name.strip().lower()
    known = set(known)
    if key in table:
        return table[key]
    if key in known:
        return key
    for suffix in ("_score", "score", "_error"):
        stem = key[: -len(suffix)]
        if key.endswith(suffix) and stem in table:
            return table[stem]
        if key.endswith(suffix) and stem in known:
            return stem
    return None


def optional_estimators() -> dict[str, str]:
    """Names of estimators from optional libraries that are not installed -> the package."""
    from .metadata import LIBRARIES, installed_version

    out: dict[str, str] = {}
    for dist, targets in LIBRARIES.items():
        if not targets or installed_version(dist) is not None:
            continue
        classes = [t.partition(":")[2] for t in targets]
        for cls_name in classes:
            for n in (cls_name, snake_case(cls_name), family_name(cls_name)):
                out[n] = dist
        for alias, members in _FAMILY_ALIASES.items():
            if any(m in classes for m in members):
                out[alias] = dist
    return out


def _install_hint(dist: str) -> str:
    if dist in ("lightgbm", "xgboost"):
        return 'pip install "automl-yaml[boost]"'
    if dist == "catboost":
        return 'pip install "automl-yaml[catboost]"'
    return f"pip install {dist}"


_COMMON_ESTIMATORS = (
    "random_forest",
    "extra_trees",
    "gradient_boosting",
    "hist_gradient_boosting",
    "lightgbm",
    "xgboost",
    "logistic_regression",
    "linear_regression",
    "ridge",
    "lasso",
    "svm",
    "knn",
    "decision_tree",
    "naive_bayes",
)


def unknown_estimator(name: str) -> tuple[str, str]:
    """The message and hint for an estimator name that is not registered."""
    ensure_estimators()
    missing = optional_estimators()
    if name in missing:
        dist = missing[name]
        return f"'{name}' needs the optional package '{dist}', which is not installed", _install_hint(dist)
    known = estimator_names()
    message = f"unknown estimator '{name}'"
    if "." in name or ":" in name:
        cls_name = re.split(r"[.:]", name)[-1]
        if cls_name in known:
            return message, f"a spec names estimators, not import paths: write '{cls_name}' (or '{family_name(cls_name)}')"
        if cls_name in missing:
            return message, f"a spec names estimators, not import paths; '{cls_name}' needs '{missing[cls_name]}': {_install_hint(missing[cls_name])}"
    wanted = ESTIMATOR_SYNONYMS.get(name.lower().replace("-", "_"))
    if wanted:
        usable = [w for w in wanted if w in known or w in missing]
        if usable:
            return message, "write " + " or ".join(f"'{w}'" for w in usable) + " (this tool's name; see `mlx list estimators`)"
    hint = suggestion_hint(name, known, what="estimator")
    if not hint.startswith("did you mean"):
        common = [n for n in _COMMON_ESTIMATORS if n in known]
        hint = "known estimator names include " + ", ".join(common) + ", … (`mlx list estimators` lists all)"
    return message, hint
