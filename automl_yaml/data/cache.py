"""The source cache: each loaded source kept as Parquet, keyed by its fingerprint.

Layout: ``<output_dir>/.cache/sources/<source>-<fingerprint>.parquet``. A
source whose fingerprint changed (the file was edited, the query's row count
moved, the reader options changed) finds no file under its new name and is
read again; the new file replaces the old ones of that source. Files are
written atomically (:func:`automl_yaml.io.atomic_path`), so an interrupted
run never leaves a half-written cache that a later run would trust.

Reading Parquet back is several times faster than parsing CSV or fetching
rows from a database (``benchmarks/load.py`` measures it).
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import pandas as pd

from ..io import atomic_path

__all__ = ["cache_dir", "cache_path", "read", "write", "clear"]

log = logging.getLogger(__name__)

#: How cache files are written: for reading speed first, then size. Measured
#: on a 1M x 20 table (134 MB as CSV), fastest of 12 fresh processes: pandas'
#: defaults (snappy, dictionaries) 50 MB read in ~130 ms; LZ4 without
#: dictionary encoding 74 MB in ~110 ms; uncompressed without dictionaries
#: 157 MB in ~80 ms (larger than the CSV it replaces). Decoding dictionaries
#: back into string arrays is what costs.
WRITE_OPTIONS = {"compression": "lz4", "use_dictionary": False}


def cache_dir(output_dir: str | Path) -> Path:
    """Where the source cache of a run's output folder lives."""
    return Path(output_dir) / ".cache" / "sources"


def cache_path(output_dir: str | Path, source: str, fingerprint: str) -> Path:
    """The cache file of one version of a source."""
    return cache_dir(output_dir) / f"{source}-{fingerprint}.parquet"


def _versions(output_dir: str | Path, source: str) -> list[Path]:
    """Every cache file of ``source`` (and of no other source whose name it prefixes)."""
    folder = cache_dir(output_dir)
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(source) + r"-[0-9a-f]+\.parquet")
    return [p for p in folder.iterdir() if pattern.fullmatch(p.name)]


def read(output_dir: str | Path, source: str, fingerprint: str) -> pd.DataFrame | None:
    """The cached table of this version of the source, or None.

    A cache file that cannot be read (truncated by a full disk, written by an
    incompatible version) is removed and treated as missing.
    """
    path = cache_path(output_dir, source, fingerprint)
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path, memory_map=True)
    except Exception as exc:  # noqa: BLE001 - a broken cache is a miss, never a failure
        log.warning("ignoring the unreadable cache file %s: %s", path, exc)
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def write(output_dir: str | Path, source: str, fingerprint: str, frame: pd.DataFrame) -> Path | None:
    """Cache ``frame`` and remove older versions of the source.

    Returns:
        The cache file, or None when the table cannot be stored as Parquet
        (columns mixing numbers and strings, ...): the run goes on uncached.
    """
    path = cache_path(output_dir, source, fingerprint)
    try:
        with atomic_path(path, suffix=".tmp") as tmp:
            frame.to_parquet(tmp, index=False, **WRITE_OPTIONS)
    except Exception as exc:  # noqa: BLE001 - caching is an optimisation, never a failure
        log.warning("source '%s' is not cached (it is read again next run): %s", source, _why(exc, frame))
        return None
    for old in _versions(output_dir, source):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
    return path


def _why(exc: Exception, frame: pd.DataFrame) -> str:
    """Why Parquet refused the table, in words: pyarrow says ``("Expected bytes, got a 'int' object", 'Conversion failed for column m with type object')``."""
    m = re.search(r"column (.+?) with type object", str(exc))
    if m and m.group(1) in frame.columns:
        kinds = sorted({type(v).__name__ for v in frame[m.group(1)].dropna().head(10_000)})
        return f"column '{m.group(1)}' holds values of several types ({', '.join(kinds)}); Parquet keeps one type per column"
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


def clear(output_dir: str | Path, source: str | None = None) -> int:
    """Remove the cache of one source (or of every source); returns the files removed."""
    folder = cache_dir(output_dir)
    files = _versions(output_dir, source) if source else (list(folder.glob("*.parquet")) if folder.is_dir() else [])
    for f in files:
        with contextlib.suppress(OSError):
            f.unlink()
    return len(files)
