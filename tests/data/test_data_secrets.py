"""Secrets from ${VAR}: masked, exactly, in every message; a password with URL-special characters works.

Real PostgreSQL roles are made with each password (the ``postgres_url``
fixture's server), and the ``mlx`` commands run as subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from fixtures.services import PG_DATABASE, PG_HOST, PG_PORT, _psql, unique_name

from automl_yaml.data import load_sources
from automl_yaml.errors import EXIT_RUNTIME, EXIT_USAGE, Problem, SourceError
from automl_yaml.spec import load_spec, mask_url

#: Every character with a meaning in a URL, and quotes, a space and a backslash.
SPECIAL = ["@", ":", "/", "?", "#", "[", "]", "%", "+", "&", "=", " ", "'", '"', "\\", ";", ",", "$", "!", "*", "~", "%41"]


def secret_with(c: str) -> str:
    """A password whose two halves are both distinctive, so that a leaked half is seen."""
    return f"AAleak1{c}BBleak2"


def assert_hidden(text: str) -> None:
    assert "AAleak1" not in text and "BBleak2" not in text, text


@pytest.mark.parametrize("c", SPECIAL)
def test_a_secret_from_the_environment_is_masked_in_every_form(c):
    pw = secret_with(c)
    load_spec(
        {"sources": {"db": {"url": "postgresql://u:${PW}@db.example:5432/x", "table": "t"}}, "data": {"target": "y"}},
        environ={"PW": pw},
    )
    from urllib.parse import quote, quote_plus

    for form in (pw, quote(pw, safe=""), quote_plus(pw), json.dumps(pw), repr(pw)):
        err = SourceError(f"cannot use {form} here", hint=f"not {form}", source="db")
        assert_hidden(err.render() + json.dumps(err.to_dict()))
        problem = Problem(f"message {form}", hint=f"hint {form}")
        assert_hidden(problem.render() + json.dumps(problem.to_dict()) + problem.github())
        assert_hidden(mask_url(f"postgresql://u:{form}@host/db"))


def test_a_literal_url_password_with_an_at_is_masked_whole():
    assert mask_url("postgresql://u:AAlit1@BBlit2@host:5432/db") == "postgresql://u:***@host:5432/db"


def test_only_secrets_are_masked():
    load_spec(
        {"sources": {"d": {"path": "${DATA_DIR}/x.csv"}}, "data": {"target": "${TARGET}"}},
        environ={"DATA_DIR": "/srv/plainfolder", "TARGET": "plaincolumn"},
    )
    text = SourceError("no column plaincolumn in /srv/plainfolder/x.csv").render()
    assert "plaincolumn" in text and "/srv/plainfolder" in text


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def role(postgres_url):
    """A factory of PostgreSQL roles with a given password (dropped afterwards)."""
    made = []

    def make(password: str) -> str:
        name = unique_name("pw")
        literal = password.replace("'", "''")
        out = _psql(f"CREATE ROLE {name} LOGIN PASSWORD '{literal}'; GRANT CONNECT ON DATABASE {PG_DATABASE} TO {name}")
        assert out.returncode == 0, out.stderr
        made.append(name)
        return name

    yield make
    for name in made:
        _psql(f"DROP ROLE IF EXISTS {name}")


def spec_for(tmp_path, user: str, query: str) -> dict:
    url = f"postgresql://{user}:${{PGPASSWORD}}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
    return {"name": "secret", "sources": {"db": {"url": url, "query": query}}, "data": {"target": "y"}, "output": str(tmp_path / "out")}


pg = pytest.mark.services


@pg
@pytest.mark.parametrize("c", SPECIAL)
def test_a_password_with_special_characters_connects_and_never_shows(tmp_path, role, c):
    pw = secret_with(c)
    user = role(pw)
    loaded = load_spec(spec_for(tmp_path, user, "SELECT 1 AS x, 2 AS y"), environ={"PGPASSWORD": pw})
    frames, infos = load_sources(loaded, cache=False)  # the password reached the server as it is
    assert list(frames["db"].columns) == ["x", "y"]
    assert_hidden(repr(infos))

    loaded = load_spec(spec_for(tmp_path, user, "SELECT no_such_column FROM pg_class"), environ={"PGPASSWORD": pw})
    with pytest.raises(SourceError) as err:
        load_sources(loaded, cache=False)
    assert 'column "no_such_column" does not exist' in err.value.message  # the server's reason
    assert_hidden(err.value.render())


@pg
@pytest.mark.parametrize("c", ["@", "/", "#", "?", ":"])
def test_a_refused_password_never_shows_in_part(tmp_path, postgres_url, role, c):
    user = role("the-right-one")
    loaded = load_spec(spec_for(tmp_path, user, "SELECT 1 AS y"), environ={"PGPASSWORD": secret_with(c)})
    with pytest.raises(SourceError) as err:
        load_sources(loaded, cache=False)
    assert "password authentication failed" in err.value.message and err.value.exit_code == EXIT_RUNTIME
    assert_hidden(err.value.render())


def mlx(*args, cwd, password: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGPASSWORD": password, "MLX_DEBUG": ""}
    return subprocess.run([sys.executable, "-m", "automl_yaml", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pg
def test_no_command_shows_any_part_of_the_password(tmp_path, postgres_url, role):
    """The tester's case: a refused password with every special character, in every command and format."""
    user = role("the-right-one")
    password = "AAleak1" + "".join(SPECIAL) + "BBleak2"
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec_for(tmp_path, user, "SELECT 1 AS y")))
    runs = {
        "run": mlx("run", "spec.yaml", cwd=tmp_path, password=password),
        "profile": mlx("profile", "spec.yaml", cwd=tmp_path, password=password),
        "predict": mlx("predict", "-m", str(tmp_path / "out"), "-i", "spec.yaml:db", "-o", "p.csv", cwd=tmp_path, password=password),
    }
    for fmt in ("text", "json", "github"):
        runs[f"validate {fmt}"] = mlx("validate", "--check-data", "--format", fmt, "spec.yaml", cwd=tmp_path, password=password)
    for name, proc in runs.items():
        out = proc.stdout + proc.stderr
        assert "password authentication failed" in out, (name, out)
        assert "Traceback" not in out, (name, out)
        assert proc.returncode == (EXIT_USAGE if name.startswith("validate") else EXIT_RUNTIME), (name, out)
        assert_hidden(out)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert_hidden(path.read_text(errors="replace"))
