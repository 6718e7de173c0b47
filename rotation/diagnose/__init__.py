"""Why no plan exists, in a planner's words: every conflict at once, what would make it work.

1. :mod:`.precheck`: conflicts visible before any search (a post nobody may hold, grouped by
   cause with missing data first; a lock on a refused pair; a target beyond the eligible pool).
2. :mod:`.conflicts`: every remaining conflict, from the elastic LP of each independent block
   and a deletion filter over the LP of each conflict's scope (:mod:`.sublp`), or, when the LP
   relaxation is feasible, from one elastic CP-SAT model (the rows the pre-checks already named
   are relaxed), each with the nearest values that work.
3. :mod:`.words`: the sentences, the nearest values as data (``current``, ``would_work``) and a
   total line when more than one conflict is found.

Deterministic: HiGHS with fixed options; one CP-SAT worker, the rules' seed and deterministic
time limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..eligibility import Eligibility
from ..model import PairIndex, all_rows, build_model
from ..plan import DiagnosisItem
from ..rules import Rules
from .precheck import precheck

if TYPE_CHECKING:  # rotation.solve imports this package: no import of it at load time
    from ..model import Variables
    from ..solve.progress import Clock, Progress
    from .conflicts import Names

PHASE = "diagnosing"


def diagnose(
    e: Eligibility,
    rules: Rules,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> list[DiagnosisItem]:
    """Every conflict in words (never empty), with progress events of phase ``diagnosing``."""
    from ..solve.progress import Clock
    from .conflicts import Names, find_conflicts, lp_conflicts  # CP-SAT: only when diagnosing
    from .words import conflict_items, total_item

    clock = clock or Clock()

    def tick() -> None:
        if progress is not None:
            progress(clock.event(PHASE))

    tick()
    items = precheck(e, rules)
    items.sort(key=lambda d: getattr(d, "missing_data", None) is None)  # missing data first
    named = {(d.rule.split("+")[0], s) for d in items for s in getattr(d, "scopes", [d.scope])}
    ix = PairIndex(e)
    rows = list(all_rows(ix))
    names: Names | Variables = Names(rows)
    relaxed = {i for i, (rule, scope, _) in names.assumptions.items() if (rule, scope) in named}
    tick()
    conflicts = lp_conflicts(ix, rows, relaxed, tick)
    if conflicts is None:  # integrality may conflict: the elastic CP-SAT model
        v = build_model(e, diagnosing=True, objective=False)
        relaxed = {i for i, (rule, scope, _) in v.assumptions.items() if (rule, scope) in named}
        conflicts = find_conflicts(v, rules, relaxed, tick)
        names = v
    found = conflict_items(e, rules, names, conflicts)
    if not items and not found:
        return [
            DiagnosisItem(
                rule="unknown",
                scope="plan",
                detail="the rules cannot all hold together, but the solver could "
                "not isolate which within the time limit",
            )
        ]
    items += found
    total = total_item(e, items, len(conflicts))
    return items + ([total] if total is not None else [])


__all__ = ["PHASE", "diagnose", "precheck"]
