"""The profile: exact numbers on the palmerpenguins data, valid JSON, PNGs, one self-contained HTML page."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from rich.console import Console

from automl_yaml.errors import DataError
from automl_yaml.report.html import Html, Section, image, page
from automl_yaml.report.profile import profile_frame, write_profile
from automl_yaml.spec.models import ProfileSpec

PNG = b"\x89PNG\r\n\x1a\n"
TYPES = {
    "island": "categorical",
    "bill_length_mm": "numeric",
    "bill_depth_mm": "numeric",
    "flipper_length_mm": "numeric",
    "body_mass_g": "numeric",
    "sex": "categorical",
    "year": "numeric",
}


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return load_penguins()


def _strict_json(text: str):
    def no_constant(name):
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, parse_constant=no_constant)


def test_penguins_profile_files(penguins, tmp_path):
    console = Console(record=True, width=160)
    profile = write_profile(
        penguins, target="species", task="classification", column_types=TYPES, out_dir=tmp_path, options=ProfileSpec(), console=console
    )
    # profile.json is valid, strict JSON and holds the same profile
    stored = _strict_json((tmp_path / "profile.json").read_text())
    assert stored["rows"] == len(penguins) and stored["features"].keys() == TYPES.keys()
    expected_missing = penguins.isna().sum()
    for col in TYPES:
        assert stored["features"][col]["missing"] == expected_missing[col]
        assert stored["features"][col]["missing_share"] == pytest.approx(expected_missing[col] / len(penguins))
    assert expected_missing["sex"] > 0 and expected_missing["bill_length_mm"] > 0  # the data has real gaps
    # the plots
    pngs = {"missing.png", "distributions.png", "correlations.png", "target.png"}
    for name in pngs:
        assert (tmp_path / name).read_bytes().startswith(PNG)
    assert set(profile["files"].values()) == pngs | {"profile.html", "profile.json"}
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    # the page embeds every plot and needs nothing else
    html = (tmp_path / "profile.html").read_text()
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    embedded = {base64.b64decode(u) for u in uris}
    assert {(tmp_path / n).read_bytes() for n in pngs} <= embedded
    assert not re.search(r'(src|href)="(https?:|/|[a-z]+\.png)', html)
    assert "<style>" in html and "bill_length_mm" in html
    # the console table
    text = console.export_text()
    assert "Profile: 344 rows" in text and "island" in text and "Biscoe" in text
    # the target is not counted among the features: 7 of them, 8 columns in all
    assert "344 rows, 7 feature columns + target 'species' (classification)" in text
    assert (stored["columns"], stored["feature_columns"]) == (8, 7) == (penguins.shape[1], len(TYPES))
    assert "344 rows × 7 feature columns + target &#x27;species&#x27;" in html
    assert "<th>feature columns</th><td class=\"num\">7</td>" in html and "<th>columns</th>" not in html


def test_penguins_statistics_are_exact(penguins):
    profile = profile_frame(penguins, target="species", task="classification", column_types=TYPES, options=ProfileSpec())
    for col in ("bill_length_mm", "body_mass_g", "year"):
        f, s = profile["features"][col], penguins[col]
        assert f["mean"] == pytest.approx(s.mean())
        assert f["std"] == pytest.approx(s.std())
        assert f["min"] == s.min() and f["max"] == s.max()
        assert [f["q25"], f["median"], f["q75"]] == pytest.approx(list(s.quantile([0.25, 0.5, 0.75])))
        assert f["skew"] == pytest.approx(s.skew())
        assert f["distinct"] == s.nunique()
        q1, q3 = s.quantile([0.25, 0.75])
        assert f["outliers"] == int(((s < q1 - 1.5 * (q3 - q1)) | (s > q3 + 1.5 * (q3 - q1))).sum())
    island = profile["features"]["island"]
    counts = penguins["island"].value_counts()
    assert island["distinct"] == 3
    assert [(t["value"], t["count"]) for t in island["top"]] == list(counts.items())
    classes = profile["target"]["classes"]
    assert {c["value"]: c["count"] for c in classes} == penguins["species"].value_counts().to_dict()
    assert profile["target"]["imbalance"] == pytest.approx(counts_ratio(penguins["species"]))
    # correlations of the numeric columns, and the strongest pair first
    numeric = [c for c, t in TYPES.items() if t == "numeric"]
    expected = penguins[numeric].corr()
    corr = profile["correlations"]
    assert corr["pearson"]["body_mass_g"]["flipper_length_mm"] == pytest.approx(expected.loc["body_mass_g", "flipper_length_mm"])
    assert corr["spearman"]["bill_depth_mm"]["body_mass_g"] == pytest.approx(
        penguins[numeric].corr("spearman").loc["bill_depth_mm", "body_mass_g"]
    )
    assert {corr["top_pairs"][0]["a"], corr["top_pairs"][0]["b"]} == {"flipper_length_mm", "body_mass_g"}
    # relations with the target: flipper length separates the species best; year not at all
    rel = profile["target_relations"]
    assert rel[0]["column"] in ("flipper_length_mm", "bill_length_mm")
    assert rel[-1]["column"] == "year"
    assert {r["column"] for r in rel} == set(TYPES)


def counts_ratio(s: pd.Series) -> float:
    counts = s.value_counts()
    return counts.max() / counts.min()


def test_missing_counts_are_exact_when_the_rest_is_sampled(penguins):
    profile = profile_frame(penguins, target="species", task="classification", column_types=TYPES, options=ProfileSpec(sample=100), seed=1)
    assert profile["sample_rows"] == 100
    assert {c: f["missing"] for c, f in profile["features"].items()} == penguins[list(TYPES)].isna().sum().to_dict()
    assert any("sample of 100 of 344 rows" in n for n in profile["notes"])
    again = profile_frame(penguins, target="species", task="classification", column_types=TYPES, options=ProfileSpec(sample=100), seed=1)
    assert again == profile  # seeded


def test_regression_target_and_other_column_types(tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "flag": rng.choice([True, False], n),
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
            "note": pd.array([f"note {i % 37}" for i in range(n)], dtype="str"),
            "user": pd.array([f"u{i}" for i in range(n)], dtype="str"),
        }
    )
    frame["y"] = 3 * frame["x"] + rng.normal(0, 0.1, n)
    frame.loc[::10, "x"] = np.nan
    types = {"x": "numeric", "flag": "boolean", "when": "datetime", "note": "text", "user": "categorical"}
    profile = write_profile(
        frame, target="y", task="regression", column_types=types, out_dir=tmp_path, options={"plots": False, "html": False}
    )
    assert profile["files"] == {"json": "profile.json"} and not list(tmp_path.glob("*.png"))
    t = profile["target"]
    assert t["mean"] == pytest.approx(frame["y"].mean()) and sum(t["histogram"]["counts"]) == n
    assert profile["features"]["when"]["min"] == "2024-01-01 00:00:00"
    assert profile["features"]["x"]["missing"] == 50
    assert profile["features"]["note"]["distinct"] == 37
    rel = {r["column"]: r for r in profile["target_relations"]}
    assert list(rel)[0] == "x" and rel["x"]["association"] == pytest.approx(abs(frame[["x", "y"]].corr().iloc[0, 1]))
    # an identifier-like categorical is not scored by mutual information, and says so
    assert any("'user': 500 categories" in n for n in profile["notes"])
    assert rel.get("user", {}).get("mutual_information") is None


def test_the_table_shows_one_missing_value_and_the_targets_missing_values(tmp_path):
    """1 missing in 2,500 rows read 0.0 %, and the target's missing values were not in the table."""
    from automl_yaml.report.profile import columns_frame

    n = 2500
    frame = pd.DataFrame({"a": np.arange(n, dtype=float), "y": ["p", "q"] * (n // 2)})
    frame.loc[5, "a"] = np.nan
    frame.loc[[7, 8, 9], "y"] = None
    console = Console(record=True, width=160)
    profile = write_profile(
        frame, target="y", task="classification", column_types={"a": "numeric"}, out_dir=tmp_path, options={"plots": False, "html": False}, console=console
    )
    rows = {line.split("│")[1].strip(): line for line in console.export_text().splitlines() if line.count("│") > 3}
    assert "1 (<0.1%)" in rows["a"] and "0.0" not in rows["a"]
    assert "target (classification)" in rows["y"] and "3 (0.1%)" in rows["y"]
    table = columns_frame(profile).set_index("column")
    assert table.loc["a", "missing"] == 1 and table.loc["a", "missing %"] == 0.04
    assert table.loc["y", "missing"] == 3 and table.loc["y", "missing %"] == 0.12
    tiny = dict(profile, features={"a": dict(profile["features"]["a"], missing_share=1 / 100_000)})
    assert columns_frame(tiny).set_index("column").loc["a", "missing %"] == 0.001  # not rounded to 0


def test_missing_target_column(penguins):
    with pytest.raises(DataError, match="profile: no target column 'specie'"):
        profile_frame(penguins, target="specie", task="classification", column_types=TYPES, options=None)


# ----------------------------------------------------------------------- the page helper


def test_page_is_self_contained_and_escapes_text():
    frame = pd.DataFrame({"name": ["<script>alert(1)</script>", "b & c"], "value": [1.23456789, 2_000_000.0]})
    png = PNG + b"fake"
    html = page(
        "Report <1>",
        [
            Section("Table", [frame, "a <b>paragraph</b>"]),
            Section("Pictures", [image(png, "a plot", caption="caption & more"), Section("Nested", [{"key": 3}]), Html("<hr>")]),
        ],
        subtitle="sub",
    )
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<script>" not in html and "&lt;script&gt;" in html and "b &amp; c" in html
    assert "<title>Report &lt;1&gt;</title>" in html
    assert f"data:image/png;base64,{base64.b64encode(png).decode()}" in html
    assert "1.235" in html and "2,000,000" in html
    assert "<h3>Nested</h3>" in html and "<hr>" in html and 'href="#pictures"' in html


def test_image_from_a_file(tmp_path):
    path = tmp_path / "plot.png"
    path.write_bytes(PNG + b"x")
    img = image(path)
    assert img.png == PNG + b"x" and img.alt == "plot"


def test_wide_data_keeps_the_correlation_matrices_small(tmp_path):
    # 60 numeric columns: the matrices keep the 40 most correlated (a planted
    # pair far down the frame among them), the strongest pairs are over all
    rng = np.random.default_rng(0)
    n, p = 300, 60
    frame = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"f{i}" for i in range(p)])
    frame["f58"] = frame["f55"] + rng.normal(0, 0.1, n)
    frame["y"] = rng.integers(0, 2, n)
    types = {c: "numeric" for c in frame.columns if c != "y"}
    profile = write_profile(
        frame, target="y", task="classification", column_types=types, out_dir=tmp_path, options={"plots": False, "html": False}
    )
    corr = profile["correlations"]
    assert len(corr["columns"]) == 40 and corr["n_columns"] == p
    assert {"f55", "f58"} <= set(corr["columns"])
    assert set(corr["pearson"]) == set(corr["columns"]) and all(len(row) == 40 for row in corr["spearman"].values())
    assert {corr["top_pairs"][0]["a"], corr["top_pairs"][0]["b"]} == {"f55", "f58"}
    # complete data takes the fast path: the same numbers as pandas
    expected = frame[corr["columns"]].corr()
    assert corr["pearson"]["f55"]["f58"] == pytest.approx(expected.loc["f55", "f58"])
    assert corr["spearman"]["f58"]["f55"] == pytest.approx(frame[["f55", "f58"]].corr("spearman").iloc[0, 1])
    assert any("keep the 40 of 60 numeric columns" in note for note in profile["notes"])


def test_missing_plot_shows_at_most_forty_columns(tmp_path, monkeypatch):
    from automl_yaml.report import plots

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig) or path)
    missing = {f"c{i}": i for i in range(2000)}
    plots.missing_plot(missing, 5000, tmp_path / "missing.png")
    ax = drawn[0].axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 40 and labels[-1] == "c1999"  # the most missing at the top
    assert "40 of 2,000" in ax.get_title()
