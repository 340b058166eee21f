"""Numbers as exports write them: '?' for a missing value (UCI files), Excel's '#DIV/0!', percentages,
accountants' negative amounts in parentheses.

A column of ages with a few '?' was categorical (one level per age, capped at
20 by the encoder: the model lost most of it), and so were '12.5%' and
'(1,200.00)'; none of them said so.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from automl_yaml.data import split
from automl_yaml.data.assemble import parse_formatted_numbers, parse_marked_numbers
from automl_yaml.errors import DataError
from automl_yaml.model import TrainedModel
from automl_yaml.spec import load_spec

N = 120


def spec_for(data: dict):
    return load_spec({"seed": 0, "sources": {"main": "main.csv"}, "data": {"from": "main", **data}, "search": {"cv": {"folds": 3}}})


def parse(fn, values):
    out = fn(pd.Series(values, dtype=object))
    return None if out is None else [None if np.isnan(v) else v for v in out.tolist()]


def test_percentages_and_amounts_in_parentheses_are_numbers():
    assert parse(parse_formatted_numbers, ["45.3%", "3%", "-2.5 %"]) == [45.3, 3.0, -2.5]  # as written: 45.3% is 45.3
    assert parse(parse_formatted_numbers, ["(1,234.00)", "12.50", "$(7.00)", "$ 8"]) == [-1234.0, 12.5, -7.0, 8.0]
    assert parse(parse_formatted_numbers, ["1.234,5 %", "2 %"]) == [1234.5, 2.0]
    assert parse(parse_formatted_numbers, ["(1,2)", "(3,4)"]) is None  # pairs on every row, not negative amounts
    assert parse(parse_formatted_numbers, ["(-3)", "4"]) is None and parse(parse_formatted_numbers, ["5%%", "4"]) is None
    assert parse(parse_formatted_numbers, ["12%", "high"]) is None
    assert parse(parse_formatted_numbers, ["02139", "10001"]) is None  # still: digit strings stay text


def test_missing_markers_among_numbers_are_missing_values():
    assert parse(parse_marked_numbers, ["34", "?", "51", " - ", "#DIV/0!", None]) == [34.0, None, 51.0, None, None, None]
    assert parse(parse_marked_numbers, [1.5, "?", 3]) == [1.5, None, 3.0]  # JSON: numbers and a marker
    assert parse(parse_marked_numbers, ["1,234.5", "n.a."]) == [1234.5, None]
    assert parse(parse_marked_numbers, ["34", "51"]) is None  # no marker: not this function's business
    assert parse(parse_marked_numbers, ["02139", "?"]) is None  # codes with a leading zero stay text
    assert parse(parse_marked_numbers, ["34", "?", "unknown"]) is None  # a word that is no marker
    assert parse(parse_marked_numbers, ["?", "-"]) is None  # nothing but markers


def uci_table(n: int = N, marked: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    age = rng.integers(18, 90, n).astype(object)
    age[rng.choice(n, marked, replace=False)] = "?"
    known = pd.to_numeric(pd.Series(age), errors="coerce")
    return pd.DataFrame(
        {
            "age": age,
            "zip": ["02139", "?", "10001", "94105"] * (n // 4),
            "rate": [f"{v:.1f}%" for v in rng.uniform(0, 100, n)],
            "y": np.where(known.fillna(40) > 50, ">50K", "<=50K"),
        }
    )


def test_a_column_of_numbers_with_question_marks_is_numeric_with_a_note():
    ds = split(spec_for({"target": "y"}), uci_table())
    assert ds.column_types["age"] == "numeric" and ds.X_train["age"].dtype == "float64"
    assert int(ds.frame["age"].isna().sum()) == 9
    assert "column 'age' has 9 values such as '?' among its numbers: they are read as missing values" in ds.notes
    assert ds.column_types["zip"] == "categorical"  # zip codes with '?' are still codes
    assert ds.column_types["rate"] == "numeric" and ds.X_train["rate"].between(0, 100).all()


def test_a_column_typed_numeric_reads_markers_as_missing():
    frame = uci_table().assign(score=["1", "2", "#N/A", "4"] * (N // 4))
    ds = split(spec_for({"target": "y", "types": {"score": "numeric"}}), frame)
    assert ds.frame["score"].isna().sum() == N // 4
    assert any(n.startswith("column 'score' has 30 values such as '#N/A' among its numbers") for n in ds.notes)


def test_a_target_with_question_marks_drops_those_rows():
    rng = np.random.default_rng(1)
    x = rng.normal(size=N)
    price = [f"{v:.2f}" for v in 100 + 10 * x]
    price[3] = price[50] = "?"
    ds = split(spec_for({"target": "price"}), pd.DataFrame({"x": x, "price": price}))
    assert ds.task == "regression" and len(ds.y_train) + len(ds.y_test) == N - 2
    assert "the target 'price' has 2 values such as '?' among its numbers: they are read as missing values" in ds.notes
    assert "2 rows with a missing target 'price' were dropped" in ds.notes


def test_numbers_with_a_word_in_a_csv_column_say_why_they_are_categorical():
    frame = uci_table().assign(visits=["3", "7", "unknown", "12"] * (N // 4))
    ds = split(spec_for({"target": "y"}), frame.astype({"visits": "str"}))
    assert ds.column_types["visits"] == "categorical"
    note = next(n for n in ds.notes if n.startswith("column 'visits'"))
    assert "holds numbers and 30 values that are not ('unknown'): it is used as categorical" in note
    assert "options: {na_values: ['unknown']}" in note


def test_predict_reads_markers_and_percentages_as_training_did():
    ds = split(spec_for({"target": "y"}), uci_table())
    model = TrainedModel(task="classification").fitted(ds.X_train)
    X = model.check_input(pd.DataFrame({"age": ["?", "#DIV/0!", "61", "-"], "zip": ["02139"] * 4, "rate": ["12.5%", "?", "3%", "0.5%"]}))
    assert X["age"].isna().tolist() == [True, True, False, True] and X["age"].iloc[2] == 61
    assert X["rate"].iloc[[0, 2, 3]].tolist() == [12.5, 3.0, 0.5] and np.isnan(X["rate"].iloc[1])
    with pytest.raises(DataError, match="column 'age' held numbers in training, but the input has values such as 'old'"):
        model.check_input(pd.DataFrame({"age": ["old"], "zip": ["02139"], "rate": ["1%"]}))


@pytest.mark.parametrize("types,lowest,highest", [({}, 0.95, 1.0), ({"age": "categorical"}, 0.0, 0.9)])
def test_a_run_learns_from_ages_with_question_marks(messy_run, types, lowest, highest):
    # typed categorical, the ages are what they were before: the run learns much less from them
    run = messy_run(uci_table(240, 3).drop(columns="rate"), "y", spec={"data": {"types": types}, "search": {"metric": "accuracy"}})
    assert run.code == 0, run.err
    summary = json.loads((run.output / "summary.json").read_text())
    assert lowest <= summary["holdout"]["accuracy"] <= highest, summary["holdout"]


def test_a_date_column_with_question_marks_is_dates_with_a_note():
    # it was categorical, one level per date: a holdout r2 of 0.33 where the year decides the target
    rng = np.random.default_rng(2)
    days = pd.Series(pd.date_range("2015-01-01", periods=N, freq="9D"))
    signup = days.dt.strftime("%d/%m/%Y").astype(object)
    signup[[4, 40, 77]] = ["?", "-", "n.a."]
    frame = pd.DataFrame({"signup": signup, "x": rng.normal(size=N), "y": days.dt.year + rng.normal(size=N)})
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types["signup"] == "datetime" and ds.date_formats["signup"] == "%d/%m/%Y"
    assert ds.frame["signup"].isna().sum() == 3 and ds.frame["signup"].dropna().dt.year.min() == 2015
    assert "column 'signup' has 3 values such as '?', '-', 'n.a.' among its dates: they are read as missing values" in ds.notes
    model = TrainedModel(task="regression", date_formats=ds.date_formats).fitted(ds.X_train)
    X = model.check_input(pd.DataFrame({"signup": ["?", "03/02/2016"], "x": [0.0, 0.0]}))
    assert X["signup"].isna().tolist() == [True, False] and X["signup"].iloc[1] == pd.Timestamp("2016-02-03")


def test_numbers_with_one_unit_are_numbers():
    from automl_yaml.data.assemble import parse_unit_numbers

    def units(values):
        out = parse_unit_numbers(pd.Series(values, dtype=object))
        return None if out is None else ([None if np.isnan(v) else v for v in out[0].tolist()], out[1])

    assert units(["1248 CC", "998 CC", None]) == ([1248.0, 998.0, None], "CC")
    assert units(["74 bhp", "88.5 bhp"]) == ([74.0, 88.5], "bhp")
    assert units(["10,000+", "1,000,000+"]) == ([10000.0, 1000000.0], "+")
    assert units(["12.5 °C", "-3 °C"]) == ([12.5, -3.0], "°C") and units(["5 km/h", "7 km/h"]) == ([5.0, 7.0], "km/h")
    assert units(["1.234,5 kg", "2 kg"]) == ([1234.5, 2.0], "kg")
    assert units(["19M", "512k"]) is None  # two units: not one scale
    assert units(["2nd", "3rd"]) is None and units(["12 34", "5 6"]) is None and units(["Varies with device", "19M"]) is None
    assert units(["2020 Q1", "2020 Q2"]) is None and units(["abc", "def"]) is None


def test_columns_of_quantities_with_units_are_numeric_features():
    # scraped car listings: as text each was a category, one level per engine size
    rng = np.random.default_rng(3)
    engine = rng.integers(800, 3000, N)
    frame = pd.DataFrame({"engine": [f"{v} CC" for v in engine], "installs": [f"{v:,}+" for v in rng.choice([1000, 10**6], N)]})
    frame["y"] = engine * 2.0
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types == {"engine": "numeric", "installs": "numeric"}
    assert ds.X_train["engine"].tolist() == engine[ds.X_train.index].astype(float).tolist()
    assert f"column 'engine' holds numbers with a unit (e.g. '{engine[0]} CC'): they are read as numbers without 'CC'" in ds.notes
    assert any(n.startswith("column 'installs' holds numbers with a unit") and n.endswith("without '+'") for n in ds.notes)
    model = TrainedModel(task="regression").fitted(ds.X_train)
    assert model.check_input(pd.DataFrame({"engine": ["1197 CC"], "installs": ["5,000+"]})).iloc[0].tolist() == [1197.0, 5000.0]


def test_booleans_mixed_with_words_are_not_called_numbers():
    frame = uci_table().assign(ringed=[True, "no", False, True] * (N // 4))
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types["ringed"] == "categorical"
    assert not any("'ringed' holds numbers" in n for n in ds.notes), ds.notes
    sqlite_like = uci_table().assign(visits=[3, 7, "unknown", 12] * (N // 4))  # numbers and a word: still said
    assert any(n.startswith("column 'visits' holds numbers and 30 values that are not") for n in split(spec_for({"target": "y"}), sqlite_like).notes)


def test_a_total_row_without_a_target_leaves_numeric_columns_numeric():
    # "Total,,," ending a spreadsheet export made x1 text: a row id (dropped), and the holdout r2 was below 0
    rng = np.random.default_rng(4)
    x1 = rng.normal(size=50)
    text = "x1,x2,y\n" + "".join(f"{a:.4f},{b:.4f},{2 * a:.4f}\n" for a, b in zip(x1, rng.normal(size=50))) + "Total,,\n"
    import io

    frame = pd.read_csv(io.StringIO(text))
    assert not pd.api.types.is_numeric_dtype(frame["x1"])  # what pandas gives
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types["x1"] == "numeric" and ds.X_train["x1"].dtype == "float64"
    assert np.allclose(ds.X_train["x1"], np.round(x1[ds.X_train.index], 4))
    assert (
        "column 'x1' holds numbers, and 'Total' only on rows without a target (a total or a footer?), which are dropped: it is numeric"
        in ds.notes
    )


def test_a_total_row_with_a_target_is_said_not_taken_for_an_id():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x1": [f"{v:.4f}" for v in rng.normal(size=N)] + ["Total"], "y": list(rng.normal(size=N)) + [123.0]})
    ds = split(spec_for({"target": "y"}), frame)
    assert not any("'x1' looks like a row id" in n for n in ds.notes)
    assert (
        "column 'x1' holds numbers and 1 value that is not ('Total'): it is used as categorical; "
        "to use it as numbers, make those values missing in the source (for a file: options: {na_values: ['Total']})"
    ) in ds.notes
    ids = pd.DataFrame({"code": [f"C{i:05d}" for i in range(N)], "x": rng.normal(size=N), "y": rng.normal(size=N)})
    assert any("'code' looks like a row id" in n for n in split(spec_for({"target": "y"}), ids).notes)  # ids still are


def test_dates_in_two_formats_are_dates_each_read_in_its_own():
    # ISO dates with one in ten written 31/12/2020: the column was a "row id" (text), dropped
    days = pd.Series(pd.date_range("2015-01-01", periods=N, freq="9D"))
    when = days.dt.strftime("%Y-%m-%d").astype(object)
    when[::10] = days[::10].dt.strftime("%d/%m/%Y")
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"when": when, "x": rng.normal(size=N), "y": days.dt.year + rng.normal(size=N)})
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types["when"] == "datetime"
    assert (ds.frame["when"] == days).all()
    assert "column 'when' holds dates in 2 formats (%d/%m/%Y, %Y-%m-%d): each is read in its own" in ds.notes
    assert not any("'when' looks like a row id" in n for n in ds.notes)
    model = TrainedModel(task="regression", date_formats=ds.date_formats).fitted(ds.X_train)
    X = model.check_input(pd.DataFrame({"when": ["2016-03-01", "31/12/2017"], "x": [0.0, 0.0]}))
    assert X["when"].tolist() == [pd.Timestamp("2016-03-01"), pd.Timestamp("2017-12-31")]


def test_one_format_or_no_dates_are_left_as_they_were():
    from automl_yaml.data.assemble import dates_in_formats

    assert dates_in_formats(pd.Series(["2020-01-31", "2020-02-01"], dtype=object)) is None  # one format: date_format's
    assert dates_in_formats(pd.Series(["2020-01-31", "31/01/2020", "soon"], dtype=object)) is None
    assert dates_in_formats(pd.Series(["a-b", "c/d"], dtype=object)) is None
    got = dates_in_formats(pd.Series(["2020-01-31", "13/02/2020", None, "01/03/2020"], dtype=object))
    assert got is not None and got[0].tolist()[:2] == [pd.Timestamp("2020-01-31"), pd.Timestamp("2020-02-13")]
    assert got[0].iloc[3] == pd.Timestamp("2020-03-01") and pd.isna(got[0].iloc[2])  # day first, as 13/02 says
