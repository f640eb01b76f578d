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
@click.option("--tree", is_flag=True, help="A readable outline (one node per line) instead of JSON.")
def ast_cmd(path, stdin_filename, indent, tree):
    """Print the typed AST of one script as JSON: {"version": N, "tree": ...}, with the kind, span
    and named fields of every node (the format is documented in the README and versioned)."""
    from ..ast import dump, to_json
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
    text = dump(script) if tree else to_json(script, indent=indent)
    click.echo(mask(text), nl=not tree)   # connection-string secrets never printed
