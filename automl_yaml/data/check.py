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
from .assemble import infer_task, used_sources
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
        return self.problems

    def open(self, name: str) -> None:
        try:
            reader = open_source(name, self.spec.sources[name], base_dir=self.loaded.base_dir)
            self.readers[name] = reader
            self.schemas[name] = reader.schema()
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
        if sample.isna().all():
            self.add(("data", "target"), f"the first {len(sample)} rows of '{name}' have no value of '{target}'", "check the target column", severity="warning")
            return
        try:
            infer_task(sample, data.task)
        except AutomlYamlError as exc:
            self.add(("data", "task") if data.task != "auto" else ("data", "target"), exc.message, exc.hint)
