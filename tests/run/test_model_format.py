"""Writing the model in MLflow's format, and the processes that do it, without needless work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import version

import numpy as np
import pandas as pd
import pytest

from automl_yaml.model import TrainedModel


@pytest.fixture
def tiny_model():
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.tile([0.0, 1.0], 20)})
    y = (X["a"] > 0.5).astype(int)
    model = TrainedModel(pipeline=LogisticRegression().fit(X, y), task="classification", classes=[0, 1], target="y").fitted(X)
    return model, X


def test_saving_skips_mlflows_environment_scan_and_pins_the_installed_versions(tmp_path, tiny_model, monkeypatch):
    """MLflow's requirement check maps every installed distribution's files (0.7 s
    of CPU per process) to warn about mismatches that our requirements, read
    from this environment, cannot have. It is skipped while we save, and only then."""
    import mlflow.pyfunc
    from mlflow.utils import environment

    from automl_yaml.tracking import save_model

    calls = []

    def check(requirements):  # stands in for MLflow's check; fails this test if MLflow moves it
        calls.append(list(requirements))

    monkeypatch.setattr(environment, "warn_dependency_requirement_mismatches", check)
    model, X = tiny_model
    save_model(model, X, tmp_path / "model")

    assert calls == []
    assert environment.warn_dependency_requirement_mismatches is check  # put back after the save
    environment.warn_dependency_requirement_mismatches(["x==1"])
    assert calls == [["x==1"]]

    reqs = (tmp_path / "model" / "requirements.txt").read_text().split()
    for dist in ("scikit-learn", "pandas", "numpy", "cloudpickle"):
        assert f"{dist}=={version(dist)}" in reqs
    assert any(r.startswith("mlflow==") for r in reqs)
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), model.predict(X))


def test_the_check_is_put_back_when_the_save_fails(tmp_path, tiny_model, monkeypatch):
    from mlflow.utils import environment

    from automl_yaml.tracking import save_model

    def check(requirements):
        raise AssertionError("must not run during our save")

    monkeypatch.setattr(environment, "warn_dependency_requirement_mismatches", check)
    model, X = tiny_model
    # the module itself: "mlflow.sklearn" as a string patched MLflow's lazy loader when
    # nothing had imported the module yet in this process, and the import then replaced it
    import mlflow.sklearn

    monkeypatch.setattr(mlflow.sklearn, "save_model", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        save_model(model, X, tmp_path / "model")
    assert environment.warn_dependency_requirement_mismatches is check
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no half-written folder


def test_fork_server_leaves_without_finalising_but_after_other_exit_handlers():
    """The fork server (trial workers and side processes fork from it) holds the
    run's stdout and stderr until it ends; finalising its interpreter, with
    scikit-learn loaded, kept a pipe (`mlx run | tee log`) open 0.3 s after
    `mlx` had exited. It leaves at once, after the exit handlers of the modules
    it preloaded, and what it printed is flushed."""
    code = textwrap.dedent(
        """
        import atexit, sys
        import automl_yaml.search._fork_main  # the server's first preload
        atexit.register(print, "handler of a later preload ran")

        class Object:
            def __del__(self):
                print("finalised")

        kept = Object()
        sys.stdout.write("unflushed output")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "unflushed output" in proc.stdout
    assert "handler of a later preload ran" in proc.stdout
    assert "finalised" not in proc.stdout


def _strict(path):
    """Parse JSON as a strict parser (jq, a browser) would: NaN and Infinity are errors."""
    import json

    def bad(token):
        raise ValueError(f"not JSON: {token}")

    return json.loads(path.read_text(), parse_constant=bad)


def test_the_input_example_takes_complete_rows_first():
    from automl_yaml.tracking import example_rows

    X = pd.DataFrame({"a": [np.nan, 1.0, 2.0, np.nan, 3.0, 4.0, 5.0, 6.0], "c": ["x", None, "y", "z", "x", "y", "z", "x"]})
    assert list(example_rows(X).index) == [2, 4, 5, 6, 7]
    # too few complete rows: the complete ones, then the others in table order
    few = X.iloc[:5]
    assert list(example_rows(few).index) == [2, 4, 0, 1, 3]
    assert len(example_rows(X.iloc[:3])) == 3


def test_a_saved_models_examples_are_strict_json_when_the_first_rows_have_missing_values(tmp_path):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from automl_yaml.tracking import save_model

    X = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.tile([0.0, 1.0], 20)})
    X.loc[:9, "a"] = np.nan  # the first ten rows miss a value
    y = (X.index >= 20).astype(int)
    model = TrainedModel(pipeline=make_pipeline(SimpleImputer(), LogisticRegression()).fit(X, y), task="classification", classes=[0, 1], target="y")
    save_model(model.fitted(X), X, tmp_path / "model")
    body = _strict(tmp_path / "model" / "serving_input_example.json")
    rows = body["dataframe_split"]["data"]
    assert len(rows) == 5 and all(v is not None for row in rows for v in row)
    assert _strict(tmp_path / "model" / "input_example.json")


def test_a_column_mlflow_cannot_type_saves_without_a_warning(tmp_path, capfd):
    # uint64 (a Parquet id column): MLflow failed to infer the inputs' schema, which the
    # model declares itself, and printed a warning in the middle of `mlx run -q`
    from sklearn.linear_model import LogisticRegression

    from automl_yaml.tracking import save_model

    X = pd.DataFrame({"u": np.arange(40, dtype="uint64"), "b": np.tile([0.0, 1.0], 20)})
    y = (X["u"] > 20).astype(int)
    model = TrainedModel(pipeline=LogisticRegression().fit(X, y), task="classification", classes=[0, 1], target="y").fitted(X)
    save_model(model, X, tmp_path / "model")
    err = capfd.readouterr().err
    assert "Failed to infer schema" not in err
    assert (tmp_path / "model" / "MLmodel").exists()
    import logging

    assert logging.getLogger("mlflow.models.signature").level != logging.ERROR  # put back after the save
