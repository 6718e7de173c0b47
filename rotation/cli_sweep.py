"""``rotation sweep`` (contract §4.1, issue 16): rule variants solved as tasks of a Dask cluster.
:func:`register` adds the command to the main typer app (rotation.cli).

Exit codes: 0 every variant ran (a plan or an infeasible plan with its diagnosis); 1 some variant
failed with an error after its retries (kept in the table with the error); 2 bad input (data,
rules, a bad key or value in a variant, an unreachable ``--address``), one line per problem,
before anything runs.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .cli_common import DataArg, RulesOpt, _BadInput, _errors, _read, _rules, console
from .i18n import DEFAULT_LANG, LANGUAGES, UnknownLanguage, translator

if TYPE_CHECKING:  # the sweep engine (pandas, pydantic, Dask) and rich load when a sweep runs
    from rich.table import Table
    from rich.text import Text

    from .sweep import Engine, Sweep, SweepProgress

ADDRESS_ENV = "ROTATION_SWEEP_ADDRESS"  # the same name as rotation.sweep.ADDRESS_ENV (tested)


TERMINAL_KPIS = ("non_local_share.overall", "changed_posts", "total_travel_km", "support_cost_vnd")
"""The KPIs of the terminal table (when the plans carry them); the workbook has every one."""


class _SweepLine:
    """The live line: done / running / failed of total, elapsed, ETA."""

    def __init__(self) -> None:
        self.last: SweepProgress | None = None
        self.lock = threading.Lock()

    def update(self, event: SweepProgress) -> None:
        with self.lock:
            self.last = event

    def __rich__(self) -> Text:
        from rich.text import Text

        with self.lock:
            e = self.last
        if e is None:
            return Text("sweep: starting the cluster…", style="cyan")
        eta = "–" if e.eta_s is None else f"{e.eta_s:.0f} s"
        return Text(
            f"sweep: {e.done}/{e.total} done, {e.running} running, {e.failed} failed"
            f"  {e.elapsed_s:.1f} s  ETA {eta}",
            style="red" if e.failed else "cyan",
        )


def sweep(
    data_path: DataArg,
    out: Annotated[Path, typer.Option("--out", help="folder for sweep.json, sweep.xlsx, plans/")],
    rules_path: RulesOpt = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="KEY=V1,V2,… (a rules path: non_local_targets[0].min_share, max_changes.count, "
            "weights.change, budget_vnd; none = null); repeat for a grid",
        ),
    ] = None,
    variants_file: Annotated[
        Path | None,
        typer.Option("--variants", help="YAML/JSON: vary: {KEY: [V, …]} or variants: [{KEY: V}]"),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help=f"Dask scheduler, e.g. tcp://head:8786 (default: ${ADDRESS_ENV}, else a local "
            "cluster)",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help="local cluster size (default: one per core; 0 = no cluster)"
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help=f"language of the workbook: {' | '.join(LANGUAGES)}")
    ] = DEFAULT_LANG,
    quiet: Annotated[bool, typer.Option("--quiet", help="no live progress line")] = False,
) -> None:
    """Scenario sweep: every variant of the rules solved exactly; one table, frontier plots."""
    from rich.live import Live

    from .sweep import (
        DaskEngine,
        SerialEngine,
        SweepError,
        build_variants,
        parse_vary,
        run_sweep,
        variants_of,
        write_sweep,
    )

    with _errors():
        try:
            t = translator(lang)
        except UnknownLanguage as exc:
            raise _BadInput([f"--lang: {exc}"]) from None
        if workers is not None and workers < 0:
            raise _BadInput([f"--workers {workers}: must be 0 or more"])
        try:
            axes = [parse_vary(v) for v in vary or []]
            variants = variants_of(axes, variants_file)
            base = _rules(rules_path)
            build_variants(base, variants)  # every variant's rules, before anything runs
        except SweepError as exc:
            raise _BadInput(exc.messages) from None
        data = _read(data_path)
        engine: Engine = (
            SerialEngine() if workers == 0 and not address else DaskEngine(address, workers)
        )
        line = _SweepLine()
        try:
            if quiet or not console.is_terminal:
                result = run_sweep(data, base, variants, engine, None if quiet else line.update)
                if not quiet:
                    console.print(line)
            else:
                with Live(line, console=console, refresh_per_second=4, transient=False):
                    result = run_sweep(data, base, variants, engine, line.update)
        except SweepError as exc:
            raise _BadInput(exc.messages) from None
        written = write_sweep(result, out, lang=t.lang)
    console.print(sweep_rich(result, t.lang, console.width))
    for f in result.frontiers:
        if f.skipped:
            console.print(f"frontier {f.name}: not drawn ({f.skipped})", markup=False)
    console.print(
        f"Wrote {out / 'sweep.json'}, {out / 'sweep.xlsx'}, "
        f"{sum(1 for p in written if p.parent.name == 'plans')} plans in {out / 'plans'}"
        + "".join(f", {out / f.file}" for f in result.frontiers if f.file),
        markup=False,
        soft_wrap=True,
    )
    if any(r.status == "error" for r in result.results):
        raise typer.Exit(1)


TERMINAL_HEADERS = {
    "non_local_share.overall": "non-local",
    "changed_posts": "changed",
    "total_travel_km": "km",
    "support_cost_vnd": "support",
}


def sweep_rich(result: Sweep, lang: str = DEFAULT_LANG, width: int = 100) -> Table:
    """One line per variant: the varied values, status, main KPIs, then which frontiers it is
    dominated on or the rules that block it, cut to fit ``width`` (the workbook has every KPI
    and the full text)."""
    from rich import box
    from rich.table import Table

    t = translator(lang)
    short = _short_keys(result.keys)
    legend = ", ".join(f"{h} = {k}" for h, k in zip(short, result.keys, strict=True) if h != k)
    table = Table(
        title="Sweep" + (f" ({legend})" if legend else ""),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    rows = []
    kpis = [k for k in TERMINAL_KPIS if any(k in r.kpis for r in result.results)]
    for r in result.results:
        values = [
            "none" if r.variant.values.get(k) is None else str(r.variant.values[k])
            for k in result.keys
        ]
        cells = []
        for k in kpis:
            v = r.kpis.get(k)
            if v is None:
                cells.append("–")
            elif k == "non_local_share.overall":
                cells.append(t.percent(v))
            else:
                cells.append(t.number(v))
        if r.feasible:
            note = ", ".join(n for n, d in r.dominated.items() if d)
        else:
            note = r.outcome.error or "; ".join(f"{d['rule']} ({d['scope']})" for d in r.diagnosis)
        style = "red" if r.status == "error" else ("yellow" if not r.feasible else None)
        rows.append(([r.id, *values, r.status, *cells], note, style))
    headers = ["variant", *short, "status", *(TERMINAL_HEADERS[k] for k in kpis)]
    used = 0
    for j, h in enumerate(headers):  # every value column as wide as its widest cell
        w = max([len(row[0][j]) for row in rows] + [len(h)])
        used += w + 3
        table.add_column(h, justify="left" if j == 0 else "right", min_width=w, no_wrap=True)
    room = max(12, width - used - 2)
    table.add_column("dominated / blocking", no_wrap=True)
    for cells_, note, style in rows:
        table.add_row(*cells_, note if len(note) <= room else note[: room - 1] + "…", style=style)
    return table


def _short_keys(keys: list[str]) -> list[str]:
    """Column headers: each key's last name (``min_share``), the full key when two clash."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return [s if last.count(s) == 1 else k for s, k in zip(last, keys, strict=True)]


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to ``app`` (rotation.cli calls this once)."""
    app.command("sweep")(sweep)
