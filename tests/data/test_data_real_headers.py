"""A CSV or Excel header that names two columns the same.

pandas reads the second ``price`` as ``price.1``; the spec's ``price`` (the
target, a drop, a type) then silently meant the first one. It is an error,
as it already was for a SQL result or a DataFrame, naming the columns.
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from automl_yaml.cli import main
from automl_yaml.data.sources import FileSource
from automl_yaml.errors import EXIT_RUNTIME, EXIT_USAGE, SourceError
from automl_yaml.spec import models as M

ROWS = "".join(f"{i},{i % 3},{i * 2},{i % 2}\n" for i in range(30))


def file_source(tmp_path, name: str = "f", **fields) -> FileSource:
    return FileSource(name, M.FileSource.model_validate(fields), base_dir=tmp_path)


@pytest.mark.parametrize("suffix,write", [(".csv", str.encode), (".csv.gz", lambda t: gzip.compress(t.encode())), (".tsv", None)])
def test_a_repeated_name_in_a_csv_header_is_an_error_naming_it(tmp_path, suffix, write):
    text = "price,qty,price,y\n" + ROWS
    if suffix == ".tsv":
        data = text.replace(",", "\t").encode()
    else:
        data = write(text)
    (tmp_path / f"t{suffix}").write_bytes(data)
    src = file_source(tmp_path, path=f"t{suffix}")
    with pytest.raises(SourceError) as info:
        src.load()
    assert "has two columns named 'price' (pandas would read the second as 'price.1')" in info.value.message
    assert "options: {names: [...], header: 0}" in info.value.hint
    assert info.value.exit_code == EXIT_RUNTIME
    with pytest.raises(SourceError, match="two columns named 'price'"):
        src.head(5)  # --check-data reads the head


def test_a_repeated_name_in_an_excel_header_is_an_error(tmp_path):
    frame = pd.DataFrame([[1, 2, 3, 0], [4, 5, 6, 1]], columns=["a", "b", "a", "y"])
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    with pytest.raises(SourceError, match=r"has two columns named 'a' \(pandas would read the second as 'a.1'\)"):
        file_source(tmp_path, path="t.xlsx").load()


def test_names_that_only_look_renamed_are_read(tmp_path):
    (tmp_path / "t.csv").write_text("a,a.1,v.2,y\n" + ROWS)
    assert list(file_source(tmp_path, path="t.csv").load().columns) == ["a", "a.1", "v.2", "y"]
    (tmp_path / "s.csv").write_text("a;b;a;y\n1;2;3;0\n")  # a ';' file: the header read again with its separator
    with pytest.raises(SourceError, match="two columns named 'a'"):
        file_source(tmp_path, path="s.csv").load()


def test_the_hint_works_and_columns_can_skip_the_repeated_one(tmp_path):
    (tmp_path / "t.csv").write_text("price,qty,price,y\n" + ROWS)
    named = file_source(tmp_path, path="t.csv", options={"names": ["price", "qty", "price_eur", "y"], "header": 0}).load()
    assert list(named.columns) == ["price", "qty", "price_eur", "y"] and named["price_eur"].tolist()[:3] == [0, 2, 4]
    assert list(file_source(tmp_path, path="t.csv", columns=["qty", "y"]).load().columns) == ["qty", "y"]


def test_mlx_run_stops_with_one_message(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("price,qty,price,y\n" + ROWS)
    (tmp_path / "spec.yaml").write_text("sources: {d: t.csv}\ndata: {target: y}\ntracking: false\nsearch: {budget: {trials: 1}}\n")
    assert main(["run", str(tmp_path / "spec.yaml"), "-q"]) == EXIT_RUNTIME
    err = capsys.readouterr().err
    assert "source 'd': the header row of file" in err and "has two columns named 'price'" in err
    assert "Traceback" not in err and not (tmp_path / "runs" / "spec" / "model").exists()


# ------------------------------------------------------------------------ a title line


@pytest.mark.parametrize(
    "first,extra",
    [("Sales report generated 2024-01-01", ""), ("# exported by tool v1.2", " (or comment: '#' for lines starting with #)")],
)
def test_a_title_line_above_the_header_is_an_error_saying_to_skip_it(tmp_path, first, extra):
    # pandas took the title for the header: one column, and 'y' was "not a column" (known: level_0, level_1...)
    (tmp_path / "t.csv").write_text(f"{first}\nprice,qty,city,y\n" + ROWS)
    with pytest.raises(SourceError) as info:
        file_source(tmp_path, path="t.csv").load()
    assert f"is {first!r}, one field, and the next has 4 ('price', 'qty', 'city', 'y'): a title above the header?" in info.value.message
    assert info.value.hint == "skip it with options: {skiprows: 1}" + extra
    assert info.value.exit_code == EXIT_USAGE
    frame = file_source(tmp_path, path="t.csv", options={"skiprows": 1}).load()
    assert list(frame.columns) == ["price", "qty", "city", "y"] and len(frame) == 30


def test_row_names_and_one_column_files_are_read(tmp_path):
    (tmp_path / "r.csv").write_text("x\na,1\nb,2\n")  # R's write.table: a header one field short, row names first
    assert file_source(tmp_path, path="r.csv").load()["x"].tolist() == [1, 2]
    (tmp_path / "one.csv").write_text("Report\n1\n2\n")  # one column of numbers
    assert file_source(tmp_path, path="one.csv").load()["Report"].tolist() == [1, 2]


def test_check_data_and_run_say_it(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("Sales report\nprice,qty,city,y\n" + ROWS)
    (tmp_path / "spec.yaml").write_text("sources: {d: t.csv}\ndata: {target: y}\ntracking: false\n")
    assert main(["validate", "--check-data", str(tmp_path / "spec.yaml")]) == EXIT_USAGE
    assert "spec.yaml:1:14: sources.d: source 'd': the first line of file" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "spec.yaml"), "-q"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("a title above the header?") == 1 and "Traceback" not in err
