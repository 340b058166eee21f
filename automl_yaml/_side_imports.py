"""The side processes' libraries, imported by the fork server when a run's trials run in its own process.

With ``execution.n_jobs: 1`` (and no time budget or per-trial timeout) the
fork server serves only the two side processes (:mod:`automl_yaml.sidecar`).
Each of them used to import its libraries after it forked: MLflow's model
format in one, matplotlib in both, about 1.2 s and 0.4 s of CPU, from the
moment the server was ready. Imported here once, in the server, they are
shared by both processes, which start warm: on the 3-second grid of
``benchmarks/search.py --overhead`` the model's process was ready 0.6 s later
than the search's end before, and the run waited for it.

Not when trials run in worker processes: those fork from the same server,
and would wait for these imports before the first trial could start.

Importing them starts no thread (checked: forking after it is safe). Any
error is left for the side process to meet again (and do its job in the
run's process): the fork server stops at a preload raising anything but
``ImportError``.
"""

from __future__ import annotations

import contextlib

with contextlib.suppress(Exception):
    import mlflow.sklearn  # noqa: F401 - the model's folder (automl_yaml.tracking.save_model)

    from . import tracking  # noqa: F401

with contextlib.suppress(Exception):
    from .report.run import import_matplotlib

    import_matplotlib()
