"""The source contract: every reader, whatever its kind, keeps the same promises.

``SourceContract`` holds the tests; each subclass only says how to make its
source and what table it holds (files of every format, SQLite, PostgreSQL,
S3, MongoDB, samples). A new source kind gets the same checks by subclassing.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from rich.console import Console
from rich.progress import Progress

from automl_yaml import registry as R
from automl_yaml.components import catalog  # noqa: F401 - registers the source kinds
from automl_yaml.data.sources import BaseSource, open_source
from automl_yaml.spec import models as M

EXPECTED = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6],
        "x": [0.5, 1.25, -3.0, 4.75, 2.0, 0.0],
        "name": ["ann", "bob", "cy", "dee", "ed", "flo"],
    }
)


def make_source(model: type, source_name: str = "src", *, base_dir, **fields) -> BaseSource:
    """A reader for a source model built from ``fields``, as the spec would give it."""
    spec = model.model_validate(fields)
    return open_source(source_name, spec, base_dir=base_dir)


def same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal values and column names; dtypes may differ by backend (str vs object)."""
    got = got.reset_index(drop=True)
    pd.testing.assert_frame_equal(got[list(expected.columns)], expected, check_dtype=False)


class SourceContract:
    """Tests every source must pass. Subclasses provide the ``source`` fixture."""

    expected = EXPECTED
    #: Literal secrets that must never appear in describe() or errors.
    secrets: tuple[str, ...] = ()

    @pytest.fixture
    def source(self) -> BaseSource:  # pragma: no cover - always overridden
        raise NotImplementedError

    def test_is_the_registered_class(self, source):
        assert isinstance(source, R.sources.get(source.spec.kind).load())

    def test_load_returns_the_table(self, source):
        same_table(source.load(), self.expected)

    def test_schema_names_the_loaded_columns_and_dtypes(self, source):
        frame = source.load()
        schema = source.schema()
        assert list(schema) == list(frame.columns)
        assert schema == {c: str(t) for c, t in frame.dtypes.items()}

    def test_head_is_the_first_rows(self, source):
        head = source.head(3)
        assert len(head) == 3
        same_table(head, self.expected.head(3))
        assert len(source.head(1000)) == len(self.expected)

    def test_fingerprint_is_stable_and_short(self, source):
        fp = source.fingerprint()
        assert re.fullmatch(r"[0-9a-f]{16}", fp)
        assert source.fingerprint() == fp

    def test_describe_masks_secrets(self, source):
        text = source.describe()
        assert text.startswith(source.spec.kind)
        for secret in self.secrets:
            assert secret not in text

    def test_progress_is_reported_and_completed(self, source):
        progress = Progress(console=Console(file=io.StringIO()))
        with progress:
            frame = source.load(progress=progress)
        assert progress.tasks, "load() added no progress task"
        task = progress.tasks[-1]
        assert task.completed == len(frame) == len(self.expected)
        assert task.finished

    def test_quiet_without_progress(self, source, capsys):
        source.load(progress=None)
        assert capsys.readouterr().out == ""


# ------------------------------------------------------------------------------ files


def _write(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "json":
        frame.to_json(path, orient="records")
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif fmt == "excel":
        frame.to_excel(path, index=False)


@pytest.mark.parametrize("fmt,suffix", [("csv", ".csv"), ("tsv", ".tsv"), ("parquet", ".parquet"), ("json", ".json"), ("jsonl", ".jsonl"), ("excel", ".xlsx")])
class TestFileFormats(SourceContract):
    @pytest.fixture
    def source(self, tmp_path, fmt, suffix):
        _write(self.expected, tmp_path / f"table{suffix}", fmt)
        # a relative path: resolved against the spec's folder
        return make_source(M.FileSource, base_dir=tmp_path, path=f"table{suffix}")

    def test_format_comes_from_the_suffix(self, source, fmt):
        assert source.format == fmt


class TestSQLite(SourceContract):
    @pytest.fixture
    def source(self, tmp_path):
        import sqlite3

        with sqlite3.connect(tmp_path / "db.sqlite") as con:
            self.expected.to_sql("people", con, index=False)
        con.close()
        return make_source(M.SqlSource, base_dir=tmp_path, url="sqlite:///db.sqlite", table="people", chunksize=4)


class TestPostgresQuery(SourceContract):
    secrets = ("mlx-Test-pw-7291",)

    @pytest.fixture
    def source(self, tmp_path, postgres_url):
        import sqlalchemy as sa
        from fixtures.services import unique_name

        table = unique_name("contract")
        engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
        self.expected.to_sql(table, engine, index=False)
        engine.dispose()
        yield make_source(
            M.SqlSource,
            base_dir=tmp_path,
            url=postgres_url,
            query=f"SELECT id, x, name FROM {table} WHERE id >= :lo ORDER BY id",
            params={"lo": 1},
            chunksize=4,
        )
        engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {table}")
        engine.dispose()


class TestS3(SourceContract):
    @pytest.fixture
    def source(self, tmp_path, s3_env):
        bucket = s3_env.bucket()
        url = s3_env.put(bucket, "data/table.parquet", self.expected.to_parquet(index=False))
        return make_source(M.FileSource, base_dir=tmp_path, path=url, storage_options={"endpoint_url": s3_env.endpoint_url})


class TestMongo(SourceContract):
    secrets = ("hunter22",)

    @pytest.fixture
    def source(self, tmp_path, monkeypatch):
        import mongomock
        import pymongo

        client = mongomock.MongoClient()
        client.zoo.people.insert_many(self.expected.to_dict("records"))
        monkeypatch.setattr(pymongo, "MongoClient", lambda *a, **k: client)
        return make_source(M.MongoSource, base_dir=tmp_path, uri="mongodb://reader:hunter22@db.example:27017/", database="zoo", collection="people")


class TestSample(SourceContract):
    expected = None  # set below from the package itself

    @pytest.fixture
    def source(self, tmp_path):
        from sklearn.datasets import load_iris

        bunch = load_iris(as_frame=True)
        frame = bunch.frame.copy()
        frame["target"] = bunch.target_names[bunch.target]
        type(self).expected = frame
        return make_source(M.SampleSource, base_dir=tmp_path, name="iris")


def test_a_missing_s3fs_is_named_with_its_extra(tmp_path, monkeypatch):
    """fsspec says "Install s3fs to access S3": the error named the package '?' and hinted `pip install ?`."""
    import fsspec

    from automl_yaml.data.sources import open_source
    from automl_yaml.errors import MissingDependencyError
    from automl_yaml.spec import load_spec

    def no_s3fs(*a, **k):
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec, "filesystem", no_s3fs)
    monkeypatch.setattr(fsspec, "open", no_s3fs)
    monkeypatch.setattr(fsspec, "open_files", no_s3fs)
    loaded = load_spec({"sources": {"p": {"kind": "file", "path": "s3://bucket/p.csv"}}, "data": {"target": "y"}}, base_dir=tmp_path)
    reader = open_source("p", loaded.spec.sources["p"], base_dir=tmp_path)
    with pytest.raises(MissingDependencyError) as err:
        reader.head(5)
    assert "'s3fs'" in err.value.message and err.value.hint == 'pip install "automl-yaml[s3]"'
