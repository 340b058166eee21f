"""The trial journal: one JSON line per event, appended as the search goes.

Two kinds of line::

    {"event": "start", "number": 3, "config": {...}, "time": 1718000000.1}
    {"event": "result", "number": 3, "config": {...}, "status": "ok", "values": [...], ...}

A ``result`` line is :meth:`TrialResult.to_dict` plus ``"event"``; it is
flushed and fsynced before the search goes on, so a finished trial survives
a killed process. ``start`` lines are flushed only: losing one costs nothing,
since a started trial without a result is run again on resume anyway.

Only the driving process writes (trials in worker processes send their
results back to it), so no lock is needed.
"""

from __future__ import annotations

import json
import os
import pathlib
import time

from ..errors import SearchError
from .base import Trial, TrialResult, decode_config, encode_config
from .space import SearchSpace


class Journal:
    """Appends trial events to a JSON Lines file.

    Args:
        path: The file; its folder is created when needed.
    """

    def __init__(self, path: pathlib.Path | str):
        self.path = pathlib.Path(path)
        self._file = None

    def open(self, *, fresh: bool) -> None:
        """Open for appending; ``fresh`` empties the file first (a new search)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            self._file = open(self.path, "w", encoding="utf-8")
        else:
            _drop_torn_tail(self.path)
            self._file = open(self.path, "a", encoding="utf-8")

    def _write(self, record: dict, *, sync: bool) -> None:
        if self._file is None:
            raise RuntimeError("the journal is not open")
        try:
            self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
            self._file.flush()
            if sync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            if exc.filename is None:  # a full disk: the error names the journal (a flush names no file)
                exc.filename = str(self.path)
            raise

    def started(self, trial: Trial) -> None:
        self._write({"event": "start", "number": trial.number, "config": encode_config(trial.config), "time": time.time()}, sync=False)

    def finished(self, result: TrialResult) -> None:
        self._write({"event": "result", **result.to_dict()}, sync=True)

    def close(self) -> None:
        if self._file is not None:
            f, self._file = self._file, None
            try:
                f.close()  # flushes what a full disk refused, and may refuse it again
            except OSError as exc:
                if exc.filename is None:
                    exc.filename = str(self.path)
                raise

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _drop_torn_tail(path: pathlib.Path) -> None:
    """Mend the end of a journal a killed process left without a final newline.

    A last line that is whole JSON (the kill came between the record and its
    newline) is kept, as :func:`read_journal` counts it; a torn one is cut.
    """
    if not path.exists():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    start = data.rfind(b"\n") + 1
    try:
        json.loads(data[start:])
    except ValueError:
        with open(path, "r+b") as f:
            f.truncate(start)
    else:
        with open(path, "ab") as f:
            f.write(b"\n")


def read_journal(path: pathlib.Path | str, space: SearchSpace | None = None) -> tuple[list[TrialResult], list[Trial]]:
    """The finished trials and the trials started but never finished.

    Args:
        path: The journal file (a missing file reads as empty).
        space: Decodes labelled configuration values back into the space's
            choices; without it they stay as ``{"$label": ...}``.

    Returns:
        ``(results in trial-number order, pending trials in number order)``.

    Raises:
        SearchError: a line in the middle of the file is not JSON, or the
            journal does not fit ``space``.
    """
    path = pathlib.Path(path)
    if not path.exists():
        return [], []
    lines = path.read_text(encoding="utf-8").split("\n")
    results: dict[int, TrialResult] = {}
    started: dict[int, dict] = {}
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if i == len(lines) - 1:  # a torn last line: the process died writing it
                break
            raise SearchError(f"the journal {path} is damaged at line {i + 1}: {e}", hint="start the search afresh, without resume") from e
        try:
            if record.get("event") == "start":
                started[record["number"]] = decode_config(space, record["config"]) if space is not None else record["config"]
            elif record.get("event") == "result":
                r = TrialResult.from_dict(record, space)
                results[r.number] = r
        except (KeyError, ValueError, TypeError) as e:
            raise SearchError(
                f"the journal {path} does not fit this search space (line {i + 1}: {e})",
                hint="the spec changed since that run: start afresh (without resume) or use another output folder",
            ) from e
    pending = [Trial(n, c) for n, c in sorted(started.items()) if n not in results]
    return [results[n] for n in sorted(results)], pending
