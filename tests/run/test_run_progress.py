"""What `mlx run` prints about its progress: the search's bar after a resume and at its end, the data's lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from automl_yaml.cli import main
from automl_yaml.runner import Display


def _bar(err: str) -> str:
    """The search bar's last line (rich prints it once more as it stops, on a terminal that is not one)."""
    return [ln for ln in err.splitlines() if ln.startswith("search ")][-1]


def test_a_resumed_search_counts_its_earlier_trials_and_ends_saying_why_not_an_eta(tmp_path, small_spec, monkeypatch, capsys):
    spec = str(small_spec({"tracking": False, "search": {"budget": {"trials": 5}}}))
    monkeypatch.setenv("COLUMNS", "300")  # the whole bar on one line, whatever width the tests before left
    real = Display.trial
    seen = []

    def trial_then_ctrl_c(self, result):
        real(self, result)
        seen.append(result)
        if len(seen) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(Display, "trial", trial_then_ctrl_c)
    assert main(["run", spec]) == 130
    bar = _bar(capsys.readouterr().err)
    assert " 3/5 " in bar and bar.rstrip().endswith("interrupted") and "eta" not in bar
    monkeypatch.undo()
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["run", spec, "--resume"]) == 0
    bar = _bar(capsys.readouterr().err)
    # it ended at 2/5 with the 3 trials before not counted, and a stale "eta"
    assert " 5/5 " in bar, bar
    assert "best accuracy" in bar and bar.rstrip().endswith("stopped by budget: trials") and "eta" not in bar


def test_the_notes_on_dropped_rows_come_before_the_sizes_they_led_to(tmp_path, small_spec, penguins_frame, capsys):
    frame = penguins_frame.copy()
    frame.loc[[0, 5, 9], "species"] = None
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    spec = small_spec({"tracking": False, "search": {"budget": {"trials": 1}}})
    assert main(["run", str(spec)]) == 0
    lines = capsys.readouterr().err.splitlines()
    dropped = next(i for i, ln in enumerate(lines) if "with a missing target 'species' were dropped" in ln)
    sizes = next(i for i, ln in enumerate(lines) if ln.startswith("· train "))
    assert dropped < sizes


SPLIT_PROBE = """
import sys
from automl_yaml.data import assemble

real = assemble.split
seen = []

def split(*args, **kwargs):
    seen.append("sklearn.model_selection" in sys.modules)
    return real(*args, **kwargs)

assemble.split = split
import automl_yaml
automl_yaml.run(sys.argv[1], quiet=True)
print(seen)
"""


def test_the_load_timing_does_not_count_scikit_learns_import(tmp_path, small_spec):
    """timings_s.load said 6.6 s for a source read in 0.2 s: it timed scikit-learn's import, the split's first use of it."""
    spec = small_spec({"tracking": False, "search": {"budget": {"trials": 1}}})
    env = {**os.environ, "MPLBACKEND": "Agg", "MLX_SIDECARS": "0"}
    r = subprocess.run([sys.executable, "-c", SPLIT_PROBE, str(spec)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1].replace("True", "true").replace("False", "false")) == [True]
