"""The meeting report (contract §4.1 ``rotation report``): a few pages a standing committee
prints, in its language, as ``.docx`` (python-docx) or ``.pdf`` (fpdf2, DejaVu Sans embedded so
Vietnamese diacritics print on any machine).

Content, built once (:func:`build_report`) and rendered by either writer:

1. title and summary — status, headline KPIs (non-local share before → after, scopes reaching
   their target, changed posts, released incumbents, travel);
2. a chart of every scope's non-local share before / after against the target line
   (matplotlib, Agg backend; from :func:`rotation.report.before_after_table`);
3. a map of the moves — communes at their centroids, arrows from the cadre's origin unit to
   the post, coloured by district (drawn from the units' lat/lon; no tiles, no internet);
4. the changes (post, unit, current holder → proposed holder, with cadre ids: names repeat)
   and the released incumbents;
5. the scenario: as_of, targets, caps, travel limit and every rule differing from ``Rules()``;
6. the diagnosis when the plan is infeasible.

The chart and map are also written next to the report (``<stem>-chart.png``,
``<stem>-map.png``) for a projector.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from babel.dates import format_date
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import FuncFormatter

from .atomic import write_atomic
from .compare import format_setting, rules_differing_from_defaults, setting_label
from .data import ProblemData
from .i18n import Translator, translator
from .plan import Plan
from .report import before_after_table, movement_rows, status_table
from .rules import Rules

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
DATE_FORMATS = {"vi": "dd/MM/yyyy", "en": "d MMMM yyyy"}
SUFFIXES = (".docx", ".pdf")


@dataclass(frozen=True)
class TableBlock:
    """A titled table: header cells and rows of text; ``widths`` are relative column widths."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    widths: list[float]
    note: str = ""


@dataclass
class MeetingReport:
    """What the report says, independent of the file format."""

    lang: str
    title: str
    subtitle: str
    summary: list[tuple[str, str]]
    chart: Path | None = None
    chart_caption: str = ""
    map: Path | None = None
    map_caption: str = ""
    tables: list[TableBlock] = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportFiles:
    """The report and the pictures written beside it (None when there is nothing to draw)."""

    report: Path
    chart: Path | None
    map: Path | None
    title: str = ""
    summary: list[tuple[str, str]] = field(default_factory=list)


# =========================================================================== content
def build_report(
    data: ProblemData, rules: Rules, plan: Plan, picture_stem: Path, lang: str = "vi"
) -> MeetingReport:
    """The report's content; the chart and map PNGs are written as ``picture_stem``-chart.png /
    -map.png."""
    t = translator(lang)
    ba = _without_duplicate_totals(before_after_table(data, rules, plan))
    feasible = plan.status != "infeasible" and bool(plan.assignments)
    positions = ", ".join(t.position(p) for p in rules.positions)
    rep = MeetingReport(
        lang=lang,
        title=t._("Rotation plan: {positions}").format(positions=positions),
        subtitle=t._("{province} · as of {date}").format(
            province=_province_names(t, data), date=_date(t, rules.as_of)
        ),
        summary=_summary(t, data, rules, plan, ba),
        headings={
            "summary": t._("Summary"),
            "chart": t._("Non-local share by scope: before and after"),
            "map": t._("Map of the moves"),
        },
    )
    chart = picture_stem.with_name(picture_stem.name + "-chart.png")
    if _draw_chart(t, ba, chart, feasible):
        rep.chart = chart
        rep.chart_caption = (
            t._("Grey: today; blue: after the plan; red line: the target share.")
            if feasible
            else t._("Grey: today; red line: the target share (no plan exists).")
        )
    moves = [a for a in plan.assignments if a.changed and a.cadre_id]
    if feasible and moves:
        where = picture_stem.with_name(picture_stem.name + "-map.png")
        if _draw_map(t, data, plan, where):
            rep.map = where
            rep.map_caption = t.ngettext(
                "{n} move: arrow from where the cadre works now to the new post; colour = {level}.",
                "{n} moves: arrows from where each cadre works now to the new post; "
                "colour = {level}.",
                len(moves),
            ).format(n=len(moves), level=t.level(_colour_level(data)))
    if not feasible:
        rep.tables.append(_diagnosis_table(t, data, plan))
    rep.tables.append(_scope_table(t, data, ba, feasible))
    if feasible:
        rep.tables.append(_changes_table(t, data, plan))
        rep.tables.append(_released_table(t, data, plan))
    rep.tables.append(_scenario_table(t, rules))
    return _nfc_report(rep)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfc_report(rep: MeetingReport) -> MeetingReport:
    """Every text in composed form (NFC): a name typed with combining accents ("e" + U+0302
    + U+0301) prints as the single letter "ế" in both formats, whatever the font's shaping."""
    rep.title, rep.subtitle = _nfc(rep.title), _nfc(rep.subtitle)
    rep.summary = [(_nfc(a), _nfc(b)) for a, b in rep.summary]
    rep.chart_caption, rep.map_caption = _nfc(rep.chart_caption), _nfc(rep.map_caption)
    rep.tables = [
        dataclasses.replace(
            b,
            title=_nfc(b.title),
            headers=[_nfc(h) for h in b.headers],
            rows=[[_nfc(c) for c in r] for r in b.rows],
            note=_nfc(b.note),
        )
        for b in rep.tables
    ]
    return rep


def _date(t: Translator, d: dt.date) -> str:
    return format_date(d, format=DATE_FORMATS.get(t.lang, "yyyy-MM-dd"), locale=t.lang)


def _province_names(t: Translator, data: ProblemData) -> str:
    provs = data.units[data.units["level"] == "province"]["name"].astype(str).tolist()
    if len(provs) <= 3:
        return ", ".join(provs)
    return t.ngettext("{n} province", "{n} provinces", len(provs)).format(n=len(provs))


def _summary(
    t: Translator, data: ProblemData, rules: Rules, plan: Plan, ba: pd.DataFrame
) -> list[tuple[str, str]]:
    rows = [(t.kpi("status"), t.status(plan.status))]
    scopes = ba[~ba["is_total"].astype(bool)]
    totals = ba[ba["is_total"].astype(bool)]
    whole = totals if len(totals) else scopes
    posts = int(whole["posts"].sum())
    nl_before = int(whole["non_local_before"].sum())
    rows.append((t.kpi("posts"), t.number(posts)))
    before_share = nl_before / posts if posts else math.nan
    status_now = status_table(data, rules)
    short_now = int((status_now[~status_now["is_total"].astype(bool)]["shortfall"] > 0).sum())
    n_scopes = len(scopes)
    if plan.status == "infeasible" or not plan.assignments:
        rows.append(
            (t._("Non-local holders today"), f"{nl_before}/{posts} ({t.percent(before_share)})")
        )
        rows.append((t._("Scopes below target today"), f"{short_now}/{n_scopes}"))
        rows.append((t._("Conflicting rules"), t.number(len(plan.diagnosis))))
        return rows
    nl_after = int(whole["non_local_after"].sum())
    posts_after = int(whole["posts_after"].sum())  # fewer when communes merge
    after_share = nl_after / posts_after if posts_after else math.nan
    reached = int(
        (scopes["non_local_after"].astype(float) >= scopes["required"].astype(float)).sum()
    )
    k = plan.kpis
    if k is None:
        return rows
    rows += [
        (
            t._("Non-local holders: today → after the plan"),
            f"{nl_before} → {nl_after} ({t.percent(before_share)} → {t.percent(after_share)})",
        ),
        (
            t._("Scopes reaching the target"),
            t._("{reached}/{scopes} (today: {today}/{scopes})").format(
                reached=reached, scopes=n_scopes, today=n_scopes - short_now
            ),
        ),
        *movement_rows(t, plan),
    ]
    if plan.objective is not None:
        rows.append((t.kpi("objective"), t.number(plan.objective, 1)))
    return rows


# =========================================================================== tables
def _colour_level(data: ProblemData) -> str:
    """Map colours group communes by district, or by province in the 2-level hierarchy."""
    return "district" if data.has_districts else "province"


def _without_duplicate_totals(ba: pd.DataFrame) -> pd.DataFrame:
    """Drop a total row that repeats its only scope row (2-level data: the scope *is* the
    province), so a province is never listed twice."""
    if ba.empty:
        return ba
    keep = []
    for total, r in zip(ba["is_total"].astype(bool), ba.itertuples(index=False), strict=True):
        if not total:
            keep.append(True)
            continue
        scopes = ba[(~ba["is_total"].astype(bool)) & (ba["position"] == r.position)]["scope_id"]
        keep.append(set(scopes) != {r.scope_id})
    return ba[keep].reset_index(drop=True)


def _scope_level(data: ProblemData, ba: pd.DataFrame) -> str:
    """The level the scope rows really are (a 'district' target falls back to the province in
    the 2-level hierarchy), from the units table."""
    rows = ba[~ba["is_total"].astype(bool)]
    for sid in rows["scope_id"]:
        if sid in data.units.index:
            return str(data.units.at[sid, "level"])
    return str(rows["scope_level"].iloc[0]) if len(rows) else "district"


def _scope_table(t: Translator, data: ProblemData, ba: pd.DataFrame, feasible: bool) -> TableBlock:
    rows = []
    multi = ba["position"].nunique() > 1 if len(ba) else False
    for r in ba.itertuples(index=False):
        name = str(r.scope_name) + (f" ({t.position(str(r.position))})" if multi else "")
        after = "–" if not feasible else str(int(r.non_local_after))
        rows.append(
            [
                name,
                str(r.posts),
                f"{r.non_local_before} → {after}",
                f"{t.percent(r.share_before)} → {t.percent(r.share_after) if feasible else '–'}",
                t.percent(r.target_share),
                str(r.required),
                "–" if not feasible else str(int(r.changes)),
            ]
        )
    level = _scope_level(data, ba)
    return TableBlock(
        title=t._("Non-local holders by {level}").format(level=t.level(level)),
        headers=[
            t.level(level).capitalize(),
            t._("Posts"),
            t._("Non-local"),
            t._("Share"),
            t._("Target"),
            t._("Required"),
            t._("Changes"),
        ],
        rows=rows,
        widths=[3.2, 1.1, 1.6, 2.4, 1.2, 1.3, 1.3],
    )


def _cadre(data: ProblemData, cadre_id: str | None, t: Translator) -> str:
    if not cadre_id:
        return t._("(vacant)")
    return f"{data.cadre_name(cadre_id)} ({cadre_id})"


def _changes_table(t: Translator, data: ProblemData, plan: Plan) -> TableBlock:
    changed = [a for a in plan.assignments if a.changed]
    scope = data.scope_of([a.unit_id for a in changed], "district").tolist()
    order = sorted(range(len(changed)), key=lambda i: (len(scope[i]), scope[i], changed[i].post_id))
    rows = []
    for i in order:
        a = changed[i]
        inc = data.posts.at[a.post_id, "incumbent_id"]
        rows.append(
            [
                t.position(a.position),
                f"{data.unit_name(a.unit_id)}, {data.unit_name(scope[i])}",
                _cadre(data, inc if isinstance(inc, str) else None, t),
                _cadre(data, a.cadre_id, t),
                _origin(t, data, a.cadre_id, a.previous_post_id),
                t.km(a.travel_km) if a.cadre_id else "–",
                (t._("yes") if a.non_local else t._("no")) if a.cadre_id else "–",
            ]
        )
    return TableBlock(
        title=t._("Changes ({n} posts)").format(n=len(changed)),
        headers=[
            t._("Position"),
            t._("Unit"),
            t._("Current holder"),
            t._("Proposed holder"),
            t._("Comes from"),
            t._("Travel"),
            t._("Non-local"),
        ],
        rows=rows,
        widths=[1.5, 2.6, 2.3, 2.3, 2.1, 1.1, 1.6],
        note="" if rows else t._("No post changes holder."),
    )


def _origin(t: Translator, data: ProblemData, cadre_id: str | None, previous: str | None) -> str:
    if not cadre_id:
        return "–"
    if previous and previous in data.posts.index:
        return data.unit_name(data.posts.at[previous, "unit_id"])
    unit = data.cadres.at[cadre_id, "current_unit_id"]
    return t._("office: {unit}").format(unit=data.unit_name(unit))


def _released_table(t: Translator, data: ProblemData, plan: Plan) -> TableBlock:
    rows = []
    for c in plan.released:
        post = data.incumbent_post.get(c)
        unit = data.posts.at[post, "unit_id"] if isinstance(post, str) else None
        district = data.scope_of([unit], "district").iloc[0] if unit else None
        rows.append(
            [
                data.cadre_name(c),
                c,
                t.position(str(data.posts.at[post, "position"])) if isinstance(post, str) else "–",
                f"{data.unit_name(unit)}, {data.unit_name(district)}"
                if unit and district and district != unit
                else data.unit_name(unit),
            ]
        )
    return TableBlock(
        title=t._("Released incumbents ({n})").format(n=len(rows)),
        headers=[t._("Name"), t._("Cadre id"), t._("Post held"), t._("Unit")],
        rows=rows,
        widths=[3, 1.5, 2, 3.5],
        note=t._("They hold no post after the plan and return to an office.")
        if rows
        else t._("No incumbent is released."),
    )


def _scenario_table(t: Translator, rules: Rules) -> TableBlock:
    d = rules.model_dump(mode="json")
    rows = [
        [t.param("as_of"), _date(t, rules.as_of)],
        [t.param("positions"), format_setting(t, "positions", d["positions"])],
        [
            t.param("non_local_targets"),
            format_setting(t, "non_local_targets", d["non_local_targets"]),
        ],
        [t.param("max_changes"), format_setting(t, "max_changes", d["max_changes"])],
        [t.param("max_travel_km"), format_setting(t, "max_travel_km", d["max_travel_km"])],
    ]
    for key in ("budget_vnd",):
        if key in d:
            rows.append([t.param(key), format_setting(t, key, d[key])])
    shown = {
        "as_of",
        "positions",
        "non_local_targets",
        "max_changes",
        "max_travel_km",
        "budget_vnd",
    }
    differing = [
        (k, v)
        for k, v in rules_differing_from_defaults(rules).items()
        if k.split(".")[0] not in shown
    ]
    for k, v in differing:
        rows.append([setting_label(t, k), format_setting(t, k, v)])
    return TableBlock(
        title=t._("Scenario"),
        headers=[t._("Rule"), t._("Value")],
        rows=rows,
        widths=[3, 5],
        note=t._("Every other rule has its documented default.")
        if differing
        else t._("Every rule not listed has its documented default."),
    )


def _diagnosis_table(t: Translator, data: ProblemData, plan: Plan) -> TableBlock:
    rows = [
        [
            t.rule(d.rule),
            data.unit_name(d.scope) if d.scope in data.units.index else d.scope,
            d.detail_in(t.lang),
        ]
        for d in plan.diagnosis
    ]
    return TableBlock(
        title=t._("No plan satisfies every rule: diagnosis"),
        headers=[t._("Rule"), t._("Scope"), t._("Detail")],
        rows=rows,
        widths=[2, 2, 6],
        note=t._("These rules cannot all hold together; relax one of them."),
    )


# =========================================================================== pictures
def _draw_chart(t: Translator, ba: pd.DataFrame, path: Path, feasible: bool) -> bool:
    """Horizontal bars per scope: share before (grey) and after (blue), target as a red tick."""
    rows = ba[~ba["is_total"].astype(bool)]
    if rows.empty:
        return False
    multi = rows["position"].nunique() > 1
    labels = [
        str(r.scope_name) + (f" · {t.position(str(r.position))}" if multi else "")
        for r in rows.itertuples(index=False)
    ]
    n = len(rows)
    fig = Figure(figsize=(7.5, max(2.2, 0.34 * n + 1.2)), dpi=150)  # Agg canvas, no pyplot
    ax = fig.subplots()
    y = list(range(n))[::-1]
    h = 0.38
    before = rows["share_before"].astype(float).to_numpy()
    ax.barh([v + h / 2 for v in y], before, height=h, color="#b0b0b0", label=t._("today"))
    if feasible:
        after = rows["share_after"].astype(float).to_numpy()
        ax.barh(
            [v - h / 2 for v in y],
            after,
            height=h,
            color="#2f6db5",
            label=t._("after the plan"),
        )
    for v, target in zip(y, rows["target_share"].astype(float), strict=True):
        ax.plot([target, target], [v - 0.48, v + 0.48], color="#c0392b", lw=2)
    ax.plot([], [], color="#c0392b", lw=2, label=t._("target"))
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, 1.03)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: t.percent(x, 0)))
    ax.set_xlabel(t._("Non-local share"))
    ax.legend(loc="lower right", fontsize=8, frameon=True)
    ax.grid(axis="x", color="#e5e5e5")
    ax.set_axisbelow(True)
    fig.tight_layout()
    fig.savefig(path)
    return True


def _unit_point(data: ProblemData, unit_id: Any) -> tuple[float, float] | None:
    if not isinstance(unit_id, str) or unit_id not in data.units.index:
        return None
    lat, lon = data.units.at[unit_id, "lat"], data.units.at[unit_id, "lon"]
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(la) or math.isnan(lo) else (lo, la)


def _draw_map(t: Translator, data: ProblemData, plan: Plan, path: Path) -> bool:
    """Communes as dots coloured by district; an arrow per move from origin to post."""
    units = data.units
    posts_units = {a.unit_id for a in plan.assignments}
    provinces = set(units["province_id"].reindex(list(posts_units)).dropna())
    communes = units[(units["level"] == "commune") & units["province_id"].isin(provinces)]
    communes = communes[communes["lat"].notna() & communes["lon"].notna()]
    if communes.empty:
        return False
    group = communes["district_id"].where(communes["district_id"].notna(), communes["province_id"])
    keys = sorted(set(group.astype(str)), key=lambda s: (len(s), s))
    cmap = matplotlib.colormaps["tab20"]
    colour = {k: cmap(i % 20) for i, k in enumerate(keys)}
    lat0 = float(communes["lat"].astype(float).mean())
    fig = Figure(figsize=(7.5, 6.5), dpi=150)
    ax = fig.subplots()
    ax.scatter(
        communes["lon"].astype(float),
        communes["lat"].astype(float),
        s=9,
        c=[colour[str(g)] for g in group],
        alpha=0.55,
        linewidths=0,
    )
    moves = 0
    for a in plan.assignments:
        if not (a.changed and a.cadre_id):
            continue
        start_unit = (
            data.posts.at[a.previous_post_id, "unit_id"]
            if a.previous_post_id and a.previous_post_id in data.posts.index
            else data.cadres.at[a.cadre_id, "current_unit_id"]
        )
        p0, p1 = _unit_point(data, start_unit), _unit_point(data, a.unit_id)
        if p1 is None:
            continue
        g = units.at[a.unit_id, "district_id"] or units.at[a.unit_id, "province_id"]
        col = colour.get(str(g), "black")
        ax.scatter([p1[0]], [p1[1]], s=26, color=col, edgecolors="black", linewidths=0.6, zorder=3)
        if p0 is not None and p0 != p1:
            ax.add_patch(
                FancyArrowPatch(
                    p0,
                    p1,
                    arrowstyle="-|>",
                    mutation_scale=8,
                    color=col,
                    lw=1.1,
                    alpha=0.9,
                    zorder=4,
                    shrinkA=0,
                    shrinkB=2,
                )
            )
        moves += 1
    for k in keys:
        pts = communes[group.astype(str) == k]
        ax.annotate(
            data.unit_name(k),
            (float(pts["lon"].astype(float).mean()), float(pts["lat"].astype(float).mean())),
            fontsize=6.5,
            ha="center",
            color="#333333",
            alpha=0.85,
        )
    ax.set_aspect(1 / max(0.2, math.cos(math.radians(lat0))))
    ax.set_xlabel(t._("longitude"))
    ax.set_ylabel(t._("latitude"))
    ax.set_title(t.ngettext("{n} move", "{n} moves", moves).format(n=moves), fontsize=10)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    return True


# =========================================================================== writers
def write_report(
    data: ProblemData, rules: Rules, plan: Plan, path: str | Path, lang: str = "vi"
) -> ReportFiles:
    """Write the meeting report as ``.docx`` or ``.pdf`` (by suffix; ValueError otherwise)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{out}: the report must end in .docx or .pdf (got {out.suffix or 'none'})"
        )
    translator(lang)  # unknown language: fail before drawing anything
    out.parent.mkdir(parents=True, exist_ok=True)
    rep = build_report(data, rules, plan, out.with_suffix(""), lang)
    content = _docx_bytes(rep) if suffix == ".docx" else _pdf_bytes(rep)
    write_atomic(out, content)
    return ReportFiles(
        report=out, chart=rep.chart, map=rep.map, title=rep.title, summary=rep.summary
    )


def _docx_bytes(rep: MeetingReport) -> bytes:
    import io

    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(1.8)
    sec.top_margin = sec.bottom_margin = Cm(1.6)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    doc.core_properties.title = rep.title
    doc.core_properties.language = rep.lang
    doc.add_heading(rep.title, level=0)
    doc.add_paragraph(rep.subtitle)
    doc.add_heading(rep.headings["summary"], level=1)
    _docx_table(doc, ["", ""], [list(r) for r in rep.summary], header=False)
    width = Cm(17.0)
    if rep.chart is not None:
        doc.add_heading(rep.headings["chart"], level=1)
        doc.add_picture(str(rep.chart), width=width)
        doc.add_paragraph(rep.chart_caption)
    if rep.map is not None:
        doc.add_heading(rep.headings["map"], level=1)
        doc.add_picture(str(rep.map), width=Cm(15.5))
        doc.add_paragraph(rep.map_caption)
    for block in rep.tables:
        doc.add_heading(block.title, level=1)
        if block.rows:
            _docx_table(doc, block.headers, block.rows, widths=block.widths, total=Cm(17.4))
        if block.note:
            doc.add_paragraph(block.note)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_table(
    doc: Any,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    header: bool = True,
    widths: Sequence[float] | None = None,
    total: Any = None,
) -> None:
    from docx.shared import Pt

    table = doc.add_table(rows=0, cols=len(headers))
    table.style = "Table Grid"
    if header:
        cells = table.add_row().cells
        for c, h in zip(cells, headers, strict=True):
            c.text = ""
            run = c.paragraphs[0].add_run(h)
            run.bold = True
    for r in rows:
        cells = table.add_row().cells
        for c, v in zip(cells, r, strict=True):
            c.text = v
    for row in table.rows:
        for c in row.cells:
            for p in c.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(9)
    if widths and total is not None:
        scale = total / sum(widths)
        for row in table.rows:
            for c, w in zip(row.cells, widths, strict=True):
                c.width = int(w * scale)


def _pdf_bytes(rep: MeetingReport) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 14, 15)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_title(rep.title)
    pdf.set_lang(rep.lang)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 17)
    pdf.multi_cell(0, 8, rep.title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, rep.subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    head = FontFace(emphasis="BOLD", fill_color=(225, 232, 245))

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 13)
        pdf.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def table(
        headers: Sequence[str] | None, rows: Sequence[Sequence[str]], widths: Sequence[float]
    ) -> None:
        with pdf.table(
            col_widths=tuple(widths),
            headings_style=head,
            first_row_as_headings=headers is not None,
            line_height=4.6,
            text_align="LEFT",
            padding=(0.6, 1.2),
        ) as tab:
            if headers is not None:
                tab.row(list(headers))
            for r in rows:
                tab.row(list(r))

    heading(rep.headings["summary"])
    table(None, rep.summary, (3, 4))
    if rep.chart is not None:
        heading(rep.headings["chart"])
        pdf.image(str(rep.chart), w=175)
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 4.5, rep.chart_caption, align="L", new_x="LMARGIN", new_y="NEXT")
    if rep.map is not None:
        pdf.add_page()
        heading(rep.headings["map"])
        pdf.image(str(rep.map), w=165)
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 4.5, rep.map_caption, align="L", new_x="LMARGIN", new_y="NEXT")
    for block in rep.tables:
        heading(block.title)
        if block.rows:
            table(block.headers, block.rows, block.widths)
        if block.note:
            pdf.set_font("DejaVu", "", 8)
            pdf.multi_cell(0, 4.5, block.note, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
