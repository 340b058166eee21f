"""Continuous training with Airflow: monitor -> branch on exit code 3 -> retrain behind the gate.

Every day, ``mlx monitor`` checks the spec's ``current`` source against the
champion's training profile. Exit code 0 (no drift) ends the run; exit code 3
(drift or a performance drop) runs ``mlx run --challenge``, which trains on the
spec's data and moves the ``champion`` alias only if the new model beats the
champion on the same fresh rows. Any other exit code fails the task.

Settings (environment of the Airflow workers, or the DAG run's conf):
``MLX_SPEC`` the spec's path; ``MLX_MODEL`` the champion's URI (default
``models:/<spec's register name>@champion``); ``MLX`` the ``mlx`` command if it
is not on the PATH; ``MLX_PROMETHEUS`` where to write the metrics file.
"""

from __future__ import annotations

import os
import subprocess

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag, task

MLX = os.environ.get("MLX", "mlx")
SPEC = os.environ.get("MLX_SPEC", "spec.yaml")
MODEL = os.environ.get("MLX_MODEL", "models:/penguins-monitored@champion")


@dag(
    dag_id="mlx_continuous_training",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"spec": SPEC, "model": MODEL},
    tags=["automl-yaml"],
)
def continuous_training():
    @task.branch
    def monitor(params=None) -> str:
        cmd = [MLX, "monitor", "--model", params["model"], "--spec", params["spec"], "--quiet"]  # the spec's monitor.current
        if os.environ.get("MLX_PROMETHEUS"):
            cmd += ["--prometheus", os.environ["MLX_PROMETHEUS"]]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        print(done.stdout + done.stderr)
        if done.returncode == 0:
            return "no_drift"
        if done.returncode == 3:
            return "retrain"
        raise RuntimeError(f"mlx monitor failed with exit code {done.returncode}")

    retrain = BashOperator(
        task_id="retrain",
        bash_command='"$MLX" run "$SPEC" --challenge "$MODEL" --quiet',
        env={"MLX": MLX, "SPEC": "{{ params.spec }}", "MODEL": "{{ params.model }}"},
        append_env=True,
    )
    monitor() >> [retrain, EmptyOperator(task_id="no_drift")]


continuous_training()
