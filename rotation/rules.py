"""Planning rules (contract §2): one pydantic model, every default documented here and only here.

Load with :func:`load_rules` from YAML or JSON (a path, a string or a dict). Unknown keys are errors
that suggest the closest known key. Every hard rule is a parameter; nothing is hard-coded elsewhere.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

RatingName = Literal["excellent", "good", "complete", "not_complete"]

# ----------------------------------------------------------------------------- bounds
# Every rules field has a range, so one request (or one file) cannot ask the solver for an
# unbounded model, a seed OR-Tools refuses, or a weight that drowns every other term. These are
# the limits of the command line and of the service alike (the service may cap ``time_limit_s``
# lower, see api/settings.py).
MAX_WEIGHT = 1e6
"""Largest objective weight (km-equivalents); all weights are finite and in 0…1e6."""
MAX_SEED = 2**31 - 1
"""CP-SAT's random seed is a 32-bit signed integer: ``seed`` is in 0…2³¹−1."""
MAX_RATING_YEARS = 20
MAX_YEARS = 50.0
"""Longest tenure / time-to-retirement a rule may name (years)."""
MIN_RETIREMENT_AGE, MAX_RETIREMENT_AGE = 40.0, 80.0
MAX_KM = 1e6
"""Longest distance a rule may name (km): finite, far above any trip inside Vietnam (the
benchmarks use 1e6 as "no limit" on instances whose costs are not km)."""
MAX_TIME_LIMIT_S = 86_400.0
"""Longest solve a rules file may ask for (seconds, one day)."""
MAX_PAIRS = 5_000
"""Most locks, and most exclusions, one rules document may carry."""
MAX_ID_CHARS = 64
"""Longest post, cadre, unit or position id (characters), as in the data contract."""
MAX_COUNT = 100_000
"""Largest count a rule may name (posts, cadres)."""

Ident = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT)]
Years = Annotated[float, Field(ge=0, le=MAX_YEARS)]
Km = Annotated[float, Field(ge=0, le=MAX_KM)]
RetirementAge = Annotated[float, Field(ge=MIN_RETIREMENT_AGE, le=MAX_RETIREMENT_AGE)]


class StrictModel(BaseModel):
    """Unknown keys are errors; floats are finite (no NaN, no ±Infinity)."""

    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)


class NonLocalTarget(StrictModel):
    """Hard: at least ``ceil(min_share × n)`` non-local holders among the n posts of ``position``
    in each unit of ``scope_level`` (a district, or the province).

    Ranges: ``position`` an id of 1–64 characters; ``min_share`` a share in 0–1;
    ``min_count_by_scope`` at most 100,000 scopes, each count in 0–100,000."""

    position: Ident = "secretary"
    scope_level: Literal["district", "province"] = "district"
    min_share: float = Field(default=0.30, ge=0.0, le=1.0, description="share 0–1")

    min_count_by_scope: dict[Ident, Annotated[int, Field(ge=0, le=MAX_COUNT)]] = Field(
        default_factory=dict,
        max_length=MAX_COUNT,
        description="extension: at least this many non-local holders in the named scope units "
        "(e.g. keep today's count: a target that never falls back)",
    )

    def required(self, n_posts: int, scope: str | None = None) -> int:
        """Non-local holders needed among ``n_posts`` posts of ``scope`` (a tiny epsilon absorbs
        0.3 × 10 = 3.0000000004), at least the scope's ``min_count_by_scope``."""
        need = math.ceil(self.min_share * n_posts - 1e-9)
        if scope is not None:
            need = max(need, min(n_posts, self.min_count_by_scope.get(scope, 0)))
        return need


class MaxChanges(StrictModel):
    """Hard: at most ``count`` posts whose holder changes, per unit of ``scope_level``
    (a district, the province, or a commune: ``{scope_level: commune, count: 1}`` is the
    continuity rule — at most one key post of a commune changes at once). ``count_by_scope``
    overrides the count for named scope units (unit_id → count). Counts in 0–100,000."""

    scope_level: Literal["district", "province", "commune"] = "district"
    count: int = Field(default=5, ge=0, le=MAX_COUNT)
    count_by_scope: dict[Ident, int] = Field(default_factory=dict, max_length=MAX_PAIRS)

    def cap(self, scope: str) -> int:
        """The cap of one scope unit: its override, else ``count``."""
        return self.count_by_scope.get(scope, self.count)

    @field_validator("count_by_scope")
    @classmethod
    def _non_negative(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k, n in v.items() if not 0 <= n <= MAX_COUNT]
        if bad:
            raise ValueError(f"counts must be in 0–{MAX_COUNT} (not for {', '.join(bad)})")
        return v


class DisciplineMonths(StrictModel):
    """Months after a disciplinary measure during which the cadre takes no new post
    (Regulation 377-QĐ/TW: 24 / 36 / 60 months after a reprimand / warning / removal)."""

    reprimand: int = Field(default=24, ge=0, le=240, description="months after khiển trách")
    warning: int = Field(default=36, ge=0, le=240, description="months after cảnh cáo")
    removal: int = Field(default=60, ge=0, le=240, description="months after cách chức")


class SupportTier(StrictModel):
    """A monthly allowance for cadres whose travel (residence → post) is at least ``min_km``."""

    min_km: Km
    vnd_per_month: int = Field(ge=0, le=1_000_000_000)


class Support(StrictModel):
    """Support allowance per cadre who takes a new post, by travel km (contract v1.1): the
    highest tier with ``min_km`` ≤ travel applies (below every tier: 0); one cadre's support =
    ``one_time_vnd`` + ``months`` × ``vnd_per_month`` (0 when no tier applies).

    Default: the provincial resolutions the brief cites (2025): 2,000,000 VND a month for 36
    months when posted 15 km or more from home (e.g. Quảng Ninh, Phú Thọ; mountain provinces use
    10 km — set ``tiers: [{min_km: 10, vnd_per_month: 2000000}]``)."""

    months: int = Field(default=36, ge=0, le=120)
    tiers: list[SupportTier] = Field(
        default_factory=lambda: [SupportTier(min_km=15, vnd_per_month=2_000_000)], max_length=20
    )
    one_time_vnd: int = Field(default=0, ge=0, le=10_000_000_000)

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, v: list[SupportTier]) -> list[SupportTier]:
        kms = [t.min_km for t in v]
        if kms != sorted(kms) or len(set(kms)) != len(kms):
            raise ValueError(f"tiers must be in increasing order of min_km (got {kms})")
        return v

    def vnd_each(self, km: Any) -> Any:
        """The support (VND, an int64 array) of cadres travelling ``km`` (an array): the one
        place the tier rule is written; the model, the plan and the validator all use it."""
        import numpy as np

        km = np.asarray(km, dtype=float)
        rate = np.zeros(km.shape, dtype=np.int64)
        for t in self.tiers:  # ascending: the highest tier whose min_km is reached wins
            rate = np.where(km >= t.min_km - 1e-9, t.vnd_per_month, rate)
        return np.where(rate == 0, 0, self.one_time_vnd + self.months * rate).astype(np.int64)

    def vnd(self, km: float) -> int:
        """The support of one cadre travelling ``km`` (VND)."""
        return int(self.vnd_each([km])[0])


class PriorityShare(StrictModel):
    """Hard: among the cadres who take a new post in the plan, at least ``min_share`` belong to
    ``group`` (women; young = under 40 at ``as_of``; minority = ethnicity given and not Kinh)."""

    group: Literal["women", "young", "minority"]
    min_share: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("min_share")
    @classmethod
    def _ten_thousandths(cls, v: float) -> float:
        """Shares are read to 1/10,000 (the model's integer rows and the validator agree)."""
        return round(v, 4)


class PostCadre(StrictModel):
    """A (post, cadre) pair of a lock or an exclusion; both ids of 1–64 characters. The service
    also checks that both name a post and a cadre of the dataset (in the key's scope)."""

    post_id: Ident
    cadre_id: Ident


class Weights(StrictModel):
    """Objective weights (all minimised; a weight of 0 switches the term off).

    Units: ``travel_km`` per km of each assignment's travel (residence → post unit, every holder);
    ``change`` per post whose holder changes; ``vacancy`` per post left vacant (only with
    ``allow_vacancies``); ``non_local_extra`` is a *reward* per non-local holder beyond the target
    (subtracted); ``priority_women`` / ``priority_young`` / ``priority_minority`` are rewards per
    newly appointed woman / cadre under 40 at ``as_of`` / ethnic-minority cadre (ethnicity not
    "Kinh" and not empty); ``rating_fit`` is a reward per newly appointed cadre rated
    ``excellent`` in the most recent rated year; ``max_travel`` is a cost per km of the longest
    travel among cadres who take a new post (evens out the burden); ``support_cost`` per
    million VND of support allowance (contract v1.1); ``preference`` is a *reward* per cadre who
    takes a new post in a unit they wished for (``preferences`` table).

    Range: every weight is finite and in 0…1e6 (:data:`MAX_WEIGHT`): a larger one would swamp
    every other term and the solver's integer scaling.
    """

    travel_km: Weight = 1.0
    change: Weight = 0.0
    vacancy: Weight = 0.0
    non_local_extra: Weight = 0.0
    priority_women: Weight = 0.0
    priority_young: Weight = 0.0
    priority_minority: Weight = 0.0
    rating_fit: Weight = 0.0
    max_travel: Weight = 0.0
    support_cost: Weight = 0.0
    preference: Weight = 0.0


DEFAULT_WEIGHTS = Weights(
    travel_km=1.0,
    change=50.0,
    vacancy=1000.0,
    non_local_extra=0.0,
    priority_women=2.0,
    priority_young=2.0,
    priority_minority=2.0,
    rating_fit=2.0,
    max_travel=0.0,
    support_cost=0.0,
    preference=0.0,
)
"""Defaults when ``weights`` is absent: 1 per km, 50 per changed post (a move "costs" 50 km, so
nobody is moved just to shorten someone's commute),
1000 per vacancy, 2 (km-equivalents) per newly appointed woman / young / minority / excellent
cadre. When ``weights`` is given, every term it does not name is 0 (contract §2)."""


class Rules(StrictModel):
    """Contract §2 plus documented extensions. Defaults (the product's documented defaults):

    - ``as_of`` 2026-01-01 — date at which ages and tenures are measured.
    - ``positions`` [secretary] — positions the plan may change; other posts keep incumbents.
    - ``local_means`` hometown_or_residence; ``local_level`` commune.
    - ``non_local_targets`` — 30% non-local secretaries per district.
    - ``max_travel_km`` 60 km residence → post, for every cadre who takes a new post.
    - ``min_years_in_post`` 2; ``max_years_in_post`` 10 (Reg. 65: two terms).
    - ``min_years_to_retirement`` 5 (one term, Reg. 98) — to take a new post.
    - ``min_years_to_retirement_from_office`` 10 (Reg. 65-QĐ/TW 2022) — a cadre coming from a
      district or province office (not a commune post) to a commune post needs this many years
      before retirement, on top of ``min_years_to_retirement``.
    - ``discipline_months`` {reprimand: 24, warning: 36, removal: 60} (Reg. 377-QĐ/TW) — a
      cadre in the ``discipline`` table takes no new post until this many months after the
      measure's date.
    - ``priority_shares`` [] — hard shares of women / young / minority among the newly
      appointed (Conclusion 210; e.g. [{group: women, min_share: 0.25}]).
    - ``support`` — the support allowance by travel km (see :class:`Support`: 2,000,000 VND a
      month for 36 months from 15 km); ``budget_vnd`` None — a hard cap on the plan's total
      support cost (VND).
    - ``never_below_current`` true — in every scope of every non-local target, the plan never
      ends with fewer non-local holders than today (the policy: "more and more", never fewer).
    - ``retirement_age`` None → the legal roadmap (Labour Code 2019 art. 169, Decree 135/2020);
      a dict {M: years, F: years} fixes the ages instead.
    - ``min_rating`` good in each of the last ``rating_years`` = 2 years (missing = fails).
    - ``require_planning`` true; ``forbid_relatives_same_unit`` true.
    - ``max_changes`` None (no cap) — one cap or a list of caps (contract v1.1), each at
      district, province or commune level with per-unit ``count_by_scope`` overrides; the
      contract's example {district, 5} is opt-in. Read them through :attr:`change_caps`.
    - ``locks`` / ``exclude`` empty; ``weights`` see :data:`DEFAULT_WEIGHTS`.
    - ``candidates`` 1; ``candidate_min_diff`` 2 posts; ``candidate_tolerance`` 0.05 (a candidate's
      objective is within 5% of the best plan's).
    - ``time_limit_s`` 30; ``seed`` 0; ``workers`` 2.
    - ``allow_vacancies`` false.
    - ``circuity_factor`` 1.3 — road km ≈ great-circle km × 1.3 when no travel/road data.
    - ``road_cutoff_km`` 150 — shortest road paths longer than this are treated as unreachable.
    - ``same_province`` true — candidates come from the post's own province (no rule of a
      provincial committee reaches outside it).
    - ``horizon`` None — the term roadmap's rounds, trajectory and minimum stay
      (see rotation/roadmap/horizon.py for its keys and defaults).

    Ranges (checked on load, by the command line and the service alike; every float finite):

    - ``as_of`` a date in 1950-01-01…2100-12-31.
    - ``positions`` 1–20 ids of 1–64 characters; ``non_local_targets`` at most 100.
    - ``max_travel_km`` 0–1e6 km or None; ``road_cutoff_km`` > 0 and ≤ 1e6 km;
      ``circuity_factor`` 1–5.
    - ``min_years_in_post``, ``max_years_in_post``, ``min_years_to_retirement`` 0–50 years.
    - ``retirement_age`` ages 40–80 years.
    - ``rating_years`` 0–20.
    - ``locks`` and ``exclude`` at most 5,000 pairs each (:data:`MAX_PAIRS`).
    - ``weights`` each 0…1e6; ``max_changes.count`` 0–100,000.
    - ``candidates`` 1–20; ``candidate_min_diff`` 1–100,000 posts; ``candidate_tolerance``
      0–10 (a share of the best objective: 0.05 = 5%).
    - ``time_limit_s`` > 0 and ≤ 86,400 s (the service caps it lower: ``MAX_TIME_LIMIT_S``);
      ``seed`` 0…2³¹−1 (CP-SAT's 32-bit seed); ``workers`` 1–64.
    """

    as_of: dt.date = Field(
        default=dt.date(2026, 1, 1), ge=dt.date(1950, 1, 1), le=dt.date(2100, 12, 31)
    )
    positions: list[Ident] = Field(default_factory=lambda: ["secretary"], max_length=20)
    local_means: Literal["hometown", "residence", "hometown_or_residence"] = "hometown_or_residence"
    local_level: Literal["commune", "district"] = "commune"
    non_local_targets: list[NonLocalTarget] = Field(
        default_factory=lambda: [NonLocalTarget(position="secretary", scope_level="district")],
        max_length=100,
    )
    max_travel_km: Km | None = 60.0
    min_years_in_post: Years = 2.0
    max_years_in_post: Years | None = 10.0
    min_years_to_retirement: Years = 5.0
    min_years_to_retirement_from_office: Years = 10.0
    discipline_months: DisciplineMonths = Field(default_factory=lambda: DisciplineMonths())
    never_below_current: bool = True
    priority_shares: list[PriorityShare] = Field(default_factory=list, max_length=3)
    support: Support = Field(default_factory=lambda: Support())
    budget_vnd: int | None = Field(default=None, ge=0, le=10**15)
    retirement_age: dict[Literal["M", "F"], RetirementAge] | None = None
    min_rating: RatingName | None = "good"
    rating_years: int = Field(default=2, ge=0, le=MAX_RATING_YEARS)
    require_planning: bool = True
    forbid_relatives_same_unit: bool = True
    max_changes: MaxChanges | Annotated[list[MaxChanges], Field(max_length=20)] | None = None
    locks: list[PostCadre] = Field(default_factory=list, max_length=MAX_PAIRS)
    exclude: list[PostCadre] = Field(default_factory=list, max_length=MAX_PAIRS)
    weights: Weights = Field(default_factory=lambda: DEFAULT_WEIGHTS.model_copy())
    candidates: int = Field(default=1, ge=1, le=20)
    candidate_min_diff: int = Field(default=2, ge=1, le=MAX_COUNT)
    candidate_tolerance: float = Field(default=0.05, ge=0, le=10)
    time_limit_s: float = Field(default=30.0, gt=0, le=MAX_TIME_LIMIT_S)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    workers: int = Field(default=2, ge=1, le=64)
    allow_vacancies: bool = False
    circuity_factor: float = Field(default=1.3, ge=1.0, le=5.0)
    road_cutoff_km: float = Field(default=150.0, gt=0, le=MAX_KM)
    same_province: bool = True
    horizon: dict[str, Any] | None = None
    """Term roadmap settings (rotation.roadmap.horizon.Horizon); validated by the roadmap."""

    @property
    def change_caps(self) -> list[MaxChanges]:
        """``max_changes`` as a list (empty when there is no cap)."""
        if self.max_changes is None:
            return []
        if isinstance(self.max_changes, MaxChanges):
            return [self.max_changes]
        return list(self.max_changes)

    @field_validator("positions")
    @classmethod
    def _positions_not_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one position")
        return v

    @model_validator(mode="before")
    @classmethod
    def _weights_named_only(cls, values: Any) -> Any:
        """Contract: when ``weights`` is given, every term it does not name is 0."""
        if isinstance(values, dict) and isinstance(values.get("weights"), dict):
            given = values["weights"]
            full = {k: 0.0 for k in Weights.model_fields}
            full.update(given)
            values = {**values, "weights": full}
        return values


class RulesError(ValueError):
    """Invalid rules: ``messages`` are one line per problem."""

    def __init__(self, messages: list[str], source: str = "rules") -> None:
        self.messages = messages
        self.source = source
        super().__init__("\n".join(f"{source}: {m}" for m in messages))


def _known_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


_NESTED: dict[str, type[BaseModel]] = {
    "weights": Weights,
    "non_local_targets": NonLocalTarget,
    "max_changes": MaxChanges,
    "discipline_months": DisciplineMonths,
    "priority_shares": PriorityShare,
    "support": Support,
    "tiers": SupportTier,
    "locks": PostCadre,
    "exclude": PostCadre,
}


_TYPE_MISMATCH = {"model_type", "list_type", "dict_type", "model_attributes_type"}


_UNION_FIELDS = {"max_changes": ("MaxChanges", "list[MaxChanges]")}
"""Fields that take one of several shapes, with the tags pydantic puts after them in an error's
location (one per shape)."""


def _one_branch(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """A field that takes one of several shapes (``max_changes``: one cap or a list) reports
    every shape's errors; keep those of the shape the value was written in (not "should be a
    list" for a mapping) and drop the shape tag from the location (``max_changes.count``)."""
    plain: list[ErrorDetails] = []
    by_shape: dict[str, dict[str, list[ErrorDetails]]] = {}
    for e in errors:
        loc = e["loc"]
        tags = _UNION_FIELDS.get(str(loc[0])) if len(loc) > 1 else None
        if tags is None or loc[1] not in tags:
            plain.append(e)
            continue
        by_shape.setdefault(str(loc[0]), {}).setdefault(str(loc[1]), []).append(e)
    out = list(plain)
    for field, shapes in by_shape.items():
        fitting = [es for es in shapes.values() if not all(x["type"] in _TYPE_MISMATCH for x in es)]
        for es in fitting or list(shapes.values())[:1]:
            for e in es:
                out.append({**e, "loc": (field, *e["loc"][2:])})
    return out


def _format_error(err: ErrorDetails) -> str:
    loc = ".".join(str(p) for p in err["loc"]) or "(top)"
    if err["type"] == "extra_forbidden" and err["loc"]:
        key = str(err["loc"][-1])
        parent = next((str(p) for p in err["loc"][:-1] if str(p) in _NESTED), None)
        known = _known_keys(_NESTED[parent]) if parent else _known_keys(Rules)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"
        return f"{loc}: unknown key '{key}'{hint}"
    got = repr(err.get("input"))
    if len(got) > 80:  # a 5 MB list of locks is not echoed back
        got = got[:77] + "..."
    return f"{loc}: {err['msg']} (got {got})"


def load_rules(source: str | Path | dict[str, Any] | None = None) -> Rules:
    """Rules from a YAML/JSON file path, a YAML/JSON string, a dict, or None (all defaults)."""
    name = "rules"
    if source is None:
        raw: Any = {}
    elif isinstance(source, dict):
        raw = source
    else:
        path = Path(source) if not isinstance(source, str) or "\n" not in source else None
        if path is not None and path.exists():
            name = str(path)
            text = path.read_text(encoding="utf-8-sig")
        elif isinstance(source, Path):
            raise RulesError([f"file not found: {source}"], str(source))
        else:
            text = str(source)
        try:
            raw = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise RulesError([f"not valid YAML/JSON: {exc}"], name) from None
        raw = raw or {}
    if not isinstance(raw, dict):
        raise RulesError(["the rules must be a mapping of keys to values"], name)
    try:
        return Rules.model_validate(raw)
    except ValidationError as exc:
        raise RulesError([_format_error(e) for e in _one_branch(exc.errors())], name) from None
