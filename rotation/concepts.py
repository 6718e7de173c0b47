"""The planner's concepts, defined once: who is local, tenure, retirement date, rating check,
relatives. Eligibility, the model, the validator, KPIs and explanations all call these, so a rule
means the same thing everywhere.

Each concept has a scalar form (one cadre, readable, used by the validator and explanations) and,
where the model needs it on thousands of cadres, a vectorised form over the cadres table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from .data import RATING_RANK, ProblemData
from .rules import Rules

DAYS_PER_YEAR = 365.25
MINORITY_EXCLUDED = {"", "kinh", "việt", "viet"}


# --------------------------------------------------------------------------- time
def years_between(start: dt.date, end: dt.date) -> float:
    """Years (365.25-day) from ``start`` to ``end``; negative when ``end`` is earlier."""
    return (end - start).days / DAYS_PER_YEAR


def tenure_years(current_since: dt.date, as_of: dt.date) -> float:
    """Years in the current post or office at ``as_of``."""
    return years_between(current_since, as_of)


def age_years(birth_date: dt.date, as_of: dt.date) -> float:
    return years_between(birth_date, as_of)


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus whole months (day clamped to the month's end, e.g. 31 Jan + 1 month = 28/29 Feb)."""
    year, month, last = _month_after(d.year, d.month, months)
    return dt.date(year, month, min(d.day, last))


def _month_after(year: int, month: int, months: int) -> tuple[int, int, int]:
    """The (year, month) ``months`` after ``year``-``month``, and that month's last day."""
    y, m = divmod(month - 1 + months, 12)
    year, month = year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return year, month, last


# Labour Code 2019 art. 169 and Decree 135/2020: the statutory retirement age rises each year.
_ROADMAP = {
    # gender: (age in months in 2021, months added per year, final age in months, old age)
    "M": (60 * 12 + 3, 3, 62 * 12, 60 * 12),
    "F": (55 * 12 + 4, 4, 60 * 12, 55 * 12),
}


def statutory_retirement_age_months(gender: str, year: int) -> int:
    """Retirement age (months) for someone reaching it in ``year`` under the legal roadmap:
    men 60y3m in 2021 +3 months a year up to 62 (2028); women 55y4m in 2021 +4 months a year up
    to 60 (2035). Before 2021 the old ages (60/55) applied."""
    start, step, final, old = _ROADMAP[gender]
    if year < 2021:
        return old
    return min(final, start + step * (year - 2021))


def retirement_age_months(
    gender: str, birth_date: dt.date, fixed_ages: Mapping[Any, float] | None = None
) -> int:
    """The age, in months, at which a cadre retires: with ``fixed_ages`` (rules
    ``retirement_age``, e.g. {M: 62, F: 60}) that age; else the legal roadmap's age in force in
    the first year Y in which the cadre reaches the age in force in Y. It depends on the gender
    and the birth year and month only (the day never moves the month an age is reached in)."""
    if fixed_ages is not None and gender in fixed_ages:
        return round(fixed_ages[gender] * 12)
    old = _ROADMAP[gender][3]

    def year_reached(months: int) -> int:
        return birth_date.year + (birth_date.month - 1 + months) // 12

    if year_reached(old) < 2021:
        return old
    # before the year the cadre reaches even the old age, they cannot retire, so start there
    months = old
    for year in range(max(2021, year_reached(old)), 2100):
        months = statutory_retirement_age_months(gender, year)
        if year_reached(months) <= year:
            return months
    return months  # pragma: no cover - unreachable for real birth dates


def retirement_date(
    gender: str, birth_date: dt.date, fixed_ages: Mapping[Any, float] | None = None
) -> dt.date:
    """The date a cadre reaches retirement age (:func:`retirement_age_months`)."""
    return add_months(birth_date, retirement_age_months(gender, birth_date, fixed_ages))


def years_to_retirement(
    gender: str, birth_date: dt.date, as_of: dt.date, fixed_ages: Mapping[Any, float] | None = None
) -> float:
    return years_between(as_of, retirement_date(gender, birth_date, fixed_ages))


# --------------------------------------------------------------------------- ratings
def rating_years_checked(rules: Rules) -> list[int]:
    """The calendar years whose ratings count: the ``rating_years`` years before ``as_of``."""
    return [rules.as_of.year - k for k in range(1, rules.rating_years + 1)]


def rating_ok(ratings_by_year: dict[int, str], rules: Rules) -> bool:
    """At least ``min_rating`` in each of the last ``rating_years`` years (missing = fails)."""
    if rules.min_rating is None:
        return True
    need = RATING_RANK[rules.min_rating]
    for year in rating_years_checked(rules):
        r = ratings_by_year.get(year)
        if r is None or RATING_RANK[r] < need:
            return False
    return True


def ratings_by_cadre(data: ProblemData) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for cid, year, rating in data.ratings[["cadre_id", "year", "rating"]].itertuples(index=False):
        out.setdefault(cid, {})[int(year)] = rating
    return out


def rating_ok_all(data: ProblemData, rules: Rules) -> pd.Series:
    """Vectorised :func:`rating_ok` for every cadre (bool Series indexed by cadre_id)."""
    if rules.min_rating is None or rules.rating_years == 0:
        return pd.Series(True, index=data.cadres.index)
    need = RATING_RANK[rules.min_rating]
    years = rating_years_checked(rules)
    r = data.ratings[data.ratings["year"].isin(years)]
    good = r[r["rating"].map(RATING_RANK) >= need]
    counts = good.drop_duplicates(["cadre_id", "year"]).groupby("cadre_id").size()
    return counts.reindex(data.cadres.index, fill_value=0) >= len(years)


def latest_rating_rows(ratings: pd.DataFrame) -> pd.DataFrame:
    """Each rated cadre's row of its latest year (the last such row in table order when a
    year repeats)."""
    return ratings.sort_values("year", kind="stable").drop_duplicates("cadre_id", keep="last")


def latest_rating(data: ProblemData, rules: Rules) -> pd.Series:
    """Each cadre's rating in the most recent year before ``as_of`` (None when unrated)."""
    r = latest_rating_rows(data.ratings[data.ratings["year"] < rules.as_of.year])
    return r.set_index("cadre_id")["rating"].reindex(data.cadres.index)


# --------------------------------------------------------------------------- local
def _cadre_keys(
    data: ProblemData, rules: Rules, hometown_ids: Iterable[str], residence_ids: Iterable[str]
) -> list[np.ndarray]:
    """The locality keys that make a cadre local, per ``local_means``: the hometown's, the
    residence's, or both, each at ``local_level`` (see ``ProblemData.locality_of``)."""
    lvl = rules.local_level
    keys = []
    if rules.local_means in ("hometown", "hometown_or_residence"):
        keys.append(_locality(data, hometown_ids, lvl))
    if rules.local_means in ("residence", "hometown_or_residence"):
        keys.append(_locality(data, residence_ids, lvl))
    return keys


def _locality(data: ProblemData, unit_ids: Iterable[str], level: str) -> np.ndarray:
    """``data.locality_of`` element by element, computed once per distinct unit: the pair
    arrays repeat a few hundred units tens of thousands of times."""
    codes, uniques = pd.factorize(np.asarray(list(unit_ids), dtype=object), use_na_sentinel=False)
    return data.locality_of(list(uniques), level).to_numpy()[codes]


def local_pairs(
    data: ProblemData,
    rules: Rules,
    hometown_ids: Iterable[str],
    residence_ids: Iterable[str],
    unit_ids: Iterable[str],
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The one definition of "local", pair by pair: bool array, True where the cadre from
    ``hometown_ids[i]`` living in ``residence_ids[i]`` is local to ``unit_ids[i]``.

    ``local_means`` picks hometown, residence or either; ``local_level`` compares communes, or
    the districts they belong to (2-level data: the commune itself).

    ``pairs = (ci, pj)``: the ids are those of cadres and of posts' units, and pair ``k`` is
    cadre ``ci[k]`` with unit ``pj[k]``: the same answers, each id looked up once rather than
    once per pair (eligibility's hundreds of thousands of pairs).
    """
    post_key = _locality(data, unit_ids, rules.local_level)
    cadre_keys = _cadre_keys(data, rules, hometown_ids, residence_ids)
    if pairs is None:
        local = np.zeros(len(post_key), dtype=bool)
        for key in cadre_keys:
            local |= key == post_key
        return local
    ci, pj = pairs
    codes = _key_codes([post_key, *cadre_keys])
    if codes is None:  # a key that is not a text: compared as objects, as above
        codes = [post_key, *cadre_keys]
    post_code, *cadre_codes = codes
    local = np.zeros(len(ci), dtype=bool)
    for code in cadre_codes:
        local |= code[ci] == post_code[pj]
    return local


def _key_codes(keys: list[np.ndarray]) -> list[np.ndarray] | None:
    """The locality keys as integer codes, equal exactly where the keys are equal (texts), or
    None when a key is not a text (None, NaN: their equality is left to object comparison)."""
    index: dict[str, int] = {}
    out = []
    for key in keys:
        values = key.tolist()
        if not all(type(v) is str for v in values):
            return None
        out.append(np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64))
    return out


def is_local(
    data: ProblemData, hometown_id: str, residence_id: str, unit_id: str, rules: Rules
) -> bool:
    """Is a cadre from ``hometown_id`` living in ``residence_id`` local to ``unit_id``?
    (One pair of :func:`local_pairs`.)"""
    return bool(local_pairs(data, rules, [hometown_id], [residence_id], [unit_id])[0])


def local_matrix(
    data: ProblemData, cadre_ids: pd.Index, unit_ids: Iterable[str], rules: Rules
) -> np.ndarray:
    """:func:`local_pairs` for every (cadre, unit) combination: bool array [cadre, unit]."""
    post_key = _locality(data, unit_ids, rules.local_level)
    c = data.cadres.loc[cadre_ids]
    out = np.zeros((len(cadre_ids), len(post_key)), dtype=bool)
    for key in _cadre_keys(data, rules, c["hometown_id"], c["residence_id"]):
        out |= key[:, None] == post_key[None, :]
    return out


def is_minority(ethnicity: object) -> bool:
    """Ethnic minority: an ethnicity other than Kinh (empty = unknown = not counted)."""
    if not isinstance(ethnicity, str):
        return False
    return ethnicity.strip().lower() not in MINORITY_EXCLUDED


def holders_non_local(data: ProblemData, rules: Rules, posts: pd.DataFrame) -> pd.Series:
    """Is each post's current holder non-local to it (bool per post_id; vacant posts are
    False)? Today's non-local holders: the baseline of status tables and of
    ``never_below_current``."""
    out = pd.Series(False, index=posts.index, dtype=bool)
    held = posts[posts["incumbent_id"].map(lambda c: isinstance(c, str) and bool(c))]
    if held.empty:
        return out
    c = data.cadres.loc[held["incumbent_id"].tolist()]
    local = local_pairs(
        data, rules, c["hometown_id"].tolist(), c["residence_id"].tolist(), held["unit_id"].tolist()
    )
    out.loc[held.index] = ~local
    return out


# --------------------------------------------------------------------------- office, discipline
def from_office(data: ProblemData) -> pd.Series:
    """Does each cadre work in a district or province office (not in a commune) now? Such a
    cadre rotated to a commune post needs ``min_years_to_retirement_from_office`` (Reg. 65)."""
    level = data.units["level"].reindex(data.cadres["current_unit_id"]).to_numpy()
    return pd.Series(level != "commune", index=data.cadres.index, dtype=bool)


def discipline_until(data: ProblemData, rules: Rules) -> pd.Series:
    """The date until which each cadre may take no new post because of a disciplinary measure
    (``date`` + ``discipline_months[kind]``; the latest when several), None when no record."""
    months = rules.discipline_months.model_dump()
    until: dict[str, dt.date] = {}
    for cid, kind, date in data.discipline[["cadre_id", "kind", "date"]].itertuples(index=False):
        d = add_months(date, int(months[kind]))
        if cid not in until or d > until[cid]:
            until[cid] = d
    ids = data.cadres.index
    return pd.Series([until.get(c) for c in ids.tolist()], index=ids, dtype=object)


def under_discipline(data: ProblemData, rules: Rules, until: pd.Series | None = None) -> pd.Series:
    """Bool per cadre: still inside a disciplinary period at ``as_of`` (``until``: the
    cadres' :func:`discipline_until`, when the caller has it)."""
    until = discipline_until(data, rules) if until is None else until
    as_of = rules.as_of
    inside = [d is not None and as_of < d for d in until.tolist()]
    return pd.Series(inside, index=until.index, dtype=bool)


# --------------------------------------------------------------------------- wishes, support
def wish_rank(
    data: ProblemData,
    cadre_ids: Iterable[str],
    unit_ids: Iterable[str],
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Pair by pair, the rank of the cadre's wish for the unit (its commune, or the district it
    lies in; the best rank when both are wished), 0 when not wished.

    ``pairs = (ci, pj)``: pair ``k`` is cadre ``cadre_ids[ci[k]]`` with unit
    ``unit_ids[pj[k]]`` (as :func:`local_pairs`): each id is looked up once, not per pair."""
    cads, units = list(cadre_ids), list(unit_ids)
    ci, pj = pairs if pairs is not None else (np.arange(len(cads)), np.arange(len(units)))
    if data.preferences.empty or not len(ci):
        return np.zeros(len(ci), dtype=np.int64)
    prefs = data.preferences
    keys, ranks, cad_code, unit_code = data.derived("wishes", (prefs,), lambda: _wishes(prefs))
    n_units = len(unit_code)
    pair_cadre = np.fromiter((cad_code.get(c, -1) for c in cads), np.int64, len(cads))[ci]
    dist = data.units["district_id"].reindex(units).to_numpy()
    none = np.iinfo(np.int64).max
    best = np.full(len(ci), none, dtype=np.int64)  # the best rank found so far
    for where in (units, dist):  # the unit itself, then its district
        pair_unit = np.fromiter((unit_code.get(u, -1) for u in where), np.int64, len(units))[pj]
        known = (pair_cadre >= 0) & (pair_unit >= 0)
        asked = np.where(known, pair_cadre * n_units + pair_unit, -1)
        at = np.minimum(np.searchsorted(keys, asked), len(keys) - 1)
        hit = (asked >= 0) & (keys[at] == asked)
        best = np.minimum(best, np.where(hit, ranks[at], none))
    return np.where(best == none, 0, best)


def _wishes(
    preferences: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, dict[str, int], dict[str, int]]:
    """The wishes of :func:`wish_rank`: each (cadre, unit) wished as one integer, cadre code ×
    units + unit code, sorted, with its best rank, and the codes."""
    rank: dict[tuple[str, str], int] = {}
    for c, u, r in preferences[["cadre_id", "unit_id", "rank"]].itertuples(index=False):
        key = (str(c), str(u))
        rank[key] = min(int(r), rank.get(key, int(r)))
    cad_code: dict[str, int] = {}
    unit_code: dict[str, int] = {}
    for c, u in rank:
        cad_code.setdefault(c, len(cad_code))
        unit_code.setdefault(u, len(unit_code))
    n_units = len(unit_code)
    keys = np.array([cad_code[c] * n_units + unit_code[u] for c, u in rank], dtype=np.int64)
    order = np.argsort(keys)
    ranks = np.fromiter(rank.values(), np.int64, len(rank))[order]
    return keys[order], ranks, cad_code, unit_code


def support_vnd(rules: Rules, km: np.ndarray, new_post: np.ndarray) -> np.ndarray:
    """Support allowance (VND) per holder: the tier of ``rules.support`` for the travel, only
    for cadres who take a new post (0 for an incumbent staying)."""
    vals = rules.support.vnd_each(km)
    return np.where(new_post, vals, 0).astype(np.int64)


def in_group(data: ProblemData, facts: pd.DataFrame, group: str) -> np.ndarray:
    """Bool per cadre: a woman, young (under 40 at ``as_of``) or ethnic minority."""
    c = data.cadres
    if group == "women":
        return (c["gender"] == "F").to_numpy(dtype=bool)
    if group == "young":
        return (facts["age_years"] < 40).to_numpy(dtype=bool)
    if group == "minority":
        return facts["minority"].to_numpy(dtype=bool)
    raise ValueError(f"unknown group {group!r}")


# --------------------------------------------------------------------------- scopes
def kpi_scope_level(data: ProblemData, rules: Rules) -> Literal["district", "province"]:
    """The scope level KPIs are reported by: the first target's, else district (or province)."""
    if rules.non_local_targets:
        return rules.non_local_targets[0].scope_level
    return "district" if data.has_districts else "province"


# --------------------------------------------------------------------------- relatives
def relative_pairs(data: ProblemData) -> set[frozenset[str]]:
    """Symmetric relative pairs (Regulation 114-QĐ/TW), as frozensets of two cadre ids."""
    pairs = set()
    for a, b in data.relations[["cadre_id", "relative_id"]].itertuples(index=False):
        if a != b:
            pairs.add(frozenset((a, b)))
    return pairs


def relatives_of(data: ProblemData) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for pair in relative_pairs(data):
        a, b = tuple(pair)
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


# --------------------------------------------------------------------------- cadre facts
def retirement_dates(data: ProblemData, rules: Rules) -> pd.Series:
    """Each cadre's retirement date (:func:`retirement_date` with the rules'
    ``retirement_age``), indexed by cadre id; the age is worked out once per gender and birth
    month."""
    c = data.cadres
    fixed = rules.retirement_age
    # by gender and birth month, found once: the month the age is reached and its last day
    # (:func:`add_months` of the age), so each cadre's date is only that month's day of birth
    reached: dict[tuple[str, int, int], tuple[int, int, int]] = {}
    dates = []
    for g, b in zip(c["gender"], c["birth_date"], strict=True):
        key = (g, b.year, b.month)
        at = reached.get(key)
        if at is None:
            at = reached[key] = _month_after(b.year, b.month, retirement_age_months(g, b, fixed))
        dates.append(dt.date(at[0], at[1], min(b.day, at[2])))
    return pd.Series(dates, index=c.index, dtype=object)


PERSON_FACTS = (
    "tenure_years",
    "age_years",
    "retirement_date",
    "years_to_retirement",
    "rating_ok",
    "discipline_until",
    "under_discipline",
    "latest_rating",
    "minority",
)
"""The facts of :func:`cadre_facts` that come from the cadre's own rows only (the cadre, their
ratings and disciplinary records) and the rules, never from the posts: the same for a cadre in
a part of a dataset (a province) as in the whole."""


def person_facts_key(rules: Rules) -> tuple[Any, ...]:
    """The rules :data:`PERSON_FACTS` depend on: two rules with the same key give the same
    facts (a province's rules differ from the whole's by their locks only)."""
    return (
        rules.as_of,
        repr(rules.retirement_age),
        rules.min_rating,
        rules.rating_years,
        repr(rules.discipline_months),
    )


def person_facts(data: ProblemData, rules: Rules) -> pd.DataFrame:
    """:data:`PERSON_FACTS` per cadre at ``as_of`` (indexed by cadre id): those given to a part
    when it was split off (:func:`give_person_facts`) when they are for these rules and
    cadres, else worked out here."""
    given = data.person_facts_given
    if (
        given is not None
        and given[0] == person_facts_key(rules)
        and all(a is b for a, b in zip(given[1], _person_tables(data), strict=True))
    ):
        return given[2]
    c = data.cadres
    as_of = pd.Timestamp(rules.as_of)
    since = pd.to_datetime(c["current_since"])
    birth = pd.to_datetime(c["birth_date"])
    retire = retirement_dates(data, rules).tolist()
    facts = pd.DataFrame(index=c.index)
    facts["tenure_years"] = (as_of - since).dt.days / DAYS_PER_YEAR
    facts["age_years"] = (as_of - birth).dt.days / DAYS_PER_YEAR
    facts["retirement_date"] = retire
    facts["years_to_retirement"] = [years_between(rules.as_of, d) for d in retire]
    facts["rating_ok"] = rating_ok_all(data, rules)
    until = discipline_until(data, rules)
    facts["discipline_until"] = until
    facts["under_discipline"] = under_discipline(data, rules, until)
    facts["latest_rating"] = latest_rating(data, rules)
    ethnicity = c["ethnicity"].tolist() if "ethnicity" in c.columns else [None] * len(c)
    minority = {e: is_minority(e) for e in set(ethnicity)}  # a few ethnicities, many cadres
    facts["minority"] = np.array([minority[e] for e in ethnicity], dtype=bool)
    return facts


def give_person_facts(part: ProblemData, rules: Rules, whole: pd.DataFrame) -> None:
    """Hand a part of a dataset its cadres' :data:`PERSON_FACTS`, taken from ``whole`` (those
    of the dataset it was split from, for ``rules``): 34 provinces split off a national
    dataset then work them out once, not once each."""
    facts = whole.reindex(part.cadres.index)
    part.person_facts_given = (person_facts_key(rules), _person_tables(part), facts)


def _person_tables(data: ProblemData) -> tuple[pd.DataFrame, ...]:
    """The tables :data:`PERSON_FACTS` are read from: facts given for them hold while the part
    keeps these very tables (a copy with a table changed works its facts out again)."""
    return (data.cadres, data.ratings, data.discipline)


def cadre_facts(data: ProblemData, rules: Rules) -> pd.DataFrame:
    """Per cadre at ``as_of``: tenure, age, years to retirement, rating check, current post.

    One vectorised table that eligibility, the validator and the status report all read: the
    :func:`person_facts` and the two facts that come from the posts (the post held now,
    whether the cadre works in an office).
    """
    c = data.cadres
    facts = person_facts(data, rules).copy()  # given facts are shared: never written to
    at = facts.columns.get_loc("discipline_until")  # the post facts come before discipline
    facts.insert(at, "current_post", data.incumbent_post.reindex(c.index))
    facts.insert(at + 1, "from_office", from_office(data))
    return facts
