"""U-SQL types as the engine sees them, and the C# typing rules it infers expressions with."""
from __future__ import annotations

from dataclasses import dataclass

from .. import ast as A
from .errors import CannotRun

__all__ = ["UType", "from_ast", "from_text", "numeric_result", "STRING", "BOOL", "INT", "LONG",
           "DOUBLE", "DECIMAL", "DATETIME", "NULL"]

# C# name -> canonical name
_ALIASES = {
    "int": "int", "Int32": "int", "System.Int32": "int",
    "long": "long", "Int64": "long", "System.Int64": "long",
    "short": "short", "Int16": "short", "System.Int16": "short",
    "byte": "byte", "Byte": "byte", "System.Byte": "byte",
    "sbyte": "sbyte", "SByte": "sbyte",
    "uint": "uint", "UInt32": "uint", "ulong": "ulong", "UInt64": "ulong", "ushort": "ushort", "UInt16": "ushort",
    "float": "float", "Single": "float", "System.Single": "float",
    "double": "double", "Double": "double", "System.Double": "double",
    "decimal": "decimal", "Decimal": "decimal", "System.Decimal": "decimal",
    "bool": "bool", "Boolean": "bool", "System.Boolean": "bool",
    "string": "string", "String": "string", "System.String": "string",
    "char": "char", "Char": "char", "System.Char": "char",
    "DateTime": "DateTime", "System.DateTime": "DateTime",
    "Guid": "Guid", "System.Guid": "Guid",
    "SQL.ARRAY": "array", "SqlArray": "array", "SQL.MAP": "map", "SqlMap": "map",
}
_DUCK = {"int": "INTEGER", "long": "BIGINT", "short": "SMALLINT", "byte": "TINYINT UNSIGNED", "sbyte": "TINYINT",
         "uint": "INT UNSIGNED", "ulong": "BIGINT UNSIGNED", "ushort": "SMALLINT UNSIGNED", "float": "FLOAT", "double": "DOUBLE",
         "decimal": "DECIMAL(38,10)", "bool": "BOOLEAN", "string": "VARCHAR", "char": "VARCHAR",
         "DateTime": "TIMESTAMP", "Guid": "UUID", "null": "VARCHAR", "TimeSpan": "BIGINT"}
# implicit numeric widening order (C# binary numeric promotion)
_RANK = {"byte": 0, "sbyte": 0, "short": 0, "ushort": 0, "char": 0, "int": 1, "uint": 2, "long": 3,
         "ulong": 4, "float": 5, "double": 6, "decimal": 7}
INTEGRAL = frozenset({"byte", "sbyte", "short", "ushort", "int", "uint", "long", "ulong"})
NUMERIC = INTEGRAL | {"float", "double", "decimal"}


@dataclass(frozen=True)
class UType:
    name: str
    nullable: bool = False
    args: tuple = ()

    @property
    def is_string(self) -> bool:
        return self.name == "string"

    @property
    def is_numeric(self) -> bool:
        return self.name in NUMERIC

    @property
    def is_integral(self) -> bool:
        return self.name in INTEGRAL

    @property
    def may_be_null(self) -> bool:
        """C# null is possible: nullable value types, and every reference type."""
        return self.nullable or self.name in ("string", "array", "map", "null", "byte[]")

    def null(self, nullable: bool = True) -> "UType":
        return UType(self.name, nullable, self.args)

    def sql(self) -> str:
        """The DuckDB type name."""
        if self.name == "array":
            return f"{self.args[0].sql()}[]"
        if self.name == "map":
            return f"MAP({self.args[0].sql()}, {self.args[1].sql()})"
        if self.name == "byte[]":
            return "BLOB"
        return _DUCK[self.name]

    def __str__(self) -> str:
        if self.name == "array":
            return f"SQL.ARRAY<{self.args[0]}>"
        if self.name == "map":
            return f"SQL.MAP<{self.args[0]},{self.args[1]}>"
        return self.name + ("?" if self.nullable and self.name not in ("string", "byte[]") else "")


STRING = UType("string")
BOOL = UType("bool")
INT = UType("int")
LONG = UType("long")
DOUBLE = UType("double")
DECIMAL = UType("decimal")
DATETIME = UType("DateTime")
NULL = UType("null", True)


def from_ast(t: A.Type) -> UType:
    """The UType of a type written in the script; user types fail with CannotRun."""
    if t.array_rank:
        if t.name in ("byte", "Byte") and t.array_rank == 1:
            return UType("byte[]", True)
        raise CannotRun(f"type {t.text} is not supported by the engine", t)
    name = _ALIASES.get(t.name)
    if name is None:
        raise CannotRun(f"type {t.text} is not a built-in U-SQL type", t)
    if name in ("array", "map"):
        args = tuple(from_ast(a) for a in t.args)
        if len(args) != (1 if name == "array" else 2):
            raise CannotRun(f"type {t.text} needs {'one type argument' if name == 'array' else 'two type arguments'}", t)
        return UType(name, True, args)
    return UType(name, t.nullable)


def from_text(text: str) -> UType:
    """A UType from its str() (as stored in the catalog)."""
    import usqlrw
    script = usqlrw.parse(f"DECLARE @t {text} = default({text});")
    return from_ast(script.statements[0].type)


def numeric_result(a: UType, b: UType) -> UType:
    """The type of ``a op b`` for arithmetic (C# binary numeric promotion, lifted to nullable)."""
    nullable = a.nullable or b.nullable or a.name == "null" or b.name == "null"
    if a.name == "null":
        return b.null()
    if b.name == "null":
        return a.null()
    ra, rb = _RANK.get(a.name, 1), _RANK.get(b.name, 1)
    name = a.name if ra >= rb else b.name
    if _RANK.get(name, 1) <= 1:
        name = "int"
    return UType(name, nullable)
