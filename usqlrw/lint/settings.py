"""``[tool.usqlrw]`` settings: found by walking up from each checked file, closest file wins.

In ``pyproject.toml`` (only if it has a ``[tool.usqlrw]`` table) or ``usqlrw.toml`` (keys at the top
level, or under ``[tool.usqlrw]``); ``usqlrw.toml`` wins over ``pyproject.toml`` in the same folder.
Files are not merged (as in ruff): the closest one is the whole configuration.

    [tool.usqlrw]
    select = ["SEM", "DR"]                 # codes, prefixes or names; default: every rule
    ignore = ["SEM008"]
    dr-config = "deploy/dr.toml"           # relative to this file; enables DR003, DR005, DR006
    [tool.usqlrw.per-path-ignores]
    "legacy/**" = ["SEM"]                  # glob, relative to this file's folder
    "scratch_*.usql" = ["ALL"]

File selection (usqlrw.discovery): ``exclude`` (replaces the default list), ``extend-exclude``,
``respect-gitignore`` (default true) and ``force-exclude`` (default false).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

_KEYS = {"select": "select", "ignore": "ignore", "per-path-ignores": "per_path_ignores",
         "per-file-ignores": "per_path_ignores", "dr-config": "dr_config", "extend-ignore": "ignore",
         "exclude": "exclude", "extend-exclude": "extend_exclude", "respect-gitignore": "respect_gitignore",
         "force-exclude": "force_exclude"}


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""

    def __init__(self, message: str):
        from ..secrets import redact   # what the file says is quoted only with its secrets masked
        super().__init__(redact(message))


@dataclass
class Settings:
    path: str | None = None            # the file these came from (None: defaults)
    root: str = "."                    # its folder: per-path patterns and dr-config are relative to it
    select: list | None = None
    ignore: list = field(default_factory=list)
    per_path_ignores: dict = field(default_factory=dict)
    dr_config: str | None = None       # absolute path
    exclude: list | None = None        # globs relative to root; None: usqlrw.discovery.DEFAULT_EXCLUDE
    extend_exclude: list = field(default_factory=list)
    respect_gitignore: bool = True
    force_exclude: bool = False
    warnings: list = field(default_factory=list)

    def ignored_for(self, file_path: str) -> list:
        """The per-path ignores that apply to ``file_path``."""
        if not self.per_path_ignores:
            return []
        try:
            rel = os.path.relpath(os.path.abspath(file_path), self.root).replace(os.sep, "/")
        except ValueError:  # another drive on Windows
            rel = file_path.replace(os.sep, "/")
        base = rel.rsplit("/", 1)[-1]
        out = []
        for pat, codes in self.per_path_ignores.items():
            p = pat.replace(os.sep, "/")
            if p.startswith("./"):
                p = p[2:]
            if p.endswith("/"):
                p += "**"
            if fnmatchcase(rel, p) or ("/" not in p and fnmatchcase(base, p)) or (
                    p.endswith("/**") and rel.startswith(p[:-2])):
                out += codes
        return out


def _toml(path: str) -> dict:
    from ..tomlfile import TomlFileError, read_toml
    try:
        return read_toml(path)
    except TomlFileError as e:
        raise SettingsError(str(e)) from None


def _codes(v, key: str, path: str) -> list:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise SettingsError(f"{path}: {key} must be a list of rule codes, prefixes or names")
    return [x.strip() for x in v if x.strip()]


def parse_settings(table: dict, path: str) -> Settings:
    """Validate one ``[tool.usqlrw]`` table. Unknown keys are warnings, bad values errors."""
    from .registry import SelectionError, select_rules
    s = Settings(path=path, root=os.path.dirname(os.path.abspath(path)))
    for key, v in table.items():
        attr = _KEYS.get(key) or _KEYS.get(key.replace("_", "-"))
        if attr is None:
            from ..secrets import redact
            s.warnings.append(redact(f"{path}: unknown key [tool.usqlrw] {key} (known: {', '.join(sorted(set(_KEYS) - {'per-file-ignores', 'extend-ignore'}))})"))
            continue
        if attr == "select":
            s.select = _codes(v, key, path)
        elif attr == "ignore":
            s.ignore += _codes(v, key, path)
        elif attr == "per_path_ignores":
            if not isinstance(v, dict):
                raise SettingsError(f"{path}: {key} must be a table of \"glob\" = [codes]")
            s.per_path_ignores = {k: _codes(c, f"{key}.{k}", path) for k, c in v.items()}
        elif attr in ("exclude", "extend_exclude"):
            if isinstance(v, str):
                v = [v]
            if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
                raise SettingsError(f"{path}: {key} must be a list of glob patterns")
            setattr(s, attr, [x.strip() for x in v])
        elif attr in ("respect_gitignore", "force_exclude"):
            if not isinstance(v, bool):
                raise SettingsError(f"{path}: {key} must be true or false")
            setattr(s, attr, v)
        elif attr == "dr_config":
            if not isinstance(v, str) or not v.strip():
                raise SettingsError(f"{path}: {key} must be the path of a DR config file")
            s.dr_config = os.path.normpath(os.path.join(s.root, os.path.expanduser(v)))
    try:  # say now, with the file's name, if a code is wrong
        select_rules(s.select, s.ignore + [c for cs in s.per_path_ignores.values() for c in cs])
    except SelectionError as e:
        raise SettingsError(f"{path}: {e}") from None
    return s


def load_settings(path: str) -> Settings:
    """Settings from one file named by the user (``--config``)."""
    data = _toml(path)
    table = data.get("tool", {}).get("usqlrw") if isinstance(data.get("tool"), dict) else None
    if table is None:
        table = {} if os.path.basename(path) == "pyproject.toml" else {k: v for k, v in data.items() if k != "tool"}
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.usqlrw] must be a table")
    return parse_settings(table, path)


_cache: dict = {}


def find_settings(start: str) -> Settings:
    """The settings of the closest ``usqlrw.toml`` or ``pyproject.toml`` with ``[tool.usqlrw]``
    in ``start`` (a file or a folder) or a folder above it; defaults when there is none."""
    d = os.path.abspath(start)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    seen = []
    found = None
    while True:
        if d in _cache:
            found = _cache[d]
            break
        seen.append(d)
        cand = os.path.join(d, "usqlrw.toml")
        if os.path.isfile(cand):
            found = load_settings(cand)
            break
        cand = os.path.join(d, "pyproject.toml")
        if os.path.isfile(cand):
            data = _toml(cand)
            tool = data.get("tool")
            if isinstance(tool, dict) and isinstance(tool.get("usqlrw"), dict):
                found = parse_settings(tool["usqlrw"], cand)
                break
        parent = os.path.dirname(d)
        if parent == d:
            found = Settings()
            break
        d = parent
    for x in seen:
        _cache[x] = found
    return found
