"""The emulator refuses malformed requests with a 4xx JSON error and keeps serving: raw sockets for
what no SDK would send, the real SDK for everyone else."""
from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import (PRIMARY, PRIMARY_STORE, TOKEN, create_params, emulator,  # noqa: E402,F401
                        new_id, run_to_end, sdk_clients)

JOB_PATH = f"/{PRIMARY}/jobs/{{}}?api-version=2017-09-01-preview"
AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()


def raw(emu, data: bytes, timeout: float = 30):
    """Send bytes as they are; the status and JSON body of the answer."""
    with socket.create_connection((emu.host, emu.port), timeout=timeout) as s:
        s.sendall(data)
        r = http.client.HTTPResponse(s)
        r.begin()
        body = r.read()
        assert r.getheader("Content-Type", "").startswith("application/json"), (r.status, body[:200])
        return r.status, json.loads(body)


def request(emu, method: str, path: str, body: bytes = b"", token: str | None = TOKEN, extra: bytes = b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n".encode()
    if token is not None:
        head += f"Authorization: Bearer {token}\r\n".encode()
    return raw(emu, head + extra + b"\r\n" + body)


def still_serving(emu):
    job, _, _ = sdk_clients(emu)
    jid = new_id()
    job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);"))
    return run_to_end(job, PRIMARY, jid)[1].result.value == "Succeeded"


MALFORMED = {
    "tls hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
    "one word": b"GARBAGE\r\n\r\n",
    "http/0.9": b"GET /\r\n\r\n",
    "binary": b"\xff\xfe\x00\x01 / HTTP/1.1\r\n\r\n",
    "bad target": b"GET http://[::1/x HTTP/1.1\r\nHost: x\r\n\r\n",
    "not a path": b"GET nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
    "unknown method": b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
    "unknown version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "length abc": b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "negative length": b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "two lengths": b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "chunked": b"PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "long line": b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    "long header": b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    "many headers": b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_http_gets_a_4xx_json_error(emulator, name):
    status, body = raw(emulator, MALFORMED[name])
    assert 400 <= status < 500 and body["error"]["code"] and body["error"]["message"]
    assert still_serving(emulator)


@pytest.mark.parametrize("body", [
    b"[" * 100_000,                                          # the JSON parser's recursion limit
    b'{"name": "x", "properties": {"script": ""}, "tags": {"a": ' + b"[" * 100 + b"]" * 100 + b"}}",  # deep
    b"\xff\xfe{not utf-8",
    b"{\"name\": ",
    b"42",
])
def test_bad_json_bodies_are_400(emulator, body):
    status, answer = request(emulator, "PUT", JOB_PATH.format(new_id()), body)
    assert status == 400 and answer["error"]["code"] in ("InvalidRequestBody", "InvalidRequest")
    assert still_serving(emulator)


@pytest.mark.parametrize("fault", [{"times": "x"}, {"status": "500"}, {"status": 99}, {"delay": -1},
                                   {"drop": "yes"}, {"path": "("}, {"method": 5}, {"what": 1}, [1], "x"])
def test_bad_fault_definitions_are_400_and_jam_nothing(emulator, fault):
    status, answer = request(emulator, "POST", "/_emulator/faults", json.dumps(fault).encode())
    assert status == 400 and answer["error"]["code"] == "InvalidRequest"
    assert emulator.faults == []
    assert still_serving(emulator)


def test_bad_account_definitions_are_400(emulator):
    for body in ({}, {"name": None}, {"name": "a/b"}, {"name": "ok", "store": 5}):
        status, _ = request(emulator, "POST", "/_emulator/accounts", json.dumps(body).encode())
        assert status == 400
    assert [a[0] for a in emulator.store.accounts()] == sorted([PRIMARY, "secondaryadla"])


def test_control_routes_need_the_same_authentication_as_the_api(emulator):
    fault = json.dumps({"status": 503, "times": 1}).encode()
    status, answer = request(emulator, "POST", "/_emulator/faults", fault, token=None)
    assert status == 401 and answer["error"]["code"] == "AuthenticationFailed"
    assert request(emulator, "GET", "/_emulator/health", token=None)[0] == 401
    assert emulator.faults == []
    status, answer = request(emulator, "POST", "/_emulator/faults", fault)     # the test token
    assert status == 200 and answer["fault"]["status"] == 503 and len(emulator.faults) == 1


def test_control_routes_with_an_expected_token():
    from usqlrw.jobs.emulator import Emulator
    with Emulator(accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60, expected_token="right-token-1") as emu:
        assert request(emu, "GET", "/_emulator/health", token="wrong-token")[0] == 401
        assert request(emu, "GET", "/_emulator/health", token=None)[0] == 401
        status, answer = request(emu, "GET", "/_emulator/health", token="right-token-1")
        assert status == 200 and answer["status"] == "ok"


def test_a_50_mb_body_is_refused_with_413_while_another_client_is_served(emulator):
    big = 50 * 1024 * 1024
    head = (f"PUT {JOB_PATH.format(new_id())} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {big}\r\n").encode() + AUTH + b"\r\n"
    with socket.create_connection((emulator.host, emulator.port), timeout=30) as s:
        s.sendall(head + b'{"name": "big", "properties": {"script": "' + b"x" * (1 << 20))
        # the big request is open and its body unsent: another client is served meanwhile
        assert still_serving(emulator)
        r = http.client.HTTPResponse(s)
        r.begin()      # answered from the headers alone, before 49 MB more have been sent
        assert r.status == 413 and json.loads(r.read())["error"]["code"] == "RequestEntityTooLarge"
    # a client that sends its whole 50 MB body first still gets to read the 413
    c = http.client.HTTPConnection(emulator.host, emulator.port, timeout=60)
    try:
        c.request("PUT", JOB_PATH.format(new_id()), body=b"x" * big,
                  headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        r = c.getresponse()
        assert r.status == 413 and json.loads(r.read())["error"]["code"] == "RequestEntityTooLarge"
    finally:
        c.close()
    assert emulator.created and all(a == PRIMARY for a, _ in emulator.created)
    assert len(emulator.created) == 1          # only the other client's job


def test_expect_100_continue_over_the_limit_is_refused_before_the_body(emulator):
    head = (f"PUT {JOB_PATH.format(new_id())} HTTP/1.1\r\nHost: x\r\nContent-Length: {emulator.max_body + 1}\r\n"
            "Expect: 100-continue\r\n").encode() + AUTH + b"\r\n"
    status, answer = raw(emulator, head)
    assert status == 413


def test_a_slow_body_holds_no_lock(emulator):
    """A client that stops half-way through its body does not keep others waiting."""
    body = json.dumps({"name": "slow", "properties": {"script": "@a = SELECT * FROM (VALUES (1)) AS T(x);"}}).encode()
    head = (f"PUT {JOB_PATH.format(new_id())} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n").encode() \
        + AUTH + b"\r\n"
    with socket.create_connection((emulator.host, emulator.port), timeout=30) as s:
        s.sendall(head + body[:10])
        assert still_serving(emulator)
        s.sendall(body[10:])
        r = http.client.HTTPResponse(s)
        r.begin()
        assert r.status == 200 and json.loads(r.read())["name"] == "slow"


def test_a_script_is_compiled_without_the_store_lock(emulator, monkeypatch):
    import usqlrw.emulator.jobs as em
    real, seen = em._compile, []

    def probe(got):
        got.append(emulator.store.lock.acquire(timeout=10))
        if got[-1]:
            emulator.store.lock.release()

    def compile_and_probe(script):
        got = []
        t = threading.Thread(target=probe, args=(got,))
        t.start()
        t.join()
        seen.append(got[0])
        return real(script)
    monkeypatch.setattr(em, "_compile", compile_and_probe)
    assert still_serving(emulator)
    assert seen == [True]


@pytest.mark.parametrize("field,value", [
    ("degreeOfParallelism", "x"), ("degreeOfParallelism", True), ("priority", 1.5), ("related", "x"),
    ("related", {"recurrenceId": 5}), ("tags", ["a"]), ("logFilePatterns", "x"), ("name", 7),
    ("properties", "x"),
])
def test_a_job_with_a_wrong_typed_field_is_400_and_breaks_no_listing(emulator, field, value):
    req = {"name": "j", "type": "USql", "properties": {"type": "USql", "script": "@a = SELECT * FROM (VALUES (1)) AS T(x);"},
           "related": {"recurrenceId": new_id(), "recurrenceName": "r"}}
    req[field] = value
    status, answer = request(emulator, "PUT", JOB_PATH.format(new_id()), json.dumps(req).encode())
    assert status == 400 and answer["error"]["code"] == "InvalidRequest"
    for what in ("recurrences", "pipelines", "jobs"):
        assert request(emulator, "GET", f"/{PRIMARY}/{what}?api-version=2017-09-01-preview")[0] == 200


def test_a_bad_stored_document_is_left_out_of_listings(emulator):
    """A record that no validation let in (an older state file, a hand edit) cannot break a listing."""
    job, _, _ = sdk_clients(emulator)
    rid = new_id()
    good = new_id()
    job.job.create(PRIMARY, good, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);", related={
        "recurrence_id": rid, "recurrence_name": "nightly"}))
    run_to_end(job, PRIMARY, good)
    bad = new_id()
    doc = json.loads(emulator.store.job_row(PRIMARY, good)[3])
    doc.update(jobId=bad, related={"recurrenceId": 5}, degreeOfParallelism="x")
    emulator.store.insert_job(PRIMARY, bad, {"name": "bad"}, doc, [])
    emulator.store.insert_job(PRIMARY, new_id(), {"name": "worse"}, "not even a job", [])
    assert [str(r.recurrence_id) for r in job.recurrence.list(PRIMARY)] == [rid]
    assert {str(j.job_id) for j in job.job.list(PRIMARY)} == {good}
    status, answer = request(emulator, "GET", JOB_PATH.format(bad))
    assert status == 500 and answer["error"]["code"] == "InvalidStoredJob"
