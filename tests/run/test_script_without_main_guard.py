"""A user's script without ``if __name__ == "__main__":`` runs once, not once per process.

multiprocessing imports the parent's main module again in each process it
starts; trial workers (``n_jobs: 2``) and the side processes (every run)
re-ran such a script - a second AutoML run each, whose lock on the output
folder failed with a traceback. See automl_yaml/search/_fork_main.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SPEC = """\
version: 1
name: guardless
seed: 0
sources:
  d: {{kind: sample, name: breast_cancer}}
data: {{target: target}}
models:
  decision_tree:
    params: {{max_depth: {{choice: [2, 3]}}}}
search: {{strategy: grid, metric: roc_auc, cv: {{folds: 3}}}}
tracking: false
profile: false
execution: {{n_jobs: {n_jobs}}}
output: out
"""

SCRIPT = """\
import automl_yaml
print("script body", flush=True)
result = automl_yaml.run("spec.yaml", quiet=True)
print("best", result.best_model, flush=True)
"""


# python train_script.py with trial workers and side processes; python -m train_script with side processes
@pytest.mark.parametrize(("how", "n_jobs"), [("path", 2), ("module", 1)])
def test_the_script_runs_once(tmp_path: Path, n_jobs: int, how: str) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC.format(n_jobs=n_jobs))
    (tmp_path / "train_script.py").write_text(textwrap.dedent(SCRIPT))
    cmd = [sys.executable, "train_script.py"] if how == "path" else [sys.executable, "-m", "train_script"]
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("script body") == 1, r.stdout
    assert "best decision_tree" in r.stdout
    assert "Traceback" not in r.stderr and "another `mlx run`" not in r.stderr, r.stderr
    assert (tmp_path / "out" / "model" / "MLmodel").is_file()
    assert (tmp_path / "out" / "plots" / "roc.png").is_file()
