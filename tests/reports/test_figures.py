"""How the report's figures are scheduled (livemeta.reports.figures): each figure to draw is handed
to the worker processes once, as soon as there are enough of them (while the report still writes
its sections), drawn once, and matplotlib is loaded only when a figure is to be drawn."""

from __future__ import annotations

import json
import multiprocessing as mp
import os

import pytest

from livemeta.reports import figures
from livemeta.reports.figures import PARALLEL_MIN_JOBS, Figures


def _fake_draw(kind, args, kwargs, path):
    """``figures._draw`` in these tests: writes the two files and logs the draw (one line per draw,
    from whichever process drew it). Module level, so that it reaches the workers by name."""
    with open(os.environ["LIVEMETA_TEST_DRAW_LOG"], "a", encoding="utf-8") as f:
        f.write(f"{path.rsplit('/', 1)[-1]}\n")
    for ext in ("png", "svg"):
        with open(f"{path}.{ext}", "w", encoding="utf-8") as f:
            f.write(kind)
    return path


@pytest.fixture
def fake_draw(tmp_path, monkeypatch):
    """The log of :func:`_fake_draw`, which replaces ``figures._draw`` (workers are forked after)."""
    log = tmp_path / "draws.log"
    monkeypatch.setenv("LIVEMETA_TEST_DRAW_LOG", str(log))
    monkeypatch.setattr(figures, "_draw", _fake_draw)
    return log


def _add(figs: Figures, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        figs.add(f"fig_{i}", "forest", [i, float(i)], footer=lambda stamp: f"livemeta · {stamp}", rows=i)


def test_figures_are_handed_to_the_workers_as_they_are_scheduled_and_drawn_once(tmp_path, fake_draw):
    figs = Figures(tmp_path / "figures", "revision 1 of 2026-01-01", workers=2)
    _add(figs, PARALLEL_MIN_JOBS - 1)
    assert figs._pool is None and not figs._futures  # too few to be worth a process
    _add(figs, PARALLEL_MIN_JOBS + 2, first=PARALLEL_MIN_JOBS - 1)
    assert figs._pool is not None
    assert len(figs._futures) == len(figs.jobs) == 2 * PARALLEL_MIN_JOBS + 1  # each handed out once, before render
    figs.render()
    assert figs._pool is None and mp.active_children() == []
    drawn = fake_draw.read_text().split()
    assert sorted(drawn) == sorted(j.stem for j in figs.jobs)  # every job drawn, none twice
    manifest = json.loads((tmp_path / "figures" / figures.MANIFEST).read_text())
    assert set(manifest["figures"]) == {f"fig_{i}" for i in range(2 * PARALLEL_MIN_JOBS + 1)}


def test_one_worker_draws_here_at_render(tmp_path, fake_draw):
    figs = Figures(tmp_path / "figures", "revision 1 of 2026-01-01", workers=1)
    _add(figs, PARALLEL_MIN_JOBS + 1)
    assert figs._pool is None and not fake_draw.exists()
    steps = []
    figs.render(steps.append)
    assert fake_draw.read_text().split() == [f"fig_{i}" for i in range(PARALLEL_MIN_JOBS + 1)]
    assert steps == [f"forest fig_{i}" for i in range(PARALLEL_MIN_JOBS + 1)]


def test_a_second_report_draws_only_what_changed(tmp_path, fake_draw):
    folder = tmp_path / "figures"
    figs = Figures(folder, "revision 1 of 2026-01-01", workers=1)
    _add(figs, 3)
    figs.render()
    again = Figures(folder, "revision 2 of 2026-02-01", workers=1)
    assert again.add("fig_0", "forest", [0, 0.0], footer=lambda stamp: f"livemeta · {stamp}") == "revision 1 of 2026-01-01"
    assert again.add("fig_1", "forest", [1, 1.5], footer=lambda stamp: f"livemeta · {stamp}") is None  # changed
    again.render()
    assert fake_draw.read_text().split() == ["fig_0", "fig_1", "fig_2", "fig_1"]
    assert not (folder / "fig_2.png").exists()  # no longer in the report: deleted


def test_close_stops_the_workers_of_a_report_that_failed(tmp_path, fake_draw):
    figs = Figures(tmp_path / "figures", "revision 1 of 2026-01-01", workers=2)
    _add(figs, PARALLEL_MIN_JOBS)
    assert figs._pool is not None
    figs.close()
    assert figs._pool is None and mp.active_children() == []
    assert not (tmp_path / "figures" / figures.MANIFEST).exists()  # nothing recorded as drawn


def test_workers_start_ahead_for_a_first_report_and_take_its_first_figure(tmp_path, fake_draw):
    folder = tmp_path / "figures"
    assert figures.Workers.ahead_of(folder, workers=1) is None  # drawn here
    ready = figures.Workers.ahead_of(folder, workers=2)
    assert ready is not None and len(mp.active_children()) == 2  # forked now, before any figure
    figs = Figures(folder, "revision 1 of 2026-01-01", workers=2, ready=ready)
    _add(figs, 1)  # fewer than PARALLEL_MIN_JOBS: handed to the workers already running
    assert figs._pool is ready and len(figs._futures) == 1
    figs.render()
    assert mp.active_children() == [] and fake_draw.read_text().split() == ["fig_0"]
    # the folder now has a report's figures: the next report may keep them all, no workers ahead,
    # unless the data changed since it was written
    data = tmp_path / "evidence.duckdb"
    data.write_bytes(b"")
    manifest = folder / figures.MANIFEST
    os.utime(data, ns=(manifest.stat().st_mtime_ns - 10**9,) * 2)
    assert figures.Workers.ahead_of(folder, workers=2) is None
    assert figures.Workers.ahead_of(folder, workers=2, data=data) is None
    os.utime(data, ns=(manifest.stat().st_mtime_ns + 10**9,) * 2)
    again = figures.Workers.ahead_of(folder, workers=2, data=data)
    assert again is not None
    again.close()
    assert mp.active_children() == []


def test_workers_started_ahead_stop_with_a_report_that_drew_nothing(tmp_path, fake_draw):
    ready = figures.Workers.ahead_of(tmp_path / "figures", workers=2)
    figs = Figures(tmp_path / "figures", "revision 1 of 2026-01-01", workers=2, ready=ready)
    figs.render()
    figs.close()
    assert mp.active_children() == [] and not fake_draw.exists()


def _frozen_objects() -> int:
    import gc

    return gc.get_freeze_count()


def test_workers_leave_the_objects_they_were_forked_with_out_of_their_collections():
    """gc.freeze() around the fork: a worker's garbage collections do not write to (and so copy)
    the memory it shares with the report's process; that process is left unfrozen."""
    import gc

    workers = figures.Workers(2)
    try:
        assert gc.get_freeze_count() == 0
        assert workers._executor.submit(_frozen_objects).result() > 10_000
    finally:
        workers.close()
