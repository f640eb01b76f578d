import json
import subprocess
import sys

import usqlrw
from usqlrw.ast import JSON_VERSION, to_dict, to_json


def test_to_json_matches_json_dumps():
    s = usqlrw.parse(open("examples/project/daily_ingest.usql", "rb").read())
    doc = {"version": JSON_VERSION, "tree": to_dict(s)}
    assert to_json(s) == json.dumps(doc, indent=2, ensure_ascii=False)
    assert to_json(s, indent=None) == json.dumps(doc, ensure_ascii=False, separators=(",", ": "))


def test_ast_command_handles_very_deep_trees(tmp_path):
    p = tmp_path / "deep.usql"
    p.write_text("@a = SELECT " + "+".join(["x"] * 6000) + " AS y FROM @b;\n")
    r = subprocess.run([sys.executable, "-m", "usqlrw", "ast", "--indent", "0", str(p)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(30000)   # for json.loads in this test only
    try:
        tree = json.loads(r.stdout)
    finally:
        sys.setrecursionlimit(old)
    assert tree["version"] == JSON_VERSION
    tree = tree["tree"]
    assert tree["kind"] == "Script"
    n = len(p.read_text())   # the statement ends before its ";\n"
    assert tree["statements"][0]["span"] == {"start": 0, "end": n - 2, "line": 1, "column": 1,
                                             "end_line": 1, "end_column": n - 1}
