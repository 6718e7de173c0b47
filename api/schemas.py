"""Request and response bodies (kept apart from the database models)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DatasetCreated(BaseModel):
    dataset_id: str
    summary: dict[str, Any]


class DatasetInfo(BaseModel):
    dataset_id: str
    name: str
    province_id: str | None
    created_at: str
    summary: dict[str, Any]


class JobCreated(BaseModel):
    job_id: str


class JobInfo(BaseModel):
    job_id: str
    dataset_id: str
    kind: str
    scope: str | None
    status: Literal["queued", "running", "done", "infeasible", "failed", "cancelled"]
    progress: dict[str, Any]
    queue_position: int | None
    plan_ids: list[str]
    roadmap_id: str | None = None
    """For a finished roadmap job: GET /v1/roadmaps/{roadmap_id}."""
    error: str | None
    created_at: str
    updated_at: str


class PlanSummary(BaseModel):
    plan_id: str
    job_id: str
    rank: int
    status: str
    scope: str | None
    objective: float | None
    kpis: dict[str, Any]
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


Event = Annotated[Declines | Vacant | Leaves, Field(discriminator="type")]


class RepairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[Event] = Field(min_length=1, max_length=500)


class Compared(BaseModel):
    plans: list[dict[str, Any]]
    differing_posts: list[dict[str, Any]]


class Health(BaseModel):
    status: str
    running_jobs: int


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
