"""usqlrw rewrite / usqlrw refs: the failover rewrite of whole repositories, and what it touches."""
from __future__ import annotations

import json
import os
import sys

import click

from .check import _use_color
from .options import (detail, discovery_options, dr_config_option, info, level, make_discovery, report_skipped,
                      verbosity_options)
from .progress import Progress


def _load_config(path):
    from ..config import ConfigError, load_config
    try:
        return load_config(path)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--dr-config") from None


def _color_diff(diff: str) -> str:
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith("+++") or line.startswith("---"):
            out.append("\x1b[1m" + line.rstrip("\n") + "\x1b[0m\n")
        elif line.startswith("+"):
            out.append("\x1b[32m" + line.rstrip("\n") + "\x1b[0m\n")
        elif line.startswith("-"):
            out.append("\x1b[31m" + line.rstrip("\n") + "\x1b[0m\n")
        elif line.startswith("@@"):
            out.append("\x1b[36m" + line.rstrip("\n") + "\x1b[0m\n")
        else:
            out.append(line)
    return "".join(out)


def diff_name(path: str, stdin_filename: str) -> str:
    """The name a diff shows for ``path``: relative to the current folder, so that ``git apply``
    run where usqlrw ran finds the file (an absolute or outside path is shown as given)."""
    if path == "<stdin>":
        return "stdin"
    p = os.path.normpath(path)
    if os.path.isabs(p):
        rel = os.path.relpath(p)
        p = rel if not rel.startswith("..") else p
    return p.replace(os.sep, "/")


# What a changed/unchanged script got, said honestly for each mode.
_STATUS = {"check": ("would change", "unchanged"), "diff": ("would change", "unchanged"),
           "in-place": ("rewritten", "unchanged"), "out": ("rewritten to {dest}", "copied unchanged to {dest}"),
           "stdout": ("rewritten to standard output", "unchanged, copied to standard output")}


_SUMMARY = {"check": "would change", "diff": "would change", "in-place": "rewritten", "out": "changed",
            "stdout": "changed"}


def status_word(mode: str, changed: bool, dest) -> str:
    return _STATUS[mode][0 if changed else 1].format(dest=dest or "the output folder")


class _Folders:
    """The folders a batch writes into: cleaned of the temp files of earlier, killed runs before
    the workers start (in place: every folder of the inputs, written to or not), and made durable
    (fsync) once at the end."""

    def __init__(self, sink):
        self.sink = sink
        self.dirs: set = set()

    def prepare(self, inputs):
        from ..files import clean_strays
        for inp in inputs:
            folder = self.sink.destination(inp)
            if folder is not None and folder not in self.dirs:
                self.dirs.add(folder)
                clean_strays(folder)

    def close(self):
        from ..files import fsync_dir
        for d in sorted(self.dirs):
            fsync_dir(d)


@click.command("rewrite")
@verbosity_options
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@dr_config_option(required=True)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False),
              help="Write every script under DIR, at its path relative to the folder argument it was "
                   "found under (or under its own name for a file argument).")
@click.option("-i", "--in-place", is_flag=True, help="Rewrite the files where they are, atomically, through symbolic links, keeping mode, "
                   "owner and group; read-only, hard-linked and since-edited files are refused.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of every change.")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if any script would change.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help="Processes to use (default: all cores for large batches).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Summary format.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("--fail-on-warning", is_flag=True, help="Exit 1 when any warning is reported.")
@click.option("--stdin-filename", default="<stdin>", help="Name to report for '-' (standard input).")
@discovery_options
def rewrite(paths, config_path, out_dir, in_place, show_diff, check_only, jobs, fmt, color,
            fail_on_warning, stdin_filename):
    """Rewrite U-SQL scripts so they read and write the secondary region.

    Locations (EXTRACT FROM, OUTPUT TO, file sets, assembly files, DEPLOY RESOURCE, DECLAREd
    values and parts of concatenations) move to the secondary stores; catalog names (resolved to
    database.schema.object) follow the config's renames. Only the bytes that must change do;
    encoding, BOM, line endings and comments stay as they are.

    A script that does not parse is reported and left alone; the rest of the batch goes on.
    With '-' as the only path and no --out/--in-place, the rewritten script goes to standard output.

    Exit status: 0 ok; 1 if any script failed (or would change, with --check, or had warnings,
    with --fail-on-warning); 2 on usage errors.
    """
    from ..batch import Sink, rewrite_many
    from ..diagnostics import render_text
    from ..diagnostics import Diagnostic
    from ..files import iter_inputs

    if out_dir and in_place:
        raise click.UsageError("--out and --in-place exclude each other")
    to_stdout = list(paths) == ["-"] and not (out_dir or in_place or show_diff or check_only)
    if not (out_dir or in_place or show_diff or check_only or to_stdout):
        raise click.UsageError("say what to do: --out DIR, --in-place, --diff or --check")
    if "-" in paths and in_place:
        raise click.UsageError("standard input cannot be rewritten in place")
    mode = "check" if check_only else "diff" if show_diff and not (out_dir or in_place) else \
        "in-place" if in_place else "out" if out_dir else "stdout"
    config = _load_config(config_path)
    from ..parser import prepare
    prepare()  # load the parse tables once, before worker processes fork

    discovery = make_discovery(paths)
    # standard input is always rewritten: an editor piping a file through must get it back
    inputs = list(iter_inputs(paths, stdin_filename, discovery=discovery if list(paths) != ["-"] else None))
    report_skipped(discovery)
    use_color = _use_color(color)
    bar = Progress(len(inputs), "rewriting")

    def progress(done, total):
        bar.update(done)

    n_changed = n_failed = n_warn = 0
    report = []
    sink = Sink(out_dir, keep_data=show_diff) if (out_dir or in_place) and not check_only else None
    folders = _Folders(sink) if sink else None
    if folders:
        folders.prepare(inputs)
    for r in rewrite_many(inputs, config, jobs, progress, sink):
        entry = {"path": r.path, "status": r.status, "edits": len(r.edits),
                 "warnings": [w.to_dict() for w in r.warnings]}
        if r.status == "failed":
            n_failed += 1
            entry["error"] = r.error.to_dict()
            if fmt == "text":
                bar.clear()
                click.echo(render_text([r.error], color=use_color), err=True)
            report.append(entry)
            continue
        n_warn += len(r.warnings)
        if r.status == "changed":
            n_changed += 1
        bar.clear()
        if show_diff and r.status == "changed":
            d = r.diff(diff_name(r.path, stdin_filename))
            click.echo(_color_diff(d) if use_color else d, nl=False, color=use_color)
        if to_stdout:
            sys.stdout.buffer.write(r.data)
            sys.stdout.flush()
        elif sink is not None:
            if r.write_error is not None:
                err = Diagnostic(r.path, 1, 1, "IO", f"not written: {r.write_error}")
                n_failed += 1
                n_changed -= r.status == "changed"
                entry.update(status="failed", error=err.to_dict())
                if fmt == "text":
                    click.echo(render_text([err], color=use_color, show_source=False), err=True)
                report.append(entry)
                continue
            if r.same_as is not None:   # the same file as an earlier path (a link to it): already done
                n_changed -= 1
                entry.update(status="unchanged", written=None, same_as=r.same_as)
                report.append(entry)
                continue
            if r.written is not None:
                entry["written"] = r.written
        if fmt == "text":
            if r.warnings:
                click.echo(render_text(r.warnings, color=use_color, show_source=False), err=True)
            if r.status == "changed":
                info(f"{r.path}: {status_word(mode, True, entry.get('written'))}, {len(r.edits)} "
                     f"edit{'s' if len(r.edits) != 1 else ''}"
                     + (f", {len(r.warnings)} warning{'s' if len(r.warnings) != 1 else ''}" if r.warnings else ""))
            else:
                detail(f"{r.path}: {status_word(mode, False, entry.get('written'))}")
        entry["action"] = status_word(mode, r.status == "changed", entry.get("written"))
        report.append(entry)
        bar.redraw()
    if folders:
        folders.close()
    if fmt == "json":
        click.echo(json.dumps({"files": report, "changed": n_changed, "failed": n_failed,
                               "warnings": n_warn}, indent=2))
    elif not inputs:
        click.echo("warning: no U-SQL scripts found (*.usql)" + (
            f"; {len(discovery.skipped)} skipped, -v says why" if discovery.skipped and level() <= 0 else ""),
            err=True)
    else:
        n_written = sum("written" in e for e in report)
        info(f"{len(inputs)} script{'s' if len(inputs) != 1 else ''}: {n_changed} "
             f"{_SUMMARY[mode]}, {n_failed} failed, {n_warn} warnings"
             + (f"; {n_written} written to {out_dir}" if mode == "out" else ""))
    failed = n_failed or (check_only and n_changed) or (fail_on_warning and n_warn)
    sys.exit(1 if failed else 0)


@click.command("refs")
@verbosity_options
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@dr_config_option(help="A DR config: also show what each name and location becomes.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--stdin-filename", default="<stdin>")
@discovery_options
def refs(paths, config_path, fmt, stdin_filename):
    """List every catalog reference (resolved to account.database.schema.object) and every
    location of the scripts, and with --config what a failover turns them into."""
    from ..diagnostics import render_text
    from ..files import iter_inputs
    from ..refs import collect

    config = _load_config(config_path) if config_path else None
    rows, failed = [], 0
    discovery = make_discovery(paths)
    for inp in iter_inputs(paths, stdin_filename, discovery=discovery):
        got, err = collect(inp, config)
        if err is not None:
            failed += 1
            click.echo(render_text([err]), err=True)
        rows += got
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        cols = ["location", "what", "role", "primary", "secondary"]
        table = [[f"{r['path']}:{r['line']}:{r['column']}", r["what"], r["role"], r["primary"],
                  r.get("secondary", "") if r.get("secondary") != r["primary"] else "="] for r in rows]
        widths = [max([len(c)] + [len(t[i]) for t in table]) for i, c in enumerate(cols)]
        click.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
        for t in table:
            click.echo("  ".join(v.ljust(w) for v, w in zip(t, widths)).rstrip())
    sys.exit(1 if failed else 0)
