"""A database driver that is not installed: the package pip installs is named, not the module it imports."""

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
