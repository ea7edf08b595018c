"""livemeta.safe: values made harmless for Markdown, links and spreadsheets, checked with real
Markdown renderers (markdown-it-py as CommonMark and GFM with linkify, Python-Markdown)."""

from __future__ import annotations

import csv
import io
import re

import markdown
import pytest
from markdown_it import MarkdownIt

from livemeta.safe import csv_cell, csv_text, csv_uncell, md_code, md_link, md_text, safe_url

PAYLOADS = [
    "<script>alert('xss-name')</script>",
    "<img src=x onerror=alert(1)>",
    "https://example.org/\"><script>alert(1)</script>",
    "10.9999/\"><svg/onload=alert(1)>",
    "Name\n\n# INJECTED HEADING\n\n[click](javascript:alert(1))",
    "# heading", "## heading", "- item", "+ item", "* item", "1. item", "2) item", "> quote", "---", "===", "***",
    "    indented code", "```fence", "~~~fence", "| a | b |", "a | b", "[ref]: javascript:alert(1)",
    "<javascript:alert(1)>", "<https://example.org>", "![x](https://example.org/x.png)", "*em* **strong** _u_",
    "`code`", "~~strike~~", "{: onclick=\"alert(1)\"}", "a@example.org", "mailto:a@example.org",
    "ftp://example.org/x", "&lt;script&gt;", "&#60;script&#62;", "trailing backslash \\", "line\r\nbreak",
    "\u2028sep", "[^1]", "<!-- comment -->", "<?php ?>", "$x$", "\x00nul",
]
RENDERERS = {
    "commonmark": MarkdownIt("commonmark").render,
    "gfm": MarkdownIt("gfm-like").render,
    "python-markdown": lambda s: markdown.markdown(s, extensions=["tables"]),
}
#: where a value may stand in a document
CONTEXTS = {
    "paragraph": "{}",
    "after text": "Trial: {}",
    "list item": "- {}",
    "heading": "## {}",
    "table cell": "| a | b |\n|---|---|\n| {} | x |",
    "emphasis": "*{}*",
}


def _tags(rendered: str) -> list[str]:
    return re.findall(r"<\s*([a-zA-Z][\w-]*)", rendered)


def _text(rendered: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_md_text_makes_no_markup_anywhere(renderer, context):
    render = RENDERERS[renderer]
    template = CONTEXTS[context]
    expected = {"paragraph": ["p"], "after text": ["p"], "list item": ["ul", "li"], "heading": ["h2"],
                "table cell": ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"],
                "emphasis": ["p", "em"]}[context]
    if context == "table cell" and renderer == "commonmark":  # no tables in CommonMark: a paragraph
        expected = ["p"]
    for value in PAYLOADS:
        out = render(template.format(md_text(value)))
        assert _tags(out) == expected, (value, out)
        shown = " ".join(value.replace("\x00", "").split())
        if context != "table cell" or renderer != "commonmark":
            assert " ".join(shown.split()) in " ".join(_text(out).split()), (value, out)


def test_md_text_keeps_ordinary_text_readable():
    assert md_text("PD-(L)1 + docetaxel, HR 0.90 (0.82-0.99); -0.5") == "PD-(L)1 + docetaxel, HR 0.90 (0.82-0.99); -0.5"
    assert md_text("= CI (fixed effect)") == "= CI (fixed effect)"
    assert md_text("10.9999/abc") == "10.9999/abc" and md_text("Data: revision 7") == "Data: revision 7"
    assert md_text("os_s1800a_80") == "os\\_s1800a\\_80"
    # addresses are shown, not linked; markdown-it's fuzzy linkify alone still links a bare domain,
    # and only to http://
    for render in RENDERERS.values():
        assert "<a" not in render(md_text("https://example.org www.example.org a@example.org"))
    assert '<a href="http://example.org">' in RENDERERS["gfm"](md_text("see example.org"))


def test_md_code_is_verbatim_or_falls_back_to_text():
    assert md_code("os_by_prior_io") == "`os_by_prior_io`"
    for value in ("a`b", "a|b", "x\n# y"):
        out = MarkdownIt("gfm-like").render("| " + md_code(value) + " | x |\n|---|---|\n| y | z |")
        assert out.count("<th>") == 2 and "<h1" not in out, value


@pytest.mark.parametrize("url,expected", [
    ("https://doi.org/10.1000/x", "https://doi.org/10.1000/x"),
    ("http://example.org/a?b=1&c=2#d", "http://example.org/a?b=1&c=2#d"),
    ("https://example.org/\"><script>", "https://example.org/%22%3E%3Cscript%3E"),
    ("https://example.org/a b(c)", "https://example.org/a%20b%28c%29"),
    ("HTTPS://EXAMPLE.ORG/", "HTTPS://EXAMPLE.ORG/"),
    ("javascript:alert(1)", None), ("JavaScript:alert(1)", None), (" javascript:alert(1)", None),
    ("data:text/html,<script>", None), ("vbscript:x", None), ("ftp://example.org", None),
    ("//example.org/x", None), ("/relative", None), ("https:///nohost", None), ("https://exa\nmple.org", None),
    ("https://example.org/\x00", None), ("https://example.org\\@evil", None), ("", None), (None, None),
])
def test_safe_url_allows_only_http_and_https(url, expected):
    assert safe_url(url) == expected


def test_md_link_links_only_safe_addresses():
    assert md_link("doi:10.1/x", "https://doi.org/10.1/x") == "[doi:10.1/x](https://doi.org/10.1/x)"
    text = md_link("URL", "javascript:alert(1)")
    for render in RENDERERS.values():
        assert "<a" not in render(text) and "javascript:alert(1)" in _text(render(text))


@pytest.mark.parametrize("value,written", [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("'quoted", "''quoted"), ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("-0.5", "-0.5"), ("+1.5e-3", "+1.5e-3"), ("-.5", "-.5"), ("-", "'-"), ("- item", "'- item"),
    ("plain", "plain"), ("", ""), (None, None), (-0.5, -0.5), (3, 3), (True, True),
])
def test_csv_cell_neutralises_formulas_and_keeps_numbers(value, written):
    assert csv_cell(value) == written
    assert csv_uncell(csv_cell(value)) == value  # the exact value back


def test_csv_text_round_trips():
    rows = [["=1+1", -0.5, "-0.5", "'a", "@x", "b,c\nd"]]
    text = csv_text(["h=", "-h"], rows)
    back = list(csv.reader(io.StringIO(text)))
    assert back[0] == ["h=", "'-h"]
    assert back[1] == ["'=1+1", "-0.5", "-0.5", "''a", "'@x", "b,c\nd"]
    assert [csv_uncell(c) for c in back[1]] == ["=1+1", "-0.5", "-0.5", "'a", "@x", "b,c\nd"]
