"""Secrets taken from the environment, and their masking in every message.

:func:`automl_yaml.spec.env.interpolate` calls :func:`remember` with each
``${VAR}`` value that is a secret (a URL's password, a secret-named variable
or field); :func:`mask` replaces every one of them, exactly, in a text, in the
forms a message may show it (as written, percent-encoded, JSON- or
repr-escaped). Masking the values, not parsing the text they appear in, holds
for any character a password has (``@``, ``/``, ``#``, a space...), wherever a
library puts it. The error classes and :func:`automl_yaml.spec.mask_url` use
it, so every message the CLI prints, writes or logs passes through it.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import quote, quote_plus, unquote

__all__ = ["remember", "mask", "MASK", "MIN_LENGTH"]

#: What a secret is replaced by.
MASK = "***"
#: Shorter values are not masked: every "ab" in every message would be.
MIN_LENGTH = 3

_lock = threading.Lock()
_forms: dict[str, None] = {}  # every form of every secret, longest first when masking
_ordered: list[str] = []


def _variants(value: str) -> set[str]:
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value), unquote(value)}
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.add(repr(value)[1:-1])
    forms.add(repr(value.encode("utf-8"))[2:-1])
    return {f for f in forms if len(f) >= MIN_LENGTH}


def remember(value: str | None) -> None:
    """Mask ``value`` (and its escaped forms) in every message from now on."""
    if not value or len(value) < MIN_LENGTH:
        return
    global _ordered
    with _lock:
        new = [f for f in _variants(value) if f not in _forms]
        if new:
            for f in new:
                _forms[f] = None
            _ordered = sorted(_forms, key=len, reverse=True)


def mask(text: str) -> str:
    """``text`` with every remembered secret replaced by ``***``."""
    if not _ordered or not isinstance(text, str):
        return text
    for form in _ordered:
        if form in text:
            text = text.replace(form, MASK)
    return text
