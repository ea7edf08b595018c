"""The report's risk-of-bias section: per tool and outcome, robvis's traffic-light plot and its summary
plot weighted by the outcome's main analysis; the status of every included trial (consensus, single
assessor, awaiting consensus, or not assessed: never a guessed judgement); the assessors'
disagreements."""

from __future__ import annotations

import html

import pandas as pd

from ..safe import md_text
from ..words import count
from .doc import Html
from .display import FIGURE_MAX_ROWS

ENDPOINT_WORDS = {"os": "overall survival", "pfs": "progression-free survival", "orr": "objective response",
                  "dcr": "disease control", "safety": "adverse events"}
TOOL_WORDS = {"rob2": "RoB 2", "robins_i": "ROBINS-I"}


def _main_analysis(results, endpoint: str):
    from .sof import _endpoint

    for r in results:
        if not r.spec.sensitivity_of and r.spec.subgroup is None and r.k and _endpoint(r) == endpoint:
            return r
    return None


def _status_table(ctx, endpoints: list[str]) -> None:
    inputs, refs = ctx.inputs, ctx.refs
    trials = inputs.view("trials")
    trials = trials[trials["inclusion"] == "included"]
    trials = trials.assign(_o=trials["design"].map({"rct": 0, "single_arm": 1})).sort_values(
        ["_o", "first_publication_date", "name"], na_position="last")
    rif = inputs.view("risk_of_bias_in_force").set_index(["trial_id", "endpoint"])
    rows = []
    for t in trials.to_dict("records"):
        row = [refs.cite(t["name"], t["trial_id"]), "RCT" if t["design"] == "rct" else "single-arm"]
        for ep in endpoints:
            if (t["trial_id"], ep) in rif.index:
                r = rif.loc[(t["trial_id"], ep)]
                j = r["overall_judgement"]
                word = f"{j.replace('_', ' ')} ({TOOL_WORDS[r['tool']]}, {r['status']})" if j is not None and j == j \
                    else f"{TOOL_WORDS[r['tool']]}: {r['status']}"
                css = j if j is not None and j == j else "na"
                row.append(Html(f'<span class="rob rob-{html.escape(str(css), quote=True)}">&nbsp;</span> '
                                f'{html.escape(word)}', md_text(word)))
            else:
                row.append(Html('<span class="rob rob-na">&nbsp;</span> not assessed', "not assessed"))
        rows.append(row)
    header = ["Trial", "Design"] + [f"Overall: {ENDPOINT_WORDS.get(e, e)}" for e in endpoints]
    ctx.doc.table(header, rows, ctx.caption)


def write_rob(ctx, results) -> None:
    """The section body."""
    doc, inputs = ctx.doc, ctx.inputs
    rob = inputs.view("risk_of_bias")
    rif = inputs.view("risk_of_bias_in_force")
    judged = rif[rif["overall_judgement"].notna()] if len(rif) else rif
    endpoints = [e for e in ENDPOINT_WORDS if e in set(rif["endpoint"])] if len(rif) else []
    main_endpoints = [e for e in ("os", "pfs", "orr", "safety") if _main_analysis(results, e) is not None]
    if rob.empty:
        doc.para("No trial has a risk-of-bias assessment at this revision: every trial below is not assessed. "
                 "Assessments need the full texts; they are recorded in the study files (risk_of_bias, RoB 2 or "
                 "ROBINS-I, two assessors and a consensus), never guessed here.", "note")
    else:
        n = len(rob[["trial_id", "assessment_id"]].drop_duplicates())
        doc.para(f"{count(n, 'assessment')} of {count(rob['trial_id'].nunique(), 'trial')}. The judgement in force is the consensus (or a single "
                 "assessor's, said so); two assessors without a consensus are awaiting it and no judgement is used.")
    for tool in ("rob2", "robins_i"):
        for ep in ENDPOINT_WORDS:
            sel = judged[(judged["tool"] == tool) & (judged["endpoint"] == ep)] if len(judged) else judged
            if sel.empty:
                continue
            _plots(ctx, results, tool, ep, sel)
    doc.heading(3, "Status of every included trial")
    _status_table(ctx, sorted(set(main_endpoints) | set(endpoints), key=list(ENDPOINT_WORDS).index))
    dis = _disagreements(inputs)
    if dis is not None and len(dis):
        doc.heading(3, "Where the two assessors disagree")
        doc.para(f"{len(dis)} domains (livemeta query \"select * from risk_of_bias_disagreements\"), with the consensus "
                 "where recorded.")
        doc.table(["Trial", "Outcome", "Domain", "Reviewer 1", "Reviewer 2", "Consensus"],
                  [[ctx.refs.cite(r["trial"], r["trial_id"]), ENDPOINT_WORDS.get(r["endpoint"], r["endpoint"]),
                    f"{r['domain']}: {r['domain_name']}", _word(r["reviewer_1"]), _word(r["reviewer_2"]),
                    _word(r["consensus"]) or "not yet"] for r in dis.to_dict("records")], ctx.caption)


def _word(j) -> str:
    return "" if j is None or j != j else str(j).replace("_", " ")


def _disagreements(inputs) -> pd.DataFrame | None:
    rob = inputs.view("risk_of_bias")
    if rob.empty:
        return None
    r1 = rob[rob["role"] == "reviewer_1"]
    r2 = rob[rob["role"] == "reviewer_2"][["trial_id", "endpoint", "domain", "judgement"]]
    c = rob[rob["role"] == "consensus"][["trial_id", "endpoint", "domain", "judgement"]]
    m = r1.merge(r2, on=["trial_id", "endpoint", "domain"], suffixes=("", "_2"))
    m = m[m["judgement"] != m["judgement_2"]].merge(c, on=["trial_id", "endpoint", "domain"], how="left",
                                                    suffixes=("", "_c"))
    return pd.DataFrame({"trial_id": m["trial_id"], "trial": m["trial"], "endpoint": m["endpoint"],
                         "domain": m["domain"], "domain_name": m["domain_name"], "reviewer_1": m["judgement"],
                         "reviewer_2": m["judgement_2"], "consensus": m["judgement_c"]})


def _plots(ctx, results, tool: str, endpoint: str, sel: pd.DataFrame) -> None:
    """Traffic light (or, for very many trials, robvis's CSV) and the (weighted) summary for one
    tool and outcome."""
    doc, refs = ctx.doc, ctx.refs
    trials = ctx.inputs.view("trials").set_index("trial_id")
    order = {t: i for i, t in enumerate(trials.sort_values(["first_publication_date", "name"], na_position="last").index)}
    sel = sel.assign(_o=sel["trial_id"].map(order)).sort_values("_o")
    names = [trials["name"].get(t, t) for t in sel["trial_id"]]
    cols = [c for c in sel.columns if c.endswith("_judgement")]
    frame = sel[cols].assign(study=[f"{n} {refs.cite_text(t)}".rstrip() for n, t in zip(names, sel["trial_id"])])
    word = ENDPOINT_WORDS[endpoint]
    doc.heading(3, f"{TOOL_WORDS[tool]}: {word}")
    stem = f"rob_{tool}_{endpoint}"
    if len(frame) > FIGURE_MAX_ROWS:
        _judgements_file(ctx, stem, tool, frame)
    else:
        ctx.figure(f"{stem}_traffic_light", "traffic_light",
                   f"Risk-of-bias traffic-light plot ({TOOL_WORDS[tool]}), {word}",
                   f"{TOOL_WORDS[tool]} judgements in force, {word}: {count(len(frame), 'trial')} (robvis layout).", frame,
                   tool=tool, title=f"Risk of bias ({TOOL_WORDS[tool]}): {word}", what=f"risk of bias, {word}",
                   rows=len(frame))
    main = _main_analysis(results, endpoint)
    weights, what = None, "share of trials"
    if main is not None:
        w = main.studies.groupby("trial_id")["weight"].sum()
        weights = pd.Series({s: w.get(t, 0.0) for s, t in zip(frame["study"], sel["trial_id"])})
        what = f"weighted by analysis {main.spec.id}"
        missing = [n for n, t in zip(names, sel["trial_id"]) if t not in w.index]
        if missing:
            what += f" ({count(len(missing), 'trial')} not in it: weight 0)"
    ctx.figure(f"{stem}_summary", "rob_summary", f"Risk-of-bias summary plot ({TOOL_WORDS[tool]}), {word}",
               f"{TOOL_WORDS[tool]} summary, {word}, {what}.", frame, tool=tool, weights=weights,
               title=f"Risk of bias ({TOOL_WORDS[tool]}): {word}, {what.split(' (')[0]}", what=f"risk of bias, {word}")


def _judgements_file(ctx, stem: str, tool: str, frame: pd.DataFrame) -> None:
    """robvis's CSV of the judgements beside the figures, for more trials than a traffic light holds."""
    from ..importers.robvis import to_csv

    name = f"{stem}.csv"
    (ctx.figs.folder / name).write_text(to_csv(frame.to_dict("records"), tool), encoding="utf-8")
    ctx.figs.extra.add(name)
    ctx.doc.para(Html(f"Traffic-light plot not drawn for {len(frame)} trials; their judgements are in "
                      f'<a href="figures/{name}">{name}</a> (robvis layout).',
                      f"Traffic-light plot not drawn for {len(frame)} trials; their judgements are in "
                      f"[figures/{name}](figures/{name}) (robvis layout)."), "note")


__all__ = ["write_rob"]
