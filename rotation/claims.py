"""What a plan should say about itself, recomputed for the validator from the data and the rules.

Plan building (:mod:`rotation.plan`, :mod:`rotation.solve`) writes a plan's claims — each
assignment's ``previous_post_id``, ``changed``, ``non_local``, ``travel_km`` and the ``kpis``.
This module is the validator's own account of the same facts. It reads only the tables, the
concept helpers (:func:`rotation.concepts.local_pairs`, :func:`rotation.concepts.kpi_scope_level`)
and distances (:func:`rotation.geo.distances`), never the plan-building code, so a bug there is
written into a plan and then caught here instead of being confirmed. The two computations may
look alike; they must stay two.

A claim the plan does not make (an optional field it leaves out, contract §3) is not checked; a
claim it makes is checked in full. The plan's *content* — which post is listed with which cadre —
is not a claim: it is what the claims are about.

- :class:`ClaimContext` / :meth:`ClaimContext.holding`: what the data says about one listed
  (post, holder);
- :data:`HOLDER_CLAIMS`: one check per assignment claim;
- :class:`PlanFacts` and :data:`KPI_CHECKS`: the KPIs, one function each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .concepts import age_years, is_minority, kpi_scope_level, local_pairs
from .data import ProblemData
from .geo import distances
from .plan import Assignment
from .rules import Rules

CLAIM_KM_TOL = 0.01
"""Tolerance on claimed km (per assignment, total and max): plans round km to 3 decimals."""
SHARE_TOL = 1e-4
"""Tolerance on claimed non-local shares."""


# =========================================================================== one holding
@dataclass(frozen=True)
class Holding:
    """One listed (post, holder) as the data sees it (``cadre_id`` None: left vacant)."""

    post_id: str
    unit_id: str
    position: str
    incumbent_id: str | None
    cadre_id: str | None
    known: bool
    """The cadre is in the data (always true for a vacancy). For an unknown cadre nothing can be
    recomputed: ``non_local`` and ``travel_km`` are the plan's own (``unknown_cadre`` is
    reported on its own)."""
    previous_post_id: str | None
    changed: bool
    non_local: bool
    travel_km: float
    """Residence → post unit, unrounded (``inf`` when unreachable; 0 for a vacancy)."""
    support_vnd: int = 0
    """The support allowance of a holder who takes a new post (rules.support, on the km
    rounded to metres as plans state them); 0 otherwise."""


def _text_or_none(v: object) -> str | None:
    return v if isinstance(v, str) and v else None


class ClaimContext:
    """The tables a plan's claims are recomputed from, read once per plan."""

    def __init__(self, data: ProblemData, rules: Rules) -> None:
        self.data = data
        self.rules = rules
        posts = data.posts
        self.unit: dict[str, str] = posts["unit_id"].to_dict()
        self.position: dict[str, str] = posts["position"].to_dict()
        self.incumbent: dict[str, str | None] = {
            p: _text_or_none(c) for p, c in posts["incumbent_id"].items()
        }
        self.post_before: dict[str, str] = {c: p for p, c in self.incumbent.items() if c}
        """cadre_id → the post held before the plan (office cadres hold none)."""
        self._dist = distances(data, rules)
        self._km: dict[tuple[str, str], float] = {}
        self._local: dict[tuple[str, str], bool] = {}

    def learn_locality(self, held: Iterable[tuple[str | None, str]]) -> None:
        """Whether each (cadre, post) holder in the data is local to the post, in one call of
        :func:`~rotation.concepts.local_pairs` (a national plan lists ten thousand posts); no
        holder, a cadre not in the data or a post not in it is skipped."""
        cadres = self.data.cadres
        todo = sorted(
            {
                (c, self.unit[p])
                for c, p in held
                if c is not None and p in self.unit and c in cadres.index
            }
            - self._local.keys()
        )
        if not todo:
            return
        ids = [c for c, _ in todo]
        local = local_pairs(
            self.data,
            self.rules,
            cadres.loc[ids, "hometown_id"].tolist(),
            cadres.loc[ids, "residence_id"].tolist(),
            [u for _, u in todo],
        )
        self._local.update(zip(todo, local.tolist(), strict=True))

    def non_local(self, cadre_id: str | None, post_id: str) -> bool:
        """Whether ``cadre_id`` (in the data) is a non-local holder of ``post_id``; no holder,
        or one not in the data: no (learned by :meth:`learn_locality` when not yet known)."""
        if cadre_id is None or cadre_id not in self.data.cadres.index:
            return False
        key = (cadre_id, self.unit[post_id])
        if key not in self._local:
            self.learn_locality([(cadre_id, post_id)])
        return not self._local[key]

    def km(self, from_id: str, to_id: str) -> float:
        """Distance in km between two units (cached per pair)."""
        key = (from_id, to_id)
        if key not in self._km:
            self._km[key] = float(self._dist.km(from_id, to_id))
        return self._km[key]

    def holding(self, listed: Assignment) -> Holding:
        """The facts of one listed assignment of a post in the data."""
        p, c = listed.post_id, listed.cadre_id
        unit, inc = self.unit[p], self.incumbent[p]
        known, prev, non_local, km = True, None, False, 0.0
        if c is not None and c not in self.data.cadres.index:
            known, non_local, km = False, bool(listed.non_local), float(listed.travel_km)
        elif c is not None:
            res = self.data.cadres.at[c, "residence_id"]
            prev = self.post_before.get(c)
            non_local = self.non_local(c, p)
            km = self.km(res, unit)
        takes_new = c is not None and c != inc
        support = self.rules.support.vnd(round(km, 3)) if takes_new and math.isfinite(km) else 0
        return Holding(
            post_id=p,
            unit_id=unit,
            position=self.position[p],
            incumbent_id=inc,
            cadre_id=c,
            known=known,
            previous_post_id=prev,
            changed=c != inc,
            non_local=non_local,
            travel_km=km,
            support_vnd=support,
        )


# =========================================================================== assignment claims
HolderCheck = Callable[[Assignment, Holding, Rules], str | None]
"""One assignment claim: None when it is true (or does not apply), else what is wrong."""


def claim_previous_post(a: Assignment, h: Holding, rules: Rules) -> str | None:
    if a.previous_post_id == h.previous_post_id:
        return None
    return f"claims previous post {a.previous_post_id}, the data says {h.previous_post_id}"


def claim_changed(a: Assignment, h: Holding, rules: Rules) -> str | None:
    if bool(a.changed) == h.changed:
        return None
    return f"claims changed={a.changed}, incumbent is {h.incumbent_id}"


def claim_non_local(a: Assignment, h: Holding, rules: Rules) -> str | None:
    if h.cadre_id is None or bool(a.non_local) == h.non_local:
        return None
    return (
        f"claims non_local={a.non_local}, the data says {h.non_local} "
        f"(local means {rules.local_means} at {rules.local_level} level)"
    )


def claim_travel_km(a: Assignment, h: Holding, rules: Rules) -> str | None:
    if h.cadre_id is None or close(a.travel_km, h.travel_km, CLAIM_KM_TOL):
        return None
    return f"claims {a.travel_km} km, residence → post is {round(h.travel_km, 3)} km"


def claim_support_vnd(a: Assignment, h: Holding, rules: Rules) -> str | None:
    if a.support_vnd == h.support_vnd:
        return None
    return (
        f"claims support {a.support_vnd} VND, the rules' tiers give {h.support_vnd} VND "
        f"for {round(h.travel_km, 3)} km"
    )


HOLDER_CLAIMS: dict[str, tuple[str, HolderCheck]] = {
    "previous_post_id": ("claim_previous_post", claim_previous_post),
    "changed": ("claim_changed", claim_changed),
    "non_local": ("claim_non_local", claim_non_local),
    "travel_km": ("claim_travel_km", claim_travel_km),
    "support_vnd": ("claim_support", claim_support_vnd),
}
"""Assignment field → (rule name in :data:`rotation.rulebook.CLAIMS`, its check). A field the
assignment does not carry is not claimed and not checked."""


def wrong_names(a: Assignment, data: ProblemData) -> list[tuple[str, str]]:
    """``cadre_name`` and ``unit_name`` (contract v1.1), when claimed, match the data."""
    out = []
    made = a.model_fields_set
    if "unit_name" in made and a.post_id in data.posts.index:
        want = str(data.units.at[data.posts.at[a.post_id, "unit_id"], "name"])
        if a.unit_name != want:
            out.append(("claim_names", f"claims unit name {a.unit_name!r}, the data says {want!r}"))
    if "cadre_name" in made and a.cadre_id is not None and a.cadre_id in data.cadres.index:
        want = str(data.cadres.at[a.cadre_id, "full_name"])
        if a.cadre_name != want:
            out.append(
                ("claim_names", f"claims cadre name {a.cadre_name!r}, the data says {want!r}")
            )
    return out


def wrong_holder_claims(a: Assignment, h: Holding, rules: Rules) -> list[tuple[str, str]]:
    """(rule, message) for every claim ``a`` makes that the data contradicts."""
    if not h.known:
        return []  # nothing to recompute against: unknown_cadre says so
    made = a.model_fields_set
    out = []
    for name, (rule, check) in HOLDER_CLAIMS.items():
        if name in made and (why := check(a, h, rules)) is not None:
            out.append((rule, why))
    return out


# =========================================================================== KPIs
@dataclass(frozen=True)
class PlanFacts:
    """The plan's listed assignments (of posts in the data) as the data sees them."""

    holdings: list[Holding]
    scopes: list[str]
    """The KPI scope (:func:`rotation.concepts.kpi_scope_level`) of each holding's unit."""
    data: ProblemData | None = None
    rules: Rules | None = None

    @property
    def held(self) -> list[Holding]:
        return [h for h in self.holdings if h.cadre_id is not None]


def plan_facts(ctx: ClaimContext, listed: Iterable[Assignment]) -> PlanFacts:
    """Facts of every listed assignment whose post is in the data, in plan order."""
    listed = list(listed)
    ctx.learn_locality((a.cadre_id, a.post_id) for a in listed)
    holdings = [ctx.holding(a) for a in listed if a.post_id in ctx.unit]
    level = kpi_scope_level(ctx.data, ctx.rules)
    scopes = ctx.data.scope_of([h.unit_id for h in holdings], level).tolist()
    return PlanFacts(holdings, [str(s) for s in scopes], ctx.data, ctx.rules)


def kpi_changed_posts(f: PlanFacts) -> int:
    """Listed posts whose holder differs from the incumbent (a vacated post counts)."""
    return sum(int(h.changed) for h in f.holdings)


def kpi_total_travel_km(f: PlanFacts) -> float:
    """km residence → post, summed over every holder."""
    return math.fsum(h.travel_km for h in f.held)


def kpi_max_travel_km(f: PlanFacts) -> float:
    """The longest residence → post km of any holder (0 without holders)."""
    return max((h.travel_km for h in f.held), default=0.0)


def kpi_posts(f: PlanFacts) -> int:
    """Listed posts (the share's denominator)."""
    return len(f.holdings)


def kpi_non_local_posts(f: PlanFacts) -> int:
    """Listed posts with a non-local holder (the share's numerator)."""
    return sum(int(h.non_local) for h in f.held)


def kpi_share_overall(f: PlanFacts) -> float:
    """Non-local holders / listed posts (0 with no post)."""
    n = kpi_posts(f)
    return kpi_non_local_posts(f) / n if n else 0.0


def kpi_share_by_scope(f: PlanFacts) -> dict[str, float]:
    """Non-local holders / listed posts in each KPI scope."""
    per: dict[str, list[int]] = {}
    for h, s in zip(f.holdings, f.scopes, strict=True):
        n_nl = per.setdefault(s, [0, 0])
        n_nl[0] += 1
        n_nl[1] += int(h.cadre_id is not None and h.non_local)
    return {s: nl / n for s, (n, nl) in sorted(per.items())}


def kpi_support_cost_vnd(f: PlanFacts) -> int:
    """Support allowance (VND) summed over holders who take a new post."""
    return sum(h.support_vnd for h in f.holdings)


def _new_holders(f: PlanFacts) -> list[Holding] | None:
    """Holders who take a new post; None when one of them is not in the data (nothing to
    recompute: ``unknown_cadre`` says so)."""
    new = [h for h in f.held if h.changed]
    return None if any(not h.known for h in new) else new


def kpi_new_appointees(f: PlanFacts) -> dict[str, int] | None:
    """Cadres who take a new post: how many, women, young (under 40 at as_of), minority."""
    assert f.data is not None and f.rules is not None
    cad = f.data.cadres
    new = _new_holders(f)
    if new is None:
        return None
    out = {"count": len(new), "women": 0, "young": 0, "minority": 0}
    for h in new:
        row = cad.loc[h.cadre_id]
        out["women"] += int(row["gender"] == "F")
        out["young"] += int(age_years(row["birth_date"], f.rules.as_of) < 40)
        out["minority"] += int(is_minority(row["ethnicity"]))
    return out


def kpi_preferences(f: PlanFacts) -> dict[str, int] | None:
    """Among cadres who take a new post: with wishes, placed in a wished unit (the commune or
    its district), placed in their first choice."""
    assert f.data is not None
    prefs = f.data.preferences
    wished: dict[str, dict[str, int]] = {}
    for c, u, r in prefs[["cadre_id", "unit_id", "rank"]].itertuples(index=False):
        best = wished.setdefault(str(c), {})
        best[str(u)] = min(int(r), best.get(str(u), int(r)))
    district = f.data.units["district_id"]
    out = {"with_wishes": 0, "placed_in_wish": 0, "placed_first_choice": 0}
    new = _new_holders(f)
    if new is None:
        return None
    for h in new:
        mine = wished.get(str(h.cadre_id))
        if not mine:
            continue
        out["with_wishes"] += 1
        d = district.get(h.unit_id)
        ranks = [mine[k] for k in (h.unit_id, d) if isinstance(k, str) and k in mine]
        if ranks:
            out["placed_in_wish"] += 1
            out["placed_first_choice"] += int(min(ranks) == 1)
    return out


def same_counts(name: str, got: object, want: Any) -> list[str]:
    """A claimed object of counts (``new_appointees``, ``preferences``): each key right."""
    if not isinstance(got, Mapping):
        return [f"{name} {got!r} is not an object of counts"]
    out = []
    for k in sorted(want):
        if not close(got.get(k), want[k], 0.0):
            out.append(f"{name}.{k} {_got(got.get(k))}, recomputed {want[k]}")
    return out


def _number(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def close(a: object, b: object, tol: float) -> bool:
    """Two numbers equal within ``tol`` (infinities only equal to themselves; a non-number never
    equals anything)."""
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return False
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= tol + 1e-12


def _shown(v: float) -> float:
    return round(v, 6) if math.isfinite(v) else v


def _got(v: object) -> str:
    """A claimed value as shown in a message (a non-number quoted, so "2" is not 2)."""
    return str(v) if _number(v) is not None else repr(v)


def same_count(name: str, got: object, want: Any) -> list[str]:
    return [] if close(got, want, 0.0) else [f"{name} {_got(got)}, recomputed {want}"]


def same_km(name: str, got: object, want: Any) -> list[str]:
    tol = max(CLAIM_KM_TOL, 1e-6 * abs(want)) if math.isfinite(want) else 0.0
    return [] if close(got, want, tol) else [f"{name} {_got(got)}, recomputed {round(want, 3)}"]


def same_share(name: str, got: object, want: Any) -> list[str]:
    ok = close(got, want, SHARE_TOL)
    return [] if ok else [f"{name} {_got(got)}, recomputed {_shown(want)}"]


def same_shares(name: str, got: object, want: Any) -> list[str]:
    """A claimed ``{scope: share}`` lists exactly the plan's scopes, each share right."""
    if not isinstance(got, Mapping):
        return [f"{name} {got!r} is not an object of scope → share"]
    out = []
    for s in sorted(set(got) | set(want)):
        g, w = got.get(s), want.get(s)
        if g is None or w is None or not close(g, w, SHARE_TOL):
            out.append(f"{name}[{s}] {_got(g)}, recomputed {None if w is None else _shown(w)}")
    return out


@dataclass(frozen=True)
class KpiCheck:
    """One KPI: where its claim sits in ``kpis``, how the validator computes it, how to compare."""

    path: tuple[str, ...]
    compute: Callable[[PlanFacts], Any]
    compare: Callable[[str, object, Any], list[str]]

    @property
    def name(self) -> str:
        return ".".join(self.path)


KPI_CHECKS: list[KpiCheck] = [
    KpiCheck(("non_local_share", "overall"), kpi_share_overall, same_share),
    KpiCheck(("non_local_share", "by_scope"), kpi_share_by_scope, same_shares),
    KpiCheck(("non_local_share", "non_local_posts"), kpi_non_local_posts, same_count),
    KpiCheck(("non_local_share", "posts"), kpi_posts, same_count),
    KpiCheck(("changed_posts",), kpi_changed_posts, same_count),
    KpiCheck(("total_travel_km",), kpi_total_travel_km, same_km),
    KpiCheck(("max_travel_km",), kpi_max_travel_km, same_km),
    # contract v1.1 (§3.1)
    KpiCheck(("support_cost_vnd",), kpi_support_cost_vnd, same_count),
    KpiCheck(("new_appointees",), kpi_new_appointees, same_counts),
    KpiCheck(("preferences",), kpi_preferences, same_counts),
]
"""Every KPI a plan may claim. A KPI the plan's ``kpis`` do not carry is not checked."""


def _claimed(kpis: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, object]:
    node: object = kpis
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def wrong_kpis(f: PlanFacts, claimed: Mapping[str, Any]) -> list[str]:
    """One line per KPI that ``claimed`` (the plan's kpis, only the fields it sets) gets wrong."""
    out: list[str] = []
    for check in KPI_CHECKS:
        present, got = _claimed(claimed, check.path)
        if present and (want := check.compute(f)) is not None:
            out += check.compare(check.name, got, want)
    return out
