"""The differences spark_engine.py and spark_io.py bridge, each checked on both engines against
the same expected bytes (values the conformance cases do not reach: exponents, a negative
double, DESC percentiles, one-digit dates, empty lines and "" after skipped header lines)."""
from __future__ import annotations

import pytest

from usqlrw.engine import JobFailed, run_text

pytestmark = pytest.mark.spark

SCRIPT = """
@d = SELECT * FROM (VALUES (1, 0.1, 7L), (2, 1e20, 10L), (3, 100.0, 4L), (4, 1e-5, 3L), (5, -2.5, 2L)) AS T(id, x, n);
@r = SELECT id, "v" + x AS s, n / 4.0 AS q, (x * 10).ToString("N0") AS grouped, x.ToString("F3") AS f3,
            PERCENTILE_DISC(0.25) WITHIN GROUP (ORDER BY n DESC) OVER () AS pd,
            PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY n) OVER () AS pc,
            DateTime.Parse("3/4/2020 1:05:00 PM").ToString("yyyy-MM-dd HH:mm") AS parsed
     FROM @d;
OUTPUT @r TO "/out/r.csv" ORDER BY id USING Outputters.Csv();
@f = EXTRACT a string, b int? FROM "/in/f.csv" USING Extractors.Csv(skipFirstNRows: 1);
@g = SELECT a == null AS anull, a == "" AS aempty, b FROM @f;
OUTPUT @g TO "/out/f.csv" ORDER BY b USING Outputters.Csv();
@t = EXTRACT v int? FROM "/in/t.txt" USING Extractors.Text(skipFirstNRows: 1);
OUTPUT @t TO "/out/t.csv" ORDER BY v USING Outputters.Csv();
@u = EXTRACT v int FROM "/in/u.txt" USING Extractors.Text(skipFirstNRows: 1);
OUTPUT @u TO "/out/u.csv" ORDER BY v USING Outputters.Csv();
"""
WANT = {
    "r.csv": b'1,"v0.1",1.75,"1","0.100",7,3,"2020-03-04 13:05"\r\n'
             b'2,"v1E+20",2.5,"1,000,000,000,000,000,000,000","100000000000000000000.000",7,3,"2020-03-04 13:05"\r\n'
             b'3,"v100",1,"1,000","100.000",7,3,"2020-03-04 13:05"\r\n'
             b'4,"v1E-5",0.75,"0","0.000",7,3,"2020-03-04 13:05"\r\n'
             b'5,"v-2.5",0.5,"-25","-2.500",7,3,"2020-03-04 13:05"\r\n',
    "f.csv": b'False,True,1\r\nTrue,False,2\r\n',
    "t.csv": b"5\r\n6\r\n\r\n",
    "u.csv": b"8\r\n9\r\n",
}


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_the_same_bytes_on_both_engines(engine, tmp_path, spark_session):
    store = tmp_path / "store"
    (store / "in").mkdir(parents=True)
    (store / "in" / "f.csv").write_bytes(b'a,b\n"",1\n,2\n')
    (store / "in" / "t.txt").write_bytes(b"v\n6\n\n5\n")
    (store / "in" / "u.txt").write_bytes(b"v\n9\n8\n")
    kw = {"engine": "spark", "master": spark_session} if engine == "spark" else {}
    run_text(SCRIPT, str(store), **kw)
    for name, want in WANT.items():
        assert (store / "out" / name).read_bytes() == want, name


def test_a_bad_value_names_its_line_after_skipped_lines(tmp_path, spark_session):
    store = tmp_path / "store"
    (store / "in").mkdir(parents=True)
    (store / "in" / "a.csv").write_bytes(b"h1,h2\n1,2\n3,oops\n")
    with pytest.raises(JobFailed) as ei:
        run_text('@e = EXTRACT a int, b int FROM "/in/a.csv" USING Extractors.Csv(skipFirstNRows: 1);\n'
                 'OUTPUT @e TO "/o.csv" USING Outputters.Csv();\n', str(store), engine="spark", master=spark_session)
    assert 'the value "oops" of column b does not convert (input file in/a.csv, line 3)' in str(ei.value)
    assert not (store / "o.csv").exists()
