"""rotation.units: real administrative units from the vietnamadminunits package."""

from __future__ import annotations

import pytest

from rotation.units import (
    build_national_units,
    build_units,
    district_short_names,
    list_provinces,
    province_code,
)


@pytest.fixture(scope="module")
def hai_duong():
    return build_units("Hải Dương", legacy=True)


def test_hai_duong_legacy_counts(hai_duong):
    """Hai Duong (legacy) has 1 province, 12 districts and 207 communes."""
    counts = hai_duong["level"].value_counts().to_dict()
    assert counts == {"province": 1, "district": 12, "commune": 207}
    assert list(hai_duong.columns) == ["unit_id", "name", "level", "parent_id", "lat", "lon"]
    assert hai_duong["unit_id"].is_unique
    assert hai_duong.loc[hai_duong["level"] == "province", "unit_id"].tolist() == ["30"]


def test_hai_duong_coordinates_and_parents(hai_duong):
    """Every commune has a centroid, and every parent is a unit one level up."""
    com = hai_duong[hai_duong["level"] == "commune"]
    assert com["lat"].notna().all() and com["lon"].notna().all()
    assert com["lat"].between(20.0, 21.5).all() and com["lon"].between(105.8, 107.0).all()
    level = dict(zip(hai_duong["unit_id"], hai_duong["level"], strict=True))
    assert all(level[p] == "district" for p in com["parent_id"])
    dist = hai_duong[hai_duong["level"] == "district"]
    assert set(dist["parent_id"]) == {"30"}
    assert hai_duong.loc[hai_duong["level"] == "province", "parent_id"].tolist() == [""]


def test_full_vietnamese_names(hai_duong):
    """Names are the full official names with diacritics."""
    names = set(hai_duong["name"])
    assert {"Thành phố Hải Dương", "Phường Cẩm Thượng", "Huyện Kim Thành"} <= names
    assert district_short_names("Hải Dương")["288"] == "Hải Dương"


def test_2025_structure_is_two_levels():
    """A 2025 province is province → commune with no districts."""
    units = build_units("Hải Phòng", legacy=False)
    assert set(units["level"]) == {"province", "commune"}
    prov = units.loc[units["level"] == "province", "unit_id"].item()
    assert (units.loc[units["level"] == "commune", "parent_id"] == prov).all()
    assert (units["level"] == "commune").sum() == 114


def test_national_units():
    """The 2025 national table has 34 provinces and 3,321 communes, all with centroids."""
    units = build_national_units()
    assert (units["level"] == "province").sum() == 34
    assert (units["level"] == "commune").sum() == 3321
    assert units["unit_id"].is_unique
    assert units["lat"].notna().all()
    assert len(list_provinces(legacy=False)) == 34 and len(list_provinces(legacy=True)) == 63


@pytest.mark.parametrize(
    "spelling", ["Hải Dương", "hai duong", "Hai Duong", "HAIDUONG", "30", "Tỉnh Hải Dương"]
)
def test_accent_insensitive_lookup(spelling):
    """Province names match whatever the case, accents or prefix."""
    assert province_code(spelling, legacy=True) == "30"


def test_unknown_province_lists_close_names():
    """An unknown province raises ValueError naming close provinces."""
    with pytest.raises(ValueError, match="Hải Dương"):
        build_units("Hai Duongg", legacy=True)
    with pytest.raises(ValueError, match="legacy"):
        build_units("Hải Dương", legacy=False)
