"""``mlx validate --check-data``: names checked against the sources, problems located."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from automl_yaml.data import check_data
from automl_yaml.spec import load_spec, validate

PEOPLE = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6], "age": [30, 41, 52, 33, 24, 65], "city_id": [1, 2, 1, 2, 1, 2], "label": ["a", "b"] * 3})
CITIES = pd.DataFrame({"city_id": [1, 2], "city": ["Oslo", "Lima"]})


@pytest.fixture
def project(tmp_path):
    PEOPLE.to_csv(tmp_path / "people.csv", index=False)
    CITIES.to_parquet(tmp_path / "cities.parquet")
    return tmp_path


def write_spec(project, text: str):
    path = project / "spec.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return load_spec(path)


GOOD = """
sources:
  people: people.csv
  cities: cities.parquet
data:
  from: people
  join:
    - {source: cities, on: city_id}
  target: label
  drop: [id]
  types: {age: numeric}
  split: {by: group, column: city}
preprocess:
  columns:
    city: {encode: ordinal}
"""


def by_path(problems) -> dict:
    return {p.path: p for p in problems}


def test_a_matching_spec_has_no_problems(project):
    assert check_data(write_spec(project, GOOD)) == []


def test_wrong_names_are_located_with_suggestions(project):
    loaded = write_spec(
        project,
        """
        sources:
          people: people.csv
          cities: cities.parquet
        data:
          from: people
          join:
            - {source: cities, on: cityid}
          target: lable
          drop: [id, ag]
          types: {agee: numeric}
          split: {by: group, column: cty}
        preprocess:
          columns:
            citi: {encode: ordinal}
        """,
    )
    found = check_data(loaded)
    problems = by_path(found)
    assert set(problems) == {"data.join[0].on", "data.target", "data.drop[1]", "data.types.agee", "data.split.column", "preprocess.columns.citi"}
    assert all(p.severity == "error" for p in problems.values())
    expect = {
        "data.join[0].on": (7, "city_id"),
        "data.target": (8, "label"),
        "data.drop[1]": (9, "age"),
        "data.types.agee": (10, "age"),
        "data.split.column": (11, "city"),
        "preprocess.columns.citi": (14, "city"),
    }
    for path, (line, suggestion) in expect.items():
        p = problems[path]
        assert p.location.file.endswith("spec.yaml") and p.location.line == line, (path, p.location)
        assert f"'{suggestion}'" in p.hint, (path, p.hint)
    join_messages = [p.message for p in found if p.path == "data.join[0].on"]
    assert len(join_messages) == 2  # missing on both sides, both said
    assert "of the table so far" in join_messages[0] and "of source 'cities'" in join_messages[1]


def test_join_key_missing_on_the_right(project):
    CITIES.rename(columns={"city_id": "cid"}).to_parquet(project / "cities.parquet")
    problems = check_data(write_spec(project, GOOD))
    assert [p.path for p in problems] == ["data.join[0].on"]
    assert "source 'cities'" in problems[0].message


def test_an_unreadable_source_is_located_at_the_source(project):
    (project / "cities.parquet").unlink()
    (p,) = check_data(write_spec(project, GOOD))
    assert p.path == "sources.cities" and p.location.line == 3
    assert "file not found" in p.message


def test_unreachable_database_is_a_problem(project):
    loaded = write_spec(
        project,
        """
        sources:
          db: {url: "sqlite:///missing.db", table: t}
        data: {target: y}
        """,
    )
    (p,) = check_data(loaded)
    assert p.path == "sources.db" and "not found" in p.message


def test_task_is_checked_on_a_sample(project):
    loaded = write_spec(
        project,
        """
        sources: {people: people.csv}
        data: {target: label, task: regression}
        """,
    )
    (p,) = check_data(loaded)
    assert p.path == "data.task" and p.location.line == 2 and "not numeric" in p.message


def test_only_schemas_are_read(project, monkeypatch):
    loaded = write_spec(project, GOOD)
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("read a whole Parquet file"))
    assert check_data(loaded) == []


def test_validate_check_data_reports_them(project):
    (project / "spec.yaml").write_text(GOOD.lstrip().replace("target: label", "target: lbl"))
    report = validate(project / "spec.yaml", check_data=True)
    assert not report.ok
    assert [p.path for p in report.errors] == ["data.target"]
    assert report.errors[0].render().startswith(f"{project / 'spec.yaml'}:8:")


def test_folds_more_than_a_class_has_rows_are_found_as_the_run_finds_them(project, monkeypatch):
    """search.cv.folds: 4 with 3 rows of each class: check-data said valid, and the run stopped after loading the data."""
    text = """
        sources: {people: people.csv}
        data: {target: label}
        search: {cv: {folds: 4}}
        """
    (p,) = check_data(write_spec(project, text))
    assert p.path == "search.cv.folds" and p.location.line == 3 and p.severity == "error"
    assert p.message == "class 'a' has 3 rows in the table (and 1 more class); 4-fold cross-validation needs at least 4 of each class"
    assert check_data(write_spec(project, text.replace("folds: 4", "folds: 3"))) == []
    # only on a whole table: the first rows of a larger one do not count its classes
    import automl_yaml.data.check as check

    monkeypatch.setattr(check, "SAMPLE_ROWS", 6)
    assert check_data(write_spec(project, text)) == []


def test_a_positive_class_the_target_lacks_is_found_as_the_run_finds_it(project):
    import automl_yaml
    from automl_yaml.errors import AutomlYamlError

    text = """
        sources: {people: people.csv}
        data: {target: label, positive: c}
        tracking: false
        profile: false
        """
    (p,) = check_data(write_spec(project, text))
    assert p.path == "data.positive" and p.location.line == 2 and p.severity == "error"
    with pytest.raises(AutomlYamlError) as run:
        automl_yaml.run(project / "spec.yaml")
    assert run.value.message.endswith(f":2:33: data.positive: {p.message}")  # the run's words, at the same place
    assert check_data(write_spec(project, text.replace("positive: c", "positive: B"))) == []  # a class, any case


def test_a_positive_class_on_more_than_two_classes_is_a_warning(project):
    three = PEOPLE.assign(label=["a", "b", "c"] * 2)
    three.to_csv(project / "people.csv", index=False)
    (p,) = check_data(write_spec(project, "sources: {people: people.csv}\ndata: {target: label, positive: a}\n"))
    assert p.path == "data.positive" and p.severity == "warning"
    assert p.message.startswith("ignored: the target has 3 classes")


def test_a_typed_target_is_a_warning_and_not_read_as_that_type(project):
    text = "sources: {people: people.csv}\ndata: {target: label, types: {label: datetime}}\n"
    loaded = write_spec(project, text)
    (w,) = [p for p in loaded.warnings if p.path == "data.types.label"]
    assert "does not apply to the target" in w.message and w.hint == "remove it from data.types"
    assert check_data(loaded) == []  # the run never reads 'a', 'b' as dates: neither does the check
    numeric = write_spec(project, text.replace("datetime", "numeric"))
    (w,) = [p for p in numeric.warnings if p.path == "data.types.label"]
    assert w.hint == "remove it and set data.task: regression"


@pytest.mark.parametrize(
    "values, problem",
    [
        (["x1", "x2", "x3", "x4", "x5", "x6"], True),
        ([f"2024-01-0{i}" for i in range(1, 7)], False),
        (["3 h", "4 h", "5 h", "6 h", "7 h", "8 h"], False),  # durations: the run reads them as numbers
    ],
    ids=["text", "dates", "durations"],
)
def test_a_time_split_on_a_column_that_is_not_dates_or_numbers_is_found(project, values, problem):
    PEOPLE.assign(when=values).to_csv(project / "people.csv", index=False)
    text = "sources: {people: people.csv}\ndata:\n  target: label\n  split: {by: time, column: when}\n"
    found = check_data(write_spec(project, text))
    if not problem:
        assert found == []
        return
    (p,) = found
    assert (p.path, p.location.line, p.severity) == ("data.split.column", 4, "error")
    assert p.message == "'when' holds values that are not dates or numbers"  # the run's message (assemble._split_rows)


@pytest.mark.parametrize(
    "rows,path,message",
    [
        ("x,y\n1,\n2,\n3,\n4,\n", "data.target", "the target 'y' has no values (all 4 rows are empty)"),
        ("x,y\n1,a\n2,a\n3,a\n4,\n5,a\n", "data.target", "the target 'y' has one class only ('a' on all 4 rows)"),
        ("x,y\n1,2.5\n2,2.5\n3,2.5\n", "data.target", "the target 'y' has one value only (2.5 on all 3 rows)"),
        ("x,y\n", "sources.d", "has no rows"),
    ],
    ids=["all-missing", "one-class", "one-value", "empty"],
)
def test_a_table_the_run_refuses_is_not_valid(project, rows, path, message):
    """An all-missing target, a single class and an empty table passed --check-data (exit 0) and failed at `mlx run`."""
    from automl_yaml.data import build_dataset
    from automl_yaml.errors import AutomlYamlError

    (project / "t.csv").write_text(rows)
    extra = "  task: regression\n" if "one value" in message else ""
    loaded = write_spec(project, f"sources: {{d: t.csv}}\ndata:\n  target: y\n{extra}output: out\n")
    with pytest.raises(AutomlYamlError) as err:
        build_dataset(loaded, cache=False)
    assert message in err.value.message  # what the run says
    report = validate(project / "spec.yaml", check_data=True)
    assert not report.ok
    assert [(p.path, p.severity) for p in report.problems] == [(path, "error")]
    assert message in report.problems[0].message
    assert report.problems[0].location.line == (3 if path == "data.target" else 1)


def test_a_larger_table_whose_first_rows_have_one_class_is_valid(project, monkeypatch):
    import automl_yaml.data.check as check

    (project / "t.csv").write_text("x,y\n" + "".join(f"{i},a\n" for i in range(6)) + "6,b\n")
    monkeypatch.setattr(check, "SAMPLE_ROWS", 6)  # the first 6 rows: one class, but not the whole table
    assert check_data(write_spec(project, "sources: {d: t.csv}\ndata: {target: y}\n")) == []


def test_a_missing_file_is_reported_once(project):
    """Without --check-data a warning (the file may come later); with it, the source's error alone (it was both)."""
    (project / "spec.yaml").write_text("sources: {d: nothing.csv}\ndata: {target: y}\n")
    (warning,) = validate(project / "spec.yaml").problems
    assert warning.severity == "warning" and "not found" in warning.message
    (error,) = validate(project / "spec.yaml", check_data=True).problems
    assert error.severity == "error" and error.path == "sources.d" and "file not found" in error.message
