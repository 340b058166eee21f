"""`mlx run` on a disk that fails it: full (during the search, during the model's save) or read-only.

Each is the machine's failure, not a bug: the cause and the path, exit 1, and the
resume command when resuming works (then that command finishes the run).

How the failures are made: a read-only output folder is real (``chmod`` as a
user; as root, whom ``chmod`` does not stop, ``chattr +i``; skipped where
neither works). A full disk is simulated in this process (no small file system
can be mounted here): the journal's ``open`` gives a file whose ``flush``
raises ``OSError(ENOSPC)`` after two trials, as a full disk's does, and
``shutil.copyfile`` raises it while MLflow copies the model's code.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import subprocess

import pytest

from automl_yaml.cli import main
from automl_yaml.search import journal as journal_module

pytestmark = pytest.mark.slow

FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _resume_line(err: str) -> str:
    """The resume command the error's hint gives."""
    hint = next(ln for ln in err.splitlines() if "then continue with: " in ln)
    return hint.split("then continue with: ", 1)[1].strip()


class _FullAfter:
    """A journal file on a disk that fills up after ``results`` trial results: writes are buffered, flushes fail."""

    def __init__(self, f, results: int):
        self._f = f
        self.left = results
        self.pending = ""

    def write(self, text: str) -> int:
        if self.pending or (text.startswith('{"event":"result"') and self.left == 0):
            self.pending += text
            return len(text)
        if text.startswith('{"event":"result"'):
            self.left -= 1
        return self._f.write(text)

    def flush(self) -> None:
        if self.pending:
            raise OSError(FULL.errno, FULL.strerror)
        self._f.flush()

    def fileno(self) -> int:
        return self._f.fileno()

    def close(self) -> None:
        self._f.close()
        if self.pending:  # what close's own flush does with what the disk refused
            raise OSError(FULL.errno, FULL.strerror)


def test_a_full_disk_during_the_search_names_it_and_resume_finishes(tmp_path, small_spec, monkeypatch, capsys):
    spec = small_spec({"tracking": False, "search": {"budget": {"trials": 6}}})

    def full_open(path, mode="r", **kwargs):
        return _FullAfter(open(path, mode, **kwargs), results=2)

    monkeypatch.setattr(journal_module, "open", full_open, raising=False)
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    journal = tmp_path / "runs" / "small" / "search" / "trials.jsonl"
    assert f"error: the disk is full (No space left on device): cannot write {journal}" in err, err
    assert "internal error" not in err and "please report it" not in err
    line = _resume_line(err)
    assert line == f"mlx run {spec} --resume"
    monkeypatch.undo()  # space was freed
    assert main(shlex.split(line)[1:]) == 0
    summary = json.loads((tmp_path / "runs" / "small" / "summary.json").read_text())
    assert summary["trials"]["total"] == 6


def test_a_full_disk_during_the_model_save_says_so_and_resume_finishes(tmp_path, small_spec, monkeypatch, capsys):
    """MLflow's own message was 'Failed to copy the specified code path ... cannot be copied': no word of the disk."""
    spec = small_spec({"tracking": False, "search": {"budget": {"trials": 3}}})
    out = tmp_path / "runs" / "small"
    monkeypatch.setenv("MLX_SIDECARS", "0")  # the model is saved in this process, where the disk is full
    real = shutil.copyfile

    def copyfile(src, dst, *args, **kwargs):
        if str(dst).startswith(str(out)):
            raise OSError(FULL.errno, FULL.strerror, str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copyfile)
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    # the model is written aside (the output folder's .mlx-next) and moved in when the run ends
    assert f"error: the disk is full (No space left on device): cannot write {out / '.mlx-next' / 'model'}\n" in err, err
    assert "internal error" not in err and "Failed to copy" not in err
    line = _resume_line(err)
    assert line == f"mlx run {spec} --resume"
    results = (out / "search" / "trials.jsonl").read_text().count('"event":"result"')
    monkeypatch.undo()
    monkeypatch.setenv("MLX_SIDECARS", "0")
    assert main(shlex.split(line)[1:]) == 0
    assert (out / "model" / "MLmodel").exists()
    assert (out / "search" / "trials.jsonl").read_text().count('"event":"result"') == results == 3  # no trial run again


@pytest.fixture
def read_only():
    """Makes a folder read-only for this process, for real; undone at the end."""
    made = []

    def make(folder):
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            folder.chmod(0o555)
            made.append(lambda: folder.chmod(0o755))
            return folder
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("root, and no chattr +i on this file system: a folder cannot be made read-only")
        made.append(lambda: subprocess.run(["chattr", "-i", str(folder)], check=True))
        return folder

    yield make
    for undo in made:
        undo()


def test_a_read_only_output_folder_is_named_not_an_internal_error(tmp_path, small_spec, read_only, capsys):
    spec = small_spec({"tracking": False})
    out = read_only(tmp_path / "runs" / "small")
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    assert f"error: permission denied: {out / '.lock'}\n" in err or f"error: operation not permitted: {out / '.lock'}\n" in err, err
    assert "hint: check that path's permissions (the output folder must be writable), or set another output folder with -o" in err
    assert "internal error" not in err and "Traceback" not in err


def test_a_read_only_folder_for_another_command_is_named_not_an_internal_error(tmp_path, read_only, capsys):
    folder = read_only(tmp_path / "schemas")
    assert main(["schema", "-o", str(folder / "spec.schema.json")]) == 1
    err = capsys.readouterr().err
    assert f": {folder}" in err and "internal error" not in err, err


def test_a_storage_failure_is_found_where_a_library_wrapped_it():
    import sqlite3

    from automl_yaml.errors import storage_error

    read_only = storage_error(OSError(errno.EROFS, os.strerror(errno.EROFS), "/data/out/summary.json"))
    assert read_only.render() == (
        "error: the file system is read-only (Read-only file system): cannot write /data/out/summary.json\n"
        "  hint: set an output folder on a writable disk with -o"
    )
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as exc:
            raise RuntimeError("(sqlite3.OperationalError) database or disk is full [SQL: INSERT ...]") from exc
    except RuntimeError as exc:
        full = storage_error(exc, folder="/data/out", resume="mlx run spec.yaml --resume")
    assert full.message == "the disk is full (No space left on device): cannot write /data/out"
    assert full.hint.endswith("; then continue with: mlx run spec.yaml --resume") and full.exit_code == 1
    assert storage_error(ValueError("[Errno 2] No such file or directory: 'x'")) is None  # not the disk's failure
