"""Habits users bring from editors and other tools: what is accepted, and how the rest is refused.

The broken-spec corpus (``broken/``) holds the single-file mistakes; this file
holds what a corpus file cannot: byte-level encodings (BOM, CRLF, UTF-16, an
empty file), ``--set`` arguments, ``--check-data``, a missing optional library,
the output formats, and that a plain ``mlx validate`` stays light.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from automl_yaml.cli import main

BROKEN = Path(__file__).parent / "broken"

ACCEPTED = """\
version: 1
sources:
  penguins: {kind: sample, name: penguins}
data:
  target: species
  split: {test_size: 0.25, shuffle: yes}
models:
  random_forest:
    params:
      max_depth: null
      max_features: {choice: [null, sqrt]}
      max_leaf_nodes: ~
  logistic_regression:
    params:
      C: {float: [1e-3, 1e+3], log: true}
search:
  metric: accuracy
  budget: {time: 10m, trial_timeout: 90s}
execution:
  n_jobs: -1
"""


def _json(argv: list[str], capsys) -> tuple[int, dict]:
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_what_users_expect_to_be_accepted(tmp_path, capsys):
    """null / ~ for None, yes for true, 1e-3, 10m, n_jobs: -1 (one trial per CPU)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(ACCEPTED)
    assert main(["validate", str(spec)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["bom", "crlf", "bom+crlf"])
def test_bom_and_crlf_are_accepted(tmp_path, capsys, encoding):
    text = ACCEPTED.replace("\n", "\r\n") if "crlf" in encoding else ACCEPTED
    data = ("\ufeff" if "bom" in encoding else "") + text
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(data.encode("utf-8"))
    assert main(["validate", str(spec)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["lf", "bom", "crlf", "bom+crlf"])
def test_bom_and_crlf_keep_lines_and_columns(tmp_path, capsys, encoding):
    text = ACCEPTED.replace("max_depth: null", "max_dept: null").replace("n_jobs: -1", "n_jobs: -3")
    if "crlf" in encoding:
        text = text.replace("\n", "\r\n")
    spec = tmp_path / "spec.yaml"
    spec.write_bytes((("\ufeff" if "bom" in encoding else "") + text).encode("utf-8"))
    code, report = _json(["validate", str(spec)], capsys)
    assert code == 2
    where = {p["path"]: (p["line"], p["col"]) for p in report["problems"]}
    assert where["models.random_forest.params.max_dept"] == (10, 7)
    assert where["execution.n_jobs"] == (20, 11)


def test_bom_on_the_first_line_keeps_its_column(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes("\ufeffseed: -1\nsources: {d: {kind: sample, name: iris}}\ndata: {target: target}\n".encode())
    code, report = _json(["validate", str(spec)], capsys)
    assert code == 2
    assert (report["problems"][0]["line"], report["problems"][0]["col"]) == (1, 7)


def test_utf16_file_is_named_as_such(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes("sources: {d: {kind: sample, name: iris}}\ndata: {target: target}\n".encode("utf-16"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:1:1: the file is UTF-16 encoded" in err and "save it as UTF-8" in err
    assert "Traceback" not in err


def test_zero_byte_file(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"")
    assert main(["validate", str(spec)]) == 2
    assert "the spec is empty" in capsys.readouterr().err


def test_windows_path_in_single_quotes_is_accepted(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  d: {kind: file, path: 'C:\\data\\penguins.csv'}\ndata: {target: species}\n")
    assert main(["validate", str(spec)]) == 0, capsys.readouterr().err


# ----------------------------------------------------------------------------- --set
MINIMAL = "sources:\n  d: {kind: sample, name: penguins}\ndata: {target: species}\nselect:\n  - univariate: {k: 3}\n"


@pytest.fixture
def minimal(tmp_path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL)
    return spec


@pytest.mark.parametrize(
    "arg, message, hint",
    [
        ("search.budget.trails=20", "unknown key 'trails'", "did you mean 'trials'?"),
        ("search.budget.trials=lots", "expected an integer, got 'lots'", None),
        ("search.budget.trials", "expected KEY=VALUE", "--set search.budget.trials=20"),
        ("models.random_forest.params.max_depth={int: [1, 5]", "the value is not valid YAML", "quote the whole argument"),
        ("data.target.name=x", "cannot set 'data.target.name' in a string", "--set data.target=<value>"),
        ("select.3.univariate.k=5", "'select[3]' cannot be set here ('select' is a list)", "it has 1"),
        ("search.strategy=tpe", "unknown search strategy 'tpe'", "strategy: optuna"),
    ],
)
def test_bad_set_arguments_are_located_at_the_argument(minimal, capsys, arg, message, hint):
    code, report = _json(["validate", str(minimal), "--set", arg], capsys)
    assert code == 2
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    matching = [p for p in errors if message in p["message"]]
    assert matching, errors
    assert matching[0]["file"] == f"--set {arg}"
    if hint:
        assert hint in (matching[0]["hint"] or ""), matching[0]
    main(["validate", str(minimal), "--set", arg])
    err = capsys.readouterr().err
    assert err.startswith(f"--set {arg}: ") and "Traceback" not in err


def test_every_bad_set_is_reported_at_once(minimal, capsys):
    code, report = _json(["validate", str(minimal), "--set", "a..b=1", "--set", "novalue"], capsys)
    assert code == 2
    assert [p["file"] for p in report["problems"]] == ["--set a..b=1", "--set novalue"]


# ------------------------------------------------------------------------ --check-data
def test_check_data_selector_asking_for_too_many_features(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "sources:\n  d: {kind: sample, name: penguins}\ndata: {target: species}\n"
        "select:\n  - univariate: {k: 1000}\n  - sequential: {k_features: 600}\n"
    )
    assert main(["validate", str(spec)]) == 0  # the static check cannot know the columns
    capsys.readouterr()
    code, report = _json(["validate", "--check-data", str(spec)], capsys)
    assert code == 2
    by_path = {p["path"]: p for p in report["problems"]}
    k = by_path["select[0].univariate.k"]
    assert k["severity"] == "warning" and (k["line"], k["col"]) == (5, 21) and "all of them are kept" in k["message"]
    assert "7 feature columns" in k["hint"]
    kf = by_path["select[1].sequential.k_features"]
    assert kf["severity"] == "error" and kf["line"] == 6 and "k_features=600" in kf["message"]


# ------------------------------------------------------------------ optional libraries
def test_lightgbm_names_when_lightgbm_is_not_installed(tmp_path):
    head = "sources:\n  d: {kind: sample, name: penguins}\ndata: {target: species}\n"
    by_key = tmp_path / "by_key.yaml"
    by_key.write_text(head + "models:\n  LGBMClassifier: {}\n  lgbm: {}\n")
    by_field = tmp_path / "by_field.yaml"
    by_field.write_text(head + "models:\n  gb:\n    estimator: lightgbm\n")
    hide = (
        "import importlib.metadata as m\n"
        "real = m.version\n"
        "def version(name):\n"
        "    if name == 'lightgbm':\n"
        "        raise m.PackageNotFoundError(name)\n"
        "    return real(name)\n"
        "m.version = version\n"
        "import sys\n"
        "from automl_yaml.cli import main\n"
        f"sys.exit(main(['validate', {str(by_key)!r}, {str(by_field)!r}]))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr
    assert f"{by_key}:5:3: models.LGBMClassifier: 'LGBMClassifier' needs the optional package 'lightgbm', which is not installed" in err
    assert f"{by_key}:6:3: models.lgbm: 'lgbm' needs the optional package 'lightgbm'" in err
    assert f"{by_field}:6:16: models.gb.estimator: 'lightgbm' needs the optional package 'lightgbm'" in err
    assert err.count('hint: pip install "automl-yaml[boost]"') == 3
    assert "Traceback" not in err


# ---------------------------------------------------------------------- output formats
def test_json_format_of_new_corpus_cases(capsys):
    case = BROKEN / "92_cv_as_number.yaml"
    code, report = _json(["validate", str(case)], capsys)
    assert code == 2 and report["valid"] is False
    (problem,) = report["problems"]
    assert problem == {
        "severity": "error",
        "file": str(case),
        "line": 8,
        "col": 7,
        "path": "search.cv",
        "message": "expected a mapping, got 1",
        "hint": "write cv: {folds: 2} (at least 2 folds)",
    }


def test_github_format_of_new_corpus_cases(capsys):
    cases = [BROKEN / "67_hyperparameter_beside_params.yaml", BROKEN / "85_strategy_tpe.yaml"]
    assert main(["validate", "--format", "github", *map(str, cases)]) == 2
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].startswith(f"::error file={cases[0]},line=9,col=5,title=mlx validate%3A models.random_forest.n_estimators::unknown key 'n_estimators' (hint: ")
    assert "put it under params" in lines[0]
    assert lines[1] == (
        f"::error file={cases[1]},line=8,col=13,title=mlx validate%3A search.strategy::"
        "unknown search strategy 'tpe' (hint: use strategy: optuna (its default sampler is TPE))"
    )
    assert "0 valid, 2 invalid" in out.err


def test_text_format_shows_hint_lines(capsys):
    case = BROKEN / "68_params_not_indented.yaml"
    assert main(["validate", str(case)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{case}:9:3: models.params: 'params' is not a model name"
    assert err[1] == "  hint: indent `params:` under `random_forest:` (two more spaces)"


# ------------------------------------------------------------------------------ speed
def test_plain_validate_imports_nothing_heavy():
    """`mlx validate` reads estimator metadata from JSON: no scikit-learn, pandas or MLflow."""
    code = (
        "import sys\n"
        "from automl_yaml.cli import main\n"
        "cases = sorted(str(p) for p in __import__('pathlib').Path(sys.argv[1]).glob('*.yaml'))\n"
        "main(['validate', '--quiet', *cases])\n"
        "heavy = sorted(m for m in ('sklearn', 'sklearn.ensemble', 'pandas', 'mlflow', 'optuna', 'numpy', 'scipy') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(BROKEN)], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "", f"imported: {proc.stdout.strip()}"
