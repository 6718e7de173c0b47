"""What a solve returns, whatever path produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..eligibility import Eligibility
from ..plan import DiagnosisItem, Plan
from ..status import SolveStatus


@dataclass
class Result:
    """Plans best first (empty when infeasible or unknown), the diagnosis when there is no
    plan, and how the solve went (``stats``: public numbers only, seconds and counts)."""

    status: SolveStatus
    plans: list[Plan] = field(default_factory=list)
    diagnosis: list[DiagnosisItem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    eligibility: Eligibility | None = None
    rules: dict[str, Any] | None = None  # the effective rules, as every plan carries them

    @property
    def plan(self) -> Plan:
        """The best plan, or the infeasible plan carrying the diagnosis (``kpis`` None)."""
        if self.plans:
            return self.plans[0]
        return Plan(
            status="infeasible",
            objective=None,
            bound=None,
            kpis=None,
            diagnosis=self.diagnosis,
            rules=self.rules,
        )
