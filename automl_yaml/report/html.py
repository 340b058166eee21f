"""One self-contained HTML page: inline CSS, PNGs as data URIs, tables from DataFrames.

A page is a title and a list of :class:`Section`; a section holds blocks,
rendered in order:

* ``str`` — a paragraph (escaped);
* a pandas ``DataFrame`` — a table (values escaped, numbers right-aligned);
* a ``Mapping`` — a two-column key/value table;
* :class:`Image` (see :func:`image`) — a PNG embedded as a base64 data URI;
* :class:`Html` — trusted markup inserted as is (build it with :func:`escape`);
* a nested :class:`Section` — a sub-heading.

Example:
    >>> from automl_yaml.report.html import Section, image, page
    >>> html = page("Profile", [Section("Columns", [frame]), Section("Plots", [image("missing.png")])])

The page needs no network and no other file: it can be mailed or attached
to an MLflow run as one artifact.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html as _html
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Section", "Image", "Html", "page", "image", "escape", "table", "fmt"]

_CSS = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #ffffff; --head: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; padding: 2rem; font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
p.subtitle { color: var(--muted); margin: 0 0 1.5rem; }
nav { margin: 1rem 0; }
nav a { color: var(--accent); margin-right: 1rem; text-decoration: none; }
.scroll { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: .5rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12px; }
footer { margin-top: 3rem; color: var(--muted); font-size: 12px; }
"""


@dataclasses.dataclass(frozen=True)
class Section:
    """A heading and its blocks (see the module docstring for the block kinds)."""

    title: str
    blocks: Sequence[Any] = ()


@dataclasses.dataclass(frozen=True)
class Image:
    """PNG bytes shown inline."""

    png: bytes
    alt: str = ""
    caption: str | None = None


@dataclasses.dataclass(frozen=True)
class Html:
    """Markup inserted unescaped: only for text this program wrote."""

    markup: str


def image(png: bytes | str | Path, alt: str = "", caption: str | None = None) -> Image:
    """An inline image from PNG bytes or a PNG file."""
    data = png if isinstance(png, (bytes, bytearray)) else Path(png).read_bytes()
    return Image(bytes(data), alt or (Path(png).stem if not isinstance(png, (bytes, bytearray)) else ""), caption)


def escape(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def fmt(value: Any, digits: int = 4) -> str:
    """A compact text for a table cell: floats to ``digits`` significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return ""
        if v != 0 and (abs(v) >= 1e9 or abs(v) < 1e-3):
            return f"{v:.{digits - 1}e}"
        if abs(v) >= 10**digits:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v, digits) for v in value)
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return ""  # the rank of a pruned or failed trial, not "<NA>"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def table(frame, *, index: bool | None = None, max_rows: int = 500) -> str:
    """An HTML table of a DataFrame (escaped; at most ``max_rows`` rows shown)."""
    show_index = index if index is not None else not _default_index(frame)
    head = ([escape(frame.index.name or "")] if show_index else []) + [escape(c) for c in frame.columns]
    rows = []
    for idx, row in zip(frame.index[:max_rows], frame.itertuples(index=False, name=None), strict=False):
        cells = [f"<th>{escape(idx)}</th>"] if show_index else []
        cells += [f'<td class="num">{escape(fmt(v))}</td>' if _is_number(v) else f"<td>{escape(fmt(v))}</td>" for v in row]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p>… {len(frame) - max_rows:,} more rows</p>" if len(frame) > max_rows else ""
    thead = "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
    return f'<div class="scroll"><table><thead>{thead}</thead><tbody>{"".join(rows)}</tbody></table></div>{more}'


def _default_index(frame) -> bool:
    import pandas as pd

    idx = frame.index
    return isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1 and idx.name is None


def _mapping(data: Mapping) -> str:
    rows = "".join(
        f"<tr><th>{escape(k)}</th>"
        + (f'<td class="num">{escape(fmt(v))}</td>' if _is_number(v) else f"<td>{escape(fmt(v))}</td>")
        + "</tr>"
        for k, v in data.items()
    )
    return f'<div class="scroll"><table><tbody>{rows}</tbody></table></div>'


def _block(block: Any, level: int) -> str:
    import pandas as pd

    if isinstance(block, Section):
        return _section(block, level + 1)
    if isinstance(block, Html):
        return block.markup
    if isinstance(block, Image):
        data = base64.b64encode(block.png).decode("ascii")
        cap = f"<figcaption>{escape(block.caption)}</figcaption>" if block.caption else ""
        return f'<figure><img alt="{escape(block.alt)}" src="data:image/png;base64,{data}">{cap}</figure>'
    if isinstance(block, pd.DataFrame):
        return table(block)
    if isinstance(block, pd.Series):
        return table(block.to_frame())
    if isinstance(block, Mapping):
        return _mapping(block)
    return f"<p>{escape(block)}</p>"


def _anchor(title: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-") or "section"


def _section(section: Section, level: int = 2) -> str:
    tag = f"h{min(level, 6)}"
    body = "\n".join(_block(b, level) for b in section.blocks)
    return f'<section id="{escape(_anchor(section.title))}"><{tag}>{escape(section.title)}</{tag}>\n{body}</section>'


def page(title: str, sections: Iterable[Section], *, subtitle: str | None = None, footer: str | None = None) -> str:
    """The whole HTML document.

    Args:
        title: The ``<title>`` and the top heading.
        sections: The sections, in order; each gets a link in the contents line.
        subtitle: A line under the title (data set, date, ...).
        footer: A line at the bottom; default: when the page was generated.
    """
    sections = list(sections)
    nav = " ".join(f'<a href="#{escape(_anchor(s.title))}">{escape(s.title)}</a>' for s in sections)
    sub = f'<p class="subtitle">{escape(subtitle)}</p>' if subtitle else ""
    foot = footer if footer is not None else "Generated by automl-yaml on " + _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    body = "\n".join(_section(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body><main><h1>{escape(title)}</h1>{sub}<nav>{nav}</nav>\n{body}\n"
        f"<footer>{escape(foot)}</footer></main></body></html>\n"
    )
