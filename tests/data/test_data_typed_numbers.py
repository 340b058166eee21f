"""A type in ``data.types`` that the column's values contradict: numbers typed datetime, dates typed numeric.

Numbers written as ``yyyymmdd`` (20240131, common in exports and warehouses)
are read as dates, in training and at predict time; any other number typed
datetime (a Unix time, a measurement) is a located user error instead of
dates in 1970 (pandas reads a bare number as nanoseconds since 1970).
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from automl_yaml.cli import main
from automl_yaml.data import build_dataset
from automl_yaml.data.check import check_data
from automl_yaml.errors import EXIT_USAGE, DataError
from automl_yaml.model import TrainedModel
from automl_yaml.spec import load_spec

N = 40
DAYS = pd.date_range("2024-01-01", periods=N, freq="D")


def table(**columns) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({**columns, "x": rng.normal(size=N), "y": ["a", "b"] * (N // 2)})


def spec(tmp_path, types: str, frame: pd.DataFrame, *, file: str = "d.csv", preprocess: str = ""):
    if file.endswith(".csv"):
        frame.to_csv(tmp_path / file, index=False)
    else:
        frame.to_parquet(tmp_path / file)
    path = tmp_path / "spec.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            sources:
              d: {file}
            data:
              target: y
              types:
                {types}
            search: {{cv: {{folds: 2}}}}
            tracking: false
            """
        )
        + preprocess
    )
    return load_spec(path)


def test_yyyymmdd_integers_typed_datetime_are_read_as_dates(tmp_path):
    ymd = DAYS.strftime("%Y%m%d").astype(int)
    ds = build_dataset(spec(tmp_path, "ymd: datetime", table(ymd=ymd)), cache=False)
    assert ds.column_types["ymd"] == "datetime"
    dates = pd.concat([ds.X_train["ymd"], ds.X_test["ymd"]]).sort_index()
    assert list(dates) == list(DAYS)  # not 1970-01-01 00:00:00.020240101
    assert ds.date_formats["ymd"] == "%Y%m%d"


def test_yyyymmdd_with_a_missing_value_is_read_as_dates(tmp_path):
    # a CSV column of integers with an empty cell is read as floats: 20240101.0
    ymd = DAYS.strftime("%Y%m%d").astype(float).to_numpy().copy()
    ymd[3] = np.nan
    ds = build_dataset(spec(tmp_path, "ymd: datetime", table(ymd=ymd)), cache=False)
    dates = ds.frame["ymd"]
    assert dates.isna().sum() == 1 and dates.iloc[0] == pd.Timestamp("2024-01-01")


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ((DAYS - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s"), "1704067200"),  # Unix time
        (np.linspace(0.5, 9.5, N), "0.5"),  # a measurement
    ],
    ids=["epoch-seconds", "floats"],
)
def test_other_numbers_typed_datetime_are_a_located_error(tmp_path, values, shown):
    loaded = spec(tmp_path, "t: datetime", table(t=values))
    with pytest.raises(DataError) as info:
        build_dataset(loaded, cache=False)
    err = info.value
    assert err.exit_code == EXIT_USAGE
    assert err.message.startswith(f"{tmp_path / 'spec.yaml'}:6:8: data.types.t: 't' is typed datetime, but it holds numbers such as {shown}")
    assert "type it numeric" in err.hint


def test_a_yyyymmdd_number_that_is_no_date_is_an_error(tmp_path):
    ymd = DAYS.strftime("%Y%m%d").astype(int).to_numpy().copy()
    ymd[5] = 20241301  # month 13
    with pytest.raises(DataError, match=r"spec.yaml:6:10: data.types.ymd: 'ymd' is typed datetime, but values such as 20241301 are not dates"):
        build_dataset(spec(tmp_path, "ymd: datetime", table(ymd=ymd)), cache=False)


def test_dates_typed_numeric_are_an_error_with_a_hint(tmp_path):
    loaded = spec(tmp_path, "day: numeric", table(day=DAYS), file="d.parquet")
    with pytest.raises(DataError, match=r"spec.yaml:6:10: data.types.day: 'day' is typed numeric, but it holds dates") as info:
        build_dataset(loaded, cache=False)
    assert "type it datetime" in info.value.hint and "timestamp" in info.value.hint


def test_a_type_from_preprocess_columns_is_located_there(tmp_path):
    loaded = spec(tmp_path, "x: numeric", table(t=np.linspace(0.5, 9.5, N)), preprocess="preprocess:\n  columns:\n    t: {type: datetime}\n")
    with pytest.raises(DataError, match=r"spec.yaml:11:15: preprocess.columns.t.type: 't' is typed datetime"):
        build_dataset(loaded, cache=False)


def test_predict_reads_yyyymmdd_and_refuses_a_number_that_is_no_date(tmp_path):
    ymd = DAYS.strftime("%Y%m%d").astype(int)
    ds = build_dataset(spec(tmp_path, "ymd: datetime", table(ymd=ymd)), cache=False)
    model = TrainedModel(task="classification", date_formats=ds.date_formats).fitted(ds.X_train)
    X = model.check_input(pd.DataFrame({"ymd": [20240305, 20240306], "x": [0.1, 0.2]}))
    assert list(X["ymd"]) == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06")]
    with pytest.raises(DataError, match=r"column 'ymd' held dates in training, but the input has values such as 20241301 "):
        model.check_input(pd.DataFrame({"ymd": [20241301], "x": [0.1]}))


def test_check_data_finds_the_contradiction_before_a_run(tmp_path, capsys):
    epoch = (DAYS - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    loaded = spec(tmp_path, "t: datetime", table(t=epoch, word=["p", "q"] * (N // 2)))
    (p,) = check_data(loaded)
    assert (p.path, p.location.line, p.location.col) == ("data.types.t", 6, 8)
    assert p.message.startswith("'t' is typed datetime, but it holds numbers such as 1704067200")
    (tmp_path / "spec.yaml").write_text((tmp_path / "spec.yaml").read_text().replace("t: datetime", "word: numeric"))
    assert main(["validate", "--check-data", str(tmp_path / "spec.yaml"), "--format", "json"]) == EXIT_USAGE
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    (problem,) = json.loads(out.out)["problems"]
    assert (problem["path"], problem["line"]) == ("data.types.word", 6)
    assert "values such as 'p' are not numbers" in problem["message"]


def test_check_data_accepts_yyyymmdd(tmp_path):
    ymd = DAYS.strftime("%Y%m%d").astype(int)
    assert check_data(spec(tmp_path, "ymd: datetime", table(ymd=ymd))) == []
