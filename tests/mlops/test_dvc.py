"""examples/dvc: a real ``dvc repro`` runs ``mlx run`` as a stage, skips it when nothing changed, reruns it on new data.

The example is copied into a new git repository (``git init``, ``dvc init``);
``dvc repro`` runs as a subprocess with the venv's ``mlx`` first on PATH. DVC's
own caches and configuration stay in the temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from fixtures.docs import EXAMPLES, VENV_BIN

pytestmark = pytest.mark.slow

OUT = "runs/penguins"


def _env(tmp_path) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(tmp_path / "dvc-site-cache"),
        "DVC_GLOBAL_CONFIG_DIR": str(tmp_path / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(tmp_path / "dvc-system"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)  # the spec's own store: mlflow.db beside it
    return env


def _run(argv: list[str], cwd, env) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(argv)}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _lock_md5(repo, path: str) -> str:
    import yaml

    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    stage = lock["stages"]["train"]
    return next(entry["md5"] for entry in stage["deps"] + stage["outs"] if entry["path"] == path)


def test_dvc_repro_runs_mlx_skips_when_up_to_date_and_reruns_on_new_data(tmp_path):
    dvc = str(VENV_BIN / "dvc")
    if not os.path.exists(dvc):
        pytest.fail("dvc is not installed: pip install -e '.[test]'", pytrace=False)
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "dvc", repo, ignore=shutil.ignore_patterns("runs", "mlruns", "mlartifacts", "mlflow.db", ".dvc", "dvc.lock"))
    env = _env(tmp_path)
    _run(["git", "init", "-q"], repo, env)
    _run([dvc, "init", "-q"], repo, env)

    first = _run([dvc, "repro"], repo, env)
    assert "Running stage 'train'" in first.stdout, first.stdout
    model, summary_file = repo / OUT / "model", repo / OUT / "summary.json"
    assert (model / "MLmodel").is_file()
    summary = json.loads(summary_file.read_text())
    assert summary["data"]["rows_train"] + summary["data"]["rows_test"] == 344
    assert (repo / OUT / ".gitignore").read_text().split() == ["/model"]  # DVC caches the model, git does not hold it
    shown = json.loads(_run([dvc, "metrics", "show", "--json"], repo, env).stdout)
    metrics = shown[""]["data"][f"{OUT}/summary.json"]["data"]
    assert metrics["holdout"]["accuracy"] == summary["holdout"]["accuracy"]
    data_md5 = _lock_md5(repo, "penguins.csv")
    stamps = {p: p.stat().st_mtime_ns for p in (model / "MLmodel", model / "model.pkl", summary_file)}

    second = _run([dvc, "repro"], repo, env)
    assert "Stage 'train' didn't change, skipping" in second.stdout, second.stdout
    assert "Running stage" not in second.stdout
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing was rewritten

    lines = (repo / "penguins.csv").read_text().splitlines(keepends=True)
    (repo / "penguins.csv").write_text("".join(lines[:301]))  # new data: the header and 300 penguins
    third = _run([dvc, "repro"], repo, env)
    assert "Running stage 'train'" in third.stdout, third.stdout
    summary = json.loads(summary_file.read_text())
    assert summary["data"]["rows_train"] + summary["data"]["rows_test"] == 300
    assert (model / "MLmodel").is_file()
    assert _lock_md5(repo, "penguins.csv") != data_md5
    status = _run([dvc, "status"], repo, env)
    assert "Data and pipelines are up to date" in status.stdout, status.stdout
