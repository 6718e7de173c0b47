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
from .concepts import age_years, is_local, is_minority, kpi_scope_level, local_pairs, wish_rank
from .data import ProblemData
from .geo import distances
from .rules import Rules
from .status import PlanStatus


def _unset(value: object) -> bool:
    """Optional additions (explanations, counts) are left out of the JSON when absent."""
    return value is None


class Assignment(BaseModel):
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")
    post_id: str
    unit_id: str
    position: str
    cadre_id: str | None = Field(None, description="None = post left vacant")
    previous_post_id: str | None = None
    changed: bool = False
    non_local: bool = False
    travel_km: float = 0.0
    cadre_name: str | None = Field(
        default=None, exclude_if=_unset, description="v1.1: the holder's full name"
    )
    unit_name: str | None = Field(
        default=None, exclude_if=_unset, description="v1.1: the post's unit name"
    )
    support_vnd: int | None = Field(
        default=None,
        exclude_if=_unset,
        description="v1.1: support allowance of a holder who takes a new post (VND; 0 otherwise)",
    )
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
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")
    overall: float = 0.0
    by_scope: dict[str, float] = Field(default_factory=dict)
    non_local_posts: int | None = Field(
        default=None, exclude_if=_unset, description="posts with a non-local holder (people)"
    )
    posts: int | None = Field(default=None, exclude_if=_unset, description="posts in the plan")


class NewAppointees(BaseModel):
    """v1.1: cadres who take a new post, and how many are women / young (< 40) / minority."""

    count: int = 0
    women: int = 0
    young: int = 0
    minority: int = 0


class PreferenceKpi(BaseModel):
    """v1.1: among the newly appointed, how many stated wishes, were placed in a wished unit,
    were placed in their first choice."""

    with_wishes: int = 0
    placed_in_wish: int = 0
    placed_first_choice: int = 0


class Kpis(BaseModel):
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")
    non_local_share: NonLocalShare = Field(default_factory=NonLocalShare)
    changed_posts: int = 0
    total_travel_km: float = 0.0
    max_travel_km: float = 0.0
    support_cost_vnd: int | None = Field(
        default=None, exclude_if=_unset, description="v1.1: sum of the assignments' support_vnd"
    )
    new_appointees: NewAppointees | None = Field(default=None, exclude_if=_unset)
    preferences: PreferenceKpi | None = Field(default=None, exclude_if=_unset)


class DiagnosisItem(BaseModel):
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")
    rule: str
    scope: str
    detail: str

    def detail_in(self, lang: str) -> str:
        """The detail in ``lang``: the Vietnamese wording the diagnosis adds (``detail_vi``)
        when asked for Vietnamese, else the contract's English ``detail``."""
        vi = (self.model_extra or {}).get("detail_vi")
        return str(vi) if lang == "vi" and vi else self.detail

    best_share: float | None = Field(
        default=None,
        exclude_if=_unset,
        description="for a non-local target: the best share (0-1) reachable in the scope "
        "under the other rules",
    )


class Plan(BaseModel):
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")
    status: PlanStatus
    objective: float | None = 0.0
    bound: float | None = 0.0
    assignments: list[Assignment] = Field(default_factory=list)
    released: list[str] = Field(default_factory=list)
    kpis: Kpis | None = Field(
        default_factory=Kpis, description="None (null) when infeasible: no fake zeros"
    )
    diagnosis: list[DiagnosisItem] = Field(default_factory=list)
    rules: dict[str, Any] | None = Field(
        default=None,
        exclude_if=_unset,
        description="v1.1: the full effective rules the plan was made with (defaults filled in)",
    )

    def to_json(self, path: str | Path | None = None) -> str:
        """The plan as JSON text (written atomically to ``path`` when given): pydantic's own
        serializer, the same text as ``json.dumps(model_dump(mode="json"), ensure_ascii=False,
        indent=2)`` (NaN and infinities as Python writes them) at a seventh of its time."""
        text = self.model_dump_json(indent=2)
        if path is not None:
            write_atomic(Path(path), text)
        return text

    @classmethod
    def from_json(cls, path_or_text: str | Path) -> Plan:
        text = str(path_or_text)
        if isinstance(path_or_text, Path) or not text.lstrip().startswith("{"):
            text = Path(path_or_text).read_text(encoding="utf-8-sig")
        return cls.model_validate(json.loads(text))

    def with_rules(self, rules: Rules) -> Plan:
        """The plan carrying the effective rules it was made with (contract v1.1)."""
        self.rules = rules.model_dump(mode="json")
        return self

    def holder(self) -> dict[str, str | None]:
        return {a.post_id: a.cadre_id for a in self.assignments}


def assignment_facts(
    data: ProblemData,
    rules: Rules,
    post_id: str,
    cadre_id: str | None,
    non_local: bool | None = None,
) -> dict[str, Any]:
    """previous post, changed, non-local and km for one (post, holder), from the data alone;
    ``non_local``: the holder's locality if already known (:func:`non_local_holders`)."""
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
        "non_local": non_local
        if non_local is not None
        else not is_local(data, c["hometown_id"], c["residence_id"], post["unit_id"], rules),
        "travel_km": round(float(km), 3),
    }


def non_local_holders(
    data: ProblemData, rules: Rules, held: Mapping[str, str | None]
) -> dict[str, bool]:
    """Post → whether its holder is non-local there, for every held post of ``held`` at once
    (one :func:`~rotation.concepts.local_pairs` call instead of one per post)."""
    pids = [p for p, c in held.items() if c]
    if not pids:
        return {}
    cads = data.cadres.loc[[held[p] for p in pids]]
    local = local_pairs(
        data,
        rules,
        cads["hometown_id"].tolist(),
        cads["residence_id"].tolist(),
        data.posts.loc[pids, "unit_id"].tolist(),
    )
    return {p: not bool(lc) for p, lc in zip(pids, local, strict=True)}


def holder_extras(
    data: ProblemData, rules: Rules, post_id: str, cadre_id: str | None, changed: bool, km: float
) -> dict[str, Any]:
    """Contract v1.1 per assignment: cadre and unit names, support allowance (VND) of a holder
    who takes a new post."""
    unit = data.posts.at[post_id, "unit_id"]
    return {
        "cadre_name": data.cadre_name(cadre_id) if cadre_id is not None else None,
        "unit_name": data.unit_name(unit),
        "support_vnd": rules.support.vnd(km) if cadre_id is not None and changed else 0,
    }


def appointee_kpis(
    data: ProblemData, rules: Rules, assignments: list[Assignment]
) -> tuple[NewAppointees, PreferenceKpi]:
    """Who takes a new post (women, young under 40 at ``as_of``, ethnic minority) and how the
    wishes of those cadres were met."""
    new = [a for a in assignments if a.cadre_id is not None and a.changed]
    # the three columns of the new holders at once: a row look-up per cadre is 0.1 ms each
    rows = data.cadres.loc[[a.cadre_id for a in new], ["gender", "birth_date", "ethnicity"]]
    women = young = minority = 0
    for gender, born, ethnicity in zip(
        rows["gender"].tolist(),
        rows["birth_date"].tolist(),
        rows["ethnicity"].tolist(),
        strict=True,
    ):
        women += int(gender == "F")
        young += int(age_years(born, rules.as_of) < 40)
        minority += int(is_minority(ethnicity))
    count = NewAppointees(count=len(new), women=women, young=young, minority=minority)
    ids = [str(a.cadre_id) for a in new]
    ranks = wish_rank(data, ids, [a.unit_id for a in new])
    wishing = set(data.preferences["cadre_id"])
    prefs = PreferenceKpi(
        with_wishes=sum(1 for c in ids if c in wishing),
        placed_in_wish=int((ranks > 0).sum()),
        placed_first_choice=int((ranks == 1).sum()),
    )
    return count, prefs


def compute_kpis(data: ProblemData, rules: Rules, assignments: list[Assignment]) -> Kpis:
    """KPIs of a set of assignments: non-local share overall and by scope, changes, travel,
    support cost, new appointees by group and wishes met."""
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
    new, prefs = appointee_kpis(data, rules, assignments)
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
        support_cost_vnd=sum(int(a.support_vnd or 0) for a in assignments),
        new_appointees=new,
        preferences=prefs,
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
    non_local = non_local_holders(data, rules, held)
    for pid in sorted(held):
        cid = held[pid]
        post = data.posts.loc[pid]
        facts = assignment_facts(data, rules, pid, cid, non_local.get(pid))
        extras = holder_extras(data, rules, pid, cid, facts["changed"], facts["travel_km"])
        assignments.append(
            Assignment(
                post_id=pid,
                unit_id=post["unit_id"],
                position=post["position"],
                cadre_id=cid,
                **facts,
                **extras,
            )
        )
    holders = {a.cadre_id for a in assignments if a.cadre_id}
    released = sorted(
        c
        for p, c in data.posts["incumbent_id"].items()
        if isinstance(c, str) and (p in held or p in data.merged_posts) and c not in holders
    )
    return Plan(
        status=status,
        objective=objective,
        bound=bound,
        assignments=assignments,
        released=released,
        kpis=compute_kpis(data, rules, assignments),
    )
