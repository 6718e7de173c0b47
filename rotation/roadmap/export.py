"""A roadmap as a workbook a committee opens: who moves when, how the shares grow, what falls due.

:func:`write_roadmap_xlsx` writes (atomically: temporary file, then rename)

- ``timeline`` — one row per changed post per round: post, unit, new holder (id and name), moved
  from / to, non-local, travel km (residence → post);
- ``kpis`` — per round, position and scope: posts, non-local holders, share (0–1), the target
  share in force at that round (trajectory or ``non_local_targets``), posts that changed holder;
  plus one ``all`` row per round;
- ``vacancy_forecast`` — per round, holders (after the round's plan) whose retirement falls due
  before the next round, and holders who reach ``max_years_in_post`` by then;
- ``diagnosis`` — only when the roadmap is infeasible.

Every number is derived from the data rolled forward with the validator's states
(:func:`rotation.roadmap.validate.roll_roadmap`), not from the model's own claims. Text that
starts like a formula is written as a string cell, never a formula (:mod:`rotation.cells`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..cells import workbook_bytes, xlsx_row
from ..concepts import add_months, cadre_facts
from ..data import ProblemData
from ..export import _style, assignment_rows
from ..plan import kpi_scope_level
from ..rules import Rules
from .horizon import Horizon, round_rules
from .validate import RolledRoadmap, load_horizon, non_local_counts, roll_roadmap

TIMELINE_COLUMNS = [
    "round", "post_id", "unit_id", "unit_name", "position", "cadre_id", "full_name",
    "moved_from", "moved_to", "non_local", "travel_km",
]  # fmt: skip
KPI_COLUMNS = [
    "round", "position", "scope_level", "scope_id", "scope_name", "posts", "non_local",
    "share", "target_share", "required", "changes",
]  # fmt: skip
VACANCY_COLUMNS = [
    "round", "window_end", "post_id", "unit_id", "unit_name", "position", "cadre_id",
    "full_name", "reason", "due_date", "years_in_post_at_window_end",
]  # fmt: skip


# =========================================================================== rows
def timeline_rows(data: ProblemData, rolled: RolledRoadmap) -> list[dict[str, Any]]:
    """One row per changed post per round (a vacated post has an empty cadre)."""
    rows = []
    for (day, plan), start in zip(rolled.parsed.rounds, rolled.starts, strict=True):
        for row in assignment_rows(start, plan):
            if not row["changed"]:
                continue
            rows.append({"round": day, **{c: row[c] for c in TIMELINE_COLUMNS[1:]}})
    return rows


def _kpi_pairs(rules: Rules, hz: Horizon, data: ProblemData) -> list[tuple[str, str]]:
    """(position, scope level) pairs reported: every target in force at some round, and each
    plan position without one at the KPI scope level."""
    pairs: list[tuple[str, str]] = []
    for k in range(len(hz.rounds)):
        for t in round_rules(rules, hz, k).non_local_targets:
            if (t.position, t.scope_level) not in pairs:
                pairs.append((t.position, t.scope_level))
    level = kpi_scope_level(data, rules)
    for pos in rules.positions:
        if not any(p == pos for p, _ in pairs):
            pairs.append((pos, level))
    return pairs


def kpi_rows(data: ProblemData, rules: Rules, rolled: RolledRoadmap) -> list[dict[str, Any]]:
    """Per round, (position, scope level) and scope: posts, non-local holders after the round's
    plan, share 0–1, target share in force (None when no target), required count, changed posts;
    then one ``all`` row per round over the plan's positions."""
    days = rolled.days
    if not days:
        return []
    hz = load_horizon(rules).model_copy(update={"rounds": days})
    pairs = _kpi_pairs(rules, hz, data)
    rows: list[dict[str, Any]] = []
    for k, day in enumerate(days):
        start, after = rolled.starts[k], rolled.afters[k]
        rules_k = round_rules(rules, hz, k)
        before_holder = start.posts["incumbent_id"]
        after_holder = after.posts["incumbent_id"]
        changed = {
            p for p in after.posts.index if _id(after_holder.get(p)) != _id(before_holder.get(p))
        }
        total = [0, 0, 0]
        for pos, level in pairs:
            target = next(
                (t for t in rules_k.non_local_targets
                 if t.position == pos and t.scope_level == level),
                None,
            )  # fmt: skip
            posts = after.posts[after.posts["position"] == pos]
            scopes = after.scope_of(posts["unit_id"].tolist(), level).tolist()
            n_changed: dict[str, int] = defaultdict(int)
            for p, s in zip(posts.index, scopes, strict=True):
                n_changed[str(s)] += int(p in changed)
            for s, (n, nl) in non_local_counts(after, rules, pos, level).items():
                rows.append(
                    {
                        "round": day,
                        "position": pos,
                        "scope_level": level,
                        "scope_id": s,
                        "scope_name": after.unit_name(s),
                        "posts": n,
                        "non_local": nl,
                        "share": round(nl / n, 6) if n else 0.0,
                        "target_share": target.min_share if target else None,
                        "required": target.required(n) if target else None,
                        "changes": n_changed.get(s, 0),
                    }
                )
        for pos in rules.positions:
            counts = non_local_counts(after, rules, pos, "province")
            total[0] += sum(n for n, _ in counts.values())
            total[1] += sum(nl for _, nl in counts.values())
            posts = after.posts.index[after.posts["position"] == pos]
            total[2] += sum(int(p in changed) for p in posts)
        rows.append(
            {
                "round": day,
                "position": ", ".join(rules.positions),
                "scope_level": "all",
                "scope_id": "",
                "scope_name": "all",
                "posts": total[0],
                "non_local": total[1],
                "share": round(total[1] / total[0], 6) if total[0] else 0.0,
                "target_share": None,
                "required": None,
                "changes": total[2],
            }
        )
    return rows


def _id(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def window_ends(days: list[dt.date]) -> list[dt.date]:
    """Where each round's forecast window ends: the next round; after the last round, one more
    interval as long as the previous one (12 months with a single round)."""
    ends = list(days[1:])
    if len(days) == 1:
        ends.append(add_months(days[0], 12))
    elif days:
        a, b = days[-2], days[-1]
        months = (b.year - a.year) * 12 + b.month - a.month
        same_day = a.day == b.day and months > 0
        ends.append(add_months(b, months) if same_day else b + (b - a))
    return ends


def vacancy_rows(data: ProblemData, rules: Rules, rolled: RolledRoadmap) -> list[dict[str, Any]]:
    """Per round, holders of the plan's posts (after the round's plan) who retire on or before
    the window's end (the next round), or who reach ``max_years_in_post`` by then."""
    rows: list[dict[str, Any]] = []
    days = rolled.days
    for day, end, after in zip(days, window_ends(days), rolled.afters, strict=True):
        facts = cadre_facts(after, rules.model_copy(update={"as_of": end}))
        posts = after.posts[after.posts["position"].isin(rules.positions)]
        for pid, post in posts.sort_index().iterrows():
            c = _id(post["incumbent_id"])
            if c is None or c not in facts.index:
                continue
            base = {
                "round": day,
                "window_end": end,
                "post_id": pid,
                "unit_id": post["unit_id"],
                "unit_name": after.unit_name(post["unit_id"]),
                "position": post["position"],
                "cadre_id": c,
                "full_name": after.cadre_name(c),
            }
            tenure = float(facts.at[c, "tenure_years"])
            retire = facts.at[c, "retirement_date"]
            if retire <= end:
                rows.append(
                    {**base, "reason": "retirement", "due_date": retire,
                     "years_in_post_at_window_end": round(tenure, 2)}
                )  # fmt: skip
            limit = rules.max_years_in_post
            if limit is not None and tenure >= limit:
                since = after.cadres.at[c, "current_since"]
                rows.append(
                    {**base, "reason": "max_tenure", "due_date": add_months(since, round(limit * 12)),
                     "years_in_post_at_window_end": round(tenure, 2)}
                )  # fmt: skip
    return rows


# =========================================================================== xlsx
def _sheet(wb: Any, title: str, columns: list[str], rows: list[dict[str, Any]]) -> Any:
    ws = wb.create_sheet(title)
    ws.append(xlsx_row(columns))
    for r in rows:
        ws.append(xlsx_row([r.get(c) for c in columns]))
    for i, col in enumerate(columns, start=1):
        if col in ("share", "target_share"):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "0.0%"
        if col in ("round", "due_date", "window_end"):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "yyyy-mm-dd"
    _style(ws)
    return ws


STATUS_COLUMNS = ["status", "proof", "objective", "bound", "gap"]


def status_row(status: str, stats: dict[str, Any]) -> dict[str, Any]:
    """The first sheet: the status and what it rests on ("not proven: gap X%" when unproven)."""
    from .model import proof_line

    return {
        "status": status,
        "proof": proof_line(stats),
        "objective": stats.get("objective"),
        "bound": stats.get("bound"),
        "gap": stats.get("gap"),
    }


def write_roadmap_xlsx(data: ProblemData, rules: Rules, roadmap: Any, path: str | Path) -> Path:
    """Write the roadmap workbook to ``path`` atomically (temporary file, then rename)."""
    from openpyxl import Workbook

    rolled = roll_roadmap(data, rules, roadmap)
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    stats = roadmap.get("stats", {}) if isinstance(roadmap, dict) else {}
    _sheet(wb, "status", STATUS_COLUMNS, [status_row(rolled.parsed.status, stats)])
    _sheet(wb, "timeline", TIMELINE_COLUMNS, timeline_rows(data, rolled))
    _sheet(wb, "kpis", KPI_COLUMNS, kpi_rows(data, rules, rolled))
    _sheet(wb, "vacancy_forecast", VACANCY_COLUMNS, vacancy_rows(data, rules, rolled))
    if rolled.parsed.status == "infeasible" or rolled.parsed.diagnosis:
        _sheet(
            wb,
            "diagnosis",
            ["rule", "scope", "detail"],
            [d.model_dump() for d in rolled.parsed.diagnosis],
        )
    write_atomic(path, workbook_bytes(wb))
    return path
