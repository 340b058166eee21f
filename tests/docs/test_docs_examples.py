"""Every example runs end to end, as its README says, with a small budget.

Each example folder is copied to a temporary folder (examples/ stays clean),
its README's set-up step runs first, then ``mlx validate --check-data`` and
``mlx run`` with 3 trials and 3 folds, in this process (``mlx`` through its
console-script entry point). The outputs a user looks at must exist: the
MLflow model, the leaderboard, and the summary with a held-out score.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from fixtures.docs import EXAMPLES, example_names, require_torch

from automl_yaml.spec import load_spec

SMALL = ["--set", "search.budget.trials=3", "--set", "search.cv.folds=3", "--set", "tracking.enabled=false", "--quiet"]

#: What an example's README says to run before `mlx run` (checked against the README below).
SETUP = {"sql-source": ["python", "make_db.py"]}


def test_every_example_has_a_readme_and_its_setup_is_known():
    names = example_names()
    assert len(names) >= 12, names
    for name in names:
        readme = (EXAMPLES / name / "README.md").read_text(encoding="utf-8")
        assert readme.startswith(f"# {name}\n"), name
        scripts = sorted(set(re.findall(r"python ([\w.-]+\.py)", readme)))
        expected = [SETUP[name][1]] if name in SETUP else []
        assert scripts == expected, f"{name}: README runs {scripts}, this test runs {expected}: update SETUP"


@pytest.fixture
def example(request, tmp_path, monkeypatch):
    """A fresh copy of the example in a temporary folder, which is the current folder."""
    name = request.param
    dest = tmp_path / name
    shutil.copytree(
        EXAMPLES / name,
        dest,
        ignore=shutil.ignore_patterns("runs", "mlruns", "mlartifacts", "mlflow.db", "*.db", ".mlx-cache", "__pycache__"),
    )
    monkeypatch.chdir(dest)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    if name == "strategy-bayesian":
        require_torch()
    if name == "s3-source":
        # the moto server stands in for S3: upload the data where the spec reads it
        s3 = request.getfixturevalue("s3_env")
        bucket = s3.bucket("examples")
        s3.put(bucket, "zoo/penguins.csv", dest / "penguins.csv")
        (dest / "penguins.csv").unlink()  # the run must read S3, not the local copy
        monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint_url)
        monkeypatch.setenv("MLX_BUCKET", bucket)
    if name in SETUP:
        cmd = [sys.executable if part == "python" else part for part in SETUP[name]]
        done = subprocess.run(cmd, cwd=dest, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(SETUP[name])} failed:\n{done.stdout}\n{done.stderr}"
    return dest


@pytest.mark.slow
@pytest.mark.parametrize("example", example_names(), indirect=True)
def test_example_validates_and_runs(example, cli):
    validated = cli("validate", "--check-data", "spec.yaml")
    assert validated.code == 0, validated
    assert "spec.yaml: valid" in validated.out

    ran = cli("run", "spec.yaml", *SMALL)
    assert ran.code == 0, ran
    loaded = load_spec(example / "spec.yaml", overrides=["search.budget.trials=3", "search.cv.folds=3", "tracking.enabled=false"])
    out = loaded.output_dir
    assert f"-> {out / 'model'}" in ran.out  # the --quiet result line names the model

    assert (out / "model" / "MLmodel").is_file()
    board = pd.read_csv(out / "leaderboard.csv")
    assert 1 <= len(board) <= 3
    assert (board["status"] == "ok").any(), board.to_string()

    summary = json.loads((out / "summary.json").read_text())
    metric = summary["metrics"][0]["name"]
    holdout = summary["holdout"][metric]
    assert isinstance(holdout, float) and math.isfinite(holdout), summary["holdout"]
    best = board[board["status"] == "ok"].iloc[0]
    assert best["model"] == summary["best"]["model"]
    if not metric.startswith(("rmse", "mae", "mse", "neg_")):
        assert 0.5 < holdout <= 1.0, (metric, holdout)  # better than chance on these easy data sets


def test_sql_source_postgresql_steps_of_the_readme(tmp_path, postgres_url, cli, monkeypatch):
    """The README's PostgreSQL commands, run as written against the test server (its role and database for 'zoo')."""
    import sqlalchemy as sa

    url = sa.make_url(postgres_url)
    readme = (EXAMPLES / "sql-source" / "README.md").read_text(encoding="utf-8")
    where = f"{url.host}:{url.port}/{url.database}"
    make_db = re.search(r"^python (make_db\.py) postgresql://zoo@localhost:5432/zoo\b", readme, re.M)
    commands = re.findall(r"^mlx (validate --check-data|run) spec\.yaml --set '([^']+)'$", readme, re.M)
    assert make_db and [c[0] for c in commands] == ["validate --check-data", "run"], "the README's PostgreSQL steps changed: update this test"
    setting = commands[0][1]
    assert setting == "sources.zoo.url=postgresql://${PGUSER}:${PGPASSWORD}@localhost:5432/zoo" == commands[1][1]
    assert "url: postgresql://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:5432/zoo" in readme

    dest = tmp_path / "sql-source"
    shutil.copytree(EXAMPLES / "sql-source", dest, ignore=shutil.ignore_patterns("*.db", "runs", "mlruns", "mlartifacts", "__pycache__"))
    monkeypatch.chdir(dest)
    env = {"PGUSER": url.username, "PGPASSWORD": url.password}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    # python make_db.py postgresql://USER@HOST:PORT/DB: the password comes from $PGPASSWORD
    done = subprocess.run([sys.executable, "make_db.py", f"postgresql://{url.username}@{where}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote postgresql+psycopg://{url.username}@{where} (344 penguins)"
    assert url.password not in done.stdout + done.stderr
    try:
        setting = setting.replace("localhost:5432/zoo", where)
        validated = cli("validate", "--check-data", "spec.yaml", "--set", setting)
        assert validated.code == 0 and "spec.yaml: valid" in validated.out, validated
        ran = cli("run", "spec.yaml", "--set", setting, *SMALL)
        assert ran.code == 0, ran
        summary = json.loads((dest / "runs" / "zoo-sql" / "summary.json").read_text())
        assert summary["data"]["rows_train"] + summary["data"]["rows_test"] == 344
        assert url.password not in (dest / "runs" / "zoo-sql" / "spec.yaml").read_text()
        assert not (dest / "zoo.db").exists()  # it read PostgreSQL, not an SQLite file
    finally:
        engine = sa.create_engine(url.set(drivername="postgresql+psycopg"))
        with engine.begin() as con:
            con.execute(sa.text("DROP TABLE IF EXISTS penguins, species"))
        engine.dispose()
