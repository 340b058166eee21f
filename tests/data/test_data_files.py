"""File sources: formats, compression, reader options, Excel sheets, bad inputs."""

from __future__ import annotations

import bz2
import functools
import gzip
import http.server
import lzma
import threading
import zipfile

import pandas as pd
import pyarrow as pa
import pytest

from automl_yaml.data.sources import FileSource
from automl_yaml.errors import EXIT_RUNTIME, EXIT_USAGE, SourceError
from automl_yaml.spec import models as M

FRAME = pd.DataFrame({"id": [1, 2, 3], "price": [9.5, 10.25, 3.0], "city": ["Oslo", "Lima", "Pune"]})


def file_source(tmp_path, name: str = "f", **fields) -> FileSource:
    return FileSource(name, M.FileSource.model_validate(fields), base_dir=tmp_path)


def csv_bytes(frame: pd.DataFrame = FRAME, **kw) -> bytes:
    return frame.to_csv(index=False, **kw).encode()


# ------------------------------------------------------------------------- compression


def _zip(data: bytes) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("table.csv", data)
    return buf.getvalue()


def _zstd(data: bytes) -> bytes:
    out = pa.BufferOutputStream()
    with pa.CompressedOutputStream(out, "zstd") as z:
        z.write(data)
    return out.getvalue().to_pybytes()


@pytest.mark.parametrize(
    "suffix,compress",
    [(".csv.gz", gzip.compress), (".csv.bz2", bz2.compress), (".csv.zip", _zip), (".csv.zst", _zstd), (".csv.xz", lzma.compress)],
)
def test_compressed_csv_is_read(tmp_path, suffix, compress):
    (tmp_path / f"t{suffix}").write_bytes(compress(csv_bytes()))
    src = file_source(tmp_path, path=f"t{suffix}")
    assert src.format == "csv" and src.compression
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)
    pd.testing.assert_frame_equal(src.head(2), FRAME.head(2), check_dtype=False)


@pytest.mark.parametrize("suffix,compress,lines", [(".json.gz", gzip.compress, False), (".jsonl.zst", _zstd, True)])
def test_compressed_json_is_read(tmp_path, suffix, compress, lines):
    (tmp_path / f"t{suffix}").write_bytes(compress(FRAME.to_json(orient="records", lines=lines).encode()))
    src = file_source(tmp_path, path=f"t{suffix}")
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)


@pytest.mark.parametrize(
    "name,compress,word,suffix",
    [
        ("t.csv", gzip.compress, "gzip", ".gz"),
        ("t.tsv", bz2.compress, "bz2", ".bz2"),
        ("t.csv", lzma.compress, "xz", ".xz"),
        ("t.jsonl", _zstd, "zstd", ".zst"),
        ("t.csv", _zip, "zip", ".zip"),
    ],
)
def test_a_compressed_file_without_its_suffix_is_named_as_such(tmp_path, name, compress, word, suffix):
    """A gzip file named .csv was read as Latin-1 text: a tokenizer error or 'no rows'."""
    (tmp_path / name).write_bytes(compress(csv_bytes()))
    src = file_source(tmp_path, path=name)
    for read in (src.load, src.schema):
        with pytest.raises(SourceError) as err:
            read()
        assert f"'{name}' is {word}-compressed" in err.value.message
        assert f"{name}{suffix}" in err.value.hint and err.value.exit_code == EXIT_USAGE


def test_a_text_that_starts_like_a_compressed_file_is_read(tmp_path):
    (tmp_path / "t.csv").write_text("BZh,PK\n1,2\n")
    assert file_source(tmp_path, path="t.csv").load().columns.tolist() == ["BZh", "PK"]


def test_compressed_parquet_is_refused_with_a_hint(tmp_path):
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.parquet.gz")
    assert "compressed inside" in err.value.message
    assert err.value.exit_code == EXIT_USAGE


# ------------------------------------------------------------------------ reader options


def test_sep_encoding_and_pandas_options(tmp_path):
    text = "id;price;city\n1;9,5;Tromsø\n2;10,25;Málaga\n"
    (tmp_path / "t.csv").write_bytes(text.encode("latin-1"))
    src = file_source(tmp_path, path="t.csv", sep=";", encoding="latin-1", options={"decimal": ","})
    frame = src.load()
    assert frame["price"].tolist() == [9.5, 10.25]
    assert frame["city"].tolist() == ["Tromsø", "Málaga"]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_separated_otherwise_is_read_without_sep(tmp_path, sep):
    # A spreadsheet in a European locale writes ';' and decimal commas; read with
    # commas its header was one column 'id;price;city' (and rows with a decimal
    # comma made pandas take two columns for an index).
    text = f"id{sep}price{sep}city\n1{sep}9,5{sep}Oslo\n2{sep}10,25{sep}Lima\n"
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(text.encode()))
    src = file_source(tmp_path, path="t.csv.gz", columns=["id", "price"])
    assert list(src.load().columns) == ["id", "price"]
    assert src.load()["price"].tolist() == ["9,5", "10,25"]  # numbers written so are read by the assembly (test_data_messy)
    assert f"sep {sep!r}" in src.describe()
    assert list(file_source(tmp_path, path="t.csv.gz").schema()) == ["id", "price", "city"]


def test_a_comma_csv_is_not_resplit(tmp_path):
    # Commas on the first line: the file is comma-separated, whatever else its fields hold.
    (tmp_path / "t.csv").write_text("name,note\nA;B,x|y\n")
    src = file_source(tmp_path, path="t.csv")
    assert src.load().to_dict("records") == [{"name": "A;B", "note": "x|y"}]
    assert "sep" not in src.describe()
    # An explicit sep (or options: {sep}) is never second-guessed.
    (tmp_path / "one.csv").write_text("a;b\n1;2\n")
    assert list(file_source(tmp_path, path="one.csv", options={"sep": ","}).load().columns) == ["a;b"]


def test_wrong_encoding_says_to_set_encoding(tmp_path):
    (tmp_path / "t.csv").write_bytes("id,city\n1,Málaga\n".encode("latin-1"))
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.csv", encoding="utf-8").load()
    assert "utf-8" in err.value.message and "encoding" in err.value.hint


def test_a_legacy_encoded_csv_is_read_without_encoding(tmp_path):
    # Excel on Windows saves CSV in Windows-1252 (the euro sign is byte 0x80, not in Latin-1):
    # it was "not valid utf-8 text" until `encoding:` was set.
    (tmp_path / "t.csv").write_bytes("prix;ville\n12 €;Málaga\n3 €;Zürich\n".encode("cp1252"))
    src = file_source(tmp_path, path="t.csv")
    assert src.load().to_dict("list") == {"prix": ["12 €", "3 €"], "ville": ["Málaga", "Zürich"]}
    assert "(csv, sep ';', encoding cp1252)" in src.describe()
    assert file_source(tmp_path, path="t.csv").schema() == {"prix": "str", "ville": "str"}
    # Bytes Windows-1252 leaves undefined (0x81) are read as Latin-1, which reads any byte.
    (tmp_path / "odd.csv").write_bytes(b"a,b\n\x81x,\xe9\n")
    src = file_source(tmp_path, path="odd.csv")
    assert src.load().to_dict("list") == {"a": ["\x81x"], "b": ["é"]}
    assert "encoding latin-1" in src.describe()


def test_columns_and_dtypes(tmp_path):
    frame = FRAME.assign(zip=["0150", "1500", "0042"])
    (tmp_path / "t.csv").write_bytes(csv_bytes(frame))
    src = file_source(tmp_path, path="t.csv", columns=["id", "zip"], dtypes={"zip": "str"})
    got = src.load()
    assert list(got.columns) == ["id", "zip"]
    assert got["zip"].tolist() == ["0150", "1500", "0042"]  # leading zeros kept
    assert list(src.schema()) == ["id", "zip"]


@pytest.mark.parametrize("fmt,suffix", [("parquet", ".parquet"), ("json", ".json"), ("excel", ".xlsx")])
def test_columns_and_dtypes_for_other_formats(tmp_path, fmt, suffix):
    path = tmp_path / f"t{suffix}"
    {"parquet": lambda: FRAME.to_parquet(path), "json": lambda: FRAME.to_json(path, orient="records"), "excel": lambda: FRAME.to_excel(path, index=False)}[fmt]()
    src = file_source(tmp_path, path=path.name, columns=["city", "id"], dtypes={"id": "float64"})
    got = src.load()
    assert sorted(got.columns) == ["city", "id"]
    assert got["id"].dtype == "float64"
    assert sorted(src.schema()) == ["city", "id"]


def test_format_option_overrides_the_suffix(tmp_path):
    (tmp_path / "export.txt").write_bytes(csv_bytes(sep="\t"))
    src = file_source(tmp_path, path="export.txt", format="tsv")
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)


def test_pyarrow_engine_can_be_asked_for(tmp_path):
    (tmp_path / "t.csv").write_bytes(csv_bytes())
    src = file_source(tmp_path, path="t.csv", options={"engine": "pyarrow"})
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)
    assert len(src.head(2)) == 2  # head falls back to the C engine (pyarrow cannot stop early)


def test_unknown_reader_option_is_a_usage_error(tmp_path):
    (tmp_path / "t.parquet").write_bytes(FRAME.to_parquet())
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.parquet", options={"no_such_option": 1}).load()
    assert "no_such_option" in err.value.message


def test_parquet_index_becomes_a_column(tmp_path):
    FRAME.set_index("id").to_parquet(tmp_path / "t.parquet")
    src = file_source(tmp_path, path="t.parquet")
    assert list(src.load().columns) == ["id", "price", "city"]
    assert list(src.schema()) == ["id", "price", "city"]
    assert list(src.head(2).columns) == ["id", "price", "city"]


def test_parquet_folder_dataset(tmp_path):
    folder = tmp_path / "parts.parquet"
    folder.mkdir()
    FRAME.iloc[:2].to_parquet(folder / "a.parquet", index=False)
    FRAME.iloc[2:].to_parquet(folder / "b.parquet", index=False)
    src = file_source(tmp_path, path="parts.parquet")
    assert sorted(src.load()["id"]) == [1, 2, 3]
    fp = src.fingerprint()
    FRAME.iloc[:1].to_parquet(folder / "c.parquet", index=False)
    assert src.fingerprint() != fp


def test_parquet_schema_reads_no_rows(tmp_path, monkeypatch):
    FRAME.to_parquet(tmp_path / "t.parquet")
    src = file_source(tmp_path, path="t.parquet")
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("schema() read the rows"))
    assert src.schema() == {"id": "int64", "price": "float64", "city": str(FRAME["city"].dtype)}


# ---------------------------------------------------------------------------------- Excel


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as w:
        FRAME.to_excel(w, sheet_name="summary", index=False)
        FRAME.assign(price=FRAME.price * 2).to_excel(w, sheet_name="prices", index=False)
    return path


def test_excel_sheet_by_name_and_index(tmp_path, workbook):
    by_name = file_source(tmp_path, path=workbook.name, sheet="prices").load()
    by_index = file_source(tmp_path, path=workbook.name, sheet=1).load()
    first = file_source(tmp_path, path=workbook.name).load()
    assert by_name["price"].tolist() == [19.0, 20.5, 6.0]
    pd.testing.assert_frame_equal(by_name, by_index)
    assert first["price"].tolist() == FRAME["price"].tolist()


def test_wrong_excel_sheet_suggests_the_close_one(tmp_path, workbook):
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path=workbook.name, sheet="price").load()
    assert "no sheet 'price'" in err.value.message
    assert "prices" in err.value.hint
    assert err.value.exit_code == EXIT_USAGE


def test_excel_sheet_index_out_of_range_lists_the_sheets(tmp_path, workbook):
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path=workbook.name, sheet=5).head()
    assert "summary" in err.value.hint and "prices" in err.value.hint


# ----------------------------------------------------------------------------- bad inputs


def test_missing_file_names_the_source_and_suggests(tmp_path):
    (tmp_path / "penguins.csv").write_bytes(csv_bytes())
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, "birds", path="penguin.csv").fingerprint()
    assert err.value.message.startswith("source 'birds': file not found")
    assert "penguins.csv" in err.value.hint
    assert err.value.exit_code == EXIT_RUNTIME


def test_missing_file_hint_names_the_spec_folder(tmp_path):
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="data/nothing.csv").load()
    assert str(tmp_path) in err.value.hint


def test_unknown_suffix_asks_for_format(tmp_path):
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="table.dat")
    assert "format" in err.value.hint
    assert err.value.exit_code == EXIT_USAGE


def test_garbage_parquet(tmp_path):
    (tmp_path / "t.parquet").write_bytes(b"this is not parquet at all")
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.parquet").load()
    assert "as Parquet" in err.value.message


def test_empty_csv(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"")
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.csv").load()
    assert "is empty" in err.value.message


def test_ragged_csv_is_a_parse_error(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.csv").load()
    assert "as CSV" in err.value.message and "sep" in err.value.hint


def test_json_that_is_not_a_table(tmp_path):
    (tmp_path / "t.json").write_text('"just a string"')
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.json").load()
    assert "JSON" in err.value.message


@pytest.mark.parametrize("fmt,suffix", [("csv", ".csv"), ("parquet", ".parquet"), ("json", ".json"), ("excel", ".xlsx")])
def test_unknown_column_in_columns_suggests(tmp_path, fmt, suffix):
    path = tmp_path / f"t{suffix}"
    {
        "csv": lambda: path.write_bytes(csv_bytes()),
        "parquet": lambda: FRAME.to_parquet(path),
        "json": lambda: FRAME.to_json(path, orient="records"),
        "excel": lambda: FRAME.to_excel(path, index=False),
    }[fmt]()
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path=path.name, columns=["id", "prize"]).load()
    assert "'prize'" in err.value.message
    assert "price" in err.value.hint
    assert err.value.exit_code == EXIT_USAGE


def test_a_folder_is_not_a_csv(tmp_path):
    (tmp_path / "t.csv").mkdir()
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path="t.csv").load()
    assert "folder" in err.value.message


# ---------------------------------------------------------------------------- fingerprint


def test_fingerprint_follows_content_not_mtime_for_small_files(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes())
    src = file_source(tmp_path, path="t.csv")
    fp = src.fingerprint()
    import os

    os.utime(path, ns=(1, 1))
    assert src.fingerprint() == fp  # touched, same bytes
    path.write_bytes(csv_bytes(FRAME.assign(price=0.0)))
    assert src.fingerprint() != fp


def test_fingerprint_of_large_files_is_size_and_mtime(tmp_path, monkeypatch):
    import automl_yaml.data.sources as S

    monkeypatch.setattr(S, "CONTENT_HASH_LIMIT", 10)
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes())
    src = file_source(tmp_path, path="t.csv")
    fp = src.fingerprint()
    import os

    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert src.fingerprint() != fp


def test_fingerprint_follows_reader_options(tmp_path):
    (tmp_path / "t.csv").write_bytes(csv_bytes())
    a = file_source(tmp_path, path="t.csv").fingerprint()
    b = file_source(tmp_path, path="t.csv", columns=["id"]).fingerprint()
    assert a != b


# --------------------------------------------------------------------------------- http


@pytest.fixture
def http_dir(tmp_path):
    """A local HTTP server over tmp_path (fsspec's HTTP file system, no network)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_csv_through_fsspec(tmp_path, http_dir):
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(csv_bytes()))
    src = file_source(tmp_path, path=f"{http_dir}/t.csv.gz")
    assert src.remote
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)
    assert src.fingerprint() == src.fingerprint()


def test_signed_url_query_is_ignored_for_the_format_and_masked(tmp_path, http_dir):
    (tmp_path / "t.csv").write_bytes(csv_bytes())
    src = file_source(tmp_path, path=f"{http_dir}/t.csv?X-Amz-Signature=abc123secret&token=tok456secret&v=2")
    assert src.format == "csv"
    pd.testing.assert_frame_equal(src.load(), FRAME, check_dtype=False)
    assert "abc123secret" not in src.describe() and "tok456secret" not in src.describe() and "v=2" in src.describe()


def test_http_missing_file(tmp_path, http_dir):
    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path=f"{http_dir}/nope.csv").load()
    assert "nope.csv" in err.value.message


def test_unreachable_http_server(tmp_path):
    from fixtures.services import free_port

    with pytest.raises(SourceError) as err:
        file_source(tmp_path, path=f"http://127.0.0.1:{free_port()}/t.csv").load()
    assert "127.0.0.1" in err.value.message
