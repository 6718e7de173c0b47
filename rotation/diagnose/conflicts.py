"""Every conflict at once, and the nearest values that work.

**Fast path, the LP** (HiGHS, the LPs of :mod:`.sublp`, deterministic): per independent block
of provinces, an elastic phase 1 (every relaxable row gets a slack, the total slack minimised)
names every row that cannot hold even fractionally; each one's conflict is the rows a deletion
filter keeps in the LP of the narrowest scope around it that already fails (a relaxation of the
whole: what fails there fails in the whole), or, when no scope fails alone, the rows of its scope
that bind it (non-zero dual); conflicts sharing a row or a scope are merged. The nearest value of
each rule instance of a conflict is its own expression optimised by the LP with that instance
dropped, the rest of its conflict kept and every other conflict relaxed (in the scope's LP, then
checked in the block's), rounded to the integer side that an integer plan can reach (down for a
lower bound, up for a cap); a priority share's is the highest share its group reaches.

**Fallback, CP-SAT** (the LP relaxation is feasible, only integrality conflicts): the model is
built once in diagnosis mode (one assumption literal per relaxable rule instance,
:meth:`rotation.model.variables.Variables.add_bounds`). Then, with one worker and deterministic
time limits (so the same data and rules give the same answer every time):

1. **Correction set**: the fewest rule instances whose relaxation makes the model feasible
   (maximise the number of assumptions that hold). Every independent conflict needs at least one
   of them, so each one leads to a conflict.
2. **Conflicts**: for each instance ``r`` of the correction set, the model with the *other*
   instances of the set relaxed is infeasible (else the set was not the fewest); its conflict is
   CP-SAT's sufficient assumptions, shrunk to a minimal one by deletion. Conflicts sharing a rule
   instance or a scope are merged.
3. **Nearest values that work**: for each instance of a conflict, its own expression optimised
   with that instance dropped, the rest of its conflict kept and every other conflict relaxed:
   the largest count a lower-bounded row (a target) can reach, the smallest value an
   upper-bounded row (a cap, the budget) needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from ortools.sat.python import cp_model

from ..concepts import in_group
from ..model import PairIndex, Row
from ..model.constraints import PRIORITY_SCALE
from ..rules import Rules
from .sublp import RowsMatrix, ScopeLp, blocks, rows_matrix

Name = tuple[str, str, str]
TOL = 1e-6
DETERMINISTIC_S = 5.0
"""Deterministic-time budget of one CP-SAT call (CP-SAT's own units, about seconds)."""
WALL_S = 60.0
"""A wall-clock safety cap per call (never reached on the benchmarks)."""


@dataclass
class Conflict:
    """One merged conflict: its rule instances (assumption indices) and, per instance, the
    optimised value of its expression with it dropped (None: dropping it alone does not help)."""

    rows: list[int]
    best: dict[int, int | None] = field(default_factory=dict)
    counts: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per ``priority_shares`` instance: (group members, newly appointed) at its best share,
    whose ``best`` is in ten-thousandths (``PRIORITY_SCALE``)."""


class ElasticModel(Protocol):
    """A CP-SAT model in diagnosis mode: per assumption literal (its proto index) the rule
    instance's (rule, scope, detail) and (expression, lo, hi) — a single plan's
    :class:`~rotation.model.Variables` or a horizon's (:mod:`.roadmap`)."""

    @property
    def cp(self) -> cp_model.CpModel: ...

    @property
    def assumptions(self) -> Mapping[int, Name]: ...

    @property
    def bounds(self) -> Mapping[int, tuple[cp_model.LinearExpr, float | None, float | None]]: ...


class Elastic:
    """The elastic model and its calls (one worker, deterministic limits)."""

    def __init__(self, v: ElasticModel, rules: Rules, relaxed: set[int]) -> None:
        self.v = v
        self.rules = rules
        self.lits = {i: v.cp.get_bool_var_from_proto_index(i) for i in v.assumptions}
        self.rows = sorted(i for i in v.assumptions if i not in relaxed)

    def _solve(self, active: list[int]) -> cp_model.CpSolver:
        cp = self.v.cp
        cp.clear_assumptions()
        cp.add_assumptions([self.lits[i] for i in active])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = self.rules.seed
        solver.parameters.max_deterministic_time = DETERMINISTIC_S
        solver.parameters.max_time_in_seconds = WALL_S
        self.status = solver.solve(cp)
        return solver

    def infeasible(self, active: list[int]) -> list[int] | None:
        """The sufficient assumptions when ``active`` cannot all hold, else None."""
        self.v.cp.clear_objective()
        solver = self._solve(active)
        if self.status != cp_model.INFEASIBLE:
            return None
        core = set(solver.sufficient_assumptions_for_infeasibility()) & set(active)
        return sorted(core) or sorted(active)

    def correction_set(self) -> list[int]:
        """The fewest instances whose relaxation leaves a feasible model."""
        cp = self.v.cp
        cp.maximize(sum(self.lits[i] for i in self.rows))
        solver = self._solve([])
        cp.clear_objective()
        if self.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return []
        return [i for i in self.rows if not solver.boolean_value(self.lits[i])]

    def minimal(self, core: list[int]) -> list[int]:
        """Shrink a conflict by deletion: drop each instance it does not need."""
        i = 0
        while i < len(core):
            trial = core[:i] + core[i + 1 :]
            sub = self.infeasible(trial) if trial else None
            if sub is not None:
                core = [k for k in trial if k in set(sub)]
            else:
                i += 1
        return core

    def optimum(self, row: int, active: list[int]) -> int | None:
        """The best value of ``row``'s expression with ``active`` holding: the largest for a
        lower-bounded row, the smallest for an upper-bounded one (None: infeasible)."""
        expr, lo, _ = self.v.bounds[row]
        cp = self.v.cp
        if lo is not None:
            cp.maximize(expr)
        else:
            cp.minimize(expr)
        solver = self._solve(active)
        cp.clear_objective()
        if self.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return round(solver.objective_value)


def find_conflicts(
    v: ElasticModel, rules: Rules, relaxed: set[int], tick: Callable[[], None]
) -> list[Conflict]:
    """Every conflict of the model, merged, each with its nearest values that work."""
    el = Elastic(v, rules, relaxed)
    correction = el.correction_set()
    tick()
    cores: list[list[int]] = []
    for r in correction:
        if any(r in c for c in cores):
            continue
        others = set(correction) - {r}
        active = [i for i in el.rows if i not in others]
        core = el.infeasible(active)
        if core is None:
            continue
        cores.append(el.minimal(core))
        tick()
    conflicts = _merge(cores, v.assumptions)
    correction_set = set(correction)
    for conflict in conflicts:
        mine = set(conflict.rows)
        for row in conflict.rows:
            active = [i for i in el.rows if i != row and (i in mine or i not in correction_set)]
            conflict.best[row] = el.optimum(row, active)
        tick()
    return conflicts


NUMERIC = frozenset({"max_changes", "non_local_target", "never_below_current", "budget_vnd"})
"""Rules whose nearest value that works is a number the LP optimises."""
CHUNK = 8
"""Rows a deletion filter tries to drop at once before it tries them one by one."""


def _delete(near: list[int], hard: np.ndarray, infeasible: Callable[[np.ndarray], bool]) -> None:
    """Deletion filter: switch off (in ``hard``) every row of ``near`` the conflict does not
    need, a chunk at a time, then one by one within a chunk that is needed."""
    for start in range(0, len(near), CHUNK):
        chunk = near[start : start + CHUNK]
        hard[chunk] = False
        if infeasible(hard):
            continue
        hard[chunk] = True
        for i in chunk:
            hard[i] = False
            if not infeasible(hard):
                hard[i] = True


def _merge(cores: list[list[int]], names: Mapping[int, Name]) -> list[Conflict]:
    """Conflicts sharing a rule instance or a scope, merged; ordered by their first instance."""
    groups: list[set[int]] = []
    for core in cores:
        scopes = {names[i][1] for i in core}
        hit = [g for g in groups if g & set(core) or scopes & {names[i][1] for i in g}]
        merged = set(core).union(*hit) if hit else set(core)
        groups = [g for g in groups if g not in hit] + [merged]
    return sorted((Conflict(sorted(g)) for g in groups), key=lambda c: c.rows)


class Names:
    """The rule instances a conflict is made of: per relaxable row (its number among the rows),
    (rule, scope, detail) and (None, lo, hi), as :class:`rotation.model.Variables` keeps them
    per assumption literal (what :mod:`.words` reads)."""

    def __init__(self, rows: list[Row]) -> None:
        self.assumptions: dict[int, Name] = {}
        self.bounds: dict[int, tuple[None, float | None, float | None]] = {}
        for i, r in enumerate(rows):
            if r.relaxable:
                self.assumptions[i] = (r.rule, r.scope, r.detail)
                self.bounds[i] = (None, r.lo, r.hi)


class Scopes:
    """Which rows and posts lie in, above or below a scope (a post, a unit, or plan-wide: the
    budget, a priority group), indexed once."""

    def __init__(self, ix: PairIndex, rows: list[Row], rel: list[int]) -> None:
        e = ix.elig
        self.post_unit = dict(zip(e.posts.index, e.posts["unit_id"], strict=True))
        units = e.data.units
        self.units = units
        self.parent = units["parent_id"].to_dict() if "parent_id" in units else {}
        self._anc: dict[str, frozenset[str]] = {}
        self.rows_below: dict[str, list[int]] = {}  # scope -> rows whose scope lies in it
        self.rows_at: dict[str, list[int]] = {}  # scope -> rows of that very scope
        self.plan_wide: list[int] = []
        for i in rel:
            s = rows[i].scope
            if self.is_plan_wide(s):
                self.plan_wide.append(i)
                continue
            self.rows_at.setdefault(s, []).append(i)
            for a in self.ancestors(s):
                self.rows_below.setdefault(a, []).append(i)
        self.posts_below: dict[str, list[int]] = {}
        for p, pid in enumerate(e.posts.index):
            for a in self.ancestors(str(pid)):
                self.posts_below.setdefault(a, []).append(p)

    def is_plan_wide(self, s: str) -> bool:
        return not (s in self.post_unit or s in self.units.index)

    def chain(self, scope: str) -> list[str]:
        """The scope, its unit and every unit above it, innermost first."""
        out = [scope]
        u = self.post_unit.get(scope, scope)
        while isinstance(u, str) and u in self.units.index and u not in out:
            out.append(u)
            u = self.parent.get(u)
        return out

    def ancestors(self, scope: str) -> frozenset[str]:
        """The scope, its unit and every unit above it."""
        got = self._anc.get(scope)
        if got is None:
            got = self._anc[scope] = frozenset(self.chain(scope))
        return got

    def widen(self, hubs: set[str]) -> Iterator[set[str]]:
        """The hubs, then with the unit above each, and so on up to the top."""
        chains = [self.chain(h) for h in sorted(hubs)]
        for k in range(max(len(c) for c in chains)):
            yield hubs | {c[min(k, len(c) - 1)] for c in chains}

    def related(self, a: str, b: str) -> bool:
        """Same scope, one inside the other, or a plan-wide row (budget, priority group)."""
        if self.is_plan_wide(a) or self.is_plan_wide(b):
            return True
        return a in self.ancestors(b) or b in self.ancestors(a)

    def near(self, hubs: set[str]) -> set[int]:
        """The relaxable rows related to any hub."""
        out = set(self.plan_wide)
        for h in hubs:
            if self.is_plan_wide(h):
                return set().union(*self.rows_below.values(), self.plan_wide)
            out.update(self.rows_below.get(h, []))
            for a in self.ancestors(h):
                out.update(self.rows_at.get(a, []))
        return out

    def posts(self, hubs: set[str], block: np.ndarray) -> np.ndarray:
        """The block's posts in some hub (all of them when a hub is plan-wide)."""
        if any(self.is_plan_wide(h) for h in hubs):
            return block
        mine = sorted({p for h in hubs for p in self.posts_below.get(h, [])})
        return np.intersect1d(block, np.asarray(mine, dtype=np.int64))


def lp_conflicts(
    ix: PairIndex, rows: list[Row], relaxed: set[int], tick: Callable[[], None]
) -> list[Conflict] | None:
    """The conflicts the LP relaxation already proves ([]: none left — every block has a 0/1
    point keeping the rows not yet named, its LP point or a small MIP's; None: a block holds
    only fractionally, or the LP is not tight enough to name a nearest value: ask CP-SAT). ``relaxed``: rows (numbers) the
    pre-checks already named. Conflicts are numbered by their rows (:class:`Names`).

    Each independent block (:func:`.sublp.blocks`: provinces no row joins) gets its own elastic
    phase 1; each row it violates its own deletion filter over the LP of its scope's posts (a
    relaxation, :class:`.sublp.ScopeLp`; the block's LP when the scope alone is feasible); each
    nearest value its optimum over the conflict's scope when that optimum extends to the block
    (:func:`.sublp.extends`), else the block's."""
    rel = [i for i, r in enumerate(rows) if r.relaxable]
    m = rows_matrix(ix, rows)
    keep = np.ones(len(rows), dtype=bool)
    keep[sorted(relaxed)] = False
    e = ix.elig
    prov = e.posts["province_id"].astype(str).to_numpy()
    province = np.unique(prov, return_inverse=True)[1].astype(np.int64)
    sc = Scopes(ix, rows, rel)
    cores: list[list[int]] = []
    block_of: dict[int, tuple[ScopeLp, np.ndarray, list[int]]] = {}
    fractional = False  # a block whose rows hold only fractionally: integrality may conflict
    for block in blocks(m, province):
        lp_block = ScopeLp(m, block, elastic=True)
        phase1 = lp_block.solve(keep)
        lp_block.stop_elastic()
        tick()
        if not phase1.ok:
            return None
        assert phase1.slack is not None and phase1.dual is not None
        mine = np.zeros(len(rows), dtype=bool)
        mine[lp_block.rows] = True
        violated = [i for i in rel if mine[i] and keep[i] and phase1.slack[i] > TOL]
        if not violated:
            if phase1.x is None or not lp_block.holds_exactly(keep, phase1.x):
                fractional = fractional or lp_block.integer_feasible(keep) is not True
            continue
        binding = {i for i in rel if mine[i] and keep[i] and abs(phase1.dual[i]) > TOL}
        pending = []  # rows no scope's LP proves: the block's decides, for all at once first
        for r in violated:
            block_of[r] = (lp_block, block, violated)
            core = _core(rows, sc, r, keep, violated, binding, lp_block, block, m, True)
            if core is None:
                pending.append(r)
            else:
                cores.append(core)
            tick()
        for layer in _layers(rows, sc, pending):
            if not lp_block.infeasible(_hard(keep, violated, layer)):
                # feasible with all of them: with each alone too (fewer rows)
                cores += [sorted(_shared(rows, sc, r, binding)) for r in layer]
                continue
            for r in layer:
                found = _core(
                    rows, sc, r, keep, violated, binding, lp_block, block, m, ladder=False
                )
                assert found is not None
                cores.append(found)
                tick()
    if not cores:
        # every block holds in the LP, and has a 0/1 point keeping every row not yet named (its
        # LP point, or a MIP's): a plan of the whole (blocks share no row), nothing more to find
        return None if fractional else []
    conflicts = _merge(cores, Names(rows).assumptions)
    groups = _priority_groups(ix, rows)
    if not _nearest_values(rows, m, keep, conflicts, block_of, sc, groups, tick):
        return None  # the relaxation is not tight here (integrality): ask CP-SAT
    return conflicts


def _priority_groups(
    ix: PairIndex, rows: list[Row]
) -> dict[int, tuple[np.ndarray, np.ndarray, int]]:
    """Per ``priority_shares`` row: (newcomer columns, of the group?, required share in
    ten-thousandths), from the same concepts the row producer reads."""
    e = ix.elig
    new, arrivals = ix.newcomer_terms()
    cols = np.concatenate([new, np.asarray(arrivals, dtype=np.int64)]).astype(np.int64)
    out = {}
    wanted = {ps.group: ps.min_share for ps in e.rules.priority_shares}
    for i, r in enumerate(rows):
        if r.rule == "priority_shares" and r.scope in wanted:
            member = in_group(e.data, e.facts, r.scope)[e.pair_cadre[cols]]
            out[i] = (cols, member, round(wanted[r.scope] * PRIORITY_SCALE))
    return out


def best_share(
    lp: ScopeLp, keep: np.ndarray, cols: np.ndarray, member: np.ndarray, *_required: int
) -> tuple[float, float, float] | None:
    """The highest share of a group among the newly appointed the LP reaches with the rows of
    ``keep``: (share 0–1, members, newly appointed) at the optimum, by Dinkelbach's method
    (maximise members − share × appointed, then move the share to the ratio reached, until
    nothing better exists); None when the LP is infeasible or appoints nobody."""
    share, k, n = 0.0, 0.0, 0.0
    w = np.zeros(lp.m.a.shape[1])
    for _ in range(50):
        w[cols] = member.astype(float) - share
        res = lp.solve(keep, objective=w)
        if not res.ok or res.x is None:
            return None
        x = lp.full(res.x)[cols]
        n, k = float(x.sum()), float(x[member].sum())
        if n <= TOL:
            return None
        if res.value <= TOL * max(1.0, n):
            break
        share = k / n
    return share, k, n


Candidate = tuple[Conflict, int, int]
"""(conflict, row, value its scope's LP reaches): a nearest value still to check in the block."""


def _nearest_values(
    rows: list[Row],
    m: RowsMatrix,
    keep: np.ndarray,
    conflicts: list[Conflict],
    block_of: dict[int, tuple[ScopeLp, np.ndarray, list[int]]],
    sc: Scopes,
    groups: dict[int, tuple[np.ndarray, np.ndarray, int]],
    tick: Callable[[], None],
) -> bool:
    """Each numeric rule instance's nearest value (``Conflict.best``): its own expression
    optimised by the LP with it dropped, the rest of its conflict kept and every other conflict
    relaxed. Optimised over the conflict's scope (a relaxation: its optimum bounds the block's,
    and an infeasible scope means an infeasible block), then checked in the block's LP: for
    every conflict at once (each with one value applied; feasible together means feasible
    alone), else one by one; where the block cannot reach it, optimised over the block. A
    priority share's is the highest share of its group among the newly appointed the block's LP
    reaches (:func:`best_share`), rounded down to a percent. False when a value would leave the
    rule as it is (the LP is not tight: integrality). ``groups``: per ``priority_shares`` row,
    (the newcomer columns, whether each is of the group, the required share in
    ten-thousandths)."""

    def rounded(value: float, maximise: bool) -> int:
        return math.floor(value + TOL) if maximise else math.ceil(value - TOL)

    def trial_of(conflict: Conflict, i: int) -> np.ndarray:
        _, _, violated = block_of[_anchor(conflict, block_of)]
        trial = keep.copy()
        trial[[k for k in violated if k not in set(conflict.rows)]] = False
        trial[i] = False
        return trial

    def sense(i: int) -> int:
        return 1 if rows[i].lo is not None else -1

    def at(i: int, value: int) -> tuple[int, float, float]:
        return (i, value, np.inf) if sense(i) > 0 else (i, -np.inf, value)

    pending: dict[int, list[list[Candidate]]] = {}  # block (first post) -> rounds of candidates
    for conflict in conflicts:
        lp_block, block, _ = block_of[_anchor(conflict, block_of)]
        scope_posts = sc.posts({rows[i].scope for i in conflict.rows}, block)
        scope_lp = ScopeLp(m, scope_posts) if len(scope_posts) < len(block) else lp_block
        mine: list[Candidate] = []
        for i in conflict.rows:
            conflict.best[i] = None
            if rows[i].rule == "priority_shares" and i in groups:
                got = best_share(lp_block, trial_of(conflict, i), *groups[i])
                if got is not None:
                    share, k, n = got
                    conflict.best[i] = math.floor(share * 100 + TOL) * (PRIORITY_SCALE // 100)
                    conflict.counts[i] = (round(k), round(n))
                continue
            if rows[i].rule not in NUMERIC:  # a lock, a keep rule: no number to optimise
                continue
            trial = trial_of(conflict, i)
            if scope_lp is not lp_block and scope_lp.inside(i):
                part = scope_lp.solve(trial, objective=(i, sense(i)))
                if part.ok:
                    mine.append((conflict, i, rounded(part.value, sense(i) > 0)))
                continue  # infeasible in the scope: in the block too
            res = lp_block.solve(trial, objective=(i, sense(i)))
            if res.ok:
                conflict.best[i] = rounded(res.value, sense(i) > 0)
        rounds = pending.setdefault(int(block[0]), [])
        for j, cand in enumerate(mine):
            if j == len(rounds):
                rounds.append([])
            rounds[j].append(cand)
        tick()
    for first, rounds in pending.items():
        for cands in rounds:
            conflict0, _, _ = cands[0]
            lp_block, _, violated = block_of[_anchor(conflict0, block_of)]
            together = keep.copy()
            with_value = {id(c) for c, _, _ in cands}
            for conflict in conflicts:
                if (
                    id(conflict) not in with_value
                    and block_of[_anchor(conflict, block_of)][1][0] == first
                ):
                    together[[k for k in conflict.rows if k in set(violated)]] = False
            if lp_block.solve(together, bounds=[at(i, v) for _, i, v in cands]).ok:
                for conflict, i, v in cands:
                    conflict.best[i] = v
                continue
            for conflict, i, v in cands:
                trial = trial_of(conflict, i)
                if lp_block.solve(trial, bounds=[at(i, v)]).ok:
                    conflict.best[i] = v
                    continue
                res = lp_block.solve(trial, objective=(i, sense(i)))
                if res.ok:
                    conflict.best[i] = rounded(res.value, sense(i) > 0)
        tick()
    for conflict in conflicts:
        for i, best in conflict.best.items():
            row = rows[i]
            if i in conflict.counts:
                if best is not None and best >= groups[i][2]:
                    return False
                continue
            if best is not None and (
                (row.lo is not None and best >= row.lo)
                or (row.lo is None and row.hi is not None and best <= row.hi)
            ):
                return False
    return True


def _anchor(conflict: Conflict, block_of: dict[int, tuple[ScopeLp, np.ndarray, list[int]]]) -> int:
    """A violated row of the conflict (every conflict has one): the key of its block."""
    return next(i for i in conflict.rows if i in block_of)


def _core(
    rows: list[Row],
    sc: Scopes,
    r: int,
    keep: np.ndarray,
    violated: list[int],
    binding: set[int],
    lp_block: ScopeLp,
    block: np.ndarray,
    m: RowsMatrix,
    scope_only: bool = False,
    ladder: bool = True,
) -> list[int] | None:
    """The minimal conflict of violated row ``r``: the rows of its scope it needs, found by a
    deletion filter over the LP of the narrowest scope around it that already fails (the
    block's when none does; ``scope_only``: None then; ``ladder`` False: no scope is tried, it
    is known that none fails)."""
    unit = rows[r].scope
    hard = _hard(keep, violated, [r])
    # the rows of the scope, and of the scopes of the rows binding it (a keep rule at a post
    # binds the district's target, whose other posts' keep rules are in the conflict too)
    hubs = {unit} | {rows[i].scope for i in binding if sc.related(rows[i].scope, unit)}
    lp = None
    for wider in sc.widen(hubs) if ladder else ():  # the narrowest scope whose LP fails
        mine = sc.posts(wider, block)
        if len(mine) >= len(block):
            break
        sub = ScopeLp(m, mine)
        if sub.infeasible(hard):
            lp, hubs = sub, wider
            break
    if lp is None:
        if scope_only:
            return None
        lp = lp_block
    near = sorted(i for i in sc.near(hubs) if hard[i] and i != r)
    if lp.infeasible(hard):  # deletion filter over the rows of the scope
        loose = [i for i in near if i not in binding]
        hard[loose] = False
        if lp.infeasible(hard):  # the non-binding rows at once, then one by one
            near = [i for i in near if i in binding]
        else:
            hard[loose] = True
        _delete(near, hard, lp.infeasible)
        core = {r} | {i for i in near if hard[i]}
    else:
        core = _shared(rows, sc, r, binding)
    return sorted(core)


def _layers(rows: list[Row], sc: Scopes, pending: list[int]) -> list[list[int]]:
    """``pending`` in layers of rows whose scopes are pairwise unrelated (a district's target and
    its cap fail together, each holds alone: never checked at once), in order."""
    layers: list[list[int]] = []
    for r in pending:
        for layer in layers:
            if not any(sc.related(rows[r].scope, rows[q].scope) for q in layer):
                layer.append(r)
                break
        else:
            layers.append([r])
    return layers


def _hard(keep: np.ndarray, violated: list[int], on: list[int]) -> np.ndarray:
    """``keep`` with every violated row off but those of ``on``."""
    hard = keep.copy()
    hard[[i for i in violated if i not in set(on)]] = False
    return hard


def _shared(rows: list[Row], sc: Scopes, r: int, binding: set[int]) -> set[int]:
    """A violated row that holds on its own once the others are relaxed (the phase 1 spread a
    conflict's violation over several rows): its conflict is the rows of its scope binding it."""
    unit = rows[r].scope
    return {r} | {i for i in binding if sc.related(rows[i].scope, unit)}
