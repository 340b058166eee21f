"""The spec language as pydantic models: the single source of truth.

``mlx schema`` exports these models as JSON Schema (``schemas/spec.schema.json``)
and ``docs/spec-reference.md`` is generated from that schema, so every field is
documented once, here, in ``Field(description=...)``.

Unknown keys are errors everywhere (``extra="forbid"``); instances are frozen.
Closed sets (source kind, search strategy, split kind) are discriminated
unions. Open sets — estimators, transforms, selectors, metrics — are strings
checked against the registries, so that plugins can add names.
"""

# (no `from __future__ import annotations`: pydantic would eval every annotation string at import)

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .. import registry as R
from ..errors import suggestion_hint
from .space import ParamValue, SearchableFloat, SearchableInt, StrictModel, searchable

CURRENT_VERSION = 1

# ----------------------------------------------------------------------------- helpers

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


_UNIT_WORDS = {
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
}


def _duration_words(text: str) -> str | None:
    """``2 hours`` -> ``2h``, ``90sec`` -> ``90s``, ISO 8601 ``PT10M`` -> ``10m``; None if not such a text."""
    iso = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text.upper())
    if iso and any(iso.groups()):
        return "".join(f"{v}{u}" for v, u in zip(iso.groups(), "dhms") if v)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*,?\s*(?:and\s+)?", text)
    if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*,?\s*(?:and\s+)?", "", text).strip():
        return None
    units = [_UNIT_WORDS.get(u.lower()) for _, u in parts]
    return "".join(f"{v}{u}" for (v, _), u in zip(parts, units)) if all(units) else None


def parse_duration(value: Any) -> Any:
    """``"1h30m"``, ``"10m"``, ``"90s"``, ``"2d"`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        return value  # let the float validator reject it
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        m = _DURATION.match(text)
        if m and any(m.groups()):
            d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            return d * 86400 + h * 3600 + mi * 60 + s
        hint = "write seconds (90) or a duration such as 90s, 10m, 1h30m, 2d"
        fixed = _duration_words(text)
        if fixed:
            hint = f"write {fixed}"
        raise PydanticCustomError("duration", "'{value}' is not a duration", {"value": value, "hint": hint})
    return value


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(gt=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*[dhms]\s*)+$|^\d+(\.\d+)?$"},
            ],
            "description": "Seconds, or a duration such as 90s, 10m, 1h30m.",
        }
    ),
]


def _registered(family: R.Registry, *, qualify: str | None = None, extra: tuple[str, ...] = ()):
    """An after-validator checking a name against a registry."""

    def check(name: str) -> str:
        if name in extra:
            return name
        key = f"{qualify}:{name}" if qualify else name
        if family is R.estimators:
            from ..components.catalog import ensure_estimators

            ensure_estimators()
        if key not in family:
            from ..components import catalog

            known = family.names(aliases=True)
            if qualify:
                known = [k.split(":", 1)[1] for k in known if k.startswith(qualify + ":")]
            known = sorted(set(known) | set(extra))
            message = "unknown {family} '{name}'"
            hint = suggestion_hint(name, known)
            if family is R.estimators:
                message, hint = catalog.unknown_estimator(name)
                message = message.replace("{", "{{").replace("}", "}}")
            else:
                table = catalog.TRANSFORM_SYNONYMS.get(qualify or "", {}) if family is R.transforms else {}
                if family is R.metrics:
                    table = catalog.METRIC_SYNONYMS
                wanted = catalog.synonym_hint(table, name, known)
                if wanted is not None:
                    hint = f"write {wanted} (this tool's name for it)"
            raise PydanticCustomError(
                "unknown_name",
                message,
                {"family": f"{qualify} method" if qualify else family.family, "name": name, "hint": hint},
            )
        return name

    return AfterValidator(check)


def _examples(kind: str) -> list[str]:
    from ..components.catalog import TRANSFORM_KINDS

    return list(TRANSFORM_KINDS[kind])


def _transform_name(kind: str, description: str):
    return Annotated[str, _registered(R.transforms, qualify=kind), Field(description=description, examples=_examples(kind))]


ImputeName = _transform_name("impute", "How to fill missing values.")
ScaleName = _transform_name("scale", "How to scale numeric columns.")
EncodeName = _transform_name("encode", "How to turn categories into numbers.")
OutlierName = _transform_name("outliers", "How to find outliers.")
EstimatorName = Annotated[str, _registered(R.estimators), Field(description="A registered estimator name (see `mlx list estimators`).")]
MetricName = Annotated[str, _registered(R.metrics), Field(description="A scikit-learn scorer name or alias (see `mlx list metrics`).")]
ColumnType = Literal["numeric", "categorical", "boolean", "datetime", "text", "ignore"]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$", max_length=100)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


StrList = Annotated[
    list[str],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]

# ----------------------------------------------------------------------------- sources


class _SourceBase(StrictModel):
    cache: bool = Field(True, description="Cache the loaded table as Parquet under the output folder, keyed by the source's fingerprint.")


class FileSource(_SourceBase):
    """A file: local path or any fsspec URL (``s3://``, ``https://``, ...)."""

    kind: Literal["file"] = "file"
    path: str = Field(description="A local path (relative to the spec's folder) or a URL: s3://, https://, gs://, ...")
    format: Literal["csv", "tsv", "parquet", "json", "jsonl", "excel"] | None = Field(
        None, description="The file format; by default, from the suffix (.csv, .tsv, .parquet, .json, .jsonl, .xlsx, also compressed .gz/.zip/...)."
    )
    sep: str | None = Field(None, description="CSV/TSV field separator; by default a comma (a tab for TSV), or the ';', tab or '|' a CSV file's first line uses when it has no comma.")
    encoding: str | None = Field(None, description="Text encoding; by default UTF-8, or Windows-1252 (else Latin-1) for a CSV/TSV file that is not valid UTF-8.")
    sheet: str | int | None = Field(None, description="Excel sheet name or 0-based index.")
    columns: StrList | None = Field(None, description="Read only these columns.")
    dtypes: dict[str, str] | None = Field(None, description="Column types to read with, e.g. {zip: string}.")
    options: dict[str, Any] = Field(default_factory=dict, description="More keyword arguments for the pandas reader (read_csv, read_parquet, ...).")
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="fsspec options for remote paths, e.g. {anon: true} or {endpoint_url: ..., key: ${AWS_ACCESS_KEY_ID}}.",
    )


class SqlSource(_SourceBase):
    """A table or a query in any SQLAlchemy database."""

    kind: Literal["sql"] = "sql"
    url: str = Field(description="An SQLAlchemy URL, e.g. postgresql://${PGUSER}:${PGPASSWORD}@host:5432/db or sqlite:///file.db.")
    table: str | None = Field(None, description="Read this whole table (optionally schema.table).")
    query: str | None = Field(None, description="Read the result of this SELECT; use :name placeholders with `params`.")
    params: dict[str, Any] = Field(default_factory=dict, description="Values bound to the query's :name placeholders.")
    db_schema: str | None = Field(None, alias="schema", description="The database schema of `table`.")
    chunksize: int = Field(100_000, gt=0, description="Rows fetched per round trip.")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of `table` or `query`")
        return self


class MongoSource(_SourceBase):
    """A MongoDB collection; nested documents become dotted columns (``a.b``)."""

    kind: Literal["mongo"] = "mongo"
    uri: str = Field(description="A MongoDB connection string, e.g. ${MONGO_URI}.")
    database: str = Field(description="The database name.")
    collection: str = Field(description="The collection name.")
    filter: dict[str, Any] = Field(default_factory=dict, description="A MongoDB query filter, e.g. {year: {$gte: 2020}}.")
    projection: dict[str, Any] | StrList | None = Field(None, description="Fields to read (a list, or a MongoDB projection).")
    sort: dict[str, Literal[1, -1]] | None = Field(None, description="Sort order, e.g. {date: 1}.")
    limit: int | None = Field(None, ge=1, description="Read at most this many documents.")
    include_id: bool = Field(False, description="Keep the _id field as a column.")


class SampleSource(_SourceBase):
    """A data set shipped inside an installed package (offline demos and tests)."""

    kind: Literal["sample"] = "sample"
    name: Literal["penguins", "iris", "wine", "breast_cancer", "digits", "diabetes"] = Field(
        description="penguins (palmerpenguins), or a scikit-learn bundled set."
    )


class FrameSource(StrictModel):
    """A pandas DataFrame given from Python: ``automl_yaml.run("spec.yaml", frames={"train": df})``,
    or in place of the source in a spec mapping: ``{"sources": {"train": df}, ...}``. The command line cannot give one."""

    kind: Literal["frame"] = "frame"
    description: str | None = Field(None, description="What the DataFrame holds (free text); the frame itself is given at run time, never in the spec.")


SOURCE_KINDS = ("file", "sql", "mongo", "sample", "frame")


def _source_tag(value: Any) -> str | None:
    if isinstance(value, StrictModel):
        return getattr(value, "kind", None)
    if not isinstance(value, dict):
        return "file" if isinstance(value, str) else None
    if "kind" in value:
        kind = value["kind"]
        return kind if isinstance(kind, str) and kind in SOURCE_KINDS else "bad-kind"
    if "path" in value:
        return "file"
    if "url" in value or "query" in value or "table" in value:
        return "sql"
    if "uri" in value or "collection" in value:
        return "mongo"
    return None


def _source_shorthand(value: Any) -> Any:
    return {"kind": "file", "path": value} if isinstance(value, str) else value


Source = Annotated[
    Union[
        Annotated[FileSource, Tag("file")],
        Annotated[SqlSource, Tag("sql")],
        Annotated[MongoSource, Tag("mongo")],
        Annotated[SampleSource, Tag("sample")],
        Annotated[FrameSource, Tag("frame")],
    ],
    Discriminator(
        _source_tag,
        custom_error_type="source_kind",
        custom_error_message="cannot tell the kind of this source",
    ),
    BeforeValidator(_source_shorthand),
]

# -------------------------------------------------------------------------------- data


class JoinSpec(StrictModel):
    """Join another source onto the table built so far (pandas ``merge``)."""

    source: str = Field(description="The name of a source defined in `sources`.")
    on: StrList | None = Field(None, description="Key column(s) present in both tables.")
    left_on: StrList | None = Field(None, description="Key column(s) of the left table.")
    right_on: StrList | None = Field(None, description="Key column(s) of the joined source.")
    how: Literal["inner", "left", "right", "outer"] = Field("inner", description="Which rows to keep.")
    validate_: Literal["one_to_one", "many_to_one", "one_to_many", "many_to_many"] = Field(
        "many_to_one",
        alias="validate",
        description="The expected relation; the default refuses joins that would repeat rows of the left table.",
    )

    @model_validator(mode="after")
    def _keys(self):
        for name in ("on", "left_on", "right_on"):
            keys = getattr(self, name)
            if keys is not None and (not keys or not all(k.strip() for k in keys)):
                # `on: []` passed as "given" and reached pandas as no key at all
                raise PydanticCustomError(
                    "field_error",
                    "`{field}` names no column" if not keys else "`{field}` has an empty column name",
                    {"field": name, "hint": "name the key column(s) both tables share, e.g. on: id"},
                )
        if self.on is None and (self.left_on is None or self.right_on is None):
            raise ValueError("give `on`, or both `left_on` and `right_on`")
        if self.on is not None and (self.left_on is not None or self.right_on is not None):
            raise ValueError("give either `on` or `left_on`/`right_on`, not both")
        if self.left_on is not None and self.right_on is not None and len(self.left_on) != len(self.right_on):
            raise ValueError("`left_on` and `right_on` must name as many columns")
        return self


class SplitSpec(StrictModel):
    """How the held-out test set is cut. The search never sees it."""

    by: Literal["random", "group", "time"] = Field(
        "random", description="random (stratified for classification), group (no group in both sets) or time (the latest rows are the test set)."
    )
    test_size: Annotated[float, Field(gt=0, lt=1)] | Annotated[int, Field(ge=1)] = Field(
        0.2, description="The test share (0 < x < 1) or a number of rows."
    )
    stratify: bool | None = Field(
        None,
        description="Keep class shares in the training and test sets (classification only). Default: yes for a random split; "
        "a group split is stratified only with stratify: true, and its test set is then one fold of StratifiedGroupKFold "
        "(a share of 1/k, k = round(1/test_size)). The cross-validation folds of a classification target are stratified either way.",
    )
    column: str | None = Field(None, description="The group column (by: group) or the time column (by: time).")
    shuffle: bool = Field(True, description="Shuffle before a random split.")

    @field_validator("test_size", mode="before")
    @classmethod
    def _test_size(cls, v):
        # 1.0 was read as one test row (an integer), and 1.0 as a share is the whole table
        if isinstance(v, float) and v >= 1:
            raise PydanticCustomError(
                "test_size",
                "`test_size` is neither a share (below 1) nor a number of rows (an integer)",
                {"value": v, "hint": "a share: test_size: 0.2; a number of rows, without a decimal point: test_size: 50"},
            )
        return v

    @model_validator(mode="after")
    def _column(self):
        if self.by in ("group", "time") and not self.column:
            what = "the column holding each row's group (a customer id, say)" if self.by == "group" else "the date or time column that orders the rows"
            raise PydanticCustomError(
                "value_error",
                "`column` is required for `by: {by}`",
                {"by": self.by, "hint": f"name {what}: split: {{by: {self.by}, column: <name>}}"},
            )
        if self.by == "random" and self.column:
            raise ValueError("`column` is only used with `by: group` or `by: time`")
        if self.by == "time" and self.stratify:
            raise PydanticCustomError(
                "field_error",
                "a time split cannot be stratified",
                {"field": "stratify", "hint": "remove stratify: the latest rows are the test set, whatever their classes"},
            )
        return self


class DataSpec(StrictModel):
    """How sources become one table with a target, and how it is split."""

    from_: str | None = Field(None, alias="from", description="The main source; may be omitted when there is only one.")
    join: list[JoinSpec] = Field(default_factory=list, description="Sources joined onto the main one, in order.")
    target: str = Field(description="The column to predict.")
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="auto infers it from the target (type and number of distinct values)."
    )
    drop: StrList = Field(default_factory=list, description="Columns never used as features (ids, leaks).")
    types: dict[str, ColumnType] = Field(
        default_factory=dict,
        description="Override the inferred type of some columns. datetime reads text dates and numbers written as yyyymmdd (20240131); "
        "other numbers typed datetime (a Unix time), or dates typed numeric, are an error.",
    )
    positive: str | int | bool | None = Field(None, description="The positive class of a binary target (for roc_auc, f1, ...).")
    split: SplitSpec = Field(default_factory=SplitSpec, description="The held-out test split.")

    @model_validator(mode="after")
    def _target_kept(self):
        if self.target in self.drop:
            raise PydanticCustomError(
                "target_dropped",
                "the target '{target}' is also in `drop`",
                {"target": self.target, "hint": "remove it from data.drop"},
            )
        return self


# ----------------------------------------------------------------------------- profile


class ProfileSpec(StrictModel):
    """The exploratory report."""

    enabled: bool = Field(True, description="Write the profile.")
    sample: int | None = Field(200_000, ge=100, description="Profile at most this many rows (a seeded sample); null for all.")
    plots: bool = Field(True, description="Write PNG plots.")
    html: bool = Field(True, description="Write the self-contained HTML page.")
    top_correlations: int = Field(10, ge=1, description="How many of the strongest relations with the target to list.")


# -------------------------------------------------------------------------- preprocess


class OutlierSpec(StrictModel):
    """Outlier handling, learnt on the training fold only."""

    method: OutlierName = "iqr"
    factor: SearchableFloat | None = Field(None, description="IQR multiplier (default 1.5) or z-score threshold (default 3).")
    contamination: float | Literal["auto"] = Field("auto", description="IsolationForest's expected outlier share.")
    action: Literal["clip", "drop"] = Field("clip", description="clip values to the bounds, or drop outlier rows from the training fold.")

    @model_validator(mode="after")
    def _action(self):
        if self.method == "isolation_forest" and self.action == "clip":
            raise ValueError("isolation_forest flags rows, it has no bounds to clip to: use `action: drop`")
        return self


def _outlier_shorthand(v: Any) -> Any:
    """``none`` -> None, ``iqr`` -> ``{method: iqr}`` (``isolation_forest`` drops rows: its only action)."""
    if v is False or v == "none":
        return None
    if isinstance(v, str):
        return {"method": v, "action": "drop"} if v == "isolation_forest" else {"method": v}
    return v


def _outliers(v: Any) -> Any:
    # the shorthand holds inside a choice too: {choice: [none, iqr]}
    if isinstance(v, dict) and set(v) == {"choice"} and isinstance(v["choice"], list):
        return {"choice": [_outlier_shorthand(x) for x in v["choice"]]}
    return _outlier_shorthand(v)


OutlierValue = Annotated[
    searchable(Union[OutlierSpec, None], description="Outlier handling; null or 'none' for none."),
    BeforeValidator(_outliers),
]


class NumericSpec(StrictModel):
    """Numeric columns."""

    impute: searchable(ImputeName) = "median"
    fill_value: float = Field(0.0, description="The value of `impute: constant`.")
    missing_indicator: bool = Field(False, description="Add a 0/1 column marking each column's missing values.")
    outliers: OutlierValue = None
    scale: searchable(ScaleName) = "standard"


class CategoricalSpec(StrictModel):
    """Categorical columns (strings, categories, booleans, low-cardinality integers you type as categorical)."""

    impute: searchable(ImputeName) = "most_frequent"
    fill_value: str = Field("missing", description="The value of `impute: constant`.")
    encode: searchable(EncodeName) = "onehot"
    max_categories: int | None = Field(20, ge=2, description="One-hot: keep at most this many categories per column (rarer ones share a column).")
    min_frequency: Annotated[float, Field(gt=0, lt=1)] | Annotated[int, Field(ge=1)] | None = Field(
        None, description="Group categories rarer than this share or count into one 'rare' category."
    )


DatetimePart = Literal["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "quarter", "is_weekend", "timestamp"]


class DatetimeSpec(StrictModel):
    """Datetime columns are expanded into numeric parts."""

    parts: list[DatetimePart] = Field(
        default_factory=lambda: ["year", "month", "day", "dayofweek"], min_length=1, description="The parts to extract."
    )


class TextSpec(StrictModel):
    """Free-text columns: strings of several words with many distinct values (comments, descriptions), or long strings."""

    encode: Literal["drop", "frequency", "tfidf"] = Field("drop", description="drop them, encode each value by its frequency, or TF-IDF features.")
    max_features: int = Field(100, ge=1, description="tfidf: the number of terms kept per column.")


class ColumnOverride(StrictModel):
    """Settings for one column, overriding its group's."""

    type: ColumnType | None = Field(None, description="Treat the column as this type.")
    impute: searchable(ImputeName) | None = None
    fill_value: float | str | None = None
    scale: searchable(ScaleName) | None = None
    encode: searchable(EncodeName) | None = None
    outliers: OutlierValue = None
    drop: bool = Field(False, description="Do not use this column.")


class PreprocessSpec(StrictModel):
    """Preprocessing, compiled into a scikit-learn pipeline fitted inside every CV fold."""

    numeric: NumericSpec = Field(default_factory=NumericSpec)
    categorical: CategoricalSpec = Field(default_factory=CategoricalSpec)
    datetime: DatetimeSpec = Field(default_factory=DatetimeSpec)
    text: TextSpec = Field(default_factory=TextSpec)
    columns: dict[str, ColumnOverride] = Field(default_factory=dict, description="Per-column overrides.")


# ------------------------------------------------------------------------------ select


class CorrelationSelect(StrictModel):
    threshold: SearchableFloat = Field(0.95, description="Drop one feature of each pair with |correlation| above this.")
    method: Literal["pearson", "spearman", "kendall"] = "pearson"


class VarianceSelect(StrictModel):
    threshold: SearchableFloat = Field(0.0, description="Drop features whose training variance is at most this.")


class UnivariateSelect(StrictModel):
    score: Literal["auto", "f_classif", "f_regression", "chi2", "mutual_info"] = Field(
        "auto", description="The test; auto picks f_classif or f_regression by task."
    )
    k: SearchableInt | Literal["all"] | None = Field(None, description="Keep the k best features (default 10, or all when fewer).")
    percentile: SearchableFloat | None = Field(None, description="Keep this percentage of features instead of k.")

    @model_validator(mode="after")
    def _one(self):
        if self.k is not None and self.percentile is not None:
            raise ValueError("give `k` or `percentile`, not both")
        return self


KFeatures = Union[Annotated[int, Field(ge=1)], tuple[int, int], Literal["best", "parsimonious"]]


class SequentialSelect(StrictModel):
    direction: Literal["forward", "backward"] = "forward"
    floating: bool = Field(False, description="Floating variant (SFFS / SBFS).")
    k_features: searchable(KFeatures) = Field(
        "best", description="A number, a [min, max] range, 'best' or 'parsimonious' (mlxtend's k_features)."
    )
    estimator: searchable(Union[EstimatorName, Literal["auto"]]) = Field(
        "auto", description="The model that scores subsets; auto: logistic/linear regression. Searchable: {choice: [auto, random_forest]}."
    )
    cv: int = Field(3, ge=0, description="Folds used to score each subset (0: none).")


class ImportanceSelect(StrictModel):
    estimator: searchable(EstimatorName) = Field(
        "random_forest",
        description="random_forest, decision_tree, extra_trees, or any model with feature importances or coefficients. Searchable: {choice: [random_forest, extra_trees]}.",
    )
    threshold: searchable(Union[float, str]) = Field("median", description="Keep features above this importance: a number, 'mean', 'median' or '1.5*mean'.")
    max_features: SearchableInt | None = Field(None, description="Keep at most this many features.")


class RfeSelect(StrictModel):
    estimator: searchable(Union[EstimatorName, Literal["auto"]]) = Field("auto", description="A model with feature importances or coefficients; auto: logistic/linear regression.")
    n_features: SearchableInt | SearchableFloat | None = Field(None, description="Features to keep (a count or a share); default: half.")
    step: Annotated[int, Field(ge=1)] | Annotated[float, Field(gt=0, lt=1)] = 1
    cv: int = Field(0, ge=0, description="With cv >= 2, choose the number of features by cross-validation (RFECV).")


_SELECTORS = {
    "correlation": CorrelationSelect,
    "variance": VarianceSelect,
    "univariate": UnivariateSelect,
    "sequential": SequentialSelect,
    "importance": ImportanceSelect,
    "rfe": RfeSelect,
}


def _step_model(name: str, options: type) -> type:
    return type(
        f"{name.capitalize()}Step",
        (StrictModel,),
        {
            "__annotations__": {name: options},
            name: Field(default_factory=options, description=R.selectors.get(name).meta.get("help")),
            "__doc__": f"The `{name}` selector.",
            "__module__": __name__,
        },
    )


_STEP_MODELS = {name: _step_model(name, opts) for name, opts in _SELECTORS.items()}
globals().update({m.__name__: m for m in _STEP_MODELS.values()})  # importable by name: picklable


def _select_tag(value: Any) -> str | None:
    if isinstance(value, StrictModel):
        return next(iter(type(value).model_fields))
    if isinstance(value, str):
        return value if value in _STEP_MODELS else "unknown"
    if isinstance(value, dict) and len(value) == 1:
        name = next(iter(value))
        return name if name in _STEP_MODELS else "unknown"
    return None


def _select_shorthand(value: Any) -> Any:
    if isinstance(value, str) and value in _STEP_MODELS:
        return {value: {}}
    if isinstance(value, dict) and len(value) == 1:
        name, opts = next(iter(value.items()))
        if opts is None and name in _STEP_MODELS:
            return {name: {}}
    return value


SelectStep = Annotated[
    Union[tuple(Annotated[m, Tag(n)] for n, m in _STEP_MODELS.items())],
    Discriminator(
        _select_tag,
        custom_error_type="selector",
        custom_error_message="a select step is a mapping with one selector name",
    ),
    BeforeValidator(_select_shorthand),
]

# ------------------------------------------------------------------------------ models


class ModelSpec(StrictModel):
    """A candidate model and its search space."""

    estimator: EstimatorName | None = Field(None, description="The registered estimator; default: the entry's key.")
    params: dict[str, ParamValue] | None = Field(
        None,
        description="Hyperparameters: fixed values or search spaces. Omitted: the built-in search space of the model zoo; {}: the estimator's defaults.",
    )
    probabilities: bool = Field(
        True,
        description=(
            "Classification: the model handed back gives class probabilities (`mlx predict --proba`). A model without its own "
            "(svm, linear_svm, ridge_classifier...) is calibrated on cross-validated scores, which costs about 5 more fits of the "
            "final model; false: labels only."
        ),
    )


def _model_entry(value: Any) -> Any:
    return ModelSpec() if value is None else value


def _models_shorthand(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return {n: None for n in value}
    if isinstance(value, dict):
        keys = list(value)
        for i, key in enumerate(keys):
            if isinstance(key, str) and key.startswith("x-"):
                hint = "a block that only holds a YAML anchor belongs at the top level, where x- keys are ignored: x-rf: &rf {...}, then random_forest: *rf"
                raise PydanticCustomError("misplaced_key", "'{key}' is not a model name", {"key": key, "hint": hint})
            if key in ("params", "estimator"):
                before = keys[i - 1] if i else None
                hint = (
                    f"indent `{key}:` under `{before}:` (two more spaces)"
                    if before is not None and value[before] is None
                    else f"`{key}` belongs inside a model's entry: models: {{random_forest: {{{key}: ...}}}}"
                )
                raise PydanticCustomError("misplaced_key", "'{key}' is not a model name", {"key": key, "hint": hint})
    return value


ModelsField = Annotated[
    dict[str, Annotated[ModelSpec, BeforeValidator(_model_entry)]],
    BeforeValidator(_models_shorthand),
]

# ------------------------------------------------------------------------------ search


class CVSpec(StrictModel):
    """Cross-validation inside the search; the kind follows `data.split`: StratifiedKFold (classification) or KFold;
    for a group split StratifiedGroupKFold (classification) or GroupKFold; for a time split TimeSeriesSplit.
    Left out of the spec, the data and the budget decide (FLAML's rule): 5-fold CV, or one holdout split when
    training rows × features are many for `budget.time` (2,500 a second) or the training rows are 100,000 or more;
    `mlx plan` and summary.json say which and why. Written (even `cv: {}`), it is always used."""

    folds: int = Field(5, ge=2, le=100, description="The number of folds. Left unset, 5, or fewer when a class has fewer training rows or a regression too few for 2 rows in every fold (at least 2; the run says so).")
    repeats: int = Field(1, ge=1, le=100, description="Repeat with other shuffles (repeated k-fold).")
    shuffle: bool = Field(True, description="Shuffle before splitting (random splits only).")


class Budget(StrictModel):
    """When the search stops: whichever limit comes first. Limits are hard."""

    trials: int | None = Field(None, ge=1, description="At most this many trials (default 50; a grid: its size).")
    time: Duration | None = Field(None, description="Wall-clock limit: no trial starts after it and running ones are stopped.")
    trial_timeout: Duration | None = Field(None, description="Stop a trial running longer than this (recorded as 'timeout'; the search goes on).")
    patience: int | None = Field(None, ge=1, description="Stop after this many trials without improvement.")


class _SearchBase(StrictModel):
    metric: MetricName | list[MetricName] | None = Field(
        None, description="The score to optimise; a list for multi-objective (e.g. [roc_auc, fit_time]). Default: roc_auc (binary), accuracy (multiclass), r2 (regression)."
    )
    cv: CVSpec = Field(default_factory=CVSpec)
    budget: Budget = Field(default_factory=Budget)

    @field_validator("metric")
    @classmethod
    def _metrics(cls, v):
        if isinstance(v, list):
            if not v:
                raise ValueError("give at least one metric")
            if len(set(v)) != len(v):
                raise ValueError("a metric is listed twice")
            if R.metrics.get(v[0]).meta.get("objective_only"):
                raise ValueError(f"the first metric must be a score, not '{v[0]}'")
        elif v is not None and R.metrics.get(v).meta.get("objective_only"):
            raise ValueError(f"'{v}' can only be a secondary objective: metric: [roc_auc, {v}]")
        return v

    def metrics(self) -> list[str]:
        m = self.metric
        return [] if m is None else ([m] if isinstance(m, str) else list(m))


class GridOptions(StrictModel):
    pass


class RandomOptions(StrictModel):
    pass


class BayesianOptions(StrictModel):
    n_startup_trials: int = Field(10, ge=1, description="Random trials before the Gaussian process takes over.")
    deterministic: bool = Field(False, description="Assume noise-free scores.")


class GeneticOptions(StrictModel):
    population: int = Field(20, ge=2, description="Individuals per generation.")
    generations: int = Field(10, ge=1, description="Generations to evolve (the trial budget can stop it earlier).")
    crossover: float = Field(0.7, ge=0, le=1, description="Probability that two parents mate.")
    mutation: float = Field(0.3, ge=0, le=1, description="Probability that an individual mutates.")
    gene_mutation: float = Field(0.2, gt=0, le=1, description="Probability that each gene of a mutating individual changes.")
    tournament: int = Field(3, ge=2, description="Tournament size for selection.")
    elite: int = Field(1, ge=0, description="Best individuals carried over unchanged (hall of fame).")

    @model_validator(mode="after")
    def _sizes(self):
        if self.elite >= self.population:
            raise ValueError(f"`elite` must be < `population`, but got (elite={self.elite}, population={self.population})")
        if self.tournament > self.population:
            raise ValueError(f"`tournament` must be <= `population`, but got (tournament={self.tournament}, population={self.population})")
        return self


class OptunaOptions(StrictModel):
    sampler: Literal["tpe", "cmaes", "nsga2", "qmc", "random", "gp"] = Field("tpe", description="The Optuna sampler.")
    pruner: Literal["median", "successive_halving", "hyperband", "none"] = Field(
        "median", description="Stop unpromising trials early, on their per-fold scores."
    )
    n_startup_trials: int = Field(10, ge=0, description="Trials before the sampler and the pruner start to act.")
    multivariate: bool = Field(True, description="TPE: model parameters jointly.")


class HyperoptOptions(StrictModel):
    algorithm: Literal["tpe", "anneal", "rand"] = Field("tpe", description="Hyperopt's algorithm: tpe (tpe.suggest), anneal (anneal.suggest) or rand (rand.suggest).")
    n_startup_trials: int = Field(20, ge=1, description="tpe: random trials before TPE takes over (Hyperopt's n_startup_jobs).")


def _strategy_model(name: str, options: type, doc: str) -> type:
    return type(
        f"{name.capitalize()}Search",
        (_SearchBase,),
        {
            "__annotations__": {"strategy": Literal[name], "options": options},
            "strategy": Field(name, description="The search strategy."),
            "options": Field(default_factory=options, description=f"Options of the {name} strategy."),
            "__doc__": doc,
            "__module__": __name__,
        },
    )


GridSearch = _strategy_model("grid", GridOptions, "Every combination of the (discrete) search space.")
RandomSearch = _strategy_model("random", RandomOptions, "Seeded random sampling.")
BayesianSearch = _strategy_model("bayesian", BayesianOptions, "Gaussian-process Bayesian optimisation (Optuna's GPSampler; needs PyTorch).")
GeneticSearch = _strategy_model("genetic", GeneticOptions, "An evolutionary algorithm (DEAP).")
OptunaSearch = _strategy_model("optuna", OptunaOptions, "Optuna with a chosen sampler and pruner.")
HyperoptSearch = _strategy_model("hyperopt", HyperoptOptions, "Hyperopt: TPE, annealing or random search (needs the hyperopt extra); with several metrics, the first one steers the search.")
_STRATEGIES = {
    "grid": GridSearch,
    "random": RandomSearch,
    "bayesian": BayesianSearch,
    "genetic": GeneticSearch,
    "optuna": OptunaSearch,
    "hyperopt": HyperoptSearch,
}


def _strategy_tag(value: Any) -> str | None:
    if isinstance(value, StrictModel):
        return getattr(value, "strategy", None)
    if isinstance(value, dict):
        s = value.get("strategy", "optuna")
        return s if isinstance(s, str) and s in _STRATEGIES else "unknown"
    return None


SearchSpec = Annotated[
    Union[tuple(Annotated[m, Tag(n)] for n, m in _STRATEGIES.items())],
    Discriminator(
        _strategy_tag,
        custom_error_type="strategy",
        custom_error_message="unknown search strategy",
    ),
]

# ---------------------------------------------------------------------------- tracking


class PromoteRule(StrictModel):
    """When a new registered version takes the alias from the current holder (the champion).

    Both models are scored on the same rows: the new run's held-out test rows
    (and, with `mlx run --challenge`, on the fresh data of that run). The
    first version of a name always takes the alias.
    """

    metric: str | None = Field(None, description="The metric both are scored by; default: the search's (first) metric.")
    min_delta: float = Field(
        0.0, ge=0, description="How much better the new version must score (in the metric's units) to take the alias; a tie keeps the champion."
    )


class TrackingSpec(StrictModel):
    """MLflow tracking. `tracking: false` turns it off."""

    enabled: bool = Field(True, description="Track the run in MLflow.")
    uri: str | None = Field(
        None, description="The tracking URI; default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in the spec's folder (artifacts in mlartifacts/ beside it)."
    )
    experiment: str | None = Field(None, description="The experiment; default: the spec's name.")
    register_as: str | None = Field(None, alias="register", description="Register the best model under this name in the model registry.")
    alias: str | None = Field("champion", description="The alias a better new registered version takes (see `promote`).")
    promote: Literal["always", "never"] | PromoteRule = Field(
        default_factory=PromoteRule,
        description="When a new version takes the alias: a rule (`{metric: roc_auc, min_delta: 0.002}`: it must beat the champion"
        " on the same rows), `always`, or `never`. The version that does not take it is tagged `challenger`.",
    )
    log_trials: bool | Literal["summary"] = Field(
        True, description="true: one nested run per trial; summary: only the leaderboard artifact; false: neither."
    )
    log_model: bool = Field(True, description="Log the fitted best pipeline as an MLflow model.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags on the parent run.")


_SWITCH_WORDS = {"off": False, "no": False, "false": False, "none": False, "disabled": False, "on": True, "yes": True, "true": True, "enabled": True}


def _tracking_shorthand(value: Any) -> Any:
    if isinstance(value, bool):
        return {"enabled": value}
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _SWITCH_WORDS:
            # YAML 1.2: `tracking: off` is the string 'off', which would be a tracking URI (a folder named off)
            on = _SWITCH_WORDS[word]
            raise PydanticCustomError(
                "value_error",
                "'{value}' is not a tracking URI; tracking is turned " + ("on" if on else "off") + " with true or false",
                {"value": value, "hint": f"write tracking: {'true' if on else 'false'} (in YAML 1.2, {value} is a string)"},
            )
        return {"uri": value}
    return value


# --------------------------------------------------------------------------- execution


class ExecutionSpec(StrictModel):
    """Where trials run."""

    n_jobs: int = Field(-1, description="Worker processes (local): trials, and the folds of a trial, run in parallel; -1: one per CPU.")
    backend: Literal["local", "dask"] = Field("local", description="local processes; dask (a dask.distributed cluster) is reserved and not available yet.")
    address: str | None = Field(None, description="The dask scheduler, e.g. tcp://host:8786 (backend: dask).")

    @field_validator("n_jobs")
    @classmethod
    def _n_jobs(cls, v: int) -> int:
        if v == 0 or v < -1:
            # joblib reads -2 as "all CPUs but one"; here only -1 is special, so say so
            raise PydanticCustomError(
                "n_jobs",
                "`n_jobs` must be a positive number or -1, but got {value}",
                {"value": v, "hint": "-1 runs one trial per CPU; otherwise give the number of parallel trials (1 runs them one after the other)"},
            )
        return v

    @model_validator(mode="after")
    def _check(self):
        if self.address and self.backend != "dask":
            raise ValueError("`address` is only used with `backend: dask`")
        return self


# -------------------------------------------------------------------------------- spec


class MonitorSpec(StrictModel):
    """When `mlx monitor` calls a change drift (exit code 3). The defaults follow common practice."""

    psi: float = Field(0.25, gt=0, description="Drift from this population stability index (a significant shift, by the usual reading).")
    psi_warn: float = Field(0.1, gt=0, description="A feature from this PSI up to `psi` is shown as 'watch' (a moderate shift); not drift.")
    js: float = Field(0.1, gt=0, le=1, description="Drift of a category from this Jensen-Shannon distance (base 2, 0 to 1).")
    missing: float = Field(0.05, gt=0, le=1, description="Drift when a feature's share of missing values moves by this much (0.05: five points).")
    performance_drop: float = Field(
        0.05, ge=0, description="Drift when a score on current data with the target is worse than the held-out score by this share of it."
    )
    new_categories: bool = Field(True, description="Categories never seen in training count as drift.")
    current: Identifier | None = Field(
        None, description="The source `mlx monitor --spec` checks when no --current is given (this week's rows: a query, a file)."
    )

    @model_validator(mode="after")
    def _order(self):
        if self.psi_warn > self.psi:
            raise ValueError(f"`psi_warn` ({self.psi_warn:g}) must not be above `psi` ({self.psi:g})")
        return self


class Spec(StrictModel):
    """An automl-yaml job: data in, a tested and tracked model out.

    Top-level keys starting with `x-` are ignored: they hold YAML anchors to reuse
    (`x-rf: &rf {params: ...}`, then `random_forest: *rf` or `<<: *rf`), as in docker compose.
    """

    version: Literal[1] = Field(CURRENT_VERSION, description="The spec language version.")
    name: Identifier | None = Field(None, description="The job's name; default: the spec file's name.")
    description: str | None = Field(None, description="Free text.")
    seed: int = Field(42, ge=0, lt=2**32, description="Seeds every random choice: splits, folds, search.")
    sources: dict[Identifier, Source] = Field(min_length=1, description="Named inputs; more than one can be joined.")
    data: DataSpec
    profile: bool | ProfileSpec = Field(False, description="Write an exploratory profile (true, or options).")
    preprocess: PreprocessSpec = Field(default_factory=PreprocessSpec)
    select: list[SelectStep] = Field(default_factory=list, description="Feature selection steps, applied in order inside every fold.")
    models: ModelsField | None = Field(
        None, description="Candidate models by registered name, with search spaces; omitted: the model zoo for the task."
    )
    search: SearchSpec = Field(default_factory=OptunaSearch, description="The search strategy, metric, cross-validation and budget.")
    tracking: Annotated[TrackingSpec, BeforeValidator(_tracking_shorthand)] = Field(
        default_factory=TrackingSpec, description="MLflow tracking (false to turn off)."
    )
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)
    monitor: MonitorSpec = Field(default_factory=MonitorSpec, description="Drift thresholds of `mlx monitor`.")
    output: str | None = Field(None, description="The output folder; default: runs/<name> beside the spec.")

    @model_validator(mode="after")
    def _references(self):
        names = list(self.sources)
        if self.data.from_ is None and len(names) > 1:
            raise PydanticCustomError(
                "missing_from",
                "data.from is required when there is more than one source",
                {"hint": "name the main source: " + ", ".join(names)},
            )
        return self

    # convenience -----------------------------------------------------------
    @property
    def main_source(self) -> str:
        return self.data.from_ or next(iter(self.sources))

    @property
    def profile_spec(self) -> ProfileSpec:
        p = self.profile
        if isinstance(p, ProfileSpec):
            return p
        return ProfileSpec(enabled=bool(p))
