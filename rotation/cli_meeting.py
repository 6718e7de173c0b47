"""``rotation report`` and ``rotation compare`` (contract §4.1): the committee's documents from
the command line. :func:`register` adds both commands to the main typer app (rotation.cli).

Exit codes as in rotation.cli: 0 written; 2 bad input (data, rules, plan file, output suffix,
language, plans of different datasets), one line per problem and no traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .cli_common import DataArg, RulesOpt, _BadInput, _errors, _read, _rules, console
from .i18n import DEFAULT_LANG, LANGUAGES, Translator, UnknownLanguage, translator

if (
    TYPE_CHECKING
):  # compare, plan, rules (openpyxl, pandas, pydantic) and rich load when a command runs
    from rich.table import Table

    from .compare import Comparison
    from .plan import Plan
    from .rules import Rules

LangOpt = Annotated[
    str, typer.Option("--lang", help=f"language of the document: {' | '.join(LANGUAGES)}")
]
TERMINAL_DIFF_ROWS = 30
"""Posts that differ shown in the terminal; the workbook lists every one."""


def _lang(lang: str) -> Translator:
    try:
        return translator(lang)
    except UnknownLanguage as exc:
        raise _BadInput([f"--lang: {exc}"]) from None


def _load_plan(path: Path) -> Plan:
    from .plan import Plan

    if not path.is_file():
        raise _BadInput([f"{path}: no such file"])
    try:
        return Plan.from_json(path)
    except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError
        first = str(exc).splitlines()
        raise _BadInput([f"{path}: not a valid plan: {' '.join(first[:3])}"]) from None


def _rules_for(rules_path: Path | None, plan: Plan, plan_path: Path) -> Rules:
    """--rules when given, else the rules the plan carries, else the documented defaults."""
    from .compare import plan_rules
    from .rules import RulesError, load_rules

    if rules_path is not None:
        return _rules(rules_path)
    carried = plan_rules(plan)
    if carried is None:
        return _rules(None)
    try:
        return load_rules(carried)
    except RulesError as exc:
        raise RulesError(exc.messages, f"{plan_path} (its rules)") from None


def report(
    data_path: DataArg,
    plan_path: Annotated[Path, typer.Option("--plan", help="plan JSON (rotation plan)")],
    out: Annotated[Path, typer.Option("--out", help="report.docx or report.pdf")],
    rules_path: RulesOpt = None,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """The meeting report (.docx or .pdf): summary, chart, map, changes, scenario, diagnosis."""
    from rich.table import Table

    from .compare import PlanMismatch, check_same_dataset
    from .meeting import SUFFIXES, write_report

    with _errors():
        t = _lang(lang)
        if out.suffix.lower() not in SUFFIXES:
            raise _BadInput([f"--out {out}: the report must end in .docx or .pdf"])
        data = _read(data_path)
        plan = _load_plan(plan_path)
        rules = _rules_for(rules_path, plan, plan_path)
        try:
            check_same_dataset(data, [plan], [str(plan_path)])
        except PlanMismatch as exc:
            raise _BadInput(str(exc).splitlines()) from None
        files = write_report(data, rules, plan, out, lang=t.lang)
    table = Table(title=files.title, title_justify="left", show_header=False)
    table.add_column(t._("Measure"))
    table.add_column(t._("Value"), justify="right")
    for label, value in files.summary:
        table.add_row(label, value)
    console.print(table)
    written = [p for p in (files.report, files.chart, files.map) if p is not None]
    console.print(
        t._("Wrote {files}").format(files=", ".join(str(p) for p in written)),
        markup=False,
        soft_wrap=True,
    )


def compare(
    plan_paths: Annotated[
        list[Path], typer.Argument(metavar="PLAN.json...", help="two or more plans")
    ],
    data_path: Annotated[Path, typer.Option("--data", help="the dataset the plans were made on")],
    out: Annotated[Path, typer.Option("--out", help="compare.xlsx")],
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Plans side by side: KPIs, scenario differences, every post whose holder differs."""
    from .compare import PlanMismatch, compare_plans, write_compare_xlsx

    with _errors():
        t = _lang(lang)
        if len(plan_paths) < 2:
            raise _BadInput(["compare needs at least two plans"])
        if out.suffix.lower() != ".xlsx":
            raise _BadInput([f"--out {out}: the comparison is written as .xlsx"])
        data = _read(data_path)
        plans = [_load_plan(p) for p in plan_paths]
        names = _names(plan_paths)
        try:
            comparison = compare_plans(data, plans, names)
        except PlanMismatch as exc:
            raise _BadInput(str(exc).splitlines()) from None
        write_compare_xlsx(comparison, out, lang=t.lang)
    for table in compare_rich(comparison, t):
        console.print(table)
    console.print(t._("Wrote {files}").format(files=out), markup=False, soft_wrap=True)


def _names(paths: list[Path]) -> list[str]:
    """Column names: the file stems, or the paths when two stems are the same."""
    stems = [p.stem for p in paths]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in paths]


def compare_rich(c: Comparison, t: Translator) -> list[Table]:
    """The terminal summary: KPIs, scenario differences, the posts that differ."""
    from rich.table import Table

    from .compare import format_kpi, format_setting, holder_text, kpi_label, setting_label

    kpis = Table(title=t._("KPIs"), title_justify="left")
    kpis.add_column(t._("Measure"))
    for n in c.names:
        kpis.add_column(n, justify="right")
    kpis.add_row(t.kpi("status"), *[t.status(s) for s in c.statuses])
    for row in c.kpis:
        kpis.add_row(kpi_label(t, row), *[format_kpi(t, row.kind, v) for v in row.values])
    tables = [kpis]
    if c.scenario:
        sc = Table(title=t._("Scenario"), title_justify="left")
        sc.add_column(t._("Rule"))
        for n in c.names:
            sc.add_column(n)
        for srow in c.scenario:
            sc.add_row(
                setting_label(t, srow.key), *[format_setting(t, srow.key, v) for v in srow.values]
            )
        tables.append(sc)
    diff = Table(
        title=t.ngettext(
            "{n} post whose holder differs", "{n} posts whose holder differs", len(c.differences)
        ).format(n=len(c.differences)),
        title_justify="left",
    )
    diff.add_column(t._("Unit"))
    for n in c.names:
        diff.add_column(n)
    for d in c.differences[:TERMINAL_DIFF_ROWS]:
        diff.add_row(d.unit_name, *[holder_text(h, t) for h in d.holders])
    if len(c.differences) > TERMINAL_DIFF_ROWS:
        diff.caption = t._("… and {n} more in the workbook").format(
            n=len(c.differences) - TERMINAL_DIFF_ROWS
        )
    tables.append(diff)
    return tables


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``compare`` to ``app`` (rotation.cli calls this once)."""
    app.command("report")(report)
    app.command("compare")(compare)
