"""Hypothesis strategies shared by the property tests: small random provinces and rules."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from builders import AS_OF, RATED_YEARS, default_rules, tiny_tables
from hypothesis import strategies as st

from rotation.data import CADRE_COLUMNS, POST_COLUMNS, UNIT_COLUMNS, ProblemData
from rotation.rules import Rules

RATINGS = ["excellent", "good", "complete", "not_complete", None]


@st.composite
def instances(draw: st.DrawFn) -> tuple[ProblemData, Rules]:
    """A random tiny province (1–2 districts of 2–3 communes, 0–2 office cadres each) and rules."""
    districts = draw(st.integers(1, 2))
    communes = draw(st.integers(2, 3))
    office = draw(st.integers(0, 2))
    two_level = draw(st.booleans())
    t = tiny_tables(districts=districts, communes=communes, office=office, two_level=two_level)
    units, cadres, posts = t["units"], t["cadres"].copy(), t["posts"].copy()
    commune_ids = sorted(units.index[units["level"] == "commune"])
    cadre_ids = sorted(cadres.index)

    for cid in cadre_ids:
        home = draw(st.sampled_from(commune_ids))
        res = draw(st.sampled_from([home, *commune_ids]))
        cadres.at[cid, "hometown_id"] = home
        cadres.at[cid, "residence_id"] = res
        cadres.at[cid, "movable"] = draw(st.sampled_from([True, True, True, True, False]))
        years = draw(st.sampled_from([0.5, 1, 3, 6, 9, 12, 16]))
        cadres.at[cid, "current_since"] = AS_OF - dt.timedelta(days=round(years * 365.25))
        cadres.at[cid, "gender"] = draw(st.sampled_from(["M", "F"]))
        cadres.at[cid, "birth_date"] = dt.date(draw(st.integers(1963, 1995)), 6, 1)
        cadres.at[cid, "planned_positions"] = draw(
            st.sampled_from([("secretary",), ("secretary",), ()])
        )
        cadres.at[cid, "max_travel_km"] = draw(st.sampled_from([math.nan, math.nan, 3.0, 9.0]))
        cadres.at[cid, "ethnicity"] = draw(st.sampled_from(["Kinh", "Kinh", "Tày"]))
    cadres["movable"] = cadres["movable"].astype(bool)
    cadres["max_travel_km"] = cadres["max_travel_km"].astype(float)

    for pid in sorted(posts.index):
        if draw(st.integers(0, 5)) == 0:
            posts.at[pid, "incumbent_id"] = None

    ratings = [
        {"cadre_id": c, "year": y, "rating": r}
        for c in cadre_ids
        for y in RATED_YEARS
        if (r := draw(st.sampled_from(["good", "good", "good", *RATINGS]))) is not None
    ]
    n_rel = draw(st.integers(0, 2))
    relations = [
        {"cadre_id": a, "relative_id": b, "relation": "sibling"}
        for a, b in (
            draw(st.lists(st.sampled_from(cadre_ids), min_size=2, max_size=2, unique=True))
            for _ in range(n_rel)
        )
    ]
    # contract v1.1: a merger, disciplinary records, wishes
    units = units.copy()
    units["merged_into"] = None
    if draw(st.integers(0, 4)) == 0:
        gone = draw(st.sampled_from(commune_ids))
        siblings = [
            c
            for c in commune_ids
            if c != gone and units.at[c, "parent_id"] == units.at[gone, "parent_id"]
        ]
        if siblings:
            units.at[gone, "merged_into"] = draw(st.sampled_from(siblings))
    discipline = [
        {
            "cadre_id": draw(st.sampled_from(cadre_ids)),
            "kind": draw(st.sampled_from(["reprimand", "warning", "removal"])),
            "date": draw(
                st.sampled_from([dt.date(2021, 6, 1), dt.date(2024, 6, 1), dt.date(2025, 6, 1)])
            ),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    preferences = [
        {
            "cadre_id": draw(st.sampled_from(cadre_ids)),
            "unit_id": draw(st.sampled_from(commune_ids)),
            "rank": r,
        }
        for r in range(1, draw(st.integers(0, 2)) + 1)
    ]
    data = ProblemData.build(
        units=units[[*UNIT_COLUMNS, "merged_into"]].copy(),
        cadres=cadres[CADRE_COLUMNS].copy(),
        posts=posts[POST_COLUMNS].copy(),
        ratings=pd.DataFrame(ratings, columns=["cadre_id", "year", "rating"]),
        relations=pd.DataFrame(relations, columns=["cadre_id", "relative_id", "relation"]),
        travel=t["travel"],
        discipline=pd.DataFrame(discipline, columns=["cadre_id", "kind", "date"]),
        preferences=pd.DataFrame(preferences, columns=["cadre_id", "unit_id", "rank"]),
        name="random",
    )

    rules: dict[str, Any] = {
        "non_local_targets": [
            {
                "scope_level": draw(st.sampled_from(["district", "province"])),
                "min_share": draw(st.sampled_from([0.0, 0.2, 0.3, 0.5, 1.0])),
            }
        ]
        if draw(st.booleans())
        else [],
        "max_travel_km": draw(st.sampled_from([None, 5.0, 10.0, 60.0])),
        "min_years_in_post": draw(st.sampled_from([0, 2])),
        "max_years_in_post": draw(st.sampled_from([None, 10, 15])),
        "min_rating": draw(st.sampled_from([None, "good", "complete"])),
        "require_planning": draw(st.booleans()),
        "forbid_relatives_same_unit": draw(st.booleans()),
        "allow_vacancies": draw(st.booleans()),
        "candidates": draw(st.integers(1, 2)),
        "time_limit_s": 20,
    }
    if draw(st.booleans()):
        rules["retirement_age"] = {"M": 62, "F": draw(st.sampled_from([55, 60]))}
    if draw(st.booleans()):
        rules["max_changes"] = {
            "scope_level": draw(st.sampled_from(["district", "province"])),
            "count": draw(st.integers(0, 3)),
        }
    if draw(st.booleans()):
        rules["weights"] = {
            "travel_km": draw(st.sampled_from([0, 1])),
            "change": draw(st.sampled_from([0, 1, 10])),
            "vacancy": draw(st.sampled_from([0, 100])),
            "priority_women": draw(st.sampled_from([0, 3])),
        }
    post_ids = sorted(posts.index)
    if draw(st.integers(0, 3)) == 0:
        rules["locks"] = [pick(draw, post_ids, cadre_ids)]
    if draw(st.integers(0, 3)) == 0:
        rules["exclude"] = [pick(draw, post_ids, cadre_ids)]
    rules["never_below_current"] = draw(st.booleans())
    rules["min_years_to_retirement_from_office"] = draw(st.sampled_from([0, 10]))
    if draw(st.integers(0, 3)) == 0:
        rules["priority_shares"] = [
            {
                "group": draw(st.sampled_from(["women", "young", "minority"])),
                "min_share": draw(st.sampled_from([0.2, 0.5])),
            }
        ]
    if draw(st.integers(0, 3)) == 0:
        rules["support"] = {"tiers": [{"min_km": 3, "vnd_per_month": 1_000_000}], "months": 12}
        rules["budget_vnd"] = draw(st.sampled_from([0, 12_000_000, 24_000_000, None]))
    if draw(st.integers(0, 4)) == 0:
        caps = [{"scope_level": "commune", "count": 1}]
        if "max_changes" in rules:
            caps.append(rules["max_changes"])
        rules["max_changes"] = caps
    return data, default_rules(**rules)


def pick(draw: st.DrawFn, post_ids: list[str], cadre_ids: list[str]) -> dict[str, str]:
    return {
        "post_id": draw(st.sampled_from(post_ids)),
        "cadre_id": draw(st.sampled_from(cadre_ids)),
    }
