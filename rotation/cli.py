"""``rotation`` on the command line (contract §4), with typer and rich.

Exit codes: 0 success; 1 ``validate`` found violations; 2 bad input
(data, rules, plan file, province name: one clear line per problem, never a traceback); 3 no plan
exists (``plan``/``demo``: the diagnosis is printed and written as ``plan-1.json``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .atomic import write_atomic
from .cli_common import (
    DataArg,
    RulesOpt,
    _BadInput,
    _errors,
    _read,
    _rules,
    console,
    end_at_once,
    err,
    files_written,
    importing,
    in_background,
    short_lived_process,
)

if TYPE_CHECKING:  # pandas, pydantic and rich load when a command needs them, not for --help
    import pandas as pd
    from rich.table import Table
    from rich.text import Text

    from .i18n import Translator
    from .rules import Rules
    from .solve import ProgressEvent

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # click's plain help and errors: typer's rich formatter imports rich.markdown, markdown_it,
    # rich.traceback and attrs, 40 ms of the 0.2 s `rotation --help` may take (bench/README.md)
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},  # click's default: 80 columns at most
    help="Plan cadre rotations so communes get non-local leaders, within every rule.",
)

DEMO_DATA = Path(__file__).resolve().parents[1] / "data" / "hai_duong"
DEMO_OUT = Path("out") / "demo"
DEMO_TIME_LIMIT_S = 60.0

LangOpt = Annotated[
    str, typer.Option("--lang", help="language of the workbook and tables: vi (default) or en")
]


def _translator(lang: str):
    from .i18n import UnknownLanguage, translator

    try:
        return translator(lang)
    except UnknownLanguage as exc:
        raise _BadInput([f"--lang: {exc}"]) from None


# =========================================================================== rendering
def _pct(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.1f}%"


def _num(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def _tr(t: Translator | None) -> Translator:
    from .i18n import translator

    return t if t is not None else translator()


def _scope_header(table: pd.DataFrame, t: Translator) -> str:
    """The scope column named for the level that exists (huyện, or tỉnh in the 2-level data)."""
    levels = [lv for lv in dict.fromkeys(table["scope_level"]) if isinstance(lv, str)]
    body = [lv for lv in levels if lv != "province"] or levels
    return t.level(body[0]).capitalize() if len(body) == 1 else t._("Unit")


def status_rich(
    table: pd.DataFrame, title: str | None = None, t: Translator | None = None
) -> Table:
    """The status table as a rich Table (non-local holders as 'k/n'), in ``t``'s language."""
    from rich.table import Table

    t = _tr(t)
    multi = table["position"].nunique() > 1 if len(table) else False
    out = Table(title=title or t._("Where we stand"), title_justify="left")
    if multi:
        out.add_column(t._("Position"))
    out.add_column(_scope_header(table, t) if len(table) else t._("Unit"), no_wrap=True)
    out.add_column(t.pgettext("terminal", "Non-local"), justify="right")
    out.add_column(t._("Share"), justify="right", no_wrap=True)
    out.add_column(t._("Target"), justify="right", no_wrap=True)
    out.add_column(t._("Required"), justify="right")
    out.add_column(t._("Shortfall"), justify="right")
    for r in table.itertuples(index=False):
        cells = [
            r.scope_name,
            f"{r.non_local}/{r.posts}",
            t.percent(r.share),
            t.percent(r.target_share),
            str(r.required),
            str(r.shortfall),
        ]
        short = r.shortfall > 0 and not r.is_total
        style = "bold" if r.is_total else ("red" if short else None)
        out.add_row(
            *([t.position(r.position)] if multi else []),
            *cells,
            style=style,
            end_section=bool(r.is_total),
        )
    return out


def before_after_rich(
    table: pd.DataFrame, title: str | None = None, t: Translator | None = None
) -> Table:
    """Before → after per scope: non-local holders, share, target, changed posts."""
    from rich.table import Table

    t = _tr(t)
    multi = table["position"].nunique() > 1 if len(table) else False
    out = Table(title=title or t._("Before / after"), title_justify="left")
    if multi:
        out.add_column(t._("Position"))
    out.add_column(_scope_header(table, t) if len(table) else t._("Unit"), no_wrap=True)
    out.add_column(t._("Posts"), justify="right")
    out.add_column(t.pgettext("terminal", "Non-local"), justify="right")
    out.add_column(t._("Share"), justify="right", no_wrap=True)
    out.add_column(t._("Target"), justify="right", no_wrap=True)
    out.add_column(t.pgettext("terminal", "Changes"), justify="right")
    for r in table.itertuples(index=False):
        no_after = isinstance(r.non_local_after, float) and math.isnan(r.non_local_after)
        after = "–" if no_after else str(int(r.non_local_after))
        out.add_row(
            *([t.position(r.position)] if multi else []),
            r.scope_name,
            str(r.posts),
            f"{r.non_local_before} → {after}",
            f"{t.percent(r.share_before, 0)} → {t.percent(r.share_after, 0)}",
            t.percent(r.target_share, 0),
            "–" if no_after else str(int(r.changes)),
            style="bold" if r.is_total else None,
            end_section=bool(r.is_total),
        )
    return out


def _empty_kpis() -> Any:
    """Zero KPIs for a table row of a plan that has none (loaded only when needed)."""
    from .plan import Kpis

    return Kpis()


def kpi_rich(
    plan, stats: dict[str, Any] | None = None, title: str | None = None, t: Translator | None = None
) -> Table:
    from rich.table import Table

    from .report import movement_rows

    t = _tr(t)
    k = plan.kpis if plan.kpis is not None else _empty_kpis()  # only feasible plans reach here
    share = k.non_local_share
    posts = share.posts if share.posts is not None else len(plan.assignments)
    nl = share.non_local_posts
    out = Table(title=title or t._("Plan 1: KPIs"), title_justify="left", show_header=False)
    out.add_column("measure")
    out.add_column("value", justify="right")
    solver = (plan.model_extra or {}).get("solver") or {}
    rows = [
        (t.kpi("status"), t.status(plan.status)),
        (t.kpi("objective"), t.number(plan.objective, 3)),
        (t.kpi("bound"), t.number(plan.bound, 3)),
        (t._("Gap"), t.percent(solver.get("gap")) if "gap" in solver else "–"),
        (t.kpi("posts"), t.number(posts)),
        (t.kpi("non_local_posts"), f"{nl}/{posts}" if nl is not None else "–"),
        (t.kpi("non_local_share"), t.percent(k.non_local_share.overall)),
        *movement_rows(t, plan),
    ]
    na = k.new_appointees
    if na is not None:
        rows.append(
            (
                t.kpi("new_appointees.count"),
                t._("{n} (women {women}, young {young}, minority {minority})").format(
                    n=na.count, women=na.women, young=na.young, minority=na.minority
                ),
            )
        )
    if k.preferences is not None and k.preferences.with_wishes:
        pk = k.preferences
        rows.append(
            (
                t._("Wishes met"),
                t._("{placed}/{wishes} (first choice {first})").format(
                    placed=pk.placed_in_wish, wishes=pk.with_wishes, first=pk.placed_first_choice
                ),
            )
        )
    if stats and "total_s" in stats:
        rows.append((t._("Time"), f"{t.number(stats['total_s'], 1)} s"))
    for name, value in rows:
        out.add_row(name, value)
    return out


def candidates_rich(plans: list, t: Translator | None = None) -> Table:
    from rich.table import Table

    from .report import candidates_table

    t = _tr(t)
    df = candidates_table(plans)
    out = Table(title=t._("Candidate plans"), title_justify="left")
    for col in (
        t._("Plan"),
        t.kpi("objective"),
        t.kpi("non_local_share"),
        t.kpi("changed_posts"),
        t.kpi("total_travel_km"),
        t.kpi("max_travel_km"),
        t._("Posts differing from plan 1"),
    ):
        out.add_column(col, justify="right")
    for r in df.itertuples(index=False):
        out.add_row(
            str(r.plan),
            t.number(r.objective, 3),
            t.percent(r.non_local_share),
            str(r.changed_posts),
            t.number(r.total_travel_km, 1),
            t.number(r.max_travel_km, 1),
            str(r.differs_from_plan_1),
        )
    return out


def diagnosis_rich(items: list, t: Translator | None = None) -> Table:
    from rich.table import Table

    t = _tr(t)
    out = Table(
        title=t._("No plan satisfies every rule. Diagnosis:"),
        title_justify="left",
        title_style="bold red",
    )
    out.add_column(t._("Rule"))
    out.add_column(t._("Scope"))
    out.add_column(t._("Detail"))
    for d in items:
        extra = d.model_extra or {}
        scope = extra.get("scope_name") or d.scope
        out.add_row(t.rule(d.rule), str(scope), d.detail_in(t.lang))
    return out


class _ProgressLine:
    """The live line: elapsed time (ticking), best objective, bound and gap ("–" until known)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last: ProgressEvent | None = None
        self.lock = threading.Lock()

    def update(self, event: ProgressEvent) -> None:
        with self.lock:
            self.last = event

    def __rich__(self) -> Text:
        from rich.text import Text

        with self.lock:
            last = self.last
        elapsed = time.perf_counter() - self.t0
        text = Text(f"solving… {elapsed:5.1f} s", style="cyan")
        if last is None:
            text.append("  (no plan yet)")
            return text
        best = "–" if last.objective is None else f"{last.objective:,.3f}"
        bound = "–" if last.bound is None else f"{last.bound:,.3f}"
        text.append(f"  {last.phase}: best {best}  bound {bound}  gap {_pct(last.gap)}")
        return text


def _solve(data, rules: Rules, quiet: bool):
    with importing():  # ortools, highspy: loaded on first use
        from .solve import solve

    if quiet:
        return solve(data, rules)
    line = _ProgressLine()
    if not console.is_terminal:  # a log or a pipe: one line at the end, no animation
        result = solve(data, rules, progress=line.update)
        console.print(line)
        return result
    with importing():  # the animated line: only on a terminal
        from rich.live import Live
    with Live(line, console=console, refresh_per_second=4, transient=False):
        result = solve(data, rules, progress=line.update)
    return result


# =========================================================================== plan writing
BACKGROUND_MIN_POSTS = 2000
"""A plan's workbook is written beside the rest from this many posts on: national's (10,000
posts, ≈ 0.6 s) gains what the JSON, its table and the printing take (≈ 0.15–0.2 s); a small
one's (Hai Duong, 0.05 s) gains nothing and its process costs CPU (bench/README.md)."""


def _write_plans(
    data,
    rules: Rules,
    result,
    out: Path,
    lang: str = "vi",
    tables: list[pd.DataFrame] | None = None,
    pending: list[Callable[[], None]] | None = None,
) -> list[Path]:
    """plan-1.json … plan-K.json and the matching .xlsx; stale plan-N files beyond K removed.
    ``tables`` receives each plan's before/after table (the workbook's, printed after it).
    With ``pending``, each workbook of at least :data:`BACKGROUND_MIN_POSTS` posts is written
    beside the rest (:func:`~rotation.cli_common.in_background`) and ``pending`` receives the
    calls that wait for them."""
    from .profile import phase

    with importing():  # openpyxl: loaded when a workbook is written
        from .export import write_plan_xlsx
    from .report import before_after_table

    out.mkdir(parents=True, exist_ok=True)
    plans = result.plans or [result.plan]
    written: list[Path] = []
    for k, plan in enumerate(plans, start=1):
        j = out / f"plan-{k}.json"
        x = out / f"plan-{k}.xlsx"
        with phase("write"):
            beside = pending is not None and len(plan.assignments) >= BACKGROUND_MIN_POSTS
            if beside:  # the workbook works out its own table, beside this one
                assert pending is not None
                pending.append(
                    in_background(partial(write_plan_xlsx, data, rules, plan, x, lang, None))
                )
            plan.to_json(j)
            table = before_after_table(data, rules, plan)
            if not beside:
                write_plan_xlsx(data, rules, plan, x, lang, table)
        if tables is not None:
            tables.append(table)
        written += [j, x]
    compare = out / "compare.xlsx"
    if len(plans) > 1:  # candidates: the comparison a committee reads, posts that differ by name
        from .compare import compare_plans, write_compare_xlsx

        names = [f"plan-{k}" for k in range(1, len(plans) + 1)]
        write_compare_xlsx(compare_plans(data, plans, names), compare, lang=lang)
        written.append(compare)
    elif compare.exists():
        compare.unlink()
    for old in list(out.glob("plan-*.json")) + list(out.glob("plan-*.xlsx")):
        n = old.stem.removeprefix("plan-")
        if n.isdigit() and int(n) > len(plans):
            old.unlink()
    return written


def _plan_and_report(data, rules: Rules, out: Path, quiet: bool, lang: str = "vi") -> int:
    """Solve, write, print; returns the exit code (0 plan found, 3 none)."""
    from .profile import phase

    t = _translator(lang)
    result = _solve(data, rules, quiet)
    tables: list[pd.DataFrame] = []
    pending: list[Callable[[], None]] = []  # the workbooks, written while the tables print
    written = _write_plans(data, rules, result, out, lang, tables, pending)
    with phase("print"):
        code = _print_result(result, out, t, tables[0])
    with phase("write"):
        for wait in pending:
            wait()
    if code == 0:
        with phase("print"):
            console.print(
                t._("Wrote {files}").format(files=", ".join(str(p) for p in written)),
                markup=False,
                soft_wrap=True,
            )
    files_written()  # every file written atomically, the workbooks' processes ended
    return code


def _print_result(result, out: Path, t: Translator, table: pd.DataFrame) -> int:
    """The plan's KPIs and plan 1's before/after ``table`` (the workbook's), or the diagnosis
    (the files written are said after the workbooks are done, by the caller)."""
    if not result.plans:
        console.print(diagnosis_rich(result.plan.diagnosis, t))
        console.print(
            t._("Diagnosis written to {path}").format(path=out / "plan-1.json"), markup=False
        )
        return 3
    plan = result.plans[0]
    console.print(kpi_rich(plan, result.stats, t=t))
    if len(result.plans) > 1:
        console.print(candidates_rich(result.plans, t))
    console.print(before_after_rich(table, title=t._("Plan 1: before / after"), t=t))
    return 0


# =========================================================================== commands
@app.command()
def status(data_path: DataArg, rules_path: RulesOpt = None, lang: LangOpt = "vi") -> None:
    """Where we stand: non-local holders per scope, tenure alerts, the eligible pool."""
    with _errors():
        t = _translator(lang)
        data = _read(data_path)
        rules = _rules(rules_path)
        _print_status(data, rules, t=t)


def _print_status(data, rules: Rules, details: bool = True, t: Translator | None = None) -> None:
    from rich.table import Table

    from .report import pool_summary, status_table, tenure_alerts

    t = _tr(t)
    title = t._("Where we stand ({name}, {date})").format(
        name=data.name, date=rules.as_of.strftime("%d/%m/%Y")
    )
    console.print(status_rich(status_table(data, rules), title=title, t=t))
    if not details:
        return
    alerts = tenure_alerts(data, rules)
    limit = rules.max_years_in_post
    if limit is None:
        console.print(t._("No maximum tenure (max_years_in_post is off)."))
    else:
        console.print(
            t._(
                "Tenure alerts: {n} incumbent(s) at or over {limit} years in post (they must leave)."
            ).format(n=len(alerts), limit=t.number(limit, 0 if float(limit).is_integer() else 1))
        )
        if len(alerts):
            table = Table(title_justify="left")
            for col in (t._("Post"), t._("Unit"), t._("Cadre"), t._("Years")):
                table.add_column(col, justify="right" if col == t._("Years") else "left")
            for r in alerts.head(10).itertuples(index=False):
                table.add_row(r.post_id, r.unit_name, r.cadre_name, t.number(r.years, 1))
            if len(alerts) > 10:
                table.add_row("…", t._("{n} more").format(n=len(alerts) - 10), "", "")
            console.print(table)
    pool = pool_summary(data, rules)
    table = Table(title=t._("Eligible pool"), title_justify="left")
    table.add_column("")
    table.add_column(t._("Count"), justify="right")
    table.add_column(t._("Meaning"))
    plain = ("cadres", "free", "pairs", "new_post_pairs")
    labels = {
        "cadres": t._("cadres"),
        "free": t._("free"),
        "pairs": t._("pairs"),
        "new_post_pairs": t._("new-post pairs"),
        "merged_posts": t._("merged posts"),
    }
    for item, r in pool.iterrows():
        if item not in plain and r["count"] == 0:
            continue
        label = labels.get(str(item)) or t._("blocked: {rule}").format(rule=t.rule(str(item)))
        meaning = r["meaning"]
        table.add_row(
            label,
            t.number(int(r["count"])),
            t.pgettext("pool", meaning) if isinstance(meaning, str) else "",
        )
    console.print(table)


@app.command()
def plan(
    data_path: DataArg,
    out: Annotated[Path, typer.Option("--out", help="folder for plan-K.json / plan-K.xlsx")],
    rules_path: RulesOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no live progress line")] = False,
    lang: LangOpt = "vi",
    profile: Annotated[
        bool, typer.Option("--profile", help="print seconds and peak memory per phase (stderr)")
    ] = False,
) -> None:
    """Solve: write DIR/plan-1.json … plan-K.json and .xlsx (and compare.xlsx for candidate
    plans); exit 3 with a diagnosis if none."""
    if profile:
        from .profile import enable

        enable()
    with _errors():
        _translator(lang)
        data = _read(data_path)
        rules = _rules(rules_path)
    code = _plan_and_report(data, rules, out, quiet, lang)
    raise typer.Exit(code)


@app.command()
def validate(
    data_path: DataArg,
    plan_path: Annotated[Path, typer.Option("--plan", help="plan JSON to check")],
    rules_path: RulesOpt = None,
    roadmap: Annotated[
        bool, typer.Option("--roadmap", help="PLAN is a term roadmap JSON (rotation roadmap)")
    ] = False,
) -> None:
    """Check a plan against every hard rule: exit 0 when valid, 1 with one line per violation."""
    from .plan import Plan
    from .validate import format_violations, validate_plan

    if roadmap:
        _validate_roadmap(data_path, plan_path, rules_path)
        return
    with _errors():
        data = _read(data_path)
        rules = _rules(rules_path)
        if not plan_path.is_file():
            raise _BadInput([f"{plan_path}: no such file"])
        try:
            the_plan = Plan.from_json(plan_path)
        except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError
            first = str(exc).splitlines()
            raise _BadInput([f"{plan_path}: not a valid plan: {' '.join(first[:3])}"]) from None
    violations = validate_plan(data, rules, the_plan)
    if violations:
        for line in format_violations(violations).splitlines():
            console.print(line, markup=False, soft_wrap=True)
        err.print(f"invalid: {len(violations)} violation(s)", style="red")
        raise typer.Exit(1)
    n = sum(1 for a in the_plan.assignments)
    console.print(f"valid: {n} assignments, every hard rule holds")


def _validate_roadmap(data_path: Path, path: Path, rules_path: Path | None) -> None:
    """`validate --roadmap`: every round's plan and the cross-round rules; exit 0 or 1."""
    import json

    from .roadmap.validate import (
        RoadmapError,
        format_round_violations,
        load_horizon,
        parse_roadmap,
        validate_roadmap,
    )

    with _errors():
        data = _read(data_path)
        rules = _rules(rules_path)
        load_horizon(rules)
        if not path.is_file():
            raise _BadInput([f"{path}: no such file"])
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
            parsed = parse_roadmap(doc)
        except json.JSONDecodeError as exc:
            raise _BadInput([f"{path}: not valid JSON: {exc}"]) from None
        except RoadmapError as exc:
            lines = [f"{path}: not a valid roadmap: {line}" for line in exc.lines]
            raise _BadInput(lines) from None
    violations = validate_roadmap(data, rules, doc)
    if violations:
        for line in format_round_violations(violations).splitlines():
            console.print(line, markup=False, soft_wrap=True)
        err.print(f"invalid: {len(violations)} violation(s)", style="red")
        raise typer.Exit(1)
    console.print(
        f"valid: {len(parsed.rounds)} round(s), {parsed.status}, every hard rule holds in every "
        "round and across rounds"
    )


@app.command()
def roadmap(
    data_path: DataArg,
    out: Annotated[Path, typer.Option("--out", help="folder for roadmap.json / roadmap.xlsx")],
    rules_path: RulesOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no live progress line")] = False,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="an earlier roadmap.json to stay close to (rolling re-plan on updated data)",
        ),
    ] = None,
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="with --previous (the adopted roadmap): repair it after an event in round N: "
            "declines:CADRE[@POST]:round=N, leaves:CADRE:round=N, vacant:POST:round=N, "
            "disciplined:CADRE[:kind=KIND]:round=N (repeatable, one round)",
        ),
    ] = None,
    lang: LangOpt = "vi",
) -> None:
    """Plan the whole term round by round (rules `horizon`): write DIR/roadmap.json and
    DIR/roadmap.xlsx; exit 3 with a diagnosis when no roadmap exists. With --previous, re-plan
    the remaining rounds keeping as much of the earlier roadmap as possible; with --event too,
    repair the adopted roadmap: rounds before the event's as adopted, the fewest changes after."""
    import functools
    import json

    from rich.live import Live

    from .atomic import write_atomic
    from .roadmap.export import write_roadmap_xlsx
    from .roadmap.model import proof_line, solve_roadmap
    from .roadmap.validate import load_horizon

    with _errors():
        data = _read(data_path)
        rules = _rules(rules_path)
        load_horizon(rules)
        prev = None
        if previous is not None:
            try:
                prev = json.loads(previous.read_text(encoding="utf-8-sig"))
            except json.JSONDecodeError as exc:
                raise _BadInput([f"{previous}: not a roadmap JSON file ({exc})"]) from None
        if event:
            if prev is None:
                raise _BadInput(["--event needs --previous ROADMAP.json: the adopted roadmap"])
            from .repair import RepairError, parse_events

            try:
                events = parse_events(event, rounds=True)
            except RepairError as exc:
                raise _BadInput(exc.messages) from None
    if event and prev is not None:
        _repair_roadmap(data, rules, prev, events, out, quiet, lang, str(previous))
        return
    solve_roadmap = functools.partial(solve_roadmap, previous=prev)
    if quiet:
        result = solve_roadmap(data, rules)
    else:
        line = _ProgressLine()
        if console.is_terminal:
            with Live(line, console=console, refresh_per_second=4, transient=False):
                result = solve_roadmap(data, rules, progress=line.update)
        else:
            result = solve_roadmap(data, rules, progress=line.update)
            console.print(line)
    doc = result.to_json()
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "roadmap.json", json.dumps(doc, ensure_ascii=False, indent=2))
    if doc["status"] not in ("optimal", "feasible"):
        if doc["status"] == "infeasible":
            console.print(diagnosis_rich(result.diagnosis))
        else:  # no roadmap found, none proved impossible (the time limit ran out)
            console.print(f"No roadmap found (status {doc['status']}).", markup=False)
            if result.stats.get("message"):
                console.print(result.stats["message"], markup=False, soft_wrap=True)
        console.print(f"Diagnosis written to {out / 'roadmap.json'}", markup=False)
        raise typer.Exit(3)
    write_roadmap_xlsx(data, rules, doc, out / "roadmap.xlsx")
    console.print(roadmap_rich(data, rules, doc))
    console.print(proof_line(result.stats), markup=False)
    console.print(f"Wrote {out / 'roadmap.json'}, {out / 'roadmap.xlsx'}", markup=False)


def _repair_roadmap(
    data,
    rules: Rules,
    adopted: dict[str, Any],
    events: list,
    out: Path,
    quiet: bool,
    lang: str,
    name: str,
) -> None:
    """`roadmap --previous ADOPTED --event …`: repair, write, print what changed per round."""
    import json

    from rich.live import Live
    from rich.table import Table

    from .repair import RepairError
    from .roadmap.export import write_roadmap_xlsx
    from .roadmap.model import proof_line
    from .roadmap.repair import repair_roadmap

    line = _ProgressLine()
    progress = None if quiet else line.update
    with _errors():
        t = _translator(lang)
        try:
            if quiet or not console.is_terminal:
                rep = repair_roadmap(data, rules, adopted, events, name, progress=progress)
            else:
                with Live(line, console=console, refresh_per_second=4, transient=False):
                    rep = repair_roadmap(data, rules, adopted, events, name, progress=progress)
        except RepairError as exc:
            raise _BadInput(exc.messages) from None
    if not quiet and not console.is_terminal:
        console.print(line)
    doc = rep.to_json()
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "roadmap.json", json.dumps(doc, ensure_ascii=False, indent=2))
    if not rep.result.rounds:
        if rep.status == "infeasible":
            console.print(diagnosis_rich(rep.result.diagnosis, t))
        else:
            console.print(
                t._("No repaired roadmap found (status {status}).").format(status=rep.status),
                markup=False,
            )
        console.print(
            t._("Diagnosis written to {path}").format(path=out / "roadmap.json"), markup=False
        )
        raise typer.Exit(3)
    write_roadmap_xlsx(data, rules, doc, out / "roadmap.xlsx")
    diff = Table(
        title=t._("Changed compared with the adopted roadmap, from round {n}").format(
            n=rep.from_round
        ),
        title_justify="left",
    )
    for col in (t._("Round"), t._("Post"), t._("Unit"), t._("Adopted"), t._("Repaired")):
        diff.add_column(col)
    for c in rep.changes:
        diff.add_row(
            c.round.isoformat(),
            c.post_id,
            c.unit_name,
            f"{c.adopted} {c.adopted_name}" if c.adopted else t._("(vacant)"),
            f"{c.repaired} {c.repaired_name}" if c.repaired else t._("(vacant)"),
        )
    console.print(diff)
    by_round = ", ".join(f"{d}: {n}" for d, n in rep.changed_by_round().items())
    console.print(
        t._("{n} post(s) changed compared with the adopted roadmap ({by_round})").format(
            n=len(rep.changes), by_round=by_round
        ),
        markup=False,
        soft_wrap=True,
    )
    console.print(roadmap_rich(data, rules, doc))
    console.print(proof_line(rep.result.stats), markup=False)
    console.print(
        t._("Wrote {files}").format(files=f"{out / 'roadmap.json'}, {out / 'roadmap.xlsx'}"),
        markup=False,
    )
    if rep.violations:  # never expected: the repair is checked like any roadmap
        for v in rep.violations:
            console.print(v, markup=False, soft_wrap=True)
        err.print(f"invalid: {len(rep.violations)} violation(s)", style="red")
        raise typer.Exit(1)


def roadmap_rich(data, rules: Rules, doc: dict[str, Any]) -> Table:
    """Per round: non-local share overall, changed posts, total km, and the scope furthest from
    its target (lowest share minus target share) against that target."""
    from rich.table import Table

    from .roadmap.export import kpi_rows
    from .roadmap.validate import parse_roadmap, roll_roadmap

    parsed = parse_roadmap(doc)
    rows = kpi_rows(data, rules, roll_roadmap(data, rules, doc))
    t = Table(title=f"Roadmap: {parsed.status}", title_justify="left")
    t.add_column("round", no_wrap=True)
    for col in ("non-local", "changes", "total km"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("lowest scope share")
    t.add_column("target", justify="right", no_wrap=True)
    for day, plan in parsed.rounds:
        scoped = [r for r in rows if r["round"] == day and r["scope_level"] != "all"]
        worst = min(scoped, key=lambda r: r["share"] - (r["target_share"] or 0.0), default=None)
        low = f"{_pct(worst['share'])} {worst['scope_name']}" if worst else "–"
        k = plan.kpis if plan.kpis is not None else _empty_kpis()
        t.add_row(
            day.isoformat(),
            _pct(k.non_local_share.overall),
            str(k.changed_posts),
            _num(k.total_travel_km),
            low,
            _pct(worst["target_share"]) if worst else "–",
        )
    return t


def _legacy_flag(legacy: bool | None) -> bool:
    if legacy is None:
        raise _BadInput(
            ["choose the hierarchy: --legacy (3 levels, before 2025) or --new (2 levels, 2025)"]
        )
    return legacy


LegacyOpt = Annotated[
    bool | None,
    typer.Option("--legacy/--new", help="3-level legacy hierarchy or the 2025 2-level one"),
]


@app.command()
def units(
    province: Annotated[str, typer.Option("--province", help="province name or code")],
    out: Annotated[Path, typer.Option("--out", help="units CSV to write")],
    legacy: LegacyOpt = None,
) -> None:
    """Write the units table (contract §1) of one province from the bundled unit list."""
    from .units import build_units

    with _errors():
        is_legacy = _legacy_flag(legacy)
        try:
            df = build_units(province, is_legacy)
        except ValueError as exc:
            raise _BadInput([str(exc)]) from None
        _write_csv_atomic(df, out)
    console.print(f"Wrote {out} ({len(df)} units)", markup=False)


def _write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    write_atomic(path, df.to_csv(index=False, lineterminator="\n"))


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="folder for the CSV files")],
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same files)")],
    province: Annotated[str | None, typer.Option("--province", help="province name")] = None,
    legacy: LegacyOpt = None,
    national: Annotated[bool, typer.Option("--national", help="all 34 provinces (2025)")] = False,
    positions: Annotated[
        str | None, typer.Option("--positions", help="comma-separated, e.g. secretary,pc_chair")
    ] = None,
) -> None:
    """Generate a synthetic dataset (no real person) for one province or the whole country."""
    from .synth import ALL_POSITIONS, synthesize, synthesize_national, write_tables

    with _errors():
        pos = [p.strip() for p in positions.split(",") if p.strip()] if positions else None
        if national == (province is not None):
            raise _BadInput(["give either --province NAME (with --legacy or --new) or --national"])
        try:
            if national:
                tables = synthesize_national(seed, pos or ALL_POSITIONS)
            else:
                tables = synthesize(
                    province or "", _legacy_flag(legacy), seed, pos or ["secretary"]
                )
        except ValueError as exc:
            raise _BadInput([str(exc)]) from None
        written = write_tables(tables, out)
    sizes = ", ".join(f"{p.stem} {len(tables[p.stem]):,}" for p in written)
    console.print(f"Wrote {out}: {sizes}", markup=False, soft_wrap=True)


@app.command()
def repair(
    data_path: DataArg,
    plan_path: Annotated[Path, typer.Option("--plan", help="the plan to repair (plan JSON)")],
    out: Annotated[Path, typer.Option("--out", help="folder for plan-1.json / plan-1.xlsx")],
    event: Annotated[
        list[str],
        typer.Option("--event", help="declines:CADRE, leaves:CADRE or vacant:POST (repeatable)"),
    ],
    rules_path: RulesOpt = None,
    lang: LangOpt = "vi",
) -> None:
    """The valid plan closest to PLAN after the events (fewest changed posts first, then the
    usual objective); prints and writes what changed compared with PLAN."""
    from rich.table import Table

    from .cli_meeting import _load_plan, _rules_for
    from .plan import Plan
    from .repair import RepairError, parse_events, repair_plan

    with _errors():
        t = _translator(lang)
        data = _read(data_path)
        given = _load_plan(plan_path)
        rules = _rules_for(rules_path, given, plan_path)
        try:
            events = parse_events(event)
            result = repair_plan(data, rules, given, events)
        except RepairError as exc:
            raise _BadInput(exc.messages) from None
    out.mkdir(parents=True, exist_ok=True)
    if not result.plans:
        from .plan import DiagnosisItem

        items = [DiagnosisItem.model_validate(d) for d in result.diagnosis]
        Plan(status="infeasible", diagnosis=items).with_rules(rules).to_json(out / "plan-1.json")
        console.print(diagnosis_rich(items, t))
        raise typer.Exit(3)
    plans = [Plan.model_validate(p).with_rules(rules) for p in result.plans]
    from types import SimpleNamespace

    written = _write_plans(data, rules, SimpleNamespace(plans=plans, plan=plans[0]), out, lang)
    plan = plans[0]
    before = given.holder()
    diff = Table(title=t._("Changed compared with the given plan"), title_justify="left")
    for col in (t._("Post"), t._("Unit"), t._("Given plan"), t._("Repaired plan")):
        diff.add_column(col)
    for a in plan.assignments:
        old = before.get(a.post_id)
        if old == a.cadre_id:
            continue
        diff.add_row(
            a.post_id,
            data.unit_name(a.unit_id),
            f"{old} {data.cadre_name(old)}" if old else t._("(vacant)"),
            f"{a.cadre_id} {data.cadre_name(a.cadre_id)}" if a.cadre_id else t._("(vacant)"),
        )
    console.print(diff)
    n = sum(1 for a in plan.assignments if before.get(a.post_id) != a.cadre_id)
    console.print(t._("{n} post(s) changed compared with the given plan").format(n=n))
    if result.capped:
        console.print(t._("The change cap forced a fresh solve: the plan may differ more."))
    console.print(kpi_rich(plan, t=t))
    console.print(
        t._("Wrote {files}").format(files=", ".join(str(p) for p in written)),
        markup=False,
        soft_wrap=True,
    )


@app.command()
def demo(
    rules_path: RulesOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no live progress line")] = False,
    lang: LangOpt = "vi",
) -> None:
    """The bundled Hai Duong scenario end to end: status, plan, before/after, KPIs."""
    with _errors():
        _translator(lang)
        if not (DEMO_DATA / "units.csv").is_file():
            raise _BadInput([f"{DEMO_DATA}: bundled demo data not found (run from the repository)"])
        data = _read(DEMO_DATA)
        rules = _rules(rules_path, time_limit_s=DEMO_TIME_LIMIT_S)
    console.print(
        f"[bold]Demo:[/] {DEMO_DATA} (synthetic roster, real units), rules: "
        f"{rules_path or f'defaults with time_limit_s {DEMO_TIME_LIMIT_S:g}'}",
        soft_wrap=True,
    )
    _print_status(data, rules, details=False, t=_translator(lang))
    code = _plan_and_report(data, rules, DEMO_OUT, quiet, lang)
    raise typer.Exit(code)


COMMANDS_GROUP = "rotation.commands"
"""Entry point group through which other packages add commands to ``rotation``: each entry is
a function ``register(app)`` (the HTTP service adds ``serve``, ``worker`` and ``keys``). The
library itself never imports the service."""


# the committee's commands (report, compare) live in their own module; it imports the helpers above
from .cli_meeting import register as _register_meeting  # noqa: E402

_register_meeting(app)
from .cli_sweep import register as _register_sweep  # noqa: E402

_register_sweep(app)


def entry_points(group: str) -> list[Any]:
    """The installed entry points of ``group``; ``importlib.metadata`` is imported here, on first
    use, since it loads email, zipfile and csv (≈ 25 ms) and scans every installed package."""
    from importlib.metadata import entry_points as installed

    return list(installed(group=group))


def load_plugins(target: typer.Typer | None = None) -> list[str]:
    """Call every ``rotation.commands`` entry point with the app; returns the names loaded. A
    plugin that fails to load is reported on stderr and skipped."""
    loaded = []
    for ep in entry_points(group=COMMANDS_GROUP):
        try:
            ep.load()(target or app)
        except Exception as exc:  # a broken plugin must not take the library's commands down
            err.print(f"rotation: commands of {ep.value!r} not loaded: {exc}", markup=False)
            continue
        loaded.append(ep.name)
    return loaded


def command_names(target: typer.Typer | None = None) -> dict[str, Any]:
    """The commands registered on ``target`` (the app) by the name a command line gives them
    (its own, or typer's from the function's: ``plan``, ``roadmap``), each typer's record."""
    from typer.main import get_command_name

    target = target or app
    return {
        c.name or get_command_name(c.callback.__name__): c
        for c in target.registered_commands
        if c.callback is not None
    }


def library_commands(target: typer.Typer | None = None) -> set[str]:
    """The names of the commands and groups the library itself gives ``target`` (the app)."""
    target = target or app
    return set(command_names(target)) | {g.name for g in target.registered_groups if g.name}


def needs_plugins(args: list[str], target: typer.Typer | None = None) -> bool:
    """Whether the command line ``args`` may run a plugin's command or list every command: its
    first word is not one of the library's commands (``rotation serve``, a misspelt name whose
    error lists the commands), or there is none (``rotation``, ``rotation --help``). ``rotation
    plan …`` and the other library commands start without scanning the installed packages."""
    first = next((a for a in args if not a.startswith("-")), None)
    return first is None or first not in library_commands(target)


def one_command_app(args: list[str], target: typer.Typer | None = None) -> typer.Typer | None:
    """``target`` (the app) with only the library command that ``args`` start with (``plan``
    of ``rotation plan …``), or None when they start otherwise (an option, a group, a plugin's
    command, a misspelt name, nothing). Click needs only that command, and typer works out the
    parameters of every command it is given from its signature: the whole app's 11 cost
    ≈ 20 ms of each command's start, ``plan``'s alone 2 ms (bench/README.md). The command's
    help, usage line and errors read as in the whole app (``tests/test_cli.py``)."""
    import copy

    target = target or app
    if not args or target.registered_callback is not None:
        return None
    command = command_names(target).get(args[0])  # a name given twice: the last, as click's
    if command is None:
        return None
    one = copy.copy(target)
    one.registered_commands, one.registered_groups = [command], []
    one.callback()(_no_options)  # a group of one command, as the app is a group of many
    return one


def _no_options() -> None:
    """The one-command app's callback: no options of its own, as the whole app has none."""


def main() -> None:
    """Entry point of the ``rotation`` script: the library's commands plus those registered by
    installed packages (``rotation serve``, ``rotation worker``, ``rotation keys``), which are
    looked up only when the command line may need them (:func:`needs_plugins`).
    ``ROTATION_PROFILE=1`` (or ``plan --profile``) prints the time per phase on stderr."""
    import sys

    from . import profile

    profile.mark_imported()
    short_lived_process()
    code: object = None
    try:
        if needs_plugins(sys.argv[1:]):
            load_plugins()
        (one_command_app(sys.argv[1:]) or app)()
    except SystemExit as stop:
        code = stop.code
        raise
    finally:
        profile.report()
        if isinstance(code, int) and not isinstance(code, bool):
            end_at_once(code)  # a command whose files are all written and closed ends here


if __name__ == "__main__":  # pragma: no cover
    main()
