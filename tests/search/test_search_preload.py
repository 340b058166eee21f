"""The fork server imports the trials' modules once, for every worker and side process forked from it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from automl_yaml import registry as R
from automl_yaml.runner import _trial_modules
from automl_yaml.spec import load_spec


def _spec(tmp_path, models: str, task: str = "auto"):
    path = tmp_path / "spec.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            sources: {{d: {{kind: sample, name: iris}}}}
            data: {{target: target, task: {task}}}
            {models}
            """
        )
    )
    return load_spec(path).spec


def test_the_spec_models_modules_are_preloaded_for_both_tasks(tmp_path):
    spec = _spec(tmp_path, "models: {random_forest: {}, fast: {estimator: LogisticRegression}, knn: {estimator: k_neighbors}}")
    mods = _trial_modules(spec)
    assert mods[:2] == ["automl_yaml.runner", "automl_yaml.preprocess.pipeline"]
    assert {"sklearn.ensemble", "sklearn.linear_model", "sklearn.neighbors"} <= set(mods)
    assert len(mods) == len(set(mods))


def test_the_default_zoo_is_preloaded_for_the_task(tmp_path):
    mods = _trial_modules(_spec(tmp_path, "", task="regression"))
    assert {"sklearn.ensemble", "sklearn.linear_model"} <= set(mods)
    if "lightgbm" in sys.modules or __import__("importlib.util").util.find_spec("lightgbm"):
        assert "lightgbm.sklearn" in mods


def test_a_plugin_estimator_is_not_preloaded(tmp_path, monkeypatch):
    """The fork server stops at a module that raises anything but ImportError: only the libraries' own estimators."""
    from automl_yaml.components.catalog import ensure_estimators

    ensure_estimators()
    monkeypatch.setattr(R.estimators, "_entries", dict(R.estimators._entries))
    R.estimators.register("my_model", "my_plugin.models:MyModel", task="classification")
    mods = _trial_modules(_spec(tmp_path, "models: {my_model: {}, random_forest: {}}"))
    assert "my_plugin.models" not in mods and "sklearn.ensemble" in mods


@pytest.mark.parametrize("preload", [True, False])
def test_processes_forked_from_the_server_have_the_preloaded_modules(preload):
    # A new interpreter: the fork server reads its preload list when it starts (once per process).
    code = textwrap.dedent(
        f"""\
        from automl_yaml.search import driver
        if {preload}:
            driver.preload(["xml.dom.minidom"])
        ctx = driver._context()
        p = ctx.Process(target=exec, args=("import sys; sys.exit(0 if 'xml.dom.minidom' in sys.modules else 3)",))
        p.start()
        p.join()
        print(p.exitcode)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == ("0" if preload else "3"), out.stderr
