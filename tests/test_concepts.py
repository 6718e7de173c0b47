"""The shared concepts: time, retirement roadmap, locality, ratings, relatives."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import default_rules, tiny_problem, with_relation

from rotation.concepts import (
    add_months,
    is_local,
    local_pairs,
    rating_ok,
    relative_pairs,
    relatives_of,
    retirement_date,
    retirement_dates,
    statutory_retirement_age_months,
    years_between,
)

D = dt.date


# --------------------------------------------------------------------------- time
def test_years_between_is_365_25_day_years() -> None:
    """years_between counts 365.25-day years and is negative backwards."""
    assert years_between(D(2020, 1, 1), D(2024, 1, 1)) == pytest.approx(1461 / 365.25)
    assert years_between(D(2021, 1, 1), D(2026, 1, 1)) == pytest.approx(1826 / 365.25)
    assert years_between(D(2026, 1, 1), D(2021, 1, 1)) < 0
    assert years_between(D(2025, 5, 5), D(2025, 5, 5)) == 0


def test_add_months_clamps_to_month_end() -> None:
    """31 January plus one month is the last day of February."""
    assert add_months(D(2023, 1, 31), 1) == D(2023, 2, 28)
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2020, 11, 15), 3) == D(2021, 2, 15)


# --------------------------------------------------------------------------- retirement
@pytest.mark.parametrize(
    ("gender", "year", "months"),
    [
        ("M", 2021, 723),
        ("M", 2024, 732),
        ("M", 2028, 744),
        ("M", 2040, 744),
        ("F", 2021, 664),
        ("F", 2030, 700),
        ("F", 2035, 720),
        ("F", 2050, 720),
        ("M", 2019, 720),
        ("F", 2019, 660),
    ],
)
def test_statutory_age_roadmap(gender: str, year: int, months: int) -> None:
    """Men 60y3m in 2021 +3m/year to 62 (2028); women 55y4m +4m/year to 60 (2035)."""
    assert statutory_retirement_age_months(gender, year) == months


@pytest.mark.parametrize(
    ("gender", "birth", "retires"),
    [
        ("M", D(1966, 1, 15), D(2027, 10, 15)),  # 61y9m, the age in force in 2027
        ("M", D(1961, 1, 1), D(2021, 4, 1)),  # 60y3m in 2021
        ("M", D(1970, 6, 30), D(2032, 6, 30)),  # 62 from 2028
        ("M", D(1958, 3, 1), D(2018, 3, 1)),  # before the roadmap: 60
        ("F", D(1980, 5, 10), D(2040, 5, 10)),  # 60 from 2035
        ("F", D(1966, 1, 1), D(2021, 5, 1)),  # 55y4m in 2021
        ("F", D(1970, 1, 1), D(2027, 5, 1)),  # 57y4m, the age in force in 2027
    ],
)
def test_retirement_date_known_dates(gender: str, birth: dt.date, retires: dt.date) -> None:
    """Known retirement dates under the Labour Code 2019 / Decree 135/2020 roadmap."""
    assert retirement_date(gender, birth) == retires


def test_retirement_date_fixed_ages() -> None:
    """Fixed ages from the rules replace the roadmap (fractional years in whole months)."""
    assert retirement_date("M", D(1970, 6, 30), {"M": 62, "F": 60}) == D(2032, 6, 30)
    assert retirement_date("F", D(1970, 1, 31), {"M": 62, "F": 55.25}) == D(2025, 4, 30)


# --------------------------------------------------------------------------- local
@pytest.mark.parametrize(
    ("means", "level", "home", "res", "unit", "local"),
    [
        ("hometown", "commune", "C11", "C21", "C11", True),
        ("hometown", "commune", "C21", "C11", "C11", False),
        ("residence", "commune", "C21", "C11", "C11", True),
        ("residence", "commune", "C11", "C21", "C11", False),
        ("hometown_or_residence", "commune", "C11", "C21", "C11", True),
        ("hometown_or_residence", "commune", "C21", "C11", "C11", True),
        ("hometown_or_residence", "commune", "C22", "C21", "C11", False),
        ("hometown_or_residence", "commune", "C12", "C13", "C11", False),
        ("hometown_or_residence", "district", "C12", "C23", "C11", True),
        ("hometown", "district", "C23", "C12", "C11", False),
        ("residence", "district", "C23", "C12", "C11", True),
        ("hometown_or_residence", "district", "C22", "C23", "C11", False),
    ],
)
def test_is_local(means: str, level: str, home: str, res: str, unit: str, local: bool) -> None:
    """Local by hometown, residence or either, at commune or district level."""
    rules = default_rules(local_means=means, local_level=level)
    assert is_local(tiny_problem(), home, res, unit, rules) is local


@pytest.mark.parametrize("means", ["hometown", "residence", "hometown_or_residence"])
@pytest.mark.parametrize("level", ["commune", "district"])
@pytest.mark.parametrize("missing", [False, True])
def test_local_pairs_by_index_is_local_pairs(means: str, level: str, missing: bool) -> None:
    """Pairs given as indices into cadres and units answer exactly as the same pairs spelt
    out, for every pair of every cadre and unit: unknown ids (integer codes) and, with
    ``missing``, a cadre without hometown or residence (compared as objects)."""
    data = tiny_problem()
    rules = default_rules(local_means=means, local_level=level)
    units = [*data.units.index, "NOWHERE"]
    gap = None if missing else "ELSEWHERE"
    homes = [*data.cadres["hometown_id"], gap, "NOWHERE"]
    res = [*data.cadres["residence_id"], "C1", gap]
    ci, pj = (a.ravel() for a in np.meshgrid(np.arange(len(homes)), np.arange(len(units))))
    by_index = local_pairs(
        data,
        rules,
        np.asarray(homes, dtype=object),
        np.asarray(res, dtype=object),
        np.asarray(units, dtype=object),
        pairs=(ci, pj),
    )
    spelt = local_pairs(
        data,
        rules,
        [homes[i] for i in ci],
        [res[i] for i in ci],
        [units[j] for j in pj],
    )
    assert by_index.tolist() == spelt.tolist()
    assert by_index.any() and not by_index.all()


def test_is_local_district_level_two_level_data_uses_commune() -> None:
    """Without districts, district-level locality falls back to the commune itself."""
    data = tiny_problem(two_level=True)
    rules = default_rules(local_level="district")
    assert not is_local(data, "C12", "C12", "C11", rules)
    assert is_local(data, "C11", "C12", "C11", rules)


# --------------------------------------------------------------------------- ratings
def test_rating_ok_needs_each_recent_year() -> None:
    """min_rating must hold in each of the last rating_years years; a missing year fails."""
    rules = default_rules()  # as_of 2026: years 2025 and 2024, at least good
    assert rating_ok({2024: "good", 2025: "excellent"}, rules)
    assert not rating_ok({2025: "excellent"}, rules)
    assert not rating_ok({2024: "good", 2025: "complete"}, rules)
    assert not rating_ok({2023: "good", 2025: "good"}, rules)
    assert rating_ok({2024: "complete", 2025: "complete"}, default_rules(min_rating="complete"))
    assert rating_ok({}, default_rules(min_rating=None))
    assert rating_ok({}, default_rules(rating_years=0))


# --------------------------------------------------------------------------- relatives
def test_relatives_are_symmetric() -> None:
    """One relation row makes both cadres relatives of each other; duplicates collapse."""
    data = with_relation(with_relation(tiny_problem(), "K11", "O21"), "O21", "K11", "spouse")
    data = with_relation(data, "K12", "K12")  # self-relation ignored
    assert relative_pairs(data) == {frozenset({"K11", "O21"})}
    rel = relatives_of(data)
    assert rel["K11"] == {"O21"} and rel["O21"] == {"K11"}
    assert "K12" not in rel


def _retirement_date_by_dates(gender: str, birth: dt.date, fixed: dict | None) -> dt.date:
    """The rule as first written, on dates: the reference for the age-in-months version."""
    if fixed is not None and gender in fixed:
        return add_months(birth, round(fixed[gender] * 12))
    d = add_months(birth, {"M": 720, "F": 660}[gender])
    if d.year < 2021:
        return d
    for year in range(max(2021, d.year), 2100):
        d = add_months(birth, statutory_retirement_age_months(gender, year))
        if d.year <= year:
            return d
    raise AssertionError("unreachable")


@pytest.mark.parametrize("fixed", [None, {"M": 62, "F": 55.25}])
def test_retirement_dates_every_birth_day(fixed: dict | None) -> None:
    """Every birth day of 1955–1995, both genders: the per-cadre dates (the age found once per
    birth month) are the reference rule's."""
    days = [
        D(1955, 1, 1) + dt.timedelta(days=k) for k in range((D(1996, 1, 1) - D(1955, 1, 1)).days)
    ]
    genders = ["M", "F"] * len(days)
    births = [d for d in days for _ in range(2)]
    data = tiny_problem()
    cadres = pd.DataFrame({"gender": genders, "birth_date": births})
    data = dataclasses.replace(data, cadres=cadres)
    rules = default_rules(retirement_age=fixed) if fixed else default_rules()
    got = retirement_dates(data, rules).tolist()
    want = [_retirement_date_by_dates(g, b, fixed) for g, b in zip(genders, births, strict=True)]
    assert got == want
    assert got == [retirement_date(g, b, fixed) for g, b in zip(genders, births, strict=True)]
