"""What ``usqlrw check`` does once its options are read, without click.

Both ways into it call :func:`run_check`: the click command (``usqlrw.cli.check``) and the fast
path of the pre-commit hook (``usqlrw.cli.fast``), which never imports click. Lines go through
``usqlrw.cli.output``; a usage or configuration error is an ``output.UsageError``, which each
caller words as click's usage errors (exit status 2).
"""
from __future__ import annotations

import os
import sys

from .output import UsageError, detail, echo, info, level, report_skipped

FORMATS = ("text", "json", "sarif", "github")


def use_color(choice: str, stream=None) -> bool:
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


def split_codes(values) -> list:
    return [c.strip() for v in values for c in v.split(",") if c.strip()]


def discovery_for(paths, settings=None, given=None):
    """The Discovery for this run: the discovery options given on the command line (``given``)
    over the settings closest to the first path; a settings error is an ``output.UsageError``."""
    from ..discovery import Discovery
    from ..lint.settings import SettingsError, find_settings
    if settings is None:
        first = next((p for p in paths if p != "-"), None) or os.getcwd()
        try:
            settings = find_settings(first)
        except SettingsError as e:
            raise UsageError(str(e)) from None
    return Discovery.from_settings(settings, **(given or {}))


class Runner:
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
                echo(f"warning: {w}", err=True)
        return s

    def dr_config(self, path):
        if path is None:
            return None
        if path not in self._dr:
            from ..config import ConfigError, load_config
            try:
                self._dr[path] = load_config(path)
            except ConfigError as e:
                raise UsageError(f"DR config: {e}") from None
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
                raise UsageError(str(e)) from None
            self._rules[key] = RuleSet(chosen, dr)
        return self._rules[key]


def run_check(paths, *, fmt="text", color="auto", select=(), ignore=(), dr_config=None, config_file=None,
              isolated=False, stdin_filename="<stdin>", no_source=False, exit_zero=False,
              show_settings=False, jobs=None, given_discovery=None) -> int:
    """Check ``paths`` as ``usqlrw check`` does and return its exit status (0 clean, 1 findings).
    ``select``/``ignore`` are the option values as given (comma-separated codes);
    ``given_discovery`` the discovery options given on the command line."""
    from ..check import check_many
    from ..diagnostics import render_text
    from ..files import iter_inputs
    from ..lint.settings import SettingsError
    from .progress import Progress

    try:
        runner = Runner(split_codes(select), split_codes(ignore), config_file, isolated, dr_config)
    except SettingsError as e:
        raise UsageError(str(e)) from None
    for w in runner.warnings:
        echo(f"warning: {w}", err=True)
    if show_settings:
        for p in paths:
            show_settings_of(runner, stdin_filename if p == "-" else p)
        return 0
    colored = fmt == "text" and use_color(color)
    discovery = discovery_for(paths, runner.fixed, given_discovery)
    items = []
    for inp in iter_inputs(paths, stdin_filename, discovery=discovery):
        try:
            items.append((inp, runner.rules_for(inp.path)))
        except SettingsError as e:
            raise UsageError(str(e)) from None
    report_skipped(discovery)
    bar = Progress(len(items), "checking")
    all_diags, bad_files = [], 0
    for (inp, _), diags in zip(items, check_many(items, jobs, lambda done, total: bar.update(done))):
        if diags:
            bad_files += 1
            all_diags += diags
            if fmt == "text":
                bar.clear()
                echo(render_text(diags, color=colored, show_source=not no_source), color=colored)
                bar.redraw()
        else:
            detail(f"{inp.path}: clean")
    bar.clear()
    n_files = len(items)
    if fmt != "text":
        from ..diagnostics import FORMATS as RENDER
        out = RENDER[fmt](all_diags)
        if out:
            echo(out)
    if n_files == 0:
        # as ruff, black and sqlfluff: nothing to check is not a failure, but say so
        echo("warning: no U-SQL scripts found (*.usql)" + (
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
    return 0 if exit_zero else (1 if all_diags else 0)


def show_settings_of(runner, path: str) -> None:
    """``check --show-settings``: the settings file, rules and DR config that apply to ``path``."""
    from ..lint.registry import SelectionError, select_rules
    s = runner.settings_for(path)
    select = runner.cli_select or s.select
    ignore = list(s.ignore) + list(runner.cli_ignore) + s.ignored_for(path)
    try:
        chosen = select_rules(select, ignore)
    except SelectionError as e:
        raise UsageError(str(e)) from None
    dr = runner.cli_dr or s.dr_config
    echo(f"{path}:")
    echo(f"  settings file: {s.path or '(none: defaults)'}")
    echo(f"  select: {', '.join(select) if select else 'ALL'}")
    echo(f"  ignore: {', '.join(ignore) if ignore else '(nothing)'}")
    echo(f"  dr config: {dr or '(none: DR003, DR005, DR006 are skipped)'}")
    ran = [r.code for r in chosen if r.check is not None and (dr or not r.needs_config)]
    echo(f"  rules that run: {', '.join(ran) if ran else '(none)'}")
    from ..discovery import DEFAULT_EXCLUDE
    exc = s.exclude if s.exclude is not None else list(DEFAULT_EXCLUDE)
    echo(f"  folder search skips: {', '.join(exc + list(s.extend_exclude))}"
         + ("; what .gitignore ignores" if s.respect_gitignore else "")
         + ("; excludes apply to named files too (force-exclude)" if s.force_exclude else ""))
