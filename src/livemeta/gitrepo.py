"""The git repository an evidence project lives in: a thin layer over the ``git`` program.

livemeta keeps no version store of its own: every revision of the evidence is a git commit, and
this module is the only place that runs git. It reads the commit graph with each commit's changed
paths (``git log --raw``), trees (``git ls-tree``) and file contents (``git cat-file --batch``),
and writes commits for ``livemeta ingest``, ``version add`` and ``resolve``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import LivemetaError

_ZERO = "0" * 40


class GitError(LivemetaError):
    """git is missing or a git command failed."""


@dataclass(frozen=True)
class Change:
    """One path changed by a commit against its (first) parent: ``status`` A, M, D or T."""

    status: str
    path: str
    blob: str | None  # the new content's object id; None when deleted


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    time: dt.datetime  # committer time, UTC, naive
    message: str
    changes: tuple[Change, ...] = field(default=(), repr=False)  # against the first parent; empty for merges

    @property
    def short(self) -> str:
        return self.sha[:9]

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0] if self.message else ""

    def trailers(self, key: str) -> list[str]:
        """The values of ``Key: value`` trailer lines of the message (case-insensitive key)."""
        prefix = key.lower() + ":"
        return [line.split(":", 1)[1].strip() for line in self.message.splitlines() if line.lower().startswith(prefix)]


def _raw(out: bytes) -> list[Change]:
    """The entries of git's ``--raw -z`` output (``:mode mode old new S\0path\0`` ...)."""
    parts = out.split(b"\x00")
    changes, i = [], 0
    while i < len(parts):
        meta = parts[i].strip()
        if not meta.startswith(b":"):
            i += 1
            continue
        fields = meta[1:].decode().split()
        status, new = fields[4][0], fields[3]
        path = parts[i + 1].decode("utf-8", "surrogateescape")
        changes.append(Change(status, path, None if status == "D" or new == _ZERO else new))
        i += 2
    return changes


class Git:
    """A git work tree (``root`` is its top level)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # -- running git -----------------------------------------------------------------------
    def run(self, *args: str, input: bytes | None = None, env: dict | None = None, check: bool = True) -> bytes:
        try:
            out = subprocess.run(
                ["git", "-c", "log.showSignature=false", "-c", "core.quotePath=false", *args], cwd=self.root, input=input, capture_output=True,
                env={**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
            )
        except FileNotFoundError:
            raise GitError("git is not installed", hint="install git: livemeta keeps the evidence history in git") from None
        if check and out.returncode != 0:
            err = out.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0]} failed in {self.root}: {err or 'exit status ' + str(out.returncode)}")
        return out.stdout

    def text(self, *args: str, **kw) -> str:
        return self.run(*args, **kw).decode("utf-8", "replace").strip()

    @classmethod
    def find(cls, path: Path) -> Git | None:
        """The repository holding ``path``, or None when it is in none (or git is not installed)."""
        if shutil.which("git") is None:
            return None
        path = Path(path)
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=path if path.is_dir() else path.parent,
            capture_output=True, env={**os.environ, "LC_ALL": "C"},
        )
        if out.returncode != 0:
            return None
        return cls(Path(out.stdout.decode().strip()))

    def relative(self, path: Path) -> str:
        """``path`` as a POSIX path relative to the repository's top level."""
        return PurePosixPath(Path(path).resolve().relative_to(self.root.resolve())).as_posix()

    # -- reading -----------------------------------------------------------------------------
    def head(self) -> str | None:
        """HEAD's commit id, or None in a repository without commits."""
        out = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        return out.decode().strip() or None

    def branch(self) -> str | None:
        out = self.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return out.decode().strip() or None

    def git_dir(self) -> Path:
        """The repository's git folder (a worktree's own one for a linked worktree)."""
        return Path(self.text("rev-parse", "--absolute-git-dir"))

    def shallow_commits(self) -> set[str]:
        """The boundary commits of a shallow clone (empty for a full clone)."""
        shallow = self.git_dir() / "shallow"
        return set(shallow.read_text().split()) if shallow.exists() else set()

    #: what git keeps in its folder while an operation waits for the user (a conflict to resolve,
    #: a commit to edit): the file or folder, the operation, and how it is finished or undone
    _IN_PROGRESS = (
        ("rebase-merge", "a rebase", "`git rebase --continue` or `git rebase --abort`"),
        ("rebase-apply", "a rebase (or git am)", "`git rebase --continue` or `git rebase --abort` (`git am --abort`)"),
        ("MERGE_HEAD", "a merge", "commit the merge (`git merge --continue`) or `git merge --abort`"),
        ("CHERRY_PICK_HEAD", "a cherry-pick", "`git cherry-pick --continue` or `git cherry-pick --abort`"),
        ("REVERT_HEAD", "a revert", "`git revert --continue` or `git revert --abort`"),
        ("sequencer", "a cherry-pick or revert", "`git cherry-pick --continue` or `--abort` (`git revert ...`)"),
        ("BISECT_LOG", "a bisect", "`git bisect reset`"),
    )

    def in_progress(self) -> tuple[str, str] | None:
        """The git operation under way in this work tree (a merge, rebase, cherry-pick, revert or
        bisect stopped for the user) and how to finish or undo it; None when there is none."""
        folder = self.git_dir()
        return next(((what, how) for name, what, how in self._IN_PROGRESS if (folder / name).exists()), None)

    def paths_between(self, a: str | None, b: str, paths: list[str]) -> list[str]:
        """The files at or under ``paths`` that differ between commits ``a`` and ``b`` (``a`` None:
        the files ``b`` has there)."""
        if a is None:
            return list(self.tree(b, paths))
        out = self.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", a, b, "--", *paths)
        return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\x00") if p]

    def branches_containing(self, sha: str) -> list[str]:
        """The local branches whose history holds commit ``sha``."""
        out = self.text("branch", "--format=%(refname:short)", "--contains", sha, check=False)
        return [b for b in out.splitlines() if b.strip() and not b.startswith("(")]

    def has_commit(self, sha: str) -> bool:
        return self.run("cat-file", "-t", sha, check=False).strip() == b"commit"

    def log(self, rev: str = "HEAD") -> list[Commit]:
        """Every commit reachable from ``rev`` with the paths it changed against its first parent.

        Merge commits carry no changes here (``git log`` shows none for them); renames are a
        deletion and an addition.
        """
        raw = self.run(
            "log", "-z", "--raw", "--no-renames", "--no-abbrev", "--no-color", "--no-ext-diff",
            "--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%ct%x1f%B%x1f", rev,
        )
        commits = []
        for chunk in raw.split(b"\x1e")[1:]:
            head, _, rest = chunk.rpartition(b"\x1f")
            sha, parents, author, email, ctime, message = head.decode("utf-8", "replace").split("\x1f", 5)
            changes = _raw(rest)
            commits.append(
                Commit(
                    sha=sha, parents=tuple(parents.split()), author=author, email=email,
                    time=dt.datetime.fromtimestamp(int(ctime), dt.UTC).replace(tzinfo=None),
                    message=message.strip(), changes=tuple(changes),
                )
            )
        return commits

    def tree(self, commit: str, paths: list[str]) -> dict[str, str]:
        """The files at or under ``paths`` (relative to the top level) at ``commit``: path -> blob id."""
        args = ["ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths]
        out = {}
        for entry in self.run(*args).split(b"\x00"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            mode, kind, obj = meta.decode().split()
            if kind == "blob":
                out[path.decode("utf-8", "surrogateescape")] = obj
        return out

    def blobs(self, ids: list[str]) -> dict[str, bytes]:
        """The contents of blobs, read through one ``git cat-file --batch``."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        out = self.run("cat-file", "--batch", input=("\n".join(ids) + "\n").encode())
        result, pos = {}, 0
        for want in ids:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode().split()
            if len(header) < 3:
                raise GitError(f"git cat-file: object {want} is missing")
            size = int(header[2])
            result[want] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return result

    def merge_base(self, a: str, b: str) -> str | None:
        out = self.run("merge-base", a, b, check=False).decode().strip()
        return out or None

    def touched_since(self, base: str, tip: str, paths: list[str]) -> bool:
        """Whether a commit of base..tip (the sides of its merges included) changed ``paths``; True
        also when ``base`` is not an ancestor of ``tip``."""
        if self.merge_base(base, tip) != base:
            return True
        return bool(self.run("rev-list", "--full-history", "--max-count=1", f"{base}..{tip}", "--", *paths).strip())

    def changed_paths(self, a: str, b: str, folder: str) -> dict[str, str | None]:
        """Paths under ``folder`` that differ between commits a and b: path -> blob at b (None: deleted)."""
        out = self.run("diff-tree", "-r", "-z", "--no-renames", "--no-abbrev", a, b, "--", folder)
        return {c.path: c.blob for c in _raw(out)}

    def path_log(self, base: str, tip: str, path: str) -> list[str]:
        """One line per commit of base..tip that changed ``path``: short id, author, subject."""
        out = self.text("log", "--format=%h %an: %s", f"{base}..{tip}", "--", path)
        return [line for line in out.splitlines() if line.strip()]

    def uncommitted(self, paths: list[str]) -> list[tuple[str, str]]:
        """Paths (relative to the top level) under ``paths`` whose working copy differs from HEAD or
        that git does not track: (status, path) with status 'modified', 'untracked', 'deleted' or
        'added'."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", *paths)
        found = []
        for entry in out.split(b"\x00"):
            if len(entry) < 4:
                continue
            xy, path = entry[:2].decode(), entry[3:].decode("utf-8", "surrogateescape")
            if xy == "??":
                kind = "untracked"
            elif "D" in xy:
                kind = "deleted"
            elif xy[0] == "A":
                kind = "added"
            else:
                kind = "modified"
            found.append((kind, path))
        return found

    #: the two-letter states `git status` gives a path with an unresolved merge conflict
    UNMERGED = frozenset({"DD", "AU", "UD", "UA", "DU", "AA", "UU"})

    def unmerged(self, paths: list[str]) -> list[tuple[str, str]]:
        """Paths under ``paths`` that git has not merged yet (a merge, rebase or cherry-pick stopped
        on a conflict): (state, path), the state as `git status` shows it (UU, AA, ...)."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames", "--", *paths)
        found = []
        for entry in out.split(b"\x00"):
            if len(entry) >= 4 and entry[:2].decode() in self.UNMERGED:
                found.append((entry[:2].decode(), entry[3:].decode("utf-8", "surrogateescape")))
        return found

    def identity(self) -> tuple[str, str] | None:
        """The author git would record (its configuration or GIT_AUTHOR_*), or None when unknown."""
        out = self.run("var", "GIT_AUTHOR_IDENT", check=False, env={"GIT_CONFIG_NOSYSTEM": "0"}).decode().strip()
        if not out or "<" not in out:
            return None
        name, _, rest = out.partition("<")
        return name.strip(), rest.split(">", 1)[0].strip()

    # -- writing -----------------------------------------------------------------------------
    def commit(self, paths: list[str], message: str, *, author: str | None = None, allow_empty: bool = False) -> str:
        """Commit exactly ``paths`` (added if new) with ``message``; other staged changes stay staged.

        ``author`` is "Name" or "Name <email>"; git's configured identity otherwise.
        """
        ident = self.identity()
        env = {}
        if author:
            name, _, rest = author.partition("<")
            env["GIT_AUTHOR_NAME"] = name.strip()
            env["GIT_AUTHOR_EMAIL"] = rest.rstrip(">").strip() if rest else (ident[1] if ident else f"{name.strip()}@livemeta")
        if ident is None:
            if not author:
                raise GitError(
                    "git does not know who you are (user.name and user.email are not set)",
                    hint='run `git config user.name "Your Name"` and `git config user.email you@example.org`, or pass --author',
                )
            env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"] = env["GIT_AUTHOR_NAME"], env["GIT_AUTHOR_EMAIL"]
        if paths:
            self.run("add", "--", *paths, env=env)
        args = ["commit", "-q", "--no-verify", "-m", message, "--only"]
        if allow_empty:
            args.append("--allow-empty")
        args += ["--", *paths] if paths else []
        self.run(*args, env=env)
        return self.head() or ""
