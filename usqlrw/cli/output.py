"""Output levels and lines for the commands, without importing click.

Under click (every command), the level is the one ``-q``/``-v`` set on the running click context
and lines go through ``click.echo``. On the fast path of ``usqlrw check`` (``usqlrw.cli.fast``),
which never imports click, :func:`use_fast` sets the level and :func:`echo` writes the same bytes
``click.echo`` would: the message and a newline, flushed, ANSI styles removed unless colour is on
(or, for ``color=None``, unless the stream is a terminal). The fast path runs only where the
standard streams need none of click's rewrapping (an encoding other than ASCII).
"""
from __future__ import annotations

import re
import sys

_fast_level: int | None = None      # None: click runs the command

_ANSI = r"\033\[[0-?]*[ -/]*[@-~]"     # click._compat._ansi_re


class UsageError(Exception):
    """A usage or configuration error (exit status 2); the CLI words it as click's usage errors."""


def use_fast(level_: int) -> None:
    global _fast_level
    _fast_level = level_


def level() -> int:
    """-1 quiet, 0 normal, 1 verbose (for the command now running)."""
    if _fast_level is not None:
        return _fast_level
    import click
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("usqlrw.verbosity", 0) if ctx is not None else 0


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except Exception:
        return False


def echo(message: str = "", err: bool = False, color: bool | None = None) -> None:
    if _fast_level is None:
        import click
        click.echo(message, err=err, color=color)
        return
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    out = f"{message}\n"
    if (not color) if color is not None else not _isatty(stream):
        out = re.sub(_ANSI, "", out)
    stream.write(out)
    stream.flush()


def info(message: str, **kw) -> None:
    """A status or summary line on standard error; not with -q."""
    if level() >= 0:
        echo(message, err=True, **kw)


def detail(message: str, **kw) -> None:
    """A line only -v shows."""
    if level() > 0:
        echo(message, err=True, **kw)


def report_skipped(discovery) -> None:
    """-v: what the search left out, and why."""
    for path, why in discovery.skipped:
        detail(f"{path}: skipped, {why}")
