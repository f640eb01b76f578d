import pytest

from usqlrw.config import ConfigError, load_config, parse_config, reference_markdown, SCHEMA

MINIMAL = """
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
"""


def base(**over):
    d = {"primary": {"analytics_account": "a-adla", "store_account": "alake"},
         "secondary": {"analytics_account": "b-adla", "store_account": "blake"}}
    for k, v in over.items():
        d[k] = v
    return d


def test_minimal_file_from_the_issue_loads(tmp_path):
    p = tmp_path / "dr.toml"
    p.write_text(MINIMAL)
    c = load_config(p)
    assert (c.primary_analytics, c.primary_store) == ("contosoprod-adla", "contosoprod")
    assert (c.secondary_analytics, c.secondary_store) == ("contosodr-adla", "contosodr")
    assert c.locations == (("wasbs://reports@contosoreports.blob.core.windows.net/",
                            "wasbs://reports@contosoreportsdr.blob.core.windows.net/"),)
    assert c.database("Telemetry") == "TelemetryDR"
    assert c.database("Other") == "Other"
    assert c.all_stores == {"contosoprod": "contosodr"}
    assert not c.identity and not c.absolutize_relative


@pytest.mark.parametrize("data, key, words", [
    (base(extra={}), "extra", "unknown key"),
    ({"primary": {"analytics_account": "a-adla"}, "secondary": {"analytics_account": "b", "store_account": "bb"}},
     "primary.store_account", "is required"),
    (base(primary={"analytics_account": "A_ADLA", "store_account": "x1"}), "primary.analytics_account",
     "not an account name"),
    (base(options={"relative_paths": "sometimes"}), "options.relative_paths", '"keep" or "absolute"'),
    (base(catalog={"objects": {"Sales.Orders": "O2"}}), "catalog.objects.Sales.Orders", "Database.Schema.Object"),
    (base(catalog={"databases": {"A": "B", "B": "C"}}), "catalog.databases.A", "chained"),
    (base(catalog={"tables": {}}), "catalog.tables", "unknown key"),
    (base(locations=[{"from": "adl://x.azuredatalakestore.net/", "to": "adl://y.azuredatalakestore.net"}]),
     "locations[0]", "end with '/'"),
    (base(stores={"alake": "other"}), "stores.alake", "contradicts"),
    (base(primary={"analytics_account": "a-adla", "store_account": "alake", "password": "x"}),
     "primary.password", "unknown key"),
])
def test_errors_name_the_bad_key(data, key, words):
    with pytest.raises(ConfigError) as e:
        parse_config(data, "dr.toml")
    assert e.value.key == key
    assert words in e.value.message
    assert str(e.value).startswith(f"dr.toml: {key}: ")


def test_toml_syntax_and_missing_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[primary\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_identity_config():
    c = parse_config({"primary": {"analytics_account": "a-adla", "store_account": "lake"},
                      "secondary": {"analytics_account": "a-adla", "store_account": "lake"}})
    assert c.identity
    d = parse_config(base(secondary={"analytics_account": "b-adla", "store_account": "alake",
                                     "default_store_account": "other"}))
    assert d.absolutize_relative and not d.identity


def test_helpers_for_lint_rules():
    c = parse_config(base(blob_accounts={"prodblob": "drblob"},
                          data_source_servers={"SQL-Prod.database.windows.net": "sql-dr.database.windows.net"},
                          catalog={"databases": {"Sales": "SalesDR"}, "objects": {"Web.dbo.T": "T2"}}))
    assert c.primary_hosts() == {"alake.azuredatalakestore.net", "prodblob.blob.core.windows.net",
                                 "sql-prod.database.windows.net"}
    assert c.is_primary_location("adl://alake.azuredatalakestore.net/x")
    assert not c.is_primary_location("adl://blake.azuredatalakestore.net/x")
    assert not c.is_primary_location("/relative/x")
    assert c.maps_database("Sales") and c.maps_database("Web") and c.maps_database("master")
    assert not c.maps_database("Unknown")


def test_reference_is_generated_from_the_schema():
    md = reference_markdown()
    for key, *_ in SCHEMA:
        assert f"`{key}`" in md
