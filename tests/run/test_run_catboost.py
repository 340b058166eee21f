"""CatBoost, an optional model family beside LightGBM and XGBoost (issue 16 point 6).

``mlx validate`` knew no CatBoost parameter (its ``get_params`` lists only
the values set: "unknown parameter 'iterations'"), and a fit printed every
iteration and wrote ``catboost_info/`` into the working folder. Each test runs
the real ``mlx`` in a working folder apart from the spec's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("catboost")
pytestmark = pytest.mark.slow


def _mlx(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl_yaml", *args], cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})


def _project(tmp_path, target_kind: str, params: dict) -> tuple:
    """A tiny table with a category, a spec beside it, and a separate working folder."""
    rng = np.random.default_rng(0)
    n = 150
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "city": rng.choice(["Paris", "Oslo", "Rome"], n)})
    signal = frame["x1"] + (frame["city"] == "Oslo")
    frame["y"] = np.where(signal > 0.3, "yes", "no") if target_kind == "classification" else 3 * signal + rng.normal(scale=0.1, size=n)
    project, work = tmp_path / "project", tmp_path / "work"
    project.mkdir()
    work.mkdir()
    frame.to_csv(project / "data.csv", index=False)
    spec = {
        "name": "cb",
        "seed": 1,
        "sources": {"d": "data.csv"},
        "data": {"target": "y"},
        "models": {"catboost": {"params": params}},
        "search": {"strategy": "random", "budget": {"trials": 2}, "cv": {"folds": 3}},
        "execution": {"n_jobs": 1},
        "tracking": False,
    }
    (project / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return project, work


def _no_catboost_info(tmp_path) -> None:
    assert not list(tmp_path.rglob("catboost_info")), "CatBoost wrote its training files into the user's folders"


def test_catboost_classification_runs_and_predicts_probabilities(tmp_path):
    project, work = _project(tmp_path, "classification", {"iterations": 50, "depth": {"int": [4, 6]}})
    run = _mlx("run", str(project / "spec.yaml"), "--quiet", cwd=work)
    assert run.returncode == 0, run.stderr
    summary = yaml.safe_load((project / "runs" / "cb" / "summary.json").read_text())
    assert summary["best"]["model"] == "catboost" and summary["trials"]["failed"] == 0
    pred = _mlx("predict", "-m", str(project / "runs" / "cb"), "-i", str(project / "data.csv"), "-o", "out.csv", "--proba", cwd=work)
    assert pred.returncode == 0, pred.stderr
    out = pd.read_csv(work / "out.csv")
    assert sorted(out.columns) == ["prediction", "proba_no", "proba_yes"]
    assert np.allclose(out[["proba_no", "proba_yes"]].sum(axis=1), 1.0)
    truth = pd.read_csv(project / "data.csv")["y"]
    assert (out["prediction"] == truth).mean() > 0.8  # a model, not noise
    _no_catboost_info(tmp_path)


def test_catboost_regression_runs_and_its_model_loads_with_mlflow(tmp_path):
    import mlflow

    project, work = _project(tmp_path, "regression", {"iterations": 50, "learning_rate": {"float": [0.05, 0.3], "log": True}})
    run = _mlx("run", str(project / "spec.yaml"), "--quiet", cwd=work)
    assert run.returncode == 0, run.stderr
    summary = yaml.safe_load((project / "runs" / "cb" / "summary.json").read_text())
    assert summary["best"]["model"] == "catboost" and summary["trials"]["failed"] == 0
    assert summary["holdout"]["r2"] > 0.5
    frame = pd.read_csv(project / "data.csv")
    model = mlflow.pyfunc.load_model(str(project / "runs" / "cb" / "model"))
    pred = np.asarray(model.predict(frame.drop(columns="y").head(20))).ravel()
    assert np.isfinite(pred).all() and np.corrcoef(pred, frame["y"].head(20))[0, 1] > 0.7
    _no_catboost_info(tmp_path)


def test_a_misspelt_catboost_parameter_is_refused_with_did_you_mean(tmp_path):
    project, work = _project(tmp_path, "classification", {"iterations": 50, "depht": 4})
    out = _mlx("validate", str(project / "spec.yaml"), cwd=work)
    assert out.returncode == 2, out.stderr
    assert "depht" in out.stderr and "did you mean 'depth'?" in out.stderr
    assert "iterations" not in out.stderr  # a real parameter is known
    assert "Traceback" not in out.stderr


def test_catboost_joins_the_default_zoo_seeded_quiet_and_without_files():
    from automl_yaml.components import zoo
    from automl_yaml.components.estimators import make_estimator

    assert "catboost" in zoo.default_models("classification") and "catboost" in zoo.default_models("regression")
    params = make_estimator("catboost", {"iterations": 5}, "regression", seed=7, n_jobs=1).get_params()
    assert params["random_seed"] == 7 and params["thread_count"] == 1
    assert params["verbose"] == 0 and params["allow_writing_files"] is False
    # what the spec sets is kept
    own = make_estimator("catboost", {"random_seed": 3, "verbose": 10}, "classification", seed=7, n_jobs=1).get_params()
    assert own["random_seed"] == 3 and own["verbose"] == 10


def test_catboost_not_installed_names_its_extra(tmp_path):
    project, work = _project(tmp_path, "classification", {"iterations": 50})
    hide = (
        "import importlib.metadata as m\n"
        "real = m.version\n"
        "def version(name):\n"
        "    if name == 'catboost':\n"
        "        raise m.PackageNotFoundError(name)\n"
        "    return real(name)\n"
        "m.version = version\n"
        "import sys\n"
        "from automl_yaml.cli import main\n"
        f"sys.exit(main(['validate', {str(project / 'spec.yaml')!r}]))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", hide], cwd=work, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "'catboost' needs the optional package 'catboost'" in proc.stderr
    assert 'hint: pip install "automl-yaml[catboost]"' in proc.stderr and "Traceback" not in proc.stderr
