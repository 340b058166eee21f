"""Every classifier the tool hands back gives probabilities, unless the spec turns them off (issue 15 point 9).

A binary task optimised for ``roc_auc`` (scored on an SVM's decision
function) picked an SVM, and ``mlx predict --proba`` then failed: "this model
gives no class probabilities". The model handed back is now calibrated
(``models.<name>.probabilities``, true by default).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from automl_yaml.cli import main

pytestmark = pytest.mark.slow


def _mlx(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl_yaml", *args], cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})


def _spec(root, svm: dict) -> None:
    spec = {
        "name": "birds",
        "seed": 1,
        "sources": {"birds": "birds.csv"},
        "data": {"target": "sex", "drop": ["id"]},
        "models": {"svm": svm},
        "search": {"strategy": "random", "metric": "roc_auc", "budget": {"trials": 2}, "cv": {"folds": 3}},
        "execution": {"n_jobs": 1},
        "tracking": False,
    }
    (root / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


@pytest.fixture
def birds(tmp_path, penguins_frame):
    frame = penguins_frame.dropna(subset=["sex"]).reset_index(drop=True)
    frame.insert(0, "id", [f"b{i:03d}" for i in range(len(frame))])
    frame.to_csv(tmp_path / "birds.csv", index=False)
    return tmp_path


def test_an_svm_chosen_for_roc_auc_gives_probabilities(birds):
    _spec(birds, {"params": {"C": {"float": [0.1, 10], "log": True}}})
    run = _mlx("run", "spec.yaml", "--quiet", cwd=birds)
    assert run.returncode == 0, run.stderr
    pred = _mlx("predict", "--model", "runs/birds", "--input", "birds.csv", "--output", "out.csv", "--proba", cwd=birds)
    assert pred.returncode == 0, pred.stderr
    out = pd.read_csv(birds / "out.csv")
    assert sorted(out.columns) == ["prediction", "proba_female", "proba_male"]
    p = out[["proba_female", "proba_male"]].to_numpy()
    assert np.allclose(p.sum(axis=1), 1.0) and ((p > 0) & (p < 1)).all()
    truth = pd.read_csv(birds / "birds.csv")["sex"]
    assert (out["prediction"] == truth).mean() > 0.8  # a model, not noise


def test_probabilities_false_leaves_them_out(birds, capsys):
    _spec(birds, {"params": {"C": 1.0}, "probabilities": False})
    assert main(["run", str(birds / "spec.yaml"), "--quiet"]) == 0
    capsys.readouterr()
    model, inp = str(birds / "runs" / "birds"), str(birds / "birds.csv")
    assert main(["predict", "--model", model, "--input", inp, "--output", str(birds / "labels.csv")]) == 0
    assert main(["predict", "--model", model, "--input", inp, "--output", str(birds / "p.csv"), "--proba"]) == 2
    assert "this model gives no class probabilities" in capsys.readouterr().err
