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
