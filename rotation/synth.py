"""Seeded synthetic rosters on real administrative units: the contract's CSV tables for a
province (legacy 3-level or 2025 2-level) or for the whole country (2025 structure).

No real person appears: names, birth dates, hometowns, ratings are drawn from a
``numpy.random.default_rng(seed)`` stream only (no ``hash()``, no set order), so the same
``(province, legacy, seed, positions)`` always gives byte-identical CSV files.

What is generated (all dates ISO, ages and tenures measured at :data:`AS_OF` = 2026-01-01):

- one post per commune and position, nearly all with an incumbent (2% vacant; 0 for the
  calibrated Hai Duong scenario);
- an office pool at district/province offices of 2 × the number of posts (cadres ≈ 3 × posts);
- ages 30–59 years (incumbents mostly 35–58), about 20% women, ethnicity by province;
- ratings for 2023–2025 (≈13% excellent, ≈70% good, ≈15.5% complete, ≈1.5% not complete);
- tenures 0–12 years (≈7% of incumbents above 10 years, which forces a move);
- planning lists of at most 3 positions, ≈1% of cadres with a relative, ≈2% not movable,
  ≈5% with a personal travel limit of 15–40 km.

The share of *non-local* incumbents (hometown or residence ≠ the post's commune) is drawn per
district (per province in the 2-level structure) between 5% and 30%; for Hai Duong (legacy) the
secretaries are calibrated to the 2024 press figures (:data:`HAI_DUONG_SECRETARIES`). Non-local
incumbents live and come from another commune of the same province within ~20 km great-circle
(≈ 25 km by road). After drawing, every target scope is topped up so the default rules
(rotation.rules) admit a plan: enough office cadres planned for each position, rated at least
good, aged ≤ 52, settled for ≥ 2 years; and incumbents who must stay never block 30% non-local.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .geo import haversine_km
from .units import build_national_units, build_units, normalize_name, province_code

AS_OF = np.datetime64("2026-01-01", "D")
"""Reference date for ages and tenures."""
DAYS_PER_YEAR = 365.25
ALL_POSITIONS = ("secretary", "pc_chair", "inspection_chair")
RATING_YEARS = (2023, 2024, 2025)
RATING_NAMES = ("excellent", "good", "complete", "not_complete")
RATING_SHARES = (0.13, 0.70, 0.155, 0.015)
"""Target share of each rating (Binh Thuan 2024: ≈13% excellent, >87% good or better)."""
RATING_PERSISTENCE = 0.75
"""Probability a year's rating repeats the cadre's usual level (keeps marginals exact)."""

WOMEN_SHARE = 0.20
VACANCY_RATE = 0.02
OFFICE_PER_POST = 2.0
"""Office cadres per post (cadres ≈ 3 × posts including incumbents)."""
PROVINCE_OFFICE_SHARE = 0.15
"""Legacy: share of the office pool at the province office (the rest at district offices)."""
OVER_TENURE_SHARE = 0.07
"""Incumbents with more than 10 years in post (they must move under the default rules)."""
NOT_MOVABLE_SHARE = 0.02
TRAVEL_LIMIT_SHARE = 0.05
TRAVEL_LIMIT_KM = (15, 40)
RELATIVE_SHARE = 0.01
"""Share of cadres with a relative among the other cadres (pairs = half of it)."""
NEARBY_KM = 20.0
"""Great-circle radius (km) for 'a nearby commune' (≈ 25 km by road)."""
OFFICE_PLANNED = (0.40, 0.25, 0.15)
"""Share of office cadres on the planning list for secretary, pc_chair, inspection_chair."""
GENERIC_NON_LOCAL = (0.05, 0.30)
"""Range (share 0–1) of non-local incumbents drawn per scope outside the calibration."""

HAI_DUONG_SECRETARIES: dict[str, int] = {
    "Thành phố Hải Dương": 21,
    "Huyện Nam Sách": 6,
    "Thị xã Kinh Môn": 5,
    "Huyện Tứ Kỳ": 1,
    "Huyện Kim Thành": 0,
}
"""Non-local commune secretaries per district (seed 003, 2024, scaled to the package's units)."""
HAI_DUONG_MERGERS: dict[str, tuple[int, int]] = {"Huyện Kim Thành": (8, 4)}
"""Kim Thành: 8 commune-level units being merged, 4 fewer afterwards (seed 003)."""
MERGER_SEED = 3
"""Which communes merge is drawn once, the same for every roster seed (units are real)."""
DISCIPLINE_RATE = 0.01
"""Share of cadres with a disciplinary record in the last five years (kinds 70/25/5%)."""
WISH_RATE = 0.10
"""Share of office cadres who state 1–3 wishes (communes or their district)."""
HAI_DUONG_OTHER = (0.05, 0.20)
"""Non-local secretary share (0–1) for the other Hai Duong districts."""
HAI_DUONG_LOCAL = ("Phường Cẩm Thượng", "Phường Thạch Khôi", "Phường Việt Hòa")
"""The three Hai Duong city wards still led by local secretaries (seed 003)."""

# The default rules the synthetic scenario must satisfy (rotation.rules defaults).
_TARGET_SHARE = 0.30
_MIN_TENURE = 2.0
_ELIGIBLE_MAX_AGE = 52.0

FAMILY_NAMES = (
    ("Nguyễn", 31.5),
    ("Trần", 11.0),
    ("Lê", 9.5),
    ("Phạm", 7.0),
    ("Hoàng", 4.5),
    ("Huỳnh", 2.5),
    ("Phan", 4.5),
    ("Vũ", 3.5),
    ("Võ", 2.5),
    ("Đặng", 2.1),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
)
MIDDLE_M = ("Văn", "Đức", "Minh", "Hữu", "Quang", "Thanh", "Công", "Xuân", "Ngọc", "Mạnh", "Tiến")
MIDDLE_F = ("Thu", "Thanh", "Ngọc", "Minh", "Hồng", "Kim", "Thúy", "Phương")
MIDDLE_F_THI = 0.7
"""Share of women whose middle name is Thị."""
GIVEN_M = (
    "Hùng", "Dũng", "Tuấn", "Hải", "Nam", "Long", "Quân", "Thắng", "Cường", "Sơn", "Trung",
    "Hiếu", "Bình", "Phong", "Thành", "Tùng", "Khoa", "Vinh", "Hoàng", "Toàn", "Đạt", "Kiên",
    "Chiến", "Lâm", "Tâm", "Hưng", "Việt", "Huy", "Đông", "Nghĩa", "Phúc", "Thịnh",
)  # fmt: skip
GIVEN_F = (
    "Lan", "Hương", "Mai", "Hoa", "Hằng", "Hạnh", "Thảo", "Trang", "Linh", "Ngọc", "Nga",
    "Nhung", "Huyền", "Yến", "Thúy", "Phương", "Loan", "Dung", "Hà", "Vân", "Oanh", "Hiền",
    "Liên", "Thủy",
)  # fmt: skip
ETHNIC_FAMILY: dict[str, tuple[str, ...]] = {
    "Tày": ("Hoàng", "Nông", "Triệu", "Lương", "Ma", "Hà"),
    "Nùng": ("Nông", "Hoàng", "Lục", "Lăng", "Vi", "Chu"),
    "Thái": ("Lò", "Lường", "Cầm", "Quàng", "Vi", "Hà"),
    "Mường": ("Bùi", "Đinh", "Quách", "Hà", "Xa"),
    "H'Mông": ("Giàng", "Vàng", "Sùng", "Thào", "Mùa", "Lầu", "Hạng"),
    "Dao": ("Triệu", "Bàn", "Đặng", "Lý", "Chảo"),
    "Khmer": ("Thạch", "Danh", "Sơn", "Kim", "Lâm", "Chau"),
    "Chăm": ("Đàng", "Thành", "Châu", "Từ"),
    "Gia Rai": ("Ksor", "Rơ Mah", "Siu", "Rah Lan", "Nay"),
    "Ê Đê": ("Niê", "Êban", "Mlô", "Byă", "Hwing"),
    "Ba Na": ("Đinh", "Đinh Văn", "A"),
    "Xơ Đăng": ("A", "Y", "Đinh"),
    "M'Nông": ("Điểu", "Thị", "Y"),
    "K'Ho": ("K'", "Ka", "Kơ Să"),
    "Hoa": ("Lâm", "Trương", "Quách", "Lý"),
}
"""Common family names per ethnic group (others use Kinh family names)."""

_NORTH_DEFAULT: dict[str, float] = {"Tày": 1, "Mường": 1, "Hoa": 1}
MINORITIES: dict[str, tuple[float, dict[str, float]]] = {
    "hagiang": (0.85, {"H'Mông": 5, "Tày": 3, "Dao": 2, "Nùng": 1}),
    "caobang": (0.90, {"Tày": 5, "Nùng": 3, "H'Mông": 1, "Dao": 1}),
    "backan": (0.85, {"Tày": 5, "Dao": 2, "Nùng": 1, "H'Mông": 1}),
    "langson": (0.80, {"Nùng": 4, "Tày": 4, "Dao": 1}),
    "laocai": (0.55, {"H'Mông": 4, "Tày": 2, "Dao": 2}),
    "laichau": (0.80, {"H'Mông": 4, "Thái": 3, "Dao": 1}),
    "dienbien": (0.80, {"Thái": 4, "H'Mông": 4}),
    "sonla": (0.80, {"Thái": 6, "H'Mông": 2, "Mường": 1}),
    "hoabinh": (0.70, {"Mường": 7, "Thái": 1, "Dao": 1}),
    "yenbai": (0.50, {"Tày": 3, "Dao": 2, "H'Mông": 2, "Thái": 1}),
    "tuyenquang": (0.60, {"Tày": 4, "H'Mông": 3, "Dao": 2, "Nùng": 1}),
    "thainguyen": (0.30, {"Tày": 4, "Nùng": 2, "Dao": 1}),
    "phutho": (0.30, {"Mường": 6, "Dao": 1, "Thái": 1}),
    "quangninh": (0.10, {"Dao": 2, "Tày": 2}),
    "bacgiang": (0.12, {"Nùng": 2, "Tày": 2}),
    "bacninh": (0.06, {"Nùng": 2, "Tày": 2}),
    "thanhhoa": (0.15, {"Mường": 3, "Thái": 2}),
    "nghean": (0.15, {"Thái": 4, "H'Mông": 1}),
    "kontum": (0.50, {"Xơ Đăng": 4, "Ba Na": 2}),
    "gialai": (0.30, {"Gia Rai": 5, "Ba Na": 3}),
    "daklak": (0.25, {"Ê Đê": 4, "Nùng": 1, "Tày": 1}),
    "daknong": (0.30, {"M'Nông": 3, "Nùng": 1, "Tày": 1}),
    "lamdong": (0.15, {"K'Ho": 3, "M'Nông": 1, "Chăm": 1}),
    "ninhthuan": (0.20, {"Chăm": 3}),
    "binhthuan": (0.05, {"Chăm": 2}),
    "quangngai": (0.20, {"Xơ Đăng": 2, "Ba Na": 1}),
    "binhphuoc": (0.15, {"Khmer": 1, "Nùng": 1, "Tày": 1}),
    "soctrang": (0.35, {"Khmer": 6, "Hoa": 1}),
    "travinh": (0.30, {"Khmer": 1}),
    "kiengiang": (0.12, {"Khmer": 4, "Hoa": 1}),
    "baclieu": (0.08, {"Khmer": 3, "Hoa": 1}),
    "angiang": (0.06, {"Khmer": 3, "Chăm": 1}),
    "cantho": (0.12, {"Khmer": 4, "Hoa": 1}),
    "vinhlong": (0.10, {"Khmer": 1}),
    "camau": (0.03, {"Khmer": 2, "Hoa": 1}),
    "haiduong": (0.003, {"Tày": 1, "Mường": 1}),
}
"""Province short-name key → (share of ethnic-minority cadres, relative weights of groups).
2025 merged provinces carry their mountain/delta partners' mix (e.g. Tuyên Quang + Hà Giang)."""
_LEGACY_MINORITY_SHARE = {
    "tuyenquang": 0.50,
    "thainguyen": 0.25,
    "phutho": 0.15,
    "gialai": 0.45,
    "daklak": 0.30,
    "lamdong": 0.20,
    "laocai": 0.60,
    "quangngai": 0.12,
    "cantho": 0.02,
    "vinhlong": 0.02,
}
_DEFAULT_MINORITY = (0.01, _NORTH_DEFAULT)


@dataclass
class Calibration:
    """Non-local incumbents per (scope, position): exact counts by district name, share ranges.

    ``exact[position][district name]`` = number of non-local incumbents; ``ranges[position]``
    = (low, high) share 0–1 for the other scopes (default :data:`GENERIC_NON_LOCAL`);
    ``forced_local`` = commune names whose incumbents are local; ``vacancy_rate`` share 0–1.
    """

    exact: dict[str, dict[str, int]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    forced_local: tuple[str, ...] = ()
    vacancy_rate: float = VACANCY_RATE
    mergers: dict[str, tuple[int, int]] = field(default_factory=dict)
    """district name → (communes being merged, how many fewer afterwards), legacy data only."""

    def share_range(self, position: str) -> tuple[float, float]:
        return self.ranges.get(position, GENERIC_NON_LOCAL)


def hai_duong_calibration() -> Calibration:
    """The calibrated Hai Duong (legacy) scenario: exact figures, no vacancies."""
    return Calibration(
        exact={"secretary": dict(HAI_DUONG_SECRETARIES)},
        ranges={"secretary": HAI_DUONG_OTHER},
        forced_local=HAI_DUONG_LOCAL,
        vacancy_rate=0.0,
        mergers=dict(HAI_DUONG_MERGERS),
    )


# =========================================================================== public API
def synthesize(
    province: str, legacy: bool, seed: int, positions: Sequence[str] = ("secretary",)
) -> dict[str, pd.DataFrame]:
    """Contract tables (units, cadres, posts, ratings, relations) for one province.

    Every cell is a string as written to CSV. Hai Duong (legacy) uses
    :func:`hai_duong_calibration`; other provinces draw non-local shares in 5–30% per district.
    """
    units = build_units(province, legacy)
    code = province_code(province, legacy)
    calib = hai_duong_calibration() if legacy and code == "30" else Calibration()
    return synthesize_units(units, seed, positions, calib, legacy=legacy)


def synthesize_national(
    seed: int, positions: Sequence[str] = ALL_POSITIONS
) -> dict[str, pd.DataFrame]:
    """All 34 provinces, 2025 structure (3,321 communes): ≈10,000 posts, ≈30,000 cadres."""
    return synthesize_units(build_national_units(), seed, positions, Calibration(), legacy=False)


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write ``NAME.csv`` for every table (UTF-8, '\\n', no index, deterministic row order).

    Files are first written to a temporary folder inside ``out_dir`` and then moved into place
    one by one with ``os.replace`` (atomic per file), so a reader never sees a half-written
    file and other files in ``out_dir`` are left alone. Returns the written paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synth-", dir=out))
    written: list[Path] = []
    try:
        staged = []
        for name in sorted(tables):
            df = sort_table(name, tables[name])
            path = tmp / f"{name}.csv"
            df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
            staged.append(path)
        for path in staged:
            target = out / path.name
            os.replace(path, target)
            written.append(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


_SORT_KEYS = {
    "cadres": ["cadre_id"],
    "posts": ["post_id"],
    "ratings": ["cadre_id", "year"],
    "relations": ["cadre_id", "relative_id"],
    "discipline": ["cadre_id", "date"],
    "preferences": ["cadre_id", "rank"],
}


def sort_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Deterministic row order: units by level then id, others by their key columns."""
    if name == "units":
        rank = df["level"].map({"province": 0, "district": 1, "commune": 2})
        return df.assign(_r=rank).sort_values(["_r", "unit_id"], kind="stable").drop(columns="_r")
    keys = [k for k in _SORT_KEYS.get(name, []) if k in df.columns]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df


# =========================================================================== generator
@dataclass
class _Geo:
    """Communes of the scenario as arrays (index = commune number)."""

    ids: np.ndarray  # unit_id str
    names: np.ndarray
    province: np.ndarray  # province unit_id
    scope: np.ndarray  # district unit_id (legacy) or province unit_id (2-level)
    nearby: list[np.ndarray]  # other communes within NEARBY_KM (same province), nearest first


def _geo(units: pd.DataFrame, legacy: bool) -> _Geo:
    parent = dict(zip(units["unit_id"], units["parent_id"], strict=True))
    level = dict(zip(units["unit_id"], units["level"], strict=True))
    com = units[units["level"] == "commune"].sort_values("unit_id")
    ids = com["unit_id"].to_numpy(dtype=object)
    par = com["parent_id"].to_numpy(dtype=object)
    prov = np.array([p if level[p] == "province" else parent[p] for p in par], dtype=object)
    scope = par if legacy else prov
    lat = com["lat"].astype(float).to_numpy()
    lon = com["lon"].astype(float).to_numpy()
    nearby: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(ids)
    for p in sorted(set(prov.tolist())):
        idx = np.nonzero(prov == p)[0]
        d = haversine_km(lat[idx, None], lon[idx, None], lat[None, idx], lon[None, idx])
        np.fill_diagonal(d, np.inf)
        order = np.argsort(d, axis=1, kind="stable")
        for row, i in enumerate(idx):
            o = order[row]
            within = o[d[row, o] <= NEARBY_KM]
            if len(within) < 2:
                within = o[: min(3, len(o))]
            nearby[i] = idx[within]
    return _Geo(ids, com["name"].to_numpy(dtype=object), prov, np.asarray(scope), nearby)


def _pick_nearby(geo: _Geo, at: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random nearby commune (≠ itself, same province) for each commune number in ``at``."""
    u = rng.random(len(at))
    out = np.empty(len(at), dtype=np.int64)
    for k, (i, x) in enumerate(zip(at, u, strict=True)):
        nb = geo.nearby[i]
        out[k] = nb[int(x * len(nb))] if len(nb) else i
    return out


def _draw_ages(
    rng: np.random.Generator, female: np.ndarray, mean: float, sd: float, lo: float, hi: float
) -> np.ndarray:
    """Ages in years at AS_OF: normal(mean, sd) clipped to [lo, hi]; women ≤ 55 (retirement)."""
    age = np.clip(rng.normal(mean, sd, len(female)), lo, hi)
    return np.where(female, np.minimum(age, 55.0), age)


def _ratings(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rating codes [n, 3 years] (0 excellent … 3 not complete), persistent per cadre."""
    p = np.array(RATING_SHARES) / sum(RATING_SHARES)
    base = rng.choice(4, size=n, p=p)
    fresh = rng.choice(4, size=(n, len(RATING_YEARS)), p=p)
    keep = rng.random((n, len(RATING_YEARS))) < RATING_PERSISTENCE
    return np.where(keep, base[:, None], fresh)


def _minority_params(province_key: str, legacy: bool) -> tuple[float, dict[str, float]]:
    share, mix = MINORITIES.get(province_key, _DEFAULT_MINORITY)
    if legacy:
        share = _LEGACY_MINORITY_SHARE.get(province_key, share)
    return share, mix


def _names(
    rng: np.random.Generator, female: np.ndarray, ethnicity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(family, middle, given) names with diacritics, gender-consistent (Thị for most women)."""
    n = len(female)
    fam_names = np.array([f for f, _ in FAMILY_NAMES], dtype=object)
    fam_w = np.array([w for _, w in FAMILY_NAMES])
    family = fam_names[rng.choice(len(fam_names), size=n, p=fam_w / fam_w.sum())]
    u_fam = rng.random(n)
    for k in np.nonzero(ethnicity != "Kinh")[0]:
        options = ETHNIC_FAMILY.get(str(ethnicity[k]))
        if options:
            family[k] = options[int(u_fam[k] * len(options))]
    mid_m = np.array(MIDDLE_M, dtype=object)[rng.integers(len(MIDDLE_M), size=n)]
    mid_f = np.array(MIDDLE_F, dtype=object)[rng.integers(len(MIDDLE_F), size=n)]
    thi = rng.random(n) < MIDDLE_F_THI
    middle = np.where(female, np.where(thi, "Thị", mid_f), mid_m)
    hmong_m = (ethnicity == "H'Mông") & ~female
    middle[hmong_m] = "A"
    given_m = np.array(GIVEN_M, dtype=object)[rng.integers(len(GIVEN_M), size=n)]
    given_f = np.array(GIVEN_F, dtype=object)[rng.integers(len(GIVEN_F), size=n)]
    given = np.where(female, given_f, given_m)
    return family.astype(object), middle.astype(object), given.astype(object)


def _days_before(years: np.ndarray) -> np.ndarray:
    """ISO dates ``years`` (float) before AS_OF."""
    days = np.round(np.asarray(years, dtype=float) * DAYS_PER_YEAR).astype("timedelta64[D]")
    return np.datetime_as_string(AS_OF - days, unit="D")


def _count_range(n: int, lo: float, hi: float, rng: np.random.Generator) -> int:
    """A whole number k with lo ≤ k/n ≤ hi, drawn uniformly (nearest to the range if none)."""
    a, b = math.ceil(lo * n - 1e-9), math.floor(hi * n + 1e-9)
    if a > b:
        return min(n, max(0, round((lo + hi) / 2 * n)))
    return int(rng.integers(a, b + 1))


def synthesize_units(
    units: pd.DataFrame,
    seed: int,
    positions: Sequence[str] = ("secretary",),
    calibration: Calibration | None = None,
    *,
    legacy: bool,
) -> dict[str, pd.DataFrame]:
    """The generator behind :func:`synthesize` / :func:`synthesize_national` for any ``units``
    table (one or several provinces; 3-level when ``legacy`` else 2-level)."""
    positions = list(dict.fromkeys(positions))
    if not positions:
        raise ValueError("at least one position")
    calib = calibration or Calibration()
    rng = np.random.default_rng(seed)
    units = units.reset_index(drop=True)
    geo = _geo(units, legacy)
    n_com = len(geo.ids)
    name_of = dict(zip(units["unit_id"], units["name"], strict=True))

    # ------------------------------------------------------------------ posts and incumbents
    n_pos = len(positions)
    post_com = np.tile(np.arange(n_com), n_pos)
    post_position = np.repeat(np.array(positions, dtype=object), n_com)
    n_posts = len(post_com)
    vacant = rng.random(n_posts) < calib.vacancy_rate
    non_local = np.zeros(n_posts, dtype=bool)
    forced_local = np.isin(geo.names[post_com], np.array(calib.forced_local, dtype=object))
    scopes = sorted(set(geo.scope.tolist()))
    for pos in positions:
        exact = calib.exact.get(pos, {})
        lo, hi = calib.share_range(pos)
        for s in scopes:
            grp = np.nonzero((post_position == pos) & (geo.scope[post_com] == s))[0]
            filled = grp[~vacant[grp]]
            sname = str(name_of.get(s, s))
            k = exact[sname] if sname in exact else _count_range(len(filled), lo, hi, rng)
            pool = filled[~forced_local[filled]]
            k = min(k, len(pool))
            chosen = rng.choice(pool, size=k, replace=False) if k else np.zeros(0, dtype=np.int64)
            non_local[chosen] = True

    inc = np.nonzero(~vacant)[0]  # post numbers with an incumbent, in post order
    n_inc = len(inc)
    inc_com = post_com[inc]
    inc_nl = non_local[inc]
    # local: residence and/or hometown is the post commune; non-local: both elsewhere nearby
    near1 = _pick_nearby(geo, inc_com, rng)
    near2 = _pick_nearby(geo, inc_com, rng)
    u_res, u_home = rng.random(n_inc), rng.random(n_inc)
    res_local = np.where(u_res < 0.85, inc_com, near1)
    home_local = np.where((res_local != inc_com) | (u_home < 0.7), inc_com, near2)
    res_nl = near1
    home_nl = np.where(u_home < 0.6, near1, near2)
    inc_res = np.where(inc_nl, res_nl, res_local)
    inc_home = np.where(inc_nl, home_nl, home_local)
    inc_female = rng.random(n_inc) < WOMEN_SHARE
    inc_age = _draw_ages(rng, inc_female, 47.0, 6.5, 33.0, 59.0)
    over = rng.random(n_inc) < OVER_TENURE_SHARE
    inc_tenure = np.where(over, rng.uniform(10.1, 12.0, n_inc), rng.uniform(0.1, 9.9, n_inc))
    inc_unit = geo.ids[inc_com]
    inc_position = post_position[inc]

    # ------------------------------------------------------------------ office pool
    office_units: list[str] = []
    office_res_pool: list[np.ndarray] = []
    if legacy:
        total = round(OFFICE_PER_POST * n_posts)
        share = (1 - PROVINCE_OFFICE_SHARE) * OFFICE_PER_POST * n_pos
        per_scope = {s: round(share * int((geo.scope == s).sum())) for s in scopes}
        provinces = sorted(set(geo.province.tolist()))
        rest = max(0, total - sum(per_scope.values()))
        prov_sizes = np.array([(geo.province == p).sum() for p in provinces], dtype=float)
        prov_counts = np.floor(rest * prov_sizes / prov_sizes.sum()).astype(int)
        prov_counts[: rest - int(prov_counts.sum())] += 1
        for p, c in zip(provinces, prov_counts, strict=True):
            office_units += [p] * int(c)
            office_res_pool += [np.nonzero(geo.province == p)[0]] * int(c)
        for s in scopes:
            office_units += [s] * per_scope[s]
            office_res_pool += [np.nonzero(geo.scope == s)[0]] * per_scope[s]
    else:
        for p in sorted(set(geo.province.tolist())):
            c = round(OFFICE_PER_POST * n_pos * int((geo.province == p).sum()))
            office_units += [p] * c
            office_res_pool += [np.nonzero(geo.province == p)[0]] * c
    n_off = len(office_units)
    u = rng.random(n_off)
    off_res = np.array(
        [pool[int(x * len(pool))] for pool, x in zip(office_res_pool, u, strict=True)],
        dtype=np.int64,
    )
    near_off = _pick_nearby(geo, off_res, rng)
    off_home = np.where(rng.random(n_off) < 0.65, off_res, near_off)
    off_female = rng.random(n_off) < WOMEN_SHARE
    off_age = _draw_ages(rng, off_female, 42.0, 7.0, 30.0, 58.0)
    off_tenure = rng.uniform(0.2, 12.0, n_off)

    # ------------------------------------------------------------------ all cadres
    n = n_inc + n_off
    cur_unit = np.concatenate([inc_unit, np.array(office_units, dtype=object)])
    scope_of_unit = dict(zip(geo.ids, geo.scope, strict=True))
    prov_of_unit = dict(zip(geo.ids, geo.province, strict=True))
    parent = dict(zip(units["unit_id"], units["parent_id"], strict=True))
    level = dict(zip(units["unit_id"], units["level"], strict=True))
    for uid in units["unit_id"]:
        if level[uid] == "province":
            prov_of_unit[uid] = uid
            scope_of_unit.setdefault(uid, uid)
        elif level[uid] == "district":
            prov_of_unit[uid] = parent[uid]
            scope_of_unit[uid] = uid
    cad_scope = np.array([scope_of_unit[x] for x in cur_unit], dtype=object)
    cad_prov = np.array([prov_of_unit[x] for x in cur_unit], dtype=object)
    res = np.concatenate([inc_res, off_res])
    home = np.concatenate([inc_home, off_home])
    female = np.concatenate([inc_female, off_female])
    age = np.concatenate([inc_age, off_age])
    tenure = np.concatenate([inc_tenure, off_tenure])
    is_inc = np.arange(n) < n_inc
    held = np.concatenate([inc_position, np.full(n_off, "", dtype=object)])
    movable = rng.random(n) >= NOT_MOVABLE_SHARE
    has_limit = rng.random(n) < TRAVEL_LIMIT_SHARE
    limit_km = np.where(
        has_limit, rng.integers(TRAVEL_LIMIT_KM[0], TRAVEL_LIMIT_KM[1] + 1, n), 0
    ).astype(float)
    limit_km[~has_limit] = np.nan
    rating = _ratings(rng, n)

    # planning lists (columns = ALL_POSITIONS), at most 3 by construction
    r_plan = rng.random((n, 3))
    planned = np.zeros((n, 3), dtype=bool)
    off = ~is_inc
    for k, share in enumerate(OFFICE_PLANNED):
        planned[off, k] = r_plan[off, k] < share
    pcc = held == "pc_chair"
    planned[pcc, 0] = r_plan[pcc, 0] < 0.80
    icc = held == "inspection_chair"
    planned[icc, 0] = r_plan[icc, 0] < 0.40
    planned[icc, 1] = r_plan[icc, 1] < 0.50

    # ethnicity by province
    ethnicity = np.full(n, "Kinh", dtype=object)
    u_min, u_grp = rng.random(n), rng.random(n)
    for p in sorted(set(cad_prov.tolist())):
        share, mix = _minority_params(
            normalize_name(str(name_of[p])).removeprefix("tinh").removeprefix("thanhpho"), legacy
        )
        groups = list(mix)
        w = np.cumsum([mix[g] for g in groups]) / sum(mix.values())
        idx = np.nonzero((cad_prov == p) & (u_min < share))[0]
        for jj in idx:
            ethnicity[jj] = groups[int(np.searchsorted(w, u_grp[jj], side="right"))]

    # ------------------------------------------------------------------ feasibility top-up
    local_inc = is_inc.copy()
    inc_local_flag = ~inc_nl
    local_inc[:n_inc] = inc_local_flag
    years_idx = {y: i for i, y in enumerate(RATING_YEARS)}
    last2 = [years_idx[2024], years_idx[2025]]
    order = rng.permutation(n)  # the order in which cadres are adjusted, drawn once
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    for pos in positions:
        j = ALL_POSITIONS.index(pos) if pos in ALL_POSITIONS else None
        for s in scopes:
            in_s = np.nonzero((post_position == pos) & (geo.scope[post_com] == s))[0]
            n_s = len(in_s)
            if n_s == 0:
                continue
            required = math.ceil(_TARGET_SHARE * n_s - 1e-9)
            holders = is_inc & (held == pos) & (cad_scope == s)
            must_stay = holders & local_inc & ((tenure < _MIN_TENURE) | ~movable)
            excess = int(must_stay.sum()) - (n_s - required - 1)
            if excess > 0:
                fix = np.nonzero(must_stay)[0]
                fix = fix[np.argsort(rank[fix])][:excess]
                tenure[fix] = rng.uniform(2.5, 8.0, len(fix))
                movable[fix] = True
            nl_kept = int((holders & ~local_inc & (tenure < 10.0)).sum())
            forced = int((holders & (tenure >= 10.0)).sum())
            n_vac = n_s - int(holders.sum())
            need = max(0, required - nl_kept) + forced + n_vac
            pool = np.nonzero(~is_inc & (cad_scope == s))[0]
            if len(pool) == 0:
                pool = np.nonzero(~is_inc & (cad_prov == prov_of_unit[s]))[0]
            if j is None:
                continue
            ok = (
                planned[pool, j]
                & movable[pool]
                & (tenure[pool] >= _MIN_TENURE)
                & (age[pool] <= _ELIGIBLE_MAX_AGE)
                & (rating[pool][:, last2] <= 1).all(axis=1)
                & np.isnan(limit_km[pool])
            )
            target = min(len(pool), max(2 * need, required) + 3)
            short = target - int(ok.sum())
            if short > 0:
                cand = pool[~ok]
                fix = cand[np.argsort(rank[cand])][:short]
                planned[fix, j] = True
                movable[fix] = True
                limit_km[fix] = np.nan
                tenure[fix] = np.maximum(tenure[fix], rng.uniform(2.5, 8.0, len(fix)))
                age[fix] = np.where(
                    age[fix] > _ELIGIBLE_MAX_AGE, rng.uniform(32, 50, len(fix)), age[fix]
                )
                sub = rating[fix]
                sub[:, last2] = np.minimum(sub[:, last2], 1)
                rating[fix] = sub

    # an incumbent past the tenure limit must leave, so is never also marked not movable
    movable[is_inc & (tenure >= 10.0)] = True

    # ------------------------------------------------------------------ names, relations
    family, middle, given = _names(rng, female, ethnicity)
    width = max(5, len(str(n)))
    cadre_ids = np.array([f"C{i + 1:0{width}d}" for i in range(n)], dtype=object)
    relations, family = _relations(rng, n, cad_scope, cur_unit, female, age, family, cadre_ids)
    full_name = np.array(
        [f"{a} {b} {c}" for a, b, c in zip(family, middle, given, strict=True)], dtype=object
    )

    # ------------------------------------------------------------------ tables (strings)
    plan_str = np.array(
        [";".join(ALL_POSITIONS[k] for k in range(3) if row[k]) for row in planned], dtype=object
    )
    cadres = pd.DataFrame(
        {
            "cadre_id": cadre_ids,
            "full_name": full_name,
            "gender": np.where(female, "F", "M"),
            "birth_date": _days_before(age),
            "ethnicity": ethnicity,
            "hometown_id": geo.ids[home],
            "residence_id": geo.ids[res],
            "current_unit_id": cur_unit,
            "current_since": _days_before(tenure),
            "planned_positions": plan_str,
            "movable": np.where(movable, "true", "false"),
            "max_travel_km": [("" if np.isnan(x) else str(int(x))) for x in limit_km],
        }
    )
    incumbent = np.full(n_posts, "", dtype=object)
    incumbent[inc] = cadre_ids[:n_inc]
    posts = pd.DataFrame(
        {
            "post_id": [f"P{geo.ids[c]}-{p}" for c, p in zip(post_com, post_position, strict=True)],
            "unit_id": geo.ids[post_com],
            "position": post_position,
            "incumbent_id": incumbent,
        }
    )
    ratings = pd.DataFrame(
        {
            "cadre_id": np.repeat(cadre_ids, len(RATING_YEARS)),
            "year": np.tile([str(y) for y in RATING_YEARS], n),
            "rating": np.array(RATING_NAMES, dtype=object)[rating.reshape(-1)],
        }
    )
    units_out = units[["unit_id", "name", "level", "parent_id", "lat", "lon"]].copy()
    units_out["parent_id"] = units_out["parent_id"].fillna("").astype(str)
    for col in ("lat", "lon"):
        units_out[col] = [repr(round(float(x), 6)) for x in units_out[col]]
    tables = {
        "units": units_out,
        "cadres": cadres,
        "posts": posts,
        "ratings": ratings,
        "relations": relations,
    }
    # contract v1.1 tables from a stream of their own: the v1 tables stay byte-identical
    v11 = np.random.default_rng([seed, 11])
    if legacy and calib.mergers:  # a fact of the unit list, not of the roster: not seeded
        tables["units"] = _mergers(
            np.random.default_rng(MERGER_SEED), tables["units"], calib.mergers
        )
    tables["discipline"] = _discipline(v11, cadres)
    tables["preferences"] = _wishes(v11, cadres, tables["units"])
    return {k: sort_table(k, v).reset_index(drop=True).astype(str) for k, v in tables.items()}


def _mergers(
    rng: np.random.Generator, units: pd.DataFrame, plan: dict[str, tuple[int, int]]
) -> pd.DataFrame:
    """Add ``merged_into``: in each named district, ``k`` communes are merged, ``fewer`` of them
    into the nearest of the others (each absorbing commune takes at most one)."""
    units = units.copy()
    units["merged_into"] = ""
    name_of = dict(zip(units["unit_id"], units["name"], strict=True))
    for dist_name, (k, fewer) in plan.items():
        dist_ids = [u for u, n in name_of.items() if n == dist_name]
        if not dist_ids:
            continue
        com = units[(units["parent_id"] == dist_ids[0]) & (units["level"] == "commune")]
        if len(com) < k or fewer * 2 > k:
            continue
        chosen = com.iloc[np.sort(rng.choice(len(com), size=k, replace=False))]
        lat = chosen["lat"].astype(float).to_numpy()
        lon = chosen["lon"].astype(float).to_numpy()
        ids = chosen["unit_id"].to_numpy()
        absorbed, keepers = list(range(fewer)), list(range(fewer, k))
        for a in absorbed:
            d = [haversine_km(lat[a], lon[a], lat[b], lon[b]) for b in keepers]
            b = keepers.pop(int(np.argmin(d)))
            units.loc[units["unit_id"] == ids[a], "merged_into"] = ids[b]
    return units


def _discipline(rng: np.random.Generator, cadres: pd.DataFrame) -> pd.DataFrame:
    """About :data:`DISCIPLINE_RATE` of cadres with a measure dated in the five years before
    :data:`AS_OF` (reprimand 70%, warning 25%, removal 5%)."""
    n = len(cadres)
    pick = np.nonzero(rng.random(n) < DISCIPLINE_RATE)[0]
    kinds = rng.choice(["reprimand", "warning", "removal"], size=len(pick), p=[0.7, 0.25, 0.05])
    days = rng.integers(30, 5 * 365, size=len(pick))
    dates = np.datetime_as_string(AS_OF - days.astype("timedelta64[D]"), unit="D")
    return pd.DataFrame(
        {"cadre_id": cadres["cadre_id"].to_numpy()[pick], "kind": kinds, "date": dates}
    )


def _wishes(rng: np.random.Generator, cadres: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """About :data:`WISH_RATE` of office cadres wish for 1–3 communes of their residence's
    district (or, one time in five, the whole district)."""
    parent = dict(zip(units["unit_id"], units["parent_id"], strict=True))
    level = dict(zip(units["unit_id"], units["level"], strict=True))
    merged = (
        set(units.loc[units["merged_into"] != "", "unit_id"]) if "merged_into" in units else set()
    )
    by_parent: dict[str, list[str]] = {}
    for u, p in parent.items():
        if level[u] == "commune" and u not in merged:
            by_parent.setdefault(p, []).append(u)
    rows: list[tuple[str, str, str]] = []
    office = cadres[[level.get(u) != "commune" for u in cadres["current_unit_id"]]]
    pick = np.nonzero(rng.random(len(office)) < WISH_RATE)[0]
    for i in pick:
        cid = office["cadre_id"].iat[i]
        area = parent.get(office["residence_id"].iat[i], "")
        options = by_parent.get(area, [])
        if not options:
            continue
        if level.get(area) == "district" and rng.random() < 0.2:
            rows.append((cid, area, "1"))
            continue
        k = int(rng.integers(1, min(3, len(options)) + 1))
        for r, j in enumerate(rng.choice(len(options), size=k, replace=False), start=1):
            rows.append((cid, options[j], str(r)))
    return pd.DataFrame(rows, columns=["cadre_id", "unit_id", "rank"])


def _relations(
    rng: np.random.Generator,
    n: int,
    scope: np.ndarray,
    unit: np.ndarray,
    female: np.ndarray,
    age: np.ndarray,
    family: np.ndarray,
    cadre_ids: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """≈ RELATIVE_SHARE of cadres in relative pairs within one scope (never the same unit).

    The relation follows the pair: spouse (a man and a woman, ages within 12 years), parent
    (≥ 20 years older; a father passes on his family name), else sibling (same family name).
    Returns the relations table and the family names after those adjustments.
    """
    family = family.copy()
    n_pairs = max(1, round(RELATIVE_SHARE * n / 2)) if n >= 4 else 0
    used = np.zeros(n, dtype=bool)
    rows: list[tuple[str, str, str]] = []
    firsts = rng.permutation(n)
    u = rng.random(len(firsts))
    for a, x in zip(firsts, u, strict=True):
        if len(rows) >= n_pairs:
            break
        if used[a]:
            continue
        cand = np.nonzero((scope == scope[a]) & ~used & (unit != unit[a]))[0]
        cand = cand[cand != a]
        if len(cand) == 0:
            continue
        b = int(cand[int(x * len(cand))])
        used[a] = used[b] = True
        young, old = (a, b) if age[a] <= age[b] else (b, a)
        gap = age[old] - age[young]
        if female[a] != female[b] and gap < 12:
            rel = "spouse"
        elif gap >= 20:
            rel = "parent"
            if not female[old]:
                family[young] = family[old]
        else:
            rel = "sibling"
            family[b] = family[a]
        rows.append((str(cadre_ids[young]), str(cadre_ids[old]), rel))
    df = pd.DataFrame(rows, columns=["cadre_id", "relative_id", "relation"])
    return df, family
