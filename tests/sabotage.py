"""Break a plan-building computation on purpose, so our own solver writes a wrong claim.

The validator must catch what plan building gets wrong; these helpers make one computation of
``rotation.plan`` / ``rotation.solve`` return a corrupted result (a KPI off, a flag flipped, a
released cadre dropped) for the length of one test, in every module that imported it (the package's and the test builders').
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from rotation.plan import Assignment, Kpis, Plan


@dataclass(frozen=True)
class Sabotage:
    """``owner.name`` returns its result passed through ``corrupt`` (which edits it in place)."""

    owner: ModuleType
    name: str
    corrupt: Callable[[Any], None]
    expected: frozenset[str]
    """The rules the validator must report on the resulting plan."""

    def apply(self, monkeypatch: pytest.MonkeyPatch) -> int:
        """Install the broken function; returns how many modules now use it (at least one)."""
        original = getattr(self.owner, self.name)

        def broken(*args: Any, **kwargs: Any) -> Any:
            out = original(*args, **kwargs)
            self.corrupt(out)
            return out

        users = [
            m
            for m in list(sys.modules.values())
            if isinstance(m, ModuleType) and m.__dict__.get(self.name) is original
        ]
        for m in users:
            monkeypatch.setattr(m, self.name, broken)
        assert users, f"{self.owner.__name__}.{self.name} is used nowhere"
        return len(users)


# --------------------------------------------------------------------------- corruptions
def plan_kpi(edit: Callable[[Kpis], None]) -> Callable[[Any], None]:
    """Corrupt the KPIs of the Plan a function returns."""

    def go(plan: Plan) -> None:
        edit(plan.kpis)

    return go


def _share(f: Callable[[float], float]) -> Callable[[Kpis], None]:
    def go(k: Kpis) -> None:
        k.non_local_share.overall = f(k.non_local_share.overall)

    return go


def _first_scope(k: Kpis) -> None:
    s = sorted(k.non_local_share.by_scope)[0]
    k.non_local_share.by_scope[s] = round(k.non_local_share.by_scope[s] + 0.01, 6)


def _extra_scope(k: Kpis) -> None:
    k.non_local_share.by_scope["MERGED"] = 0.0  # e.g. a merged commune counted as a scope


def _bump(*path: str, by: float = 1) -> Callable[[Kpis], None]:
    def go(k: Kpis) -> None:
        node: Any = k
        for p in path[:-1]:
            node = getattr(node, p)
        setattr(node, path[-1], getattr(node, path[-1]) + by)

    return go


KPI_CORRUPTIONS: dict[str, Callable[[Kpis], None]] = {
    "changed_posts": _bump("changed_posts"),
    "total_travel_km": _bump("total_travel_km", by=0.5),
    "max_travel_km": _bump("max_travel_km", by=0.5),
    "share_overall_off_by_a_rounding_step": _share(lambda x: round(x + 0.001, 6)),
    "share_by_scope": _first_scope,
    "share_by_scope_extra_scope": _extra_scope,
    "share_non_local_posts": _bump("non_local_share", "non_local_posts"),
    "share_posts": _bump("non_local_share", "posts"),
}
"""One wrong KPI each; every one must give ``claim_kpis``."""


def _first(plan: Plan, changed: bool) -> Assignment | None:
    """The first held assignment with ``changed`` as given (None: there is none, e.g. a quiet
    roadmap round — the corruption then leaves that plan alone)."""
    return next((a for a in plan.assignments if a.cadre_id and a.changed == changed), None)


def flip_non_local(plan: Plan) -> None:
    if (a := _first(plan, True)) is not None:
        a.non_local = not a.non_local


def flip_changed(plan: Plan) -> None:
    if (a := _first(plan, False)) is not None:
        a.changed = True


def longer_travel(plan: Plan) -> None:
    if (a := _first(plan, True)) is not None:
        a.travel_km += 1.0


def wrong_previous_post(plan: Plan) -> None:
    if (a := _first(plan, False)) is not None:
        a.previous_post_id = None


def drop_released(plan: Plan) -> None:
    plan.released = plan.released[1:]


def release_a_holder(plan: Plan) -> None:
    if (a := _first(plan, False)) is not None and a.cadre_id is not None:
        plan.released = sorted([*plan.released, a.cadre_id])


PLAN_CORRUPTIONS: dict[str, tuple[Callable[[Plan], None], str]] = {
    "non_local": (flip_non_local, "claim_non_local"),
    "changed": (flip_changed, "claim_changed"),
    "travel_km": (longer_travel, "claim_travel_km"),
    "previous_post_id": (wrong_previous_post, "claim_previous_post"),
    "released_missing": (drop_released, "claim_released"),
    "released_extra": (release_a_holder, "claim_released"),
}
"""One wrong claim in a finished plan each (its KPIs were computed before), with the rule."""


def facts_flip_non_local(f: dict[str, Any]) -> None:
    f["non_local"] = not f["non_local"]


def facts_flip_changed(f: dict[str, Any]) -> None:
    f["changed"] = not f["changed"]


def facts_longer_travel(f: dict[str, Any]) -> None:
    f["travel_km"] += 1.0


def facts_no_previous_post(f: dict[str, Any]) -> None:
    f["previous_post_id"] = "S-ELSEWHERE"


FACT_CORRUPTIONS: dict[str, tuple[Callable[[dict[str, Any]], None], frozenset[str]]] = {
    # plan.py's KPIs add up its (wrong) flags, so those KPIs are wrong too
    "non_local": (facts_flip_non_local, frozenset({"claim_non_local", "claim_kpis"})),
    "changed": (facts_flip_changed, frozenset({"claim_changed", "claim_kpis"})),
    "travel_km": (facts_longer_travel, frozenset({"claim_travel_km", "claim_kpis"})),
    "previous_post_id": (facts_no_previous_post, frozenset({"claim_previous_post"})),
}
"""One wrong flag in every assignment ``rotation.plan.assignment_facts`` describes."""
