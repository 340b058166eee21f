"""Assembling the table: joins, task and type inference, target encoding, splits."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from automl_yaml.data import build_dataset, infer_task, infer_types, split
from automl_yaml.data.assemble import assemble
from automl_yaml.errors import EXIT_RUNTIME, EXIT_USAGE, DataError
from automl_yaml.spec import load_spec


def spec_for(data: dict, *, sources=("main",), folds: int = 3, seed: int = 42, **extra):
    """A loaded spec (from a mapping: no I/O) with file sources named ``sources``."""
    doc = {
        "seed": seed,
        "sources": {name: {"kind": "file", "path": f"{name}.csv"} for name in sources},
        "data": {"from": sources[0], **data},
        "search": {"cv": {"folds": folds}},
        **extra,
    }
    return load_spec(doc)


def spec_file(tmp_path, text: str):
    """A loaded spec from a YAML file (so errors carry line numbers)."""
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return load_spec(path)


def classes_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "x": rng.normal(size=n),
            "color": rng.choice(["red", "green", "blue"], size=n),
            "species": rng.choice(["Adelie", "Gentoo", "Chinstrap"], size=n, p=[0.5, 0.3, 0.2]),
        }
    )


# ---------------------------------------------------------------------------------- joins

PEOPLE = pd.DataFrame({"id": [1, 2, 3, 4], "age": [30, 40, 50, 60], "city_id": [10, 20, 10, 30]})
CITIES = pd.DataFrame({"city_id": [10, 20, 30], "city": ["Oslo", "Lima", "Pune"], "age": [900, 500, 2000]})


def test_many_to_one_join_keeps_rows_and_renames_clashes():
    loaded = spec_for({"target": "age", "join": [{"source": "cities", "on": "city_id"}]}, sources=("people", "cities"))
    frame = assemble(loaded, {"people": PEOPLE, "cities": CITIES})
    assert len(frame) == len(PEOPLE)
    assert frame["city"].tolist() == ["Oslo", "Lima", "Oslo", "Pune"]
    assert frame["age"].tolist() == PEOPLE["age"].tolist()  # the left table keeps its name
    assert frame["age_cities"].tolist() == [900, 500, 900, 2000]


def test_join_notes_say_what_happened(tmp_path):
    loaded = spec_for({"target": "age", "join": [{"source": "cities", "on": "city_id"}]}, sources=("people", "cities"))
    from automl_yaml.data.assemble import _assemble

    _, notes = _assemble(loaded, {"people": PEOPLE, "cities": CITIES.iloc[:2]})
    assert any("'age' -> 'age_cities'" in n for n in notes)
    assert any("1 of 4 rows had no match" in n for n in notes)


def test_left_on_right_on():
    cities = CITIES.rename(columns={"city_id": "code"})
    loaded = spec_for({"target": "age", "join": [{"source": "cities", "left_on": "city_id", "right_on": "code", "how": "left"}]}, sources=("people", "cities"))
    frame = assemble(loaded, {"people": PEOPLE, "cities": cities})
    assert frame["city"].tolist() == ["Oslo", "Lima", "Oslo", "Pune"]


def test_one_to_many_blowup_is_an_error_with_counts(tmp_path):
    loaded = spec_file(
        tmp_path,
        """
        sources:
          people: people.csv
          cities: cities.csv
        data:
          from: people
          target: age
          join:
            - source: cities
              on: city_id
        """,
    )
    dup = pd.concat([CITIES, CITIES.iloc[[0, 0, 1]]])
    with pytest.raises(DataError) as err:
        assemble(loaded, {"people": PEOPLE, "cities": dup})
    msg = err.value.message
    assert "join with 'cities'" in msg and "'city_id'" in msg
    assert "2 key values appear more than once" in msg and "city_id=10, 3 times" in msg
    assert "spec.yaml:9:7: data.join[0]:" in msg  # the join entry's line
    assert "many_to_many" in err.value.hint
    assert err.value.exit_code == EXIT_RUNTIME


def test_many_to_many_allows_repeated_rows():
    dup = pd.concat([CITIES, CITIES.iloc[[0]]])
    loaded = spec_for({"target": "age", "join": [{"source": "cities", "on": "city_id", "validate": "many_to_many"}]}, sources=("people", "cities"))
    assert len(assemble(loaded, {"people": PEOPLE, "cities": dup})) == len(PEOPLE) + 2


def test_one_to_one_checks_the_left_side_too():
    loaded = spec_for({"target": "age", "join": [{"source": "cities", "on": "city_id", "validate": "one_to_one"}]}, sources=("people", "cities"))
    with pytest.raises(DataError) as err:
        assemble(loaded, {"people": PEOPLE, "cities": CITIES})
    assert "the table so far" in err.value.message and "1 key values" in err.value.message


@pytest.mark.parametrize("side", ["left", "right"])
def test_missing_join_key_suggests_a_column(side):
    left, right = PEOPLE, CITIES
    if side == "left":
        left = PEOPLE.rename(columns={"city_id": "cityid"})
    else:
        right = CITIES.rename(columns={"city_id": "city_idx"})
    loaded = spec_for({"target": "age", "join": [{"source": "cities", "on": "city_id"}]}, sources=("people", "cities"))
    with pytest.raises(DataError) as err:
        assemble(loaded, {"people": left, "cities": right})
    assert "the key 'city_id' is not a column of " + ("the table so far" if side == "left" else "source 'cities'") in err.value.message
    assert ("cityid" if side == "left" else "city_idx") in err.value.hint
    assert err.value.exit_code == EXIT_USAGE


def test_join_with_no_match_and_key_type_mismatch():
    loaded = spec_for({"target": "age", "join": [{"source": "cities", "on": "city_id"}]}, sources=("people", "cities"))
    with pytest.raises(DataError) as err:
        assemble(loaded, {"people": PEOPLE, "cities": CITIES.assign(city_id=[7, 8, 9])})
    assert "no row matches" in err.value.message
    with pytest.raises(DataError) as err:
        assemble(loaded, {"people": PEOPLE, "cities": CITIES.assign(city_id=["10", "20", "30"])})
    assert "same type" in err.value.hint


def test_drop_target_and_types_names_are_checked(tmp_path):
    loaded = spec_file(
        tmp_path,
        """
        sources: {main: main.csv}
        data:
          target: species
          drop: [id, colour]
        """,
    )
    with pytest.raises(DataError) as err:
        assemble(loaded, {"main": classes_frame()})
    assert err.value.message.startswith(f"{tmp_path / 'spec.yaml'}:5:")
    assert "data.drop[1]: no column 'colour'" in err.value.message
    assert "color" in err.value.hint and err.value.exit_code == EXIT_USAGE

    with pytest.raises(DataError) as err:
        assemble(spec_for({"target": "specie"}), {"main": classes_frame()})
    assert "species" in err.value.hint


def test_drop_and_ignore_remove_columns_but_the_split_column_stays():
    loaded = spec_for({"target": "species", "drop": ["id"], "types": {"color": "ignore"}})
    assert list(assemble(loaded, {"main": classes_frame()}).columns) == ["x", "species"]
    loaded = spec_for({"target": "species", "drop": ["id"], "split": {"by": "group", "column": "id"}})
    frame = assemble(loaded, {"main": classes_frame()})
    assert "id" in frame.columns
    ds = split(loaded, frame)
    assert "id" not in ds.X_train.columns  # dropped from the features, still used to split


# ----------------------------------------------------------------------------------- task


@pytest.mark.parametrize(
    "values,task,reason",
    [
        (["a", "b", "c", "a"] * 10, "classification", "3 distinct string values"),
        ([True, False] * 20, "classification", "is boolean"),
        ([0.5, 1.25, 3.0, 2.2] * 10, "regression", "with a fraction"),
        ([0, 1, 2] * 20, "classification", "3 distinct integer values in 60 rows"),
        (list(range(200)), "regression", "200 distinct integer values"),
        ([0.0, 1.0, np.nan] * 10, "classification", "2 distinct integer values"),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "regression", "too many"),  # 12 values in 12 rows: not classes
        ([1.0, 2.0, np.inf] * 10, "regression", "with a fraction (e.g. inf)"),
    ],
)
def test_infer_task(values, task, reason):
    got, why = infer_task(pd.Series(values, name="y"), "auto")
    assert got == task
    assert reason in why and "'y'" in why


def test_forced_task():
    assert infer_task(pd.Series([0.5, 1.5], name="y"), "classification")[0] == "classification"
    assert infer_task(pd.Series([1, 2], name="y"), "regression") == ("regression", "data.task is regression")
    with pytest.raises(DataError) as err:
        infer_task(pd.Series(["a", "b"], name="y"), "regression")
    assert err.value.exit_code == EXIT_USAGE and "not numeric" in err.value.message


def test_infer_task_refuses_dates_and_empty_targets():
    with pytest.raises(DataError):
        infer_task(pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"]), name="when"), "auto")
    with pytest.raises(DataError):
        infer_task(pd.Series([None, None], name="y", dtype=object), "auto")


# -------------------------------------------------------------------------- target coding


def test_classes_are_sorted_labels_and_codes_map_back():
    frame = classes_frame()
    ds = split(spec_for({"target": "species"}), frame)
    assert ds.classes == ["Adelie", "Chinstrap", "Gentoo"] and ds.n_classes == 3
    assert ds.positive is None
    for X, y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        assert y.dtype == "int64"
        assert [ds.classes[c] for c in y] == frame.loc[X.index, "species"].tolist()


@pytest.mark.parametrize(
    "labels,positive,expected",
    [
        (["no", "yes"], None, "yes"),
        ([0, 1], None, 1),
        ([False, True], None, True),
        (["ham", "spam"], None, "spam"),  # the minority (spam is rarer below)
        (["ham", "spam"], "ham", "ham"),
        ([1, 2], "2", 2),  # data.positive matched by text
    ],
)
def test_binary_positive_class_gets_code_1(labels, positive, expected):
    n = 60
    y = [labels[0]] * 40 + [labels[1]] * (n - 40)
    frame = pd.DataFrame({"x": np.arange(n) % 7, "y": y})
    data = {"target": "y", **({"positive": positive} if positive is not None else {})}
    ds = split(spec_for(data), frame)
    assert ds.positive == expected
    assert ds.classes[1] == expected
    assert ((ds.y_train == 1) == (frame.loc[ds.X_train.index, "y"] == expected)).all()
    assert any("positive class" in n for n in ds.notes)


def test_unknown_positive_is_a_usage_error():
    frame = pd.DataFrame({"x": np.arange(40) % 7, "y": ["a", "b"] * 20})
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "y", "positive": "c"}), frame)
    assert err.value.exit_code == EXIT_USAGE and "'a', 'b'" in err.value.hint


def test_missing_targets_are_dropped_with_a_note():
    frame = classes_frame()
    frame.loc[[3, 7, 11], "species"] = None
    ds = split(spec_for({"target": "species"}), frame)
    assert len(ds.X_train) + len(ds.X_test) == len(frame) - 3
    assert not {3, 7, 11} & (set(ds.X_train.index) | set(ds.X_test.index))
    assert "3 rows with a missing target 'species' were dropped" in ds.notes
    assert len(ds.frame) == len(frame)  # the profile still sees them


def test_bad_targets_are_data_errors_with_hints():
    frame = classes_frame()
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "species"}), frame.assign(species=None))
    assert "no values" in err.value.message
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "species"}), frame.assign(species="Adelie"))
    assert "one class only ('Adelie' on all" in err.value.message and "data.target" in err.value.message
    assert err.value.exit_code == EXIT_USAGE and "check the target column" in err.value.hint
    with pytest.raises(DataError) as err:  # a constant number: every model scored a perfect r2
        split(spec_for({"target": "x"}), frame.assign(x=5.5))
    assert "one value only (5.5 on all" in err.value.message and err.value.exit_code == EXIT_USAGE
    rare = frame.copy()
    rare.loc[:1, "species"] = "Emperor"
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "species"}, folds=3), rare)
    assert "class 'Emperor' has 2 rows" in err.value.message and "3-fold" in err.value.message
    assert "search.cv.folds" in err.value.hint
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "x", "task": "regression"}, folds=5), frame.head(4))
    assert "fewer than the 5 cross-validation folds" in err.value.message


def test_default_folds_give_way_to_a_rare_class_and_set_folds_do_not():
    """Folds left at their default become the rarest class's training rows (>= 2), with a note; set folds are kept."""
    rare = classes_frame()
    rare.loc[:4, "species"] = "Emperor"  # 5 rows: 4 in training after the stratified 20 % test split
    default = load_spec({"seed": 42, "sources": {"main": "main.csv"}, "data": {"from": "main", "target": "species"}})
    ds = split(default, rare)
    train_counts = ds.y_train.value_counts()
    assert ds.cv_folds == int(train_counts.min()) == 4
    assert any("4-fold cross-validation instead of the default 5" in n and "'Emperor'" in n for n in ds.notes)
    common = split(default, classes_frame())  # every class has 5+ training rows: the default stays
    assert common.cv_folds is None and not any("cross-validation instead" in n for n in common.notes)
    with pytest.raises(DataError, match="class 'Emperor' has 4 rows in the training set; 5-fold"):
        split(spec_for({"target": "species"}, folds=5), rare)  # the spec says 5: kept, and an error
    single = classes_frame()
    single.loc[:0, "species"] = "Emperor"  # one row: no cross-validation can hold it
    with pytest.raises(DataError) as err:
        split(default, single)
    # two folds cannot be lowered (vega's airports by state: 'DC' has one airport): no 'lower search.cv.folds' hint
    assert "class 'Emperor' of the target 'species' has 1 row in the table; cross-validation needs at least 2 rows of each class" in err.value.message
    assert "data.target" in err.value.message and "search.cv.folds" not in err.value.message + err.value.hint
    assert "remove or merge the rare classes" in err.value.hint
    # vega's burtin by genus: 2 rows of a class, 1 left in training by the stratified split, with the folds at their default
    burtin = pd.DataFrame({"x": np.arange(12.0), "y": ["a", "b"] * 5 + ["c", "c"]})
    with pytest.raises(DataError) as err:
        split(load_spec({"seed": 42, "sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y"}}), burtin)
    assert "class 'c' of the target 'y' has 1 row in the training set; cross-validation needs at least 2" in err.value.message  # was: '5-fold ... needs 5'
    assert "search.cv.folds" not in err.value.message + err.value.hint and "the stratified test split holds some of their rows" in err.value.hint
    single.loc[1:1, "species"] = "Macaroni"
    with pytest.raises(DataError, match=r"has 1 row in the table \(and 1 more class\)"):
        split(default, single)


def test_default_folds_give_way_on_a_tiny_regression_table():
    """8 rows (statsmodels' china_smoking): 5-fold CV on 6 training rows left 1-row folds, r2 was NaN and every trial failed."""
    rng = np.random.default_rng(0)
    tiny = pd.DataFrame({"x": rng.normal(size=8), "z": rng.normal(size=8), "y": rng.normal(size=8) * 100})
    default = load_spec({"seed": 42, "sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y"}})
    ds = split(default, tiny)
    assert len(ds.y_train) == 6 and ds.cv_folds == 3
    assert any("6 rows: 3-fold cross-validation instead of the default 5" in n for n in ds.notes)
    assert split(default, pd.concat([tiny] * 2, ignore_index=True)).cv_folds is None  # 12 training rows: 5 folds of 2+ rows
    by_time = load_spec(
        {"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y", "split": {"by": "time", "column": "x"}}}
    )
    assert split(by_time, tiny).cv_folds == 2  # TimeSeriesSplit validates on n // (folds + 1) rows
    with pytest.raises(DataError) as err:  # folds the spec sets are kept: an error rather than 8 failed trials
        split(spec_for({"target": "y"}, folds=5), tiny)
    assert "5 folds of the 6 training rows leave validation folds of 1 row, where r2 is not defined" in err.value.message
    assert "at most 3 folds" in err.value.hint and err.value.exit_code == EXIT_RUNTIME
    assert split(spec_for({"target": "y"}, folds=5, search={"cv": {"folds": 5}, "metric": "rmse"}), tiny).cv_folds is None


def test_a_small_test_set_is_called_a_rough_guide():
    """committee (20 rows): r2 -22 on 4 test rows beside a CV r2 of 0.02; the run says how far to trust it."""
    rng = np.random.default_rng(0)
    spec = load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y"}})
    small = split(spec, pd.DataFrame({"x": rng.normal(size=20), "y": rng.normal(size=20)}))
    assert "the test set has 4 rows: its scores are a rough guide (one row moves them a lot); the cross-validation scores, over the 16 training rows, are steadier" in small.notes
    big = split(spec, pd.DataFrame({"x": rng.normal(size=100), "y": rng.normal(size=100)}))
    assert not any("rough guide" in n for n in big.notes)


def test_notes_write_column_names_as_valid_yaml():
    """A CSV saved with its pandas index ('Unnamed: 0'): the note said data.types: {Unnamed: 0: numeric}, which is not YAML."""
    import re

    import yaml

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Unnamed: 0": np.arange(50), "x": rng.normal(size=50), "y": rng.normal(size=50)})
    ds = split(load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y"}}), frame)
    (note,) = [n for n in ds.notes if "looks like a row id" in n]
    snippet = re.search(r"data\.types: (\{.*?\})\)", note).group(1)
    assert snippet == '{"Unnamed: 0": numeric}' and yaml.safe_load(snippet) == {"Unnamed: 0": "numeric"}
    years = pd.DataFrame({"2010": pd.date_range("2010-01-01", periods=30).astype(str), "y": rng.normal(size=30)})
    ds = split(load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "y"}}), years)
    assert any('{by: time, column: "2010"}' in n for n in ds.notes)  # unquoted, 2010 is a number to YAML


def test_a_time_series_under_a_random_split_is_named():
    """Weekly CO2 with its date alone scored a holdout r2 of 0.999 under the random split: the run says to split by time."""
    n = 60
    rng = np.random.default_rng(0)
    weekly = pd.DataFrame({"week": pd.date_range("1958-03-29", periods=n, freq="W").strftime("%Y-%m-%d"), "co2": 316 + np.arange(n) * 0.03})
    ds = split(load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "co2"}}), weekly)
    assert any("column 'week' has a different time on every row (a time series?)" in n and "{by: time, column: week}" in n for n in ds.notes)
    yearly = pd.DataFrame({"YEAR": np.arange(1700.0, 1700.0 + n), "x": rng.normal(size=n), "SUNACTIVITY": rng.gamma(2, 20, n)})
    ds = split(load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "SUNACTIVITY"}}), yearly)
    assert any("column 'YEAR' has a different year on every row" in n for n in ds.notes)
    by_time = load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "co2", "split": {"by": "time", "column": "week"}}})
    assert not any("time series" in n for n in split(by_time, weekly).notes)  # the spec already splits by time
    panel = pd.concat([weekly.assign(site=s, co2=weekly.co2 + i) for i, s in enumerate("abc")], ignore_index=True)
    ds = split(load_spec({"sources": {"main": "main.csv"}, "data": {"from": "main", "target": "co2"}}), panel)
    assert not any("time series" in n for n in ds.notes)  # several series share their dates (stocks by symbol)


# ---------------------------------------------------------------------------------- types


def test_infer_types():
    n = 200
    rng = np.random.default_rng(1)
    X = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "count": rng.integers(0, 5, n),
            "flag": rng.integers(0, 2, n).astype(bool),
            "color": rng.choice(["r", "g"], n),
            "cat": pd.Categorical(rng.choice(["a", "b"], n)),
            "when": pd.date_range("2020-01-01", periods=n, freq="D"),
            "day_text": pd.date_range("2021-03-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
            "name": [f"person number {i}" for i in range(n)],
            "comment": [f"a long free-text comment about item {i % 30} " * 3 for i in range(n)],
            "code": ["01", "02", "x"] * 66 + ["01", "02"],
        }
    )
    types = infer_types(X, {"count": "categorical", "code": "ignore"})
    assert types == {
        "num": "numeric",
        "count": "categorical",
        "flag": "boolean",
        "color": "categorical",
        "cat": "categorical",
        "when": "datetime",
        "day_text": "datetime",
        "name": "text",
        "comment": "text",
    }


def test_date_strings_become_datetime64_in_the_features():
    n = 60
    frame = pd.DataFrame({"day": pd.date_range("2022-01-01", periods=n).strftime("%Y-%m-%d"), "v": range(n), "y": [0, 1] * 30})
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types["day"] == "datetime"
    assert pd.api.types.is_datetime64_any_dtype(ds.X_train["day"])
    assert pd.api.types.is_datetime64_any_dtype(ds.frame["day"])


def test_type_overrides_from_data_types_and_preprocess_columns():
    frame = pd.DataFrame({"zip": ["0150", "1500"] * 30, "n": ["1", "2"] * 30, "yn": ["yes", "no"] * 30, "drop_me": range(60), "y": [0, 1] * 30})
    loaded = spec_for(
        {"target": "y", "types": {"n": "numeric", "yn": "boolean"}},
        preprocess={"columns": {"zip": {"type": "categorical"}, "drop_me": {"drop": True}}},
    )
    ds = split(loaded, frame)
    assert ds.column_types == {"zip": "categorical", "n": "numeric", "yn": "boolean"}
    assert ds.X_train["n"].dtype.kind in "if"
    assert set(ds.X_train["yn"].dropna()) <= {True, False}
    assert "drop_me" not in ds.X_train.columns


def test_overrides_the_values_contradict_are_usage_errors():
    frame = pd.DataFrame({"a": ["1", "two"] * 30, "y": [0, 1] * 30})
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "y", "types": {"a": "numeric"}}), frame)
    assert "'two'" in err.value.message and err.value.exit_code == EXIT_USAGE
    with pytest.raises(DataError):
        split(spec_for({"target": "y", "types": {"a": "datetime"}}), frame)


def test_mixed_object_columns_become_strings():
    frame = pd.DataFrame({"m": pd.Series([1, "a", 2.5, None] * 15, dtype=object), "y": [0, 1] * 30})
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types["m"] == "categorical"
    assert ds.X_train["m"].dropna().map(type).eq(str).all()


# ---------------------------------------------------------------------------------- split


def _no_leak(ds, n_rows):
    train, test = set(ds.X_train.index), set(ds.X_test.index)
    assert not train & test
    assert len(train) + len(test) == n_rows
    assert ds.target not in ds.X_train.columns
    assert (ds.y_train.index == ds.X_train.index).all() and (ds.y_test.index == ds.X_test.index).all()


def test_random_split_is_stratified():
    frame = classes_frame(n=400)
    ds = split(spec_for({"target": "species", "split": {"test_size": 0.25}}), frame)
    _no_leak(ds, 400)
    assert len(ds.X_test) == 100
    overall = frame["species"].value_counts()
    test_counts = pd.Series([ds.classes[c] for c in ds.y_test]).value_counts()
    for label, count in overall.items():
        assert abs(test_counts[label] - count * 0.25) <= 1


def test_test_size_in_rows_and_unstratified_regression():
    frame = classes_frame(n=100)
    ds = split(spec_for({"target": "x", "split": {"test_size": 17}}), frame)
    assert ds.task == "regression" and len(ds.X_test) == 17 and ds.classes is None
    _no_leak(ds, 100)
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "x", "split": {"test_size": 100}}), frame)
    assert "no training rows" in err.value.message


def test_stratified_split_needs_shuffle():
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "species", "split": {"shuffle": False}}), classes_frame())
    assert err.value.exit_code == EXIT_USAGE and "stratify: false" in err.value.hint
    ds = split(spec_for({"target": "species", "split": {"shuffle": False, "stratify": False}}), classes_frame())
    assert list(ds.X_test.index) == list(range(96, 120))  # unshuffled: the last rows


def test_group_split_keeps_groups_apart():
    frame = classes_frame(n=300).assign(patient=lambda f: f["id"] // 6)
    ds = split(spec_for({"target": "species", "split": {"by": "group", "column": "patient", "test_size": 0.2}}), frame)
    _no_leak(ds, 300)
    train_groups = set(frame.loc[ds.X_train.index, "patient"])
    test_groups = set(frame.loc[ds.X_test.index, "patient"])
    assert not train_groups & test_groups
    assert len(test_groups) == 10  # 20% of the 50 groups
    assert (ds.groups_train == frame.loc[ds.X_train.index, "patient"]).all()


def test_group_split_needs_enough_groups_for_the_folds():
    frame = classes_frame(n=60).assign(site=lambda f: f["id"] % 3)
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "species", "split": {"by": "group", "column": "site"}}, folds=3), frame)
    assert "groups" in err.value.message and "folds" in err.value.message


@pytest.mark.parametrize("as_text", [False, True])
def test_time_split_puts_the_latest_rows_in_the_test_set(as_text):
    n = 200
    rng = np.random.default_rng(3)
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.permutation(n) * 3600, unit="s")
    frame = classes_frame(n=n).assign(when=when.strftime("%Y-%m-%d %H:%M:%S") if as_text else when)
    ds = split(spec_for({"target": "species", "split": {"by": "time", "column": "when", "test_size": 0.1}}), frame)
    _no_leak(ds, n)
    times = pd.to_datetime(frame["when"])
    assert times[ds.X_test.index].min() >= times[ds.X_train.index].max()
    assert len(ds.X_test) == 20
    assert times[ds.X_train.index].is_monotonic_increasing  # ordered for time-series CV


def test_time_split_rejects_rows_without_a_time():
    frame = classes_frame().assign(when=pd.NaT)
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "species", "split": {"by": "time", "column": "when"}}), frame)
    assert "no 'when'" in err.value.message


def test_split_column_must_exist():
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "species", "split": {"by": "group", "column": "colr"}}), classes_frame())
    assert "color" in err.value.hint and err.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize("by", ["random", "group"])
def test_splits_are_seeded(by):
    frame = classes_frame(n=200).assign(g=lambda f: f["id"] // 4)
    data = {"target": "species", "split": {"by": by, **({"column": "g"} if by == "group" else {})}}
    a = split(spec_for(data, seed=1), frame)
    b = split(spec_for(data, seed=1), frame)
    c = split(spec_for(data, seed=2), frame)
    assert list(a.X_test.index) == list(b.X_test.index)
    assert list(a.X_test.index) != list(c.X_test.index)


# ------------------------------------------------------------------------- build_dataset


def test_build_dataset_end_to_end(tmp_path):
    classes_frame().to_csv(tmp_path / "main.csv", index=False)
    loaded = spec_file(
        tmp_path,
        """
        sources: {main: main.csv}
        data: {target: species, drop: [id]}
        search: {cv: {folds: 3}}
        output: out
        """,
    )
    ds = build_dataset(loaded)
    assert ds.task == "classification" and ds.task_reason == "the target 'species' has 3 distinct string values"
    assert set(ds.column_types) == {"x", "color"}
    info = ds.sources["main"]
    assert (info.rows, info.columns, info.kind, info.from_cache) == (120, 4, "file", False)
    assert ds.fingerprints == {"main": info.fingerprint}
    _no_leak(ds, 120)
