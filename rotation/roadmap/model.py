"""One CP-SAT model over every round of a term (not round-by-round greedy).

Each round ``k`` is planned with the rules in force then (:func:`round_rules`: as_of = the
round's date, the trajectory's share, the per-round change cap) and with the **same rule rows as
a single plan**: the round's pairs (:mod:`rotation.roadmap.rounds`) get their own pair index and
variables (:class:`~rotation.roadmap.rounds.RoundVariables`), and every producer of
``rotation.model.constraints`` (fill every post, one post per cadre, keep required incumbents,
locks, relatives, non-local targets, change caps) writes its rows over them. What spans rounds
(arrival, continuation, minimum stay, office wait, never decrease) is a named row producer of
:mod:`rotation.roadmap.rows`. A lock or must-keep that cannot hold in a round is therefore a
named, scoped row of that round, so a diagnosis model (``diagnosing=True``) can blame it through
an assumption literal, as a single plan's does.

The state carried from round to round is exactly what the single-round rules read: who holds
what since when, who has retired. Eligibility for a new post is computed at the round's date on
the original data (ages, retirement, ratings carried forward, planning list, travel, province);
an original incumbent may keep the post while below the tenure limit; a cadre who arrived in an
earlier round may continue; cadres retired by the round's date hold nothing.

Objective (:meth:`RoadmapModel.objective`): Σ_k (1 − discount)^k × (travel of every holder /
number of rounds + the rest of the single-plan pair cost on arrival + vacancies), from the single
plan's cost functions (``pair_costs``, ``holding_costs``, ``vacancy_costs``) and weights. Travel is
averaged over the rounds so that a move is weighed against a year of travel, as in a single-round
plan; counted in full it would pay to move dozens of incumbents in the first round only to
shorten commutes. Solver parameters come from :func:`rotation.solve.solver_parameters`.

Two ways to solve it (:func:`solve_roadmap` ``method``): ``exact``, over every eligible
(cadre, post, round) triple with the stint LP's bound and reduced-cost fixing
(:mod:`rotation.roadmap.exact`, ``optimal`` only with a proof; otherwise the best roadmap known,
``feasible``, with the gap); ``candidates``, the fallback kept by name: over every keep pair plus
per post and round the ``CANDIDATES_PER_POST`` cheapest non-local and the same number of
cheapest eligible cadres (by the single-round pair cost) — exact over that set only, so never
``optimal`` (``stats.proven`` false, ``stats.gap_covers``). ``auto`` (the default) is ``exact``:
on Hai Duong it proves its roadmap optimal in seconds, where the candidate model stops at its
limit with a 63% gap (bench/README.md).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from ..data import ProblemData
from ..model import SCALE, holding_costs, pair_costs, vacancy_costs
from ..plan import DiagnosisItem, Plan, plan_from_holders
from ..rules import Rules
from ..solve import Progress, Watcher, solver_parameters
from ..solve.progress import relative_gap
from .horizon import Horizon, round_rules, stay_until
from .rounds import Candidates, RoundPairs, RoundTerms, RoundVariables, round_pairs
from .rows import CROSS_ROUND_RULES, CrossRule, SpanRow, Term, TermIndex
from .state import apply_events, project_ratings, retired_by, roll_forward

CANDIDATES_PER_POST = 8
DIAGNOSE_MAX_TRIPLES = 60_000
"""Up to this many eligible triples the diagnosis across rounds works over every eligible pair;
beyond, over the candidate set (its minimal conflicts take one model per deletion step)."""


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


def proof_line(stats: dict[str, Any]) -> str:
    """One line on what the roadmap's status rests on: "proven optimal over every eligible
    triple", or "not proven: gap X%" (and what the bound covers)."""
    if stats.get("proven"):
        return "Proven optimal over every eligible (cadre, post, round) triple."
    gap = stats.get("gap")
    if gap is None:
        return "Not proven: no bound known."
    covers = stats.get("gap_covers")
    return f"Not proven: gap {gap:.1%}" + (f" (bound over {covers})" if covers else "") + "."


def horizon_of(rules: Rules) -> Horizon:
    return Horizon.model_validate(rules.horizon or {})


# --------------------------------------------------------------------------- solve
def solve_roadmap(
    data: ProblemData,
    rules: Rules,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    previous: dict[str, Any] | None = None,
    candidates_per_post: int = CANDIDATES_PER_POST,
    method: str = "auto",
    previous_weight: float | None = None,
    decompose: bool = True,
) -> RoadmapResult:
    """Plan every round of the horizon at once. ``previous``: an earlier roadmap JSON to stay
    close to (rolling re-plan: each pair it used in a round is rewarded, so the fewest of its
    assignments change). ``method``: ``exact`` (every eligible triple, ``optimal`` only with a
    proof: :mod:`rotation.roadmap.exact`), ``candidates`` (the candidate-set model below, never
    ``optimal``: its proof covers the candidates only), ``auto`` (= ``exact``).
    ``previous_weight``: the reward (objective units, as ``weights.change``) for each
    (cadre, post, round) of ``previous`` kept; ``None``: ``max(weights.change, 1)``. A repair
    (:mod:`rotation.roadmap.repair`) sets it far above any cost, so the fewest triples change.
    ``decompose``: provinces no rule links are solved apart and merged
    (:mod:`rotation.roadmap.province`), exact as well."""
    if method not in ("auto", "exact", "candidates"):
        raise ValueError(f"unknown roadmap method {method!r}: exact, candidates or auto")
    if decompose:
        from .province import roadmap_provinces, solve_roadmap_by_province

        provinces = roadmap_provinces(data, rules)
        if provinces:
            return solve_roadmap_by_province(
                data, rules, provinces, progress, stop, previous, method, previous_weight
            )
    if method in ("auto", "exact"):
        from .exact import solve_roadmap_exact

        return solve_roadmap_exact(data, rules, progress, stop, previous, previous_weight)
    return _solve_candidates(
        data, rules, progress, stop, previous, candidates_per_post, previous_weight
    )


def estimated_triples(data: ProblemData, rules: Rules) -> int:
    """Eligible (cadre, post) pairs of the first round × rounds: the exact model's size."""
    from ..eligibility import compute_eligibility

    h = horizon_of(rules)
    return compute_eligibility(data, round_rules(rules, h, 0)).n_pairs * len(h.rounds)


def _solve_candidates(
    data: ProblemData,
    rules: Rules,
    progress: Progress | None,
    stop: threading.Event | None,
    previous: dict[str, Any] | None,
    candidates_per_post: int,
    previous_weight: float | None = None,
) -> RoadmapResult:
    """The candidate-set model: exact over the candidate pairs only, so never ``optimal``."""
    t0 = time.perf_counter()
    h = horizon_of(rules)
    n_r = len(h.rounds)
    rrules = [round_rules(rules, h, k) for k in range(n_r)]
    # the round-by-round plan is a valid roadmap: its pairs join the candidates and it is the
    # search's starting point (hint), so the horizon model can only improve on it
    greedy = greedy_roadmap(data, rules)
    warm = [p.holder() for _, p in greedy.rounds] if len(greedy.rounds) == n_r else []
    m = build_roadmap_model(
        data, rules, previous, warm, candidates_per_post, previous_weight=previous_weight
    )
    stats: dict[str, Any] = {
        "rounds": n_r,
        "candidate_pairs": len(m.candidates),
        "candidates_per_post": candidates_per_post,
        "exact_over": "the candidate pairs (see rotation/roadmap/rounds.py)",
    }
    if warm:
        m.hint(warm)
        stats["greedy_changes"] = sum(k["changed_posts"] for k in greedy.kpis_by_round)
    stats["build_s"] = round(time.perf_counter() - t0, 3)
    base = m.base
    solver = solver_parameters(rules)
    code = solver.solve(m.cp, Watcher(progress, stop, "roadmap"))
    stats["solve_s"] = round(solver.wall_time, 3)
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
    # OPTIMAL here is a proof over the candidate pairs only, not over every eligible triple
    result = _assemble(base, rules, h, rrules, m.holders(solver), "feasible")
    result.stats.update(stats)
    result.stats["method"] = "candidates"
    result.stats["objective"] = round(solver.objective_value / SCALE, 3)
    result.stats["bound"] = round(solver.best_objective_bound / SCALE, 3)
    result.stats["proven"] = False
    result.stats["gap"] = round(
        relative_gap(solver.objective_value, solver.best_objective_bound), 6
    )
    result.stats["gap_covers"] = "the candidate pairs only"
    result.stats["total_s"] = round(time.perf_counter() - t0, 3)
    return result


def term_pairs(
    base: ProblemData,
    rules: Rules,
    retired: list[set[str]],
    warm: list[dict[str, str | None]] | None,
    candidates_per_post: int | None,
    previous: dict[str, Any] | None = None,
    on_round: Callable[[int], None] | None = None,
) -> tuple[list[RoundPairs], Candidates]:
    """Every round's pairs: the candidates (``None``: every eligible pair), the locks,
    ``warm``'s pairs, ``previous``'s pairs of the same date (so that what an earlier roadmap
    did can be kept) and the continuations; ``on_round(k)`` after round ``k``'s (progress)."""
    h = horizon_of(rules)
    cand = Candidates()
    locks = {(lk.post_id, lk.cadre_id) for lk in rules.locks}
    earlier = _previous_pairs(previous)
    pairs: list[RoundPairs] = []
    for k in range(len(h.rounds)):
        extra = locks | ({(p, c) for p, c in warm[k].items() if c} if warm else set())
        extra |= earlier.get(h.rounds[k].isoformat(), set())
        before = pairs[-1] if pairs else None
        rules_k = round_rules(rules, h, k)
        pairs.append(
            round_pairs(base, rules_k, retired[k], cand, before, candidates_per_post, extra)
        )
        if on_round is not None:
            on_round(k)
    return pairs, cand


def _previous_pairs(previous: dict[str, Any] | None) -> dict[str, set[tuple[str, str]]]:
    """An earlier roadmap's (post, cadre) pairs by round date (ISO)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for rd in (previous or {}).get("rounds", []):
        out[str(rd.get("as_of"))] = {
            (a["post_id"], a["cadre_id"]) for a in rd["plan"]["assignments"] if a.get("cadre_id")
        }
    return out


def build_roadmap_model(
    data: ProblemData,
    rules: Rules,
    previous: dict[str, Any] | None = None,
    warm: list[dict[str, str | None]] | None = None,
    candidates_per_post: int | None = CANDIDATES_PER_POST,
    cross_rules: tuple[CrossRule, ...] = CROSS_ROUND_RULES,
    diagnosing: bool = False,
    previous_weight: float | None = None,
) -> RoadmapModel:
    """The horizon model on ``data`` (ratings projected): each round's pairs (candidates, the
    locks, ``warm``'s pairs, continuations), every single-round rule per round, the
    ``cross_rules`` (all by default) and the objective."""
    h = horizon_of(rules)
    base = project_ratings(data, h.rounds[-1].year)
    retired = [set(retired_by(base, rules, d)) for d in h.rounds]
    pairs, cand = term_pairs(base, rules, retired, warm, candidates_per_post, previous)
    return RoadmapModel(
        base, rules, h, pairs, retired, cand, previous, diagnosing, cross_rules, previous_weight
    )


def pair_of(r: RoundTerms, post_id: str, cadre_id: str | None) -> int | None:
    """The index of the pair (post, cadre) in round ``r``, if it has one."""
    p = r.post_index.get(post_id)
    c = r.cadre_index.get(cadre_id) if cadre_id is not None else None
    return r.pair_index.get((p, c)) if p is not None and c is not None else None


ObjectiveTerm = tuple[int, str, int, int]
"""(round, "hold" | "arrive" | "vacant", pair or post index, integer coefficient)."""


def objective_terms(
    rounds: Sequence[RoundTerms],
    horizon: Horizon,
    rules: Rules,
    previous: dict[str, Any] | None,
    previous_weight: float | None = None,
) -> list[ObjectiveTerm]:
    """Σ_k (1 − discount)^k × (holding costs / rounds + arrival costs + vacancy costs), from
    the single plan's cost functions: a pair's travel (:func:`holding_costs`) is a yearly
    burden paid every round it holds, averaged over the rounds so that a move is weighed
    against one year of travel as in a single plan; the rest of its single-plan cost
    (:func:`pair_costs` − travel: the change and the rewards) is paid when it arrives; a
    vacancy costs what :func:`vacancy_costs` says. ``previous``: each pair the earlier
    roadmap used in a round is rewarded by ``previous_weight`` (default: one change). The CP-SAT model and the LP relaxation
    (:mod:`rotation.roadmap.exact`) both read these terms, so they cannot disagree."""
    n_r = len(rounds)
    out: list[ObjectiveTerm] = []

    def add(k: int, kind: str, j: int, cost: float) -> None:
        c = round(cost)
        if c:
            out.append((k, kind, j, c))

    for k, r in enumerate(rounds):
        f = (1 - horizon.discount) ** k
        hold = holding_costs(r.elig)
        arrive = pair_costs(r.elig) - hold
        for j in range(r.n_pairs):
            add(k, "hold", j, float(hold[j]) * f / n_r)
            if r.can_arrive[j]:
                add(k, "arrive", j, float(arrive[j]) * f)
        if r.allow_vacancies:
            vac = vacancy_costs(r.elig)
            for p in range(len(r.elig.posts)):
                add(k, "vacant", p, float(vac[p]) * f)
    for kp, jp, bonus in previous_rewards(rounds, horizon, rules, previous, previous_weight):
        out.append((kp, "hold", jp, -bonus))
    return out


def previous_rewards(
    rounds: Sequence[RoundTerms],
    horizon: Horizon,
    rules: Rules,
    previous: dict[str, Any] | None,
    previous_weight: float | None = None,
) -> list[tuple[int, int, int]]:
    """(round, pair, reward) for each pair an earlier roadmap used in a round of this horizon:
    ``previous_weight`` objective units (default: one change, ``max(weights.change, 1)``)."""
    if not previous:
        return []
    weight = max(rules.weights.change, 1.0) if previous_weight is None else previous_weight
    bonus = round(weight * SCALE)
    round_of = {d.isoformat(): k for k, d in enumerate(horizon.rounds)}
    out: list[tuple[int, int, int]] = []
    for rd in previous.get("rounds", []):
        kp = round_of.get(str(rd.get("as_of")))
        if kp is None:  # a round already past, or not in this horizon
            continue
        for asg in rd["plan"]["assignments"]:
            jp = pair_of(rounds[kp], asg["post_id"], asg.get("cadre_id"))
            if jp is not None:
                out.append((kp, jp, bonus))
    return out


class RoadmapModel:
    """One CP-SAT model over every round: each round's single-round rule rows over its own
    :class:`RoundVariables`, the cross-round rows of :mod:`rotation.roadmap.rows`, and the
    objective from the single-round cost functions.

    ``diagnosing``: every relaxable row (single-round and cross-round) gets an assumption
    literal, as a single plan's diagnosis model does; :meth:`assumption_names` says which rule
    instance, in which round, each literal stands for.
    """

    def __init__(
        self,
        base: ProblemData,
        rules: Rules,
        horizon: Horizon,
        pairs: list[RoundPairs],
        retired: list[set[str]],
        candidates: Candidates,
        previous: dict[str, Any] | None = None,
        diagnosing: bool = False,
        cross_rules: tuple[CrossRule, ...] = CROSS_ROUND_RULES,
        previous_weight: float | None = None,
    ) -> None:
        self.cp = cp_model.CpModel()
        self.previous_weight = previous_weight
        self.base = base
        self.candidates = candidates
        self.horizon = horizon
        self.rules = rules
        self.rounds = [
            RoundVariables(rp.elig, self.cp, rp.gids, rp.can_arrive, rp.prev, diagnosing)
            for rp in pairs
        ]
        self.term = TermIndex(base, rules, horizon, self.rounds, retired)
        for r in self.rounds:
            r.add_rules()
        for rule in cross_rules:
            for row in rule(self.term):
                self.add_span_row(row)
        self.cp.minimize(self.objective(previous))

    def literal(self, t: Term) -> cp_model.IntVar:
        r = self.rounds[t.round]
        return r.x[t.pair] if t.kind == "hold" else r.arrival(t.pair)

    def add_span_row(self, row: SpanRow) -> None:
        """One cross-round rule instance, recorded (for a diagnosis) in the round it names."""
        expr = cp_model.LinearExpr.weighted_sum(
            [self.literal(t) for t in row.terms], [t.coef for t in row.terms]
        )
        name = (row.rule, row.scope, row.detail)
        self.rounds[row.round].add_bounds(expr, row.lo, row.hi, name, len(row.terms), row.relaxable)

    def objective(self, previous: dict[str, Any] | None) -> cp_model.LinearExpr:
        """The term objective (:func:`objective_terms`) over this model's literals."""
        terms: list[cp_model.IntVar] = []
        coefs: list[int] = []
        terms_ = objective_terms(
            self.rounds, self.horizon, self.rules, previous, self.previous_weight
        )
        for k, kind, j, c in terms_:
            r = self.rounds[k]
            terms.append(
                r.x[j] if kind == "hold" else r.arrival(j) if kind == "arrive" else r.vacant[j]
            )
            coefs.append(c)
        return cp_model.LinearExpr.weighted_sum(terms, coefs)

    def _pair(self, k: int, post_id: str, cadre_id: str | None) -> int | None:
        return pair_of(self.rounds[k], post_id, cadre_id)

    def assumption_names(self) -> dict[int, tuple[dt.date, str, str, str]]:
        """Diagnosis mode: assumption literal index → (round date, rule, scope, detail)."""
        return {
            lit: (day, *name)
            for day, r in zip(self.horizon.rounds, self.rounds, strict=True)
            for lit, name in r.assumptions.items()
        }

    def hint(self, holders: list[dict[str, str | None]]) -> None:
        """Start the search from a known roadmap (post → cadre per round): every holding,
        arrival and vacancy literal is hinted, so the hint is a complete solution."""
        before: set[int | None] = set()
        for k, held in enumerate(holders):
            r = self.rounds[k]
            chosen = {self._pair(k, p, c) for p, c in held.items() if c}
            for j, var in enumerate(r.x):
                self.cp.add_hint(var, j in chosen)
            for j, var in r.arrive.items():
                self.cp.add_hint(var, j in chosen and int(r.prev[j]) not in before)
            for p, var in r.vacant.items():
                self.cp.add_hint(var, not held.get(r.elig.post_id(p)))
            before = chosen

    def holders(self, solver: cp_model.CpSolver) -> list[dict[str, str | None]]:
        out = []
        for r in self.rounds:
            held: dict[str, str | None] = dict.fromkeys(r.elig.posts.index.astype(str))
            for j, var in enumerate(r.x):
                if solver.value(var):
                    held[r.elig.post_id(int(r.elig.pair_post[j]))] = r.elig.cadre_id(
                        int(r.elig.pair_cadre[j])
                    )
            out.append(held)
        return out


# --------------------------------------------------------------------------- output
def _assemble(base, rules, h, rrules, holders, status, events=()) -> RoadmapResult:
    """Each round's plan against the state the earlier rounds leave (rolled with roll_forward);
    ``events``: a repair's events (1-based ``round``), applied at the start of their round as
    the validator applies them (:func:`rotation.roadmap.state.apply_events`)."""
    days = h.rounds
    state = roll_forward(base, rules, Plan(status="feasible"), days[0], days[0])
    result = RoadmapResult(status=status)
    for k, day in enumerate(days):
        now = [e for e in events if int(e["round"]) == k + 1]
        if now:
            state = apply_events(state, now, day)
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
    """Name the first round whose own rules cannot hold, with the single-round diagnosis (for a
    later round, planned after the earlier rounds' round-by-round plans, the horizon's own
    conflicts first when the horizon is small enough to diagnose over every eligible pair: the
    earlier choices may be part of it); else the conflicts across rounds
    (:func:`rotation.diagnose.roadmap.diagnose_horizon`: every eligible pair up to
    ``DIAGNOSE_MAX_TRIPLES``, the candidates beyond); else say the rounds conflict through the
    minimum stay and the trajectory."""
    from ..diagnose.roadmap import diagnose_horizon
    from ..solve import solve

    small = estimated_triples(base, rules) <= DIAGNOSE_MAX_TRIPLES
    state = roll_forward(base, rules, Plan(status="feasible"), h.rounds[0], h.rounds[0])
    for k, day in enumerate(h.rounds):
        res = solve(state, rrules[k], explain=False)
        if res.status == "infeasible":
            alone = [_in_round(d, day) for d in res.diagnosis]
            if k == 0 or not small:
                return alone
            return diagnose_horizon(base, rules, None) or alone
        if not res.plans:
            break
        nxt = h.rounds[k + 1] if k + 1 < len(h.rounds) else None
        state = roll_forward(state, rules, res.plans[0], day, nxt)
    across = diagnose_horizon(base, rules, None if small else CANDIDATES_PER_POST)
    if across:  # conflicts only the rounds together have
        return across
    return [
        DiagnosisItem(
            rule="min_stay+trajectory",
            scope="roadmap",
            detail="each round can be planned on its own, but not all together: the minimum stay of "
            f"{h.min_stay_years:g} years, released cadres' waiting time and the trajectory "
            "conflict across rounds (or among the candidate pairs considered)",
        )
    ]


def _in_round(d: DiagnosisItem, day: dt.date) -> DiagnosisItem:
    """A single-round diagnosis item as the round's: its year before the details, ``round``."""
    fields = d.model_dump()
    fields["detail"] = f"{day.year}: {d.detail}"
    if fields.get("detail_vi"):
        fields["detail_vi"] = f"{day.year}: {fields['detail_vi']}"
    fields["round"] = day.isoformat()
    return DiagnosisItem.model_validate(fields)


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


__all__ = [
    "RoadmapModel",
    "RoadmapResult",
    "build_roadmap_model",
    "greedy_roadmap",
    "horizon_of",
    "proof_line",
    "solve_roadmap",
]
