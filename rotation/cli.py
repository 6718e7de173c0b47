"""``rotation`` on the command line (contract §4), with typer and rich.

Exit codes: 0 success; 1 ``validate`` found violations; 2 bad input
(data, rules, plan file, province name: one clear line per problem, never a traceback); 3 no plan
exists (``plan``/``demo``: the diagnosis is printed and written as ``plan-1.json``).
"""

from __future__ import annotations

import math
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .atomic import write_atomic
from .cli_common import DataArg, RulesOpt, _BadInput, _errors, _read, _rules, console, err
from .rules import Rules

if TYPE_CHECKING:
    from .solve import ProgressEvent

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Plan cadre rotations so communes get non-local leaders, within every rule.",
)

DEMO_DATA = Path(__file__).resolve().parents[1] / "data" / "hai_duong"
DEMO_OUT = Path("out") / "demo"
DEMO_TIME_LIMIT_S = 60.0


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


def status_rich(table: pd.DataFrame, title: str = "Where we stand") -> Table:
    """The status table as a rich Table (non-local holders as 'k/n')."""
    multi = table["position"].nunique() > 1 if len(table) else False
    t = Table(title=title, title_justify="left")
    if multi:
        t.add_column("position")
    t.add_column("unit", no_wrap=True)
    t.add_column("non-local", justify="right")
    t.add_column("share", justify="right")
    t.add_column("target", justify="right")
    t.add_column("required", justify="right")
    t.add_column("shortfall", justify="right")
    for r in table.itertuples(index=False):
        cells = [
            r.scope_name,
            f"{r.non_local}/{r.posts}",
            _pct(r.share),
            _pct(r.target_share),
            str(r.required),
            str(r.shortfall),
        ]
        short = r.shortfall > 0 and not r.is_total
        style = "bold" if r.is_total else ("red" if short else None)
        t.add_row(
            *([r.position] if multi else []), *cells, style=style, end_section=bool(r.is_total)
        )
    return t


def before_after_rich(table: pd.DataFrame, title: str = "Before / after") -> Table:
    """Before → after per scope: non-local holders, share, target, changed posts."""
    multi = table["position"].nunique() > 1 if len(table) else False
    t = Table(title=title, title_justify="left")
    if multi:
        t.add_column("position")
    t.add_column("unit", no_wrap=True)
    t.add_column("posts", justify="right")
    t.add_column("non-local", justify="right", no_wrap=True)
    t.add_column("share", justify="right", no_wrap=True)
    t.add_column("target", justify="right")
    t.add_column("changes", justify="right")
    for r in table.itertuples(index=False):
        no_after = isinstance(r.non_local_after, float) and math.isnan(r.non_local_after)
        after = "–" if no_after else str(int(r.non_local_after))
        t.add_row(
            *([r.position] if multi else []),
            r.scope_name,
            str(r.posts),
            f"{r.non_local_before} → {after}",
            f"{_pct(r.share_before)} → {_pct(r.share_after)}",
            _pct(r.target_share),
            "–" if no_after else str(int(r.changes)),
            style="bold" if r.is_total else None,
            end_section=bool(r.is_total),
        )
    return t


def _empty_kpis() -> Any:
    from .plan import Kpis

    return Kpis()


def kpi_rich(plan, stats: dict[str, Any] | None = None, title: str = "Plan 1: KPIs") -> Table:
    from .plan import Kpis

    k = plan.kpis if plan.kpis is not None else Kpis()  # only feasible plans reach here
    share = k.non_local_share
    posts = share.posts if share.posts is not None else len(plan.assignments)
    nl = share.non_local_posts
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column("measure")
    t.add_column("value", justify="right")
    solver = (plan.model_extra or {}).get("solver") or {}
    rows = [
        ("status", plan.status),
        ("objective", _num(plan.objective, 3)),
        ("bound", _num(plan.bound, 3)),
        ("gap", _pct(solver.get("gap")) if "gap" in solver else "–"),
        ("posts", _num(posts)),
        ("non-local holders", f"{nl}/{posts}" if nl is not None else "–"),
        ("non-local share", _pct(k.non_local_share.overall)),
        ("changed posts", _num(k.changed_posts)),
        ("released incumbents", _num(len(plan.released))),
        ("total travel", f"{k.total_travel_km:,.1f} km"),
        ("longest travel", f"{k.max_travel_km:,.1f} km"),
    ]
    if k.support_cost_vnd is not None:
        rows.append(("support cost", f"{k.support_cost_vnd:,} VND"))
    na = k.new_appointees
    if na is not None:
        rows.append(
            (
                "new appointees",
                f"{na.count} (women {na.women}, young {na.young}, minority {na.minority})",
            )
        )
    if k.preferences is not None and k.preferences.with_wishes:
        pk = k.preferences
        rows.append(
            (
                "wishes met",
                f"{pk.placed_in_wish}/{pk.with_wishes} (first choice {pk.placed_first_choice})",
            )
        )
    if stats and "total_s" in stats:
        rows.append(("time", f"{stats['total_s']:.1f} s"))
    for name, value in rows:
        t.add_row(name, value)
    return t


def candidates_rich(plans: list) -> Table:
    from .report import candidates_table

    df = candidates_table(plans)
    t = Table(title="Candidate plans", title_justify="left")
    for col in (
        "plan",
        "objective",
        "non-local share",
        "changed posts",
        "total km",
        "max km",
        "posts differing from plan 1",
    ):
        t.add_column(col, justify="right")
    for r in df.itertuples(index=False):
        t.add_row(
            str(r.plan),
            _num(r.objective, 3),
            _pct(r.non_local_share),
            str(r.changed_posts),
            _num(r.total_travel_km),
            _num(r.max_travel_km),
            str(r.differs_from_plan_1),
        )
    return t


def diagnosis_rich(items: list) -> Table:
    t = Table(
        title="No plan satisfies every rule. Diagnosis:",
        title_justify="left",
        title_style="bold red",
    )
    t.add_column("rule")
    t.add_column("scope")
    t.add_column("detail")
    for d in items:
        t.add_row(d.rule, d.scope, d.detail)
    return t


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
    from .solve import solve

    if quiet:
        return solve(data, rules)
    line = _ProgressLine()
    if not console.is_terminal:  # a log or a pipe: one line at the end, no animation
        result = solve(data, rules, progress=line.update)
        console.print(line)
        return result
    with Live(line, console=console, refresh_per_second=4, transient=False):
        result = solve(data, rules, progress=line.update)
    return result


# =========================================================================== plan writing
def _write_plans(data, rules: Rules, result, out: Path) -> list[Path]:
    """plan-1.json … plan-K.json and the matching .xlsx; stale plan-N files beyond K removed."""
    from .export import write_plan_xlsx

    out.mkdir(parents=True, exist_ok=True)
    plans = result.plans or [result.plan]
    written: list[Path] = []
    for k, plan in enumerate(plans, start=1):
        j = out / f"plan-{k}.json"
        x = out / f"plan-{k}.xlsx"
        plan.to_json(j)
        write_plan_xlsx(data, rules, plan, x)
        written += [j, x]
    for old in list(out.glob("plan-*.json")) + list(out.glob("plan-*.xlsx")):
        n = old.stem.removeprefix("plan-")
        if n.isdigit() and int(n) > len(plans):
            old.unlink()
    return written


def _plan_and_report(data, rules: Rules, out: Path, quiet: bool) -> int:
    """Solve, write, print; returns the exit code (0 plan found, 3 none)."""
    from .report import before_after_table

    result = _solve(data, rules, quiet)
    written = _write_plans(data, rules, result, out)
    if not result.plans:
        console.print(diagnosis_rich(result.plan.diagnosis))
        console.print(f"Diagnosis written to {out / 'plan-1.json'}", markup=False)
        return 3
    plan = result.plans[0]
    console.print(kpi_rich(plan, result.stats))
    if len(result.plans) > 1:
        console.print(candidates_rich(result.plans))
    console.print(
        before_after_rich(before_after_table(data, rules, plan), title="Plan 1: before / after")
    )
    console.print(f"Wrote {', '.join(str(p) for p in written)}", markup=False, soft_wrap=True)
    return 0


# =========================================================================== commands
@app.command()
def status(data_path: DataArg, rules_path: RulesOpt = None) -> None:
    """Where we stand: non-local holders per scope, tenure alerts, the eligible pool."""
    with _errors():
        data = _read(data_path)
        rules = _rules(rules_path)
        _print_status(data, rules)


def _print_status(data, rules: Rules, details: bool = True) -> None:
    from .report import pool_summary, status_table, tenure_alerts

    console.print(
        status_rich(status_table(data, rules), title=f"Where we stand ({data.name}, {rules.as_of})")
    )
    if not details:
        return
    alerts = tenure_alerts(data, rules)
    limit = rules.max_years_in_post
    if limit is None:
        console.print("No maximum tenure (max_years_in_post is off).")
    else:
        console.print(
            f"Tenure alerts: {len(alerts)} incumbent(s) at or over {limit:g} years "
            "in post (they must leave)."
        )
        if len(alerts):
            t = Table(title_justify="left")
            for col in ("post", "unit", "cadre", "years"):
                t.add_column(col, justify="right" if col == "years" else "left")
            for r in alerts.head(10).itertuples(index=False):
                t.add_row(r.post_id, r.unit_name, r.cadre_name, f"{r.years:.1f}")
            if len(alerts) > 10:
                t.add_row("…", f"{len(alerts) - 10} more", "", "")
            console.print(t)
    pool = pool_summary(data, rules)
    t = Table(title="Eligible pool", title_justify="left")
    t.add_column("")
    t.add_column("count", justify="right")
    t.add_column("meaning")
    for item, r in pool.iterrows():
        if item not in ("cadres", "free", "pairs", "new_post_pairs") and r["count"] == 0:
            continue
        label = (
            item if item in ("cadres", "free", "pairs", "new_post_pairs") else f"blocked: {item}"
        )
        t.add_row(str(label), f"{int(r['count']):,}", str(r["meaning"]))
    console.print(t)


@app.command()
def plan(
    data_path: DataArg,
    out: Annotated[Path, typer.Option("--out", help="folder for plan-K.json / plan-K.xlsx")],
    rules_path: RulesOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no live progress line")] = False,
) -> None:
    """Solve: write DIR/plan-1.json … plan-K.json and .xlsx; exit 3 with a diagnosis if none."""
    with _errors():
        data = _read(data_path)
        rules = _rules(rules_path)
    code = _plan_and_report(data, rules, out, quiet)
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
) -> None:
    """Plan the whole term round by round (rules `horizon`): write DIR/roadmap.json and
    DIR/roadmap.xlsx; exit 3 with a diagnosis when no roadmap exists. With --previous, re-plan
    the remaining rounds keeping as much of the earlier roadmap as possible."""
    import functools
    import json

    from .atomic import write_atomic
    from .roadmap.export import write_roadmap_xlsx
    from .roadmap.model import solve_roadmap
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
    console.print(f"Wrote {out / 'roadmap.json'}, {out / 'roadmap.xlsx'}", markup=False)


def roadmap_rich(data, rules: Rules, doc: dict[str, Any]) -> Table:
    """Per round: non-local share overall, changed posts, total km, and the scope furthest from
    its target (lowest share minus target share) against that target."""
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
def demo(
    rules_path: RulesOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no live progress line")] = False,
) -> None:
    """The bundled Hai Duong scenario end to end: status, plan, before/after, KPIs."""
    with _errors():
        if not (DEMO_DATA / "units.csv").is_file():
            raise _BadInput([f"{DEMO_DATA}: bundled demo data not found (run from the repository)"])
        data = _read(DEMO_DATA)
        rules = _rules(rules_path, time_limit_s=DEMO_TIME_LIMIT_S)
    console.print(
        f"[bold]Demo:[/] {DEMO_DATA} (synthetic roster, real units), rules: "
        f"{rules_path or f'defaults with time_limit_s {DEMO_TIME_LIMIT_S:g}'}",
        soft_wrap=True,
    )
    _print_status(data, rules, details=False)
    code = _plan_and_report(data, rules, DEMO_OUT, quiet)
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


def main() -> None:
    """Entry point of the ``rotation`` script: the library's commands plus those registered by
    installed packages (``rotation serve``, ``rotation worker``, ``rotation keys``)."""
    load_plugins()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
