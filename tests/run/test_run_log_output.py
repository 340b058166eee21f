"""`mlx run` written to a pipe or a log file: whole lines, no leading blank line, stdout kept for results."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

GRID = {
    "tracking": False,
    "models": {"logistic_regression": {"params": {"C": {"choice": [0.1, 1.0]}, "max_iter": 500}}},
    "search": {"strategy": "grid", "budget": {"trials": None}},
}


def _mlx(*args, columns: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    # Not a terminal: stdout and stderr are pipes; nothing may make rich think otherwise.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env["MPLBACKEND"] = "Agg"
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run([sys.executable, "-m", "automl_yaml", *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def test_a_log_starts_with_text_keeps_lines_whole_and_says_the_grid_was_exhausted(tmp_path, small_spec):
    spec = small_spec(GRID)
    proc = _mlx("run", str(spec))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # the display is on stderr
    lines = proc.stderr.splitlines()
    # no blank line first (rich ends a transient progress bar with one outside a terminal)
    assert lines[0].startswith("· file "), lines[:3]
    assert "" not in lines
    # no line wrapped at 80 columns or cut with an ellipsis
    assert "searching 1 model(s) with grid, 2 trials, 3-fold CV, optimising accuracy" in lines
    search = next(line for line in lines if line.startswith("search "))
    assert "2/2 best accuracy" in search and "(logistic_regression, #" in search
    assert search.rstrip().endswith("search space exhausted (every configuration ran)") and "eta" not in search  # why it ended, not an eta
    assert not any(line.rstrip().endswith("…") for line in lines)
    out = tmp_path / "runs" / "small"
    assert f"outputs: {out}  (model/, leaderboard.csv, summary.json, report.html)" in lines  # over 80 columns
    # every configuration of the grid ran: not "stopped by budget: trials"
    assert "trials: 2 ok — search space exhausted (every configuration ran)" in lines
    assert json.loads((out / "summary.json").read_text())["stopped"] == "exhausted"


def test_a_log_honours_columns(tmp_path, small_spec):
    spec = small_spec(GRID)
    proc = _mlx("run", str(spec), columns="70")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    table = [line for line in lines if "┃" in line or "│" in line]
    assert table and max(len(line) for line in table) <= 70
    assert max(len(line) for line in lines if line.startswith("search ")) <= 70
    # printed text is still never broken in the middle
    assert "searching 1 model(s) with grid, 2 trials, 3-fold CV, optimising accuracy" in lines


def test_json_and_quiet_keep_stdout_to_the_result(tmp_path, small_spec):
    spec = small_spec(GRID)
    proc = _mlx("run", str(spec), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stopped"] == "exhausted"  # exactly one JSON document
    proc = _mlx("run", str(spec), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 and proc.stdout.startswith("small: best logistic_regression")
