"""Structure of one study file: the JSON Schema, then the rules that tie one file together.

Schema errors are rendered as record paths (``outcomes[2].ci_high``) with readable reasons
("expected a number, got 'abc'", "missing required field 'raw_text'", "'foo' is not one of: os,
pfs, orr, dcr"); an unknown key gets the nearest valid key ("unknown key 'ci_hgh'; did you mean
'ci_high'?").

The rules within a file (run only when the schema passes):

- ids are unique within each list;
- every ``source``, ``arm``, ``experimental_arm``, ``control_arm`` and ``definition`` names an id
  of the same file; an outcome's ``experimental_arm`` is an experimental (or single) arm and its
  ``control_arm`` a control arm; an HR / OR / RR needs a control arm; control counts need one too;
- a source gives at least one non-null url, doi, pmid or nct_id;
- a single_arm trial has only ``single`` arms; an rct has experimental and control arms and no
  ``single`` one;
- dates are real calendar dates (2024-02-30 is refused);
- a resistance threshold has its direction (``threshold_comparator``; format 2), and a direction a
  threshold;
- the statistics an HR may be derived from (O - E and V, a log-rank chi-square, total events, the
  allocation ratio, the HR's direction) belong to HR outcomes, come in usable combinations and
  agree with the rest of the outcome.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import functools
import json
import re
from collections.abc import Iterable

from ..errors import Problem, excerpt
from ..paths import resource
from ._common import LISTS, StudyFile, fmt, render_path

MAX_PROBLEMS_PER_FILE = 50

_PATTERNS = {
    "^[a-z0-9][a-z0-9_.-]{0,63}$": "is not a valid id (lower-case letters, digits, '_', '.', '-'; "
    "up to 64 characters, starting with a letter or digit)",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "is not a date written YYYY-MM-DD",
    "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$": "is not a date written YYYY, YYYY-MM or YYYY-MM-DD",
    "^NCT[0-9]{8}$": "is not an NCT id (NCT and 8 digits)",
    "^10\\.[0-9]{4,9}/\\S+$": "is not a DOI (10.NNNN/...)",
    "^[0-9]{1,9}$": "is not a PubMed id (digits only)",
    "^https?://\\S+$": "is not an http(s) URL",
}

_TYPE_NAMES = {
    "number": "a number",
    "integer": "a whole number",
    "string": "text",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


@functools.cache
def schema() -> dict:
    return json.loads(resource("ingest", "study.schema.json").read_text(encoding="utf-8"))


def _ecma_pattern(pattern: str) -> re.Pattern:
    """A JSON Schema pattern as ECMA-262 reads it: ``$`` only at the very end of the text (Python's
    ``$`` also matches before a final newline, which let "2023-10-01\n" pass as a date)."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _ecma_schema(node):
    """The schema with every ``pattern`` read as ECMA-262 reads it (see :func:`_ecma_pattern`)."""
    if isinstance(node, dict):
        return {k: (_ecma_pattern(v).pattern if k == "pattern" else _ecma_schema(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_ecma_schema(v) for v in node]
    return node


@functools.cache
def _fast_check():
    """The schema compiled to Python by fastjsonschema: a valid file (nearly every file) is known
    valid in ~0.1 ms instead of ~2 ms; an invalid one goes to jsonschema, whose errors say what is
    wrong. The schema uses nothing beyond draft 7 but ``$defs`` (resolved as a JSON pointer); a test
    holds the two validators to the same verdicts."""
    import fastjsonschema

    return fastjsonschema.compile(_ecma_schema(schema() | {"$schema": "http://json-schema.org/draft-07/schema#"}))


def schema_valid(data) -> bool:
    """Whether ``data`` passes the study-file schema (no message: see :func:`schema_problems`)."""
    try:
        _fast_check()(data)
    except Exception:  # invalid, or a value the compiled check did not foresee: jsonschema decides
        return False
    return True


@functools.cache
def _validator():
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator, patrn, instance, schema_):
        if validator.is_type(instance, "string") and not _ecma_pattern(patrn).search(instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    Draft202012Validator.check_schema(schema())
    strict = validators.extend(Draft202012Validator, {"pattern": pattern})
    return strict(schema())


#: fields of free text, where a line break (a YAML block scalar) or surrounding space is harmless
FREE_TEXT = {"raw_text", "note", "citation", "definition", "dispute", "inclusion_reason", "population", "support"}
#: control characters: C0 but tab and line feed, DEL, C1; and the Unicode bidirectional overrides
#: that make a terminal show text other than what it is
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def text_problems(study: StudyFile) -> list[Problem]:
    """Control characters and terminal escapes anywhere; white space around any value that is not
    free text (an id, NCT id, PMID, DOI, date, vocabulary word or name)."""
    out: list[tuple[str, str]] = []

    def walk(value, parts):
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and _CONTROL.search(k):
                    out.append((render_path(parts), f"a key contains a control character: {k[:40]!r}"))
                walk(v, [*parts, k])
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, [*parts, i])
        elif isinstance(value, str):
            m = _CONTROL.search(value)
            if m:
                out.append((render_path(parts), f"contains a control character (U+{ord(m.group()):04X}) at "
                            f"position {m.start()}: study files hold printable text ({_got(value)})"))
            elif value != value.strip() and not (parts and parts[-1] in FREE_TEXT):
                out.append((render_path(parts), f"{_got(value)} has white space before or after it; "
                            "one trial is one trial, so identifiers and names must match in full"))

    walk(study.data, [])
    return [study.problem(p, r) for p, r in out]


def _got(value) -> str:
    return fmt(value)


def _render(error) -> list[tuple[str, str]]:
    """One jsonschema error as (record path, reason) pairs."""
    parts = list(error.absolute_path)
    path = render_path(parts)
    kind = error.validator
    value = error.instance
    message = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if message:  # a conditional rule of the schema (if/then) says what it wants in its own words
        if kind == "required":
            missing = [k for k in error.validator_value if isinstance(value, dict) and k not in value]
            return [(render_path([*parts, k]), message) for k in missing]
        return [(path, message)]
    if kind == "required":
        missing = [k for k in error.validator_value if isinstance(value, dict) and k not in value]
        return [(render_path([*parts, k]), f"missing required field {k!r}") for k in missing]
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        out = []
        for key in value:
            if key in allowed:
                continue
            near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.75)
            if near:
                reason = f"unknown key {excerpt(str(key))}; did you mean {near[0]!r}?"
            else:
                reason = f"unknown key {excerpt(str(key))}; valid keys: {', '.join(allowed)}"
            out.append((render_path([*parts, key]), reason))
        return out
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = [_TYPE_NAMES.get(t, t) for t in wanted if t != "null"] or ["null"]
        reason = f"expected {' or '.join(names)}, got {_got(value)}"
        if "string" in wanted and isinstance(value, (int, float)) and not isinstance(value, bool):
            reason += f' (quote it: "{fmt(value)}")'
        return [(path, reason)]
    if kind == "enum" and parts == ["livemeta_study"]:
        versions = " and ".join(map(str, error.validator_value))
        return [(path, f"unsupported format version {_got(value)}; this livemeta reads versions {versions}")]
    if kind == "enum":
        options = [o for o in error.validator_value if o is not None]
        reason = f"{_got(value)} is not one of: {', '.join(map(str, options))}"
        lowered = {str(o).lower(): str(o) for o in options}
        near = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=0.75)
        if near:
            reason += f"; did you mean {lowered[near[0]]!r}?"
        return [(path, reason)]
    if kind == "const":
        if parts == ["livemeta_study"]:
            return [(path, f"unsupported format version {_got(value)}; this livemeta reads version {error.validator_value}")]
        return [(path, f"must be {fmt(error.validator_value)}, got {_got(value)}")]
    if kind == "pattern":
        what = _PATTERNS.get(error.validator_value, f"does not match {error.validator_value}")
        return [(path, f"{_got(value)} {what}")]
    if kind in ("minimum", "exclusiveMinimum"):
        op = ">=" if kind == "minimum" else ">"
        return [(path, f"must be {op} {fmt(error.validator_value)}, got {_got(value)}")]
    if kind in ("maximum", "exclusiveMaximum"):
        op = "<=" if kind == "maximum" else "<"
        return [(path, f"must be {op} {fmt(error.validator_value)}, got {_got(value)}")]
    if kind == "minLength":
        return [(path, "must not be empty" if error.validator_value == 1 else f"shorter than {error.validator_value} characters")]
    if kind == "maxLength":
        return [(path, f"too long ({len(value)} characters; the limit is {error.validator_value})")]
    if kind == "minItems":
        return [(path, f"needs at least {error.validator_value} entr{'y' if error.validator_value == 1 else 'ies'}")]
    if kind == "anyOf" and all(set(s) == {"required"} for s in error.validator_value):
        keys = [k for s in error.validator_value for k in s["required"]]
        return [(path, _locator_reason(keys))]
    return [(path, error.message)]


def _locator_reason(keys: Iterable[str]) -> str:
    return f"a source needs at least one of: {', '.join(keys)}"


_LOCATORS = ("url", "doi", "pmid", "nct_id")


def schema_problems(study: StudyFile) -> list[Problem]:
    if schema_valid(study.data):
        return []
    found: dict[tuple[str, str], None] = {}
    for error in _validator().iter_errors(study.data):
        for path, reason in _render(error):
            found.setdefault((path, reason))
    return [study.problem(p, r) for p, r in found]


def date_problem(text: str) -> str | None:
    """Why a date written YYYY, YYYY-MM or YYYY-MM-DD is not a real calendar date, or None."""
    parts = text.split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2]) if len(parts) > 2 else 1
    except ValueError:
        return "is not a date written YYYY-MM-DD"
    if not 1 <= year <= 9999:
        return f"has no year {year}"
    if not 1 <= month <= 12:
        return f"has no month {month} (months are 01-12)"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"has no day {day} ({calendar.month_name[month]} {year} has {last} days)"
    return None


def _not_a_date(text: str) -> str:
    return f"{text!r} is not a real date: it {date_problem(text)}"


def _real_date(text: str) -> bool:
    return date_problem(text) is None


def _ci_levels(outcomes: list[dict]) -> list[tuple[str, str]]:
    """CI levels as printed are whole or one-decimal percentages (95, 97.5): the analysis views
    compute z for exactly those (queries/macros.sql, z_crit)."""
    out = []
    for i, o in enumerate(outcomes):
        for key in ("ci_level", "ci_level_alternative"):
            level = o.get(key)
            if level is not None and abs(level * 10 - round(level * 10)) > 1e-9:
                out.append((f"outcomes[{i}].{key}", f"a CI level is a percentage with at most one decimal (e.g. 95 or 97.5), got {level!r}"))
    return out


_HR_STATISTICS = ("o_minus_e", "oe_variance", "logrank_chisq", "total_events", "allocation_ratio", "hr_direction")


def _reported_statistics(outcomes: list[dict]) -> list[tuple[str, str]]:
    """What a trial reports instead of an HR's CI (migration 0005): consistent and complete enough
    for the views to derive ln HR and its variance (queries/views/analysis_rct_hr.sql)."""
    out = []
    for i, o in enumerate(outcomes):
        p = f"outcomes[{i}]"
        given = [k for k in _HR_STATISTICS if o.get(k) is not None]
        if given and o["measure"] != "HR":
            out.append((f"{p}.{given[0]}", f"{given[0]} is a hazard-ratio statistic; this outcome's measure is {o['measure']}"))
            continue
        if (o.get("o_minus_e") is None) != (o.get("oe_variance") is None):
            have, need = ("o_minus_e", "oe_variance") if o.get("o_minus_e") is not None else ("oe_variance", "o_minus_e")
            out.append((f"{p}.{need}", f"{have} is given: give {need} too (ln HR = (O - E) / V)"))
        for key in ("oe_variance", "logrank_chisq", "allocation_ratio"):
            if o.get(key) is not None and not o[key] > 0:
                out.append((f"{p}.{key}", f"{key} must be > 0, got {o[key]!r}"))
        ev = (o.get("experimental_events"), o.get("control_events"))
        if o.get("total_events") is not None and None not in ev and o["total_events"] != sum(ev):
            out.append((f"{p}.total_events", f"total_events {o['total_events']} is not experimental_events + "
                        f"control_events ({sum(ev)})"))
        est, direction = o.get("estimate"), o.get("hr_direction")
        if est is not None and direction is not None and est != 1 and (est < 1) != (direction == "below_1"):
            out.append((f"{p}.hr_direction", f"hr_direction {direction!r} contradicts the estimate {est}"))
        no_ci = o.get("ci_low") is None and o.get("ci_high") is None
        if o["measure"] == "HR" and o.get("p_value") is not None and o.get("p_sided") is None and no_ci:
            out.append((f"{p}.p_sided", "an HR derived from its p-value needs p_sided (one or two, as printed)"))
    return out


def _one_result_per_comparison(outcomes: list[dict]) -> list[tuple[str, str]]:
    """One value per question, so that no analysis counts a trial twice.

    At most one outcome per (endpoint, measure, population, definition, subgroup, arm pair): a
    second data cut supersedes the file (``--supersede``); a second assessment (investigator vs
    independent review) goes in the note of the one the analyses should use. All ``overall``
    comparisons of a trial share one arm pair: the trial's main randomised comparison; another
    comparison against the same control (a third arm) is a ``subgroup``.
    """
    out = []
    seen: dict[tuple, int] = {}
    overall_pair: tuple[int, tuple] | None = None
    for i, o in enumerate(outcomes):
        key = (o["endpoint"], o["measure"], o["population"], o.get("definition"), o.get("subgroup"),
               o["experimental_arm"], o.get("control_arm"))
        if key in seen:
            out.append((f"outcomes[{i}]", f"outcomes[{seen[key]}] already gives {o['endpoint']} ({o['measure']}, "
                        f"{o['population']}) for this comparison: keep the one the analyses should use (final analysis, "
                        "primary assessment) and describe the other in its note; a new data cut replaces the file "
                        "with --supersede"))
        else:
            seen[key] = i
        if o["population"] == "overall" and o.get("control_arm") is not None:  # single arms: one row per arm
            pair = (o["experimental_arm"], o.get("control_arm"))
            if overall_pair is None:
                overall_pair = (i, pair)
            elif pair != overall_pair[1]:
                out.append((f"outcomes[{i}].experimental_arm",
                            f"population 'overall' is the trial's main comparison, {overall_pair[1][0]} vs "
                            f"{overall_pair[1][1]} (outcomes[{overall_pair[0]}]); another comparison is population "
                            "'subgroup' with its name"))
    return out


#: the judgements of each risk-of-bias tool, from least to most severe ('no_information' apart)
ROB_JUDGEMENTS = {
    "rob2": ("low", "some_concerns", "high"),
    "robins_i": ("low", "moderate", "serious", "critical"),
}
ROB_TOOL_DOMAINS = {"rob2": 5, "robins_i": 7}


def _risk_of_bias_rules(assessments: list[dict], design: str) -> list[tuple[str, str]]:
    """RoB 2 for randomised trials with domains D1-D5, ROBINS-I with D1-D7; each tool's own
    judgements; an overall judgement at least as severe as the worst domain's (the tools'
    algorithms); one assessment per outcome and role (reviewer_1, reviewer_2, consensus)."""
    out = []
    seen: dict[tuple, int] = {}
    for i, a in enumerate(assessments):
        p, tool = f"risk_of_bias[{i}]", a["tool"]
        if tool == "rob2" and design != "rct":
            out.append((f"{p}.tool", "RoB 2 assesses randomised trials; use robins_i for non-randomised evidence"))
        n = ROB_TOOL_DOMAINS[tool]
        for extra in sorted(set(a["domains"]) - {f"D{j}" for j in range(1, n + 1)}):
            out.append((f"{p}.domains.{extra}", f"{'RoB 2' if tool == 'rob2' else 'ROBINS-I'} has domains D1-D{n}"))
        for j in range(1, n + 1):
            if f"D{j}" not in a["domains"]:
                out.append((f"{p}.domains.D{j}", f"missing required field 'D{j}' (ROBINS-I has seven domains)"))
        scale = ROB_JUDGEMENTS[tool]
        allowed = (*scale, "no_information")
        judged = {k: v["judgement"] for k, v in a["domains"].items()} | {"overall": a["overall"]["judgement"]}
        for key, j in judged.items():
            if j not in allowed:
                where = f"{p}.overall.judgement" if key == "overall" else f"{p}.domains.{key}.judgement"
                out.append((where, f"{j!r} is not a {'RoB 2' if tool == 'rob2' else 'ROBINS-I'} judgement; "
                            f"choose one of: {', '.join(allowed)}"))
        ranks = [scale.index(j) for k, j in judged.items() if k != "overall" and j in scale]
        overall = judged["overall"]
        if ranks and overall in scale and scale.index(overall) < max(ranks):
            worst = scale[max(ranks)]
            out.append((f"{p}.overall.judgement", f"overall {overall!r} is less severe than a domain judged "
                        f"{worst!r}: the overall judgement is at least the worst domain's"))
        key = (a["endpoint"], a["role"])
        if key in seen:
            out.append((f"{p}.role", f"risk_of_bias[{seen[key]}] is already the {a['role']} assessment of "
                        f"{a['endpoint']}: one per outcome and role (reviewer_1, reviewer_2, consensus)"))
        else:
            seen[key] = i
    return out


def _threshold_directions(definitions: list[dict], version) -> list[tuple[str, str]]:
    """A threshold says which way it cuts (threshold_comparator), required with it from format 2 on
    (format 1 files, written before the field existed, are read as before: direction not recorded);
    a direction needs a threshold."""
    out = []
    for i, r in enumerate(definitions):
        p = f"resistance_definitions[{i}]"
        if r.get("threshold") is not None and r.get("threshold_comparator") is None and version != 1:
            out.append((f"{p}.threshold_comparator",
                        f"a threshold needs its direction: threshold_comparator '>=', '>', '<=' or '<' (the criterion "
                        f"is value <comparator> {r['threshold']:g}{' ' + r['threshold_unit'] if r.get('threshold_unit') else ''}, "
                        "as the definition says it)"))
        if r.get("threshold_comparator") is not None and r.get("threshold") is None:
            out.append((f"{p}.threshold_comparator", "threshold_comparator given without a threshold"))
    return out


def rule_problems(study: StudyFile) -> list[Problem]:
    """The rules within one schema-valid file."""
    d = study.data
    out: list[tuple[str, str]] = []
    trial = d["trial"]

    ids: dict[str, dict[str, int]] = {}
    for key in LISTS:
        seen: dict[str, int] = {}
        for i, rec in enumerate(d.get(key) or []):
            rid = rec["id"]
            if rid in seen:
                out.append((f"{key}[{i}].id", f"duplicate id {rid!r} (also {key}[{seen[rid]}])"))
            else:
                seen[rid] = i
        ids[key] = seen

    arms = d["arms"]
    role = {a["id"]: a["role"] for a in arms}

    def ref(path: str, value, key: str, what: str) -> bool:
        if value is None:
            return True
        if value in ids[key]:
            return True
        known = list(ids[key])
        near = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else (f"; known: {', '.join(known)}" if known else f"; the file has no {key}")
        out.append((path, f"unknown {what} {value!r}{hint}"))
        return False

    ref("trial.source", trial.get("source"), "sources", "source")
    for key in ("arms", "resistance_definitions", "outcomes", "adverse_events", "risk_of_bias"):
        for i, rec in enumerate(d.get(key) or []):
            ref(f"{key}[{i}].source", rec.get("source"), "sources", "source")

    for i, src in enumerate(d["sources"]):
        if all(src.get(k) is None for k in _LOCATORS):
            out.append((f"sources[{i}]", _locator_reason(_LOCATORS)))

    design = trial["design"]
    if design == "single_arm":
        for i, a in enumerate(arms):
            if a["role"] != "single":
                out.append((f"arms[{i}].role", f"a single_arm trial has only 'single' arms, got {a['role']!r}"))
    else:
        roles = [a["role"] for a in arms]
        for i, a in enumerate(arms):
            if a["role"] == "single":
                out.append((f"arms[{i}].role", "an rct has experimental and control arms, not 'single' ones"))
        missing = [r for r in ("experimental", "control") if r not in roles]
        if missing:
            out.append(("arms", f"an rct needs an experimental and a control arm; no {' or '.join(missing)} arm found"))

    for i, o in enumerate(d.get("outcomes") or []):
        p = f"outcomes[{i}]"
        ref(f"{p}.definition", o.get("definition"), "resistance_definitions", "resistance definition")
        exp = o["experimental_arm"]
        if ref(f"{p}.experimental_arm", exp, "arms", "arm") and role[exp] == "control":
            out.append((f"{p}.experimental_arm", f"arm {exp!r} is a control arm"))
        ctl = o.get("control_arm")
        if ctl is not None:
            if ref(f"{p}.control_arm", ctl, "arms", "arm") and role[ctl] != "control":
                out.append((f"{p}.control_arm", f"arm {ctl!r} is not a control arm (role {role[ctl]!r})"))
        else:
            if o["measure"] != "proportion":
                out.append((f"{p}.control_arm", f"a {o['measure']} compares two arms: control_arm is required"))
            for k in ("control_events", "control_n", "control_median"):
                if o.get(k) is not None:
                    out.append((f"{p}.{k}", f"{k} given but the outcome has no control_arm"))
        if o.get("data_cutoff") is not None and not _real_date(o["data_cutoff"]):
            out.append((f"{p}.data_cutoff", _not_a_date(o["data_cutoff"])))

    out.extend(_one_result_per_comparison(d.get("outcomes") or []))
    out.extend(_ci_levels(d.get("outcomes") or []))
    out.extend(_reported_statistics(d.get("outcomes") or []))
    out.extend(_threshold_directions(d.get("resistance_definitions") or [], d.get("livemeta_study")))
    trial_scope = [i for i, r in enumerate(d.get("resistance_definitions") or []) if r["scope"] == "trial"]
    for i in trial_scope[1:]:
        out.append((f"resistance_definitions[{i}].scope",
                    f"a trial has one eligibility definition (scope 'trial'); resistance_definitions[{trial_scope[0]}] "
                    "is one already: describe cohorts or subgroups with scope 'cohort' or 'subgroup'"))

    for i, ae in enumerate(d.get("adverse_events") or []):
        ref(f"adverse_events[{i}].arm", ae["arm"], "arms", "arm")

    for i, rob in enumerate(d.get("risk_of_bias") or []):
        if rob.get("assessed_on") is not None and not _real_date(rob["assessed_on"]):
            out.append((f"risk_of_bias[{i}].assessed_on", _not_a_date(rob["assessed_on"])))
        res = rob.get("result")
        if res is not None and ref(f"risk_of_bias[{i}].result", res, "outcomes", "outcome"):
            endpoint = d["outcomes"][ids["outcomes"][res]]["endpoint"]
            if rob["endpoint"] != endpoint:
                out.append((f"risk_of_bias[{i}].result", f"outcome {res!r} is {endpoint}, not {rob['endpoint']}"))
    out.extend(_risk_of_bias_rules(d.get("risk_of_bias") or [], design))

    fp = trial.get("first_published")
    if fp is not None and not _real_date(fp):
        out.append(("trial.first_published", _not_a_date(fp)))

    return [study.problem(p, r) for p, r in out]


def check_structure(study: StudyFile) -> list[Problem]:
    """Schema and text problems, else the rules within the file (at most 50 per file)."""
    problems = schema_problems(study)
    seen = {p.path for p in problems}
    problems += [p for p in text_problems(study) if p.path not in seen]
    if not problems:
        problems = rule_problems(study)
    problems.sort(key=lambda p: (study.line_of(p.path) or 0))
    if len(problems) > MAX_PROBLEMS_PER_FILE:
        extra = len(problems) - MAX_PROBLEMS_PER_FILE
        problems = problems[:MAX_PROBLEMS_PER_FILE] + [Problem(study.name, "", f"... and {extra} more problems")]
    return problems
