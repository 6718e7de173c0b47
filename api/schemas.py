"""Request and response bodies (kept apart from the database models)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .documents import Compared, DatasetSummary, JobProgress, Kpis

__all__ = ["Compared"]  # re-exported: routes import the documents they return from here too


class DatasetCreated(BaseModel):
    dataset_id: str
    summary: DatasetSummary


class DatasetInfo(BaseModel):
    dataset_id: str
    name: str
    province_id: str | None
    created_at: str
    summary: DatasetSummary


class JobCreated(BaseModel):
    job_id: str


class JobInfo(BaseModel):
    job_id: str
    dataset_id: str
    kind: str
    scope: str | None
    status: Literal["queued", "running", "done", "infeasible", "failed", "cancelled"]
    progress: JobProgress
    queue_position: int | None = Field(description="1 = next to run; null unless queued")
    plan_ids: list[str]
    roadmap_id: str | None = None
    """For a finished roadmap job: GET /v1/roadmaps/{roadmap_id}."""
    error: str | None
    created_at: str
    updated_at: str


class StreamTokenInfo(BaseModel):
    """A stream token: opens one job's event stream, for a short while, as the key that asked."""

    token: str = Field(description="send as `?token=` to GET /v1/jobs/{job_id}/events")
    expires_in_s: int = Field(description="seconds the token may be used to open the stream")
    expires_at: str = Field(description="when it can no longer open the stream (ISO 8601, UTC)")
    events_url: str = Field(description="the event stream's path with the token, for EventSource")


class PlanSummary(BaseModel):
    plan_id: str
    job_id: str
    rank: int
    status: str
    scope: str | None
    objective: float | None
    kpis: Kpis | dict[str, Any] | None = Field(
        description="the plan's KPIs (contract §3; {} when infeasible)"
    )
    created_at: str


class Declines(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["declines"]
    cadre_id: str
    post_id: str


class Vacant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["vacant"]
    post_id: str


class Leaves(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["leaves"]
    cadre_id: str


class Disciplined(BaseModel):
    """A disciplinary measure dated the plan's (or the round's) date: no new post for
    ``discipline_months[kind]``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["disciplined"]
    cadre_id: str
    kind: Literal["reprimand", "warning", "removal"] = "reprimand"


Event = Annotated[Declines | Vacant | Leaves | Disciplined, Field(discriminator="type")]


class RepairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[Event] = Field(min_length=1, max_length=500)


# ---- repair of a term roadmap: the plan's events, each in a round (rotation.roadmap.repair)
RoundNumber = Annotated[int, Field(ge=1, le=100, description="the round it happens in (1 = first)")]


class RoundDeclines(BaseModel):
    """The cadre refuses the post the roadmap proposes (default: the one held that round)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["declines"]
    cadre_id: str
    post_id: str | None = None
    round: RoundNumber


class RoundLeaves(BaseModel):
    """The cadre retires, dies or is transferred out: holds no post from that round."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["leaves"]
    cadre_id: str
    round: RoundNumber


class RoundVacant(BaseModel):
    """The post's holder in that round is out of it: it is filled anew."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["vacant"]
    post_id: str
    round: RoundNumber


class RoundDisciplined(Disciplined):
    round: RoundNumber


RoundEvent = Annotated[
    RoundDeclines | RoundLeaves | RoundVacant | RoundDisciplined, Field(discriminator="type")
]


class RoadmapRepairRequest(BaseModel):
    """Events of one round of the roadmap (all with the same ``round``)."""

    model_config = ConfigDict(extra="forbid")
    events: list[RoundEvent] = Field(min_length=1, max_length=500)


class RoadmapRepairCreated(JobCreated):
    """A roadmap repair job: poll GET /v1/jobs/{job_id}; its ``roadmap_id`` is the repaired
    roadmap (``repair``: the events and every post whose holder differs, by round)."""

    repair_of: str
    from_round: int


class Health(BaseModel):
    status: str = Field(description='"ok"')
    running_jobs: int = Field(description="solves running in this process now")


class FieldError(BaseModel):
    """One problem of a refused request: the field it is about and what is wrong."""

    field: str | None = Field(
        description="a rules key (`weights.travel_km`), a body field (`events.0.cadre_id`) or a "
        "file/row/column (`cadres.csv, row 14, column birth_date`); null when the problem is "
        "about the request as a whole"
    )
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every 4xx/5xx answer (application/problem+json)."""

    type: str = Field(default="about:blank", description="a URI naming the problem type")
    title: str = Field(description="the HTTP status phrase")
    status: int
    detail: str = Field(description="what went wrong, in one line")
    errors: list[FieldError] = Field(
        default_factory=list, description="each problem with its field (validation, 413, 422)"
    )
