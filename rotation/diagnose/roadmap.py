"""Why no term roadmap exists: the smallest sets of rule instances, each with its round and scope.

The roadmap's own rows are the single plan's rows per round plus the cross-round rows
(:mod:`rotation.roadmap.rows`: minimum stay, office wait, never decrease), each with an
assumption literal in diagnosis mode (:meth:`rotation.roadmap.model.RoadmapModel.assumption_names`
says which round each stands for). The same machinery as a single plan's integrality fallback
(:func:`rotation.diagnose.conflicts.find_conflicts`: the fewest instances whose relaxation leaves a
feasible horizon, a minimal conflict for each, merged; the nearest value of each numeric instance
optimised with the rest of its conflict kept) then names conflicts that exist only across rounds
(a newcomer's minimum stay against a later round's target), each instance with its round, in the
words of :mod:`.words` (English ``detail``, Vietnamese ``detail_vi``), a target's best reachable
share per round (``best_share``), and one CP-SAT worker with deterministic limits (the same answer
every run).

Entry point :func:`diagnose_horizon`, called by the roadmap when every round can be planned on
its own but the horizon cannot (``rotation.roadmap.model._diagnose_rounds``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from ..data import ProblemData
from ..i18n import N_
from ..plan import DiagnosisItem
from ..rules import Rules
from .conflicts import find_conflicts
from .precheck import make_item
from .words import instance_item

if TYPE_CHECKING:
    from ..roadmap.model import RoadmapModel


CROSS_ROUND_RULES = (
    N_("rule", "min_stay"),
    N_("rule", "office_wait"),
    N_("rule", "never_decrease"),
)
"""The cross-round rules a horizon's diagnosis names, labelled in the message catalogue."""


class HorizonNames:
    """The horizon model's rule instances as one diagnosis model (what
    :func:`~rotation.diagnose.conflicts.find_conflicts` and :mod:`.words` read): the shared CP-SAT
    model, per assumption literal its (rule, scope, detail) and (expression, lo, hi), and its
    round."""

    def __init__(self, m: RoadmapModel) -> None:
        self.cp: cp_model.CpModel = m.cp
        self.assumptions: dict[int, tuple[str, str, str]] = {}
        self.bounds: dict[int, tuple[cp_model.LinearExpr, float | None, float | None]] = {}
        self.round: dict[int, int] = {}
        for k, r in enumerate(m.rounds):
            for lit, name in r.assumptions.items():
                self.assumptions[lit] = name
                self.bounds[lit] = r.bounds[lit]
                self.round[lit] = k


def diagnose_horizon(
    data: ProblemData,
    rules: Rules,
    candidates_per_post: int | None = None,
    tick: Callable[[], None] | None = None,
) -> list[DiagnosisItem]:
    """Every conflict of the horizon (``data`` as the roadmap reads it; ``candidates_per_post``
    as the roadmap was solved: None = every eligible pair), one item per rule instance with its
    round (``round``: the round's date; ``detail`` starts with its year), in conflict order; []
    when the horizon model is feasible (or the search could not isolate a conflict in time)."""
    from ..roadmap.horizon import round_rules
    from ..roadmap.model import build_roadmap_model

    m = build_roadmap_model(data, rules, candidates_per_post=candidates_per_post, diagnosing=True)
    m.cp.clear_objective()
    names = HorizonNames(m)
    conflicts = find_conflicts(names, rules, set(), tick or (lambda: None))
    days: list[dt.date] = m.horizon.rounds
    rrules = [round_rules(rules, m.horizon, k) for k in range(len(days))]
    items = []
    for no, conflict in enumerate(conflicts, 1):
        for lit in sorted(conflict.rows, key=lambda i: (names.round[i], i)):
            k = names.round[lit]
            item = instance_item(m.rounds[k].elig, rrules[k], names, conflict, lit, no)
            year = days[k].year
            fields = item.model_dump()
            fields["detail"] = f"{year}: {item.detail}"
            if "detail_vi" in fields:
                fields["detail_vi"] = f"{year}: {fields['detail_vi']}"
            item = make_item(**fields, round=days[k].isoformat())
            items.append(item)
    return items


__all__ = ["HorizonNames", "diagnose_horizon"]
