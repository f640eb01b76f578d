"""The `usqlrw replicate` command: bundle on disk, determinism, reruns, bad inputs, exit codes."""
import codecs
import json
import shutil
import sys
from pathlib import Path

import usqlrw
from usqlrw.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from replication_drill import recording  # noqa: E402,F401  (what each test generates is run: replication_drill)

HERE = Path(__file__).parent / "fixtures" / "replicate"
PIPELINE = HERE / "pipeline"
CONFIG = str(HERE / "dr.toml")


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_writes_the_bundle(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["replicate", "--config", CONFIG, str(PIPELINE), "--out", str(out)]) == 0
    files = tree(out)
    assert "manifest.json" in files and "catalog/sync.usql" in files and "catalog/model.json" in files
    assert any(k.startswith("primary/jobs/") for k in files)
    assert any(k.startswith("secondary/jobs/") for k in files)
    m = json.loads(files["manifest.json"])
    for step in m["steps"]:
        usqlrw.parse(files[step["script"]])
    assert "steps" in capsys.readouterr().err


def test_same_input_same_bytes_and_rerun_touches_nothing(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["replicate", "-c", CONFIG, str(PIPELINE), "-o", str(a)]) == 0
    assert main(["replicate", "-c", CONFIG, str(PIPELINE), "-o", str(b)]) == 0
    assert tree(a) == tree(b)
    stamps = {p: p.stat().st_mtime_ns for p in a.rglob("*") if p.is_file()}
    assert main(["replicate", "-c", CONFIG, str(PIPELINE), "-o", str(a)]) == 0
    assert {p: p.stat().st_mtime_ns for p in a.rglob("*") if p.is_file()} == stamps


def test_previous_model_gives_only_the_change(tmp_path):
    first = tmp_path / "first"
    assert main(["replicate", "-c", CONFIG, str(PIPELINE), "-o", str(first)]) == 0
    src = tmp_path / "src"
    shutil.copytree(PIPELINE, src)
    ddl = src / "00_catalog.usql"
    ddl.write_text(ddl.read_text().replace("    Note string,\n", "    Note string,\n    Region string,\n"))
    second = tmp_path / "second"
    rc = main(["replicate", "-c", CONFIG, str(src), "-o", str(second),
               "--previous-model", str(first / "catalog" / "model.json")])
    assert rc == 0
    s = usqlrw.parse((second / "catalog" / "resync.usql").read_bytes())
    body = [x for x in s.statements if x.kind not in ("UseDatabase", "UseSchema")]
    assert [x.kind for x in body] == ["AlterTableAddColumn"]
    add = body[0]
    assert [c.name.name for c in usqlrw.ast.walk(add) if c.kind == "ColumnDefinition"] == ["Region"]
    m = json.loads((second / "manifest.json").read_text())
    assert m["incremental"] and not m["problems"]
    assert not (second / "catalog" / "sync.usql").exists()



def test_unparsable_file_is_reported_and_the_rest_goes_on(tmp_path, capsys):
    src = tmp_path / "src"
    shutil.copytree(PIPELINE, src)
    (src / "99_broken.usql").write_text("@x = SELEC * FROM @y;\n")
    out = tmp_path / "out"
    assert main(["replicate", "-c", CONFIG, str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    broken = [line for line in err.splitlines() if "99_broken.usql" in line]
    assert len(broken) == 1 and ":1:" in broken[0]
    m = json.loads((out / "manifest.json").read_text())
    assert len(m["skipped"]) == 1 and (out / "primary" / "jobs" / "10_ingest_orders.usql").exists()


def test_usage_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[primary]\n")
    assert main(["replicate", "-c", str(bad), str(PIPELINE), "-o", str(tmp_path / "o")]) == 2
    assert main(["replicate", str(PIPELINE), "-o", str(tmp_path / "o")]) == 2


def test_dr_copy_keeps_bom_and_crlf(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(PIPELINE / "00_catalog.usql", src / "00_catalog.usql")
    job = (PIPELINE / "20_daily_totals.usql").read_text().replace("\n", "\r\n")
    (src / "20_daily_totals.usql").write_bytes(codecs.BOM_UTF8 + job.encode())
    out = tmp_path / "out"
    assert main(["replicate", "-c", CONFIG, str(src), "-o", str(out)]) == 0
    data = (out / "primary" / "jobs" / "20_daily_totals.usql").read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    text = data[3:].decode()
    assert "\n" not in text.replace("\r\n", "")
    usqlrw.parse(data)
