"""mlx predict on new rows as they come: categories the model never saw, and an output that is the input.

New rows with an island the model never saw, or 'MALE' where training had
'male', were predicted without a word (the encoders read them as unknown);
``--output`` naming the input file replaced the data with the predictions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from automl_yaml.cli import main
from automl_yaml.errors import EXIT_OK, EXIT_USAGE
from automl_yaml.model import TrainedModel

N = 60


def training_rows() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "island": pd.Categorical(rng.choice(["Biscoe", "Dream", "Torgersen"], N)),
            "sex": rng.choice(["male", "female"], N).astype(object),
            "note": [f"seen near rock {i} at dawn" for i in range(N)],  # free text: new values are the norm
            "ringed": rng.choice([True, False], N).astype(object),
            "mass": rng.normal(4000, 300, N),
        }
    )


def model() -> TrainedModel:
    return TrainedModel(task="regression").fitted(training_rows())


def unseen_warnings(m: TrainedModel, frame: pd.DataFrame) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m.check_input(frame)
    return [str(w.message) for w in caught if "not seen in training" in str(w.message)]


def test_categories_never_seen_are_named_with_their_case_twin():
    new = training_rows().head(6).assign(island=["Atlantis", "Atlantis", "Dream", "Biscoe", "Mars", "Dream"], sex=["MALE", "female"] * 3)
    said = unseen_warnings(model(), new)
    assert said == [
        "values not seen in training, read as unknown categories: "
        "'island': 3 rows such as 'Atlantis', 'Mars'; 'sex': 3 rows such as 'MALE' (training had 'male')"
    ]


def test_seen_values_free_text_booleans_and_missing_values_are_not_warned_about():
    new = training_rows().head(6).assign(note="a new note", ringed=["yes", "no", True, False, None, "1"], island=[None] * 6)
    assert unseen_warnings(model(), new) == []
    assert set(model().categories_) == {"island", "sex"}


def test_a_model_saved_before_has_no_categories_and_predicts_quietly():
    m = model()
    del m.categories_  # unpickled from an earlier version
    assert unseen_warnings(m, training_rows().head(3).assign(island="Atlantis")) == []


@pytest.fixture
def trained(messy_run):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"colour": rng.choice(["red", "green", "blue"], 90), "x": rng.normal(size=90)})
    frame["y"] = np.where(frame["colour"] == "red", 1.0, 0.0) + frame["x"]
    run = messy_run(frame, "y")
    assert run.code == 0, run.err
    return run, frame


def test_mlx_predict_prints_the_warning(trained, capsys):
    run, frame = trained
    new = run.folder / "new.csv"
    frame.drop(columns="y").head(4).assign(colour=["red", "Purple", "purple", "RED"]).to_csv(new, index=False)
    assert main(["predict", "-m", str(run.output), "-i", str(new), "-o", str(run.folder / "out.csv")]) == EXIT_OK
    out = capsys.readouterr().err
    assert "warning: values not seen in training, read as unknown categories: 'colour': 3 rows such as 'Purple', 'purple', 'RED' (training had 'red')" in out
    assert len(pd.read_csv(run.folder / "out.csv")) == 4


def test_mlx_predict_refuses_to_write_over_its_input(trained, capsys):
    run, frame = trained
    new = run.folder / "new.csv"
    frame.drop(columns="y").to_csv(new, index=False)
    before = new.read_bytes()
    for output in (str(new), str(run.folder / "." / "new.csv")):
        assert main(["predict", "-m", str(run.output), "-i", str(new), "-o", output]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert f"--output {output} is the file the input is read from: the predictions would replace it" in err
        assert "hint: write the predictions to another file, e.g. --output predictions.csv" in err
    assert new.read_bytes() == before
    # SPEC.yaml:SOURCE names the spec's data file
    spec = run.folder / "spec.yaml"
    assert main(["predict", "-m", str(run.output), "-i", f"{spec}:d", "-o", str(run.folder / "data.csv")]) == EXIT_USAGE
    assert "is the file the input is read from" in capsys.readouterr().err
    assert main(["predict", "-m", str(run.output), "-i", f"{spec}:d", "-o", str(run.folder / "preds.csv")]) == EXIT_OK


# ------------------------------------------------------------- frames as training read them


def test_the_frame_a_model_was_trained_on_can_be_predicted(tmp_path):
    # columns 0, 1, 2 became "0", "1", "2" in training, and an index named 'cust' a column:
    # the same DataFrame then "lacked 3 columns: 0, 1, 2" / "lacked 1 column: cust"
    import automl_yaml

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(50, 2)), index=pd.Index(rng.permutation(50) * 7 + 1000, name="cust"))
    df["y"] = (df[0] > 0).astype(int)
    doc = {"sources": {"train": df}, "data": {"target": "y"}, "search": {"budget": {"trials": 1}}, "tracking": False, "output": str(tmp_path / "o")}
    result = automl_yaml.run(doc, quiet=True)
    assert list(df.columns) == [0, 1, "y"]  # the caller's frame is untouched
    model = result.load_model()
    assert model.features == ["cust", "0", "1"]
    preds = result.predict(df.drop(columns="y"))
    assert len(preds) == 50 and set(preds["prediction"]) <= {0, 1}


def test_check_input_reads_index_and_names_as_a_source_does():
    model = TrainedModel(task="regression").fitted(pd.DataFrame({"index": pd.date_range("2020", periods=3), "0": [1.0, 2.0, 3.0], "g.a": [1.0, 2.0, 3.0]}))
    new = pd.DataFrame({0: [5.0], ("g", "a"): [6.0]}, index=pd.DatetimeIndex(["2021-01-01"]))
    new.columns = pd.MultiIndex.from_tuples([("0", ""), ("g", "a")])
    X = model.check_input(new)
    assert list(X.columns) == ["index", "0", "g.a"] and X.iloc[0].tolist() == [pd.Timestamp("2021-01-01"), 5.0, 6.0]
    # an index the model does not use stays out: no reset, no warning about it
    plain = TrainedModel(task="regression").fitted(pd.DataFrame({"a": [1.0, 2.0]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plain.check_input(pd.DataFrame({"a": [3.0]}, index=pd.Index(["r1"], name="row"))).columns.tolist() == ["a"]
    with pytest.raises(Exception, match="lacks 1 column the model was trained on: a"):
        plain.check_input(pd.DataFrame({"b": [3.0]}, index=pd.Index([3.0], name="a_")))


def test_multiindex_columns_are_dotted_names_in_training(tmp_path):
    from automl_yaml.data.sources import column_names

    assert column_names(pd.MultiIndex.from_tuples([("g", "a"), ("y", ""), (1, 2)])) == ["g.a", "y", "1.2"]
    assert column_names(pd.Index([0, 1.5, "x"])) == ["0", "1.5", "x"]
