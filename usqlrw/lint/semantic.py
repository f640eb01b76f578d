"""Semantic rules: what the U-SQL compiler rejects (or a reviewer would) in a script that parses.

One pass over the statements in order, with a scope per script and per routine body (CREATE
FUNCTION/PROCEDURE/PACKAGE bodies see their parameters, not the script's variables). IF branches
are analysed separately and what they assign is known after the IF.
"""
from __future__ import annotations

from .. import ast as A
from .context import children, iter_nodes
from .registry import rule

_RESULT = "_semantic_result"
_DeclareFunction = getattr(A, "DeclareFunction", ())   # script-bound objects, newer grammars
_DeclareAssembly = getattr(A, "DeclareAssembly", ())


class _Scope:
    def __init__(self, assigned_later: dict, declared_later: dict, outputs=()):
        self.scalars: dict = {}       # name -> Variable node where declared
        self.rowsets: dict = {}       # name -> Variable node where assigned
        self.params: set = set()
        self.outputs = set(outputs)   # RETURNS rowsets of a function: assigned in the body
        self.widths: dict = {}        # rowset name -> number of columns, when known
        self.used: set = set()
        self.read_since: dict = {}    # rowset name -> read since its last assignment
        self.imports = False
        self.assigned_later = assigned_later
        self.declared_later = declared_later
        self.unused_ok: set = set()   # DECLARE EXTERNAL and the like

    def branch(self) -> "_Scope":
        s = _Scope(self.assigned_later, self.declared_later, self.outputs)
        s.scalars, s.rowsets, s.params = dict(self.scalars), dict(self.rowsets), set(self.params)
        s.widths, s.imports, s.unused_ok = dict(self.widths), self.imports, self.unused_ok
        s.used = self.used   # shared: a use in a branch is a use
        s.read_since = self.read_since
        return s


def _assignments(stmts) -> tuple[dict, dict]:
    """Rowset names assigned and scalar names declared anywhere in a block (not in routine bodies)."""
    rows, scal = {}, {}
    stack = list(reversed(stmts))
    while stack:
        s = stack.pop()
        if isinstance(s, A.RowsetAssignment):
            for t in s.targets:
                rows.setdefault(t.name, t)
        elif isinstance(s, (A.Declare, _DeclareFunction, _DeclareAssembly)):
            scal.setdefault(s.variable.name, s.variable)
        elif isinstance(s, A.If):
            for b in s.branches:
                stack.extend(reversed(b.statements))
            if s.otherwise is not None:
                stack.extend(reversed(s.otherwise.statements))
    return rows, scal


class _Analysis:
    def __init__(self, ctx):
        self.ctx = ctx
        self.out: list = []
        self.tables: dict = {}    # table name parts -> number of columns, from CREATE TABLE in this script

    def report(self, where, code, msg):
        self.out.append(self.ctx.diag(where, code, msg))

    # -- blocks -----------------------------------------------------------------------------

    def block(self, stmts, scope: _Scope, top: bool):
        for s in stmts:
            self.statement(s, scope)
        if top:
            self.unused(scope)

    def unused(self, scope: _Scope):
        for name, var in scope.rowsets.items():
            if name not in scope.used and name not in scope.outputs:
                self.report(var, "SEM007", f"rowset {name} is assigned but never used")
        for name, var in scope.scalars.items():
            if name not in scope.used and name not in scope.unused_ok:
                self.report(var, "SEM008", f"variable {name} is declared but never used")

    def statement(self, s, scope: _Scope):
        if isinstance(s, A.Declare):
            self.uses(s.value, scope)
            # DECLARE EXTERNAL gives a default that an earlier DECLARE overrides (how a submission
            # passes parameters, declare-variables-u-sql.md): not a second declaration.
            if not (s.external and s.variable.name in scope.scalars):
                self.define_scalar(s.variable, scope)
            if s.external:
                scope.unused_ok.add(s.variable.name)
        elif isinstance(s, A.RowsetAssignment):
            self.uses(s.query, scope)
            if s.option is not None:
                self.uses(s.option, scope)
            w = self.width(s.query, scope) if len(s.targets) == 1 else None
            for t in s.targets:
                self.define_rowset(t, scope, w)
        elif isinstance(s, A.Output):
            r = s.rowset
            if isinstance(r, A.RowsetRef):
                self.output_rowset(r.variable, scope)
            else:
                self.uses(r, scope)
            for part in (s.target, s.expiration, s.order_by, s.offset_fetch, s.using):
                if part is not None:
                    self.uses(part, scope)
        elif isinstance(s, A.Insert):
            for part in children(s):
                self.uses(part, scope)
            self.insert_width(s, scope)
        elif isinstance(s, A.If):
            branches = []
            for br in s.branches:
                self.uses(br.condition, scope)
                b = scope.branch()
                self.block(br.statements, b, top=False)
                branches.append(b)
            b = scope.branch()
            self.block(s.otherwise.statements if s.otherwise is not None else (), b, top=False)
            branches.append(b)
            for b in branches:
                for k, v in b.rowsets.items():
                    scope.rowsets.setdefault(k, v)
                    scope.widths.setdefault(k, b.widths.get(k))
                for k, v in b.scalars.items():
                    scope.scalars.setdefault(k, v)
                scope.imports |= b.imports
        elif isinstance(s, A.Routine):
            self.routine(s)
        elif isinstance(s, _DeclareFunction):
            self.define_scalar(s.variable, scope)
            self.routine(s)
        elif isinstance(s, _DeclareAssembly):
            for c in (s.source,) + s.additional_files:
                self.uses(c, scope)
            self.define_scalar(s.variable, scope)
        elif isinstance(s, A.CreateTable):
            cols = s.columns
            if cols:
                pcols = len(s.partitioned_by.columns) if s.partitioned_by is not None else 0
                self.tables[s.table.names] = (len(cols), pcols)
            self.uses_all(s, scope)
        else:
            if isinstance(s, A.ImportPackage):
                self.uses_all(s, scope)
                scope.imports = True
            elif isinstance(s, A.ExportVariable):
                self.uses(s.value, scope)
                self.define_scalar(s.variable, scope)
                scope.unused_ok.add(s.variable.name)
            elif isinstance(s, A.SetOption):
                self.uses(s.value, scope)
            else:
                self.uses_all(s, scope)

    def routine(self, r: A.Routine):
        outputs = []
        if r.returns is not None:
            outputs = [rr.variable.name for rr in r.returns.rowsets]
        later_r, later_s = _assignments(r.body)
        scope = _Scope(later_r, later_s, outputs)
        for p in r.params:
            scope.params.add(p.variable.name)
            if p.default is not None:
                self.uses(p.default, scope)
        self.block(r.body, scope, top=True)

    # -- definitions and uses ---------------------------------------------------------------

    def define_scalar(self, var: A.Variable, scope: _Scope):
        if var.system:
            return
        first = scope.scalars.get(var.name) or scope.rowsets.get(var.name)
        if first is not None:
            self.report(var, "SEM006", f"variable {var.name} is already declared (line {first.span.line})")
            return
        scope.scalars[var.name] = var

    def define_rowset(self, var: A.Variable, scope: _Scope, width):
        first = scope.rowsets.get(var.name)
        if first is not None:
            # U-SQL lets a name be reassigned (@t = SELECT ... FROM @t); a value nobody read is lost.
            if not scope.read_since.get(var.name):
                self.report(var, "SEM002", f"rowset {var.name} is assigned again before its value from "
                            f"line {first.span.line} is used")
            scope.rowsets[var.name] = var
            scope.read_since[var.name] = False
        elif var.name in scope.scalars:
            self.report(var, "SEM002", f"{var.name} is already declared as a scalar variable "
                        f"(line {scope.scalars[var.name].span.line}); a rowset needs a name of its own")
        elif var.name in scope.params:
            self.report(var, "SEM002", f"{var.name} is a parameter; assign the rowset to a new name")
        else:
            scope.rowsets[var.name] = var
            scope.read_since[var.name] = False
        scope.widths[var.name] = width

    def output_rowset(self, var: A.Variable, scope: _Scope):
        name = var.name
        if name in scope.rowsets or name in scope.params:
            scope.used.add(name)
            scope.read_since[name] = True
        elif name in scope.scalars:
            self.report(var, "SEM005", f"OUTPUT of {name}, which is a scalar variable, not a rowset")
        elif name in scope.assigned_later:
            self.report(var, "SEM005", f"OUTPUT of rowset {name} before it is assigned "
                        f"(line {scope.assigned_later[name].span.line})")
        else:
            self.report(var, "SEM005", f"OUTPUT of rowset {name}, which is never assigned")

    def rowset_use(self, var: A.Variable, scope: _Scope):
        name = var.name
        if name in scope.rowsets or name in scope.params:
            scope.used.add(name)
            scope.read_since[name] = True
        elif name in scope.outputs:
            self.report(var, "SEM001", f"rowset {name} is read before it is assigned")
        elif name in scope.scalars:
            scope.used.add(name)
            self.report(var, "SEM001", f"{name} is a scalar variable, not a rowset")
        elif name in scope.assigned_later:
            self.report(var, "SEM001", f"rowset {name} is used before it is assigned "
                        f"(line {scope.assigned_later[name].span.line})")
        elif not scope.imports:
            self.report(var, "SEM001", f"rowset {name} is never assigned")

    def scalar_use(self, var: A.Variable, scope: _Scope):
        name = var.name
        if name in scope.scalars or name in scope.rowsets or name in scope.params:
            scope.used.add(name)
            scope.read_since[name] = True
        elif name in scope.assigned_later:
            self.report(var, "SEM001", f"rowset {name} is used before it is assigned "
                        f"(line {scope.assigned_later[name].span.line})")
        elif name in scope.declared_later:
            scope.used.add(name)   # one finding is enough: not "unused" as well
            self.report(var, "SEM003", f"variable {name} is used before it is declared "
                        f"(line {scope.declared_later[name].span.line})")
        elif not scope.imports:
            self.report(var, "SEM003", f"variable {name} is used but never declared")

    def uses_all(self, s, scope):
        for c in children(s):
            self.uses(c, scope)

    def uses(self, node, scope: _Scope):
        if node is None:
            return
        skip = set()
        for n in iter_nodes(node):
            if isinstance(n, A.RowsetRef):
                skip.add(id(n.variable))
                self.rowset_use(n.variable, scope)
            elif isinstance(n, A.Variable):
                if id(n) not in skip and not n.system:
                    self.scalar_use(n, scope)
            elif isinstance(n, A.ColumnRef):   # @rowset.column in READONLY/REQUIRED lists
                if isinstance(n.qualifier, A.Variable):
                    skip.add(id(n.qualifier))
            elif isinstance(n, A.MemberAccess) and isinstance(n.member, A.Variable):
                skip.add(id(n.member))     # pkg.@f: a package's export, not this script's variable

    # -- column counts ----------------------------------------------------------------------

    def width(self, q, scope: _Scope):
        """Number of columns a query produces, or None when it cannot be told from the script."""
        while q is not None:
            if isinstance(q, (A.OrderedQuery, A.ParenQuery, A.Subquery, A.Sample)):
                q = q.query
                continue
            if isinstance(q, A.SetOperation):
                if q.operator.by_name is not None:
                    return None   # BY NAME matches columns by name, not position
                wl, wr = self.width(q.left, scope), self.width(q.right, scope)
                if wl is not None and wr is not None and wl != wr:
                    op = " ".join(k.text for k in (q.operator.operator, q.operator.quantifier) if k is not None)
                    self.report(q.operator, "SEM009", f"the two sides of {op} have {wl} and {wr} columns")
                    return None
                return wl if wl is not None else wr
            if isinstance(q, A.Select):
                return self._select_width(q, scope)
            if isinstance(q, A.Values):
                return len(q.rows[0].values) if q.rows else None
            if isinstance(q, A.Extract):
                if any(isinstance(c, A.TableTypeColumns) for c in q.columns):
                    return None
                return len(q.columns) or None
            if isinstance(q, (A.Process, A.Reduce, A.Combine)):
                prod = q.produce
                cols = [c for c in prod.columns if isinstance(c, A.ColumnDefinition)] if prod else []
                return len(cols) or None
            return None
        return None

    def _select_width(self, q: A.Select, scope: _Scope):
        n = 0
        for item in q.items:
            if isinstance(item, A.Star):
                src = q.from_.source if q.from_ is not None else None
                if isinstance(src, A.RowsetRef) and scope.widths.get(src.variable.name) is not None:
                    n += scope.widths[src.variable.name]
                else:
                    return None
            elif isinstance(item, A.QualifiedStar):
                return None
            else:
                n += 1
        return n

    def insert_width(self, s: A.Insert, scope: _Scope):
        src = s.source
        if src is None:
            return
        if s.columns:
            want, what = len(s.columns), f"INSERT names {len(s.columns)} column{'s' if len(s.columns) != 1 else ''}"
        else:
            want = None
            for names, (w, pcols) in self.tables.items():
                a, b = names, s.table.names
                if a[-len(b):] == b or b[-len(a):] == a:
                    if s.partition is not None:   # a static PARTITION label supplies the partition columns
                        w -= pcols
                    want, what = w, f"table {'.'.join(b)} takes {w} column{'s' if w != 1 else ''}"
                    break
            if want is None:
                return
        q = src
        while isinstance(q, (A.OrderedQuery, A.ParenQuery)):
            q = q.query
        if isinstance(q, A.Values):
            for row in q.rows:
                if len(row.values) != want:
                    self.report(row, "SEM004", f"{what} but this VALUES row has {len(row.values)}")
                    return
            return
        got = self.width(src, scope)
        if got is not None and got != want:
            self.report(src, "SEM004", f"{what} but its source produces {got}")


def _result(ctx) -> list:
    res = getattr(ctx, _RESULT, None)
    if res is None:
        an = _Analysis(ctx)
        later_r, later_s = _assignments(ctx.script.statements)
        an.block(ctx.script.statements, _Scope(later_r, later_s), top=True)
        an.out += _duplicate_columns(ctx)
        an.out += _duplicate_outputs(ctx)
        res = an.out
        setattr(ctx, _RESULT, res)
    return res


def _only(code):
    def check(ctx):
        return [d for d in _result(ctx) if d.code == code]
    return check


def _column_name(item):
    if isinstance(item, A.AliasedItem):
        return item.alias.name
    if isinstance(item, A.Name):
        return item.ident.name
    if isinstance(item, A.MemberAccess) and isinstance(item.member, A.Identifier):
        return item.member.name
    return None


def _duplicate_outputs(ctx) -> list:
    """OUTPUT to the same statically known file twice in one statement list (IF branches apart)."""
    from .context import block_statements
    out, blocks = [], [ctx.script.statements]
    while blocks:
        seen = {}
        for s in blocks.pop():
            blocks.extend(block_statements(s))
            if not isinstance(s, A.Output):
                continue
            path = ctx.fold(s.target)
            if path is None or "{" in path:
                continue
            if path in seen:
                out.append(ctx.diag(s.target, "SEM011", f"OUTPUT to {path} again (first at line "
                                    f"{seen[path].span.line}); a script can write a file only once"))
            else:
                seen[path] = s
    return out


def _duplicate_columns(ctx) -> list:
    out = []
    for n in ctx.nodes:
        if isinstance(n, A.Select):
            named = [(c, _column_name(c)) for c in n.items]
            what = "the SELECT list"
        else:
            named = [(c, c.name.name) for c in n.children() if isinstance(c, A.ColumnDefinition)]
            what = "this column list"
        seen = {}
        for node, name in named:
            if name is None:
                continue
            if name in seen:
                out.append(ctx.diag(node, "SEM010", f"column {name} appears twice in {what} "
                                    f"(first at line {seen[name].span.line}, column {seen[name].span.column})"))
            else:
                seen[name] = node
    return out


# -- the rules ------------------------------------------------------------------------------

def _rule(code, name, summary, explanation, bad, good, severity="error"):
    rule(code, name, summary, explanation=explanation, bad=bad, good=good, severity=severity)(_only(code))


_rule("SEM001", "rowset-used-before-assignment", "a rowset variable is read before it is assigned",
      """
      A query reads a rowset variable (FROM @x, a join, PROCESS/REDUCE/COMBINE input, a TVF argument)
      that has not been assigned yet at that point of the script, or is never assigned at all. U-SQL
      compiles a script top to bottom, so the job fails to compile. Inside CREATE FUNCTION and
      CREATE PROCEDURE bodies only the parameters and the body's own assignments are visible.
      """, """
      @result = SELECT * FROM @input;
      @input = EXTRACT id int FROM "/in.csv" USING Extractors.Csv();
      OUTPUT @result TO "/out.csv" USING Outputters.Csv();
      """, """
      @input = EXTRACT id int FROM "/in.csv" USING Extractors.Csv();
      @result = SELECT * FROM @input;
      OUTPUT @result TO "/out.csv" USING Outputters.Csv();
      """)

_rule("SEM002", "rowset-assigned-twice", "a rowset variable is assigned again before its value is used",
      """
      A rowset variable is assigned a second time while nothing has read its first value, so the
      first query is lost (U-SQL lets a name be reassigned, as in @t = SELECT ... FROM @t, which
      reads the old value first and is not reported). Also reported: a rowset assigned to the name
      of a DECLAREd variable or of a parameter, which the compiler rejects. Assignments in different
      branches of an IF are not counted twice.
      """, """
      @rows = EXTRACT id int FROM "/2024/in.csv" USING Extractors.Csv();
      @rows = EXTRACT id int FROM "/2025/in.csv" USING Extractors.Csv();
      OUTPUT @rows TO "/out.csv" USING Outputters.Csv();
      """, """
      @rows2024 = EXTRACT id int FROM "/2024/in.csv" USING Extractors.Csv();
      @rows2025 = EXTRACT id int FROM "/2025/in.csv" USING Extractors.Csv();
      @rows = SELECT * FROM @rows2024 UNION ALL SELECT * FROM @rows2025;
      OUTPUT @rows TO "/out.csv" USING Outputters.Csv();
      """)

_rule("SEM003", "undeclared-variable", "a scalar variable is used but never declared",
      """
      An expression uses @name, but no DECLARE (or parameter) defines it before that point. The U-SQL
      compiler rejects the script. Typos in variable names are the usual cause; a variable a job
      submission passes in must still be declared, with DECLARE EXTERNAL and a default. Scripts that
      IMPORT PACKAGE are not checked after the import, since the package may export the variable.
      """, """
      @rows = EXTRACT id int FROM @inputPath USING Extractors.Csv();
      OUTPUT @rows TO "/out.csv" USING Outputters.Csv();
      """, """
      DECLARE EXTERNAL @inputPath string = "/in.csv";
      @rows = EXTRACT id int FROM @inputPath USING Extractors.Csv();
      OUTPUT @rows TO "/out.csv" USING Outputters.Csv();
      """)

_rule("SEM004", "insert-column-count", "an INSERT's column list and its source differ in length",
      """
      INSERT INTO t (a, b, c) needs a source with exactly three columns; without a column list the
      source must match the table's columns (checked when the table is created in the same script).
      The counts are taken from SELECT lists, VALUES rows, EXTRACT and PRODUCE schemas and from
      rowset variables whose columns are known; when a count cannot be told (SELECT * from a table,
      a TVF) nothing is reported.
      """, """
      INSERT INTO Sales.dbo.Orders (OrderId, Amount, Region)
      SELECT OrderId, Amount FROM @orders;
      """, """
      INSERT INTO Sales.dbo.Orders (OrderId, Amount, Region)
      SELECT OrderId, Amount, Region FROM @orders;
      """)

_rule("SEM005", "output-undefined-rowset", "OUTPUT of a rowset that is not defined",
      """
      OUTPUT @x writes a rowset variable that has not been assigned at that point (or at all), or
      names a scalar variable. The job fails to compile, and nothing is written.
      """, """
      @totals = SELECT Region, SUM(Amount) AS Total FROM @orders GROUP BY Region;
      OUTPUT @total TO "/out/totals.csv" USING Outputters.Csv();
      """, """
      @totals = SELECT Region, SUM(Amount) AS Total FROM @orders GROUP BY Region;
      OUTPUT @totals TO "/out/totals.csv" USING Outputters.Csv();
      """)

_rule("SEM006", "variable-declared-twice", "a variable is declared more than once",
      """
      DECLARE of a name that is already declared (or used for a rowset) is a compile error in U-SQL;
      variables are constants once declared.
      """, """
      DECLARE @root string = "/data/";
      DECLARE @root string = "/archive/";
      """, """
      DECLARE @root string = "/data/";
      DECLARE @archive string = "/archive/";
      """)

_rule("SEM007", "unused-rowset", "a rowset is assigned but never used",
      """
      The rowset is computed by nothing: no OUTPUT, INSERT or later query reads it. U-SQL drops it
      from the plan, which usually means the script does not do what its author meant (a wrong name
      in a later statement, or a forgotten OUTPUT). A function's RETURNS rowset is not reported.
      """, """
      @orders = EXTRACT id int, amount decimal FROM "/in.csv" USING Extractors.Csv();
      @big = SELECT id FROM @orders WHERE amount > 100;
      OUTPUT @orders TO "/out.csv" USING Outputters.Csv();
      """, """
      @orders = EXTRACT id int, amount decimal FROM "/in.csv" USING Extractors.Csv();
      @big = SELECT id FROM @orders WHERE amount > 100;
      OUTPUT @big TO "/out.csv" USING Outputters.Csv();
      """, severity="warning")

_rule("SEM008", "unused-variable", "a DECLAREd variable is never used",
      """
      A DECLARE whose variable no statement reads is dead code, often a leftover path that a reader
      (or a failover rewrite) will take for a live one. DECLARE EXTERNAL parameters are not reported:
      a job submission may pass them whether or not this version of the script uses them.
      """, """
      DECLARE @oldRoot string = "/data/v1/";
      @rows = EXTRACT id int FROM "/data/v2/in.csv" USING Extractors.Csv();
      OUTPUT @rows TO "/out.csv" USING Outputters.Csv();
      """, """
      @rows = EXTRACT id int FROM "/data/v2/in.csv" USING Extractors.Csv();
      OUTPUT @rows TO "/out.csv" USING Outputters.Csv();
      """, severity="warning")

_rule("SEM009", "set-operation-column-count", "the sides of UNION/EXCEPT/INTERSECT differ in column count",
      """
      UNION, EXCEPT and INTERSECT (without BY NAME) need the same number of columns on both sides;
      the compiler rejects the script otherwise.
      """, """
      @all = SELECT id, name FROM @a UNION ALL SELECT id FROM @b;
      """, """
      @all = SELECT id, name FROM @a UNION ALL SELECT id, name FROM @b;
      """)

_rule("SEM010", "duplicate-column", "a column name appears twice in one schema or SELECT list",
      """
      Column names in an EXTRACT, PRODUCE, CREATE TABLE or table type schema, and the output names of
      a SELECT list, must be unique (U-SQL names are case-sensitive). Alias one of them.
      """, """
      @j = SELECT a.id, b.id FROM @a AS a JOIN @b AS b ON a.id == b.id;
      """, """
      @j = SELECT a.id, b.id AS other_id FROM @a AS a JOIN @b AS b ON a.id == b.id;
      """)

_rule("SEM011", "duplicate-output", "two OUTPUT statements write the same file",
      """
      A U-SQL script can write each file once: a second OUTPUT to the same path (as written, or
      built from DECLARE constants) makes the compiler reject the script. Usually one of the two
      paths is a copy-and-paste mistake; otherwise UNION the rowsets and write them once.
      """, """
      OUTPUT @north TO "/out/regions.csv" USING Outputters.Csv();
      OUTPUT @south TO "/out/regions.csv" USING Outputters.Csv();
      """, """
      @regions = SELECT * FROM @north UNION ALL SELECT * FROM @south;
      OUTPUT @regions TO "/out/regions.csv" USING Outputters.Csv();
      """)
