"""The emulator's stores over WebHDFS, used by the real ``azure-datalake-store`` client: every
operation it sends, the token checked, paths kept inside the store, big files in several chunks."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
from pathlib import Path

import pytest
from azure.datalake.store import core, multithread
from azure.datalake.store.exceptions import DatalakeRESTException
from azure.datalake.store.retry import NoRetryPolicy

from usqlrw.datalake import StoreError, _StaticToken, emulator_store_url, open_store
from usqlrw.emulator import Emulator

TOKEN = "store-token-5f2c"


@pytest.fixture
def emu(tmp_path):
    e = Emulator(accounts={"lake-adla": "lake"}, expected_token=TOKEN, data_dir=str(tmp_path / "data")).start()
    yield e
    e.close()


def client(emu, store="lake", token=TOKEN) -> core.AzureDLFileSystem:
    """The real client's file system object, pointed at the emulator's store by its public url."""
    fs = core.AzureDLFileSystem(_StaticToken(token), store_name=store)
    fs.azure.url = emulator_store_url(emu.url, store)
    return fs


def raw(emu, method, target, body=b"", token=TOKEN):
    """One request as bytes on the wire (no client to normalise the path)."""
    c = http.client.HTTPConnection(emu.host, emu.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        c.request(method, target, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def test_every_operation_of_the_real_client(emu):
    fs = client(emu)
    root = Path(emu.store_path("lake"))
    fs.mkdir("in/days")                                                     # MKDIRS
    with fs.open("in/orders.csv", "wb") as f:                               # CREATE + APPEND
        f.write(b"1,apple,3\n2,pear,5\n")
    assert (root / "in" / "orders.csv").read_bytes() == b"1,apple,3\n2,pear,5\n"   # the jobs' folder
    with fs.open("in/orders.csv", "ab") as f:                               # APPEND at the end
        f.write(b"3,fig,1\n")
    assert fs.cat("in/orders.csv") == b"1,apple,3\n2,pear,5\n3,fig,1\n"     # OPEN
    assert fs.read_block("in/orders.csv", 10, 9) == b"2,pear,5\n"           # OPEN offset/length
    info = fs.info("in/orders.csv")                                         # GETFILESTATUS
    assert info["type"] == "FILE" and info["length"] == 27 and info["modificationTime"] > 0
    assert fs.info("in")["type"] == "DIRECTORY"
    assert sorted(fs.ls("in")) == ["in/days", "in/orders.csv"]              # LISTSTATUS
    assert fs.exists("in/orders.csv") and not fs.exists("in/nothing.csv")
    (root / "in" / "days" / "a.csv").write_bytes(b"written by a job\n")     # a job's output, listed
    assert fs.ls("in/days") == ["in/days/a.csv"] and fs.head("in/days/a.csv", 7) == b"written"
    summary = fs.azure.call("GETCONTENTSUMMARY", "in")["ContentSummary"]
    assert (summary["fileCount"], summary["directoryCount"], summary["length"]) == (2, 2, 27 + 17)
    fs.mv("in/orders.csv", "in/days/orders.csv")                           # RENAME
    assert not (root / "in" / "orders.csv").exists() and (root / "in" / "days" / "orders.csv").exists()
    fs.mv("in/days/orders.csv", "in")                                       # RENAME into a folder
    assert (root / "in" / "orders.csv").exists()
    with pytest.raises(DatalakeRESTException):                              # HDFS: not over a file
        fs.mv("in/orders.csv", "in/days/a.csv")
    fs.touch("in/empty.csv")
    assert fs.info("in/empty.csv")["length"] == 0
    with fs.open("parts/p1", "wb") as f:
        f.write(b"one,")
    with fs.open("parts/p2", "wb") as f:
        f.write(b"two\n")
    fs.concat("joined.csv", ["parts/p1", "parts/p2"], delete_source=True)   # MSCONCAT
    assert fs.cat("joined.csv") == b"one,two\n" and not (root / "parts").exists()
    fs.rm("in/empty.csv")                                                   # DELETE
    with pytest.raises(PermissionError):                                    # a full folder, not recursive
        fs.azure.call("DELETE", "in", recursive="false", retry_policy=NoRetryPolicy())
    fs.rm("in", recursive=True)
    assert not (root / "in").exists() and fs.ls("") == ["joined.csv"]
    with pytest.raises(FileNotFoundError):
        fs.info("in/orders.csv")


def test_create_without_overwrite_and_bad_offsets_are_refused(emu):
    fs = client(emu)
    fs.azure.call("CREATE", "x.csv", data=b"abc", overwrite="false", write="true")
    with pytest.raises(PermissionError):        # 403 FileAlreadyExistsException
        fs.azure.call("CREATE", "x.csv", data=b"new", overwrite="false", write="true", retry_policy=NoRetryPolicy())
    fs.azure.call("CREATE", "x.csv", data=b"new", overwrite="true", write="true")
    assert fs.cat("x.csv") == b"new"
    from azure.datalake.store.exceptions import DatalakeBadOffsetException
    with pytest.raises(DatalakeBadOffsetException):
        fs.azure.call("APPEND", "x.csv", data=b"zz", append="true", offset=1, retry_policy=NoRetryPolicy())
    assert fs.cat("x.csv") == b"new"


def test_listing_pages_with_list_after(emu):
    root = Path(emu.store_path("lake"))
    (root / "many").mkdir()
    for i in range(7):
        (root / "many" / f"f{i}.csv").write_bytes(b"x" * i)
    fs = client(emu)
    listed = fs._ls_batched("many", batch_size=3)       # LISTSTATUS listSize=3 then listAfter=...
    assert [e["pathSuffix"] for e in listed] == [f"f{i}.csv" for i in range(7)]
    gets = [p for m, p, s in emu.requests if p.endswith("/webhdfs/v1/many")]
    assert len(gets) == 3


def test_the_token_is_checked(emu):
    status, body = raw(emu, "GET", "/_adls/lake/webhdfs/v1/?op=LISTSTATUS", token=None)
    assert status == 401 and json.loads(body)["RemoteException"]["exception"] == "AccessControlException"
    assert raw(emu, "GET", "/_adls/lake/webhdfs/v1/?op=LISTSTATUS", token="wrong")[0] == 401
    assert raw(emu, "GET", "/_adls/lake/webhdfs/v1/?op=LISTSTATUS")[0] == 200
    fs = client(emu, token="not-the-token")
    with pytest.raises(DatalakeRESTException):
        fs.azure.call("GETFILESTATUS", "", retry_policy=NoRetryPolicy())
    with pytest.raises(StoreError, match="token was refused"):
        open_store("lake", emu.url, token="not-the-token").stat("/")
    assert not any(TOKEN in str(r) for r in emu.requests)


@pytest.mark.parametrize("target", [
    "/_adls/lake/webhdfs/v1/../../../secret.txt?op=OPEN",
    "/_adls/lake/webhdfs/v1/in/%2e%2e/%2e%2e/%2e%2e/secret.txt?op=OPEN",
    "/_adls/lake/webhdfs/v1/..%2f..%2f..%2fsecret.txt?op=OPEN",
    "/_adls/lake/webhdfs/v1/..%5c..%5c..%5csecret.txt?op=OPEN",
    "/_adls/lake/webhdfs/v1/in%00/x?op=OPEN",
    "/_adls/lake/webhdfs/v1/link/secret.txt?op=OPEN",             # a symbolic link out of the store
    "/_adls/lake/webhdfs/v1/link?op=LISTSTATUS",
    "/_adls/lake/webhdfs/v1/in/a.csv?op=RENAME&destination=../../../stolen.csv",
    "/_adls/lake/webhdfs/v1/link/new.csv?op=CREATE&overwrite=true",
    "/_adls/..%2f..%2fstores/webhdfs/v1/x?op=LISTSTATUS",         # the store name itself
])
def test_paths_never_leave_the_store(emu, tmp_path, target):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside the store")
    root = Path(emu.store_path("lake"))
    (root / "in").mkdir()
    (root / "in" / "a.csv").write_bytes(b"a\n")
    os.symlink(tmp_path, root / "link")
    before = sorted(p.name for p in tmp_path.iterdir())
    method = "PUT" if ("RENAME" in target or "CREATE" in target) else "GET"
    status, body = raw(emu, method, target, body=b"x" if "CREATE" in target else b"")
    assert status in (400, 403), (status, body)
    assert b"outside the store" not in body
    assert sorted(p.name for p in tmp_path.iterdir()) == before and secret.read_bytes() == b"outside the store"
    assert (root / "in" / "a.csv").exists()


def test_absolute_looking_paths_stay_inside(emu, tmp_path):
    """``//etc/passwd`` is the store's /etc/passwd: not there (404), never the machine's."""
    status, body = raw(emu, "GET", "/_adls/lake/webhdfs/v1//etc/passwd?op=OPEN")
    assert status == 404 and b"root:" not in body


def test_unknown_operations_and_methods_are_400(emu):
    assert raw(emu, "GET", "/_adls/lake/webhdfs/v1/?op=SETOWNER")[0] == 400
    assert raw(emu, "PUT", "/_adls/lake/webhdfs/v1/x?op=OPEN")[0] == 400
    assert raw(emu, "GET", "/_adls/lake/webhdfs/v1/x?op=OPEN&offset=abc")[0] in (400, 404)


def test_big_files_go_in_several_chunks(emu, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 12345)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    fs = client(emu)
    # the client's multi-part upload: chunks written in parallel, then joined with MSCONCAT
    up = multithread.ADLUploader(fs, "up/big.bin", str(local), nthreads=3, chunksize=1024 * 1024,
                                 buffersize=256 * 1024, blocksize=256 * 1024, overwrite=True)
    assert up.successful()
    stored = Path(emu.store_path("lake")) / "up" / "big.bin"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert any(m == "POST" for m, p, s in emu.requests if p.endswith("/up/big.bin"))     # MSCONCAT
    # and its multi-part download, with ranged OPENs
    down = multithread.ADLDownloader(fs, "up/big.bin", str(tmp_path / "back.bin"), nthreads=3,
                                     chunksize=1024 * 1024, buffersize=256 * 1024, blocksize=256 * 1024)
    assert down.successful() and (tmp_path / "back.bin").read_bytes() == data
    # usqlrw's own copy between stores: one OPEN and one APPEND per chunk
    n0 = len(emu.requests)
    src, dst = open_store("lake", emu.url, token=TOKEN), open_store("lakedr", emu.url, token=TOKEN)
    assert src.copy("/up/big.bin", dst, "/copied/big.bin", chunk=512 * 1024) == len(data)
    assert (Path(emu.store_path("lakedr")) / "copied" / "big.bin").read_bytes() == data
    new = emu.requests[n0:]
    assert sum(1 for m, p, s in new if m == "GET" and p.endswith("/up/big.bin")) >= 7
    assert sum(1 for m, p, s in new if m == "POST" and "/_adls/lakedr/" in p) >= 7
    assert dst.list("/copied") == [dst.stat("/copied/big.bin")]        # no temporary file left


def test_the_store_client_ignores_proxies_for_the_emulator(emu, monkeypatch):
    """The token goes to the emulator's host only: a proxy in the environment is not used for it."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    store = open_store("lake", emu.url, token=TOKEN)
    store.write("/p.csv", b"ok\n")
    assert store.read("/p.csv") == b"ok\n"


def test_the_store_api(emu):
    s = open_store("lake", emu.url, token=TOKEN)
    assert s.stat("/nothing") is None and not s.exists("/nothing")
    s.write("/in/days/2024/01/a.csv", b"a\n")
    s.write("/in/days/2024/02/b.csv", [b"b", b"\n"])
    s.write("/in/days/2023/notes.txt", b"n\n")
    assert [e.path for e in s.glob("/in/days/*/*/*.csv")] == ["/in/days/2024/01/a.csv", "/in/days/2024/02/b.csv"]
    assert [e.path for e in s.glob("/in/days/2024/*/a.csv")] == ["/in/days/2024/01/a.csv"]
    assert s.exists("/in/days/*/*/*.csv") and not s.exists("/in/days/*/*.csv")
    assert s.glob("/none/*/x.csv") == []
    assert [e.kind for e in s.list("/in/days")] == ["dir", "dir"]
    s.write("/in/days/2024/01/a.csv", b"replaced\n")          # atomic replace of an existing file
    assert s.read("/in/days/2024/01/a.csv") == b"replaced\n"
    with pytest.raises(StoreError, match="no such file"):
        s.read("/in/nothing.csv")
    with pytest.raises(StoreError, match="not allowed"):
        s.stat("/../../x")
    with pytest.raises(StoreError, match="not a store account name"):
        open_store("../x", emu.url)


def test_an_unreachable_store_is_one_line(tmp_path):
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = open_store("lake", f"http://127.0.0.1:{port}", token=TOKEN, retries=0)
    with pytest.raises(StoreError) as e:
        s.stat("/x")
    assert "cannot reach" in str(e.value) and TOKEN not in str(e.value) and "\n" not in str(e.value)


def test_plain_concat(emu):
    fs = client(emu)
    for name, data in (("a.csv", b"1\n"), ("b.csv", b"2\n"), ("c.csv", b"3\n")):
        fs.azure.call("CREATE", name, data=data, overwrite="true", write="true")
    fs.azure.call("CONCAT", "a.csv", sources="/b.csv,/c.csv")
    assert fs.cat("a.csv") == b"1\n2\n3\n" and fs.ls("") == ["a.csv"]
    with pytest.raises(PermissionError):          # a source path out of the store
        fs.azure.call("CONCAT", "a.csv", sources="../../x.csv", retry_policy=NoRetryPolicy())


def test_a_busy_store_is_retried_and_a_failing_one_is_one_line(emu):
    s = open_store("lake", emu.url, token=TOKEN, retries=2)
    s.write("/r.csv", b"r\n")
    emu.inject(503, times=2, method="GET", path="/_adls/lake/")
    assert s.read("/r.csv") == b"r\n"                     # two 503s, then the answer
    emu.inject(500, times=10, method="GET", path="/_adls/lake/")
    with pytest.raises(StoreError) as e:
        s.stat("/r.csv")
    assert "HTTP 500" in str(e.value) and "\n" not in str(e.value)
    emu.clear_faults()
