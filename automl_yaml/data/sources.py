"""Source readers: one class per ``kind`` of the spec's ``sources`` section.

Each reader takes the validated pydantic model of its source (from
:mod:`automl_yaml.spec.models`) and offers the same five calls, in the order a
run uses them::

    src = open_source("penguins", loaded.spec.sources["penguins"], base_dir=loaded.base_dir)
    src.describe()       # 'file /data/penguins.csv (csv)', credentials masked
    src.schema()         # {'species': 'str', 'bill_length_mm': 'float64', ...}: no full read
    src.fingerprint()    # changes when the data (or how it is read) changes: the cache key
    src.head(1000)       # the first rows, for checks
    src.load()           # the whole table

The readers are thin: pandas, pyarrow, fsspec, SQLAlchemy and pymongo do the
reading; this module decides which call to make, keeps credentials out of
every message, gives driver values their pandas types (a ``DATE`` is a
datetime, a ``JSONB`` document or an array JSON text: :func:`_plain_columns`)
and turns library exceptions into one :class:`SourceError`
naming the source and what to do. Sources are only ever read: SQL runs in a
read-only session, SQLite files are opened read-only, nothing is committed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import numbers
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pandas as pd

from .. import registry as R
from ..errors import AutomlYamlError, MissingDependencyError, SourceError, suggestion_hint
from ..spec import mask_url
from ..spec.semantic import file_format

__all__ = ["BaseSource", "FileSource", "SqlSource", "MongoSource", "SampleSource", "FrameSource", "open_source", "CONTENT_HASH_LIMIT", "READER_VERSION"]

#: Local files up to this size are fingerprinted by a hash of their bytes (a
#: touched but unchanged file keeps its cache); larger ones by size and mtime,
#: since hashing them would cost a good part of what the cache saves.
CONTENT_HASH_LIMIT = 64 * 1024 * 1024
#: Bumped when a reader changes what it returns, so old cache files are not reused.
READER_VERSION = 3
#: Rows read by :meth:`BaseSource.schema` where a format has no metadata to ask.
SCHEMA_ROWS = 100
#: How long to wait for a MongoDB server before giving up.
MONGO_TIMEOUT_MS = 10_000
#: Seconds to wait for a database connection.
SQL_CONNECT_TIMEOUT = 10


def _digest(*parts: Any) -> str:
    """A short, stable hash of JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _first_line(exc: BaseException) -> str:
    """The useful first line of a library's exception message."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0].strip()
    # SQLAlchemy prefixes the DBAPI class: "(psycopg.errors.UndefinedTable) relation ..."
    return re.sub(r"^\([\w.]+\)\s*", "", line)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes (fsspec wraps a refused connection in FileNotFoundError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_connection_error(exc: BaseException) -> bool:
    import socket
    import urllib.error

    name = type(exc).__name__
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, OSError):
        return True  # urllib (ftp://, http:// through pandas) wraps the socket's error
    # socket.gaierror: a host name that does not resolve ("Name or service not known")
    return isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror, socket.herror)) or any(
        k in name for k in ("ClientConnector", "EndpointConnection", "ConnectTimeout")
    )


def _missing_optional(exc: ImportError) -> str | None:
    """The package pandas/fsspec say is missing (``Missing optional dependency 'x'``)."""
    # fsspec says "Install s3fs to access S3" (capital I): the match ignores case
    m = re.search(r"(?:optional dependency|install|No module named)\s+'?\"?([\w.\-]+)", str(exc), re.IGNORECASE)
    if m:
        return m.group(1).split(".")[0]
    return getattr(exc, "name", None)


_EXTRAS = {"s3fs": "s3", "sqlalchemy": "sql", "psycopg": "sql", "pymongo": "mongo"}
# database drivers whose module is not named as the package pip installs
_PIP_NAMES = {"MySQLdb": "mysqlclient", "pymysql": "PyMySQL", "psycopg2": "psycopg2-binary", "cx_Oracle": "oracledb", "pymssql": "pymssql"}


def column_names(columns: Any) -> list[str]:
    """Column names as text; the levels of a MultiIndex joined by dots, as nested JSON fields are (``('g', 'a')`` -> ``g.a``)."""
    if isinstance(columns, pd.MultiIndex):
        return [".".join(str(part) for part in c if part is not None and str(part) != "") for c in columns]
    return [str(c) for c in columns]


class BaseSource:
    """The interface every source reader implements.

    Subclasses implement ``_load``, ``_head``, ``fingerprint`` and ``describe``
    (and ``schema`` where the format can tell it without reading rows). The
    public :meth:`load` and :meth:`head` translate library errors into
    :class:`SourceError` and make column names strings.

    Args:
        name: The source's name in the spec (used in every message).
        spec: The validated source model (``automl_yaml.spec.models.FileSource`` ...).
        base_dir: The spec's folder: relative paths are relative to it.
    """

    kind: ClassVar[str] = ""
    # False where reading the source is no slower than reading its cache
    # (a small file inside an installed package): no Parquet copy is made
    cache_worthy: ClassVar[bool] = True
    # True where only reading the rows tells whether they changed (a SQL query):
    # the source is loaded first, then fingerprinted, and never served from the
    # cache, rather than run once for the fingerprint and again to be read
    fingerprinted_by_reading: bool = False

    def __init__(self, name: str, spec: Any, *, base_dir: Path):
        self.name = name
        self.spec = spec
        self.base_dir = Path(base_dir)

    # ------------------------------------------------------------------ interface
    def fingerprint(self) -> str:
        """A short hash that changes when the data, or the way it is read, changes."""
        raise NotImplementedError

    def load(self, *, progress: Any = None) -> pd.DataFrame:
        """The whole table.

        Args:
            progress: A ``rich.progress.Progress`` to report to, or None (quiet).

        Raises:
            SourceError: naming the source and what to do.
        """
        with self._guard("read"):
            frame = self._load(progress)
        return self._normalise(frame)

    def head(self, n: int = 1000) -> pd.DataFrame:
        """The first ``n`` rows (fewer if the table is smaller), for type and target checks."""
        with self._guard("read"):
            frame = self._head(n)
        return self._normalise(frame).head(n)

    def _normalise(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A plain table: a meaningful index becomes columns; column names are unique strings.

        A Parquet file saved with ``set_index("id")`` gives ``id`` back as a
        column (so it can be joined on or dropped); a header-less CSV gets
        "0", "1", ...
        """
        index = frame.index
        if not (isinstance(index, pd.RangeIndex) and index.name is None and index.start == 0 and index.step == 1):
            unnamed_numbers = all(n is None for n in index.names) and index.dtype.kind in "iu"
            frame = frame.reset_index(drop=unnamed_numbers)
        if not all(isinstance(c, str) for c in frame.columns):
            frame.columns = column_names(frame.columns)
        if not frame.columns.is_unique:
            twice = sorted(set(frame.columns[frame.columns.duplicated()]))
            raise self.error(
                "two columns are named " + ", ".join(f"'{c}'" for c in twice),
                hint="give every column its own name (in SQL: SELECT a.id AS a_id, b.id AS b_id ...)",
                usage=True,
            )
        return _plain_columns(frame)

    def schema(self) -> dict[str, str]:
        """Column name -> pandas dtype string, from a few rows unless the format has metadata."""
        return {c: str(t) for c, t in self.head(SCHEMA_ROWS).dtypes.items()}

    def describe(self) -> str:
        """What the source is, in one line, with credentials masked."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _load(self, progress: Any) -> pd.DataFrame:
        raise NotImplementedError

    def _head(self, n: int) -> pd.DataFrame:
        return self._load(None).head(n)

    def _secrets(self) -> list[str]:
        """Literal secrets that must never appear in a message."""
        return []

    def _mask(self, text: str) -> str:
        text = mask_url(text)
        for secret in self._secrets():
            if secret and len(secret) >= 3:
                for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                    text = text.replace(form, "***")
        return text

    def error(self, message: str, *, hint: str | None = None, usage: bool = False) -> SourceError:
        """A :class:`SourceError` about this source, credentials masked."""
        return SourceError(self._mask(message), hint=self._mask(hint) if hint else None, source=self.name, usage=usage)

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn whatever a library raises into one located, masked error."""
        try:
            yield
        except AutomlYamlError:
            raise
        except ImportError as exc:
            package = _missing_optional(exc) or "?"
            raise MissingDependencyError(package, extra=_EXTRAS.get(package), purpose=f"source '{self.name}'") from None
        except MemoryError:
            raise self.error("not enough memory to load this source", hint="read fewer columns (`columns:`) or rows (a query)") from None
        except Exception as exc:  # noqa: BLE001 - every library error becomes a SourceError
            raise self._translate(exc, action) from exc

    def _translate(self, exc: Exception, action: str) -> AutomlYamlError:
        return self.error(f"cannot {action} {self.describe()}: {_first_line(exc)}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {self.describe()}>"


def _task(progress: Any, description: str, total: int | None = None) -> Any:
    return None if progress is None else progress.add_task(description, total=total)


def _advance(progress: Any, task: Any, n: int) -> None:
    if progress is not None:
        progress.update(task, advance=n)


def _finish(progress: Any, task: Any, total: int) -> None:
    if progress is not None:
        progress.update(task, total=total, completed=total)


def open_source(name: str, spec: Any, *, base_dir: Path, frames: Mapping[str, pd.DataFrame] | None = None) -> BaseSource:
    """The reader of a source, looked up in the ``sources`` registry by its kind.

    Args:
        frames: The DataFrames given for ``kind: frame`` sources (``LoadedSpec.frames``).
    """
    from ..components import catalog  # noqa: F401 - registers the built-in kinds

    cls = R.sources.get(spec.kind).load()
    if spec.kind == "frame":
        return cls(name, spec, base_dir=base_dir, frame=(frames or {}).get(name))
    return cls(name, spec, base_dir=base_dir)


# ------------------------------------------------------------------------------- files

#: Encodings a CSV/TSV file that is not UTF-8 is read with, in order, when `encoding:` is not set (see :meth:`FileSource._read`).
_LEGACY_ENCODINGS = ("cp1252", "latin-1")
#: How pandas renames a repeated column name: the second 'price' is 'price.1' (see :meth:`FileSource._refuse_repeated_names`).
_MANGLED = re.compile(r"^(.*)\.\d+$", re.S)
#: Field separators a CSV file may use instead of commas (see :meth:`FileSource._separator`).
_OTHER_SEPARATORS = (";", "\t", "|")
_NAMES = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "json": "JSON", "jsonl": "JSON Lines", "excel": "Excel"}
_SECRET_PARAM = re.compile(r"(?i)token|signature|sig$|secret|password|credential|key")
#: The first bytes of compressed files, their compression and its suffix (see :meth:`FileSource._refuse_unnamed_compression`).
_COMPRESSED_MAGIC = (
    (b"\x1f\x8b", "gzip", ".gz"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "bz2", ".bz2"),  # (a text may start with "BZh": the block header too)
    (b"\xfd7zXZ\x00", "xz", ".xz"),
    (b"\x28\xb5\x2f\xfd", "zstd", ".zst"),
    (b"PK\x03\x04", "zip", ".zip"),
)
#: fsspec ``info()`` keys that identify a version of a remote object.
_VERSION_KEYS = ("ETag", "etag", "VersionId", "LastModified", "last_modified", "mtime", "md5", "md5Hash", "crc32c", "generation", "updated")


class FileSource(BaseSource):
    """A file: CSV/TSV, Parquet, JSON, JSON Lines or Excel; local or any fsspec URL.

    The format comes from the suffix (under a compression suffix: ``.csv.gz``)
    or from ``format:``. Local paths are read by pandas directly; URLs are
    opened with fsspec (``storage_options`` are its options: ``anon``,
    ``endpoint_url``, ``key``, ...; S3 credentials and ``AWS_ENDPOINT_URL``
    also come from the environment, as boto does it). Objects nested in JSON
    records become ``a.b`` columns, as MongoDB documents do.
    """

    kind = "file"

    def __init__(self, name: str, spec: Any, *, base_dir: Path):
        super().__init__(name, spec, base_dir=base_dir)
        path = spec.path
        if path.startswith("file://"):
            path = path[len("file://") :]
        self.remote = "://" in path
        if self.remote:
            self.location = path
        else:
            p = Path(path).expanduser()
            self.location = str(p if p.is_absolute() else self.base_dir / p)
        self.compression, self.format = self._detect(path)
        self._sniffed_sep: str | None = None
        self._guessed_encoding: str | None = None  # set when a file without `encoding:` is not UTF-8

    # --------------------------------------------------------------- detection
    def _detect(self, path: str) -> tuple[str | None, str]:
        fmt, compression = file_format(path, self.spec.format)  # what mlx validate tells from the suffix, too
        if fmt is None:
            raise self.error(
                f"cannot tell the format of '{self.spec.path}' from its suffix",
                hint="add `format:` (csv, tsv, parquet, json, jsonl or excel)",
                usage=True,
            )
        if compression and fmt in ("parquet", "excel"):
            raise self.error(
                f"{_NAMES[fmt]} files are compressed inside; a {compression}-compressed file cannot be read as {_NAMES[fmt]}",
                hint="decompress it, or save the table as plain Parquet",
                usage=True,
            )
        return compression, fmt

    # ----------------------------------------------------------------- options
    def _storage_options(self) -> dict[str, Any]:
        return dict(self.spec.storage_options)

    def _secrets(self) -> list[str]:
        so = self.spec.storage_options
        found = [str(v) for k, v in so.items() if k in ("secret", "key", "token", "password", "aws_secret_access_key", "aws_session_token")]
        ck = so.get("client_kwargs") or {}
        found += [str(v) for k, v in ck.items() if "secret" in k or "token" in k or k in ("aws_access_key_id",)]
        if self.remote:  # signed URLs and ?token=...: the values are credentials
            found += [v for k, v in parse_qsl(urlsplit(self.location).query) if _SECRET_PARAM.search(k)]
        return found

    def _reader_config(self) -> dict[str, Any]:
        s = self.spec
        return {
            "format": self.format,
            "compression": self.compression,
            "sep": s.sep,
            "encoding": s.encoding,
            "sheet": s.sheet,
            "columns": s.columns,
            "dtypes": s.dtypes,
            "options": s.options,
            "reader": READER_VERSION,
        }

    def describe(self) -> str:
        extra = f", sheet {self.spec.sheet!r}" if self.format == "excel" and self.spec.sheet is not None else ""
        if self._sniffed_sep not in (None, ","):
            extra += f", sep {self._sniffed_sep!r}"
        if self._guessed_encoding:
            extra += f", encoding {self._guessed_encoding}"
        comp = f", {self.compression}" if self.compression else ""
        return f"file {self._mask(self.location)} ({self.format}{comp}{extra})"

    # ------------------------------------------------------------- fingerprint
    def fingerprint(self) -> str:
        with self._guard("open"):
            if self.remote:
                return _digest("file", self._mask(self.location), self._remote_version(), self._reader_config())
            return _digest("file", self._local_version(), self._reader_config())

    def _local_version(self) -> Any:
        p = Path(self.location)
        try:
            st = p.stat()
        except FileNotFoundError as exc:
            raise self._not_found(exc) from None
        if p.is_dir():  # a Parquet dataset: a folder of files
            files = sorted(f for f in p.rglob("*") if f.is_file())
            return [(str(f.relative_to(p)), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
        if st.st_size <= CONTENT_HASH_LIMIT:
            with open(p, "rb") as f:
                return {"sha256": hashlib.file_digest(f, "sha256").hexdigest()}
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def _remote_version(self) -> Any:
        import fsspec

        fs, path = fsspec.core.url_to_fs(self.location, **self._storage_options())
        info = fs.info(path)
        version = {k: info[k] for k in _VERSION_KEYS if k in info}
        if not version and (info.get("size") or 0) <= CONTENT_HASH_LIMIT:
            # Nothing tells the version (a plain HTTP server): hash the bytes.
            with fs.open(path, "rb") as f:
                version = {"sha256": hashlib.file_digest(f, "sha256").hexdigest()}
        version["size"] = info.get("size")
        return version

    # ----------------------------------------------------------------- reading
    @contextlib.contextmanager
    def _handle(self) -> Iterator[tuple[Any, str | None]]:
        """What to give the pandas reader, and the compression it must undo.

        Local paths go to pandas as strings (its fastest path). URLs are opened
        with fsspec, so that every remote file system and its options work the
        same way. zstd is undone by pyarrow (a required dependency) so that the
        optional ``zstandard`` package is not needed.
        """
        compression = self.compression
        if not self.remote and compression != "zstd":
            yield self.location, compression
            return
        with contextlib.ExitStack() as stack:
            if self.remote:
                import fsspec

                handle: Any = stack.enter_context(fsspec.open(self.location, "rb", **self._storage_options()))
            else:
                handle = stack.enter_context(open(self.location, "rb"))
            if compression == "zstd":
                import pyarrow as pa

                handle = stack.enter_context(pa.CompressedInputStream(handle, "zstd"))
                compression = None
            yield handle, compression

    def _separator(self) -> str:
        """The field separator: `sep:`, a tab for TSV, else a comma unless the first line says otherwise.

        A CSV file from a spreadsheet set to a European locale separates fields
        with ';' (its numbers have decimal commas). Read with commas, its header
        is one column, ``x1;x2;y``, and the target is "not a column". When
        neither `sep:` nor `options: {sep/delimiter}` is given and the first
        line holds no comma but ';', a tab or '|', that is the separator (shown
        in the source's description).
        """
        s = self.spec
        if s.sep:
            return s.sep
        if self.format == "tsv" or "sep" in s.options or "delimiter" in s.options:
            return "\t" if self.format == "tsv" else ","
        if self._sniffed_sep is None:
            self._sniffed_sep = self._sniff_separator()
        return self._sniffed_sep

    def _sniff_separator(self) -> str:
        kw: dict[str, Any] = {k: v for k, v in self.spec.options.items() if k in ("skiprows", "comment", "quotechar", "encoding", "encoding_errors")}
        if self.spec.encoding or self._guessed_encoding:
            kw["encoding"] = self.spec.encoding or self._guessed_encoding
        with self._handle() as (src, compression):
            try:
                first = pd.read_csv(src, sep=",", header=None, nrows=1, dtype=str, compression=compression, **kw)
            except (pd.errors.EmptyDataError, pd.errors.ParserError):
                return ","  # the read proper says what is wrong
        if first.shape[1] != 1 or first.empty or not isinstance(first.iat[0, 0], str):
            return ","
        line = first.iat[0, 0]
        count, sep = max((line.count(sep), sep) for sep in _OTHER_SEPARATORS)
        return sep if count else ","

    def _csv_kwargs(self, compression: str | None) -> dict[str, Any]:
        s = self.spec
        kw: dict[str, Any] = {"sep": self._separator(), "compression": compression}
        if s.encoding or self._guessed_encoding:
            kw["encoding"] = s.encoding or self._guessed_encoding
        if s.columns:
            kw["usecols"] = list(s.columns)
        if s.dtypes:
            kw["dtype"] = dict(s.dtypes)
        # The default C engine: with pandas 3 it parses large files on several
        # threads and, measured on a 1M x 20 CSV, beats engine="pyarrow" on time
        # and peak memory (benchmarks/load.py). `options: {engine: pyarrow}` still works.
        kw.update(s.options)
        return kw

    def _read(self, nrows: int | None = None) -> pd.DataFrame:
        """The table (its first ``nrows`` rows), from a text file in a legacy encoding too.

        A CSV/TSV file that is not UTF-8 and whose encoding the spec does not
        give (`encoding:`, `options: {encoding}`) is read as Windows-1252, the
        encoding of spreadsheets saved on Western-European Windows, else as
        Latin-1, which reads any bytes; the description says which
        (``csv, encoding cp1252``).
        """
        self._refuse_unnamed_compression()
        try:
            return self._read_once(nrows)
        except UnicodeDecodeError:
            if self.format not in ("csv", "tsv") or self.spec.encoding or "encoding" in self.spec.options or self._guessed_encoding:
                raise
        for encoding in _LEGACY_ENCODINGS:
            self._guessed_encoding, self._sniffed_sep = encoding, None
            try:
                return self._read_once(nrows)
            except UnicodeDecodeError:
                continue
        raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover

    def _read_once(self, nrows: int | None = None) -> pd.DataFrame:
        s = self.spec
        fmt = self.format
        if fmt == "parquet":
            return self._read_parquet(nrows)
        with self._handle() as (src, compression):
            if fmt in ("csv", "tsv"):
                kw = self._csv_kwargs(compression)
                if nrows is not None:
                    kw["nrows"] = nrows
                    if kw.get("engine") == "pyarrow":
                        kw.pop("engine")  # pyarrow cannot stop after n rows
                frame = pd.read_csv(src, **kw)
                self._refuse_title_line(frame)
                self._refuse_repeated_names(frame)
                return frame
            if fmt in ("json", "jsonl"):
                kw = {"lines": fmt == "jsonl", "compression": compression}
                if s.encoding:
                    kw["encoding"] = s.encoding
                if s.dtypes:
                    kw["dtype"] = dict(s.dtypes)
                if nrows is not None and fmt == "jsonl":
                    kw["nrows"] = nrows
                kw.update(s.options)
                frame = pd.read_json(src, **kw)
                if not isinstance(frame, pd.DataFrame):
                    raise self.error("the JSON file does not hold a table", hint="use a list of records, or JSON Lines (format: jsonl)")
                return self._select(_flatten(frame))
            if fmt == "excel":
                kw = {"sheet_name": s.sheet if s.sheet is not None else 0}
                if s.columns:
                    kw["usecols"] = list(s.columns)
                if s.dtypes:
                    kw["dtype"] = dict(s.dtypes)
                if nrows is not None:
                    kw["nrows"] = nrows
                kw.update(s.options)
                frame = pd.read_excel(src, **kw)
                self._refuse_repeated_names(frame)
                return frame
        raise AssertionError(fmt)  # pragma: no cover - _detect accepts these formats only

    def _refuse_unnamed_compression(self) -> None:
        """A compressed text file whose name does not say so (``data.csv`` holding gzip) is an error saying how to name it.

        pandas decompresses by the suffix only: the compressed bytes were read
        as Latin-1 text, and the message was a tokenizer error, or "no rows".
        """
        if self.compression is not None or self.format not in ("csv", "tsv", "json", "jsonl"):
            return
        try:
            if self.remote:
                import fsspec

                with fsspec.open(self.location, "rb", **self._storage_options()) as f:
                    start = f.read(10)
            else:
                with open(self.location, "rb") as f:
                    start = f.read(10)
        except (OSError, ValueError):
            return  # (not found, a folder...): the read proper says what is wrong
        for magic, compression, suffix in _COMPRESSED_MAGIC:
            if (magic.match(start) if isinstance(magic, re.Pattern) else start.startswith(magic)):
                name = self.spec.path.rstrip("/").rsplit("/", 1)[-1]
                raise self.error(
                    f"'{name}' is {compression}-compressed, but its name does not end in {suffix}",
                    hint=f"name it {name}{suffix} (the format is read from the suffix before {suffix}), or decompress it",
                    usage=True,
                )

    def _refuse_title_line(self, frame: pd.DataFrame) -> None:
        """A line above the header ("Sales report, 2024", "# exported by ...") is an error saying to skip it.

        pandas takes that line for the header: one column named after the
        title, and the real header and rows squeezed into the index (the
        target was then "not a column", the known columns ``level_0``,
        ``level_1``...). Told only when the second line looks like a header:
        two or more names, none of them a number.
        """
        if frame.shape[1] != 1 or isinstance(frame.index, pd.RangeIndex) or len(frame) == 0:
            return
        if any(k in self.spec.options for k in ("index_col", "header", "names", "skiprows")):
            return
        first = frame.index[0]
        line = [*(first if isinstance(first, tuple) else (first,)), frame.iat[0, 0]]
        if not all(isinstance(v, str) and v.strip() for v in line) or not pd.to_numeric(pd.Series(line), errors="coerce").isna().all():
            return
        title = str(frame.columns[0])
        shown = title if len(title) <= 60 else title[:57] + "..."
        raise self.error(
            f"the first line of {self.describe()} is {shown!r}, one field, and the next has {len(line)} ({', '.join(map(repr, line[:4]))}"
            f"{', ...' if len(line) > 4 else ''}): a title above the header?",
            hint="skip it with options: {skiprows: 1}" + (" (or comment: '#' for lines starting with #)" if title.startswith("#") else ""),
            usage=True,
        )

    def _refuse_repeated_names(self, frame: pd.DataFrame) -> None:
        """A CSV or Excel header that names two columns the same is an error, as in a SQL result.

        pandas reads the second ``price`` as ``price.1``: the spec's ``price``
        (a target, a drop, a type) then means the first one only, silently.
        The header row is read again only when a name looks like that
        (``x.1`` next to ``x``); ``options: {names: ...}`` is left alone.
        """
        names = {str(c) for c in frame.columns}
        if not any((m := _MANGLED.match(str(c))) and m.group(1) in names for c in frame.columns):
            return
        s = self.spec
        if any(k in s.options for k in ("names", "header", "index_col")):
            return
        with self._handle() as (src, compression):
            if self.format == "excel":
                raw = pd.read_excel(src, sheet_name=s.sheet if s.sheet is not None else 0, header=None, nrows=1, dtype=str)
            else:
                kw = self._csv_kwargs(compression)
                for k in ("usecols", "dtype", "engine", "nrows", "converters", "parse_dates", "na_values", "keep_default_na"):
                    kw.pop(k, None)
                raw = pd.read_csv(src, header=None, nrows=1, dtype=str, keep_default_na=False, **kw)
        header = [str(v) for v in raw.iloc[0].tolist()] if len(raw) else []
        wanted = set(s.columns) if isinstance(s.columns, list) else {s.columns} if s.columns else None
        twice = sorted({n for n in header if header.count(n) > 1 and (wanted is None or n in wanted)})
        if twice:
            shown = ", ".join(f"'{n}'" for n in twice[:5]) + (f" and {len(twice) - 5} more" if len(twice) > 5 else "")
            raise self.error(
                f"the header row of {self.describe()} has two columns named {shown} (pandas would read the second as "
                + ", ".join(f"'{n}.1'" for n in twice[:5])
                + ")",
                hint="give every column its own name in the file, or name them all with options: {names: [...], header: 0}",
            )

    def _read_parquet(self, nrows: int | None) -> pd.DataFrame:
        s = self.spec
        kw: dict[str, Any] = {}
        if s.columns:
            kw["columns"] = list(s.columns)
        if nrows is None:
            if self.remote:
                kw["storage_options"] = self._storage_options()
            kw.update(s.options)
            frame = pd.read_parquet(self.location, **kw)
        else:
            frame = self._parquet_head(nrows, kw.get("columns"))
        return frame.astype(dict(s.dtypes)) if s.dtypes else frame

    def _is_folder(self) -> bool:
        return not self.remote and Path(self.location).is_dir()

    @contextlib.contextmanager
    def _parquet_file(self) -> Iterator[Any]:
        """A ``pyarrow.parquet.ParquetFile``: metadata and row groups on demand."""
        import pyarrow.parquet as pq

        if not self.remote:
            yield pq.ParquetFile(self.location)
            return
        import fsspec

        with fsspec.open(self.location, "rb", **self._storage_options()) as f:
            yield pq.ParquetFile(f)

    def _parquet_head(self, nrows: int, columns: list[str] | None) -> pd.DataFrame:
        import pyarrow as pa
        import pyarrow.dataset as ds

        if self._is_folder():  # a dataset of several files
            return ds.dataset(self.location, format="parquet").head(nrows, columns=columns).to_pandas()
        with self._parquet_file() as pf:
            batch = next(pf.iter_batches(batch_size=max(nrows, 1), columns=columns), None)
            table = pa.Table.from_batches([batch]) if batch is not None else pf.schema_arrow.empty_table()
            frame = table.slice(0, nrows).to_pandas()
            return _with_range_index(frame, pf.schema_arrow, columns)

    def _parquet_columns(self) -> list[str]:
        return list(self._normalise(self._parquet_head(0, None)).columns)

    def _select(self, frame: pd.DataFrame) -> pd.DataFrame:
        cols = self.spec.columns
        if not cols:
            return frame
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise self._unknown_columns(missing, list(frame.columns))
        return frame[list(cols)]

    def _load(self, progress: Any) -> pd.DataFrame:
        task = _task(progress, f"reading {self.name}")
        frame = self._read()
        _finish(progress, task, len(frame))
        return frame

    def _head(self, n: int) -> pd.DataFrame:
        return self._read(nrows=n)

    def schema(self) -> dict[str, str]:
        if self.format != "parquet":
            return super().schema()
        with self._guard("read"):
            # Parquet keeps its schema (and pandas' dtypes) in the footer: no rows read.
            frame = self._normalise(self._parquet_head(0, None))
            if self.spec.columns:
                frame = self._select(frame)
            if self.spec.dtypes:
                frame = frame.astype(dict(self.spec.dtypes))
            return {str(c): str(t) for c, t in frame.dtypes.items()}

    # ------------------------------------------------------------------ errors
    def _not_found(self, exc: Exception) -> SourceError:
        where = self._mask(self.location)
        hint = "check `path`"
        if not self.remote:
            p = Path(self.location)
            hint += f" (relative paths are relative to the spec's folder, {self.base_dir})"
            if p.parent.is_dir():
                close = suggestion_hint(p.name, [c.name for c in p.parent.iterdir()])
                if close.startswith("did you mean"):
                    hint = close
        return self.error(f"file not found: {where}", hint=hint)

    def _unknown_columns(self, missing: list[str], known: list[str]) -> SourceError:
        names = ", ".join(f"'{m}'" for m in missing)
        return self.error(
            f"`columns` names {names}, not in {self.describe()}",
            hint=suggestion_hint(missing[0], [str(k) for k in known], what="column"),
            usage=True,
        )

    def _header(self) -> list[str]:
        """The file's column names, ignoring `columns` (for did-you-mean hints)."""
        s = self.spec
        if self.format == "parquet":
            return self._parquet_columns()
        with self._handle() as (src, compression):
            if self.format in ("csv", "tsv"):
                kw = self._csv_kwargs(compression)
                for k in ("usecols", "dtype", "engine"):
                    kw.pop(k, None)
                return list(pd.read_csv(src, nrows=0, **kw).columns)
            if self.format == "excel":
                return list(pd.read_excel(src, sheet_name=s.sheet if s.sheet is not None else 0, nrows=0).columns)
        return []

    def _sheets(self) -> list[str]:
        with self._handle() as (src, _):
            return list(pd.ExcelFile(src).sheet_names)

    def _translate(self, exc: Exception, action: str) -> AutomlYamlError:
        what = _NAMES[self.format]
        where = self._mask(self.location)
        text = _first_line(exc)
        name = type(exc).__name__
        unreachable = next((e for e in _chain(exc) if _is_connection_error(e)), None)
        if unreachable is not None:
            return self.error(f"cannot reach {where}: {_first_line(unreachable)}", hint="check the URL, the network and storage_options (endpoint_url)")
        if isinstance(exc, FileNotFoundError):
            return self._not_found(exc)
        if isinstance(exc, IsADirectoryError) or (isinstance(exc, OSError) and "directory" in text.lower() and self.format != "parquet"):
            return self.error(f"{where} is a folder, not a {what} file", hint="give the path of a file")
        if isinstance(exc, PermissionError) or name in ("NoCredentialsError", "PartialCredentialsError", "ClientError") and "Denied" in text:
            hint = (
                "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or storage_options: {key: ${...}, secret: ${...}}), or {anon: true} for a public bucket"
                if self.location.startswith(("s3://", "s3a://"))
                else "check the file's permissions and the credentials in storage_options"
            )
            return self.error(f"access denied to {where}", hint=hint)
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            return self.error(
                f"no credentials to read {where}",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or storage_options: {anon: true} for a public bucket",
            )
        if isinstance(exc, UnicodeDecodeError):
            enc = self.spec.encoding or "utf-8"
            return self.error(f"{where} is not valid {enc} text", hint="set `encoding:` (for example latin-1 or cp1252)")
        if isinstance(exc, pd.errors.EmptyDataError):
            return self.error(f"{where} is empty", hint="check the file (it has no header and no rows)")
        if self.spec.columns and re.search(r"usecols|not in (?:the )?(?:index|schema)|no match|field named|not found", text, re.I):
            with contextlib.suppress(Exception):
                known = self._header()
                missing = [c for c in self.spec.columns if c not in known]
                if missing:
                    return self._unknown_columns(missing, known)
        if self.format == "excel" and re.search(r"worksheet|sheet", text, re.I):
            with contextlib.suppress(Exception):
                sheets = self._sheets()
                return self.error(
                    f"{where} has no sheet {self.spec.sheet!r}",
                    hint=suggestion_hint(str(self.spec.sheet), sheets, what="sheet") if isinstance(self.spec.sheet, str) else f"it has {len(sheets)} sheets: " + ", ".join(sheets),
                    usage=True,
                )
        if isinstance(exc, TypeError) and "unexpected keyword" in text:
            return self.error(f"`options` has an argument the {what} reader does not take: {text}", hint="see the pandas reader's documentation", usage=True)
        hint = {
            "csv": "check `format:`, `sep:` and `encoding:`, or pass pandas options in `options:`",
            "tsv": "check `format:`, `sep:` and `encoding:`",
            "json": "a JSON file must hold a list of records (or use format: jsonl for one object per line)",
            "jsonl": "a JSON Lines file holds one JSON object per line",
            "parquet": "check that the file is Parquet (format:)",
            "excel": "check that the file is an .xlsx workbook (format:) and `sheet:`",
        }[self.format]
        return self.error(f"cannot {action} {where} as {what}: {text}", hint=hint)


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Nested objects as ``a.b`` columns, as MongoDB documents are read.

    ``pandas.read_json`` keeps ``{"info": {"n": 1}}`` as one column of dicts;
    each such column is replaced by its fields (a record without the object
    has missing values in them).
    """
    nested = [c for c in frame.columns if frame[c].dtype == object and frame[c].map(lambda v: isinstance(v, dict)).any()]
    if not nested:
        return frame
    parts = []
    for col in frame.columns:
        if col in nested:
            fields = pd.json_normalize([v if isinstance(v, dict) else {} for v in frame[col]])
            fields.index = frame.index
            parts.append(fields.add_prefix(f"{col}."))
        else:
            parts.append(frame[[col]])
    return pd.concat(parts, axis=1)


def _with_range_index(frame: pd.DataFrame, schema: Any, columns: list[str] | None) -> pd.DataFrame:
    """Add back a named RangeIndex that pandas kept as metadata only.

    ``df.set_index("id").to_parquet()`` with ids 1, 2, 3, ... stores no ``id``
    column, only ``{"kind": "range", "name": "id", "start": 1, ...}``;
    ``pandas.read_parquet`` rebuilds it, a batch read with pyarrow does not.
    """
    meta = (schema.metadata or {}).get(b"pandas")
    if not meta:
        return frame
    for index in json.loads(meta).get("index_columns", []):
        if isinstance(index, dict) and index.get("kind") == "range" and index.get("name") and index["name"] not in frame.columns:
            if columns is None or index["name"] in columns:
                start, step = index["start"], index["step"]
                frame.insert(0, index["name"], pd.RangeIndex(start, start + step * len(frame), step).to_numpy())
    return frame


# --------------------------------------------------------------------------------- SQL

_READ_ONLY_SESSION = {
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
}
_WRITE_REFUSED = re.compile(r"read-only transaction|readonly database|read only transaction|READ ONLY option|data-modifying statement", re.I)
#: Words of statements that write; only used to explain a refused query (the
#: database's read-only mode and the sub-query check are what refuse it).
_WRITE_WORDS = re.compile(r"\b(insert|update|delete|merge|create|drop|alter|truncate|grant|revoke|commit|vacuum|copy)\b", re.I)
_SPEC_MISTAKE = re.compile(
    r"no such (table|column)|does not exist|syntax error|unknown column|doesn't exist|required for bind parameter|multiple commands|one statement", re.I
)


class SqlSource(BaseSource):
    """A table or a query of any SQLAlchemy database, read in a read-only session.

    ``postgresql://`` URLs use psycopg 3. Writes are refused three ways: the
    session is read-only (PostgreSQL, MySQL), SQLite files are opened with
    ``mode=ro``, and the query is first sent wrapped as a sub-query with
    ``LIMIT 0`` (:meth:`_check_query`), which refuses anything but a single
    SELECT. Nothing is committed. Other databases get no read-only guarantee
    beyond "never committed".

    A query is run once: its rows are counted as they arrive (no ``COUNT(*)``
    first, which costs as much as the query), and its fingerprint, made of
    that count, is known only once it is read (:attr:`fingerprinted_by_reading`).
    """

    kind = "sql"

    def __init__(self, name: str, spec: Any, *, base_dir: Path):
        super().__init__(name, spec, base_dir=base_dir)
        self._engine: Any = None
        self._count_cache: int | None = None

    # ----------------------------------------------------------------- engine
    def _url(self) -> Any:
        sa = _sqlalchemy()
        try:
            url = sa.make_url(self.spec.url)
        except Exception:  # noqa: BLE001 - SQLAlchemy raises ArgumentError or ValueError
            raise self.error(
                f"cannot parse the database URL {self._mask(self.spec.url)}",
                hint="write it as dialect://user:password@host:port/database (e.g. postgresql://..., sqlite:///file.db)",
                usage=True,
            ) from None
        backend = url.get_backend_name()
        if backend in ("postgresql", "postgres") and url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if backend in ("mysql", "mariadb") and url.drivername in ("mysql", "mariadb"):
            # SQLAlchemy's default is mysqlclient (a C build); PyMySQL is pure Python, as mlx validate says
            url = url.set(drivername=f"{backend}+pymysql")
        if backend == "sqlite":
            url = self._sqlite_read_only(url)
        return url

    def _sqlite_read_only(self, url: Any) -> Any:
        db = url.database
        if not db or db == ":memory:" or db.startswith("file:"):
            return url
        p = Path(db).expanduser()
        p = p if p.is_absolute() else self.base_dir / p
        if not p.is_file():
            raise self.error(f"database file not found: {p}", hint="check the path in `url` (relative to the spec's folder)")
        # mode=ro: SQLite itself refuses every write (and never creates the file).
        return url.set(database=p.resolve().as_uri() + "?mode=ro", query={**url.query, "uri": "true"})

    def engine(self) -> Any:
        """The SQLAlchemy engine (no pooling: a run opens a few connections and closes them)."""
        if self._engine is None:
            sa = _sqlalchemy()
            from sqlalchemy.pool import NullPool

            url = self._url()
            connect_args = {"connect_timeout": SQL_CONNECT_TIMEOUT} if url.get_backend_name() == "postgresql" else {}
            try:
                engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
            except ImportError as exc:
                package = _missing_optional(exc) or url.get_driver_name()
                package = _PIP_NAMES.get(package, package)
                raise MissingDependencyError(package, extra=_EXTRAS.get(package), purpose=f"source '{self.name}'") from None
            except Exception as exc:  # noqa: BLE001 - unknown dialect, bad driver options
                raise self.error(f"cannot use the database URL {self._display_url()}: {_first_line(exc)}", usage=True) from None
            statement = _READ_ONLY_SESSION.get(url.get_backend_name())
            if statement:

                def _read_only(dbapi_conn: Any, _record: Any) -> None:
                    cur = dbapi_conn.cursor()
                    cur.execute(statement)
                    cur.close()
                    dbapi_conn.commit()

                sa.event.listen(engine, "connect", _read_only)
            self._engine = engine
        return self._engine

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        try:
            conn = self.engine().connect()
        except AutomlYamlError:
            raise
        except Exception as exc:  # noqa: BLE001 - OperationalError, InterfaceError, driver errors
            raise self._connection_error(exc) from None
        try:
            with self._guard("query"):
                yield conn
        finally:
            conn.close()  # rolls back: a source is never committed to

    def _url_text(self) -> str:
        """The URL connected to, password hidden (SQLite: the file's absolute, read-only URI)."""
        try:
            return self._url().render_as_string(hide_password=True)
        except AutomlYamlError:
            return self._mask(self.spec.url)

    def _display_url(self) -> str:
        """The URL for messages: SQLite's as the spec wrote it (``file%3A///...%3Fmode%3Dro?uri=true`` told the user nothing)."""
        if self.spec.url.split(":", 1)[0].split("+")[0] == "sqlite":
            return self._mask(self.spec.url)
        return self._url_text()

    def _secrets(self) -> list[str]:
        try:
            sa = _sqlalchemy()
            pw = sa.make_url(self.spec.url).password
        except Exception:  # noqa: BLE001
            return []
        return [str(pw)] if pw else []

    # -------------------------------------------------------------- statements
    def _query_text(self) -> str:
        return self.spec.query.strip().rstrip(";").strip()

    def _table(self) -> Any:
        sa = _sqlalchemy()
        name, schema = self.spec.table, self.spec.db_schema
        if schema is None and "." in name:
            schema, name = name.split(".", 1)
        return sa.table(name, schema=schema)

    def _from(self) -> Any:
        """What to select from: the table, or the query as a sub-query."""
        sa = _sqlalchemy()
        if self.spec.table is not None:
            return self._table()
        return sa.text(self._query_text()).columns().subquery("mlx_query")

    def _select_all(self, limit: int | None = None) -> Any:
        sa = _sqlalchemy()
        if self.spec.table is None and limit is None:
            return sa.text(self._query_text())
        stmt = sa.select(sa.literal_column("*")).select_from(self._from())
        return stmt.limit(limit) if limit is not None else stmt

    def _params(self) -> dict[str, Any]:
        return dict(self.spec.params) if self.spec.table is None else {}

    def _guarded(self, stmt: Any) -> Any:
        """``stmt`` with an always-true bound condition.

        Bound values make drivers such as psycopg use the extended protocol,
        which refuses several statements in one string (``SELECT 1) x; COMMIT; DELETE ...``).
        """
        sa = _sqlalchemy()
        return stmt.where(sa.literal(1) == sa.literal(1))

    def _count(self, conn: Any) -> int:
        """Rows of the table or query (for a query: those counted when it was read, else a ``COUNT(*)`` over it)."""
        sa = _sqlalchemy()
        if self._count_cache is None:
            stmt = self._guarded(sa.select(sa.func.count()).select_from(self._from()))
            self._count_cache = int(conn.execute(stmt, self._params()).scalar_one())
        return self._count_cache

    def _check_query(self, conn: Any) -> pd.DataFrame:
        """The check that the query is one SELECT, without running it: its columns, no rows.

        Wrapped as a sub-query, a write (``DELETE ... RETURNING``) is a syntax
        error, and so is a second statement after a closing parenthesis. With
        ``LIMIT 0`` the database plans the query and fetches nothing: PostgreSQL's
        Limit node and SQLite's limit counter stop before the sub-query runs,
        MySQL answers "Impossible LIMIT" (a user function in the query is not called).
        """
        sa = _sqlalchemy()
        stmt = self._guarded(sa.select(sa.literal_column("*")).select_from(self._from())).limit(0)
        result = conn.execute(stmt, self._params())  # not pd.read_sql, which hides the driver's error behind its own
        return pd.DataFrame(columns=list(result.keys()))

    @property
    def fingerprinted_by_reading(self) -> bool:
        """A query's fingerprint needs its row count, and only running it tells: it is read first (see :class:`BaseSource`)."""
        return self.spec.query is not None

    # --------------------------------------------------------------- interface
    def describe(self) -> str:
        what = f"table {self._table_name()}" if self.spec.table is not None else f"query {_short(self._query_text())}"
        return f"sql {self._display_url()} {what}"

    def _table_name(self) -> str:
        return f"{self.spec.db_schema}.{self.spec.table}" if self.spec.db_schema else self.spec.table

    def fingerprint(self) -> str:
        with self._connect() as conn:
            rows = self._count(conn)
        what = {"table": self._table_name()} if self.spec.table is not None else {"query": self._query_text(), "params": self.spec.params}
        return _digest("sql", self._url_text(), what, rows, READER_VERSION)

    def _load(self, progress: Any) -> pd.DataFrame:
        with self._connect() as conn:
            if self.spec.query is not None:
                empty = self._check_query(conn)  # first: nothing else is sent unless the query is one SELECT
                total = None  # unknown until read: the progress shows the rows as they arrive
            else:
                empty = None
                total = self._count(conn)  # a table's count is cheap next to reading it, and is its fingerprint
            task = _task(progress, f"reading {self.name}", total)
            # A server-side cursor: memory holds one chunk of rows, not all of them.
            conn = conn.execution_options(stream_results=True, max_row_buffer=self.spec.chunksize)
            chunks = []
            rows = 0
            for chunk in pd.read_sql(self._select_all(), conn, params=self._params() or None, chunksize=self.spec.chunksize):
                chunks.append(chunk)
                rows += len(chunk)
                _advance(progress, task, len(chunk))
            _finish(progress, task, rows)
        if self.spec.query is not None:
            self._count_cache = rows
        if not chunks:
            return empty if empty is not None else self._head(0)
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)

    def _head(self, n: int) -> pd.DataFrame:
        with self._connect() as conn:
            return pd.read_sql(self._select_all(limit=n), conn, params=self._params() or None)

    # ------------------------------------------------------------------ errors
    def _connection_error(self, exc: Exception) -> SourceError:
        reason = _first_line(getattr(exc, "orig", None) or exc)
        reason = re.sub(r"^connection failed:\s*", "", reason)
        hint = "check the host, port, database name and credentials in `url` (use ${VAR} for the password)"
        if re.search(r"password authentication|authentication failed|access denied", reason, re.I):
            hint = "check the user name and password (e.g. url: postgresql://${PGUSER}:${PGPASSWORD}@host/db)"
        elif re.search(r"does not exist", reason, re.I):
            hint = "check the database name at the end of `url`"
        return self.error(f"cannot connect to {self._display_url()}: {reason}", hint=hint)

    def _translate(self, exc: Exception, action: str) -> AutomlYamlError:
        orig = _database_error(exc)
        reason = _first_line(orig)
        writes = self.spec.query is not None and _WRITE_WORDS.search(self._query_text())
        if _WRITE_REFUSED.search(str(exc)) or (writes and re.search(r"syntax error|one statement|multiple commands", reason, re.I)):
            word = f" ({writes.group(1).upper()})" if writes else ""
            return self.error(
                f"the query was refused: it writes to the database{word}, and sources are only ever read (database: {reason})",
                hint="give a single SELECT statement in `query:`",
                usage=True,
            )
        if type(exc).__name__ == "ResourceClosedError":
            return self.error("the query returns no rows (is it a SELECT?)", hint="give a SELECT query in `query:`", usage=True)
        if self.spec.table is not None and re.search(r"no such table|does not exist|doesn't exist", reason, re.I):
            return self.error(f"no table {self._table_name()} in {self._display_url()}", hint=self._table_hint(), usage=True)
        if "required for bind parameter" in str(exc):
            m = re.search(r"bind parameter '(\w+)'", str(exc), re.IGNORECASE)
            param = m.group(1) if m else "?"
            return self.error(f"the query uses :{param}, which `params` does not give", hint=f"add params: {{{param}: ...}}", usage=True)
        usage = bool(_SPEC_MISTAKE.search(reason))
        server_hint = getattr(getattr(orig, "diag", None), "message_hint", None)  # PostgreSQL's "Perhaps you meant ..."
        hint = server_hint or ("run the query in a SQL client to see what is wrong" if usage else None)
        return self.error(f"the query failed: {reason}", hint=hint, usage=usage)

    def _table_hint(self) -> str:
        sa = _sqlalchemy()
        table = self._table()
        try:
            with self.engine().connect() as conn:
                names = sa.inspect(conn).get_table_names(schema=table.schema) + sa.inspect(conn).get_view_names(schema=table.schema)
        except Exception:  # noqa: BLE001 - the hint is a courtesy
            return "check `table` and `schema`"
        return suggestion_hint(table.name, names, what="table") or "check `table` and `schema`"


#: pandas' wrapper of a driver's error: "Execution failed on sql 'SELECT *\nFROM ...': <the database's reason>".
_PANDAS_SQL_FAILED = re.compile(r"^Execution failed on sql '.*?': (?P<reason>.+)$", re.S)


def _database_error(exc: BaseException) -> BaseException:
    """The driver's own exception behind ``exc`` (the database's reason), else ``exc``.

    ``pandas.read_sql`` raises its ``DatabaseError("Execution failed on sql
    '<the whole statement>': ...")`` from SQLAlchemy's error, whose ``orig`` is
    the driver's: the statement's first line is all ``_first_line`` kept of it.
    """
    for e in _chain(exc):
        orig = getattr(e, "orig", None)
        if isinstance(orig, BaseException):
            return orig
    m = _PANDAS_SQL_FAILED.match(str(exc))
    return type(exc)(m.group("reason")) if m else exc


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise MissingDependencyError("sqlalchemy", extra="sql", purpose="SQL sources") from None
    return sqlalchemy


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= n else text[: n - 1] + "…")


# ------------------------------------------------------------------------------- Mongo


class MongoSource(BaseSource):
    """A MongoDB collection (pymongo); nested documents become ``a.b`` columns.

    Values pandas and Parquet cannot hold as they are become strings:
    ObjectIds as their hex, lists and sub-documents inside lists as JSON.
    """

    kind = "mongo"
    batch_size: ClassVar[int] = 50_000

    def _client(self) -> Any:
        try:
            import pymongo
        except ImportError:
            raise MissingDependencyError("pymongo", extra="mongo", purpose="MongoDB sources") from None
        try:
            return pymongo.MongoClient(self.spec.uri, serverSelectionTimeoutMS=MONGO_TIMEOUT_MS)
        except Exception as exc:  # noqa: BLE001 - InvalidURI, ConfigurationError
            raise self.error(f"cannot use the MongoDB URI {self._mask(self.spec.uri)}: {_first_line(exc)}", usage=True) from None

    @contextlib.contextmanager
    def _collection(self) -> Iterator[Any]:
        client = self._client()
        try:
            with self._guard("read"):
                yield client[self.spec.database][self.spec.collection]
        finally:
            client.close()

    def _secrets(self) -> list[str]:
        m = re.match(r"^[\w+.\-]+://[^:/@]*:([^@/]+)@", self.spec.uri)
        return [m.group(1)] if m else []

    def _projection(self) -> dict[str, Any] | None:
        proj = self.spec.projection
        if isinstance(proj, list):
            proj = {f: 1 for f in proj}
        proj = dict(proj) if proj else {}
        if not self.spec.include_id:
            proj["_id"] = 0
        elif proj and any(v for v in proj.values()):
            proj.setdefault("_id", 1)
        return proj or None

    def _find(self, coll: Any, limit: int | None) -> Any:
        s = self.spec
        kw: dict[str, Any] = {}
        if s.sort:
            kw["sort"] = list(s.sort.items())
        n = min(x for x in (limit, s.limit) if x is not None) if (limit or s.limit) else 0
        return coll.find(s.filter, self._projection(), limit=n, **kw)

    def _count(self, coll: Any) -> int:
        kw = {"limit": self.spec.limit} if self.spec.limit else {}
        return int(coll.count_documents(self.spec.filter, **kw))

    def describe(self) -> str:
        filt = f" filter {json.dumps(self.spec.filter, default=str)}" if self.spec.filter else ""
        return f"mongo {self._mask(self.spec.uri)} {self.spec.database}.{self.spec.collection}{filt}"

    def fingerprint(self) -> str:
        s = self.spec
        with self._collection() as coll:
            count = self._count(coll)
        what = {"filter": s.filter, "projection": s.projection, "sort": s.sort, "limit": s.limit, "include_id": s.include_id}
        return _digest("mongo", self._mask(s.uri), s.database, s.collection, what, count, READER_VERSION)

    def _frame(self, docs: list[dict]) -> pd.DataFrame:
        frame = pd.json_normalize(docs) if docs else pd.DataFrame()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(_plain)
        return frame

    def _load(self, progress: Any) -> pd.DataFrame:
        with self._collection() as coll:
            total = self._count(coll)
            task = _task(progress, f"reading {self.name}", total)
            parts, batch = [], []
            for doc in self._find(coll, None):
                batch.append(doc)
                if len(batch) >= self.batch_size:
                    parts.append(self._frame(batch))
                    _advance(progress, task, len(batch))
                    batch = []
            if batch or not parts:
                parts.append(self._frame(batch))
                _advance(progress, task, len(batch))
            _finish(progress, task, total)
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def _head(self, n: int) -> pd.DataFrame:
        with self._collection() as coll:
            return self._frame(list(self._find(coll, n)))

    def schema(self) -> dict[str, str]:
        # Documents may differ: the fields are those of the first few, together
        # (the first alone may lack an optional field that the run will find).
        return {c: str(t) for c, t in self.head(SCHEMA_ROWS).dtypes.items()}

    def _translate(self, exc: Exception, action: str) -> AutomlYamlError:
        name = type(exc).__name__
        reason = _first_line(exc)
        if name in ("ServerSelectionTimeoutError", "AutoReconnect", "NetworkTimeout", "ConnectionFailure"):
            return self.error(f"cannot reach MongoDB at {self._mask(self.spec.uri)}: {reason}", hint="is the server running? check `uri`")
        if name == "OperationFailure" and (getattr(exc, "code", None) in (13, 18) or "auth" in reason.lower()):
            return self.error(
                f"MongoDB refused {self._mask(self.spec.uri)}: {reason}",
                hint="check the user and password in `uri` (e.g. uri: ${MONGO_URI})",
            )
        if name == "OperationFailure":
            return self.error(f"the MongoDB query failed: {reason}", hint="check `filter`, `projection` and `sort`", usage=True)
        return self.error(f"cannot {action} {self.describe()}: {reason}")


def _plain(value: Any) -> Any:
    """A cell value pandas and Parquet can hold: BSON types become strings or floats."""
    if value is None or value is pd.NA or isinstance(value, (str, numbers.Number, _dt.datetime, _dt.date)):
        return value
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # a numpy array: a Parquet list column read back
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=_json_default, sort_keys=True)
    if type(value).__name__ == "Decimal128":
        return float(value.to_decimal())
    return str(value)  # ObjectId, UUID, Binary, ...


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if type(value).__name__ == "Decimal128":
        return float(value.to_decimal())
    if isinstance(value, numbers.Number):
        return float(value)  # Decimal: a NUMERIC inside a PostgreSQL array or JSON
    return str(value)


#: ``pandas.api.types.infer_dtype`` kinds of object columns whose cells are already plain.
_PLAIN_KINDS = frozenset({"empty", "string", "integer", "floating", "mixed-integer-float", "boolean", "datetime", "datetime64", "timedelta", "timedelta64"})


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of driver values made into what pandas, Parquet and the encoders use.

    * dates without a time (PostgreSQL and SQLAlchemy ``DATE``, Parquet
      ``date32``) become ``datetime64``, so that they are dates, not text;
    * ``Decimal`` (psycopg's ``NUMERIC`` where pandas did not make floats of
      it) becomes float;
    * lists, arrays and documents (``JSONB``, ``ARRAY``, nested JSON lists)
      become JSON text and UUIDs their string, as MongoDB values do
      (:func:`_plain`): one form whether the table comes from the source or
      from the Parquet cache, which gives lists back as numpy arrays.
    """
    changed: dict[str, pd.Series] = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object:
            continue
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in _PLAIN_KINDS:
            continue
        if kind == "date":
            changed[col] = pd.to_datetime(s, errors="coerce").astype("datetime64[us]")
        elif kind == "decimal":
            changed[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif any(v is not None and not isinstance(v, (str, bool, numbers.Number, _dt.date)) for v in s):
            changed[col] = s.map(_plain)
    return frame.assign(**changed) if changed else frame


# ------------------------------------------------------------------------------ sample


class SampleSource(BaseSource):
    """A small data set shipped inside an installed package: works offline.

    ``penguins`` comes from palmerpenguins (target ``species``); the others are
    scikit-learn's bundled sets with the target in a column named ``target``,
    holding class names where scikit-learn has them (iris species, ...).
    """

    kind = "sample"
    cache_worthy = False  # a few hundred kB inside the package: caching cost 0.2 s (pyarrow) for nothing

    def _package(self) -> tuple[str, str]:
        from importlib.metadata import version

        package = "palmerpenguins" if self.spec.name == "penguins" else "scikit-learn"
        try:
            return package, version(package)
        except Exception:  # noqa: BLE001 - installed without metadata
            return package, "?"

    def describe(self) -> str:
        package, ver = self._package()
        return f"sample '{self.spec.name}' ({package} {ver})"

    def fingerprint(self) -> str:
        return _digest("sample", *self._package(), self.spec.name, READER_VERSION)

    def _load(self, progress: Any) -> pd.DataFrame:
        task = _task(progress, f"reading {self.name}")
        frame = self._read()
        _finish(progress, task, len(frame))
        return frame

    def _read(self) -> pd.DataFrame:
        name = self.spec.name
        if name == "penguins":
            from palmerpenguins import load_penguins

            return load_penguins()
        import numpy as np
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")(as_frame=True)
        frame = bunch.frame.copy()
        names = getattr(bunch, "target_names", None)
        if names is not None and len(names) and isinstance(names[0], str):
            frame["target"] = pd.Series(np.asarray(names)[frame["target"].to_numpy()], index=frame.index, dtype="str")
        return frame


# ------------------------------------------------------------------------------- frame


class FrameSource(BaseSource):
    """A pandas DataFrame given from Python: ``automl_yaml.run("spec.yaml", frames={"train": df})``.

    The spec only declares it (``sources: {train: {kind: frame}}``); the frame
    was copied when the spec was loaded, so a later change by the caller does
    not reach a run. Its fingerprint hashes the content (pandas'
    ``hash_pandas_object``, row by row, in order), the column names and their
    dtypes: ``resume`` refuses a changed frame and accepts the same one. It is
    never cached as Parquet: it is in memory already.
    """

    kind = "frame"
    cache_worthy = False

    def __init__(self, name: str, spec: Any, *, base_dir: Path, frame: pd.DataFrame | None = None):
        super().__init__(name, spec, base_dir=base_dir)
        self.frame = frame
        self._table: pd.DataFrame | None = None

    def _given(self) -> pd.DataFrame:
        if self.frame is None:
            raise self.error(
                "no DataFrame was given for this `kind: frame` source",
                hint=f'give it from Python: automl_yaml.run(spec, frames={{"{self.name}": df}})',
                usage=True,
            )
        return self.frame

    def describe(self) -> str:
        if self.frame is None:
            return f"frame '{self.name}' (no DataFrame given)"
        rows, columns = self.frame.shape
        return f"frame '{self.name}' (DataFrame, {rows:,} rows x {columns} columns)"

    def _normalised(self) -> pd.DataFrame:
        """The table a run reads (a meaningful index as columns, column names as strings), made once."""
        if self._table is None:
            frame = self._given().copy(deep=False)  # _normalise may rename columns: not those of LoadedSpec.frames
            with self._guard("read"):
                self._table = self._normalise(frame)
        return self._table

    def fingerprint(self) -> str:
        table = self._normalised()
        with self._guard("hash"):
            rows = pd.util.hash_pandas_object(table, index=False).to_numpy()
        content = hashlib.sha256(rows.tobytes()).hexdigest()
        return _digest("frame", list(table.columns), [str(t) for t in table.dtypes], len(table), content, READER_VERSION)

    def load(self, *, progress: Any = None) -> pd.DataFrame:
        task = _task(progress, f"reading {self.name}")
        table = self._normalised()
        _finish(progress, task, len(table))
        return table

    def head(self, n: int = 1000) -> pd.DataFrame:
        return self._normalised().head(n)
