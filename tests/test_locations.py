import pytest

from usqlrw.config import parse_config
from usqlrw.locations import Unsafe, change_for, map_location, server_changes

C = parse_config({
    "primary": {"analytics_account": "p-adla", "store_account": "plake"},
    "secondary": {"analytics_account": "s-adla", "store_account": "slake"},
    "stores": {"parch": "sarch"},
    "blob_accounts": {"pblob": "sblob"},
    "locations": [{"from": "wasbs://c@other.blob.core.windows.net/in/", "to": "wasbs://c@other2.blob.core.windows.net/in/"},
                  {"from": "wasbs://c@other.blob.core.windows.net/in/deep/", "to": "/local/deep/"}],
    "data_source_servers": {"db-prod.database.windows.net": "db-dr.database.windows.net"},
})


@pytest.mark.parametrize("src, dst", [
    ("adl://plake.azuredatalakestore.net/a/{date:yyyy}/{*}.csv", "adl://slake.azuredatalakestore.net/a/{date:yyyy}/{*}.csv"),
    ("swebhdfs://parch.azuredatalakestore.net/x", "swebhdfs://sarch.azuredatalakestore.net/x"),
    ("https://plake.azuredatalakestore.net/webhdfs/v1/x", "https://slake.azuredatalakestore.net/webhdfs/v1/x"),
    ("adl://PLAKE.AzureDataLakeStore.net/x", "adl://slake.AzureDataLakeStore.net/x"),
    ("wasb://cont@pblob.blob.core.windows.net/f.csv", "wasb://cont@sblob.blob.core.windows.net/f.csv"),
    ("wasbs://cont@pblob.blob.core.windows.net", "wasbs://cont@sblob.blob.core.windows.net"),
    ("wasbs://c@other.blob.core.windows.net/in/a.csv", "wasbs://c@other2.blob.core.windows.net/in/a.csv"),
    ("wasbs://c@other.blob.core.windows.net/in/deep/a.csv", "/local/deep/a.csv"),   # longest prefix wins
    ("adl://unmapped.azuredatalakestore.net/x", None),
    ("adl://plakex.azuredatalakestore.net/x", None),    # another account that merely starts alike
    ("/relative/path.csv", None),
    ("relative.csv", None),
    ("adl://slake.azuredatalakestore.net/x", None),     # already on the secondary: idempotent
])
def test_map_location(src, dst):
    assert map_location(src, C) == dst


def test_minimal_change_region():
    ch = change_for("adl://plake.azuredatalakestore.net/x", C)
    assert (ch.start, ch.end, ch.replacement) == (6, 11, "slake")


@pytest.mark.parametrize("prefix", ["adl://", "wasbs://", "adl://plake", "wasbs://c@other.blob", "adl"])
def test_unsafe_when_the_deciding_part_is_dynamic(prefix):
    with pytest.raises(Unsafe):
        change_for(prefix, C, complete=False)


def test_prefix_known_is_enough():
    ch = change_for("adl://plake.azuredatalakestore.net/", C, complete=False)
    assert ch.replacement == "slake"


def test_relative_made_absolute_when_configured():
    c = parse_config({"primary": {"analytics_account": "p-adla", "store_account": "plake"},
                      "secondary": {"analytics_account": "s-adla", "store_account": "slake"},
                      "options": {"relative_paths": "absolute"}})
    assert map_location("/a/b.csv", c) == "adl://slake.azuredatalakestore.net/a/b.csv"
    assert map_location("a/b.csv", c) == "adl://slake.azuredatalakestore.net/a/b.csv"


def test_server_names_in_connection_strings():
    s = "Database=crm;Server=tcp:DB-PROD.database.windows.net,1433;Trusted_Connection=False"
    (ch,) = server_changes(s, C)
    assert s[ch.start:ch.end] == "DB-PROD.database.windows.net"
    assert ch.replacement == "db-dr.database.windows.net"
