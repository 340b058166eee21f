"""``automl_yaml.predict`` the function, whatever was imported before (issue: predict API)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from automl_yaml.cli import main

pytestmark = pytest.mark.slow


def test_the_library_predict_stays_a_function(small_spec, tmp_path):
    """Importing the submodule automl_yaml.predict (as `mlx predict` does) bound it over the function."""
    spec = small_spec({"tracking": False, "models": {"logistic_regression": {"params": {"C": 1.0, "max_iter": 500}}}, "search": {"budget": {"trials": 1}}})
    assert main(["run", str(spec), "--quiet"]) == 0
    code = (
        "import sys, pandas as pd, automl_yaml\n"
        "rows = pd.read_csv(sys.argv[2]).head(20)\n"
        "first = automl_yaml.predict(sys.argv[1], rows)\n"
        "from automl_yaml.predict import read_input\n"
        "again = automl_yaml.predict(sys.argv[1], rows)\n"
        "assert list(first['prediction']) == list(again['prediction'])\n"
    )
    model = tmp_path / "runs" / "small"
    proc = subprocess.run([sys.executable, "-c", code, str(model), str(tmp_path / "penguins.csv")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
