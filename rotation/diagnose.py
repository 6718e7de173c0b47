"""Why no plan exists, in a planner's words.

1. Pre-checks on the eligibility: a post nobody may hold; an incumbent who must both stay and go;
   a lock on a refused pair; a non-local target with too few eligible non-local cadres.
2. Otherwise the model is rebuilt with one assumption literal per rule instance (a rule at one
   post, cadre or scope); CP-SAT returns a conflicting subset, which is shrunk to a minimal one by
   deletion. When a non-local target is in the conflict, the best share reachable in that scope
   (all other rules kept) is reported as well.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
from ortools.sat.python import cp_model

from .eligibility import Eligibility
from .model import build_model
from .model.index import PairIndex
from .plan import DiagnosisItem
from .rules import Rules


def _post_label(e: Eligibility, p: int) -> str:
    row = e.posts.iloc[p]
    return f"{e.data.unit_name(row['unit_id'])}: {row['position']} post {e.post_id(p)}"


def _cadre_label(e: Eligibility, c: int) -> str:
    cid = e.cadre_id(c)
    return f"{e.data.cadre_name(cid)} ({cid})"


def _refusal_summary(e: Eligibility, p: int, limit: int = 40) -> str:
    """The rules that refuse the nearest cadres of the post's province, counted."""
    data = e.data
    post_id = e.post_id(p)
    unit = e.posts.iloc[p]["unit_id"]
    prov = data.units.at[unit, "province_id"]
    cand = data.cadres.index[
        data.units["province_id"].reindex(data.cadres["current_unit_id"]).to_numpy() == prov
    ]
    counts: Counter[str] = Counter()
    for cid in cand[:limit]:
        for rule, _ in e.why_not(str(cid), post_id)[:1]:
            counts[rule] += 1
    return ", ".join(f"{r} ({n})" for r, n in counts.most_common())


def precheck(e: Eligibility, rules: Rules) -> list[DiagnosisItem]:
    """Conflicts visible before any search."""
    items: list[DiagnosisItem] = []
    has_pair = np.zeros(len(e.posts), dtype=bool)
    has_pair[e.pair_post] = True
    for p, c in sorted(e.must_keep.items()):
        if p in e.over_tenure:
            tenure = e.facts["tenure_years"].iat[c]
            reason = e.must_keep_reason[p]
            why = (
                "is not movable"
                if reason == "not_movable"
                else (f"has {tenure:.1f} years in post (minimum {rules.min_years_in_post:g})")
            )
            items.append(
                DiagnosisItem(
                    rule=f"{reason}+maximum_tenure",
                    scope=e.post_id(p),
                    detail=f"{_post_label(e, p)}: {_cadre_label(e, c)} {why} and must stay, but has "
                    f"reached the maximum of {rules.max_years_in_post:g} years and must leave",
                )
            )
    if not rules.allow_vacancies:
        for p in np.nonzero(~has_pair)[0].tolist():
            items.append(
                DiagnosisItem(
                    rule="fill_every_post",
                    scope=e.post_id(p),
                    detail=f"{_post_label(e, p)}: no cadre may take this post; nearest cadres are "
                    f"refused by {_refusal_summary(e, p) or 'no candidates in the province'}",
                )
            )
    for lock in rules.locks:
        if lock.post_id not in e.posts.index or lock.cadre_id not in e.data.cadres.index:
            items.append(
                DiagnosisItem(
                    rule="lock",
                    scope=lock.post_id,
                    detail=f"lock {lock.cadre_id} → {lock.post_id}: unknown post or cadre, or the "
                    "post is outside the plan's positions",
                )
            )
            continue
        reasons = e.why_not(lock.cadre_id, lock.post_id)
        if reasons:
            p = int(e.posts.index.get_loc(lock.post_id))
            items.append(
                DiagnosisItem(
                    rule="lock+" + reasons[0][0],
                    scope=lock.post_id,
                    detail=f"{_post_label(e, p)}: locked to {e.data.cadre_name(lock.cadre_id)} "
                    f"({lock.cadre_id}), but " + "; ".join(d for _, d in reasons),
                )
            )
    items += _target_prechecks(e, rules)
    items += _change_cap_prechecks(e, rules)
    return items


def _forced_changes(e: Eligibility, scope_level: str) -> dict[str, int]:
    """Posts per scope whose incumbent must leave (maximum tenure): changes no plan can avoid."""
    out: dict[str, int] = {}
    if not e.over_tenure:
        return out
    posts = sorted(e.over_tenure)
    units = e.posts["unit_id"].to_numpy()[posts]
    for s in e.data.scope_of(list(units), scope_level):
        out[s] = out.get(s, 0) + 1
    return out


def _change_cap_prechecks(e: Eligibility, rules: Rules) -> list[DiagnosisItem]:
    """A change cap below the number of incumbents who must leave for the tenure limit."""
    return [
        DiagnosisItem(
            rule="max_changes+maximum_tenure",
            scope=scope,
            detail=f"{e.data.unit_name(scope)}: at most {mc.cap(scope)} changes allowed, but "
            f"{n} incumbents have reached the maximum of {rules.max_years_in_post:g} years in "
            "post and must leave",
        )
        for mc in rules.change_caps
        for scope, n in sorted(_forced_changes(e, mc.scope_level).items())
        if n > mc.cap(scope)
    ]


def _target_prechecks(e: Eligibility, rules: Rules) -> list[DiagnosisItem]:
    """A target needing more non-local holders than there are eligible non-local cadres."""
    items = []
    v_like = PairIndex(e)
    for t in rules.non_local_targets:
        for scope, posts, required in v_like.target_groups(t):
            mask = np.isin(e.pair_post, posts) & e.pair_non_local
            cadres = np.unique(e.pair_cadre[mask])
            reachable = min(len(cadres), len(posts))
            if reachable < required:
                stay = int((e.pair_keep[mask]).sum())
                movers = len(cadres) - stay
                where = (
                    f"living within {rules.max_travel_km:g} km"
                    if rules.max_travel_km is not None
                    else "who pass every rule"
                )
                items.append(
                    DiagnosisItem(
                        rule="non_local_target",
                        scope=scope,
                        detail=f"{e.data.unit_name(scope)}: {t.min_share:.0%} non-local needs "
                        f"{required} of {len(posts)} {t.position} posts, but only "
                        f"{len(cadres)} non-local holder{'s' if len(cadres) != 1 else ''} "
                        f"can be found: {stay} non-local incumbent{'s' if stay != 1 else ''} "
                        f"who may stay and {movers} eligible cadre{'s' if movers != 1 else ''} "
                        f"{where}",
                        best_share=round(reachable / len(posts), 4),
                    )
                )
    return items


def diagnose(e: Eligibility, rules: Rules, time_limit_s: float = 20.0) -> list[DiagnosisItem]:
    """The smallest set of rule instances in conflict, in words (never empty)."""
    items = precheck(e, rules)
    if items:
        return items
    core = _minimal_core(e, rules, time_limit_s)
    if not core:
        return [
            DiagnosisItem(
                rule="unknown",
                scope="plan",
                detail="the rules cannot all hold together, but the solver could "
                "not isolate which within the time limit",
            )
        ]
    out = []
    for rule, scope, detail in core:
        item = DiagnosisItem(
            rule=rule, scope=scope, detail=_sentence(e, rules, rule, scope, detail)
        )
        if rule == "non_local_target":
            best = _best_share(e, rules, scope)
            if best is not None:
                item.best_share = best
                item.detail += f" (best reachable under the other rules: {best:.0%})"
        out.append(item)
    return out


def _sentence(e: Eligibility, rules: Rules, rule: str, scope: str, detail: str) -> str:
    data = e.data
    name = data.unit_name(scope) if scope in data.units.index else scope
    if scope in e.posts.index:
        name = _post_label(e, int(e.posts.index.get_loc(scope)))
    level = str(data.units.at[scope, "level"]) if scope in data.units.index else ""
    forced = _forced_changes(e, level).get(scope, 0) if rules.change_caps and level else 0
    texts = {
        "non_local_target": f"{name}: target {detail}",
        "never_below_current": f"{name}: {detail}, and the plan may not lower that number",
        "max_changes": f"{name}: {detail} per {level}"
        + (f" ({forced} of them already forced by the tenure limit)" if forced else ""),
        "fill_every_post": f"{name}: must be filled",
        "relatives_same_unit": f"{name}: relatives {detail.replace(' at ' + scope, '')} may not "
        "both lead it",
        "not_movable": f"{name}: {detail} (not movable)",
        "minimum_tenure": f"{name}: {detail} (under {rules.min_years_in_post:g} years in post)",
        "lock": f"{name}: lock {detail}",
    }
    return texts.get(rule, f"{name}: {detail}")


def _minimal_core(e: Eligibility, rules: Rules, time_limit_s: float) -> list[tuple[str, str, str]]:
    v = build_model(e, diagnosing=True, objective=False)
    registry = v.assumptions
    lits = {i: v.cp.get_bool_var_from_proto_index(i) for i in registry}

    def infeasible(active: list[int], limit: float) -> tuple[bool, list[int]]:
        v.cp.clear_assumptions()
        v.cp.add_assumptions([lits[i] for i in active])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = limit
        solver.parameters.random_seed = rules.seed
        code = solver.Solve(v.cp)
        if code == cp_model.INFEASIBLE:
            return True, list(solver.SufficientAssumptionsForInfeasibility())
        return False, []

    t_end = time.perf_counter() + time_limit_s
    ok, core = infeasible(sorted(registry), time_limit_s / 2)
    if not ok:
        return []
    core = sorted(set(core)) or sorted(registry)
    # shrink by deletion: drop each instance the conflict does not need
    i = 0
    while i < len(core) and time.perf_counter() < t_end:
        trial = core[:i] + core[i + 1 :]
        per = max(0.2, (t_end - time.perf_counter()) / max(1, len(core) - i))
        still, sub = infeasible(trial, per)
        if still:
            core = sorted(set(sub) & set(trial)) or trial
        else:
            i += 1
    return [registry[i] for i in core]


def _best_share(e: Eligibility, rules: Rules, scope: str) -> float | None:
    """Best non-local share reachable in ``scope`` with every rule but the targets kept."""
    v = build_model(e, diagnosing=True, objective=False)
    for lit, _, _ in v.slacks:
        rule, _, _ = v.assumptions[lit.Index()]
        if rule != "non_local_target":
            v.cp.add(lit == 1)
    for t in rules.non_local_targets:
        for sc, posts, _ in v.target_groups(t):
            if sc != scope:
                continue
            terms = [v.x[k] for p in posts for k in v.pairs_of_post[p] if e.pair_non_local[k]]
            v.cp.maximize(sum(terms))
            solver = cp_model.CpSolver()
            solver.parameters.max_time_in_seconds = 10
            solver.parameters.num_workers = 1
            code = solver.Solve(v.cp)
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return round(solver.ObjectiveValue() / len(posts), 4) + 0.0
            return 0.0
    return None


__all__ = ["build_model", "diagnose", "precheck"]
