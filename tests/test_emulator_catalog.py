"""Reading a live catalog through the SDK (pull_catalog), against what jobs created on the emulator."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import PRIMARY, SECONDARY, create_params, emulator, new_id, run_to_end  # noqa: E402,F401

import usqlrw  # noqa: E402
from usqlrw.jobs.catalog import pull_catalog  # noqa: E402
from usqlrw.jobs.client import make_clients, token_credentials  # noqa: E402
from usqlrw.jobs.submit import RetryPolicy  # noqa: E402

ROOT = Path(__file__).parent.parent
JOBS = Path(__file__).parent / "fixtures" / "jobs"


def test_pull_catalog_reads_every_object_a_job_created(emulator):
    clients = make_clients(emulator.url, token_credentials("t0k3n-pull"))
    for f in (ROOT / "examples" / "project" / "ddl.usql", JOBS / "catalog_objects.usql"):
        jid = new_id()
        clients.job.job.create(PRIMARY, jid, create_params(f.read_text(encoding="utf-8"), f.stem))
        assert run_to_end(clients.job, PRIMARY, jid)[1].result.value == "Succeeded"
    emulator.inject(503, method="GET", path="/schemas$", times=1)   # pulled through a transient fault
    got = pull_catalog(clients, PRIMARY, retry=RetryPolicy(attempts=3, base=0.01))
    dbs = {d["name"]: d for d in got["databases"]}
    assert set(dbs) == {"Sales", "Telemetry"}                       # master only when asked for
    tel = {s["name"]: s for s in dbs["Telemetry"]["schemas"]}
    [t] = tel["ingest"]["tables"]
    assert t["name"] == "DeviceEvents" and t["partitionKeys"] == ["EventDate"]
    assert t["distribution"] == {"type": "HASH", "keys": [{"name": "DeviceId", "descending": False}], "count": 4}
    assert [c["name"] for c in t["columns"]][:2] == ["DeviceId", "EventTime"]
    assert [i["name"] for i in t["indexes"]] == ["cIx_Device"]
    for kind in ("views", "tvfs"):
        for obj in tel["ingest"][kind]:
            usqlrw.parse(obj["definition"])                         # definitions are runnable DDL
    sales = dbs["Sales"]
    dbo = {s["name"]: s for s in sales["schemas"]}["dbo"]
    assert [p["name"] for p in dbo["procedures"]] == ["Refresh"]
    assert [t["name"] for t in dbo["tableTypes"]] == ["OrderRow"]
    assert [(c["name"], c["type"]) for c in dbo["tableTypes"][0]["columns"]] == [("OrderId", "int"), ("Amount", "decimal")]
    assert sales["assemblies"] == [{"name": "Helpers", "clrName": "Helpers"}]
    assert sales["dataSources"][0]["providerString"] == "Database=crm;"
    assert sales["credentials"] == ["CrmCred"]
    only = pull_catalog(clients, PRIMARY, databases=["master"])
    assert [d["name"] for d in only["databases"]] == ["master"]
    assert pull_catalog(clients, SECONDARY)["databases"] == []
