"""Changing the searches and the screening of a project: validate, write the files, commit, replay.

Every command that changes ``searches/`` or ``screening/`` (``search add``, ``search keep-apart`` /
``merge``, ``screen decide`` / ``import`` / ``resolve`` / ``init`` / ``commit``) goes through
:func:`change_front`: while it holds the database, it brings the database up to date with the
history, checks the new content of the files exactly as the replay of the commit will
(:func:`livemeta.screening.replay.plan_front` on the tree the commit would make), and only then
writes the files; with a message it commits them (only them) and replays the commit as a revision.
A problem anywhere raises :class:`~livemeta.errors.ValidationFailed` with nothing written; a failed
commit puts the files back as they were.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LivemetaError, ValidationFailed
from ..project import FILE_KINDS, FRONT_KINDS, Project
from ..sql import named


@dataclass
class FrontResult:
    """What a change of the searches or the screening did."""

    written: list[str]  # project-relative paths written
    commit: str | None = None
    applied: list = field(default_factory=list)  # livemeta.living.history.Applied
    caught_up: list = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def revision(self) -> int | None:
        revs = [a.revision for a in self.applied if a.makes_revision]
        return revs[-1] if revs else None

    @property
    def change(self):
        """The :class:`~livemeta.screening.replay.FrontChange` of the revision made (None if none)."""
        return next((a.front for a in reversed(self.applied) if a.front is not None), None)


def _front_paths(proj: Project) -> list[Path]:
    return [proj.searches, proj.screening]


def _owned(path: str) -> bool:
    """Whether a file in the searches or screening folder is one of theirs (not a README, not hidden:
    livemeta.project.FILE_KINDS)."""
    name = posixpath.basename(path)
    return all(k.holds(name) for k in FILE_KINDS if k.name in FRONT_KINDS)


def head_front(history, proj: Project) -> dict[str, str]:
    """The search and screening files at HEAD: project-relative path -> blob id."""
    git = history.git
    head = history.head
    tree = git.tree(head, [git.relative(p) for p in _front_paths(proj)]) if head else {}
    prefix = git.relative(proj.root)
    prefix = "" if prefix in ("", ".") else prefix + "/"
    return {p[len(prefix):] if prefix and p.startswith(prefix) else p: b for p, b in tree.items() if _owned(p)}


def check_front(con, proj: Project, history, changes: dict[str, bytes | None], base: dict[str, bytes] | None = None):
    """Check ``changes`` (project-relative path -> new content, None: deleted) as the replay of a
    commit of them on top of HEAD would (plus ``base``: other files taken as they are in the working
    tree, e.g. decisions not committed yet). Raises ValidationFailed."""
    from ..screening.replay import FrontStep, plan_front

    tree = head_front(history, proj)
    all_changes = {**(base or {}), **changes}
    blobs: dict[str, bytes] = {}
    for p, content in all_changes.items():
        if content is None:
            tree.pop(p, None)
        else:
            tree[p] = f"new:{p}"
            blobs[f"new:{p}"] = content
    wanted = [b for b in tree.values() if not b.startswith("new:")]
    from ..screening.replay import front_blobs

    step = FrontStep({p: tree.get(p) for p in all_changes}, tree)
    needed = set(front_blobs(proj, step))
    blobs.update(history.git.blobs([b for b in wanted if b in needed]))
    plan = plan_front(con, proj, step, blobs)
    if plan.problems:
        raise ValidationFailed(plan.problems)
    return plan


def change_front(proj: Project, db: Path, *, prepare, message: str | None, author: str | None = None,
                 wait: float = 10.0) -> FrontResult:
    """Bring the database up to date, ``prepare(con, history)`` -> (changes, details) (the new
    content of project-relative paths, checked with :func:`check_front` by ``prepare`` or here),
    write them, and with ``message`` commit them and replay the commit."""
    from ..db import connect
    from ..errors import StorageFailed
    from ..living.history import HistoryError, check_conflicts, read_history, replay

    if message is not None and not message.strip():
        raise LivemetaError("a revision needs a message", hint='pass -m "what this change records and why"')
    sha = None
    try:
        with connect(db, wait=wait) as con:
            history = read_history(proj)
            check_conflicts(history)
            stored = con.execute(named("commits")).fetchall()
            shas = [s.commit.sha for s in history.steps]
            if [r[1] for r in stored] != shas[: len(stored)] or con.execute(named("legacy_revisions")).fetchall():
                raise HistoryError(f"{db} does not follow this repository's history",
                                   hint="run `livemeta build` first (it says what it would change)")
            caught_up = replay(con, history, history.steps[len(stored):])
            changes, details = prepare(con, history)
            result = FrontResult(sorted(changes), caught_up=caught_up, details=details)
            old = _write(proj, changes)
            if message is None:
                return result
            git = history.git
            rel = [git.relative(proj.root / p) for p in sorted(changes)]
            try:
                sha = git.commit(rel, message, author=author)
            except BaseException:
                _restore(proj, old)
                raise
            result.commit = sha
            after = read_history(proj)
            result.applied = replay(con, after, after.steps[len(stored) + len(caught_up):])
            return result
    except StorageFailed as exc:
        if sha is None:
            raise StorageFailed(f"{exc.message}; nothing was committed to git", hint=exc.hint) from None
        raise StorageFailed(f"committed {sha[:9]} to git, but the database could not record it: {exc.message}",
                            hint="free some disk space, then run `livemeta build`: it replays the commit") from None


def _write(proj: Project, changes: dict[str, bytes | None]) -> dict[str, bytes | None]:
    """Write ``changes`` into the working tree; returns what was there before (to put it back)."""
    old: dict[str, bytes | None] = {}
    try:
        for rel, content in sorted(changes.items()):
            path = proj.root / rel
            old[rel] = path.read_bytes() if path.is_file() else None
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".livemeta-tmp")
                tmp.write_bytes(content)
                os.replace(tmp, path)
    except OSError as exc:
        _restore(proj, old)
        raise LivemetaError(f"cannot write {rel}: {exc.strerror or exc}; nothing was written") from None
    return old


def _restore(proj: Project, old: dict[str, bytes | None]) -> None:
    for rel, content in old.items():
        path = proj.root / rel
        try:
            if content is None:
                path.unlink(missing_ok=True)
                parent = path.parent
                while parent != proj.root and parent.is_dir() and not any(parent.iterdir()):
                    parent.rmdir()
                    parent = parent.parent
            else:
                path.write_bytes(content)
        except OSError:
            pass


def working_front(proj: Project, history) -> dict[str, bytes | None]:
    """The search and screening files whose working copy differs from HEAD (uncommitted), with
    their content (None: deleted)."""
    git = history.git
    out: dict[str, bytes | None] = {}
    for kind, p in git.uncommitted([git.relative(f) for f in _front_paths(proj)]):
        rel = proj.rel(git.root / p)
        path = proj.root / rel
        if rel.endswith(".livemeta-tmp") or not _owned(rel):
            continue
        out[rel] = path.read_bytes() if path.is_file() else None
    return out
