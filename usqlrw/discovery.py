"""Which files a folder argument stands for: ``.gitignore``, ``exclude`` settings, generated folders.

As in ruff: a folder is searched for ``*.usql``, skipping
- what git ignores (``.gitignore`` files from the repository's top down to the file, and
  ``.git/info/exclude``), when the folder is inside a git work tree and ``respect-gitignore``
  is on (the default);
- what ``exclude`` (default: :data:`DEFAULT_EXCLUDE`) and ``extend-exclude`` name: a pattern
  without ``/`` matches a file or folder name anywhere, one with ``/`` a path relative to the
  settings file's folder (or, given on the command line, to the current folder); ``**``, ``*``,
  ``?`` and ``[...]`` work as in ``.gitignore``;
- folders usqlrw wrote itself: a failover plan (``plan.json``) or a replication or DR-copy
  bundle (``manifest.json``), unless the folder is named as an argument.

A file named as an argument is always read, unless ``force-exclude`` is set (for pre-commit,
which names every staged file).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox",
                   ".mypy_cache", ".pytest_cache", ".ruff_cache")


def _translate(pat: str) -> str:
    """A gitignore glob (without its leading ``/`` and trailing ``/``) as a regular expression."""
    out, i, n = [], 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            if pat.startswith("**", i) and (i == 0 or pat[i - 1] == "/"):
                j = i + 2
                if j == n:
                    out.append(".*")
                    i = j
                    continue
                if pat[j] == "/":
                    out.append("(?:.*/)?")
                    i = j + 1
                    continue
            while i < n and pat[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and pat[j] in "!^":
                j += 1
            if j < n and pat[j] == "]":
                j += 1
            while j < n and pat[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = pat[i + 1:j]
                neg = body[:1] in ("!", "^")
                body = body[1:] if neg else body
                body = body.replace("\\", "\\\\")
                out.append(f"[{'^' if neg else ''}{body}]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pat[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    """One ``.gitignore`` line (or one exclude glob), relative to the folder ``base``."""
    base: str
    text: str
    regex: re.Pattern
    negated: bool = False
    dir_only: bool = False
    anchored: bool = False

    def matches(self, path: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if not self.anchored:    # a name: anywhere below its folder (or anywhere, for exclude globs)
            return bool(self.regex.match(os.path.basename(path)))
        rel = os.path.relpath(path, self.base).replace(os.sep, "/")
        return not rel.startswith("../") and rel != ".." and bool(self.regex.match(rel))


def compile_pattern(line: str, base: str, allow_negation: bool = True) -> Pattern | None:
    """A Pattern from one line of a ``.gitignore``, or None for a blank line or a comment."""
    line = line.rstrip("\r\n")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    text = line
    negated = allow_negation and line.startswith("!")
    if negated:
        line = line[1:]
    elif line.startswith(("\\#", "\\!")):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    return Pattern(os.path.abspath(base), text, re.compile(rf"^{_translate(line)}$", re.S), negated, dir_only,
                   anchored)


def _git_root(path: str) -> str | None:
    d = path
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


class GitIgnore:
    """``.gitignore`` rules of the git work trees the searched folders are in (cached per folder)."""

    def __init__(self):
        self._dirs: dict = {}
        self._roots: dict = {}

    def _patterns(self, folder: str) -> list:
        if folder not in self._dirs:
            pats = []
            files = [os.path.join(folder, ".gitignore")]
            if os.path.isdir(os.path.join(folder, ".git")):
                files.insert(0, os.path.join(folder, ".git", "info", "exclude"))
            for f in files:
                try:
                    with open(f, encoding="utf-8", errors="replace") as fh:
                        lines = fh.read().splitlines()
                except OSError:
                    continue
                pats += [p for p in (compile_pattern(ln, folder) for ln in lines) if p is not None]
            self._dirs[folder] = pats
        return self._dirs[folder]

    def root(self, folder: str) -> str | None:
        if folder not in self._roots:
            self._roots[folder] = _git_root(folder)
        return self._roots[folder]

    def ignored(self, path: str, is_dir: bool) -> Pattern | None:
        """The pattern that ignores ``path`` (absolute), or None. Ancestors are not checked."""
        parent = os.path.dirname(path)
        root = self.root(parent)
        if root is None:
            return None
        chain, d = [], parent
        while True:
            chain.append(d)
            if d == root:
                break
            up = os.path.dirname(d)
            if up == d:
                break
            d = up
        verdict = None
        for folder in reversed(chain):   # the deepest .gitignore has the last word
            for p in self._patterns(folder):
                if p.matches(path, is_dir):
                    verdict = None if p.negated else p
        return verdict


def generated_by_usqlrw(folder: str) -> str | None:
    """'failover plan' or 'bundle' when ``folder`` is one that usqlrw wrote, else None."""
    for name, what, keys in (("plan.json", "failover plan", ("steps", "secondary")),
                             ("manifest.json", "bundle", ("steps",))):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            try:
                if os.path.getsize(p) > 50_000_000:
                    continue
                with open(p, encoding="utf-8") as f:
                    import json
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and all(k in data for k in keys):
                return what
    return None


@dataclass
class Discovery:
    """The file-selection settings of one run."""
    exclude: list = field(default_factory=list)         # Patterns (replace the defaults when given)
    extend_exclude: list = field(default_factory=list)  # Patterns
    respect_gitignore: bool = True
    force_exclude: bool = False
    skipped: list = field(default_factory=list)         # (path, reason), for -v
    _git: GitIgnore = field(default_factory=GitIgnore)

    @classmethod
    def from_settings(cls, settings=None, exclude=None, extend_exclude=None, respect_gitignore=None,
                      force_exclude=None, base: str = ".") -> "Discovery":
        """Command-line values (globs relative to ``base``) over those of a Settings object."""
        def pats(globs, root):
            return [p for p in (compile_pattern(g, root, allow_negation=False) for g in globs) if p]
        root = getattr(settings, "root", base) if settings is not None else base
        if exclude:
            exc = pats(exclude, base)
        elif settings is not None and getattr(settings, "exclude", None) is not None:
            exc = pats(settings.exclude, root)
        else:
            exc = pats(DEFAULT_EXCLUDE, base)
        ext = pats(getattr(settings, "extend_exclude", None) or [], root) + pats(extend_exclude or [], base)
        rg = respect_gitignore if respect_gitignore is not None else getattr(settings, "respect_gitignore", True)
        fe = force_exclude if force_exclude is not None else getattr(settings, "force_exclude", False)
        return cls(exc, ext, rg, bool(fe))

    def reason(self, path: str, is_dir: bool) -> str | None:
        """Why ``path`` is left out (it is found while searching a folder), or None."""
        a = os.path.abspath(path)
        for p in self.exclude + self.extend_exclude:
            if p.matches(a, is_dir):
                return f"excluded by {p.text!r}"
        if self.respect_gitignore:
            p = self._git.ignored(a, is_dir)
            if p is not None:
                return f"ignored by git ({os.path.relpath(os.path.join(p.base, '.gitignore'))}: {p.text})"
        if is_dir:
            what = generated_by_usqlrw(a)
            if what:
                return f"a {what} written by usqlrw"
        return None

    def skip_dir(self, path: str) -> bool:
        why = self.reason(path, True)
        if why:
            self.skipped.append((path, why))
        return why is not None

    def skip_file(self, path: str, explicit: bool) -> bool:
        """A file found in a folder, or (``explicit``) named as an argument."""
        if explicit and not self.force_exclude:
            return False
        a = os.path.abspath(path)
        if explicit:   # its folders too: pre-commit names files deep inside an excluded folder
            cwd = os.getcwd()
            top = cwd if a.startswith(cwd.rstrip(os.sep) + os.sep) else self._git.root(os.path.dirname(a))
            d, chain = os.path.dirname(a), []
            while top and d != top and d.startswith(top):
                chain.append(d)
                d = os.path.dirname(d)
            for d in reversed(chain):
                why = self._dir_reason_cached(d)
                if why:
                    self.skipped.append((path, why))
                    return True
        why = self.reason(a, False)
        if why:
            self.skipped.append((path, why))
        return why is not None

    def _dir_reason_cached(self, d: str) -> str | None:
        cache = self.__dict__.setdefault("_dir_cache", {})
        if d not in cache:
            # generated folders are not a reason to drop a file named explicitly
            why = None
            for p in self.exclude + self.extend_exclude:
                if p.matches(d, True):
                    why = f"excluded by {p.text!r}"
                    break
            if why is None and self.respect_gitignore:
                p = self._git.ignored(d, True)
                if p is not None:
                    why = f"ignored by git ({p.text})"
            cache[d] = why
        return cache[d]
