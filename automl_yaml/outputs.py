"""A run's output folder: what mlx wrote there, and replacing it without losing anything else.

The output folder may be a user's own (``mlx run spec.yaml -o .`` in a project
folder). mlx lists what it writes there in a manifest, ``.mlx-run.json``: every
name (``model``, ``search``, ``leaderboard.csv``...) with the files under it. A
later run replaces only what the manifest lists; it refuses to start when a
name it would write holds anything else (a user's ``model/README``), and says
when it replaces an earlier run's results. The spec being read is never written
over: when it is the folder's ``spec.yaml``, the run's redacted copy is
``spec.run.yaml``.

The results (model, plots, leaderboard, summary, report, plan, profile, the
spec's copy) are written into ``.mlx-next`` inside the folder and moved into
place (renames) when the run has finished: a run that fails midway (a full
disk) leaves the earlier run's results as they were. ``search/`` stays in
place, and is listed when the run starts: ``--resume`` continues from its journal.

A folder an earlier version of mlx wrote (no manifest, but its search state)
counts as mlx's.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .errors import UsageError
from .io import atomic_write_json

MANIFEST = ".mlx-run.json"
STAGING = ".mlx-next"  # the results being written
PREVIOUS = ".mlx-prev"  # the earlier results, while the new ones are moved in
SEARCH = "search"
SPEC_COPY = "spec.yaml"
SPEC_COPY_BESIDE = "spec.run.yaml"  # when the spec being read is the folder's spec.yaml
#: What the last steps write, into the staging folder.
RESULTS = ("model", "plots", "profile", "leaderboard.csv", "summary.json", "report.html", "plan.json", SPEC_COPY, SPEC_COPY_BESIDE)
#: Replaced only by a new one: `mlx profile` writes it, and a run without a profile step keeps it.
KEPT = ("profile",)


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _files(out: Path, name: str) -> list[str]:
    """The files under ``out/name`` (``name`` itself for a file), relative to ``out``; links are not followed."""
    path = out / name
    if path.is_symlink() or not path.is_dir():
        return [name] if _exists(path) else []
    found = []
    for root, dirs, files in os.walk(path):
        rel = Path(root).relative_to(out).as_posix()
        found += [f"{rel}/{f}" for f in files]
        found += [f"{rel}/{d}" for d in dirs if (Path(root) / d).is_symlink()]
    return sorted(found)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.is_file() and os.path.samefile(a, b)
    except OSError:
        return False


class OutputFolder:
    """The manifest of one output folder, and the staging of a run's results."""

    def __init__(self, out: Path, spec_path: str | os.PathLike | None = None):
        self.out = Path(out)
        # the spec being read, when it is one of the names a run writes: never touched
        self.reading = None
        if spec_path is not None:
            self.reading = next((n for n in RESULTS if _same_file(self.out / n, Path(spec_path))), None)
        self.spec_copy = SPEC_COPY_BESIDE if self.reading == SPEC_COPY else SPEC_COPY
        self.entries = self._read()

    @property
    def staging(self) -> Path:
        return self.out / STAGING

    def _read(self) -> dict[str, list[str] | None]:
        """``{name: its files, or None while a run is writing it}``."""
        try:
            data = json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("entries"), dict):
            return {str(k): ([str(f) for f in v] if isinstance(v, list) else None) for k, v in data["entries"].items()}
        try:  # written before the manifest existed: the search state says it is mlx's
            state = json.loads((self.out / SEARCH / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if isinstance(state, dict) and {"spec_hash", "search_id"} <= set(state):
            return {n: None for n in (SEARCH, *RESULTS) if n != self.reading and _exists(self.out / n)}
        return {}

    def _write(self) -> None:
        atomic_write_json(self.out / MANIFEST, {"written_by": "automl-yaml", "entries": self.entries})

    def replaced(self, profile: bool) -> list[str]:
        """The names a run writes (the search, the results; the profile when the run has one) or removes (the earlier results)."""
        names = [SEARCH, "model", "plots", "leaderboard.csv", "summary.json", "report.html", "plan.json", self.spec_copy]
        names += ["profile"] if profile else []
        return list(dict.fromkeys([*names, *(n for n in self.entries if n in RESULTS and n not in KEPT)]))

    def foreign(self, names) -> list[str]:
        """What is under ``names`` that mlx did not write."""
        found: list[str] = []
        for name in names:
            path = self.out / name
            if name == self.reading or not _exists(path):
                continue
            if name not in self.entries:
                found.append(name + ("/" if path.is_dir() and not path.is_symlink() else ""))
            elif self.entries[name] is not None:
                listed = set(self.entries[name])
                found += [f for f in _files(self.out, name) if f not in listed]
        return found

    def check(self, names, *, ending: bool = False) -> None:
        """Refuse (exit 2) to write over what is not mlx's."""
        found = self.foreign(names)
        if not found:
            return
        shown = ", ".join(found[:8]) + (f" and {len(found) - 8} more" if len(found) > 8 else "")
        if ending:  # put there while the run went on: its results are not moved in
            raise UsageError(
                f"files mlx did not write appeared in the output folder {self.out} during the run: {shown}; nothing was replaced",
                hint="move them away, then run again with --resume: the search's trials are not run again",
            )
        raise UsageError(
            f"the output folder {self.out} holds files mlx did not write, which this run would replace or delete: {shown}",
            hint="set another output folder (-o runs/NAME, or output: in the spec), or move those files away",
        )

    def earlier_results(self) -> bool:
        """Does the folder hold an earlier run's results (that this run replaces)?"""
        return any(n in self.entries and _exists(self.out / n) for n in ("summary.json", "model", "leaderboard.csv"))

    def claim(self, *names: str) -> None:
        """Record ``names`` as mlx's before writing them in place (their files are listed by :meth:`record`)."""
        for name in names:
            self.entries[name] = None
        self._write()

    def record(self, *names: str) -> None:
        """List the files now under ``names``."""
        for name in names:
            if _exists(self.out / name):
                self.entries[name] = _files(self.out, name)
            else:
                self.entries.pop(name, None)
        self._write()

    def stage(self) -> Path:
        """A new, empty staging folder (a failed run's, or one left by a crash, goes)."""
        for leftover in (self.staging, self.out / PREVIOUS):
            shutil.rmtree(leftover, ignore_errors=True)
        self.staging.mkdir(parents=True)
        return self.staging

    def discard(self) -> None:
        """The staged results of a run that did not finish."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self) -> None:
        """Move the staged results into place; the earlier run's results go (renames only: no space is needed)."""
        staged = [p.name for p in self.staging.iterdir()]
        old = [n for n in self.entries if n in RESULTS and n != self.reading and (n in staged or n not in KEPT)]
        self.check([*staged, *old], ending=True)
        # a crash half-way leaves names claimed (mlx's, unlisted): the next run replaces them
        for name in staged:
            self.entries[name] = None
        self._write()
        previous = self.out / PREVIOUS
        shutil.rmtree(previous, ignore_errors=True)
        previous.mkdir()
        for name in old:
            if _exists(self.out / name):
                os.replace(self.out / name, previous / name)
            self.entries.pop(name, None)
        for name in staged:
            os.replace(self.staging / name, self.out / name)
        self.record(*staged, *([SEARCH] if _exists(self.out / SEARCH) else []))
        shutil.rmtree(previous, ignore_errors=True)
        self.discard()
