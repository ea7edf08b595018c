"""What ``livemeta pool`` prints: a table with the published figure beside each estimate, or JSON."""

from __future__ import annotations

import json
import math

from .run import AnalysisResult
from ..pooling import back_transform

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


def trial_count(result: AnalysisResult) -> str:
    """How many trials are behind the estimate, beside the review's count: '7 of 10 RCTs'."""
    word = "single-arm trials" if result.spec.measure == "proportion" else "RCTs"
    n = len(result.trials)
    pub = result.spec.published
    if pub is not None and pub.trials:
        return f"{n} of {pub.trials} {word}"
    return f"{n} {word}"


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


def summary(result: AnalysisResult) -> dict:
    """The machine-readable summary of one analysis (ratio scale and analysis scale)."""
    spec, r = result.spec, result.overall
    scale = spec.scale
    out = {
        "analysis": spec.id,
        "title": spec.title,
        "revision": result.revision,
        "measure": spec.measure,
        "k": result.k,
        "trials": result.trials,
        "estimate": _ratio(r.estimate, scale) if r else None,
        "ci_low": _ratio(r.ci_low, scale) if r else None,
        "ci_high": _ratio(r.ci_high, scale) if r else None,
        "pi_low": _ratio(r.pi_low, scale) if r else None,
        "pi_high": _ratio(r.pi_high, scale) if r else None,
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
        },
        "method_spec": json.loads(spec.method_spec()),
        "sensitivity_of": spec.sensitivity_of,
        "note": result.note,
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
    return _finite(out)


def metareg_summary(result: AnalysisResult) -> dict:
    """The meta-regression of an analysis: coefficients on the analysis scale (and exp() of them
    for ratios), the omnibus test of the moderators, residual heterogeneity and R^2."""
    reg = result.metareg
    out: dict = {"moderators": list(result.spec.moderators), "note": result.metareg_note}
    if reg is None:
        return out
    ratio = result.spec.scale == "log"
    out.update({
        "k": reg.k,
        "method": {"estimator": reg.method, "test": reg.test, "level": reg.level},
        "coefficients": [
            {"name": n, "estimate": float(b), "se": float(se), "stat": float(z), "p": float(pv),
             "ci_low": float(lo), "ci_high": float(hi),
             **({"ratio": math.exp(b), "ratio_ci_low": math.exp(lo), "ratio_ci_high": math.exp(hi)} if ratio else {})}
            for n, b, se, z, pv, lo, hi in zip(reg.names, reg.beta, reg.se, reg.stat, reg.pval, reg.ci_low, reg.ci_high)
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
    if not text:
        return ""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def to_json(results: list[AnalysisResult], reference: dict | None = None, version: str | None = None) -> str:
    """One JSON object per analysis; with ``reference`` (results at ``version``), the analysis at that
    version under ``reference`` and the trials added since under ``trials_since_version``."""
    out = []
    for r in results:
        s = summary(r)
        ref = (reference or {}).get(r.spec.id)
        if ref is not None:
            rs = summary(ref)
            s["reference"] = {"version": version, "revision": ref.revision, "comparison": comparison(ref)} | {
                k: rs[k] for k in ("k", "trials", "estimate", "ci_low", "ci_high", "i2")
            }
            s["trials_since_version"] = [t for t in r.trials if t not in set(ref.trials)]
        out.append(s)
    return json.dumps(out, indent=2, ensure_ascii=False)


def _since(res: AnalysisResult, ref: AnalysisResult | None, version: str | None) -> str:
    """The trial count of the living estimate, with '+N since VERSION' when trials came since."""
    word = "single-arm trials" if res.spec.measure == "proportion" else "RCTs"
    if ref is None:
        return trial_count(res)
    new = [t for t in res.trials if t not in set(ref.trials)]
    return f"{len(res.trials)} {word}" + (f" (+{len(new)} since {version})" if new else "")


def to_table(
    results: list[AnalysisResult], reference: dict | None = None, version: str | None = None, width: int | None = None
) -> str:
    """Aligned text: one line per analysis (sensitivity analyses indented under their main one),
    one per subgroup; with ``reference`` (the analyses at ``version``, the one the published
    figures belong to) that version's estimate and trial count beside the living one, and the
    comparison with the published figure made on it. ``width`` (the terminal's) shortens the
    published text to fit."""
    reference = reference or {}
    with_ref = bool(reference)
    header = ["analysis", "trials", "estimate (CI)", "I²", "method, CI level"]
    if with_ref:
        header.append(f"{version} (trials)")
    header += ["published", "vs published"]
    pub_col = header.index("published")
    lines = []
    for res in results:
        s = summary(res)
        ref = reference.get(res.spec.id)
        name = ("  ↳ " if res.spec.sensitivity_of else "") + res.spec.id
        est = _fmt_ci(s["estimate"], s["ci_low"], s["ci_high"])
        est = f"{res.spec.measure} {est}" if s["estimate"] is not None else "no data"
        i2 = f"{s['i2']:.0f}%" if s["i2"] is not None else ""
        method = f"{res.spec.method}/{res.spec.test}, {res.spec.level * 100:g}%"
        pub = res.spec.published
        pub_text = ""
        if pub is not None:
            pub_text = _fmt_ci(pub.estimate, pub.ci_low, pub.ci_high) if pub.estimate is not None else (pub.text or "")
        row = [name, _since(res, ref, version), est, i2, method]
        if with_ref:
            if ref is None:
                row.append("")
            else:
                rs = summary(ref)
                row.append((_fmt_ci(rs["estimate"], rs["ci_low"], rs["ci_high"]) if rs["estimate"] is not None else "no data")
                           + f" ({trial_count(ref)})")
        row += [pub_text, comparison(ref if ref is not None else res)]
        lines.append(row)
        if res.subgroups is not None:
            for sg in s["subgroups"]:
                lines.append([f"    {sg['subgroup']}", str(sg["k"]), _fmt_ci(sg["estimate"], sg["ci_low"], sg["ci_high"]),
                              f"{sg['i2']:.0f}%" if sg["i2"] is not None else ""] + [""] * (len(header) - 4))
            t = s["test_for_subgroup_differences"]
            lines.append(["    subgroup differences", "", f"Q = {t['q']:.2f}, df = {t['df']}, p = {t['p']:.3f}"]
                         + [""] * (len(header) - 3))
        if res.metareg is not None:
            m = metareg_summary(res)
            unit = res.spec.measure if m["coefficients"] and "ratio" in m["coefficients"][0] else "coef."
            for c in m["coefficients"][1 if res.metareg.intercept else 0:]:
                v = (c["ratio"], c["ratio_ci_low"], c["ratio_ci_high"]) if "ratio" in c else (c["estimate"], c["ci_low"], c["ci_high"])
                lines.append([f"    {c['name']}", str(m["k"]), f"{unit} ×{_fmt_ci(*v)} per unit, p = {c['p']:.3f}"]
                             + [""] * (len(header) - 3))
            t = m["test_of_moderators"]
            r2 = f", R² {m['r2']:.0f}%" if m["r2"] is not None and math.isfinite(m["r2"]) else ""
            lines.append(["    test of moderators", "", f"{'F' if t['distribution'] == 'F' else 'QM'} = {t['statistic']:.2f}, "
                          f"p = {t['p']:.3f}{r2}"] + [""] * (len(header) - 3))
        if res.metareg_note:
            lines.append(f"    meta-regression: {res.metareg_note}")
        if res.note:
            lines.append(f"    note: {res.note}")  # a free line, outside the columns
    rows = [r for r in lines if isinstance(r, list)]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    if width:
        spare = width - (sum(widths) + 2 * (len(widths) - 1))
        if spare < 0:
            widths[pub_col] = max(len("published"), 14, widths[pub_col] + spare)
            for row in rows:
                row[pub_col] = _short(row[pub_col], widths[pub_col])
    else:
        for row in rows:
            row[pub_col] = _short(row[pub_col])
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    fmt = lambda row: row if isinstance(row, str) else "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    out = [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in lines]
    if results:
        foot = f"(revision {results[0].revision}"
        if with_ref:
            foot += f"; {version} = revision {next(iter(reference.values())).revision}, compared with the published figures"
        out.append(foot + "; estimates on the ratio scale, proportions back-transformed from logit)")
    return "\n".join(out)
