"""More ways users break specs: what a corpus file in ``broken/`` cannot show.

Several spec files at once (one missing), ``--set`` paths that are not in the
file, source files that are not there yet, and the copies of the data module's
tables the static checks use.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from automl_yaml.cli import main

MINIMAL = "sources:\n  penguins: {kind: sample, name: penguins}\ndata:\n  target: species\n"


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL)
    return spec


# ------------------------------------------------------------ spec files that cannot be read


def test_a_missing_spec_among_others_is_one_problem_in_json(minimal, tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(minimal), str(missing), "--format", "json"]) == 2
    reports = json.loads(capsys.readouterr().out)
    assert [(r["file"], r["valid"]) for r in reports] == [(str(minimal), True), (str(missing), False)]
    [problem] = reports[1]["problems"]
    assert problem["file"] == str(missing) and problem["message"] == "no such file" and problem["severity"] == "error"


def test_a_missing_spec_does_not_hide_the_others_in_text(minimal, tmp_path, capsys):
    assert main(["validate", str(minimal), str(tmp_path / "nope.yaml")]) == 2
    out = capsys.readouterr()
    assert f"{minimal}: valid" in out.out
    assert f"{tmp_path / 'nope.yaml'}: no such file" in out.err
    assert "Traceback" not in out.err


def test_a_missing_spec_is_a_github_annotation(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml"), "--format", "github"]) == 2
    assert capsys.readouterr().out.startswith(f"::error file={tmp_path / 'nope.yaml'},title=")


def test_a_folder_without_specs_is_reported_with_the_others(minimal, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["validate", str(minimal), str(empty), "--format", "json"]) == 2
    reports = json.loads(capsys.readouterr().out)
    assert reports[0]["valid"] is True
    assert reports[1]["file"] == str(empty) and reports[1]["problems"][0]["message"] == "no .yaml or .yml file in this folder"


@pytest.mark.parametrize("command", ["plan", "run"])
def test_plan_and_run_of_a_folder_exit_2(tmp_path, capsys, command):
    assert main([command, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: is a folder, not a spec file" in err and "Traceback" not in err


def _validate_bounded(path: Path) -> subprocess.CompletedProcess:
    """``mlx validate path`` in a process of at most 1 GB of memory and a minute: a spec read whole, or a
    read that waits for ever, fails the test instead of the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    cmd = [sys.executable, "-m", "automl_yaml", "validate", str(path)]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mlx validate {path} did not return")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: Path("/dev/zero"), "/dev/zero: is a character device, not a spec file"),  # was read until MemoryError
        (lambda tmp: (os.mkfifo(tmp / "spec.yaml"), tmp / "spec.yaml")[1], "spec.yaml: is a named pipe (FIFO), not a spec file"),  # blocked for ever
    ],
    ids=["device", "fifo"],
)
def test_only_a_regular_file_is_read_as_a_spec(tmp_path, make, message):
    r = _validate_bounded(make(tmp_path))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "hint: give the path of a .yaml file" in r.stderr and "internal error" not in r.stderr


def test_a_huge_spec_is_refused_without_being_read(tmp_path):
    big = tmp_path / "spec.yaml"
    with open(big, "wb") as f:
        f.truncate(3 << 30)  # 3 GB, sparse: read whole it took 3.2 GB of memory before being refused
    r = _validate_bounded(big)
    assert r.returncode == 2, r.stderr
    assert f"{big}: file is 3,221,225,472 bytes; a spec may be at most 1,000,000" in r.stderr


def test_a_spec_of_the_largest_size_is_read(tmp_path, capsys):
    from automl_yaml.spec.loader import MAX_BYTES

    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL + "#" * (MAX_BYTES - len(MINIMAL) - 1) + "\n")
    assert spec.stat().st_size == MAX_BYTES
    assert main(["validate", str(spec)]) == 0
    spec.write_text(MINIMAL + "#" * (MAX_BYTES - len(MINIMAL)) + "\n")
    assert main(["validate", str(spec)]) == 2
    assert "file is 1,000,001 bytes; a spec may be at most 1,000,000" in capsys.readouterr().err


# ------------------------------------------------------------------ --set paths not in the file


@pytest.mark.parametrize(
    ("arg", "path", "message"),
    [
        ("serch.budget.trials=3", "serch", "unknown key 'serch'"),  # a new top-level key
        ("data.split.test_sise=0.3", "data.split.test_sise", "unknown key 'test_sise'"),  # a new section below the file's
        ("sources.extra.name=iris", "sources.extra", "cannot tell the kind of this source"),
    ],
)
def test_a_set_that_makes_a_new_section_is_located_at_the_argument(minimal, capsys, arg, path, message):
    assert main(["validate", str(minimal), "--set", arg, "--format", "json"]) == 2
    [problem] = [p for p in json.loads(capsys.readouterr().out)["problems"] if p["severity"] == "error"]
    assert (problem["file"], problem["line"], problem["path"]) == (f"--set {arg}", None, path)
    assert message in problem["message"]


def test_an_empty_target_from_set_is_refused(minimal, capsys):
    assert main(["validate", str(minimal), "--set", "data.target="]) == 2
    err = capsys.readouterr().err
    assert err.startswith("--set data.target=: data.target: the target is empty")


def test_an_empty_target_from_a_variable_names_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MLX_TEST_SURELY_UNSET", raising=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL.replace("target: species", "target: ${MLX_TEST_SURELY_UNSET:-}"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:4:11: data.target: the target is empty" in err
    assert "hint: ${MLX_TEST_SURELY_UNSET:-} gave an empty string" in err


# ------------------------------------------------------------------- source files not there yet


def _json(argv: list[str], capsys) -> tuple[int, list[dict]]:
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)["problems"]


def _validate(tmp_path, capsys, text: str) -> tuple[int, list[dict]]:
    """``mlx validate --format json`` of ``text``, written to tmp_path/spec.yaml."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    return _json(["validate", str(spec)], capsys)


def test_a_missing_source_file_is_a_warning_with_the_close_name(tmp_path, capsys):
    (tmp_path / "penguins.csv").write_text("species\nAdelie\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  penguins: pengiuns.csv\ndata:\n  target: species\n")
    code, problems = _json(["validate", str(spec)], capsys)
    assert code == 0
    [p] = problems
    assert (p["severity"], p["line"], p["col"], p["path"]) == ("warning", 2, 13, "sources.penguins.path")
    assert p["message"].startswith(f"file not found: {tmp_path / 'pengiuns.csv'}")
    assert p["hint"] == "did you mean 'penguins.csv'?"
    assert main(["validate", str(spec), "--strict"]) == 2
    capsys.readouterr()


def test_a_source_in_a_missing_folder_names_the_folder(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  penguins: {kind: file, path: data/penguins.csv}\ndata:\n  target: species\n")
    code, [p] = _json(["validate", str(spec)], capsys)
    assert code == 0 and p["severity"] == "warning"
    assert p["hint"].startswith(f"no folder {tmp_path / 'data'} (relative paths are relative to the spec's folder")


def test_an_existing_source_file_or_a_url_gives_no_warning(tmp_path, capsys):
    (tmp_path / "penguins.csv").write_text("species\nAdelie\n")
    assert _validate(
        tmp_path,
        capsys,
        "sources:\n  penguins: penguins.csv\n  more: https://example.org/more.csv\n"
        "data:\n  from: penguins\n  target: species\n  join: [{source: more, on: species}]\n",
    ) == (0, [])


@pytest.mark.parametrize(
    ("path", "fmt", "compression"),
    [
        ("data/penguins.csv", "csv", None),
        ("penguins.CSV.GZ", "csv", "gzip"),
        ("s3://bucket/dir/part.parquet?versionId=3", "parquet", None),
        ("https://host/download?file=x.csv", None, None),  # the query string is not the name
        ("table", None, None),
    ],
)
def test_file_format_is_the_readers(path, fmt, compression):
    from automl_yaml.spec.semantic import file_format

    assert file_format(path, None) == (fmt, compression)
    assert file_format(path, "json")[0] == "json"


# ------------------------------------------------- LogisticRegression's rules across parameters


@pytest.mark.parametrize(
    "params",
    [
        "{penalty: l1, solver: saga}",
        "{penalty: l1, solver: liblinear}",
        "{l1_ratio: {float: [0, 1]}, solver: saga}",
        "{penalty: elasticnet, solver: saga}",
        "{C: {float: [0.01, 10], log: true}, solver: {choice: [lbfgs, newton-cg, saga]}}",
    ],
)
def test_logistic_combinations_that_fit_pass(tmp_path, capsys, params):
    assert _validate(tmp_path, capsys, MINIMAL + f"models:\n  logistic_regression:\n    params: {params}\n") == (0, [])


def test_logistic_values_of_a_space_that_cannot_fit_are_a_warning(tmp_path, capsys):
    code, [p] = _validate(tmp_path, capsys, MINIMAL + "models:\n  logistic_regression:\n    params: {penalty: l1, solver: {choice: [lbfgs, liblinear]}}\n")
    assert code == 0
    assert (p["severity"], p["line"], p["path"]) == ("warning", 7, "models.logistic_regression.params.solver")
    assert "(e.g. solver 'lbfgs' supports only the l2 penalty or none, got the l1 penalty): the trials that draw them fail" in p["message"]


def test_the_logistic_rule_is_scikit_learns():
    """Every verdict of the static rule agrees with LogisticRegression.fit (scikit-learn is imported by this test only)."""
    import itertools
    import warnings

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from automl_yaml.spec.semantic import _logistic_error

    X = np.random.default_rng(0).random((40, 3))
    y = np.arange(40) % 2
    for penalty, l1_ratio, C, solver, dual in itertools.product(
        ["deprecated", "l1", "l2", "elasticnet", None], [0.0, 0.5, 1.0], [1.0, float("inf")], ["lbfgs", "liblinear", "saga", "newton-cg"], [False, True]
    ):
        if C == float("inf") and solver == "liblinear" and penalty in ("l1", "l2"):
            continue  # liblinear would fit without regularisation for ever (and the rule has nothing to say)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                LogisticRegression(penalty=penalty, l1_ratio=l1_ratio, C=C, solver=solver, dual=dual, max_iter=5).fit(X, y)
                fits = True
            except ValueError:
                fits = False
        assert (_logistic_error(penalty, l1_ratio, C, solver, dual) is None) == fits, (penalty, l1_ratio, C, solver, dual)


# ------------------------------------------------ copies of what the run's modules know, kept equal


def test_no_importances_is_exactly_the_registered_estimators_without_them():
    """Fits every registered scikit-learn estimator on a tiny table: those without coef_/feature_importances_ are the list."""
    import importlib
    import warnings

    import numpy as np

    from automl_yaml import registry as R
    from automl_yaml.components import catalog
    from automl_yaml.spec.semantic import NO_IMPORTANCES

    catalog.ensure_estimators()
    X = np.random.default_rng(0).random((40, 3))
    y = {"classification": np.arange(40) % 2, "regression": X[:, 0]}
    targets = {(t, task) for n in R.estimators.names() for task, t in catalog.estimator_classes(n).items() if t.startswith("sklearn.")}
    without = set()
    for target, task in sorted(targets):
        module, cls = target.split(":")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = getattr(importlib.import_module(module), cls)().fit(X, y[task])
        if not (hasattr(est, "coef_") or hasattr(est, "feature_importances_")):
            without.add(cls)
    assert without == NO_IMPORTANCES


# ---------------------------------------------------------------------- what MLflow refuses


@pytest.mark.parametrize("uri", ["mlruns", "file:./mlruns"])
def test_a_folder_as_tracking_store_is_refused_unless_mlflow_allows_it(tmp_path, capsys, monkeypatch, uri):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL + f"tracking: {uri}\n")
    code, [p] = _json(["validate", str(spec)], capsys)
    assert code == 2
    assert (p["line"], p["col"], p["path"]) == (5, 11, "tracking.uri")
    assert p["message"] == "MLflow refuses a folder as its store (its file store is in maintenance mode)"
    assert "MLFLOW_ALLOW_FILE_STORE=true" in p["hint"]
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    assert _json(["validate", str(spec)], capsys) == (0, [])


@pytest.mark.parametrize(
    "uri",
    ["sqlite:///mlflow.db", "http://127.0.0.1:5000", "postgresql+psycopg://u:pw@h/db", "databricks", "${MLX_TEST_SURELY_UNSET:-sqlite:///m.db}"],
)
def test_tracking_uris_mlflow_takes_pass(tmp_path, capsys, monkeypatch, uri):
    monkeypatch.delenv("MLX_TEST_SURELY_UNSET", raising=False)
    assert _validate(tmp_path, capsys, MINIMAL + f"tracking: {{uri: '{uri}', register: penguins.species_v2}}\n") == (0, [])


def test_a_tracking_uri_with_a_password_is_masked(tmp_path, capsys):
    code, [p] = _validate(tmp_path, capsys, MINIMAL + "tracking: {uri: 'postgress://me:s3cr3t-Pa55@db/mlflow'}\n")
    assert code == 2 and "s3cr3t" not in json.dumps(p)
    assert p["hint"] == "did you mean 'postgresql'?"


# --------------------------------------------------------------------------- SQL and MongoDB


def test_the_bind_pattern_is_sqlalchemys():
    from sqlalchemy.sql.elements import TextClause

    from automl_yaml.spec.semantic import _SQL_BIND

    assert _SQL_BIND.pattern == TextClause._bind_params_regex.pattern


def test_casts_and_times_in_a_query_are_not_placeholders(tmp_path, capsys):
    (tmp_path / "zoo.db").write_bytes(b"")
    assert _validate(
        tmp_path,
        capsys,
        "sources:\n  zoo:\n    kind: sql\n    url: sqlite:///zoo.db\n"
        "    query: \"SELECT a::int, b FROM t WHERE c = '10:30' AND d > :since\"\n    params: {since: 2020}\n"
        "data: {target: b}\n",
    ) == (0, [])


def test_a_missing_sqlite_file_is_a_warning(tmp_path, capsys):
    code, [p] = _validate(tmp_path, capsys, "sources:\n  zoo: {kind: sql, url: 'sqlite:///data/zoo.db', table: penguins}\ndata: {target: species}\n")
    assert code == 0 and (p["severity"], p["path"], p["line"]) == ("warning", "sources.zoo.url", 2)
    assert p["message"].startswith(f"database file not found: {tmp_path / 'data' / 'zoo.db'}")


# ------------------------------------------------------------------ a grid that would never end

GRID = MINIMAL + """\
preprocess:
  numeric: {scale: {choice: [standard, robust]}}
select:
  - univariate: {k: {choice: [2, 3, 4]}}
models:
  random_forest:
    params: {n_estimators: {int: [10, 1000], step: 10}, max_depth: {choice: [null, 5, 10]}}
  logistic_regression:
    params: {C: {float: [0.5, 2.0], step: 0.5}}
search: {strategy: grid}
"""


def test_the_static_grid_size_is_the_planners(tmp_path):
    from automl_yaml.planner import plan
    from automl_yaml.spec import load_spec
    from automl_yaml.spec.semantic import Checker

    spec = tmp_path / "spec.yaml"
    spec.write_text(GRID)
    loaded = load_spec(spec)
    assert Checker(loaded.spec, loaded.smap).grid_size() == plan(loaded).space_size == (100 * 3 + 4) * 2 * 3


def test_a_huge_grid_without_a_budget_is_a_warning(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GRID.replace("step: 10}", "step: 1}"))
    code, [p] = _json(["validate", str(spec)], capsys)
    assert code == 0 and (p["severity"], p["path"], p["line"]) == ("warning", "search.strategy", 14)
    assert p["message"] == "the grid has 17,862 configurations and the search has no budget: it would run every one"
    assert main(["validate", str(spec), "--set", "search.budget.time=2h"]) == 0


# ------------------------------------------------------------- YAML merges are one level deep


def test_a_mapping_that_replaces_a_merged_one_is_a_warning(tmp_path, capsys):
    code, [p] = _validate(
        tmp_path,
        capsys,
        "x-rf: &rf {params: {n_estimators: 10, max_features: 0.5}}\n" + MINIMAL + "models:\n  random_forest:\n    <<: *rf\n    params: {max_depth: 3}\n",
    )
    assert code == 0
    assert (p["severity"], p["line"], p["col"], p["path"]) == ("warning", 9, 5, "models.random_forest.params")
    assert p["message"].endswith("so 'n_estimators', 'max_features' are dropped")
    assert "{<<: *name, ...}" in p["hint"]


@pytest.mark.parametrize(
    "entry",
    [
        "    <<: *rf\n    params: {<<: *rfp, max_depth: 3}\n",  # merged one level down too
        "    <<: *rf\n    params: {n_estimators: 20}\n",  # every merged key given again
        "    <<: *rf\n",
    ],
)
def test_merges_that_keep_every_key_pass(tmp_path, capsys, entry):
    assert _validate(tmp_path, capsys, "x-rf: &rf {params: &rfp {n_estimators: 10}}\n" + MINIMAL + "models:\n  random_forest:\n" + entry) == (0, [])


@pytest.mark.parametrize(("n_jobs", "warned"), [(3, True), (2, False), (-1, False)])
def test_more_workers_than_cpus_is_a_warning(tmp_path, capsys, monkeypatch, n_jobs, warned):
    monkeypatch.setattr("automl_yaml.spec.semantic.os.cpu_count", lambda: 2)
    code, problems = _validate(tmp_path, capsys, MINIMAL + f"execution: {{n_jobs: {n_jobs}}}\n")
    assert code == 0
    assert [(p["severity"], p["path"], p["line"]) for p in problems] == ([("warning", "execution.n_jobs", 5)] if warned else [])
    if warned:
        assert problems[0]["message"].endswith("and this machine has 2 CPUs")
