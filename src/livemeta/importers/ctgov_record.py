"""A ClinicalTrials.gov study record, API v2 or legacy v1, read into one model.

The two layouts hold the same facts under different names: API v2 (``protocolSection``,
``resultsSection``, camelCase keys, enums like ``COMPLETED``) and the legacy v1 API's
``FullStudiesResponse`` (``FullStudies[0].Study.ProtocolSection``, keys spelled
``OutcomeAnalysisParamValue``, lists wrapped as ``OutcomeMeasureList.OutcomeMeasure``, enums like
``Completed``, dates like ``June 6, 2014``). :func:`parse_record` reads either into the dataclasses
below. Every value read keeps the record path it came from (``Val.path``, e.g.
``resultsSection.outcomeMeasuresModule.outcomeMeasures[9].analyses[0].paramValue``) and its text as
written (``Val.raw``), so that a draft can cite both.

Nothing here interprets the trial: this module reads, it does not map.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

V1_ROOT = "FullStudiesResponse.FullStudies[0].Study"


class RecordError(Exception):
    """The input is not a ClinicalTrials.gov study record this reader understands."""

    def __init__(self, path: str, reason: str):
        super().__init__(reason)
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Val:
    """A value of the record: ``raw`` as written (text), ``path`` where it stands."""

    raw: str
    path: str

    @property
    def number(self) -> int | float | None:
        return number(self.raw)

    @property
    def count(self) -> int | None:
        n = number(self.raw)
        return n if isinstance(n, int) and n >= 0 else None


_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)$")


def number(text: str | None) -> int | float | None:
    """``"0.84"`` -> 0.84, ``"97"`` -> 97, ``"1,206"`` -> 1206; anything else (``"NA"``, ``"<0.001"``) -> None."""
    if text is None:
        return None
    t = str(text).strip()
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", t):
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return None
    d = Decimal(t)
    if "." not in t:
        return int(d)
    return float(d)


_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}


def iso_date(text: str | None) -> str | None:
    """``2020-05-07``, ``2015-09``, ``June 6, 2014``, ``March 2007`` -> ISO (as precise as written)."""
    if not text:
        return None
    t = text.strip()
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", t):
        return t
    m = re.fullmatch(r"([A-Za-z]+)\s+(?:(\d{1,2}),\s*)?(\d{4})", t)
    if m and m.group(1).lower() in _MONTHS:
        month = _MONTHS[m.group(1).lower()]
        if m.group(2):
            try:
                return dt.date(int(m.group(3)), month, int(m.group(2))).isoformat()
            except ValueError:
                return None
        return f"{m.group(3)}-{month:02d}"
    return None


def enum(text: str | None) -> str | None:
    """v1 and v2 spellings of an enum as one: ``Active, not recruiting`` -> ``ACTIVE_NOT_RECRUITING``."""
    if text is None:
        return None
    return re.sub(r"[^A-Z0-9]+", "_", str(text).upper()).strip("_")


class _Node:
    """A mapping of the record at a path; ``get``/``node``/``items`` take the v2 and the v1 key."""

    def __init__(self, data: Any, path: str, v1: bool):
        self.data = data if isinstance(data, dict) else {}
        self.path = path
        self.v1 = v1

    def _key(self, v2: str, v1: str | None) -> str:
        return (v1 or v2) if self.v1 else v2

    def _walk(self, keys: str):
        data, path = self.data, self.path
        for k in keys.split("."):
            data = data.get(k) if isinstance(data, dict) else None
            path = f"{path}.{k}" if path else k
        return data, path

    def get(self, v2: str, v1: str | None = None) -> Val | None:
        """A scalar at the (dotted) key, as text; None when absent or empty."""
        value, path = self._walk(self._key(v2, v1))
        if value is None or isinstance(value, (dict, list)):
            return None
        if isinstance(value, bool):
            return Val("true" if value else "false", path)
        text = str(value).strip()
        return Val(text, path) if text else None

    def text(self, v2: str, v1: str | None = None) -> str | None:
        v = self.get(v2, v1)
        return v.raw if v else None

    def node(self, v2: str, v1: str | None = None) -> _Node:
        value, path = self._walk(self._key(v2, v1))
        return _Node(value, path, self.v1)

    def items(self, v2: str, v1: str | None = None) -> list[_Node]:
        """The mappings of a list (v1 wraps lists: ``FooList.Foo``)."""
        value, path = self._walk(self._key(v2, v1))
        if not isinstance(value, list):
            return []
        return [_Node(x, f"{path}[{i}]", self.v1) for i, x in enumerate(value) if isinstance(x, dict)]

    def strings(self, v2: str, v1: str | None = None) -> list[str]:
        value, _ = self._walk(self._key(v2, v1))
        if isinstance(value, str):
            value = [value]
        return [str(x).strip() for x in value or [] if isinstance(x, (str, int, float)) and str(x).strip()]

    def raw(self) -> dict:
        return self.data


@dataclass
class ArmGroup:
    """A registered arm (protocol section): label, type (EXPERIMENTAL, ...), interventions."""

    label: str
    type: str | None
    type_raw: str | None
    description: str | None
    interventions: list[str]
    path: str


@dataclass
class Group:
    """A results group (participant flow FG, baseline BG, outcome OG or adverse-event EG)."""

    id: str
    title: str
    description: str | None
    path: str


@dataclass
class Period:
    title: str
    path: str
    started: dict[str, Val]  # group id -> STARTED count


@dataclass
class Analysis:
    path: str
    group_ids: list[str]
    fields: dict[str, Val]  # v2 names: paramType, paramValue, ciPctValue, ciNumSides, ...

    def get(self, name: str) -> Val | None:
        return self.fields.get(name)

    def text(self, name: str) -> str | None:
        v = self.fields.get(name)
        return v.raw if v else None


@dataclass
class Measurement:
    group_id: str
    value: Val | None
    path: str


@dataclass
class Category:
    class_title: str | None
    title: str | None
    measurements: list[Measurement]
    path: str


@dataclass
class Measure:
    index: int
    path: str
    type: str | None
    title: str
    description: str | None
    population: str | None
    reporting_status: str | None
    param_type: str | None
    param_type_raw: str | None
    unit: str | None
    time_frame: str | None
    groups: list[Group]
    denoms: dict[str, Val]  # participants per group (the first denominator in participants)
    denom_units: str | None
    categories: list[Category]
    analyses: list[Analysis]


@dataclass
class EventGroup(Group):
    serious_affected: Val | None = None
    serious_at_risk: Val | None = None
    other_affected: Val | None = None
    other_at_risk: Val | None = None
    deaths_affected: Val | None = None
    deaths_at_risk: Val | None = None


@dataclass
class EventStat:
    group_id: str
    affected: Val | None
    at_risk: Val | None
    events: Val | None
    path: str


@dataclass
class Event:
    seriousness: str  # serious | other
    term: str
    organ_system: str | None
    vocabulary: str | None
    assessment: str | None
    path: str
    stats: list[EventStat]


@dataclass
class Record:
    layout: str  # "API v2" | "legacy v1"
    nct_id: str
    nct_path: str
    brief_title: str | None
    official_title: str | None
    acronym: str | None
    org_study_id: str | None
    secondary_ids: list[tuple[str, str | None]]
    overall_status: Val | None
    why_stopped: str | None
    dates: dict[str, tuple[str | None, Val]]  # name -> (ISO date, as written)
    study_type: str | None
    phases: list[str]
    allocation: Val | None
    intervention_model: str | None
    enrollment: Val | None
    enrollment_type: str | None
    conditions: list[str]
    arm_groups: list[ArmGroup]
    has_results: bool
    flow_groups: list[Group] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    baseline_groups: list[Group] = field(default_factory=list)
    baseline_denoms: dict[str, Val] = field(default_factory=dict)
    measures: list[Measure] = field(default_factory=list)
    event_groups: list[EventGroup] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    ae_threshold: str | None = None
    ae_time_frame: str | None = None

    @property
    def last_update(self) -> str | None:
        return self.dates.get("last_update", (None, None))[0]


# analysis fields: v2 name -> v1 name
_ANALYSIS_FIELDS = {
    "paramType": "OutcomeAnalysisParamType",
    "paramValue": "OutcomeAnalysisParamValue",
    "ciPctValue": "OutcomeAnalysisCIPctValue",
    "ciNumSides": "OutcomeAnalysisCINumSides",
    "ciLowerLimit": "OutcomeAnalysisCILowerLimit",
    "ciUpperLimit": "OutcomeAnalysisCIUpperLimit",
    "pValue": "OutcomeAnalysisPValue",
    "pValueComment": "OutcomeAnalysisPValueComment",
    "statisticalMethod": "OutcomeAnalysisStatisticalMethod",
    "statisticalComment": "OutcomeAnalysisStatisticalComment",
    "estimateComment": "OutcomeAnalysisEstimateComment",
    "groupDescription": "OutcomeAnalysisGroupDescription",
    "nonInferiorityType": "OutcomeAnalysisNonInferiorityType",
    "dispersionType": "OutcomeAnalysisDispersionType",
    "dispersionValue": "OutcomeAnalysisDispersionValue",
}

_DATES = {  # name -> (v2 struct, v2 key, v1 struct, v1 key)
    "start": ("startDateStruct", "StartDateStruct", "StartDate"),
    "primary_completion": ("primaryCompletionDateStruct", "PrimaryCompletionDateStruct", "PrimaryCompletionDate"),
    "completion": ("completionDateStruct", "CompletionDateStruct", "CompletionDate"),
    "first_posted": ("studyFirstPostDateStruct", "StudyFirstPostDateStruct", "StudyFirstPostDate"),
    "results_first_posted": ("resultsFirstPostDateStruct", "ResultsFirstPostDateStruct", "ResultsFirstPostDate"),
    "last_update": ("lastUpdatePostDateStruct", "LastUpdatePostDateStruct", "LastUpdatePostDate"),
}


def _groups(node: _Node, v2: str, v1_list: str, prefix: str) -> list[Group]:
    out = []
    for g in node.items(v2, v1_list):
        gid = g.text("id", f"{prefix}Id")
        title = g.text("title", f"{prefix}Title")
        if gid:
            out.append(Group(gid, title or gid, g.text("description", f"{prefix}Description"), g.path))
    return out


def _counts(node: _Node, v2: str, v1: str, id_key: tuple[str, str], value_key: tuple[str, str]) -> dict[str, Val]:
    out = {}
    for c in node.items(v2, v1):
        gid = c.text(*id_key)
        v = c.get(*value_key)
        if gid and v is not None:
            out[gid] = v
    return out


def _denoms(node: _Node, v2: str, v1: str, prefix: str) -> tuple[dict[str, Val], str | None]:
    """The first denominator counted in participants (v2 ``denoms``; v1 ``...DenomList``)."""
    for d in node.items(v2, v1):
        units = d.text("units", f"{prefix}DenomUnits")
        if units and units.strip().lower().startswith("participant"):
            counts = _counts(d, "counts", f"{prefix}DenomCountList.{prefix}DenomCount",
                             ("groupId", f"{prefix}DenomCountGroupId"), ("value", f"{prefix}DenomCountValue"))
            return counts, units
    return {}, None


def _measure(i: int, m: _Node) -> Measure:
    p = "OutcomeMeasure"
    groups = _groups(m, "groups", "OutcomeGroupList.OutcomeGroup", "OutcomeGroup")
    denoms, units = _denoms(m, "denoms", "OutcomeDenomList.OutcomeDenom", "Outcome")
    categories = []
    for c in m.items("classes", "OutcomeClassList.OutcomeClass"):
        ctitle = c.text("title", "OutcomeClassTitle")
        for cat in c.items("categories", "OutcomeCategoryList.OutcomeCategory"):
            ms = []
            for x in cat.items("measurements", "OutcomeMeasurementList.OutcomeMeasurement"):
                gid = x.text("groupId", "OutcomeMeasurementGroupId")
                if gid:
                    ms.append(Measurement(gid, x.get("value", "OutcomeMeasurementValue"), x.path))
            categories.append(Category(ctitle, cat.text("title", "OutcomeCategoryTitle"), ms, cat.path))
    analyses = []
    for a in m.items("analyses", "OutcomeAnalysisList.OutcomeAnalysis"):
        ids = a.strings("groupIds", "OutcomeAnalysisGroupIdList.OutcomeAnalysisGroupId")
        fields = {}
        for v2, v1 in _ANALYSIS_FIELDS.items():
            v = a.get(v2, v1)
            if v is not None:
                fields[v2] = v
        analyses.append(Analysis(a.path, ids, fields))
    ptype = m.get("paramType", f"{p}ParamType")
    return Measure(
        index=i,
        path=m.path,
        type=enum(m.text("type", f"{p}Type")),
        title=m.text("title", f"{p}Title") or f"outcome measure {i}",
        description=m.text("description", f"{p}Description"),
        population=m.text("populationDescription", f"{p}PopulationDescription"),
        reporting_status=enum(m.text("reportingStatus", f"{p}ReportingStatus")),
        param_type=enum(ptype.raw) if ptype else None,
        param_type_raw=ptype.raw if ptype else None,
        unit=m.text("unitOfMeasure", f"{p}UnitOfMeasure"),
        time_frame=m.text("timeFrame", f"{p}TimeFrame"),
        groups=groups,
        denoms=denoms,
        denom_units=units,
        categories=categories,
        analyses=analyses,
    )


def _events(ae: _Node, seriousness: str) -> list[Event]:
    cap = "Serious" if seriousness == "serious" else "Other"
    out = []
    for e in ae.items(f"{seriousness}Events", f"{cap}EventList.{cap}Event"):
        stats = []
        for s in e.items("stats", f"{cap}EventStatsList.{cap}EventStats"):
            gid = s.text("groupId", f"{cap}EventStatsGroupId")
            if gid:
                stats.append(EventStat(
                    gid,
                    s.get("numAffected", f"{cap}EventStatsNumAffected"),
                    s.get("numAtRisk", f"{cap}EventStatsNumAtRisk"),
                    s.get("numEvents", f"{cap}EventStatsNumEvents"),
                    s.path,
                ))
        term = e.text("term", f"{cap}EventTerm")
        if term:
            out.append(Event(
                seriousness, term, e.text("organSystem", f"{cap}EventOrganSystem"),
                e.text("sourceVocabulary", f"{cap}EventSourceVocabulary"),
                e.text("assessmentType", f"{cap}EventAssessmentType"), e.path, stats,
            ))
    return out


def _study_root(data: Any) -> tuple[_Node, str]:
    """The study mapping and its layout; refuses what is not one study record."""
    if not isinstance(data, dict):
        raise RecordError("", "not a ClinicalTrials.gov study record: the top level is not a JSON object")
    if "protocolSection" in data:
        return _Node(data, "", False), "API v2"
    if isinstance(data.get("studies"), list):
        studies = data["studies"]
        if len(studies) != 1:
            raise RecordError("studies", f"a search response with {len(studies)} studies: import one study record at a time")
        if not isinstance(studies[0], dict) or "protocolSection" not in studies[0]:
            raise RecordError("studies[0]", "not an API v2 study record (no protocolSection)")
        return _Node(studies[0], "studies[0]", False), "API v2"
    if "FullStudiesResponse" in data:
        resp = data["FullStudiesResponse"]
        studies = resp.get("FullStudies") if isinstance(resp, dict) else None
        if not isinstance(studies, list) or not studies:
            raise RecordError("FullStudiesResponse.FullStudies", "the legacy v1 response holds no study")
        if len(studies) != 1:
            raise RecordError("FullStudiesResponse.FullStudies",
                              f"the legacy v1 response holds {len(studies)} studies: import one study record at a time")
        study = studies[0].get("Study") if isinstance(studies[0], dict) else None
        if not isinstance(study, dict) or "ProtocolSection" not in study:
            raise RecordError(f"{V1_ROOT}.ProtocolSection", "the legacy v1 study has no ProtocolSection")
        return _Node(study, V1_ROOT, True), "legacy v1"
    if "StudyFieldsResponse" in data or "FullStudyResponse" in data:
        raise RecordError("", "a legacy v1 response of another kind (not FullStudiesResponse): fetch the full study record")
    keys = ", ".join(list(map(str, data))[:5])
    raise RecordError("", f"not a ClinicalTrials.gov study record (no protocolSection or FullStudiesResponse; top-level keys: {keys})")


def parse_record(data: Any) -> Record:
    """Read an API v2 or legacy v1 study record. Raises :class:`RecordError`."""
    root, layout = _study_root(data)
    ps = root.node("protocolSection", "ProtocolSection")
    ident = ps.node("identificationModule", "IdentificationModule")
    nct = ident.get("nctId", "NCTId")
    if nct is None or not re.fullmatch(r"NCT\d{8}", nct.raw):
        where = f"{ident.path}.{'NCTId' if root.v1 else 'nctId'}"
        raise RecordError(where, f"no valid NCT id (got {nct.raw!r})" if nct else "no NCT id")
    status = ps.node("statusModule", "StatusModule")
    dates = {}
    for name, (v2, v1_struct, v1_key) in _DATES.items():
        v = status.get(f"{v2}.date", f"{v1_struct}.{v1_key}")
        if v is not None:
            dates[name] = (iso_date(v.raw), v)
    design = ps.node("designModule", "DesignModule")
    arms = ps.node("armsInterventionsModule", "ArmsInterventionsModule")
    arm_groups = []
    for a in arms.items("armGroups", "ArmGroupList.ArmGroup"):
        label = a.text("label", "ArmGroupLabel")
        if label:
            t = a.text("type", "ArmGroupType")
            arm_groups.append(ArmGroup(
                label, enum(t), t, a.text("description", "ArmGroupDescription"),
                a.strings("interventionNames", "ArmGroupInterventionList.ArmGroupInterventionName"), a.path,
            ))
    rec = Record(
        layout=layout,
        nct_id=nct.raw,
        nct_path=nct.path,
        brief_title=ident.text("briefTitle", "BriefTitle"),
        official_title=ident.text("officialTitle", "OfficialTitle"),
        acronym=ident.text("acronym", "Acronym"),
        org_study_id=ident.text("orgStudyIdInfo.id", "OrgStudyIdInfo.OrgStudyId"),
        secondary_ids=[
            (s.text("id", "SecondaryId"), s.text("domain", "SecondaryIdDomain") or s.text("type", "SecondaryIdType"))
            for s in ident.items("secondaryIdInfos", "SecondaryIdInfoList.SecondaryIdInfo")
            if s.text("id", "SecondaryId")
        ],
        overall_status=status.get("overallStatus", "OverallStatus"),
        why_stopped=status.text("whyStopped", "WhyStopped"),
        dates=dates,
        study_type=enum(design.text("studyType", "StudyType")),
        phases=design.strings("phases", "PhaseList.Phase"),
        allocation=design.get("designInfo.allocation", "DesignInfo.DesignAllocation"),
        intervention_model=enum(design.text("designInfo.interventionModel", "DesignInfo.DesignInterventionModel")),
        enrollment=design.get("enrollmentInfo.count", "EnrollmentInfo.EnrollmentCount"),
        enrollment_type=enum(design.text("enrollmentInfo.type", "EnrollmentInfo.EnrollmentType")),
        conditions=ps.node("conditionsModule", "ConditionsModule").strings("conditions", "ConditionList.Condition"),
        arm_groups=arm_groups,
        has_results=False,
    )
    rs = root.node("resultsSection", "ResultsSection")
    if not rs.data:
        return rec
    rec.has_results = True
    flow = rs.node("participantFlowModule", "ParticipantFlowModule")
    rec.flow_groups = _groups(flow, "groups", "FlowGroupList.FlowGroup", "FlowGroup")
    for per in flow.items("periods", "FlowPeriodList.FlowPeriod"):
        started: dict[str, Val] = {}
        for ms in per.items("milestones", "FlowMilestoneList.FlowMilestone"):
            if enum(ms.text("type", "FlowMilestoneType")) == "STARTED":
                started = _counts(ms, "achievements", "FlowAchievementList.FlowAchievement",
                                  ("groupId", "FlowAchievementGroupId"), ("numSubjects", "FlowAchievementNumSubjects"))
                break
        rec.periods.append(Period(per.text("title", "FlowPeriodTitle") or "", per.path, started))
    base = rs.node("baselineCharacteristicsModule", "BaselineCharacteristicsModule")
    rec.baseline_groups = _groups(base, "groups", "BaselineGroupList.BaselineGroup", "BaselineGroup")
    rec.baseline_denoms, _ = _denoms(base, "denoms", "BaselineDenomList.BaselineDenom", "Baseline")
    om = rs.node("outcomeMeasuresModule", "OutcomeMeasuresModule")
    rec.measures = [_measure(i, m) for i, m in enumerate(om.items("outcomeMeasures", "OutcomeMeasureList.OutcomeMeasure"))]
    ae = rs.node("adverseEventsModule", "AdverseEventsModule")
    rec.ae_threshold = ae.text("frequencyThreshold", "EventsFrequencyThreshold")
    rec.ae_time_frame = ae.text("timeFrame", "EventsTimeFrame")
    for g in ae.items("eventGroups", "EventGroupList.EventGroup"):
        gid = g.text("id", "EventGroupId")
        if not gid:
            continue
        rec.event_groups.append(EventGroup(
            gid, g.text("title", "EventGroupTitle") or gid, g.text("description", "EventGroupDescription"), g.path,
            serious_affected=g.get("seriousNumAffected", "EventGroupSeriousNumAffected"),
            serious_at_risk=g.get("seriousNumAtRisk", "EventGroupSeriousNumAtRisk"),
            other_affected=g.get("otherNumAffected", "EventGroupOtherNumAffected"),
            other_at_risk=g.get("otherNumAtRisk", "EventGroupOtherNumAtRisk"),
            deaths_affected=g.get("deathsNumAffected", "EventGroupDeathsNumAffected"),
            deaths_at_risk=g.get("deathsNumAtRisk", "EventGroupDeathsNumAtRisk"),
        ))
    rec.events = _events(ae, "serious") + _events(ae, "other")
    return rec
