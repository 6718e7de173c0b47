"""Plans (contract §3): the JSON every user and checker reads, identical from CLI and API.

Contract fields are never renamed; extra fields (names, explanations, solver statistics) are
additions. KPIs are computed here from assignments + data with the shared concept helpers, to write
plans; the validator recomputes every claim with its own code (``rotation.claims``) and compares.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .atomic import write_atomic
from .concepts import is_local, kpi_scope_level
from .data import ProblemData
from .geo import distances
from .rules import Rules
from .status import PlanStatus


def _unset(value: object) -> bool:
    """Optional additions (explanations, counts) are left out of the JSON when absent."""
    return value is None


class Assignment(BaseModel):
    model_config = ConfigDict(extra="allow")
    post_id: str
    unit_id: str
    position: str
    cadre_id: str | None = Field(None, description="None = post left vacant")
    previous_post_id: str | None = None
    changed: bool = False
    non_local: bool = False
    travel_km: float = 0.0
    score: dict[str, float] | None = Field(
        default=None,
        exclude_if=_unset,
        description="the holder's objective terms in weight units (rewards negative); "
        "added by explanations",
    )
    alternatives: list[dict[str, Any]] | None = Field(
        default=None,
        exclude_if=_unset,
        description="the best other cadres for the post, each with cadre_id, cadre_name, "
        "cost_difference, why_not, failed_rule and score; added by explanations",
    )


class NonLocalShare(BaseModel):
    model_config = ConfigDict(extra="allow")
    overall: float = 0.0
    by_scope: dict[str, float] = Field(default_factory=dict)
    non_local_posts: int | None = Field(
        default=None, exclude_if=_unset, description="posts with a non-local holder (people)"
    )
    posts: int | None = Field(default=None, exclude_if=_unset, description="posts in the plan")


class Kpis(BaseModel):
    model_config = ConfigDict(extra="allow")
    non_local_share: NonLocalShare = Field(default_factory=NonLocalShare)
    changed_posts: int = 0
    total_travel_km: float = 0.0
    max_travel_km: float = 0.0


class DiagnosisItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    rule: str
    scope: str
    detail: str
    best_share: float | None = Field(
        default=None,
        exclude_if=_unset,
        description="for a non-local target: the best share (0-1) reachable in the scope "
        "under the other rules",
    )


class Plan(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: PlanStatus
    objective: float | None = 0.0
    bound: float | None = 0.0
    assignments: list[Assignment] = Field(default_factory=list)
    released: list[str] = Field(default_factory=list)
    kpis: Kpis = Field(default_factory=Kpis)
    diagnosis: list[DiagnosisItem] = Field(default_factory=list)

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=2)
        if path is not None:
            write_atomic(Path(path), text)
        return text

    @classmethod
    def from_json(cls, path_or_text: str | Path) -> Plan:
        p = Path(path_or_text)
        text = p.read_text(encoding="utf-8-sig") if p.exists() else str(path_or_text)
        return cls.model_validate(json.loads(text))

    def holder(self) -> dict[str, str | None]:
        return {a.post_id: a.cadre_id for a in self.assignments}


def assignment_facts(
    data: ProblemData, rules: Rules, post_id: str, cadre_id: str | None
) -> dict[str, Any]:
    """previous post, changed, non-local and km for one (post, holder), from the data alone."""
    post = data.posts.loc[post_id]
    incumbent = post["incumbent_id"] if isinstance(post["incumbent_id"], str) else None
    if cadre_id is None:
        return {
            "previous_post_id": None,
            "changed": incumbent is not None,
            "non_local": False,
            "travel_km": 0.0,
        }
    c = data.cadres.loc[cadre_id]
    prev = data.incumbent_post.get(cadre_id)
    km = distances(data, rules).km(c["residence_id"], post["unit_id"])
    return {
        "previous_post_id": prev if isinstance(prev, str) else None,
        "changed": cadre_id != incumbent,
        "non_local": not is_local(
            data, c["hometown_id"], c["residence_id"], post["unit_id"], rules
        ),
        "travel_km": round(float(km), 3),
    }


def compute_kpis(data: ProblemData, rules: Rules, assignments: list[Assignment]) -> Kpis:
    """KPIs of a set of assignments: non-local share overall and by scope, changes, travel."""
    level = kpi_scope_level(data, rules)
    scopes = data.scope_of([a.unit_id for a in assignments], level).tolist()
    per: dict[str, list[int]] = {}
    for a, s in zip(assignments, scopes, strict=True):
        n_nl = per.setdefault(s, [0, 0])
        n_nl[0] += 1
        n_nl[1] += int(a.cadre_id is not None and a.non_local)
    n = len(assignments)
    nl = sum(int(a.cadre_id is not None and a.non_local) for a in assignments)
    kms = [a.travel_km for a in assignments if a.cadre_id is not None]
    return Kpis(
        non_local_share=NonLocalShare(
            overall=round(nl / n, 6) if n else 0.0,
            by_scope={s: round(v[1] / v[0], 6) for s, v in sorted(per.items())},
            non_local_posts=nl,
            posts=n,
        ),
        changed_posts=sum(int(a.changed) for a in assignments),
        total_travel_km=round(sum(kms), 3),
        max_travel_km=round(max(kms, default=0.0), 3),
    )


def plan_from_holders(
    data: ProblemData,
    rules: Rules,
    held: Mapping[str, str | None],
    status: PlanStatus = "feasible",
    objective: float | None = None,
    bound: float | None = None,
) -> Plan:
    """A contract plan whose every claim comes from the data: ``held`` maps each post of the
    plan to its holder after the plan (None = vacant). Released = incumbents of those posts who
    hold none of them."""
    assignments = []
    for pid in sorted(held):
        cid = held[pid]
        post = data.posts.loc[pid]
        facts = assignment_facts(data, rules, pid, cid)
        assignments.append(
            Assignment(
                post_id=pid,
                unit_id=post["unit_id"],
                position=post["position"],
                cadre_id=cid,
                **facts,
            )
        )
    holders = {a.cadre_id for a in assignments if a.cadre_id}
    released = sorted(
        c
        for p, c in data.posts["incumbent_id"].items()
        if isinstance(c, str) and p in held and c not in holders
    )
    return Plan(
        status=status,
        objective=objective,
        bound=bound,
        assignments=assignments,
        released=released,
        kpis=compute_kpis(data, rules, assignments),
    )
