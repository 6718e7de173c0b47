"""From chosen (cadre, post) pairs to the contract plan, for every solve path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..eligibility import Eligibility
from ..model import SCALE
from ..plan import Assignment, Plan, compute_kpis
from ..status import PlanStatus

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from ..model import Variables


def chosen_pairs(v: Variables, solver: cp_model.CpSolver) -> np.ndarray:
    """Indices (into ``v``'s pairs) of the pairs the solver's solution takes."""
    values = np.array(list(solver.response_proto.solution), dtype=np.int64)[: len(v.x)]
    return np.nonzero(values.astype(bool))[0]


def plan_from_solution(v: Variables, solver: cp_model.CpSolver, code: int) -> Plan:
    """The plan of a CP-SAT solution (``code``: OPTIMAL or FEASIBLE)."""
    from ortools.sat.python import cp_model

    return plan_from_pairs(
        v.elig,
        chosen_pairs(v, solver),
        "optimal" if code == cp_model.OPTIMAL else "feasible",
        solver.ObjectiveValue() / SCALE,
        solver.BestObjectiveBound() / SCALE,
    )


def plan_from_pairs(
    e: Eligibility, chosen: np.ndarray, status: PlanStatus, objective: float, bound: float
) -> Plan:
    """The contract plan for the chosen pairs (indices into ``e``'s pair arrays)."""
    data = e.data
    by_post = {int(e.pair_post[k]): int(k) for k in chosen}
    held = data.incumbent_post
    incumbent_post = dict(zip(held.index, held.to_numpy(), strict=True))
    assignments: list[Assignment] = []
    holders: set[str] = set()
    for p, (pid, unit, position, inc) in enumerate(
        e.posts[["unit_id", "position", "incumbent_id"]].itertuples(name=None)
    ):
        inc = inc if isinstance(inc, str) else None
        k = by_post.get(p)
        if k is None:
            assignments.append(
                Assignment(
                    post_id=pid,
                    unit_id=unit,
                    position=position,
                    cadre_id=None,
                    previous_post_id=None,
                    changed=inc is not None,
                    non_local=False,
                    travel_km=0.0,
                    unit_name=data.unit_name(unit),
                    support_vnd=0,
                )
            )
            continue
        cid = e.cadre_id(int(e.pair_cadre[k]))
        holders.add(cid)
        prev = incumbent_post.get(cid)
        assignments.append(
            Assignment(
                post_id=pid,
                unit_id=unit,
                position=position,
                cadre_id=cid,
                previous_post_id=prev if isinstance(prev, str) else None,
                changed=cid != inc,
                non_local=bool(e.pair_non_local[k]),
                travel_km=float(e.pair_km[k]),
                cadre_name=data.cadre_name(cid),
                unit_name=data.unit_name(unit),
                support_vnd=int(e.pair_support_vnd[k]),
            )
        )
    # released: incumbents holding no post after the plan, merged communes' holders included
    merged = data.posts.loc[sorted(data.merged_posts), "incumbent_id"].dropna().tolist()
    released = sorted(c for c in [*e.posts["incumbent_id"].dropna(), *merged] if c not in holders)
    return Plan(
        status=status,
        objective=round(objective, 3),
        bound=round(bound, 3),
        assignments=assignments,
        released=released,
        kpis=compute_kpis(data, e.rules, assignments),
    )
