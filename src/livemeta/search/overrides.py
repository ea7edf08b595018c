"""``searches/duplicates.yaml``: a person's de-duplication decisions, which overrule the automatic ones.

::

    keep_apart:                   # a merge reversed: these two are different reports
      - records: [embase-2026-03-01/17, pubmed-2026-03-01/4]
        reason: "a conference abstract and the full paper with different data cuts"
        by: A. Reviewer
    merge:                        # duplicates the rules missed
      - records: [embase-2026-03-01/20, scopus-2026-03-01/33]
        reason: "the same abstract, translated title"
        by: A. Reviewer

``livemeta search keep-apart`` and ``livemeta search merge`` write it.
"""

from __future__ import annotations

import yaml

from ..errors import Problem, excerpt
from .dedup import Override

OVERRIDES_FILE = "duplicates.yaml"
ACTIONS = ("keep_apart", "merge")


def parse_overrides(raw: bytes, name: str) -> tuple[list[Override], list[Problem]]:
    from .records import RECORD_ID
    from .runs import load_yaml

    data, lines, problems = load_yaml(raw, name)
    if problems:
        return [], problems
    if data is None:
        return [], []
    if not isinstance(data, dict):
        return [], [Problem(name, "", "a mapping with keep_apart and merge lists")]
    out: list[Override] = []
    seen = set()
    for k in data:
        if k not in ACTIONS:
            problems.append(Problem(name, str(k)[:40], "unknown key (keep_apart or merge)"))
    for action in ACTIONS:
        items = data.get(action) or []
        if not isinstance(items, list):
            problems.append(Problem(name, action, "a list of {records: [A, B], reason, by}"))
            continue
        for i, item in enumerate(items):
            where = f"{action}[{i}]"
            at = f" (line {lines[where]})" if where in lines else ""
            if not isinstance(item, dict) or set(item) - {"records", "reason", "by"}:
                problems.append(Problem(name, where, f"a mapping {{records: [A, B], reason, by}}{at}"))
                continue
            recs = item.get("records")
            if not (isinstance(recs, list) and len(recs) == 2 and all(isinstance(r, str) and RECORD_ID.match(r) for r in recs)
                    and recs[0] != recs[1]):
                problems.append(Problem(name, f"{where}.records", f"two different record ids (RUN/N){at}"))
                continue
            reason = item.get("reason")
            if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
                problems.append(Problem(name, f"{where}.reason", f"required: why (text){at}"))
                continue
            by = item.get("by")
            if by is not None and (not isinstance(by, str) or len(by) > 200):
                problems.append(Problem(name, f"{where}.by", f"who decided (text){at}"))
                continue
            a, b = sorted(recs)
            if (action, a, b) in seen:
                problems.append(Problem(name, where, f"{excerpt(a)} and {excerpt(b)} are listed twice{at}"))
                continue
            seen.add((action, a, b))
            out.append(Override(action, a, b, reason.strip(), by.strip() if by else None))
    pairs = {(o.a, o.b) for o in out if o.action == "merge"} & {(o.a, o.b) for o in out if o.action == "keep_apart"}
    for a, b in sorted(pairs):
        problems.append(Problem(name, "", f"{a} and {b} are both merged and kept apart"))
    return (out, []) if not problems else ([], problems)


def overrides_text(overrides: list[Override]) -> str:
    doc = {}
    for action in ACTIONS:
        items = [{"records": [o.a, o.b], "reason": o.reason, **({"by": o.by} if o.by else {})}
                 for o in overrides if o.action == action]
        if items:
            doc[action] = items
    head = ("# De-duplication decisions a person made (livemeta search keep-apart / merge): they overrule the\n"
            "# automatic ones. keep_apart reverses a merge; merge joins records the rules missed.\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
