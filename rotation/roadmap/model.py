"""One CP-SAT model over every round of a term (not round-by-round greedy).

Variables: ``y[k, i]`` — candidate pair ``i`` (cadre, post) holds in round ``k``; ``a[k, i]`` —
the cadre *arrives* at the post in round ``k``. The state carried from round to round is exactly
what the single-round rules read: who holds what since when, who has retired.

Per round ``k`` (rules of the round from :func:`round_rules`: as_of = the round's date, the
trajectory's share, the per-round change cap):

- eligibility for a new post is computed at the round's date on the original data (ages,
  retirement, ratings carried forward, planning list, travel, province); an original incumbent
  may keep the post while below the tenure limit; a cadre who arrived in an earlier round may
  continue (continuation only);
- cadres retired by the round's date hold nothing (their posts fall vacant and are filled);
- every post filled, one post per cadre, not-movable / minimum-tenure incumbents keep their post,
  relatives never lead the same unit, non-local target per scope, changes per scope;
- across rounds: a newcomer stays ``min_stay_years``; a cadre released to an office waits
  ``min_years_in_post`` before a new post (their office tenure restarts); with
  ``never_decrease`` the non-local count of a scope never falls from one round to the next.

Objective: Σ_k (1 − discount)^k × (travel of every holder / number of rounds + change weight ×
arrivals − rewards for arrivals), with the single-round weights and units. Travel is averaged over
the rounds so that a move is weighed against a year of travel, as in a single-round plan; counted
in full it would pay to move dozens of incumbents in the first round only to shorten commutes.

Candidate pairs: every keep pair, plus per post and round the ``CANDIDATES_PER_POST`` cheapest
non-local and the same number of cheapest eligible cadres (by the single-round pair cost). The
model is exact over that candidate set, not over all pairs (stated in the result's stats).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..concepts import relative_pairs, years_between
from ..data import ProblemData
from ..eligibility import compute_eligibility
from ..model import SCALE, pair_costs
from ..plan import DiagnosisItem, Plan, plan_from_holders
from ..rules import Rules
from ..solve import Progress, Watcher
from .horizon import Horizon, round_rules, stay_until
from .state import project_ratings, retired_by, roll_forward

CANDIDATES_PER_POST = 8


@dataclass
class RoadmapResult:
    status: str
    rounds: list[tuple[dt.date, Plan]] = field(default_factory=list)
    kpis_by_round: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: list[DiagnosisItem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rounds": [
                {"as_of": d.isoformat(), "plan": p.model_dump(mode="json")} for d, p in self.rounds
            ],
            "kpis_by_round": self.kpis_by_round,
            "diagnosis": [d.model_dump(mode="json") for d in self.diagnosis],
            "stats": {k: v for k, v in self.stats.items() if not k.startswith("_")},
        }


def horizon_of(rules: Rules) -> Horizon:
    return Horizon.model_validate(rules.horizon or {})


# --------------------------------------------------------------------------- candidates
@dataclass
class _Cand:
    """The candidate pairs over all rounds, with per-round flags."""

    post: list[str] = field(default_factory=list)
    cadre: list[str] = field(default_factory=list)
    index: dict[tuple[str, str], int] = field(default_factory=dict)
    km: list[float] = field(default_factory=list)
    non_local: list[bool] = field(default_factory=list)
    orig: list[bool] = field(default_factory=list)  # the original incumbent's own post
    new_ok: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # round -> i
    keep_ok: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    cost: dict[tuple[int, int], int] = field(default_factory=dict)  # (round, i) -> scaled cost

    def add(self, post: str, cadre: str, km: float, nl: bool, orig: bool) -> int:
        key = (post, cadre)
        i = self.index.get(key)
        if i is None:
            i = len(self.post)
            self.index[key] = i
            self.post.append(post)
            self.cadre.append(cadre)
            self.km.append(km)
            self.non_local.append(nl)
            self.orig.append(orig)
        return i


# --------------------------------------------------------------------------- solve
def solve_roadmap(
    data: ProblemData,
    rules: Rules,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    previous: dict[str, Any] | None = None,
    candidates_per_post: int = CANDIDATES_PER_POST,
) -> RoadmapResult:
    """Plan every round of the horizon at once. ``previous``: an earlier roadmap JSON to stay
    close to (rolling re-plan: each pair it used in a round is rewarded, so the fewest of its
    assignments change)."""
    t0 = time.perf_counter()
    h = horizon_of(rules)
    days = h.rounds
    n_r = len(days)
    base = project_ratings(data, days[-1].year)
    rrules = [round_rules(rules, h, k) for k in range(n_r)]
    retired = [set(retired_by(base, rules, d)) for d in days]
    # the round-by-round plan is a valid roadmap: its pairs join the candidates and it is the
    # search's starting point (hint), so the horizon model can only improve on it
    greedy = greedy_roadmap(data, rules)
    warm = [p.holder() for _, p in greedy.rounds] if len(greedy.rounds) == n_r else []
    cand = _Cand()
    musts: list[dict[str, str]] = []  # round -> post -> cadre that must keep it
    posts_in_scope = None
    for k in range(n_r):
        e = compute_eligibility(base, rrules[k])
        if posts_in_scope is None:
            posts_in_scope = e.posts
        costs = pair_costs(e)
        new = ~e.pair_keep
        pick = e.pair_keep | e.cheapest_per_post(costs, candidates_per_post, new)
        pick |= e.cheapest_per_post(costs, candidates_per_post, new & e.pair_non_local)
        pick |= e.pairs_in({(lk.post_id, lk.cadre_id) for lk in rules.locks})
        pids = e.posts.index.to_numpy()
        cids = base.cadres.index.to_numpy()
        if warm:
            pick |= e.pairs_in({(p, c) for p, c in warm[k].items() if c})
        for j in np.nonzero(pick)[0].tolist():
            pid, cid = str(pids[e.pair_post[j]]), str(cids[e.pair_cadre[j]])
            if cid in retired[k]:
                continue
            keep = bool(e.pair_keep[j])
            i = cand.add(pid, cid, float(e.pair_km[j]), bool(e.pair_non_local[j]), keep)
            (cand.keep_ok if keep else cand.new_ok)[k].add(i)
            cand.cost[(k, i)] = int(costs[j])
        musts.append(
            {
                e.post_id(p): e.cadre_id(c)
                for p, c in e.must_keep.items()
                if e.cadre_id(c) not in retired[k]
            }
        )
    assert posts_in_scope is not None
    # original incumbents' keep pairs may be missing from a round's pick if over tenure: fine.
    stats: dict[str, Any] = {
        "rounds": n_r,
        "candidate_pairs": len(cand.post),
        "candidates_per_post": candidates_per_post,
        "exact_over": "the candidate pairs (see rotation/roadmap/model.py)",
    }
    m = _RoadmapModel(base, rules, h, rrules, cand, musts, retired, posts_in_scope, previous)
    if warm:
        m.hint(warm)
        stats["greedy_changes"] = sum(k["changed_posts"] for k in greedy.kpis_by_round)
    stats["build_s"] = round(time.perf_counter() - t0, 3)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(rules.time_limit_s)
    solver.parameters.num_workers = rules.workers
    solver.parameters.random_seed = rules.seed

    code = solver.Solve(m.cp, Watcher(progress, stop, "roadmap"))
    stats["solve_s"] = round(solver.WallTime(), 3)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = "infeasible" if code == cp_model.INFEASIBLE else "unknown"
        # a diagnosis is for a proven impossibility; a time-out only says so in the stats
        diag = _diagnose_rounds(base, rules, h, rrules) if status == "infeasible" else []
        if status == "unknown":
            stats["message"] = (
                f"no roadmap found within {rules.time_limit_s:g} s; raise time_limit_s"
            )
        stats["total_s"] = round(time.perf_counter() - t0, 3)
        return RoadmapResult(status=status, diagnosis=diag, stats=stats)
    status = "optimal" if code == cp_model.OPTIMAL else "feasible"
    holders = m.holders(solver)
    result = _assemble(base, rules, h, rrules, holders, status)
    result.stats.update(stats)
    result.stats["objective"] = round(solver.ObjectiveValue() / SCALE, 3)
    result.stats["bound"] = round(solver.BestObjectiveBound() / SCALE, 3)
    result.stats["total_s"] = round(time.perf_counter() - t0, 3)
    return result


class _RoadmapModel:
    def __init__(self, base, rules, h, rrules, cand, musts, retired, posts, previous) -> None:
        self.cp = cp = cp_model.CpModel()
        self.cand = cand
        n_r = len(h.rounds)
        days = h.rounds
        self.posts = list(posts.index)
        incumbent = posts["incumbent_id"].to_dict()
        # which (round, i) exist: new_ok, keep_ok, or continuation of a non-original pair
        exists: list[set[int]] = []
        for k in range(n_r):
            s = set(cand.new_ok[k]) | set(cand.keep_ok[k])
            if k:
                s |= {
                    i for i in exists[k - 1] if not cand.orig[i] and cand.cadre[i] not in retired[k]
                }
            exists.append(s)
        self.y = [{i: cp.NewBoolVar("") for i in sorted(exists[k])} for k in range(n_r)]
        self.a: list[dict[int, Any]] = [{} for _ in range(n_r)]
        y, a = self.y, self.a
        by_post: list[dict[str, list[int]]] = [defaultdict(list) for _ in range(n_r)]
        by_cadre: list[dict[str, list[int]]] = [defaultdict(list) for _ in range(n_r)]
        for k in range(n_r):
            for i in y[k]:
                by_post[k][cand.post[i]].append(i)
                by_cadre[k][cand.cadre[i]].append(i)
        vac = rules.allow_vacancies
        self.vacant = [
            {p: cp.NewBoolVar("") for p in self.posts} if vac else {} for _ in range(n_r)
        ]
        disc = [(1 - h.discount) ** k for k in range(n_r)]
        w = rules.weights
        obj_terms: list[tuple[Any, int]] = []
        held_before = {c: 1 for c in incumbent.values() if isinstance(c, str)}
        for k in range(n_r):
            for i, var in y[k].items():
                prev = y[k - 1].get(i) if k else None
                was = 1 if (k == 0 and cand.orig[i]) else 0
                # continuation-only pairs (neither new nor keep eligible) need the pair before
                if i not in cand.new_ok[k] and i not in cand.keep_ok[k]:
                    cp.Add(var <= (prev if prev is not None else 0))
                if cand.orig[i] and k and i not in cand.new_ok[k]:
                    cp.Add(var <= (prev if prev is not None else 0))  # no return to a left post
                if not (cand.orig[i] and k == 0):
                    arr = cp.NewBoolVar("")
                    a[k][i] = arr
                    if prev is not None:
                        cp.Add(arr >= var - prev)
                        cp.Add(arr <= 1 - prev)
                    elif not was:
                        cp.Add(arr == var)
                    cp.Add(arr <= var)
                # objective: travel of every holder each round, change and rewards on arrival
                km_cost = round(w.travel_km * cand.km[i] * SCALE)
                single = cand.cost.get((k, i))
                arrival_cost = (
                    (single - round(w.travel_km * cand.km[i] * SCALE))
                    if single is not None and i in cand.new_ok[k]
                    else round(w.change * SCALE)
                )
                f = disc[k]
                # travel is a yearly burden: averaged over the rounds, so a move is weighed
                # against one year of travel, as in a single-round plan
                obj_terms.append((var, round(km_cost * f / n_r)))
                if i in a[k]:
                    obj_terms.append((a[k][i], round(arrival_cost * f)))
            for p in self.posts:
                terms = [y[k][i] for i in by_post[k].get(p, [])]
                if vac:
                    cp.Add(sum(terms) + self.vacant[k][p] == 1)
                    obj_terms.append(
                        (self.vacant[k][p], round((w.vacancy + w.change) * SCALE * disc[k]))
                    )
                else:
                    cp.Add(sum(terms) == 1)
            for _, ks in by_cadre[k].items():
                if len(ks) > 1:
                    cp.AddAtMostOne(y[k][i] for i in ks)
            for p, c in musts[k].items():
                i = cand.index.get((p, c))
                if i is None or i not in y[k]:
                    cp.AddBoolOr([])  # must keep, but may not: infeasible
                else:
                    cp.Add(y[k][i] == 1)
            for lk in rrules[k].locks:  # a lock holds in every round
                i = cand.index.get((lk.post_id, lk.cadre_id))
                if i is None or i not in y[k]:
                    cp.AddBoolOr([])
                else:
                    cp.Add(y[k][i] == 1)
            # targets, change caps and relatives of the round
            self._targets(base, rrules[k], k, by_post[k])
            self._change_cap(base, rrules[k], k, by_post[k])
            self._relatives(base, rrules[k], k)
        # minimum stay of newcomers
        for k in range(n_r):
            for i, arr in a[k].items():
                for k2 in range(k + 1, n_r):
                    if days[k2] >= stay_until(days[k], h.min_stay_years):
                        break
                    if cand.cadre[i] in retired[k2]:
                        break
                    nxt = y[k2].get(i)
                    cp.Add((nxt if nxt is not None else 0) >= arr)
        # released to an office: no new post before min_years_in_post
        cadres = sorted(set(cand.cadre))
        for c in cadres:
            for k in range(n_r):
                if c in retired[k]:
                    break
                now = [y[k][i] for i in by_cadre[k].get(c, [])]
                before = (
                    [y[k - 1][i] for i in by_cadre[k - 1].get(c, [])]
                    if k
                    else [held_before.get(c, 0)]
                )
                if not any(not isinstance(b, int) for b in before) and sum(before) == 0:
                    continue
                rel = cp.NewBoolVar("")
                cp.Add(rel >= sum(before) - sum(now))
                planned = base.cadres.at[c, "planned_positions"]
                for k2 in range(k + 1, n_r):
                    waiting = years_between(days[k], days[k2]) < rules.min_years_in_post - 1e-9
                    # back in an office, a lateral move no longer exists: the planning list rules
                    arrivals = [
                        a[k2][i]
                        for i in by_cadre[k2].get(c, [])
                        if i in a[k2]
                        and (waiting or base.posts.at[cand.post[i], "position"] not in planned)
                    ]
                    if arrivals:
                        cp.Add(sum(arrivals) <= 1 - rel)
        # never decrease
        self._never_decrease(base, h, by_post)
        # rolling re-plan: reward staying with the previous roadmap's pairs
        if previous:
            bonus = round(max(w.change, 1.0) * SCALE)
            round_of = {d.isoformat(): k for k, d in enumerate(days)}
            for rd in previous.get("rounds", []):
                k = round_of.get(str(rd.get("as_of")))
                if k is None:  # a round already past, or not in this horizon
                    continue
                for asg in rd["plan"]["assignments"]:
                    i = cand.index.get((asg["post_id"], asg.get("cadre_id")))
                    if i is not None and i in y[k]:
                        obj_terms.append((y[k][i], -bonus))
        cp.Minimize(sum(c * v for v, c in obj_terms if c))

    def _scope_groups(self, base: ProblemData, position: str, level: str) -> dict[str, list[str]]:
        posts = [p for p in self.posts if base.posts.at[p, "position"] == position]
        scopes = base.scope_of([base.posts.at[p, "unit_id"] for p in posts], level).tolist()
        groups: dict[str, list[str]] = defaultdict(list)
        for p, s in zip(posts, scopes, strict=True):
            groups[s].append(p)
        return groups

    def _targets(self, base, rules_k, k, by_post) -> None:
        for t in rules_k.non_local_targets:
            for scope, posts in sorted(self._scope_groups(base, t.position, t.scope_level).items()):
                need = t.required(len(posts), scope)
                if need <= 0:
                    continue
                terms = [
                    self.y[k][i]
                    for p in posts
                    for i in by_post.get(p, [])
                    if self.cand.non_local[i]
                ]
                self.cp.Add(sum(terms) >= need)

    def _change_cap(self, base, rules_k, k, by_post) -> None:
        mc = rules_k.max_changes
        if mc is None:
            return
        groups: dict[str, list[str]] = defaultdict(list)
        scopes = base.scope_of([base.posts.at[p, "unit_id"] for p in self.posts], mc.scope_level)
        for p, s in zip(self.posts, scopes.tolist(), strict=True):
            groups[s].append(p)
        for _, posts in sorted(groups.items()):
            terms = [self.a[k][i] for p in posts for i in by_post.get(p, []) if i in self.a[k]]
            if self.vacant[k]:
                terms += [self.vacant[k][p] for p in posts]
            self.cp.Add(sum(terms) <= mc.count)

    def _relatives(self, base, rules_k, k) -> None:
        if not rules_k.forbid_relatives_same_unit or base.relations.empty:
            return
        unit_of = {p: base.posts.at[p, "unit_id"] for p in self.posts}
        at: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i in self.y[k]:
            at[(self.cand.cadre[i], unit_of[self.cand.post[i]])].append(i)
        fixed: dict[str, set[str]] = defaultdict(set)
        out = base.posts[~base.posts.index.isin(self.posts)]
        for u, inc in zip(out["unit_id"], out["incumbent_id"], strict=True):
            if isinstance(inc, str):
                fixed[u].add(inc)
        units = sorted(set(unit_of.values()))
        for pair in sorted(relative_pairs(base), key=sorted):
            a_, b_ = sorted(pair)
            for u in units:
                ka, kb = at.get((a_, u), []), at.get((b_, u), [])
                nfix = len({a_, b_} & fixed.get(u, set()))
                if nfix >= 2 or (nfix == 0 and (not ka or not kb)) or not (ka or kb):
                    continue
                self.cp.Add(sum(self.y[k][i] for i in ka + kb) <= 1 - nfix)

    def _never_decrease(self, base, h: Horizon, by_post) -> None:
        for t in h.trajectory:
            if not t.never_decrease:
                continue
            for _, posts in sorted(self._scope_groups(base, t.position, t.scope_level).items()):
                counts = [
                    sum(
                        self.y[k][i]
                        for p in posts
                        for i in by_post[k].get(p, [])
                        if self.cand.non_local[i]
                    )
                    for k in range(len(h.rounds))
                ]
                for k in range(1, len(counts)):
                    self.cp.Add(counts[k] >= counts[k - 1])

    def hint(self, holders: list[dict[str, str | None]]) -> None:
        """Start the search from a known roadmap (post → cadre per round)."""
        for k, held in enumerate(holders):
            chosen = {self.cand.index.get((p, c)) for p, c in held.items() if c}
            for i, var in self.y[k].items():
                self.cp.AddHint(var, i in chosen)

    def holders(self, solver: cp_model.CpSolver) -> list[dict[str, str | None]]:
        out = []
        for k in range(len(self.y)):
            held: dict[str, str | None] = dict.fromkeys(self.posts)
            for i, var in self.y[k].items():
                if solver.Value(var):
                    held[self.cand.post[i]] = self.cand.cadre[i]
            out.append(held)
        return out


# --------------------------------------------------------------------------- output
def _assemble(base, rules, h, rrules, holders, status) -> RoadmapResult:
    """Each round's plan against the state the earlier rounds leave (rolled with roll_forward)."""
    days = h.rounds
    state = roll_forward(base, rules, Plan(status="feasible"), days[0], days[0])
    result = RoadmapResult(status=status)
    for k, day in enumerate(days):
        rk = rrules[k]
        plan = plan_from_holders(state, rk, holders[k], status)
        result.rounds.append((day, plan))
        kp = plan.kpis.model_dump(mode="json") if plan.kpis else {}
        kp["as_of"] = day.isoformat()
        kp["target_shares"] = {t.position: t.min_share for t in rk.non_local_targets}
        result.kpis_by_round.append(kp)
        nxt = days[k + 1] if k + 1 < len(days) else None
        state = roll_forward(state, rules, plan, day, nxt)
    return result


def _diagnose_rounds(base, rules, h, rrules) -> list[DiagnosisItem]:
    """Name the first round whose own rules cannot hold, with the single-round diagnosis; else
    say the rounds conflict through the minimum stay and the trajectory."""
    from ..solve import solve

    state = roll_forward(base, rules, Plan(status="feasible"), h.rounds[0], h.rounds[0])
    for k, day in enumerate(h.rounds):
        res = solve(state, rrules[k], explain=False)
        if res.status == "infeasible":
            return [
                DiagnosisItem(
                    rule=d.rule,
                    scope=d.scope,
                    detail=f"{day.year}: {d.detail}",
                    round=day.isoformat(),
                )
                for d in res.diagnosis
            ]
        if not res.plans:
            break
        nxt = h.rounds[k + 1] if k + 1 < len(h.rounds) else None
        state = roll_forward(state, rules, res.plans[0], day, nxt)
    return [
        DiagnosisItem(
            rule="min_stay+trajectory",
            scope="roadmap",
            detail="each round can be planned on its own, but not all together: the minimum stay of "
            f"{h.min_stay_years:g} years, released cadres' waiting time and the trajectory "
            "conflict across rounds (or among the candidate pairs considered)",
        )
    ]


# --------------------------------------------------------------------------- greedy baseline
def greedy_roadmap(data: ProblemData, rules: Rules) -> RoadmapResult:
    """Round by round with the single-round optimiser (each round optimal on its own, blind to
    the next): the baseline the horizon model is measured against. The minimum stay is kept by
    locking newcomers in place until it has passed."""
    from ..solve import solve

    t0 = time.perf_counter()
    h = horizon_of(rules)
    base = project_ratings(data, h.rounds[-1].year)
    state = roll_forward(base, rules, Plan(status="feasible"), h.rounds[0], h.rounds[0])
    result = RoadmapResult(status="optimal")
    arrived: dict[str, tuple[str, dt.date]] = {}
    floors: dict[str, dict[str, int]] = {}
    for k, day in enumerate(h.rounds):
        rk = round_rules(rules, h, k)
        locks = [
            {"post_id": p, "cadre_id": c}
            for c, (p, since) in sorted(arrived.items())
            if day < stay_until(since, h.min_stay_years)
            and c in state.cadres.index
            and state.posts.at[p, "incumbent_id"] == c
        ]
        rk = Rules.model_validate(
            {**rk.model_dump(), "locks": [*(lk.model_dump() for lk in rk.locks), *locks]}
        )
        if floors:  # never_decrease: at least the previous round's count in each scope
            rk = Rules.model_validate(
                {
                    **rk.model_dump(),
                    "non_local_targets": [
                        {**t.model_dump(), "min_count_by_scope": floors.get(t.position, {})}
                        for t in rk.non_local_targets
                    ],
                }
            )
        res = solve(state, rk, explain=False)
        if not res.plans:
            result.status = res.status
            result.diagnosis = [
                DiagnosisItem(rule=d.rule, scope=d.scope, detail=f"{day.year}: {d.detail}")
                for d in res.diagnosis
            ]
            break
        plan = res.plans[0]
        if plan.status != "optimal":
            result.status = "feasible"
        for a in plan.assignments:
            if a.changed and a.cadre_id:
                arrived[a.cadre_id] = (a.post_id, day)
        floors = {
            t.position: _non_local_counts(state, t.scope_level, plan, t.position)
            for t in h.trajectory
            if t.never_decrease
        }
        result.rounds.append((day, plan))
        kp = plan.kpis.model_dump(mode="json") if plan.kpis else {}
        kp["as_of"] = day.isoformat()
        result.kpis_by_round.append(kp)
        nxt = h.rounds[k + 1] if k + 1 < len(h.rounds) else None
        state = roll_forward(state, rules, plan, day, nxt)
    result.stats["total_s"] = round(time.perf_counter() - t0, 3)
    return result


def _non_local_counts(state: ProblemData, level: str, plan: Plan, position: str) -> dict[str, int]:
    """Non-local holders per scope unit after ``plan`` (its own non_local flags)."""
    rows = [a for a in plan.assignments if a.position == position]
    scopes = state.scope_of([a.unit_id for a in rows], level).tolist()
    out: dict[str, int] = {}
    for a, s in zip(rows, scopes, strict=True):
        out[s] = out.get(s, 0) + int(bool(a.cadre_id) and a.non_local)
    return out


__all__ = ["RoadmapResult", "greedy_roadmap", "horizon_of", "solve_roadmap"]
