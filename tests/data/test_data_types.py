"""Column types as databases and files carry them, through to the model's input.

Each test builds a small table in the form a user's database or file holds it
(PostgreSQL DATE/JSONB/ARRAY/UUID/NUMERIC, a Parquet ``date32`` or list
column, JSON Lines with nested objects, MongoDB documents that differ) and
checks what the reader and the type inference make of it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import numpy as np
import pandas as pd
import pytest
import yaml
from fixtures.services import unique_name

from automl_yaml.data import build_dataset
from automl_yaml.data import cache as _cache
from automl_yaml.data.check import check_data
from automl_yaml.data.sources import FileSource, MongoSource, SqlSource
from automl_yaml.spec import load_spec
from automl_yaml.spec import models as M


def write_spec(tmp_path, sources: dict, target: str, **data) -> object:
    doc = {
        "name": "types",
        "seed": 1,
        "sources": sources,
        "data": {"target": target, **data},
        "models": {"random_forest": {"params": {"n_estimators": 5}}},
        "search": {"strategy": "random", "budget": {"trials": 1}, "cv": {"folds": 3}},
        "tracking": False,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_spec(path)


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_types(postgres_url):
    """A table of PostgreSQL types psycopg returns as Python objects; yields (url, table)."""
    import psycopg

    table = unique_name("types")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (price numeric(10,2), built date, meta jsonb, tags text[], uid uuid, area numeric)")
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (None if i == 3 else 100 + i * 2.5, dt.date(2000, 1, 1) + dt.timedelta(days=37 * i), json.dumps({"k": i % 3}), ["a", "b"][: i % 3], uuid.uuid4(), None if i % 4 == 0 else i / 3)
                    for i in range(30)
                ],
            )
    yield postgres_url, table
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.mark.services
def test_postgresql_types_become_pandas_types(tmp_path, pg_types):
    url, table = pg_types
    src = SqlSource("db", M.SqlSource.model_validate({"url": url, "table": table}), base_dir=tmp_path)
    frame = src.load()
    assert frame["price"].dtype == "float64" and frame["price"].isna().sum() == 1  # NUMERIC with a NULL: numbers
    assert frame["area"].dtype == "float64"
    assert pd.api.types.is_datetime64_dtype(frame["built"])  # DATE: a date, not the text '2000-01-01'
    assert frame.loc[1, "meta"] == '{"k": 1}'  # JSONB: JSON text, as MongoDB sub-documents
    assert frame.loc[2, "tags"] == '["a", "b"]'  # ARRAY
    assert isinstance(frame.loc[0, "uid"], str)
    # The Parquet cache gives back the same table (lists come back from Parquet as numpy arrays).
    _cache.write(tmp_path, "db", "f", frame)
    pd.testing.assert_frame_equal(src._normalise(_cache.read(tmp_path, "db", "f")), frame, check_dtype=False)


@pytest.mark.services
def test_postgresql_dates_are_features_and_uuids_are_keys(tmp_path, pg_types):
    url, table = pg_types
    loaded = write_spec(tmp_path, {"db": {"kind": "sql", "url": url, "table": table}}, "price")
    ds = build_dataset(loaded, cache=False)
    assert ds.task == "regression"
    assert ds.column_types["built"] == "datetime" and ds.column_types["area"] == "numeric"
    assert "uid" not in ds.column_types
    assert any("'uid' looks like a row id (a different UUID or ObjectId on every row)" in n for n in ds.notes)


# -------------------------------------------------------------------------------- files


def test_parquet_dates_and_lists_are_the_same_fresh_and_cached(tmp_path):
    n = 30
    frame = pd.DataFrame({"day": [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(n)], "tags": [["x", "y"][: i % 3] for i in range(n)]})
    frame["y"] = np.arange(n) * 1.5
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    src = FileSource("d", M.FileSource.model_validate({"path": "d.parquet"}), base_dir=tmp_path)
    fresh = src.load()
    assert pd.api.types.is_datetime64_dtype(fresh["day"])
    assert fresh["tags"].tolist()[:3] == ["[]", '["x"]', '["x", "y"]']
    assert src.head(5)["tags"].tolist() == fresh["tags"].tolist()[:5]


def test_json_lines_nested_objects_become_columns_and_lists_text(tmp_path):
    rows = []
    for i in range(40):
        row = {"x": i * 0.5, "info": {"city": "ab"[i % 2], "size": {"w": i}}, "tags": ["a"] * (i % 3), "y": i * 2.0}
        if i % 10 == 0:
            del row["info"]
        rows.append(row)
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    loaded = write_spec(tmp_path, {"d": "d.jsonl"}, "y")
    ds = build_dataset(loaded, cache=False)  # lists in cells used to crash the type coercion
    assert ds.column_types["info.city"] == "categorical" and ds.column_types["info.size.w"] == "numeric"
    assert ds.frame["info.size.w"].isna().sum() == 4
    assert ds.frame.loc[2, "tags"] == '["a", "a"]'


# -------------------------------------------------------------------------------- Mongo


def test_mongo_check_data_sees_fields_the_first_document_lacks(tmp_path, monkeypatch):
    import mongomock
    import pymongo

    client = mongomock.MongoClient()
    client.db.c.insert_many([{"x": i, "y": i % 2, **({"extra": {"w": i}} if i else {})} for i in range(30)])
    monkeypatch.setattr(pymongo, "MongoClient", lambda *a, **k: client)
    loaded = write_spec(tmp_path, {"m": {"kind": "mongo", "uri": "mongodb://localhost/", "database": "db", "collection": "c"}}, "y", drop=["extra.w"])
    assert [p.message for p in check_data(loaded)] == []
    assert "extra.w" in MongoSource("m", loaded.spec.sources["m"], base_dir=tmp_path).schema()


# ------------------------------------------------------------------------------- SQLite


def test_sqlite_integer_column_holding_words_is_said(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "d.db") as conn:
        conn.execute("CREATE TABLE t (n INTEGER, day TEXT, y REAL)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [("unknown" if i % 10 == 0 else i, f"2021-01-{1 + i % 28:02d}", i * 1.5) for i in range(40)])
    loaded = write_spec(tmp_path, {"t": {"kind": "sql", "url": "sqlite:///d.db", "table": "t"}}, "y")
    ds = build_dataset(loaded, cache=False)
    assert ds.column_types["day"] == "datetime"  # dates stored as TEXT
    assert ds.column_types["n"] == "categorical"  # SQLite kept the words: the column is not silently numbers
    assert any("column 'n' holds numbers and 4 values that are not (e.g. 'unknown')" in n for n in ds.notes)


# ------------------------------------------------------------------------------ predict


def test_durations_are_seconds_at_predict_time_too(messy_run):
    # An INTERVAL (psycopg timedelta) or a Parquet duration: training uses seconds.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"wait": pd.to_timedelta(rng.integers(0, 400, 60), unit="D"), "x": rng.normal(size=60)})
    frame["y"] = frame["wait"].dt.days * 2.0 + frame["x"]
    run = messy_run(frame, "y", fmt="parquet")
    assert run.code == 0, run.err
    from automl_yaml.predict import load_model

    model = load_model(run.output / "model")
    assert model.check_input(frame.drop(columns="y"))["wait"].tolist() == frame["wait"].dt.total_seconds().tolist()
    assert len(run.predict(frame.drop(columns="y"))) == 60
