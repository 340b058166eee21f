"""The generated references: current, complete, linked, and true to the code."""

from __future__ import annotations

import difflib
import re

import click
import pytest
import yaml
from fixtures.docs import ROOT

from automl_yaml import docs
from automl_yaml.cli import cli as mlx_group
from automl_yaml.spec import json_schema, load_spec
from automl_yaml.spec.space import FloatRange, IntRange

DOCS = ROOT / "docs"
GENERATED = ["spec-reference.md", "cli.md"]
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
ROW = re.compile(r"^\| `([^`]+)` \| (.*) \| (.*) \| (.*) \|$")


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return docs.generate()


def _chunks(text: str) -> dict[str, str]:
    """The text after each ``<a id=...>`` anchor, up to the next one."""
    parts = ANCHOR.split(text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def _rows(chunk: str) -> dict[str, tuple[str, str, str]]:
    """``{key: (type, default, description)}`` of the first field table in ``chunk``."""
    out = {}
    for line in chunk.splitlines():
        m = ROW.match(line)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return out


# ------------------------------------------------------------------------ current


@pytest.mark.parametrize("name", GENERATED)
def test_committed_docs_are_current(generated, name):
    path = DOCS / name
    committed = path.read_text(encoding="utf-8") if path.is_file() else ""
    if committed != generated[name]:
        diff = "".join(
            list(difflib.unified_diff(committed.splitlines(True), generated[name].splitlines(True), f"docs/{name}", "generated"))[:40]
        )
        pytest.fail(f"docs/{name} is stale: run `python -m automl_yaml.docs` and commit the result\n{diff}", pytrace=False)


def test_generation_does_not_depend_on_the_terminal(generated, monkeypatch):
    monkeypatch.setenv("COLUMNS", "37")
    monkeypatch.setenv("LINES", "5")
    assert docs.generate() == generated


def test_check_exits_1_on_stale_files_and_names_the_fix(tmp_path, capsys):
    assert docs.main(["--check", "--docs-dir", str(tmp_path)]) == 1  # missing files are stale
    assert docs.main(["--docs-dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(GENERATED)  # no temporary files left
    assert docs.main(["--check", "--docs-dir", str(tmp_path)]) == 0
    (tmp_path / "cli.md").write_text((tmp_path / "cli.md").read_text() + "edited by hand\n")
    capsys.readouterr()
    assert docs.main(["--check", "--docs-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "cli.md is stale" in err and "python -m automl_yaml.docs" in err
    assert "spec-reference.md" not in err
    assert docs.main(["--docs-dir", str(tmp_path)]) == 0
    assert docs.stale(tmp_path) == []


def test_an_installed_copy_needs_an_explicit_docs_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(docs, "DOCS_DIR", tmp_path / "site-packages" / "docs")
    with pytest.raises(SystemExit) as exc:
        docs.main([])
    assert exc.value.code == 2
    assert "--docs-dir" in capsys.readouterr().err
    assert not (tmp_path / "site-packages").exists()


# ----------------------------------------------------------------- spec reference


def test_every_field_of_every_section_is_documented(generated):
    """Each object of the schema has a section whose table lists exactly its fields, in order."""
    schema = json_schema()
    tables = [list(_rows(chunk)) for chunk in _chunks(generated["spec-reference.md"]).values()]
    objects = {"<root>": schema, **schema["$defs"]}
    for name, node in objects.items():
        keys = list(node.get("properties") or {})
        if not keys:
            continue
        if len(keys) == 1 and "$ref" in node["properties"][keys[0]]:  # a select step wraps its options
            keys = list(schema["$defs"][node["properties"][keys[0]]["$ref"].split("/")[-1]]["properties"])
        assert keys in tables, f"{name}: no table documents the fields {keys}"


def test_documented_defaults_read_back_as_the_real_defaults(generated):
    """A default cell, read as YAML, equals the model's default (also for default factories)."""
    from pydantic import BaseModel

    from automl_yaml.spec import models

    chunks = _chunks(generated["spec-reference.md"])
    checked = 0
    for anchor, model in [("top-level", models.Spec), ("dataspec", models.DataSpec), ("splitspec", models.SplitSpec),
                          ("numericspec", models.NumericSpec), ("categoricalspec", models.CategoricalSpec),
                          ("datetimespec", models.DatetimeSpec), ("cvspec", models.CVSpec), ("budget", models.Budget),
                          ("geneticoptions", models.GeneticOptions), ("optunaoptions", models.OptunaOptions),
                          ("trackingspec", models.TrackingSpec), ("executionspec", models.ExecutionSpec),
                          ("univariatestep", models.UnivariateSelect), ("filesource", models.FileSource)]:  # fmt: skip
        rows = _rows(chunks[anchor])
        for name, field in model.model_fields.items():
            key = field.alias or name
            _, default_cell, _ = rows[key]
            if field.is_required():
                assert default_cell == "**required**", (anchor, key)
                continue
            value = field.get_default(call_default_factory=True)
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            code = re.match(r"`([^`]*)`", default_cell)
            assert code, (anchor, key, default_cell)
            assert yaml.safe_load(code.group(1)) == value, (anchor, key, default_cell)
            checked += 1
    assert checked > 60


def test_types_state_the_ranges_and_choices_users_rely_on(generated):
    chunks = _chunks(generated["spec-reference.md"])
    assert _rows(chunks["cvspec"])["folds"][0] == "integer (2 ≤ x ≤ 100)"
    assert _rows(chunks["splitspec"])["test_size"][0] == "number (0 < x < 1) or integer (x ≥ 1)"
    assert _rows(chunks["splitspec"])["by"][0] == "one of `random`, `group`, `time`"
    scale = _rows(chunks["numericspec"])["scale"]
    assert "[search space](#search-spaces) (`choice`)" in scale[0]
    assert "`robust`" in scale[2]  # the registered scalers are listed
    assert "(`choice`, `int`, `float`)" in _rows(chunks["modelspec"])["params"][0]
    assert "seconds, or a duration such as 90s, 10m, 1h30m" in _rows(chunks["budget"])["time"][0]
    assert _rows(chunks["top-level"])["search"][1] == "`{}` (strategy: optuna)"  # what an omitted search runs
    sources = _rows(chunks["top-level"])["sources"][0]
    for kind in ("file", "sql", "mongo", "sample"):
        assert f"[`kind: {kind}`](#{kind}source)" in sources


def test_every_link_has_a_target(generated):
    for name, text in generated.items():
        anchors = set(ANCHOR.findall(text))
        links = set(re.findall(r"\]\(#([^)]+)\)", text))
        assert links, name
        assert links <= anchors, f"{name}: links without a target: {sorted(links - anchors)}"
        assert len(ANCHOR.findall(text)) == len(anchors), f"{name}: duplicate anchors"


def test_no_bare_angle_brackets_outside_code(generated):
    """GitHub drops ``<name>`` outside code as an unknown HTML tag (``x < 1`` is fine)."""
    for name, text in generated.items():
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        prose = re.sub(r"`[^`]*`", "", prose)
        prose = ANCHOR.sub("", prose).replace("<!--", "")
        tag = re.search(r"<[A-Za-z/!]", prose)
        assert tag is None, f"{name}: {prose[tag.start() - 60 : tag.start() + 40]!r}"
    assert "runs/&lt;name>" in generated["spec-reference.md"]  # escaped, so it shows


def test_the_search_space_example_is_a_valid_spec(generated):
    assert docs.SPACE_EXAMPLE.rstrip() in generated["spec-reference.md"]
    doc = {"sources": {"d": {"kind": "sample", "name": "iris"}}, "data": {"target": "target"}, **yaml.safe_load(docs.SPACE_EXAMPLE)}
    spec = load_spec(doc).spec
    n_estimators = spec.models["random_forest"].params["n_estimators"]
    assert isinstance(n_estimators, IntRange) and (n_estimators.low, n_estimators.high, n_estimators.log) == (50, 500, True)
    c = spec.models["svm"].params["C"]
    assert isinstance(c, FloatRange) and c.values() == [0.5, 1.0, 1.5, 2.0]  # as the comment says
    assert spec.models["random_forest"].params["max_features"] == 0.5
    assert spec.preprocess.numeric.scale.values() == ["standard", "robust"]


# ------------------------------------------------------------------ CLI reference


def _commands() -> list[click.Command]:
    ctx = click.Context(mlx_group, info_name="mlx")
    return [mlx_group.get_command(ctx, name) for name in mlx_group.list_commands(ctx)]


def test_every_command_and_option_is_documented(generated):
    chunks = _chunks(generated["cli.md"])
    commands = _commands()
    assert len(commands) >= 8
    for command in commands:
        chunk = chunks[f"mlx-{command.name}"]
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(f"`{opt}" in chunk or f" {opt}" in chunk for opt in param.opts), (command.name, param.opts)
                if param.help:
                    assert param.help.split("(")[0].strip()[:40] in chunk.replace("\\|", "|").replace("&lt;", "<"), (
                        command.name,
                        param.name,
                    )
            else:
                assert f"`{param.human_readable_name}`" in chunk, (command.name, param.name)


def test_usage_lines_and_defaults_match_the_real_cli(generated, cli):
    chunks = _chunks(generated["cli.md"])
    for command in _commands():
        result = cli(command.name, "--help")
        assert result.code == 0, result
        usage = "".join(result.out.split("\n\n")[0].split())  # click wraps long usage lines, even mid-word
        assert usage.startswith(f"Usage:mlx{command.name}")
        assert usage in "".join(chunks[f"mlx-{command.name}"].split()), (command.name, usage)
    init = _rows(chunks["mlx-init"])
    assert init["-t, --template TEXT"][1] == "`quickstart`"
    assert _rows(chunks["mlx-validate"])["--format [text\\|json\\|github]"][1] == "`text`"
    assert _rows(chunks["mlx-predict"])["-m, --model TEXT"][1] == "**required**"


#: Set by automl-yaml for its own processes, not by users.
INTERNAL_VARIABLES = {"MLX_MP_MAIN_PATH", "MLX_MP_MAIN_NAME", "MLX_TRACKING_WRITER"}


def test_every_environment_variable_the_code_reads_is_in_the_readme():
    read = set()
    for path in (ROOT / "automl_yaml").rglob("*.py"):
        read |= set(re.findall(r"""environ(?:\.get)?[\[(]\s*["'](MLX_[A-Z_]+)["']""", path.read_text(encoding="utf-8")))
    assert {"MLX_DEBUG", "MLX_SIDECARS", "MLX_FOLD_CACHE_MB"} <= read  # the pattern finds them
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Environment variables") :].split("\n## ")[0]
    assert sorted(v for v in read - INTERNAL_VARIABLES if f"`{v}" not in table) == []


#: A spec with the two mistakes of the README's `mlx validate` sample, where the sample says they are.
_README_BROKEN_SPEC = """\
version: 1
name: penguins
sources:
  penguins: {kind: sample, name: penguins}
data:
  target: species

models:
  random_forest:
    params:
      max_dept: 4
  logistic_regression:
    params:
      C: -1
"""


def test_the_readmes_validate_sample_is_what_validate_prints(tmp_path):
    """The sample ended with '0 valid, 1 invalid', a line only `--format github` prints."""
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Validate in CI") :].split("\n## ")[0]
    sample = section.split("```text\n", 1)[1].split("```", 1)[0]
    (tmp_path / "spec.yaml").write_text(_README_BROKEN_SPEC)
    proc = subprocess.run([sys.executable, "-m", "automl_yaml", "validate", "spec.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == sample
