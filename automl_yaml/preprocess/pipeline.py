"""Compile the ``preprocess`` and ``select`` sections into one scikit-learn pipeline.

:func:`build_pipeline` returns an unfitted estimator that the search clones
and fits inside every cross-validation fold, so every statistic — imputation
values, scaling, outlier bounds, encodings, selected features — is learnt on
the training fold alone: leakage-safe by construction.

The pipeline is::

    Pipeline([
        ("preprocess", ColumnTransformer([...])),   # one part per group of columns
        ("select0", ...), ("select1", ...),         # the select steps, in order
        ("model_names", ModelFeatureNames()),       # LightGBM / XGBoost only
        ("model", estimator),
    ])

with pandas output, so feature names reach the model and
:func:`selected_features` can tell which ones did. Columns that share their
settings share one part of the ``ColumnTransformer`` (``numeric``,
``categorical``, ``boolean``, ``datetime``, ``text``); a column whose
``preprocess.columns`` entry changes its settings gets a part of its own
(``numeric:age``).

When the spec asks to drop rows (``impute: drop``, ``outliers: {action: drop}``)
the pipeline is wrapped in
:class:`~automl_yaml.preprocess.rows.DropTrainingRows`, which drops them from
the training data only: every row to predict gets a prediction.

Defaults, per column type:

* numeric: ``preprocess.numeric`` (median imputation, standard scaling);
* categorical: ``preprocess.categorical`` (most frequent value, one-hot);
* boolean: 0/1, the most frequent value for missing ones, not scaled;
* datetime: the ``preprocess.datetime.parts``, median imputation, then the
  numeric scaling;
* text: ``preprocess.text.encode`` (dropped by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .. import registry as R
from ..errors import DataError, suggestion_hint
from ..spec.loader import dotted
from ..spec.semantic import COLUMN_HINTS, COLUMN_OPTIONS
from ..spec.space import Choice, FloatRange, IntRange, is_space
from . import transforms as T
from .columnwise import BooleanEncoder, DatetimeParts, FrequencyEncoder, MissingAsNaN, ModelFeatureNames, TfidfColumns
from .rows import DropTrainingRows, MissingRows

__all__ = ["build_pipeline", "selected_features", "resolve_option", "unwrap"]

COLUMN_TYPES = ("numeric", "categorical", "boolean", "datetime", "text")

#: Which ``preprocess.columns`` settings apply to which column type, and why not
#: (one table, which mlx validate checks too).
_APPLIES, _HINTS = COLUMN_OPTIONS, COLUMN_HINTS


# ---------------------------------------------------------------------------- options


def resolve_option(value: Any, path: tuple, options: Mapping[str, Any]) -> Any:
    """The value a spec field takes in this pipeline.

    A plain value is returned unchanged. A search space (``Choice``,
    ``IntRange``, ``FloatRange``) is searched: the value the search chose is
    ``options[dotted(path)]`` (e.g. ``options["preprocess.numeric.scale"]``).
    When the search gave none — the pipeline is built outside a search — the
    default is the first choice of a ``Choice`` and the low end of a range.

    Args:
        value: The field's value in the spec.
        path: The field's path, e.g. ``("select", 1, "univariate", "k")``.
        options: The searched values, keyed by dotted path.
    """
    if not is_space(value):
        return value
    key = dotted(path)
    if key in options:
        return options[key]
    if isinstance(value, Choice):
        return value.choice[0]
    if isinstance(value, (IntRange, FloatRange)):
        return value.low
    return value


def _outlier_spec(value: Any, path: tuple, options: Mapping[str, Any]):
    """An OutlierSpec (searched fields resolved) or None."""
    from ..spec.models import OutlierSpec

    value = resolve_option(value, path, options)
    if value is None or value is False or value == "none":
        return None
    if isinstance(value, str):
        value = OutlierSpec(method=value)
    elif isinstance(value, Mapping):
        value = OutlierSpec.model_validate(dict(value))
    if value.method == "none":
        return None
    factor = resolve_option(value.factor, path + ("factor",), options)
    return value.model_copy(update={"factor": factor})


# ----------------------------------------------------------------------- column plan


@dataclasses.dataclass(frozen=True)
class ColumnPlan:
    """How one column is preprocessed (every searched value resolved)."""

    type: str
    impute: str
    fill_value: Any = None
    indicator: bool = False
    scale: str = "none"
    encode: str | None = None
    outliers: tuple | None = None  # (method, factor, contamination, action)

    def key(self) -> tuple:
        return dataclasses.astuple(self)


def _plans(spec, column_types: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, ColumnPlan]:
    pre = spec.preprocess
    target = spec.data.target if getattr(spec, "data", None) is not None else None
    drop = set(spec.data.drop) if getattr(spec, "data", None) is not None else set()
    for col in pre.columns:
        if col not in column_types and col not in drop and col != target:
            raise DataError(
                f"preprocess.columns.{col}: no column '{col}' among the features",
                hint=suggestion_hint(col, column_types, what="column"),
                usage=True,
            )
    num, cat = pre.numeric, pre.categorical
    num_scale = resolve_option(num.scale, ("preprocess", "numeric", "scale"), options)
    plans: dict[str, ColumnPlan] = {}
    for col, inferred in column_types.items():
        ov = pre.columns.get(col)
        if ov is not None and ov.drop:
            continue
        ctype = ov.type if ov is not None and ov.type else inferred
        if ctype == "ignore":
            continue
        if ctype not in COLUMN_TYPES:
            raise DataError(f"column '{col}' has unknown type '{ctype}'", hint="types are " + ", ".join(COLUMN_TYPES), usage=True)
        base = ("preprocess", "columns", col)
        given = ov.model_fields_set - {"type", "drop"} if ov is not None else set()
        for field in sorted(given - _APPLIES[ctype]):
            if field == "fill_value" and getattr(ov, field) is None:
                continue
            raise DataError(
                f"preprocess.columns.{col}.{field}: '{col}' is a {ctype} column, which has no {field}",
                hint=_HINTS.get(field),
                usage=True,
            )

        def pick(field: str, default: Any, default_path: tuple | None, ov=ov, given=given, base=base) -> Any:
            if field in given:
                return resolve_option(getattr(ov, field), base + (field,), options)
            return resolve_option(default, default_path, options) if default_path else default

        if ctype == "numeric":
            out = (
                _outlier_spec(ov.outliers, base + ("outliers",), options)
                if "outliers" in given
                else _outlier_spec(num.outliers, ("preprocess", "numeric", "outliers"), options)
            )
            plan = ColumnPlan(
                "numeric",
                impute=pick("impute", num.impute, ("preprocess", "numeric", "impute")),
                fill_value=pick("fill_value", num.fill_value, None),
                indicator=num.missing_indicator,
                scale=pick("scale", num_scale, None),
                outliers=None if out is None else (out.method, out.factor, out.contamination, out.action),
            )
        elif ctype == "categorical":
            plan = ColumnPlan(
                "categorical",
                impute=pick("impute", cat.impute, ("preprocess", "categorical", "impute")),
                fill_value=pick("fill_value", cat.fill_value, None),
                encode=pick("encode", cat.encode, ("preprocess", "categorical", "encode")),
            )
            if plan.impute in T.NUMERIC_ONLY_IMPUTERS:
                where = f"preprocess.columns.{col}.impute" if "impute" in given else "preprocess.categorical.impute"
                raise DataError(
                    f"{where}: '{plan.impute}' needs numbers and cannot fill the categorical column '{col}'",
                    hint="use most_frequent, constant, drop or none",
                    usage=True,
                )
        elif ctype == "boolean":
            plan = ColumnPlan(
                "boolean",
                impute=pick("impute", "most_frequent", None),
                fill_value=pick("fill_value", None, None),
                scale=pick("scale", "none", None),
            )
        elif ctype == "datetime":
            plan = ColumnPlan(
                "datetime",
                impute=pick("impute", "median", None),
                fill_value=pick("fill_value", None, None),
                scale=pick("scale", num_scale, None),
            )
        else:
            plan = ColumnPlan("text", impute="none", encode=pre.text.encode)
            if plan.encode == "drop":
                continue
        if plan.type != "categorical" and plan.impute == "constant" and plan.fill_value is not None:
            try:
                float(plan.fill_value)
            except (TypeError, ValueError):
                where = f"preprocess.columns.{col}.fill_value" if "fill_value" in given else "preprocess.numeric.fill_value"
                raise DataError(
                    f"{where}: {plan.fill_value!r} is not a number, and '{col}' is a {plan.type} column",
                    hint="give a number, or set `type: categorical`",
                    usage=True,
                ) from None
        plans[col] = plan
    return plans


# ---------------------------------------------------------------------- transformers


def _chain(steps: list[tuple[str, Any]]):
    from sklearn.pipeline import Pipeline

    steps = [(n, s) for n, s in steps if not (isinstance(s, str) and s == T.PASSTHROUGH)]
    if not steps:
        return T.PASSTHROUGH
    if len(steps) == 1:
        return steps[0][1]
    return Pipeline(steps)


def _group_transformer(plan: ColumnPlan, columns: list[str], spec, task: str, seed: int):
    pre = spec.preprocess
    numeric_fill = plan.fill_value if plan.fill_value is not None else None

    def imputer(kind: str):
        return T.make_transform(
            "impute", plan.impute, column_type=kind, fill_value=numeric_fill, missing_indicator=plan.indicator, seed=seed
        )

    if plan.type == "numeric":
        steps = []
        if plan.outliers is not None and plan.outliers[3] == "clip":
            method, factor, contamination, action = plan.outliers
            steps.append(
                (
                    "outliers",
                    T.make_transform(
                        "outliers", method, columns=tuple(columns), factor=factor, contamination=contamination, action=action, seed=seed
                    ),
                )
            )
        steps += [("impute", imputer("numeric")), ("scale", T.make_transform("scale", plan.scale, seed=seed))]
        return _chain(steps)
    if plan.type == "categorical":
        encoder = T.make_transform(
            "encode",
            plan.encode,
            task=task,
            max_categories=pre.categorical.max_categories,
            min_frequency=pre.categorical.min_frequency,
            seed=seed,
        )
        return _chain([("missing", MissingAsNaN()), ("impute", imputer("categorical")), ("encode", encoder)])
    if plan.type == "boolean":
        return _chain(
            [("encode", BooleanEncoder()), ("impute", imputer("numeric")), ("scale", T.make_transform("scale", plan.scale, seed=seed))]
        )
    if plan.type == "datetime":
        return _chain(
            [
                ("parts", DatetimeParts(parts=tuple(pre.datetime.parts))),
                ("impute", imputer("numeric")),
                ("scale", T.make_transform("scale", plan.scale, seed=seed)),
            ]
        )
    if plan.encode == "frequency":
        return FrequencyEncoder()
    return TfidfColumns(max_features=pre.text.max_features)


def _part_name(plan: ColumnPlan, columns: list[str], default: bool, used: set[str]) -> str:
    name = plan.type if default else f"{plan.type}:{columns[0]}" + (f"+{len(columns) - 1}" if len(columns) > 1 else "")
    name = name.replace("__", "_")
    base, i = name, 1
    while name in used:
        i += 1
        name = f"{base}#{i}"
    used.add(name)
    return name


def _default_plans(spec, options: Mapping[str, Any]) -> dict[str, tuple]:
    """The plan key each type gets without a per-column override."""
    keys = {}
    for ctype in COLUMN_TYPES:
        probe = _plans_probe(spec, ctype, options)
        if probe is not None:
            keys[ctype] = probe.key()
    return keys


def _plans_probe(spec, ctype: str, options):
    try:
        plans = _plans(_without_overrides(spec), {"__probe__": ctype}, options)
    except DataError:
        # A group setting that cannot apply (a numeric imputer for categories)
        # already failed for the real columns; with none of that type, no default.
        return None
    return plans.get("__probe__")


def _without_overrides(spec):
    pre = spec.preprocess.model_copy(update={"columns": {}})
    return _SpecView(pre, getattr(spec, "data", None))


@dataclasses.dataclass(frozen=True)
class _SpecView:
    preprocess: Any
    data: Any


# -------------------------------------------------------------------------- selection


def _width(plan: ColumnPlan, spec, task: str) -> int | None:
    """Output columns of one column, when known before fitting."""
    if plan.type == "numeric":
        return None if plan.indicator and plan.impute != "drop" else 1
    if plan.type == "categorical":
        if plan.encode in ("ordinal", "frequency", "none"):
            return 1
        if plan.encode == "target" and task == "regression":
            return 1
        return None
    if plan.type == "boolean":
        return 1
    if plan.type == "datetime":
        return len(spec.preprocess.datetime.parts)
    return 1 if plan.encode == "frequency" else None


def _selection_steps(spec, plans: dict[str, ColumnPlan], task: str, options: Mapping[str, Any], seed: int) -> list[tuple[str, Any]]:
    from ..components import catalog  # noqa: F401 - registers the built-in names

    if not spec.select:
        return []
    native = [c for c, p in plans.items() if p.type == "categorical" and p.encode == "none"]
    if native:
        raise DataError(
            f"select[0]: the selection steps cannot score un-encoded categorical columns ({', '.join(native[:5])})",
            hint="encode them (preprocess.categorical.encode: onehot, ordinal, target or frequency) or remove the select steps",
            usage=True,
        )
    widths = [_width(p, spec, task) for p in plans.values()]
    upper: int | None = None if any(w is None for w in widths) else sum(widths)
    discrete = tuple(c for c, p in plans.items() if (p.type == "categorical" and p.encode == "ordinal") or p.type == "boolean")
    steps = []
    for i, step in enumerate(spec.select):
        kind = next(iter(type(step).model_fields))
        opts = getattr(step, kind)
        where = f"select[{i}].{kind}"
        resolved = {
            name: resolve_option(getattr(opts, name), ("select", i, kind, field.alias or name), options)
            for name, field in type(opts).model_fields.items()
        }
        opts = opts.model_copy(update=resolved)
        upper = _check_count(kind, opts, where, upper)
        factory = R.selectors.get(kind).load()
        steps.append((f"select{i}", factory(opts, task=task, seed=seed, step=where, discrete=discrete)))
    return steps


def _check_count(kind: str, opts, where: str, upper: int | None) -> int | None:
    """Refuse exact feature counts above what can reach the step; return the new upper bound."""

    def too_many(field: str, k: int):
        raise DataError(
            f"{where}.{field}: asks for {k} features but at most {upper} reach this step",
            hint=f"lower {where}.{field}",
            usage=True,
        )

    if kind == "sequential":
        k = opts.k_features
        exact = k[0] if isinstance(k, (tuple, list)) else (k if isinstance(k, int) else None)
        if exact is not None and upper is not None and exact > upper:
            too_many("k_features", exact)
        if isinstance(k, int):
            return k
        if isinstance(k, (tuple, list)):
            return min(k[1], upper) if upper is not None else k[1]
    elif kind == "rfe":
        k = opts.n_features
        if isinstance(k, int) and not isinstance(k, bool):
            if upper is not None and k > upper:
                too_many("n_features", k)
            return k
    elif kind == "univariate":
        k = opts.k
        if isinstance(k, int) and opts.percentile is None:
            return min(k, upper) if upper is not None else k
    elif kind == "importance" and opts.max_features is not None:
        return min(opts.max_features, upper) if upper is not None else opts.max_features
    return upper


# ------------------------------------------------------------------------------ build


def build_pipeline(spec, column_types: dict[str, str], task: str, options: dict[str, object], estimator, *, seed: int):
    """The unfitted pipeline for one configuration of the search.

    Args:
        spec: The validated :class:`~automl_yaml.spec.models.Spec`.
        column_types: Every feature column of X and its type: ``numeric``,
            ``categorical``, ``boolean``, ``datetime`` or ``text`` (``ignore``
            columns are left out).
        task: ``classification`` (y holds integer class codes) or ``regression``.
        options: Values the search chose for searched spec fields, keyed by
            dotted path (``"preprocess.numeric.scale"``, ``"select[1].univariate.k"``);
            see :func:`resolve_option` for fields missing from it.
        estimator: The unfitted model, the pipeline's last step.
        seed: Seeds every random part (iterative imputation, target-encoding
            folds, quantiles, isolation forest, mutual information, selection models).

    Returns:
        A ``sklearn.pipeline.Pipeline`` with pandas output — or, when training
        rows are to be dropped, a
        :class:`~automl_yaml.preprocess.rows.DropTrainingRows` around it.

    Raises:
        DataError: (exit code 2) when the spec and the columns disagree: a
            ``preprocess.columns`` entry naming no column, a setting that does not
            apply to the column's type, a categorical imputer that needs numbers,
            a selector asking for more features than can reach it.
        UsageError: for an unknown transform or selector name.

    Example:
        >>> pipe = build_pipeline(spec, {"age": "numeric", "sex": "categorical"}, "classification", {}, LogisticRegression(), seed=0)
        >>> pipe.fit(X_train, y_train).predict(X_test)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    from ..components import catalog  # noqa: F401 - registers the built-in names

    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    options = dict(options or {})
    plans = _plans(spec, column_types, options)
    if not plans:
        raise DataError(
            "no feature column is left to use", hint="check data.drop, data.types and preprocess.columns (drop: true)", usage=True
        )

    defaults = _default_plans(spec, options)
    groups: dict[tuple, list[str]] = {}
    for col, plan in plans.items():
        groups.setdefault(plan.key(), []).append(col)
    parts, used = [], set()
    for key, columns in groups.items():
        plan = plans[columns[0]]
        name = _part_name(plan, columns, defaults.get(plan.type) == key, used)
        parts.append((name, _group_transformer(plan, columns, spec, task, seed), columns))
    if len(parts) == 1 and len(parts[0][2]) == len(column_types) and list(parts[0][2]) == list(column_types):
        # one treatment for every column (all numeric, say): the group's own
        # transformer, without a ColumnTransformer around it, whose column
        # bookkeeping costs more per fit than imputing and scaling small data
        preprocess = parts[0][1]
    else:
        preprocess = ColumnTransformer(parts, remainder="drop", sparse_threshold=0, verbose_feature_names_out=False)

    steps = [("preprocess", preprocess), *_selection_steps(spec, plans, task, options, seed)]
    if _needs_safe_names(estimator):
        steps.append((NAMES_STEP, ModelFeatureNames()))
    steps.append(("model", estimator))
    pipe = Pipeline(steps).set_output(transform="pandas")

    filters = _row_filters(plans, seed)
    if filters:
        return DropTrainingRows(pipe, filters)
    return pipe


#: The step that renames features for libraries that refuse some names (see ModelFeatureNames).
NAMES_STEP = "model_names"
#: Libraries whose models refuse or merge some feature names.
_NAME_STRICT_LIBRARIES = ("lightgbm", "xgboost")


def _needs_safe_names(estimator) -> bool:
    return type(estimator).__module__.split(".")[0] in _NAME_STRICT_LIBRARIES


def _row_filters(plans: dict[str, ColumnPlan], seed: int) -> list[tuple[str, Any]]:
    filters: list[tuple[str, Any]] = []
    missing = [c for c, p in plans.items() if p.impute == "drop"]
    if missing:
        filters.append(("impute_drop", MissingRows(columns=tuple(missing))))
    by_rule: dict[tuple, list[str]] = {}
    for col, p in plans.items():
        if p.outliers is not None and p.outliers[3] == "drop":
            by_rule.setdefault(p.outliers, []).append(col)
    for i, (rule, columns) in enumerate(by_rule.items()):
        method, factor, contamination, action = rule
        flt = T.make_transform(
            "outliers", method, columns=tuple(columns), factor=factor, contamination=contamination, action=action, seed=seed
        )
        filters.append(("outliers_drop" if i == 0 else f"outliers_drop{i}", flt))
    return filters


# ---------------------------------------------------------------------------- results


def unwrap(fitted):
    """The ``Pipeline`` inside a :class:`DropTrainingRows` (fitted if it was), else ``fitted``."""
    if isinstance(fitted, DropTrainingRows):
        return getattr(fitted, "estimator_", fitted.estimator)
    return fitted


def selected_features(fitted) -> list[str]:
    """The names of the features that reach the model, after preprocessing and selection.

    Args:
        fitted: A fitted pipeline from :func:`build_pipeline`.
    """
    pipe = unwrap(fitted)
    # The names the user knows: before a model library's renaming, if any.
    end = -2 if NAMES_STEP in pipe.named_steps else -1
    return [str(n) for n in pipe[:end].get_feature_names_out()]
