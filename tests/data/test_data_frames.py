"""The `kind: frame` reader: a DataFrame given from Python, read like any source."""

from __future__ import annotations

import pandas as pd
import pytest

from automl_yaml.data import build_dataset, cache, load_sources
from automl_yaml.data.sources import FrameSource, open_source
from automl_yaml.errors import SourceError, UsageError
from automl_yaml.spec import load_spec


def penguin_rows(n: int = 60) -> pd.DataFrame:
    species = ["Adelie", "Gentoo", "Chinstrap"]
    return pd.DataFrame(
        {
            "id": range(n),
            "island": [["Biscoe", "Dream", "Torgersen"][i % 3] for i in range(n)],
            "mass": [3000.0 + 37 * (i % 20) for i in range(n)],
            "species": [species[i % 3] for i in range(n)],
        }
    )


def reader_for(frame: pd.DataFrame | None, name: str = "train") -> FrameSource:
    loaded = load_spec({"sources": {name: {"kind": "frame"}}, "data": {"target": "species"}}, frames=None if frame is None else {name: frame})
    return open_source(name, loaded.spec.sources[name], base_dir=loaded.base_dir, frames=loaded.frames)


def test_describe_gives_the_size():
    assert reader_for(penguin_rows(344)).describe() == "frame 'train' (DataFrame, 344 rows x 4 columns)"
    assert reader_for(None).describe() == "frame 'train' (no DataFrame given)"


def test_the_fingerprint_follows_the_content():
    base = penguin_rows()
    fp = reader_for(base).fingerprint()
    assert reader_for(base.copy()).fingerprint() == fp  # another object, the same rows
    assert reader_for(base.set_axis(range(100, 160))).fingerprint() == fp  # an unnamed integer index is not data
    changed = {
        "a value": base.assign(mass=base["mass"].where(base.index != 5, 1.0)),
        "a dtype": base.assign(id=base["id"].astype("float64")),
        "a column name": base.rename(columns={"mass": "weight"}),
        "the row order": base.iloc[::-1].reset_index(drop=True),
        "a row less": base.head(59),
        "a named index": base.set_axis(pd.Index(range(60), name="row")),  # a column of the table
    }
    for what, frame in changed.items():
        assert reader_for(frame).fingerprint() != fp, what


def test_a_named_index_becomes_a_column_and_names_become_strings():
    frame = pd.DataFrame([[1.0, "a"], [2.0, "b"]], index=pd.Index([10, 11], name="row"))
    reader = reader_for(frame)
    table = reader.load()
    assert table.columns.tolist() == ["row", "0", "1"] and table["row"].tolist() == [10, 11]
    assert reader.frame.columns.tolist() == [0, 1]  # the frame given is left as it is
    assert reader.schema() == {"row": "int64", "0": "float64", "1": "str"}


def test_the_reader_without_a_frame_is_a_usage_error():
    with pytest.raises(SourceError) as info:
        reader_for(None).load()
    assert info.value.exit_code == 2 and "no DataFrame was given" in info.value.message and "frames=" in info.value.hint


def test_a_frame_is_never_cached(tmp_path):
    loaded = load_spec({"sources": {"train": {"kind": "frame"}}, "data": {"target": "species"}, "output": "out"}, base_dir=tmp_path, frames={"train": penguin_rows()})
    frames, infos = load_sources(loaded)
    assert len(frames["train"]) == 60 and not infos["train"].from_cache and infos["train"].kind == "frame"
    assert not cache.cache_dir(tmp_path / "out").exists()
    assert load_sources(loaded)[1]["train"].fingerprint == infos["train"].fingerprint


def test_load_sources_without_the_frame_is_located(tmp_path):
    (tmp_path / "spec.yaml").write_text("sources:\n  train: {kind: frame}\ndata: {target: species}\n")
    with pytest.raises(UsageError, match=r"spec.yaml:2:\d+: sources.train: no DataFrame was given"):
        load_sources(load_spec(tmp_path / "spec.yaml"))


def test_an_empty_frame_says_so():
    loaded = load_spec({"sources": {"train": {"kind": "frame"}}, "data": {"target": "species"}}, frames={"train": penguin_rows().head(0)})
    with pytest.raises(SourceError, match="has no rows") as info:
        load_sources(loaded)
    assert info.value.hint == "check the DataFrame given for it"


def test_joins_drop_and_types_work_as_for_any_source(tmp_path):
    pd.DataFrame({"island": ["Biscoe", "Dream", "Torgersen"], "area_km2": [3.1, 2.2, 1.3]}).to_csv(tmp_path / "islands.csv", index=False)
    spec = {
        "sources": {"penguins": {"kind": "frame"}, "islands": "islands.csv"},
        "data": {"from": "penguins", "join": [{"source": "islands", "on": "island"}], "target": "species", "drop": ["id"], "types": {"mass": "categorical"}},
        "search": {"cv": {"folds": 3}},
    }
    dataset = build_dataset(load_spec(spec, base_dir=tmp_path, frames={"penguins": penguin_rows()}))
    assert set(dataset.column_types) == {"island", "mass", "area_km2"}
    assert dataset.column_types["mass"] == "categorical"
    assert len(dataset.X_train) + len(dataset.X_test) == 60
    assert dataset.sources["penguins"].description == "frame 'penguins' (DataFrame, 60 rows x 4 columns)"
