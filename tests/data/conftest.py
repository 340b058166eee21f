"""Helpers shared by the data tests."""

from __future__ import annotations

import pytest


class RecordingProgress:
    """Records what a reader reports: a stand-in for ``rich.progress.Progress``
    that keeps every ``advance`` (so tests can see the chunked reads)."""

    def __init__(self):
        self.tasks: dict[int, dict] = {}
        self.advances: list[int] = []

    def add_task(self, description, total=None, **kw):
        self.tasks[len(self.tasks)] = {"description": description, "total": total, "completed": kw.get("completed", 0)}
        return len(self.tasks) - 1

    def update(self, task, advance=None, total=None, completed=None):
        t = self.tasks[task]
        if advance is not None:
            self.advances.append(advance)
            t["completed"] += advance
        if total is not None:
            t["total"] = total
        if completed is not None:
            t["completed"] = completed


@pytest.fixture
def recorder() -> RecordingProgress:
    return RecordingProgress()
