"""Every published artifact of one revision, rendered as a user gets it, and the numbers they share.

:func:`render` writes, for one revision of a project's database: ``livemeta pool --json``, the
data package (``livemeta export``), the report (HTML, Markdown and its SVG figures) and ``livemeta
cumulative --format json`` of every main analysis without subgroups and with two studies or more. :func:`problems` lists
every number a reader would find different in two of them: each study's estimate, interval and
weight (pool --json, analysis_rows.csv, the forest plot, the cumulative table's first step), each
pooled estimate, CI, prediction interval (with its label), k and participant count (pool --json,
pooled_estimates.csv, the report's tables in HTML and Markdown, the summary of findings, the
forest plot, the cumulative table's last step, the monitoring table), and that each study's
interval is the one its pooled variance implies unless it is the printed one that was pooled.

An empty list is the consistency the tests assert; each entry names the revision, the analysis
and both values.

Of the report's figures, the forest plots are drawn (they print each study's estimate, interval and
weight, which the checks read); the other kinds (funnel, Baujat, cumulative, monitoring, bubble,
risk of bias, PRISMA) print none of the numbers compared here and are written as empty files
(:func:`forest_figures_only`): drawing them is tests/reports' business, and was half the time of
rendering every revision. The HTML and Markdown are the report's own.
"""

from __future__ import annotations

import contextlib
import csv
import html as html_lib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from livemeta.reports import figures as _figures
from tests.mdtext import plain

_DRAW = _figures._draw

Z95 = 1.959963984540054


@dataclass
class Artifacts:
    """What one revision publishes, read back."""

    name: str  # the project, for messages
    revision: int
    pool: dict[str, dict]  # analysis id -> its object of `pool --json`
    rows: dict[str, list[dict]]  # analysis id -> its rows of data/analysis_rows.csv
    stored: dict[tuple[str, str], dict]  # (analysis id, stratum) -> data/pooled_estimates.csv row
    md: str
    html: str
    figures: Path
    cumulative: dict[str, list[dict]] = field(default_factory=dict)
    package: Path | None = None
    svgs: dict[str, list[str]] = field(default_factory=dict)  # figure file name -> its texts, as rendered

    def svg(self, name: str) -> list[str] | None:
        """The texts of figure ``name`` as this revision's report drew it (None: no such figure)."""
        return self.svgs.get(name)

    def where(self, analysis: str = "") -> str:
        return f"{self.name} revision {self.revision}" + (f", {analysis}" if analysis else "")


def _csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _draw_forest_only(kind: str, args: tuple, kwargs: dict, path: str) -> str:
    """A report's figure job (``livemeta.reports.figures._draw``): a forest plot drawn as the report
    draws it; any other kind written as an empty PNG and SVG (see the module's docstring)."""
    if kind == "forest":
        return _DRAW(kind, args, kwargs, path)
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    base.with_name(base.name + ".png").write_bytes(b"")
    base.with_name(base.name + ".svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n', encoding="utf-8")
    return path


@contextlib.contextmanager
def forest_figures_only():
    """Reports written inside draw only their forest plots (the drawing workers, forked inside,
    inherit it)."""
    _figures._draw = _draw_forest_only
    try:
        yield
    finally:
        _figures._draw = _DRAW


def render(db: Path, revision: int, work: Path, *, name: str, project=None, report_dir: Path | None = None) -> Artifacts:
    """Render revision ``revision`` of ``db`` into ``work`` (the report into ``report_dir``, shared
    across revisions so that unchanged figures are kept, as they are for a user)."""
    from livemeta import api
    from livemeta.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["pool", "--json", "--as-of", str(revision), "--db", str(db)])
    assert out.exit_code == 0, out.output
    pool = {s["analysis"]: s for s in json.loads(out.stdout)}
    package = work / f"package-{revision}"
    api.export(db, package, as_of=revision)
    rows: dict[str, list[dict]] = {}
    for r in _csv(package / "data" / "analysis_rows.csv"):
        rows.setdefault(r["analysis_id"], []).append(r)
    stored = {(r["analysis_id"], r["stratum"]): r for r in _csv(package / "data" / "pooled_estimates.csv")}
    report_dir = report_dir or work / "report"
    with forest_figures_only():
        api.report(db, report_dir, as_of=revision, project=project)
    cumulative = {}
    for aid, s in pool.items():  # the main analyses the report draws one for (sensitivity analyses run the same code)
        if s["k"] >= 2 and not s["sensitivity_of"] and "subgroups" not in s:
            res = runner.invoke(main, ["cumulative", aid, "--format", "json", "--as-of", str(revision), "--db", str(db)])
            assert res.exit_code == 0, res.output
            cumulative[aid] = json.loads(res.stdout)
    figures = report_dir / "figures"
    svgs = {p.name: svg_texts(p) for p in sorted(figures.glob("forest_*.svg"))}  # read now: the folder is shared
    return Artifacts(name, revision, pool, rows, stored, (report_dir / "report.md").read_text(encoding="utf-8"),
                     (report_dir / "index.html").read_text(encoding="utf-8"), figures, cumulative, package, svgs)


# ------------------------------------------------------------------------------------- formatting
def ratio(x: float) -> str:
    """A ratio as the report and the plots print it."""
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def shown(x: float, measure: str) -> str:
    return f"{100 * x:.1f}" if measure == "proportion" else ratio(x)


def estimate_text(s: dict) -> str:
    """'HR 0.90 (0.82–0.99)' or '12.4% (8.9–17.0)': the pooled estimate as the report's tables print it."""
    m = s["measure"]
    if s["estimate"] is None:
        return "—"
    if m == "proportion":
        return f"{shown(s['estimate'], m)}% ({shown(s['ci_low'], m)}–{shown(s['ci_high'], m)})"
    return f"{m} {ratio(s['estimate'])} ({ratio(s['ci_low'])}–{ratio(s['ci_high'])})"


def pi_cell(s: dict) -> str:
    """The report table's PI cell: '= CI (fixed effect)', 'LOW–HIGH (label)' or '—'."""
    if s["estimate"] is None:
        return "—"
    if s["method"]["estimator"] == "FE":
        return "= CI (fixed effect)"
    pi = s["pi"]
    if s["k"] < 2 or pi["low"] is None:
        return "—"
    return f"{shown(pi['low'], s['measure'])}–{shown(pi['high'], s['measure'])} ({pi['label']})"


# ------------------------------------------------------------------------------------- reading back
def md_table_rows(md: str) -> list[list[str]]:
    """Every row of every Markdown table, as cells."""
    return [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in md.splitlines()
            if line.startswith("| ") and not line.startswith("|---")]


def svg_texts(path: Path) -> list[str]:
    """The texts of an SVG figure, in document order (the report keeps SVG text as text)."""
    return [html_lib.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", path.read_text(encoding="utf-8"), re.S)]


_INTERVAL = re.compile(r"^(-?[\d.]+) \[(-?[\d.]+), (-?[\d.]+)\]$")
_WEIGHT = re.compile(r"^([\d.]+)%$")


def figure_rows(texts: list[str]) -> list[tuple[str, str | None]]:
    """(interval text, the weight printed right after it or None) of each row of a forest or
    cumulative plot, in order."""
    out = []
    for i, t in enumerate(texts):
        if _INTERVAL.match(t):
            nxt = texts[i + 1] if i + 1 < len(texts) else ""
            out.append((t, nxt if _WEIGHT.match(nxt) else None))
    return out


def _section(md: str, title: str) -> str:
    """The Markdown of the report section headed '## title' (to the next '## ')."""
    start = md.find(f"\n## {title}\n")
    if start < 0:
        return ""
    end = md.find("\n## ", start + 1)
    return md[start: end if end > 0 else len(md)]


def forest_figure(a: Artifacts, aid: str) -> str | None:
    """The name of the SVG forest plot showing analysis ``aid``: its own, or the one of the analysis
    the report says has the same numbers; None when the report draws none (no studies, or a CSV)."""
    from livemeta.reports.doc import slug

    own = f"forest_{slug(aid)}.svg"
    if f"figures/forest_{slug(aid)}.png" in a.md and a.svg(own) is not None:
        return own
    m = re.search(rf"Forest plot of {re.escape(aid)}: the same studies, weights and pooled estimate as analysis (\S+) ",
                  plain(a.md))  # (the Markdown as a reader sees it: os\_re is os_re)
    return forest_figure(a, m.group(1)) if m else None


# ------------------------------------------------------------------------------------- the checks
def _close(x, y, rel: float = 1e-12) -> bool:
    if x is None or y is None or x == "" or y == "":
        return (x in (None, "")) and (y in (None, ""))
    x, y = float(x), float(y)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= rel * max(1.0, abs(x), abs(y))


def _back(x: float, measure: str) -> float:
    return 1 / (1 + math.exp(-x)) if measure == "proportion" else math.exp(x)


def problems(a: Artifacts, *, grade_domains: bool = True) -> list[str]:
    """Every disagreement between the artifacts of one revision (empty: they agree).
    ``grade_domains``: check the prediction intervals of the GRADE domain table too."""
    out: list[str] = []
    table = {}
    for cells in md_table_rows(a.md):
        m = re.search(r"\(`([^`]+)`\)$", cells[0])
        if m and len(cells) == 9:
            table.setdefault(m.group(1), cells)  # the pooled-estimates table (the section tables repeat it)
    sof = {re.search(r"\(`([^`]+)`\)$", c[0]).group(1): c for c in md_table_rows(a.md)
           if len(c) == 7 and re.search(r"\(`([^`]+)`\)$", c[0])}
    for aid, s in a.pool.items():
        out += _pooled(a, aid, s, table.get(aid), sof.get(aid))
        out += _studies(a, aid, s)
        # a trial pooled twice (its cohorts as if independent; a join that repeats a row); a subgroup
        # analysis of HRs may hold a trial once per subgroup, a pooled proportion never
        if ("subgroups" not in s or s["measure"] == "proportion") and len(set(s["trials"])) != s["k"]:
            out.append(f"{a.where(aid)}: k {s['k']} rows from {len(set(s['trials']))} trials: a trial pooled twice")
    out += _pi_labels(a, grade_domains=grade_domains)
    out += _thresholds(a)
    return out


_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def _thresholds(a: Artifacts) -> list[str]:
    """The characteristics table prints each resistance threshold the way the exported definition
    records it ('< 24 weeks' beside "28 primary (<24 wk) resistance"; issue 20 printed '≥')."""
    out = []
    for d in _csv(a.package / "data" / "resistance_definitions.csv"):
        if not d["threshold"]:
            continue
        amount = f"{float(d['threshold']):g} {d['threshold_unit']}".rstrip()
        sign = _SIGNS.get(d.get("threshold_comparator") or "")
        want = f" {sign} {amount}" if sign else f" threshold {amount} (direction not recorded)"
        if f"{want}): “{d['definition']}”" not in plain(a.md).replace("\n", " "):
            out.append(f"{a.where(d['trial_id'])}: the characteristics table does not print {d['definition_id']}'s "
                       f"threshold as{want}")
    return out


def _pooled(a: Artifacts, aid: str, s: dict, row: list[str] | None, sof: list[str] | None) -> list[str]:
    out, w, m = [], a.where(aid), s["measure"]
    st = a.stored.get((aid, "overall"))
    if st is None:
        return [f"{w}: no overall row in pooled_estimates.csv"]
    if int(st["k"]) != s["k"]:
        out.append(f"{w}: k {s['k']} in pool --json, {st['k']} in pooled_estimates.csv")
    for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        theirs = None if st[key] == "" else _back(float(st[key]), m)
        if not _close(s[key], theirs):
            out.append(f"{w}: {key} {s[key]} in pool --json, {theirs} in pooled_estimates.csv")
    label = s["pi"]["label"] if s["pi"] else None
    if st["pi_label"] != (label or ""):
        out.append(f"{w}: prediction interval labelled {label!r} in pool --json, {st['pi_label']!r} in the export")
    if row is None:
        return out + [f"{w}: not in the report's table of pooled estimates"]
    if row[2] != estimate_text(s):
        out.append(f"{w}: the report's table prints {row[2]!r}, pool --json gives {estimate_text(s)!r}")
    if row[4] != pi_cell(s):
        out.append(f"{w}: the report's table prints the PI {row[4]!r}, pool --json gives {pi_cell(s)!r}")
    if s["k"] and not (row[1].startswith(f"k = {s['k']};") or f"({s['k']} comparisons)" in row[1]):
        out.append(f"{w}: the report's table says {row[1]!r}, pool --json k = {s['k']}")
    for cell in (row[2], row[4]):
        if html_lib.escape(cell, quote=False) not in a.html:
            out.append(f"{w}: {cell!r} is in the Markdown report but not in the HTML one")
    if sof is not None:
        rel = "—" if s["estimate"] is None else estimate_text(s)
        if sof[3] != rel:
            out.append(f"{w}: the summary of findings prints {sof[3]!r}, pool --json gives {rel!r}")
        known, unknown = s["participants"]["known"], s["participants"]["unknown"]
        if not sof[4].startswith(f"{'≥ ' if unknown else ''}{known:,} (") or \
                (unknown and not sof[4].endswith(f"n unknown for {', '.join(unknown)})")):
            out.append(f"{w}: the summary of findings gives participants {sof[4]!r}, pool --json {known} "
                       f"(unknown for {unknown})")
    rows = a.rows.get(aid, [])
    n = sum(int(r["participants"]) for r in rows if r["participants"] not in ("", None))
    if rows and n != s["participants"]["known"]:
        out.append(f"{w}: participants {s['participants']['known']} in pool --json, {n} in analysis_rows.csv")
    mon = s.get("monitoring")
    if mon and mon.get("z") is not None:
        section = _section(a.md, s["title"])
        tables = section.split("\n| look |")
        looks = md_table_rows("| look |" + tables[1].split("\n\n")[0])[1:] if len(tables) > 1 else []
        if not looks:
            out.append(f"{w}: pool --json has monitoring, the report's section no monitoring table")
        else:
            last = looks[-1]
            if last[6] != f"{mon['z']:.2f}" or int(last[2]) != s["k"]:
                out.append(f"{w}: the monitoring table's last look z {last[6]} k {last[2]}, pool --json z "
                           f"{mon['z']:.2f} k {s['k']}")
            # the z-curve's model (one model for the boundaries and the curve): the analysis's own estimator,
            # or the random-effects model its D² adjustment assumes, pooling the same rows
            if mon.get("model") == s["method"]["estimator"]:
                want = ratio(s["estimate"])
            else:
                from livemeta.pooling import pool

                fit = pool([float(st["yi"]) for st in s["studies"]], [float(st["vi"]) for st in s["studies"]],
                           method=mon["model"])
                want = ratio(math.exp(fit.estimate))
            if last[5] != want:
                out.append(f"{w}: the monitoring table's last look {last[5]}, the {mon.get('model')} pooled "
                           f"estimate {want}")
    cum = a.cumulative.get(aid)
    if cum:
        last = cum[-1]
        if last["k"] != s["k"] or not all(_close(last[k], s[k], 1e-9) for k in ("estimate", "ci_low", "ci_high")):
            out.append(f"{w}: the cumulative table's last step {last}, the pooled estimate {s['estimate']} "
                       f"({s['ci_low']}, {s['ci_high']}), k {s['k']}")
    return out


def _studies(a: Artifacts, aid: str, s: dict) -> list[str]:
    out, w, m = [], a.where(aid), s["measure"]
    studies, rows = s.get("studies") or [], a.rows.get(aid, [])
    if len(studies) != s["k"] or len(rows) != s["k"]:
        return [f"{w}: k {s['k']}, {len(studies)} studies in pool --json, {len(rows)} rows in analysis_rows.csv"]
    level = s["method"]["level"]
    from livemeta.pooling._dist import z_crit

    z = z_crit(level)
    for st, r in zip(studies, rows):
        t = f"{w}, {st['trial_id']}"
        if st["trial_id"] != r["trial_id"]:
            out.append(f"{t}: pool --json and analysis_rows.csv list the studies in another order ({r['trial_id']})")
            continue
        for key in ("estimate", "ci_low", "ci_high"):
            if not _close(st[key], r[f"shown_{key}"]):
                out.append(f"{t}: {key} {st[key]} in pool --json, {r['shown_' + key]} in analysis_rows.csv")
        for key in ("yi", "vi", "weight"):
            if not _close(st[key], r[key]):
                out.append(f"{t}: {key} {st[key]} in pool --json, {r[key]} in analysis_rows.csv")
        if st["interval"] != r["interval"]:
            out.append(f"{t}: interval {st['interval']} in pool --json, {r['interval']} in analysis_rows.csv")
        # the interval shown is the one the pooled variance implies, or the printed one that was pooled
        yi, vi = float(st["yi"]), float(st["vi"])
        implied = [_back(yi, m), _back(yi - z * math.sqrt(vi), m), _back(yi + z * math.sqrt(vi), m)]
        if st["interval"] == "printed":
            lo, hi, read = float(r["ci_low"]), float(r["ci_high"]), float(r["ci_level_read"])
            printed_vi = ((math.log(hi) - math.log(lo)) / (2 * z_crit(read / 100))) ** 2
            if not (_close(printed_vi, vi, 1e-9) and read == 100 * level
                    and [st["estimate"], st["ci_low"], st["ci_high"]] == [float(r["estimate"]), lo, hi]):
                out.append(f"{t}: shown as printed ({lo}-{hi} at {read}%), but the pooled variance {vi} is not that "
                           f"CI's ({printed_vi}) at the analysis's level")
        elif st["interval"] == "exact":  # a proportion as the study shows it: x / n, exact interval
            from scipy.stats import binomtest

            x, n = int(r["xi"]), int(r["ni"])
            ci = binomtest(x, n).proportion_ci(confidence_level=level, method="exact")
            if not all(_close(u, v, 1e-9) for u, v in zip([st["estimate"], st["ci_low"], st["ci_high"]],
                                                           [x / n, ci.low, ci.high])):
                out.append(f"{t}: shown {st['estimate']} ({st['ci_low']}, {st['ci_high']}), {x}/{n} and its exact "
                           f"interval ({ci.low}, {ci.high})")
        elif not all(_close(x, y) for x, y in zip([st["estimate"], st["ci_low"], st["ci_high"]], implied)):
            out.append(f"{t}: shown {st['estimate']} ({st['ci_low']}, {st['ci_high']}), the pooled variance implies "
                       f"{implied}")
    if not studies:
        return out
    figure = forest_figure(a, aid)
    if figure is None:
        out.append(f"{w}: no forest plot in the report")
    else:
        want = sorted(((f"{shown(st['estimate'], m)} [{shown(st['ci_low'], m)}, {shown(st['ci_high'], m)}]",
                        f"{st['weight']:.1f}%" if st["weight"] is not None else None)  # a GLMM weighs no study
                       for st in studies), key=str)
        drawn = figure_rows(a.svg(figure))
        total = (f"{shown(s['estimate'], m)} [{shown(s['ci_low'], m)}, {shown(s['ci_high'], m)}]", "100.0%")
        if total not in drawn:
            out.append(f"{w}: the forest plot ({figure}) has no total row {total}")
        missing = [r for r in want if r not in drawn]
        if missing:
            out.append(f"{w}: the forest plot ({figure}) does not print {missing}; it prints {drawn}")
        notes = re.sub(r"\s+", " ", " ".join(a.svg(figure)))  # a note wrapped over lines, joined again
        for st in studies:
            if st["interval"] == "derived" and st["printed"] and f"printed {st['printed']}" not in notes:
                out.append(f"{w}: the forest plot does not note what {st['trial_id']} printed ({st['printed']})")
    cum = a.cumulative.get(aid)
    if cum and s.get("subgroups") is None:
        first = cum[0]
        st0 = studies[0]
        if first["trial_id"] != st0["trial_id"] or not all(_close(first[k], st0[k]) for k in ("estimate", "ci_low", "ci_high")):
            out.append(f"{w}: the cumulative table's first step {first['trial_id']} {first['estimate']} "
                       f"({first['ci_low']}, {first['ci_high']}), the study {st0['trial_id']} {st0['estimate']} "
                       f"({st0['ci_low']}, {st0['ci_high']})")
    return out


_PI_TEXT = re.compile(r"prediction interval (-?[\d.]+)%?[–-](-?[\d.]+)%? \(((?:[^()]|\([^()]*\))*)\)")


def _pi_labels(a: Artifacts, *, grade_domains: bool) -> list[str]:
    """Every prediction interval the report prints in words says its estimator and distribution, and
    is the interval of a pooled result with that label: the interval ('0.59–1.27') and the label
    ('REML, t(k-1) = t(4), HKSJ') must be those of one analysis of pool --json."""
    known = {}
    for s in a.pool.values():
        if s["pi"] and s["pi"]["low"] is not None:
            m = s["measure"]
            known.setdefault((shown(s["pi"]["low"], m), shown(s["pi"]["high"], m), s["pi"]["label"]), s["analysis"])
    md = plain(a.md)
    if not grade_domains:
        md = "\n".join(line for line in md.splitlines() if "proposed by the rule" not in line)
    out = []
    for m in _PI_TEXT.finditer(md):
        lo, hi, label = m.groups()
        owner = re.match(r"(\w+): (.*)$", label)  # GRADE names the analysis: 'pfs_re: REML, t(k-1) = t(4), HKSJ'
        if owner and owner.group(1) in a.pool:
            s, label = a.pool[owner.group(1)], owner.group(2)
            if not (s["pi"] and (shown(s["pi"]["low"], s["measure"]), shown(s["pi"]["high"], s["measure"]),
                                 s["pi"]["label"]) == (lo, hi, label)):
                out.append(f"{a.where()}: the prediction interval {lo}–{hi} ({label}) is not {owner.group(1)}'s")
                continue
        if not re.search(r"(^|, )(z|t\()", label):
            out.append(f"{a.where()}: a prediction interval {lo}–{hi} labelled ({label}): no distribution (z or t)")
        elif (lo, hi, label) not in known:
            out.append(f"{a.where()}: the prediction interval {lo}–{hi} ({label}) is no pooled result's")
    return out


_MOVED = re.compile(r"^- .*\((\w+)\): (.+?) → (.+?); (.+)$")


def whats_new_problems(a: Artifacts) -> list[str]:
    """'What's new' lists as moved only estimates whose printed numbers differ (issue 20: an
    analyses-only merge listed 'HR 0.90 (0.82–0.99) → HR 0.90 (0.82–0.99)')."""
    section = _section(a.md, "What's new in this version")
    moved = section.split("Other estimates that the evidence moved at the printed precision:")
    assert "estimates that moved at the printed precision" not in section or len(moved) > 1, \
        "the report's words for moved estimates changed: update whats_new_problems"
    out = []
    for line in (moved[1].splitlines() if len(moved) > 1 else []):
        m = _MOVED.match(line.strip())
        if m and m.group(2) == m.group(3):
            out.append(f"{a.where(m.group(1))}: listed as moved, {m.group(2)} → {m.group(3)} ({m.group(4)})")
    return out


# ------------------------------------------------------------------------------------- the history
#: file list -> (view, the view's id column); file keys named otherwise in the views
_LISTS = {"arms": ("arms", "arm_id"), "outcomes": ("outcomes", "outcome_id"), "adverse_events": ("adverse_events", "ae_id"),
          "resistance_definitions": ("resistance_definitions", "definition_id")}
_KEYS = {"source": "source_id", "experimental_arm": "experimental_arm_id", "control_arm": "control_arm_id",
         "arm": "arm_id"}


def _plain(v):
    import datetime as dt

    if v is None:
        return None
    if hasattr(v, "isoformat") and isinstance(v, (dt.date, dt.datetime)) or type(v).__name__ == "Timestamp":
        return v.isoformat()[:10]
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _same(file_value, db_value) -> bool:
    a, b = _plain(file_value), _plain(db_value)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


def evidence_problems(db: Path, root: Path, studies: str, revision: int) -> list[str]:
    """Every revision is a state its author made: the evidence the database shows as of
    ``revision`` is the study files of the commit it replayed (``studies``: the studies folder,
    relative to the repository ``root``), trial for trial and value for value (trials, arms,
    resistance definitions, outcomes, adverse events). A rejected revision is not checked: it kept
    the state before it, as said."""
    import subprocess

    import yaml

    from livemeta.db import connect
    from livemeta.db.revisions import set_as_of

    with connect(db, read_only=True) as con:
        set_as_of(con, revision)
        (sha, status), = con.execute(f"select commit_sha, status from revisions where revision_id = {revision}").fetchall()
        views = {name: con.execute(f"select * from {name}").df().to_dict("records")
                 for name in ("trials", *(v for v, _ in _LISTS.values()))}
    if sha is None or status == "rejected":
        return []
    git = ["git", "-C", str(root)]
    tree = subprocess.run([*git, "ls-tree", "-r", sha, "--", studies], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    blobs = [line.split()[2] for line in tree if line.split("\t")[-1].endswith((".yaml", ".yml", ".json"))]
    batch = subprocess.run([*git, "cat-file", "--batch"], input=("\n".join(blobs) + "\n").encode(),
                           capture_output=True, check=True).stdout  # every file at once: header, content, newline
    files, at = {}, 0
    for _ in blobs:
        header_end = batch.index(b"\n", at)
        size = int(batch[at:header_end].split()[2])
        d = yaml.safe_load(batch[header_end + 1: header_end + 1 + size].decode("utf-8"))
        files[d["trial"]["id"]] = d
        at = header_end + 1 + size + 1
    where = f"revision {revision} (commit {sha[:9]})"
    out = []

    trials = {t["trial_id"]: t for t in views["trials"]}
    if set(trials) != set(files):
        out.append(f"{where}: the database has trials {sorted(set(trials) - set(files))} the commit's files do not, "
                   f"and misses {sorted(set(files) - set(trials))}")
    for tid, d in files.items():
        for key, value in d["trial"].items():
            if key != "id" and not isinstance(value, (dict, list)) and tid in trials \
                    and not _same(value, trials[tid].get(_KEYS.get(key, key))):
                out.append(f"{where}: {tid} trial.{key} is {trials[tid].get(_KEYS.get(key, key))!r} in the database, "
                           f"{value!r} in the commit's file")
    for lst, (name, id_col) in _LISTS.items():
        rows = {(r["trial_id"], r[id_col]): r for r in views[name]}
        for tid, d in files.items():
            for rec in d.get(lst) or []:
                row = rows.get((tid, rec["id"]))
                if row is None:
                    out.append(f"{where}: {tid} {lst} {rec['id']} is in the commit's file, not in the database")
                    continue
                for key, value in rec.items():
                    col = "definition_id" if (lst, key) == ("outcomes", "definition") else _KEYS.get(key, key)
                    if key != "id" and col in row and not isinstance(value, dict) and not _same(value, row[col]):
                        out.append(f"{where}: {tid} {lst}[{rec['id']}].{key} is {row[col]!r} in the database, "
                                   f"{value!r} in the commit's file")
    return out
