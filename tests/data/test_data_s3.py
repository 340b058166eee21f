"""S3 file sources against a real moto server process, through s3fs as users get it."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from automl_yaml.data import build_dataset
from automl_yaml.data.sources import FileSource
from automl_yaml.errors import SourceError
from automl_yaml.spec import load_spec
from automl_yaml.spec import models as M

pytestmark = pytest.mark.services

FRAME = pd.DataFrame({"id": range(40), "size": [i * 1.5 for i in range(40)], "kind": ["a", "b"] * 20})


def s3_source(tmp_path, **fields) -> FileSource:
    return FileSource("lake", M.FileSource.model_validate(fields), base_dir=tmp_path)


@pytest.mark.parametrize("how", ["endpoint_url", "client_kwargs"])
def test_csv_with_the_endpoint_in_storage_options(tmp_path, s3_env, how):
    bucket = s3_env.bucket()
    url = s3_env.put(bucket, "in/table.csv", FRAME.to_csv(index=False))
    options = {"endpoint_url": s3_env.endpoint_url} if how == "endpoint_url" else {"client_kwargs": {"endpoint_url": s3_env.endpoint_url}}
    src = s3_source(tmp_path, path=url, storage_options=options)
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)
    assert len(src.head(5)) == 5


def test_endpoint_from_the_environment(tmp_path, s3_env, monkeypatch):
    bucket = s3_env.bucket()
    url = s3_env.put(bucket, "table.parquet", FRAME.to_parquet(index=False))
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_env.endpoint_url)
    src = s3_source(tmp_path, path=url)
    pd.testing.assert_frame_equal(src.load(), FRAME)
    assert src.schema()["size"] == "float64"


def test_gzipped_csv_on_s3(tmp_path, s3_env):
    bucket = s3_env.bucket()
    url = s3_env.put(bucket, "t.csv.gz", gzip.compress(FRAME.to_csv(index=False).encode()))
    src = s3_source(tmp_path, path=url, storage_options={"endpoint_url": s3_env.endpoint_url})
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)


def test_fingerprint_follows_the_object(tmp_path, s3_env):
    bucket = s3_env.bucket()
    url = s3_env.put(bucket, "t.csv", FRAME.to_csv(index=False))
    src = s3_source(tmp_path, path=url, storage_options={"endpoint_url": s3_env.endpoint_url})
    fp = src.fingerprint()
    assert src.fingerprint() == fp
    s3_env.put(bucket, "t.csv", FRAME.head(10).to_csv(index=False))
    assert src.fingerprint() != fp


def test_missing_object(tmp_path, s3_env):
    bucket = s3_env.bucket()
    src = s3_source(tmp_path, path=f"s3://{bucket}/nope.csv", storage_options={"endpoint_url": s3_env.endpoint_url})
    with pytest.raises(SourceError) as err:
        src.fingerprint()
    assert "not found" in err.value.message and f"s3://{bucket}/nope.csv" in err.value.message


def test_credentials_from_spec_variables_never_show(tmp_path, s3_server, monkeypatch):
    """`key: ${AWS_KEY}` in the spec: read from the environment, never printed."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    bucket = s3_server.bucket()
    s3_server.put(bucket, "t.csv", FRAME.to_csv(index=False))
    secret = "Sup3r-Secret-Value"
    spec = {
        "sources": {
            "lake": {
                "kind": "file",
                "path": f"s3://{bucket}/missing.csv",
                "storage_options": {"endpoint_url": s3_server.endpoint_url, "key": "${LAKE_KEY}", "secret": "${LAKE_SECRET}"},
            }
        },
        "data": {"target": "kind"},
        "output": str(tmp_path / "out"),
    }
    loaded = load_spec(spec, environ={"LAKE_KEY": "some-key-id", "LAKE_SECRET": secret})
    src = FileSource("lake", loaded.spec.sources["lake"], base_dir=tmp_path)
    with pytest.raises(SourceError) as err:
        src.load()
    assert secret not in err.value.render() and secret not in src.describe()
    ok = FileSource("lake", loaded.spec.sources["lake"].model_copy(update={"path": f"s3://{bucket}/t.csv"}), base_dir=tmp_path)
    assert len(ok.load()) == len(FRAME)


def test_anonymous_access(tmp_path, s3_server, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    bucket = s3_server.bucket()
    url = s3_server.put(bucket, "public.csv", FRAME.to_csv(index=False))
    options = {"anon": True, "endpoint_url": s3_server.endpoint_url}
    with pytest.raises(SourceError) as err:  # private: refused, with the way out
        s3_source(tmp_path, path=url, storage_options=options).load()
    assert "access denied" in err.value.message and "AWS_ACCESS_KEY_ID" in err.value.hint
    s3_server.client().put_object_acl(Bucket=bucket, Key="public.csv", ACL="public-read")
    assert len(s3_source(tmp_path, path=url, storage_options=options).load()) == len(FRAME)


def test_build_dataset_from_s3(tmp_path, s3_env, monkeypatch):
    bucket = s3_env.bucket()
    url = s3_env.put(bucket, "t.parquet", FRAME.to_parquet(index=False))
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_env.endpoint_url)
    loaded = load_spec({"sources": {"lake": url}, "data": {"target": "kind", "drop": ["id"]}, "search": {"cv": {"folds": 3}}, "output": str(tmp_path / "out")})
    first = build_dataset(loaded)
    second = build_dataset(loaded)
    assert first.task == "classification" and first.classes == ["a", "b"]
    assert not first.sources["lake"].from_cache and second.sources["lake"].from_cache
    pd.testing.assert_frame_equal(first.X_train, second.X_train)
