"""``livemeta screen next`` and ``livemeta screen rank`` at the terminal: the screening loop (one key
per decision) and the ranked table.

Every text of a record (title, authors, journal, abstract, keywords) is shown through
:func:`livemeta.safe.terminal_text`: a title from a hostile export cannot move the cursor, recolour
the terminal or rename its window.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import click

from ..safe import terminal_text
from .files import STAGE_NAMES
from .rank import RankedRecord, ScreeningQueue, ScreeningRanking, stopping_line, target_line

KEYS = {"i": "include", "e": "exclude", "m": "maybe", "s": "skip", "q": "quit"}
KEY_HELP = "[i] include  [e] exclude  [m] maybe  [s] skip  [q] quit"
_BLANK = (" ", "\n", "\r", "\t")
_REASON_KEYS = "123456789"
MAX_SECONDS = 86_400  # the most a decisions file records as time spent on a record


def width() -> int:
    """The width to wrap to: the terminal's, between 40 and 100 columns."""
    return max(40, min(100, shutil.get_terminal_size((80, 24)).columns))


def read_key() -> str:
    """One key press: :func:`click.getchar` at a terminal; otherwise one character of standard input
    (keys piped in, or a test's input), so that ``printf 'iem q' | livemeta screen next`` works. The
    end of the input, Ctrl-C and Ctrl-D are ``q``."""
    stdin = sys.stdin
    try:
        if stdin is not None and stdin.isatty():
            ch = click.getchar()
        else:
            ch = stdin.read(1) if stdin is not None else ""
    except (KeyboardInterrupt, EOFError):
        return "q"
    if not ch or ch in ("\x03", "\x04"):
        return "q"
    return ch


def _wrap(text: str, cols: int, indent: str = "") -> list[str]:
    return textwrap.wrap(text, cols, initial_indent=indent, subsequent_indent=indent, break_long_words=True,
                         break_on_hyphens=False) or [indent.rstrip()]


def _names(authors: tuple[str, ...]) -> str:
    shown = [terminal_text(a) for a in authors[:3]]
    return "; ".join(shown) + (" et al." if len(authors) > 3 else "")


def record_text(top: RankedRecord, ranking: ScreeningRanking, cols: int) -> str:
    """What the reviewer reads of the record to screen, wrapped to ``cols``."""
    e = top.entry
    c = ranking.counts
    who = f" · {terminal_text(ranking.reviewer)}" if ranking.reviewer else ""
    lines = ["", "-" * cols,
             f"{STAGE_NAMES[ranking.stage]}{who} · {c['pending']} to screen · {c['decided']} decided "
             f"({c['includes']} include{'s' if c['includes'] != 1 else ''}, {c['excludes']} exclude"
             f"{'s' if c['excludes'] != 1 else ''})"[:cols],
             f"{e.record_id}   " + (f"score {top.score:.3f}" if top.score is not None
                                   else "seeded random order (no include decided yet)"),
             ""]
    lines += _wrap(terminal_text(e.title) or "(no title)", cols)
    source = " · ".join(p for p in (_names(e.authors), str(e.year) if e.year else "", terminal_text(e.journal or ""))
                        if p)
    if source:
        lines += _wrap(source, cols)
    lines.append("")
    if e.abstract.strip():
        for para in terminal_text(e.abstract, lines=True).split("\n"):
            if para.strip():
                lines += _wrap(para, cols)
    else:
        lines.append("(no abstract)")
    if e.keywords:
        lines.append("")
        lines += _wrap("Keywords: " + "; ".join(terminal_text(k) for k in e.keywords), cols)
    lines.append("")
    lines += _wrap(stopping_line(ranking.stopping), cols)
    lines.append(KEY_HELP)
    return "\n".join(lines)


def _reason(reasons: dict[str, str], read: Callable[[], str]) -> str | None:
    """A full-text exclusion's reason from the protocol's list; None: back to the decision."""
    items = list(reasons.items())
    click.echo("reason for excluding:")
    for n, (rid, label) in enumerate(items, 1):
        click.echo(f"  [{n}] {rid}: {terminal_text(label)}")
    if len(items) > len(_REASON_KEYS):  # more than one key can number: a number and Enter
        n = click.prompt("reason number (0: back)", type=click.IntRange(0, len(items)))
        return None if n == 0 else items[n - 1][0]
    click.echo(f"[1-{len(items)}] reason  [0] back")
    while True:
        key = read()
        if key in _BLANK:
            continue
        if key in ("0", "\x1b", "q"):
            return None
        if key in _REASON_KEYS[: len(items)]:
            return items[int(key) - 1][0]
        click.echo(f"[1-{len(items)}] reason  [0] back")


@dataclass
class Session:
    """What a ``screen next`` session did."""

    decisions: list[tuple[str, str, str | None, float | None]] = field(default_factory=list)  # record, decision, reason, s
    skipped: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    finished: bool = False  # nothing left to screen


def run(queue: ScreeningQueue, decide: Callable[[str, str, str | None, float | None], list[str]], *,
        read: Callable[[], str] = read_key, cols: int | None = None, clock: Callable[[], float] = time.monotonic
        ) -> Session:
    """The screening loop: show the record the model ranks first, read one key, record the decision
    with ``decide(record_id, decision, reason, seconds)`` (returns the files written), retrain, and
    again, until ``q``, the end of the input, or no record left. Prints the session's summary."""
    cols = cols or width()
    session = Session()
    try:
        while True:
            ranking = queue.rank(limit=1)
            if not ranking.records:
                session.finished = True
                done = (f"nothing left to screen at the {STAGE_NAMES[ranking.stage]} stage"
                        + (f" for {terminal_text(ranking.reviewer)}" if ranking.reviewer else "")
                        + (f" ({len(session.skipped)} skipped in this session)" if session.skipped else ""))
                click.echo("\n" + "\n".join(line for text in (done, stopping_line(ranking.stopping),
                                                              target_line(ranking.stopping))
                                             for line in _wrap(text, cols)))
                break
            top = ranking.records[0]
            click.echo(record_text(top, ranking, cols))
            start = clock()
            action = _action(read, ranking.stage, queue.data.reasons)
            if action is None:
                break
            decision, reason = action
            if decision == "skip":
                queue.skip(top.record_id)
                session.skipped.append(top.record_id)
                click.echo("-> skipped (not recorded: it comes back in the next session)")
                continue
            seconds = round(max(clock() - start, 0.0), 1)
            if seconds > MAX_SECONDS:  # left for more than a day: not a time spent screening
                seconds = None
            for f in decide(top.record_id, decision, reason, seconds):
                if f not in session.files:
                    session.files.append(f)
            queue.record(top.record_id, decision, reason)
            session.decisions.append((top.record_id, decision, reason, seconds))
            timed = "not timed (over a day)" if seconds is None else f"{seconds:g} s"
            click.echo(f"-> {decision}{f' ({reason})' if reason else ''}, {timed}")
    except KeyboardInterrupt:
        pass
    finally:
        _summary(session)
    return session


def _action(read: Callable[[], str], stage: str, reasons: dict[str, str]) -> tuple[str, str | None] | None:
    while True:
        key = read()
        if key in _BLANK:
            continue
        what = KEYS.get(key.lower())
        if what is None:
            click.echo(f"{terminal_text(key)!s}: not a key here; {KEY_HELP}")
            continue
        if what == "quit":
            return None
        if what == "exclude" and stage == "ft":
            reason = _reason(reasons, read)
            if reason is None:
                click.echo(KEY_HELP)
                continue
            return what, reason
        return what, None


def _summary(session: Session) -> None:
    n = len(session.decisions)
    kinds = {}
    for _, d, _, _ in session.decisions:
        kinds[d] = kinds.get(d, 0) + 1
    parts = ", ".join(f"{v} {k}" for k, v in kinds.items())
    skipped = f"; {len(session.skipped)} skipped" if session.skipped else ""
    if not n:
        click.echo(f"\nno decision recorded in this session{skipped}")
        return
    click.echo(f"\n{n} decision{'s' if n != 1 else ''} recorded in this session ({parts}){skipped}, written to "
               f"{', '.join(session.files)}, not committed: `livemeta screen commit -m MESSAGE` makes them a revision")


def rank_table(ranking: ScreeningRanking, cols: int | None = None) -> str:
    """``screen rank``'s table: what was read, the model, the stopping aid, then rank, record id,
    score and title (cut to the width)."""
    cols = cols or shutil.get_terminal_size((100, 24)).columns
    c = ranking.counts
    who = f" for {terminal_text(ranking.reviewer)}" if ranking.reviewer else ""
    lines = [f"{STAGE_NAMES[ranking.stage]}{who}, revision {ranking.revision}: {c['pending']} to screen of "
             f"{c['records']} records; {c['decided']} decided ({c['includes']} include{'s' if c['includes'] != 1 else ''}"
             f", {c['excludes']} exclude{'s' if c['excludes'] != 1 else ''})"
             + (f", {c['other']} decided neither (maybe, full text not retrieved)" if c["other"] else ""),
             f"read: {terminal_text(ranking.reads)}",
             (f"order: {ranking.ordered_by}" if ranking.random_order else f"model: {ranking.ranking.model}"),
             stopping_line(ranking.stopping),
             f"{target_line(ranking.stopping)}; an estimate, not a promise (it assumes the records are screened in "
             "this order)"]
    if not ranking.records:
        lines.append("nothing left to screen")
        return "\n".join(lines)
    idw = max(len("record"), *(len(r.record_id) for r in ranking.records))
    rw = max(len("rank"), len(str(ranking.records[-1].rank)))
    lines.append(f"{'rank':>{rw}}  {'record':<{idw}}  {'score':>7}  title")
    room = max(20, cols - rw - idw - 13)
    for r in ranking.records:
        title = terminal_text(r.entry.title)
        if len(title) > room:
            title = title[: room - 1] + "…"
        score = "-" if r.score is None else f"{r.score:.3f}"
        lines.append(f"{r.rank:>{rw}}  {r.record_id:<{idw}}  {score:>7}  {title}")
    return "\n".join(lines)
