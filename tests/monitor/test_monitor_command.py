"""`mlx monitor` end to end: a model trained by `mlx run` (real SQLite MLflow store), checked on new data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

N = 800


def _rows(seed: int, *, shift: float = 0.0, new_category: bool = False, flip: bool = False, missing: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, N), rng.normal(0, 1, N)
    c = rng.choice(["a", "b", "c", "z"] if new_category else ["a", "b", "c"], N)
    y = (x1 + x2 + (c == "a")) > 0.5
    x2[rng.random(N) < missing] = np.nan
    return pd.DataFrame({"x1": x1, "x2": x2, "c": c, "y": np.where(y != flip, "yes", "no")})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tracked, registered model for every test of the module."""
    from automl_yaml.cli import main

    root = tmp_path_factory.mktemp("monitor")
    _rows(0).to_csv(root / "train.csv", index=False)
    spec = {
        "name": "drifty",
        "sources": {"d": "train.csv"},
        "data": {"target": "y"},
        "models": ["logistic_regression"],
        "search": {"strategy": "random", "budget": {"trials": 2}, "metric": "accuracy"},
        "tracking": {"uri": "sqlite:///mlflow.db", "experiment": "drifty", "register": "drifty"},
        "execution": {"n_jobs": 1},
        "monitor": {"psi": 0.2},
    }
    (root / "spec.yaml").write_text(yaml.safe_dump(spec))
    assert main(["run", str(root / "spec.yaml"), "-q"]) == 0
    return root


def _monitor(cli, root, data: pd.DataFrame, model: str = "models:/drifty@champion", *extra: str):
    path = root / "current.csv"
    data.to_csv(path, index=False)
    return cli("monitor", "-m", model, "--current", path, "--spec", root / "spec.yaml", "-o", root / "mon", *extra)


def test_the_same_distribution_exits_0_and_logs_a_run_linked_to_the_version(cli, trained):
    from mlflow import MlflowClient

    r = _monitor(cli, trained, _rows(1), "models:/drifty@champion", "--prometheus", trained / "m.prom")
    assert r.code == 0, r
    assert "within thresholds" in r.err
    report = json.loads((trained / "mon" / "monitor.json").read_text())
    assert report["drift"] is False and set(report["performance"]) == {"accuracy"}
    client = MlflowClient(f"sqlite:///{trained / 'mlflow.db'}")
    version = client.get_model_version_by_alias("drifty", "champion")
    run = client.get_run(version.tags["mlx.last_monitor_run"])
    assert run.data.tags["mlx.kind"] == "monitor" and run.data.tags["mlx.model_version"] == str(version.version)
    assert run.data.metrics["drift"] == 0 and "psi.x1" in run.data.metrics
    assert version.tags["mlx.last_monitor_drift"] == "false"
    assert "mlx_monitor_drift" in (trained / "m.prom").read_text()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (_rows(2, shift=1.5), "x1: PSI"),
        (_rows(3, new_category=True), "new categories: 'z'"),
        (_rows(4).drop(columns=["x2"]), "columns missing: x2"),
        (_rows(5, missing=0.3), "x2: missing share"),
        (_rows(6, flip=True), "performance: accuracy"),
    ],
    ids=["shifted-mean", "new-category", "removed-column", "more-missing", "label-flip"],
)
def test_each_change_is_named_and_exits_3(cli, trained, data, named):
    r = _monitor(cli, trained, data, str(trained / "runs" / "drifty"))
    assert r.code == 3, r
    reasons = json.loads((trained / "mon" / "monitor.json").read_text())["reasons"]
    assert any(named in reason for reason in reasons), reasons
    assert "drift" in r.err and "Traceback" not in r.err


def test_data_that_is_not_the_models_is_one_message_exit_2(cli, trained):
    r = _monitor(cli, trained, pd.DataFrame({"a": [1, 2], "y": ["yes", "no"]}), str(trained / "runs" / "drifty"))
    assert r.code == 2 and "lacks 3 of the model's 3 feature columns: x1, x2, c" in r.err, r


def test_missing_columns_and_wrong_types_are_one_message_exit_2(cli, trained):
    """A column of words where numbers were is a wrong type (exit 2), listed with the missing columns."""
    rows = _rows(11).drop(columns=["x2"])
    rows["x1"] = "high"
    r = _monitor(cli, trained, rows, str(trained / "runs" / "drifty"))
    assert r.code == 2 and "Traceback" not in r.err, r
    assert "lacks 1 of the model's 3 feature columns: x2; and has columns of the wrong type: x1 (numbers in training" in " ".join(r.err.split())


def test_an_alias_that_does_not_exist_is_a_clear_message(cli, trained):
    r = _monitor(cli, trained, _rows(1), "models:/drifty@nope")
    assert r.code == 2 and "models:/drifty@nope" in r.err and "Traceback" not in r.err, r


def test_a_model_without_a_profile_says_how_to_get_one(cli, trained, tmp_path):
    from automl_yaml.predict import load_model
    from automl_yaml.tracking import save_model

    model = load_model(trained / "runs" / "drifty")
    del model.reference_  # as a model trained before profiles were kept
    save_model(model, _rows(0).drop(columns=["y"]).head(5), tmp_path / "old")
    r = _monitor(cli, trained, _rows(1), str(tmp_path / "old"))
    assert r.code == 2 and "carries no reference profile" in r.err and "train it again" in r.err, r


def test_the_spec_names_the_current_source(cli, trained):
    """monitor.current names the source `mlx monitor --spec` checks; an unknown one is a located error."""
    _rows(9, shift=1.5).to_csv(trained / "week.csv", index=False)
    spec = yaml.safe_load((trained / "spec.yaml").read_text())
    spec["sources"]["week"] = "week.csv"
    spec["data"]["from"] = "d"
    spec["monitor"]["current"] = "week"
    (trained / "weekly.yaml").write_text(yaml.safe_dump(spec))
    r = cli("monitor", "-m", trained / "runs" / "drifty", "--spec", trained / "weekly.yaml", "-o", trained / "mon", "-q")
    assert r.code == 3 and "x1: PSI" in r.err, r
    spec["monitor"]["current"] = "weak"
    (trained / "bad.yaml").write_text(yaml.safe_dump(spec))
    r = cli("validate", trained / "bad.yaml")
    assert r.code == 2 and "monitor.current" in r.err and "there is no source 'weak'" in r.err and "did you mean 'week'" in r.err, r


def test_the_outputs_go_beside_the_spec_not_where_a_scheduler_runs(cli, trained, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a scheduler's working folder
    _rows(1).to_csv(trained / "current.csv", index=False)
    r = cli("monitor", "-m", trained / "runs" / "drifty", "--current", trained / "current.csv", "--spec", trained / "spec.yaml", "-q")
    assert r.code == 0, r
    assert (trained / "monitor" / "monitor.json").is_file() and not (tmp_path / "monitor").exists()


def test_a_current_file_is_read_from_the_working_folder_with_a_spec_too(cli, trained, tmp_path, monkeypatch):
    """`--current data/new.csv --spec elsewhere/spec.yaml` read data/new.csv beside the spec: not found."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    _rows(1).to_csv(tmp_path / "data" / "new.csv", index=False)
    r = cli("monitor", "-m", trained / "runs" / "drifty", "--current", "data/new.csv", "--spec", trained / "spec.yaml", "-q")
    assert r.code == 0, r


def test_a_run_folder_is_linked_to_its_registered_version(cli, trained):
    from mlflow import MlflowClient

    r = _monitor(cli, trained, _rows(10), str(trained / "runs" / "drifty"))
    assert r.code == 0, r
    report = json.loads((trained / "mon" / "monitor.json").read_text())
    client = MlflowClient(f"sqlite:///{trained / 'mlflow.db'}")
    version = client.get_model_version("drifty", report["mlflow"]["model_version"])
    assert version.tags["mlx.last_monitor_run"] == report["mlflow"]["run_id"]
