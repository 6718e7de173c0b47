"""End to end: the ``rotation`` command from process start to files written, against the issue's
targets and, for OR-Library, against a whole scipy process on the same file.

    python -m bench.e2e [--repeats 3] [--only hai_duong,national_2025,...] [--baseline DIR]

Each case is a dataset folder (CSV) and a rules file under ``bench/.cache/e2e``; each run is a
fresh process measured with ``os.wait4`` (wall seconds, peak RSS of that process), ``--quiet``
off and on, medians of ``--repeats``; with ``--baseline DIR`` (a checkout of the code before)
that code is measured in the same loop, run for run, as "before". One more run with ``ROTATION_PROFILE=1`` gives the phase
table (import, read, validate data, eligibility, LP, first plan, pruning, proof, explanations,
write); with a baseline, the plans of those runs are compared (plan JSON byte for byte, and
with ``--check-workbooks`` the workbooks cell by cell). Results: ``bench/results/e2e.json`` and the markdown in ``bench/results/e2e.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache" / "e2e"
RESULTS = HERE / "results"
ORLIB_CASES = ["assignp800", "assignp1500", "assignp3000", "assignp5000"]
CASES = ["hai_duong", "nghe_an_2pos", "national_2025", *ORLIB_CASES]
TARGETS = {
    "help": "≤ 0.2 s",
    "hai_duong": "≤ 0.6 s",
    "nghe_an_2pos": "– (phases only)",
    "national_2025": "≤ 3 s, ≤ 1 GiB",
    **{k: "≤ 2× scipy" for k in ORLIB_CASES},
}

SCIPY_SCRIPT = """
import sys
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
toks = open(sys.argv[1]).read().split()
n = int(toks[0])
v = np.array(toks[1:], dtype=np.int64).reshape(-1, 3)
m = csr_matrix((v[:, 2].astype(float), (v[:, 0] - 1, v[:, 1] - 1)), shape=(n, n))
r, c = min_weight_full_bipartite_matching(m)
print(int(m[r, c].sum()))
"""
"""A whole scipy process on the same OR-Library file: read, build the sparse matrix, match."""


def prepare(name: str) -> tuple[Path, Path]:
    """The case's dataset folder and rules file (built once, from bench.instances)."""
    folder = CACHE / name
    data_dir, rules_file = folder / "data", folder / "rules.yaml"
    if name == "hai_duong":
        return ROOT / "data" / "hai_duong", _rules_file(folder, {})
    if not (data_dir / "units.csv").is_file():
        from bench.instances import load
        from rotation.read import write_dataset

        data, _ = load(name)
        write_dataset(data, data_dir)
    if not rules_file.is_file():
        from bench.instances import load

        _, rules = load(name)
        _rules_file(folder, rules)
    return data_dir, rules_file


def _rules_file(folder: Path, rules: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / "rules.yaml"
    f.write_text(yaml.safe_dump(rules, allow_unicode=True))
    return f


TIME = Path("/usr/bin/time")
"""GNU time: the launcher, so the measured process is forked from a small one. Linux keeps the
larger of the old and new peak RSS across exec, so a process forked straight from this
benchmark (pandas loaded: 200 MiB) would report at least this benchmark's size."""


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """One process: wall seconds, peak RSS (MiB), CPU seconds, exit code, stderr."""
    import resource

    launcher = [str(TIME), "-f", "@@rusage %M %U %S"] if TIME.exists() else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(
        [*launcher, *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(env),
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    err = p.stderr
    lines = err.splitlines()
    usage = [x for x in lines if x.startswith("@@rusage ")]
    if usage:
        kib, user, system = usage[-1].split()[1:4]
        peak_mib, cpu = int(kib) / 1024, float(user) + float(system)
        err = "\n".join(x for x in lines if not x.startswith("@@rusage "))
    else:  # no GNU time: children's rusage (the peak then includes this benchmark, see TIME)
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mib = ru.ru_maxrss / 1024
        cpu = ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime
    return {
        "s": round(wall, 3),
        "peak_mib": round(peak_mib, 1),
        "cpu_s": round(cpu, 3),
        "rc": p.returncode,
        "stderr": err,
    }


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The measured process's environment: this one, without ``PYTHONDONTWRITEBYTECODE``. An
    installed package has its modules compiled (pip writes the bytecode); with that variable
    set, as in some shells here, every run recompiles each module of the tree measured
    (≈ 0.1–0.15 s of ``rotation``'s own modules), which no user pays. :func:`warm_up` runs a
    command once, unmeasured, so that the bytecode exists before the measured runs."""
    env = {**os.environ, **(extra or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_up(cmd: list[str], env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` once, unmeasured: bytecode written, files in the page cache."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(env))


def rotation_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "rotation"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "rotation"]


def parse_profile(stderr: str) -> list[dict]:
    """The phase table printed by ``ROTATION_PROFILE=1`` (rotation.profile.format_table):
    phase, seconds, share, runs, cpu s, peak MiB; ``other`` has no runs nor peak, ``total`` no
    share nor runs."""
    lines = stderr.splitlines()
    start = next((i for i, x in enumerate(lines) if x.split()[:2] == ["phase", "seconds"]), None)
    if start is None:
        return []
    out = []
    for line in lines[start + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) < 2:
            continue
        row: dict = {"phase": cells[0], "s": float(cells[1])}
        if cells[0] == "total" and len(cells) >= 4:
            row["cpu_s"], row["peak_mib"] = float(cells[2]), float(cells[3])
        elif cells[0] == "total" and len(cells) == 3:  # before the cpu column
            row["peak_mib"] = float(cells[2])
        elif cells[0] == "other" and len(cells) >= 4:
            row["cpu_s"] = float(cells[3])
        elif len(cells) >= 6:
            row["cpu_s"], row["peak_mib"] = float(cells[4]), float(cells[5])
        elif len(cells) == 5:  # before the cpu column: phase, seconds, share, runs, peak
            row["peak_mib"] = float(cells[4])
        out.append(row)
    return out


def _median(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["rc"] == 0]
    use = ok or runs
    return {
        "median_s": statistics.median(r["s"] for r in use),
        "runs_s": [r["s"] for r in runs],
        "median_cpu_s": statistics.median(r["cpu_s"] for r in use),
        "peak_mib": max(r["peak_mib"] for r in use),
        "rc": sorted({r["rc"] for r in runs}),
    }


def _trees(baseline: Path | None, after: Path | None = None) -> dict[str, str]:
    """The code trees measured: ``after`` (this one, or ``--after DIR``: a snapshot, so that
    editing this tree during a long run changes nothing) and, with ``--baseline``, ``before``
    (a checkout of the code to compare with, e.g. ``git archive main | tar -x -C DIR``). The
    ``rotation`` script of this interpreter imports whichever tree PYTHONPATH names."""
    trees = {"after": str((after or ROOT).resolve())}
    if baseline is not None:
        trees["before"] = str(baseline.resolve())
    return trees


def workbook_differences(a: Path, b: Path) -> dict:
    """Two workbooks compared cell by cell as openpyxl reads them: sheet names, each cell's
    value and type, number format, bold, font size and colour, fill, wrap and alignment, quote
    prefix; column widths (a ``<col>`` element may span several columns), frozen panes, auto
    filter. Returns the number of cells and of differences, with the first few named."""
    import openpyxl

    def rgb(color: object) -> str | None:
        v = getattr(color, "rgb", None)
        return v[-6:] if isinstance(v, str) else None  # the alpha byte differs between writers

    def key(c: Any) -> tuple:
        f, fill, al = c.font, c.fill, c.alignment
        v = c.value
        return (
            v,
            c.data_type if v is not None else None,
            c.number_format,
            bool(f.b),
            rgb(f.color),
            f.sz or 11.0,
            fill.fill_type,
            rgb(fill.fgColor) if fill.fill_type else None,
            bool(al.wrap_text),
            al.vertical,
            al.horizontal,
            bool(c.quotePrefix),
        )

    def widths(ws: Any) -> dict[int, float]:
        dims = ws.column_dimensions.values()
        return {i: d.width for d in dims if d.customWidth for i in range(d.min, d.max + 1)}

    wa, wb = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    diffs: list[str] = []
    cells = 0
    if wa.sheetnames != wb.sheetnames:
        diffs.append(f"sheets {wa.sheetnames} vs {wb.sheetnames}")
    for name in [n for n in wa.sheetnames if n in wb.sheetnames]:
        x, y = wa[name], wb[name]
        for what, u, v in (
            ("frozen panes", x.freeze_panes, y.freeze_panes),
            ("auto filter", x.auto_filter.ref, y.auto_filter.ref),
            ("widths", widths(x), widths(y)),
            ("size", x.dimensions, y.dimensions),
        ):
            if u != v:
                diffs.append(f"{name}: {what} {u} vs {v}")
        for rx, ry in zip(x.iter_rows(), y.iter_rows(), strict=False):
            cx, cy = {c.column: c for c in rx}, {c.column: c for c in ry}
            for col in sorted(set(cx) | set(cy)):
                cells += 1
                kx = key(cx[col]) if col in cx else None
                ky = key(cy[col]) if col in cy else None
                if kx != ky:
                    diffs.append(f"{name}!{(cx.get(col) or cy[col]).coordinate}: {kx} vs {ky}")
    return {"cells": cells, "differences": len(diffs), "first": diffs[:5]}


def case(name: str, repeats: int, trees: dict[str, str], check_workbooks: bool = False) -> dict:
    """One case, every tree measured in the same loop (run k of each tree back to back), so
    before and after see the same load. With two trees, the plans of the profiled runs are
    compared: plan JSON byte for byte, and (``check_workbooks``) the workbooks cell by cell."""
    data_dir, rules = prepare(name)
    res: dict = {"case": name, "target": TARGETS[name]}
    base = [*rotation_cmd(), "plan", str(data_dir), "--rules", str(rules)]
    for path in trees.values():
        with tempfile.TemporaryDirectory() as out:
            warm_up([*base, "--out", out, "--quiet"], {"PYTHONPATH": path})
    for quiet in (False, True):
        runs: dict[str, list[dict]] = {tree: [] for tree in trees}
        for _ in range(repeats):
            for tree, path in trees.items():
                with tempfile.TemporaryDirectory() as out:
                    cmd = [*base, "--out", out] + (["--quiet"] if quiet else [])
                    runs[tree].append(timed(cmd, {"ROTATION_PROFILE": "0", "PYTHONPATH": path}))
        for tree in trees:
            res.setdefault(tree, {})["quiet" if quiet else "live"] = _median(runs[tree])
    with tempfile.TemporaryDirectory() as root:
        for tree, path in trees.items():
            cmd = [*base, "--out", f"{root}/{tree}", "--quiet"]
            prof = timed(cmd, {"ROTATION_PROFILE": "1", "PYTHONPATH": path})
            res[tree]["phases"] = parse_profile(prof["stderr"])
        if len(trees) == 2:
            j = [Path(root, tree, "plan-1.json") for tree in ("before", "after")]
            res["same_plan_json"] = all(f.is_file() for f in j) and j[0].read_bytes() == (
                j[1].read_bytes()
            )
            if check_workbooks:
                x = [Path(root, tree, "plan-1.xlsx") for tree in ("before", "after")]
                res["workbooks"] = workbook_differences(*x)
    if name in ORLIB_CASES:
        from bench.instances import ORLIB

        f = str(ORLIB / f"{name}.txt")
        runs_s = [timed([sys.executable, "-c", SCIPY_SCRIPT, f]) for _ in range(repeats)]
        res["scipy"] = _median(runs_s)
    return res


def help_case(repeats: int, trees: dict[str, str]) -> dict:
    res: dict = {"case": "help", "target": TARGETS["help"]}
    for path in trees.values():
        warm_up([*rotation_cmd(), "--help"], {"PYTHONPATH": path})
    for what, args in (("top", ["--help"]), ("plan", ["plan", "--help"])):
        runs: dict[str, list[dict]] = {tree: [] for tree in trees}
        for _ in range(repeats):
            for tree, path in trees.items():
                runs[tree].append(timed([*rotation_cmd(), *args], {"PYTHONPATH": path}))
        for tree in trees:
            res.setdefault(tree, {})[what] = _median(runs[tree])
    py = [timed([sys.executable, "-c", "pass"]) for _ in range(repeats)]
    res["python"] = _median(py)
    last = list(trees.values())[-1]
    for key, code in FLOORS.items():  # what a plan pays before any work
        runs = [timed([sys.executable, "-c", code], {"PYTHONPATH": last}) for _ in range(repeats)]
        res[key] = _median(runs)
    return res


FLOORS = {
    "numpy_pandas": "import os, numpy, pandas; os._exit(0)",
    "plan_imports": "import os, rotation.cli, rotation.read, rotation.rules, rotation.solve, "
    "rotation.export; os._exit(0)",
}
"""Import floors, timed with the ``help`` case (start-up and imports, without the interpreter's
exit): the data layer's libraries, and the modules ``rotation plan`` loads to plan (on the last
tree given)."""


def met(c: dict, tree: str = "after") -> bool | None:
    """The issue's target for a case, on the slower of live and --quiet (None: no target)."""
    if c["case"] not in TARGETS or TARGETS[c["case"]].startswith("–"):
        return None
    r = c[tree]
    s = max(r["live"]["median_s"], r["quiet"]["median_s"])
    if c["case"] == "hai_duong":
        return s <= 0.6
    if c["case"] == "national_2025":
        return s <= 3.0 and r["quiet"]["peak_mib"] <= 1024
    sc = c.get("scipy")
    return bool(sc) and s <= 2 * sc["median_s"]


def _yes(ok: bool | None) -> str:
    return "–" if ok is None else "yes" if ok else "**no**"


def _fmt(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def render(res: dict) -> str:
    trees = [t for t in ("before", "after") if t in res.get("trees", {"after": ""})]
    lines = [
        f"End to end, {res.get('date', '?')} ({res.get('load', '?')}; at the end: "
        f"{res.get('load_end', '?')}): process start → plan files written, median of "
        f"{res.get('repeats', '?')} runs each, {' and '.join(trees)} measured in the same loop "
        "(run k of each back to back). wall s = elapsed; cpu s = user + system of the process "
        "and its workers (GNU time), the better measure on this shared 2-core machine, where "
        "the other helpers' jobs make wall time several times the CPU time; peak = the "
        "largest RSS of the process or of one of its province workers.",
        "",
        "| case | target | tree | live s | --quiet s | cpu s (quiet) | peak MiB | scipy "
        "process s | ratio to scipy | met |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    h = res.get("help")
    if h:
        for tree in trees:
            top = h.get(tree, {}).get("top")
            if top:
                lines.append(
                    f"| `rotation --help` | {h['target']} | {tree} | {_fmt(top['median_s'])} | – | "
                    f"{_fmt(top['median_cpu_s'])} | {top['peak_mib']:.0f} | – | – | "
                    f"{_yes(top['median_s'] <= 0.2)} |"
                )
        for key, label in (
            ("python", "`python -c pass` (floor)"),
            ("numpy_pandas", "start-up + `import numpy, pandas` (floor)"),
            ("plan_imports", "start-up + the plan path's imports (floor)"),
        ):
            py = h.get(key)
            if py:
                lines.append(
                    f"| {label} | – | – | {_fmt(py['median_s'])} | – | "
                    f"{_fmt(py['median_cpu_s'])} | {py['peak_mib']:.0f} | – | – | – |"
                )
    for c in res.get("cases", []):
        sc = c.get("scipy")
        for tree in trees:
            if tree not in c:
                continue
            r = c[tree]
            ratio = f"{r['quiet']['median_s'] / sc['median_s']:.2f}×" if sc else "–"
            lines.append(
                f"| {c['case']} | {c['target']} | {tree} | {_fmt(r['live']['median_s'])} | "
                f"{_fmt(r['quiet']['median_s'])} | {_fmt(r['quiet']['median_cpu_s'])} | "
                f"{r['quiet']['peak_mib']:.0f} | {_fmt(sc['median_s'], 3) if sc else '–'} | "
                f"{ratio} | {_yes(met(c, tree))} |"
            )
    checked = [c for c in res.get("cases", []) if "same_plan_json" in c]
    if checked:
        lines += ["", "Plans of the profiled runs, before against after:", ""]
        for c in checked:
            line = f"- {c['case']}: plan JSON {'identical' if c['same_plan_json'] else 'DIFFERS'}"
            w = c.get("workbooks")
            if w:
                line += f"; workbooks cell by cell: {w['cells']:,} cells, {w['differences']} differ"
                line += "".join(f"; {d}" for d in w["first"])
            lines.append(line)
    for c in res.get("cases", []):
        have = [t for t in trees if c.get(t, {}).get("phases")]
        if not have:
            continue
        lines += [
            "",
            f"Phases, `ROTATION_PROFILE=1 rotation plan --quiet` on {c['case']} (one run each):",
            "",
        ]
        lines.append("| phase | " + " | ".join(f"{t} s | {t} cpu s | {t} peak MiB" for t in have))
        lines[-1] += " |"
        lines.append("|---|" + "---:|---:|---:|" * len(have))
        names = list(dict.fromkeys(p["phase"] for t in have for p in c[t]["phases"]))
        names = [n for n in names if n not in ("other", "total")] + ["other", "total"]
        for n in names:
            cells = []
            for t in have:
                p = next((x for x in c[t]["phases"] if x["phase"] == n), None)
                if p is None:
                    cells.append("– | – | –")
                else:
                    peak = p.get("peak_mib")
                    cells.append(
                        f"{p['s']:.3f} | {_fmt(p.get('cpu_s'), 3)} | "
                        f"{'–' if peak is None else peak}"
                    )
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.e2e")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", help="comma-separated cases (help, " + ", ".join(CASES) + ")")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of the code to compare with, measured side by side as 'before'",
    )
    ap.add_argument("--after", type=Path, help="the code measured as 'after' (default: here)")
    ap.add_argument(
        "--check-workbooks",
        action="store_true",
        help="with --baseline: compare the two trees' workbooks cell by cell (openpyxl, slow)",
    )
    ap.add_argument(
        "--tag", default="", help="results under bench/results/e2e-TAG.json/.md (runs apart)"
    )
    a = ap.parse_args(argv)
    stem = f"e2e-{a.tag}" if a.tag else "e2e"
    wanted = a.only.split(",") if a.only else ["help", *CASES]
    trees = _trees(a.baseline, a.after)
    RESULTS.mkdir(exist_ok=True)
    store = RESULTS / f"{stem}.json"
    res = json.loads(store.read_text()) if store.exists() else {}
    if res.get("trees") != trees:  # another comparison: start afresh
        res = {}
    res.update(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        repeats=a.repeats,
        load=_load() + " at start",
        trees=trees,
    )
    if "help" in wanted:
        res["help"] = help_case(a.repeats, trees)
        print("help", {t: res["help"][t]["top"]["median_s"] for t in trees}, flush=True)
    cases = {c["case"]: c for c in res.get("cases", [])}
    for name in [w for w in wanted if w in CASES]:
        cases[name] = case(name, a.repeats, trees, a.check_workbooks)
        print(name, {t: cases[name][t]["quiet"]["median_s"] for t in trees}, _load(), flush=True)
    res["cases"] = [cases[n] for n in CASES if n in cases]
    res["load_end"] = _load()
    store.write_text(json.dumps(res, indent=1))
    md = render(res)
    (RESULTS / f"{stem}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
