"""Options with one meaning in every command, and the output levels they set.

- ``-c/--dr-config FILE``: the DR mapping (TOML) wherever a command needs one.
- ``--settings FILE``: the ``usqlrw.toml``/``pyproject.toml`` to use instead of the closest one.
- ``-q/--quiet``: only results and errors (no summary, status lines or progress);
  ``-v/--verbose``: also what was looked at and skipped. Both work before the command
  (``usqlrw -q check``) and after it (``usqlrw check -q``).

Old spellings stay for one release as hidden, deprecated aliases that warn on standard error:
``--config`` for the DR config in ``rewrite``, ``refs``, ``replicate``, ``dr-copy`` and ``failover
plan``, ``--config`` for the settings file in ``check``, ``--rewrite`` in ``submit``.
"""
from __future__ import annotations

import functools

import click

from .output import detail, info, level, report_skipped  # noqa: F401  (the click-free part)

_LEVEL = "usqlrw.verbosity"


def _set_level(value: int):
    def cb(ctx, param, flag):
        if flag:
            ctx.meta[_LEVEL] = value
        return flag
    return cb


def verbosity_options(f):
    """-q/--quiet and -v/--verbose, without parameters in the command's signature."""
    f = click.option("-v", "--verbose", is_flag=True, expose_value=False, is_eager=True,
                     callback=_set_level(1), help="Also say what was looked at and skipped.")(f)
    f = click.option("-q", "--quiet", is_flag=True, expose_value=False, is_eager=True,
                     callback=_set_level(-1), help="Only results and errors: no summary, status or progress.")(f)
    return f


def deprecated(old: str, new: str) -> None:
    click.echo(f"warning: {old} is deprecated here and will be removed in the next release; use {new}",
               err=True)


def aliased_option(dest: str, new_decls: tuple, old: str, *, required: bool = False, **kw):
    """An option ``new_decls`` (stored in ``dest``) with a hidden deprecated spelling ``old``.

    Giving both with different values is a usage error; ``required`` is checked after the
    alias has been taken into account, so either spelling satisfies it.
    """
    legacy = f"_legacy_{dest}"

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            old_value = kwargs.pop(legacy, None)
            if old_value is not None:
                deprecated(old, "/".join(new_decls))
                if kwargs.get(dest) not in (None, old_value):
                    raise click.UsageError(f"{old} and {new_decls[-1]} say different things; give only "
                                           f"{new_decls[-1]}")
                kwargs[dest] = old_value
            if required and kwargs.get(dest) is None:
                raise click.UsageError(f"Missing option '{' / '.join(new_decls)}'.")
            return f(*args, **kwargs)
        wrapper = click.option(old, legacy, hidden=True, type=kw.get("type"), default=None)(wrapper)
        wrapper = click.option(*new_decls, dest, default=None, **kw)(wrapper)
        return wrapper
    return deco


def dr_config_option(dest: str = "config_path", *, required: bool = False, old: str = "--config",
                     help: str = "The DR config (TOML): what the primary's names and locations become."):
    return aliased_option(dest, ("-c", "--dr-config"), old, required=required,
                          type=click.Path(dir_okay=False), metavar="FILE", help=help)


# -- file selection -------------------------------------------------------------------------

_DISC = "usqlrw.discovery"


def _store(key):
    def cb(ctx, param, value):
        from click.core import ParameterSource
        if ctx.get_parameter_source(param.name) == ParameterSource.COMMANDLINE and value not in (None, ()):
            ctx.meta.setdefault(_DISC, {})[key] = list(value) if isinstance(value, tuple) else value
        return value
    return cb


def discovery_options(f):
    """--exclude, --extend-exclude, --respect-gitignore/--no-respect-gitignore, --force-exclude."""
    for decl, key, kw in reversed([
        (("--exclude",), "exclude", dict(multiple=True, metavar="GLOB",
                                         help="Skip these files and folders when searching folders "
                                              "(replaces the settings' exclude and the defaults).")),
        (("--extend-exclude",), "extend_exclude", dict(multiple=True, metavar="GLOB",
                                                       help="Skip these too (added to exclude).")),
        (("--respect-gitignore/--no-respect-gitignore",), "respect_gitignore",
         dict(default=None, help="Skip what .gitignore files ignore (default: on).")),
        (("--force-exclude",), "force_exclude",
         dict(is_flag=True, default=None, help="Apply the excludes to files named as arguments too "
                                               "(for pre-commit).")),
    ]):
        f = click.option(*decl, key + "_opt", expose_value=False, callback=_store(key), **kw)(f)
    return f


def make_discovery(paths, settings=None):
    """The Discovery for this run: command-line values over the settings closest to the first path."""
    from .checking import discovery_for
    from .output import UsageError
    ctx = click.get_current_context(silent=True)
    given = (ctx.meta.get(_DISC, {}) if ctx is not None else {})
    try:
        return discovery_for(paths, settings, given)
    except UsageError as e:
        raise click.UsageError(str(e)) from None

