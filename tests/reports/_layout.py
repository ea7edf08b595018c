"""Layout checks of the report's figures: every drawn text's box, and the pairs that overlap."""

from __future__ import annotations

import weakref

from matplotlib.text import Text

#: each figure's drawn texts, as long as nothing in the figure changed since (matplotlib marks a
#: figure stale when any of its artists changes): the checks below read them several times, and
#: drawing is their cost
_DRAWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def drawn_texts(fig) -> list[tuple[str, object]]:
    """(text, window bbox) of every visible, non-empty text the figure draws (tick labels included)."""
    if fig in _DRAWN and not fig.stale:
        return list(_DRAWN[fig])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tick_labels = {id(lbl) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                   for tick in axis.majorTicks + axis.minorTicks for lbl in (tick.label1, tick.label2)}
    texts = [t for t in fig.findobj(Text) if id(t) not in tick_labels]
    for ax in fig.axes:  # only the labels of the ticks in use, within the axis's limits (those drawn)
        for labels, locs, lim in ((ax.get_xticklabels(), ax.get_xticks(), ax.get_xlim()),
                                  (ax.get_yticklabels(), ax.get_yticks(), ax.get_ylim())):
            lo, hi = min(lim), max(lim)
            span = (hi - lo) * 1e-9
            texts += [t for t, v in zip(labels, locs) if lo - span <= v <= hi + span]
    out = []
    for t in texts:
        if not t.get_visible() or not t.get_text().strip():
            continue
        bb = t.get_window_extent(renderer)
        if bb.width > 0 and bb.height > 0:
            out.append((t.get_text(), bb))
    fig.stale = False  # (reading tick labels marks it stale; a change made after marks it again)
    _DRAWN[fig] = list(out)
    return out


def overlapping(fig, pad: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes intersect by more than ``pad`` pixels both ways."""
    boxes = drawn_texts(fig)
    bad = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > pad and h > pad:
                bad.append((ta, tb))
    return bad


def outside(fig) -> list[str]:
    """Texts drawn (partly) outside the figure."""
    fb = fig.bbox
    return [t for t, b in drawn_texts(fig) if b.x0 < fb.x0 - 1 or b.y0 < fb.y0 - 1 or b.x1 > fb.x1 + 1
            or b.y1 > fb.y1 + 1]


def into_panel(fig) -> list[str]:
    """Table texts (left of the plot panel, at the height of its rows) that run into the panel."""
    ax = fig.axes[0]
    p = ax.get_window_extent()
    return [t for t, b in drawn_texts(fig) if b.x0 < p.x0 and b.x1 > p.x0 + 1 and b.y0 > p.y0 and b.y1 < p.y1]


def all_text(fig) -> str:
    return "\n".join(t for t, _ in drawn_texts(fig))
