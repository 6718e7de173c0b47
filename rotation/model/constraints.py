"""Hard rules as CP-SAT constraints: one function per rule family, named as a planner names it
(the same names as rotation.rulebook, the validator, diagnoses and explanations).

Every function takes the :class:`~rotation.model.variables.Variables` and a ``guard`` callable.
``guard(rule, scope, detail)`` returns the enforcement literals for one *rule instance* (a rule at
one post, cadre or scope): ``[]`` in a normal solve, one assumption literal when diagnosing an
infeasible scenario, so the solver can name the smallest set of instances in conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ..concepts import relative_pairs
from .variables import Variables

Guard = Callable[[str, str, str], list]


def no_guard(rule: str, scope: str, detail: str) -> list:
    return []


# ------------------------------------------------------------------------ hard constraints
def fill_every_post(v: Variables, guard: Guard) -> None:
    """Every in-scope post gets exactly one holder; a vacancy only when ``allow_vacancies``."""
    e = v.elig
    for p in range(len(e.posts)):
        terms = [v.x[k] for k in v.pairs_of_post[p]]
        if p in v.vacant:
            terms.append(v.vacant[p])
        lits = guard("fill_every_post", e.post_id(p), f"post {e.post_id(p)} must be filled")
        v.cp.Add(sum(terms) == 1).OnlyEnforceIf(lits)


def one_post_per_cadre(v: Variables, guard: Guard) -> None:
    """A cadre holds at most one post (structural: never relaxed)."""
    for pairs in v.pairs_of_cadre.values():
        if len(pairs) > 1:
            v.cp.AddAtMostOne(v.x[k] for k in pairs)


def keep_required_incumbents(v: Variables, guard: Guard) -> None:
    """Incumbents who are not movable, or below the minimum tenure, keep their post."""
    e = v.elig
    for p, c in e.must_keep.items():
        k = v.keep_pair.get(p)
        rule = e.must_keep_reason[p]
        lits = guard(rule, e.post_id(p), f"{e.cadre_id(c)} keeps {e.post_id(p)}")
        if k is None:  # the keep pair was refused (maximum tenure): conflicting rules
            v.cp.AddBoolOr([]).OnlyEnforceIf(lits)
        else:
            v.cp.Add(v.x[k] == 1).OnlyEnforceIf(lits)


def locks(v: Variables, guard: Guard) -> None:
    """A locked post goes to the named cadre ("put Y in Z")."""
    e = v.elig
    for lock in e.rules.locks:
        p = v.post_index.get(lock.post_id)
        lits = guard("lock", lock.post_id, f"{lock.cadre_id} locked to {lock.post_id}")
        k = v.pair_index.get((p, v.cadre_index.get(lock.cadre_id))) if p is not None else None
        if k is None:
            v.cp.AddBoolOr([]).OnlyEnforceIf(lits)
        else:
            v.cp.Add(v.x[k] == 1).OnlyEnforceIf(lits)


def relatives_same_unit(v: Variables, guard: Guard) -> None:
    """Two relatives never lead the same unit (Regulation 114-QĐ/TW), counting holders of posts
    outside the plan's scope."""
    e = v.elig
    data = e.data
    if not e.rules.forbid_relatives_same_unit or data.relations.empty:
        return
    # pairs of a cadre grouped by unit
    by_cadre_unit: dict[tuple[int, str], list[int]] = defaultdict(list)
    post_unit = e.posts["unit_id"].to_numpy()
    for c, pairs in v.pairs_of_cadre.items():
        for k in pairs:
            by_cadre_unit[(c, post_unit[e.pair_post[k]])].append(k)
    fixed_at: dict[str, set[str]] = defaultdict(set)  # unit -> holders of out-of-scope posts
    out = data.posts[~data.posts.index.isin(e.posts.index)]
    for unit, inc in zip(out["unit_id"], out["incumbent_id"], strict=True):
        if isinstance(inc, str):
            fixed_at[unit].add(inc)
    units = sorted(set(post_unit))
    for pair in sorted(relative_pairs(data), key=sorted):
        a, b = sorted(pair)
        ia, ib = v.cadre_index.get(a), v.cadre_index.get(b)
        for u in units:
            ka = by_cadre_unit.get((ia, u), []) if ia is not None else []
            kb = by_cadre_unit.get((ib, u), []) if ib is not None else []
            fixed = len({a, b} & fixed_at.get(u, set()))
            if fixed >= 2 or (not ka and not kb) or (fixed == 0 and (not ka or not kb)):
                continue
            lits = guard("relatives_same_unit", u, f"{a} and {b} at {u}")
            v.cp.Add(sum(v.x[k] for k in ka + kb) <= 1 - fixed).OnlyEnforceIf(lits)


def non_local_target(v: Variables, guard: Guard) -> None:
    """At least ceil(min_share × n) of each scope's n posts of the position go to non-local
    holders."""
    e = v.elig
    for t in e.rules.non_local_targets:
        for scope, posts, required in v.target_groups(t):
            if required <= 0:
                continue
            terms = [v.x[k] for p in posts for k in v.pairs_of_post[p] if e.pair_non_local[k]]
            lits = guard(
                "non_local_target", scope, f"{t.position}: {required} of {len(posts)} non-local"
            )
            v.cp.Add(sum(terms) >= required).OnlyEnforceIf(lits)


def max_changes(v: Variables, guard: Guard) -> None:
    """At most ``count`` posts change holder in each scope (a host locality's capacity)."""
    e = v.elig
    mc = e.rules.max_changes
    if mc is None:
        return
    scopes = e.data.scope_of(e.posts["unit_id"], mc.scope_level).to_numpy()
    groups: dict[str, list[int]] = defaultdict(list)
    for p, s in enumerate(scopes):
        groups[s].append(p)
    for scope in sorted(groups):
        changed = [v.changed_expr(p) for p in groups[scope]]
        lits = guard("max_changes", scope, f"at most {mc.count} changes")
        v.cp.Add(sum(changed) <= mc.count).OnlyEnforceIf(lits)


HARD_CONSTRAINTS = (
    fill_every_post,
    one_post_per_cadre,
    keep_required_incumbents,
    locks,
    relatives_same_unit,
    non_local_target,
    max_changes,
)
"""The registry of hard rules applied by the model builder, in order. Eligibility rules
(travel, planning list, rating, retirement, tenure, exclusions) act by removing pairs."""
