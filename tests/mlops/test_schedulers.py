"""examples/monitoring run for real: the cron script and the Airflow DAG monitor, branch on exit code 3 and retrain behind the gate.

Airflow's dependencies clash with the tool's (SQLAlchemy, FastAPI pins), so it
lives in a virtual environment of its own, made once and kept in
``~/.cache/automl-yaml-tests`` (``MLX_TEST_AIRFLOW`` may name an ``airflow``
command instead). Its metadata database is a throw-away SQLite file per test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "monitoring"
MLX = str(Path(sys.executable).with_name("mlx"))
AIRFLOW_VERSION = "3.3.*"

pytestmark = pytest.mark.slow


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Airflow is needed in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def airflow() -> str:
    given = os.environ.get("MLX_TEST_AIRFLOW")
    if given:
        return given
    from filelock import FileLock

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "automl-yaml-tests"
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / "airflow-3.3"
    command = venv / "bin" / "airflow"
    with FileLock(str(cache / "airflow.lock")):  # test workers make it once
        if not command.exists():
            shutil.rmtree(venv, ignore_errors=True)
            made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
            if made.returncode == 0:
                made = subprocess.run(
                    [str(venv / "bin" / "pip"), "install", "-q", f"apache-airflow=={AIRFLOW_VERSION}"], capture_output=True, text=True, timeout=1200
                )
            if made.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                _unavailable(f"pip install apache-airflow failed: {made.stderr[-2000:]}")
    return str(command)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of examples/monitoring with its first model trained and registered (champion, version 1)."""
    proj = tmp_path / "proj"
    shutil.copytree(EXAMPLE, proj, ignore=shutil.ignore_patterns("runs", "mlflow.db*", "mlartifacts", "metrics", "monitor", ".mlx-*"))
    done = subprocess.run([MLX, "run", "spec.yaml", "--quiet"], cwd=proj, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return proj


def _drift(proj: Path) -> None:
    """This week's rows weigh 1.5 kg more: the spec's `current` source now reads them."""
    rows = pd.read_csv(proj / "penguins.csv")
    rows["body_mass_g"] += 1500
    rows.to_csv(proj / "drifted.csv", index=False)
    spec = (proj / "spec.yaml").read_text()
    (proj / "spec.yaml").write_text(spec.replace("  current: penguins.csv", "  current: drifted.csv", 1))


def _versions(proj: Path) -> dict[str, str | None]:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{proj / 'mlflow.db'}")
    return {str(v.version): v.tags.get("mlx.promotion") for v in client.search_model_versions("name='penguins-monitored'")}


def test_cron_script_retrains_only_on_drift(project):
    env = {**os.environ, "MLX": MLX}
    script = [str(project / "cron.sh"), str(project / "spec.yaml")]
    quiet = subprocess.run(script, capture_output=True, text=True, env=env, timeout=900)
    assert quiet.returncode == 0 and "no drift" in quiet.stdout, quiet.stderr
    assert _versions(project) == {"1": "promoted"}
    assert "mlx_monitor_drift" in (project / "metrics" / "mlx.prom").read_text()
    _drift(project)
    drifted = subprocess.run(script, capture_output=True, text=True, env=env, timeout=900)
    assert drifted.returncode == 0 and "drift: retraining" in drifted.stdout, drifted.stdout + drifted.stderr
    versions = _versions(project)
    assert set(versions) == {"1", "2"} and versions["2"] in ("promoted", "kept")  # the gate decided, on the same rows


def test_airflow_dag_monitors_branches_on_exit_code_3_and_retrains(airflow, project, tmp_path):
    home = tmp_path / "airflow"
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(project / "airflow_dag.py", dags)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MLX": MLX,
        "MLX_SPEC": str(project / "spec.yaml"),
    }
    migrated = subprocess.run([airflow, "db", "migrate"], capture_output=True, text=True, env=env, timeout=600)
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    def dag_test() -> str:
        done = subprocess.run([airflow, "dags", "test", "mlx_continuous_training"], capture_output=True, text=True, env=env, timeout=900)
        out = done.stdout + done.stderr
        assert done.returncode == 0 and "state=success" in out, out[-5000:]
        return out

    out = dag_test()
    assert "Branch into no_drift" in out and "end task task_id=retrain" not in out
    assert _versions(project) == {"1": "promoted"}
    _drift(project)
    out = dag_test()
    assert "Branch into retrain" in out and "end task task_id=retrain" in out
    versions = _versions(project)
    assert set(versions) == {"1", "2"} and versions["2"] in ("promoted", "kept")
