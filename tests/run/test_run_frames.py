"""Runs from DataFrames given in Python (`kind: frame` sources), end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

import automl_yaml
import automl_yaml.data.assemble as assemble
from automl_yaml.cli import main
from automl_yaml.errors import UsageError
from automl_yaml.spec import load_spec

FRAME = {"sources": {"penguins": {"kind": "frame", "description": "from palmerpenguins"}}, "tracking": False}
MODELS = {"logistic_regression": {"params": {"C": {"float": [0.1, 10], "log": True}, "max_iter": 500}}}


def _trials(out) -> list[int]:
    lines = (out / "search" / "trials.jsonl").read_text().splitlines()
    return [json.loads(line)["number"] for line in lines if json.loads(line).get("event") == "result"]


@pytest.mark.slow
def test_a_run_from_a_dataframe_then_resume_with_the_same_and_a_changed_frame(tmp_path, small_spec, penguins_frame):
    spec = small_spec(FRAME)
    df = penguins_frame.copy()
    result = automl_yaml.run(spec, frames={"penguins": df}, quiet=True)
    out = tmp_path / "runs" / "small"
    summary = result.summary
    assert summary["task"] == "classification" and summary["trials"]["ok"] == 5
    assert summary["data"]["rows_train"] + summary["data"]["rows_test"] == len(penguins_frame)
    predicted = result.predict(penguins_frame.drop(columns="species"))
    assert (predicted["prediction"] == penguins_frame["species"]).mean() > 0.8
    # the saved spec, the plan and the output folder hold no data
    assert yaml.safe_load((out / "spec.yaml").read_text())["sources"] == {"penguins": {"kind": "frame", "description": "from palmerpenguins"}}
    load = next(s for s in json.loads((out / "plan.json").read_text())["steps"] if s["kind"] == "load")
    assert load["config"]["spec"] == {"kind": "frame", "description": "from palmerpenguins"}
    assert not list(out.rglob("*.parquet"))  # not cached
    for name in ("spec.yaml", "plan.json"):
        assert "Torgersen" not in (out / name).read_text(), name  # an island: a value of the data
    # a spec source read by `predict` is refused: the rows are in Python
    with pytest.raises(UsageError, match="is a `kind: frame` source") as info:
        result.predict(f"{spec}:penguins")
    assert "automl_yaml.predict(model, df)" in info.value.hint

    # resume: the same rows (another object) are accepted and no trial runs again
    again = automl_yaml.run(spec, frames={"penguins": penguins_frame.copy()}, resume=True, quiet=True)
    assert sorted(_trials(out)) == list(range(5)) and again.summary["data"]["fingerprints"] == summary["data"]["fingerprints"]
    # ... a changed frame is refused
    changed = penguins_frame.copy()
    changed.loc[0, "bill_length_mm"] = 50.0
    with pytest.raises(UsageError, match="the data of penguins changed since the last run"):
        automl_yaml.run(spec, frames={"penguins": changed}, resume=True, quiet=True)


@pytest.mark.slow
def test_a_spec_mapping_holding_a_dataframe_joined_with_a_file(tmp_path, penguins_frame):
    islands = pd.DataFrame({"island": ["Biscoe", "Dream", "Torgersen"], "area_km2": [3.1, 2.2, 1.3]})
    islands.to_csv(tmp_path / "islands.csv", index=False)
    df = penguins_frame.assign(row=range(len(penguins_frame)))
    spec = {
        "name": "from-python",
        "sources": {"penguins": df, "islands": str(tmp_path / "islands.csv")},
        "data": {"from": "penguins", "join": [{"source": "islands", "on": "island"}], "target": "species", "drop": ["row"], "types": {"year": "categorical"}},
        "models": MODELS,
        "search": {"strategy": "random", "budget": {"trials": 2}, "cv": {"folds": 3}},
        "execution": {"n_jobs": 1},
        "tracking": False,
        "output": str(tmp_path / "out"),
    }
    result = automl_yaml.run(spec, quiet=True)
    types = result.summary["data"]["column_types"]
    assert types["area_km2"] == "numeric" and types["year"] == "categorical" and "row" not in types
    assert set(result.summary["data"]["fingerprints"]) == {"penguins", "islands"}
    assert yaml.safe_load((tmp_path / "out" / "spec.yaml").read_text())["sources"]["penguins"] == {"kind": "frame"}


@pytest.mark.slow
def test_a_change_by_the_caller_after_the_run_started_does_not_reach_it(tmp_path, small_spec, penguins_frame, monkeypatch):
    spec = small_spec({**FRAME, "models": MODELS, "search": {"budget": {"trials": 2}}})
    df = penguins_frame.copy()
    real = assemble.load_source

    def caller_changes_it_first(loaded, name, **kw):
        df["species"] = "Gentoo"  # one class: a run reading this could not train
        df.drop(columns=["island", "body_mass_g"], inplace=True)
        return real(loaded, name, **kw)

    monkeypatch.setattr(assemble, "load_source", caller_changes_it_first)
    result = automl_yaml.run(spec, frames={"penguins": df}, quiet=True)
    assert df["species"].unique().tolist() == ["Gentoo"]  # the change was made, during the run
    assert result.summary["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert {"island", "body_mass_g"} <= set(result.summary["data"]["column_types"])
    same = load_spec(spec, frames={"penguins": penguins_frame})
    assert result.summary["data"]["fingerprints"]["penguins"] == real(same, "penguins", cache=False)[1].fingerprint


def test_a_frame_source_without_a_frame_is_exit_2_on_the_command_line(tmp_path, small_spec, capsys):
    spec = small_spec(FRAME)
    assert main(["run", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:4:" in err and "sources.penguins: no DataFrame was given for this `kind: frame` source" in err
    assert f'automl_yaml.run("{spec}", frames={{"penguins": df}})' in err
    assert not (tmp_path / "runs").exists()  # stopped before anything was written
    assert main(["profile", str(spec)]) == 2
    assert "no DataFrame was given" in capsys.readouterr().err


def test_a_frame_source_without_a_frame_is_a_usage_error_from_the_library(tmp_path, small_spec):
    spec = small_spec(FRAME)
    with pytest.raises(UsageError, match="sources.penguins: no DataFrame was given") as info:
        automl_yaml.run(spec)
    assert 'frames={"penguins": df}' in info.value.hint
    with pytest.raises(UsageError, match="no DataFrame was given"):
        automl_yaml.run(load_spec(spec))  # a LoadedSpec without frames
    with pytest.raises(UsageError, match="the spec has no source 'penguin'"):
        automl_yaml.run(spec, frames={"penguin": pd.DataFrame({"a": [1]})})
    assert not (tmp_path / "runs").exists()


def test_predict_input_from_a_frame_source_is_exit_2(tmp_path, small_spec, capsys):
    spec = small_spec(FRAME)
    code = main(["predict", "-m", str(tmp_path / "no-model"), "-i", f"{spec}:penguins", "-o", str(tmp_path / "p.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "source 'penguins'" in err and "is a `kind: frame` source" in err and "automl_yaml.predict(model, df)" in err


@pytest.mark.slow
def test_a_tracked_run_from_a_dataframe_logs_no_rows(tmp_path, small_spec, penguins_frame, monkeypatch):
    from mlflow import MlflowClient

    from automl_yaml.tracking import ServiceTracker

    sent = []
    real_send = ServiceTracker._send

    def recording_send(self, cmd, *args, **kw):
        sent.append((cmd, args))
        return real_send(self, cmd, *args, **kw)

    monkeypatch.setattr(ServiceTracker, "_send", recording_send)
    spec = small_spec({"sources": {"penguins": {"kind": "frame"}}, "tracking": {"experiment": "frames"}, "models": MODELS, "search": {"budget": {"trials": 2}}})
    result = automl_yaml.run(spec, frames={"penguins": penguins_frame}, quiet=True)
    init = [args[0] for cmd, args in sent if cmd == "init"]
    assert init and init[0].frames == {}  # the tracking child gets the spec, not the rows
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    parent = client.get_run(result.tracking["run_id"])
    params = parent.data.params
    assert params["spec.sources.penguins.kind"] == "frame"
    assert not [k for k, v in params.items() if "Torgersen" in v or "bill_length" in v]
    assert parent.data.tags["data.fingerprint.penguins"] == result.summary["data"]["fingerprints"]["penguins"]
