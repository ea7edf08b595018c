"""Regenerate the bad-input corpus (tests/ingest/bad/) and its manifest from base.yaml.

    .venv/bin/python tests/ingest/make_bad_corpus.py

Each case is base.yaml with one error put in, or a file written from scratch, with the message
fragment and the record path its failure must show. The files are committed; run this only to
change the corpus, then review the diff.
"""

import json
import re
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
BASE = (HERE / "base.yaml").read_text(encoding="utf-8")
HEADER_RE = re.compile(r"\A(#.*\n)+")
BODY = HEADER_RE.sub("", BASE)
OUT = HERE / "bad"

def sub(*pairs, header):
    text = BODY
    for old, new in pairs:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    return f"# {header}\n" + text

cases = []  # (name, content(str|bytes), fragment, path)
def add(name, content, fragment, path):
    cases.append((name, content, fragment, path))


def what(content):
    """The case's one-line description: its first comment line."""
    if isinstance(content, bytes):
        return None
    first = content.split("\n", 1)[0]
    return first[2:] if first.startswith("# ") else None

# --- reading ----------------------------------------------------------------------------------
add("malformed.yaml", sub(("  name: BAD-01\n", "  name: [BAD-01\n"), header="YAML syntax error: an unclosed flow sequence"), "invalid YAML", "line 6, column 9")
add("top_level_list.yaml", "# the top level is a list, not a mapping\n- livemeta_study: 1\n- trial: bad-01\n", "the top level is a list", "")
add("top_level_scalar.yaml", "# the top level is a bare string\njust some text\n", "the top level is text", "")
add("empty.yaml", "", "empty file", "")
add("comments_only.yaml", "# nothing but a comment\n# and another\n", "empty file", "")
add("binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "binary content", "")
add("latin1.yaml", sub(('citation: "Author A', 'citation: "Auteur \xc9'), header="not UTF-8: the citation is Latin-1 encoded").encode("latin-1"), "not UTF-8 text", "")
add("alias_bomb.yaml", "# a billion-laughs alias bomb\n" + "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(f"{c}: &{c} [{','.join(['*'+p]*9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")), "YAML anchors (&a) are not allowed", "line 2, column 4")
add("alias.yaml", sub(("    source: paper\n    verified: true\n  - id: docetaxel", "    source: &src paper\n    verified: true\n  - id: docetaxel"), header="a YAML anchor and alias (refused: write values out)"), "YAML anchors (&src) are not allowed", "line 30, column 13")
add("merge_key.yaml", sub(("  - id: docetaxel\n    role: control\n", "  - id: docetaxel\n    <<: {role: control}\n"), header="a YAML merge key"), "YAML merge keys (<<) are not allowed", "arms[1]")
add("duplicate_key.yaml", sub(("  status: completed\n", "  status: completed\n  status: terminated\n"), header="a key given twice in one mapping"), "duplicate key 'status'", "trial.status")
add("deep_nesting.yaml", sub(("  verified: true\nsources:", "  verified: true\n  note: " + "[" * 80 + "]" * 80 + "\nsources:"), header="nesting deeper than 64 levels"), "nesting deeper than 64 levels", "line 15, column 71")
add("nan.yaml", sub(("    estimate: 0.85\n", "    estimate: .nan\n"), header="a NaN estimate"), "NaN is not allowed", "outcomes[0].estimate")
add("inf.yaml", sub(("    ci_high: 1.03\n", "    ci_high: .inf\n"), header="an infinite CI bound"), "infinity is not allowed", "outcomes[0].ci_high")
add("too_large.yaml", sub(("  randomised_n: 300\n", "  randomised_n: 99999999999\n"), header="a count beyond the 32-bit range"), "is too large", "trial.randomised_n")
add("wrong_extension.txt", sub(header="a study file with an unsupported extension"), "unsupported file type '.txt'", "")
d = yaml.safe_load(BODY)
jd = json.dumps(d, indent=2)
add("nan.json", jd.replace('"estimate": 0.85', '"estimate": NaN'), "NaN is not allowed", "outcomes[0].estimate")
add("infinity.json", jd.replace('"ci_high": 1.03', '"ci_high": Infinity'), "infinity is not allowed", "outcomes[0].ci_high")
add("duplicate_key.json", jd.replace('"status": "completed",', '"status": "completed",\n    "status": "terminated",'), "duplicate key 'status'", "")
add("malformed.json", jd.replace('"design": "rct",', '"design": "rct"'), "invalid JSON", "line 8, column 5")

# --- structure --------------------------------------------------------------------------------
add("version_3.yaml", sub(("livemeta_study: 2\n", "livemeta_study: 3\n"), header="an unknown format version"), "unsupported format version 3; this livemeta reads versions 1 and 2", "livemeta_study")
add("missing_trial.yaml", "# no trial: mapping\n" + re.sub(r"trial:\n(  .*\n)+", "", BODY), "missing required field 'trial'", "trial")
add("missing_raw_text.yaml", sub(('    raw_text: "ORR 24/150 vs 20/150"\n', ""), header="an outcome without raw_text"), "missing required field 'raw_text'", "outcomes[1].raw_text")
add("unknown_key.yaml", sub(("    ci_high: 1.03\n", "    ci_hgh: 1.03\n"), header="a misspelt key"), "unknown key 'ci_hgh'; did you mean 'ci_high'?", "outcomes[0].ci_hgh")
add("unknown_top_key.yaml", sub(("outcomes:\n", "outcome:\n"), header="a misspelt top-level key"), "unknown key 'outcome'; did you mean 'outcomes'?", "outcome")
add("wrong_type_estimate.yaml", sub(("    estimate: 0.85\n", "    estimate: abc\n"), header="text where a number belongs"), "expected a number, got 'abc'", "outcomes[0].estimate")
add("wrong_type_count.yaml", sub(("  randomised_n: 300\n", '  randomised_n: "300"\n'), header="a quoted count"), "expected a whole number, got '300'", "trial.randomised_n")
add("fractional_count.yaml", sub(("    experimental_events: 24\n", "    experimental_events: 24.5\n"), header="a fractional count"), "expected a whole number, got 24.5", "outcomes[1].experimental_events")
add("unquoted_phase.yaml", sub(('  phase: "3"\n', "  phase: 3\n"), header="a number where text belongs"), 'expected text, got 3 (quote it: "3")', "trial.phase")
add("bad_enum.yaml", sub(("    endpoint: os\n", "    endpoint: survival\n"), header="a value outside the vocabulary"), "'survival' is not one of: os, pfs, orr, dcr", "outcomes[0].endpoint")
add("bad_id.yaml", sub(("  id: bad-01\n", "  id: Bad Trial\n"), header="an id that is not a slug"), "'Bad Trial' is not a valid id", "trial.id")
add("bad_nct.yaml", sub(("  nct_id: NCT09999999\n", "  nct_id: NCT123\n"), header="a malformed NCT id"), "'NCT123' is not an NCT id", "trial.nct_id")
add("bad_date_format.yaml", sub(('    data_cutoff: "2023-10-01"\n', '    data_cutoff: "01/10/2023"\n'), header="a date not written YYYY-MM-DD"), "is not a date written YYYY-MM-DD", "outcomes[0].data_cutoff")
add("invalid_date.yaml", sub(('    data_cutoff: "2023-10-01"\n', '    data_cutoff: "2023-02-30"\n'), header="a date that does not exist"), "'2023-02-30' is not a real date", "outcomes[0].data_cutoff")
add("negative_count.yaml", sub(("    experimental_events: 24\n", "    experimental_events: -3\n"), header="a negative count"), "must be >= 0, got -3", "outcomes[1].experimental_events")
add("no_sources.yaml", "# an empty list of sources\n" + re.sub(r"sources:\n(  .*\n)+", "sources: []\n", BODY), "needs at least 1 entry", "sources")
add("source_without_locator.yaml", sub(('    pmid: "00000001"\n', ""), header="a source with no url, doi, pmid or nct_id"), "a source needs at least one of: url, doi, pmid, nct_id", "sources[0]")
add("duplicate_ids.yaml", sub(("  - id: orr\n", "  - id: os\n"), header="two outcomes with the same id"), "duplicate id 'os' (also outcomes[0])", "outcomes[1].id")
add("unknown_arm.yaml", sub(("    control_arm: docetaxel\n", "    control_arm: docetaxl\n"), header="an outcome naming an arm that does not exist"), "unknown arm 'docetaxl'; did you mean 'docetaxel'?", "outcomes[0].control_arm")
add("unknown_ae_arm.yaml", sub(("    arm: combo\n", "    arm: placebo\n"), header="an adverse event naming an arm that does not exist"), "unknown arm 'placebo'", "adverse_events[0].arm")
add("unknown_definition.yaml", sub(("    population: overall\n    experimental_arm: combo\n    control_arm: docetaxel\n    estimate", "    population: resistance\n    definition: acquired\n    experimental_arm: combo\n    control_arm: docetaxel\n    estimate"), header="an outcome naming a resistance definition that does not exist"), "unknown resistance definition 'acquired'", "outcomes[0].definition")
add("resistance_without_definition.yaml", sub(("    population: overall\n    experimental_arm: combo\n    control_arm: docetaxel\n    estimate", "    population: resistance\n    experimental_arm: combo\n    control_arm: docetaxel\n    estimate"), header="population resistance without a definition"), "population 'resistance' needs definition", "outcomes[0].definition")
add("subgroup_without_name.yaml", sub(("    population: overall\n    experimental_arm: combo\n    control_arm: docetaxel\n    estimate", "    population: subgroup\n    experimental_arm: combo\n    control_arm: docetaxel\n    estimate"), header="population subgroup without its name"), "population 'subgroup' needs subgroup", "outcomes[0].subgroup")
add("unknown_source.yaml", sub(("    control_type: docetaxel\n    n_randomised: 150\n    n_safety: 145\n    source: paper\n", "    control_type: docetaxel\n    n_randomised: 150\n    n_safety: 145\n    source: abstract\n"), header="an arm citing a source that does not exist"), "unknown source 'abstract'", "arms[1].source")
add("unknown_trial_source.yaml", sub(("  inclusion: included\n  source: paper\n", "  inclusion: included\n  source: registry\n"), header="the trial citing a source that does not exist"), "unknown source 'registry'", "trial.source")
add("control_type_on_experimental.yaml", sub(("    treatment_class: multitarget_tki\n", "    treatment_class: multitarget_tki\n    control_type: docetaxel\n"), header="control_type on an experimental arm"), "control_type is only for control arms", "arms[0].control_type")
add("excluded_without_reason.yaml", sub(("  inclusion: included\n", "  inclusion: excluded\n"), header="an excluded trial without inclusion_reason"), "an excluded trial needs inclusion_reason", "trial.inclusion_reason")
add("single_arm_with_control.yaml", sub(("  design: rct\n", "  design: single_arm\n"), header="a single_arm trial with experimental and control arms"), "a single_arm trial has only 'single' arms", "arms[0].role")
add("rct_without_control.yaml", sub(("    role: control\n", "    role: experimental\n"), ("    control_type: docetaxel\n", ""), header="an rct with no control arm"), "an rct needs an experimental and a control arm", "arms")
add("hr_without_control_arm.yaml", sub(("    control_arm: docetaxel\n    estimate", "    estimate"), header="a hazard ratio without a control arm"), "a HR compares two arms: control_arm is required", "outcomes[0].control_arm")

# --- expectation suites -----------------------------------------------------------------------
add("hr_zero.yaml", sub(("    estimate: 0.85\n", "    estimate: 0\n"), header="a hazard ratio of 0"), "a HR must be > 0, got 0", "outcomes[0].estimate")
add("hr_negative.yaml", sub(("    estimate: 0.85\n    ci_low: 0.70\n    ci_high: 1.03\n", "    estimate: -0.85\n    ci_low: -1.03\n    ci_high: -0.70\n"), header="a negative hazard ratio and CI"), "a HR must be > 0, got -0.85", "outcomes[0].estimate")
add("ci_excludes_estimate.yaml", sub(("    estimate: 0.85\n", "    estimate: 1.20\n"), header="a CI that does not contain its estimate"), "the CI 0.70-1.03 does not contain the estimate 1.20", "outcomes[0].estimate")
add("ci_bounds_swapped.yaml", sub(("    ci_low: 0.70\n    ci_high: 1.03\n", "    ci_low: 1.03\n    ci_high: 0.70\n"), header="CI bounds swapped"), "ci_high 0.70 is not above ci_low 1.03", "outcomes[0].ci_high")
add("asymmetric_ci.yaml", sub(("    ci_high: 1.03\n", "    ci_high: 1.30\n"), header="a CI not symmetric on the log scale (a typo in a bound)"), "is not symmetric around HR 0.85 on the log scale", "outcomes[0].estimate")
add("ci_one_bound.yaml", sub(("    ci_high: 1.03\n", ""), header="a CI with only its lower bound"), "ci_low is given but ci_high is missing", "outcomes[0].ci_high")
add("ci_level_zero.yaml", sub(("    ci_level: 95\n", "    ci_level: 0\n"), header="a CI level of 0"), "ci_level is a percentage strictly between 50 and 100", "outcomes[0].ci_level")
add("ci_level_150.yaml", sub(("    ci_level: 95\n", "    ci_level: 150\n"), header="a CI level of 150"), "ci_level is a percentage strictly between 50 and 100 (e.g. 95), got 150", "outcomes[0].ci_level")
add("ci_level_fraction.yaml", sub(("    ci_level: 95\n", "    ci_level: 0.95\n"), header="a CI level written as a fraction"), "got 0.95", "outcomes[0].ci_level")
add("p_value_over_one.yaml", sub(("    p_value: 0.10\n", "    p_value: 5\n"), header="a p-value above 1"), "p_value lies between 0 and 1, got 5", "outcomes[0].p_value")
add("proportion_as_percent.yaml", sub(('    raw_text: "ORR 24/150 vs 20/150"\n', '    estimate: 16\n    raw_text: "ORR 24/150 vs 20/150"\n'), header="a proportion written as a percentage"), "a proportion lies between 0 and 1", "outcomes[1].estimate")
add("events_over_n.yaml", sub(("    experimental_events: 24\n", "    experimental_events: 160\n"), header="more events than patients"), "experimental_events 160 is more than experimental_n 150", "outcomes[1].experimental_events")
add("outcome_n_over_randomised.yaml", sub(("    control_n: 150\n", "    control_n: 160\n"), header="an outcome's arms adding up to more than the trial randomised"), "experimental_n + control_n (310) is more than the trial's randomised_n (300)", "outcomes[1].experimental_n")
add("arms_over_randomised.yaml", sub(("  randomised_n: 300\n", "  randomised_n: 280\n"), ("    control_n: 150\n", "    control_n: 130\n"), header="arms' n_randomised adding up to more than the trial's randomised_n"), "the arms' n_randomised add up to 300, more than randomised_n 280", "trial.randomised_n")
add("safety_over_randomised.yaml", sub(("    n_safety: 145\n", "    n_safety: 200\n"), header="arms' n_safety adding up to more than randomised"), "the arms' n_safety add up to 348, more than randomised_n 300", "trial.randomised_n")
add("median_zero.yaml", sub(("    experimental_median: 11.0\n", "    experimental_median: 0\n"), header="a median of 0"), "a median must be > 0, got 0", "outcomes[0].experimental_median")
add("median_without_unit.yaml", sub(("    median_unit: months\n", ""), header="medians without a unit"), "a median needs median_unit", "outcomes[0].median_unit")
add("threshold_without_direction.yaml", sub(('    threshold_comparator: ">="\n', ""), header="a resistance threshold without its direction (format 2)"), "a threshold needs its direction: threshold_comparator '>=', '>', '<=' or '<'", "resistance_definitions[0].threshold_comparator")
add("direction_without_threshold.yaml", sub(("    threshold: 4\n", "    threshold: null\n"), ("    threshold_unit: months\n", "    threshold_unit: null\n"), header="a threshold direction without a threshold"), "threshold_comparator given without a threshold", "resistance_definitions[0].threshold_comparator")
add("threshold_direction_misspelt.yaml", sub(('    threshold_comparator: ">="\n', '    threshold_comparator: "=>"\n'), header="a threshold direction that is not a comparator"), "'=>' is not one of: >=, >, <=, <", "resistance_definitions[0].threshold_comparator")
add("threshold_negative.yaml", sub(("    threshold: 4\n", "    threshold: -4\n"), header="a negative resistance threshold"), "threshold must be > 0, got -4", "resistance_definitions[0].threshold")
add("affected_over_at_risk.yaml", sub(("    subjects_affected: 60\n", "    subjects_affected: 160\n"), header="more patients affected than at risk"), "subjects_affected 160 is more than subjects_at_risk 148", "adverse_events[0].subjects_affected")
add("percent_mismatch.yaml", sub(("    percent: 40.5\n", "    percent: 45.5\n"), header="a percentage that does not match the counts"), "percent 45.5 does not match subjects_affected / subjects_at_risk", "adverse_events[0].percent")
add("future_data_cutoff.yaml", sub(('    data_cutoff: "2023-10-01"\n', '    data_cutoff: "2999-01-01"\n'), header="a data cut-off in the future"), "data_cutoff 2999-01-01 must lie between 1990-01-01 and today", "outcomes[0].data_cutoff")
add("ancient_data_cutoff.yaml", sub(('    data_cutoff: "2023-10-01"\n', '    data_cutoff: "1985-05-01"\n'), header="a data cut-off before 1990"), "data_cutoff 1985-05-01 must lie between 1990-01-01 and today", "outcomes[0].data_cutoff")
add("future_first_published.yaml", sub(('  first_published: "2024-06"\n', '  first_published: "2999"\n'), header="a first publication in the future"), "first_published 2999 must lie between 1990 and today", "trial.first_published")
add("future_source_year.yaml", sub(("    year: 2024\n", "    year: 2099\n"), header="a source year in the future"), "year 2099 is in the future", "sources[0].year")
add("ci_level_two_decimals.yaml", sub(("    ci_level: 95\n", "    ci_level: 97.55\n"), header="a CI level with two decimals (no printed CI has one)"), "a CI level is a percentage with at most one decimal", "outcomes[0].ci_level")
add("duplicate_outcome.yaml", sub(("  - id: orr\n", "  - id: os_interim\n    endpoint: os\n    measure: HR\n    population: overall\n    experimental_arm: combo\n    control_arm: docetaxel\n    estimate: 0.80\n    ci_low: 0.62\n    ci_high: 1.03\n    ci_level: 95\n    source: paper\n    raw_text: \"interim HR 0.80 (0.62-1.03)\"\n    verified: true\n  - id: orr\n"), header="a second OS hazard ratio for the same comparison (an interim cut)"), "outcomes[0] already gives os (HR, overall) for this comparison", "outcomes[1]")
add("two_trial_definitions.yaml", sub(("outcomes:\n  - id: os\n", "  - id: eligibility_2\n    scope: trial\n    population: all randomised patients\n    category: mixed\n    criterion_kind: eligibility\n    definition: \"progression on prior anti-PD-(L)1\"\n    source: paper\n    verified: true\noutcomes:\n  - id: os\n"), header="two eligibility definitions (scope trial) for one trial"), "a trial has one eligibility definition", "resistance_definitions[1].scope")

# --- boundaries: one step past what a rule allows ---------------------------------------------
add("hr_estimate_equals_ci_low.yaml", sub(("    estimate: 0.85\n    ci_low: 0.70\n    ci_high: 1.03\n", "    estimate: 0.85\n    ci_low: 0.85\n    ci_high: 0.86\n"), header="a hazard ratio equal to its lower CI bound: HR 0.85 (0.85-0.86)"), "the CI 0.85-0.86 does not contain the estimate 0.85 (estimate not above ci_low)", "outcomes[0].estimate")
add("hr_estimate_equals_ci_high.yaml", sub(("    estimate: 0.85\n    ci_low: 0.70\n    ci_high: 1.03\n", "    estimate: 0.85\n    ci_low: 0.84\n    ci_high: 0.85\n"), header="a hazard ratio equal to its upper CI bound: HR 0.85 (0.84-0.85)"), "the CI 0.84-0.85 does not contain the estimate 0.85 (estimate not below ci_high)", "outcomes[0].estimate")
add("control_events_over_n.yaml", sub(("    control_events: 20\n", "    control_events: 160\n"), header="more events than patients in the control arm: 160 of 150"), "control_events 160 is more than control_n 150", "outcomes[1].control_events")
add("percent_half_step_off.yaml", sub(("    percent: 40.5\n", "    percent: 40.6\n"), header="a percent just over half a printed step off: 60/148 = 40.54% printed as 40.6"), "percent 40.6 does not match subjects_affected / subjects_at_risk = 60/148 = 40.54% within rounding", "adverse_events[0].percent")

# --- hostile input ----------------------------------------------------------------------------
add("huge_integer.yaml", sub(("  randomised_n: 300\n", "  randomised_n: " + "9" * 5000 + "\n"), header="a 5,000-digit integer"), "number 99999999999999999999... (5000 digits) is too large (the limit is 2147483647)", "trial.randomised_n")
add("huge_integer.json", jd.replace('"randomised_n": 300', '"randomised_n": ' + "9" * 5000), "number 99999999999999999999... (5000 digits) is too large (the limit is 2147483647)", "trial.randomised_n")
add("lone_surrogate.json", jd.replace('"name": "BAD-01"', '"name": "BAD\\ud800-01"'), "text contains a lone surrogate (\\ud800), which is not valid Unicode", "trial.name")
add("lone_surrogate_key.json", jd.replace('"name": "BAD-01"', '"name": "BAD-01",\n    "\\udfff": 1'), "a key contains a lone surrogate (\\udfff), which is not valid Unicode", "trial")
add("date_trailing_newline.yaml", sub(('    data_cutoff: "2023-10-01"\n', '    data_cutoff: "2023-10-01\\n"\n'), header="a date with a trailing newline"), "'2023-10-01\\n' is not a date written YYYY-MM-DD", "outcomes[0].data_cutoff")
add("date_trailing_newline.json", jd.replace('"first_published": "2024-06"', '"first_published": "2024-06\\n"'), "'2024-06\\n' is not a date written YYYY, YYYY-MM or YYYY-MM-DD", "trial.first_published")
add("long_unknown_key.yaml", sub(("    ci_high: 1.03\n", "    ci_high: 1.03\n    " + "secret_" * 40 + ": 1\n"), header="an unknown key of 280 characters (quoted only in part)"), "unknown key 'secret_secret_secret_secret_secret_se...'", "outcomes[0]['secret_secret_secret_secret_secret_se...']")
add("not_a_study_file.yaml", "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n", "not a livemeta study file (no livemeta_study: 1 at the top, nor any other key of a study file)", "")

# --- statistics an HR is derived from (migration 0005) ---------------------------------------------
add("oe_without_variance.yaml", sub(("    p_value: 0.10\n", "    p_value: 0.10\n    o_minus_e: -8.2\n"), header="O - E without its variance"), "o_minus_e is given: give oe_variance too", "outcomes[0].oe_variance")
add("oe_variance_zero.yaml", sub(("    p_value: 0.10\n", "    p_value: 0.10\n    o_minus_e: -8.2\n    oe_variance: 0\n"), header="an O - E variance of 0"), "oe_variance must be > 0, got 0", "outcomes[0].oe_variance")
add("logrank_on_proportion.yaml", sub(('    raw_text: "ORR 24/150 vs 20/150"\n', '    logrank_chisq: 2.1\n    raw_text: "ORR 24/150 vs 20/150"\n'), header="a log-rank chi-square on a response outcome"), "logrank_chisq is a hazard-ratio statistic; this outcome's measure is proportion", "outcomes[1].logrank_chisq")
add("direction_contradicts_hr.yaml", sub(("    p_value: 0.10\n", "    p_value: 0.10\n    hr_direction: above_1\n"), header="an HR direction that contradicts the HR"), "hr_direction 'above_1' contradicts the estimate 0.85", "outcomes[0].hr_direction")
add("p_without_sidedness.yaml", sub(("    ci_low: 0.70\n    ci_high: 1.03\n    ci_level: 95\n", ""), header="an HR with a p-value but no CI and no sidedness"), "an HR derived from its p-value needs p_sided", "outcomes[0].p_sided")

# --- impossible sizes (issue 21): an arm, an outcome or an adverse event larger than what holds it ----
add("arm_randomised_zero.yaml", sub(("    n_randomised: 150\n    n_safety: 148\n", "    n_randomised: 0\n    n_safety: 148\n"), header="an arm of 0 randomised patients beside a safety population of 148"), "n_randomised must be at least 1, got 0", "arms[0].n_randomised")
add("arm_safety_over_randomised.yaml", sub(("    n_randomised: 150\n    n_safety: 148\n", "    n_randomised: 100\n    n_safety: 148\n"), header="an arm of 100 randomised and 148 treated, when the other arm left only 5 untreated"), "n_safety 148 is more than this arm's n_randomised 100 plus the 5 patients the other arms randomised and did not treat", "arms[0].n_safety")
add("outcome_n_over_arm.yaml", sub(("    n_randomised: 150\n    n_safety: 148\n", "    n_randomised: 140\n    n_safety: 138\n"), ("    subjects_at_risk: 148\n    percent: 40.5\n", "    subjects_at_risk: 138\n    percent: 43.5\n"), header="an outcome counting 150 patients of an arm of 140 randomised (138 treated)"), "experimental_n 150 is more than arm combo holds (n_randomised 140, n_safety 138)", "outcomes[1].experimental_n")
add("ae_at_risk_over_safety.yaml", sub(("    subjects_at_risk: 148\n    percent: 40.5\n", "    subjects_at_risk: 160\n    percent: 37.5\n"), header="an adverse event with 160 at risk in an arm that treated 148"), "subjects_at_risk 160 is more than arm combo treated (n_safety 148)", "adverse_events[0].subjects_at_risk")
add("ae_at_risk_over_randomised.yaml", sub(("    n_randomised: 150\n    n_safety: 148\n", "    n_randomised: 150\n"), ("    subjects_at_risk: 148\n    percent: 40.5\n", "    subjects_at_risk: 160\n    percent: 37.5\n"), header="an adverse event with 160 at risk in an arm of 150 randomised (n_safety not given)"), "subjects_at_risk 160 is more than arm combo randomised (n_randomised 150); when more patients were treated than randomised, give the arm's n_safety", "adverse_events[0].subjects_at_risk")

# --- confidence intervals: the ordering rule held in both directions (issue 21) --------------------
add("ci_zero_width.yaml", sub(("    estimate: 0.85\n    ci_low: 0.70\n    ci_high: 1.03\n", "    estimate: 0.85\n    ci_low: 0.85\n    ci_high: 0.85\n"), header="a CI of zero width: HR 0.85 (0.85-0.85)"), "ci_high 0.85 is not above ci_low 0.85", "outcomes[0].ci_high")
add("ci_bounds_swapped_proportion.yaml", sub(('    raw_text: "ORR 24/150 vs 20/150"\n', '    estimate: 0.16\n    ci_low: 0.22\n    ci_high: 0.11\n    ci_level: 95\n    raw_text: "ORR 24/150 vs 20/150"\n'), header="a proportion's CI with its bounds swapped: 0.16 (0.22-0.11)"), "ci_high 0.11 is not above ci_low 0.22", "outcomes[1].ci_high")

# --- dates that do not exist (issue 21) -------------------------------------------------------------
ROB = """risk_of_bias:
  - id: os-consensus
    tool: rob2
    endpoint: os
    result: os
    role: consensus
    assessor: "A. Reviewer; B. Reviewer"
    assessed_on: "{date}"
    source: paper
    domains:
      D1: {{judgement: low, support: "central randomisation"}}
      D2: {{judgement: some_concerns, support: "open label"}}
      D3: {{judgement: low, support: "OS for 298 of 300"}}
      D4: {{judgement: low, support: "death is not open to judgement"}}
      D5: {{judgement: low, support: "as registered"}}
    overall: {{judgement: some_concerns, support: "D2"}}
"""
add("rob_date_february_30.yaml", "# a risk-of-bias assessment dated 30 February\n" + BODY + ROB.format(date="2026-02-30"), "'2026-02-30' is not a real date: it has no day 30 (February 2026 has 28 days)", "risk_of_bias[0].assessed_on")
add("rob_date_month_13.yaml", "# a risk-of-bias assessment dated in month 13\n" + BODY + ROB.format(date="2026-13-01"), "'2026-13-01' is not a real date: it has no month 13", "risk_of_bias[0].assessed_on")

# --- one trial is one trial: a disguised identifier of a trial already in the database (issue 21) ---
# Each is a new trial (its own id, name, NCT id and PMID) that also claims one identifier of a trial
# the test database holds: the template's example-01 (NCT00000000, DOI 10.1200/JCO.00.00000,
# PMID 00000000, EXAMPLE-01) or base.yaml's bad-01 (NCT09999999, PMID 00000001, BAD-01).
add("dup_nct_in_other_ids.yaml", sub(("  id: bad-01\n", "  id: dup-other-ids\n"), ("  name: BAD-01\n", "  name: DUP-OTHER-IDS\n"), ("  nct_id: NCT09999999\n", "  nct_id: null\n  other_ids: \"NCT00000000\"\n"), ('    pmid: "00000001"\n', '    pmid: "900001"\n'), header="no nct_id, and another trial's NCT id in other_ids"), "trial 'example-01' in the database already has the NCT id 'NCT00000000'", "trial.other_ids")
add("dup_nct_in_other_ids_beside_own.yaml", sub(("  id: bad-01\n", "  id: dup-two-ncts\n"), ("  name: BAD-01\n", "  name: DUP-TWO-NCTS\n"), ("  nct_id: NCT09999999\n", "  nct_id: NCT09990002\n  other_ids: \"EudraCT 2020-000001-01; nct00000000\"\n"), ('    pmid: "00000001"\n', '    pmid: "900002"\n'), header="its own NCT id, and another trial's (lower-case) in other_ids beside a EudraCT number"), "trial 'example-01' in the database already has the NCT id 'NCT00000000'", "trial.other_ids")
add("dup_doi_in_url.yaml", sub(("  id: bad-01\n", "  id: dup-doi-url\n"), ("  name: BAD-01\n", "  name: DUP-DOI-URL\n"), ("  nct_id: NCT09999999\n", "  nct_id: NCT09990003\n"), ('    pmid: "00000001"\n', '    url: https://doi.org/10.1200/jco.00.00000\n'), header="another trial's DOI given only as a doi.org URL, in lower case"), "trial 'example-01' in the database already has the DOI '10.1200/JCO.00.00000' (the same DOI as 'https://doi.org/10.1200/jco.00.00000' here)", "sources[0].url")
add("dup_pmid_leading_zero.yaml", sub(("  id: bad-01\n", "  id: dup-pmid\n"), ("  name: BAD-01\n", "  name: DUP-PMID\n"), ("  nct_id: NCT09999999\n", "  nct_id: NCT09990004\n"), ('    pmid: "00000001"\n', '    pmid: "000000001"\n'), header="another trial's PMID with one more leading zero"), "trial 'bad-01' in the database already has the PMID '00000001' (the same PMID as '000000001' here)", "sources[0].pmid")
add("dup_name_cyrillic.yaml", sub(("  id: bad-01\n", "  id: dup-name\n"), ("  name: BAD-01\n", "  name: \u0412\u0410D-01\n"), ("  nct_id: NCT09999999\n", "  nct_id: NCT09990005\n"), ('    pmid: "00000001"\n', '    pmid: "900005"\n'), header="another trial's name with Cyrillic look-alike letters (VE and A for B and A)"), "trial 'bad-01' in the database already has the same name (ignoring case, spaces, punctuation and look-alike characters): 'BAD-01'", "trial.name")
add("doi_zero_width_space.yaml", sub(("  id: bad-01\n", "  id: dup-doi-zwsp\n"), ("  name: BAD-01\n", "  name: DUP-DOI-ZWSP\n"), ("  nct_id: NCT09999999\n", "  nct_id: NCT09990006\n"), ('    pmid: "00000001"\n', '    doi: "10.1200/JCO.00\u200b.00000"\n'), header="a DOI with a zero-width space in it"), "the DOI contains an invisible character (U+200B Zero Width Space): write it as '10.1200/JCO.00.00000'", "sources[0].doi")
add("doi_fullwidth.yaml", sub(("  id: bad-01\n", "  id: dup-doi-fullwidth\n"), ("  name: BAD-01\n", "  name: DUP-DOI-FULLWIDTH\n"), ("  nct_id: NCT09999999\n", "  nct_id: NCT09990007\n"), ('    pmid: "00000001"\n', '    doi: "10.1200/\uff2a\uff23\uff2f.00.00000"\n'), header="a DOI written in full-width letters"), "the DOI is written with U+FF2A Fullwidth Latin Capital Letter J (a compatibility form of a plain character): write it as '10.1200/JCO.00.00000'", "sources[0].doi")
add("doi_markup.yaml", sub(('    pmid: "00000001"\n', '    pmid: "00000001"\n    doi: "10.9999/\\"><svg/onload=alert(1)>"\n'), header="a DOI carrying HTML markup"), "is not a DOI (10.NNNN/suffix, without spaces or quotes)", "sources[0].doi")
add("url_javascript.yaml", sub(('    pmid: "00000001"\n', '    pmid: "00000001"\n    url: "javascript:alert(1)"\n'), header="a javascript: URL"), "is not an http(s) URL", "sources[0].url")
add("url_markup.yaml", sub(('    pmid: "00000001"\n', '    pmid: "00000001"\n    url: "https://example.org/\\"><script>alert(1)</script>"\n'), header="a URL that breaks out of an HTML attribute"), "the URL contains '\"', which a URL never holds (percent-encode it: %22)", "sources[0].url")
add("url_userinfo.yaml", sub(('    pmid: "00000001"\n', '    pmid: "00000001"\n    url: "https://doi.org@evil.example/10.1200/x"\n'), header="a URL whose apparent host is a user name"), "the URL has a user name before its host (user@host), which hides where the link goes", "sources[0].url")

DESCRIPTIONS = {
    "huge_integer.json": "JSON with a 5,000-digit integer",
    "lone_surrogate.json": "JSON text with a lone surrogate (an escaped \\ud800)",
    "lone_surrogate_key.json": "JSON with a key that is a lone surrogate (an escaped \\udfff)",
    "date_trailing_newline.json": "JSON with a date followed by a newline",
    "not_a_study_file.yaml": "a mapping that is not a study file (an apt sources file)",
    "binary.yaml": "binary content (a PNG header)",
    "empty.yaml": "an empty file",
    "nan.json": "JSON with a NaN estimate",
    "infinity.json": "JSON with an Infinity CI bound",
    "duplicate_key.json": "JSON with a key given twice",
    "malformed.json": "JSON syntax error: a missing comma",
    "latin1.yaml": "not UTF-8: the citation is Latin-1 encoded",
}


def main():
    for old in OUT.iterdir():
        if old.name != "expected.yaml":
            old.unlink()
    lines = [
        "# The bad-input corpus: every file of this folder, the message fragment its failure must",
        "# show and the record path it must be reported at ('' = the file as a whole, 'line L, column C'",
        "# = a syntax error). Written by ../make_bad_corpus.py; test_bad_corpus.py checks each one.",
    ]
    for name, content, frag, path in cases:
        p = OUT / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        desc = DESCRIPTIONS.get(name) or what(content) or name
        lines.append(f"{name}:")
        lines.append(f"  what: {json.dumps(desc)}")
        lines.append(f"  message: {json.dumps(frag)}")
        lines.append(f"  path: {json.dumps(path)}")
    (OUT / "expected.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(cases)} cases written to {OUT}")


if __name__ == "__main__":
    main()
