"""A run's output folder (issue 15, point 1): what is in it that mlx did not write stays.

`mlx run spec.yaml -o .` in a project folder: a user's files under the names a
run writes stop it (exit 2) before anything is written; the spec being read is
never written over (the run's copy is spec.run.yaml); a second run says it
replaces the first one's results; a run that fails midway (a real write error:
a file-size limit, as a full disk gives) leaves the earlier results whole, and
``--resume`` then finishes it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from automl_yaml.cli import main

pytestmark = pytest.mark.slow

SPEC_TEXT = """\
# my spec: these comments are mine
name: small
seed: 3
sources: {penguins: penguins.csv}   # the data
data: {target: species}
models:
  logistic_regression: {params: {C: {float: [0.01, 10], log: true}, max_iter: 500}}
search: {strategy: random, budget: {trials: 3}, cv: {folds: 3}}
execution: {n_jobs: 1}
tracking: false
"""


def _mlx(*args: str, cwd: Path, limit: int | None = None) -> subprocess.CompletedProcess:
    """``mlx ARGS`` in a new process (with a file-size limit: writing a larger file fails with EFBIG, as a full disk fails)."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "automl_yaml", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, preexec_fn=limited
    )


def _snapshot(folder: Path, skip=()) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in skip
    }


@pytest.fixture
def project(tmp_path, penguins_csv) -> Path:
    """A user's project folder: the spec (with comments) and the data."""
    (tmp_path / "spec.yaml").write_text(SPEC_TEXT)
    return tmp_path


def test_a_run_refuses_a_folder_holding_files_it_did_not_write(project):
    (project / "model").mkdir()
    (project / "model" / "README").write_text("my model notes")
    (project / "search").mkdir()
    (project / "search" / "notes.md").write_text("my search notes")
    (project / "leaderboard.csv").write_text("mine,1\n")
    before = _snapshot(project)
    done = _mlx("run", "spec.yaml", "-o", ".", cwd=project)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"the output folder {project} holds files mlx did not write" in done.stderr
    for name in ("model/", "search/", "leaderboard.csv"):
        assert name in done.stderr
    assert "hint: set another output folder (-o runs/NAME" in done.stderr
    after = _snapshot(project, skip=(".lock",))
    assert after == before  # nothing touched, nothing written
    assert not (project / "summary.json").exists()


def test_a_run_in_the_specs_folder_keeps_the_spec_and_replaces_only_its_own_results(project, capsys):
    (project / "notes.txt").write_text("my notes")
    (project / ".lock").write_text("a lock file of mine")  # the run locks it, and does not empty it
    # `mlx profile` first (binary-missing's README says so): its profile/ is mlx's, and a run keeps it
    assert main(["profile", str(project / "spec.yaml"), "--set", "output=."]) == 0
    assert (project / "profile" / "profile.html").is_file()
    assert main(["run", str(project / "spec.yaml"), "-o", ".", "--quiet"]) == 0
    assert (project / "spec.yaml").read_text() == SPEC_TEXT  # never written over
    copy = yaml.safe_load((project / "spec.run.yaml").read_text())  # the run's (redacted) copy, beside it
    assert copy["name"] == "small" and copy["output"] == "."
    summary = json.loads((project / "summary.json").read_text())
    assert summary["paths"]["spec"] == "spec.run.yaml"
    assert (project / "notes.txt").read_text() == "my notes"
    assert (project / ".lock").read_text() == "a lock file of mine"
    assert (project / "profile" / "profile.html").is_file()
    assert not (project / ".mlx-next").exists()
    capsys.readouterr()

    assert main(["run", str(project / "spec.yaml"), "-o", ".", "--set", "search.budget.trials=2"]) == 0
    out = capsys.readouterr()
    assert f"the outputs of the last run in {project} are replaced" in out.out + out.err
    assert (project / "spec.yaml").read_text() == SPEC_TEXT
    assert len(pd.read_csv(project / "leaderboard.csv")) == 2

    # a file of the user's inside a folder mlx wrote: named, and kept
    (project / "model" / "NOTES.md").write_text("what I found")
    assert main(["run", str(project / "spec.yaml"), "-o", "."]) == 2
    err = capsys.readouterr().err
    assert "holds files mlx did not write" in err and "model/NOTES.md" in err
    assert (project / "model" / "NOTES.md").read_text() == "what I found"
    assert len(pd.read_csv(project / "leaderboard.csv")) == 2


def test_a_run_that_fails_midway_leaves_the_earlier_results_and_resumes(project):
    out = project / "runs" / "small"
    assert main(["run", str(project / "spec.yaml"), "--quiet"]) == 0
    results = _snapshot(out, skip=("search", ".cache", ".lock", ".mlx-run.json"))
    assert {"summary.json", "leaderboard.csv", "report.html", "plan.json", "model/MLmodel"} <= set(results)

    # another run (4 trials) whose writing fails after its search: a file over 100 kB cannot be written
    failed = _mlx("run", "spec.yaml", "--set", "search.budget.trials=4", cwd=project, limit=100_000)
    assert failed.returncode == 1, failed.stderr
    trials = [json.loads(line) for line in (out / "search" / "trials.jsonl").read_text().splitlines()]
    assert sorted(t["number"] for t in trials if t.get("event") == "result") == [0, 1, 2, 3]  # its search ended
    # the results are the first run's, every byte: none of the second's
    assert _snapshot(out, skip=("search", ".cache", ".lock", ".mlx-run.json")) == results
    assert not (out / ".mlx-next").exists()

    # free space again: --resume runs no trial again and puts the new results in place
    assert main(["run", str(project / "spec.yaml"), "--set", "search.budget.trials=4", "--resume", "--quiet"]) == 0
    trials = [json.loads(line) for line in (out / "search" / "trials.jsonl").read_text().splitlines()]
    assert sorted(t["number"] for t in trials if t.get("event") == "result") == [0, 1, 2, 3]
    assert json.loads((out / "summary.json").read_text())["trials"]["total"] == 4
    assert len(pd.read_csv(out / "leaderboard.csv")) == 4


def test_a_file_put_in_the_output_folder_during_the_run_is_kept_and_resume_finishes(project, monkeypatch, capsys):
    from automl_yaml import outputs

    assert main(["run", str(project / "spec.yaml"), "-o", ".", "--set", "search.budget.trials=2", "--quiet"]) == 0
    first = _snapshot(project, skip=("search", ".cache", ".lock", ".mlx-run.json"))
    real_commit = outputs.OutputFolder.commit

    def user_writes_then_commit(self):  # the user saves a note in model/ while the second run finishes
        (project / "model" / "NOTES.md").write_text("written during the run")
        return real_commit(self)

    monkeypatch.setattr(outputs.OutputFolder, "commit", user_writes_then_commit)
    capsys.readouterr()
    assert main(["run", str(project / "spec.yaml"), "-o", ".", "--set", "search.budget.trials=3"]) == 2
    err = capsys.readouterr().err
    assert "files mlx did not write appeared in the output folder" in err and "model/NOTES.md" in err and "--resume" in err
    assert _snapshot(project, skip=("search", ".cache", ".lock", ".mlx-run.json")) == {**first, "model/NOTES.md": b"written during the run"}
    monkeypatch.setattr(outputs.OutputFolder, "commit", real_commit)
    (project / "model" / "NOTES.md").unlink()
    assert main(["run", str(project / "spec.yaml"), "-o", ".", "--set", "search.budget.trials=3", "--resume", "--quiet"]) == 0
    assert len(pd.read_csv(project / "leaderboard.csv")) == 3


def test_a_folder_an_earlier_version_wrote_is_mlxs(tmp_path):
    """Before the manifest: the search state says the folder is mlx's (a second run replaces it, as it did)."""
    from automl_yaml.outputs import OutputFolder

    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "state.json").write_text(json.dumps({"spec_hash": "x", "search_id": "search", "complete": True}))
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("")
    (tmp_path / "summary.json").write_text("{}")
    folder = OutputFolder(tmp_path)
    assert folder.foreign(folder.replaced(profile=True)) == [] and folder.earlier_results()
    (tmp_path / "search" / "state.json").write_text("{}")  # not a search state: nothing here is known to be mlx's
    folder = OutputFolder(tmp_path)
    assert folder.foreign(folder.replaced(profile=True)) == ["search/", "model/", "summary.json"]
