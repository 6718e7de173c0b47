"""Rules for a horizon (an extension of contract §2, under the key ``horizon``).

```yaml
horizon:
  rounds: [2026-01-01, 2027-01-01, 2028-01-01, 2029-01-01, 2030-01-01]
  trajectory:                      # a target share by date per position and scope level
    - {position: secretary, scope_level: district,
       shares: {2027-01-01: 0.20, 2029-01-01: 0.30}, never_decrease: true}
  min_stay_years: 3                # at a new post (Decree 170/2025 art. 48)
  max_changes_per_round: {scope_level: district, count: 5}   # optional
  discount: 0.05                   # per round: round r's costs weigh (1 - discount)^r
```

Defaults: rounds = 1 January of each year 2026–2030; no trajectory (then each round uses the
rules' ``non_local_targets``); ``min_stay_years`` 3; no per-round change cap; ``discount`` 0.05
(a move next year weighs 5% less than the same move now, so what can wait is not front-loaded;
0 makes every round count the same).

The share in force at a round is the latest ``shares`` entry dated on or before the round (0
before the first); with ``never_decrease`` the non-local count of a scope never falls below the
previous round's (a target that, once reached, is kept).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from ..concepts import add_months
from ..rules import MaxChanges, NonLocalTarget, Rules, StrictModel


def _default_rounds() -> list[dt.date]:
    return [dt.date(y, 1, 1) for y in range(2026, 2031)]


class TrajectoryTarget(StrictModel):
    position: str = "secretary"
    scope_level: str = "district"
    shares: dict[dt.date, float] = Field(default_factory=dict)
    never_decrease: bool = True

    def share_at(self, day: dt.date) -> float:
        past = [d for d in self.shares if d <= day]
        return self.shares[max(past)] if past else 0.0


class Horizon(StrictModel):
    rounds: list[dt.date] = Field(default_factory=_default_rounds)
    trajectory: list[TrajectoryTarget] = Field(default_factory=list)
    min_stay_years: float = Field(3.0, ge=0)
    max_changes_per_round: MaxChanges | None = None
    discount: float = Field(0.05, ge=0, lt=1)

    @field_validator("rounds")
    @classmethod
    def _sorted_distinct(cls, v: list[dt.date]) -> list[dt.date]:
        if not v:
            raise ValueError("at least one round")
        if sorted(set(v)) != v:
            raise ValueError("rounds must be distinct and in increasing order")
        return v


def stay_until(day: dt.date, years: float) -> dt.date:
    """The end of a minimum stay begun on ``day``: ``years`` calendar years later (in whole
    months, e.g. 2.5 → 30 months), so a post taken on 2026-01-01 with 3 years is free on
    2029-01-01 (365.25-day years would make that 2.998 years and hold it a round longer)."""
    return add_months(day, round(years * 12))


def round_rules(rules: Rules, horizon: Horizon, k: int) -> Rules:
    """The single-round rules in force at round ``k``: ``as_of`` = the round's date, the
    trajectory's share as the non-local target, the per-round change cap; ``never_below_current``
    only in the first round (today → round 1)."""
    day = horizon.rounds[k]
    targets = rules.non_local_targets
    if horizon.trajectory:
        targets = [
            NonLocalTarget(
                position=t.position,
                scope_level=t.scope_level,  # type: ignore[arg-type]
                min_share=t.share_at(day),
            )
            for t in horizon.trajectory
        ]
    update: dict[str, object] = {"as_of": day, "non_local_targets": targets}
    if k > 0:
        # today → round 1 is never_below_current's (a v1.1 rule); between rounds the
        # trajectory's never_decrease governs, as the planner set it
        update["never_below_current"] = False
    if horizon.max_changes_per_round is not None:
        update["max_changes"] = horizon.max_changes_per_round
    return rules.model_copy(update=update)
