"""Plans for people and other programs: an .xlsx workbook a committee opens, CSV and GeoJSON.

Exports are safe to open (:mod:`rotation.cells`): text that starts like a formula is a string
cell in the workbook, never a formula, and is prefixed with ``'`` in the CSV.

- :func:`write_plan_xlsx` — sheets ``assignments``, ``kpis``, ``by_district``, ``diagnosis``
  (when the plan has one) and ``explanations``; written to a temporary file, then renamed.
- :func:`plan_to_csv` — the assignments with unit and cadre names, as CSV text (UTF-8).
- :func:`plan_to_geojson` — one Point feature per post (at its commune's centroid) with the
  plan's attributes, as a GeoJSON FeatureCollection dict.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from .atomic import write_atomic
from .cells import csv_rows, workbook_bytes, xlsx_row
from .data import ProblemData
from .plan import Assignment, Plan
from .report import before_after_table
from .rules import Rules

N_ALTERNATIVES = 3
BASE_COLUMNS = [
    "post_id",
    "unit_id",
    "unit_name",
    "position",
    "cadre_id",
    "full_name",
    "previous_post_id",
    "moved_from",
    "moved_to",
    "changed",
    "non_local",
    "travel_km",
]


# --------------------------------------------------------------------------- rows
def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def moved_from(data: ProblemData, a: Assignment) -> str:
    """Where the holder comes from: the unit of the previous post, or the office they work in."""
    if a.cadre_id is None:
        return ""
    if a.previous_post_id and a.previous_post_id in data.posts.index:
        return data.unit_name(data.posts.at[a.previous_post_id, "unit_id"])
    if a.cadre_id in data.cadres.index:
        return data.unit_name(data.cadres.at[a.cadre_id, "current_unit_id"])
    return ""


def _extra(a: Assignment, name: str) -> Any:
    extra = a.model_extra or {}
    return extra.get(name, getattr(a, name, None))


def assignment_rows(data: ProblemData, plan: Plan) -> list[dict[str, Any]]:
    """One flat dict per assignment, with names (the ``assignments`` sheet and the CSV)."""
    rows = []
    for a in plan.assignments:
        row: dict[str, Any] = {
            "post_id": a.post_id,
            "unit_id": a.unit_id,
            "unit_name": data.unit_name(a.unit_id),
            "position": a.position,
            "cadre_id": a.cadre_id or "",
            "full_name": data.cadre_name(a.cadre_id) if a.cadre_id else "",
            "previous_post_id": a.previous_post_id or "",
            "moved_from": moved_from(data, a) if a.changed else "",
            "moved_to": data.unit_name(a.unit_id) if a.changed and a.cadre_id else "",
            "changed": bool(a.changed),
            "non_local": bool(a.non_local),
            "travel_km": float(a.travel_km),
        }
        rows.append(row)
    return rows


def _score_terms(plan: Plan) -> list[str]:
    terms: list[str] = []
    for a in plan.assignments:
        score = _extra(a, "score")
        if isinstance(score, dict):
            for t in score:
                if t not in terms:
                    terms.append(t)
    return terms


# --------------------------------------------------------------------------- xlsx
def write_plan_xlsx(data: ProblemData, rules: Rules, plan: Plan, path: str | Path) -> Path:
    """Write the plan workbook to ``path`` atomically (temporary file, then rename)."""
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "assignments"
    terms = _score_terms(plan)
    base = assignment_rows(data, plan)
    header = [*BASE_COLUMNS, "score_total"] + [f"score_{t}" for t in terms]
    for i in range(1, N_ALTERNATIVES + 1):
        header += [f"alt{i}_cadre_id", f"alt{i}_name", f"alt{i}_why_not"]
    ws.append(xlsx_row(header))
    for a, row in zip(plan.assignments, base, strict=True):
        raw = _extra(a, "score")
        score = raw if isinstance(raw, dict) else {}
        values = [row[h] for h in BASE_COLUMNS]
        has = isinstance(raw, dict)
        values.append(round(sum(float(v) for v in score.values()), 3) if has else None)
        values += [score.get(t) for t in terms]
        alts = _extra(a, "alternatives") or []
        for i in range(N_ALTERNATIVES):
            alt = alts[i] if i < len(alts) and isinstance(alts[i], dict) else {}
            cid = alt.get("cadre_id")
            values += [
                cid,
                alt.get("cadre_name") or (data.cadre_name(cid) if cid else None),
                alt.get("why_not"),
            ]
        ws.append(xlsx_row(values))
    _style(ws)

    ws = wb.create_sheet("kpis")
    ws.append(xlsx_row(["measure", "value"]))
    for k, v in kpi_rows(data, plan):
        ws.append(xlsx_row([k, v]))
    _style(ws)

    ws = wb.create_sheet("by_district")
    table = before_after_table(data, rules, plan)
    ws.append(xlsx_row(list(table.columns)))
    for rec in table.itertuples(index=False):
        ws.append(xlsx_row([_cell(v) for v in rec]))
    for i, col in enumerate(table.columns, start=1):
        if "share" in col:
            for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                c.number_format = "0.0%"
    _style(ws)

    if plan.diagnosis:
        ws = wb.create_sheet("diagnosis")
        ws.append(xlsx_row(["rule", "scope", "detail"]))
        for d in plan.diagnosis:
            ws.append(xlsx_row([d.rule, d.scope, d.detail]))
        _style(ws)

    ws = wb.create_sheet("explanations")
    ws.append(
        xlsx_row(
            [
                "post_id",
                "unit_name",
                "holder_id",
                "holder_name",
                "rank",
                "alternative_id",
                "alternative_name",
                "cost_difference",
                "failed_rule",
                "why_not",
            ]
        )
    )
    for a in plan.assignments:
        alts = _extra(a, "alternatives") or []
        for rank, alt in enumerate(alts, start=1):
            if not isinstance(alt, dict):
                continue
            cid = alt.get("cadre_id")
            ws.append(
                xlsx_row(
                    [
                        a.post_id,
                        data.unit_name(a.unit_id),
                        a.cadre_id,
                        data.cadre_name(a.cadre_id) if a.cadre_id else None,
                        rank,
                        cid,
                        alt.get("cadre_name") or (data.cadre_name(cid) if cid else None),
                        alt.get("cost_difference"),
                        alt.get("failed_rule"),
                        alt.get("why_not"),
                    ]
                )
            )
    _style(ws)

    write_atomic(path, workbook_bytes(wb))
    return path


def kpi_rows(data: ProblemData, plan: Plan) -> list[tuple[str, Any]]:
    """The plan's KPIs as (measure, value) rows, scope shares named."""
    k = plan.kpis
    if k is None:  # infeasible: no KPIs, no fake zeros (contract v1.1)
        return [("status", plan.status), ("diagnosis items", len(plan.diagnosis))]
    nls = k.non_local_share
    rows: list[tuple[str, Any]] = [
        ("status", plan.status),
        ("objective", plan.objective),
        ("bound", plan.bound),
        ("posts", nls.posts if nls.posts is not None else len(plan.assignments)),
        ("non-local posts", nls.non_local_posts),
        ("non-local share", k.non_local_share.overall),
        ("changed posts", k.changed_posts),
        ("released", len(plan.released)),
        ("total travel km", k.total_travel_km),
        ("max travel km", k.max_travel_km),
    ]
    if k.support_cost_vnd is not None:
        rows.append(("support cost VND", k.support_cost_vnd))
    if k.new_appointees is not None:
        na = k.new_appointees
        rows += [
            ("new appointees", na.count),
            ("new appointees: women", na.women),
            ("new appointees: young (< 40)", na.young),
            ("new appointees: ethnic minority", na.minority),
        ]
    if k.preferences is not None:
        pk = k.preferences
        rows += [
            ("new appointees with wishes", pk.with_wishes),
            ("placed in a wished unit", pk.placed_in_wish),
            ("placed in their first choice", pk.placed_first_choice),
        ]
    for sid, share in k.non_local_share.by_scope.items():
        rows.append((f"non-local share: {data.unit_name(sid)} ({sid})", share))
    return rows


def _cell(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _style(ws) -> None:
    """Bold header, frozen header row, column widths from the content (capped)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for c in ws[1]:
        c.font = bold
    ws.freeze_panes = "A2"
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 500)):
        for c in row:
            if c.value is not None:
                widths[c.column] = max(widths.get(c.column, 0), len(str(c.value)))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(w + 2, 8), 60)


# --------------------------------------------------------------------------- csv / geojson
def plan_to_csv(data: ProblemData, plan: Plan) -> str:
    """The assignments with unit and cadre names, as CSV text ('\\n' line endings)."""
    rows = csv_rows(assignment_rows(data, plan))
    return pd.DataFrame(rows, columns=BASE_COLUMNS).to_csv(index=False, lineterminator="\n")


def plan_to_geojson(data: ProblemData, plan: Plan) -> dict[str, Any]:
    """A FeatureCollection: one Point per post at its commune's centroid ([lon, lat]); the
    geometry is null when the unit has no coordinates. Properties are the assignment's fields
    with names, plus the commune's district (``scope_name``)."""
    features = []
    scope = data.scope_of([a.unit_id for a in plan.assignments], "district").tolist()
    for a, row, sid in zip(plan.assignments, assignment_rows(data, plan), scope, strict=True):
        geometry = None
        if a.unit_id in data.units.index:
            lat = float(data.units.at[a.unit_id, "lat"])
            lon = float(data.units.at[a.unit_id, "lon"])
            if not (math.isnan(lat) or math.isnan(lon)):
                geometry = {"type": "Point", "coordinates": [lon, lat]}
        props = dict(row)
        props["scope_id"] = sid if isinstance(sid, str) else None
        props["scope_name"] = data.unit_name(sid) if isinstance(sid, str) else None
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}
