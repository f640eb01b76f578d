"""The fast path of the pre-commit hook: ``usqlrw check`` without importing click.

A pre-commit hook starts a new process for every commit, and importing click (with ``inspect``
and ``typing``, which it pulls in) cost about a third of such a run. :func:`parse` reads the
hook's command lines by hand::

    usqlrw check [-q|--quiet] [--force-exclude] [--format FMT|--format=FMT] FILE...

(options and files in any order, as click allows) and :func:`run` calls the same
:func:`usqlrw.cli.checking.run_check` the click command calls. Anything else (another command or
option, ``-`` or ``--``, ``--help``, a format it does not know, no file, a path that exists but
cannot be read (click words that one), shell completion, an
ASCII-only standard stream that click would rewrap) returns None from :func:`parse`, and click
handles the command line as always. ``USQLRW_NO_FAST_PATH=1`` turns the fast path off (the
tests run every case both ways and compare the bytes).
"""
from __future__ import annotations

import os
import sys

from .checking import FORMATS

#: What click prints above a usage error of ``check`` (``click.UsageError.show``); the tests
#: compare it with click's own on every run.
USAGE = "Usage: usqlrw check [OPTIONS] PATHS...\nTry 'usqlrw check --help' for help.\n"


def _plain_stream(stream) -> bool:
    """A text stream click.echo writes to as it is (click rewraps one whose encoding is ASCII)."""
    enc = getattr(stream, "encoding", None)
    if stream is None or not enc:
        return False
    import codecs
    try:
        return codecs.lookup(enc).name != "ascii"
    except LookupError:
        return False


def _readable_or_absent(path: str) -> bool:
    """What click's ``Path(allow_dash=True)`` of ``check``'s PATHS lets through: a path that does not
    exist, or one this user may read (else click says the path is not readable, exit 2)."""
    try:
        os.stat(path)
    except OSError:
        return True
    return os.access(path, os.R_OK)


def parse(argv: list[str]) -> dict | None:
    """The options of a ``check`` command line the fast path runs, or None for click."""
    if len(argv) < 2 or argv[0] != "check" or os.environ.get("USQLRW_NO_FAST_PATH"):
        return None
    if os.environ.get("_USQLRW_COMPLETE"):       # click's shell completion
        return None
    quiet, force, fmt, paths = False, False, "text", []
    args = iter(argv[1:])
    for a in args:
        if a in ("-q", "--quiet"):
            quiet = True
        elif a == "--force-exclude":
            force = True
        elif a == "--format":
            fmt = next(args, None)
            if fmt not in FORMATS:
                return None
        elif a.startswith("--format="):
            fmt = a[len("--format="):]
            if fmt not in FORMATS:
                return None
        elif a.startswith("-"):
            return None
        elif not _readable_or_absent(a):
            return None                             # click's Path type: "... is not readable."
        else:
            paths.append(a)
    if not paths or not (_plain_stream(sys.stdout) and _plain_stream(sys.stderr)):
        return None
    return {"quiet": quiet, "force_exclude": force, "fmt": fmt, "paths": paths}


def run(opts: dict) -> int:
    """Run a command line :func:`parse` accepted; the exit status, as click's way would give it."""
    from . import output
    output.use_fast(-1 if opts["quiet"] else 0)
    try:
        from .checking import run_check
        return run_check(opts["paths"], fmt=opts["fmt"],
                         given_discovery={"force_exclude": True} if opts["force_exclude"] else {})
    except output.UsageError as e:
        output.echo(USAGE, err=True)
        output.echo(f"Error: {e}", err=True)
        return 2
    except (EOFError, KeyboardInterrupt) as e:    # as click's main and usqlrw.cli.group.main say it
        output.echo("", err=True)
        if isinstance(e, EOFError):
            output.echo("Aborted.", err=True)
            return 1
        output.echo("Interrupted.", err=True)
        return 130
