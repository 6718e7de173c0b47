"""A tiny valid dataset as raw text tables, exactly as they would appear in CSV files.

Spreadsheet rows (header = row 1): units HD=2, D1=3, D2=4, C1=5, C2=6, C3=7;
cadres K1=2 … K4=5; posts S1=2, S2=3, S3=4, P3=5.
"""

from __future__ import annotations

import io

import pandas as pd

UNITS = """unit_id,name,level,parent_id,lat,lon
HD,Tỉnh Hải Dương,province,,20.94,106.33
D1,Thành phố Hải Dương,district,HD,20.94,106.31
D2,Huyện Nam Sách,district,HD,21.0,106.34
C1,Phường Thạch Khôi,commune,D1,20.91,106.32
C2,Phường Tân Bình,commune,D1,20.93,106.3
C3,Xã Nam Hồng,commune,D2,21.01,106.36
"""

CADRES = """cadre_id,full_name,gender,birth_date,ethnicity,hometown_id,residence_id,\
current_unit_id,current_since,planned_positions,movable,max_travel_km
K1,Nguyễn Văn An,M,1975-03-02,Kinh,C1,C1,C1,2018-06-01,secretary,true,
K2,Nguyễn Thị Ánh,F,1980-11-20,,C2,C2,C2,2019-01-15,secretary; pc_chair,yes,40
K3,Trần Văn Bình,M,1982-05-05,Kinh,C3,C3,C3,2020-02-01,pc_chair,1,
K4,Lê Thị Cúc,F,1985-07-30,Tày,C1,C2,D1,2021-09-01,,,25.5
"""

POSTS = """post_id,unit_id,position,incumbent_id
S1,C1,secretary,K1
S2,C2,secretary,K2
S3,C3,secretary,
P3,C3,pc_chair,K3
"""

RATINGS = """cadre_id,year,rating
K1,2024,good
K1,2025,excellent
K2,2024,complete
K3,2025,good
"""

RELATIONS = """cadre_id,relative_id,relation
K1,K4,spouse
"""

TRAVEL = """from_id,to_id,km
C1,C3,18.5
"""

TEXTS = {
    "units": UNITS,
    "cadres": CADRES,
    "posts": POSTS,
    "ratings": RATINGS,
    "relations": RELATIONS,
    "travel": TRAVEL,
}


def frame(text: str) -> pd.DataFrame:
    """A CSV text as a DataFrame of strings (empty cells are '')."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def tiny_tables() -> dict[str, pd.DataFrame]:
    """A fresh, valid 3-level dataset (province → districts → communes) as string tables."""
    return {name: frame(text) for name, text in TEXTS.items()}
