"""Disaster-recovery readiness: what makes a job fail, or silently keep using the primary, after
a failover to the secondary region.

With a DR config (``--dr-config``, or ``dr-config`` in ``[tool.usqlrw]``) the rules know which
stores, blob accounts, servers and databases belong to the primary and which are mapped; without
one, DR001, DR002 and DR004 treat every absolute store location as region-bound, and the rules
that need the mapping (DR003, DR005, DR006) are skipped.
"""
from __future__ import annotations

import re

from .. import ast as A
from .registry import rule

_STORE_SUFFIX = r"(?:azuredatalakestore\.net|blob\.core\.windows\.net|dfs\.core\.windows\.net)"
# An absolute location on a store or blob account: scheme://[container@]account.suffix[/...]
_STORE_URI = re.compile(r"^(?P<scheme>adl|swebhdfs|webhdfs|https?|wasbs?|abfss?)://(?:(?P<container>[^@/]*)@)?"
                        r"(?P<host>(?P<account>[A-Za-z0-9-]+)\." + _STORE_SUFFIX + r")(?=[/:?]|$)", re.I)
# A store host (or its suffix) inside a longer or shorter string.
_HOST_FRAGMENT = re.compile(r"(?P<label>[\w{}-]+\.)?" + _STORE_SUFFIX, re.I)
# A scheme with no host after it: the start of a location assembled from pieces.
_BARE_SCHEME = re.compile(r"^(?:adl|swebhdfs|webhdfs|wasbs?|abfss?)://[^/]*$", re.I)
_SERVER = re.compile(r"(?i)\b(?:server|data source|address|addr|network address)\s*=\s*(?:tcp:)?([A-Za-z0-9.-]+)")

_DeclareAssembly = A.DeclareAssembly
_ASSEMBLIES = (A.CreateAssembly, _DeclareAssembly)
_ASSEMBLY_STATEMENTS = _ASSEMBLIES + (A.DeployResource,)
_DATA_SOURCE_KINDS = ("CreateDataSource", "AlterDataSource")


def _in_parameter(ctx, node) -> bool:
    s = ctx.statement_of(node)
    return isinstance(s, A.Declare) and s.external


def _region_bound(ctx, location: str):
    """The store host of an absolute location that a failover must change, or None."""
    m = _STORE_URI.match(location)
    if m is None:
        if ctx.config is not None and "://" in location and ctx.config.is_primary_location(location):
            return location.split("://", 1)[1].split("/", 1)[0]
        return None
    if ctx.config is not None and not ctx.config.is_primary_location(location):
        return None
    return m.group("host")


def _primary_accounts(ctx) -> set:
    if ctx.config is None:
        return set()
    return {h.split(".", 1)[0] for h in ctx.config.primary_hosts()
            if re.search(_STORE_SUFFIX + "$", h, re.I)}


# -- DR001 ----------------------------------------------------------------------------------

@rule("DR001", "absolute-primary-path", "an absolute path to the primary region's store or blob account",
      bad='''
        @rows = EXTRACT id int FROM "adl://contosoprod.azuredatalakestore.net/sales/in.csv"
                USING Extractors.Csv();
      ''', good='''
        // relative: resolved against the default store of whichever account runs the job
        @rows = EXTRACT id int FROM "/sales/in.csv" USING Extractors.Csv();

        // or a parameter that the job submission sets per region
        DECLARE EXTERNAL @sales string = "adl://contosoprod.azuredatalakestore.net/sales/";
        @rows = EXTRACT id int FROM @sales + "in.csv" USING Extractors.Csv();
      ''')
def absolute_primary_path(ctx):
    """
    A location the job reads or writes (EXTRACT FROM, OUTPUT TO, a file-set or FILE.* path, a
    UDO's or TVF's argument), directly or through a DECLARE, names one region's Data Lake Store or
    Blob storage account (adl://, swebhdfs://, https://.../webhdfs/v1/, wasb[s]://). After a
    failover the job still reads and writes the primary, which is down or, worse, up and
    diverging. Use a path relative to the account's default store, or take the location from a
    DECLARE EXTERNAL parameter that the submission sets (the default value of such a parameter is
    not reported). A string that only meets row data (compared in WHERE, projected) is not a
    location and is not reported. Assemblies and resources are DR004's.

    With a DR config, locations the config maps to the secondary are reported, and so is a store
    account the config does not name at all; locations already on the secondary's accounts are
    fine. Without one, every absolute store location is reported.
    """
    for lit in _io_literals(ctx, _ASSEMBLY_ROLES):
        if _in_parameter(ctx, lit):
            continue
        host = _region_bound(ctx, lit.value)
        short = _SHORT_BLOB.match(lit.value)
        if host:
            yield ctx.diag(lit, "DR001", f"absolute path to {host}; make it relative or a DECLARE EXTERNAL parameter")
        elif short and (ctx.config is None or short.group(1).lower() in ctx.config.blob_accounts):
            yield ctx.diag(lit, "DR001", f"blob account {short.group(1)} written without its host "
                           "(.blob.core.windows.net): the failover rewrite cannot map it; write the "
                           "whole host, or make it a DECLARE EXTERNAL parameter")
        elif ctx.config is not None:
            m = _STORE_URI.match(lit.value)
            if m and not ctx.config.is_secondary_location(lit.value):
                yield ctx.diag(lit, "DR001", f"store account {m.group('account')} is not in the DR config: after a "
                               "failover the job still uses it; map it in [stores] or [blob_accounts] "
                               "(to itself if both regions can reach it)")


_ASSEMBLY_ROLES = ("assembly", "assembly_file", "resource")
# wasb://container@account/path: a blob account named without its host suffix.
_SHORT_BLOB = re.compile(r"^wasbs?://[^@/]*@([A-Za-z0-9]+)(?=/|$)", re.I)


def _io_literals(ctx, skip_roles=()):
    """The string literals whose value reaches a place where the job reads or writes files, in
    source order (each once)."""
    from ..resolve import io_expressions
    seen, out = set(), []
    for role, _node, folded, _stmt in io_expressions(ctx.script):
        if role in skip_roles:
            continue
        for p in folded.pieces:
            if p.literal is not None and id(p.literal) not in seen and "://" in p.literal.value:
                seen.add(id(p.literal))
                out.append(p.literal)
    return sorted(out, key=lambda n: n.span.start)


# -- DR002 ----------------------------------------------------------------------------------

@rule("DR002", "account-name-in-string", "a store account name is built into a string",
      bad='''
        DECLARE @account string = "contosoprod";
        @rows = EXTRACT id int FROM "adl://" + @account + ".azuredatalakestore.net/sales/in.csv"
                USING Extractors.Csv();
      ''', good='''
        DECLARE EXTERNAL @sales string = "adl://contosoprod.azuredatalakestore.net/sales/";
        @rows = EXTRACT id int FROM @sales + "in.csv" USING Extractors.Csv();
      ''')
def account_name_in_string(ctx):
    """
    A location the job reads or writes is assembled from pieces (a scheme, an account name, a host
    suffix such as .azuredatalakestore.net or .blob.core.windows.net) by concatenation,
    string.Format or String.Concat, directly or through DECLAREs. Neither a reviewer nor the
    failover rewrite can see which account the job will use, so the job may keep pointing at the
    primary after a failover. Keep each location whole, in one DECLARE EXTERNAL parameter (or
    relative to the default store). A string compared with row data is not a location and is not
    reported.

    With a DR config a piece that is a primary store or blob account name is reported too.
    """
    from ..resolve import io_expressions
    accounts = _primary_accounts(ctx)
    reported = set()
    for _role, node, folded, _stmt in io_expressions(ctx.script):
        pieces = [p for p in folded.pieces if p.literal is not None]
        if len(folded.pieces) < 2 or not pieces or id(node) in reported:
            continue
        if _in_parameter(ctx, node):
            continue
        first = folded.pieces[0]
        rest = [p for p in pieces if not (p is first and _STORE_URI.match(p.text))]
        if first.literal is not None and _STORE_URI.match(first.text):
            continue   # a whole location with a path appended: DR001's business
        bad = next((_fragment(p.text, accounts) for p in rest if _fragment(p.text, accounts)), None)
        if bad is not None:
            reported.add(id(node))
            yield ctx.diag(node, "DR002", f"store location assembled from pieces ({bad}); "
                           "keep it whole in a DECLARE EXTERNAL parameter")


def _fragment(value: str, accounts: set, standalone: bool = False) -> str | None:
    m = _HOST_FRAGMENT.search(value)
    # On its own a bare suffix ("blob.core.windows.net" in a filter) names no account.
    if m and (not standalone or m.group("label")):
        return f"store host {m.group(0)!r}"
    if not standalone and _BARE_SCHEME.match(value):
        return f"scheme {value!r}"
    for a in accounts:
        if re.search(r"(?<![\w-])" + re.escape(a) + r"(?![\w-])", value):
            return f"primary account name {a!r}"
    return None


# -- DR003 ----------------------------------------------------------------------------------

@rule("DR003", "unmapped-database", "a database the DR config does not cover", needs_config=True,
      bad='''
        // dr.toml maps only Telemetry
        @rows = SELECT * FROM Billing.dbo.Invoices;
      ''', good='''
        // dr.toml:  [catalog.databases]  Telemetry = "TelemetryDR"  Billing = "Billing"
        @rows = SELECT * FROM Billing.dbo.Invoices;
      ''')
def unmapped_database(ctx):
    """
    The script names a database (USE DATABASE, CREATE or DROP DATABASE, a three-part table, view or
    function name, a two-part assembly, data source or credential name) that the DR config does
    not name. Its catalog objects are not copied to the secondary and references to it
    are not rewritten, so the job fails on the secondary. Add the database to [catalog.databases]
    (mapping it to itself if it keeps its name). Tables the script writes are reported by DR006.
    """
    cfg = ctx.config
    for n in ctx.nodes:
        if isinstance(n, A.ObjectName):
            where = _explicit_database(n)
            if where is None or (n.object_kind == "table" and _writes_rows(ctx.statement_of(n))):
                continue   # no database named here, or a table written: DR006
            name = where.name
        else:
            continue
        if not (cfg.maps_database(name) or cfg.is_secondary_database(name)):
            yield ctx.diag(where, "DR003", f"database {name} is not in the DR config; add it to [catalog.databases]")


def _explicit_database(n: A.ObjectName):
    """The part of a catalog name that names its database, when the name is written with one."""
    return n.database


# -- DR004 ----------------------------------------------------------------------------------

@rule("DR004", "assembly-from-primary-path", "CREATE ASSEMBLY or DEPLOY RESOURCE from a primary-only path",
      bad='''
        CREATE ASSEMBLY Parsers FROM "adl://contosoprod.azuredatalakestore.net/assemblies/Parsers.dll";
        DEPLOY RESOURCE "wasbs://libs@contosolibs.blob.core.windows.net/geo.dat";
      ''', good='''
        CREATE ASSEMBLY Parsers FROM "/assemblies/Parsers.dll";
        DEPLOY RESOURCE "/libs/geo.dat";
      ''')
def assembly_from_primary_path(ctx):
    """
    An assembly, one of its ADDITIONAL_FILES, or a deployed resource is loaded from an absolute path
    on one region's store. On the secondary the file is missing (or the load reaches back into the
    failed region): the catalog sync cannot recreate the assembly and every job that deploys the
    resource fails. Keep assembly binaries and resources under a relative path of the default store,
    which the replication copies, or in a DECLARE EXTERNAL parameter. Paths built from DECLARE
    constants are followed.
    """
    for s in ctx.statements():
        if isinstance(s, _ASSEMBLIES):
            paths = [(f"{'DECLARE' if isinstance(s, _DeclareAssembly) else 'CREATE'} ASSEMBLY", s.source)]
            paths += [("ADDITIONAL_FILES", f.path) for f in s.additional_files]
        elif isinstance(s, A.DeployResource):
            paths = [("DEPLOY RESOURCE", p) for p in s.paths]
        else:
            continue
        for what, expr in paths:
            value = ctx.fold(expr)
            if value is None:
                continue
            host = _region_bound(ctx, value)
            if host:
                yield ctx.diag(expr, "DR004", f"{what} from an absolute path on {host}; the secondary "
                               "cannot load it: use a relative path on the default store")


# -- DR005 ----------------------------------------------------------------------------------

@rule("DR005", "data-source-without-secondary", "a data source's server has no secondary mapping",
      needs_config=True, bad='''
        CREATE DATA SOURCE SalesDb FROM AZURESQLDB WITH
          ( PROVIDER_STRING = "Server=contoso-sql.database.windows.net;Database=Sales",
            CREDENTIAL = Sales.SqlCred );
      ''', good='''
        // dr.toml:  [data_source_servers]  "contoso-sql.database.windows.net" = "contoso-sql-dr.database.windows.net"
        CREATE DATA SOURCE SalesDb FROM AZURESQLDB WITH
          ( PROVIDER_STRING = "Server=contoso-sql.database.windows.net;Database=Sales",
            CREDENTIAL = Sales.SqlCred );
      ''')
def data_source_without_secondary(ctx):
    """
    CREATE or ALTER DATA SOURCE names a server (Server=, Data Source=, Address= in the provider
    string) that the DR config's [data_source_servers] does not map. After a failover the external
    queries of every job using the data source still go to the primary region's database server.
    Map the server to its geo-replica (or to itself, when it is reachable from both regions).
    """
    servers = ctx.config.servers
    for n in ctx.nodes:
        if n.kind not in _DATA_SOURCE_KINDS:
            continue
        for opt in n.options:
            if not isinstance(opt, A.DataSourceOption) or opt.name.name.upper() != "PROVIDER_STRING":
                continue
            value = ctx.fold(opt.value)
            if value is None:
                continue
            for m in _SERVER.finditer(value):
                host = m.group(1)
                if host.lower() not in servers:
                    yield ctx.diag(opt.value, "DR005", f"data source server {host} has no secondary "
                                   "mapping; add it to [data_source_servers]")


# -- DR006 ----------------------------------------------------------------------------------

_WRITES = (A.Insert, A.TruncateTable, A.AlterTableAddPartition, A.AlterTableDropPartition)


def _writes_rows(stmt) -> bool:
    return stmt is not None and (isinstance(stmt, _WRITES) or (isinstance(stmt, A.CreateTable) and stmt.query is not None))


@rule("DR006", "table-without-replication", "a table is written by a job with no replication plan",
      needs_config=True, bad='''
        // dr.toml does not cover the Staging database
        USE DATABASE Staging;
        INSERT INTO dbo.Events SELECT * FROM @events;
      ''', good='''
        // dr.toml:  [catalog.databases]  Staging = "Staging"   (and `usqlrw replicate` for its jobs)
        USE DATABASE Staging;
        INSERT INTO dbo.Events SELECT * FROM @events;
      ''')
def table_without_replication(ctx):
    """
    The script writes rows to a table (INSERT, CREATE TABLE ... AS, TRUNCATE, ALTER TABLE ADD/DROP
    PARTITION) in a database that the DR config does not cover, so `usqlrw replicate` makes no
    export/import plan for it and the secondary's copy of the table silently falls behind. The
    database is the table's own (three-part name) or the one of the USE DATABASE in force (master
    by default). Add the database to the DR config.
    """
    from ..resolve import references
    cfg = ctx.config
    for ref in references(ctx.script):
        if ref.kind != "table" or not ref.database or not _writes_rows(ctx.statement_of(ref.node)):
            continue
        if not (cfg.maps_database(ref.database) or cfg.is_secondary_database(ref.database)):
            yield ctx.diag(ref.node, "DR006", f"table {'.'.join(ref.qualified)} is written here but has no "
                           f"replication plan: database {ref.database} is not in the DR config")
