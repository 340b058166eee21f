"""``mlx validate --check-data``: the spec's column names against the real sources.

Opens each source's schema (Parquet metadata, a CSV header and a few rows, a
``LIMIT`` query, one MongoDB document: never a whole table where the format
allows) and checks every name the spec uses: the target, ``drop``, join keys,
``split.column``, ``types`` and ``preprocess.columns``. Then it infers the task
from a sample of the target. Every problem is located in the spec file, with a
did-you-mean hint, like the structural checks of ``mlx validate``.
"""

from __future__ import annotations

from typing import Any

from ..errors import AutomlYamlError, Problem, suggestion_hint
from ..spec.loader import dotted
from .assemble import infer_task, no_rows, no_target_values, one_class, used_sources
from .sources import open_source

__all__ = ["check_data", "SAMPLE_ROWS"]

#: Rows of the target read to check that the task can be inferred.
SAMPLE_ROWS = 1000


def check_data(loaded: Any) -> list[Problem]:
    """Problems between the spec and its data, each located in the spec file.

    Args:
        loaded: The :class:`~automl_yaml.spec.LoadedSpec` (a valid spec).

    Returns:
        Errors (a missing column, an unreachable source, a task that cannot
        be) and warnings; empty when the data fits the spec.
    """
    return _Checker(loaded).run()


class _Checker:
    def __init__(self, loaded: Any):
        self.loaded = loaded
        self.spec = loaded.spec
        self.problems: list[Problem] = []
        self.readers: dict[str, Any] = {}
        self.schemas: dict[str, dict[str, str]] = {}

    def add(self, path: tuple, message: str, hint: str | None = None, *, key: bool = False, severity: str = "error") -> None:
        location = self.loaded.smap.locate(path, key=key)
        self.problems.append(Problem(message, path=dotted(path), location=location, hint=hint or None, severity=severity))

    def run(self) -> list[Problem]:
        for name in used_sources(self.spec):
            self.open(name)
        columns = self.columns()
        if columns is not None:
            self.check_names(columns)
            if self.spec.data.target in columns:
                self.check_task()
            self.check_types()
            self.check_time_split()
            self.check_select(columns)
        return self.problems

    def open(self, name: str) -> None:
        frames = getattr(self.loaded, "frames", None) or {}
        if self.spec.sources[name].kind == "frame" and name not in frames:
            # not an error of the spec: `mlx validate --check-data` cannot be given a DataFrame
            self.add(
                ("sources", name),
                "a `kind: frame` source is given at run time: its columns are not checked",
                f'to check them, give the DataFrame: automl_yaml.validate(spec, check_data=True, frames={{"{name}": df}})',
                severity="warning",
            )
            return
        try:
            reader = open_source(name, self.spec.sources[name], base_dir=self.loaded.base_dir, frames=frames)
            self.readers[name] = reader
            schema = reader.schema()
            if reader.head(1).empty:  # the run stops at it
                raise no_rows(reader)
            self.schemas[name] = schema
        except AutomlYamlError as exc:
            self.add(("sources", name), exc.message, exc.hint)

    def columns(self) -> list[str] | None:
        """The columns of the assembled table (None when a source could not be opened)."""
        data = self.spec.data
        main = self.spec.main_source
        if main not in self.schemas:
            return None
        columns = list(self.schemas[main])
        for i, join in enumerate(data.join):
            right = self.schemas.get(join.source)
            if right is None:
                return None
            field_left, field_right = ("on", "on") if join.on else ("left_on", "right_on")
            left_on = list(join.on or join.left_on)
            right_on = list(join.on or join.right_on)
            for keys, cols, field, side in ((left_on, columns, field_left, "the table so far"), (right_on, list(right), field_right, f"source '{join.source}'")):
                for k, key in enumerate(keys):
                    if key not in cols:
                        path = ("data", "join", i, field) + ((k,) if len(keys) > 1 else ())
                        self.add(path, f"join with '{join.source}': the key '{key}' is not a column of {side}", suggestion_hint(key, cols, what="column"))
            keep = set(join.on or [])
            columns += [c + f"_{join.source}" if c in columns and c not in keep else c for c in right if c not in keep]
        return columns

    def check_names(self, columns: list[str]) -> None:
        data = self.spec.data

        def missing(path: tuple, name: str, what: str, *, key: bool = False) -> None:
            if name not in columns:
                self.add(path, f"no column '{name}' in the table{what}", suggestion_hint(name, columns, what="column"), key=key)

        missing(("data", "target"), data.target, "")
        for i, col in enumerate(data.drop):
            missing(("data", "drop", i), col, " to drop")
        if data.split.column:
            missing(("data", "split", "column"), data.split.column, "")
        for col in data.types:
            missing(("data", "types", col), col, "", key=True)
        for col in self.spec.preprocess.columns:
            missing(("preprocess", "columns", col), col, "", key=True)

    def max_features(self, columns: list[str]) -> int | None:
        """An upper bound of the features that reach selection (after encoding), or None if unbounded."""
        spec = self.spec
        pre = spec.preprocess
        dtypes: dict[str, str] = {}
        for schema in self.schemas.values():
            for c, t in schema.items():
                dtypes.setdefault(c, t)
        skip = {spec.data.target, *spec.data.drop}
        skip |= {c for c, t in spec.data.types.items() if t == "ignore"}
        skip |= {c for c, o in pre.columns.items() if o.drop or o.type == "ignore"}
        if pre.categorical.max_categories is None:
            return None
        text = pre.text.max_features if pre.text.encode == "tfidf" else 1
        total = 0
        for col in columns:
            if col in skip:
                continue
            kind = dtypes.get(col, "object").lower()
            if kind.startswith(("int", "uint", "float")):
                total += 2 if pre.numeric.missing_indicator else 1
            elif kind.startswith("bool"):
                total += 1
            elif kind.startswith("datetime"):
                total += len(pre.datetime.parts)
            else:
                total += max(pre.categorical.max_categories, text, 1)
        self.n_feature_columns = len([c for c in columns if c not in skip])
        return total

    def check_select(self, columns: list[str]) -> None:
        """A selector asking for more features than can reach it (``k: 1000`` on a table of 8 columns)."""
        from ..spec.space import Choice, IntRange

        steps = self.spec.select
        if not steps:
            return
        bound = self.max_features(columns)
        if bound is None:
            return

        def largest(value: Any) -> int | None:
            if isinstance(value, bool):
                return None
            if isinstance(value, int):
                return value
            if isinstance(value, IntRange):
                return value.high
            if isinstance(value, Choice):
                ints = [v for v in value.choice if isinstance(v, int) and not isinstance(v, bool)]
                return max(ints) if ints else None
            if isinstance(value, tuple) and len(value) == 2:
                return largest(value[1])
            return None

        for i, step in enumerate(steps):
            kind = next(iter(type(step).model_fields))
            opts = getattr(step, kind)
            field, severity, effect = {
                "univariate": ("k", "warning", "all of them are kept"),
                "sequential": ("k_features", "error", "the selection fails"),
                "rfe": ("n_features", "warning", "all of them are kept"),
                "importance": ("max_features", "warning", "the limit does nothing"),
            }.get(kind, (None, None, None))
            if field is None:
                continue
            value = getattr(opts, field)
            if kind == "sequential" and isinstance(value, tuple) and len(value) == 2:
                if value[0] > bound:
                    value = value[0]
                else:
                    value, severity, effect = value[1], "warning", f"it is capped at the features found (at most {bound})"
            k = largest(value)
            if k is not None and k > bound:
                self.add(
                    ("select", i, kind, field),
                    f"{field}={k}, but at most {bound} features can reach this step, even after one-hot encoding; {effect}",
                    f"lower {field}: the data has {self.n_feature_columns} feature columns" + (", or use 'best'" if kind == "sequential" else ""),
                    severity=severity,
                )

    def check_types(self) -> None:
        """A column typed in the spec whose first rows contradict the type, as the run would find it.

        ``types: {day: numeric}`` on dates, ``datetime`` on numbers that are not yyyymmdd, ...
        """
        from types import SimpleNamespace

        from .assemble import _coerce

        overrides = {c: o.type for c, o in self.spec.preprocess.columns.items() if o.type}
        overrides.update(self.spec.data.types)
        samples: dict[str, Any] = {}
        unlocated = SimpleNamespace(spec=self.spec, path=None, smap=self.loaded.smap)  # the message without its file:line:col
        for col, kind in overrides.items():
            name = next((n for n, s in self.schemas.items() if col in s), None)
            if kind not in ("numeric", "datetime", "boolean") or name is None or col == self.spec.data.target:
                continue  # (the run types the features only; validate warns about a typed target)
            if name not in samples:
                try:
                    samples[name] = self.readers[name].head(SAMPLE_ROWS)
                except AutomlYamlError as exc:
                    self.add(("sources", name), exc.message, exc.hint)
                    samples[name] = None
            if samples[name] is None:
                continue
            try:
                _coerce(unlocated, samples[name][[col]], {col: kind}, {col: kind}, [])
            except AutomlYamlError as exc:
                path = ("data", "types", col) if col in self.spec.data.types else ("preprocess", "columns", col, "type")
                self.add(path, exc.message.removeprefix(dotted(path) + ": "), exc.hint)

    def check_time_split(self) -> None:
        """``split: {by: time}`` on a column whose first rows are neither dates nor numbers: the run refuses it."""
        from types import SimpleNamespace

        import pandas as pd

        from .assemble import _coerce, _to_datetime

        split = self.spec.data.split
        name = next((n for n, s in self.schemas.items() if split.column in s), None) if split.by == "time" and split.column else None
        if name is None or self.spec.data.types.get(split.column) in ("numeric", "datetime"):
            return  # (a typed column: check_types reads it as its type)
        try:
            values = self.readers[name].head(SAMPLE_ROWS)[split.column]
        except AutomlYamlError:
            return  # said by check_types or check_task
        if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
            return
        parsed = _to_datetime(values)
        if parsed is not None and not (values.notna() & parsed.isna()).any():
            return
        unlocated = SimpleNamespace(spec=self.spec, path=None, smap=self.loaded.smap)
        try:  # numbers the run reads as numbers (units, durations, thousands separators) order rows too
            _coerce(unlocated, values.to_frame(), {split.column: "numeric"}, {split.column: "numeric"}, [])
            return
        except AutomlYamlError:
            pass
        self.add(("data", "split", "column"), f"'{split.column}' holds values that are not dates or numbers", "split on a date/time or numeric column")

    def check_folds(self, y: Any, task: str) -> None:
        """The run's first check of the folds (every class in at least ``search.cv.folds`` rows), on the whole table."""
        from types import SimpleNamespace

        import pandas as pd

        from .assemble import _check_folds

        cv = self.spec.search.cv
        folds = cv.folds if "folds" in cv.model_fields_set else 2  # unset: the run lowers the default itself
        unlocated = SimpleNamespace(spec=self.spec, path=None, smap=self.loaded.smap)  # the message without its file:line:col
        codes, classes = pd.factorize(y) if task == "classification" else (None, None)
        try:
            if codes is None:
                _check_folds(unlocated, y, None, folds, "the table")
            else:
                _check_folds(unlocated, pd.Series(codes, index=y.index), list(classes), folds, "the table")
        except AutomlYamlError as exc:
            path = ("search", "cv", "folds") if exc.message.startswith("search.cv.folds: ") else ("data", "target")
            self.add(path, exc.message.removeprefix(dotted(path) + ": "), exc.hint)

    def check_positive(self, y: Any, n_classes: int, *, whole: bool) -> None:
        """``data.positive`` as the run reads it: a class of a binary target, and ignored (a note) on more classes."""
        from .assemble import _encode_target

        if n_classes == 2 and not whole:
            return  # more rows may hold the class it names, or a third one
        notes: list[str] = []
        try:
            _encode_target(y, self.spec.data.positive, notes)
        except AutomlYamlError as exc:  # as the run says it
            self.add(("data", "positive"), f"{self.spec.data.positive!r} is not a class of the target", exc.hint)
            return
        if any(n.startswith("data.positive is ignored") for n in notes):
            more = "" if whole else f" in its first {len(y)} rows"
            self.add(
                ("data", "positive"),
                f"ignored: the target has {n_classes} classes{more} (the run says so in a note)",
                "remove data.positive (it picks the positive class of a binary target)",
                severity="warning",
            )

    def check_task(self) -> None:
        data = self.spec.data
        target = data.target
        name = next((n for n, s in self.schemas.items() if target in s), None)
        if name is None:  # the target is a renamed joined column: nothing cheap to sample
            return
        try:
            sample = self.readers[name].head(SAMPLE_ROWS)[target]
        except AutomlYamlError as exc:
            self.add(("sources", name), exc.message, exc.hint)
            return
        whole = len(sample) < SAMPLE_ROWS  # the whole table: its rows and classes, checked as the run checks them
        if sample.isna().all():
            if whole:
                self.add(("data", "target"), *no_target_values(target, len(sample)))
            else:
                self.add(("data", "target"), f"the first {len(sample)} rows of '{name}' have no value of '{target}'", "check the target column", severity="warning")
            return
        try:
            task, _ = infer_task(sample, data.task)
        except AutomlYamlError as exc:
            self.add(("data", "task") if data.task != "auto" else ("data", "target"), exc.message, exc.hint)
            return
        values = sample.dropna()
        n_classes = int(values.nunique())
        if whole and n_classes < 2:
            self.add(("data", "target"), *one_class(target, task, values.iloc[0], len(values)))
            return
        if whole:
            self.check_folds(values, task)
        if task == "classification" and data.positive is not None:
            self.check_positive(values, n_classes, whole=whole)
        if task == "classification" and n_classes > 2:  # the first rows already show more than two classes
            from .. import registry as R
            from ..components.metrics import resolve

            try:
                resolve([m for m in self.spec.search.metrics() if m in R.metrics], task, n_classes=n_classes)
            except AutomlYamlError as exc:
                self.add(("search", "metric"), exc.message, exc.hint)
