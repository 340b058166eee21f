"""The Parquet source cache: hits, invalidation, opting out, robustness."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import automl_yaml.data.sources as S
from automl_yaml.data import cache, load_sources
from automl_yaml.spec import load_spec

FRAME = pd.DataFrame(
    {
        "id": np.arange(50),
        "v": np.linspace(0, 1, 50),
        "s": [f"s{i % 7}" for i in range(50)],
        "b": [True, False] * 25,
        "d": pd.date_range("2021-01-01", periods=50, freq="D"),
    }
)


@pytest.fixture
def project(tmp_path):
    FRAME.to_csv(tmp_path / "table.csv", index=False)
    return tmp_path


def loaded_for(project, **source):
    return load_spec(
        {"sources": {"table": {"kind": "file", "path": "table.csv", **source}}, "data": {"target": "b"}, "output": "out"},
        base_dir=project,
    )


def cache_files(project) -> list[str]:
    folder = cache.cache_dir(project / "out")
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_second_load_hits_the_cache_and_gives_the_same_table(project, monkeypatch):
    loaded = loaded_for(project, options={"parse_dates": ["d"]})
    frames1, info1 = load_sources(loaded)
    assert not info1["table"].from_cache
    assert cache_files(project) == [f"table-{info1['table'].fingerprint}.parquet"]

    monkeypatch.setattr(S.FileSource, "_load", lambda *a, **k: pytest.fail("the source was read again"))
    frames2, info2 = load_sources(loaded)
    assert info2["table"].from_cache
    pd.testing.assert_frame_equal(frames1["table"], frames2["table"])  # dtypes included
    assert info2["table"].rows == 50 and info2["table"].columns == 5


def test_a_changed_file_is_reloaded_and_the_old_version_removed(project):
    loaded = loaded_for(project)
    _, first = load_sources(loaded)
    FRAME.head(20).to_csv(project / "table.csv", index=False)
    frames, second = load_sources(loaded)
    assert not second["table"].from_cache
    assert second["table"].fingerprint != first["table"].fingerprint
    assert len(frames["table"]) == 20
    assert cache_files(project) == [f"table-{second['table'].fingerprint}.parquet"]


def test_touching_a_small_file_keeps_the_cache(project):
    loaded = loaded_for(project)
    load_sources(loaded)
    os.utime(project / "table.csv", ns=(10**18, 10**18))
    _, info = load_sources(loaded)
    assert info["table"].from_cache  # same bytes: same fingerprint


def test_touching_a_large_file_reloads(project, monkeypatch):
    monkeypatch.setattr(S, "CONTENT_HASH_LIMIT", 100)  # the file is "large": size + mtime
    loaded = loaded_for(project)
    load_sources(loaded)
    assert load_sources(loaded)[1]["table"].from_cache
    st = (project / "table.csv").stat()
    os.utime(project / "table.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert not load_sources(loaded)[1]["table"].from_cache


def test_cache_false_on_the_source(project):
    loaded = loaded_for(project, cache=False)
    load_sources(loaded)
    _, info = load_sources(loaded)
    assert not info["table"].from_cache
    assert cache_files(project) == []


def test_no_cache_from_the_caller_reads_again(project):
    loaded = loaded_for(project)
    load_sources(loaded)
    _, info = load_sources(loaded, cache=False)
    assert not info["table"].from_cache
    assert load_sources(loaded)[1]["table"].from_cache  # the cache itself is untouched


def test_reader_options_are_part_of_the_key(project):
    load_sources(loaded_for(project))
    frames, info = load_sources(loaded_for(project, columns=["id", "b"]))
    assert not info["table"].from_cache and list(frames["table"].columns) == ["id", "b"]


def test_a_broken_cache_file_is_a_miss(project):
    loaded = loaded_for(project)
    _, info = load_sources(loaded)
    path = cache.cache_path(project / "out", "table", info["table"].fingerprint)
    path.write_bytes(b"truncated")
    frames, info = load_sources(loaded)
    assert not info["table"].from_cache and len(frames["table"]) == 50
    assert load_sources(loaded)[1]["table"].from_cache  # rewritten


def test_versions_of_one_source_only(tmp_path):
    out = tmp_path / "out"
    cache.write(out, "a", "0123456789abcdef", FRAME)
    cache.write(out, "a-b", "0123456789abcdef", FRAME)
    cache.write(out, "a", "fedcba9876543210", FRAME)
    assert sorted(p.name for p in cache.cache_dir(out).iterdir()) == ["a-b-0123456789abcdef.parquet", "a-fedcba9876543210.parquet"]
    assert cache.read(out, "a", "0123456789abcdef") is None
    assert cache.clear(out, "a") == 1
    assert cache.clear(out) == 1


def test_a_table_parquet_cannot_hold_is_not_cached(tmp_path):
    odd = pd.DataFrame({"m": pd.Series([1, "a"], dtype=object)})
    assert cache.write(tmp_path, "odd", "0123456789abcdef", odd) is None
    assert list(cache.cache_dir(tmp_path).iterdir()) == []  # no file, no temporary left


def test_an_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    def boom(self, path, **kw):
        open(path, "wb").write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(KeyboardInterrupt):
        cache.write(tmp_path, "t", "0123456789abcdef", FRAME)
    assert list(cache.cache_dir(tmp_path).iterdir()) == []


def test_samples_shipped_in_packages_are_not_copied_to_the_cache(project):
    """Reading breast_cancer from scikit-learn is as fast as reading a cache of it; the copy cost pyarrow's import."""
    loaded = load_spec({"sources": {"d": {"kind": "sample", "name": "breast_cancer"}}, "data": {"target": "target"}, "output": "out"}, base_dir=project)
    frames1, info1 = load_sources(loaded)
    frames2, info2 = load_sources(loaded)
    assert not info1["d"].from_cache and not info2["d"].from_cache
    assert cache_files(project) == []
    pd.testing.assert_frame_equal(frames1["d"], frames2["d"])
    assert len(frames1["d"]) == 569
