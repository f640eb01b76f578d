"""usqlrw check PATH...: syntax (and rule) errors with file:line:col."""
from __future__ import annotations

import sys

import click


def _use_color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    import os
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("--stdin-filename", default="<stdin>", help="Name to report for '-' (standard input).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the findings, no summary.")
def check(paths, fmt, color, stdin_filename, quiet):
    """Check U-SQL scripts: files, folders (searched for *.usql) or - for standard input.

    Prints path:line:col: CODE message for each finding, with the source line and a caret.
    Exit status: 0 when every script is clean, 1 when any has findings, 2 on usage errors.
    """
    from ..check import check_input
    from ..diagnostics import render_json, render_text
    from ..files import iter_inputs

    all_diags, n_files, bad_files = [], 0, 0
    use_color = _use_color(color)
    for inp in iter_inputs(paths, stdin_filename):
        n_files += 1
        diags = check_input(inp)
        if diags:
            bad_files += 1
            all_diags += diags
            if fmt == "text":
                click.echo(render_text(diags, color=use_color))
    if fmt == "json":
        click.echo(render_json(all_diags))
    elif not quiet:
        if n_files == 0:
            click.echo("no U-SQL scripts found", err=True)
        else:
            msg = (f"{n_files} script{'s' if n_files != 1 else ''} checked, "
                   f"{bad_files} with findings ({len(all_diags)} in all)" if bad_files
                   else f"{n_files} script{'s' if n_files != 1 else ''} checked, all clean")
            click.echo(msg, err=True)
    sys.exit(1 if all_diags or n_files == 0 else 0)
