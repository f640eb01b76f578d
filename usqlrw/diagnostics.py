"""One list of diagnostics, rendered in several formats."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


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

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("source_line")
        return d


def from_syntax_error(err) -> Diagnostic:
    code = "ENC" if err.message.startswith(("binary data", "not valid", "file is too large")) else "PRS"
    return Diagnostic(err.path or "<string>", err.line, err.column, code, err.message,
                      source_line=err.source_line)


def render_text(diags, color: bool = False, show_source: bool = True) -> str:
    out = []
    for d in diags:
        loc = f"{d.path}:{d.line}:{d.column}:"
        code = f"{d.code}" if d.code else ""
        if color:
            sev = {"error": "\x1b[31m", "warning": "\x1b[33m"}.get(d.severity, "\x1b[36m")
            out.append(f"\x1b[1m{loc}\x1b[0m {sev}{code}\x1b[0m {d.message}")
        else:
            out.append(f"{loc} {code} {d.message}" if code else f"{loc} {d.message}")
        if show_source and d.source_line is not None:
            line = d.source_line
            pad = len(line[: max(d.column - 1, 0)].expandtabs(4))
            shown = line.expandtabs(4)
            if len(shown) > 200:
                lo = max(0, pad - 80)
                shown, pad = shown[lo:lo + 160], pad - lo
            out.append("  " + shown)
            out.append("  " + " " * pad + ("\x1b[31m^\x1b[0m" if color else "^"))
    return "\n".join(out)


def render_json(diags) -> str:
    return json.dumps([d.to_dict() for d in diags], indent=2)


FORMATS = {"text": render_text, "json": render_json}
