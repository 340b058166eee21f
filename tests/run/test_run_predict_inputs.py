"""Predicting on what MLOps users send: messy types, blanks, zero rows (issue: predict inputs).

One binary model (``sex`` of the penguins, with an integer, a boolean and a
date column beside the penguins' own) is trained once for the module; each
test sends it the same rows in another dress and expects the same
predictions, through ``automl_yaml.predict``, ``mlflow.pyfunc`` (what the
server runs), ``mlx predict`` and a real ``mlflow models serve``.
"""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from automl_yaml.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, penguins_frame):
    """(output folder, the feature rows as read from the CSV)."""
    root = tmp_path_factory.mktemp("predict_inputs")
    rng = np.random.default_rng(0)
    frame = penguins_frame.dropna(subset=["sex"]).reset_index(drop=True)
    frame["heavy"] = frame["body_mass_g"] > 4000
    frame["measured"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    frame["visits"] = rng.integers(0, 10, len(frame))
    frame.to_csv(root / "birds.csv", index=False)
    spec = {
        "name": "birds",
        "seed": 1,
        "sources": {"birds": "birds.csv"},
        "data": {"target": "sex"},
        "models": {"logistic_regression": {"params": {"C": {"float": [0.1, 10], "log": True}, "max_iter": 500}}},
        "search": {"strategy": "random", "budget": {"trials": 2}, "cv": {"folds": 3}},
        "execution": {"n_jobs": 1},
        "tracking": False,
    }
    (root / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert main(["run", str(root / "spec.yaml"), "--quiet"]) == 0
    rows = pd.read_csv(root / "birds.csv").drop(columns=["sex"]).head(30)
    return root / "runs" / "birds", rows


def _dressed(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The same rows as other clients send them."""
    out = {}
    out["numbers as text"] = rows.astype({c: str for c in ["bill_length_mm", "body_mass_g", "year", "visits"]})
    out["ints where floats were trained, floats where ints"] = rows.assign(flipper_length_mm=rows["flipper_length_mm"].astype("int64"), year=rows["year"].astype(float))
    out["booleans as words"] = rows.assign(heavy=rows["heavy"].map({True: "true", False: "false"}))
    out["booleans as 0/1"] = rows.assign(heavy=rows["heavy"].astype(int))
    out["dates in another format"] = rows.assign(measured=pd.to_datetime(rows["measured"]).dt.strftime("%d/%m/%Y"))
    out["columns reordered, one extra"] = rows[rows.columns[::-1]].assign(comment="x")
    return out


def _with_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Row 0 all None, row 1 all blank strings, row 2 read_csv's words for missing values."""
    gaps = rows.astype(object)
    gaps.iloc[0] = None
    gaps.iloc[1] = ""
    gaps.loc[2, ["bill_length_mm", "year", "measured", "visits"]] = ["NaN", "null", "NA", " n/a "]
    return gaps


def test_messy_inputs_give_the_clean_predictions(trained):
    from automl_yaml import predict

    out, rows = trained
    clean = predict(out, rows, proba=True)
    for name, dressed in _dressed(rows).items():
        with pytest.warns(UserWarning, match="ignoring 1 column.*comment") if "extra" in name else contextlib.nullcontext():
            got = predict(out, dressed, proba=True)
        assert list(got["prediction"]) == list(clean["prediction"]), name
        np.testing.assert_allclose(got["proba_male"], clean["proba_male"], err_msg=name)
    # blanks are missing values, as read_csv reads them in training: no crash
    gaps = predict(out, _with_gaps(rows))
    assert len(gaps) == len(rows) and set(gaps["prediction"]) <= {"male", "female"}
    assert list(gaps["prediction"][3:]) == list(clean["prediction"][3:])
    # zero rows: an empty answer with the usual columns
    empty = predict(out, rows.head(0), proba=True)
    assert len(empty) == 0 and set(empty.columns) == {"prediction", "proba_female", "proba_male"}


def test_values_that_cannot_be_read_are_named(trained):
    from automl_yaml import predict
    from automl_yaml.errors import DataError

    out, rows = trained
    with pytest.raises(DataError, match="column 'bill_length_mm' held numbers.*'abc'"):
        predict(out, rows.assign(bill_length_mm="abc"))
    with pytest.raises(DataError, match="column 'measured' held dates.*'someday'"):
        predict(out, rows.assign(measured="someday"))


def test_pyfunc_signature_accepts_what_the_model_reads(trained, monkeypatch):
    """mlflow.pyfunc checks the signature first: it must not refuse inputs the model reads."""
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    import mlflow

    out, rows = trained
    model = mlflow.pyfunc.load_model(str(out / "model"))
    clean = list(model.predict(rows))
    for name, dressed in _dressed(rows).items():
        assert list(model.predict(dressed)) == clean, name
    nan_int = rows.assign(year=rows["year"].astype(float))
    nan_int.loc[3, "year"] = np.nan  # an integer column with a missing value
    assert len(model.predict(nan_int)) == len(rows)
    assert len(model.predict(_with_gaps(rows))) == len(rows)
    assert len(model.predict(rows.head(0))) == 0
    with pytest.raises(Exception, match="missing inputs.*island"):
        model.predict(rows.drop(columns=["island"]))


def test_mlmodel_names_each_feature_type(trained):
    """The MLmodel tells each column's type (its metadata); the signature, which MLflow enforces, keeps `any`."""
    from mlflow.models import Model

    out, rows = trained
    meta = Model.load(str(out / "model")).metadata["automl_yaml"]["feature_types"]
    assert meta == {
        "species": "string",  # pandas 3's default str dtype
        "island": "string",
        "bill_length_mm": "double",
        "bill_depth_mm": "double",
        "flipper_length_mm": "double",
        "body_mass_g": "double",
        "year": "long",
        "heavy": "boolean",
        "measured": "datetime",  # dates read from text in training
        "visits": "long",
    }


def test_mlx_predict_zero_rows_bad_values_and_proba(trained, tmp_path, capsys):
    out, rows = trained
    header = tmp_path / "header.csv"
    rows.head(0).to_csv(header, index=False)
    res = tmp_path / "sub" / "p.csv"
    assert main(["predict", "-m", str(out), "-i", str(header), "-o", str(res), "--proba"]) == 0
    written = pd.read_csv(res)
    assert len(written) == 0 and set(written.columns) == {"prediction", "proba_female", "proba_male"}
    bad = tmp_path / "bad.csv"
    rows.assign(body_mass_g="heavy-ish").to_csv(bad, index=False)
    capsys.readouterr()
    assert main(["predict", "-m", str(out), "-i", str(bad), "-o", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert "column 'body_mass_g' held numbers" in err and "Traceback" not in err and "internal error" not in err
    blank = tmp_path / "blank.csv"
    _with_gaps(rows).to_csv(blank, index=False)
    assert main(["predict", "-m", str(out), "-i", str(blank), "-o", str(tmp_path / "p.parquet")]) == 0
    assert len(pd.read_parquet(tmp_path / "p.parquet")) == len(rows)


@pytest.mark.services
def test_mlflow_models_serve_reads_messy_payloads(trained):
    from fixtures.serving import mlflow_serve, post_json

    out, rows = trained
    from automl_yaml import predict

    clean = list(predict(out, rows)["prediction"])
    records = json.loads(rows.to_json(orient="records"))
    messy = [
        dict(r, year=None if i == 0 else str(r["year"]), visits=None if i == 1 else r["visits"], bill_length_mm=str(r["bill_length_mm"]),
             heavy="true" if r["heavy"] else "false", measured=pd.Timestamp(r["measured"]).strftime("%d/%m/%Y"))
        for i, r in enumerate(records)
    ]
    with mlflow_serve(out / "model") as url:
        status, body = post_json(url, {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))})
        assert status == 200 and body["predictions"] == clean
        status, body = post_json(url, {"dataframe_records": messy})
        assert status == 200, body
        assert body["predictions"][2:] == clean[2:]
        status, body = post_json(url, {"inputs": {c: [r[c] for r in messy] for c in rows.columns}})
        assert status == 200 and body["predictions"][2:] == clean[2:]
        status, body = post_json(url, {"dataframe_split": {"columns": list(rows.columns), "data": []}})
        assert status == 200 and body["predictions"] == []
        status, body = post_json(url, {"dataframe_records": [{k: v for k, v in r.items() if k != "island"} for r in records]})
        assert status == 400 and "island" in body["message"]


def test_columns_the_data_step_left_out_are_read_without_a_warning(tmp_path):
    """Row ids, constant columns and data.drop were left out in training: new rows carry them, which is no news."""
    import warnings

    from automl_yaml import predict

    rng = np.random.default_rng(2)
    n = 120
    table = pd.DataFrame({"id": np.arange(n), "site": "north", "x": rng.normal(size=n), "leak": rng.normal(size=n)})
    table["y"] = np.where(table["x"] > 0, "up", "down")
    table.to_csv(tmp_path / "t.csv", index=False)
    spec = {
        "name": "quiet",
        "sources": {"t": "t.csv"},
        "data": {"target": "y", "drop": ["leak"]},
        "models": ["logistic_regression"],
        "search": {"strategy": "random", "budget": {"trials": 1}, "cv": {"folds": 3}},
        "execution": {"n_jobs": 1},
        "tracking": False,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert main(["run", str(tmp_path / "spec.yaml"), "--quiet"]) == 0
    out = tmp_path / "runs" / "quiet"
    raw = pd.read_csv(tmp_path / "t.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = predict(out, raw)
    assert [str(w.message) for w in caught if "ignoring" in str(w.message)] == []
    assert (got["prediction"] == raw["y"]).mean() > 0.9
    with pytest.warns(UserWarning, match=r"ignoring 1 column\(s\) the model was not trained on: surprise$"):
        predict(out, raw.assign(surprise=1))


# ------------------------------------------------------------------ --keep (issue 16)


def test_mlx_predict_keeps_the_columns_asked_for(trained, tmp_path, capsys):
    """`--keep id` carries an input column through, first and row for row, to join the predictions on."""
    out, rows = trained
    data = rows.head(5).assign(id=[f"r{i}" for i in range(5)])
    data.to_csv(tmp_path / "new.csv", index=False)
    capsys.readouterr()
    args = ["predict", "-m", str(out), "-i", str(tmp_path / "new.csv"), "-o", str(tmp_path / "p.csv")]
    assert main([*args, "--keep", "id", "--keep", "island", "--proba"]) == 0
    assert "ignoring" not in capsys.readouterr().err  # kept on purpose, not an unknown column
    got = pd.read_csv(tmp_path / "p.csv")
    assert list(got.columns[:3]) == ["id", "island", "prediction"] and got["id"].tolist() == data["id"].tolist()
    assert got["island"].tolist() == data["island"].tolist()
    from automl_yaml import predict

    plain = predict(out, data.drop(columns=["id"]), proba=True)
    assert got["prediction"].tolist() == plain["prediction"].tolist()
    api = predict(out, data, keep=["id"])
    assert list(api.columns) == ["id", "prediction"] and api["id"].tolist() == data["id"].tolist()


@pytest.mark.parametrize("keep,message,hint", [("idd", "the input has no column 'idd'", "did you mean 'id'"), ("prediction", "the predictions have a column of that name", "rename")])
def test_mlx_predict_keep_of_a_wrong_column_is_a_usage_error(trained, tmp_path, capsys, keep, message, hint):
    out, rows = trained
    rows.head(3).assign(id=1, prediction=0).to_csv(tmp_path / "new.csv", index=False)
    capsys.readouterr()
    assert main(["predict", "-m", str(out), "-i", str(tmp_path / "new.csv"), "-o", str(tmp_path / "p.csv"), "--keep", keep]) == 2
    err = capsys.readouterr().err
    assert message in err and hint in err and "Traceback" not in err
    assert not (tmp_path / "p.csv").exists()


def test_a_model_folder_is_read_without_importing_mlflow(trained):
    """Half of `mlx predict`'s 5-8 s on 5 rows was importing MLflow to read one pickle from a folder."""
    import subprocess
    import sys

    out, _ = trained
    code = (
        "import sys\n"
        "from automl_yaml.predict import load_model\n"
        f"m = load_model({str(out)!r})\n"
        "print(type(m).__name__, 'mlflow' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["TrainedModel", "False"]
