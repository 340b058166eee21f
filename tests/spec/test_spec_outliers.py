"""The outliers shorthand (none, iqr, zscore, isolation_forest) holds alone and inside a choice."""

from __future__ import annotations

import textwrap

import pytest

from automl_yaml.errors import SpecError
from automl_yaml.spec import load_spec


def _load(tmp_path, outliers: str):
    path = tmp_path / "spec.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            sources: {{d: {{kind: sample, name: diabetes}}}}
            data: {{target: target}}
            models: {{ridge: {{}}}}
            preprocess:
              numeric:
                outliers: {outliers}
            """
        )
    )
    return load_spec(path).spec.preprocess.numeric.outliers


def test_a_choice_of_shorthands_is_a_choice_of_outlier_specs(tmp_path):
    value = _load(tmp_path, "{choice: [none, iqr, {method: zscore, factor: 2.5}, isolation_forest]}")
    none, iqr, z, iso = value.choice
    assert none is None
    assert (iqr.method, iqr.action) == ("iqr", "clip")
    assert (z.method, z.factor) == ("zscore", 2.5)
    assert (iso.method, iso.action) == ("isolation_forest", "drop")


def test_isolation_forest_alone_drops_rows_its_only_action(tmp_path):
    value = _load(tmp_path, "isolation_forest")
    assert (value.method, value.action) == ("isolation_forest", "drop")
    # written out, clipping is still refused with the reason
    with pytest.raises(SpecError, match="no bounds to clip to"):
        _load(tmp_path, "{method: isolation_forest, action: clip}")


def test_a_mistyped_method_in_a_choice_is_located_at_the_item(tmp_path):
    with pytest.raises(SpecError) as err:
        _load(tmp_path, "{choice: [none, iqrr]}")
    text = err.value.render()
    assert "spec.yaml:7:31: preprocess.numeric.outliers.choice[1]: unknown outliers method 'iqrr'" in text
    assert "did you mean 'iqr'?" in text
