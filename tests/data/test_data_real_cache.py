"""A table Parquet cannot hold (a JSON column of numbers and text) is not cached, and the message says why in words."""

from __future__ import annotations

import logging

import pandas as pd

from automl_yaml.data import cache


def test_a_mixed_column_is_named_in_the_message(tmp_path, caplog):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "m": [1, "s2", 3]})
    with caplog.at_level(logging.WARNING, logger="automl_yaml.data.cache"):
        assert cache.write(tmp_path, "d", "abc123", frame) is None
    # was: ("Expected bytes, got a 'int' object", 'Conversion failed for column m with type object')
    assert caplog.messages == [
        "source 'd' is not cached (it is read again next run): column 'm' holds values of several types (int, str); Parquet keeps one type per column"
    ]
    assert not list(cache.cache_dir(tmp_path).glob("*.parquet")) and not list(cache.cache_dir(tmp_path).glob("*.tmp"))
    assert cache.write(tmp_path, "d", "abc123", frame.assign(m=["1", "s2", "3"])) is not None
