"""usqlrw submit / dr-copy / emulator: thin shells over usqlrw.jobs.

The Azure SDK is imported only inside the commands (through usqlrw.jobs.client).
Exit status: 0 all well, 1 a job could not be submitted, failed, or does not compile, 2 usage.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from .options import discovery_options, dr_config_option, level, make_discovery, verbosity_options


def _err(msg: str):
    from ..jobs.client import redact
    click.echo(redact(msg), err=True)


def _info(msg: str):
    """A status line: not with -q."""
    if level() >= 0:
        _err(msg)


def _load_config(path):
    if not path:
        return None
    from ..config import ConfigError, load_config
    try:
        return load_config(path)
    except (ConfigError, OSError) as e:
        raise click.UsageError(str(e)) from None


def _config_endpoint(cfg, side: str):
    """The endpoint a DR config names for a side: [side].endpoint, or 'emulator' with options.emulator."""
    if cfg is None:
        return None
    raw = getattr(cfg, "raw", {}) or {}
    ep = (raw.get(side) or {}).get("endpoint")
    if ep:
        return ep
    return "emulator" if getattr(cfg, "emulator", False) else None


def _endpoint(value, cfg, side, state):
    """--endpoint, else $USQLRW_ADLA_ENDPOINT, else the DR config's, else the real service."""
    from ..jobs.client import ENDPOINT_ENV, resolve_endpoint
    if value is None:
        value = os.environ.get(ENDPOINT_ENV) or _config_endpoint(cfg, side) or ""
    if state is None and value.strip().lower() == "emulator":
        from ..dirs import emulator_state
        state = emulator_state(cfg.path if cfg is not None and getattr(cfg, "path", None) else None)
    try:
        return resolve_endpoint(value, state_file=state)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def _rewriter(cfg):
    if cfg is None:
        return None
    from ..rewrite import rewrite_text

    def rw(text, path):
        res = rewrite_text(text, cfg, path=path)
        ws = [f"{getattr(w, 'line', '?')}:{getattr(w, 'column', '?')}: {getattr(w, 'message', w)}"
              for w in res.warnings]
        return res.text, ws
    return rw


_endpoint_opts = [
    click.option("--endpoint", default=None, metavar="URL|emulator",
                 help="Where jobs go: empty for Azure, an emulator URL, or 'emulator' for an embedded one. "
                      "Default: $USQLRW_ADLA_ENDPOINT, then the DR config."),
    click.option("--state", "state", default=None, type=click.Path(dir_okay=False),
                 help="SQLite state file of the embedded emulator (default: one per DR config in "
                      "$XDG_STATE_HOME/usqlrw, outside the working tree)."),
    click.option("--dns-suffix", default=None, help="ADLA DNS suffix for sovereign clouds "
                 "(default azuredatalakeanalytics.net)."),
    click.option("--token-scope", default=None, metavar="SCOPE",
                 help="Scope of the azure-identity token (default $USQLRW_ADLA_SCOPE, else "
                      "https://datalake.azure.net//.default). Not used with $USQLRW_ADLA_TOKEN."),
]


def _with(opts):
    def deco(f):
        for o in reversed(opts):
            f = o(f)
        return f
    return deco


# -- submit ---------------------------------------------------------------------------------

@click.command("submit")
@verbosity_options
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("-a", "--account", help="The ADLA account to submit to (bundle jobs name their own).")
@click.option("--bundle", type=click.Path(), help="Submit a bundle (from dr-copy or replicate) in its manifest's "
              "order; replication steps run one at a time, each after the one before has succeeded.")
@click.option("--on-demand", is_flag=True, help="With a replication bundle: also run its on-demand steps.")
@click.option("--name", help="Job name (default: the script's file name; for one script only).")
@click.option("--job-id", help="Job id (a GUID; default: derived from account, script, parameters, name).")
@click.option("--run-key", default="", help="Extra text in the derived job id: a new key makes new jobs.")
@click.option("--au", "--analytics-units", "analytics_units", type=click.IntRange(1), default=None,
              help="Analytics units (degree of parallelism), default 1.")
@click.option("--priority", type=click.IntRange(1), default=None, help="Job priority (lower runs first).")
@click.option("--runtime", "runtime_version", default=None, help="U-SQL runtime version.")
@click.option("--compile-mode", type=click.Choice(["Semantic", "Full", "SingleBox"]), default=None)
@click.option("-p", "--param", "params", multiple=True, metavar="NAME[:TYPE]=VALUE",
              help="A job parameter, prepended as DECLARE (overrides DECLARE EXTERNAL). Repeatable.")
@dr_config_option("rewrite_config", old="--rewrite",
                  help="Rewrite each script with this DR config on the way (its endpoints apply too).")
@click.option("--build-only", is_flag=True, help="Only compile on the service (buildJob); submit nothing.")
@click.option("--wait", is_flag=True, help="Wait for the jobs to end, showing progress; exit 1 if any fails.")
@click.option("--poll-interval", type=click.FloatRange(0), default=5.0, show_default=True,
              help="Seconds between status reads while waiting.")
@click.option("--timeout", "wait_timeout", type=click.FloatRange(0), default=None,
              help="With --wait: stop waiting after this many seconds (exit 1 if jobs are still running).")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; contact nothing.")
@click.option("--max-parallel", type=click.IntRange(1), default=4, show_default=True)
@click.option("--ledger", type=click.Path(dir_okay=False), default=None,
              help="Submission ledger: reruns skip what it records as submitted. Default: "
                   "usqlrw-submissions.jsonl in the bundle folder with --bundle, else submissions.jsonl in "
                   "$XDG_STATE_HOME/usqlrw (outside the working tree).")
@click.option("--no-ledger", is_flag=True, help="Keep no ledger (derived ids still prevent doubles).")
@click.option("--retries", type=click.IntRange(0), default=5, show_default=True,
              help="Retries of 429/5xx answers and dropped connections, with backoff.")
@click.option("--retry-backoff", type=click.FloatRange(0), default=1.0, show_default=True, hidden=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@discovery_options
@_with(_endpoint_opts)
def submit(paths, account, bundle, on_demand, name, job_id, run_key, analytics_units, priority, runtime_version, compile_mode,
           params, rewrite_config, build_only, wait, poll_interval, wait_timeout, dry_run, max_parallel, ledger, no_ledger,
           retries, retry_backoff, fmt, endpoint, state, dns_suffix, token_scope):
    """Submit U-SQL scripts (files, folders, - for standard input) or a bundle as ADLA jobs.

    Submitting is idempotent: job ids derive from (account, script as sent, parameters, name), and the
    ledger records each submission, so a rerun after a crash starts nothing twice.
    """
    from ..files import iter_inputs
    from ..jobs.client import redact
    from ..jobs.drcopy import BundleError, read_bundle
    from ..jobs.submit import Ledger, ParamError, RetryPolicy, Submitter, parse_param, prepare_request

    if not paths and not bundle:
        raise click.UsageError("give scripts to submit, or --bundle")
    try:
        plist = [parse_param(p) for p in params]
    except ParamError as e:
        raise click.UsageError(str(e)) from None
    cfg = _load_config(rewrite_config)
    rewrite = _rewriter(cfg)
    if account is None and cfg is not None and not bundle:
        account = cfg.secondary_analytics
    items = []   # (source, data, per-job settings)
    if bundle:
        try:
            _, entries = read_bundle(bundle, on_demand=on_demand)
        except BundleError as e:
            raise click.UsageError(str(e)) from None
        if account and any(e.get("sequential") for e in entries):
            raise click.UsageError("a replication bundle names each step's account; drop --account")
        for e in entries:
            try:
                data = Path(e["scriptPath"]).read_bytes()
            except OSError as x:
                raise click.UsageError(f"{e['script']}: {x.strerror}") from None
            items.append((e["script"], data, dict(
                account=account or e.get("account"), name=e.get("name"), related=e.get("related"),
                sequential=e.get("sequential", False), wants=e.get("parameters"),
                analytics_units=analytics_units or e.get("analyticsUnits") or 1,
                priority=priority if priority is not None else e.get("priority"),
                runtime_version=runtime_version or e.get("runtimeVersion"))))
    discovery = make_discovery(paths) if paths else None
    for inp in iter_inputs(paths, "<stdin>", discovery=discovery):
        if inp.data is None:
            raise click.UsageError(f"{inp.path}: {inp.error}")
        items.append((inp.path, inp.data, dict(account=account, name=None, related=None, sequential=False,
                                               wants=None,
                                               analytics_units=analytics_units or 1, priority=priority,
                                               runtime_version=runtime_version)))
    if not items:   # as ruff: nothing to do is not a failure, but say so
        _err("warning: no U-SQL scripts found (*.usql); nothing submitted")
        sys.exit(0)
    if (name or job_id) and len(items) > 1:
        raise click.UsageError("--name and --job-id apply to a single script")
    reqs = []
    sequential = any(s["sequential"] for _, _, s in items)
    for source, data, s in items:
        if not s["account"]:
            raise click.UsageError(f"{source}: no account: give --account")
        job_params = plist
        if s["wants"] is not None:   # a replication step takes only the parameters it names
            given = {p.name.lower() for p in plist}
            job_params = [p for p in plist if p.name.lower() in {w.lower() for w in s["wants"]}]
            for w in s["wants"]:
                if w.lower() not in given:
                    _err(f"{source}: warning: runs with its own default for @{w}; pass --param {w}=VALUE "
                         "with the value the job ran with")
        try:
            reqs.append(prepare_request(
                s["account"], data, source=source, name=name or s["name"], params=job_params, job_id=job_id,
                run_key=run_key, rewrite=rewrite, analytics_units=s["analytics_units"], priority=s["priority"],
                runtime_version=s["runtime_version"], compile_mode=compile_mode, related=s["related"]))
        except ParamError as e:
            raise click.UsageError(str(e)) from None
        except Exception as e:   # a script that cannot be decoded or rewritten
            _err(f"{source}: {e}")
            sys.exit(1)
    for r in reqs:
        for w in r.warnings:
            _err(f"{r.source}: warning: {w}")
    if ledger is None and bundle:
        base = Path(bundle) if Path(bundle).is_dir() else Path(bundle).parent
        ledger = str(base / "usqlrw-submissions.jsonl")
    elif ledger is None:
        from ..dirs import default_ledger
        ledger = default_ledger() if not no_ledger else None
    led = Ledger(None if no_ledger else ledger)
    if led.skipped_lines:
        _err(f"{ledger}: ignored {led.skipped_lines} unreadable line(s) (an interrupted write)")

    if dry_run:
        _dry_run(reqs, led, build_only, fmt)
        return

    ep = _endpoint(endpoint, cfg, "secondary", state)
    if dns_suffix:
        ep.dns_suffix = dns_suffix
    from ..jobs.client import credentials_for, make_clients
    try:
        creds = credentials_for(ep, token_scope)
    except RuntimeError as e:   # no way to get a token
        ep.close()
        _err(str(e))
        sys.exit(1)

    def progress(req, what, detail="", elapsed=None):
        if fmt == "json":
            return
        if what == "state":
            t = f" {elapsed:5.0f}s" if elapsed is not None else ""
            _info(f"{req.name} [{req.job_id[:8]}]{t} {detail}")
        else:
            _info(f"{req.name} [{req.job_id[:8]}] {what}{': ' + detail if detail else ''}")
    try:
        sub = Submitter(lambda: make_clients(ep, creds), led, RetryPolicy(attempts=retries + 1, base=retry_backoff),
                        max_parallel=max_parallel, wait=wait, poll_interval=poll_interval,
                        wait_timeout=wait_timeout, progress=progress)
        if fmt == "text":
            _info(f"{'building' if build_only else 'submitting'} {len(reqs)} job(s) on {ep.display}")
        outcomes = (sub.build_all(reqs) if build_only else
                    sub.submit_sequence(reqs) if sequential else sub.submit_all(reqs))
    finally:
        ep.close()
    bad = [o for o in outcomes if not o.ok]
    if fmt == "json":
        click.echo(redact(json.dumps([{
            "source": o.request.source, "account": o.request.account, "jobId": o.request.job_id,
            "name": o.request.name, "status": o.status, "state": o.state, "result": o.result,
            "error": o.error, "errors": o.errors} for o in outcomes], indent=2)))
    else:
        for o in outcomes:
            line = f"{o.status:17} {o.request.account}/{o.request.job_id}  {o.request.name}"
            if o.result and o.result != "None":
                line += f"  {o.result}"
            if o.error:
                line += f"  ({o.error})"
            click.echo(redact(line))
            for e in o.errors:
                click.echo(redact(f"    {o.request.source}: {e}"))
        _info(f"{len(outcomes) - len(bad)} of {len(outcomes)} ok" + (f", {len(bad)} failed" if bad else ""))
    sys.exit(1 if bad else 0)


_SECRET_NAME = __import__("re").compile(r"(?i)pass|pwd|secret|token|key|sig|credential|connection|conn")


def _dry_run(reqs, led, build_only, fmt):
    from ..jobs.client import redact
    rows = []
    for r in reqs:
        d = r.summary()
        prior = led.status(r.job_id)
        d["ledger"] = prior.get("event") if prior else None
        # parameters whose names suggest a secret are shown without their value
        d["declarations"] = [f"DECLARE @{p.name} {p.type} = ***;" if _SECRET_NAME.search(p.name) else p.declaration
                             for p in r.params]
        d["action"] = "build" if build_only else ("skip (already submitted)" if d["ledger"] in (
            "submitted", "ended") else "submit")
        rows.append(d)
    if fmt == "json":
        click.echo(redact(json.dumps(rows, indent=2)))
        return
    for d in rows:
        click.echo(redact(f"would {d['action']}: {d['source']} -> {d['account']} job {d['jobId']} "
                          f"name {d['name']!r} AUs {d['analyticsUnits']} priority {d['priority'] or '-'} "
                          f"runtime {d['runtimeVersion'] or 'default'} script {d['scriptBytes']} bytes "
                          f"sha256 {d['scriptSha256'][:12]}"))
        for line in d["declarations"]:
            click.echo(redact(f"    {line}"))
        if d["related"]:
            click.echo(redact(f"    related: {json.dumps(d['related'], sort_keys=True)}"))


# -- dr-copy --------------------------------------------------------------------------------

@click.command("dr-copy")
@verbosity_options
@dr_config_option(help="DR config: the accounts, and the rewrite applied to each script.")
@click.option("--from", "primary", help="Primary ADLA account (default: the config's).")
@click.option("--to", "secondary", help="Secondary ADLA account (default: the config's).")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False), help="Bundle folder to write.")
@click.option("--since-days", type=click.FloatRange(0, min_open=True), default=14, show_default=True,
              help="How far back to look for recurring jobs.")
@click.option("--no-rewrite", is_flag=True, help="Copy the scripts unchanged (no config needed).")
@click.option("--retries", type=click.IntRange(0), default=5, show_default=True)
@_with(_endpoint_opts)
def dr_copy(config_path, primary, secondary, out, since_days, no_rewrite, retries, endpoint, state, dns_suffix,
            token_scope):
    """Copy the primary's recurring jobs (latest run of each recurrence) into a DR job bundle.

    Each script is rewritten through the DR config and must still parse; `usqlrw submit --bundle OUT`
    then submits them on the secondary.
    """
    from ..jobs.client import describe_error, make_clients
    from ..jobs.drcopy import dr_copy as run
    from ..jobs.submit import RetryPolicy
    cfg = _load_config(config_path)
    if cfg is None and not no_rewrite:
        raise click.UsageError("give --config (the DR config), or --no-rewrite to copy scripts unchanged")
    primary = primary or (cfg.primary_analytics if cfg else None)
    secondary = secondary or (cfg.secondary_analytics if cfg else None)
    if not primary or not secondary:
        raise click.UsageError("give --from and --to, or a config naming both accounts")
    ep = _endpoint(endpoint, cfg, "primary", state)
    if dns_suffix:
        ep.dns_suffix = dns_suffix
    try:
        clients = make_clients(ep, scope=token_scope)
        res = run(clients, primary, secondary, out, rewrite=None if no_rewrite else _rewriter(cfg),
                  since_days=since_days, retry=RetryPolicy(attempts=retries + 1), progress=_err)
    except RuntimeError as e:
        _err(str(e))
        sys.exit(1)
    except Exception as e:
        if type(e).__module__.startswith(("msrest", "requests", "urllib3", "azure")):
            _err(f"dr-copy: {describe_error(e)}")
            sys.exit(1)
        raise
    finally:
        ep.close()
    for name, w in res.warnings:
        _err(f"{name}: warning: {w}")
    click.echo(f"{res.manifest_path}: {len(res.jobs)} job(s) for {secondary}"
               + (f", {len(res.skipped)} skipped" if res.skipped else ""))
    sys.exit(1 if res.parse_errors or res.skipped else 0)


# -- emulator -------------------------------------------------------------------------------

@click.command("emulator")
@verbosity_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8642, show_default=True)
@click.option("--state", default=None, show_default="emulator.sqlite in $XDG_STATE_HOME/usqlrw",
              help="SQLite state file (':memory:' for none).")
@click.option("--account", "accounts", multiple=True, metavar="NAME[=STORE]",
              help="An account to create, with its default Data Lake Store account. Repeatable.")
@click.option("--step-seconds", type=click.FloatRange(0, min_open=True), default=None,
              help="Move jobs one state on every this many seconds (default: one state per read).")
@click.option("--no-auth", is_flag=True, help="Accept requests without a bearer token.")
@click.option("--fixed-accounts", is_flag=True, help="Answer 404 for accounts not created with --account.")
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False),
              show_default="STATE without .sqlite, plus -data",
              help="Folder of the accounts' stores (stores/ACCOUNT/) and catalogs (catalogs/ACCOUNT/).")
@click.option("--accept-only", is_flag=True,
              help="Accept jobs and mark them succeeded without running them (default: run them on the engine).")
def emulator(host, port, state, accounts, step_seconds, no_auth, fixed_accounts, data_dir, accept_only):
    """Run a local ADLA REST emulator for failover drills (Ctrl-C stops it).

    Point usqlrw at it with --endpoint http://HOST:PORT (or [primary]/[secondary] endpoint in the DR
    config). Accounts are the first path segment; unknown ones are created on first use. Jobs run on
    the embedded engine against their account's store folder and catalog, and fail as ADLA fails them.
    """
    import logging

    from ..emulator import Emulator
    if host not in ("127.0.0.1", "localhost", "::1"):
        _err(f"warning: listening on {host}: the emulator has no real authentication")
    accts = {}
    for a in accounts:
        n, _, s = a.partition("=")
        accts[n.strip()] = s.strip() or None
    logging.basicConfig(level=logging.WARNING if level() < 0 else logging.DEBUG if level() > 0 else logging.INFO,
                        format="%(message)s")
    if state is None:
        from ..dirs import emulator_state
        state = emulator_state()
    emu = Emulator(state, host=host, port=port, accounts=accts, step_seconds=step_seconds,
                   require_auth=not no_auth, auto_create_accounts=not fixed_accounts,
                   execute=not accept_only, data_dir=data_dir)
    try:
        emu.start()
    except OSError as e:
        _err(f"cannot listen on {host}:{port}: {e.strerror or e}")
        sys.exit(1)
    click.echo(f"ADLA emulator on {emu.url} (state: {state}); stores in {emu.data_dir}, over WebHDFS at "
               f"{emu.url}/_adls/STORE/webhdfs/v1/"
               + ("; jobs accepted, not run" if accept_only else "") + "; accounts: "
               f"{', '.join(a[0] for a in emu.store.accounts()) or 'created on first use'}", err=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        emu.close()
