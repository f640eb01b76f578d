"""usqlrw ast FILE: the typed AST as JSON."""
from __future__ import annotations

import sys

import click

from .options import verbosity_options


@click.command("ast")
@verbosity_options
@click.argument("path", type=click.Path(allow_dash=True))
@click.option("--stdin-filename", default="<stdin>")
@click.option("--indent", type=int, default=2, show_default=True)
def ast_cmd(path, stdin_filename, indent):
    """Print the typed AST of one script as JSON: kind, span and fields of every node."""
    from ..ast import to_json
    from ..files import iter_inputs
    from ..parser import USqlSyntaxError, parse

    inp = next(iter(iter_inputs([path], stdin_filename, suffixes=("",))))
    if inp.data is None:
        click.echo(f"{inp.path}:1:1: cannot read: {inp.error}", err=True)
        sys.exit(1)
    try:
        script = parse(inp.data, path=inp.path)
    except USqlSyntaxError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    from ..secrets import mask
    click.echo(mask(to_json(script, indent=indent)))   # connection-string secrets never printed
