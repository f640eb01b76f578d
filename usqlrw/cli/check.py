"""``usqlrw check PATH...`` and ``usqlrw rules [CODE]``.

check: syntax errors and lint findings with file:line:col, in text (with the highlighted source
line and a caret on a terminal), json, sarif or github format. Settings come from the closest
``usqlrw.toml`` or ``pyproject.toml`` ``[tool.usqlrw]`` above each file (``--settings`` names one,
``--isolated`` ignores them); ``--select``/``--ignore`` override them.
Exit status: 0 clean, 1 findings, 2 usage or configuration errors.
"""
from __future__ import annotations

import os
import sys

import click

from .checking import FORMATS
from .checking import Runner as _Runner  # noqa: F401  (the names before the click-free split)
from .checking import split_codes as _split  # noqa: F401
from .checking import use_color as _use_color  # noqa: F401
from .options import _DISC, aliased_option, discovery_options, level, verbosity_options
from .output import UsageError

_FORMATS = list(FORMATS)


@click.command("check")
@verbosity_options
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True,
              help="Output format: text, json, sarif (SARIF 2.1.0) or github (workflow annotations).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour and highlighted source lines in text output (auto: on a terminal, unless NO_COLOR).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: codes, prefixes (DR, SEM) or names, comma-separated. Overrides the config.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules (added to the config's ignore).")
@click.option("-c", "--dr-config", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="DR mapping (TOML) for the rules that need it (DR003, DR005, DR006); overrides dr-config.")
@aliased_option("config_file", ("--settings",), "--config", type=click.Path(exists=True, dir_okay=False),
                metavar="FILE", help="Use this usqlrw.toml/pyproject.toml instead of searching above each file.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--stdin-filename", default="<stdin>", help="Name to report for '-' (standard input).")
@click.option("--no-source", is_flag=True, help="Text format: no source line and caret under each finding.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--show-settings", is_flag=True,
              help="Print the settings file, rules and DR config that apply to each PATH, and exit.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help="Processes to use (default: all cores for 64 scripts or more).")
@click.option("--runnable", is_flag=True,
              help="Instead of linting: which scripts `usqlrw run` can run, and what blocks the rest (by construct).")
@discovery_options
def check(paths, fmt, color, select, ignore, dr_config, config_file, isolated, stdin_filename, no_source,
          exit_zero, show_settings, jobs, runnable):
    """Check U-SQL scripts: files, folders (searched for *.usql) or - for standard input.

    Prints path:line:col: CODE message for each finding, with the source line and a caret.
    `usqlrw rules` lists the rules. Settings: [tool.usqlrw] in the closest pyproject.toml or
    usqlrw.toml. Exit status: 0 when every script is clean, 1 when any has findings, 2 on usage
    errors.

    \b
    Silence a finding in the script:
      ... // usqlrw: ignore[DR001]       on that line
      // usqlrw: ignore[SEM007]          on a line of its own: the next statement
      // usqlrw: ignore-file[SEM008]     the whole file
    """
    if runnable:
        return _runnable(paths, stdin_filename, level() < 0, exit_zero)
    from .checking import run_check
    ctx = click.get_current_context()
    try:
        rc = run_check(paths, fmt=fmt, color=color, select=select, ignore=ignore, dr_config=dr_config,
                       config_file=config_file, isolated=isolated, stdin_filename=stdin_filename,
                       no_source=no_source, exit_zero=exit_zero, show_settings=show_settings, jobs=jobs,
                       given_discovery=ctx.meta.get(_DISC, {}))
    except UsageError as e:
        raise click.UsageError(str(e)) from None
    if not show_settings:
        sys.exit(rc)


def _show_settings(runner, path: str) -> None:
    from .checking import show_settings_of
    try:
        show_settings_of(runner, path)
    except UsageError as e:
        raise click.UsageError(str(e)) from None


@click.command("rules")
@verbosity_options
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="markdown: the rules table for documentation.")
def rules(code, fmt):
    """List the lint rules, or explain one (CODE or name) with a bad and a good example."""
    import json

    from ..lint.registry import get_rule, listed_rules
    if code:
        r = get_rule(code)
        if r is None:
            raise click.UsageError(f"no rule {code!r}; `usqlrw rules` lists them")
        if fmt == "json":
            click.echo(json.dumps(_rule_dict(r), indent=2))
        elif fmt == "markdown":
            d = _rule_dict(r)
            click.echo(f"### {r.code} {r.name}\n\n{r.summary}.\n\n{d['explanation']}\n")
            for title in ("bad", "good"):
                if d[title]:
                    click.echo(f"{title.capitalize()}:\n\n```sql\n{d[title]}\n```\n")
        else:
            click.echo(r.explain())
        return
    rs = listed_rules()
    if fmt == "json":
        click.echo(json.dumps([_rule_dict(r) for r in rs], indent=2))
        return
    if fmt == "markdown":
        click.echo("| code | name | what it reports |\n|---|---|---|")
        for r in rs:
            notes = [n for n, on in (("needs a DR config", r.needs_config), ("warning", r.severity == "warning")) if on]
            click.echo(f"| `{r.code}` | {r.name} | {r.summary}{' (' + ', '.join(notes) + ')' if notes else ''} |")
        return
    width = max(len(r.name) for r in rs)
    for r in rs:
        tag = " (needs a DR config)" if r.needs_config else ""
        tag += " [warning]" if r.severity == "warning" else ""
        click.echo(f"{r.code:<7} {r.name:<{width}}  {r.summary}{tag}")


def _rule_dict(r) -> dict:
    import textwrap
    return {"code": r.code, "name": r.name, "summary": r.summary, "severity": r.severity,
            "needs_config": r.needs_config, "selectable": r.selectable,
            "explanation": " ".join(r.explanation.split()),
            "bad": textwrap.dedent(r.bad).strip("\n"), "good": textwrap.dedent(r.good).strip("\n")}


def _runnable(paths, stdin_filename, quiet, exit_zero):
    """``check --runnable``: each script that cannot run, with its blockers; a summary by construct."""
    from collections import Counter

    from ..engine import construct_key, runnable
    from ..files import iter_inputs
    from ..source import decode
    n = ok = 0
    by_construct: Counter = Counter()
    for inp in iter_inputs(paths, stdin_filename):
        n += 1
        if inp.data is None:
            click.echo(f"{inp.path}: cannot read: {inp.error}")
            by_construct["unreadable"] += 1
            continue
        try:
            text = decode(inp.data).text
        except ValueError as e:
            click.echo(f"{inp.path}: cannot decode: {e}")
            by_construct["undecodable"] += 1
            continue
        found = runnable(text, inp.path)
        if not found:
            ok += 1
            if not quiet:
                click.echo(f"{inp.path}: runnable")
            continue
        for key in sorted({construct_key(b) for b in found}):
            by_construct[key] += 1
        for b in found:
            click.echo(f"{b}")
    if not quiet:
        click.echo(f"{n} script{'s' if n != 1 else ''}: {ok} runnable, {n - ok} blocked", err=True)
        for key, c in by_construct.most_common():
            click.echo(f"  {c:4d}  {key}", err=True)
    sys.exit(0 if exit_zero or ok == n and n else 1)
