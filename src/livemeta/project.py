"""Evidence projects: a review team's evidence, apart from livemeta's own files.

An evidence project is a folder, usually a git repository, with a project file ``livemeta.yaml``
that names its study-file folder, its analyses file, its database (a cache, never committed) and
its named versions::

    livemeta_project: 1
    name: PD-(L)1 inhibitor rechallenge in advanced NSCLC
    studies: data/studies            # one study file per trial
    analyses: queries/analyses.yaml  # the analyses, with the published figures
    database: data/livemeta.duckdb   # rebuilt from git by `livemeta build`
    versions:                        # named versions of the evidence (see below)
      - name: review-2025
        description: the evidence set of the published review
        screening: {...}             # optional: the PRISMA 2020 counts of its search
    grade: grade.yaml                # optional: the reviewed GRADE judgements of the report

Paths are relative to the project file. A command finds the project from ``--project DIR``, else
``$LIVEMETA_PROJECT``, else the working directory and its parents. ``livemeta new-project DIR``
scaffolds one. This repository is itself a project (its ``livemeta.yaml`` names ``data/studies``
and ``queries/analyses.yaml``): the bundled evidence base.

A named version is the evidence as it stood when its entry was committed to the project file:
adding ``review-2026`` to ``versions`` in a commit names the revision in force at that commit.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import LivemetaError

PROJECT_FILE = "livemeta.yaml"
FORMAT = 1
_KEYS = {"livemeta_project", "name", "studies", "analyses", "database", "versions", "grade"}
_VERSION_KEYS = {"name", "description", "screening"}
#: the PRISMA 2020 counts a version may record of its search (all optional; see parse_screening)
SCREENING_COUNTS = ("identified", "duplicates_removed", "screened", "excluded_at_screening", "reports_sought",
                    "reports_not_retrieved", "reports_assessed", "reports_excluded")
VERSION_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,62}$")


class NoProject(LivemetaError):
    """No evidence project was found or named."""


@dataclass(frozen=True)
class Version:
    name: str
    description: str | None = None
    screening: dict | None = None  # PRISMA counts of the version's search, as recorded (parse_screening)


@dataclass(frozen=True)
class Project:
    """An evidence project; every path is absolute."""

    root: Path
    name: str
    studies: Path
    analyses: Path
    database: Path
    versions: tuple[Version, ...] = ()
    grade: Path | None = None  # the reviewed GRADE judgements (livemeta.analysis.grade), when named

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    def rel(self, path: Path | str) -> str:
        """``path`` relative to the project folder, as a POSIX path (how the history records it)."""
        p = Path(path).resolve()
        try:
            return p.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()

    def in_studies(self, path: Path | str) -> bool:
        return Path(path).resolve().parent == self.studies.resolve()


@dataclass(frozen=True)
class FileKind:
    """A kind of file the evidence project owns. A commit that changes one of its files (its content,
    not only comments or layout) makes a revision of that kind; a commit that changes none of any
    kind makes no revision.

    ``paths`` gives the kind's files (``folder=False``) or the folders whose files, directly inside
    and ending in one of ``suffixes``, are of that kind (``folder=True``). ``settings`` lists keys
    of a YAML file that do not count as a change of it (the project file's ``versions``: naming a
    version changes no evidence and no analysis).
    """

    name: str
    paths: Callable[[Project], tuple[Path | None, ...]]
    folder: bool = False
    suffixes: tuple[str, ...] = (".yaml", ".yml", ".json")
    ignored_keys: tuple[str, ...] = ()


#: The kinds of file an evidence project owns, in the order a revision lists them. "evidence" is
#: the study files (its revisions add, correct or remove trials); "analyses" what is computed from
#: them and how it is judged (the analyses file, the GRADE file, the project file's settings). One
#: more kind is one more entry (e.g. search records in a project's searches/ folder).
FILE_KINDS: tuple[FileKind, ...] = (
    FileKind("evidence", lambda p: (p.studies,), folder=True),
    FileKind("analyses", lambda p: (p.analyses, p.grade)),
    FileKind("analyses", lambda p: (p.file,), ignored_keys=("versions",)),
)


def _unknown(keys, allowed, where: str) -> None:
    for k in sorted(set(keys) - allowed, key=str):
        near = difflib.get_close_matches(str(k), sorted(allowed), n=1)
        raise LivemetaError(f"{where}: unknown key {k!r}" + (f"; did you mean {near[0]!r}?" if near else ""))


def parse_versions(doc: dict, where: str) -> tuple[Version, ...]:
    """The ``versions`` list of a parsed project file, checked."""
    raw = doc.get("versions") or []
    if not isinstance(raw, list):
        raise LivemetaError(f"{where}: versions: a list of {{name, description}} entries")
    out, seen = [], set()
    for i, v in enumerate(raw):
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            raise LivemetaError(f"{where}: versions[{i}]: needs a name")
        _unknown(v, _VERSION_KEYS, f"{where}: versions[{i}]")
        name = v["name"]
        if not VERSION_NAME.match(name):
            raise LivemetaError(
                f"{where}: versions[{i}].name: {name!r} is not a version name "
                "(lower-case letters, digits, '.', '_', '-', starting with a letter)"
            )
        if name in seen:
            raise LivemetaError(f"{where}: versions[{i}].name: {name!r} is named twice")
        seen.add(name)
        desc = v.get("description")
        screening = parse_screening(v["screening"], f"{where}: versions[{i}].screening") if v.get("screening") else None
        out.append(Version(name, str(desc) if desc is not None else None, screening))
    return tuple(out)


def parse_screening(raw, where: str) -> dict:
    """A version's PRISMA 2020 counts: each of :data:`SCREENING_COUNTS` a whole number, or (identified,
    reports_excluded) a mapping of whole numbers by source or reason; ``source`` says where they are
    reported."""
    if not isinstance(raw, dict):
        raise LivemetaError(f"{where}: a mapping of counts ({', '.join(SCREENING_COUNTS)}) and their source")
    _unknown(raw, {*SCREENING_COUNTS, "source"}, where)
    out = {}
    for key, value in raw.items():
        if key == "source":
            out[key] = str(value)
            continue
        parts = value if isinstance(value, dict) and key in ("identified", "reports_excluded") else {None: value}
        for part, n in parts.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise LivemetaError(f"{where}.{key}{'.' + str(part) if part else ''}: a whole number, got {n!r}")
        out[key] = value
    return out


def parse_project_text(text: str, where: str) -> dict:
    """The project file's content, checked for its keys and types (paths not resolved)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LivemetaError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise LivemetaError(f"{where}: a project file is a mapping (livemeta_project, name, studies, ...)")
    _unknown(doc, _KEYS, where)
    if doc.get("livemeta_project") != FORMAT:
        raise LivemetaError(f"{where}: livemeta_project: {doc.get('livemeta_project')!r}; this livemeta reads format {FORMAT}")
    for key in ("name", "studies", "analyses", "database"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise LivemetaError(f"{where}: {key}: required (text)")
    parse_versions(doc, where)
    return doc


def load_project(path: Path | str) -> Project:
    """The project whose file is ``path`` (or whose folder is ``path``)."""
    path = Path(path)
    file = path / PROJECT_FILE if path.is_dir() else path
    if not file.is_file():
        raise NoProject(f"{path}: no {PROJECT_FILE} here", hint="create a project with `livemeta new-project DIR`")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LivemetaError(f"{file}: cannot read: {exc}") from None
    doc = parse_project_text(text, str(file))
    root = file.parent.resolve()
    studies = (root / doc["studies"]).resolve()
    if root not in (studies, *studies.parents):
        raise LivemetaError(f"{file}: studies: {doc['studies']!r} is outside the project folder")
    return Project(
        root=root,
        name=doc["name"],
        studies=studies,
        analyses=(root / doc["analyses"]).resolve(),
        database=(root / doc["database"]).resolve(),
        versions=parse_versions(doc, str(file)),
        grade=(root / doc["grade"]).resolve() if doc.get("grade") else None,
    )


def find_project(explicit: Path | str | None = None, start: Path | None = None) -> Project | None:
    """``explicit`` (a folder or project file), else ``$LIVEMETA_PROJECT``, else the nearest
    ``livemeta.yaml`` in ``start`` (default the working directory) or its parents; None if none."""
    named = explicit or os.environ.get("LIVEMETA_PROJECT")
    if named:
        return load_project(named)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return load_project(folder)
    return None


def require_project(explicit: Path | str | None = None) -> Project:
    project = find_project(explicit)
    if project is None:
        raise NoProject(
            f"no evidence project here: no {PROJECT_FILE} in {Path.cwd()} or its parents",
            hint="run livemeta inside a project, pass --project DIR (or set LIVEMETA_PROJECT), "
            "or create one with `livemeta new-project DIR`",
        )
    return project


_GITIGNORE = """\
# livemeta's database is a cache rebuilt from the history in git by `livemeta build`
*.duckdb
*.duckdb.wal
*.duckdb.building
report/
"""

_README = """\
# {name}

A livemeta evidence project. Study files (one per trial) live in `studies/`; each is added with
`livemeta ingest studies/FILE.yaml -m "what and why"`, which validates it and commits it to git.
`livemeta build` rebuilds the database (`livemeta.duckdb`, not committed) from the git history;
`livemeta pool`, `livemeta query`, `livemeta diff` and `livemeta report` read it.
"""


def new_project(folder: Path | str, *, name: str, commit: bool = True) -> tuple[Project, str | None]:
    """Scaffold a project in ``folder`` (new or empty): project file, studies/, analyses.yaml, a
    .gitignore for the database; ``git init`` unless it is inside a repository already, and the
    first commit (the history starts there). Returns the project and the commit id (None when not
    committed)."""
    from .gitrepo import Git
    from .paths import resource

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise LivemetaError(f"{folder}: exists and is not an empty folder", hint="choose a new folder")
    if not name.strip():
        raise LivemetaError("a project needs a name", hint='pass --name "what the review is about"')
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "studies").mkdir()
    (folder / "studies" / ".gitkeep").write_text("")
    # neutral analyses: no published figures, no published version (queries/analyses.yaml is the
    # bundled review's own)
    shutil.copyfile(resource("queries", "new_project_analyses.yaml"), folder / "analyses.yaml")
    (folder / ".gitignore").write_text(_GITIGNORE)
    (folder / "README.md").write_text(_README.format(name=name))
    (folder / PROJECT_FILE).write_text(
        "# A livemeta evidence project (see `livemeta --help`). Paths are relative to this file.\n"
        f"livemeta_project: {FORMAT}\n"
        f"name: {yaml.safe_dump(name, default_style=None).strip().removesuffix('...').strip()}\n"
        "studies: studies\n"
        "analyses: analyses.yaml\n"
        "database: livemeta.duckdb\n"
        "# Named versions: an entry names the evidence as committed with it (`livemeta version add`).\n"
        "versions: []\n"
    )
    project = load_project(folder)
    sha = None
    git = Git.find(folder)
    if git is None and shutil.which("git"):
        Git(folder).run("init", "-q")
        git = Git(folder.resolve())
    if commit and git is not None:
        paths = [git.relative(folder / p) for p in (PROJECT_FILE, "studies/.gitkeep", "analyses.yaml", ".gitignore", "README.md")]
        # the commit holds a README and a .gitignore beside the project's own files: its note is said
        # in a trailer (livemeta.living.history.commit_note)
        start = f"Start the livemeta project: {name}"
        sha = git.commit(paths, f"{start}\n\nLivemeta-Note: {' '.join(start.split())}")
    return project, sha
