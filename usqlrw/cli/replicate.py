"""usqlrw replicate: the replication bundle for a set of scripts (a thin shell over usqlrw.replicate)."""
from __future__ import annotations

import click

from .options import (discovery_options, dr_config_option, info, make_discovery, report_skipped,
                      verbosity_options)


@click.command("replicate")
@verbosity_options
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@dr_config_option(required=True, help="The DR config (TOML): accounts, stores, renames and replication.staging.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="The bundle folder: catalog/, primary/, secondary/ and manifest.json.")
@click.option("--previous-model", type=click.Path(dir_okay=False, exists=True),
              help="catalog/model.json of an earlier bundle: the catalog script then holds only the changes.")
@click.option("--catalog-from-primary", is_flag=True,
              help="Start the catalog model from the primary account's catalog (read through the SDK), "
                   "then apply the scripts' DDL on top: objects no script creates are synced too.")
@click.option("--endpoint", envvar="USQLRW_ADLA_ENDPOINT", default=None,
              help="With --catalog-from-primary: the service (default), an emulator URL, or 'emulator'.")
@click.option("--catalog", "catalog_file", type=click.Path(dir_okay=False, exists=True),
              help="Start the catalog model from a saved catalog: a pulled catalog (JSON) or a catalog/model.json.")
@click.option("--strict", is_flag=True, help="Exit 1 when any write cannot be replicated.")
@discovery_options
def replicate(paths, config_path, out_dir, previous_model, catalog_from_primary, endpoint, catalog_file, strict):
    """Generate catalog-sync DDL, DR copies of the jobs, import and snapshot scripts.

    Scripts are read in the order given (folders: sorted, recursively); DDL is applied in that
    order to build the catalog model. A script that does not parse is reported on one line and
    left out; the rest goes on. Exit 0 when the bundle was written, 1 when a script could not be
    read or parsed (or, with --strict, a write could not be replicated), 2 on usage errors.
    """
    from ..config import ConfigError, load_config
    from ..files import iter_inputs
    from ..parser import USqlSyntaxError, parse
    from ..replicate import build_bundle, write_bundle
    from ..replicate.catalog import Model
    from ..source import DecodeError

    try:
        config = load_config(config_path)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--dr-config") from None
    previous = None
    if previous_model:
        try:
            with open(previous_model, encoding="utf-8") as f:
                previous = Model.from_json(f.read())
        except (ValueError, OSError) as e:
            raise click.BadParameter(f"{previous_model}: {e}", param_hint="--previous-model") from None

    scripts, errors = [], []
    discovery = make_discovery(paths)
    for inp in iter_inputs(paths, discovery=discovery):
        if inp.data is None:
            errors.append(f"{inp.path}: {inp.error}")
            continue
        try:
            scripts.append((inp.path, parse(inp.data, path=inp.path), inp.relative))
        except USqlSyntaxError as e:
            errors.append(str(e).splitlines()[0])
        except DecodeError as e:
            errors.append(f"{inp.path}:{e.line}:{e.column}: {e.message}")
    report_skipped(discovery)
    for e in errors:
        click.echo(e, err=True)

    base = None
    if catalog_file and catalog_from_primary:
        raise click.UsageError("--catalog and --catalog-from-primary exclude each other")
    if catalog_file:
        from ..replicate.remote import load_catalog
        try:
            with open(catalog_file, encoding="utf-8") as f:
                base = load_catalog(f.read())
        except (ValueError, OSError, KeyError, TypeError) as e:
            raise click.BadParameter(f"{catalog_file}: {e}", param_hint="--catalog") from None
    if catalog_from_primary:
        from ..jobs.client import describe_error, make_clients, resolve_endpoint
        from ..replicate.remote import model_from_catalog
        try:
            ep = resolve_endpoint(endpoint)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--endpoint") from None
        try:
            clients = make_clients(ep)
            base = model_from_catalog(clients, config.primary_analytics)
        except Exception as e:   # the service, the network or the credentials: one line, exit 1
            click.echo(f"{config.primary_analytics}: cannot read the catalog: {describe_error(e)}", err=True)
            return 1
        finally:
            ep.close()

    bundle = build_bundle(scripts, config, previous, errors, base=base)
    write_bundle(bundle, out_dir)
    for p in bundle.problems:
        click.echo(f"not replicated: {p}", err=True)
    for w in bundle.warnings:
        click.echo(f"warning: {w}", err=True)
    steps = bundle.manifest["steps"]
    info(f"{out_dir}: {len(steps)} steps, {len(bundle.manifest['manual'])} manual, "
         f"{len(bundle.problems)} not replicated, {len(errors)} skipped")
    return 1 if errors or (strict and bundle.problems) else 0
