"""A safe YAML loader that remembers where every value came from.

PyYAML's ``SafeLoader`` does the parsing (we never write a parser); this module
only walks the composed node graph itself so that it can

* keep the line and column of every key and value (``SourceMap``), which is what
  lets every later error point at ``file:line:col``;
* refuse what a spec never needs and an attacker likes: tags other than the
  standard scalar ones (``!!python/object/apply:os.system`` is an error, never
  constructed), duplicate keys, alias "bombs" (a node budget counts alias
  expansions), absurd nesting depth, oversized files and non-UTF-8 bytes;
* read scalars with YAML 1.2 core-schema rules instead of YAML 1.1's: ``on``,
  ``yes`` and ``no`` stay strings (``join: [{on: id}]`` means what it says),
  ``1e-3`` is a float, ``1:30`` is not sexagesimal and dates stay strings.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Location, Problem, SpecError

#: Larger files are refused before parsing: a spec is a page or two of text.
MAX_BYTES = 1_000_000
TOO_BIG_HINT = "keep data out of the spec: put it in a file and name it in 'sources'"
#: Deeper nesting is refused while composing (PyYAML's composer recurses).
MAX_DEPTH = 64
#: Nodes constructed, alias expansions included: bounds time and memory.
MAX_NODES = 100_000

Path = tuple  # of str | int

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2 core schema resolution of plain scalars."""


_Resolver.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _Resolver.add_implicit_resolver(_STD + _tag, re.compile(_regexp), list(_first))
_Resolver.add_implicit_resolver(_STD + "merge", re.compile(r"^(?:<<)$"), ["<"])  # merge keys stay


class _Composer(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    """PyYAML's safe pipeline with our resolver and a nesting-depth limit."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML hook
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


@dataclasses.dataclass
class SourceMap:
    """Where each value of a loaded document came from.

    ``values`` maps a path (a tuple of keys and list indexes) to the position of
    its value, ``keys`` to the position of the key naming it. ``raw`` holds the
    text a value had before ``${VAR}`` interpolation, so that messages can show
    ``${PGPASSWORD}`` instead of the secret. ``origin`` maps paths that were set
    on the command line to that ``--set`` argument.
    """

    file: str
    values: dict[Path, tuple[int, int]] = dataclasses.field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = dataclasses.field(default_factory=dict)
    raw: dict[Path, str] = dataclasses.field(default_factory=dict)
    origin: dict[Path, str] = dataclasses.field(default_factory=dict)
    containers: set = dataclasses.field(default_factory=set)
    #: what the YAML reading noticed that is legal but likely not meant (a shallow merge)
    warnings: list = dataclasses.field(default_factory=list)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        for n in range(len(path), -1, -1):
            p = path[:n]
            if p in self.origin:
                return Location(self.origin[p])
            # a block mapping or list starts on the line after its key: point at the key
            prefer_key = key or p in self.containers
            table = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            for t in table:
                if p in t:
                    line, col = t[p]
                    return Location(self.file, line, col)
            # not in the file, but made by a --set below it (--set serch.budget.trials=3): that argument
            below = next((o for q, o in self.origin.items() if q[:n] == p and len(q) > n), None)
            if below is not None and n:
                return Location(below)
        return Location(self.file)

    def is_interpolated(self, path: Path) -> bool:
        path = tuple(path)
        return any(path[: len(p)] == p for p in self.raw)

    def display(self, path: Path, value: Any) -> str:
        """``repr`` of a value for a message, never revealing an interpolated one."""
        from . import redact_field

        path = tuple(path)
        if path in self.raw:
            value = self.raw[path]
        elif self.is_interpolated(path):
            return "<from the environment>"
        # a secret written in the file or given with --set is not repeated either
        return _short_repr(redact_field(path[-1] if path else None, value))


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _problem(message: str, file: str, mark=None, hint: str | None = None, path: str = "") -> Problem:
    loc = Location(file, mark.line + 1, mark.column + 1) if mark is not None else Location(file)
    return Problem(message, path=path, location=loc, hint=hint)


_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "a zip archive, or an Excel workbook"),
    (b"PAR1", "Parquet"),
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)


def _utf16_text(data: bytes) -> bool:
    """ASCII-range text in UTF-16 (with or without a BOM): every other byte is NUL."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = data[:512]
    evens, odds = sample[0::2], sample[1::2]
    if not evens or not odds:
        return False
    e, o = evens.count(0) / len(evens), odds.count(0) / len(odds)
    return (o >= 0.5 and e < 0.05) or (e >= 0.5 and o < 0.05)


def decode(data: bytes, file: str) -> str:
    """UTF-8 bytes to text, or a spec error at the first bad byte."""
    if len(data) > MAX_BYTES:
        raise SpecError.single(
            f"file is {len(data):,} bytes; a spec may be at most {MAX_BYTES:,}",
            location=Location(file),
            hint=TOO_BIG_HINT,
        )
    kind = next((name for magic, name in _MAGIC if data.startswith(magic)), None)
    sample = data[:8192]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if kind or (sample and controls > 0.05 * len(sample) and not _utf16_text(data)):
        raise SpecError.single(
            f"this is a binary file{f' ({kind})' if kind else ''}, not a YAML spec",
            location=Location(file),
            hint="give the spec's .yaml file; data files are named in `sources`",
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) >= 2 and (data[0] == 0) != (data[1] == 0)):
        # Windows editors' "Unicode": UTF-16 with a byte-order mark (or ASCII text with NUL halves)
        raise SpecError.single(
            "the file is UTF-16 encoded; a spec is UTF-8 text",
            location=Location(file, 1, 1),
            hint="save it as UTF-8 (in Notepad: Save as… > Encoding: UTF-8; or: iconv -f UTF-16 -t UTF-8)",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError.single(
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            location=Location(file, line, col),
            hint="save the spec as UTF-8",
        ) from None


def load_yaml(text: str | bytes, file: str = "<spec>") -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain Python data and its ``SourceMap``.

    Raises:
        SpecError: on malformed YAML or anything refused above, located.
    """
    if isinstance(text, bytes):
        text = decode(text, file)
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SpecError.single(f"the spec is larger than {MAX_BYTES:,} bytes", location=Location(file))
    smap = SourceMap(file)
    lookalikes = _lookalike_spaces(text, file)
    if lookalikes:
        raise SpecError(lookalikes)
    try:
        loader = _Composer(text)
    except yaml.reader.ReaderError as exc:
        raise SpecError([_reader_problem(exc, text, file)]) from None
    try:
        node = loader.get_single_node()
    except _TooDeep as exc:
        raise SpecError([_problem(f"nesting deeper than {MAX_DEPTH} levels", file, exc.mark)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "malformed YAML"
        if "found character '\\t'" in what:
            what = "a tab character here; YAML indents with spaces, never tabs"
            row = (mark.buffer or "").splitlines()[mark.line] if mark is not None and mark.buffer else ""
            if row[: mark.column].strip():
                what = "a tab character here; YAML separates values with spaces, not tabs"
        if exc.context and "expected a single document" in exc.context:
            what = "more than one YAML document ('---'); a spec is one document"
        hint = _yaml_hint(exc)
        if exc.context in ("while parsing a flow mapping", "while parsing a flow sequence") and exc.context_mark is not None:
            opened, closing = ("{", "}") if "mapping" in exc.context else ("[", "]")
            cm = exc.context_mark
            if mark is not None and mark.line > cm.line:
                hint = f"the '{opened}' opened on line {cm.line + 1}, column {cm.column + 1} is not closed: add the missing '{closing}'"
        if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
            # reported at the end of the file by PyYAML; the mistake is where the quote opens
            mark = exc.context_mark
            quote = (mark.buffer or "")[mark.pointer : mark.pointer + 1] or '"'
            what = f"this quoted string ({quote}) is never closed"
            hint = f"end the value with {quote}; inside single quotes write '' for a quote, inside double quotes \\\""
        raise SpecError([_problem(f"invalid YAML: {what}", file, mark, hint)]) from None
    except yaml.reader.ReaderError as exc:
        raise SpecError([_reader_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        raise SpecError.single(f"invalid YAML: {exc}", location=Location(file)) from None
    finally:
        loader.dispose()
    if node is None:
        return None, smap
    builder = _Builder(loader, smap)
    data = builder.build(node, ())
    if builder.problems:
        raise SpecError(builder.problems)
    return data, smap


#: ``key:<NBSP>`` or ``key：`` at the start of a line (not inside a value's text)
_KEY_THEN = re.compile(r"^[ \t]*(?:-[ \t]+)?[A-Za-z_][\w.-]*(?::(?=\u00a0)|(\uff1a))")


def _lookalike_spaces(text: str, file: str) -> list[Problem]:
    """Characters that look like YAML's space or colon but are not (pasted from a web page or a chat)."""
    if "\u00a0" not in text and "\uff1a" not in text:
        return []
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        body = line.lstrip(" \t\u00a0")
        if body.startswith("#"):
            continue
        indent = line[: len(line) - len(body)]
        col = None
        if "\u00a0" in indent:
            col, what = indent.index("\u00a0") + 1, "a non-breaking space (U+00A0) in the indentation; YAML indents with plain spaces"
        elif m := _KEY_THEN.match(line):
            if m.group(1) is None:
                col, what = m.end() + 1, "a non-breaking space (U+00A0) after ':'; YAML needs a plain space there"
            else:
                col, what = m.end(), "a full-width colon (U+FF1A) here; YAML needs ':'"
        if col is not None:
            hint = "retype it (text copied from a web page, a document or a chat often carries these)"
            found.append(Problem(f"invalid YAML: {what}", location=Location(file, n, col), hint=hint))
    return found


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    pos = max(0, min(exc.position, len(text)))
    before = text[:pos]
    line = before.count("\n") + 1
    col = pos - (before.rfind("\n") + 1) + 1
    return Problem(
        f"invalid YAML: the control character U+{exc.character:04X} is not allowed",
        location=Location(file, line, col),
        hint="remove it; a spec is plain text",
    )


def _yaml_hint(exc: yaml.MarkedYAMLError) -> str | None:
    problem = exc.problem or ""
    mark = exc.problem_mark
    lines = mark.buffer.splitlines() if mark is not None and mark.buffer else []
    text = lines[mark.line] if mark is not None and 0 <= mark.line < len(lines) else ""
    if "found character '\\t'" in problem:
        if text[: mark.column].strip():
            return "replace the tab by a space"
        return "replace the tabs at the start of this line by spaces"
    if "found unknown escape character" in problem:
        return "inside double quotes a backslash starts an escape: use single quotes ('C:\\data\\x.csv') or forward slashes"
    if "{{" in text or "{%" in text:
        return "Jinja templates ({{ ... }}) are not supported: use ${VAR} for environment variables, or --set for values"
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted, or a nested mapping must be indented"
    if "could not find expected ':'" in problem:
        return "check the indentation of this line and the one before"
    line = (exc.problem_mark.buffer or "").splitlines() if exc.problem_mark is not None and exc.problem_mark.buffer else []
    row = exc.problem_mark.line if exc.problem_mark is not None else -1
    if 0 <= row < len(line) and "${" in line[row]:
        return "quote a value that holds ${...} inside {...} or [...]: key: \"${VAR}\""
    if "found undefined alias" in problem:
        return "define the anchor (&name) before using the alias (*name)"
    return None


def _mapping_keys(node: MappingNode) -> set:
    """The keys of a mapping node, with those it merges in with '<<'."""
    keys = set()
    for k, v in node.value:
        if not isinstance(k, ScalarNode):
            continue
        if k.tag != _STD + "merge":
            keys.add(k.value)
            continue
        for src in v.value if isinstance(v, SequenceNode) else [v]:
            if isinstance(src, MappingNode):
                keys |= _mapping_keys(src)
    return keys


class _Builder:
    def __init__(self, loader: _Composer, smap: SourceMap):
        self.loader = loader
        self.smap = smap
        self.problems: list[Problem] = []
        self.count = 0

    def _fail(self, message: str, node: Node, hint: str | None = None, path: Path = ()) -> None:
        self.problems.append(_problem(message, self.smap.file, node.start_mark, hint, dotted(path)))

    def build(self, node: Node, path: Path, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecError(
                [
                    _problem(
                        f"the document expands to more than {MAX_NODES:,} values",
                        self.smap.file,
                        node.start_mark,
                        "is an alias (*name) repeated inside repeated aliases? ('billion laughs')",
                    )
                ]
            )
        if depth > MAX_DEPTH:
            raise SpecError([_problem(f"nesting deeper than {MAX_DEPTH} levels", self.smap.file, node.start_mark)])
        self.smap.values.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _ALLOWED_TAGS:
            tag = node.tag.replace(_STD, "!!")
            hint = "a spec is plain data and names components by their registered names"
            if "python" in tag:
                hint = "Python tags are never executed; " + hint
            self._fail(f"the YAML tag '{tag}' is not allowed", node, hint, path)
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self.smap.containers.add(path)
        if isinstance(node, SequenceNode):
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        return self._mapping(node, path, depth)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict:
        # duplicate keys among the mapping's own keys are errors; keys merged in
        # with '<<' are overridden by own keys, as YAML's merge-key spec says
        own: dict = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _STD + "merge":
                continue
            key = self._key(key_node, path, report=False)
            if key in own:
                self._fail(
                    f"duplicate key '{key}' (first defined on line {own[key].line + 1})",
                    key_node,
                    "remove one of them: YAML would silently keep only the last",
                    path + (key,),
                )
            else:
                own[key] = key_node.start_mark
        self._shallow_merges(node, path)
        try:
            self.loader.flatten_mapping(node)  # '<<' merge keys, PyYAML's own code
        except yaml.MarkedYAMLError as exc:
            problem = (exc.problem or "").replace("but found scalar", "but found something else")
            self._fail(
                f"invalid merge key: {problem}",
                node,
                "`<<: *name` merges a mapping anchored with `&name` (or a list of such aliases)",
                path=path,
            )
            return {}
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._fail("a mapping key must be a plain value, not a list or mapping", key_node, path=path)
                continue
            key = self._key(key_node, path)
            child = path + (key,)
            self.smap.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, child, depth + 1)
        return out

    def _shallow_merges(self, node: MappingNode, path: Path) -> None:
        """Warn where an own key replaces a whole mapping merged in with '<<' (YAML merges one level only).

        ``random_forest: {<<: *rf, params: {max_depth: 3}}`` keeps only max_depth: the
        params of ``*rf`` are gone, which users of docker compose's anchors rarely expect.
        """
        merged: dict[Any, MappingNode] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _STD + "merge":
                for src in value_node.value if isinstance(value_node, SequenceNode) else [value_node]:
                    if isinstance(src, MappingNode):
                        for k, v in src.value:
                            if isinstance(k, ScalarNode) and isinstance(v, MappingNode):
                                merged.setdefault(k.value, v)
        if not merged:
            return
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _STD + "merge" or key_node.value not in merged:
                continue
            if not isinstance(value_node, MappingNode):
                continue
            own = _mapping_keys(value_node)
            lost = [k.value for k, _ in merged[key_node.value].value if isinstance(k, ScalarNode) and k.value not in own and k.tag != _STD + "merge"]
            if lost:
                key = key_node.value
                self.smap.warnings.append(
                    Problem(
                        f"'{key}' replaces the whole '{key}' merged with '<<' (YAML merges the top level only), so {', '.join(map(repr, lost))} "
                        f"{'is' if len(lost) == 1 else 'are'} dropped",
                        path=dotted(path + (key,)),
                        location=Location(self.smap.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                        hint=f"merge one level down too: anchor the inner mapping (&name) and write {key}: {{<<: *name, ...}}",
                        severity="warning",
                    )
                )

    def _key(self, key_node: ScalarNode, path: Path, report: bool = True) -> Any:
        if not report:
            saved = list(self.problems)
        key = self._scalar(key_node, path, as_key=True)
        if not report:
            self.problems = saved
        if isinstance(key, (int, float)) and not isinstance(key, bool):
            key = key_node.value  # a column or source named 2020: keys are names, as in a CSV header
        elif (key is None or isinstance(key, bool)) and key_node.style is None:
            if report:
                self._fail(
                    f"a key must be a name, got {'null' if key is None else key_node.value}",
                    key_node,
                    "a mapping line needs a name before ':'" if key is None else f"quote it if it is a name: '{key_node.value}'",
                    path=path,
                )
            key = key_node.value or "~"
        try:
            hash(key)
        except TypeError:  # pragma: no cover - scalars are hashable
            key = key_node.value
        return key

    def _scalar(self, node: ScalarNode, path: Path, as_key: bool = False) -> Any:
        tag, text = node.tag, node.value
        if tag == _STD + "str":
            if node.style is None and node.end_mark.line > node.start_mark.line and re.fullmatch(r"-\S+( -\S+)+", text):
                # `-id` / `-year` on two lines: one plain string '-id -year', not a list
                self._fail(
                    f"'{text}' is one string spread over {node.end_mark.line - node.start_mark.line + 1} lines, not a list",
                    node,
                    hint="a list item needs a space after the dash: '- id'",
                    path=path,
                )
            if node.style is None and len(text) > 2 and text[0] in "\u201c\u2018\u201e" and text[-1] in "\u201d\u2019\u201c" and path[-1:] not in (("name",), ("description",)):
                self._fail(
                    f"{text} is in typographic quotes, which YAML keeps as part of the value",
                    node,
                    hint=f"use straight quotes, or none: {text[1:-1]}",
                    path=path,
                )
            return text
        try:
            if tag == _STD + "null":
                return None
            if tag == _STD + "bool":
                return text.lower() == "true"
            if tag == _STD + "int":
                return _parse_int(text)
            if tag == _STD + "float":
                return _parse_float(text)
        except ValueError:
            self._fail(f"'{text}' is not a valid {tag.replace(_STD, '')}", node, path=path)
            return text
        if tag not in _ALLOWED_TAGS:  # a tagged key; build() reports tagged values
            self._fail(f"the YAML tag '{tag.replace(_STD, '!!')}' is not allowed", node, path=path)
        return text


def _parse_int(text: str) -> int:
    t = text.replace("_", "")
    if t.startswith(("0o", "0x")):
        return int(t, 0)
    return int(t)


def _parse_float(text: str) -> float:
    t = text.replace("_", "").lower()
    if t.lstrip("+-") == ".inf":
        return -math.inf if t.startswith("-") else math.inf
    if t == ".nan":
        return math.nan
    return float(t)


def dotted(path) -> str:
    """``('models', 'rf', 'params', 0)`` -> ``models.rf.params[0]``."""
    out = ""
    for p in path:
        if isinstance(p, int) and not isinstance(p, bool):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def parse_value(text: str) -> Any:
    """A command-line value read as one YAML flow value, with the same rules.

    ``20`` is an int, ``{choice: [3, 5]}`` a mapping, ``abc`` a string.
    """
    if text.strip() == "":
        return ""
    try:
        data, _ = load_yaml(text, "--set")
    except SpecError:
        return text
    return data
