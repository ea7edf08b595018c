"""The evidence history is the project's git history; the database is a cache rebuilt from it.

**Revisions.** The history starts at the commit that adds the project file (``livemeta.yaml``):
its files are revision 1. After it, every commit that changes a file the project owns
(:data:`livemeta.project.FILE_KINDS`) is one revision of that kind: *evidence* when its study files
change the rows (a trial added, corrected or removed), *analyses* when the analyses file, the
GRADE file or the project file's settings change (not only comments; naming a version is not a
change of the analyses), *searches* when a search run or a de-duplication decision changes
(``searches/``), *screening* when the screening protocol or decisions change (``screening/``;
:mod:`livemeta.screening.replay`), all that apply when several do. A revision of searches or
screening alone computes no analysis again: every estimate stands as it was (it is recorded as
pooled at that revision). A commit that changes none of them makes no revision; if
it names a version in the project file, the version points at the revision in force. A revision
keeps the commit's author, (committer) time and message, and a *note*, the review's own words about
it (:func:`commit_note`).

**One line of states, each one somebody made.** The history is read along first parents from
HEAD. A merge whose branch left from the state the first-parent line is still in (nothing the
project owns changed on that line since the branch left) brings the branch's commits one by one,
before the merge: each is exactly the tree its author committed. Any other merge is one revision,
the merged tree (what the person who merged committed), with the notes of the commits it brings;
its branch's commits are never replayed on their own, because their trees lack what the
first-parent line did meanwhile and replaying them would show states nobody made (a correction of
the first-parent line undone, then redone by the merge). Two clones that merged the same commits
therefore replay the same revisions in the same order.

**A trial changed on both sides of a merge** is a conflict: the build stops and names the trial
and the commits, until a later commit records the resolution with a ``Livemeta-Resolves: TRIAL``
trailer (``livemeta resolve TRIAL`` writes one). The merge is then a revision even if it changed
nothing, and the note of a resolution that changed no file goes with it.

**Replaying under today's rules.** Each commit's changed study files are validated together, as one
ingest (all or nothing), and its analyses file on its own. A commit where either fails is kept as
a *rejected* revision: its number, message, author and time stay, the problems are stored
(``revision_problems``, shown by ``build`` and ``livemeta log``), and what failed is not applied;
later commits build on the evidence as it was. A file fixed by a later commit is taken from that
commit.

Each revision is written, and every analysis pooled and stored at it, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import posixpath
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ..errors import DatabaseLocked, LivemetaError, Problem, StorageFailed
from ..gitrepo import Commit, Git
from ..project import FILE_KINDS, FRONT_KINDS, PROJECT_FILE, FileKind, Project, parse_project_text, parse_versions
from ..sql import named

if TYPE_CHECKING:  # (annotations only: pandas is loaded where rows are read)
    import pandas as pd

RESOLVES = "Livemeta-Resolves"
NOTE = "Livemeta-Note"


class HistoryError(LivemetaError):
    """The repository's history cannot be replayed as it is (exit status 2)."""

    exit_code = 2


class HistoryWouldBeLost(LivemetaError):
    """The database holds revisions the repository cannot reproduce (exit status 2)."""

    exit_code = 2


# ---------------------------------------------------------------------------------------------
# Reading the history from git
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """A trial changed on both sides of a merge."""

    trial_id: str
    path: str
    merge: Commit
    sides: tuple[tuple[str, ...], ...]
    resolved_by: str | None = None

    def describe(self) -> str:
        lines = [f"trial {self.trial_id!r} ({self.path}) was changed on both branches merged by commit "
                 f"{self.merge.short} ({self.merge.subject!r}):"]
        for i, side in enumerate(self.sides):
            lines.append(f"  branch {i + 1}: " + ("; ".join(side) or "(no commit found)"))
        return "\n".join(lines)


@dataclass
class Step:
    """One commit of the linear history, with what it changed of the project."""

    commit: Commit
    files: dict[str, str | None]  # project-relative study path -> blob id (None: deleted)
    analyses: str | None = None  # blob id of the analyses file when it changed (None: unchanged)
    analyses_deleted: bool = False
    project_file: str | None = None  # blob id of the project file when it changed
    present: frozenset[str] = frozenset()  # the study paths in the tree after this commit
    baseline: bool = False
    #: the project's own files other than study files that this commit changed: project-relative
    #: path -> (kind, blob id; None: deleted)
    others: dict[str, tuple[FileKind, str | None]] = field(default_factory=dict)
    #: those files as they are after this commit (project-relative path -> (kind, blob id))
    others_after: dict[str, tuple[FileKind, str]] = field(default_factory=dict)
    folded: tuple[Commit, ...] = ()  # a merge's: the commits of its branch it brings as one revision
    note: str | None = None  # the review's own words (see commit_note)
    reviewed: bool = False  # a merge whose conflict was resolved, or the commit resolving it: a revision

    @property
    def front(self) -> dict[str, str | None]:
        """The search and screening files it changed (FRONT_KINDS; path -> blob, None: deleted)."""
        return {p: b for p, (k, b) in self.others.items() if k.name in FRONT_KINDS}

    @property
    def front_tree(self) -> dict[str, str]:
        """When it changed any: every search and screening file after it (path -> blob)."""
        return {p: b for p, (k, b) in self.others_after.items() if k.name in FRONT_KINDS} if self.front else {}


@dataclass
class History:
    """The project's history as git has it, ready to replay."""

    project: Project
    git: Git
    head: str
    steps: list[Step]
    conflicts: list[Conflict]
    uncommitted: list[tuple[str, str]]
    earlier_commits: int  # commits that touched the studies folder before the project file existed

    @property
    def unresolved(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.resolved_by is None]

    def folded_into(self) -> dict[str, str]:
        """Commit id -> the merge commit that brings it as part of one revision."""
        return {f.sha: s.commit.sha for s in self.steps for f in s.folded}


def linearize(commits: dict[str, Commit], head: str, replays_branch=None) -> list[tuple[str, tuple[str, ...]]]:
    """The history of ``head`` as one line: ``(commit, the commits it brings folded in)``, oldest
    first.

    The line follows first parents. At a merge, ``replays_branch(fork, first_parent)`` says whether
    the merged branch, which left the line at commit ``fork`` (None: it shares no commit with it),
    is replayed commit by commit before the merge (its own first-parent line, by the same rule);
    otherwise its commits are folded into the merge, parents before children. Default: folded.
    """
    seen: set[str] = set()
    out: list[tuple[str, tuple[str, ...]]] = []

    def fork_of(tip: str) -> str | None:
        sha = tip
        while sha is not None and sha in commits and sha not in seen:
            parents = commits[sha].parents
            sha = parents[0] if parents else None
        return sha if sha in seen else None

    def ancestors(tip: str) -> list[str]:
        """The commits of ``tip``'s history not yet seen, parents first (and now seen)."""
        order: list[str] = []
        stack: list[tuple[str, bool]] = [(tip, False)]
        while stack:
            sha, expanded = stack.pop()
            if expanded:
                if sha not in seen:
                    seen.add(sha)
                    order.append(sha)
                continue
            if sha in seen:
                continue
            stack.append((sha, True))
            for parent in reversed(commits[sha].parents):
                if parent in commits and parent not in seen:
                    stack.append((parent, False))
        return order

    def walk(tip: str) -> None:
        chain = []
        sha: str | None = tip
        while sha is not None and sha in commits and sha not in seen:
            chain.append(sha)
            parents = commits[sha].parents
            sha = parents[0] if parents else None
        for sha in reversed(chain):
            c = commits[sha]
            others = [p for p in c.parents[1:] if p in commits and p not in seen]
            folded: list[str] = []
            if len(c.parents) == 2 and others and replays_branch is not None \
                    and replays_branch(fork_of(others[0]), c.parents[0]):
                walk(others[0])
            else:
                for p in others:
                    folded += ancestors(p)
            seen.add(sha)
            out.append((sha, tuple(folded)))

    walk(head)
    return out


class _Paths:
    """The project's paths as git names them (relative to the repository's top level)."""

    def __init__(self, git: Git, project: Project):
        self.root = git.relative(project.root)
        self.studies = git.relative(project.studies)
        self.analyses = git.relative(project.analyses)
        self.file = git.relative(project.file)
        self.prefix = "" if self.root in ("", ".") else self.root + "/"
        self._files: dict[str, FileKind] = {}
        self._folders: dict[str, FileKind] = {}
        for kind in FILE_KINDS:
            for p in kind.paths(project):
                if p is None:
                    continue
                try:
                    rel = git.relative(p)
                except ValueError:  # outside the repository: not in its history
                    continue
                (self._folders if kind.folder else self._files).setdefault(rel, kind)

    def kind_of(self, path: str) -> FileKind | None:
        """The kind of project file ``path`` is (None: not one the project owns)."""
        kind = self._files.get(path)
        if kind is not None:
            return kind
        folder = posixpath.dirname(path)
        kind = self._folders.get(folder)
        while kind is None and folder:  # a folder of a nested kind further up (searches/RUN/export/x.ris)
            folder = posixpath.dirname(folder)
            kind = self._folders.get(folder)
            if kind is not None and not kind.nested:
                kind = None
                break
        return kind if kind is not None and kind.holds(posixpath.basename(path)) else None

    def is_study(self, path: str) -> bool:
        kind = self.kind_of(path)
        return kind is not None and kind.name == "evidence"

    def relevant(self, path: str) -> bool:
        return self.kind_of(path) is not None

    def rel(self, path: str) -> str:
        """A git path as a project-relative one (how the history records study files)."""
        return path[len(self.prefix):] if self.prefix and path.startswith(self.prefix) else path

    def all(self) -> list[str]:
        return list(dict.fromkeys([self.studies, self.analyses, self.file, *self._files, *self._folders]))


def _trial_of(raw: bytes | None, path: str) -> str:
    """The trial id a study file's content names (the path when it cannot be read)."""
    from ..ingest.parse import StudyBlob, read_study

    if raw is None:
        return f"file {path}"
    study, _ = read_study(StudyBlob(path, raw))
    return (study.trial_id if study is not None else None) or f"file {path}"


def _conflicts(git: Git, paths: _Paths, merge: Commit) -> list[Conflict]:
    """Trials whose study files both sides of a merge changed since their merge base."""
    found = []
    first = merge.parents[0]
    for other in merge.parents[1:]:
        base = git.merge_base(first, other)
        if base is None:
            continue
        sides = [git.changed_paths(base, tip, paths.studies) for tip in (first, other)]
        sides = [{p: b for p, b in side.items() if paths.is_study(p)} for side in sides]
        if not sides[0] or not sides[1]:
            continue
        base_tree = git.tree(base, [paths.studies])
        blobs = git.blobs([b for side in sides for b in side.values() if b] + list(base_tree.values()))

        def trials(side):
            out = {}
            for p, b in side.items():
                out.setdefault(_trial_of(blobs.get(b) if b else blobs.get(base_tree.get(p)), paths.rel(p)), p)
            return out

        t0, t1 = trials(sides[0]), trials(sides[1])
        for tid in sorted(set(t0) & set(t1)):
            logs = tuple(
                tuple(git.path_log(base, tip, p)) for tip, p in ((first, t0[tid]), (other, t1[tid]))
            )
            found.append(Conflict(tid, paths.rel(t0[tid]), merge, logs))
    return found


#: what a merge commit holds of the project (its tree, the conflicts of its sides), by repository,
#: project paths and commit: a commit never changes, and one command may read the history twice
_MERGES: dict[tuple, tuple[dict[str, str], list[Conflict]]] = {}
#: whether the project's files are the same at two commits, by repository, project paths and commits
_SAME: dict[tuple, bool] = {}


def _merge(git: Git, paths: _Paths, merge: Commit, folds: bool) -> tuple[dict[str, str], list[Conflict]]:
    """A merge commit's project files (path -> blob) and, when it folds its branch into one
    revision (``folds``), :func:`_conflicts`; read once per process."""
    key = (str(git.root), tuple(paths.all()), merge.sha, folds)
    if key not in _MERGES:
        tree = {p: b for p, b in git.tree(merge.sha, paths.all()).items() if paths.relevant(p)}
        if len(_MERGES) > 10_000:
            _MERGES.clear()
        _MERGES[key] = (tree, _conflicts(git, paths, merge) if folds else [])
    return _MERGES[key]


def _same_project(git: Git, paths: _Paths, a: str | None, b: str) -> bool:
    """Whether the files the project owns are the same at commits ``a`` and ``b`` (``a`` None: ``b``
    has none); read once per process."""
    key = (str(git.root), tuple(paths.all()), a, b)
    if key not in _SAME:
        if len(_SAME) > 10_000:
            _SAME.clear()
        _SAME[key] = not any(paths.relevant(p) for p in git.paths_between(a, b, paths.all()))
    return _SAME[key]


def _strip_trailers(message: str) -> str:
    """A commit message without livemeta's trailers (``Livemeta-...: ...`` lines)."""
    return "\n".join(line for line in message.splitlines() if not line.lower().startswith("livemeta-")).strip()


def commit_note(commit: Commit, owns) -> str | None:
    """The review's own words about a commit, or None.

    Its ``Livemeta-Note:`` trailers when it has any. Otherwise the message of a commit (not a merge)
    that changes nothing but files the project owns (``owns(path)``): what ``livemeta ingest -m``,
    ``resolve -m`` and ``version add -m`` write, and what a reviewer writes for ``git rm
    data/studies/x.yaml && git commit``. A merge's message speaks for the branches, and a commit that
    also changes other files (code, a README) for its developer: neither is a note.
    """
    notes = commit.trailers(NOTE)
    if notes:
        return "\n".join(n for n in notes if n) or None
    if len(commit.parents) <= 1 and all(owns(ch.path) for ch in commit.changes):
        return _strip_trailers(commit.message) or None
    return None


def _merge_note(merge: Commit, folded: list[Commit], owns) -> str | None:
    """A merge's note: its own trailers, then the notes of the commits it brings (their author named
    where it is not the merge's)."""
    lines = list(merge.trailers(NOTE))
    for c in folded:
        note = commit_note(c, owns) if any(owns(ch.path) for ch in c.changes) else None
        if note:
            first, *rest = note.splitlines()
            line = first + (f" ({c.author})" if c.author != merge.author else "")
            if line not in lines:
                lines.append(line)
    return "\n".join(lines) or None


def read_history(project: Project) -> History:
    """The project's history from git: the steps to replay, merge conflicts, uncommitted files.

    Raises :class:`HistoryError` for a folder outside git, a repository without commits, a
    project file not committed yet, or a shallow clone that lacks the start of the history.
    """
    git = Git.find(project.root)
    if git is None:
        raise HistoryError(
            f"{project.root} is not in a git repository: livemeta keeps the evidence history in git",
            hint="run `git init && git add -A && git commit -m 'Start the evidence project'` there "
            "(the history starts with that commit), or create a project with `livemeta new-project DIR`",
        )
    head = git.head()
    if head is None:
        raise HistoryError(
            f"the repository at {git.root} has no commits yet",
            hint="commit the project: `git add -A && git commit -m 'Start the evidence project'`",
        )
    paths = _Paths(git, project)
    commits = {c.sha: c for c in git.log(head)}
    order = linearize(commits, head, lambda fork, first: _same_project(git, paths, fork, first))

    def adds_file(sha: str) -> bool:
        return any(ch.path == paths.file and ch.blob for ch in commits[sha].changes)

    start_index = next((i for i, (sha, folded) in enumerate(order)
                        if adds_file(sha) or (any(map(adds_file, folded)) and paths.file in git.tree(sha, [paths.file]))),
                       None)
    shallow = git.shallow_commits()
    if shallow and (start_index is None or order[start_index][0] in shallow):
        raise HistoryError(
            f"this clone of {git.root} is shallow: the start of the evidence history (the commit that "
            f"added {paths.file}) is not in it",
            hint="fetch the whole history with `git fetch --unshallow`, then run `livemeta build` again",
        )
    if start_index is None:
        raise HistoryError(
            f"{paths.file} is not committed: the evidence history starts with the commit that adds it",
            hint=f"commit it: `git add {paths.file} && git commit -m 'Start the evidence project'`",
        )
    start = commits[order[start_index][0]]
    earlier = sum(1 for sha, _ in order[:start_index] if any(paths.is_study(ch.path) for ch in commits[sha].changes))
    owns = paths.relevant

    state = git.tree(start.sha, paths.all())
    state = {p: b for p, b in state.items() if paths.relevant(p)}
    present = {paths.rel(p) for p in state if paths.is_study(p)}  # kept as commits change it
    others_after = {paths.rel(p): (paths.kind_of(p), b) for p, b in state.items() if not paths.is_study(p)}
    steps = [
        Step(
            commit=start,
            files={paths.rel(p): b for p, b in sorted(state.items()) if paths.is_study(p)},
            analyses=state.get(paths.analyses),
            analyses_deleted=paths.analyses not in state,
            project_file=state.get(paths.file),
            present=frozenset(present),
            baseline=True,
            others={paths.rel(p): (paths.kind_of(p), b) for p, b in sorted(state.items()) if not paths.is_study(p)},
            others_after=others_after,
            note=commit_note(start, owns),
        )
    ]
    conflicts: list[Conflict] = []
    for sha, folded in order[start_index + 1:]:
        c = commits[sha]
        found: list[Conflict] = []
        if len(c.parents) <= 1:
            changed = {ch.path: ch.blob for ch in c.changes if paths.relevant(ch.path)}
        else:
            tree, found = _merge(git, paths, c, folds=bool(folded))
            changed = {p: b for p, b in tree.items() if state.get(p) != b}
            changed.update({p: None for p in state if p not in tree})
            conflicts += found
        if not changed and not found:
            continue
        for p, b in changed.items():
            if b is None:
                state.pop(p, None)
                present.discard(paths.rel(p))
            else:
                state[p] = b
                if paths.is_study(p):
                    present.add(paths.rel(p))
        others = {paths.rel(p): (paths.kind_of(p), b) for p, b in sorted(changed.items()) if not paths.is_study(p)}
        if others:
            others_after = {paths.rel(p): (paths.kind_of(p), b) for p, b in state.items() if not paths.is_study(p)}
        note = _merge_note(c, [commits[f] for f in folded], owns) if len(c.parents) > 1 else commit_note(c, owns)
        steps.append(
            Step(
                commit=c,
                files={paths.rel(p): b for p, b in sorted(changed.items()) if paths.is_study(p)},
                analyses=changed.get(paths.analyses),
                analyses_deleted=paths.analyses in changed and changed[paths.analyses] is None,
                project_file=changed.get(paths.file),
                present=frozenset(present),
                others=others,
                others_after=others_after,
                folded=tuple(commits[f] for f in folded),
                note=note,
                reviewed=bool(found),
            )
        )
    return History(project, git, head, steps, _resolutions(conflicts, order, commits, steps, owns),
                   _uncommitted(git, paths), earlier)


def _resolutions(conflicts: list[Conflict], order, commits: dict[str, Commit], steps: list[Step], owns) -> list[Conflict]:
    """The conflicts with the commit that resolved each (the first, from the merge on, with a
    ``Livemeta-Resolves: TRIAL`` trailer). A resolving commit that changes files is a revision of
    its own, with its note; the note of one that changes none goes with the merge's revision."""
    position = {sha: i for i, (sha, _) in enumerate(order)}
    by_sha = {s.commit.sha: s for s in steps}
    resolved = []
    for conflict in conflicts:
        after = [commits[s] for s, _ in order[position[conflict.merge.sha]:]]
        by = next((c for c in after if conflict.trial_id in c.trailers(RESOLVES)), None)
        if by is not None:
            if by.sha in by_sha:
                by_sha[by.sha].reviewed = True
            else:
                note = commit_note(by, owns)
                merge = by_sha[conflict.merge.sha]
                if note and note not in (merge.note or "").splitlines():
                    merge.note = note + ("\n" + merge.note if merge.note else "")
        resolved.append(Conflict(conflict.trial_id, conflict.path, conflict.merge, conflict.sides,
                                 by.short if by is not None else None))
    return resolved


def _uncommitted(git: Git, paths: _Paths) -> list[tuple[str, str]]:
    """The project's files that differ from HEAD or that git does not track: (status, path)."""
    return [(kind, paths.rel(p)) for kind, p in git.uncommitted(paths.all()) if paths.relevant(p)]


def uncommitted_at(project: Project, sha: str) -> list[tuple[str, str]] | None:
    """When the history ends at the commit ``sha`` (the last a database replayed), the uncommitted
    files as :func:`read_history` lists them, without reading the history: HEAD is ``sha``, or
    descends from it by commits that change none of the project's files (a README, the code). None
    when a later commit changed them, or HEAD does not descend from ``sha`` (or no git)."""
    git = Git.find(project.root)
    if git is None:
        return None
    paths = _Paths(git, project)
    head = git.head()
    if head is None or (head != sha and git.touched_since(sha, head, paths.all())):
        return None
    return _uncommitted(git, paths)


# ---------------------------------------------------------------------------------------------
# Replaying it into the database
# ---------------------------------------------------------------------------------------------


@dataclass
class Applied:
    """What replaying one commit did."""

    seq: int
    commit: Commit
    revision: int
    makes_revision: bool
    status: str  # applied | rejected | unchanged
    actions: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    results: list = field(default_factory=list, repr=False)  # the analyses at the revision (the last replayed only)
    kinds: list[str] = field(default_factory=list)  # what kinds of project file it changed (FILE_KINDS)
    note: str | None = None
    changed_files: list[str] = field(default_factory=list)  # the project's files other than study files
    folded: int = 0  # commits of a merged branch it brings as one revision
    baseline: bool = False  # the start of the history (revision 1)
    front: object = None  # livemeta.screening.replay.FrontChange: what it changed of the searches and the screening

    def line(self) -> str:
        """One line of ``livemeta build``: the revision, its commit, its note and what it changed."""
        if not self.makes_revision:
            text = f"(revision {self.revision}) {self.commit.short}: no change to what the evidence project owns"
            return text + (f"; names version {', '.join(self.versions)}" if self.versions else "")
        note = self.note.splitlines()[0] if self.note else "(no note)"
        text = f"revision {self.revision} {self.commit.short} {note}: "
        counts = _count(self.actions)
        if self.baseline:  # the start sets up everything: its trials say what it holds
            what = ", ".join(f"{n} {a}" for a, n in counts.items()) or "no trial changed"
        else:
            what = describe_change(self.kinds, counts, self.changed_files)
        if self.status == "rejected":
            n = len(self.problems)
            text += f"REJECTED under today's validation ({n} problem{'s' if n != 1 else ''}); what failed is not applied"
            if self.actions:
                text += f" ({what} applied)"
        else:
            text += what
        summary = self.front.summary() if self.front is not None else ""
        if summary:
            text += f"; {summary}"
        if self.folded:
            text += f"; a merge: the {self.folded} commit{'s' if self.folded != 1 else ''} of its branch in one revision"
        if self.versions:
            text += f"; names version {', '.join(self.versions)}"
        return text


def describe_change(kinds, counts: dict[str, int], files) -> str:
    """What a revision changed, in words: '2 added, 1 superseded', 'analyses only: queries/analyses.yaml'."""
    trials = ", ".join(f"{n} {a}" for a, n in counts.items())
    others = [k for k in kinds if k != "evidence"]
    where = f" ({', '.join(files)})" if files else ""
    if "evidence" not in kinds:
        if not others:
            return "no change (a merge whose conflict was reviewed)" if not trials else trials
        return f"{' and '.join(others)} only{where}"
    text = trials or "evidence changed"
    return text + (f"; {' and '.join(others)}{where}" if others else "")


def _count(actions: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in actions.values():
        if a != "unchanged":
            out[a] = out.get(a, 0) + 1
    return out


@dataclass
class _State:
    """What the replay carries from one commit to the next."""

    seq: int = 0
    revision: int = 0
    analyses_sha: str | None = None
    analyses: object = None  # livemeta.analysis.Analyses in force
    versions: set[str] = field(default_factory=set)
    identities: object = None  # livemeta.ingest.checks.Identities of the current trials
    frames: dict = field(default_factory=dict)  # analysis view -> its rows at `revision`
    results: dict = field(default_factory=dict)  # analysis id -> its AnalysisResult at `revision`
    stored: object = None  # livemeta.analysis.store.StoredEstimates as of `revision`
    others: dict | None = None  # project-relative path -> content key of the project's other files

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> _State:
        from ..analysis import parse_analyses

        rows = con.execute(named("commits")).fetchall()
        st = cls()
        if rows:
            st.seq = rows[-1][0]
            st.revision = rows[-1][2]
            st.analyses_sha = next((r[6] for r in reversed(rows) if r[6]), None)
        if st.analyses_sha:
            text = con.execute(named("analysis_file_at"), [st.revision]).fetchone()[0]
            st.analyses = parse_analyses(text, "analyses")
        st.versions = {r[0] for r in con.execute(named("versions")).fetchall()}
        return st


def _plain(v):
    """A view value in a form that compares equal however the view was read (NULL/NaN/NaT as
    None, numpy scalars as Python ones, arrays as tuples)."""
    import pandas as pd

    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "tolist"):
        v = v.tolist()
        return tuple(v) if isinstance(v, list) else _plain(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _same_in_order(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two frames with the same columns hold the same values row for row (a column's dtype
    aside: a frame put together from parts may hold a text column as object); False also when
    pandas cannot compare the values (lists, arrays), which :func:`_same_rows` then compares."""
    try:
        for c in a.columns:
            x, y = a[c].reset_index(drop=True), b[c].reset_index(drop=True)
            if x.dtype != y.dtype:
                x, y = x.astype(object), y.astype(object)
            if not x.equals(y):
                return False
        return True
    except (TypeError, ValueError):
        return False


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two frames of one view hold the same rows, in any order."""
    if len(a) != len(b):
        return False
    if a.empty:
        return True
    if list(a.columns) == list(b.columns) and _same_in_order(a, b):
        return True  # the usual case, a trial's rows read again unchanged: the same rows in the same order

    def rows(df):
        out = [tuple(_plain(v) for v in rec) for rec in df.itertuples(index=False, name=None)]
        return sorted(out, key=lambda r: tuple(x for x in r if isinstance(x, str)))

    return rows(a) == rows(b[a.columns]) if list(a.columns) == list(b.columns) else False


def _unchanged_input(spec, part) -> bool:
    """Whether the changed trials' rows of ``spec``'s view (``part``: before, after) leave the
    rows the analysis pools as they were."""
    from ..analysis.run import _filter

    if part is None:
        return False
    old, new = part
    if old.empty and new.empty:
        return True
    try:
        return _same_rows(_filter(old, spec), _filter(new, spec))
    except LivemetaError:
        return False


#: a revision that changes more trials than this reads each analysis view whole
_READ_WHOLE = 200


def _pool_all(con, analyses, revision: int, changed: set[str], st: _State) -> tuple[list, list]:
    """Every analysis at ``revision``: (all results, those computed now).

    An analysis is computed again only when its input changed: its spec, or the rows of its view
    for the trials this revision changed (the analysis views are per trial: a trial's rows depend
    on that trial's rows only). Each view's rows are kept from one revision to the next and only
    the changed trials' rows are read again. An analysis the engine cannot compute is stored as
    such."""
    from dataclasses import replace

    import pandas as pd

    from ..analysis import run_analysis
    from ..analysis.run import AnalysisResult, read_view

    specs = analyses.specs if analyses is not None else []
    frames, parts = {}, {}
    for view in dict.fromkeys(s.view for s in specs):
        cached = st.frames.get(view)
        if cached is None:
            frames[view], parts[view] = read_view(con, view, revision), None
        elif len(changed) > _READ_WHOLE:  # many trials changed: read the view whole
            whole = read_view(con, view, revision)
            frames[view], parts[view] = whole, (cached[cached["trial_id"].isin(changed)],
                                                whole[whole["trial_id"].isin(changed)])
        elif changed:
            mine = cached["trial_id"].isin(changed)
            new = read_view(con, view, revision, sorted(changed))
            kept = cached[~mine]
            frames[view] = pd.concat([kept, new], ignore_index=True) if not new.empty else kept.reset_index(drop=True)
            parts[view] = (cached[mine], new)
        else:
            frames[view], parts[view] = cached, (cached.iloc[:0], cached.iloc[:0])
    st.frames = frames
    views = {(v, revision): f for v, f in frames.items()}
    results, computed = [], []
    for spec in specs:
        before = st.results.get(spec.id)
        if before is not None and before.spec == spec and _unchanged_input(spec, parts[spec.view]):
            results.append(replace(before, revision=revision))
            continue
        try:
            res = run_analysis(con, spec, revision, views)
        except LivemetaError as exc:
            res = AnalysisResult(spec, revision, pd.DataFrame({"trial_id": []}), None, None, exc.message)
        results.append(res)
        computed.append(res)
    st.results = {r.spec.id: r for r in results}
    return results, computed


def _apply(con: duckdb.DuckDBPyConnection, project: Project, step: Step, blobs: dict[str, bytes], st: _State) -> Applied:
    """Replay one commit in one transaction: its revision, rows, problems, versions and estimates."""
    from ..analysis import parse_analyses
    from ..analysis.store import StoredEstimates
    from ..db import new_revision
    from ..db.connection import storage_errors, transaction
    from ..ingest import StudyBlob, _prepare
    from ..ingest.checks import Identities, Plan, check_against_db, held_elsewhere
    from ..ingest.write import revision_files, write_rows

    analyses_name = project.rel(project.analyses)
    problems: list[Problem] = []
    batch, plan = None, Plan()
    holders = dict(con.execute(named("current_trial_files")).fetchall()) if not step.baseline else {}
    if step.files:
        by_path = {path: tid for tid, path in holders.items()}
        removed = tuple(by_path[p] for p, b in step.files.items() if b is None and p in by_path)
        inputs = [StudyBlob(p, blobs[b]) for p, b in sorted(step.files.items()) if b is not None]
        if inputs:
            _, problems, batch = _prepare(inputs)
        if not problems:
            if st.identities is None:
                st.identities = Identities(con)
            problems, plan = check_against_db(con, batch, supersede=None, removed=removed, known=st.identities)
            problems += held_elsewhere(batch, holders, lambda s: s.name, step.present.__contains__)
            for study in batch.studies if batch is not None else []:  # a file moved: its new path is recorded
                if plan.actions.get(study.trial_id) == "unchanged" and holders.get(study.trial_id) != study.name:
                    plan.actions[study.trial_id] = "superseded"
    analyses, analyses_sha = st.analyses, st.analyses_sha
    analyses_text = None
    if step.analyses_deleted:
        problems.append(Problem(analyses_name, "", "the analyses file is missing from this commit"))
    elif step.analyses is not None:
        analyses_text = blobs[step.analyses].decode("utf-8", "replace")
        try:
            parsed = parse_analyses(analyses_text, analyses_name)
        except LivemetaError as exc:
            problems.append(Problem(analyses_name, "", exc.message))
        else:
            if parsed != st.analyses:
                analyses, analyses_sha = parsed, hashlib.sha256(analyses_text.encode()).hexdigest()

    from ..screening.replay import front_unit, plan_front, write_front

    front = plan_front(con, project, step, blobs)
    problems += front.problems
    studies_ok = not any(p.file != analyses_name and not front.owns(p.file) for p in problems)
    if not studies_ok:
        batch, plan = None, Plan()
    status = "rejected" if problems else "applied"
    kinds, changed_files, others = _kinds(step, plan, analyses_name, analyses_sha != st.analyses_sha, blobs, st,
                                          lambda path: front_unit(project, path))
    if status == "rejected":  # what it tried to change
        kinds |= {"evidence"} if step.files else set()
        kinds |= {kind.name for kind, _ in step.others.values()}
    makes_revision = step.baseline or status == "rejected" or bool(kinds) or step.reviewed
    if not makes_revision:
        status = "unchanged"
    kinds = [k for k in dict.fromkeys(k.name for k in FILE_KINDS) if k in kinds]
    names = {tid: path for tid, path in holders.items()}

    what = f"revision {st.revision + 1} (commit {step.commit.short}) was not written" if makes_revision else \
        f"commit {step.commit.short} was not recorded"
    with storage_errors(what=what, outcome=f"the database is still at revision {st.revision}"), transaction(con):
        revision = st.revision
        if makes_revision:
            revision = new_revision(
                con, author=step.commit.author, message=step.commit.message or "(no message)",
                kind="build" if step.baseline else "ingest", files=revision_files(batch, plan, names),
                created_at=step.commit.time, changes=kinds, note=step.note, changed_files=changed_files,
            )
        write_rows(con, batch, plan, revision)
        front_change = write_front(con, front, revision, trials_changed=any(a != "unchanged" for a in plan.actions.values()))
        if st.identities is not None:
            st.identities.written(batch, plan)
        if analyses_sha != st.analyses_sha:
            con.execute(named("analysis_file_insert"), [analyses_sha, analyses_text])
        for i, p in enumerate(problems, 1):
            con.execute(named("revision_problem_insert"), [revision, i, p.file, p.path or None, p.reason])
        seq = st.seq + 1
        con.execute(
            named("commit_insert"),
            [seq, step.commit.sha, revision, makes_revision, status, step.commit.email, analyses_sha],
        )
        new_versions = []
        if step.project_file is not None:
            try:
                versions = parse_versions(
                    parse_project_text(blobs[step.project_file].decode("utf-8", "replace"), PROJECT_FILE), PROJECT_FILE
                )
            except LivemetaError:
                versions = ()
            for v in versions:
                if v.name not in st.versions:
                    con.execute(named("version_insert"), [v.name, revision, step.commit.sha, v.description])
                    new_versions.append(v.name)
        results = []
        if makes_revision:
            changed = {t for t, a in plan.actions.items() if a != "unchanged"}
            if step.baseline or not kinds or any(k in _POOLED for k in kinds):
                results, computed = _pool_all(con, analyses, revision, changed, st)
                in_force = len(results)
            else:  # searches or screening only: no analysis reads what changed, every result stands
                results, computed = [], []
                in_force = len(analyses.specs) if analyses is not None else 0
            if st.stored is None:  # what was stored before this revision, its trial lists as they were then
                st.stored = StoredEstimates.read(con, st.revision)
            st.stored.store(con, computed, revision, in_force=in_force)
    st.seq, st.revision, st.analyses, st.analyses_sha = seq, revision, analyses, analyses_sha
    st.versions.update(new_versions)
    st.others = others
    actions = {t: a for t, a in plan.actions.items() if a != "unchanged"}
    return Applied(seq, step.commit, revision, makes_revision, status, actions, problems, new_versions, results,
                   kinds, step.note if makes_revision else None, changed_files, len(step.folded), step.baseline,
                   front_change)


#: the kinds of project file whose change can change what an analysis pools (FileKind.pooled)
_POOLED = frozenset(k.name for k in FILE_KINDS if k.pooled)


def _content(kind: FileKind, blob: str | None, blobs: dict[str, bytes]) -> str | None:
    """What a YAML or JSON file of the project says, comments and layout aside (and without the keys
    its kind ignores), as comparable text; the bytes' hash for a file that is not YAML; the blob id
    for a file of a kind compared by its bytes (never read here)."""
    import yaml

    if blob is None:
        return None
    if not kind.by_content:
        return "blob " + blob
    raw = blobs[blob]
    try:
        doc = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return "bytes " + hashlib.sha256(raw).hexdigest()
    if isinstance(doc, dict) and kind.ignored_keys:
        doc = {k: v for k, v in doc.items() if k not in kind.ignored_keys}
    return json.dumps(doc, sort_keys=True, default=str)


def _kinds(step: Step, plan, analyses_name: str, analyses_changed: bool, blobs: dict[str, bytes], st: _State,
           unit=lambda path: path):
    """The kinds of project file a commit changed (a set of names), the files other than study files
    it changed (sorted; ``unit(path)`` names a file as the listing shows it: a search run's files as
    its folder), and the content of those files after it. Study files count when they change rows;
    the analyses file when what it says changed (:func:`_apply` parses it); the other files when
    their content changed (:func:`_content`)."""
    kinds: set[str] = set()
    files: list[str] = []
    if any(a != "unchanged" for a in plan.actions.values()):
        kinds.add("evidence")
    if analyses_changed or (step.baseline and step.analyses is not None):
        kinds.add("analyses")
        files.append(analyses_name)
    others = dict(st.others or {})
    for path, (kind, blob) in step.others.items():
        if path == analyses_name:
            continue
        content = _content(kind, blob, blobs)
        if step.baseline or others.get(path) != content:
            kinds.add(kind.name)
            files.append(unit(path))
        others[path] = content
    return kinds, sorted(set(files)), others


def replay(con: duckdb.DuckDBPyConnection, history: History, steps: list[Step], progress=None) -> list[Applied]:
    """Apply ``steps`` (the next ones after what the database holds) in order."""
    from ..screening.replay import front_blobs

    st = _State.read(con)
    wanted = [b for s in steps for b in (*s.files.values(), s.analyses, s.project_file, *front_blobs(history.project, s))
              if b]
    wanted += [b for s in steps for k, b in s.others.values() if b and k.by_content]
    first = len(history.steps) - len(steps)  # the project's other files as the database has them
    before = history.steps[first - 1].others_after if steps and first > 0 else {}
    wanted += [b for k, b in before.values() if k.by_content]
    blobs = history.git.blobs(wanted)
    st.others = {path: _content(kind, b, blobs) for path, (kind, b) in before.items()}
    out = []
    for step in steps:
        if progress:
            progress(f"{step.commit.short} {step.commit.subject}"[:60])
        if out:
            out[-1].results = []  # only the last revision's results are kept (its rows: ingest's coverage)
        out.append(_apply(con, history.project, step, blobs, st))
    return out


# ---------------------------------------------------------------------------------------------
# Keeping the database in step with the repository
# ---------------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What ``livemeta build`` did."""

    database: Path
    mode: str  # "up to date", "updated", "rebuilt", "created"
    applied: list[Applied]
    head: str
    revision: int
    uncommitted: list[tuple[str, str]]
    renumbered: list[tuple[int, int, str]] = field(default_factory=list)  # old, new, commit
    backup: Path | None = None
    earlier_commits: int = 0
    damaged: str | None = None  # why the old file could not be read (it was kept as `backup`)
    #: revisions of the old database whose commit this history no longer has (a rebase, a reset, a
    #: switch of branch): (revision, commit, note); the old file is kept as `backup`
    dropped: list[tuple[int, str, str | None]] = field(default_factory=list)
    #: revisions of the old database now part of one revision of a merge: (old, new, commit, merge)
    folded: list[tuple[int, int, str, str]] = field(default_factory=list)
    recover: str | None = None  # how to get the dropped revisions back
    busy: str | None = None  # a git operation under way (a rebase, a merge, ...): the history may move again

    def dropped_lines(self) -> list[str]:
        """What ``livemeta build`` says of the revisions that left the history (empty: none)."""
        if not self.dropped:
            return []
        lines = [f"revision {rid} (commit {sha[:9]}: {(note or '(no note)').splitlines()[0]!r}) is no longer in the "
                 f"history of HEAD ({self.head[:9]}): the history was rewritten (a rebase or a reset) or another "
                 "branch is checked out; the rebuilt database does not have it" for rid, sha, note in self.dropped]
        if self.backup:
            lines.append(f"the database as it was is kept as {self.backup}")
        if self.recover:
            lines.append(f"to get {'them' if len(self.dropped) > 1 else 'it'} back: {self.recover}")
        return lines

    @property
    def rejected(self) -> list[Applied]:
        return [a for a in self.applied if a.status == "rejected"]


def _stored_commits(con) -> list[tuple]:
    from ..db import schema_version

    return con.execute(named("commits")).fetchall() if schema_version(con) >= 4 else []


def _unreproducible(con, git: Git) -> list[str]:
    """Revisions of the database that no commit of the repository can reproduce, described."""
    from ..db import schema_version

    legacy = con.execute(named("legacy_revisions" if schema_version(con) >= 4 else "revisions_brief")).fetchall()
    out = [
        f"revision {rid} ({created:%Y-%m-%d %H:%M} UTC, {author}: {message.splitlines()[0] if message else ''!r}) "
        "was written before livemeta kept its history in git, or outside it"
        for rid, created, author, message in legacy
    ]
    for seq, sha, rid, makes, *_ in _stored_commits(con):
        if makes and not git.has_commit(sha):
            out.append(f"revision {rid} comes from commit {sha[:9]}, which this repository does not have")
    return out


def _inspect(db: Path, git: Git, wait: float) -> tuple[list[tuple], list[str], int | None, bool, dict[int, str]]:
    """The commits a database was built from, its revisions no commit reproduces, its current
    revision, whether it must be replayed again (its schema is older than this livemeta's, or its
    revisions lack their kinds) and each revision's note; read-only, at whatever schema version it
    is (a newer one is refused)."""
    from ..db import current_revision, schema_version
    from ..db.connection import open_connection, storage_errors
    from ..db.migrations import check_schema, migrations

    con = open_connection(db, read_only=True, wait=wait)
    try:
        with storage_errors(db):
            check_schema(con, db, writable=True)
            if schema_version(con) == 0:  # not a livemeta database: keep it aside, as damaged
                raise StorageFailed(f"{db} is not a livemeta database", hint="")
            outdated = schema_version(con) < migrations()[-1].version
            if schema_version(con) >= 8:
                rows = con.execute(named("revision_notes")).fetchall()
                notes = {rid: note for rid, note, _ in rows}
                outdated = outdated or not all(known for _, _, known in rows)
            else:
                notes = {rid: message for rid, _, _, message in con.execute(named("revisions_brief")).fetchall()}
            return _stored_commits(con), _unreproducible(con, git), current_revision(con), outdated, notes
    finally:
        con.close()


def backup_path(db: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return db.with_name(f"{db.name}.{stamp}.bak")


def check_conflicts(history: History) -> None:
    if history.unresolved:
        text = "\n".join(c.describe() for c in history.unresolved)
        trials = " ".join(sorted({c.trial_id for c in history.unresolved}))
        raise HistoryError(
            f"merge conflict in the evidence, nothing was written:\n{text}",
            hint=f"review the merged study file; when it is right (or after you corrected and committed it), "
            f"record the resolution with `livemeta resolve {trials} -m \"...\"`, then run `livemeta build`",
        )


def sync(project: Project, db: Path, *, wait: float = 10.0, backup: bool = False, progress=None) -> SyncReport:
    """Bring the database in step with the repository's history (``livemeta build``).

    Appends the commits the database lacks when its history is a prefix of the repository's;
    otherwise rebuilds it beside the old file and moves it into place. Refuses (nothing written)
    when the database holds revisions the repository cannot reproduce, unless ``backup`` is set:
    then the old file is moved aside first (:attr:`SyncReport.backup` says where).
    """
    from ..db import connect

    history = read_history(project)
    check_conflicts(history)
    steps = history.steps
    db = Path(db)
    db_existed = db.exists()
    old, lost, damaged, notes, stored = {}, [], None, {}, []
    if db.exists():
        shas = [s.commit.sha for s in steps]
        try:  # look first: a refusal writes nothing
            stored, lost, revision, outdated, notes = _inspect(db, history.git, wait)
        except StorageFailed as exc:  # a damaged file: kept aside, rebuilt (the remedy its message names)
            stored, damaged, outdated = [], exc.message, False
        # a database of an older schema is rebuilt: today's code may read its commits otherwise
        if not lost and not damaged and not outdated and [r[1] for r in stored] == shas:
            return SyncReport(db, "up to date", [], history.head, revision, history.uncommitted,
                              earlier_commits=history.earlier_commits)
        if lost and not backup:
            raise HistoryWouldBeLost(
                f"{db} holds {len(lost)} revision{'s' if len(lost) != 1 else ''} this repository cannot "
                "reproduce; rebuilding would lose them, so nothing was done:\n  " + "\n  ".join(lost),
                hint="keep them by checking out the branch or clone that made them; or pass --backup to "
                "move this file aside (kept as a .bak beside it) and rebuild from the repository",
            )
        if not lost and not damaged and not outdated and [r[1] for r in stored] == shas[: len(stored)]:
            with connect(db, wait=wait) as con:
                stored = _stored_commits(con)  # again, now that we hold the file
                if [r[1] for r in stored] == shas[: len(stored)]:
                    applied = replay(con, history, steps[len(stored):], progress)
                    revision = _State.read(con).revision
                    mode = "updated" if applied else "up to date"
                    return SyncReport(db, mode, applied, history.head, revision, history.uncommitted,
                                      earlier_commits=history.earlier_commits)
        old = {sha: rid for _, sha, rid, makes, *_ in stored if makes}
    in_history, folded = {s.commit.sha for s in steps}, history.folded_into()
    dropped = [(rid, sha, notes.get(rid)) for sha, rid in old.items() if sha not in in_history and sha not in folded]
    report = _rebuild(history, db, wait=wait, progress=progress, backup=backup or bool(damaged) or bool(dropped),
                      damaged=damaged)
    new = {a.commit.sha: a.revision for a in report.applied if a.makes_revision}
    report.renumbered = sorted((rid, new[sha], sha) for sha, rid in old.items() if sha in new and new[sha] != rid)
    report.folded = sorted((rid, new[folded[sha]], sha, folded[sha]) for sha, rid in old.items()
                           if sha not in in_history and folded.get(sha) in new)
    report.dropped = sorted(dropped)
    if dropped:
        report.recover = _recovery(history.git, stored[-1][1], report.backup)
    report.mode = "created" if not db_existed else "rebuilt"
    busy = history.git.in_progress()
    report.busy = busy[0] if busy else None
    return report


def _recovery(git: Git, tip: str, backup: Path | None) -> str:
    """How to get back the revisions of a database whose last replayed commit was ``tip``, after the
    history moved away from it: the branch that still has it, else the commit itself (git's reflog
    keeps it for a while)."""
    if not git.has_commit(tip):
        return f"only the kept database has them (commit {tip[:9]} is no longer in this repository)" + (
            f": {backup}" if backup else "")
    branches = git.branches_containing(tip)
    if branches:
        return (f"they are on branch {branches[0]}: `git switch {branches[0]} && livemeta build` shows them again "
                "(merge that branch to bring them into this one)")
    return (f"the database followed commit {tip[:9]}, which git's reflog still has (`git reflog`): "
            f"`git branch recovered {tip[:9]}` keeps it, then `git switch recovered && livemeta build` shows them "
            f"again (or `git reset --hard {tip[:9]}` undoes the rewrite)")


def _rebuild(history: History, db: Path, *, wait: float, progress, backup: bool, damaged: str | None = None) -> SyncReport:
    """Replay the whole history into a new file beside ``db`` and move it into place; a failure
    leaves ``db`` as it was."""
    from ..db import connect

    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(db.name + ".building")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    kept = None
    try:
        with connect(tmp, wait=wait) as con:
            applied = replay(con, history, history.steps, progress)
            revision = _State.read(con).revision
        if db.exists():
            if not damaged:
                with connect(db, wait=wait, migrate=False):  # nobody may be writing it while we swap
                    pass
            if backup:
                kept = backup_path(db)
                shutil.copy2(db, kept)
        os.replace(tmp, db)
        Path(str(db) + ".wal").unlink(missing_ok=True)
    except (HistoryError, DatabaseLocked):
        raise
    except (LivemetaError, OSError) as exc:
        left = f"{db} was left as it was" if db.exists() else f"no database was made at {db}"
        cause = exc.message if isinstance(exc, LivemetaError) else f"{exc.strerror or exc}"
        raise LivemetaError(f"the build failed; {left}: {cause}", hint=getattr(exc, "hint", None)) from None
    finally:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
    report = SyncReport(db, "rebuilt", applied, history.head, revision, history.uncommitted, backup=kept,
                        earlier_commits=history.earlier_commits)
    report.damaged = damaged
    return report


__all__ = [
    "Applied",
    "Conflict",
    "History",
    "HistoryError",
    "HistoryWouldBeLost",
    "Step",
    "SyncReport",
    "check_conflicts",
    "linearize",
    "read_history",
    "replay",
    "sync",
]
