"""Repair an adopted term roadmap after an event in round k, changing as little of it as possible.

The events are the single plan's (:data:`rotation.events.EVENT_TYPES`, one parser:
:func:`rotation.events.parse_events` with ``rounds=True``), each with the round it happens in
(1-based): ``declines:CADRE[@POST]:round=k`` (the cadre refuses the post the roadmap proposes to
them from round k; without ``@POST``, the post they hold in round k), ``leaves:CADRE:round=k``
(retires early, dies, is transferred out: holds no post from round k), ``vacant:POST:round=k``
(the post's holder in round k is out of it from then on: it is filled anew),
``disciplined:CADRE:kind=K:round=k`` (a disciplinary measure dated round k: no new post for
``discipline_months[K]``). Every event of one repair names the same round.

How (kept to the roadmap's public entry point, :func:`rotation.roadmap.model.solve_roadmap`):

1. rounds 1 … k−1 are the adopted ones, untouched (copied as adopted);
2. the state at the start of round k is the data rolled through them
   (:func:`rotation.roadmap.validate.roll_roadmap`, the validator's own roll), with the event
   applied: a leaving cadre removed (their post starts round k vacant), a declined or vacated
   (post, cadre) excluded, a discipline row added;
3. rounds k … are solved as a roadmap of their own from that state, with ``previous`` = the
   adopted roadmap and ``previous_weight`` = :data:`rotation.repair.CHANGE_WEIGHT`: every
   (cadre, post, round) of the adopted roadmap kept earns far more than any cost, so the repair
   keeps as many as it can first (fewest posts whose holder differs from the adopted roadmap,
   round by round), then the usual objective;
4. what spans the seam is carried into that state: a cadre who took a post in an earlier round
   and must still stay (``min_stay_years``) starts with a tenure that the ``min_years_in_post``
   rule keeps exactly until the stay ends; with a trajectory's ``never_decrease`` the first
   repaired round keeps at least the non-local holders it starts with (``never_below_current``);
5. the whole roadmap (adopted rounds and repaired ones) is rebuilt on the original data and
   checked with :func:`rotation.roadmap.validate.validate_roadmap`; ``changes`` lists, per round,
   every post whose holder differs from the adopted roadmap, with names.

Known limit: the floor of step 4 is counted after the retirements dated round k, while the
validator's ``never_decrease`` compares with the holders before them; when a non-local holder
retires exactly then, the floor can be one lower than the validator's and the validation in
step 5 says so (``violations``).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from ..concepts import add_months
from ..data import ProblemData
from ..plan import Plan
from ..repair import CHANGE_WEIGHT, RepairError
from ..rules import PostCadre, Rules
from ..solve import Progress
from .horizon import Horizon, round_rules, stay_until
from .model import RoadmapResult, _assemble, solve_roadmap
from .state import apply_events, event_exclusions, project_ratings
from .validate import (
    RoadmapError,
    load_horizon,
    parse_roadmap,
    roll_roadmap,
    validate_roadmap,
)


@dataclass(frozen=True)
class PostChange:
    """A post whose holder in a round differs from the adopted roadmap's."""

    round: dt.date
    post_id: str
    unit_id: str
    unit_name: str
    adopted: str | None
    adopted_name: str | None
    repaired: str | None
    repaired_name: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round.isoformat(),
            "post_id": self.post_id,
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "adopted": self.adopted,
            "adopted_name": self.adopted_name,
            "repaired": self.repaired,
            "repaired_name": self.repaired_name,
        }


@dataclass
class RoadmapRepair:
    """The repaired roadmap (``result``, every round) and what it changed compared with the
    adopted one. ``from_round``: the event's round (1-based); ``violations``: the validator's
    lines on the repaired roadmap (empty = valid)."""

    result: RoadmapResult
    events: list[dict[str, Any]]
    from_round: int
    changes: list[PostChange] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    repair_of: str | None = None

    @property
    def status(self) -> str:
        return self.result.status

    def changed_by_round(self) -> dict[str, int]:
        """Round date (ISO) → posts whose holder differs from the adopted roadmap, for every
        round from the event's on (0 where nothing changed)."""
        days = [d for d, _ in self.result.rounds][self.from_round - 1 :]
        out = {d.isoformat(): 0 for d in days}
        for c in self.changes:
            out[c.round.isoformat()] = out.get(c.round.isoformat(), 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        """A roadmap JSON (``rotation validate --roadmap`` reads it) plus ``repair``."""
        return {
            **self.result.to_json(),
            "repair": {
                "repair_of": self.repair_of,
                "from_round": self.from_round,
                "events": self.events,
                "changed_posts": len(self.changes),
                "changed_posts_by_round": self.changed_by_round(),
                "changes": [c.to_json() for c in self.changes],
                "violations": self.violations,
            },
        }


# =========================================================================== events
def check_roadmap_events(
    events: list[dict[str, Any]], rounds: list[tuple[dt.date, Plan]], cadres: set[str]
) -> list[str]:
    """Messages for events that do not fit the adopted roadmap (empty = all good): a round it
    does not have, events of different rounds, unknown posts or cadres, a declined post the
    cadre does not hold, a vacancy of a post nobody holds."""
    out: list[str] = []
    n = len(rounds)
    named = sorted({int(e["round"]) for e in events if isinstance(e.get("round"), int)})
    for i, e in enumerate(events):
        k = e.get("round")
        if not isinstance(k, int) or not 1 <= k <= n:
            out.append(f"events[{i}]: round {k!r} is not a round of the roadmap (1 to {n})")
            continue
        day, plan = rounds[k - 1]
        held = plan.holder()
        post, cadre = e.get("post_id"), e.get("cadre_id")
        if e["type"] in ("declines", "leaves", "disciplined") and cadre not in cadres:
            out.append(f"events[{i}]: cadre {cadre!r} is not in the dataset")
            continue
        if e["type"] == "declines":
            if post is None:
                out.append(
                    f"events[{i}]: {cadre} holds no post in round {k} ({day}) of the roadmap; "
                    f"name the post: declines:{cadre}@POST:round={k}"
                )
            elif post not in held:
                out.append(f"events[{i}]: post {post!r} is not in round {k} of the roadmap")
        if e["type"] == "vacant":
            if post not in held:
                out.append(f"events[{i}]: post {post!r} is not in round {k} of the roadmap")
            elif held[post] is None:
                out.append(f"events[{i}]: post {post!r} is already vacant in round {k} ({day})")
    if len(named) > 1:
        out.append(
            f"events: all events of one repair happen in one round (got rounds "
            f"{', '.join(str(k) for k in named)}); repair the earliest, then repair the result"
        )
    return out


def resolve_roadmap_events(
    events: list[dict[str, Any]], rounds: list[tuple[dt.date, Plan]]
) -> list[dict[str, Any]]:
    """A ``declines`` without a post refers to the post the cadre holds in the event's round;
    a ``vacant`` event records the holder who is out."""
    out = []
    for e in events:
        k = e.get("round")
        if isinstance(k, int) and 1 <= k <= len(rounds):
            held = rounds[k - 1][1].holder()
            if e["type"] == "declines" and not e.get("post_id"):
                post = next((p for p, c in held.items() if c == e["cadre_id"]), None)
                e = {**e, "post_id": post}
            elif e["type"] == "vacant" and e.get("post_id") in held:
                e = {**e, "holder_id": held[e["post_id"]]}
        out.append(e)
    return out


# =========================================================================== the seam
def keep_min_stay(
    state: ProblemData,
    rules: Rules,
    horizon: Horizon,
    rounds: list[tuple[dt.date, Plan]],
    starts: list[ProblemData],
    k: int,
    excused: list[PostCadre],
) -> ProblemData:
    """Cadres who took a post in rounds before ``k`` (0-based) and must still keep it
    (``min_stay_years``) start round ``k`` with a tenure the ``min_years_in_post`` rule keeps
    until the stay ends (with ``min_years_in_post`` 0 they are not movable). ``excused``: the
    (post, cadre) pairs an event ends (a declined post, a vacated holder): not kept."""
    if horizon.min_stay_years <= 0 or k == 0:
        return state
    day_k = horizon.rounds[k]
    until: dict[str, dt.date] = {}
    for j in range(k):
        day, plan = rounds[j]
        before = starts[j].posts["incumbent_id"]
        for post, cid in plan.holder().items():
            if cid and (post not in before.index or before.get(post) != cid):
                until[cid] = stay_until(day, horizon.min_stay_years)
    cadres = state.cadres.copy()
    held = set(state.posts["incumbent_id"].dropna())
    months = round(rules.min_years_in_post * 12)
    changed = False
    ended = {x.cadre_id for x in excused}
    for cid, end in until.items():
        if cid not in cadres.index or cid not in held or cid in ended or day_k >= end:
            continue
        changed = True
        if months > 0:
            cadres.at[cid, "current_since"] = add_months(end, -months)
        else:
            cadres.at[cid, "movable"] = False
    return replace(state, cadres=cadres) if changed else state


def tail_rules(rules: Rules, horizon: Horizon, k: int, exclude: list[PostCadre]) -> Rules:
    """The rules of rounds ``k`` … (0-based) as a roadmap of their own: the horizon from round
    ``k``, the events' exclusions; the first of them keeps at least the non-local holders it
    starts with only where the trajectory says ``never_decrease`` (as :func:`round_rules`)."""
    tail = horizon.model_copy(update={"rounds": horizon.rounds[k:]})
    update: dict[str, Any] = {
        "horizon": tail.model_dump(mode="json"),
        "exclude": [*rules.exclude, *exclude],
    }
    if k > 0:
        update["never_below_current"] = any(t.never_decrease for t in horizon.trajectory)
    return rules.model_copy(update=update)


# =========================================================================== repair
def _changes(
    data: ProblemData,
    adopted: list[tuple[dt.date, Plan]],
    repaired: list[tuple[dt.date, Plan]],
    k: int,
) -> list[PostChange]:
    out = []
    for (day, old), (_, new) in list(zip(adopted, repaired, strict=True))[k:]:
        before, after = old.holder(), new.holder()
        units = {a.post_id: a.unit_id for a in [*old.assignments, *new.assignments]}
        for post in sorted(set(before) | set(after)):
            a, b = before.get(post), after.get(post)
            if a == b:
                continue
            unit = units[post]
            out.append(
                PostChange(
                    day,
                    post,
                    unit,
                    data.unit_name(unit),
                    a,
                    data.cadre_name(a) if a else None,
                    b,
                    data.cadre_name(b) if b else None,
                )
            )
    return out


def repair_roadmap(
    data: ProblemData,
    rules: Rules,
    adopted: dict[str, Any],
    events: list[dict[str, Any]],
    roadmap_id: str | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    method: str = "auto",
) -> RoadmapRepair:
    """The valid roadmap closest to ``adopted`` (a roadmap JSON made with ``rules``) after
    ``events`` (see the module docstring): rounds before the event's as adopted, the fewest
    (cadre, post, round) changes from it on, then the usual objective. Raises
    :class:`~rotation.repair.RepairError` naming every event or roadmap that does not fit."""
    h = load_horizon(rules)
    try:
        parsed = parse_roadmap(adopted)
    except RoadmapError as exc:
        raise RepairError([f"adopted roadmap: {line}" for line in exc.lines]) from None
    if parsed.status not in ("optimal", "feasible"):
        raise RepairError([f"adopted roadmap: status {parsed.status}: nothing to repair"])
    days = [d for d, _ in parsed.rounds]
    if days != h.rounds:
        raise RepairError(
            [
                f"adopted roadmap: its rounds ({', '.join(d.isoformat() for d in days)}) are not "
                f"the rules' horizon ({', '.join(d.isoformat() for d in h.rounds)}); give the "
                "rules it was made with"
            ]
        )
    events = resolve_roadmap_events(events, parsed.rounds)
    problems = check_roadmap_events(events, parsed.rounds, set(data.cadres.index))
    if problems:
        raise RepairError(problems)
    k = int(events[0]["round"]) - 1
    earlier = [int(e["round"]) for e in parsed.events]
    if earlier and max(earlier) > k + 1:
        raise RepairError(
            [
                f"events: the adopted roadmap was itself repaired from round {max(earlier)}; "
                f"an event of round {k + 1} comes before that: repair the original roadmap"
            ]
        )
    rolled = roll_roadmap(data, rules, adopted)  # the adopted roadmap's own events applied
    state = rolled.starts[k]
    gone = [
        e["cadre_id"]
        for e in events
        if e["type"] in ("leaves", "disciplined") and e["cadre_id"] not in state.cadres.index
    ]
    if gone:
        raise RepairError(
            [f"events: {c} has retired before round {k + 1} ({days[k]})" for c in gone]
        )
    state = apply_events(state, events, days[k])
    every = [*parsed.events, *events]  # carried: the repaired roadmap is judged with them all
    gone_now = set(data.cadres.index) - set(state.cadres.index)
    exclude = [x for x in event_exclusions(every) if x.cadre_id not in gone_now]
    state = keep_min_stay(state, rules, h, parsed.rounds, rolled.starts, k, exclude)
    tail = solve_roadmap(
        state,
        tail_rules(rules, h, k, exclude),
        progress=progress,
        stop=stop,
        previous=adopted,
        method=method,
        previous_weight=CHANGE_WEIGHT,
    )
    if not tail.rounds:
        return RoadmapRepair(tail, every, k + 1, repair_of=roadmap_id)
    holders = [p.holder() for _, p in parsed.rounds[:k]] + [p.holder() for _, p in tail.rounds]
    base = project_ratings(data, h.rounds[-1].year)
    rrules = [round_rules(rules, h, j) for j in range(len(h.rounds))]
    whole = _assemble(base, rules, h, rrules, holders, tail.status, every)
    adopted_kpis = adopted.get("kpis_by_round") or []
    for j in range(k):  # the adopted rounds exactly as adopted
        whole.rounds[j] = parsed.rounds[j]
        if j < len(adopted_kpis):
            whole.kpis_by_round[j] = adopted_kpis[j]
    whole.stats = {
        **tail.stats,
        "repair_from_round": k + 1,
        "previous_weight": CHANGE_WEIGHT,
    }
    out = RoadmapRepair(whole, every, k + 1, repair_of=roadmap_id)
    out.changes = _changes(data, parsed.rounds, whole.rounds, k)
    out.violations = [str(v) for v in validate_roadmap(data, rules, out.to_json())]
    return out


__all__ = [
    "PostChange",
    "RoadmapRepair",
    "check_roadmap_events",
    "keep_min_stay",
    "repair_roadmap",
    "resolve_roadmap_events",
    "tail_rules",
]
