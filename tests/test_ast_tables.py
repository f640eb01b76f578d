import usqlrw


def clauses(src):
    t = usqlrw.parse(src).statements[0]
    out = []
    if t.partitioned_by is not None:
        out.append(("PartitionedBy", [c.name for c in t.partitioned_by.columns]))
    if t.distributed_by is not None:
        d = t.distributed_by
        out.append(("DistributedBy", [x.kind for x in (d.scheme, d.buckets) if x is not None]))
    return out


def test_partitioning_inside_the_index_or_after_the_schema():
    inside = ("CREATE TABLE T (a int, d DateTime, INDEX ix CLUSTERED (a) PARTITIONED BY (d) "
              "DISTRIBUTED BY HASH (a) INTO 4);")
    after = ("CREATE TABLE T (a int, d DateTime, INDEX ix CLUSTERED (a)) PARTITIONED BY (d) "
             "DISTRIBUTED BY HASH (a) INTO 4;")
    want = [("PartitionedBy", ["d"]), ("DistributedBy", ["HashDistribution", "NumberLiteral"])]
    assert clauses(inside) == want
    assert clauses(after) == want
    assert clauses("CREATE TABLE T (a int, INDEX ix CLUSTERED (a) DISTRIBUTED BY ROUND ROBIN);") == \
        [("DistributedBy", ["RoundRobinDistribution"])]
