"""`usqlrw run` and `usqlrw check --runnable` as real processes: exit codes, one-line errors,
parameters, the catalog kept in the store between runs, account URIs, all-or-nothing jobs."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def usqlrw(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "usqlrw", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def text(path) -> str:
    with open(path, newline="") as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(text)


@pytest.fixture
def store(tmp_path):
    s = tmp_path / "store"
    s.mkdir()
    return s


def test_run_ok_and_relative_paths(tmp_path, store):
    write(str(store / "in" / "a.csv"), "1,x\n2,y\n")
    write(str(tmp_path / "j.usql"), '@a = EXTRACT n int, s string FROM "in/a.csv" USING Extractors.Csv();\n'
                                    'OUTPUT @a TO "out/a.csv" ORDER BY n DESC USING Outputters.Csv();\n')
    r = usqlrw("run", "--store", str(store), str(tmp_path / "j.usql"))
    assert r.returncode == 0, r.stderr
    assert (store / "out" / "a.csv").read_bytes() == b'2,"y"\r\n1,"x"\r\n'


def test_failure_is_one_line_and_batch_goes_on(tmp_path, store):
    write(str(tmp_path / "bad.usql"), '@a = SELECT * FROM (VALUES (1)) AS T(n);\n'
                                      '@b = SELECT n / 0 AS q FROM @a;\nOUTPUT @b TO "/o1.csv" USING Outputters.Csv();\n')
    write(str(tmp_path / "good.usql"), '@a = SELECT * FROM (VALUES (1)) AS T(n);\n'
                                       'OUTPUT @a TO "/o2.csv" USING Outputters.Csv();\n')
    r = usqlrw("run", "--store", str(store), str(tmp_path / "bad.usql"), str(tmp_path / "good.usql"))
    assert r.returncode == 1
    lines = [x for x in r.stderr.splitlines() if "bad.usql" in x]
    assert lines == [f"{tmp_path / 'bad.usql'}:2:13: DivideByZeroException: integer division by zero"]
    assert "Traceback" not in r.stderr
    assert not (store / "o1.csv").exists()
    assert text(store / "o2.csv") == "1\r\n"


def test_syntax_error_and_missing_script(tmp_path, store):
    write(str(tmp_path / "s.usql"), "@a = SELEC 1;\n")
    r = usqlrw("run", "--store", str(store), str(tmp_path / "s.usql"), str(tmp_path / "none.usql"))
    assert r.returncode == 1
    assert f"{tmp_path / 's.usql'}:1:" in r.stderr
    assert f"{tmp_path / 'none.usql'}:1:1: cannot read the script" in r.stderr
    assert "Traceback" not in r.stderr


def test_params_are_typed_by_declaration(tmp_path, store):
    write(str(tmp_path / "p.usql"), 'DECLARE EXTERNAL @n int = 1;\nDECLARE EXTERNAL @s string = "a";\n'
                                    '@r = SELECT @n + 1 AS m, @s + "!" AS t FROM (VALUES (1)) AS T(x);\n'
                                    'OUTPUT @r TO "/p.csv" USING Outputters.Csv();\n')
    r = usqlrw("run", "--store", str(store), "-p", "n=41", "-p", "@s=hi", str(tmp_path / "p.usql"))
    assert r.returncode == 0, r.stderr
    assert text(store / "p.csv") == '42,"hi!"\r\n'
    r = usqlrw("run", "--store", str(store), "-p", "n=x", str(tmp_path / "p.usql"))
    assert r.returncode == 1 and "-p n=x: not a valid int" in r.stderr
    assert f"{tmp_path / 'p.usql'}:1:" in r.stderr


def test_usage_errors_exit_2(tmp_path, store):
    write(str(tmp_path / "p.usql"), "DECLARE @a int = 1;\n")
    assert usqlrw("run", "--store", str(store), "-p", "novalue", str(tmp_path / "p.usql")).returncode == 2
    assert usqlrw("run", "--store", str(tmp_path / "nope"), str(tmp_path / "p.usql")).returncode == 2
    assert usqlrw("run").returncode == 2


def test_catalog_persists_and_failed_job_changes_nothing(tmp_path, store):
    write(str(tmp_path / "1.usql"), "CREATE DATABASE IF NOT EXISTS D;\n"
          "CREATE TABLE D.dbo.T(a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));\n"
          "INSERT INTO D.dbo.T VALUES (1), (2);\n")
    write(str(tmp_path / "2.usql"), "INSERT INTO D.dbo.T VALUES (3);\n"
          "CREATE TABLE D.dbo.U(a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));\n"
          "@x = SELECT a / (a - 3) AS z FROM D.dbo.T;\nOUTPUT @x TO \"/x.csv\" USING Outputters.Csv();\n")
    write(str(tmp_path / "3.usql"), "@t = SELECT COUNT(*) AS n FROM D.dbo.T;\n"
          "OUTPUT @t TO \"/n.csv\" USING Outputters.Csv();\n"
          "DROP TABLE IF EXISTS D.dbo.U;\nCREATE TABLE D.dbo.U(a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));\n")
    assert usqlrw("run", "--store", str(store), str(tmp_path / "1.usql")).returncode == 0
    r = usqlrw("run", "--store", str(store), str(tmp_path / "2.usql"))
    assert r.returncode == 1 and "DivideByZeroException" in r.stderr
    r = usqlrw("run", "--store", str(store), str(tmp_path / "3.usql"))
    assert r.returncode == 0, r.stderr
    assert text(store / "n.csv") == "2\r\n"          # the failed job's INSERT was rolled back
    assert not (store / "x.csv").exists()
    assert (store / "catalog").is_dir()


def test_account_uris_resolve_to_account_folders(tmp_path, store):
    write(str(store / "accounts" / "primary" / "data" / "a.csv"), "1\n")
    write(str(store / "accounts" / "blobacct" / "cont" / "b.csv"), "2\n")
    write(str(tmp_path / "u.usql"),
          '@a = EXTRACT n int FROM "adl://primary.azuredatalakestore.net/data/a.csv" USING Extractors.Csv();\n'
          '@b = EXTRACT n int FROM "wasbs://cont@blobacct.blob.core.windows.net/b.csv" USING Extractors.Csv();\n'
          '@c = SELECT * FROM @a UNION ALL SELECT * FROM @b;\n'
          'OUTPUT @c TO "swebhdfs://secondary.azuredatalakestore.net/webhdfs/v1/out/c.csv" ORDER BY n '
          'USING Outputters.Csv();\n')
    r = usqlrw("run", "--store", str(store), str(tmp_path / "u.usql"))
    assert r.returncode == 0, r.stderr
    assert text(store / "accounts" / "secondary" / "out" / "c.csv") == "1\r\n2\r\n"


def test_paths_outside_the_store_are_refused(tmp_path, store):
    write(str(tmp_path / "secret.csv"), "1\n")
    write(str(tmp_path / "e.usql"), '@a = EXTRACT n int FROM "/../secret.csv" USING Extractors.Csv();\n'
                                    'OUTPUT @a TO "/o.csv" USING Outputters.Csv();\n')
    r = usqlrw("run", "--store", str(store), str(tmp_path / "e.usql"))
    assert r.returncode == 1 and "outside the store" in r.stderr


def test_cannot_run_fails_before_start(tmp_path, store):
    write(str(tmp_path / "c.usql"), 'CREATE TABLE T0(a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));\n'
          '@a = SELECT * FROM (VALUES (1)) AS T(n);\nOUTPUT @a TO "/o.csv" USING Outputters.Csv();\n'
          '@b = REDUCE @a ON n PRODUCE n int USING new My.Reducer();\n')
    r = usqlrw("run", "--store", str(store), str(tmp_path / "c.usql"))
    assert r.returncode == 1
    assert f"{tmp_path / 'c.usql'}:4:6: REDUCE (a user-defined reducer) is not supported by the engine" in r.stderr
    assert not (store / "o.csv").exists() and not (store / "catalog").exists()


def test_check_runnable(tmp_path):
    write(str(tmp_path / "jobs" / "ok.usql"), '@a = SELECT * FROM (VALUES (1)) AS T(n);\n'
                                             'OUTPUT @a TO "/o.csv" USING Outputters.Csv();\n')
    write(str(tmp_path / "jobs" / "udo.usql"), 'REFERENCE ASSEMBLY Lib;\n'
                                              '@a = EXTRACT n int FROM "/x" USING new Lib.Ext();\n'
                                              'OUTPUT @a TO "/o.csv" USING Outputters.Csv();\n')
    r = usqlrw("check", "--runnable", str(tmp_path / "jobs"))
    assert r.returncode == 1
    assert f"{tmp_path / 'jobs' / 'ok.usql'}: runnable" in r.stdout
    assert f"{tmp_path / 'jobs' / 'udo.usql'}:1:1: REFERENCE ASSEMBLY Lib: user code" in r.stdout
    assert f"{tmp_path / 'jobs' / 'udo.usql'}:2:" in r.stdout
    assert "2 scripts: 1 runnable, 1 blocked" in r.stderr
    assert "USING user-defined operator" in r.stderr
    r = usqlrw("check", "--runnable", str(tmp_path / "jobs" / "ok.usql"))
    assert r.returncode == 0


def test_wrong_column_count_names_file_and_line(tmp_path, store):
    write(str(store / "in" / "a.csv"), "1,x\n2\n")
    write(str(tmp_path / "j.usql"), '@a = EXTRACT n int, s string FROM "/in/a.csv" USING Extractors.Csv();\n'
                                    'OUTPUT @a TO "/o.csv" USING Outputters.Csv();\n')
    r = usqlrw("run", "--store", str(store), str(tmp_path / "j.usql"))
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] == (f"{tmp_path / 'j.usql'}:1:6: input file {os.path.join('in', 'a.csv')}, "
                                        "line 2: fewer columns than the EXTRACT's 2 (silent: true skips such rows)")


def test_unwritable_output_is_one_line(tmp_path, store):
    write(str(store / "taken"), "a file, not a folder\n")
    write(str(tmp_path / "j.usql"), '@a = SELECT * FROM (VALUES (1)) AS T(n);\n'
                                    'OUTPUT @a TO "/taken/o.csv" USING Outputters.Csv();\n')
    r = usqlrw("run", "--store", str(store), str(tmp_path / "j.usql"))
    assert r.returncode == 1
    assert r.stderr.splitlines()[0].startswith(f"{tmp_path / 'j.usql'}:2:14: cannot write {os.path.join('taken', 'o.csv')}: ")
    assert "Traceback" not in r.stderr
