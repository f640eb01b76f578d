"""The DR mapping: what the primary region's names and locations become on the secondary.

Loaded from TOML and validated; every error names the key at fault. A minimal file::

    [primary]
    analytics_account = "contosoprod-adla"
    store_account = "contosoprod"        # its default Data Lake Store (Gen1) account

    [secondary]
    analytics_account = "contosodr-adla"
    store_account = "contosodr"

    [[locations]]                        # further location mappings, prefix to prefix
    from = "wasbs://reports@contosoreports.blob.core.windows.net/"
    to = "wasbs://reports@contosoreportsdr.blob.core.windows.net/"

    [catalog.databases]                  # renames; databases not named keep their names
    Telemetry = "TelemetryDR"

The reference of every key is :data:`SCHEMA` (``usqlrw config-reference`` prints it), so the
documentation is generated from the same table that validation uses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DRConfig", "ConfigError", "load_config", "parse_config", "SCHEMA", "reference_markdown",
           "ADLS_SUFFIX", "BLOB_SUFFIX"]

from .locations import ADLS_SUFFIX, BLOB_SUFFIX, map_location, prefix_matches  # noqa: E402  (re-exported)


class ConfigError(ValueError):
    """A DR config that cannot be used; ``key`` is the dotted key at fault."""

    def __init__(self, key: str, message: str, path: str | None = None):
        from .secrets import redact   # a value quoted in a message may be a SAS sig= or a password
        key, message = redact(key), redact(message)
        if len(message) > 300:
            message = message[:300] + "..."
        self.key, self.message, self.path = key, message, path
        super().__init__(f"{path + ': ' if path else ''}{key}: {message}")


# (key, type, required, description) for each table; "*" stands for any name.
SCHEMA: list[tuple[str, str, bool, str]] = [
    ("primary.analytics_account", "string", True, "The primary ADLA account's name."),
    ("primary.store_account", "string", True,
     "The primary ADLA account's default Data Lake Store (Gen1) account; relative paths resolve against it."),
    ("secondary.analytics_account", "string", True, "The secondary ADLA account's name."),
    ("secondary.store_account", "string", True,
     "The Data Lake Store account on the secondary side that holds the replicated data."),
    ("secondary.default_store_account", "string", False,
     "The secondary ADLA account's default store, if it is not `secondary.store_account`. When they "
     "differ, relative paths are made absolute (adl://STORE.azuredatalakestore.net/...)."),
    ("options.relative_paths", '"keep" | "absolute"', False,
     'What to do with relative paths (default "keep" when the secondary default store holds the data).'),
    ("options.emulator", "boolean", False,
     "Run against the embedded ADLA emulator instead of Azure (drills and examples only)."),
    ("options.emulator_data", "string", False,
     "With `emulator = true`: a folder (relative to this file) whose subfolders, named for the primary's "
     "store accounts, hold the files `usqlrw failover drill` puts on those stores before the primary's jobs run."),
    ("stores.*", "string", False,
     "Further ADLS Gen1 store accounts: primary account name = secondary account name. Applies to "
     "adl://, swebhdfs:// and https://.../webhdfs/v1/ forms."),
    ("blob_accounts.*", "string", False,
     "Azure Blob storage accounts: primary account name = secondary account name (wasb:// and wasbs://)."),
    ("locations[].from", "string", True, "A location prefix on the primary (any scheme)."),
    ("locations[].to", "string", True, "What that prefix becomes on the secondary. The longest matching prefix wins."),
    ("catalog.databases.*", "string", False, "Database renames: primary name = secondary name."),
    ("catalog.schemas.*", "string", False, 'Schema renames: "Database.Schema" = new schema name.'),
    ("catalog.objects.*", "string", False,
     'Renames of schema objects (tables, views, TVFs, procedures, types, packages): '
     '"Database.Schema.Object" = new object name.'),
    ("catalog.assemblies.*", "string", False, 'Assembly renames: "Database.Assembly" = new name.'),
    ("catalog.data_sources.*", "string", False, 'Data source renames: "Database.DataSource" = new name.'),
    ("catalog.credentials.*", "string", False, 'Credential renames: "Database.Credential" = new name.'),
    ("data_source_servers.*", "string", False,
     "Server names inside data source connection strings: primary host = secondary host."),
    ("replication.staging", "string", False,
     'Where replication exports are staged on the secondary store (default "/usqlrw/staging/").'),
]

_TABLES = {"primary", "secondary", "options", "stores", "blob_accounts", "locations", "catalog",
           "data_source_servers", "replication", "jobs"}
_CATALOG = {"databases", "schemas", "objects", "assemblies", "data_sources", "credentials"}
_ACCOUNT = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclass(frozen=True)
class DRConfig:
    primary_analytics: str
    primary_store: str
    secondary_analytics: str
    secondary_store: str
    secondary_default_store: str
    relative_paths: str = "keep"           # keep | absolute
    emulator: bool = False
    stores: dict = field(default_factory=dict)        # ADLS Gen1 account -> account
    blob_accounts: dict = field(default_factory=dict)  # blob account -> account
    locations: tuple = ()                  # ((from, to), ...) longest first
    databases: dict = field(default_factory=dict)
    schemas: dict = field(default_factory=dict)        # (db, schema) -> schema
    objects: dict = field(default_factory=dict)        # (db, schema, obj) -> obj
    assemblies: dict = field(default_factory=dict)     # (db, name) -> name
    data_sources: dict = field(default_factory=dict)
    credentials: dict = field(default_factory=dict)
    servers: dict = field(default_factory=dict)        # host (lower) -> host
    staging: str = "/usqlrw/staging/"
    path: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    emulator_data: str | None = None       # options.emulator_data as written (relative to the config file)

    # -- derived facts ---------------------------------------------------------------------

    @property
    def all_stores(self) -> dict:
        """Every ADLS Gen1 store mapping, the default stores included."""
        m = dict(self.stores)
        m.setdefault(self.primary_store, self.secondary_store)
        return m

    @property
    def identity(self) -> bool:
        """True when nothing at all would change."""
        return (self.primary_store == self.secondary_store and self.relative_paths == "keep"
                and self.secondary_default_store == self.secondary_store
                and all(a == b for a, b in self.all_stores.items())
                and all(a == b for a, b in self.blob_accounts.items())
                and all(a == b for a, b in self.locations)
                and all(k == v for k, v in self.databases.items())
                and all(k[-1] == v for d in (self.schemas, self.objects, self.assemblies,
                                             self.data_sources, self.credentials) for k, v in d.items())
                and all(a == b.lower() for a, b in self.servers.items()))

    @property
    def absolutize_relative(self) -> bool:
        return self.relative_paths == "absolute" or self.secondary_default_store != self.secondary_store

    def primary_hosts(self) -> set[str]:
        """Host names (lower case) of the primary side's stores, blob accounts and servers."""
        hosts = {f"{a}.{ADLS_SUFFIX}" for a, b in self.all_stores.items() if a != b}
        hosts |= {f"{a}.{BLOB_SUFFIX}" for a, b in self.blob_accounts.items() if a != b}
        hosts |= {h for h, t in self.servers.items() if h != t.lower()}
        for a, b in self.locations:
            h = _host_of(a)
            if h and a != b:
                hosts.add(h)
        return hosts

    def is_primary_location(self, location: str) -> bool:
        """Whether an absolute location names a primary-only store (it would change on failover)."""
        return map_location(location, self) is not None and "://" in location

    def maps_database(self, name: str) -> bool:
        """Whether the config says what database ``name`` is on the secondary (renamed or kept)."""
        return name in self.databases or name in self._known_databases

    @property
    def _known_databases(self) -> set:
        known = {"master"}
        for d in (self.schemas, self.objects, self.assemblies, self.data_sources, self.credentials):
            known |= {k[0] for k in d}
        return known

    def database(self, name: str) -> str:
        return self.databases.get(name, name)

    def is_secondary_database(self, name: str) -> bool:
        """Whether ``name`` is what a primary database becomes on the secondary (a rewritten
        script names it)."""
        return name in set(self.databases.values())

    def is_secondary_location(self, location: str) -> bool:
        """Whether an absolute location is on a secondary store or blob account."""
        host = _host_of(location)
        if host is None:
            return False
        acct = host.split(".", 1)[0]
        if acct in {v.lower() for v in self.all_stores.values()} | {v.lower() for v in self.blob_accounts.values()}:
            return True
        return any(prefix_matches(location, dst) for _src, dst in self.locations)


def _host_of(loc: str) -> str | None:
    m = re.match(r"^[a-zA-Z][\w+.-]*://(?:[^@/]*@)?([^/:]+)", loc)
    return m.group(1).lower() if m else None


def _want_str(d: dict, key: str, full: str, path, required=True) -> str | None:
    v = d.get(key)
    if v is None:
        if required:
            raise ConfigError(full, "is required", path)
        return None
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(full, f"must be a non-empty string, not {v!r}", path)
    return v


def _account(d, key, full, path, required=True):
    v = _want_str(d, key, full, path, required)
    if v is not None and not _ACCOUNT.match(v):
        raise ConfigError(full, f"{v!r} is not an account name (lower-case letters, digits and '-')", path)
    return v


def _str_table(d, full, path) -> dict:
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise ConfigError(full, "must be a table of name = name", path)
    for k, v in d.items():
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(f"{full}.{k}", f"must be a non-empty string, not {v!r}", path)
    return dict(d)


def _split_keys(d: dict, parts: int, full: str, path) -> dict:
    out = {}
    for k, v in d.items():
        ks = tuple(k.split("."))
        if len(ks) != parts or not all(ks):
            form = ".".join(["Database", "Schema", "Object"][:parts]) if parts == 3 else (
                "Database.Schema" if full.endswith("schemas") else "Database.Name")
            raise ConfigError(f"{full}.{k}", f"key must have the form {form!r}", path)
        if "." in v:
            raise ConfigError(f"{full}.{k}", f"the new name {v!r} must be a single name", path)
        out[ks] = v
    return out


def _no_chains(mapping: dict, full: str, path, key=lambda k: k, value=lambda v: v) -> None:
    sources = {key(k) for k, v in mapping.items() if key(k) != value(v)}
    for k, v in mapping.items():
        if value(v) in sources and value(v) != key(k):
            raise ConfigError(f"{full}.{k if isinstance(k, str) else '.'.join(k)}",
                              f"maps to {value(v)!r}, which is itself mapped: chained mappings would "
                              "make a second rewrite change the first one's output", path)


def parse_config(data: dict, path: str | None = None) -> DRConfig:
    """Validate a config already read from TOML."""
    if not isinstance(data, dict):
        raise ConfigError("(top)", "must be a table", path)
    for k in data:
        if k not in _TABLES:
            raise ConfigError(k, f"unknown key; known ones are {', '.join(sorted(_TABLES))}", path)
    for side in ("primary", "secondary"):
        if not isinstance(data.get(side), dict):
            raise ConfigError(side, "table is required", path)
        allowed = {"analytics_account", "store_account", "resource_group", "subscription_id", "endpoint"}
        if side == "secondary":
            allowed.add("default_store_account")
        for k in data[side]:
            if k not in allowed:
                raise ConfigError(f"{side}.{k}", f"unknown key; known ones are {', '.join(sorted(allowed))}", path)
    p, s = data["primary"], data["secondary"]
    pa = _account(p, "analytics_account", "primary.analytics_account", path)
    ps = _account(p, "store_account", "primary.store_account", path)
    sa = _account(s, "analytics_account", "secondary.analytics_account", path)
    ss = _account(s, "store_account", "secondary.store_account", path)
    sds = _account(s, "default_store_account", "secondary.default_store_account", path, required=False) or ss

    opts = data.get("options", {})
    if not isinstance(opts, dict):
        raise ConfigError("options", "must be a table", path)
    for k in opts:
        if k not in ("relative_paths", "emulator", "emulator_data"):
            raise ConfigError(f"options.{k}", "unknown key; known ones are emulator, emulator_data, relative_paths",
                              path)
    rel = opts.get("relative_paths", "keep")
    if rel not in ("keep", "absolute"):
        raise ConfigError("options.relative_paths", f'must be "keep" or "absolute", not {rel!r}', path)
    emulator = opts.get("emulator", False)
    if not isinstance(emulator, bool):
        raise ConfigError("options.emulator", "must be true or false", path)
    emulator_data = opts.get("emulator_data")
    if emulator_data is not None:
        if not isinstance(emulator_data, str) or not emulator_data.strip() or "\0" in emulator_data:
            raise ConfigError("options.emulator_data", "must be a folder (a non-empty string)", path)
        if not emulator:
            raise ConfigError("options.emulator_data", "goes with emulator = true: it seeds the embedded "
                              "emulator's stores, never a real account's", path)

    stores = _str_table(data.get("stores"), "stores", path)
    for k, v in stores.items():
        for name, full in ((k, f"stores.{k}"), (v, f"stores.{k}")):
            if not _ACCOUNT.match(name):
                raise ConfigError(full, f"{name!r} is not a store account name", path)
    blobs = _str_table(data.get("blob_accounts"), "blob_accounts", path)
    for k, v in blobs.items():
        for name in (k, v):
            if not re.match(r"^[a-z0-9]{3,24}$", name):
                raise ConfigError(f"blob_accounts.{k}", f"{name!r} is not a blob storage account name", path)

    locs = data.get("locations", [])
    if not isinstance(locs, list):
        raise ConfigError("locations", "must be an array of tables ([[locations]])", path)
    pairs = []
    for i, item in enumerate(locs):
        if not isinstance(item, dict):
            raise ConfigError(f"locations[{i}]", "must be a table with from and to", path)
        for k in item:
            if k not in ("from", "to"):
                raise ConfigError(f"locations[{i}].{k}", "unknown key; known ones are from, to", path)
        a = _want_str(item, "from", f"locations[{i}].from", path)
        b = _want_str(item, "to", f"locations[{i}].to", path)
        if a.endswith("/") != b.endswith("/"):
            raise ConfigError(f"locations[{i}]", "from and to must both end with '/' or both not", path)
        pairs.append((a, b))
    if len({a for a, _ in pairs}) != len(pairs):
        raise ConfigError("locations", "the same 'from' prefix is mapped twice", path)
    for a, b in pairs:
        for a2, _ in pairs:
            if b != a and b.startswith(a2) and a2 != a:
                raise ConfigError("locations", f"{b!r} starts with another mapping's from {a2!r}: a second "
                                  "rewrite would change it again", path)
    pairs.sort(key=lambda ab: -len(ab[0]))

    cat = data.get("catalog", {})
    if not isinstance(cat, dict):
        raise ConfigError("catalog", "must be a table", path)
    for k in cat:
        if k not in _CATALOG:
            raise ConfigError(f"catalog.{k}", f"unknown key; known ones are {', '.join(sorted(_CATALOG))}", path)
    dbs = _str_table(cat.get("databases"), "catalog.databases", path)
    schemas = _split_keys(_str_table(cat.get("schemas"), "catalog.schemas", path), 2, "catalog.schemas", path)
    objects = _split_keys(_str_table(cat.get("objects"), "catalog.objects", path), 3, "catalog.objects", path)
    asms = _split_keys(_str_table(cat.get("assemblies"), "catalog.assemblies", path), 2, "catalog.assemblies", path)
    dss = _split_keys(_str_table(cat.get("data_sources"), "catalog.data_sources", path), 2, "catalog.data_sources", path)
    creds = _split_keys(_str_table(cat.get("credentials"), "catalog.credentials", path), 2, "catalog.credentials", path)
    servers = {k.lower(): v for k, v in _str_table(data.get("data_source_servers"), "data_source_servers", path).items()}

    _no_chains(stores, "stores", path)
    _no_chains(blobs, "blob_accounts", path)
    _no_chains(dbs, "catalog.databases", path)
    _no_chains(servers, "data_source_servers", path, value=lambda v: v.lower())
    if ps in stores and stores[ps] != ss:
        raise ConfigError(f"stores.{ps}", "contradicts primary.store_account -> secondary.store_account", path)
    if ss in stores and ss != ps and stores.get(ss, ss) != ss:
        raise ConfigError(f"stores.{ss}", "the secondary store is itself mapped", path)

    rep = data.get("replication", {})
    staging = "/usqlrw/staging/"
    if rep:
        if not isinstance(rep, dict):
            raise ConfigError("replication", "must be a table", path)
        staging = _want_str(rep, "staging", "replication.staging", path, required=False) or staging
        if not staging.endswith("/"):
            staging += "/"

    return DRConfig(pa, ps, sa, ss, sds, rel, emulator, stores, blobs, tuple(pairs), dbs, schemas, objects,
                    asms, dss, creds, servers, staging, path, data, emulator_data)


def load_config(path: str | Path) -> DRConfig:
    """Read and validate a DR config file (TOML)."""
    from .tomlfile import TomlFileError, read_toml
    path = str(path)
    try:
        data = read_toml(path)
    except TomlFileError as e:
        key = "(syntax)" if e.reason.startswith("not valid TOML") else "(file)"
        raise ConfigError(key, e.reason, path) from None
    return parse_config(data, path)


def reference_markdown() -> str:
    """The config reference as a Markdown table, generated from SCHEMA."""
    rows = ["| key | type | required | meaning |", "|---|---|---|---|"]
    for key, typ, req, desc in SCHEMA:
        rows.append(f"| `{key}` | {typ} | {'yes' if req else 'no'} | {desc} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m usqlrw.config: print the reference (README's config section)
    print(reference_markdown())
