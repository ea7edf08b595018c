"""The evidence history is the project's git history; the database is a cache rebuilt from it.

**Revisions.** The history starts at the commit that adds the project file (``livemeta.yaml``):
its study files are revision 1. After it, every commit that changes a study file (in the
project's studies folder) or the analyses file is one revision, with the commit's message,
author and (committer) time. A commit that changes neither makes no revision; if it changes the
project file, the versions it names point at the revision in force.

**One linear history.** Commits are taken in a fixed order that keeps each first-parent line
first: the history of a merge's first parent, then the commits its other parents bring, then the
merge itself (which makes a revision only if its tree differs from what the branches gave, e.g. a
resolved conflict). Two clones that merged the same commits therefore replay the same revisions
in the same order, and a clone's own history stays a prefix of the merged one.

**A trial changed on both sides of a merge** is a conflict: the build stops and names the trial
and the commits, until a later commit records the resolution with a ``Livemeta-Resolves: TRIAL``
trailer (``livemeta resolve TRIAL`` writes one).

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
import os
import posixpath
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ..errors import DatabaseLocked, LivemetaError, Problem, StorageFailed
from ..gitrepo import Commit, Git
from ..project import PROJECT_FILE, Project, parse_project_text, parse_versions
from ..sql import named

if TYPE_CHECKING:  # (annotations only: pandas is loaded where rows are read)
    import pandas as pd

STUDY_SUFFIXES = (".yaml", ".yml", ".json")
RESOLVES = "Livemeta-Resolves"


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
    front: dict[str, str | None] = field(default_factory=dict)  # search/screening paths changed -> blob (None: deleted)
    front_tree: dict[str, str] = field(default_factory=dict)  # when `front`: every search/screening path -> blob


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


def linearize(commits: dict[str, Commit], head: str) -> list[str]:
    """Every commit reachable from ``head``, parents before children, each first parent's whole
    history before the commits a merge's other parents bring (oldest first)."""
    order: list[str] = []
    done: set[str] = set()
    stack: list[tuple[str, bool]] = [(head, False)]
    while stack:
        sha, expanded = stack.pop()
        if sha in done:
            continue
        if expanded:
            done.add(sha)
            order.append(sha)
            continue
        stack.append((sha, True))
        for parent in reversed(commits[sha].parents):
            if parent in commits and parent not in done:
                stack.append((parent, False))
    return order


class _Paths:
    """The project's paths as git names them (relative to the repository's top level)."""

    def __init__(self, git: Git, project: Project):
        self.root = git.relative(project.root)
        self.studies = git.relative(project.studies)
        self.analyses = git.relative(project.analyses)
        self.file = git.relative(project.file)
        self.searches = git.relative(project.searches)
        self.screening = git.relative(project.screening)
        self.prefix = "" if self.root in ("", ".") else self.root + "/"

    def is_study(self, path: str) -> bool:
        return posixpath.dirname(path) == self.studies and path.lower().endswith(STUDY_SUFFIXES)

    def kind(self, path: str) -> str | None:
        """Which part of the project a path is, and so what its change makes of a commit: ``study``
        and ``analyses`` (the evidence and the analyses), ``search`` and ``screening`` (search runs,
        screening protocol and decisions: :mod:`livemeta.screening.replay`), ``project`` (the
        project file: versions), or None (no part of the history: code, README, ...)."""
        if self.is_study(path):
            return "study"
        if path == self.analyses:
            return "analyses"
        if path == self.file:
            return "project"
        if path.startswith(self.searches + "/"):
            return "search"
        if path.startswith(self.screening + "/"):
            return "screening"
        return None

    def relevant(self, path: str) -> bool:
        return self.kind(path) is not None

    def rel(self, path: str) -> str:
        """A git path as a project-relative one (how the history records study files)."""
        return path[len(self.prefix):] if self.prefix and path.startswith(self.prefix) else path

    def all(self) -> list[str]:
        return [self.studies, self.analyses, self.file, self.searches, self.screening]


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


def _merge(git: Git, paths: _Paths, merge: Commit) -> tuple[dict[str, str], list[Conflict]]:
    """A merge commit's project files (path -> blob) and :func:`_conflicts`, read once per process."""
    key = (str(git.root), tuple(paths.all()), merge.sha)
    if key not in _MERGES:
        tree = {p: b for p, b in git.tree(merge.sha, paths.all()).items() if paths.relevant(p)}
        if len(_MERGES) > 10_000:
            _MERGES.clear()
        _MERGES[key] = (tree, _conflicts(git, paths, merge))
    return _MERGES[key]


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
    order = linearize(commits, head)
    start_index = next(
        (i for i, sha in enumerate(order) if any(ch.path == paths.file and ch.blob for ch in commits[sha].changes)),
        None,
    )
    shallow = git.shallow_commits()
    if shallow and (start_index is None or order[start_index] in shallow):
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
    start = commits[order[start_index]]
    earlier = sum(1 for sha in order[:start_index] if any(paths.is_study(ch.path) for ch in commits[sha].changes))

    state = git.tree(start.sha, paths.all())
    state = {p: b for p, b in state.items() if paths.relevant(p)}
    present = {paths.rel(p) for p in state if paths.is_study(p)}  # kept as commits change it
    steps = [
        Step(
            commit=start,
            files={paths.rel(p): b for p, b in sorted(state.items()) if paths.is_study(p)},
            analyses=state.get(paths.analyses),
            analyses_deleted=paths.analyses not in state,
            project_file=state.get(paths.file),
            present=frozenset(present),
            baseline=True,
            **_front(paths, state, state),
        )
    ]
    conflicts: list[Conflict] = []
    descendants = {start.sha}
    for sha in order[start_index + 1:]:
        c = commits[sha]
        if not any(p in descendants for p in c.parents):
            continue  # on a branch that left before the project began: it arrives with its merge
        descendants.add(sha)
        if len(c.parents) <= 1:
            changed = {ch.path: ch.blob for ch in c.changes if paths.relevant(ch.path)}
        else:
            tree, found = _merge(git, paths, c)
            changed = {p: b for p, b in tree.items() if state.get(p) != b}
            changed.update({p: None for p in state if p not in tree})
            conflicts += found
        if not changed:
            continue
        for p, b in changed.items():
            if b is None:
                state.pop(p, None)
                present.discard(paths.rel(p))
            else:
                state[p] = b
                if paths.is_study(p):
                    present.add(paths.rel(p))
        steps.append(
            Step(
                commit=c,
                files={paths.rel(p): b for p, b in sorted(changed.items()) if paths.is_study(p)},
                analyses=changed.get(paths.analyses),
                analyses_deleted=paths.analyses in changed and changed[paths.analyses] is None,
                project_file=changed.get(paths.file),
                present=frozenset(present),
                **_front(paths, changed, state),
            )
        )
    # a conflict is resolved by a later commit's `Livemeta-Resolves: TRIAL` trailer
    position = {sha: i for i, sha in enumerate(order)}
    resolved = []
    for conflict in conflicts:
        after = [commits[s] for s in order[position[conflict.merge.sha]:]]
        by = next((c.short for c in after if conflict.trial_id in c.trailers(RESOLVES)), None)
        resolved.append(Conflict(conflict.trial_id, conflict.path, conflict.merge, conflict.sides, by))
    return History(project, git, head, steps, resolved, _uncommitted(git, paths), earlier)


def _front(paths: _Paths, changed: dict[str, str | None], state: dict[str, str]) -> dict:
    """A step's search and screening changes, with the whole of those folders when they changed."""
    front = {paths.rel(p): b for p, b in sorted(changed.items()) if paths.kind(p) in ("search", "screening")}
    if not front:
        return {}
    tree = {paths.rel(p): b for p, b in sorted(state.items()) if paths.kind(p) in ("search", "screening")}
    return {"front": front, "front_tree": tree}


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
    front: object = None  # livemeta.screening.replay.FrontChange: the searches and screening it changed

    def line(self) -> str:
        what = ", ".join(f"{n} {a}" for a, n in _count(self.actions).items()) or "no trial changed"
        head = f"revision {self.revision}" if self.makes_revision else f"(revision {self.revision})"
        text = f"{head} {self.commit.short} {self.commit.subject}: "
        if self.status == "rejected":
            n = len(self.problems)
            text += f"REJECTED under today's validation ({n} problem{'s' if n != 1 else ''}); what failed is not applied"
            if self.actions:
                text += f" ({what} applied)"
        elif self.status == "unchanged":
            text += "no change to the evidence or the analyses"
        elif self.actions or self.front is None or not self.front.summary():
            text += what
        if self.front is not None and self.front.summary():
            text += ("" if text.endswith(": ") else "; ") + self.front.summary()
        if self.versions:
            text += f"; names version {', '.join(self.versions)}"
        return text


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


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two frames of one view hold the same rows, in any order."""
    if len(a) != len(b):
        return False
    if a.empty:
        return True

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

    from ..screening.replay import plan_front, write_front

    front = plan_front(con, project, step, blobs)
    problems += front.problems
    studies_ok = not any(p.file != analyses_name and not front.owns(p.file) for p in problems)
    if not studies_ok:
        batch, plan = None, Plan()
    status = "rejected" if problems else "applied"
    changed = any(a != "unchanged" for a in plan.actions.values()) or analyses_sha != st.analyses_sha or front.changed
    makes_revision = step.baseline or status == "rejected" or changed
    if not makes_revision:
        status = "unchanged"
    names = {tid: path for tid, path in holders.items()}

    what = f"revision {st.revision + 1} (commit {step.commit.short}) was not written" if makes_revision else \
        f"commit {step.commit.short} was not recorded"
    with storage_errors(what=what, outcome=f"the database is still at revision {st.revision}"), transaction(con):
        revision = st.revision
        if makes_revision:
            revision = new_revision(
                con, author=step.commit.author, message=step.commit.message or "(no message)",
                kind="build" if step.baseline else "ingest", files=revision_files(batch, plan, names),
                created_at=step.commit.time,
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
            if changed or analyses_sha != st.analyses_sha or step.baseline:
                results, computed = _pool_all(con, analyses, revision, changed, st)
                in_force = len(results)
            else:  # a search or screening revision: no analysis reads what changed, every result stands
                results, computed = [], []
                in_force = len(analyses.specs) if analyses is not None else 0
            if st.stored is None:  # what was stored before this revision, its trial lists as they were then
                st.stored = StoredEstimates.read(con, st.revision)
            st.stored.store(con, computed, revision, in_force=in_force)
    st.seq, st.revision, st.analyses, st.analyses_sha = seq, revision, analyses, analyses_sha
    st.versions.update(new_versions)
    actions = {t: a for t, a in plan.actions.items() if a != "unchanged"}
    return Applied(seq, step.commit, revision, makes_revision, status, actions, problems, new_versions, results,
                   front_change)


def replay(con: duckdb.DuckDBPyConnection, history: History, steps: list[Step], progress=None) -> list[Applied]:
    """Apply ``steps`` (the next ones after what the database holds) in order."""
    st = _State.read(con)
    from ..screening.replay import front_blobs

    wanted = [b for s in steps for b in (*s.files.values(), s.analyses, s.project_file, *front_blobs(history.project, s)) if b]
    blobs = history.git.blobs(wanted)
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

    @property
    def rejected(self) -> list[Applied]:
        return [a for a in self.applied if a.status == "rejected"]


def _stored_commits(con) -> list[tuple]:
    from ..db import schema_version

    return con.execute(named("commits")).fetchall() if schema_version(con) >= 4 else []


def _unreproducible(con, git: Git) -> list[str]:
    """Revisions of the database that no commit of the repository can reproduce, described."""
    from ..db import list_revisions, schema_version

    if schema_version(con) >= 4:
        legacy = con.execute(named("legacy_revisions")).fetchall()
    else:
        legacy = [(r.revision_id, r.created_at, r.author, r.message) for r in list_revisions(con)]
    out = [
        f"revision {rid} ({created:%Y-%m-%d %H:%M} UTC, {author}: {message.splitlines()[0] if message else ''!r}) "
        "was written before livemeta kept its history in git, or outside it"
        for rid, created, author, message in legacy
    ]
    for seq, sha, rid, makes, *_ in _stored_commits(con):
        if makes and not git.has_commit(sha):
            out.append(f"revision {rid} comes from commit {sha[:9]}, which this repository does not have")
    return out


def _inspect(db: Path, git: Git, wait: float) -> tuple[list[tuple], list[str], int | None, bool]:
    """The commits a database was built from, its revisions no commit reproduces, its current
    revision and whether its schema is older than this livemeta's; read-only, at whatever schema
    version it is (a newer one is refused)."""
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
            return _stored_commits(con), _unreproducible(con, git), current_revision(con), outdated
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
    old, lost, damaged = {}, [], None
    if db.exists():
        shas = [s.commit.sha for s in steps]
        try:
            stored, lost, revision, outdated = _inspect(db, history.git, wait)  # look first: a refusal writes nothing
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
    report = _rebuild(history, db, wait=wait, progress=progress, backup=backup or bool(damaged), damaged=damaged)
    new = {a.commit.sha: a.revision for a in report.applied if a.makes_revision}
    report.renumbered = sorted((rid, new[sha], sha) for sha, rid in old.items() if sha in new and new[sha] != rid)
    report.mode = "created" if not db_existed else "rebuilt"
    return report


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
