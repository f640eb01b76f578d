"""The ADLA emulator, driven by the real azure-mgmt-datalake-analytics SDK over HTTP on 127.0.0.1."""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import (PRIMARY, PRIMARY_STORE, SECONDARY, create_params, emulator,  # noqa: E402,F401
                        new_id, run_to_end, sdk_clients)

import usqlrw  # noqa: E402

EXAMPLES = Path(__file__).parent.parent / "examples" / "project"
JOBS = Path(__file__).parent / "fixtures" / "jobs"


def test_job_moves_through_the_real_states_and_ddl_updates_the_catalog(emulator):
    job, cat, _ = sdk_clients(emulator)
    ddl = (EXAMPLES / "ddl.usql").read_text(encoding="utf-8")
    jid = new_id()
    info = job.job.create(PRIMARY, jid, create_params(ddl, "ddl", degree_of_parallelism=3, priority=50))
    assert info.state.value == "Accepted" and str(info.job_id) == jid
    assert info.submit_time.tzinfo is not None
    seen, info = run_to_end(job, PRIMARY, jid)
    assert seen == ["Compiling", "Queued", "Running", "Ended"]
    assert info.result.value == "Succeeded"
    assert info.degree_of_parallelism == 3 and info.priority == 50
    assert info.properties.script == ddl
    assert [r.new_state for r in info.state_audit_records] == ["Accepted", "Compiling", "Queued", "Running", "Ended"]
    assert info.start_time <= info.end_time
    assert info.log_folder.startswith(f"adl://{PRIMARY_STORE}.azuredatalakestore.net/")

    assert {d.name for d in cat.catalog.list_databases(PRIMARY)} == {"master", "Telemetry"}
    assert {s.name for s in cat.catalog.list_schemas(PRIMARY, "Telemetry")} == {"dbo", "ingest"}
    t = cat.catalog.get_table(PRIMARY, "Telemetry", "ingest", "DeviceEvents")
    assert [(c.name, c.type) for c in t.column_list] == [
        ("DeviceId", "string"), ("EventTime", "DateTime"), ("EventDate", "DateTime"), ("Reading", "double?"),
        ("Tags", "SQL.MAP<string, string>")]
    assert [(k.name, k.descending) for k in t.index_list[0].index_keys] == [("DeviceId", False), ("EventTime", False)]
    assert t.partition_key_list == ["EventDate"]
    assert t.distribution_info.count == 4 and [k.name for k in t.distribution_info.keys] == ["DeviceId"]
    tvf = cat.catalog.get_table_valued_function(PRIMARY, "Telemetry", "ingest", "EventsOn")
    assert tvf.definition.startswith("CREATE FUNCTION IF NOT EXISTS ingest.EventsOn")
    view = cat.catalog.get_view(PRIMARY, "Telemetry", "ingest", "LatestReadings")
    assert "GROUP BY DeviceId" in view.definition
    assert [t.name for t in cat.catalog.list_tables_by_database(PRIMARY, "Telemetry")] == ["DeviceEvents"]
    # the other account's catalog is untouched
    assert {d.name for d in cat.catalog.list_databases(SECONDARY)} == {"master"}


def test_compile_failure_is_reported_as_the_service_does(emulator):
    job, _, _ = sdk_clients(emulator)
    bad = (JOBS / "syntax_error.usql").read_text(encoding="utf-8")
    with pytest.raises(usqlrw.USqlSyntaxError) as want:
        usqlrw.parse(bad)
    jid = new_id()
    job.job.create(PRIMARY, jid, create_params(bad, "bad"))
    seen, info = run_to_end(job, PRIMARY, jid)
    assert seen == ["Compiling", "Ended"]
    assert info.result.value == "Failed"
    [err] = info.error_message
    assert err.error_id == "E_CSC_USER_SYNTAXERROR" and err.severity.value == "Error"
    assert err.line_number == want.value.line
    assert want.value.message in err.message
    assert info.properties.diagnostics[0].line_number == want.value.line


def test_build_compiles_without_running(emulator):
    from azure.mgmt.datalake.analytics.job.models import BuildJobParameters, CreateUSqlJobProperties
    job, _, _ = sdk_clients(emulator)
    good = (EXAMPLES / "aggregate.usql").read_text(encoding="utf-8")
    bad = (JOBS / "syntax_error.usql").read_text(encoding="utf-8")
    ok = job.job.build(PRIMARY, BuildJobParameters(type="USql", name="b1", properties=CreateUSqlJobProperties(
        script=good, compile_mode="Semantic")))
    assert ok.state.value == "Ended" and ok.result.value == "Succeeded" and not ok.error_message
    no = job.job.build(PRIMARY, BuildJobParameters(type="USql", name="b2",
                                                   properties=CreateUSqlJobProperties(script=bad)))
    assert no.result.value == "Failed" and no.error_message[0].line_number >= 1
    assert list(job.job.list(PRIMARY)) == []   # builds are not jobs
    assert [r for r in emulator.requests if r[1].endswith("/buildJob")][0][0] == "POST"


def test_cancel_ends_a_job_cancelled(emulator):
    job, _, _ = sdk_clients(emulator)
    jid = new_id()
    job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);", "to-cancel"))
    assert job.job.get(PRIMARY, jid).state.value == "Compiling"
    assert job.job.cancel(PRIMARY, jid).result() is None
    info = job.job.get(PRIMARY, jid)
    assert info.state.value == "Ended" and info.result.value == "Cancelled"
    assert info.state_audit_records[-1].details == "CancelRequested"
    assert ("POST", f"/{PRIMARY}/jobs/{jid}/CancelJob", 200) in emulator.requests


def test_list_pages_filters_and_orders(emulator):
    job, _, _ = sdk_clients(emulator)
    ids = []
    for i in range(8):   # page size is 3: three pages
        jid = new_id()
        ids.append(jid)
        job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);" if i % 2 else "@a = SELEC", f"j{i}"))
    for jid in ids:
        run_to_end(job, PRIMARY, jid)
    before = len(emulator.requests)
    listed = list(job.job.list(PRIMARY))
    assert sorted(str(j.job_id) for j in listed) == sorted(ids)
    pages = [r for r in emulator.requests[before:] if r[1] == f"/{PRIMARY}/jobs"]
    assert len(pages) == 3
    assert not hasattr(listed[0], "properties") or listed[0].properties is None
    assert [j.name for j in job.job.list(PRIMARY, orderby="name desc")] == [f"j{i}" for i in range(7, -1, -1)]
    failed = list(job.job.list(PRIMARY, filter="result eq 'Failed'", orderby="name asc"))
    assert [j.name for j in failed] == ["j0", "j2", "j4", "j6"]
    assert [j.name for j in job.job.list(PRIMARY, top=5, skip=2, orderby="name")] == ["j2", "j3", "j4", "j5", "j6"]
    since = "submitTime ge datetimeoffset'2000-01-01T00:00:00Z' and state eq 'Ended'"
    assert len(list(job.job.list(PRIMARY, filter=since))) == 8
    assert list(job.job.list(SECONDARY)) == []


def test_put_is_idempotent_and_a_different_job_with_the_same_id_conflicts(emulator):
    from msrestazure.azure_exceptions import CloudError
    job, _, _ = sdk_clients(emulator)
    jid = new_id()
    a = job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);", "same"))
    b = job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);", "same"))
    assert a.submit_time == b.submit_time
    assert len(list(job.job.list(PRIMARY))) == 1
    with pytest.raises(CloudError) as e:
        job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM @c;", "other"))
    assert e.value.status_code == 409 and e.value.error.error == "JobIdAlreadyExists"


def test_errors_have_the_service_shape_and_a_request_id(emulator):
    from msrestazure.azure_exceptions import CloudError
    job, cat, _ = sdk_clients(emulator)
    with pytest.raises(CloudError) as e:
        job.job.get(PRIMARY, new_id())
    assert e.value.status_code == 404 and e.value.error.error == "JobNotFound"
    assert uuid.UUID(e.value.request_id)
    with pytest.raises(CloudError) as e:
        cat.catalog.get_table(PRIMARY, "master", "dbo", "Nope")
    assert e.value.status_code == 404
    req = urllib.request.Request(f"{emulator.url}/{PRIMARY}/jobs/not-a-guid?api-version=2017-09-01-preview",
                                 headers={"Authorization": "Bearer x"})
    with pytest.raises(urllib.error.HTTPError) as h:
        urllib.request.urlopen(req, timeout=10)
    body = json.loads(h.value.read())
    assert h.value.code == 400 and set(body["error"]) == {"code", "message"}
    assert h.value.headers["Content-Type"].startswith("application/json") and h.value.headers["x-ms-request-id"]


def test_requests_without_a_token_are_refused(emulator):
    req = urllib.request.Request(f"{emulator.url}/{PRIMARY}/jobs?api-version=2017-09-01-preview")
    with pytest.raises(urllib.error.HTTPError) as h:
        urllib.request.urlopen(req, timeout=10)
    assert h.value.code == 401


def test_routes_ignore_case_and_names_are_decoded(emulator):
    job, cat, _ = sdk_clients(emulator)
    jid = new_id()
    script = "CREATE DATABASE [Other DB];\nUSE DATABASE [Other DB];\nCREATE TABLE T(a int, INDEX ix CLUSTERED(a) " \
             "DISTRIBUTED BY ROUND ROBIN);"
    job.job.create(PRIMARY, jid, create_params(script, "other"))
    assert run_to_end(job, PRIMARY, jid)[1].result.value == "Succeeded"
    assert cat.catalog.get_database(PRIMARY, "Other DB").name == "Other DB"
    assert cat.catalog.get_table(PRIMARY, "Other DB", "dbo", "T").distribution_info.type == 4
    url = f"{emulator.url}/{PRIMARY.upper()}/JOBS/{jid}?api-version=2017-09-01-preview"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer x"}), timeout=10) as r:
        assert json.loads(r.read())["jobId"] == jid
    url = f"{emulator.url}/{PRIMARY}/Catalog/USQL/Databases/Other%20DB/Schemas/dbo/Tables?api-version=2016-11-01"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer x"}), timeout=10) as r:
        assert [t["tableName"] for t in json.loads(r.read())["value"]] == ["T"]


def test_failed_ddl_changes_nothing(emulator):
    job, cat, _ = sdk_clients(emulator)
    first, second = new_id(), new_id()
    job.job.create(PRIMARY, first, create_params("CREATE TABLE A(a int, INDEX i CLUSTERED(a) DISTRIBUTED BY "
                                                 "HASH(a));", "a"))
    assert run_to_end(job, PRIMARY, first)[1].result.value == "Succeeded"
    job.job.create(PRIMARY, second, create_params(
        "CREATE TABLE B(b int, INDEX i CLUSTERED(b) DISTRIBUTED BY HASH(b));\n"
        "CREATE TABLE A(a int, INDEX i CLUSTERED(a) DISTRIBUTED BY HASH(a));", "b"))
    _, info = run_to_end(job, PRIMARY, second)
    assert info.result.value == "Failed"
    assert info.error_message[0].error_id == "E_CSC_USER_DDLENTITYALREADYEXISTS"
    assert info.error_message[0].line_number == 2
    assert [t.name for t in cat.catalog.list_tables(PRIMARY, "master", "dbo")] == ["A"]
    third = new_id()
    job.job.create(PRIMARY, third, create_params("DROP TABLE IF EXISTS B; DROP TABLE A;", "c"))
    assert run_to_end(job, PRIMARY, third)[1].result.value == "Succeeded"
    assert list(cat.catalog.list_tables(PRIMARY, "master", "dbo")) == []


def test_catalog_objects_of_every_kind(emulator):
    job, cat, _ = sdk_clients(emulator)
    jid = new_id()
    job.job.create(PRIMARY, jid, create_params((JOBS / "catalog_objects.usql").read_text(encoding="utf-8"), "cat"))
    assert run_to_end(job, PRIMARY, jid)[1].result.value == "Succeeded"
    assert [p.name for p in cat.catalog.list_procedures(PRIMARY, "Sales", "dbo")] == ["Refresh"]
    assert "BEGIN" in cat.catalog.get_procedure(PRIMARY, "Sales", "dbo", "Refresh").definition
    assert [a.name for a in cat.catalog.list_assemblies(PRIMARY, "Sales")] == ["Helpers"]
    ds = list(cat.catalog.list_external_data_sources(PRIMARY, "Sales"))
    assert [(d.name, d.provider, d.provider_string) for d in ds] == [("CrmDb", "AZURESQLDB", "Database=crm;")]
    assert [c.name for c in cat.catalog.list_credentials(PRIMARY, "Sales")] == ["CrmCred"]
    assert [t.name for t in cat.catalog.list_table_types(PRIMARY, "Sales", "dbo")] == ["OrderRow"]
    assert [v.name for v in cat.catalog.list_views(PRIMARY, "Sales", "dbo")] == ["Recent"]


def test_pipelines_and_recurrences_are_aggregated_from_jobs(emulator):
    job, _, _ = sdk_clients(emulator)
    rec, pipe = new_id(), new_id()
    runs = [new_id(), new_id()]
    for i, run in enumerate(runs):
        jid = new_id()
        job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);", f"daily-{i}", related=dict(
            recurrence_id=rec, recurrence_name="daily", pipeline_id=pipe, pipeline_name="etl",
            pipeline_uri="https://adf.example/etl", run_id=run)))
        run_to_end(job, PRIMARY, jid)
    [r] = list(job.recurrence.list(PRIMARY))
    assert str(r.recurrence_id) == rec and r.recurrence_name == "daily" and r.num_jobs_succeeded == 2
    [p] = list(job.pipeline.list(PRIMARY))
    assert p.pipeline_name == "etl" and sorted(str(x.run_id) for x in p.runs) == sorted(runs)
    assert [str(x) for x in p.recurrences] == [rec]
    assert job.pipeline.get(PRIMARY, pipe).pipeline_uri == "https://adf.example/etl"
    assert job.recurrence.get(PRIMARY, rec).recurrence_name == "daily"
    assert list(job.recurrence.list(SECONDARY)) == []


def test_account_read_gives_the_default_store(emulator):
    _, _, arm = sdk_clients(emulator)
    a = arm.accounts.get("rg1", PRIMARY)
    assert a.default_data_lake_store_account == PRIMARY_STORE
    assert [s.name for s in a.data_lake_store_accounts] == [PRIMARY_STORE]
    names = {x.name for x in arm.accounts.list()}
    assert names == {PRIMARY, SECONDARY}
    rg = next(x for x in arm.accounts.list() if x.name == SECONDARY).id.split("/")[4]
    assert arm.accounts.get(rg, SECONDARY).default_data_lake_store_account == "secondaryadls"


def test_fault_injection_statuses_slow_and_dropped(emulator):
    from msrest.exceptions import ClientRequestError
    from msrestazure.azure_exceptions import CloudError
    job, _, _ = sdk_clients(emulator)
    emulator.inject(503, method="PUT")
    jid = new_id()
    # retries = 0 still goes through urllib3's Retry: a 5xx on PUT/GET surfaces as a RetryError
    with pytest.raises(ClientRequestError, match="503"):
        job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);"))
    emulator.inject(503, method="POST", path="/buildJob")
    from azure.mgmt.datalake.analytics.job.models import BuildJobParameters, CreateUSqlJobProperties
    with pytest.raises(CloudError) as e:   # POST is outside urllib3's retried methods: the body comes through
        job.job.build(PRIMARY, BuildJobParameters(type="USql", name="b",
                                                  properties=CreateUSqlJobProperties(script="@a = SELECT 1;")))
    assert e.value.status_code == 503 and e.value.error.error == "ServiceUnavailable"
    emulator.inject(429, method="GET", retry_after=0)
    with pytest.raises(CloudError) as e:
        list(job.job.list(PRIMARY))
    assert e.value.status_code == 429
    emulator.inject(drop=True, path="/jobs$")
    with pytest.raises(ClientRequestError):
        list(job.job.list(PRIMARY))
    emulator.inject(delay=0.2, method="PUT")
    assert job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);")).state.value == "Accepted"
    # with its own retries on, the SDK gets past a 500 on GET but not on POST (urllib3 2 retries no POST)
    job2, _, _ = sdk_clients(emulator, retries=2)
    job2.config.retry_policy.policy.backoff_factor = 0.01
    emulator.inject(500, method="GET")
    assert str(job2.job.get(PRIMARY, jid).job_id) == jid
    emulator.inject(500, method="POST")
    with pytest.raises(CloudError):
        job2.job.cancel(PRIMARY, jid)
    assert all(f.hits == f.times for f in emulator.faults)


def test_faults_can_be_injected_over_http(emulator):
    from msrest.exceptions import ClientRequestError
    req = urllib.request.Request(f"{emulator.url}/_emulator/faults", method="POST",
                                 data=json.dumps({"status": 500, "times": 2, "path": "/recurrences"}).encode(),
                                 headers={"Authorization": "Bearer test-token"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert json.loads(r.read())["fault"]["status"] == 500
    job, _, _ = sdk_clients(emulator)
    for _ in range(2):
        with pytest.raises(ClientRequestError, match="500"):
            list(job.recurrence.list(PRIMARY))
    assert list(job.recurrence.list(PRIMARY)) == []


def test_state_survives_a_restart_in_a_sqlite_file(tmp_path):
    from usqlrw.jobs.emulator import Emulator
    db = str(tmp_path / "emu.sqlite")
    jid = new_id()
    with Emulator(db, accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60) as emu:
        job, _, _ = sdk_clients(emu)
        job.job.create(PRIMARY, jid, create_params("CREATE DATABASE Kept;", "keep"))
        run_to_end(job, PRIMARY, jid)
    with Emulator(db, max_lifetime=60) as emu:
        job, cat, _ = sdk_clients(emu)
        assert job.job.get(PRIMARY, jid).result.value == "Succeeded"
        assert "Kept" in {d.name for d in cat.catalog.list_databases(PRIMARY)}


def test_emulator_logs_no_tokens(emulator, caplog):
    import logging
    caplog.set_level(logging.DEBUG)
    job, _, _ = sdk_clients(emulator, token="very-secret-token-123")
    jid = new_id()
    job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);"))
    run_to_end(job, PRIMARY, jid)
    assert caplog.records   # the emulator and the SDK did log
    assert "very-secret-token-123" not in caplog.text


def test_usqlrw_emulator_command_serves_the_sdk(tmp_path):
    """`usqlrw emulator` in a child process: accounts from the command line, stopped by its pid."""
    import os
    import re
    import signal
    import subprocess
    proc = subprocess.Popen([sys.executable, "-m", "usqlrw", "emulator", "--port", "0", "--state",
                             str(tmp_path / "e.sqlite"), "--account", f"{PRIMARY}={PRIMARY_STORE}"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path)
    try:
        line = proc.stderr.readline()
        m = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        assert m, line
        emu = type("E", (), {"url": m.group(1)})()
        job, _, arm = sdk_clients(emu)
        jid = new_id()
        job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);"))
        assert run_to_end(job, PRIMARY, jid)[1].result.value == "Succeeded"
        assert arm.accounts.get("rg", PRIMARY).default_data_lake_store_account == PRIMARY_STORE
    finally:
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert (tmp_path / "e.sqlite").exists()


def test_jobs_modules_do_not_load_the_sdk_on_import():
    import subprocess
    code = ("import sys, usqlrw.cli.jobs, usqlrw.jobs.emulator, usqlrw.jobs.submit, usqlrw.jobs.drcopy, "
            "usqlrw.jobs.client, usqlrw.jobs.ddl\n"
            "print(sorted(m for m in sys.modules if m.startswith(('azure', 'msrest', 'adal'))))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_bad_query_options_are_400_not_500(emulator):
    for q in ("$top=abc", "$filter=state%20eq", "$orderby=name%20sideways", "$skiptoken=-1"):
        req = urllib.request.Request(f"{emulator.url}/{PRIMARY}/jobs?{q}&api-version=2017-09-01-preview",
                                     headers={"Authorization": "Bearer x"})
        with pytest.raises(urllib.error.HTTPError) as h:
            urllib.request.urlopen(req, timeout=10)
        assert h.value.code == 400, q
        assert json.loads(h.value.read())["error"]["code"] == "InvalidODataQuery"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_odata_string_literals_round_trip(a, b):
    from usqlrw.jobs.odata import parse_filter
    lit = "'" + a.replace("'", "''") + "'"
    assert parse_filter(f"name eq {lit}")({"name": a})
    assert parse_filter(f"name ne {lit}")({"name": b}) == (a.lower() != b.lower())
    assert parse_filter(f"not (name eq {lit}) or substringof({lit}, name)")({"name": b + a + b})


@settings(max_examples=100, deadline=None)
@given(st.lists(st.fixed_dictionaries({"p": st.one_of(st.none(), st.integers(-5, 5)), "n": st.text(max_size=3)}),
                max_size=12))
def test_odata_orderby_sorts_and_keeps_every_document(docs):
    from usqlrw.jobs.odata import sort_documents
    out = sort_documents(docs, "p desc, n")
    assert sorted(map(repr, out)) == sorted(map(repr, docs))
    present = [d["p"] for d in out if d["p"] is not None]
    assert present == sorted(present, reverse=True)
    assert all(d["p"] is None for d in out[len(present):])


@pytest.mark.parametrize("text", ["2024-01-02T03:04:05.36154Z", "2024-01-02T03:04:05.1234567-07:00",
                                  "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.1+00:00", "2024-01-02"])
def test_times_of_every_precision_are_read(text):
    from usqlrw.jobs.odata import parse_time
    d = parse_time(text)
    assert d.tzinfo is not None and (d.year, d.month, d.day) == (2024, 1, 2)


def test_unknown_accounts_can_be_refused():
    from msrestazure.azure_exceptions import CloudError
    from usqlrw.jobs.emulator import Emulator
    with Emulator(accounts={PRIMARY: PRIMARY_STORE}, auto_create_accounts=False, max_lifetime=60) as emu:
        job, cat, arm = sdk_clients(emu)
        assert list(job.job.list(PRIMARY)) == []
        with pytest.raises(CloudError) as e:
            list(job.job.list("nosuchadla"))
        assert e.value.status_code == 404 and e.value.error.error == "AccountNotFound"
        with pytest.raises(CloudError) as e:
            arm.accounts.get("rg", "nosuchadla")
        assert e.value.status_code == 404
