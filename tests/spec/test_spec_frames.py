"""`kind: frame` sources: DataFrames given from Python (``frames=``, or in a spec mapping).

The spec language side: the kind validates statically, the frames are
checked and copied when the spec is loaded, and they never reach a repr, the
redacted spec (saved as ``spec.yaml``), the plan or the MLflow params.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import automl_yaml
from automl_yaml.cli import main
from automl_yaml.errors import SpecError, UsageError
from automl_yaml.planner import plan
from automl_yaml.spec import load_spec, validate
from automl_yaml.tracking import flatten

FRAME_SPEC = {"sources": {"train": {"kind": "frame"}}, "data": {"target": "y"}}


@pytest.fixture
def df():
    return pd.DataFrame({"secret_column": [1.5, 2.5, 3.5, 4.5], "colour": ["mauve", "teal", "mauve", "teal"], "y": [0, 1, 0, 1]})


def _write(tmp_path, text: str):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def test_a_frame_source_validates_without_a_frame(tmp_path, capsys):
    path = _write(tmp_path, "sources:\n  train:\n    kind: frame\n    description: what the notebook built\ndata: {target: y}\n")
    assert main(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out
    source = load_spec(path).spec.sources["train"]
    assert source.kind == "frame" and source.description == "what the notebook built"


@pytest.mark.parametrize(
    "source, needle",
    [
        ("{kind: frame, path: data.csv}", "path"),  # a frame source reads nothing
        ("{kind: frmae}", "did you mean 'frame'?"),
        ("{kind: frame, cache: false}", "cache"),  # never cached: nothing to turn off
    ],
)
def test_a_wrong_frame_source_is_a_located_error(tmp_path, capsys, source, needle):
    path = _write(tmp_path, f"sources:\n  train: {source}\ndata: {{target: y}}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:" in err and "sources.train" in err and needle in err


def test_a_dataframe_in_a_spec_mapping_becomes_a_frame_source(df):
    loaded = load_spec({"sources": {"train": df}, "data": {"target": "y"}})
    assert loaded.spec.sources["train"].kind == "frame"
    assert loaded.raw["sources"] == {"train": {"kind": "frame"}}
    assert loaded.frames["train"] is not df  # copied
    pd.testing.assert_frame_equal(loaded.frames["train"], df)


def test_frames_are_copied_when_the_spec_is_loaded(df):
    loaded = load_spec(FRAME_SPEC, frames={"train": df})
    df.loc[0, "secret_column"] = 99.0
    df["y"] = 7
    assert loaded.frames["train"]["secret_column"].tolist() == [1.5, 2.5, 3.5, 4.5]
    assert loaded.frames["train"]["y"].tolist() == [0, 1, 0, 1]


def test_frames_stay_out_of_reprs_the_saved_spec_the_plan_and_mlflow_params(df):
    loaded = load_spec({"sources": {"train": df}, "data": {"target": "y"}, "tracking": False})
    texts = {
        "repr": repr(loaded),
        "report": repr(validate({"sources": {"train": df}, "data": {"target": "y"}})),
        "spec.yaml": yaml.safe_dump(loaded.redacted()),  # what the run saves
        "plan": str(plan(loaded).to_dict()),
        "params": str(flatten(loaded.redacted(), "spec")),
    }
    for name, text in texts.items():
        assert "secret_column" not in text and "mauve" not in text, name
    assert yaml.safe_load(texts["spec.yaml"])["sources"] == {"train": {"kind": "frame"}}
    # the same spec with another frame: the same spec hash (the data is fingerprinted apart)
    assert loaded.spec_hash() == load_spec({"sources": {"train": df.head(2)}, "data": {"target": "y"}, "tracking": False}).spec_hash()


@pytest.mark.parametrize(
    "frames, needle, hint",
    [
        ({"tain": "df"}, "the spec has no source 'tain'", "did you mean 'train'?"),
        ({"other": "df"}, "the spec has no source 'other'", "sources: {other: {kind: frame}}"),
        ({"train": "array"}, "frames['train']: expected a pandas DataFrame, got a numpy.ndarray", "pd.DataFrame(X)"),
        ({"train": "series"}, "expected a pandas DataFrame, got a pandas.Series", "pd.DataFrame(X)"),
        ({"train": [[1, 2]]}, "expected a pandas DataFrame, got a list", "pd.DataFrame(X)"),
        ({"iris": "df"}, "source 'iris' is a `kind: sample` source", "sources: {iris: {kind: frame}}"),
        (["df"], "frames= maps source names to DataFrames, not a list", 'frames={"train": df}'),
    ],
)
def test_wrong_frames_are_usage_errors(df, frames, needle, hint):
    values = {"df": df, "array": df.to_numpy(), "series": df["y"]}
    if isinstance(frames, dict):
        frames = {k: values.get(v, v) if isinstance(v, str) else v for k, v in frames.items()}
    else:
        frames = [values[v] for v in frames]
    spec = {"sources": {"train": {"kind": "frame"}, "iris": {"kind": "sample", "name": "iris"}}, "data": {"from": "train", "target": "y"}}
    with pytest.raises(UsageError) as info:
        load_spec(spec, frames=frames)
    assert not isinstance(info.value, SpecError)
    assert needle in info.value.message and hint in info.value.hint
    with pytest.raises(UsageError, match="expected a pandas DataFrame"):
        automl_yaml.plan(spec, frames={"train": df.to_numpy()})


def test_a_frame_given_twice_is_an_error(df):
    with pytest.raises(UsageError, match="'train' is given twice"):
        load_spec({"sources": {"train": df}, "data": {"target": "y"}}, frames={"train": df})


def test_an_array_in_a_spec_mapping_says_to_give_a_dataframe(df):
    with pytest.raises(SpecError) as info:
        load_spec({"sources": {"train": df.to_numpy()}, "data": {"target": "y"}})
    (problem,) = info.value.errors
    assert problem.path == "sources.train" and problem.message == "a numpy ndarray cannot be a source"
    assert "pandas DataFrame" in problem.hint and "kind: frame" in problem.hint


def test_a_loaded_spec_takes_frames_later(df):
    loaded = load_spec(FRAME_SPEC)
    with pytest.raises(UsageError) as info:
        loaded.require_frames()
    assert info.value.message == "sources.train: no DataFrame was given for this `kind: frame` source"
    assert 'frames={"train": df}' in info.value.hint
    given = loaded.with_frames({"train": df})
    given.require_frames()
    assert loaded.frames == {} and given.frames["train"] is not df


def test_the_missing_frame_error_is_located_in_the_spec_file(tmp_path):
    path = _write(tmp_path, "data: {target: y}\nsources:\n  train: {kind: frame}\n")
    with pytest.raises(UsageError) as info:
        load_spec(path).require_frames()
    assert info.value.message.startswith(f"{path}:3:") and "sources.train: no DataFrame was given" in info.value.message
    assert f'automl_yaml.run("{path}", frames={{"train": df}})' in info.value.hint


def test_an_unused_frame_source_needs_no_frame(df):
    spec = {"sources": {"train": {"kind": "frame"}, "later": {"kind": "frame"}}, "data": {"from": "train", "target": "y"}}
    loaded = load_spec(spec, frames={"train": df})
    loaded.require_frames()
    assert [p.path for p in loaded.warnings] == ["sources.later"]  # not used: the usual warning


def test_validate_check_data_reads_the_frame(df, tmp_path, capsys):
    missing = validate(FRAME_SPEC, check_data=True)  # `mlx validate --check-data` cannot be given one: a warning
    assert missing.ok and [(p.path, p.severity) for p in missing.problems] == [("sources.train", "warning")]
    assert "columns are not checked" in missing.problems[0].message and 'frames={"train": df}' in missing.problems[0].hint
    path = _write(tmp_path, "sources:\n  train: {kind: frame}\ndata: {target: y}\n")
    assert main(["validate", "--check-data", str(path)]) == 0
    assert main(["validate", "--check-data", "--strict", str(path)]) == 2
    assert "columns are not checked" in capsys.readouterr().err
    assert validate(FRAME_SPEC, check_data=True, frames={"train": df}).problems == []
    wrong = validate({**FRAME_SPEC, "data": {"target": "colur"}}, check_data=True, frames={"train": df})
    assert [p.path for p in wrong.errors] == ["data.target"] and "did you mean 'colour'?" in wrong.errors[0].hint
