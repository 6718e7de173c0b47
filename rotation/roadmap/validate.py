"""Check a term roadmap round by round, straight from the data (``rotation validate --roadmap``).

A roadmap (the model's ``RoadmapResult.to_json()``) is a list of rounds, each a contract §3 plan
relative to the state at the start of that round. The validator never reads the model's states:
it rolls the data forward itself with :func:`rotation.roadmap.state.roll_forward` (the single
definition of "what changes between rounds") and judges

- each round's plan with :func:`rotation.validate.validate_plan` under
  :func:`rotation.roadmap.horizon.round_rules` (``as_of`` = the round's date, the trajectory's
  share in force as ``non_local_targets`` — this is the ``trajectory`` rule —, the per-round change
  cap as ``max_changes``);
- the cross-round rules of :data:`ROADMAP_RULES`: ``rounds`` (exactly the horizon's rounds, in
  order), ``min_stay`` and ``never_decrease``;
- ``claim_diagnosis``: an infeasible roadmap has a diagnosis, a feasible one has none;
- ``claim_kpis`` on ``kpis_by_round`` when the roadmap carries it (absent or empty: not claimed):
  one entry per round, each KPI it carries recomputed by :mod:`rotation.claims` from the round's
  plan and state, its ``as_of`` the round's date, its ``target_shares`` the shares in force.

Nothing here reads the plan-building code (``rotation.plan`` gives only the plan types): a
round's claims are recomputed by the validator's own code, never by the code that wrote them.

The state at the start of round 0 is the data with ratings projected to the last round's year
(:func:`project_ratings`: each cadre keeps the latest known rating, so round ``k``'s rating check
reads the years before its date) and the cadres retired by round 0 removed — the same start the
roadmap model uses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..claims import ClaimContext, close, plan_facts, wrong_kpis
from ..concepts import local_pairs, years_between
from ..data import ProblemData
from ..events import EVENT_TYPES
from ..plan import Assignment, DiagnosisItem, Plan
from ..rules import Rules, RulesError
from ..validate import DIAGNOSIS_RULE, Violation, validate_plan
from .horizon import Horizon, round_rules, stay_until
from .state import apply_events, event_exclusions, project_ratings, roll_forward

ROADMAP_RULES: dict[str, str] = {
    "rounds": "the roadmap lists exactly the horizon's rounds, in order, each with a plan",
    "min_stay": "a cadre who takes a new post keeps it for min_stay_years (unless retired)",
    "never_decrease": "a scope's non-local count never falls below the previous round's "
    "(trajectory never_decrease)",
}
"""Rules only a roadmap can break (the per-round rules keep their single-round names)."""

_RULE_RANK = {r: i for i, r in enumerate(ROADMAP_RULES)}


class RoadmapError(ValueError):
    """The roadmap JSON is not a roadmap at all (not a rule violation): one line per problem."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("; ".join(lines))


@dataclass(frozen=True)
class RoundViolation:
    """One violation in one round (``round`` None: about the roadmap as a whole)."""

    round: dt.date | None
    violation: Violation

    @property
    def rule(self) -> str:
        return self.violation.rule

    def __str__(self) -> str:
        where = self.round.isoformat() if self.round is not None else "roadmap"
        return f"{where}: {self.violation}"

    def sort_key(self) -> tuple[Any, ...]:
        return (self.round or dt.date.min, *self.violation.sort_key())


@dataclass
class ParsedRoadmap:
    """A roadmap JSON read into typed parts."""

    status: str
    rounds: list[tuple[dt.date, Plan]]
    diagnosis: list[DiagnosisItem] = field(default_factory=list)
    kpis_by_round: Any = None
    """The roadmap's ``kpis_by_round`` claim as given (None when absent)."""
    events: list[dict[str, Any]] = field(default_factory=list)
    """A repaired roadmap's events (``repair.events``, each with its 1-based ``round``): facts
    the planner gave, applied to the state from their round on (:func:`apply_events`)."""

    def events_by(self, k: int) -> list[dict[str, Any]]:
        """The events in force in round ``k`` (0-based): those of that round or earlier."""
        return [e for e in self.events if int(e["round"]) <= k + 1]


# =========================================================================== input
def load_horizon(rules: Rules) -> Horizon:
    """The rules' ``horizon`` as a :class:`Horizon` (defaults when absent); bad keys raise
    :class:`RulesError` with one ``horizon.<key>: …`` line each (exit 2 on the command line)."""
    try:
        return Horizon.model_validate(rules.horizon or {})
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in ("horizon", *e["loc"]))
            lines.append(f"{loc}: {e['msg']} (got {e.get('input')!r})")
        raise RulesError(lines) from None


def parse_roadmap(roadmap: Any) -> ParsedRoadmap:
    """Read a roadmap JSON dict (or anything with ``to_json()`` returning one, such as the
    model's ``RoadmapResult``); raises :class:`RoadmapError` when it is not a roadmap."""
    if hasattr(roadmap, "to_json") and not isinstance(roadmap, dict):
        roadmap = roadmap.to_json()
    if not isinstance(roadmap, dict):
        raise RoadmapError(["a roadmap is a JSON object with 'status' and 'rounds'"])
    problems: list[str] = []
    status = roadmap.get("status")
    if status not in ("optimal", "feasible", "infeasible", "unknown"):
        problems.append(f"status: {status!r} is not one of optimal, feasible, infeasible, unknown")
    raw_rounds = roadmap.get("rounds", [])
    if not isinstance(raw_rounds, list):
        problems.append("rounds: must be a list of {as_of, plan}")
        raw_rounds = []
    rounds: list[tuple[dt.date, Plan]] = []
    for i, r in enumerate(raw_rounds):
        if not isinstance(r, dict):
            problems.append(f"rounds[{i}]: must be an object with as_of and plan")
            continue
        try:
            day = dt.date.fromisoformat(str(r.get("as_of")))
        except ValueError:
            problems.append(f"rounds[{i}].as_of: {r.get('as_of')!r} is not a YYYY-MM-DD date")
            continue
        try:
            plan = Plan.model_validate(r.get("plan"))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            problems.append(f"rounds[{i}].plan: not a valid plan: {loc}: {first['msg']}")
            continue
        rounds.append((day, plan))
    diagnosis: list[DiagnosisItem] = []
    try:
        diagnosis = [DiagnosisItem.model_validate(d) for d in roadmap.get("diagnosis") or []]
    except (ValidationError, TypeError):
        problems.append("diagnosis: must be a list of {rule, scope, detail}")
    events = _parse_events(roadmap.get("repair"), problems)
    if problems:
        raise RoadmapError(problems)
    return ParsedRoadmap(str(status), rounds, diagnosis, roadmap.get("kpis_by_round"), events)


def _parse_events(repair: Any, problems: list[str]) -> list[dict[str, Any]]:
    """``repair.events`` of a repaired roadmap (absent: none); bad ones added to ``problems``."""
    if repair is None:
        return []
    raw = repair.get("events") if isinstance(repair, dict) else None
    if not isinstance(raw, list):
        problems.append("repair.events: must be a list of events")
        return []
    out = []
    for i, e in enumerate(raw):
        ok = (
            isinstance(e, dict)
            and e.get("type") in EVENT_TYPES
            and isinstance(e.get("round"), int)
            and e["round"] >= 1
            and all(isinstance(e.get(k), str) for k in _EVENT_IDS.get(str(e.get("type")), ()))
        )
        if not ok:
            problems.append(
                f"repair.events[{i}]: not an event ({{type, round, cadre_id/post_id}}): {e!r}"
            )
            continue
        out.append(e)
    return out


_EVENT_IDS = {
    "declines": ("cadre_id", "post_id"),
    "leaves": ("cadre_id",),
    "vacant": ("post_id",),
    "disciplined": ("cadre_id", "kind"),
}


# =========================================================================== rolling
def _listed(posts: Any, post_id: str, cadre_id: str | None) -> Assignment:
    """An assignment of ``post_id`` to ``cadre_id`` carrying only what the data says."""
    return Assignment(
        post_id=post_id,
        unit_id=posts.at[post_id, "unit_id"],
        position=posts.at[post_id, "position"],
        cadre_id=cadre_id,
    )


def _clean(state: ProblemData, rules: Rules, plan: Plan) -> Plan:
    """The plan as the rules let it take effect, for rolling only (its faults are reported in
    its own round): the first assignment per in-scope post, known cadres, one post per cadre,
    out-of-scope posts untouched; unit and position from the data; ``released`` recomputed."""
    posts = state.posts
    in_scope = set(posts.index[posts["position"].isin(rules.positions)])
    known = set(state.cadres.index)
    taken: set[str] = {
        c for p, c in posts["incumbent_id"].items() if p not in in_scope and isinstance(c, str)
    }
    seen: set[str] = set()
    kept: list[Assignment] = []
    for a in plan.assignments:
        if a.post_id not in in_scope or a.post_id in seen:
            continue
        seen.add(a.post_id)
        cid = a.cadre_id if a.cadre_id in known and a.cadre_id not in taken else None
        if cid is not None:
            taken.add(cid)
        kept.append(_listed(posts, a.post_id, cid))
    for p in sorted(in_scope - seen):  # missing from the plan: nobody holds it
        kept.append(_listed(posts, p, None))
    released = sorted(
        {c for p, c in posts["incumbent_id"].items() if p in in_scope and isinstance(c, str)}
        - taken
    )
    return Plan(status="feasible", assignments=kept, released=released)


@dataclass
class RolledRoadmap:
    """A roadmap with the states its rounds are judged against (one entry per round)."""

    parsed: ParsedRoadmap
    starts: list[ProblemData]
    """The state at the start of each round (what round k's plan is relative to)."""
    afters: list[ProblemData]
    """Holders right after round k's plan took effect (before anyone retires)."""

    @property
    def days(self) -> list[dt.date]:
        return [d for d, _ in self.parsed.rounds]


def _increasing(days: list[dt.date]) -> bool:
    return all(a < b for a, b in pairwise(days))


def _roll(data: ProblemData, rules: Rules, parsed: ParsedRoadmap) -> RolledRoadmap:
    rounds = parsed.rounds
    out = RolledRoadmap(parsed, [], [])
    if not rounds:
        return out
    base = project_ratings(data, rounds[-1][0].year)
    # cadres retired by the first round are gone before it (as for every later round)
    state = roll_forward(base, rules, Plan(status="feasible"), rounds[0][0], rounds[0][0])
    for k, (day, plan) in enumerate(rounds):
        now = [e for e in parsed.events if int(e["round"]) == k + 1]
        if now:  # a repaired roadmap's events take effect at the start of their round
            state = apply_events(state, now, day)
        out.starts.append(state)
        clean = _clean(state, rules, plan)
        out.afters.append(roll_forward(state, rules, clean, applied_on=day, next_day=None))
        if k + 1 < len(rounds):
            state = roll_forward(state, rules, clean, applied_on=day, next_day=rounds[k + 1][0])
    return out


def roll_roadmap(data: ProblemData, rules: Rules, roadmap: Any) -> RolledRoadmap:
    """Parse ``roadmap`` and roll the data through its rounds (their own dates, which must
    increase): ratings projected to the last round's year, each round's plan applied on its date,
    cadres retired by the next round removed (their posts vacant)."""
    parsed = parse_roadmap(roadmap)
    if not _increasing([d for d, _ in parsed.rounds]):
        raise RoadmapError(["rounds: dates must be distinct and increasing"])
    return _roll(data, rules, parsed)


def roll_states(data: ProblemData, rules: Rules, roadmap: Any) -> list[ProblemData]:
    """The state at the start of each of the roadmap's rounds (see :func:`roll_roadmap`)."""
    return roll_roadmap(data, rules, roadmap).starts


# =========================================================================== checks
def _v(
    day: dt.date | None,
    rule: str,
    message: str,
    data: ProblemData | None = None,
    post_id: str | None = None,
    cadre_id: str | None = None,
) -> RoundViolation:
    post_label = cadre_label = None
    if data is not None and post_id is not None and post_id in data.posts.index:
        post_label = data.unit_name(data.posts.at[post_id, "unit_id"])
    if data is not None and cadre_id is not None and cadre_id in data.cadres.index:
        cadre_label = data.cadre_name(cadre_id)
    return RoundViolation(day, Violation(rule, post_id, cadre_id, message, post_label, cadre_label))


def _check_rounds(parsed: ParsedRoadmap, horizon: Horizon) -> list[RoundViolation]:
    days = [d for d, _ in parsed.rounds]
    want = horizon.rounds
    out: list[RoundViolation] = []
    if days != want:
        missing = [d.isoformat() for d in want if d not in days]
        extra = [d.isoformat() for d in days if d not in want]
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"not in the horizon {', '.join(extra)}")
        if not missing and not extra:
            parts.append("out of order or repeated")
        out.append(
            _v(
                None,
                "rounds",
                f"lists rounds [{', '.join(d.isoformat() for d in days)}], the horizon's are "
                f"[{', '.join(d.isoformat() for d in want)}]: {'; '.join(parts)}",
            )
        )
    for day, plan in parsed.rounds:
        if plan.status == "infeasible":
            out.append(
                _v(day, "rounds", f"the round's plan is infeasible in a {parsed.status} roadmap")
            )
    return out


def _post_of(state: ProblemData) -> dict[str, str]:
    """cadre_id → the post held in ``state``."""
    return {c: p for p, c in state.posts["incumbent_id"].items() if isinstance(c, str)}


def _check_min_stay(
    rules: Rules,
    horizon: Horizon,
    days: list[dt.date],
    rolled: RolledRoadmap,
    parsed: ParsedRoadmap | None = None,
) -> list[RoundViolation]:
    """A cadre who takes a new post in round k still holds it after every round dated before
    :func:`stay_until` (round k, ``min_stay_years``), unless retired by then (or gone, or out
    of that post by a repair event: it declined it, or the post fell vacant)."""
    out: list[RoundViolation] = []
    if horizon.min_stay_years <= 0:
        return out
    in_scope = set(rules.positions)
    stay = horizon.min_stay_years
    arrived: dict[str, tuple[str, dt.date]] = {}  # cadre -> (new post, round taken)
    for k, day in enumerate(days):
        start, after = rolled.starts[k], rolled.afters[k]
        before = _post_of(start)
        now = _post_of(after)
        ended = {
            (x.post_id, x.cadre_id) for x in event_exclusions(parsed.events_by(k) if parsed else [])
        }
        for c, (post, since) in sorted(arrived.items()):
            if (
                c not in start.cadres.index  # retired (or left)
                or day >= stay_until(since, stay)  # stayed
                or (post, c) in ended
            ):
                del arrived[c]
                continue
            if now.get(c) != post:
                where = now.get(c)
                holder = after.posts.at[post, "incumbent_id"]
                who = holder if isinstance(holder, str) else "nobody (vacant)"
                goes = f"moves to {where}" if where else "is released"
                out.append(
                    _v(
                        day,
                        "min_stay",
                        f"took this post on {since.isoformat()} and must keep it until "
                        f"{stay_until(since, stay).isoformat()} (min_stay_years {stay:g}, "
                        f"{years_between(since, day):.1f} years so far), but {goes} in this "
                        f"round (the post goes to {who})",
                        start,
                        post,
                        c,
                    )
                )
                del arrived[c]
        for c, p in now.items():
            if after.posts.at[p, "position"] in in_scope and before.get(c) != p:
                arrived[c] = (p, day)
    return out


def non_local_counts(
    state: ProblemData, rules: Rules, position: str, scope_level: str
) -> dict[str, tuple[int, int]]:
    """scope id → (posts of ``position``, posts with a non-local holder) in ``state``."""
    posts = state.posts[state.posts["position"] == position]
    if posts.empty:
        return {}
    scopes = state.scope_of(posts["unit_id"].tolist(), scope_level).tolist()
    cadres = state.cadres
    holder = posts["incumbent_id"]
    held = np.array([isinstance(c, str) for c in holder], dtype=bool)
    held &= holder.isin(cadres.index).to_numpy()
    ids = holder[held].tolist()
    local = local_pairs(  # one call for every held post (9,963 posts nationally)
        state,
        rules,
        cadres.loc[ids, "hometown_id"].tolist(),
        cadres.loc[ids, "residence_id"].tolist(),
        posts.loc[held, "unit_id"].tolist(),
    )
    non_local = np.zeros(len(posts), dtype=np.int64)
    non_local[np.nonzero(held)[0]] = ~local
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s, nl in zip(scopes, non_local.tolist(), strict=True):
        n = out[str(s)]
        n[0] += 1
        n[1] += nl
    return {s: (v[0], v[1]) for s, v in sorted(out.items())}


def _check_never_decrease(
    rules: Rules, horizon: Horizon, days: list[dt.date], rolled: RolledRoadmap
) -> list[RoundViolation]:
    """With ``never_decrease``, a scope's non-local count after round k's plan is at least its
    count after round k-1's (the first round is not compared with the starting state)."""
    out: list[RoundViolation] = []
    for t in horizon.trajectory:
        if not t.never_decrease:
            continue
        prev: dict[str, tuple[int, int]] | None = None
        for k, day in enumerate(days):
            counts = non_local_counts(rolled.afters[k], rules, t.position, t.scope_level)
            if prev is not None:
                for s, (n, nl) in counts.items():
                    before = prev.get(s, (0, 0))[1]
                    if nl < before:
                        out.append(
                            _v(
                                day,
                                "never_decrease",
                                f"{t.scope_level} {s} ({rolled.afters[k].unit_name(s)}): {nl} of "
                                f"{n} {t.position} posts have a non-local holder, fewer than "
                                f"the {before} after the previous round ({days[k - 1]})",
                            )
                        )
            prev = counts
    return out


def _target_shares(rules_k: Rules) -> dict[str, list[float]]:
    """position → the non-local shares in force in a round (one per target of that position)."""
    out: dict[str, list[float]] = defaultdict(list)
    for t in rules_k.non_local_targets:
        out[t.position].append(t.min_share)
    return dict(out)


def _check_round_kpis(
    day: dt.date, k: int, entry: Any, start: ProblemData, rules_k: Rules, plan: Plan
) -> list[RoundViolation]:
    """One ``kpis_by_round`` entry against round ``k``'s plan and state (claimed fields only)."""
    where = f"kpis_by_round[{k}]"
    if not isinstance(entry, dict):
        return [_v(day, "claim_kpis", f"{where} is {entry!r}, not an object of KPIs")]
    out: list[RoundViolation] = []
    if "as_of" in entry and entry["as_of"] != day.isoformat():
        out.append(_v(day, "claim_kpis", f"{where}.as_of {entry['as_of']!r}, the round is {day}"))
    if "target_shares" in entry:
        got, want = entry["target_shares"], _target_shares(rules_k)
        right = isinstance(got, dict) and set(got) == set(want)
        right = right and all(any(close(got[p], w, 1e-9) for w in want[p]) for p in want)
        if not right:
            shown = {p: ws[0] if len(ws) == 1 else ws for p, ws in sorted(want.items())}
            out.append(
                _v(
                    day,
                    "claim_kpis",
                    f"{where}.target_shares {got!r}, the shares in force are {shown}",
                )
            )
    facts = plan_facts(ClaimContext(start, rules_k), plan.assignments)
    out += [_v(day, "claim_kpis", f"{where}.{line}") for line in wrong_kpis(facts, entry)]
    return out


def _check_kpis_by_round(
    rules: Rules, horizon: Horizon, parsed: ParsedRoadmap, rolled: RolledRoadmap
) -> list[RoundViolation]:
    """``kpis_by_round``, when the roadmap claims it: one entry per round, each one true."""
    claimed = parsed.kpis_by_round
    if claimed is None or claimed == []:
        return []
    if not isinstance(claimed, list):
        return [_v(None, "claim_kpis", "kpis_by_round must be a list with one entry per round")]
    out: list[RoundViolation] = []
    if len(claimed) != len(parsed.rounds):
        out.append(
            _v(
                None,
                "claim_kpis",
                f"kpis_by_round lists {len(claimed)} entries for {len(parsed.rounds)} rounds",
            )
        )
    for k, (entry, (day, plan)) in enumerate(zip(claimed, parsed.rounds, strict=False)):
        rules_k = round_rules(rules, horizon, k)
        out += _check_round_kpis(day, k, entry, rolled.starts[k], rules_k, plan)
    return out


def validate_roadmap(data: ProblemData, rules: Rules, roadmap: Any) -> list[RoundViolation]:
    """Every broken rule and false claim in ``roadmap`` (a roadmap JSON dict), each with its
    round's date (None for the roadmap as a whole), ordered by round, then rule. Empty = valid.

    Rounds are rolled with the roadmap's own dates when they increase (so each plan is judged
    against the state it was made for even when the list differs from the horizon's, which is
    reported as ``rounds``)."""
    horizon = load_horizon(rules)
    parsed = parse_roadmap(roadmap)
    out: list[RoundViolation] = []
    if parsed.status == "infeasible":
        if not parsed.diagnosis:
            out.append(_v(None, DIAGNOSIS_RULE, "status is infeasible but the diagnosis is empty"))
        return out
    if parsed.diagnosis:
        out.append(
            _v(
                None,
                DIAGNOSIS_RULE,
                f"status is {parsed.status} but the diagnosis lists {len(parsed.diagnosis)} "
                "item(s)",
            )
        )
    out += _check_rounds(parsed, horizon)
    days = [d for d, _ in parsed.rounds]
    if not days or not _increasing(days):
        return sorted(out, key=RoundViolation.sort_key)
    hz = horizon.model_copy(update={"rounds": days})
    rolled = _roll(data, rules, parsed)
    for k, (day, plan) in enumerate(parsed.rounds):
        rules_k = _with_exclusions(round_rules(rules, hz, k), parsed.events_by(k))
        out += [RoundViolation(day, v) for v in validate_plan(rolled.starts[k], rules_k, plan)]
    out += _check_kpis_by_round(rules, hz, parsed, rolled)
    out += _check_min_stay(rules, hz, days, rolled, parsed)
    out += _check_never_decrease(rules, hz, days, rolled)
    return sorted(out, key=RoundViolation.sort_key)


def _with_exclusions(rules_k: Rules, events: list[dict[str, Any]]) -> Rules:
    """A round's rules with the (post, cadre) pairs its events rule out (declines, vacant)."""
    extra = event_exclusions(events)
    return rules_k.model_copy(update={"exclude": [*rules_k.exclude, *extra]}) if extra else rules_k


def format_round_violations(violations: list[RoundViolation]) -> str:
    """One line per violation, prefixed with its round's date."""
    return "\n".join(str(v) for v in violations)
