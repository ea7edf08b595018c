"""Hostile values in the database make no markup in what the report publishes (issue 21: outputs
safe to open).

A fictional project's database is given, by direct writes (as a database holding values that an
older or looser validation let in would have them), names, citations, DOIs, URLs, reasons,
regimens, definitions and a revision message carrying HTML, Markdown and ``javascript:`` links.
``report.md`` is then rendered by real Markdown renderers (markdown-it-py as CommonMark and as GFM
with tables and linkify, Python-Markdown with tables), and the HTML they make, ``index.html`` and
the SVG figures are read as a browser would: no element, attribute, heading, list item or link
comes from a value, every link goes to an http(s) address or within the report, every table keeps
its columns, and each value is shown as its own text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown
import pytest
import yaml
from markdown_it import MarkdownIt

from livemeta import api
from livemeta.db import connect
from livemeta.project import load_project

from ..fictional import fictional_project, fictional_study

XSS_NAME = "<script>alert('xss-name')</script>"
IMG_NAME = "<img src=x onerror=alert('xss-img')>"
HEADING_NAME = "Study 2\n\n# INJECTED HEADING\n\n[click](javascript:alert('xss-link'))"
BAD_URL = "https://example.org/\"><script>alert('xss-url')</script>"
BAD_DOI = "10.9999/\"><svg/onload=alert('xss-doi')>"
JS_URL = "javascript:alert('xss-js')"
CITATION = "[cite](javascript:alert('xss-cite')) <a href=\"javascript:alert(1)\">x</a> *bold* `code`"
REGIMEN = "- not a list | not a cell | =HYPERLINK(\"http://evil\") ![img](https://example.org/x.png)"
DEFINITION = "1. not a list\n> not a quote\n<b onmouseover=alert('xss-def')>bold</b>"
REASON = "---\n+ not a list {: onclick=\"alert(1)\"} a@example.org ftp://example.org/x"
MESSAGE = "Update\n\n# INJECTED MESSAGE\n<script>alert('xss-msg')</script>"
#: every value the test database holds, as the reader must see it (line breaks read as spaces)
SHOWN = [XSS_NAME, IMG_NAME, "# INJECTED HEADING", "[click](javascript:alert('xss-link'))"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Three fictional RCTs (revision 2), version v1, a fourth trial (revision 3); then hostile
    values written into the database; the report of revision 3."""
    root = tmp_path_factory.mktemp("hostile") / "review"
    proj = fictional_project(root, n=3, rob=False)
    api.version_add("v1", description="first version", project=proj)
    path = proj.studies / "study-4.yaml"
    path.write_text(yaml.safe_dump(fictional_study(4), sort_keys=False))
    api.ingest([path], message="add Study 4", project=proj)
    proj = load_project(proj.root)
    with connect(proj.database) as con:
        ids = [r[0] for r in con.execute("select distinct trial_id from history.trials order by 1").fetchall()]
        assert len(ids) == 4
        one, two, three, four = ids
        for tid, name in ((one, XSS_NAME), (two, HEADING_NAME), (four, IMG_NAME)):
            con.execute("update history.trials set name = ? where trial_id = ?", [name, tid])
        con.execute("update history.trials set inclusion = 'excluded', inclusion_reason = ? where trial_id = ?",
                    [REASON, three])
        con.execute("update history.sources set url = ?, citation = ? where trial_id = ?", [BAD_URL, CITATION, one])
        con.execute("update history.sources set doi = ?, url = ? where trial_id = ?", [BAD_DOI, JS_URL, two])
        con.execute("update history.arms set regimen = ? where trial_id = ? and role = 'experimental'", [REGIMEN, one])
        con.execute("update history.resistance_definitions set definition = ? where trial_id = ?", [DEFINITION, one])
        con.execute("update history.revisions set message = ?, note = ?, author = ? where revision_id = 3",
                    [MESSAGE, MESSAGE, "Eve <script>alert('xss-author')</script>"])
    out = tmp_path_factory.mktemp("report") / "report"
    index = api.report(proj.database, out, project=proj)
    return {"out": out, "page": index.read_text(encoding="utf-8"),
            "md": (out / "report.md").read_text(encoding="utf-8")}


class _Page(HTMLParser):
    """What a browser would make of a page: elements, attributes, links, headings, list items and
    table rows (cells per row), and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.links, self.headings, self.items, self.rows = [], [], [], [], []
        self.text: list[str] = []
        self._open: list[tuple[str, list[str]]] = []
        self._row: list[int] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self.links.append(dict(attrs).get("href"))
        if tag == "tr":
            self._row = [0]
            self.rows.append(self._row)
        if tag in ("td", "th") and self._row is not None:
            self._row[0] += 1
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote"):
            self._open.append((tag, []))

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                name, parts = self._open.pop(i)
                (self.items if name == "li" else self.headings).append((name, "".join(parts).strip()))
                break

    def handle_data(self, data):
        self.text.append(data)
        for _, parts in self._open:
            parts.append(data)


def _read(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    p.close()
    return p


def _renderings(md: str) -> dict[str, str]:
    return {
        "commonmark": MarkdownIt("commonmark").render(md),
        "gfm": MarkdownIt("gfm-like").render(md),  # tables, strikethrough, linkify
        "python-markdown": markdown.markdown(md, extensions=["tables"]),
    }


def _assert_safe(page: _Page, where: str) -> None:
    bad = [(t, a) for t, a in page.tags if t in ("script", "svg", "iframe", "object", "embed", "b", "form")]
    assert bad == [], (where, bad)
    events = [(t, k) for t, a in page.tags for k in a if k.lower().startswith("on")]
    assert events == [], (where, events)
    images = [a.get("src") for t, a in page.tags if t == "img"]
    assert all(re.fullmatch(r"figures/[a-z0-9_]+\.(png|svg)", s or "") for s in images), (where, images)
    for href in page.links:
        assert href and re.match(r"(https?://[^\s\"'<>]+|#[a-z0-9_-]+|figures/[\w.-]+)$", href), (where, href)
        assert not href.startswith("https://example.org/\""), (where, href)
    made_up = [h for h in page.headings if "INJECTED" in h[1] or "xss" in h[1]]
    assert made_up == [], (where, made_up)
    lists = [i for i in page.items if i[1].startswith(("not a list", "not a quote", "---"))]
    assert lists == [], (where, lists)
    assert sum(t == "style" for t, _ in page.tags) <= 1, where  # index.html's own style sheet


def _table_rows(rendered: str) -> list[list[int]]:
    """The cell count of each row, per table."""
    out = []
    for table in re.findall(r"<table>.*?</table>", rendered, re.S):
        out.append([len(re.findall(r"<t[dh][ >]", row)) for row in re.findall(r"<tr>.*?</tr>", table, re.S)])
    return out


def test_report_md_renders_hostile_values_as_text(hostile):
    md = hostile["md"]
    for name, rendered in _renderings(md).items():
        page = _read(rendered)
        _assert_safe(page, name)
        text = " ".join("".join(page.text).split())
        for value in SHOWN + [BAD_DOI, "Eve <script>alert('xss-author')</script>"]:
            assert " ".join(value.split()) in text, (name, value)
        assert "# INJECTED MESSAGE <script>alert('xss-msg')</script>" in text, name
        assert "*bold* `code`" in text and "=HYPERLINK(" in text, name
        for rows in _table_rows(rendered):
            assert len(set(rows)) == 1, (name, rows)  # every row as wide as its header
        # the URL, DOI and javascript: addresses are never link targets; the DOI is linked encoded
        assert not any("javascript" in (h or "") for h in page.links), name
        assert "https://doi.org/10.9999/%22%3E%3Csvg/onload=alert%28%27xss-doi%27%29%3E" in page.links, name
        assert "https://example.org/%22%3E%3Cscript%3Ealert%28%27xss-url%27%29%3C/script%3E" in page.links, name
    # the Markdown source: one H1, the report's own headings only
    assert [line for line in md.splitlines() if line.startswith("# ")] == [md.splitlines()[0]]
    assert not any(line.lstrip().startswith(("# INJECTED", "- not a list", "1. not a list")) for line in md.splitlines())


def test_index_html_shows_hostile_values_as_text(hostile):
    page = _read(hostile["page"])
    _assert_safe(page, "index.html")
    text = " ".join("".join(page.text).split())
    for value in SHOWN + [CITATION, "Eve <script>alert('xss-author')</script>"]:
        assert " ".join(value.split()) in text, value
    assert not any("javascript" in (h or "") for h in page.links)
    # the javascript: URL is shown as text beside its label, never linked
    assert "URL (javascript:alert('xss-js'))" in text


def test_svg_figures_escape_hostile_labels(hostile):
    figures = hostile["out"] / "figures"
    forest = (figures / "forest_os.svg").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert('xss-name')&lt;/script&gt; [1]" in forest  # the label, as text
    assert "&lt;img src=x onerror=alert('xss-img')&gt;" in forest
    for svg in figures.glob("*.svg"):
        page = _read(svg.read_text(encoding="utf-8"))
        tags = {t for t, _ in page.tags}
        assert not tags & {"script", "img", "iframe", "foreignobject", "a"}, (svg.name, tags)
        assert [(t, k) for t, a in page.tags for k in a if k.lower().startswith("on")] == [], svg.name
        assert "xss-name" not in "".join(a.get("id", "") + a.get("href", "") for _, a in page.tags)
