"""Loading data through automl-yaml vs plain pandas, as ratios measured in one run.

    python benchmarks/load.py [--rows 1000000] [--runs 7] [--no-sql]

A seeded table (``--rows`` x 20 columns: floats, integers, strings of low and
high cardinality, booleans) is written as CSV and Parquet to a temporary
folder and copied into PostgreSQL (set up as ``tests/fixtures/services.py``
does; skipped with a message when PostgreSQL cannot start). Then each load
runs ``--runs`` times, every time in a fresh subprocess, so that peak memory
is that process's own (peak RSS, ``VmHWM``, minus the RSS after imports):

* csv: ``pandas.read_csv`` vs the project (``load_sources``, cache off:
  fingerprint + read);
* parquet: ``pandas.read_parquet`` vs the project;
* sql: ``pandas.read_sql`` with ``chunksize`` (concatenated) vs the project
  (also plain ``read_sql`` without chunks, for reference);
* cache: the project's cold CSV load that writes the cache, then warm loads.

Targets: files <= 1.1x time and <= 1.2x peak memory of pandas; SQL <= 1.2x
time of chunked ``read_sql``; a warm cache >= 3x faster than the cold CSV load.
The machine is shared and noisy: the fastest of the runs for time (wall
clock, and CPU time of every thread, which other work disturbs less), the
median for memory, interleaved; only the ratios mean something.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNKSIZE = 100_000
TARGETS = {"csv": (1.1, 1.2), "parquet": (1.1, 1.2), "sql": (1.2, None)}


# ------------------------------------------------------------------------------ the data


def make_table(rows: int, seed: int = 7):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(8):
        cols[f"f{i}"] = rng.normal(100, 30, rows).round(3)
    for i in range(4):
        cols[f"i{i}"] = rng.integers(0, 10_000, rows)
    words = np.array([f"word_{k:03d}" for k in range(200)])
    for i in range(4):
        cols[f"s{i}"] = words[rng.integers(0, 20 if i % 2 else 200, rows)]
    cols["uid"] = np.char.add("u", rng.integers(0, 10**9, rows).astype(str))
    cols["b0"] = rng.integers(0, 2, rows).astype(bool)
    cols["b1"] = rng.random(rows) < 0.1
    cols["target"] = rng.choice(np.array(["yes", "no"]), rows)
    return pd.DataFrame(cols)


PG_TYPES = {"f": "double precision", "i": "bigint", "s": "text", "u": "text", "b": "boolean", "t": "text"}


def load_postgres(csv: Path, columns: list[str], table: str) -> tuple[str | None, str | None]:
    """Copy the CSV into a PostgreSQL table; ``(url, None)`` or ``(None, why not)``."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from fixtures.services import postgres_test_url
    finally:
        sys.path.pop(0)
    url, reason = postgres_test_url()
    if url is None:
        return None, reason
    import psycopg

    ddl = ", ".join(f"{c} {PG_TYPES[c[0]]}" for c in columns)
    with psycopg.connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} ({ddl})")
        with conn.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, open(csv, "rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        conn.execute(f"ANALYZE {table}")
    return url, None


def drop_postgres(url: str, table: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


# ------------------------------------------------------------------------- a measurement


def _status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in MB.

    VmHWM belongs to the process image, so it starts afresh at exec; the
    ``getrusage`` maximum would carry over the parent's peak on Linux.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _cpu_seconds() -> float:
    """User + system CPU time of this process, every thread included."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(mode: str, folder: Path, url: str | None, table: str) -> dict:
    """One load in this (fresh) process: seconds, peak MB over the post-import RSS."""
    import pandas as pd
    import pyarrow.dataset  # noqa: F401 - imported lazily by the readers: not part of any load's time
    import pyarrow.parquet  # noqa: F401
    import sqlalchemy as sa

    from automl_yaml.data import load_sources
    from automl_yaml.spec import load_spec

    def spec(source: dict):
        # Loading the spec is not part of loading the data: done before the clock starts.
        return load_spec({"sources": {"t": source}, "data": {"target": "target"}, "output": str(folder / "out")}, base_dir=folder)

    def project(loaded, cache: bool = False):
        frames, infos = load_sources(loaded, cache=cache)
        return frames["t"], infos["t"].from_cache

    csv_spec = spec({"kind": "file", "path": "t.csv"})
    parquet_spec = spec({"kind": "file", "path": "t.parquet"})
    sql_spec = spec({"kind": "sql", "url": url, "table": table, "chunksize": CHUNKSIZE}) if url else None
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://")) if url else None

    def read_sql_chunked():
        with engine.connect() as conn:
            return pd.concat(pd.read_sql(f"SELECT * FROM {table}", conn, chunksize=CHUNKSIZE), ignore_index=True)

    def read_sql_plain():
        with engine.connect() as conn:
            return pd.read_sql(f"SELECT * FROM {table}", conn)

    runs = {
        "pandas-csv": lambda: pd.read_csv(folder / "t.csv"),
        "project-csv": lambda: project(csv_spec)[0],
        "pandas-parquet": lambda: pd.read_parquet(folder / "t.parquet"),
        "project-parquet": lambda: project(parquet_spec)[0],
        "pandas-sql-chunked": read_sql_chunked,
        "pandas-sql-plain": read_sql_plain,
        "project-sql": lambda: project(sql_spec)[0],
        "project-cache": lambda: project(csv_spec, cache=True),
    }
    base = _status_mb("VmRSS")
    cpu0 = _cpu_seconds()
    start = time.perf_counter()
    result = runs[mode]()
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu0
    peak = _status_mb("VmHWM")
    out = {"seconds": seconds, "cpu": cpu, "peak_mb": peak - base, "rss_mb": peak}
    if mode == "project-cache":
        frame, hit = result
        out["from_cache"] = hit
    else:
        frame = result
    out["shape"] = list(frame.shape)
    return out


def measure(mode: str, folder: Path, url: str | None, table: str) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--dir", str(folder), "--table", table]
    if url:
        cmd += ["--url", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summary(results: list[dict]) -> dict:
    """The fastest run's wall and CPU time (the least disturbed by other work on a shared machine), the median peak memory."""
    return {
        "seconds": min(r["seconds"] for r in results),
        "cpu": min(r["cpu"] for r in results),
        "peak_mb": statistics.median(r["peak_mb"] for r in results),
    }


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-sql", action="store_true", help="skip the PostgreSQL part")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--table", default="mlx_bench_load", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, Path(args.dir), args.url, args.table)))
        return 0

    with tempfile.TemporaryDirectory(prefix="mlx-bench-load-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        table = make_table(args.rows)
        table.to_csv(folder / "t.csv", index=False)
        table.to_parquet(folder / "t.parquet", index=False)
        columns = list(table.columns)
        del table
        size = (folder / "t.csv").stat().st_size / 2**20
        print(f"table: {args.rows:,} rows x {len(columns)} columns; CSV {size:.0f} MB, Parquet {(folder / 't.parquet').stat().st_size / 2**20:.0f} MB ({time.perf_counter() - t:.0f} s to write)")

        url = None
        if not args.no_sql:
            url, reason = load_postgres(folder / "t.csv", columns, args.table)
            print("PostgreSQL: " + (f"table {args.table} loaded" if url else f"skipped: {reason}"))
        try:
            modes = ["pandas-csv", "project-csv", "pandas-parquet", "project-parquet"]
            if url:
                modes += ["pandas-sql-chunked", "project-sql", "pandas-sql-plain"]
            cache_cold = measure("project-cache", folder, url, args.table)  # writes the cache
            modes.append("project-cache")  # then every run of it is warm
            results: dict[str, list[dict]] = {m: [] for m in modes}
            for _ in range(args.runs):  # interleaved: drift on a shared machine hits every path alike
                for m in modes:
                    results[m].append(measure(m, folder, url, args.table))
            cache_warm = results.pop("project-cache")
        finally:
            if url:
                drop_postgres(url, args.table)

    med = {m: summary(r) for m, r in results.items()}
    print()
    print(
        f"{'path':<9}{'pandas s':>9}{'project s':>10}{'time x':>7}{'target':>7}{'cpu x':>7}  "
        f"{'pandas MB':>9}{'project MB':>11}{'mem x':>6}{'target':>7}"
    )
    ok = True
    for path, base in (("csv", "pandas-csv"), ("parquet", "pandas-parquet"), ("sql", "pandas-sql-chunked")):
        mine = f"project-{path}"
        if mine not in med:
            continue
        tr = med[mine]["seconds"] / med[base]["seconds"]
        cr = med[mine]["cpu"] / med[base]["cpu"]
        mr = med[mine]["peak_mb"] / med[base]["peak_mb"]
        t_target, m_target = TARGETS[path]
        ok &= tr <= t_target and (m_target is None or mr <= m_target)
        print(
            f"{path:<9}{med[base]['seconds']:>9.2f}{med[mine]['seconds']:>10.2f}{tr:>7.2f}{'<=' + str(t_target):>7}{cr:>7.2f}  "
            f"{med[base]['peak_mb']:>9.0f}{med[mine]['peak_mb']:>11.0f}{mr:>6.2f}{('<=' + str(m_target)) if m_target else '-':>7}"
        )
    if "pandas-sql-plain" in med:
        p = med["pandas-sql-plain"]
        print(f"(reference: pandas.read_sql without chunks {p['seconds']:.2f} s, {p['peak_mb']:.0f} MB)")
    warm = summary(cache_warm)
    assert not cache_cold.get("from_cache") and all(w["from_cache"] for w in cache_warm), "cache did not behave"
    speedup = med["project-csv"]["seconds"] / warm["seconds"]
    ok &= speedup >= 3
    print(
        f"\ncache: cold CSV load + cache write {cache_cold['seconds']:.2f} s; warm {warm['seconds']:.2f} s ({warm['peak_mb']:.0f} MB)\n"
        f"  warm is {speedup:.1f}x faster than the project's cold CSV load (target >= 3x), "
        f"{med['pandas-csv']['seconds'] / warm['seconds']:.1f}x plain read_csv; "
        f"CPU time {med['project-csv']['cpu'] / warm['cpu']:.1f}x less"
    )
    print("\nall targets met" if ok else "\nsome targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
