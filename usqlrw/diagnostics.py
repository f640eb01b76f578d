"""One list of diagnostics, rendered in several formats: text, json, sarif (2.1.0) and github.

Every renderer takes the same list; none of them imports anything heavy unless it is used
(Pygments only for colour, the rule registry only for SARIF's rule metadata).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["Diagnostic", "from_syntax_error", "render_text", "render_json", "render_sarif",
           "render_github", "FORMATS", "render"]


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    column: int
    code: str          # PRS: syntax error, ENC: unreadable input, IO: file error; rules have their own
    message: str
    severity: str = "error"   # error | warning | note
    end_line: int | None = None
    end_column: int | None = None
    source_line: str | None = field(default=None, compare=False)

    def __post_init__(self):
        # Scripts may hold connection strings with passwords: never echo them (columns kept).
        from .secrets import mask, redact
        object.__setattr__(self, "message", redact(self.message))
        if self.source_line:
            object.__setattr__(self, "source_line", mask(self.source_line))

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("source_line")
        return d


def from_syntax_error(err) -> Diagnostic:
    code = "ENC" if err.message.startswith(("binary data", "not valid", "file is too large")) else "PRS"
    return Diagnostic(err.path or "<string>", err.line, err.column, code, err.message,
                      source_line=err.source_line)


# -- text -------------------------------------------------------------------------------------

_SEV_COLOR = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m"}
_RESET = "\x1b[0m"


def _highlight(line: str) -> str:
    """One source line with ANSI colours from the U-SQL lexer (Pygments, loaded only here)."""
    try:
        from .highlight import ansi
    except ImportError:  # pragma: no cover - pygments is a dependency
        return line
    return ansi(line)


def _snippet(d: Diagnostic, color: bool, tabsize: int = 4) -> list[str]:
    line = d.source_line
    pad = len(line[: max(d.column - 1, 0)].expandtabs(tabsize))
    shown = line.expandtabs(tabsize)
    # Underline to the end of the finding when it ends on the same line, else one caret.
    width = 1
    if d.end_line == d.line and d.end_column and d.end_column > d.column:
        width = len(line[: d.end_column - 1].expandtabs(tabsize)) - pad
    if len(shown) > 200:  # very long lines: a window around the column
        lo = max(0, pad - 80)
        shown, pad = shown[lo:lo + 160], pad - lo
        width = max(1, min(width, len(shown) - pad))
    width = max(1, min(width, max(1, len(shown) - pad)))
    marks = "^" + "~" * (width - 1)
    if color:
        return ["  " + _highlight(shown), "  " + " " * pad + _SEV_COLOR.get(d.severity, "\x1b[1;36m") + marks + _RESET]
    return ["  " + shown, "  " + " " * pad + marks]


def render_text(diags, color: bool = False, show_source: bool = True) -> str:
    """``path:line:col: CODE message``, then the source line and a caret under the finding."""
    out = []
    for d in diags:
        loc = f"{d.path}:{d.line}:{d.column}:"
        sev = "" if d.severity == "error" else f" [{d.severity}]"
        if color:
            out.append(f"\x1b[1m{loc}{_RESET} {_SEV_COLOR.get(d.severity, '')}{d.code}{_RESET} {d.message}{sev}")
        else:
            out.append(f"{loc} {d.code} {d.message}{sev}" if d.code else f"{loc} {d.message}{sev}")
        if show_source and d.source_line is not None:
            out += _snippet(d, color)
    return "\n".join(out)


# -- json -------------------------------------------------------------------------------------

def render_json(diags) -> str:
    import json
    return json.dumps([d.to_dict() for d in diags], indent=2, ensure_ascii=False)


# -- github workflow annotations ----------------------------------------------------------------

def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(diags) -> str:
    """``::error file=...,line=...,col=...::CODE message``: GitHub Actions workflow commands."""
    out = []
    for d in diags:
        level = {"error": "error", "warning": "warning"}.get(d.severity, "notice")
        props = [f"file={_gh_prop(d.path)}", f"line={d.line}", f"col={d.column}"]
        if d.end_line:
            props.append(f"endLine={d.end_line}")
        if d.end_column and d.end_line == d.line:
            props.append(f"endColumn={d.end_column}")
        props.append(f"title={_gh_prop('usqlrw ' + d.code)}")
        out.append(f"::{level} {','.join(props)}::{_gh_data(f'{d.code} {d.message}')}")
    return "\n".join(out)


# -- SARIF 2.1.0 --------------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(path: str) -> str:
    import os
    from pathlib import Path
    from urllib.parse import quote
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(path.replace(os.sep, "/"))


def sarif_log(diags, rules=None) -> dict:
    """The SARIF 2.1.0 log as a dict: one run, the tool's rules, one result per diagnostic."""
    from . import __version__
    if rules is None:
        from .lint.registry import listed_rules
        rules = listed_rules()
    used = {d.code for d in diags}
    rule_list = [r for r in rules if r.code in used or r.selectable]
    index = {r.code: i for i, r in enumerate(rule_list)}
    level = {"error": "error", "warning": "warning"}
    driver = {
        "name": "usqlrw",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [{
            "id": r.code,
            "name": "".join(w.capitalize() for w in r.name.split("-")),
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": " ".join(r.explanation.split()) or r.summary},
            "help": {"text": r.explain()},
            "defaultConfiguration": {"level": level.get(r.severity, "note")},
            "properties": {"tags": [r.family]},
        } for r in rule_list],
    }
    results = []
    for d in diags:
        region = {"startLine": max(d.line, 1), "startColumn": max(d.column, 1)}
        if d.end_line:
            region["endLine"] = max(d.end_line, region["startLine"])
            if d.end_column:
                region["endColumn"] = d.end_column if (region["endLine"] > region["startLine"]
                                                       or d.end_column > region["startColumn"]) else region["startColumn"] + 1
        if d.source_line is not None:
            region["snippet"] = {"text": d.source_line}
        res = {
            "ruleId": d.code,
            "level": level.get(d.severity, "note"),
            "message": {"text": d.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(d.path)}, "region": region}}],
        }
        if d.code in index:
            res["ruleIndex"] = index[d.code]
        results.append(res)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
    }


def render_sarif(diags) -> str:
    import json
    return json.dumps(sarif_log(diags), indent=2, ensure_ascii=False)


FORMATS = {"text": render_text, "json": render_json, "sarif": render_sarif, "github": render_github}


def render(fmt: str, diags, color: bool = False) -> str:
    if fmt == "text":
        return render_text(diags, color=color)
    return FORMATS[fmt](diags)
