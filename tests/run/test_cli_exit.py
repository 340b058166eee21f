"""The console script ends with ``exit_now``: no module teardown, nothing lost.

It skips the interpreter's finalisation (0.8 s after ``mlx run``), so these
tests check what that finalisation would have done still happens: the exit
code, every byte of piped output, the ``atexit`` handlers, threads that are
not daemons.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


def _python(code: str, tmp_path: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, capture_output=True, text=True, timeout=60, **kw)


def test_exit_code_atexit_handlers_and_threads(tmp_path: Path) -> None:
    r = _python(
        """
        import atexit, threading, time
        from automl_yaml.cli import exit_now

        atexit.register(lambda: open("atexit.txt", "w").write("ran"))

        def late():
            time.sleep(0.3)
            open("thread.txt", "w").write("joined")

        threading.Thread(target=late).start()          # not a daemon: waited for
        print("x" * 200_000, end="")                    # buffered when piped
        exit_now(3)
        """,
        tmp_path,
    )
    assert r.returncode == 3, r.stderr
    assert len(r.stdout) == 200_000
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert (tmp_path / "thread.txt").read_text() == "joined"


def test_full_exit_switch_keeps_the_normal_exit(tmp_path: Path) -> None:
    r = _python(
        """
        import sys
        from automl_yaml.cli import exit_now

        class Finaliser:
            def __del__(self):                          # runs only in the interpreter's own teardown
                sys.stdout.write("finalised")

        keep = Finaliser()
        exit_now(0)
        """,
        tmp_path,
        env={**__import__("os").environ, "MLX_FULL_EXIT": "1"},
    )
    assert r.returncode == 0
    assert r.stdout == "finalised"


def test_console_script_output_and_codes(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "automl_yaml"]
    piped = subprocess.run([*cmd, "schema"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    written = subprocess.run([*cmd, "schema", "-o", "schema.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert written.returncode == 0, written.stderr
    assert json.loads(piped.stdout) == json.loads((tmp_path / "schema.json").read_text())
    missing = subprocess.run([*cmd, "validate", "nope.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert "nope.yaml" in missing.stderr and "Traceback" not in missing.stderr
    # a reader that stops early (mlx ... | head): no traceback, no hang
    head = subprocess.run(f"{sys.executable} -m automl_yaml schema | head -c 10", shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert head.stdout == piped.stdout[:10]
    assert "Traceback" not in head.stderr and "Exception ignored" not in head.stderr


def test_an_idle_thread_pool_does_not_hang_the_exit(tmp_path: Path) -> None:
    """concurrent.futures' workers are not daemons: the interpreter stops them (threading's exit hooks) before joining."""
    r = _python(
        """
        from concurrent.futures import ThreadPoolExecutor
        from automl_yaml.cli import exit_now

        POOL = ThreadPoolExecutor(2)                    # never shut down (a library's module-level pool)
        print(POOL.submit(lambda: "done").result())
        exit_now(0)
        """,
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
