"""The rule registry: stable codes, names, summaries, explanations and the check functions.

A rule is a function ``check(ctx) -> iterable of Diagnostic`` registered with :func:`rule`. Codes
never change meaning once released; a renamed rule keeps its old code as an alias.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

FAMILIES = {
    "SEM": ("usqlrw.lint.semantic", "semantic errors the U-SQL compiler reports but a parse does not see"),
    "DR": ("usqlrw.lint.dr", "disaster-recovery readiness: what breaks a failover to the secondary region"),
}


@dataclass(frozen=True)
class Rule:
    code: str
    name: str                 # kebab-case, also accepted by --select/--ignore
    summary: str              # one line
    explanation: str          # paragraphs
    bad: str                  # an example that triggers the rule
    good: str                 # the same example, fixed
    check: Callable | None = field(default=None, compare=False, repr=False)
    severity: str = "error"   # error | warning
    needs_config: bool = False  # skipped unless a DR config is given
    aliases: tuple = ()
    selectable: bool = True   # False for the built-in codes (syntax errors and the like)

    @property
    def family(self) -> str:
        return self.code.rstrip("0123456789")

    def explain(self) -> str:
        """The long text of ``usqlrw rules CODE``."""
        lines = [f"{self.code} ({self.name}): {self.summary}", ""]
        import textwrap
        paras = [textwrap.fill(" ".join(p.split()), 96)
                 for p in textwrap.dedent(self.explanation).strip().split("\n\n") if p.strip()]
        if paras:
            lines += "\n\n".join(paras).split("\n") + [""]
        facts = [f"Severity: {self.severity}."]
        if self.needs_config:
            facts.append("Runs only with a DR config (--dr-config, or dr-config in [tool.usqlrw]).")
        if self.aliases:
            facts.append(f"Also known as: {', '.join(self.aliases)}.")
        lines.append(" ".join(facts))
        if self.bad:
            lines += ["", "Bad:", "", textwrap.indent(textwrap.dedent(self.bad).strip("\n"), "    ")]
        if self.good:
            lines += ["", "Good:", "", textwrap.indent(textwrap.dedent(self.good).strip("\n"), "    ")]
        if self.selectable:
            lines += ["", f"Silence it on one line or the next statement with: // usqlrw: ignore[{self.code}]"]
        return "\n".join(lines)


RULES: dict[str, Rule] = {}
_loaded = False


def rule(code: str, name: str, summary: str, *, explanation: str = "", bad: str = "", good: str = "",
         severity: str = "error", needs_config: bool = False, aliases: tuple = ()):
    """Register the decorated function as rule ``code``; the explanation defaults to its docstring."""
    def deco(fn):
        if code in RULES:
            raise ValueError(f"rule code {code} registered twice")
        RULES[code] = Rule(code, name, summary, explanation or fn.__doc__ or "", bad, good, fn, severity,
                           needs_config, aliases)
        return fn
    return deco


# Codes that come from usqlrw itself rather than from a rule; listed and explained, never selected.
BUILTIN = [
    Rule("PRS", "syntax-error", "the script is not valid U-SQL",
         "The parser stopped here. Nothing else is checked in a file that does not parse: fix this first. "
         "The message says what was found and what would have been valid at that point.",
         'OUTPUT @r TO "/out.csv" USING Outputters.Csv()', 'OUTPUT @r TO "/out.csv" USING Outputters.Csv();',
         selectable=False),
    Rule("ENC", "unreadable-text", "the file is not text usqlrw can read",
         "Scripts are UTF-8 (with or without a byte order mark) or UTF-16/UTF-32 with a byte order mark. "
         "Binary files and other encodings are reported rather than guessed at.", "", "", selectable=False),
    Rule("IO", "unreadable-file", "the file could not be read",
         "The path does not exist, is not a file, or cannot be opened.", "", "", selectable=False),
    Rule("INT", "internal-error", "usqlrw failed on this file",
         "A bug in usqlrw. The rest of the batch is still checked; please report the file.", "", "",
         selectable=False),
    # What `usqlrw rewrite` (and `failover plan`, `submit --dr-config`) reports about a script.
    Rule("RW001", "location-not-rewritable", "rewrite: a location cannot be moved to the secondary safely",
         "The location's deciding part (its account or its start) is computed when the job runs (a "
         "function call, a parameter, a variable assigned from an expression), or the DR config gives "
         "no safe replacement for it. usqlrw does not guess: the script is rewritten without it, and "
         "this warning says which location to check by hand. Build the location from a DECLARE constant "
         "or a DECLARE EXTERNAL parameter set per region.",
         'DECLARE @root string = MyUdf.Root();\n@r = EXTRACT a string FROM @root + "/in.csv" USING Extractors.Csv();',
         'DECLARE EXTERNAL @root string = "/data";\n@r = EXTRACT a string FROM @root + "/in.csv" USING Extractors.Csv();',
         severity="warning", selectable=False),
    Rule("RW002", "location-split-across-strings", "rewrite: the part to change spans several strings",
         "The account or prefix the DR config changes is split over several string literals of a "
         "concatenation, so no single string can be edited. Join the parts that make up the account "
         "into one string, or rewrite the location by hand.",
         '@r = EXTRACT a string FROM "adl://contoso" + "prod.azuredatalakestore.net/in.csv" USING Extractors.Csv();',
         '@r = EXTRACT a string FROM "adl://contosoprod.azuredatalakestore.net/in.csv" USING Extractors.Csv();',
         severity="warning", selectable=False),
    Rule("RW003", "location-in-row-data", "rewrite: a string that looks like a primary location is row data",
         "A string holds an absolute location of a store the DR config maps, but it only meets row data "
         "(it is compared in WHERE, projected in SELECT, stored in a column): it is not a place the job "
         "reads or writes, so the rewrite leaves it as written. If it is a location after all (a value "
         "a UDO reads from a column, say), rewrite that data or pass the location as a parameter.",
         '@r = SELECT * FROM @files WHERE uri == "adl://contosoprod.azuredatalakestore.net/in.csv";',
         '@r = SELECT * FROM @files WHERE uri.EndsWith("/in.csv");',
         severity="warning", selectable=False),
    Rule("RW900", "rewrite-refused", "rewrite: the script was left unchanged",
         "The rewrite would have made two overlapping edits, or a script that no longer parses, so "
         "nothing was written for this file (the rest of the batch goes on). Please report the file: "
         "this is a limit of usqlrw, not an error in the script.", "", "", selectable=False),
    Rule("SUP001", "unknown-suppression", "a suppression comment names a code that is not a rule",
         "An `// usqlrw: ignore[...]` comment names a code usqlrw does not know, so it silences nothing. "
         "It is usually a typo; `usqlrw rules` lists the codes.",
         "// usqlrw: ignore[DR01]\nDECLARE @p string = \"adl://contosoprod.azuredatalakestore.net/x\";",
         "// usqlrw: ignore[DR001]\nDECLARE @p string = \"adl://contosoprod.azuredatalakestore.net/x\";",
         severity="warning"),
    Rule("SUP002", "unused-suppression", "a suppression comment silences nothing",
         "An `// usqlrw: ignore[...]` comment names rules that ran and found nothing where it applies, "
         "usually because the code it was written for has been fixed or moved. Remove it, so that it "
         "does not hide a new finding later. Suppressions of rules that did not run (deselected, or "
         "needing a DR config that was not given) are not reported.",
         "DECLARE @p string = \"/data/\"; // usqlrw: ignore[DR001]",
         "DECLARE @p string = \"/data/\";", severity="warning"),
]


def _load() -> None:
    global _loaded
    if not _loaded:
        for mod, _ in FAMILIES.values():
            importlib.import_module(mod)
        for r in BUILTIN:
            RULES.setdefault(r.code, r)
        _loaded = True


def all_rules() -> list[Rule]:
    """Every selectable rule, in code order."""
    _load()
    return sorted((r for r in RULES.values() if r.selectable), key=lambda r: r.code)


def listed_rules() -> list[Rule]:
    """Everything ``usqlrw rules`` lists: the rules and the built-in codes."""
    _load()
    return sorted(RULES.values(), key=lambda r: (not r.selectable, r.code))


def get_rule(code_or_name: str) -> Rule | None:
    _load()
    key = code_or_name.strip()
    r = RULES.get(key.upper())
    if r:
        return r
    for r in RULES.values():
        if key.lower() == r.name or key.upper() in r.aliases:
            return r
    return None


class SelectionError(ValueError):
    """--select/--ignore or the config named something that is not a rule, family or prefix."""


def _matching(entry: str, rules) -> list[Rule]:
    e = entry.strip()
    if not e:
        return []
    if e.upper() == "ALL":
        return list(rules)
    got = [r for r in rules if r.code.startswith(e.upper()) or e.lower() == r.name or e.upper() in r.aliases]
    if not got:
        raise SelectionError(f"{e!r} is not a rule code, prefix or name (see `usqlrw rules`)")
    return got


def select_rules(select=None, ignore=None) -> list[Rule]:
    """The rules chosen by ``select`` (codes, prefixes such as ``DR`` or names; default all), less ``ignore``."""
    rules = all_rules()
    chosen = rules if not select else [r for e in select for r in _matching(e, rules)]
    dropped = {r.code for e in (ignore or ()) for r in _matching(e, rules)}
    seen, out = set(), []
    for r in chosen:
        if r.code not in dropped and r.code not in seen:
            seen.add(r.code)
            out.append(r)
    return sorted(out, key=lambda r: r.code)


def matches(entry: str, code: str) -> bool:
    """Whether a select/ignore entry (code, prefix, name or ALL) covers ``code``."""
    r = get_rule(code)
    e = entry.strip()
    return bool(e) and (e.upper() == "ALL" or code.startswith(e.upper())
                        or (r is not None and (e.lower() == r.name or e.upper() in r.aliases)))
