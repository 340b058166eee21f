"""MLflow tracking, registration, prediction and serving, end to end (issue: tracking)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from automl_yaml.cli import main

pytestmark = pytest.mark.slow


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _runs(tmp_path: Path, uri: str, experiment: str):
    c = _client(uri)
    exp = c.get_experiment_by_name(experiment)
    runs = c.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return c, runs, parents


def test_parent_children_metrics_model(tmp_path, small_spec, capsys, monkeypatch):
    spec = small_spec({"tracking": {"experiment": "exp1"}})
    assert main(["run", str(spec), "--quiet"]) == 0
    out = tmp_path / "runs" / "small"
    summary = json.loads((out / "summary.json").read_text())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    c, runs, parents = _runs(tmp_path, uri, "exp1")
    assert len(parents) == 1
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == summary["trials"]["total"] == 5
    assert parent.info.run_id == summary["tracking"]["run_id"]
    # the holdout metric on the parent equals summary.json
    assert parent.data.metrics["holdout_accuracy"] == pytest.approx(summary["holdout"]["accuracy"])
    # trial runs carry their configuration and CV scores
    numbers = sorted(int(r.data.tags["trial.number"]) for r in children)
    assert numbers == list(range(5))
    some = children[0]
    assert "cv_accuracy_mean" in some.data.metrics and "model" in some.data.params
    # tags and artifacts
    tags = parent.data.tags
    assert tags["automl_yaml.spec_hash"] == summary["spec_hash"]
    assert tags["data.fingerprint.penguins"] == summary["data"]["fingerprints"]["penguins"]
    arts = {a.path for a in c.list_artifacts(parent.info.run_id)}
    assert {"spec.yaml", "plan.json", "leaderboard.csv", "summary.json", "report.html", "plots"} <= arts
    # the model loads with pyfunc and predicts what `mlx predict` writes
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    import mlflow

    from automl_yaml.tracking import using_uri

    with using_uri(uri):
        model = mlflow.pyfunc.load_model(f"runs:/{parent.info.run_id}/model")
    data = pd.read_csv(tmp_path / "penguins.csv").drop(columns=["species"])
    pyfunc_pred = list(model.predict(data))
    preds = tmp_path / "preds.csv"
    assert main(["predict", "--model", f"runs:/{parent.info.run_id}/model", "--input", str(tmp_path / "penguins.csv"), "--output", str(preds), "--tracking-uri", uri]) == 0
    assert list(pd.read_csv(preds)["prediction"]) == pyfunc_pred
    assert set(pyfunc_pred) <= {"Adelie", "Chinstrap", "Gentoo"}


def test_registration_versions_and_alias(tmp_path, small_spec):
    spec = small_spec({"tracking": {"experiment": "reg", "register": "penguin-model", "alias": "champion"}})
    assert main(["run", str(spec), "--quiet"]) == 0
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    c = _client(uri)
    v1 = c.get_model_version_by_alias("penguin-model", "champion")
    assert str(v1.version) == "1"
    summary = json.loads((tmp_path / "runs" / "small" / "summary.json").read_text())
    assert float(v1.tags["holdout_accuracy"]) == pytest.approx(summary["holdout"]["accuracy"], rel=1e-5)
    # a second run registers version 2; it takes the alias only if it beats version 1 on its test rows
    assert main(["run", str(spec), "--quiet", "--set", "seed=4"]) == 0
    second = json.loads((tmp_path / "runs" / "small" / "summary.json").read_text())["promotion"]
    champion = c.get_model_version_by_alias("penguin-model", "champion")
    assert str(champion.version) == ("2" if second["promote"] else "1")
    assert str(c.get_model_version_by_alias("penguin-model", "champion" if second["promote"] else "challenger").version) == "2"
    assert len(c.search_model_versions("name='penguin-model'")) == 2
    # `promote: always` moves it, as every run did before the gate
    assert main(["run", str(spec), "--quiet", "--set", "seed=5", "--set", "tracking.promote=always"]) == 0
    assert str(c.get_model_version_by_alias("penguin-model", "champion").version) == "3"


def test_secret_never_reaches_mlflow_or_the_terminal(tmp_path, postgres_url, penguins_frame, capsys, monkeypatch):
    from fixtures.services import unique_name
    from sqlalchemy import create_engine

    from automl_yaml.spec import mask_url

    table = unique_name("penguins")
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    penguins_frame.to_sql(table, engine, index=False)
    engine.dispose()
    # the URL's password goes through ${VAR}
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    secret = url.password
    assert secret and len(secret) >= 8
    monkeypatch.setenv("MLX_TEST_PG_PASSWORD", secret)
    templ = url.set(password="PLACEHOLDER").render_as_string(hide_password=False).replace("PLACEHOLDER", "${MLX_TEST_PG_PASSWORD}")
    spec = tmp_path / "secret.yaml"
    spec.write_text(
        f"name: secret\nsources:\n  pg:\n    kind: sql\n    url: {templ}\n    table: {table}\n"
        "data: {target: species}\nmodels: {logistic_regression: {params: {C: 1.0, max_iter: 500}}}\n"
        "search: {strategy: random, budget: {trials: 2}, cv: {folds: 3}}\nexecution: {n_jobs: 1}\n"
        "tracking: {experiment: secret}\nprofile: true\n"
    )
    assert main(["run", str(spec)]) == 0
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    c, runs, parents = _runs(tmp_path, uri, "secret")
    for r in runs:
        blob = json.dumps([r.data.params, r.data.tags, r.data.metrics])
        assert secret not in blob
    assert any("${MLX_TEST_PG_PASSWORD}" in v for v in parents[0].data.params.values())
    # every artifact and every file in the output and MLflow folders
    for root in (tmp_path / "runs", tmp_path / "mlartifacts"):
        for f in root.rglob("*"):
            if f.is_file() and f.suffix not in (".pkl", ".parquet", ".png"):
                assert secret not in f.read_text(errors="ignore"), f
    for f in (tmp_path / "runs").rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f
    assert mask_url(postgres_url) != postgres_url


def test_unreachable_server_fails_before_the_search(tmp_path, small_spec, capsys):
    spec = small_spec({"tracking": {"uri": "http://127.0.0.1:9"}})
    t = time.monotonic()
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "Traceback" not in err
    assert not (tmp_path / "runs" / "small" / "search").exists()
    assert time.monotonic() - t < 60  # fails fast, not after MLflow's retries


def test_tracking_off_and_summary_only(tmp_path, small_spec):
    spec = small_spec({"tracking": False})
    assert main(["run", str(spec), "--quiet"]) == 0
    assert not (tmp_path / "mlflow.db").exists()
    spec2 = small_spec({"tracking": {"experiment": "summ", "log_trials": "summary"}, "output": "runs/summ"}, name="s2.yaml")
    assert main(["run", str(spec2), "--quiet"]) == 0
    c, runs, parents = _runs(tmp_path, f"sqlite:///{tmp_path / 'mlflow.db'}", "summ")
    assert len(runs) == len(parents) == 1


@pytest.mark.services
def test_mlflow_models_serve_answers_with_the_same_predictions(tmp_path, small_spec):
    from fixtures.serving import mlflow_serve, post_json

    spec = small_spec({"tracking": {"experiment": "serve"}})
    assert main(["run", str(spec), "--quiet"]) == 0
    model_dir = tmp_path / "runs" / "small" / "model"
    data = pd.read_csv(tmp_path / "penguins.csv").drop(columns=["species"]).head(20)
    preds = tmp_path / "p.csv"
    data.to_csv(tmp_path / "in.csv", index=False)
    assert main(["predict", "-m", str(model_dir), "-i", str(tmp_path / "in.csv"), "-o", str(preds)]) == 0
    expected = list(pd.read_csv(preds)["prediction"])
    with mlflow_serve(model_dir) as url:
        status, answer = post_json(url, {"dataframe_split": json.loads(data.to_json(orient="split", index=False))})
    assert status == 200
    assert answer["predictions"] == expected


def test_predict_from_a_spec_source_and_a_bad_model(tmp_path, small_spec, capsys):
    spec = small_spec({"tracking": False})
    assert main(["run", str(spec), "--quiet"]) == 0
    capsys.readouterr()
    out = tmp_path / "p.json"
    assert main(["predict", "-m", str(tmp_path / "runs" / "small"), "-i", f"{spec}:penguins", "-o", str(out)]) == 0
    preds = pd.read_json(out)
    assert len(preds) == 344 and set(preds["prediction"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert main(["predict", "-m", str(tmp_path / "runs" / "small"), "-i", f"{spec}:pengiuns", "-o", str(out)]) == 2
    assert "did you mean 'penguins'" in capsys.readouterr().err
    assert main(["predict", "-m", str(tmp_path), "-i", str(tmp_path / "penguins.csv"), "-o", str(out)]) == 2
    assert "holds no model" in capsys.readouterr().err
    assert main(["predict", "-m", str(tmp_path / "runs" / "small"), "-i", str(tmp_path / "penguins.csv"), "-o", str(tmp_path / "x.txt")]) == 2
