"""What `mlx monitor` writes: Prometheus metrics that parse, monitor.json, plots and the HTML page."""

import json

import numpy as np
import pandas as pd

from automl_yaml.monitor import build_reference, compare
from automl_yaml.monitor.outputs import METRICS, feature_table, write_outputs, write_prometheus


def _report(shift: float):
    rng = np.random.default_rng(0)
    ref_rows = pd.DataFrame({"x": rng.normal(0, 1, 3000), "colour": rng.choice(["a", "b"], 3000)})
    now = pd.DataFrame({"x": rng.normal(shift, 1, 3000), "colour": rng.choice(["a", "b", "c"], 3000)})
    ref = build_reference(ref_rows, task="classification", predictions=rng.choice(["y", "n"], 3000), scores={"accuracy": 0.9})
    return compare(ref, now, predictions=rng.choice(["y", "n"], 3000), scores={"accuracy": 0.7})


def test_the_prometheus_file_parses_with_prometheus_clients_parser(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    path = write_prometheus(_report(1.0), tmp_path / "mlx.prom", model='churn "v2"')
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    assert set(families) <= set(METRICS) and {"mlx_monitor_drift", "mlx_feature_psi", "mlx_performance"} <= set(families)
    (drift,) = families["mlx_monitor_drift"].samples
    assert drift.value == 1 and drift.labels == {"model": 'churn "v2"'}
    psi = {s.labels["feature"]: s.value for s in families["mlx_feature_psi"].samples}
    assert psi["x"] > 0.25 and set(psi) == {"x", "colour"}
    perf = {(s.labels["metric"], s.labels["data"]): s.value for s in families["mlx_performance"].samples}
    assert perf == {("accuracy", "current"): 0.7, ("accuracy", "reference"): 0.9}


def test_no_drift_writes_zero(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    rng = np.random.default_rng(1)
    rows = pd.DataFrame({"x": rng.normal(0, 1, 3000)})
    report = compare(build_reference(rows, task="regression"), pd.DataFrame({"x": rng.normal(0, 1, 3000)}))
    text = write_prometheus(report, tmp_path / "m.prom", model="m").read_text()
    (drift,) = {f.name: f for f in text_string_to_metric_families(text)}["mlx_monitor_drift"].samples
    assert drift.value == 0


def test_the_page_json_and_plots(tmp_path):
    report = _report(1.0)
    paths = write_outputs(report, tmp_path, model="churn")
    assert json.loads(paths["json"].read_text())["drift"] is True
    html = paths["html"].read_text()
    assert "Monitoring churn" in html and "new categories: &#x27;c&#x27;" in html and html.count("data:image/png;base64") >= 2
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["drift_00.png", "drift_01.png", "drift_02.png"]


def test_the_table_puts_drift_first():
    table = feature_table(_report(1.0))
    assert list(table["status"])[:2] == ["drift", "drift"] and "(predictions)" in set(table["feature"])


def test_the_grafana_dashboard_plots_only_metrics_and_labels_that_are_written(tmp_path):
    """examples/monitoring/grafana-dashboard.json: each expression names a written metric, each legend a label it has."""
    import re
    from pathlib import Path

    from prometheus_client.parser import text_string_to_metric_families

    dashboard = json.loads((Path(__file__).parents[2] / "examples" / "monitoring" / "grafana-dashboard.json").read_text())
    text = write_prometheus(_report(1.0), tmp_path / "m.prom", model="m").read_text()
    labels = {f.name: set().union(*(s.labels for s in f.samples)) for f in text_string_to_metric_families(text)}
    targets = [t for p in dashboard["panels"] for t in p["targets"]]
    assert len(targets) >= 10
    for t in targets:
        names = re.findall(r"\bmlx_[a-z_]+", t["expr"])
        assert names and all(n in labels for n in names), t["expr"]
        used = set(re.findall(r"{{(\w+)}}", t["legendFormat"]))
        assert used <= set().union(*(labels[n] for n in names)), (t["expr"], used)
