"""SQL sources: real PostgreSQL over TCP (psycopg 3) and real SQLite files."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
import sqlalchemy as sa
from fixtures.services import PG_PASSWORD, unique_name

from automl_yaml.data import load_sources
from automl_yaml.data.sources import SqlSource
from automl_yaml.errors import EXIT_RUNTIME, EXIT_USAGE, SourceError
from automl_yaml.spec import load_spec
from automl_yaml.spec import models as M

ROWS = pd.DataFrame({"id": range(1, 11), "score": [i / 4 for i in range(10)], "label": ["yes", "no"] * 5})


def sql_source(tmp_path, name="db", **fields) -> SqlSource:
    return SqlSource(name, M.SqlSource.model_validate(fields), base_dir=tmp_path)


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg(postgres_url):
    """A fresh table of ROWS in the test database; yields (url, table, engine)."""
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    table = unique_name("rows")
    ROWS.to_sql(table, engine, index=False)
    yield postgres_url, table, engine
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    engine.dispose()


def count_rows(engine, table) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()


pytestmark = pytest.mark.services


def test_plain_postgresql_url_uses_psycopg(tmp_path, pg):
    url, table, _ = pg
    src = sql_source(tmp_path, url=url, table=table)
    assert src.engine().url.drivername == "postgresql+psycopg"
    pd.testing.assert_frame_equal(src.load(), ROWS, check_dtype=False)


@pytest.mark.parametrize("how", ["attribute", "dotted"])
def test_table_in_a_schema(tmp_path, pg, how):
    url, table, _ = pg
    fields = {"table": table, "schema": "public"} if how == "attribute" else {"table": f"public.{table}"}
    src = sql_source(tmp_path, url=url, **fields)
    assert len(src.load()) == len(ROWS)
    assert "public." + table in src.describe()


def test_query_with_bound_params_reads_in_chunks(tmp_path, pg, recorder):
    url, table, _ = pg
    src = sql_source(tmp_path, url=url, query=f"SELECT id, label FROM {table} WHERE id > :lo AND label = :lab ORDER BY id;", params={"lo": 2, "lab": "yes"}, chunksize=2)
    frame = src.load(progress=recorder)
    assert frame["id"].tolist() == [3, 5, 7, 9]
    assert recorder.advances == [2, 2]  # two round trips of `chunksize` rows
    (task,) = recorder.tasks.values()
    assert task["total"] == task["completed"] == 4


def test_params_are_bound_not_pasted(tmp_path, pg):
    url, table, engine = pg
    src = sql_source(tmp_path, url=url, query=f"SELECT * FROM {table} WHERE label = :lab", params={"lab": "x' OR '1'='1"})
    assert src.head().empty
    assert count_rows(engine, table) == len(ROWS)


def test_schema_without_reading_the_table(tmp_path, pg):
    url, table, _ = pg
    src = sql_source(tmp_path, url=url, table=table)
    assert src.schema() == {"id": "int64", "score": "float64", "label": str(src.load()["label"].dtype)}


def test_fingerprint_follows_rows_and_params(tmp_path, pg):
    url, table, engine = pg
    q = f"SELECT * FROM {table} WHERE id > :lo"
    a = sql_source(tmp_path, url=url, query=q, params={"lo": 0})
    assert a.fingerprint() == sql_source(tmp_path, url=url, query=q, params={"lo": 0}).fingerprint()
    assert a.fingerprint() != sql_source(tmp_path, url=url, query=q, params={"lo": 5}).fingerprint()
    before = sql_source(tmp_path, url=url, table=table).fingerprint()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (99, 1.0, 'yes')")
    assert sql_source(tmp_path, url=url, table=table).fingerprint() != before


@pytest.mark.parametrize(
    "query",
    [
        "INSERT INTO {t} (id, score, label) VALUES (100, 0, 'x') RETURNING id",
        "DELETE FROM {t} RETURNING *",
        "WITH d AS (DELETE FROM {t} RETURNING *) SELECT * FROM d",
        "CREATE TABLE {t}_copy AS SELECT * FROM {t}",
        "SELECT 1 AS one; COMMIT; DELETE FROM {t}",
        "UPDATE {t} SET score = 0 RETURNING id",
        # closes the count's sub-query and re-opens the session for writing
        "SELECT 1 AS one) AS x; COMMIT; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; COMMIT; DELETE FROM {t}; SELECT * FROM (SELECT 1 AS one",
    ],
)
def test_a_query_that_writes_fails_and_changes_nothing(tmp_path, pg, query):
    url, table, engine = pg
    src = sql_source(tmp_path, url=url, query=query.format(t=table))
    with pytest.raises(SourceError) as err:
        src.load()
    assert err.value.exit_code == EXIT_USAGE
    assert count_rows(engine, table) == len(ROWS)
    with engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT to_regclass('{table}_copy')").scalar() is None
        assert conn.exec_driver_sql(f"SELECT sum(score) FROM {table}").scalar() == ROWS.score.sum()


def test_write_error_says_sources_are_read_only(tmp_path, pg):
    url, table, _ = pg
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url=url, query=f"DELETE FROM {table} RETURNING id").load()
    assert "only ever read" in err.value.message or "SELECT" in err.value.render()


def test_wrong_password_is_masked(tmp_path, postgres_url):
    bad = postgres_url.replace(PG_PASSWORD, "Wr0ng-Passw0rd")
    src = sql_source(tmp_path, "warehouse", url=bad, table="whatever")
    with pytest.raises(SourceError) as err:
        src.fingerprint()
    text = err.value.render()
    assert err.value.exit_code == EXIT_RUNTIME
    assert "Wr0ng-Passw0rd" not in text and PG_PASSWORD not in text
    assert "***" in text and "source 'warehouse'" in text
    assert "password" in err.value.hint
    assert "Wr0ng-Passw0rd" not in src.describe() and "***" in src.describe()


def test_password_from_the_environment_never_shows(tmp_path, postgres_url):
    masked = postgres_url.replace(PG_PASSWORD, "${PGPASS}")
    spec = {"sources": {"db": {"url": masked, "query": "SELECT * FROM no_such_table_here"}}, "data": {"target": "y"}, "output": str(tmp_path)}
    loaded = load_spec(spec, environ={"PGPASS": PG_PASSWORD})
    with pytest.raises(SourceError) as err:
        load_sources(loaded, cache=False)
    assert PG_PASSWORD not in err.value.render()
    assert "no_such_table_here" in err.value.message
    assert err.value.exit_code == EXIT_USAGE


def test_duplicate_column_names_are_refused(tmp_path, pg):
    url, table, _ = pg
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url=url, query=f"SELECT a.id, b.id FROM {table} a JOIN {table} b ON a.id = b.id").load()
    assert "two columns are named 'id'" in err.value.message and "AS" in err.value.hint


def test_url_encoded_password_is_masked_too(tmp_path):
    from fixtures.services import free_port

    src = sql_source(tmp_path, url=f"postgresql://u:p%40ss%2Fw0rd@127.0.0.1:{free_port()}/db", table="t")
    with pytest.raises(SourceError) as err:
        src.load()
    text = err.value.render() + src.describe()
    assert "p%40ss" not in text and "p@ss/w0rd" not in text


def test_unreachable_server(tmp_path):
    from fixtures.services import free_port

    src = sql_source(tmp_path, url=f"postgresql://u:Secr3t-pw@127.0.0.1:{free_port()}/db", table="t")
    with pytest.raises(SourceError) as err:
        src.load()
    assert "cannot connect" in err.value.message and "Secr3t-pw" not in err.value.render()


def test_missing_table_suggests_a_close_one(tmp_path, pg):
    url, table, _ = pg
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url=url, table=table + "x").load()
    assert f"no table {table}x" in err.value.message
    assert table in err.value.hint
    assert err.value.exit_code == EXIT_USAGE


def test_bad_sql_and_missing_param_are_usage_errors(tmp_path, pg):
    url, table, _ = pg
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url=url, query=f"SELEC * FROM {table}").load()
    assert "syntax error" in err.value.message and err.value.exit_code == EXIT_USAGE
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url=url, query=f"SELECT * FROM {table} WHERE id = :id").load()
    assert ":id" in err.value.message and "params" in err.value.hint


def test_check_data_shows_the_database_reason_for_a_failed_query(tmp_path, pg):
    """validate --check-data reads the first rows through pandas, whose error held only the statement's first line."""
    from automl_yaml.data.check import check_data

    url, table, _ = pg
    spec = {"sources": {"db": {"url": url, "query": f"SELECT id, no_such_column FROM {table}"}}, "data": {"target": "label"}}
    problems = check_data(load_spec(spec))
    assert [p.path for p in problems] == ["sources.db"]
    assert 'column "no_such_column" does not exist' in problems[0].message
    assert "Execution failed" not in problems[0].message and PG_PASSWORD not in problems[0].render()


def test_empty_result_is_an_error_naming_the_source(tmp_path, pg):
    url, table, _ = pg
    spec = {"sources": {"db": {"url": url, "query": f"SELECT * FROM {table} WHERE id < 0"}}, "data": {"target": "label"}, "output": str(tmp_path)}
    with pytest.raises(SourceError) as err:
        load_sources(load_spec(spec), cache=False)
    assert "source 'db'" in err.value.message and "no rows" in err.value.message
    assert PG_PASSWORD not in err.value.render()


# ------------------------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_db(tmp_path):
    path = tmp_path / "zoo.db"
    with sqlite3.connect(path) as con:
        ROWS.to_sql("rows", con, index=False)
    con.close()
    return path


def test_sqlite_relative_path_and_query(tmp_path, sqlite_db):
    src = sql_source(tmp_path, url="sqlite:///zoo.db", query="SELECT * FROM rows WHERE score >= :s", params={"s": 1.0})
    assert src.load()["id"].tolist() == [5, 6, 7, 8, 9, 10]


def test_sqlite_is_shown_as_written(tmp_path, sqlite_db):
    """The connection is a read-only file: URI (file%3A///...%3Fmode%3Dro?uri=true); messages show the spec's URL."""
    src = sql_source(tmp_path, url="sqlite:///zoo.db", table="rows")
    assert src.describe() == "sql sqlite:///zoo.db table rows"


@pytest.mark.parametrize("query", ["INSERT INTO rows VALUES (100, 0, 'x') RETURNING id", "DELETE FROM rows", "CREATE TABLE t2 AS SELECT 1", "SELECT 1; DELETE FROM rows"])
def test_sqlite_is_opened_read_only(tmp_path, sqlite_db, query):
    before = sqlite_db.read_bytes()
    with pytest.raises(SourceError):
        sql_source(tmp_path, url=f"sqlite:///{sqlite_db}", query=query).load()
    assert sqlite_db.read_bytes() == before


def test_sqlite_head_of_a_failed_query_shows_the_reason(tmp_path, sqlite_db):
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url="sqlite:///zoo.db", query="SELECT id, no_such_column FROM rows").head(5)
    assert "no such column: no_such_column" in err.value.message and err.value.exit_code == EXIT_USAGE


def test_missing_sqlite_file_is_not_created(tmp_path):
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url="sqlite:///nothing.db", table="t").load()
    assert "not found" in err.value.message
    assert not (tmp_path / "nothing.db").exists()


def test_unparseable_url(tmp_path):
    with pytest.raises(SourceError) as err:
        sql_source(tmp_path, url="not a url at all", table="t").load()
    assert err.value.exit_code == EXIT_USAGE


@pytest.fixture
def calls():
    """The values ``tick(value)`` was called with, on every SQLite connection opened meanwhile (``tick`` returns 1)."""
    seen: list = []

    def register(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.create_function("tick", 1, lambda v: seen.append(v) or 1)

    sa.event.listen(sa.engine.Engine, "connect", register)
    yield seen
    sa.event.remove(sa.engine.Engine, "connect", register)


def test_a_query_is_run_once(tmp_path, sqlite_db, calls, recorder):
    """No COUNT(*) before the read: the query's function is called once per row, on every load (a query is not cached)."""
    spec = {
        "sources": {"db": {"url": "sqlite:///zoo.db", "query": "SELECT * FROM rows WHERE tick(id) = 1 ORDER BY id", "chunksize": 4}},
        "data": {"target": "label"},
        "output": str(tmp_path / "out"),
    }
    loaded = load_spec(spec, base_dir=tmp_path)
    frames, infos = load_sources(loaded, progress=recorder)
    assert sorted(calls) == list(range(1, 11))  # each row once: one run of the query
    assert frames["db"]["id"].tolist() == list(range(1, 11))
    assert recorder.advances == [4, 4, 2]
    (task,) = recorder.tasks.values()
    assert task["total"] == task["completed"] == 10  # counted as the rows arrived
    # the fingerprint is the one a COUNT(*) gives, so it still moves with the rows
    calls.clear()
    assert infos["db"].fingerprint == sql_source(tmp_path, url="sqlite:///zoo.db", query="SELECT * FROM rows WHERE tick(id) = 1 ORDER BY id").fingerprint()
    assert len(calls) == 10  # that standalone fingerprint is the count
    calls.clear()
    _, again = load_sources(loaded)
    assert len(calls) == 10 and not again["db"].from_cache and again["db"].fingerprint == infos["db"].fingerprint

