"""From the spec's sources to a split, typed, encoded :class:`Dataset`.

:func:`build_dataset` runs the steps in the order the data flows; each is
public so that the planner can run, cache and report them one by one::

    frames, infos = load_sources(loaded)       # each source, from the cache when unchanged
    frame = assemble(loaded, frames)           # from + joins + drop + types: ignore
    dataset = split(loaded, frame)             # task, column types, target codes, test split

Every problem a user can cause is one :class:`~automl_yaml.errors.DataError`
naming the spec field (``spec.yaml:12:5: data.drop: ...``) and what to do;
``usage=True`` (exit 2) when the spec names something the data does not have.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError, SourceError, suggestion_hint
from ..spec.loader import dotted
from . import cache as _cache
from .sources import open_source

if TYPE_CHECKING:
    from ..search.cv import Validation

__all__ = [
    "SourceInfo",
    "Dataset",
    "load_sources",
    "assemble",
    "infer_task",
    "infer_types",
    "split",
    "build_dataset",
    "used_sources",
    "MAX_CLASSES",
    "MAX_FINITE",
    "parse_durations",
    "parse_unit_numbers",
    "parse_marked_numbers",
    "missing_markers",
    "MISSING_MARKERS",
    "parse_formatted_numbers",
    "date_format",
    "parse_dates",
]

#: An integer target with at most this many distinct values is a class label
#: (when there are at least 5 rows per value on average).
MAX_CLASSES = 20
#: A string column is text (not categorical) above this many distinct values...
TEXT_MIN_DISTINCT = 50
#: ... when they are also more than this share of its non-missing values,
TEXT_DISTINCT_SHARE = 0.5
#: ... and hold at least this many words on average (codes, names and ids with
#: many distinct values are categories: zip codes, product codes, cities),
TEXT_MIN_WORDS = 3
#: ... or when its strings are this long on average.
TEXT_MEAN_LENGTH = 50
#: Numbers larger than this (in magnitude) are treated as missing, like infinity:
#: most models work in float32 (trees, gradient boosting), whose largest
#: value this is, and such values are sentinels (DBL_MAX) more often than data.
MAX_FINITE = float(np.finfo(np.float32).max)
#: Labels that mark the positive class of a binary target, compared lower-case.
OBVIOUS_POSITIVE = ("1", "true", "yes", "y", "positive", "pos")

_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_LIKE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    rf"|\d{{1,2}}[ -]{_MONTH}[ -]\d{{2,4}}|{_MONTH} \d{{1,2}},? \d{{4}}|\d{{4}}-{_MONTH}-\d{{1,2}})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?)?\s*$",
    re.I,
)


@dataclasses.dataclass
class SourceInfo:
    """What loading one source did (for the run summary and tracking)."""

    name: str
    kind: str
    rows: int
    columns: int
    fingerprint: str
    from_cache: bool
    seconds: float
    description: str


@dataclasses.dataclass
class Dataset:
    """The assembled table, split into a training and a held-out test side.

    Attributes:
        frame: The assembled table (after joins and drops, target in its
            original labels, date strings parsed), for the profile.
        X_train, y_train, X_test, y_test: The two sides; indexes are the
            frame's row labels, so they never overlap. Classification targets
            are codes ``0..K-1`` (``classes[code]`` is the label).
        groups_train: With ``split.by: group``, the group of each training
            row as an integer code (for GroupKFold; rows without a group are
            one group); else None.
        task: ``"classification"`` or ``"regression"``.
        task_reason: Why, in words.
        classes: Classification: the original labels, index = code.
        positive: Binary: the label encoded as 1.
        column_types: Every feature column of ``X_*``: numeric, categorical,
            boolean, datetime or text.
        target: The target column's name.
        sources: How each source was loaded.
        notes: What the user should be told (rows dropped, columns renamed...).
        cv_folds: The CV folds when fewer than ``search.cv.folds``: the spec left
            the folds at their default and a class has fewer training rows,
            or a regression has too few rows for 2 in every validation fold.
        validation: How the search validates a trial (k-fold CV or a holdout)
            and why (:func:`automl_yaml.search.cv.choose_validation`).
        date_formats: The format each column of date strings was read with
            (see :func:`date_format`), to read new rows the same way.
    """

    frame: pd.DataFrame
    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    groups_train: pd.Series | None
    task: str
    task_reason: str
    classes: list | None
    positive: Any | None
    column_types: dict[str, str]
    target: str
    sources: dict[str, SourceInfo]
    notes: list[str]
    date_formats: dict[str, str] = dataclasses.field(default_factory=dict)
    cv_folds: int | None = None
    validation: Validation | None = None

    @property
    def fingerprints(self) -> dict[str, str]:
        """Source name -> fingerprint: the data version a run used."""
        return {name: info.fingerprint for name, info in self.sources.items()}

    @property
    def n_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)


# ------------------------------------------------------------------------------ helpers


def _spec_error(loaded: Any, path: tuple, message: str, hint: str | None = None, *, usage: bool = True) -> DataError:
    """A DataError about a spec field, located as ``spec.yaml:12:5: data.drop: ...``."""
    where = f"{loaded.smap.locate(path)}: " if loaded.path is not None else ""
    return DataError(f"{where}{dotted(path)}: {message}", hint=hint, usage=usage)


def _columns_hint(name: str, columns: Any) -> str:
    return suggestion_hint(name, [str(c) for c in columns], what="column")


def used_sources(spec: Any) -> list[str]:
    """The sources the table is built from: the main one, then the joined ones."""
    return [spec.main_source] + [j.source for j in spec.data.join]


def _native(value: Any) -> Any:
    """A numpy scalar as the Python value (labels go to JSON, MLflow, reports)."""
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------------- load sources


def load_sources(loaded: Any, *, cache: bool = True, progress: Any = None) -> tuple[dict[str, pd.DataFrame], dict[str, SourceInfo]]:
    """Load every source the table is built from, from the Parquet cache when unchanged.

    Args:
        loaded: The :class:`~automl_yaml.spec.LoadedSpec`.
        cache: False to read every source again (``mlx run --no-cache``); a
            source's own ``cache: false`` also turns it off for that source.
        progress: A ``rich.progress.Progress``, or None.

    Returns:
        The tables and how each was loaded, by source name.

    Raises:
        SourceError: a source cannot be read, or has no rows.
    """
    frames: dict[str, pd.DataFrame] = {}
    infos: dict[str, SourceInfo] = {}
    for name in used_sources(loaded.spec):
        frames[name], infos[name] = load_source(loaded, name, cache=cache, progress=progress)
    return frames, infos


def no_rows(reader: Any) -> SourceError:
    """The error of a source without rows (the run's, and ``mlx validate --check-data``'s)."""
    hints = {"sql": "check the query's WHERE clause and `params`", "frame": "check the DataFrame given for it"}
    return reader.error(f"{reader.describe()} has no rows", hint=hints.get(reader.kind, "check the source"))


def no_target_values(target: str, rows: int) -> tuple[str, str]:
    """Message and hint for a target without any value (the run's, and ``mlx validate --check-data``'s)."""
    return f"the target '{target}' has no values (all {_rows(rows)} {'is' if rows == 1 else 'are'} empty)", "check the target column and the sources"


def one_class(target: str, task: str, value: Any, rows: int) -> tuple[str, str]:
    """Message and hint for a target with one class (one value) only (the run's, and ``mlx validate --check-data``'s)."""
    what = "one class" if task == "classification" else "one value"
    return (
        f"the target '{target}' has {what} only ({_native(value)!r} on all {_rows(rows)})",
        "there is nothing to learn: check the target column and the source's rows (a filter?)",
    )


def load_source(loaded: Any, name: str, *, cache: bool = True, progress: Any = None) -> tuple[pd.DataFrame, SourceInfo]:
    """Load one source (a ``load`` step of the plan); see :func:`load_sources`."""
    source_spec = loaded.spec.sources[name]
    frames = getattr(loaded, "frames", {})
    if source_spec.kind == "frame" and name not in frames:
        from ..spec import missing_frame

        raise missing_frame(loaded, name)
    reader = open_source(name, source_spec, base_dir=loaded.base_dir, frames=frames)
    start = time.perf_counter()
    # A SQL query is read, then fingerprinted from what was read: a fingerprint
    # first would run it twice (its cache could only be checked by running it).
    by_reading = reader.fingerprinted_by_reading
    fingerprint = None if by_reading else reader.fingerprint()
    use_cache = cache and reader.cache_worthy and getattr(source_spec, "cache", True) and not by_reading
    frame = _cache.read(loaded.output_dir, name, fingerprint) if use_cache else None
    hit = frame is not None
    if frame is None:
        frame = reader.load(progress=progress)
        if len(frame) == 0:
            raise no_rows(reader)
        if by_reading:
            fingerprint = reader.fingerprint()
        if use_cache:
            _cache.write(loaded.output_dir, name, fingerprint, frame)
    elif progress is not None:
        progress.add_task(f"{name} (cached)", total=len(frame), completed=len(frame))
    info = SourceInfo(
        name=name,
        kind=source_spec.kind,
        rows=len(frame),
        columns=frame.shape[1],
        fingerprint=fingerprint,
        from_cache=hit,
        seconds=time.perf_counter() - start,
        description=reader.describe(),
    )
    return frame, info


# ----------------------------------------------------------------------------- assemble


def assemble_frame(loaded: Any, frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    """:func:`assemble` and the notes for the user it produced (renamed join columns...)."""
    return _assemble(loaded, frames)


def assemble(loaded: Any, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The one table: the main source, the joins in order, then ``drop`` and ``types: ignore``.

    The split column is kept even when it is in ``drop`` (it is still needed
    to split; :func:`split` keeps it out of the features).

    Raises:
        DataError: a join key, the target or a dropped column does not exist
            (usage), or a join would repeat rows (``validate``).
    """
    return _assemble(loaded, frames)[0]


def _assemble(loaded: Any, frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    spec = loaded.spec
    data = spec.data
    notes: list[str] = []
    frame = frames[spec.main_source]
    for i, join in enumerate(data.join):
        frame = _join(loaded, i, join, frame, frames[join.source], notes)

    if data.target not in frame.columns:
        raise _spec_error(loaded, ("data", "target"), f"the target '{data.target}' is not a column of the table", _columns_hint(data.target, frame.columns))
    for i, col in enumerate(data.drop):
        if col not in frame.columns:
            raise _spec_error(loaded, ("data", "drop", i), f"no column '{col}' to drop", _columns_hint(col, frame.columns))
    for col, kind in data.types.items():
        if col not in frame.columns:
            raise _spec_error(loaded, ("data", "types", col), f"no column '{col}' in the table", _columns_hint(col, frame.columns))
        if col == data.target and kind == "ignore":
            raise _spec_error(loaded, ("data", "types", col), "the target cannot be ignored", "remove it from data.types")

    keep = {data.split.column} if data.split.column else set()
    gone = [c for c in data.drop if c not in keep] + [c for c, t in data.types.items() if t == "ignore" and c not in keep]
    if gone:
        frame = frame.drop(columns=list(dict.fromkeys(gone)))
    return frame, notes


def _join(loaded: Any, i: int, join: Any, left: pd.DataFrame, right: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    path = ("data", "join", i)
    label = f"join with '{join.source}'"
    left_on = list(join.on or join.left_on)
    right_on = list(join.on or join.right_on)
    for keys, table, field, side in ((left_on, left, "left_on", "the table so far"), (right_on, right, "right_on", f"source '{join.source}'")):
        for k in keys:
            if k not in table.columns:
                key_path = path + ("on" if join.on else field,)
                raise _spec_error(loaded, key_path, f"{label}: the key '{k}' is not a column of {side}", _columns_hint(k, table.columns))

    suffix = f"_{join.source}"
    keys_text = ", ".join(join.on or [f"{a}={b}" for a, b in zip(left_on, right_on)])
    try:
        if join.on:
            merged = left.merge(right, how=join.how, on=left_on, validate=join.validate_, suffixes=("", suffix))
        else:
            merged = left.merge(right, how=join.how, left_on=left_on, right_on=right_on, validate=join.validate_, suffixes=("", suffix))
    except pd.errors.MergeError:
        raise _join_blowup(loaded, path, label, join, left, right, left_on, right_on) from None
    except (ValueError, TypeError) as exc:
        raise _spec_error(
            loaded,
            path,
            f"{label}: cannot join on {keys_text}: {str(exc).splitlines()[0]}",
            "give the key columns the same type on both sides (e.g. `dtypes: {id: int64}` on a file source, or a CAST in the query)",
            usage=False,
        ) from None
    overlap = [c for c in right.columns if c in left.columns and c + suffix in merged.columns and c + suffix not in left.columns]
    if overlap:
        renamed = ", ".join(f"'{c}' -> '{c}{suffix}'" for c in overlap)
        notes.append(f"{label}: columns in both tables were renamed on the joined side: {renamed}")
    if len(merged) == 0:
        raise _spec_error(
            loaded,
            path,
            f"{label}: no row matches on {keys_text}, so the table is empty",
            "check that the key values agree on both sides (type, case, leading zeros), or use how: left",
            usage=False,
        )
    if join.how == "inner" and len(merged) < len(left):
        notes.append(f"{label}: {len(left) - len(merged)} of {len(left)} rows had no match and were dropped (how: inner)")
    return merged


def _join_blowup(loaded, path, label, join, left, right, left_on, right_on) -> DataError:
    """The error for a join that breaks its ``validate``: which side, how many keys."""
    sides = {"many_to_one": [(right, right_on, f"source '{join.source}'")], "one_to_many": [(left, left_on, "the table so far")]}
    sides["one_to_one"] = sides["one_to_many"] + sides["many_to_one"]
    for table, keys, where in sides.get(join.validate_, []):
        counts = table.groupby(keys, dropna=False, sort=False).size()
        repeated = counts[counts > 1]
        if len(repeated):
            example_key = repeated.index[0] if len(keys) > 1 else (repeated.index[0],)
            example = ", ".join(f"{k}={_native(v)!r}" for k, v in zip(keys, example_key))
            key_text = ", ".join(f"'{k}'" for k in keys)
            return _spec_error(
                loaded,
                path,
                f"{label}: the key {key_text} is not unique in {where}: {len(repeated)} key values appear more than once "
                f"(e.g. {example}, {int(repeated.iloc[0])} times), so the join would repeat rows (validate: {join.validate_})",
                "remove the duplicate keys (e.g. SELECT DISTINCT or GROUP BY in the query), "
                "or set `validate: many_to_many` on this join if repeated rows are intended",
                usage=False,
            )
    return _spec_error(loaded, path, f"{label}: the join breaks validate: {join.validate_}", usage=False)  # pragma: no cover


# ---------------------------------------------------------------------------------- task


def _as_numbers(values: pd.Series) -> pd.Series | None:
    """The values as numbers if they all are numbers (an object column from JSON), else None."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values
    if values.dtype == object and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values.head(1000)):
        converted = pd.to_numeric(values, errors="coerce")
        if converted.notna().sum() == values.notna().sum():
            return converted
    return None


_CURRENCY = "$€£¥₹"
#: A space, no-break space, narrow no-break space or apostrophe between digit groups of three.
_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}(?:\D|$))")
#: 1,234,567.89 (and 1234.5) — and 1.234.567,89 (and 1234,5).
_DOT_DECIMAL = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
_NUMBER_CHARS = re.compile(rf"[\s{_CURRENCY}]*\(?[\s{_CURRENCY}+\-.,'\d]*\d[\s{_CURRENCY}+\-.,'\d]*%?\)?")
#: An accountant's negative number: (1,234.50) is -1,234.50.
_PARENTHESISED = re.compile(r"^\((.*)\)$")


def _present_head(values: pd.Series, n: int) -> pd.Series:
    """The values present among the first ``n`` rows (the first ``n`` present ones when those rows are all missing), for cheap checks."""
    head = values.head(n).dropna()
    return head if len(head) else values.dropna().head(n)


def parse_formatted_numbers(values: pd.Series) -> pd.Series | None:
    """Numbers written for people — ``"10,344.74"``, ``"1.234,5"``, ``"€ 12 000"``, ``"12.5%"``, ``"(1,200.00)"`` — as floats.

    A percentage is the number as written (``"12.5%"`` is 12.5); an amount in
    parentheses is negative, as accountants write it.

    Every non-missing value must be such a number, and at least one must use a
    thousands separator, a decimal comma or a currency sign: plain digit
    strings (zip codes, ids read with ``dtypes: {zip: string}``) stay text.
    Thousands are grouped by ``,`` (then ``.`` is the decimal point), or by
    ``.`` (then ``,`` is), or by spaces; a column that fits both (``"1,234"``)
    is read the English way. Returns None when the values are not all such numbers.
    """
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)) or isinstance(values.dtype, pd.CategoricalDtype):
        return None
    head = _present_head(values, 1000)
    if head.empty or not all(isinstance(v, str) for v in head):
        return None
    if not head.head(200).astype(str).str.fullmatch(_NUMBER_CHARS).all():  # cheap: most text columns stop here
        return None
    present = values.dropna()
    if not all(isinstance(v, str) for v in present.head(1000)):
        return None
    raw = present.astype(str).str.strip()
    text = raw.str.strip(_CURRENCY).str.strip()  # "$(1,200.00)", Excel's accounting format
    negative = text.str.match(_PARENTHESISED)
    text = text.str.replace(_PARENTHESISED, r"\1", regex=True).str.strip()
    percent = text.str.endswith("%")
    text = text.str.removesuffix("%").str.strip().str.strip(_CURRENCY).str.strip()
    if (text.str.startswith(("-", "+")) & negative).any() or text.str.contains("[()%]", regex=True).any() or negative.all():
        return None  # "(-3)", "5%%": not a way people write numbers; "(1,2)" on every row: pairs, not negative amounts
    text = text.str.replace(_GROUP_SPACE, "", regex=True)
    formatted = bool(
        present.astype(str).str.contains(f"[{_CURRENCY}]", regex=True).any()
        or text.str.contains(",", regex=False).any()
        or negative.any()
        or percent.any()
        or (text != raw).any()
    )
    if not formatted:
        return None
    if text.str.match(_DOT_DECIMAL).all():
        text = text.str.replace(",", "", regex=False)
    elif text.str.match(_COMMA_DECIMAL).all():
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        return None
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.isna().any():
        return None
    numbers = numbers.astype("float64").mask(negative, -numbers)  # percentages stay as written: "12.5%" is 12.5
    return numbers.reindex(values.index)


#: A duration or a time of day as text: ``01:17:32``, ``02:09`` (hours and minutes), ``0 days 01:17:32``
#: (pandas), ``1 day, 2:03:04`` (Python), ``-1 days +23:00:00``, with a fraction of a second.
_DURATION = re.compile(r"^\s*(?:[+-]?\d+ days?,? \+?)?\d{1,3}:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?\s*$")
_HOURS_MINUTES = re.compile(r"^((?:.*[\s+])?)(\d{1,3}:[0-5]\d)$")


def parse_durations(values: pd.Series) -> pd.Series | None:
    """Durations and times of day as seconds: ``"01:17:32"`` -> 4652.0, ``"02:09"`` -> 7740.0, ``time(2, 9)`` -> 7740.0.

    A ``timedelta`` exported to CSV (``"0 days 01:17:32"``), a race time, an
    opening hour, a SQL ``TIME`` or Parquet ``time64`` value (``datetime.time``)
    are quantities: as text or as times they would be categories, one level
    per value. Every non-missing value must be such a duration or time (one
    kind for the column); ``h:mm`` is hours and minutes. Returns None otherwise.
    """
    import datetime

    if isinstance(values.dtype, pd.CategoricalDtype) or not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return None
    head = _present_head(values, 1000)
    if head.empty:
        return None
    first = head.iloc[0]
    if not isinstance(first, datetime.time) and not (isinstance(first, str) and _DURATION.fullmatch(first)):
        return None  # cheapest: most columns stop at their first value
    present = values.dropna()
    if all(isinstance(v, datetime.time) for v in head):
        if not all(isinstance(v, datetime.time) for v in present):
            return None
        seconds = [v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6 for v in present]
        return pd.Series(seconds, index=present.index, dtype="float64").reindex(values.index)
    if not all(isinstance(v, str) for v in head) or not head.astype(str).str.fullmatch(_DURATION).all():  # cheap: most columns stop here
        return None
    text = present.astype(str)
    if not text.str.fullmatch(_DURATION).all():
        return None
    text = text.str.strip().str.replace(_HOURS_MINUTES, r"\1\2:00", regex=True)  # "02:09" is 2 h 9 min: "02:09:00"
    try:
        durations = pd.to_timedelta(text, errors="coerce")
    except (ValueError, TypeError):
        return None
    if durations.isna().any():
        return None
    return durations.dt.total_seconds().astype("float64").reindex(values.index)


#: Values that stand for a missing number in exports, compared stripped and case-folded: UCI's '?', a dash,
#: a dot (SAS), "n.a.", Excel's error values. Among numbers they are missing values, not a reason to read
#: the column as categories.
MISSING_MARKERS = frozenset(
    {"?", "-", "--", "---", ".", "..", "...", "n.a.", "n/a", "na", "nan", "none", "null", "missing",
     "#n/a", "#na", "#value!", "#div/0!", "#ref!", "#num!", "#null!", "#name?"}
)  # fmt: skip
#: Digit strings with a leading zero are codes (zip codes, account numbers), not numbers.
_LEADING_ZERO = re.compile(r"^\s*[+-]?0\d")


def missing_markers(values: pd.Series) -> pd.Series:
    """Which values are missing-value markers (:data:`MISSING_MARKERS`): ``'?'``, ``'-'``, ``'#DIV/0!'``..."""
    if isinstance(values.dtype, pd.CategoricalDtype) or not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return pd.Series(False, index=values.index)
    if values.dtype != object:  # a string dtype: vectorised
        return values.str.strip().str.casefold().isin(MISSING_MARKERS).fillna(False).astype(bool)
    marked = np.fromiter((isinstance(v, str) and v.strip().casefold() in MISSING_MARKERS for v in values), dtype=bool, count=len(values))
    return pd.Series(marked, index=values.index)


def parse_marked_numbers(values: pd.Series) -> pd.Series | None:
    """Numbers among which some values mark missing ones (``'?'`` in UCI files): the numbers, markers as NaN.

    None unless at least one value is a marker and every other value is a
    number (or a number as text, also written for people: ``"1,234"``), and
    no number as text has a leading zero (a code: ``"02139"``).
    """
    if isinstance(values.dtype, pd.CategoricalDtype) or not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return None
    head = _present_head(values, 1000)
    first = head.iloc[0] if len(head) else None
    if isinstance(first, str) and first.strip().casefold() not in MISSING_MARKERS and not _NUMBER_CHARS.fullmatch(first):
        return None  # cheapest: a column of words stops at its first value
    head = head[~missing_markers(head)]
    if not all(isinstance(v, str) and _NUMBER_CHARS.fullmatch(v) or _is_number(v) for v in head):
        return None  # cheap: a column of words stops here
    marked = missing_markers(values)
    present = values.notna() & ~marked
    if not marked.any() or not present.any():
        return None
    rest = values[present]
    strings = rest[rest.map(lambda v: isinstance(v, str))]
    if len(strings) and strings.astype(str).str.match(_LEADING_ZERO).any():
        return None
    if not all(isinstance(v, (str, int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in rest):
        return None
    numbers = pd.to_numeric(rest.astype(object), errors="coerce")
    if numbers.isna().any():
        formatted = parse_formatted_numbers(rest.astype(object))
        if formatted is None:
            return None
        numbers = formatted
    return numbers.astype("float64").reindex(values.index)


def _markers_note(values: pd.Series) -> str:
    """What :func:`parse_marked_numbers` read, for a note."""
    marked = values[missing_markers(values)]
    shown = ", ".join(repr(str(v)) for v in pd.unique(marked)[:3])
    return f"has {len(marked)} value{'s' if len(marked) != 1 else ''} such as {shown} among its numbers: they are read as missing values"


def _durations_note(values: pd.Series) -> str:
    """What :func:`parse_durations` read, for a note: "holds durations or times of day (e.g. '02:09', hh:mm): ..."."""
    example = values.dropna().iloc[0]
    shown = example.isoformat() if hasattr(example, "isoformat") else str(example)
    hours_minutes = isinstance(example, str) and _HOURS_MINUTES.match(example.strip()) is not None
    return (
        f"holds durations or times of day (e.g. {shown!r}{', read as hours:minutes' if hours_minutes else ''}): they are used as seconds; "
        "type it categorical (data.types) to use the values as categories"
    )


#: A number with a unit after it: "1248 CC", "23.4 kmpl", "74 bhp", "19M", "10,000+", "12.5 °C".
_WITH_UNIT = re.compile(r"^\s*([+-]?\d[\d,.\s\u00a0']*?)\s*([A-Za-z\u00b5\u00b0][A-Za-z\u00b5\u00b0/²³.]{0,11}|\+)\s*$")


def parse_unit_numbers(values: pd.Series) -> tuple[pd.Series, str] | None:
    """Numbers that all carry the same unit (``"1248 CC"``, ``"74 bhp"``, ``"10,000+"``): the numbers and the unit.

    Scraped and exported tables write quantities so (car listings, app stores):
    as text they were categories, one level per value. Every non-missing value
    must be a number followed by one unit, the same for all (``"19M"`` next to
    ``"512k"`` is not read: the units differ); the number may be written for
    people (``"10,000+"``). Returns None otherwise.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) or not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return None
    head = _present_head(values, 200)
    if head.empty or not isinstance(head.iloc[0], str) or not _WITH_UNIT.match(head.iloc[0]):
        return None  # cheapest: most columns stop at their first value
    present = values.dropna()
    if not all(isinstance(v, str) and _WITH_UNIT.match(v) for v in head):  # cheap: most columns stop here
        return None
    parts = present.astype(str).str.extract(_WITH_UNIT)
    if parts[1].isna().any() or parts[1].nunique() != 1:
        return None
    unit = str(parts[1].iloc[0])
    numbers = pd.to_numeric(parts[0].str.strip(), errors="coerce")
    if numbers.isna().any():
        formatted = parse_formatted_numbers(parts[0].str.strip().astype(object))
        if formatted is None:
            return None
        numbers = formatted
    return numbers.astype("float64").reindex(values.index), unit


def _fractional(numbers: pd.Series) -> np.ndarray:
    """Which numbers are not integers (3.5, inf); missing values must be dropped first."""
    with np.errstate(invalid="ignore"):  # inf % 1 is nan: not an integer, no warning
        return np.mod(numbers.to_numpy(dtype=float), 1) != 0


def _whole(numbers: pd.Series) -> bool:
    """Whether every number is an integer: 3 and 3.0, not 3.5 or inf."""
    return pd.api.types.is_integer_dtype(numbers) or not _fractional(numbers).any()


def _infinite(values: pd.Series) -> pd.Series:
    """Which values are infinite, or too large to be used: beyond :data:`MAX_FINITE`.

    False for missing values and for columns that are not floats.
    """
    if not pd.api.types.is_float_dtype(values):
        return pd.Series(False, index=values.index)
    with np.errstate(invalid="ignore"):
        return pd.Series(np.abs(values.to_numpy(dtype=float, na_value=np.nan)) > MAX_FINITE, index=values.index)


def _is_boolean(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return True
    return values.dtype == object and len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values.head(1000))


def infer_task(y: pd.Series, requested: str) -> tuple[str, str]:
    """Classification or regression, and why, from the target's type and distinct values.

    Strings, booleans and categories are classes; numbers with a fraction are
    regression; integers (or whole floats) are classes when there are at most
    :data:`MAX_CLASSES` distinct values and at least 5 rows per value on average.

    Args:
        y: The target column (missing values are ignored).
        requested: ``data.task``: ``"auto"``, ``"classification"`` or ``"regression"``.

    Returns:
        ``(task, reason)``, e.g. ``("classification", "the target 'species' has 3 distinct string values")``.

    Raises:
        DataError: regression on a target that is not numeric (usage), a
            target with no values, or a date/time target.
    """
    name = y.name
    values = y.dropna()
    numbers = _as_numbers(values)
    if requested == "classification":
        return "classification", "data.task is classification"
    if requested == "regression":
        if numbers is None and not _is_boolean(values):
            example = _native(values.iloc[0]) if len(values) else None
            raise DataError(
                f"data.task is regression, but the target '{name}' is not numeric (e.g. {example!r})",
                hint="remove data.task (it is then inferred: classification), or give a numeric target",
                usage=True,
            )
        return "regression", "data.task is regression"
    if values.empty:
        raise DataError(f"the target '{name}' has no values", hint="check the target column and the sources' rows")
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        raise DataError(
            f"the target '{name}' holds dates or times", hint="predict a number (e.g. days until) or a category instead", usage=True
        )
    n = int(values.nunique())
    if _is_boolean(values):
        return "classification", f"the target '{name}' is boolean"
    if numbers is None:
        return "classification", f"the target '{name}' has {n} distinct {'category' if isinstance(values.dtype, pd.CategoricalDtype) else 'string'} values"
    if not _whole(numbers):
        fractions = numbers[_fractional(numbers)]
        return "regression", f"the target '{name}' has numbers with a fraction (e.g. {_native(fractions.iloc[0])})"
    limit = min(MAX_CLASSES, max(2, len(values) // 5))
    if n <= limit:
        return "classification", f"the target '{name}' has {n} distinct integer values in {len(values)} rows"
    return "regression", f"the target '{name}' has {n} distinct integer values in {len(values)} rows (too many for classes)"


def _numbers_but_on_dropped_rows(frame: pd.DataFrame, columns: list, dropped: pd.Series, notes: list[str]) -> pd.DataFrame:
    """Columns of numbers whose only other values are on rows without a target (a "Total" footer row):
    numbers, those values missing (the rows are dropped anyway).

    A spreadsheet export ending with ``Total,,,1234`` made every numeric
    column text, and each one a row id or a category of its own.
    """
    kept = ~dropped
    for col in columns:
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        head = _present_head(s[dropped], 5)
        if head.empty or not all(isinstance(v, str) for v in head) or pd.to_numeric(head, errors="coerce").notna().all():
            continue  # cheap: only columns with a word on a dropped row
        present = s[kept].dropna()
        if present.empty or not all(isinstance(v, str) for v in present.head(1000)) or present.head(1000).str.match(_LEADING_ZERO).any():
            continue
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.isna().any() or present.str.match(_LEADING_ZERO).any():
            continue
        words = s[dropped].dropna()
        words = words[pd.to_numeric(words, errors="coerce").isna()]
        notes.append(
            f"column '{col}' holds numbers, and {', '.join(repr(str(v)) for v in pd.unique(words)[:3])} only on rows without a target "
            "(a total or a footer?), which are dropped: it is numeric"
        )
        frame = frame.assign(**{col: pd.to_numeric(s.where(kept), errors="coerce")})
    return frame


def _tidy_labels(frame: pd.DataFrame, target: str, notes: list[str]) -> pd.DataFrame:
    """A text target without the spaces around its labels, and a note on labels that differ only in case.

    ``"yes "`` and ``" yes"`` (hand-typed labels, a fixed-width export) are the
    class ``"yes"``: as they were, each was a class of its own, a few rows
    each. ``"Yes"`` and ``"yes"`` may be two classes (a code): they are kept,
    and a note says so.
    """
    y = frame[target]
    if isinstance(y.dtype, pd.CategoricalDtype) or not (y.dtype == object or pd.api.types.is_string_dtype(y)):
        return frame
    text = y.map(lambda v: v if isinstance(v, str) else None).dropna()
    if text.empty:
        return frame
    stripped = text.str.strip()
    padded = stripped != text
    if padded.any():
        # a label of spaces only is no label: it is missing, as read_csv reads an empty field
        tidy = y.copy()
        tidy[stripped.index] = stripped.where(stripped != "")
        notes.append(
            f"{int(padded.sum())} labels of the target '{target}' had spaces around them (e.g. {_native(text[padded].iloc[0])!r}): "
            "the spaces are removed"
        )
        frame = frame.assign(**{target: tidy})
        stripped = stripped[stripped != ""]
    labels = pd.Series(stripped.unique())
    folded = labels.str.casefold()
    twins = labels[folded.duplicated(keep=False)]
    if len(twins):
        groups = twins.groupby(folded[twins.index]).apply(list).tolist()
        shown = "; ".join(" and ".join(repr(v) for v in sorted(g)) for g in groups[:3]) + (f"; and {len(groups) - 3} more" if len(groups) > 3 else "")
        notes.append(
            f"labels of the target '{target}' differ only in case: {shown}: they are different classes; "
            "if they are one class, write them the same way in the source"
        )
    return frame


def _sorted_labels(values: pd.Series) -> list:
    uniques = [_native(v) for v in pd.unique(values)]
    try:
        return sorted(uniques)
    except TypeError:  # mixed types
        return sorted(uniques, key=lambda v: (type(v).__name__, str(v)))


def _encode_target(y: pd.Series, requested_positive: Any, notes: list[str]) -> tuple[pd.Series, list, Any]:
    """Codes 0..K-1 for the labels; for a binary target the positive label gets 1."""
    numbers = _as_numbers(y)
    if numbers is not None and not pd.api.types.is_integer_dtype(numbers) and _whole(numbers):
        y = numbers.astype("int64")  # 0.0/1.0 from a CSV with missing targets: the labels are 0 and 1
    labels = _sorted_labels(y)
    positive = None
    if len(labels) == 2:
        positive, why = _positive(labels, y, requested_positive)
        labels = [labels[0] if labels[1] == positive else labels[1], positive]
        notes.append(f"the positive class (code 1) is {positive!r} ({why})")
    elif requested_positive is not None:
        notes.append(f"data.positive is ignored: the target has {len(labels)} classes")
    codes = pd.Categorical(y, categories=labels).codes
    return pd.Series(codes.astype("int64"), index=y.index, name=y.name), labels, positive


def _positive(labels: list, y: pd.Series, requested: Any) -> tuple[Any, str]:
    if requested is not None:
        for label in labels:
            if label == requested and type(label) is type(requested):
                return label, "data.positive"
        for label in labels:
            if str(label).lower() == str(requested).lower():
                return label, "data.positive"
        raise DataError(
            f"data.positive is {requested!r}, which is not a class of the target",
            hint="the classes are " + ", ".join(repr(c) for c in labels),
            usage=True,
        )
    for label in labels:
        if str(label).strip().lower() in OBVIOUS_POSITIVE:
            other = labels[0] if labels[1] == label else labels[1]
            if str(other).strip().lower() not in OBVIOUS_POSITIVE:
                return label, "the usual positive label; set data.positive to choose"
    counts = y.value_counts()
    counts.index = [_native(v) for v in counts.index]
    a, b = labels
    minority = b if counts[b] <= counts[a] else a
    return minority, "the minority class; set data.positive to choose"


# --------------------------------------------------------------------------------- types


def _looks_like_dates(values: pd.Series) -> bool:
    """Strings that all look like dates (a sample) and parse as dates."""
    if values.empty or not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return False
    sample = values.head(10_000).drop_duplicates().head(200)
    sample = sample[~missing_markers(sample)]  # '?' or '-' for a missing date
    if sample.empty or not all(isinstance(v, str) and _DATE_LIKE.match(v) for v in sample):
        return False
    parsed = _to_datetime(sample)
    return parsed is not None and bool(parsed.notna().all())


def date_format(values: pd.Series) -> str | None:
    """The one ``strftime`` format every date string of the column fits, or None.

    pandas infers a format from the first value alone: ``01/02/2020`` makes
    it read a whole column month first, and ``13/01/2020`` further down is
    then not a date. Here the formats that the first distinct values suggest
    (month first, then day first) are tried on a sample, and the first that
    reads every value wins, so that day-first columns are dates too, and new
    rows at predict time are read the same way (``TrainedModel.date_formats``).
    """
    from pandas.tseries.api import guess_datetime_format

    if not (values.dtype == object or pd.api.types.is_string_dtype(values)) or isinstance(values.dtype, pd.CategoricalDtype):
        return None
    present = values.dropna()
    if present.empty or not all(isinstance(v, str) for v in present.head(1000)):
        return None
    sample = present.drop_duplicates().head(200)
    candidates: list[str] = []
    for dayfirst in (False, True):
        for value in sample.head(20):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "Parsing dates in %d/%m/%Y format when dayfirst=False"
                    fmt = guess_datetime_format(value, dayfirst=dayfirst)
            except (ValueError, TypeError):  # pragma: no cover - pandas returns None for non-dates
                fmt = None
            if fmt and fmt not in candidates:
                candidates.append(fmt)
    for fmt in candidates:
        if parse_dates(sample, fmt).notna().all():
            return fmt
    return None


def parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """``values`` read with the format ``fmt`` (NaT where a value does not fit it).

    Values with a UTC offset (``%z``, ``%Z``) are converted to UTC: a column
    of local times changes its offset twice a year.
    """
    values = _digits(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pd.to_datetime(values, format=fmt, errors="coerce", utc="%z" in fmt or "%Z" in fmt)


def _digits(values: pd.Series) -> pd.Series:
    """Whole numbers as their digits (``20240131`` -> ``'20240131'``); other numbers missing.

    Given a format, pandas reads numbers as text today and as epochs in a
    future version: a ``yyyymmdd`` column is turned into text first, so that
    it is read the same way in training and at predict time.
    """
    if pd.api.types.is_bool_dtype(values):
        return values
    if pd.api.types.is_numeric_dtype(values):
        with np.errstate(invalid="ignore"):
            whole = values.where((values % 1 == 0) & (values.abs() < 1e15))
        return whole.astype("Int64").astype("string")
    if values.dtype == object and values.map(_is_number).any():
        return values.map(lambda v: (str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else None) if _is_number(v) else v)
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


#: The format of dates written as numbers: 20240131.
NUMBER_DATE_FORMAT = "%Y%m%d"


def _number_dates(values: pd.Series) -> bool:
    """Numbers that are all whole and of eight digits (``yyyymmdd``), the only numbers read as dates."""
    present = values.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values) or present.empty:
        return False
    return bool(((present % 1 == 0) & (present >= 10_000_101) & (present <= 99_991_231)).all())


def dates_in_formats(values: pd.Series) -> tuple[pd.Series, list[str]] | None:
    """Dates written in two or three formats, each read in its own: ``2020-01-31`` among ``31/01/2020``.

    Exports merged from two systems mix them; pandas reads the whole column
    in the format of its first value, the others become NaT, and the column
    was text (a row id, one value per row). The values are grouped by where
    the year is and by the separator; each group must fit one format
    (:func:`date_format`, day first when a day above 12 says so).
    Returns the dates and the formats, or None.
    """
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)) or isinstance(values.dtype, pd.CategoricalDtype):
        return None
    present = values.dropna()
    if present.empty or not all(isinstance(v, str) for v in present.head(1000)):
        return None
    text = present.astype(str).str.strip()
    year_first = text.str.match(r"^\d{4}\D")
    separator = text.str.extract(r"\d([-/. ])\d", expand=False).fillna("")
    keys = year_first.astype(str) + separator
    if not 2 <= keys.nunique() <= 3:
        return None
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    formats = []
    for _, group in text.groupby(keys, sort=False):
        fmt = date_format(group.astype(object))
        if fmt is None or "%z" in fmt or "%Z" in fmt:
            return None
        parsed = parse_dates(group.astype(object), fmt)
        if parsed.isna().any():
            return None
        out[group.index] = parsed.astype("datetime64[us]")
        formats.append(fmt)
    return out, formats


def _to_datetime(values: pd.Series) -> pd.Series | None:
    """Parsed dates (NaT where a value is not one), or None when pandas cannot parse the column."""
    fmt = date_format(values)
    if fmt is not None:
        return parse_dates(values, fmt)
    mixed = dates_in_formats(values)
    if mixed is not None:
        return mixed[0]
    for utc in (False, True):  # mixed UTC offsets need utc=True
        try:
            with warnings.catch_warnings():
                # "Could not infer format": pandas then parses each value alone, which is
                # what we want for a check; the user cannot act on the warning.
                warnings.simplefilter("ignore", UserWarning)
                return pd.to_datetime(values, errors="coerce", utc=utc)
        except (ValueError, TypeError, OverflowError):  # mixed time zones, ...
            continue
    return None


def _infer_column(s: pd.Series) -> str:
    if _is_boolean(s.dropna()) or pd.api.types.is_bool_dtype(s):
        return "boolean"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
        return "numeric"
    values = s.dropna()
    if values.empty:
        return "categorical"
    if _as_numbers(values) is not None or parse_formatted_numbers(values) is not None or parse_durations(values) is not None:
        return "numeric"
    if parse_unit_numbers(values) is not None:
        return "numeric"
    if parse_marked_numbers(values) is not None:
        return "numeric"
    if _looks_like_dates(values):
        return "datetime"
    text = values.astype(str)
    distinct = int(text.nunique())
    if distinct > TEXT_MIN_DISTINCT and distinct > TEXT_DISTINCT_SHARE * len(text) and _mean_words(text) >= TEXT_MIN_WORDS:
        return "text"
    if distinct > TEXT_MIN_DISTINCT // 2 and text.str.len().mean() >= TEXT_MEAN_LENGTH:
        return "text"
    return "categorical"


def _mean_words(text: pd.Series) -> float:
    """The average number of words of (the first 2,000 of) some strings."""
    return float(text.head(2000).str.count(r"\S+").mean())


def infer_types(X: pd.DataFrame, overrides: dict[str, str]) -> dict[str, str]:
    """The type of every column: numeric, categorical, boolean, datetime or text.

    Datetime columns are datetime dtypes and strings that all parse as dates;
    text is strings of several words with many distinct values (more than 50,
    and more than half of the rows), or long strings. Single words or codes
    with many distinct values (zip codes, product codes) are categorical: the
    encoders cap their levels (``max_categories``). ``overrides``
    (``data.types``) win; ``ignore`` leaves the column out of the result.
    """
    types = {}
    for col in X.columns:
        kind = overrides.get(col) or _infer_column(X[col])
        if kind != "ignore":
            types[col] = kind
    return types


#: Column names of identifiers: id, customer_id, CustomerID, order-key, index, Unnamed: 0 (a saved pandas index)...
_ID_NAME = re.compile(r"^(?i:(.*[_\s.\-])?(id|key|index|idx|uuid|guid|row|rownum|row_?number)|unnamed: ?\d+)$|^.*[a-z]I[dD]$")
#: Fewer rows than this, and a column of distinct integers is not taken for an id.
ROW_ID_MIN_ROWS = 20


def _row_ids(frame: pd.DataFrame, types: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    """Columns that identify rows, and what they hold: integer columns with a
    different value on every row that are named like ids or count rows (0..n-1,
    1..n), string columns of a different UUID or ObjectId on every row, and
    categorical columns with a different value on every row (``CUST-00042``,
    an e-mail address).

    A model learns nothing from an id that holds for new rows, and can learn
    the row order of a sorted file (leakage through the random split). A
    column the user typed (``data.types``) is kept.
    """
    if len(frame) < ROW_ID_MIN_ROWS:
        return {}
    found = {}
    for col, kind in types.items():
        if col in overrides:
            continue
        s = frame[col]
        if kind in ("text", "categorical") and _is_key_column(s):
            found[col] = "UUID or ObjectId"
            continue
        if kind == "categorical" and not pd.api.types.is_bool_dtype(s) and s.notna().all() and s.is_unique:
            if not _numbers_with_a_few_words(s):  # a column of numbers with "Total" in it is said so (_coerce), not an id
                found[col] = "value"
            continue
        if kind != "numeric":
            continue
        if not pd.api.types.is_integer_dtype(s) or s.isna().any() or not s.is_unique:
            continue
        # A row counter runs 0..n-1 or 1..n; other runs of distinct integers
        # (one row per year: 1990..2019) are quantities, kept unless named like ids.
        counts_rows = int(s.min()) in (0, 1) and int(s.max()) - int(s.min()) == len(s) - 1
        if counts_rows or _ID_NAME.match(str(col)):
            found[col] = "integer"
    return found


def _numbers_with_a_few_words(s: pd.Series) -> bool:
    """Text that is numbers but for a few words (at most half): "12.5", "3", ..., "Total"."""
    if not (s.dtype == object or pd.api.types.is_string_dtype(s)) or isinstance(s.dtype, pd.CategoricalDtype):
        return False
    head = _present_head(s, 1000)
    if head.empty or pd.to_numeric(head.astype(object), errors="coerce").notna().mean() < 0.5:
        return False
    numbers = pd.to_numeric(s.dropna().astype(object), errors="coerce")
    return 0 < int(numbers.isna().sum()) <= len(numbers) / 2


def _yaml_name(name: Any) -> str:
    """A column name as a hint writes it in a YAML flow mapping: plain when it reads back as itself, else quoted.

    ``Unnamed: 0`` (a saved pandas index) and ``2010`` (a number to YAML) need quotes.
    """
    import json

    import yaml

    text = str(name)
    try:
        if yaml.safe_load(f"{{{text}: 0}}") == {text: 0}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text)


def _time_series_column(frame: pd.DataFrame, types: dict[str, str]) -> str | None:
    """A feature column that makes the table a time series: a date, or a column named 'year', different on every row.

    A random split then interpolates between neighbours (weekly CO2, hourly
    temperatures: a holdout r2 of 0.999 from the date alone) and says little
    about forecasting. Tables of several series (a date per stock symbol)
    repeat their dates and are not named.
    """
    if len(frame) < ROW_ID_MIN_ROWS:
        return None
    for col, kind in types.items():
        s = frame[col]
        if kind == "datetime" or (kind == "numeric" and str(col).strip().lower() == "year" and not pd.api.types.is_bool_dtype(s)):
            if s.notna().all() and s.is_unique:
                return col
    return None


def _uninformative(frame: pd.DataFrame, types: dict[str, str], overrides: dict[str, str]) -> tuple[list[str], list[str]]:
    """Columns with one value on every row, and columns with no value at all.

    Neither tells rows apart, so no model can learn from them (scikit-learn
    and FLAML users expect them left out). A column with one value and some
    missing values is kept: whether it is missing may be informative. A
    column the user typed (``data.types``) is kept.
    """
    constant, empty = [], []
    for col in types:
        if col in overrides:
            continue
        s = frame[col]
        if s.isna().all():
            empty.append(col)
        elif s.notna().all() and s.nunique() == 1:
            constant.append(col)
    return constant, empty


#: Generated keys: UUIDs (PostgreSQL ``uuid``) and MongoDB ObjectIds (24 hex digits).
_KEY_VALUE = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|[0-9a-fA-F]{24}")


def _is_key_column(s: pd.Series) -> bool:
    """Strings that are all UUIDs or ObjectIds, a different one on every row: keys, not features."""
    if s.isna().any() or not s.is_unique or not (s.dtype == object or pd.api.types.is_string_dtype(s)):
        return False
    sample = s.head(1000)
    return all(isinstance(v, str) for v in sample) and bool(sample.str.fullmatch(_KEY_VALUE).all())


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _coerce(
    loaded: Any, frame: pd.DataFrame, types: dict[str, str], overrides: dict[str, str], notes: list[str], formats: dict[str, str] | None = None
) -> pd.DataFrame:
    """Give each column the values its type needs: dates parsed, numbers from strings, ...

    Returns a new frame (the input is not modified); ``types`` is updated when
    a column that looked like dates has values that are not; ``formats``
    receives the format each date column was read with.
    """
    out = frame.copy(deep=False)
    for col, kind in list(types.items()):
        s = out[col]
        forced = col in overrides
        path = ("data", "types", col) if col in loaded.spec.data.types else ("preprocess", "columns", col, "type")
        if kind == "datetime" and forced and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and not _number_dates(s):
            example = _native(s.dropna().iloc[0]) if s.notna().any() else None
            raise _spec_error(
                loaded,
                path,
                f"'{col}' is typed datetime, but it holds numbers such as {example!r}; only dates written as yyyymmdd numbers (20240131) are read as dates",
                "type it numeric to use the numbers as they are (a Unix time stays in order), or write the dates as text (2024-01-31) in the source",
            )
        if kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(s):
            marked = missing_markers(s)
            if marked.any() and (s.notna() & ~marked).any():
                notes.append(f"column '{col}' {_markers_note(s).replace('among its numbers', 'among its dates')}")
                s = s.mask(marked)
            fmt = NUMBER_DATE_FORMAT if _number_dates(s) else date_format(s)
            mixed = dates_in_formats(s) if fmt is None and not pd.api.types.is_bool_dtype(s) else None
            if mixed is not None:
                notes.append(f"column '{col}' holds dates in {len(mixed[1])} formats ({', '.join(mixed[1])}): each is read in its own")
            parsed = None if pd.api.types.is_bool_dtype(s) else parse_dates(s, fmt) if fmt else mixed[0] if mixed is not None else _to_datetime(s)
            bad = s.notna() & (parsed.isna() if parsed is not None else True)
            if parsed is not None and not bad.any():
                out[col] = parsed
                if fmt is not None and formats is not None:
                    formats[col] = fmt
            elif forced:
                example = s[bad].iloc[0]
                raise _spec_error(loaded, path, f"'{col}' is typed datetime, but values such as {_native(example)!r} are not dates", "remove the override, or fix the values")
            else:
                types[col] = "categorical"
                notes.append(f"column '{col}' looked like dates, but {int(bad.sum())} values are not: it is categorical")
        elif kind == "numeric" and pd.api.types.is_datetime64_any_dtype(s):
            raise _spec_error(
                loaded,
                path,
                f"'{col}' is typed numeric, but it holds dates (e.g. {str(s.dropna().iloc[0]) if s.notna().any() else 'none'!r})",
                "type it datetime: preprocess.datetime.parts turns dates into numbers (timestamp: seconds since 1970, year, month, ...)",
            )
        elif kind == "numeric" and not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_timedelta64_dtype(s)):
            marked = missing_markers(s)
            if marked.any() and (s.notna() & ~marked).any():
                notes.append(f"column '{col}' {_markers_note(s)}")
                s = s.mask(marked)
            numbers = pd.to_numeric(s, errors="coerce")
            bad = s.notna() & numbers.isna()
            formatted = parse_formatted_numbers(s) if bad.any() else None
            if formatted is not None:
                numbers, bad = formatted, bad & False
                notes.append(f"column '{col}' holds numbers written as text (e.g. {_native(s.dropna().iloc[0])!r}): they are read as numbers")
            durations = parse_durations(s) if bad.any() else None
            if durations is not None:
                numbers, bad = durations, bad & False
                notes.append(f"column '{col}' {_durations_note(s)}")
            with_unit = parse_unit_numbers(s) if bad.any() else None
            if with_unit is not None:
                (numbers, unit), bad = with_unit, bad & False
                notes.append(f"column '{col}' holds numbers with a unit (e.g. {_native(s.dropna().iloc[0])!r}): they are read as numbers without '{unit}'")
            if bad.any():
                raise _spec_error(loaded, path, f"'{col}' is typed numeric, but values such as {_native(s[bad].iloc[0])!r} are not numbers", "remove the override, or fix the values")
            out[col] = numbers
        elif kind == "numeric" and pd.api.types.is_timedelta64_dtype(s):
            out[col] = s.dt.total_seconds()
            notes.append(f"column '{col}' holds durations: they are used as seconds")
        elif kind == "boolean" and not pd.api.types.is_bool_dtype(s) and not _is_boolean(s.dropna()):
            lowered = s.map(lambda v: str(v).strip().lower() if pd.notna(v) else v)
            known = lowered.isna() | lowered.isin(_TRUE | _FALSE)
            if not known.all():
                raise _spec_error(loaded, path, f"'{col}' is typed boolean, but values such as {_native(s[~known].iloc[0])!r} are not true/false", "remove the override, or fix the values")
            out[col] = lowered.map(lambda v: v in _TRUE if pd.notna(v) else pd.NA).astype("boolean")
        elif kind == "categorical" and not forced and pd.api.types.is_string_dtype(s) and s.dtype != object:
            # A CSV column of numbers with a few words in it ("Total" on a footer row, "unknown"): say why it is not numeric.
            head = s.head(1000).dropna()
            mostly_numbers = len(head) > 0 and pd.to_numeric(head, errors="coerce").notna().mean() >= 0.5
            present = s.dropna() if mostly_numbers else head  # cheap: a column of words stops at its first 1,000 values
            words = present[pd.to_numeric(present, errors="coerce").isna()] if mostly_numbers else head[:0]
            if len(words) and len(words) <= len(present) / 2 and not present.str.match(_LEADING_ZERO).any():
                shown = ", ".join(repr(str(v)) for v in pd.unique(words)[:3])
                notes.append(
                    f"column '{col}' holds numbers and {len(words)} value{'s that are' if len(words) != 1 else ' that is'} not ({shown}): it is used as categorical; "
                    f"to use it as numbers, make those values missing in the source (for a file: options: {{na_values: [{shown}]}})"
                )
        elif kind in ("categorical", "text") and s.dtype == object:
            present = s.dropna()
            if not all(isinstance(v, str) for v in present):
                # Mixed numbers and strings: encoders need one type per column.
                out[col] = s.map(lambda v: str(v) if pd.notna(v) else v)
                strings = present[present.map(lambda v: isinstance(v, str))]
                words = strings[pd.to_numeric(strings, errors="coerce").isna()]
                booleans = present.map(lambda v: isinstance(v, (bool, np.bool_))).any()  # True next to 'no': not numbers
                if len(words) and not forced and not booleans and len(words) <= len(present) / 2:
                    # SQLite keeps 'unknown' in an INTEGER column; Excel a "n/a" cell among numbers.
                    notes.append(
                        f"column '{col}' holds numbers and {len(words)} values that are not (e.g. {_native(words.iloc[0])!r}): it is used as categorical; "
                        "to use it as numbers, make those values missing in the source (NULL, or NULLIF in the query)"
                    )
        if types[col] == "numeric":
            infinite = _infinite(out[col])
            if infinite.any():
                example = _native(out[col][infinite].iloc[0])
                out[col] = out[col].mask(infinite)
                notes.append(
                    f"column '{col}' has {int(infinite.sum())} infinite or too large values (e.g. {example}): they are treated as missing"
                )
    return out


# --------------------------------------------------------------------------------- split


def _n_test(loaded: Any, test_size: float | int, n: int) -> int:
    k = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
    if k >= n:
        raise _spec_error(
            loaded, ("data", "split", "test_size"), f"a test set of {k} rows leaves no training rows (the table has {n})", "use a share such as 0.2"
        )
    return max(k, 1)


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _check_folds(loaded: Any, y: pd.Series, classes: list | None, folds: int, where: str) -> None:
    """Enough rows, and enough rows of every class, for k-fold cross-validation."""
    path = ("search", "cv", "folds")
    if len(y) < folds:
        raise _spec_error(
            loaded, path, f"{where} has {len(y)} rows, fewer than the {folds} cross-validation folds", "lower search.cv.folds, or add data", usage=False
        )
    if classes is None:
        return
    counts = np.bincount(y.to_numpy(), minlength=len(classes))
    rare = [(classes[i], int(c)) for i, c in enumerate(counts) if c < folds]
    if rare:
        label, count = min(rare, key=lambda lc: lc[1])
        more = f" (and {len(rare) - 1} more {'class' if len(rare) == 2 else 'classes'})" if len(rare) > 1 else ""
        rows = f"{count} {'row' if count == 1 else 'rows'}"
        if folds == 2:
            # two folds cannot be lowered: the rare classes themselves are the problem (a state with one airport)
            raise _spec_error(
                loaded,
                ("data", "target"),
                f"class {label!r} of the target '{y.name}' has {rows} in {where}{more}; cross-validation needs at least 2 rows of each class",
                "remove or merge the rare classes in the source, or add data"
                + (" (the stratified test split holds some of their rows)" if where == "the training set" else ""),
                usage=False,
            )
        raise _spec_error(
            loaded,
            path,
            f"class {label!r} has {rows} in {where}{more}; {folds}-fold cross-validation needs at least {folds} of each class",
            "lower search.cv.folds, merge or remove rare classes, or add data",
            usage=False,
        )


#: Fewer test rows than this, and the run says that the held-out scores are rough.
SMALL_TEST_ROWS = 20

#: Regression scores that need two rows in a validation fold (one row has no variance to explain).
_NEEDS_TWO_ROWS = ("r2", "explained_variance")


def _regression_folds(loaded: Any, n_train: int, folds: int, default: bool, notes: list[str]) -> tuple[int, int | None]:
    """The folds of a regression search, and the folds to record when the default gave way.

    k-fold on few rows leaves validation folds of one row, where r2 is not a
    number: every trial failed. Folds left at their default give way (each
    validation fold keeps at least 2 rows, with a note); folds the spec sets
    are an error when the metric is r2 or explained_variance.
    """
    # a time split's folds (TimeSeriesSplit) validate on n // (folds + 1) rows each
    extra = 1 if loaded.spec.data.split.by == "time" else 0
    if n_train // (folds + extra) >= 2:
        return folds, None
    most = max(2, n_train // 2 - extra)
    if default:
        fewer = most
        notes.append(
            f"the training set has {n_train} rows: {fewer}-fold cross-validation instead of the default {folds}, "
            f"so that every validation fold has at least 2 rows (set search.cv.folds to choose)"
        )
        return fewer, fewer
    metric = loaded.spec.search.metric
    metrics = ["r2"] if metric is None else [metric] if isinstance(metric, str) else list(metric)
    needs = [m for m in metrics if m in _NEEDS_TWO_ROWS]
    if needs and n_train >= folds:
        raise _spec_error(
            loaded,
            ("search", "cv", "folds"),
            f"{folds} folds of the {n_train} training rows leave validation folds of 1 row, where {needs[0]} is not defined",
            f"use at most {most} folds, or a metric such as rmse or mae",
            usage=False,
        )
    return folds, None


def split(loaded: Any, frame: pd.DataFrame, *, keep_validation: Validation | None = None) -> Dataset:
    """Task, column types, target codes and the held-out test split of the table.

    Rows with a missing target are dropped (with a note). ``split.by``:

    * ``random``: stratified for classification (unless ``stratify: false``);
    * ``group``: ``GroupShuffleSplit`` on ``split.column``, so no group is on
      both sides (an integer ``test_size`` is turned into a share of rows);
      with ``stratify: true``, one fold of ``StratifiedGroupKFold`` with
      ``round(1 / test_size)`` folds (scikit-learn has no stratified group
      shuffle split);
    * ``time``: rows sorted by ``split.column``; the latest are the test set.

    Everything is seeded with ``spec.seed``. ``Dataset.sources`` is empty
    here (:func:`build_dataset` fills it).

    The search's validation (k-fold CV or a holdout) is chosen here, from the
    training rows and features (:func:`automl_yaml.search.cv.choose_validation`),
    or ``keep_validation``: the one a resumed search started with.

    Raises:
        DataError: an all-null target, one class, too few rows or class
            members for the folds, a bad split column, a type override that
            the values contradict.
    """
    spec = loaded.spec
    data = spec.data
    target = data.target
    folds = spec.search.cv.folds
    # folds left at their default give way to a rare class (with a note), as FLAML's do;
    # folds the spec sets are kept, and too few rows for them is an error
    default_folds = "folds" not in spec.search.cv.model_fields_set
    notes: list[str] = []
    if target not in frame.columns:
        raise _spec_error(loaded, ("data", "target"), f"the target '{target}' is not a column of the table", _columns_hint(target, frame.columns))

    frame = _tidy_labels(frame, target, notes)
    if data.task != "classification" and (marked := parse_marked_numbers(frame[target])) is not None:
        # '?' among the numbers of a target (a UCI file): rows with a missing target, not 90 classes
        notes.append(f"the target '{target}' {_markers_note(frame[target])}")
        frame = frame.assign(**{target: marked})
    missing = frame[target].isna()
    infinite = _infinite(frame[target])
    if missing.all():
        raise _spec_error(loaded, ("data", "target"), *no_target_values(target, len(frame)), usage=False)
    if missing.any():
        notes.append(f"{_rows(int(missing.sum()))} with a missing target '{target}' {'was' if missing.sum() == 1 else 'were'} dropped")
    if infinite.any():
        notes.append(f"{_rows(int(infinite.sum()))} with an infinite or too large target '{target}' {'was' if infinite.sum() == 1 else 'were'} dropped")
        missing = missing | infinite
        if missing.all():
            raise _spec_error(loaded, ("data", "target"), f"the target '{target}' has no finite values", "check the target column and the sources", usage=False)
    formatted = parse_formatted_numbers(frame[target])
    if formatted is not None:
        # A price or an amount exported as "10,344.74": a number, not 200 classes.
        notes.append(
            f"the target '{target}' holds numbers written as text (e.g. {_native(frame.loc[~missing, target].iloc[0])!r}): they are read as numbers"
        )
        frame = frame.assign(**{target: formatted})
    elif data.task != "classification" and (durations := parse_durations(frame[target])) is not None:
        # A race time or a call length ("1:23:45"): a quantity, not one class per value.
        notes.append(f"the target '{target}' {_durations_note(frame[target])}")
        frame = frame.assign(**{target: durations})
    task, reason = infer_task(frame.loc[~missing, target], data.task)

    # Features: everything but the target, a dropped split column and preprocess `drop: true` columns.
    split_col = data.split.column
    excluded = {target}
    if split_col and split_col in data.drop:
        excluded.add(split_col)
    for col, override in spec.preprocess.columns.items():
        if col in data.drop or data.types.get(col) == "ignore":
            continue  # the spec check warns that such an override does nothing
        if col not in frame.columns:
            raise _spec_error(loaded, ("preprocess", "columns", col), f"no column '{col}' in the table", _columns_hint(col, frame.columns))
        if override.drop:
            excluded.add(col)
    overrides = {c: o.type for c, o in spec.preprocess.columns.items() if o.type}
    overrides.update(data.types)
    features = [c for c in frame.columns if c not in excluded]
    if missing.any():
        frame = _numbers_but_on_dropped_rows(frame, [c for c in features if c not in overrides], missing, notes)
    types = infer_types(frame[features], overrides)
    left_out: list[str] = []  # why columns are not features, for the error when none is left
    for col, what in _row_ids(frame.loc[~missing], types, overrides).items():
        kind = "numeric" if types[col] == "numeric" else "categorical"
        del types[col]
        left_out.append(f"'{col}' is a row id")
        notes.append(
            f"column '{col}' looks like a row id (a different {what} on every row): it is not used as a feature; "
            f"type it (data.types: {{{_yaml_name(col)}: {kind}}}) to use it, or drop it (data.drop) to say so"
        )
    constant, empty = _uninformative(frame.loc[~missing], types, overrides)
    for cols, what in ((constant, "the same value on every row"), (empty, "no values")):
        if cols:
            for col in cols:
                del types[col]
            shown = ", ".join(f"'{c}'" for c in cols[:5]) + (f" and {len(cols) - 5} more" if len(cols) > 5 else "")
            notes.append(f"columns with {what} are not used: {shown} (type a column in data.types to keep it)")
            left_out.append(f"{shown} {'has' if len(cols) == 1 else 'have'} {what}")
    if not types:
        hint = "add feature columns to the source, or type a column in data.types to use it"
        if not left_out and data.drop:  # every other column was dropped by the spec itself
            left_out.append(f"the {'other column is' if len(data.drop) == 1 else f'{len(data.drop)} other columns are'} in data.drop")
            hint = "keep some columns out of data.drop"
        raise _spec_error(
            loaded,
            ("data", "target"),
            f"no column is left to predict '{target}' from" + (": " + "; ".join(left_out) if left_out else " (the table has no other column)"),
            hint,
        )
    text = [c for c, t in types.items() if t == "text"]
    if text and spec.preprocess.text.encode == "drop":
        shown = ", ".join(f"'{c}'" for c in text[:5]) + (f" and {len(text) - 5} more" if len(text) > 5 else "")
        notes.append(f"free-text columns are not used: {shown} (set preprocess.text.encode: tfidf or frequency to use them)")
    date_formats: dict[str, str] = {}
    frame = _coerce(loaded, frame, types, overrides, notes, date_formats)

    work = frame.loc[~missing]
    if data.split.by == "random":
        series = _time_series_column(work, types)
        if series:
            notes.append(
                f"column '{series}' has a different {'year' if types[series] == 'numeric' else 'time'} on every row (a time series?): "
                f"the random split tests on rows between training rows, which flatters a forecast; "
                f"to measure one, split by time (data.split: {{by: time, column: {_yaml_name(series)}}})"
            )
    if task == "classification":
        try:
            y, classes, positive = _encode_target(work[target], data.positive, notes)
        except DataError as exc:
            if not exc.message.startswith("data.positive "):
                raise
            raise _spec_error(loaded, ("data", "positive"), f"{data.positive!r} is not a class of the target", exc.hint) from None
        if len(classes) < 2:
            # The spec names a column that cannot be learned: a user error, located at data.target.
            raise _spec_error(loaded, ("data", "target"), *one_class(target, task, classes[0], len(work)))
        _check_folds(loaded, y, classes, 2 if default_folds else folds, "the table")
    else:
        classes = positive = None
        y = pd.to_numeric(work[target], errors="coerce").astype("float64")
        if y.nunique() < 2:
            raise _spec_error(loaded, ("data", "target"), *one_class(target, task, y.iloc[0], len(work)))
        _check_folds(loaded, y, None, 2 if default_folds else folds, "the table")

    X = work[list(types)]
    train_idx, test_idx, groups = _split_rows(loaded, work, y, task, notes)
    if len(test_idx) < SMALL_TEST_ROWS:
        # stackloss, longley: r2 on 4 or 5 rows swings from 0.98 to -22 with the split
        notes.append(
            f"the test set has {_rows(len(test_idx))}: its scores are a rough guide (one row moves them a lot); "
            f"the cross-validation scores, over the {len(train_idx)} training rows, are steadier"
        )
    y_train, y_test = y.iloc[train_idx], y.iloc[test_idx]
    cv_folds = None
    from ..search.cv import choose_validation  # scikit-learn's splitters: imported when a run needs them

    validation = choose_validation(spec.search, len(train_idx), len(types))
    if (
        keep_validation is not None
        and validation.chosen_by == "rule"
        and (keep_validation.method, keep_validation.share) != (validation.method, validation.share)
    ):
        # a new time budget (--resume --set search.budget.time=...) must not change how the trials done were scored
        notes.append(f"the resumed search keeps the validation it started with: {keep_validation.describe()} (with this budget it would be {validation.describe()})")
        validation = dataclasses.replace(keep_validation, folds=folds if keep_validation.method == "cv" else 1)
    if validation.method == "holdout":
        folds = 2  # a stratified holdout needs 2 rows of every class, a group holdout 2 groups
    elif default_folds and classes is not None:
        counts = np.bincount(y_train.to_numpy(), minlength=len(classes))
        fewest = int(counts.min())
        if 2 <= fewest < folds:
            rare = classes[int(counts.argmin())]
            cv_folds = folds = fewest
            notes.append(
                f"class {rare!r} has {fewest} training rows: {fewest}-fold cross-validation instead of the default "
                f"{spec.search.cv.folds} (set search.cv.folds to choose)"
            )
        elif fewest < 2:
            folds = 2  # no folds can hold a class with one training row: the error names the class, not the folds
    if classes is None and validation.method == "cv":
        folds, cv_folds = _regression_folds(loaded, len(y_train), folds, default_folds, notes)
    if validation.method == "cv" and folds != validation.folds:
        validation = dataclasses.replace(validation, folds=folds)
    _check_folds(loaded, y_train, classes, folds, "the training set")
    if groups is not None:
        n_groups = groups.iloc[train_idx].nunique(dropna=False)
        if n_groups < folds:
            raise _spec_error(
                loaded,
                ("data", "split", "column"),
                f"the training set has {n_groups} groups of '{split_col}', fewer than the {folds} cross-validation folds",
                "lower search.cv.folds, or use a column with more groups",
                usage=False,
            )
    return Dataset(
        frame=frame,
        X_train=X.iloc[train_idx],
        y_train=y_train,
        X_test=X.iloc[test_idx],
        y_test=y_test,
        groups_train=None if groups is None else groups.iloc[train_idx],
        task=task,
        task_reason=reason,
        classes=classes,
        positive=positive,
        column_types=types,
        target=target,
        sources={},
        notes=notes,
        date_formats=date_formats,
        cv_folds=cv_folds,
        validation=validation,
    )


def _split_rows(loaded: Any, work: pd.DataFrame, y: pd.Series, task: str, notes: list[str]) -> tuple[np.ndarray, np.ndarray, pd.Series | None]:
    """Positions of the training and test rows (and the groups, for a group split)."""
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, train_test_split

    spec = loaded.spec
    sp = spec.data.split
    n = len(work)
    n_test = _n_test(loaded, sp.test_size, n)
    positions = np.arange(n)
    if sp.by in ("group", "time") and sp.column not in work.columns:
        raise _spec_error(loaded, ("data", "split", "column"), f"no column '{sp.column}' in the table", _columns_hint(sp.column, work.columns))

    if sp.by == "random":
        stratify = sp.stratify if sp.stratify is not None else task == "classification"
        if stratify and task == "regression":
            raise _spec_error(loaded, ("data", "split", "stratify"), "a regression target cannot be stratified", "remove stratify")
        if stratify and not sp.shuffle:
            raise _spec_error(loaded, ("data", "split", "shuffle"), "a stratified split needs shuffle: true", "set shuffle: true, or stratify: false")
        try:
            train, test = train_test_split(
                positions, test_size=n_test, random_state=spec.seed, shuffle=sp.shuffle, stratify=y.to_numpy() if stratify else None
            )
        except ValueError as exc:
            raise _spec_error(loaded, ("data", "split"), f"cannot split: {str(exc).splitlines()[0]}", "use a larger test_size, or stratify: false") from None
        return np.sort(train), np.sort(test), None

    if sp.by == "group":
        values = work[sp.column]
        codes = pd.factorize(values, use_na_sentinel=False)[0]
        n_groups = int(codes.max()) + 1
        if values.isna().any():
            notes.append(f"{int(values.isna().sum())} rows have no '{sp.column}': they are one group, kept on one side of the split and of every fold")
        # the folds get the codes: values of mixed types (text and NaN, numbers and text) cannot be sorted
        groups = pd.Series(codes, index=work.index, name=sp.column)
        if n_groups < 2:
            raise _spec_error(loaded, ("data", "split", "column"), f"'{sp.column}' has {n_groups} group; a group split needs at least 2", usage=False)
        share = sp.test_size if isinstance(sp.test_size, float) else n_test / n
        if sp.stratify and task == "regression":
            raise _spec_error(loaded, ("data", "split", "stratify"), "a regression target cannot be stratified", "remove stratify")
        if sp.stratify:
            # scikit-learn has no stratified group shuffle split: the test set is one fold of
            # StratifiedGroupKFold, so its share is 1/k (test_size 0.2: 1/5, 0.3: 1/3)
            k = max(2, round(1 / share))
            if k > n_groups:
                raise _spec_error(
                    loaded,
                    ("data", "split", "test_size"),
                    f"a stratified group split with test_size {sp.test_size} needs {k} groups of '{sp.column}', and there are {n_groups}",
                    "use a larger test_size, or stratify: false",
                    usage=False,
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "The least populated class in y has only 1 members"
                train, test = next(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=spec.seed).split(positions, y.to_numpy(), groups=codes))
            notes.append(
                f"test set: {len(np.unique(codes[test]))} of {n_groups} groups of '{sp.column}' ({len(test)} rows, {len(test) / n:.0%}), "
                f"stratified: one fold of {k} (StratifiedGroupKFold)"
            )
            return np.sort(train), np.sort(test), groups
        try:
            train, test = next(GroupShuffleSplit(n_splits=1, test_size=share, random_state=spec.seed).split(positions, groups=codes))
        except ValueError as exc:
            raise _spec_error(loaded, ("data", "split"), f"cannot split by groups: {str(exc).splitlines()[0]}", "use another test_size") from None
        notes.append(f"test set: {len(np.unique(codes[test]))} of {n_groups} groups of '{sp.column}' ({len(test)} rows)")
        return np.sort(train), np.sort(test), groups

    # by: time
    times = work[sp.column]
    if not (pd.api.types.is_datetime64_any_dtype(times) or pd.api.types.is_numeric_dtype(times)):
        parsed = _to_datetime(times)
        if parsed is None or (times.notna() & parsed.isna()).any():
            raise _spec_error(loaded, ("data", "split", "column"), f"'{sp.column}' holds values that are not dates or numbers", "split on a date/time or numeric column")
        times = parsed
    if times.isna().any():
        raise _spec_error(
            loaded, ("data", "split", "column"), f"{int(times.isna().sum())} rows have no '{sp.column}', so they cannot be placed in time", "fill or remove them in the source", usage=False
        )
    order = np.argsort(times.to_numpy(), kind="stable")
    return order[: n - n_test], order[n - n_test :], None


# -------------------------------------------------------------------------------- build


def build_dataset(loaded: Any, *, cache: bool = True, progress: Any = None) -> Dataset:
    """Load, assemble and split: the whole data side of a run.

    Args:
        loaded: The :class:`~automl_yaml.spec.LoadedSpec`.
        cache: False to ignore the source cache (``--no-cache``).
        progress: A ``rich.progress.Progress``, or None.
    """
    frames, infos = load_sources(loaded, cache=cache, progress=progress)
    frame, notes = _assemble(loaded, frames)
    dataset = split(loaded, frame)
    dataset.sources = infos
    dataset.notes = notes + dataset.notes
    return dataset
