"""Variants side by side (contract §4.1 ``rotation compare``): KPIs, scenario differences and
every post whose holder differs, with unit and cadre names; written as a committee workbook.

- :func:`compare_plans` — a :class:`Comparison` of plans of one dataset (a :class:`PlanMismatch`,
  a ``ValueError``, when a plan names posts not in the data or the plans cover different posts);
- :func:`write_compare_xlsx` — the comparison as ``.xlsx`` in the committee's language;
- :func:`scenario_values` / :func:`rules_differing_from_defaults` — a rules mapping flattened to
  ``key → value`` (``weights.change``, ``non_local_targets``, …), shared with the meeting report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .atomic import write_atomic
from .cells import safe_cell, workbook_bytes
from .data import ProblemData
from .i18n import Translator, translator
from .plan import Plan, kpi_scope_level
from .rules import Rules

if TYPE_CHECKING:  # openpyxl is loaded when a comparison workbook is written, not by a plan
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

KpiKind = Literal["text", "int", "number", "share", "km", "money"]


class PlanMismatch(ValueError):
    """The plans cannot be compared on this data (other dataset, other posts)."""


@dataclass(frozen=True)
class KpiRow:
    """One KPI across the plans. ``key`` is the KPI name (``non_local_share``,
    ``changed_posts``, ``new_appointees.women``, …); ``scope_id`` is set for the per-scope
    non-local shares; ``values`` has one entry per plan (None = not available)."""

    key: str
    kind: KpiKind
    values: list[Any]
    scope_id: str | None = None
    scope_name: str | None = None


@dataclass(frozen=True)
class ScenarioRow:
    """One rules key whose value differs between the plans (values as plain JSON data)."""

    key: str
    values: list[Any]


@dataclass(frozen=True)
class Holder:
    cadre_id: str | None
    cadre_name: str | None


@dataclass(frozen=True)
class PostDiff:
    """A post whose holder is not the same in every plan; ``incumbent`` = today's holder."""

    post_id: str
    unit_id: str
    unit_name: str
    position: str
    incumbent: Holder
    holders: list[Holder]


@dataclass
class Comparison:
    """Plans of one dataset side by side; ``names[i]`` labels ``plans[i]``'s column."""

    names: list[str]
    statuses: list[str]
    scope_level: str
    kpis: list[KpiRow] = field(default_factory=list)
    scenario: list[ScenarioRow] = field(default_factory=list)
    scenario_known: bool = False
    differences: list[PostDiff] = field(default_factory=list)


# =========================================================================== scenario
def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """Dicts become dotted keys; lists and scalars stay whole (a list of targets is one value)."""
    if isinstance(value, Mapping) and value:
        for k in sorted(value):
            _flatten(f"{prefix}.{k}" if prefix else str(k), value[k], out)
    else:
        out[prefix] = value


def scenario_values(rules: Rules | Mapping[str, Any]) -> dict[str, Any]:
    """Rules as ``key → JSON value``, nested mappings as dotted keys (``weights.change``)."""
    raw = rules.model_dump(mode="json") if isinstance(rules, Rules) else dict(rules)
    out: dict[str, Any] = {}
    _flatten("", raw, out)
    return out


def rules_differing_from_defaults(rules: Rules | Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``rules`` whose value is not the documented default (``Rules()``)."""
    defaults = scenario_values(_default_rules())
    mine = scenario_values(rules)
    return {k: v for k, v in mine.items() if k not in defaults or defaults[k] != v}


def _default_rules() -> Rules:
    return Rules.model_validate({})


def plan_rules(plan: Plan) -> dict[str, Any] | None:
    """The rules a plan carries (contract §3.1 field ``rules``), or None."""
    raw: object = plan.rules
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, Rules):
        return raw.model_dump(mode="json")
    return None


# =========================================================================== checks
def check_same_dataset(data: ProblemData, plans: Sequence[Plan], names: Sequence[str]) -> None:
    """Every plan names only posts and cadres of ``data``, and all plans cover the same posts.

    Raises :class:`PlanMismatch` naming the plan and up to three offending ids."""
    posts = data.posts.index
    cadres = data.cadres.index
    problems: list[str] = []
    for name, p in zip(names, plans, strict=True):
        unknown_posts = sorted({a.post_id for a in p.assignments if a.post_id not in posts})
        if unknown_posts:
            problems.append(
                f"{name}: {len(unknown_posts)} post(s) not in the data "
                f"({_few(unknown_posts)}): a plan of another dataset?"
            )
        ids = {a.cadre_id for a in p.assignments if a.cadre_id} | set(p.released)
        unknown_cadres = sorted(c for c in ids if c not in cadres)
        if unknown_cadres:
            problems.append(
                f"{name}: {len(unknown_cadres)} cadre(s) not in the data "
                f"({_few(unknown_cadres)}): a plan of another dataset?"
            )
    if problems:
        raise PlanMismatch("\n".join(problems))
    sets = [{a.post_id for a in p.assignments} for p in plans if p.assignments]
    named = [n for n, p in zip(names, plans, strict=True) if p.assignments]
    for name, s in zip(named[1:], sets[1:], strict=True):
        if s != sets[0]:
            only_first = sorted(sets[0] - s)
            only_this = sorted(s - sets[0])
            parts = []
            if only_first:
                parts.append(f"{len(only_first)} only in {named[0]} ({_few(only_first)})")
            if only_this:
                parts.append(f"{len(only_this)} only in {name} ({_few(only_this)})")
            problems.append(f"{name} and {named[0]} plan different posts: {'; '.join(parts)}")
    if problems:
        raise PlanMismatch("\n".join(problems))


def _few(ids: Sequence[str], n: int = 3) -> str:
    return ", ".join(ids[:n]) + (", …" if len(ids) > n else "")


# =========================================================================== compare
BASE_KPIS: tuple[tuple[str, KpiKind], ...] = (
    ("objective", "number"),
    ("posts", "int"),
    ("non_local_posts", "int"),
    ("non_local_share", "share"),
    ("changed_posts", "int"),
    ("released", "int"),
    ("total_travel_km", "km"),
    ("max_travel_km", "km"),
)
EXTRA_KINDS: dict[str, KpiKind] = {"support_cost_vnd": "money"}


def compare_plans(
    data: ProblemData,
    plans: Sequence[Plan],
    names: Sequence[str] | None = None,
    rules: Sequence[Rules] | None = None,
) -> Comparison:
    """Compare plans of ``data``: KPIs side by side (coverage by scope, changes, released, km,
    objective, and every further numeric KPI that all plans have), the rules keys that differ
    (from ``rules`` when given, else from the plans' own ``rules`` field), and every post whose
    holder is not the same in all plans. An infeasible plan has no holders: its column is empty.
    """
    if not plans:
        raise PlanMismatch("no plans to compare")
    names = list(names) if names is not None else [f"plan-{i}" for i in range(1, len(plans) + 1)]
    if len(names) != len(plans):
        raise ValueError(f"{len(plans)} plans but {len(names)} names")
    if rules is not None and len(rules) != len(plans):
        raise ValueError(f"{len(plans)} plans but {len(rules)} rules")
    check_same_dataset(data, plans, names)
    scenarios: list[dict[str, Any] | None] = (
        [r.model_dump(mode="json") for r in rules]
        if rules is not None
        else [plan_rules(p) for p in plans]
    )
    first = scenarios[0]
    level_rules = Rules.model_validate(first) if first and _valid_rules(first) else _default_rules()
    out = Comparison(
        names=names,
        statuses=[p.status for p in plans],
        scope_level=kpi_scope_level(data, level_rules),
    )
    out.kpis = _kpi_rows(data, plans)
    if all(s is not None for s in scenarios):
        out.scenario_known = True
        out.scenario = _scenario_rows([s for s in scenarios if s is not None])
    out.differences = _differences(data, plans)
    return out


def _valid_rules(raw: Mapping[str, Any] | None) -> bool:
    if raw is None:
        return False
    try:
        Rules.model_validate(raw)
    except ValueError:
        return False
    return True


def _kpi_values(plan: Plan) -> dict[str, Any]:
    """The plan's KPIs flattened (``new_appointees.women``), plus counts from the plan."""
    k = plan.kpis
    if plan.status == "infeasible" or not plan.assignments or k is None:
        return {"objective": None}
    flat: dict[str, Any] = {}
    _flatten("", k.model_dump(mode="json"), flat)
    extra = k.non_local_share.model_extra or {}
    flat["posts"] = extra.get("posts", len(plan.assignments))
    flat["non_local_posts"] = extra.get(
        "non_local_posts",
        sum(int(a.cadre_id is not None and a.non_local) for a in plan.assignments),
    )
    flat["non_local_share"] = k.non_local_share.overall
    flat["released"] = len(plan.released)
    flat["objective"] = plan.objective
    return flat


def _kpi_rows(data: ProblemData, plans: Sequence[Plan]) -> list[KpiRow]:
    flats = [_kpi_values(p) for p in plans]
    rows = [KpiRow(key, kind, [f.get(key) for f in flats]) for key, kind in BASE_KPIS]
    scopes = sorted(
        {s for p in plans if p.assignments and p.kpis for s in p.kpis.non_local_share.by_scope},
        key=lambda s: (len(s), s),
    )
    for s in scopes:
        rows.append(
            KpiRow(
                "non_local_share.by_scope",
                "share",
                [
                    p.kpis.non_local_share.by_scope.get(s) if p.assignments and p.kpis else None
                    for p in plans
                ],
                scope_id=s,
                scope_name=data.unit_name(s),
            )
        )
    feasible = [f for f, p in zip(flats, plans, strict=True) if p.assignments]
    seen = {key for key, _ in BASE_KPIS} | {"objective"}
    common = sorted(
        k
        for k in (set.intersection(*(set(f) for f in feasible)) if feasible else set())
        if k not in seen
        and not k.startswith("non_local_share.")
        and all(_is_number(f[k]) for f in feasible)
    )
    for key in common:
        kind = EXTRA_KINDS.get(key, "number")
        if kind == "number" and all(isinstance(f[key], int) for f in feasible):
            kind = "int"
        rows.append(KpiRow(key, kind, [f.get(key) for f in flats]))
    return rows


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _scenario_rows(scenarios: list[dict[str, Any]]) -> list[ScenarioRow]:
    flats = [scenario_values(s) for s in scenarios]
    keys = sorted(set().union(*flats))
    rows = []
    for k in keys:
        vals = [f.get(k) for f in flats]
        if any(json.dumps(v, sort_keys=True) != json.dumps(vals[0], sort_keys=True) for v in vals):
            rows.append(ScenarioRow(k, vals))
    return rows


def _differences(data: ProblemData, plans: Sequence[Plan]) -> list[PostDiff]:
    holders = [p.holder() for p in plans]
    feasible = [h for h, p in zip(holders, plans, strict=True) if p.assignments]
    posts = sorted(set().union(*feasible)) if feasible else []
    out = []
    for pid in posts:
        got = [h.get(pid) for h in feasible]
        if all(g == got[0] for g in got):
            continue
        row = data.posts.loc[pid]
        inc = row["incumbent_id"] if isinstance(row["incumbent_id"], str) else None
        out.append(
            PostDiff(
                post_id=pid,
                unit_id=str(row["unit_id"]),
                unit_name=data.unit_name(row["unit_id"]),
                position=str(row["position"]),
                incumbent=_holder(data, inc),
                holders=[
                    _holder(data, h.get(pid)) if p.assignments else Holder(None, None)
                    for h, p in zip(holders, plans, strict=True)
                ],
            )
        )
    return out


def _holder(data: ProblemData, cadre_id: str | None) -> Holder:
    return Holder(cadre_id, data.cadre_name(cadre_id) if cadre_id else None)


# =========================================================================== formatting
def format_kpi(t: Translator, kind: KpiKind, value: Any) -> str:
    """A KPI value as the reader of ``t``'s language reads it ('–' when absent)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "share":
        return t.percent(value)
    if kind == "km":
        return t.km(value)
    if kind == "money":
        return t.money(value)
    if kind == "int":
        return t.number(value)
    if kind == "number":
        return t.number(value, 1 if isinstance(value, float) else 0)
    return str(value)


def format_setting(t: Translator, key: str, value: Any) -> str:
    """A rules value in words: booleans Có/Không, targets and caps spelled out, lists joined."""
    if value is None:
        return t._("none")
    if isinstance(value, bool):
        return t._("yes") if value else t._("no")
    if key == "non_local_targets" and isinstance(value, list):
        return "; ".join(_target_text(t, v) for v in value) or t._("none")
    if key == "max_changes" and isinstance(value, Mapping):
        return _cap_text(t, value)
    if key == "positions" and isinstance(value, list):
        return ", ".join(t.position(str(p)) for p in value)
    if key in ("local_means", "min_rating"):
        return t.pgettext("rating" if key == "min_rating" else key, str(value))
    if key in ("local_level",) or key.endswith("scope_level"):
        return t.level(str(value))
    if key.endswith("_km") and _is_number(value):
        return t.km(value)
    if key.endswith("_vnd") and _is_number(value):
        return t.money(value)
    if isinstance(value, float):
        return t.number(value, 0 if value.is_integer() else 2)
    if isinstance(value, list):
        return "; ".join(_compact(v) for v in value) or t._("none")
    return _compact(value)


def _compact(v: Any) -> str:
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={_compact(x)}" for k, x in v.items())
    return str(v)


def _target_text(t: Translator, target: Mapping[str, Any]) -> str:
    return t._("{position} per {level}: at least {share} non-local").format(
        position=t.position(str(target.get("position", "secretary"))),
        level=t.level(str(target.get("scope_level", "district"))),
        share=t.percent(float(target.get("min_share", 0.0))),
    )


def _cap_text(t: Translator, cap: Mapping[str, Any]) -> str:
    return t._("at most {count} changed posts per {level}").format(
        count=cap.get("count"), level=t.level(str(cap.get("scope_level", "district")))
    )


def kpi_label(t: Translator, row: KpiRow) -> str:
    if row.scope_id is not None:
        return t._("non-local share: {scope}").format(scope=row.scope_name or row.scope_id)
    return t.kpi(row.key)


def holder_text(h: Holder, t: Translator) -> str:
    """'C00026 Nguyễn Văn A' (id first: names repeat), or 'vacant'."""
    if h.cadre_id is None:
        return t._("(vacant)")
    return f"{h.cadre_id} {h.cadre_name}"


# =========================================================================== workbook
HEADER_COLOR = "305496"
NUMBER_FORMATS: dict[KpiKind, str] = {
    "share": "0.0%",
    "km": "#,##0.0",
    "money": "#,##0",
    "int": "#,##0",
    "number": "#,##0.0",
}


def _sheet(wb: Workbook, title: str, headers: list[str], widths: list[int]) -> Worksheet:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title=title[:31])
    font = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor=HEADER_COLOR)
    for j, (h, w) in enumerate(zip(headers, widths, strict=True), start=1):
        c = safe_cell(ws, 1, j, h)
        c.font = font
        c.fill = fill
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "B2"
    return ws


def write_compare_xlsx(comparison: Comparison, path: str | Path, lang: str = "vi") -> Path:
    """The comparison as a workbook: sheets KPIs, scenario differences, posts that differ."""
    from openpyxl import Workbook

    t = translator(lang)
    c = comparison
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    n = len(c.names)

    ws = _sheet(wb, t._("KPIs"), [t._("Measure"), *c.names], [42] + [18] * n)
    safe_cell(ws, 2, 1, t.kpi("status"))
    for j, s in enumerate(c.statuses, start=2):
        safe_cell(ws, 2, j, t.status(s))
    for i, row in enumerate(c.kpis, start=3):
        safe_cell(ws, i, 1, kpi_label(t, row))
        for j, v in enumerate(row.values, start=2):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                safe_cell(ws, i, j, "–")
                continue
            cell = safe_cell(ws, i, j, v)
            cell.number_format = NUMBER_FORMATS.get(row.kind, "General")

    ws = _sheet(wb, t._("Scenario"), [t._("Rule"), *c.names], [42] + [30] * n)
    if not c.scenario_known:
        safe_cell(ws, 2, 1, t._("The plans do not say which rules they were made with."))
    elif not c.scenario:
        safe_cell(ws, 2, 1, t._("Same rules in every plan."))
    for i, srow in enumerate(c.scenario, start=2):
        safe_cell(ws, i, 1, setting_label(t, srow.key))
        for j, v in enumerate(srow.values, start=2):
            safe_cell(ws, i, j, format_setting(t, srow.key, v))

    heads = [t._("Post"), t._("Unit"), t._("Position"), t._("Current holder"), *c.names]
    ws = _sheet(wb, t._("Posts that differ"), heads, [20, 28, 18, 28] + [28] * n)
    if not c.differences:
        safe_cell(ws, 2, 1, t._("Every post has the same holder in every plan."))
    for i, d in enumerate(c.differences, start=2):
        cells = [d.post_id, d.unit_name, t.position(d.position), holder_text(d.incumbent, t)]
        cells += [
            holder_text(h, t) if s != "infeasible" else "–"
            for h, s in zip(d.holders, c.statuses, strict=True)
        ]
        for j, v in enumerate(cells, start=1):
            safe_cell(ws, i, j, v)
    return write_atomic(path, workbook_bytes(wb))


def setting_label(t: Translator, key: str) -> str:
    """'weights.change' → 'Trọng số: change' — the parameter's label, then the sub-key."""
    head, _, rest = key.partition(".")
    label = t.param(head)
    if not rest:
        return label
    if head == "weights":
        rest = t.pgettext("rule", rest)
    return f"{label}: {rest}"
