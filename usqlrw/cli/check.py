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

from .options import (aliased_option, detail, discovery_options, info, level, make_discovery,
                      report_skipped, verbosity_options)
from .progress import Progress

_FORMATS = ["text", "json", "sarif", "github"]


def _use_color(choice: str, stream=None) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def _split(values) -> list:
    return [c.strip() for v in values for c in v.split(",") if c.strip()]


class _Runner:
    """Per-file settings, rules and DR config, each computed once per folder or file."""

    def __init__(self, select, ignore, config_file, isolated, dr_config):
        from ..lint.settings import Settings, load_settings
        self.cli_select, self.cli_ignore = select or None, ignore
        self.fixed = load_settings(config_file) if config_file else (Settings() if isolated else None)
        self.cli_dr = dr_config
        self._dr: dict = {}
        self._rules: dict = {}
        self.warnings: list = list(self.fixed.warnings) if self.fixed else []

    def settings_for(self, path: str):
        if self.fixed is not None:
            return self.fixed
        from ..lint.settings import find_settings
        s = find_settings(path if path not in ("-", "<stdin>") else os.getcwd())
        for w in s.warnings:
            if w not in self.warnings:
                self.warnings.append(w)
                click.echo(f"warning: {w}", err=True)
        return s

    def dr_config(self, path):
        if path is None:
            return None
        if path not in self._dr:
            from ..config import ConfigError, load_config
            try:
                self._dr[path] = load_config(path)
            except ConfigError as e:
                raise click.UsageError(f"DR config: {e}") from None
        return self._dr[path]

    def rules_for(self, path: str):
        from ..lint.registry import SelectionError, select_rules
        s = self.settings_for(path)
        select = self.cli_select if self.cli_select else s.select
        ignore = list(s.ignore) + list(self.cli_ignore) + s.ignored_for(path)
        dr = self.dr_config(self.cli_dr or s.dr_config)
        key = (tuple(select or ()), tuple(ignore), id(dr))
        if key not in self._rules:
            from ..check import RuleSet
            try:
                chosen = select_rules(select, ignore)
            except SelectionError as e:
                raise click.UsageError(str(e)) from None
            self._rules[key] = RuleSet(chosen, dr)
        return self._rules[key]


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
    from ..check import check_many
    from ..diagnostics import render_text
    from ..files import iter_inputs
    from ..lint.settings import SettingsError

    try:
        runner = _Runner(_split(select), _split(ignore), config_file, isolated, dr_config)
    except SettingsError as e:
        raise click.UsageError(str(e)) from None
    for w in runner.warnings:
        click.echo(f"warning: {w}", err=True)
    if show_settings:
        for p in paths:
            _show_settings(runner, stdin_filename if p == "-" else p)
        return
    use_color = fmt == "text" and _use_color(color)
    discovery = make_discovery(paths, runner.fixed)
    items = []
    for inp in iter_inputs(paths, stdin_filename, discovery=discovery):
        try:
            items.append((inp, runner.rules_for(inp.path)))
        except SettingsError as e:
            raise click.UsageError(str(e)) from None
    report_skipped(discovery)
    bar = Progress(len(items), "checking")
    all_diags, bad_files = [], 0
    for (inp, _), diags in zip(items, check_many(items, jobs, lambda done, total: bar.update(done))):
        if diags:
            bad_files += 1
            all_diags += diags
            if fmt == "text":
                bar.clear()
                click.echo(render_text(diags, color=use_color, show_source=not no_source), color=use_color)
                bar.redraw()
        else:
            detail(f"{inp.path}: clean")
    bar.clear()
    n_files = len(items)
    if fmt != "text":
        from ..diagnostics import FORMATS
        out = FORMATS[fmt](all_diags)
        if out:
            click.echo(out)
    if n_files == 0:
        # as ruff, black and sqlfluff: nothing to check is not a failure, but say so
        click.echo("warning: no U-SQL scripts found (*.usql)" + (
            f"; {len(discovery.skipped)} skipped, -v says why" if discovery.skipped and level() <= 0 else ""),
            err=True)
    else:
        s = "s" if n_files != 1 else ""
        if bad_files:
            errs = sum(d.severity == "error" for d in all_diags)
            warns = len(all_diags) - errs
            detail_ = f"{errs} error{'s' if errs != 1 else ''}" + (
                f", {warns} warning{'s' if warns != 1 else ''}" if warns else "")
            info(f"{n_files} script{s} checked, {bad_files} with findings ({detail_})")
        else:
            info(f"{n_files} script{s} checked, all clean")
    sys.exit(0 if exit_zero else (1 if all_diags else 0))


def _show_settings(runner, path: str) -> None:
    from ..lint.registry import SelectionError, select_rules
    s = runner.settings_for(path)
    select = runner.cli_select or s.select
    ignore = list(s.ignore) + list(runner.cli_ignore) + s.ignored_for(path)
    try:
        chosen = select_rules(select, ignore)
    except SelectionError as e:
        raise click.UsageError(str(e)) from None
    dr = runner.cli_dr or s.dr_config
    click.echo(f"{path}:")
    click.echo(f"  settings file: {s.path or '(none: defaults)'}")
    click.echo(f"  select: {', '.join(select) if select else 'ALL'}")
    click.echo(f"  ignore: {', '.join(ignore) if ignore else '(nothing)'}")
    click.echo(f"  dr config: {dr or '(none: DR003, DR005, DR006 are skipped)'}")
    ran = [r.code for r in chosen if r.check is not None and (dr or not r.needs_config)]
    click.echo(f"  rules that run: {', '.join(ran) if ran else '(none)'}")
    from ..discovery import DEFAULT_EXCLUDE
    exc = s.exclude if s.exclude is not None else list(DEFAULT_EXCLUDE)
    click.echo(f"  folder search skips: {', '.join(exc + list(s.extend_exclude))}"
               + ("; what .gitignore ignores" if s.respect_gitignore else "")
               + ("; excludes apply to named files too (force-exclude)" if s.force_exclude else ""))


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
