"""Typing messy values: infinity, numbers written as text, dates in local formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_yaml.data import split
from automl_yaml.spec import load_spec


def spec_for(data: dict, folds: int = 3):
    return load_spec({"seed": 0, "sources": {"main": "main.csv"}, "data": {"from": "main", **data}, "search": {"cv": {"folds": folds}}})


def test_infinite_values_are_missing_and_said():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "y": rng.normal(size=60)})
    frame.loc[[1, 2], "x"] = [np.inf, 1e300]
    frame.loc[4, "y"] = -np.inf
    ds = split(spec_for({"target": "y"}), frame)
    assert len(ds.X_train) + len(ds.X_test) == 59
    assert not np.isinf(ds.X_train["x"]).any() and ds.frame["x"].isna().sum() == 2
    assert any("'x' has 2 infinite or too large values" in n for n in ds.notes)
    assert any("1 row with an infinite or too large target 'y' was dropped" in n for n in ds.notes)


def test_numbers_with_thousands_separators_are_numbers():
    from automl_yaml.data.assemble import parse_formatted_numbers

    def parse(values):
        out = parse_formatted_numbers(pd.Series(values, dtype=object))
        return None if out is None else out.tolist()

    assert parse(["10,344.74", "1,000", "12.5"]) == [10344.74, 1000.0, 12.5]
    assert parse(["1.234,5", "12,0"]) == [1234.5, 12.0]
    assert parse(["€ 12 000", "€ 3 500,50"]) == [12000.0, 3500.5]
    assert parse(["$1,200.00", "-35"]) == [1200.0, -35.0]
    assert parse(["02139", "10001"]) is None  # digit strings (zip codes) stay text
    assert parse(["1,000", "about 3"]) is None


def test_a_target_written_with_thousands_separators_is_a_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=80)
    frame = pd.DataFrame({"x": x, "income": [f"{v:,.0f}" for v in 40_000 + 9_000 * x], "price": [f"{v:,.2f}" for v in 20_000 + 5_000 * x]})
    ds = split(spec_for({"target": "price"}), frame)
    assert ds.task == "regression" and ds.classes is None
    assert ds.y_train.dtype == "float64" and ds.y_train.max() > 20_000
    assert ds.column_types["income"] == "numeric" and ds.X_train["income"].dtype == "float64"
    assert any("target 'price' holds numbers written as text" in n for n in ds.notes)


def test_dates_in_local_formats_and_with_changing_offsets_are_dates():
    times = pd.date_range("2021-01-01", periods=90, freq="53h")
    frame = pd.DataFrame(
        {
            "day_first": times.strftime("%d/%m/%Y"),  # the first value, 01/01, does not tell the order
            "month_name": times.strftime("%d %b %Y"),
            "local": [t.isoformat() for t in times.tz_localize("UTC").tz_convert("Europe/Paris")],  # +01:00 and +02:00
            "y": np.arange(90) % 2,
        }
    )
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types == {"day_first": "datetime", "month_name": "datetime", "local": "datetime"}
    assert (ds.frame["day_first"] == times.normalize()).all()
    assert (ds.frame["local"].dt.tz_localize(None) == times).all()
    assert ds.date_formats["day_first"] == "%d/%m/%Y"


def test_row_ids_are_not_features_and_dropped_text_is_said():
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame(
        {
            "Unnamed: 0": np.arange(n),  # a saved pandas index
            "customer_id": rng.permutation(n) * 7 + 1000,
            "visits": rng.permutation(n) * 3,  # distinct integers, but a quantity
            "year": rng.permutation(n) + 1960,  # one row per year: consecutive, but not a row counter
            "row": rng.permutation(n) + 1,  # rows numbered 1..n, shuffled
            "x": rng.normal(size=n),
            "name": [f"customer {i} {rng.integers(1e6)}" for i in range(n)],
            "y": np.arange(n) % 2,
        }
    )
    ds = split(spec_for({"target": "y"}), frame)
    assert set(ds.column_types) == {"visits", "year", "x", "name"}
    assert any("'Unnamed: 0' looks like a row id" in n for n in ds.notes)
    assert any("'customer_id' looks like a row id" in n for n in ds.notes)
    assert any("free-text columns are not used: 'name'" in n for n in ds.notes)
    kept = split(spec_for({"target": "y", "types": {"customer_id": "numeric"}}), frame)
    assert "customer_id" in kept.column_types


def test_codes_with_many_levels_are_categories_and_unique_strings_are_ids():
    # Zip codes (2,000 levels in 3,000 rows) were taken for free text and dropped;
    # a string customer number (one per row) was called free text too.
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame(
        {
            "zip": [f"Z{v:05d}" for v in rng.integers(0, 2000, n)],
            "city": rng.choice([f"New Town {i}" for i in range(1500)], n),  # two-word names, many levels
            "customer": [f"CUST-{i:06d}" for i in rng.permutation(n)],
            "email": [f"user{i}@example.com" for i in rng.permutation(n)],
            "comment": [" ".join(rng.choice(["late", "great", "refund", "box", "broken", "fast"], 6)) + f" {i}" for i in range(n)],
            "y": np.arange(n) % 2,
        }
    )
    ds = split(spec_for({"target": "y"}), frame)
    assert ds.column_types == {"zip": "categorical", "city": "categorical", "comment": "text"}
    assert any("'customer' looks like a row id (a different value on every row)" in n for n in ds.notes)
    assert any("'email' looks like a row id" in n for n in ds.notes)
    assert any("free-text columns are not used: 'comment'" in n for n in ds.notes)
    assert "customer" in split(spec_for({"target": "y", "types": {"customer": "categorical"}}), frame).column_types


def test_constant_and_empty_columns_are_not_features():
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "const": 7,
            "plan": "basic",
            "empty": np.nan,
            "coupon": np.where(rng.random(n) < 0.5, "yes", None),  # one value and gaps: whether it is there may tell
            "y": np.arange(n) % 2,
        }
    )
    ds = split(spec_for({"target": "y"}), frame)
    assert set(ds.column_types) == {"x", "coupon"}
    assert "columns with the same value on every row are not used: 'const', 'plan' (type a column in data.types to keep it)" in ds.notes
    assert any("columns with no values are not used: 'empty'" in n for n in ds.notes)
    assert "const" in split(spec_for({"target": "y", "types": {"const": "numeric"}}), frame).column_types


def test_no_feature_left_is_a_user_error_saying_why():
    from automl_yaml.errors import EXIT_USAGE, DataError

    frame = pd.DataFrame({"row": np.arange(40), "const": 1, "y": np.arange(40) % 2})
    with pytest.raises(DataError) as err:
        split(spec_for({"target": "y"}), frame)
    assert err.value.exit_code == EXIT_USAGE
    assert "data.target: no column is left to predict 'y' from: 'row' is a row id; 'const' has the same value on every row" in err.value.message
