"""MongoDB sources: mongomock for the reading logic, real pymongo for failures,
and a real server when ``MLX_TEST_MONGO_URI`` is set."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import automl_yaml.data.sources as S
from automl_yaml.data.sources import MongoSource
from automl_yaml.errors import SourceError
from automl_yaml.spec import models as M

DOCS = [
    {"name": f"n{i}", "year": 2018 + i % 5, "size": {"w": i, "h": i * 2}, "tags": ["a", "b"][: i % 3], "kind": "x" if i % 2 else "y"}
    for i in range(12)
]


def mongo_source(tmp_path, **fields) -> MongoSource:
    base = {"uri": "mongodb://reader:pa55word@db.example:27017/", "database": "zoo", "collection": "animals"}
    return MongoSource("animals", M.MongoSource.model_validate({**base, **fields}), base_dir=tmp_path)


@pytest.fixture
def mock_client(monkeypatch):
    """pymongo.MongoClient replaced by one mongomock client holding DOCS (tests only)."""
    import mongomock
    import pymongo

    client = mongomock.MongoClient()
    client.zoo.animals.insert_many([dict(d) for d in DOCS])
    monkeypatch.setattr(pymongo, "MongoClient", lambda *a, **k: client)
    return client


def test_nested_documents_are_flattened_and_id_dropped(tmp_path, mock_client):
    frame = mongo_source(tmp_path).load()
    assert {"size.w", "size.h", "name", "year", "kind"} <= set(frame.columns)
    assert "_id" not in frame.columns
    assert frame["size.h"].tolist() == [d["size"]["h"] for d in DOCS]


def test_include_id_gives_string_ids(tmp_path, mock_client):
    frame = mongo_source(tmp_path, include_id=True).load()
    assert frame["_id"].map(type).eq(str).all() and frame["_id"].is_unique


def test_lists_become_json_text(tmp_path, mock_client):
    frame = mongo_source(tmp_path).load()
    assert frame.loc[2, "tags"] == '["a", "b"]'


def test_filter_projection_sort_limit(tmp_path, mock_client):
    src = mongo_source(tmp_path, filter={"year": {"$gte": 2021}}, projection=["name", "year"], sort={"year": -1, "name": 1}, limit=3)
    frame = src.load()
    assert list(frame.columns) == ["name", "year"]
    expected = sorted((d for d in DOCS if d["year"] >= 2021), key=lambda d: (-d["year"], d["name"]))[:3]
    assert frame["name"].tolist() == [d["name"] for d in expected]


def test_projection_mapping_excludes(tmp_path, mock_client):
    frame = mongo_source(tmp_path, projection={"size": 0, "tags": 0}).load()
    assert not any(c.startswith("size") for c in frame.columns) and "tags" not in frame.columns


def test_reads_in_batches_with_progress(tmp_path, mock_client, monkeypatch, recorder):
    monkeypatch.setattr(MongoSource, "batch_size", 5)
    frame = mongo_source(tmp_path).load(progress=recorder)
    assert len(frame) == len(DOCS)
    assert recorder.advances == [5, 5, 2]


def test_schema_from_one_document(tmp_path, mock_client):
    schema = mongo_source(tmp_path).schema()
    assert schema["size.w"] == "int64" and "name" in schema


def test_fingerprint_follows_filter_and_documents(tmp_path, mock_client):
    a = mongo_source(tmp_path).fingerprint()
    assert mongo_source(tmp_path, filter={"kind": "x"}).fingerprint() != a
    mock_client.zoo.animals.insert_one({"name": "new"})
    assert mongo_source(tmp_path).fingerprint() != a


def test_password_is_masked(tmp_path, mock_client):
    assert "pa55word" not in mongo_source(tmp_path).describe()


def test_unreachable_server_with_real_pymongo(tmp_path, monkeypatch):
    from fixtures.services import free_port

    monkeypatch.setattr(S, "MONGO_TIMEOUT_MS", 300)
    src = mongo_source(tmp_path, uri=f"mongodb://reader:pa55word@127.0.0.1:{free_port()}/")
    with pytest.raises(SourceError) as err:
        src.load()
    assert "cannot reach MongoDB" in err.value.message
    assert "pa55word" not in err.value.render() and "***" in err.value.message


@pytest.mark.services
def test_real_server():
    """Against a real MongoDB when MLX_TEST_MONGO_URI is set (none exists in this environment)."""
    uri = os.environ.get("MLX_TEST_MONGO_URI")
    if not uri:
        pytest.skip("set MLX_TEST_MONGO_URI to run against a real MongoDB server")
    import pymongo
    from fixtures.services import unique_name

    name = unique_name("animals")
    client = pymongo.MongoClient(uri)
    client.mlx_test[name].insert_many([dict(d) for d in DOCS])
    try:
        spec = M.MongoSource.model_validate({"uri": uri, "database": "mlx_test", "collection": name, "filter": {"kind": "x"}})
        frame = MongoSource("real", spec, base_dir=".").load()
        assert len(frame) == sum(d["kind"] == "x" for d in DOCS)
        assert "size.w" in frame.columns
        pd.testing.assert_series_equal(frame["name"], pd.Series([d["name"] for d in DOCS if d["kind"] == "x"], name="name"), check_dtype=False)
    finally:
        client.mlx_test.drop_collection(name)
        client.close()
