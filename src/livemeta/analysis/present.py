"""What ``livemeta pool`` prints: a table with the published figure beside each estimate, or JSON."""

from __future__ import annotations

import json
import math

import pandas as pd

from .labels import pi_label
from .run import AnalysisResult
from ..pooling import back_transform
from ..words import class_word, column_word, count

def _ratio(x: float | None, scale: str) -> float | None:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return float(back_transform(x, scale=scale))


def _fmt_ci(est: float | None, lo: float | None, hi: float | None, digits: int = 2) -> str:
    if est is None:
        return "—"
    f = f"{{:.{digits}f}}"
    ci = f" ({f.format(lo)}–{f.format(hi)})" if lo is not None and hi is not None else ""
    return f.format(est) + ci


def pi_summary(spec, r, k: int) -> dict | None:
    """The prediction interval of a pooled result as data: low, high (ratio scale), its estimator,
    distribution and label (:func:`pi_label`); None without a result."""
    if r is None:
        return None
    return {"low": _ratio(r.pi_low, spec.scale), "high": _ratio(r.pi_high, spec.scale), "estimator": spec.method,
            "distribution": r.pi_dist, "label": pi_label(spec.method, spec.test, r.pi_dist, k)}


def trial_count(result: AnalysisResult) -> str:
    """How many trials are behind the estimate, beside the review's count: '7 of 10 RCTs'."""
    word = "single-arm trial" if result.spec.measure == "proportion" else "RCT"
    n = len(result.trials)
    pub = result.spec.published
    if pub is not None and pub.trials:
        return f"{n} of {count(pub.trials, word)}"
    return count(n, word)


def comparison(result: AnalysisResult) -> str:
    """'matches' when ours rounds to every published number; else what differs; '' when nothing to compare."""
    pub = result.spec.published
    if pub is None or pub.estimate is None or result.overall is None:
        return ""
    ours = summary(result)
    diffs = []
    for name in ("estimate", "ci_low", "ci_high"):
        theirs = getattr(pub, name)
        if theirs is None:
            continue
        mine = ours[name]
        if round(mine, 2) != round(theirs, 2):
            diffs.append(f"{name.replace('_', ' ')} {mine:.2f} vs {theirs:.2f}")
    return "matches" if not diffs else "differs: " + "; ".join(diffs)


def studies_summary(result: AnalysisResult) -> list[dict]:
    """Each pooled study as ``pool --json`` gives it: the rows of
    :func:`~livemeta.analysis.studies.study_table` (estimate and interval on the display scale,
    weight in percent, whether the interval is the printed one or derived)."""
    from .studies import study_table

    out = []
    for row in study_table(result).to_dict("records"):
        row = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        row["participants"] = None if row["participants"] is None else int(round(row["participants"]))
        out.append(row)
    return out


def summary(result: AnalysisResult, *, studies: bool = False) -> dict:
    """The machine-readable summary of one analysis (ratio scale and analysis scale); ``studies``:
    with each pooled study (:func:`studies_summary`)."""
    from .studies import participants_total

    spec, r = result.spec, result.overall
    scale = spec.scale
    known, unknown = participants_total(result)
    out = {
        "analysis": spec.id,
        "title": spec.title,
        "revision": result.revision,
        "measure": spec.measure,
        "k": result.k,
        "trials": result.trials,
        "participants": {"known": known, "unknown": unknown},  # the trials whose number is not known
        "estimate": _ratio(r.estimate, scale) if r else None,
        "ci_low": _ratio(r.ci_low, scale) if r else None,
        "ci_high": _ratio(r.ci_high, scale) if r else None,
        "pi_low": _ratio(r.pi_low, scale) if r else None,
        "pi_high": _ratio(r.pi_high, scale) if r else None,
        "pi": pi_summary(spec, r, result.k),
        "log_estimate": r.estimate if r else None,
        "se": r.se if r else None,
        "p": r.p if r else None,
        "tau2": r.tau2 if r else None,
        "i2": r.i2 if r else None,
        "q": r.q if r else None,
        "q_df": r.q_df if r else None,
        "q_p": r.q_p if r else None,
        "scale": scale,
        "method": {
            "estimator": spec.method,
            "test": spec.test,
            "level": spec.level,
            "pi_dist": r.pi_dist if r else None,
            "zero_cell_rule": spec.zero_cell_rule,
            "ci_level": spec.ci_level if spec.measure == "HR" else None,
            "cohorts": spec.cohort_rule if spec.measure == "proportion" else None,
        },
        "unit_of_analysis": unit_of_analysis(result),
        "method_spec": json.loads(spec.method_spec()),
        "sensitivity_of": spec.sensitivity_of,
        "note": result.note,
        "input_flags": [f.to_dict() for f in result.input_flags],
        "caveats": [c.text for c in result.caveats],
        "published": None,
    }
    if spec.published is not None:
        out["published"] = {k: getattr(spec.published, k) for k in ("estimate", "ci_low", "ci_high", "trials", "text")}
    if result.subgroups is not None:
        sg = result.subgroups
        out["subgroups"] = [
            {
                "subgroup": name,
                "k": p.k,
                "estimate": _ratio(p.estimate, scale),
                "ci_low": _ratio(p.ci_low, scale),
                "ci_high": _ratio(p.ci_high, scale),
                "pi": pi_summary(spec, p, p.k),
                "i2": p.i2,
            }
            for name, p in sg.subgroups.items()
        ]
        out["test_for_subgroup_differences"] = {
            "q": sg.q_between,
            "df": sg.q_between_df,
            "p": sg.q_between_p,
            "tau2": sg.tau2_model,
        }
    if result.metareg is not None or result.metareg_note:
        out["metaregression"] = metareg_summary(result)
    if spec.monitoring:
        from .store import monitoring_columns

        cols = monitoring_columns(result)
        out["monitoring"] = {**{k.removeprefix("monitoring_"): v for k, v in cols.items() if k != "monitoring_spec"},
                             "settings": json.loads(cols["monitoring_spec"]) if cols["monitoring_spec"] else None,
                             "note": result.monitoring_note}
    out["monitoring_crossed"] = out["monitoring"]["crossed"] if spec.monitoring else None
    if studies:
        out["studies"] = studies_summary(result)
    return _finite(out)


def coefficient_labels(result: AnalysisResult) -> list[str]:
    """What each meta-regression coefficient estimates, in words, for a ratio measure on the log
    scale (exp() of the coefficient): the intercept is the ratio where every numeric moderator is 0
    and every factor at its reference level; a numeric moderator's coefficient is a ratio of ratios
    per unit; a factor level's, the ratio of ratios of that level against the reference level (R's
    factor() coding, :func:`livemeta.analysis.run.moderator_columns`)."""
    reg, spec = result.metareg, result.spec
    m = spec.measure if spec.scale == "log" else "estimate"
    ratio = spec.scale == "log"
    factors: dict[str, tuple[str, str]] = {}  # column name -> (moderator, level)
    reference: dict[str, str] = {}
    for mod in spec.moderators:
        col = result.studies[mod] if mod in result.studies.columns else None
        if col is None or (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
            continue
        levels = sorted(col.astype("string").dropna().unique())
        if levels:
            reference[mod] = levels[0]
        for level in levels[1:]:
            factors[f"{mod}{level}"] = (mod, level)
    out = []
    for name in reg.names:
        if name == "intrcpt":
            at = [f"{column_word(mod)} = {_level_word(mod, reference[mod])}" for mod in spec.moderators if mod in reference]
            at += [f"{column_word(mod)} = 0" for mod in spec.moderators if mod not in reference]
            out.append(f"intercept: {m} where {' and '.join(at)}" if ratio else f"intercept (at {' and '.join(at)})")
        elif name in factors:
            mod, level = factors[name]
            out.append(f"{column_word(mod)}: {_level_word(mod, level)} vs {_level_word(mod, reference[mod])} "
                       f"({'ratio of ' + m + 's' if ratio else 'difference'})")
        else:
            out.append(f"{column_word(name)}: per unit ({'ratio of ' + m + 's' if ratio else 'difference'} per unit)")
    return out


def _level_word(moderator: str, level: str) -> str:
    """A factor's level as a reader names it ('dual_checkpoint' -> 'dual checkpoint')."""
    return class_word(level) if moderator == "treatment_class" else str(level).replace("_", " ")


def metareg_summary(result: AnalysisResult) -> dict:
    """The meta-regression of an analysis: coefficients on the analysis scale (and exp() of them
    for ratios) with what each estimates (``label``), the omnibus test of the moderators, residual
    heterogeneity and R^2."""
    reg = result.metareg
    out: dict = {"moderators": list(result.spec.moderators), "note": result.metareg_note}
    if reg is None:
        return out
    ratio = result.spec.scale == "log"
    labels = coefficient_labels(result)
    out.update({
        "k": reg.k,
        "method": {"estimator": reg.method, "test": reg.test, "level": reg.level},
        "coefficients": [
            {"name": n, "label": label, "estimate": float(b), "se": float(se), "stat": float(z), "p": float(pv),
             "ci_low": float(lo), "ci_high": float(hi),
             **({"ratio": math.exp(b), "ratio_ci_low": math.exp(lo), "ratio_ci_high": math.exp(hi)} if ratio else {})}
            for n, label, b, se, z, pv, lo, hi in zip(reg.names, labels, reg.beta, reg.se, reg.stat, reg.pval,
                                                      reg.ci_low, reg.ci_high)
        ],
        "test_of_moderators": {"statistic": reg.qm, "df": reg.qm_df, "df2": reg.qm_df2, "p": reg.qm_p,
                               "distribution": reg.qm_dist},
        "residual_heterogeneity": {"qe": reg.qe, "df": reg.qe_df, "p": reg.qe_p, "tau2": reg.tau2,
                                   "i2": reg.i2},
        "r2": reg.r2,
    })
    return out


def _finite(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def _short(text: str | None, width: int = 36) -> str:
    """``text`` cut at a word boundary to ``width`` characters, ending in '…' when cut."""
    if not text:
        return ""
    if len(text) <= width:
        return text
    cut = text[: max(width - 1, 1)]
    if " " in cut[width // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:(") + "…"


def to_json(results: list[AnalysisResult], reference: dict | None = None, version: str | None = None) -> str:
    """One JSON object per analysis; with ``reference`` (results at ``version``), the analysis at that
    version under ``reference`` and the trials added since under ``trials_since_version``."""
    out = []
    for r in results:
        s = summary(r, studies=True)
        ref = (reference or {}).get(r.spec.id)
        if ref is not None:
            rs = summary(ref)
            s["reference"] = {"version": version, "revision": ref.revision, "comparison": comparison(ref)} | {
                k: rs[k] for k in ("k", "trials", "estimate", "ci_low", "ci_high", "i2")
            }
            s["trials_since_version"] = [t for t in r.trials if t not in set(ref.trials)]
        out.append(s)
    return json.dumps(out, indent=2, ensure_ascii=False)


METHOD_WORDS = {
    "FE": "fixed effect (inverse variance)",
    "DL": "random effects, DerSimonian-Laird tau²",
    "REML": "random effects, restricted maximum-likelihood tau²",
    "ML": "random effects, maximum-likelihood tau²",
    "PM": "random effects, Paule-Mandel tau²",
    "EB": "random effects, empirical Bayes tau²",
    "SJ": "random effects, Sidik-Jonkman tau²",
    "HE": "random effects, Hedges tau²",
    "HS": "random effects, Hunter-Schmidt tau²",
    "GLMM": "random effects, binomial-normal GLMM of the counts (ML; metafor rma.glmm), no continuity correction",
    "z": "normal-theory CI",
    "knha": "Hartung-Knapp-Sidik-Jonkman t-based CI",
}


def _trials_word(res: AnalysisResult, n: int) -> str:
    return count(n, "single-arm trial" if res.spec.measure == "proportion" else "RCT")


def unit_of_analysis(res: AnalysisResult) -> dict | None:
    """How the trials with several cohorts entered a pooled proportion (``cohorts`` of the spec),
    None when no trial had several: {"rule", "stated" (in the analyses file, else livemeta's default),
    "words", "cohorts" (in all), "trials": {trial_id: n}}."""
    from .spec import COHORT_WORDS

    st = res.studies
    if res.spec.measure != "proportion" or "cohorts" not in st.columns or not (st["cohorts"] > 1).any():
        return None
    several = {t: int(n) for t, n in zip(st["trial_id"], st["cohorts"]) if n > 1}
    rule = res.spec.cohort_rule
    return {"rule": rule, "stated": res.spec.cohorts is not None, "words": COHORT_WORDS[rule],
            "cohorts": int(st["cohorts"].sum()), "trials": several}


def unit_text(res: AnalysisResult) -> str:
    """'8 cohorts, combined per trial' (the rule beside the trial count), or ''."""
    u = unit_of_analysis(res)
    return "" if u is None else f"{u['cohorts']} cohorts, {u['words']}"


def unit_note(res: AnalysisResult) -> str:
    """'Unit of analysis: each trial once; durvalumab + tremelimumab ... : 3 cohorts combined
    (responders and patients summed)', or '' when no trial had several cohorts."""
    from .spec import COHORT_NOTES

    u = unit_of_analysis(res)
    if u is None:
        return ""
    st = res.studies
    names = dict(zip(st["trial_id"], st["trial"] if "trial" in st.columns else st["trial_id"]))
    which = "; ".join(f"{names[t]}: {n} cohorts" for t, n in u["trials"].items())
    return f"Unit of analysis: each trial once, {COHORT_NOTES[u['rule']]}: {which}"


def _cohorts(res: AnalysisResult) -> str:
    """' (8 cohorts; cohorts of one trial combined ...)' when a trial brought several cohorts (the
    rule beside the count); ' (8 comparisons)' when an analysis pools several rows of one trial."""
    unit = unit_text(res)
    if unit:
        return f" ({unit})"
    if res.k == len(res.trials) or res.k == 0:
        return ""
    return f" ({count(res.k, 'cohort' if res.spec.measure == 'proportion' else 'comparison')})"


def _since(res: AnalysisResult, ref: AnalysisResult | None, version: str | None) -> str:
    """The trial count of the living estimate, with '+N since VERSION' when trials came since
    (trials, not arms: several cohorts of one trial are one trial)."""
    if ref is None:
        return trial_count(res) + _cohorts(res)
    known = set(ref.trials)
    new = [t for t in res.trials if t not in known]
    return _trials_word(res, len(res.trials)) + _cohorts(res) + (f" (+{len(new)} since {version})" if new else "")


def _est(res: AnalysisResult, s: dict) -> str:
    """'HR 0.90 (0.82–0.99)', or '12.5% (9.0–17.1)' for a proportion; 'no data' without one."""
    if s["estimate"] is None:
        return "no data"
    if res.spec.measure == "proportion":
        return f"{100 * s['estimate']:.1f}% ({100 * s['ci_low']:.1f}–{100 * s['ci_high']:.1f})"
    return f"{res.spec.measure} {_fmt_ci(s['estimate'], s['ci_low'], s['ci_high'])}"


def _pi_line(res: AnalysisResult, s: dict) -> str | None:
    """'    95% prediction interval 0.59–1.27 (REML, t(k-1) = t(4), HKSJ)' for a random-effects
    estimate of two or more studies; None otherwise (under a fixed effect the PI is the CI)."""
    pi = s.get("pi")
    if res.spec.method == "FE" or res.k < 2 or not pi or pi["low"] is None or pi["high"] is None:
        return None
    lvl = f"{res.spec.level * 100:g}%"
    if res.spec.measure == "proportion":
        text = f"{100 * pi['low']:.1f}%–{100 * pi['high']:.1f}%"
    else:
        text = f"{pi['low']:.2f}–{pi['high']:.2f}"
    return f"    {lvl} prediction interval {text} ({pi['label']})"


def _subgroup_rows(res: AnalysisResult, s: dict) -> list:
    """A row per subgroup, then the test for subgroup differences as a free line."""
    from ..words import class_word

    out: list = []
    groups = res.studies[res.spec.subgroup].fillna("(none)").astype(str)
    for sg in s["subgroups"]:
        sel = res.studies[groups == str(sg["subgroup"])]
        n = sel["trial_id"].nunique()
        trials = _trials_word(res, n) + (f" ({count(sg['k'], 'cohort')})" if sg["k"] != n else "")
        name = class_word(sg["subgroup"]) if res.spec.subgroup == "treatment_class" else str(sg["subgroup"])
        est = {"estimate": sg["estimate"], "ci_low": sg["ci_low"], "ci_high": sg["ci_high"]}
        i2 = f"{sg['i2']:.0f}%" if sg["i2"] is not None and sg["k"] > 1 else ""
        out.append({"name": f"    {name}", "trials": trials, "estimate": _est(res, est), "i2": i2})
        if res.spec.measure == "proportion" and sg["k"] == 1 and {"xi", "ni"} <= set(sel.columns):
            from ..pooling.effects import proportion_ci_exact

            x, n = float(sel["xi"].iloc[0]), float(sel["ni"].iloc[0])
            lo, hi = proportion_ci_exact([x], [n], res.spec.level)
            out.append(f"      one study: {x:.0f}/{n:.0f} = {100 * x / n:.1f}% (exact {100 * lo[0]:.1f}–{100 * hi[0]:.1f})"
                       + ("; the row above adds 1/2 to its zero cell" if x in (0, n) else ""))
    t = s["test_for_subgroup_differences"]
    out.append(f"    subgroup differences: Q = {t['q']:.2f}, df = {t['df']}, p = {t['p']:.3f}")
    return out


def _metareg_rows(res: AnalysisResult) -> list:
    """A free line per coefficient, saying what it estimates (:func:`coefficient_labels`), then the
    test of moderators."""
    m = metareg_summary(res)
    out: list = []
    for c in m["coefficients"]:
        v = (c["ratio"], c["ratio_ci_low"], c["ratio_ci_high"]) if "ratio" in c else (c["estimate"], c["ci_low"], c["ci_high"])
        out.append(f"    {c['label']}: {_fmt_ci(*v)}, p = {c['p']:.3f} (k = {m['k']})")
    t = m["test_of_moderators"]
    r2 = f", R² {m['r2']:.0f}%" if m["r2"] is not None and math.isfinite(m["r2"]) else ""
    out.append(f"    test of moderators: {'F' if t['distribution'] == 'F' else 'QM'} = {t['statistic']:.2f}, p = {t['p']:.3f}{r2}")
    return out


#: flagged inputs printed under an analysis by ``livemeta pool`` (JSON lists every one)
FLAG_LINES = 10

_COLUMNS = [("name", "analysis"), ("trials", "trials"), ("estimate", "estimate (CI)"), ("i2", "I²"),
            ("method", "method, CI level")]


def _name(row: dict, width: int) -> str:
    """The analysis column: an id, or a sensitivity analysis's title cut to fit before its [id]."""
    if "title" not in row:
        return row["name"] if len(row["name"]) <= width else _short(row["name"], width)
    tail = f" [{row['id']}]"
    return "  ↳ " + _short(row["title"], max(width - len(tail) - 4, 8)) + tail


def _render(entries: list, extra: list[tuple[str, str]], width: int | None) -> list[str]:
    """The table: the extra columns (review version, published, comparison) beside the others when
    the terminal holds them, else on a line of their own under each analysis, with the method.
    Analysis ids are never cut; titles of sensitivity analyses are, to fit."""
    cols = _COLUMNS + extra
    rows = [e for e in entries if isinstance(e, dict)]
    widths = {k: max([len(h)] + [len(str(r.get(k, ""))) for r in rows]) for k, h in cols if k != "name"}
    widths["name"] = max([len("analysis")] + [len(_name(r, 10_000)) for r in rows])
    least_name = max([len("analysis")] + [len(_name(r, 0)) if "title" in r else len(r["name"]) for r in rows])
    widths["name"] = max(least_name, min(widths["name"], 60))
    if "published" in widths:
        widths["published"] = min(widths["published"], 36)  # cut to fit on one line; whole when stacked

    def total():
        return sum(widths[k] for k, _ in cols) + 2 * (len(cols) - 1)

    stacked = False
    if width is not None and total() > width:  # method and the extra columns on a line of their own
        stacked, cols = True, _COLUMNS[:4]
        extra = [_COLUMNS[4], *extra]
        widths["name"] = max(least_name, widths["name"] - max(0, total() - width))
        if total() > width:  # and the trial counts too
            cols = [c for c in cols if c[0] != "trials"]
            extra = [_COLUMNS[1], *extra]
            widths["name"] = max(least_name, widths["name"] - max(0, total() - width))

    def line(values: dict) -> str:
        cells = []
        for k, _ in cols:
            v = _name(values, widths[k]) if k == "name" and "title" in values else str(values.get(k, ""))
            if k != "name" or "title" not in values:
                v = v if len(v) <= widths[k] else _short(v, widths[k])
            cells.append(v.ljust(widths[k]))
        return "  ".join(cells).rstrip()

    out = [line({k: h for k, h in cols}), "  ".join("-" * widths[k] for k, _ in cols)]
    for e in entries:
        if not isinstance(e, dict):
            out += _wrap(e, width, "      ") if width else [e]
            continue
        out.append(line(e))
        if stacked:
            more = " · ".join(f"{h.replace(' (trials)', '')}: {e[k]}" for k, h in extra if e.get(k))
            if more:
                out += _wrap(f"      {more}", width, "  ")
    return out


def to_table(
    results: list[AnalysisResult], reference: dict | None = None, version: str | None = None, width: int | None = None,
    verbose: bool = False,
) -> str:
    """Aligned text: one line per analysis (sensitivity analyses by title, indented under their main
    one), one per subgroup; with ``reference`` (the analyses at ``version``, the one the published
    figures belong to) that version's estimate and trial count beside the living one, and the
    comparison with the published figure made on it. ``width`` (the terminal's) fits the table to
    it (on a narrow terminal the published figures go on a line of their own); ``verbose`` names the
    trials behind each estimate. A legend of the method codes follows."""
    reference = reference or {}
    with_ref = bool(reference)
    published = any(res.spec.published is not None for res in results)  # else no column for it
    extra = ([("version", f"{version} (trials)")] if with_ref else []) + (
        [("published", "published"), ("compare", "vs published")] if published else [])
    entries: list = []
    for res in results:
        s = summary(res)
        ref = reference.get(res.spec.id)
        row = {"name": res.spec.id, "trials": _since(res, ref, version), "estimate": _est(res, s),
               "i2": f"{s['i2']:.0f}%" if s["i2"] is not None else "",
               "method": f"{res.spec.method}/{res.spec.test}, {res.spec.level * 100:g}%"}
        if res.spec.sensitivity_of:
            row |= {"title": res.spec.title, "id": res.spec.id}
        pub = res.spec.published
        if pub is not None:
            row["published"] = _fmt_ci(pub.estimate, pub.ci_low, pub.ci_high) if pub.estimate is not None else (pub.text or "")
        if ref is not None:
            row["version"] = f"{_est(ref, summary(ref)).removeprefix(f'{res.spec.measure} ')} ({trial_count(ref)})"
        row["compare"] = comparison(ref if ref is not None else res)
        entries.append(row)
        pi = _pi_line(res, s)
        if pi:
            entries.append(pi)
        if res.subgroups is not None:
            entries += _subgroup_rows(res, s)
        if res.metareg is not None:
            entries += _metareg_rows(res)
        if unit_note(res):
            entries.append(f"    {unit_note(res)[0].lower()}{unit_note(res)[1:]}")
        if res.metareg_note:
            entries.append(f"    meta-regression: {res.metareg_note}")
        if res.note:
            entries.append(f"    note: {res.note}")
        from .caveats import capped

        entries += [f"    flag: {line}" for line in capped([f.text for f in res.input_flags], FLAG_LINES,
                                                            "flagged inputs (pool --json lists every one)")]
        entries += [f"    caveat: {c.text}" for c in res.caveats]
        if verbose and res.k:
            names = res.studies["trial"] if "trial" in res.studies.columns else res.studies["label"]
            entries.append(f"    trials: {', '.join(dict.fromkeys(map(str, names)))}")
    out = _render(entries, extra, width)
    if results:
        foot = f"(revision {results[0].revision}"
        if with_ref:
            foot += f"; {version} = revision {next(iter(reference.values())).revision}, compared with the published figures"
        foot += "; estimates on the ratio scale, proportions in percent)"
        out += _wrap(foot, width, " ") if width else [foot]
        codes = list(dict.fromkeys(c for res in results for c in (res.spec.method, res.spec.test)))
        legend = "methods: " + "; ".join(f"{c} = {METHOD_WORDS[c]}" for c in codes if c in METHOD_WORDS)
        out += _wrap(legend, width, "  ") if width else [legend]
        if not verbose:
            out.append("(--verbose names the trials behind each estimate)")
    return "\n".join(out)


def _wrap(text: str, width: int | None, indent: str) -> list[str]:
    import textwrap

    first = len(text) - len(text.lstrip())
    return textwrap.wrap(text, width=max(width or 100, 40), subsequent_indent=indent + " " * first,
                         break_long_words=False, break_on_hyphens=False) or [text]
