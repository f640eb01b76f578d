"""U-SQL reserves its upper-case keywords: as names they must be quoted ([FROM])."""
import pytest

import usqlrw
from usqlrw.builder import reserved_words


@pytest.mark.parametrize("src, line, col, word", [
    ("@a = SELECT FROM;", 1, 13, "FROM"),
    ("@a = SELECT a FROM @t WHERE SELECT;", 1, 29, "SELECT"),
    ("USE DATABASE FROM;", 1, 14, "FROM"),
    ("@a = SELECT a AS FROM FROM @t;", 1, 18, "FROM"),
    ("@a = SELECT a\n    FROM dbo.TABLE;", 2, 14, "TABLE"),
    ("@a = SELECT VIEW FROM @t;", 1, 13, "VIEW"),
    ("@a = SELECT IN FROM @t;", 1, 13, "IN"),
])
def test_reserved_words_as_names_are_errors(src, line, col, word):
    with pytest.raises(usqlrw.USqlSyntaxError) as e:
        usqlrw.parse(src)
    assert (e.value.line, e.value.column) == (line, col)
    assert e.value.message == f"{word} is a reserved keyword here; to use it as a name, quote it: [{word}]"


def test_quoted_member_and_non_keyword_words_are_names():
    s = usqlrw.parse("@a = SELECT [FROM], t.WHERE, SELECTED, FROM_DATE, ID, COUNT(*) AS n, "
                     "FILE.EXISTS(\"/x\") AS e, PARTITION.EXISTS(T, 1) AS p FROM @t AS t;")
    assert s.statements[0].kind == "RowsetAssignment"


def test_the_reserved_list_follows_the_reference():
    r = reserved_words()
    assert {"SELECT", "FROM", "PARTITION", "AS", "BY", "DO", "IF", "IN", "IS", "ON", "OR", "TO"} <= r
    assert "ROW_NUMBER" not in r and "REMOTABLE_TYPES" not in r   # an underscore: not reserved
    assert all(w.isupper() and w.isalpha() for w in r)
