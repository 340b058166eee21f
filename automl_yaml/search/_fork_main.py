"""Imported first by the fork server that trial workers and side processes fork from.

multiprocessing makes each new process import the parent's main module again
(as ``__mp_main__``) unless that process's ``__main__`` already looks like
the parent's. For a user's script without an ``if __name__ == "__main__":``
guard (``import automl_yaml; automl_yaml.run("spec.yaml")``), that re-ran
the whole script - a second AutoML run - inside every worker and side
process. Nothing automl-yaml sends to those processes is defined in the
user's main module (only registered components, importable by name), so the
fork server's ``__main__`` is made to look like the parent's (``__file__``,
``__spec__``, from :func:`automl_yaml.search.driver._context`), and the
processes forked from it skip the re-import (``multiprocessing.spawn.prepare``).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.machinery
import os
import signal
import sys

# The fork server ignores Ctrl+C itself, but only after its preloads:
# scikit-learn's import (1-2 s) interrupted by a Ctrl+C in a run's first
# seconds printed a KeyboardInterrupt traceback. This module is its first
# preload (and imported nowhere else); the run's process decides what a
# Ctrl+C stops. Processes forked from the server start with it ignored too
# (the server restores the handlers it found after its preloads), and the
# workers and side processes ignore it anyway.
signal.signal(signal.SIGINT, signal.SIG_IGN)

_main = sys.modules["__main__"]
_path = os.environ.get("MLX_MP_MAIN_PATH")
_name = os.environ.get("MLX_MP_MAIN_NAME")
if _path:
    _main.__file__ = _path
if _name:
    _main.__spec__ = importlib.machinery.ModuleSpec(_name, None)


def _exit_now() -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


# The server ends when the run's process does (multiprocessing's own rule);
# its interpreter's finalisation, with scikit-learn and pandas loaded, then
# took 0.3 s, while it still held the run's stdout and stderr: a shell pipe
# (`mlx run spec.yaml | tee run.log`) or `subprocess.run(capture_output=True)`
# waited that long after `mlx` had exited. Nothing in it needs tearing down.
# Registered first, so it runs after any handler the preloads registered;
# the processes forked from the server leave by os._exit and never run it.
atexit.register(_exit_now)
