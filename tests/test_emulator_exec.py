"""The emulator runs the jobs it is sent, on the engine, against each account's store and catalog,
through the real SDK over HTTP: rows are read and written, and a job fails as ADLA fails it."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import (PRIMARY, PRIMARY_STORE, SECONDARY, SECONDARY_STORE, create_params, emulator,  # noqa: E402,F401
                        new_id, run_to_end, sdk_clients)

DDL = """CREATE DATABASE IF NOT EXISTS Shop;
CREATE TABLE IF NOT EXISTS Shop.dbo.Orders (Id int, Item string, Qty int,
    INDEX ix CLUSTERED (Id) DISTRIBUTED BY HASH (Id));
"""


def run(emu, account, script, name="job"):
    job, _, _ = sdk_clients(emu)
    jid = new_id()
    job.job.create(account, jid, create_params(script, name))
    _, info = run_to_end(job, account, jid)
    return info


def errors(info):
    return [(e.error_id, e.line_number, e.message) for e in info.error_message or []]


def test_a_job_reads_and_writes_its_accounts_default_store(emulator):
    primary, secondary = Path(emulator.store_path(PRIMARY_STORE)), Path(emulator.store_path(SECONDARY_STORE))
    (primary / "in").mkdir(parents=True)
    (primary / "in" / "orders.csv").write_text("1,apple,3\n2,pear,5\n3,apple,4\n")
    info = run(emulator, PRIMARY, """
@o = EXTRACT Id int, Item string, Qty int FROM "/in/orders.csv" USING Extractors.Csv();
@t = SELECT Item, SUM(Qty) AS Total FROM @o GROUP BY Item;
OUTPUT @t TO "/out/totals.csv" ORDER BY Item USING Outputters.Csv();""")
    assert info.result.value == "Succeeded", errors(info)
    assert (primary / "out" / "totals.csv").read_text().splitlines() == ['"apple",7', '"pear",5']
    assert not (secondary / "out").exists()        # the other account's store is another folder
    # the same script on the secondary reads the secondary's store, where the input is not
    info = run(emulator, SECONDARY, '@o = EXTRACT Id int FROM "/in/orders.csv" USING Extractors.Csv();\n'
                                    'OUTPUT @o TO "/out/ids.csv" USING Outputters.Csv();')
    assert info.result.value == "Failed"
    assert errors(info)[0][:2] == ("E_STORE_USER_FILENOTFOUND", 1)
    assert not (secondary / "out").exists()


def test_an_adl_uri_of_another_account_is_that_accounts_store(emulator):
    (Path(emulator.store_path(PRIMARY_STORE)) / "x.csv").write_text("7\n")
    info = run(emulator, PRIMARY, f"""
@r = EXTRACT a int FROM "adl://{PRIMARY_STORE}.azuredatalakestore.net/x.csv" USING Extractors.Csv();
OUTPUT @r TO "adl://{SECONDARY_STORE}.azuredatalakestore.net/copies/x.csv" USING Outputters.Csv();""")
    assert info.result.value == "Succeeded", errors(info)
    assert (Path(emulator.store_path(SECONDARY_STORE)) / "copies" / "x.csv").read_text() == "7\n"


def test_inserted_rows_stay_in_the_accounts_catalog_and_another_job_reads_them(emulator):
    assert run(emulator, PRIMARY, DDL).result.value == "Succeeded"
    for _ in range(2):
        info = run(emulator, PRIMARY, "INSERT INTO Shop.dbo.Orders SELECT * FROM (VALUES (1, \"apple\", 3)) "
                                      "AS T(Id, Item, Qty);")
        assert info.result.value == "Succeeded", errors(info)
    info = run(emulator, PRIMARY, '@n = SELECT COUNT(*) AS N, SUM(Qty) AS Q FROM Shop.dbo.Orders;\n'
                                  'OUTPUT @n TO "/count.csv" USING Outputters.Csv();')
    assert info.result.value == "Succeeded", errors(info)
    assert (Path(emulator.store_path(PRIMARY_STORE)) / "count.csv").read_text() == "2,6\n"
    # the catalog is the account's own: the secondary has no such table
    info = run(emulator, SECONDARY, "INSERT INTO Shop.dbo.Orders SELECT * FROM (VALUES (1, \"a\", 1)) "
                                    "AS T(Id, Item, Qty);")
    assert info.result.value == "Failed"
    assert errors(info)[0][0] == "E_CSC_USER_DDLENTITYDOESNOTEXIST"


@pytest.mark.parametrize("script, code, line", [
    ("INSERT INTO master.dbo.Missing\nSELECT * FROM (VALUES (1)) AS T(x);", "E_CSC_USER_DDLENTITYDOESNOTEXIST", 1),
    ("USE DATABASE Nowhere;", "E_CSC_USER_DATABASENOTFOUND", 1),
    ("@a = SELECT * FROM (VALUES (1)) AS T(x);\n@b = SELECT nope FROM @a;\nOUTPUT @b TO \"/o.csv\" "
     "USING Outputters.Csv();", "E_CSC_USER_INVALIDCOLUMNREFERENCE", 2),
    ("@a = SELECT * FROM @nothing;", "E_CSC_USER_ROWSETNOTDEFINED", 1),
    ("@a = SELECT * FROM master.dbo.NoTable;\nOUTPUT @a TO \"/o.csv\" USING Outputters.Csv();",
     "E_CSC_USER_DDLENTITYDOESNOTEXIST", 1),
])
def test_what_adla_refuses_fails_the_job_and_writes_nothing(emulator, script, code, line):
    info = run(emulator, PRIMARY, script)
    assert info.result.value == "Failed"
    got = errors(info)
    assert got[0][:2] == (code, line), got
    assert info.properties.diagnostics and info.properties.diagnostics[0].line_number == line
    assert not (Path(emulator.store_path(PRIMARY_STORE)) / "o.csv").exists()


def test_a_failed_job_leaves_no_output_and_no_catalog_change(emulator):
    assert run(emulator, PRIMARY, DDL).result.value == "Succeeded"
    info = run(emulator, PRIMARY, """
@a = SELECT * FROM (VALUES (1, "x", 2)) AS T(Id, Item, Qty);
OUTPUT @a TO "/first.csv" USING Outputters.Csv();
INSERT INTO Shop.dbo.Orders SELECT * FROM @a;
INSERT INTO Shop.dbo.Missing SELECT * FROM @a;""")
    assert info.result.value == "Failed"
    assert not (Path(emulator.store_path(PRIMARY_STORE)) / "first.csv").exists()
    info = run(emulator, PRIMARY, '@n = SELECT COUNT(*) AS N FROM Shop.dbo.Orders;\n'
                                  'OUTPUT @n TO "/n.csv" USING Outputters.Csv();')
    assert (Path(emulator.store_path(PRIMARY_STORE)) / "n.csv").read_text() == "0\n"


def test_accepting_without_running_is_an_explicit_option(emulator):
    script = "INSERT INTO master.dbo.Missing SELECT * FROM (VALUES (1)) AS T(x);"
    assert run(emulator, PRIMARY, script).result.value == "Failed"
    emulator.execute = False
    assert run(emulator, PRIMARY, script).result.value == "Succeeded"


def test_a_state_file_keeps_its_stores_beside_it(tmp_path):
    from usqlrw.emulator import Emulator
    db = tmp_path / "svc.sqlite"
    with Emulator(str(db), accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60) as emu:
        info = run(emu, PRIMARY, '@a = SELECT * FROM (VALUES (4)) AS T(x);\nOUTPUT @a TO "/k.csv" '
                                 'USING Outputters.Csv();')
        assert info.result.value == "Succeeded", errors(info)
    assert (tmp_path / "svc-data" / "stores" / PRIMARY_STORE / "k.csv").read_text() == "4\n"
    with Emulator(str(db), max_lifetime=60) as emu:     # a restart finds the same store
        info = run(emu, PRIMARY, '@a = EXTRACT x int FROM "/k.csv" USING Extractors.Csv();\n'
                                 'OUTPUT @a TO "/k2.csv" USING Outputters.Csv();')
        assert info.result.value == "Succeeded", errors(info)
    assert (tmp_path / "svc-data" / "stores" / PRIMARY_STORE / "k2.csv").read_text() == "4\n"


def test_a_memory_emulator_removes_its_temporary_stores(tmp_path):
    from usqlrw.emulator import Emulator
    emu = Emulator(accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60).start()
    data = Path(emu.data_dir)
    assert run(emu, PRIMARY, '@a = SELECT * FROM (VALUES (1)) AS T(x);\nOUTPUT @a TO "/t.csv" '
                             'USING Outputters.Csv();').result.value == "Succeeded"
    assert (data / "stores" / PRIMARY_STORE / "t.csv").exists()
    emu.close()
    assert not data.exists()
