"""rotation.synth: seeded synthetic rosters, deterministic and calibrated to the seed figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from rotation.synth import (
    HAI_DUONG_SECRETARIES,
    synthesize,
    synthesize_national,
    write_tables,
)

AS_OF = pd.Timestamp("2026-01-01")
TABLES = ("units", "cadres", "posts", "ratings", "relations")


@pytest.fixture(scope="module")
def hai_duong(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The bundled scenario, written and read back from CSV as a user would."""
    out = tmp_path_factory.mktemp("hd")
    write_tables(synthesize("Hải Dương", legacy=True, seed=2026), out)
    return {t: pd.read_csv(out / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def test_same_seed_byte_identical(tmp_path: Path):
    """The same seed writes byte-identical files."""
    write_tables(synthesize("Hải Dương", legacy=True, seed=7), tmp_path / "a")
    write_tables(synthesize("hai duong", legacy=True, seed=7), tmp_path / "b")
    a, b = _bytes(tmp_path / "a"), _bytes(tmp_path / "b")
    assert sorted(a) == [f"{t}.csv" for t in sorted((*TABLES, "discipline", "preferences"))]
    assert a == b
    assert b"\r\n" not in a["cadres.csv"]


def test_bundled_data_matches_generator(tmp_path: Path):
    """data/hai_duong is exactly what the documented command regenerates."""
    bundled = Path(__file__).resolve().parents[1] / "data" / "hai_duong"
    write_tables(synthesize("Hải Dương", legacy=True, seed=2026), tmp_path)
    assert _bytes(tmp_path) == _bytes(bundled)


def test_different_seed_differs(tmp_path: Path):
    """Another seed gives another roster."""
    write_tables(synthesize("Hải Dương", legacy=True, seed=1), tmp_path / "a")
    write_tables(synthesize("Hải Dương", legacy=True, seed=2), tmp_path / "b")
    a, b = _bytes(tmp_path / "a"), _bytes(tmp_path / "b")
    assert a["units.csv"] == b["units.csv"]
    assert a["cadres.csv"] != b["cadres.csv"]


def test_hai_duong_calibration(hai_duong):
    """Non-local secretaries per district match the 2024 figures; the others are 5–20%."""
    units, cadres, posts = hai_duong["units"], hai_duong["cadres"], hai_duong["posts"]
    sec = posts[posts["position"] == "secretary"]
    assert (sec["incumbent_id"] != "").all()
    m = sec.merge(cadres, left_on="incumbent_id", right_on="cadre_id")
    local = (m["hometown_id"] == m["unit_id"]) | (m["residence_id"] == m["unit_id"])
    parent = units.set_index("unit_id")["parent_id"]
    name = units.set_index("unit_id")["name"]
    m["district"] = m["unit_id"].map(parent).map(name)
    m["non_local"] = ~local
    by = m.groupby("district")["non_local"].agg(["sum", "size"])
    assert len(by) == 12
    expected_n = {"Thành phố Hải Dương": 24, "Huyện Nam Sách": 15, "Thị xã Kinh Môn": 22,
                  "Huyện Tứ Kỳ": 20, "Huyện Kim Thành": 14}  # fmt: skip
    for district, k in HAI_DUONG_SECRETARIES.items():
        assert (by.at[district, "sum"], by.at[district, "size"]) == (k, expected_n[district])
    others = by.drop(index=list(HAI_DUONG_SECRETARIES))
    share = others["sum"] / others["size"]
    assert share.between(0.05, 0.20).all(), share


def test_hai_duong_non_local_live_nearby(hai_duong):
    """Non-local incumbents come from and live in another commune of the same province."""
    units, cadres, posts = hai_duong["units"], hai_duong["cadres"], hai_duong["posts"]
    m = posts.merge(cadres, left_on="incumbent_id", right_on="cadre_id")
    nl = m[(m["hometown_id"] != m["unit_id"]) & (m["residence_id"] != m["unit_id"])]
    communes = set(units.loc[units["level"] == "commune", "unit_id"])
    assert set(nl["hometown_id"]) <= communes and set(nl["residence_id"]) <= communes


def test_hai_duong_shares(hai_duong):
    """About a fifth women; ratings ≈13% excellent and ≈70% good; ages 30–60."""
    cadres, ratings = hai_duong["cadres"], hai_duong["ratings"]
    assert abs((cadres["gender"] == "F").mean() - 0.20) <= 0.07
    shares = ratings["rating"].value_counts(normalize=True)
    assert abs(shares["excellent"] - 0.13) <= 0.04
    assert abs(shares["good"] - 0.70) <= 0.06
    assert set(ratings["year"]) == {"2023", "2024", "2025"}
    age = (AS_OF - pd.to_datetime(cadres["birth_date"])).dt.days / 365.25
    assert age.between(30, 60).all()
    tenure = (AS_OF - pd.to_datetime(cadres["current_since"])).dt.days / 365.25
    assert tenure.between(0, 12.01).all()
    women = cadres[cadres["gender"] == "F"]
    assert (women["full_name"].str.split().str[1] == "Thị").mean() > 0.5
    assert (cadres["ethnicity"] == "Kinh").mean() > 0.97
    assert len(cadres) == 3 * len(hai_duong["posts"])


def test_hai_duong_planning_and_references(hai_duong):
    """Planning lists hold ≤ 3 known positions and every referenced id exists."""
    units, cadres = hai_duong["units"], hai_duong["cadres"]
    posts, ratings, rel = hai_duong["posts"], hai_duong["ratings"], hai_duong["relations"]
    lists = cadres["planned_positions"].str.split(";").map(lambda xs: [x for x in xs if x])
    assert (lists.map(len) <= 3).all()
    assert set().union(*lists) <= {"secretary", "pc_chair", "inspection_chair"}
    unit_ids, cadre_ids = set(units["unit_id"]), set(cadres["cadre_id"])
    communes = set(units.loc[units["level"] == "commune", "unit_id"])
    assert cadres["cadre_id"].is_unique and posts["post_id"].is_unique
    assert set(cadres["hometown_id"]) <= communes and set(cadres["residence_id"]) <= communes
    assert set(cadres["current_unit_id"]) <= unit_ids
    assert set(posts["unit_id"]) <= communes
    assert set(posts["incumbent_id"]) - {""} <= cadre_ids
    assert posts["incumbent_id"].is_unique
    assert set(ratings["cadre_id"]) <= cadre_ids
    assert set(rel["cadre_id"]) | set(rel["relative_id"]) <= cadre_ids
    assert set(rel["relation"]) <= {"spouse", "sibling", "parent"}
    assert set(units["parent_id"]) - {""} <= unit_ids
    assert set(cadres["movable"]) <= {"true", "false"}


def test_hai_duong_feasible_for_default_rules(hai_duong):
    """Each district has enough eligible office cadres planned for secretary to reach 30%."""
    cadres, ratings, units = hai_duong["cadres"], hai_duong["ratings"], hai_duong["units"]
    good = ratings[ratings["year"].isin(["2024", "2025"]) & ratings["rating"].isin(
        ["excellent", "good"])].groupby("cadre_id").size()  # fmt: skip
    off = cadres[cadres["current_unit_id"].isin(units.loc[units["level"] == "district", "unit_id"])]
    age = (AS_OF - pd.to_datetime(off["birth_date"])).dt.days / 365.25
    tenure = (AS_OF - pd.to_datetime(off["current_since"])).dt.days / 365.25
    ok = (
        off["planned_positions"].str.contains("secretary")
        & (off["movable"] == "true")
        & (age <= 52)
        & (tenure >= 2)
        & (off["cadre_id"].map(good).fillna(0) == 2)
    )
    per_district = ok.groupby(off["current_unit_id"]).sum()
    assert len(per_district) == 12
    n_communes = units[units["level"] == "commune"].groupby("parent_id").size()
    assert (per_district >= (0.3 * n_communes).round() + 3).all()


def test_new_structure_province():
    """A 2025 province synthesises with province offices and three positions."""
    t = synthesize("Lai Châu", legacy=False, seed=3, positions=["secretary", "pc_chair"])
    units, cadres, posts = t["units"], t["cadres"], t["posts"]
    assert set(units["level"]) == {"province", "commune"}
    assert len(posts) == 2 * (units["level"] == "commune").sum()
    office = cadres[~cadres["cadre_id"].isin(posts["incumbent_id"])]
    assert set(office["current_unit_id"]) == set(units.loc[units["level"] == "province", "unit_id"])
    assert (cadres["ethnicity"] != "Kinh").mean() > 0.5  # a mountain province


def test_national_size_and_speed():
    """The national roster (34 provinces, 3 positions) has ≈10,000 posts, ≈30,000 cadres."""
    start = dt.datetime.now()
    t = synthesize_national(seed=1)
    assert (dt.datetime.now() - start).total_seconds() < 60
    assert len(t["posts"]) == 3 * 3321
    assert 28_000 <= len(t["cadres"]) <= 31_000
    assert (t["units"]["level"] == "province").sum() == 34
    assert set(t["posts"]["position"]) == {"secretary", "pc_chair", "inspection_chair"}
