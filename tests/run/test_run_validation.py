"""The validation the search uses (5-fold CV or a holdout) and why, in `mlx plan`, the run, plan.json and summary.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from automl_yaml.cli import main

pytestmark = pytest.mark.slow


def _wide_spec(tmp_path, search: dict):
    """500 rows x 200 features: 400 training rows x 200 = 80,000 values, above the 75,000 that 30 s allow."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 200))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(200)])
    frame["y"] = np.where(X[:, 0] + X[:, 1] > 0, "a", "b")
    frame.to_csv(tmp_path / "wide.csv", index=False)
    spec = {"name": "wide", "seed": 1, "sources": {"d": "wide.csv"}, "data": {"target": "y"}, "models": ["logistic_regression"],
            "search": {"strategy": "random", **search}, "tracking": False, "execution": {"n_jobs": 1}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_plan_shows_the_rule_before_the_data_and_the_spec_s_folds(tmp_path, capsys):
    spec = _wide_spec(tmp_path, {"budget": {"trials": 4, "time": "30s"}})
    assert main(["plan", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "validation:  chosen on the data: 5-fold CV if training rows × features < 75,000 (for 30s) and rows < 100,000, else a holdout" in out
    assert "model fits:  at most 21 (5 CV folds per trial, or 1 with a holdout; + 1 refit)" in out
    assert main(["plan", str(spec), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["validation"]["method"] == "auto" and "FLAML's rule" in printed["validation"]["reason"]
    assert main(["plan", str(spec), "--set", "search.cv.folds=3"]) == 0
    out = capsys.readouterr().out
    assert "validation:  3-fold CV — search.cv is set in the spec" in out and "model fits:  13 (3 CV folds per trial, + 1 refit)" in out


def test_a_run_records_its_holdout_and_a_resume_keeps_it(tmp_path):
    spec = _wide_spec(tmp_path, {"budget": {"trials": 2, "time": "30s"}})
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "automl_yaml", "run", str(spec)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert "validation: holdout (20% of the training rows) — 400 training rows × 200 features = 80,000 values" in shown
    assert "2 trials, 30s, holdout (20% of the training rows), optimising roc_auc" in shown
    assert "± std" not in shown  # one split has no spread to show
    out = tmp_path / "runs" / "wide"
    summary = json.loads((out / "summary.json").read_text())
    v = summary["validation"]
    assert (v["method"], v["share"], v["chosen_by"]) == ("holdout", 0.2, "rule") and "75,000 for 30s" in v["reason"]
    assert len(summary["best"]["cv"]["roc_auc"]["folds"]) == 1
    report = (out / "report.html").read_text()
    assert "holdout (20% of the training rows)" in report and "validation roc_auc" in report and "CV roc_auc" not in report
    plan = json.loads((out / "plan.json").read_text())
    assert plan["validation"] == v and plan["folds"] == 1 and plan["fits"] == 2 + 1
    # ten minutes would cross-validate these 80,000 values; the trials done were scored on the holdout, and so are the next
    cmd = [sys.executable, "-m", "automl_yaml", "run", str(spec), "--resume", "--set", "search.budget.time=10m", "--set", "search.budget.trials=3"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "the resumed search keeps the validation it started with: holdout (20% of the training rows) (with this budget it would be 5-fold CV)" in proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["validation"]["method"] == "holdout" and summary["trials"]["ok"] == 3
