"""Broken specs that the corpus format (``broken/*.yaml``) cannot express: binary files, warnings, absent hints."""

from __future__ import annotations

import gzip
import json

import pytest

from automl_yaml.cli import main

BASE = "sources:\n  penguins: {kind: sample, name: penguins}\ndata:\n  target: species\n"


def _problems(spec, capsys, code=2):
    assert main(["validate", str(spec), "--format", "json"]) == code
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return json.loads(out.out)["problems"]


@pytest.mark.parametrize(
    "content, what",
    [(gzip.compress(BASE.encode()), "binary file (gzip)"), (bytes(range(256)) * 4, "binary file, not a YAML spec"), (b"PAR1\x15\x04", "(Parquet)")],
    ids=["gzip", "garbage", "parquet"],
)
def test_binary_file_is_named_binary(tmp_path, capsys, content, what):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(content)
    problems = _problems(spec, capsys)
    assert len(problems) == 1 and what in problems[0]["message"], problems


def test_utf16_with_non_ascii_text_is_still_utf16(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(("name: 日本語のスペック\n" + BASE).encode("utf-16-le"))
    problems = _problems(spec, capsys)
    assert "UTF-16" in problems[0]["message"]


def test_shell_style_variable_is_a_warning(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  penguins: {kind: file, path: $HOME/penguins.csv}\ndata:\n  target: species\n")
    problems = _problems(spec, capsys, code=0)
    assert [(p["severity"], p["line"], p["path"], p["hint"]) for p in problems] == [("warning", 2, "sources.penguins.path", "write ${HOME}")]


def test_shell_style_check_leaves_mongo_operators_and_escapes_alone(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + "description: costs $$5, or $5, in ${MLX_TEST_SURELY_UNSET:-$x} and $${LITERAL}\n")
    assert _problems(spec, capsys, code=0) == []


@pytest.mark.parametrize(
    "extra, path",
    [("tracking:\n  tags: {owner: [ann, bob]}\n", "tracking.tags.owner"), ("  positive: [Adelie]\n", "data.positive")],
    ids=["tags", "positive"],
)
def test_no_search_space_hint_where_no_space_is_allowed(tmp_path, capsys, extra, path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + extra)
    problems = _problems(spec, capsys)
    assert [p["path"] for p in problems] == [path]
    assert "choice" not in (problems[0]["hint"] or "")


def test_metric_list_with_a_typo_is_one_problem(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + "search:\n  metric: [accuracy, accuracyy]\n")
    problems = _problems(spec, capsys)
    assert [p["path"] for p in problems] == ["search.metric[1]"]


def test_tracking_uri_word_on_the_command_line(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE)
    assert main(["validate", str(spec), "--set", "tracking=off"]) == 2
    assert "write tracking: false" in capsys.readouterr().err


def test_list_without_space_after_dash_is_located_on_its_first_line(capsys):
    from pathlib import Path

    spec = Path(__file__).parent / "broken" / "149_list_dash_without_space.yaml"
    problems = _problems(spec, capsys)
    assert [(p["line"], p["col"]) for p in problems] == [(10, 5)]


def test_run_refuses_an_output_that_is_a_file(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + "output: data.csv\n")
    assert main(["run", str(spec), "--set", "tracking=false"]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "Traceback" not in err and "internal error" not in err


def _three_classes(tmp_path):
    rows = "\n".join(f"{i},{i % 7}.5,{'abc'[i % 3]}" for i in range(60))
    (tmp_path / "t.csv").write_text("id,x,y\n" + rows + "\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  t: t.csv\ndata:\n  target: y\nsearch:\n  metric: roc_auc\n  budget: {trials: 1}\ntracking: false\n")
    return spec


def test_check_data_refuses_a_binary_metric_on_a_multiclass_target(tmp_path, capsys):
    spec = _three_classes(tmp_path)
    assert main(["validate", "--check-data", str(spec), "--format", "json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["line"], p["path"], p["hint"]) for p in problems] == [(6, "search.metric", "use roc_auc_ovr")]


def test_run_locates_a_binary_metric_on_a_multiclass_target(tmp_path, capsys):
    spec = _three_classes(tmp_path)
    assert main(["run", str(spec), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:6:11: search.metric: the metric 'roc_auc' needs a binary target" in err


def test_numeric_keys_are_names(tmp_path):
    from automl_yaml.spec import load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + "  types: {2020: numeric}\npreprocess:\n  columns:\n    1.50: {scale: robust}\n")
    loaded = load_spec(spec)
    assert loaded.spec.data.types == {"2020": "numeric"}
    assert list(loaded.spec.preprocess.columns) == ["1.50"]


def test_lookalike_characters_inside_values_are_left_alone(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text('description: "ratio:\u00a0x, 日本語：テスト, “quoted”"\n' + BASE, encoding="utf-8")
    assert _problems(spec, capsys, code=0) == []


def test_a_nul_byte_in_text_is_located_not_called_binary(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(BASE.encode() + b"seed: 4\x002\n")
    problems = _problems(spec, capsys)
    assert [(p["line"], p["col"]) for p in problems] == [(5, 8)] and "U+0000" in problems[0]["message"]


def test_valid_thresholds_and_ranges_pass(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + "select:\n  - importance: {threshold: {choice: [median, 1.5*mean, 0.01]}}\n  - sequential: {k_features: [2, 5]}\n")
    assert _problems(spec, capsys, code=0) == []


def test_a_synonym_of_a_required_key_is_one_problem(capsys):
    from pathlib import Path

    problems = _problems(Path(__file__).parent / "broken" / "164_label_for_target.yaml", capsys)
    assert [p["path"] for p in problems] == ["data.label"]


@pytest.mark.parametrize("text, seconds", [("1h 30m", 5400), ("1.5h", 5400), ("10min", 600), ("90", 90)])
def test_durations_that_are_accepted(text, seconds):
    from automl_yaml.spec.models import parse_duration

    assert parse_duration(text) == seconds


def test_run_says_when_data_drop_left_no_feature(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("a,b,y\n" + "\n".join(f"{i},{i * 2},{i % 2}" for i in range(40)) + "\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  t: t.csv\ndata:\n  target: y\n  drop: [a, b]\ntracking: false\n")
    assert main(["run", str(spec), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:4:11: data.target: no column is left to predict 'y' from: the 2 other columns are in data.drop" in err
    assert "keep some columns out of data.drop" in err


def test_run_locates_a_positive_class_that_is_not_a_class(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("x,y\n" + "\n".join(f"{i % 5},{'ab'[i % 2]}" for i in range(40)) + "\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  t: t.csv\ndata:\n  target: y\n  positive: c\ntracking: false\n")
    assert main(["run", str(spec), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:5:13: data.positive: 'c' is not a class of the target" in err and "the classes are 'a', 'b'" in err
