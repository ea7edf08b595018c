"""Drawing the report's figures: only those whose inputs changed since the last report written to
the same folder, and several at once when they are large.

Each figure is a job: a kind (forest, funnel, cumulative, traffic light, risk-of-bias summary,
PRISMA flow), its inputs, and a stamp (the revision the figure shows). The job's key is a SHA-256 of
the inputs (every number, label and setting the figure draws), the livemeta version and the drawing
code, but not the stamp. ``figures/figures.json`` keeps the key and stamp of every figure a report
wrote; a later report into the same folder keeps a figure whose key is unchanged (its stamp says the
revision it was drawn at: its data are unchanged since) and redraws the rest. Figures no longer in
the report are deleted.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__

MANIFEST = "figures.json"
#: draw in parallel only when there are at least this many figures to draw (a worker process costs
#: about 0.1 s to start and 0.4 s to load matplotlib)
PARALLEL_MIN_JOBS = 4


#: fields that are not drawn: the revision an analysis was computed at is the figure's stamp
_NOT_DRAWN = {"AnalysisResult": {"revision"}}


def _feed(h, obj) -> None:
    """Hash ``obj`` by content: frames as CSV, arrays as bytes, dataclasses field by field."""
    if isinstance(obj, pd.DataFrame):
        h.update(b"df")
        h.update(obj.to_csv(index=False).encode())
    elif isinstance(obj, pd.Series):
        h.update(b"series")
        h.update(obj.to_csv().encode())
    elif isinstance(obj, np.ndarray):
        h.update(b"nd" + str(obj.dtype).encode() + str(obj.shape).encode())
        h.update(np.ascontiguousarray(obj).tobytes() if obj.dtype != object else repr(obj.tolist()).encode())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(type(obj).__name__.encode())
        skip = _NOT_DRAWN.get(type(obj).__name__, set())
        for f in dataclasses.fields(obj):
            if f.name in skip:
                continue
            h.update(f.name.encode())
            _feed(h, getattr(obj, f.name))
    elif isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=str):
            _feed(h, k)
            _feed(h, obj[k])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _feed(h, v)
        h.update(b"]")
    elif isinstance(obj, float):
        h.update(b"nan" if math.isnan(obj) else repr(obj).encode())
    else:
        h.update(repr(obj).encode())


def _code_digest() -> str:
    """The drawing code's own hash: a changed plot module redraws every figure."""
    h = hashlib.sha256(__version__.encode())
    here = Path(__file__).resolve().parent
    for name in ("plots.py", "display.py", "rob_plots.py", "prisma.py", "figures.py", "canvas.py", "png.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


def _draw(kind: str, args: tuple, kwargs: dict, path: str) -> str:
    """Build one figure and save it as PNG and SVG (runs in a worker process, or here)."""
    from . import plots

    if kind in ("forest", "funnel", "cumulative"):
        fig = {"forest": plots.forest_plot, "funnel": plots.funnel_plot, "cumulative": plots.cumulative_plot}[kind](
            *args, **kwargs)
    elif kind in ("traffic_light", "rob_summary"):
        from . import rob_plots

        fig = (rob_plots.traffic_light if kind == "traffic_light" else rob_plots.summary_plot)(*args, **kwargs)
    elif kind == "prisma":
        from . import prisma

        fig = prisma.flow_figure(*args, **kwargs)
    elif kind in ("bubble", "baujat", "monitoring"):
        fig = {"bubble": plots.bubble_plot, "baujat": plots.baujat_plot, "monitoring": plots.monitoring_plot}[kind](
            *args, **kwargs)
    else:  # pragma: no cover - the kinds are fixed above
        raise ValueError(kind)
    plots.save(fig, path)
    return path


@dataclass
class _Job:
    stem: str
    kind: str
    args: tuple
    kwargs: dict
    key: str
    stamp: str
    rows: int


def worker_count() -> int:
    """How many processes draw figures: ``LIVEMETA_REPORT_WORKERS``, or the number of CPUs."""
    return int(os.environ.get("LIVEMETA_REPORT_WORKERS", os.cpu_count() or 1))


class Workers:
    """Processes that draw figures, forked when made; each loads matplotlib itself, so the process
    writing the report never does (it goes on with its sections while they load)."""

    def __init__(self, n: int):
        import concurrent.futures as cf
        import multiprocessing as mp

        self._executor = cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("fork"),
                                                initializer=_start_worker)
        # the objects made so far are left out of the workers' garbage collections, which would
        # otherwise write to every one of them and so copy the memory the workers share with this one
        gc.freeze()
        try:
            self._executor.submit(_ready)  # the first job forks all of them, now
        finally:
            gc.unfreeze()

    @classmethod
    def ahead_of(cls, folder: Path | str, workers: int | None = None, *, data: Path | str | None = None
                 ) -> Workers | None:
        """Workers started before a report into ``folder`` computes anything, when it is likely to
        draw many figures: the folder has no figures of an earlier report, or ``data`` (the
        database) changed since that report was written. They load matplotlib meanwhile. None when
        figures are drawn in one process, or the last report's figures are likely all kept (the
        workers then start when :data:`PARALLEL_MIN_JOBS` figures are to be drawn)."""
        n = worker_count() if workers is None else workers
        if n <= 1 or not _fork_available():
            return None
        try:
            written = (Path(folder) / MANIFEST).stat().st_mtime_ns
        except OSError:
            return cls(n)  # a first report
        try:
            changed = data is not None and Path(data).stat().st_mtime_ns > written
        except OSError:
            changed = False
        return cls(n) if changed else None

    def submit(self, job: _Job, folder: Path):
        return self._executor.submit(_draw, job.kind, job.args, job.kwargs, str(folder / job.stem))

    def close(self) -> None:
        """Stop them (figures not yet drawn are not drawn); closing twice is harmless."""
        self._executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class Figures:
    """The figures of one report in ``folder`` (``stamp``: the revision, as the footers say it).

    A figure to draw is handed to worker processes as soon as it is scheduled: to ``ready``
    (:meth:`Workers.ahead_of`) when given, otherwise to workers started once there are
    :data:`PARALLEL_MIN_JOBS` figures to draw (``workers``, default :func:`worker_count`; 1: drawn
    here by :meth:`render`). The figures are drawn while the report writes its other sections, and
    the process writing it loads matplotlib only when it draws them itself. :meth:`render` waits for
    them; :meth:`close` stops them (a report that failed).
    """

    folder: Path
    stamp: str
    workers: int | None = None
    ready: Workers | None = None
    jobs: list[_Job] = field(default_factory=list)
    kept: dict[str, dict] = field(default_factory=dict)
    extra: set = field(default_factory=set)  # other files the report wrote into the folder (CSV)
    _old: dict = field(default_factory=dict)

    def __post_init__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self._code = _code_digest()
        if self.workers is None:
            self.workers = worker_count()
        self._pool: Workers | None = None
        self._futures: dict = {}  # future -> job
        try:
            old = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            self._old, self._old_extra = dict(old["figures"]), [str(f) for f in old.get("files", [])]
        except (OSError, ValueError, KeyError, TypeError):
            self._old, self._old_extra = {}, []
        self._old_extra = [f for f in self._old_extra if "/" not in f and f.endswith(".csv")]

    def add(self, stem: str, kind: str, *args, footer: Callable[[str], str] | None = None, rows: int = 0,
            **kwargs) -> str | None:
        """Schedule a figure; ``footer(stamp)`` makes its footer. Returns the stamp of the kept
        figure when the last report drew the same figure (None: it is drawn now)."""
        h = hashlib.sha256(self._code.encode() + kind.encode())
        _feed(h, args)
        _feed(h, kwargs)
        _feed(h, footer("") if footer else "")
        key = h.hexdigest()
        old = self._old.get(stem)
        if old and old.get("key") == key and all((self.folder / f"{stem}.{x}").exists() for x in ("png", "svg")):
            self.kept[stem] = old
            return old.get("stamp")
        if footer:
            kwargs["footer"] = footer(self.stamp)
        self.jobs.append(_Job(stem, kind, args, kwargs, key, self.stamp, rows))
        self._dispatch()
        return None

    def _dispatch(self) -> None:
        """Hand the jobs not yet handed to the workers, starting them at the PARALLEL_MIN_JOBS-th job."""
        if self._pool is None:
            if self.ready is not None:
                self._pool, self.ready = self.ready, None
            elif self.workers <= 1 or len(self.jobs) < PARALLEL_MIN_JOBS or not _fork_available():
                return
            else:
                self._pool = Workers(self.workers)
        for j in sorted(self.jobs[len(self._futures):], key=lambda j: -j.rows):  # the largest first
            self._futures[self._pool.submit(j, self.folder)] = j

    def render(self, progress: Callable[[str], None] | None = None) -> None:
        """Draw the scheduled figures (or wait for the workers drawing them), then write the
        manifest and delete the figures the report no longer has."""
        step = progress or (lambda _name: None)
        if self._pool is not None:
            import concurrent.futures as cf

            try:
                for fut in cf.as_completed(self._futures):
                    fut.result()
                    step(f"{self._futures[fut].kind} {self._futures[fut].stem}")
            finally:
                self.close()
        else:
            for j in self.jobs:
                step(f"{j.kind} {j.stem}")
                _draw(j.kind, j.args, j.kwargs, str(self.folder / j.stem))
        manifest = {stem: {"key": v["key"], "stamp": v["stamp"]} for stem, v in self.kept.items()}
        manifest.update({j.stem: {"key": j.key, "stamp": j.stamp} for j in self.jobs})
        for stem in set(self._old) - set(manifest):
            for ext in ("png", "svg"):
                (self.folder / f"{stem}.{ext}").unlink(missing_ok=True)
        for name in set(self._old_extra) - self.extra:
            (self.folder / name).unlink(missing_ok=True)
        (self.folder / MANIFEST).write_text(json.dumps({"livemeta": __version__, "figures": manifest,
                                                        "files": sorted(self.extra)}, indent=1, sort_keys=True) + "\n",
                                            encoding="utf-8")

    def close(self) -> None:
        """Stop the worker processes (the figures not yet drawn are not drawn)."""
        for pool in (self._pool, self.ready):
            if pool is not None:
                pool.close()
        self._pool = self.ready = None


def _start_worker() -> None:
    """A worker's first step: load the drawing modules (matplotlib), then leave them out of its
    collections."""
    from . import plots, prisma, rob_plots  # noqa: F401

    gc.freeze()


def _ready() -> None:
    """A job that does nothing: submitted first, it makes the executor fork its workers."""


def _fork_available() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()
