"""Plans for people and other programs: an .xlsx workbook a committee opens, CSV and GeoJSON.

Exports are safe to open (:mod:`rotation.cells`): text that starts like a formula is a string
cell in the workbook, never a formula, and is prefixed with ``'`` in the CSV.

- :func:`write_plan_xlsx` — the committee's workbook, in Vietnamese by default (``lang``):
  sheets Tổng quan (the scenario: dataset, as_of, every rule differing from the defaults,
  targets, caps, budget; headline KPIs), Chức vụ (per post: current holder → proposed holder
  with id, birth year, gender, ethnicity, latest rating, origin and km, non-local, support),
  Thôi giữ chức (released cadres and where they go), one sheet per scope level that exists
  (Theo huyện, or Theo tỉnh in the 2-level hierarchy: before → after vs target), Chẩn đoán
  (when infeasible) and Giải thích (plain words with names); written to a temporary file, then
  renamed.
- :func:`plan_to_csv` — the assignments with unit and cadre names, as CSV text (UTF-8).
- :func:`plan_to_geojson` — one Point feature per post (at its commune's centroid) with the
  plan's attributes, as a GeoJSON FeatureCollection dict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from .atomic import write_atomic
from .cells import csv_rows, xlsx_value
from .concepts import latest_rating_rows
from .data import ProblemData
from .explain import Wording, plain_explanation
from .i18n import DEFAULT_LANG, Translator, translator
from .plan import Assignment, Plan
from .report import before_after_table
from .rules import Rules
from .xlsx import Book

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
HEADER_FILL = "305496"
PERCENT = "0.0%"
KM = "#,##0.0"
MONEY = "#,##0"


class _Lookups:
    """The dataset's facts the workbook needs, as dicts built once per workbook (a pandas
    lookup per cell cost more than the rest of the workbook); names come from
    ``ProblemData.unit_name`` / ``cadre_name``, which keep their own dicts."""

    def __init__(self, data: ProblemData) -> None:
        cadres, posts = data.cadres, data.posts
        self.unit_name, self.cadre_name = data.unit_name, data.cadre_name
        self.office = dict(zip(cadres.index, cadres["current_unit_id"], strict=True))
        self.post_unit = dict(zip(posts.index, posts["unit_id"], strict=True))
        self.post_position = dict(zip(posts.index, posts["position"], strict=True))
        self.incumbent = dict(zip(posts.index, posts["incumbent_id"], strict=True))
        self.incumbent_post = dict(
            zip(data.incumbent_post.index, data.incumbent_post.to_numpy(), strict=True)
        )
        self._born = dict(zip(cadres.index, cadres["birth_date"], strict=True))
        self._gender = dict(zip(cadres.index, cadres["gender"], strict=True))
        self._ethnicity = (
            dict(zip(cadres.index, cadres["ethnicity"], strict=True))
            if "ethnicity" in cadres.columns
            else {}
        )
        self._ratings = data.ratings
        self._latest: dict[str, tuple[Any, Any]] | None = None
        self._people: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._gender_words: dict[str, dict[str, str]] = {}

    def latest_rating(self, cadre_id: str) -> tuple[Any, Any] | None:
        """(rating, year) of the cadre's latest year (the last such row when a year repeats)."""
        if self._latest is None:
            r = self._ratings
            latest: dict[str, tuple[Any, Any]] = {}
            if not r.empty:
                last = latest_rating_rows(r)
                held = zip(last["rating"], last["year"], strict=True)
                latest = dict(zip(last["cadre_id"], held, strict=True))
            self._latest = latest
        return self._latest.get(cadre_id)

    def person(self, cadre_id: str | None, t: Translator) -> tuple[Any, ...]:
        """Cadre id, name, birth year, gender, ethnicity, latest rating ((id, None × 5) when
        the cadre is unknown)."""
        if not cadre_id or cadre_id not in self._born:
            return (cadre_id, None, None, None, None, None)
        key = (cadre_id, t.lang)
        known = self._people.get(key)
        if known is None:
            birth = self._born[cadre_id]
            born = birth.year if isinstance(birth, date) else None  # a Timestamp is a date
            g = str(self._gender[cadre_id])
            words = self._gender_words.get(t.lang)
            if words is None:
                words = self._gender_words[t.lang] = {"F": t._("female"), "M": t._("male")}
            gender = words.get(g, g)
            eth = self._ethnicity.get(cadre_id)
            last = self.latest_rating(cadre_id)
            rating = f"{t.pgettext('rating', str(last[0]))} ({int(last[1])})" if last else None
            known = self._people[key] = (
                cadre_id,
                self.cadre_name(cadre_id),
                born,
                gender,
                eth if isinstance(eth, str) else None,
                rating,
            )
        return known

    def moved_from(self, a: Assignment) -> str:
        """:func:`moved_from` from the dicts."""
        if a.cadre_id is None:
            return ""
        if a.previous_post_id and a.previous_post_id in self.post_unit:
            return self.unit_name(self.post_unit[a.previous_post_id])
        if a.cadre_id in self.office:
            return self.unit_name(self.office[a.cadre_id])
        return ""


def _person_headers(t: Translator, who: str) -> list[str]:
    return [
        f"{who}: {t._('Cadre id')}",
        f"{who}: {t._('Name')}",
        f"{who}: {t._('Birth year')}",
        f"{who}: {t._('Gender')}",
        f"{who}: {t._('Ethnicity')}",
        f"{who}: {t._('Latest rating')}",
    ]


@dataclass
class _Sheet:
    """One worksheet as rows of values and the styles of its cells, written once
    (:meth:`write`, :mod:`rotation.xlsx`): nothing is read back, every format is made once.

    ``table``: a header row (bold white on blue, wrapped), frozen below and right of A1, an
    auto filter, column widths from the content (first 500 rows, 8–40 characters); ``wide``:
    columns of a fixed width whose text wraps (rows 2 on); ``widths``: fixed widths;
    ``formats`` / ``fonts``: per (row, column), 1-based; ``left_wrap``: a column whose every
    cell is left-aligned and wrapped (the cover's values)."""

    title: str
    rows: list[list[Any]] = field(default_factory=list)
    table: bool = True
    wide: dict[int, int] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    fonts: dict[tuple[int, int], str] = field(default_factory=dict)
    left_wrap: int | None = None

    def append(self, values: list[Any], fmt: dict[int, str] | None = None) -> None:
        """Add a row (text without the characters a workbook cannot hold, :func:`xlsx_value`:
        printable text has none); ``fmt``: column → number format."""
        self.rows.append(
            [xlsx_value(v) if isinstance(v, str) and not v.isprintable() else v for v in values]
        )
        for col, f in (fmt or {}).items():
            self.formats[(len(self.rows), col)] = f

    def _column_widths(self, ncols: int) -> dict[int, float]:
        widths: dict[int, float] = dict(self.widths)
        if self.table:
            longest: dict[int, int] = {}
            for row in self.rows[:500]:
                for col, v in enumerate(row, start=1):
                    if v is not None:
                        longest[col] = max(longest.get(col, 0), len(str(v)))
            for col, w in longest.items():
                widths[col] = min(max(w + 2, 8), 40)
        widths.update(self.wide)
        return widths

    def write(self, book: Book, styles: _Styles) -> None:
        """The sheet into ``book`` (:mod:`rotation.xlsx`). Text is always a string cell, never a
        formula; text a spreadsheet could take for one (:func:`rotation.cells.risky`) is marked
        "quote prefix" as typed text is. A cell with neither value nor style is not written."""
        ncols = max((len(r) for r in self.rows), default=0)
        nrows = max(len(self.rows), 1)
        ws = book.sheet(
            _sheet_title(self.title),
            widths=self._column_widths(ncols),
            freeze=(1, 1) if self.table else None,
            autofilter=(nrows, max(ncols, 1)) if self.table else None,
        )
        spread = [*self.wide, *([self.left_wrap] if self.left_wrap else [])]
        widest_spread = max(spread, default=0)
        # row → its own cells' styles, (column, "format" | "font", name): a row's formats
        # follow from its width and these (the header apart), so rows alike share them
        own: dict[int, list[tuple[int, str, str]]] = {}
        for (r, c), name in self.formats.items():
            own.setdefault(r, []).append((c, "format", name))
        for (r, c), name in self.fonts.items():
            own.setdefault(r, []).append((c, "font", name))
        fmt = styles.format
        plain = (fmt(_UNSTYLED, False), fmt(_UNSTYLED, True))
        made: dict[tuple[int, tuple[tuple[int, str, str], ...]], list[tuple[int, int]]] = {}
        for r, values in enumerate(self.rows, start=1):
            header = self.table and r == 1
            width = ncols if header else max(len(values), widest_spread)
            mine = tuple(own.get(r, ()))
            key = (width, mine)
            formats = None if header else made.get(key)
            if formats is None:
                styled = range(1, width + 1) if header else {*spread, *(c for c, _, _ in mine)}
                formats = [plain] * width
                for c in styled:
                    style = self._style_of(r, c)
                    formats[c - 1] = (fmt(style, False), fmt(style, True))
                if not header:
                    made[key] = formats
            ws.row(r, values, formats)

    def _style_of(self, r: int, c: int) -> tuple[str | None, ...]:
        """(font, fill, alignment, number format) names of a cell; all None: unstyled."""
        font = self.fonts.get((r, c))
        fill = align = None
        if self.table and r == 1:
            font, fill, align = "header", "header", "top_wrap"
        elif c in self.wide and r > 1:
            align = "top_wrap"
        if c == self.left_wrap:
            align = "left_wrap"
        return font, fill, align, self.formats.get((r, c))


_UNSTYLED: tuple[str | None, ...] = (None, None, None, None)


class _Styles:
    """The workbook's cell formats (:meth:`rotation.xlsx.Book.xf`), one per combination of
    font, fill, alignment, number format and quote prefix, made on first use (0 for a plain
    cell)."""

    FONTS: ClassVar[dict[str, dict[str, Any]]] = {
        "header": {"bold": True, "font_color": "#FFFFFF"},
        "bold": {"bold": True},
        "title": {"bold": True, "font_size": 14},
    }
    FILLS: ClassVar[dict[str, str]] = {"header": f"#{HEADER_FILL}"}
    ALIGNS: ClassVar[dict[str, dict[str, Any]]] = {
        "top_wrap": {"text_wrap": True, "valign": "top"},
        "left_wrap": {"align": "left", "text_wrap": True},
    }

    def __init__(self, book: Book) -> None:
        self.book = book
        self._made: dict[tuple[tuple[str | None, ...], bool], int] = {}

    def format(self, style: tuple[str | None, ...], quoted: bool) -> int:
        """The format of a cell of ``style`` (font, fill, alignment, number format names);
        ``quoted``: text marked "quote prefix"."""
        key = (style, quoted)
        made = self._made.get(key)
        if made is None:
            font, fill, align, number = style
            made = self._made[key] = self.book.xf(
                font=self.FONTS.get(font or ""),
                fill=self.FILLS.get(fill or ""),
                align=self.ALIGNS.get(align or ""),
                num_format=number,
                quote_prefix=quoted,
            )
        return made


def write_plan_xlsx(
    data: ProblemData,
    rules: Rules,
    plan: Plan,
    path: str | Path,
    lang: str = DEFAULT_LANG,
    before_after: pd.DataFrame | None = None,
) -> Path:
    """Write the plan workbook for the committee to ``path`` atomically, in ``lang``: a cover
    sheet (scenario and headline KPIs), one row per post (current holder → proposed holder),
    the released cadres, a sheet per scope level that exists (before → after vs target), the
    explanations in plain words, the diagnosis when infeasible.

    Each sheet is built as rows first (:func:`plan_sheets`) and written once
    (:mod:`rotation.xlsx`). ``before_after``: the plan's
    :func:`~rotation.report.before_after_table` when the caller has it already."""
    book = Book()
    styles = _Styles(book)
    for sheet in plan_sheets(data, rules, plan, lang, before_after):
        sheet.write(book, styles)
    return write_atomic(Path(path), book.to_bytes())


def plan_sheets(
    data: ProblemData,
    rules: Rules,
    plan: Plan,
    lang: str = DEFAULT_LANG,
    before_after: pd.DataFrame | None = None,
) -> list[_Sheet]:
    """The plan workbook's sheets as rows and cell styles, in order; each post's explanation
    is worded once for both sheets that show it (``before_after``: see
    :func:`write_plan_xlsx`)."""
    t = translator(lang)
    look = _Lookups(data)
    wording = Wording(data, rules, t)
    said = [plain_explanation(data, rules, a, t, wording) for a in plan.assignments]
    sheets = [
        _cover_sheet(data, rules, plan, t),
        _posts_sheet(look, plan, t, said),
        _released_sheet(look, plan, t),
        *_scope_sheets(
            before_after if before_after is not None else before_after_table(data, rules, plan), t
        ),
    ]
    if plan.diagnosis:
        diagnosis = _Sheet(t._("Diagnosis"))
        diagnosis.append([t._("Rule"), t._("Scope"), t._("Detail")])
        for d in plan.diagnosis:
            scope = look.unit_name(d.scope) if d.scope else ""
            diagnosis.append([t.rule(d.rule), scope, d.detail_in(t.lang)])
        sheets.append(diagnosis)
    sheets.append(_explanations_sheet(look, plan, t, said, wording))
    return sheets


def _sheet_title(title: str) -> str:
    """A valid sheet title (at most 31 characters, none of []:*?/\\)."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31]


def _cover_sheet(data: ProblemData, rules: Rules, plan: Plan, t: Translator) -> _Sheet:
    from .compare import format_setting, rules_differing_from_defaults

    ws = _Sheet(t._("Overview"), table=False, widths={1: 42, 2: 70}, left_wrap=2)
    ws.append([t._("Rotation plan"), data.name])
    ws.fonts[(1, 1)] = "title"
    ws.append([])
    ws.append([t._("Scenario"), ""])
    ws.fonts[(len(ws.rows), 1)] = "bold"
    d = rules.model_dump(mode="json")
    scenario: list[tuple[str, str]] = [
        (t._("Dataset"), data.name),
        (t.param("as_of"), rules.as_of.strftime("%d/%m/%Y")),
        (t.param("positions"), format_setting(t, "positions", d["positions"])),
        (
            t.param("non_local_targets"),
            format_setting(t, "non_local_targets", d["non_local_targets"]),
        ),
        (t.param("max_changes"), _caps_text(t, data, d["max_changes"])),
        (t.param("budget_vnd"), format_setting(t, "budget_vnd", d.get("budget_vnd"))),
    ]
    shown = {"as_of", "positions", "non_local_targets", "max_changes", "budget_vnd"}
    for key, value in rules_differing_from_defaults(rules).items():
        top, _, sub = key.partition(".")
        if top in shown:
            continue
        if top == "weights" and sub:
            label = f"{t.param('weights')}: {t.rule(sub)}"
        elif key == "support.tiers":
            label = t.param("support")
        else:
            label = t.param(top) + (f" ({sub})" if sub else "")
        scenario.append((label, _setting_text(t, key, value, format_setting)))
    for label, value in scenario:
        ws.append([label, value])
    ws.append([])
    ws.append([t._("Results"), ""])
    ws.fonts[(len(ws.rows), 1)] = "bold"
    ws.append([t.kpi("status"), t.status(plan.status)])
    k = plan.kpis
    if k is None:
        ws.append([t._("Diagnosis items"), len(plan.diagnosis)])
        return ws
    nls = k.non_local_share
    rows: list[tuple[str, Any, str | None]] = [
        (t.kpi("posts"), nls.posts if nls.posts is not None else len(plan.assignments), None),
        (t.kpi("non_local_posts"), nls.non_local_posts, None),
        (t.kpi("non_local_share"), nls.overall, PERCENT),
        (t.kpi("changed_posts"), k.changed_posts, None),
        (t.kpi("released"), len(plan.released), None),
        (t.kpi("total_travel_km"), k.total_travel_km, KM),
        (t.kpi("max_travel_km"), k.max_travel_km, KM),
    ]
    if k.support_cost_vnd is not None:
        rows.append((t.kpi("support_cost_vnd"), k.support_cost_vnd, MONEY))
    if k.new_appointees is not None:
        na = k.new_appointees
        rows += [
            (t.kpi("new_appointees.count"), na.count, None),
            (t.kpi("new_appointees.women"), na.women, None),
            (t.kpi("new_appointees.young"), na.young, None),
            (t.kpi("new_appointees.minority"), na.minority, None),
        ]
    if plan.objective is not None:
        rows.append((t.kpi("objective"), plan.objective, KM))
    for label, value, fmt in rows:
        ws.append([label, value], {2: fmt} if fmt else None)
    return ws


def _caps_text(t: Translator, data: ProblemData, caps: Any) -> str:
    """max_changes in words, one cap or a list, overrides by unit name."""
    if caps is None:
        return t._("none")
    out = []
    for cap in caps if isinstance(caps, list) else [caps]:
        text = t._("at most {count} changed posts per {level}").format(
            count=cap.get("count"), level=t.level(str(cap.get("scope_level", "district")))
        )
        over = cap.get("count_by_scope") or {}
        if over:
            text += " (" + ", ".join(f"{data.unit_name(u)}: {n}" for u, n in over.items()) + ")"
        out.append(text)
    return "; ".join(out)


def _setting_text(t: Translator, key: str, value: Any, fallback: Any) -> str:
    """A rules value for the cover: priority shares and support tiers in words."""
    if key == "priority_shares" and isinstance(value, list):
        return "; ".join(
            t._("{group}: at least {share} of the new appointees").format(
                group=t.pgettext("group", str(v.get("group"))),
                share=t.percent(float(v.get("min_share", 0.0))),
            )
            for v in value
        ) or t._("none")
    if key == "support.tiers" and isinstance(value, list):
        return "; ".join(
            t._("from {km}: {money} a month").format(
                km=t.km(float(v.get("min_km", 0.0)), 0), money=t.money(v.get("vnd_per_month"))
            )
            for v in value
        )
    if key == "support.one_time_vnd":
        return t.money(value)
    return str(fallback(t, key, value))


def _posts_sheet(look: _Lookups, plan: Plan, t: Translator, said: list[str]) -> _Sheet:
    now, new = t._("Current holder"), t._("Proposed holder")
    header = [
        t._("Post"),
        t._("Unit"),
        t._("Position"),
        t._("Changed"),
        *_person_headers(t, now),
        *_person_headers(t, new),
        t._("Comes from (unit)"),
        t._("Distance (km)"),
        t._("Non-local"),
        t._("Support allowance (VND)"),
        t._("Explanation"),
    ]
    ws = _Sheet(t._("Posts and holders"), wide={len(header): 90})
    ws.append(header)
    yes, no = t._("yes"), t._("no")
    fmt = {len(header) - 3: KM, len(header) - 1: MONEY}
    for a, explanation in zip(plan.assignments, said, strict=True):
        current = look.incumbent.get(a.post_id)
        current = current if isinstance(current, str) else None
        values = [
            a.post_id,
            look.unit_name(a.unit_id),
            t.position(a.position),
            yes if a.changed else no,
            *look.person(current, t),
            *look.person(a.cadre_id, t),
            look.moved_from(a) if a.cadre_id else None,
            round(float(a.travel_km), 1) if a.cadre_id else None,
            (yes if a.non_local else no) if a.cadre_id else None,
            a.support_vnd,
            explanation,
        ]
        ws.append(values, fmt)
    return ws


def _released_sheet(look: _Lookups, plan: Plan, t: Translator) -> _Sheet:
    ws = _Sheet(t._("Released"))
    ws.append(
        [
            *_person_headers(t, t._("Released"))[:2],
            t._("Birth year"),
            t._("Gender"),
            t._("Post held"),
            t._("Unit"),
            t._("Goes to"),
        ]
    )
    for c in plan.released:
        post = look.incumbent_post.get(c)
        unit = look.post_unit[post] if isinstance(post, str) else None
        office = look.office.get(c)
        person = look.person(c, t)
        ws.append(
            [
                c,
                person[1],
                person[2],
                person[3],
                t.position(str(look.post_position[post])) if isinstance(post, str) else None,
                look.unit_name(unit) if unit else None,
                t._("returns to an office ({unit})").format(unit=look.unit_name(office))
                if isinstance(office, str) and office != unit
                else t._("returns to an office"),
            ]
        )
    return ws


def _scope_sheets(table: pd.DataFrame, t: Translator) -> list[_Sheet]:
    body = table[~table["is_total"].astype(bool)] if len(table) else table
    sheets = []
    for level in dict.fromkeys(body["scope_level"]) if len(body) else []:
        part = table[(table["scope_level"] == level) | table["is_total"]]
        ws = _Sheet(t._("By {level}").format(level=t.level(level)))
        multi = part["position"].nunique() > 1
        header = [t._("Position")] if multi else []
        header += [
            t.level(level).capitalize(),
            t._("Posts"),
            t._("Non-local before"),
            t._("Share before"),
            t._("Non-local after"),
            t._("Share after"),
            t._("Target"),
            t._("Required"),
            t._("Target met"),
            t._("Changed posts"),
        ]
        ws.append(header)
        off = 1 if multi else 0
        shares = {col: PERCENT for col in (4 + off, 6 + off, 7 + off)}
        for r in part.itertuples(index=False):
            met = None
            if not _nan(r.non_local_after):
                met = t._("yes") if r.non_local_after >= r.required else t._("no")
            name = r.scope_name if not r.is_total else f"{r.scope_name} ({t._('total')})"
            values: list[Any] = [t.position(r.position)] if multi else []
            values += [
                name,
                _cell(r.posts_after),
                _cell(r.non_local_before),
                _cell(r.share_before),
                _cell(r.non_local_after),
                _cell(r.share_after),
                _cell(r.target_share),
                _cell(r.required),
                met,
                _cell(r.changes),
            ]
            ws.append(values, shares)
        sheets.append(ws)
    return sheets


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _explanations_sheet(
    look: _Lookups, plan: Plan, t: Translator, said: list[str], wording: Wording
) -> _Sheet:
    ws = _Sheet(t._("Explanations"), wide={8: 90})
    ws.append(
        [
            t._("Post"),
            t._("Unit"),
            t._("Holder"),
            t._("Rank"),
            t._("Alternative"),
            t._("Distance (km)"),
            t._("Rule that blocks"),
            t._("Explanation"),
        ]
    )
    for a, explanation in zip(plan.assignments, said, strict=True):
        unit = look.unit_name(a.unit_id)
        holder = f"{a.cadre_id} {look.cadre_name(a.cadre_id)}" if a.cadre_id else t._("(vacant)")
        ws.append([a.post_id, unit, holder, None, None, None, None, explanation])
        alts = _extra(a, "alternatives") or []
        for rank, alt in enumerate(alts, start=1):
            if not isinstance(alt, dict):
                continue
            cid = alt.get("cadre_id")
            rule = alt.get("failed_rule")
            km = alt.get("travel_km")
            reason = wording.reason(str(rule), a.position) if rule else None
            ws.append(
                [
                    a.post_id,
                    unit,
                    holder,
                    rank,
                    f"{cid} {alt.get('cadre_name') or look.cadre_name(cid)}" if cid else None,
                    round(float(km), 1) if isinstance(km, int | float) else None,
                    t.rule(str(rule)) if rule else None,
                    reason,
                ],
                {6: KM},
            )
    return ws


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


def _style(ws: Any, wide: dict[int, int] | None = None) -> None:
    """Bold coloured header, frozen header row, column widths from the content (capped;
    ``wide``: columns given a fixed width with wrapped text)."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for c in ws[1]:
        c.font = bold
        c.fill = fill
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 500)):
        for c in row:
            if c.value is not None:
                widths[c.column] = max(widths.get(c.column, 0), len(str(c.value)))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(w + 2, 8), 40)
    for col, w in (wide or {}).items():
        ws.column_dimensions[get_column_letter(col)].width = w
        for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            c.alignment = Alignment(wrap_text=True, vertical="top")


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
