"""The documents the API returns, as OpenAPI schemas: the plan (contract §3 and v1.1), the rules
(§2 and v1.1), the term roadmap, the sweep table, a post's explanation, plans compared, a
dataset's summary and a job's progress.

Field names are the contract's (fixed: extended, never renamed) and the contract's wording is
each field's description, so a dashboard developer reads the contract in the OpenAPI document
itself. Every model allows extra fields: the wire format carries additions (explanations,
solver statistics) that clients may ignore. Plans, roadmaps and sweeps are stored as JSON and
served as stored (not re-validated on every read: a national plan is large); the schemas
describe them, and the schemathesis test checks served bodies against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rotation.rules import Rules
from rotation.status import JobStatus, PlanStatus

OPEN = ConfigDict(extra="allow")
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
"""OpenAPI for a file answer (exports): a generated client hands its bytes over as they are."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
"""The media type of an Excel workbook export."""

# --------------------------------------------------------------------------- rules (§2)
RULE_WORDS: dict[str, str] = {
    "as_of": "date at which ages and tenures are measured (YYYY-MM-DD)",
    "positions": "positions this plan may change; other posts keep their incumbents",
    "local_means": "what makes a cadre local: hometown | residence | hometown_or_residence",
    "local_level": 'commune | district: "local" if in the same unit of this level',
    "non_local_targets": "hard: ceil(min_share * n) non-local holders among the n posts of "
    "each scope unit (scope_level: district | province)",
    "max_travel_km": "residence -> post unit, for every cadre who takes a new post (km)",
    "min_years_in_post": "cadres with less tenure keep their current post (years)",
    "max_years_in_post": "incumbents with this tenure or more must leave their post (years)",
    "min_years_to_retirement": "years before retirement needed to take a new post",
    "retirement_age": "fixed ages {M, F} when given; when absent, the legal roadmap "
    "(Labour Code 2019 art. 169, Decree 135/2020)",
    "min_rating": "in each of the last `rating_years` years before as_of (missing = fails): "
    "excellent | good | complete | not_complete",
    "rating_years": "how many years of ratings `min_rating` looks at",
    "require_planning": "a new position must be in planned_positions (same position = "
    "lateral, allowed)",
    "forbid_relatives_same_unit": "relatives may not lead the same unit",
    "max_changes": "posts whose holder changes, per scope unit: one cap or a list of caps "
    "(v1.1: scope_level may also be `commune`; count_by_scope: per-unit overrides)",
    "locks": "planner's input: these cadres hold these posts ([{post_id, cadre_id}])",
    "exclude": "planner's input: these cadres never hold these posts ([{post_id, cadre_id}])",
    "weights": "objective weights; travel_km: per km of every assignment's travel; change: per "
    "changed post; when `weights` is given, every term it does not name is 0 (off); when it is "
    "absent, the project's documented defaults apply",
    "candidates": "how many distinct plans to return (best first)",
    "time_limit_s": "the solver's time limit (seconds)",
    "discipline_months": "v1.1: no new post within this many months after a reprimand / "
    "warning / removal (Reg. 377)",
    "min_years_to_retirement_from_office": "v1.1: a cadre coming from an office (not a "
    "commune post) to a commune post needs this many years before retirement (Reg. 65)",
    "never_below_current": "v1.1, default ON: in every scope of every non-local target, the "
    "number of non-local holders never falls below today's number",
    "priority_shares": "v1.1, hard: among the cadres who take a new post in the plan, at least "
    "this share of the group (women | young (< 40 at as_of) | minority (ethnicity not Kinh))",
    "support": "v1.1: support allowance per cadre who takes a new post, by travel km; the "
    "highest tier with min_km <= travel applies; below every tier: 0. Support of one cadre = "
    "one_time_vnd + months x vnd_per_month of the tier that applies",
    "budget_vnd": "v1.1: hard cap on the plan's total support cost (null = no cap)",
    "horizon": "term roadmap: rounds (dates), a target trajectory per scope, min_stay_years, "
    "max_changes_per_round, discount (rotation/roadmap/horizon.py); null for a single plan",
}
"""Contract §2 / §2.1 wording for each rules key (the other keys are the project's own; their
ranges and defaults are on the model, rotation/rules.py)."""


def _describe_rules(schema: dict[str, Any]) -> None:
    schema["description"] = (
        "Rules (contract §2 and v1.1): every field optional; the defaults are those of "
        "rotation/rules.py (GET /v1/rules/defaults). A plan carries the full effective rules it "
        "was made with."
    )
    for name, words in RULE_WORDS.items():
        prop = schema.get("properties", {}).get(name)
        if prop is not None:
            prop.setdefault("description", words)
    # what the model's validators refuse, said in the schema too
    schema.get("properties", {}).get("positions", {})["minItems"] = 1


class RulesDocument(Rules):
    """The rules model of rotation/rules.py, with the contract's words on each field."""

    model_config = ConfigDict(title="Rules", json_schema_extra=_describe_rules)


# --------------------------------------------------------------------------- plan (§3)
class Alternative(BaseModel):
    """Another cadre the post could have had, and why not."""

    model_config = OPEN
    cadre_id: str
    cadre_name: str | None = None
    why_not: str | None = Field(default=None, description="why this cadre does not hold the post")
    failed_rule: str | None = Field(
        default=None, description="the rule that refuses the cadre (None: only costlier)"
    )
    cost_difference: float | None = Field(
        default=None, description="objective units (km-equivalents) more than the holder"
    )
    travel_km: float | None = None
    score: dict[str, float] | None = None


class Assignment(BaseModel):
    """Who holds a post after the plan (contract §3)."""

    model_config = OPEN
    post_id: str
    unit_id: str = Field(description="the unit the post leads")
    position: str = Field(description="position code: secretary, pc_chair, …")
    cadre_id: str | None = Field(description="the holder after the plan; null = left vacant")
    previous_post_id: str | None = Field(
        description="the post the cadre held before (null: came from an office)"
    )
    changed: bool = Field(description="the post's holder changes")
    non_local: bool = Field(description="the holder is not local to the post's unit")
    travel_km: float = Field(description="residence -> post unit (km)")
    cadre_name: str | None = Field(default=None, description="v1.1: the holder's full name")
    unit_name: str | None = Field(default=None, description="v1.1: the post's unit name")
    support_vnd: int | None = Field(
        default=None,
        description="v1.1: support allowance of a holder who takes a new post (VND; 0 otherwise)",
    )
    score: dict[str, float] | None = Field(
        default=None,
        description="the holder's objective terms in weight units (rewards negative)",
    )
    alternatives: list[Alternative] | None = Field(
        default=None, description="the best other cadres for the post, and why not"
    )


class NonLocalShare(BaseModel):
    model_config = OPEN
    overall: float = Field(description="share 0–1 of non-local holders, the whole plan")
    by_scope: dict[str, float] = Field(description="unit_id -> share 0–1 per scope unit")
    non_local_posts: int | None = Field(
        default=None, description="posts with a non-local holder (people)"
    )
    posts: int | None = Field(default=None, description="posts in the plan")


class NewAppointees(BaseModel):
    """v1.1: cadres who take a new post."""

    model_config = OPEN
    count: int
    women: int
    young: int = Field(description="younger than 40 at as_of")
    minority: int = Field(description="ethnicity not Kinh")


class Preferences(BaseModel):
    """v1.1: counts among those who take a new post."""

    model_config = OPEN
    with_wishes: int
    placed_in_wish: int
    placed_first_choice: int


class Kpis(BaseModel):
    """Contract §3 KPIs (and v1.1 additions)."""

    model_config = OPEN
    non_local_share: NonLocalShare
    changed_posts: int = Field(description="posts whose holder changes")
    total_travel_km: float
    max_travel_km: float
    support_cost_vnd: int | None = Field(default=None, description="v1.1: sum of support_vnd")
    new_appointees: NewAppointees | None = None
    preferences: Preferences | None = None


class DiagnosisItem(BaseModel):
    """One rule instance of the smallest set that cannot hold together."""

    model_config = OPEN
    rule: str
    scope: str = Field(description="the scope the rule applies to")
    detail: str = Field(description="in words a planner understands")
    best_share: float | None = Field(
        default=None,
        description="for a non-local target: the best share (0–1) reachable in the scope",
    )


class PlanBody(BaseModel):
    """A plan (contract §3 and v1.1), identical from the CLI and the API."""

    model_config = OPEN
    status: PlanStatus
    objective: float | None
    bound: float | None
    assignments: list[Assignment]
    released: list[str] = Field(description="incumbents who keep no post (back to an office)")
    kpis: Kpis | None = Field(description="null when infeasible: no fake zeros")
    diagnosis: list[DiagnosisItem] = Field(
        description="non-empty exactly when status is infeasible: the smallest set of rules "
        "(with the scope each applies to) that cannot hold together"
    )
    rules: RulesDocument | None = Field(
        default=None,
        description="v1.1: the full effective rules the plan was made with (defaults filled in)",
    )


class PlanDocument(PlanBody):
    """A stored plan: contract §3 plus where it comes from."""

    plan_id: str
    job_id: str
    dataset_id: str
    rank: int = Field(description="1 = the best of its job's candidates")
    scope: str | None = Field(description="the scope unit the plan covers (null: the dataset)")


class PostExplanation(BaseModel):
    """Why this holder: the assignment, its score parts and the best alternatives."""

    plan_id: str
    post_id: str
    assignment: Assignment
    score: dict[str, float] = Field(description="objective terms in weight units")
    alternatives: list[Alternative]


# --------------------------------------------------------------------------- compare
class ComparedPlan(BaseModel):
    plan_id: str
    status: str
    objective: float | None
    kpis: Kpis | dict[str, Any] | None


class DifferingPost(BaseModel):
    post_id: str
    holders: dict[str, str | None] = Field(description="plan_id -> cadre_id (null: vacant/none)")
    names: dict[str, str] = Field(description="cadre_id -> full name")


class Compared(BaseModel):
    """KPIs side by side and every post whose holder differs."""

    plans: list[ComparedPlan]
    differing_posts: list[DifferingPost]


# --------------------------------------------------------------------------- roadmap
class RoundKpis(Kpis):
    as_of: str = Field(description="the round's date")
    target_shares: dict[str, float] | None = Field(
        default=None, description="position -> the round's target share 0–1"
    )


class RoadmapRound(BaseModel):
    model_config = OPEN
    as_of: str = Field(description="the round's date (YYYY-MM-DD)")
    plan: PlanBody = Field(description="the round's plan (contract §3)")


class RoadmapDocument(BaseModel):
    """A term roadmap: one plan per round, each valid against the state earlier rounds leave."""

    model_config = OPEN
    status: str = Field(
        description="optimal (proven over every eligible triple) | feasible | infeasible | …"
    )
    rounds: list[RoadmapRound]
    kpis_by_round: list[RoundKpis | dict[str, Any]]
    diagnosis: list[DiagnosisItem]
    stats: dict[str, Any] = Field(
        default_factory=dict, description="how it was solved: proven, gap, gap_covers, method"
    )
    roadmap_id: str
    job_id: str
    dataset_id: str
    scope: str | None


class RoadmapSummary(BaseModel):
    """One roadmap of a dataset: rounds and the KPIs of each, what its status rests on."""

    roadmap_id: str
    job_id: str
    status: str
    scope: str | None
    created_at: str
    rounds: list[str | None] = Field(description="the rounds' dates")
    kpis_by_round: list[RoundKpis | dict[str, Any]]
    proven: bool
    gap: float | None
    proof: str = Field(description='"Proven optimal over …" or "Not proven: gap X%"')


# --------------------------------------------------------------------------- sweep
class Frontier(BaseModel):
    model_config = OPEN
    name: str
    x: str
    y: str
    file: str | None = None
    skipped: str | None = None


class SweepVariant(BaseModel):
    """One variant of a sweep (contract §4.1) with the id of its stored plan."""

    model_config = OPEN
    id: str
    values: dict[str, Any] = Field(description="KEY -> the value this variant gives it")
    status: str
    kpis: Kpis | dict[str, Any] | None = None
    plan: str | None = Field(description="id of the variant's plan (GET /v1/plans/{id})")
    objective: float | None = None
    diagnosis: list[DiagnosisItem] = Field(default_factory=list)
    diagnosis_summary: str | None = None
    dominated: dict[str, bool] = Field(default_factory=dict)
    error: str | None = None
    seconds: float | None = None


class SweepTable(BaseModel):
    """A sweep's table (contract §4.1 `sweep.json`)."""

    model_config = OPEN
    sweep_id: str
    job_id: str
    dataset_id: str
    scope: str | None
    status: JobStatus
    keys: list[str]
    variants: list[SweepVariant]
    frontiers: list[Frontier]


# --------------------------------------------------------------------------- datasets, jobs
class CoverageRow(BaseModel):
    model_config = OPEN
    scope: str
    name: str
    posts: int
    vacant: int
    non_local: int
    non_local_share: float = Field(description="0–1 among filled posts")


class StatusRow(BaseModel):
    """Where a scope stands against a non-local target (rotation/report.py status_table)."""

    model_config = OPEN
    position: str | None
    scope_level: str | None
    scope_id: str | None = Field(description="the scope unit; null on a total row")
    scope_name: str | None
    posts: int | None
    posts_after: int | None = Field(default=None, description="posts left after mergers")
    non_local: int | None
    share: float | None = Field(description="0–1")
    target_share: float | None = Field(description="0–1")
    required: int | None
    shortfall: int | None = Field(description="people to bring in")
    is_total: bool = Field(description="the total row of a target")


class DatasetSummary(BaseModel):
    """What a dataset holds (a scoped key sees its scope's counts only)."""

    model_config = OPEN
    name: str
    provinces: list[str]
    units: int
    cadres: int
    posts: int
    vacant_posts: int
    positions: dict[str, int]
    scope_level: str | None = None
    coverage: list[CoverageRow] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    status_table: list[StatusRow] | None = None
    scope: str | None = Field(default=None, description="the key's scope unit, when scoped")


class JobProgress(BaseModel):
    """A job's latest progress; every field optional (a queued job has none)."""

    model_config = OPEN
    phase: str | None = None
    elapsed_s: float | None = Field(default=None, description="seconds since the solve began")
    objective: float | None = None
    bound: float | None = None
    gap: float | None = Field(default=None, description="(objective - bound) / objective, 0–1")
    stats: dict[str, Any] | None = None


def typed_status_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Status table rows with numbers as numbers (older datasets stored every cell as text)."""
    out = []
    for row in rows:
        clean = {
            k: (None if isinstance(v, str) and v in ("", "nan", "None", "NaN", "<NA>") else v)
            for k, v in row.items()
            if k != "index"
        }
        try:
            typed = StatusRow.model_validate(clean).model_dump(mode="json", exclude_unset=True)
        except ValueError:  # a row of another shape: served as it is rather than refused
            typed = clean
        out.append(typed)
    return out
