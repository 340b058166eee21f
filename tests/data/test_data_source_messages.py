"""Messages of sources that cannot be read: a missing database driver names its pip package; an unknown host is unreachable."""

from __future__ import annotations

import importlib.util

import pytest

from automl_yaml.cli import main

SPEC = """\
version: 1
sources: {{d: {{kind: sql, url: "{url}", query: "select 1"}}}}
data: {{target: t}}
tracking: false
"""


@pytest.mark.parametrize(
    ("url", "module", "package"),
    [
        ("mysql://u:p@127.0.0.1:1/db", "pymysql", "PyMySQL"),  # the default: pure Python, as validate says
        ("mysql+mysqldb://u:p@127.0.0.1:1/db", "MySQLdb", "mysqlclient"),  # was 'pip install MySQLdb'
    ],
)
def test_a_missing_mysql_driver_names_its_pip_package(tmp_path, capsys, url, module, package):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here")
    (tmp_path / "spec.yaml").write_text(SPEC.format(url=url))
    assert main(["run", str(tmp_path / "spec.yaml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"the optional package '{package}' is needed for source 'd'" in err and f"hint: pip install {package}" in err


def test_a_host_that_does_not_resolve_is_unreachable_not_a_parse_error():
    """ftp://host/x.csv with no such host said "cannot open ... as CSV" with a hint about sep: and encoding:."""
    import socket
    import urllib.error

    from automl_yaml.data.sources import _is_connection_error

    lookup = socket.gaierror(-2, "Name or service not known")
    assert _is_connection_error(lookup)
    assert _is_connection_error(urllib.error.URLError(lookup))  # urllib (ftp://) wraps it
    assert not _is_connection_error(urllib.error.URLError("unknown url type: htps"))
    assert not _is_connection_error(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"))
