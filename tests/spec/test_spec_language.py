"""The spec language: loader rules, interpolation, overrides, defaults, schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from automl_yaml.cli import main
from automl_yaml.errors import SpecError, UsageError
from automl_yaml.spec import json_schema, load_spec, mask_url, redact, validate
from automl_yaml.spec.loader import load_yaml

ROOT = Path(__file__).resolve().parents[2]
VALID = sorted((Path(__file__).parent / "valid").glob("*.yaml"))
EXAMPLES = sorted(ROOT.glob("examples/*/spec.yaml"))


def test_yaml_12_scalars():
    data, _ = load_yaml("on: id\nyes: no\nlr: 1e-3\nt: 1:30\nd: 2024-01-01\nb: True\nn: ~\no: 0o17\n")
    assert data == {"on": "id", "yes": "no", "lr": 0.001, "t": "1:30", "d": "2024-01-01", "b": True, "n": None, "o": 15}


def test_locations_of_keys_and_values():
    data, smap = load_yaml("a:\n  b: 1\n  c: [x, {d: 2}]\n")
    assert smap.locate(("a", "b")).line == 2
    assert (smap.locate(("a", "c", 1, "d")).line, smap.locate(("a", "c", 1, "d")).col) == (3, 14)
    assert smap.locate(("a", "b", "nope")).line == 2  # nearest ancestor
    assert smap.locate(("a",)).line == 1  # a block mapping points at its key


def test_merge_keys_and_anchors():
    data, _ = load_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert data["other"] == {"x": 1, "y": 3}


def test_minimal_spec_defaults():
    loaded = load_spec(VALID[[p.name for p in VALID].index("minimal.yaml")])
    s = loaded.spec
    assert s.name == "minimal"
    assert s.data.task == "auto" and s.models is None
    assert s.search.strategy == "optuna" and s.search.metric is None
    assert s.tracking.enabled and s.execution.n_jobs == -1
    assert loaded.output_dir == loaded.base_dir / "runs" / "minimal"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_specs(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


def test_shorthands_normalise():
    s = load_spec(Path(__file__).parent / "valid" / "shorthands.yaml").spec
    assert s.sources["d"].kind == "file" and s.sources["d"].path == "data.parquet"
    assert s.data.drop == ["id"]
    assert list(s.models) == ["random_forest", "ridge"] and s.models["ridge"].params is None
    assert not s.tracking.enabled
    assert s.preprocess.numeric.outliers.method == "zscore"
    assert s.search.budget.time == 5400.0


def test_env_interpolation_and_escape(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("sources: {d: {kind: sample, name: iris}}\ndata: {target: \"${T:-target}\"}\ndescription: 'cost $${X}'\nname: ${N}\n")
    loaded = load_spec(spec, environ={"N": "job1"})
    assert loaded.spec.data.target == "target"
    assert loaded.spec.name == "job1"
    assert loaded.spec.description == "cost ${X}"
    assert loaded.raw["name"] == "${N}"  # the saved copy keeps the reference, not the value
    with pytest.raises(SpecError) as err:
        load_spec(spec, environ={})
    assert "'N' is not set" in err.value.problems[0].message
    assert err.value.problems[0].location.line == 4


def test_overrides(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("sources: {d: {kind: sample, name: iris}}\ndata: {target: target}\nselect: [{univariate: {k: 3}}]\n")
    loaded = load_spec(spec, overrides=["search.budget.trials=7", "select.0.univariate.k=5", "models.random_forest.params.max_depth={choice: [3, 5]}"])
    assert loaded.spec.search.budget.trials == 7
    assert loaded.spec.select[0].univariate.k == 5
    assert loaded.spec.models["random_forest"].params["max_depth"].choice == [3, 5]
    with pytest.raises(SpecError) as err:
        load_spec(spec, overrides=["search.budget.trials=lots"])
    assert str(err.value.problems[0].location) == "--set search.budget.trials=lots"
    with pytest.raises(UsageError):
        load_spec(spec, overrides=["novalue"])
    assert main(["validate", str(spec), "--set", "search.budget.trials=0"]) == 2
    assert "--set search.budget.trials=0: search.budget.trials: must be >= 1" in capsys.readouterr().err


def test_overrides_as_a_python_user_writes_them(tmp_path):
    """The library takes None, one string, or a mapping whose values are used as they are."""
    spec = tmp_path / "s.yaml"
    spec.write_text("sources: {d: {kind: sample, name: iris}}\ndata: {target: target}\nsearch: {budget: {trials: 3}}\n")
    assert load_spec(spec, overrides=None).spec.search.budget.trials == 3
    assert load_spec(spec, overrides="search.budget.trials=9").spec.search.budget.trials == 9
    space = {"choice": [3, 5]}
    loaded = load_spec(spec, overrides={"search.budget.trials": 11, "models.random_forest.params.max_depth": space, "output": "1e3"})
    assert loaded.spec.search.budget.trials == 11
    assert loaded.spec.models["random_forest"].params["max_depth"].choice == [3, 5]
    assert str(loaded.spec.output) == "1e3"  # a Python string stays a string (a --set value is YAML: a number)
    space["choice"].append(7)  # the caller's object is copied, not shared
    assert loaded.spec.models["random_forest"].params["max_depth"].choice == [3, 5]
    with pytest.raises(SpecError) as err:
        load_spec(spec, overrides={"search.budget.trials": 0})
    assert "search.budget.trials" in str(err.value) and "--set search.budget.trials=0" in str(err.value.problems[0].location)
    with pytest.raises(UsageError):
        load_spec(spec, overrides={"search..trials": 2})


def test_redaction():
    assert mask_url("postgresql://bob:hunter2@db:5432/x") == "postgresql://bob:***@db:5432/x"
    assert mask_url("https://h/d.csv?token=abc&x=1") == "https://h/d.csv?token=***&x=1"
    assert mask_url("https://acct.blob/c/f.parquet?sv=2024&sig=Zx%2B9&se=1") == "https://acct.blob/c/f.parquet?sv=2024&sig=***&se=1"
    assert mask_url("s3://b/k?X-Amz-Credential=AK/1&X-Amz-Signature=ff00") == "s3://b/k?X-Amz-Credential=***&X-Amz-Signature=***"
    assert mask_url("https://h/d.csv?api_key=${KEY}&page=2") == "https://h/d.csv?api_key=${KEY}&page=2"  # a reference, not a secret
    assert redact({"url": "mysql://a:b@h/d", "password": "p", "token": "${TOKEN}"}) == {"url": "mysql://a:***@h/d", "password": "***", "token": "${TOKEN}"}


def test_printing_a_loaded_spec_never_shows_a_secret(tmp_path, monkeypatch):
    """A notebook prints what the library returns: ${VAR} values must not show."""
    monkeypatch.setenv("MLX_TEST_PW", "hunter2-xyz")
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "sources:\n"
        "  d: {kind: sql, url: 'postgresql://bob:${MLX_TEST_PW}@db:5432/x', query: 'select 1', params: {password: '${MLX_TEST_PW}'}}\n"
        "  f: {path: 'https://h/d.csv?token=${MLX_TEST_PW}', storage_options: {secret: '${MLX_TEST_PW}'}}\n"
        "data: {from: d, target: y}\n"
    )
    loaded = load_spec(spec)
    assert loaded.spec.sources["d"].url == "postgresql://bob:hunter2-xyz@db:5432/x"  # the value itself is intact
    for shown in (repr(loaded), repr(loaded.spec), str(loaded.spec), repr(loaded.spec.sources), str(validate(spec))):
        assert "hunter2" not in shown
    assert "url='postgresql://bob:***@db:5432/x'" in repr(loaded.spec.sources["d"])
    assert "ok=True" in repr(validate(spec))


def test_a_set_that_carries_a_secret_is_masked_in_messages(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("sources: {d: {kind: sql, url: 'sqlite:///x.db', query: 'select 1'}}\ndata: {target: y}\n")
    args = ["--set", "sources.d.password=hunter2", "--set", "sources.d.chunksize=postgresql://u:hunter2@h/x"]
    assert main(["validate", str(spec), *args]) == 2
    err = capsys.readouterr().err
    assert "--set sources.d.password=***" in err and "--set sources.d.chunksize=postgresql://u:***@h/x" in err
    assert "hunter2" not in err
    with pytest.raises(SpecError) as caught:
        load_spec(spec, overrides={"sources.d.api_key": "hunter2"})
    assert "hunter2" not in str(caught.value.problems[0].location)


def test_a_spec_that_is_neither_a_path_nor_a_mapping_is_a_type_error():
    for wrong in (123, ["sources"], None):
        with pytest.raises(TypeError, match=f"a spec is a path .* or a mapping, not {type(wrong).__name__}"):
            load_spec(wrong)


def test_warnings_do_not_fail_but_strict_does(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("sources: {d: {kind: sample, name: iris}, e: {kind: sample, name: wine}}\ndata: {from: d, target: target}\n")
    assert main(["validate", str(spec)]) == 0
    assert "source 'e' is not used" in capsys.readouterr().err
    assert main(["validate", "--strict", str(spec)]) == 2


def test_github_format(tmp_path, capsys):
    spec = Path(__file__).parent / "broken" / "33_unknown_hyperparameter.yaml"
    assert main(["validate", "--format", "github", str(spec)]) == 2
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(f"::error file={spec},line=11,col=7,title=")
    assert "unknown parameter 'max_dept'" in line


def test_validate_many_files(capsys):
    assert main(["validate", *map(str, VALID)]) == 0
    bad = Path(__file__).parent / "broken" / "32_unknown_estimator.yaml"
    assert main(["validate", str(VALID[0]), str(bad)]) == 2


def test_library_validate_report():
    r = validate(Path(__file__).parent / "broken" / "33_unknown_hyperparameter.yaml")
    assert not r.ok and r.loaded is None and r.errors[0].path == "models.random_forest.params.max_dept"


# ----------------------------------------------------------------------------- schema


def test_committed_schema_is_current():
    committed = json.loads((ROOT / "schemas" / "spec.schema.json").read_text())
    assert committed == json_schema(), "schemas/spec.schema.json is stale: run `mlx schema -o schemas/spec.schema.json`"


def test_schema_is_valid_and_accepts_valid_specs():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    for path in VALID + EXAMPLES:
        doc, _ = load_yaml(path.read_text())  # YAML 1.2, as editors read it
        errors = [e.message for e in v.iter_errors(doc)]
        assert not errors, (path, errors)


def test_schema_rejects_unknown_keys():
    v = jsonschema.Draft202012Validator(json_schema())
    doc = {"sources": {"d": "x.csv"}, "data": {"target": "y", "targt": 1}}
    assert list(v.iter_errors(doc))


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "automl-yaml spec"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_carry_the_schema_comment(path):
    assert path.read_text().startswith("# yaml-language-server: $schema="), path


def test_validate_a_folder(tmp_path, capsys):
    import shutil

    (tmp_path / "team").mkdir()
    shutil.copy(VALID[0], tmp_path / "team" / "a.yaml")
    shutil.copy(Path(__file__).parent / "broken" / "32_unknown_estimator.yaml", tmp_path / "b.yml")
    assert main(["validate", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "team/a.yaml: valid" in captured.out and "b.yml:" in captured.err
    (tmp_path / "b.yml").unlink()
    assert main(["validate", str(tmp_path)]) == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["validate", str(empty)]) == 2


def test_specs_loaded_from_threads_at_once_all_know_the_estimators():
    """The first use registers the estimators; other threads saw an empty list meanwhile."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import threading
        from automl_yaml.spec import load_spec
        spec = {"sources": {"d": {"kind": "sample", "name": "iris"}}, "data": {"target": "target"},
                "models": {"decision_tree": {"params": {"max_depth": {"choice": [2, 3]}}}}}
        errors = []
        def load():
            try:
                load_spec(spec)
            except Exception as exc:
                errors.append(str(exc).splitlines()[0])
        threads = [threading.Thread(target=load) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(errors)
        """
    )
    for _ in range(3):  # a fresh process each time: the first use is the race
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "[]", r.stdout
