"""Keeping secrets out of what usqlrw prints, logs and writes.

Connection strings and SAS tokens carry ``key=value`` secrets (``Password=``, ``AccountKey=``,
``sig=``...); tokens can be registered as they are obtained. :func:`redact` replaces them with
``***`` (logs, error messages); :func:`mask` keeps the text's length (source lines shown under a
caret, whose columns must stay right).
"""
from __future__ import annotations

import re

__all__ = ["redact", "mask", "has_secret", "register_secret", "SECRET_VALUE"]

_secrets: set[str] = set()

#: key=value secrets in connection strings and SAS tokens; group 2 is the value
SECRET_VALUE = re.compile(
    r"(?i)\b(password|pwd|accountkey|sharedaccesskey|sharedaccesssignature|client_secret|secret|sig"
    r"|access_token|token)\s*=\s*(\"[^\"]*\"|'[^']*'|[^;&\s\"']+)")
_BEARER = re.compile(r"(?i)\b(bearer)\s+([A-Za-z0-9\-._~+/]+=*)")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]+):([^/@\s]+)@")


def register_secret(value: str | None):
    """Remember a secret value (a token) so that :func:`redact` and :func:`mask` remove it."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text) -> str:
    """``text`` with registered secrets, bearer tokens, URL passwords and key=value secrets masked."""
    s = str(text)
    for v in sorted(_secrets, key=len, reverse=True):
        s = s.replace(v, "***")
    s = SECRET_VALUE.sub(r"\1=***", s)
    s = _BEARER.sub(r"\1 ***", s)
    return _URL_PASSWORD.sub(r"\1\2:***@", s)


def _stars(m, group: int) -> str:
    a, b = m.span(group)
    whole = m.group(0)
    off = m.start(0)
    return whole[:a - off] + "*" * (b - a) + whole[b - off:]


def mask(text: str) -> str:
    """Like :func:`redact`, but each secret character becomes ``*``: the length stays the same."""
    if not text:
        return text
    s = text
    for v in sorted(_secrets, key=len, reverse=True):
        s = s.replace(v, "*" * len(v))
    s = SECRET_VALUE.sub(lambda m: _stars(m, 2), s)
    s = _BEARER.sub(lambda m: _stars(m, 2), s)
    return _URL_PASSWORD.sub(lambda m: _stars(m, 3), s)


def has_secret(text: str) -> bool:
    return bool(text) and mask(text) != text
