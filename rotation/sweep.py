"""Scenario sweeps (issue 16, contract §4.1): many rule variants of one dataset, each solved
exactly, as tasks of a Dask distributed cluster, with one table and frontier plots at the end.

Steps, one function each:

- **variants** — :func:`parse_vary` reads ``KEY=V1,V2,…``; :func:`grid` takes the product of the
  axes; :func:`read_variants_file` reads a grid (``vary: {KEY: [V, …]}``) or a list of variants
  (``variants: [{KEY: V, …}, …]``) from YAML/JSON. Keys are generic paths into the rules, in the
  rules' own names: ``non_local_targets[0].min_share``, ``max_changes.count``, ``weights.change``,
  ``budget_vnd``. Values are YAML scalars (``0.3``, ``4``, ``none``, ``true``).
- **rules** — :func:`variant_rules` sets each path into the *effective* base rules (defaults
  filled in, so ``weights.change`` keeps every other weight) and builds :class:`Rules`;
  :func:`build_variants` does it for every variant before anything runs and raises
  :class:`SweepError` naming each bad key or value. A name segment on a one-element list goes into
  that element (``max_changes.count`` when ``max_changes`` is a list of one cap); ``none`` on a
  key whose own value may not be null switches its parent off when that may be null
  (``max_changes.count=none`` → no cap).
- **engine** — :class:`DaskEngine` runs :func:`solve_variant` per variant on a local cluster
  (default: one single-threaded worker process per core) or on the cluster at ``address``
  (option ``--address`` or :data:`ADDRESS_ENV`). The dataset is sent once (a task of its own, so
  a lost copy is recomputed), each variant is one task with ``retries``; a task whose worker is
  killed is rescheduled by the scheduler. :class:`SerialEngine` is the plain loop (benchmarks).
  Progress (:class:`SweepProgress`: done, running, failed, ETA) goes to a callback.
- **results** — :func:`run_sweep` returns a :class:`Sweep`; :func:`write_sweep` writes
  ``sweep.json`` (contract §4.1 plus ids, objective, diagnosis, dominance), ``plans/<id>.json``
  (ordinary plans, each carrying its ``rules``), ``sweep.xlsx`` (one row per variant, Vietnamese
  by default) and the frontier PNGs.

Reproducible: a variant's plan depends only on the data and its rules (same ``seed`` → same plan,
see rotation.solve), never on the worker, the order or the engine.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from .atomic import write_atomic
from .data import ProblemData
from .rules import Rules, RulesError, load_rules

ADDRESS_ENV = "ROTATION_SWEEP_ADDRESS"
"""Environment variable naming a Dask scheduler (``tcp://host:8786``); ``--address`` wins."""
WORKER_CONFIG: dict[str, Any] = {
    # workers may start processes of their own (a national solve by province)
    "distributed.worker.daemon": False,
    # a variant is one long CPU-bound call: no statistical profiler sampling its thread every
    # 10 ms, no GIL sampling, and the event loop's own watchers woken less often — together
    # they made a solve about 10% slower in a worker than in a plain process (bench.sweep)
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.tick.interval": "500ms",
    "distributed.worker.memory.monitor-interval": "1s",
    # Dask's default environment minus MALLOC_TRIM_THRESHOLD_=65536, which costs the solver
    # about 10% more CPU (memory handed back to the system and asked for again at every step)
    "distributed.nanny.pre-spawn-environ": {
        "OMP_NUM_THREADS": 1,
        "MKL_NUM_THREADS": 1,
        "OPENBLAS_NUM_THREADS": 1,
    },
}
"""Dask settings for the local cluster (a remote cluster's workers are started by hand: see the
README's head and worker commands)."""
TASK_RETRIES = 2
"""Extra attempts of a variant whose task raised; a killed worker's task is rescheduled by the
scheduler (up to ``distributed.scheduler.allowed-failures``, default 3)."""
SweepStatus = Literal["optimal", "feasible", "infeasible", "unknown", "error"]


class SweepError(ValueError):
    """Bad keys, values or variants: ``messages`` are one line per problem (CLI exit 2)."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


# =========================================================================== variants
@dataclass(frozen=True)
class Axis:
    """One ``--vary``: a rules path and the values it takes."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Variant:
    """One scenario: its id (``v01`` …) and the values of the varied keys, in key order."""

    id: str
    values: dict[str, Any]


_KEY = re.compile(r"[A-Za-z_]\w*(\[\d+\])*(\.[A-Za-z_]\w*(\[\d+\])*)*")
_TOKEN = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def parse_key(key: str) -> list[str | int]:
    """``non_local_targets[0].min_share`` → ``['non_local_targets', 0, 'min_share']``."""
    if not _KEY.fullmatch(key):
        raise SweepError([f"{key}: not a rules key (expected names like weights.change or a[0].b)"])
    return [name if name else int(index) for name, index in _TOKEN.findall(key)]


def _split_values(text: str) -> list[str]:
    """Comma-separated values; commas inside [...] or {...} stay in their value."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [v.strip() for v in out]


NULL_WORDS = ("none", "null", "~")
"""Values read as null (``max_changes.count=4,6,none``)."""


def _scalar(text: str, where: str) -> Any:
    if text == "":
        raise SweepError([f"{where}: empty value"])
    if text.lower() in NULL_WORDS:
        return None
    try:
        return plain(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise SweepError([f"{where}: value {text!r} is not valid YAML ({exc})"]) from None


def plain(value: Any) -> Any:
    """A YAML value as JSON data: dates (also as mapping keys) become ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def parse_vary(spec: str) -> Axis:
    """``KEY=V1,V2,…`` → :class:`Axis`; values are YAML scalars (``none`` = null)."""
    key, sep, rest = spec.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SweepError([f"--vary {spec!r}: expected KEY=V1,V2,…"])
    parse_key(key)
    values = tuple(_scalar(v, f"--vary {key}") for v in _split_values(rest))
    return Axis(key, values)


def grid(axes: Sequence[Axis]) -> list[Variant]:
    """Every combination of the axes (the last axis varies fastest)."""
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise SweepError([f"--vary {k}: given more than once" for k in dup])
    combos = list(itertools.product(*(a.values for a in axes))) if axes else []
    return _numbered([dict(zip(keys, c, strict=True)) for c in combos])


def _numbered(rows: Sequence[Mapping[str, Any]]) -> list[Variant]:
    width = max(2, len(str(len(rows))))
    return [Variant(f"v{i:0{width}d}", dict(r)) for i, r in enumerate(rows, start=1)]


def read_variants_file(path: Path) -> list[Variant]:
    """A YAML/JSON file: ``{vary: {KEY: [V, …]}}`` (a grid), ``{variants: [{KEY: V}, …]}`` or a
    bare list of ``{KEY: V}`` mappings."""
    if not path.is_file():
        raise SweepError([f"{path}: no such file"])
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        raise SweepError([f"{path}: not valid YAML/JSON ({exc})"]) from None
    return variants_from_doc(doc, str(path))


MAX_VARIANTS = 10_000
"""More variants than this in one sweep is taken for a mistake (a grid of too many axes)."""


def variants_from_doc(doc: Any, where: str = "variants") -> list[Variant]:
    """Variants from parsed YAML/JSON: ``{vary: {KEY: [V, …]}}``, ``{variants: [{KEY: V}]}`` or
    a bare list of ``{KEY: V}``; ``where`` names the source in messages."""
    if isinstance(doc, Mapping) and "vary" in doc:
        vary = doc["vary"]
        if not isinstance(vary, Mapping) or not all(isinstance(v, list) for v in vary.values()):
            raise SweepError([f"{where}: 'vary' must map each key to a list of values"])
        size = math.prod(len(v) for v in vary.values())
        if size > MAX_VARIANTS:
            raise SweepError([f"{where}: {size} variants, at most {MAX_VARIANTS} in one sweep"])
        axes = [Axis(str(k), tuple(plain(x) for x in v)) for k, v in vary.items()]
        for a in axes:
            parse_key(a.key)
        return grid(axes)
    rows = doc.get("variants") if isinstance(doc, Mapping) else doc
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise SweepError(
            [f"{where}: expected 'vary: {{KEY: [V, …]}}' or 'variants: [{{KEY: V, …}}, …]'"]
        )
    if len(rows) > MAX_VARIANTS:
        raise SweepError([f"{where}: {len(rows)} variants, at most {MAX_VARIANTS} in one sweep"])
    problems = []
    for i, r in enumerate(rows, start=1):
        for k in r:
            try:
                parse_key(str(k))
            except SweepError as exc:
                problems += [f"{where}, variant {i}: {m}" for m in exc.messages]
    if problems:
        raise SweepError(problems)
    return _numbered([{str(k): plain(v) for k, v in r.items()} for r in rows])


# =========================================================================== rules per variant
def _set_path(doc: dict[str, Any], parts: list[str | int], value: Any, key: str) -> None:
    """Set ``parts`` in the rules document (lists by index; missing mappings created)."""
    node: Any = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, str) and isinstance(node, list):
            if len(node) != 1:
                raise SweepError(
                    [
                        f"{key}: '{_path_text(parts[:i])}' is a list of {len(node)}; name the "
                        f"element, e.g. {_path_text(parts[:i])}[0].{part}"
                    ]
                )
            node = node[0]
        if isinstance(part, int):
            if not isinstance(node, list):
                raise SweepError([f"{key}: '{_path_text(parts[:i])}' is not a list"])
            if part >= len(node):
                raise SweepError(
                    [f"{key}: '{_path_text(parts[:i])}' has {len(node)} element(s), no [{part}]"]
                )
        elif not isinstance(node, dict):
            raise SweepError([f"{key}: '{_path_text(parts[:i])}' has no keys"])
        if last:
            node[part] = value
            return
        nxt = node[part] if isinstance(part, int) else node.get(part)
        if nxt is None:
            nxt = [] if isinstance(parts[i + 1], int) else {}
            node[part] = nxt
        node = nxt


def _path_text(parts: Sequence[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _validate(doc: dict[str, Any]) -> Rules:
    return load_rules(doc)


def variant_rules(base: Rules, values: Mapping[str, Any]) -> Rules:
    """The base rules with each ``key → value`` set; :class:`SweepError` (one line per problem,
    as the rules model words it) otherwise."""
    doc = base.model_dump(mode="json")
    off: list[tuple[list[str | int], str]] = []
    for key, value in values.items():
        parts = parse_key(key)
        _set_path(doc, parts, value, key)
        if value is None and len(parts) > 1:
            off.append((parts, key))
    try:
        return _with_horizon(_validate(doc))
    except RulesError as first:
        for parts, key in off:  # `max_changes.count=none`: the whole cap off, when that is valid
            _set_path(doc, parts[:-1], None, key)
        if off:
            try:
                return _with_horizon(_validate(doc))
            except RulesError:
                pass
        raise SweepError(first.messages) from None


def _with_horizon(rules: Rules) -> Rules:
    """Rules with a ``horizon`` (a term roadmap per variant) have it checked too."""
    if rules.horizon is not None:
        from .roadmap.validate import load_horizon

        load_horizon(rules)
    return rules


def _value_text(v: Any) -> str:
    return "none" if v is None else json.dumps(v, ensure_ascii=False)


def _check_values(base: Rules, variants: Sequence[Variant]) -> list[str]:
    """Each key with each of its values alone on the base rules: ``KEY: …`` when every value
    of the key fails the same way (an unknown key), else ``KEY=VALUE: …``."""
    values: dict[str, list[Any]] = {}
    for v in variants:
        for k, x in v.values.items():
            if all(json.dumps(x) != json.dumps(y) for y in values.setdefault(k, [])):
                values[k].append(x)
    problems: list[str] = []
    for key, xs in values.items():
        failures: dict[str, list[str]] = {}
        for x in xs:
            try:
                variant_rules(base, {key: x})
            except SweepError as exc:
                failures[_value_text(x)] = exc.messages
        if not failures:
            continue
        every = len(xs) > 1 and len(failures) == len(xs)
        shared = set.intersection(*(set(m) for m in failures.values())) if every else set()
        first = next(iter(failures.values()))
        problems += [f"{key}: {m}" for m in dict.fromkeys(first) if m in shared]
        for text, messages in failures.items():
            problems += [f"{key}={text}: {m}" for m in messages if m not in shared]
    return problems


def build_variants(base: Rules, variants: Sequence[Variant]) -> list[Rules]:
    """Rules for every variant, all built before anything runs; every problem is reported,
    naming the key and value (then the variant, for values that fail only together)."""
    if not variants:
        raise SweepError(["no variants: give --vary KEY=V1,V2,… or --variants FILE"])
    problems = _check_values(base, variants)
    if problems:
        raise SweepError(problems)
    out: list[Rules] = []
    for v in variants:
        try:
            out.append(variant_rules(base, v.values))
        except SweepError as exc:
            shown = ", ".join(f"{k}={_value_text(x)}" for k, x in v.values.items())
            problems += [f"{v.id} ({shown}): {m}" for m in exc.messages]
    if problems:
        raise SweepError(problems)
    return out


# =========================================================================== one task
@dataclass
class Outcome:
    """What one variant's task returns: the plan (contract JSON, with its ``rules``), the
    status, and the seconds the solve took in the worker."""

    status: SweepStatus
    plan: dict[str, Any] | None
    seconds: float
    error: str | None = None
    worker: str | None = None


def solve_variant(data: ProblemData, rules_doc: dict[str, Any]) -> Outcome:
    """Solve one variant (the engines' task): the best plan, or the infeasible plan with its
    diagnosis; with a ``horizon`` in the rules, the term roadmap (``roadmap.json`` form; the
    table shows its last round's KPIs). Runs in a worker; nothing is written there (the client
    writes the files)."""
    from .solve import solve

    t0 = time.perf_counter()
    rules = Rules.model_validate(rules_doc)
    if rules.horizon is not None:  # a term roadmap: every round in one model
        from .roadmap.model import solve_roadmap

        body = solve_roadmap(data, rules).to_json()
        body.pop("stats", None)  # timings: not part of a reproducible result
    else:
        body = solve(data, rules).plan.model_dump(mode="json")
    body.setdefault("rules", rules.model_dump(mode="json"))
    return Outcome(
        status=body["status"],
        plan=body,
        seconds=round(time.perf_counter() - t0, 3),
        worker=f"{os.uname().nodename}:{os.getpid()}",
    )


def _import_solver() -> str:
    """Run on every worker at start: the solver imported once, before the first variant."""
    from . import solve

    return solve.__name__


def _warm(client: Any) -> None:
    """Import the solver on every worker; a worker that cannot is a set-up error."""
    try:
        client.run(_import_solver)
    except ImportError as exc:
        raise SweepError(
            [
                f"a worker cannot import the solver ({exc}): install this project on every worker "
                "(pip install -e '.[sweep]')"
            ]
        ) from None


def _data_task(data: ProblemData) -> ProblemData:
    """The dataset as a task of its own: workers fetch it once; a lost copy is recomputed."""
    return data


# =========================================================================== progress
@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: variants done (solved or infeasible), running, failed (errors
    after retries), seconds since it began and the estimated seconds left (None until one
    variant is done)."""

    total: int
    done: int
    running: int
    failed: int
    elapsed_s: float
    eta_s: float | None
    last: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": self.done,
            "running": self.running,
            "failed": self.failed,
            "elapsed_s": self.elapsed_s,
            "eta_s": self.eta_s,
            "last": self.last,
        }


SweepCallback = Callable[[SweepProgress], None]
CANCELLED = "cancelled before it ran"


class StopFlag(Protocol):
    """A ``threading.Event`` or ``multiprocessing`` event: set = run no further variant."""

    def is_set(self) -> bool: ...


def _cancelled() -> Outcome:
    return Outcome(status="unknown", plan=None, seconds=0.0, error=CANCELLED)


Task = Callable[[ProblemData, dict[str, Any]], Outcome]


class _Tracker:
    def __init__(self, total: int, slots: int, callback: SweepCallback | None) -> None:
        self.total, self.slots, self.callback = total, max(1, slots), callback
        self.done = self.failed = 0
        self.t0 = time.perf_counter()

    def event(self, last: str | None = None) -> SweepProgress:
        finished = self.done + self.failed
        elapsed = round(time.perf_counter() - self.t0, 3)
        eta = round(elapsed / finished * (self.total - finished), 1) if finished else None
        running = min(self.slots, self.total - finished)
        return SweepProgress(self.total, self.done, running, self.failed, elapsed, eta, last)

    def emit(self, last: str | None = None) -> None:
        if self.callback is not None:
            self.callback(self.event(last))

    def count(self, outcome: Outcome) -> None:
        if outcome.status == "error":
            self.failed += 1
        else:
            self.done += 1


# =========================================================================== engines
class Engine(Protocol):
    """Runs ``task(data, rules_doc)`` per variant; returns outcomes in variant order."""

    name: str

    def run(
        self,
        task: Task,
        data: ProblemData,
        jobs: Sequence[tuple[str, dict[str, Any]]],
        progress: SweepCallback | None,
        stop: StopFlag | None = None,
    ) -> list[Outcome]: ...


def _error(exc: BaseException) -> Outcome:
    text = f"{type(exc).__name__}: {exc}".strip()
    return Outcome(status="error", plan=None, seconds=0.0, error=text[:500])


class SerialEngine:
    """A plain loop in this process (the benchmark's baseline; ``--workers 0``)."""

    name = "serial"

    def run(
        self,
        task: Task,
        data: ProblemData,
        jobs: Sequence[tuple[str, dict[str, Any]]],
        progress: SweepCallback | None,
        stop: StopFlag | None = None,
    ) -> list[Outcome]:
        track = _Tracker(len(jobs), 1, progress)
        track.emit()
        out = []
        for vid, doc in jobs:
            if stop is not None and stop.is_set():
                out.append(_cancelled())
                continue
            try:
                outcome = task(data, doc)
            except Exception as exc:  # a broken variant is reported, the sweep goes on
                outcome = _error(exc)
            track.count(outcome)
            out.append(outcome)
            track.emit(vid)
        return out


class DaskEngine:
    """Dask distributed: a local cluster of ``workers`` single-threaded processes (default one
    per core) or the scheduler at ``address``. Open with :meth:`session` to reuse one cluster
    for several sweeps; :meth:`run` opens one itself otherwise."""

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address if address is not None else (os.environ.get(ADDRESS_ENV) or None)
        self.workers = workers or os.cpu_count() or 1
        self._client: Any = None

    @contextmanager
    def session(self) -> Iterator[DaskEngine]:
        """A connected client (and its local cluster) for the duration of the block."""
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError(
                [
                    "Dask distributed is not installed: pip install 'rotation[sweep]' "
                    "(or run with --workers 0, a plain loop)"
                ]
            ) from None

        if self._client is not None:
            yield self
            return
        with dask.config.set(WORKER_CONFIG):
            cluster = None
            try:
                if self.address:
                    try:
                        self._client = Client(self.address, timeout="10s")
                    except OSError as exc:
                        raise SweepError(
                            [f"--address {self.address}: cannot connect ({exc})"]
                        ) from None
                else:
                    cluster = LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",  # a free port: never clashes with another cluster
                        silence_logs=40,  # logging.ERROR
                    )
                    self._client = Client(cluster)
                _warm(self._client)
                yield self
            finally:
                if self._client is not None:
                    self._client.close()
                    self._client = None
                if cluster is not None:
                    cluster.close()

    @property
    def client(self) -> Any:
        return self._client

    def slots(self) -> int:
        return max(1, sum(self._client.nthreads().values())) if self._client else self.workers

    def run(
        self,
        task: Task,
        data: ProblemData,
        jobs: Sequence[tuple[str, dict[str, Any]]],
        progress: SweepCallback | None,
        stop: StopFlag | None = None,
    ) -> list[Outcome]:
        if self._client is None:
            with self.session():
                return self.run(task, data, jobs, progress, stop)
        from distributed import as_completed

        client = self._client
        token = f"{time.time_ns():x}"
        data_f = client.submit(_data_task, data, key=f"sweep-data-{token}", pure=False)
        futures = {
            client.submit(
                task, data_f, doc, key=f"sweep-{vid}-{token}", retries=TASK_RETRIES, pure=False
            ): i
            for i, (vid, doc) in enumerate(jobs)
        }
        track = _Tracker(len(jobs), self.slots(), progress)
        track.emit()
        out: list[Outcome | None] = [None] * len(jobs)
        for fut in as_completed(list(futures)):
            if stop is not None and stop.is_set():
                left = [f for f in futures if not f.done()]
                client.cancel(left)
                for f in left:
                    out[futures[f]] = _cancelled()
            if out[futures[fut]] is not None or fut.cancelled():
                continue
            i = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # retries exhausted, or the worker died too often
                outcome = _error(exc)
            out[i] = outcome
            track.count(outcome)
            track.emit(jobs[i][0])
            fut.release()
        data_f.release()
        return [o if o is not None else _cancelled() for o in out]


# =========================================================================== results
@dataclass
class VariantResult:
    """One row of the sweep: the variant, its outcome and the flattened KPIs."""

    variant: Variant
    rules: Rules
    outcome: Outcome
    kpis: dict[str, Any] = field(default_factory=dict)
    dominated: dict[str, bool] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.variant.id

    @property
    def status(self) -> SweepStatus:
        return self.outcome.status

    @property
    def feasible(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def diagnosis(self) -> list[dict[str, Any]]:
        return list((self.outcome.plan or {}).get("diagnosis") or [])

    def diagnosis_summary(self) -> str:
        """Which rules block, in one line: ``rule (scope): detail; …``."""
        return "; ".join(f"{d['rule']} ({d['scope']}): {d['detail']}" for d in self.diagnosis)


@dataclass(frozen=True)
class Frontier:
    """A frontier: coverage against a cost, both from the plans' KPIs (``file`` None and
    ``skipped`` saying why when no plan carries the cost)."""

    name: str
    x: str
    y: str
    file: str | None = None
    skipped: str | None = None


COVERAGE = "non_local_share.overall"
FRONTIERS: tuple[tuple[str, str], ...] = (
    ("people_moved", "changed_posts"),
    ("support_cost", "support_cost_vnd"),
)
"""(name, cost KPI): each is plotted against :data:`COVERAGE` (more coverage, less cost)."""


@dataclass
class Sweep:
    """A finished sweep: one result per variant, in variant order."""

    keys: list[str]
    base: Rules
    results: list[VariantResult]
    engine: dict[str, Any] = field(default_factory=dict)
    frontiers: list[Frontier] = field(default_factory=list)

    def kpi_keys(self) -> list[str]:
        """Every numeric KPI some plan carries: the main ones first, then the rest sorted,
        the per-scope shares last."""
        present = {k for r in self.results for k in r.kpis}
        first = [k for k in KPI_ORDER if k in present]
        rest = sorted(k for k in present if k not in first)
        by_scope = [k for k in rest if k.startswith("non_local_share.by_scope.")]
        return first + [k for k in rest if k not in by_scope] + by_scope


KPI_ORDER = (
    "non_local_share.overall",
    "non_local_share.non_local_posts",
    "non_local_share.posts",
    "changed_posts",
    "total_travel_km",
    "max_travel_km",
    "support_cost_vnd",
    "new_appointees.count",
    "new_appointees.women",
    "new_appointees.young",
    "new_appointees.minority",
)


def plan_kpis(body: Mapping[str, Any] | None) -> Any:
    """The KPIs of a plan, or of a roadmap's last round (its end state)."""
    if not body:
        return None
    rounds = body.get("rounds")
    if isinstance(rounds, list) and rounds:
        return (rounds[-1].get("plan") or {}).get("kpis")
    return body.get("kpis")


def flatten_kpis(kpis: Any) -> dict[str, float | int]:
    """Numbers of a plan's KPIs, nested mappings as dotted keys (``new_appointees.women``)."""
    out: dict[str, float | int] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k in sorted(value, key=str):
                walk(f"{prefix}.{k}" if prefix else str(k), value[k])
        elif _is_number(value) and not (isinstance(value, float) and math.isnan(value)):
            out[prefix] = value

    walk("", kpis if isinstance(kpis, Mapping) else {})
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def mark_dominated(results: Sequence[VariantResult], cost: str) -> dict[str, bool]:
    """Variant id → dominated on (coverage ↑, ``cost`` ↓): another plan has at least the same
    coverage at no more cost, and is better in one. Only plans carrying both KPIs count."""
    pts = {
        r.id: (r.kpis[COVERAGE], r.kpis[cost])
        for r in results
        if r.feasible and COVERAGE in r.kpis and cost in r.kpis
    }
    out = {}
    for vid, (cx, cy) in pts.items():
        out[vid] = any(
            ox >= cx and oy <= cy and (ox > cx or oy < cy)
            for oid, (ox, oy) in pts.items()
            if oid != vid
        )
    return out


def run_sweep(
    data: ProblemData,
    base: Rules,
    variants: Sequence[Variant],
    engine: Engine | None = None,
    progress: SweepCallback | None = None,
    task: Task = solve_variant,
    stop: StopFlag | None = None,
) -> Sweep:
    """Build every variant's rules (raises :class:`SweepError` before anything runs), solve
    them on ``engine`` (default :class:`DaskEngine` on a local cluster), collect the table."""
    rules = build_variants(base, variants)
    engine = engine if engine is not None else DaskEngine()
    jobs = [(v.id, r.model_dump(mode="json")) for v, r in zip(variants, rules, strict=True)]
    t0 = time.perf_counter()
    outcomes = engine.run(task, data, jobs, progress, stop)
    wall = time.perf_counter() - t0
    results = []
    for v, r, o in zip(variants, rules, outcomes, strict=True):
        kpis = flatten_kpis(plan_kpis(o.plan)) if o.status in ("optimal", "feasible") else {}
        results.append(VariantResult(v, r, o, kpis))
    for name, cost in FRONTIERS:
        for vid, dom in mark_dominated(results, cost).items():
            next(r for r in results if r.id == vid).dominated[name] = dom
    keys = list(dict.fromkeys(k for v in variants for k in v.values))
    info = {
        "engine": engine.name,
        "wall_s": round(wall, 3),
        "solve_s": round(sum(o.seconds for o in outcomes), 3),
        "workers": len({o.worker for o in outcomes if o.worker}),
    }
    return Sweep(keys=keys, base=base, results=results, engine=info)


# =========================================================================== writing
PLANS_DIR = "plans"


def plan_file(vid: str) -> str:
    return f"{PLANS_DIR}/{vid}.json"


def sweep_document(sweep: Sweep) -> dict[str, Any]:
    """``sweep.json`` (contract §4.1): ``variants`` with ``values``, ``status``, ``kpis``,
    ``plan``; plus ``id``, ``objective``, ``diagnosis`` (+ one-line summary), ``dominated`` per
    frontier, ``error``, ``seconds``; top level ``keys``, ``base_rules``, ``frontiers``,
    ``engine`` (timings)."""
    rows = []
    for r in sweep.results:
        plan = r.outcome.plan or {}
        rows.append(
            {
                "id": r.id,
                "values": r.variant.values,
                "status": r.status,
                "objective": plan.get("objective") if r.feasible else None,
                "kpis": plan_kpis(plan) if r.feasible else None,
                "plan": plan_file(r.id) if r.outcome.plan is not None else None,
                "diagnosis": r.diagnosis,
                "diagnosis_summary": r.diagnosis_summary() or None,
                "dominated": dict(r.dominated),
                "error": r.outcome.error,
                "seconds": r.outcome.seconds,
            }
        )
    return {
        "keys": sweep.keys,
        "base_rules": sweep.base.model_dump(mode="json"),
        "variants": rows,
        "frontiers": [f.__dict__ for f in sweep.frontiers],
        "engine": sweep.engine,
    }


def write_sweep(sweep: Sweep, out: Path, lang: str = "vi") -> list[Path]:
    """Write ``plans/<id>.json``, the frontier PNGs, ``sweep.xlsx`` and ``sweep.json`` under
    ``out`` (stale plan files of an earlier sweep in the same folder removed)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / PLANS_DIR).mkdir(exist_ok=True)
    keep = {plan_file(r.id) for r in sweep.results if r.outcome.plan is not None}
    for old in (out / PLANS_DIR).glob("v*.json"):
        if f"{PLANS_DIR}/{old.name}" not in keep:
            old.unlink()
    written = []
    for r in sweep.results:
        if r.outcome.plan is not None:
            p = out / plan_file(r.id)
            write_atomic(p, json.dumps(r.outcome.plan, ensure_ascii=False, indent=2))
            written.append(p)
    sweep.frontiers = write_frontiers(sweep, out, lang)
    written += [out / f.file for f in sweep.frontiers if f.file]
    written.append(write_sweep_xlsx(sweep, out / "sweep.xlsx", lang))
    doc = sweep_document(sweep)
    write_atomic(out / "sweep.json", json.dumps(doc, ensure_ascii=False, indent=2))
    written.append(out / "sweep.json")
    return written


# ---------------------------------------------------------------- labels
LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "variant": "Phương án",
        "status": "Tình trạng",
        "objective": "Hàm mục tiêu",
        "diagnosis": "Vướng quy định (chẩn đoán)",
        "plan": "Tệp kế hoạch",
        "error": "Lỗi",
        "seconds": "Thời gian giải (giây)",
        "dominated": "Bị trội",
        "yes": "có",
        "no": "không",
        "none": "không",
        "error_status": "lỗi",
        "sheet": "Các phương án",
        "sheet_base": "Quy định gốc",
        "key": "Khóa",
        "value": "Giá trị",
        "people_moved": "Độ phủ ngoài địa phương và số vị trí thay người",
        "support_cost": "Độ phủ ngoài địa phương và kinh phí hỗ trợ",
        "frontier": "phương án trên biên",
        "dominated_points": "phương án bị trội",
    },
    "en": {
        "variant": "Variant",
        "status": "Status",
        "objective": "Objective",
        "diagnosis": "Blocking rules (diagnosis)",
        "plan": "Plan file",
        "error": "Error",
        "seconds": "Solve time (s)",
        "dominated": "Dominated",
        "yes": "yes",
        "no": "no",
        "none": "none",
        "error_status": "error",
        "sheet": "Variants",
        "sheet_base": "Base rules",
        "key": "Key",
        "value": "Value",
        "people_moved": "Non-local coverage vs posts changed",
        "support_cost": "Non-local coverage vs support cost",
        "frontier": "on the frontier",
        "dominated_points": "dominated",
    },
}


def _label(lang: str, name: str) -> str:
    return LABELS.get(lang, LABELS["en"])[name]


def kpi_header(t: Any, key: str) -> str:
    """A KPI column header in the reader's language (the catalogue's label when it has one)."""
    if key.startswith("non_local_share.by_scope."):
        return f"{t.kpi('non_local_share')} {key.rsplit('.', 1)[1]}"
    if key == COVERAGE:
        return str(t.kpi("non_local_share"))
    label = t.kpi(key)
    return str(label) if label != key else key


def key_header(t: Any, key: str) -> str:
    """A varied key's column header: the rule's label and its path (``weights.change``)."""
    top = str(parse_key(key)[0])
    label = t.param(top)
    return f"{label} ({key})" if label != top else key


KPI_FORMATS = {
    "share": "0.0%",
    "km": "#,##0.0",
    "money": "#,##0",
    "int": "#,##0",
    "number": "#,##0.###",
}


def _kpi_format(key: str, value: Any) -> str:
    if key == COVERAGE or key.startswith("non_local_share.by_scope."):
        return KPI_FORMATS["share"]
    if key.endswith("_km"):
        return KPI_FORMATS["km"]
    if key.endswith("_vnd"):
        return KPI_FORMATS["money"]
    return KPI_FORMATS["int"] if isinstance(value, int) else KPI_FORMATS["number"]


def _cell_value(value: Any, lang: str) -> Any:
    if value is None:
        return _label(lang, "none")
    if isinstance(value, bool):
        return _label(lang, "yes" if value else "no")
    if isinstance(value, int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def write_sweep_xlsx(
    sweep: Sweep, path: Path, lang: str = "vi", plan_names: Mapping[str, str] | None = None
) -> Path:
    """One row per variant: id, the varied values, status, objective, every KPI some plan
    carries, dominance per frontier, the blocking rules, the plan file; a second sheet lists
    the base rules. Text cells are never formulas (rotation.cells). ``plan_names``: what the
    plan column shows per variant id (the service's plan ids; default the plan file)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from .cells import safe_cell, workbook_bytes
    from .i18n import translator

    t = translator(lang)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _label(lang, "sheet")
    kpis = sweep.kpi_keys()
    frontier_names = [n for n, _ in FRONTIERS if any(n in r.dominated for r in sweep.results)]
    headers = (
        [_label(lang, "variant")]
        + [key_header(t, k) for k in sweep.keys]
        + [_label(lang, "status"), _label(lang, "objective")]
        + [kpi_header(t, k) for k in kpis]
        + [f"{_label(lang, 'dominated')}: {_label(lang, n)}" for n in frontier_names]
        + [_label(lang, "diagnosis"), _label(lang, "error"), _label(lang, "plan")]
    )
    for j, h in enumerate(headers, start=1):
        c = safe_cell(ws, 1, j, h)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="305496")
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(h) + 2))
    for i, r in enumerate(sweep.results, start=2):
        plan = r.outcome.plan or {}
        status = _label(lang, "error_status") if r.status == "error" else t.status(r.status)
        row: list[tuple[Any, str | None]] = [(r.id, None)]
        row += [(_cell_value(r.variant.values.get(k), lang), None) for k in sweep.keys]
        row += [(status, None), (plan.get("objective") if r.feasible else None, "#,##0.000")]
        row += [(r.kpis.get(k), _kpi_format(k, r.kpis.get(k))) for k in kpis]
        row += [
            (_label(lang, "yes" if r.dominated[n] else "no") if n in r.dominated else None, None)
            for n in frontier_names
        ]
        row += [
            (_diagnosis_text(t, r) or None, None),
            (r.outcome.error, None),
            (_plan_name(r, plan_names), None),
        ]
        for j, (value, fmt) in enumerate(row, start=1):
            c = safe_cell(ws, i, j, value)
            if fmt and isinstance(value, int | float):
                c.number_format = fmt
    ws.freeze_panes = ws.cell(row=2, column=2 + len(sweep.keys))
    base = wb.create_sheet(_label(lang, "sheet_base"))
    for j, h in enumerate([_label(lang, "key"), _label(lang, "value")], start=1):
        safe_cell(base, 1, j, h).font = Font(bold=True)
    from .compare import scenario_values

    for i, (k, v) in enumerate(sorted(scenario_values(sweep.base).items()), start=2):
        safe_cell(base, i, 1, k)
        safe_cell(base, i, 2, _cell_value(v, lang))
    base.column_dimensions["A"].width = 36
    base.column_dimensions["B"].width = 60
    write_atomic(path, workbook_bytes(wb))
    return path


def _plan_name(r: VariantResult, names: Mapping[str, str] | None) -> str | None:
    if names is not None:
        return names.get(r.id)
    return plan_file(r.id) if r.outcome.plan is not None else None


def _diagnosis_text(t: Any, r: VariantResult) -> str:
    return "; ".join(f"{t.rule(d['rule'])} ({d['scope']}): {d['detail']}" for d in r.diagnosis)


# ---------------------------------------------------------------- frontier plots
def write_frontiers(sweep: Sweep, out: Path, lang: str = "vi") -> list[Frontier]:
    """One PNG per frontier (``frontier-people_moved.png``, ``frontier-support_cost.png``):
    every feasible variant as a point, the non-dominated ones joined, the dominated ones
    marked with a cross. A frontier whose cost no plan carries is skipped and says so."""
    frontiers = []
    for name, cost in FRONTIERS:
        pts = [r for r in sweep.results if r.feasible and COVERAGE in r.kpis and cost in r.kpis]
        if not pts:
            reason = (
                f"no feasible plan carries kpis.{cost}"
                if any(r.feasible for r in sweep.results)
                else "no feasible plan"
            )
            frontiers.append(Frontier(name, COVERAGE, cost, skipped=reason))
            continue
        file = f"frontier-{name}.png"
        _plot_frontier(pts, name, cost, out / file, lang)
        frontiers.append(Frontier(name, COVERAGE, cost, file=file))
    return frontiers


def _plot_frontier(
    pts: Sequence[VariantResult], name: str, cost: str, path: Path, lang: str
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from .i18n import translator

    t = translator(lang)
    fig = Figure(figsize=(7.5, 5.0), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    front = sorted((r for r in pts if not r.dominated.get(name)), key=lambda r: r.kpis[COVERAGE])
    dom = [r for r in pts if r.dominated.get(name)]
    if dom:
        ax.scatter(
            [r.kpis[COVERAGE] for r in dom],
            [r.kpis[cost] for r in dom],
            marker="x",
            color="#9e9e9e",
            label=f"{_label(lang, 'dominated_points')} ({len(dom)})",
            zorder=2,
        )
    ax.plot(
        [r.kpis[COVERAGE] for r in front],
        [r.kpis[cost] for r in front],
        marker="o",
        color="#305496",
        label=f"{_label(lang, 'frontier')} ({len(front)})",
        zorder=3,
    )
    same: dict[tuple[float, float], list[str]] = {}
    for r in front:  # variants with the same KPIs share one point and one label
        same.setdefault((r.kpis[COVERAGE], r.kpis[cost]), []).append(r.id)
    for (x, y), ids in same.items():
        ax.annotate(
            ids[0] if len(ids) == 1 else f"{ids[0]} (+{len(ids) - 1})",
            (x, y),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_title(_label(lang, name), loc="left")
    ax.set_xlabel(kpi_header(t, COVERAGE))
    ax.set_ylabel(kpi_header(t, cost))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: t.percent(x, 0)))
    if cost.endswith("_vnd"):
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: t.number(y)))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # people and đồng: whole numbers
    lo, hi = min(r.kpis[cost] for r in pts), max(r.kpis[cost] for r in pts)
    ax.set_ylim(0 if lo >= 0 else lo * 1.05, max(hi * 1.05, hi + 1))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def variants_of(axes: Iterable[Axis] | None = None, file: Path | None = None) -> list[Variant]:
    """The variants of ``--vary`` axes or of a variants file (not both)."""
    axes = list(axes or [])
    if axes and file is not None:
        raise SweepError(["give --vary or --variants, not both"])
    if file is not None:
        return read_variants_file(file)
    return grid(axes)


# =========================================================================== the service's job
def sweep_job(
    data: ProblemData,
    base: Rules,
    spec: Mapping[str, Any],
    progress: SweepCallback | None = None,
    stop: StopFlag | None = None,
) -> dict[str, Any]:
    """A sweep as one service job (api/worker.py): ``spec`` is ``{vary: {KEY: [V, …]}}`` or
    ``{variants: [{KEY: V}, …]}``. The variants run on the Dask cluster at
    :data:`ADDRESS_ENV` when it is set, else one after another in the job's process (the
    service's own job workers are the parallelism). Returns ``{"kind": "sweep", "status",
    "sweep": the sweep.json document, "plans": the plans}``; each variant's ``plan_rank`` is
    the 1-based place of its plan in ``plans`` (None for a variant that failed or was
    cancelled; the service stores the plans in this order)."""
    variants = variants_from_doc(dict(spec), "sweep")
    address = os.environ.get(ADDRESS_ENV)
    engine: Engine = DaskEngine(address) if address else SerialEngine()
    result = run_sweep(data, base, variants, engine, progress, stop=stop)
    result.frontiers = [
        Frontier(name, COVERAGE, cost, skipped="not drawn by the service")
        for name, cost in FRONTIERS
    ]
    statuses = {r.status for r in result.results}
    status = "optimal" if statuses & {"optimal", "feasible"} else "infeasible"
    if statuses <= {"error", "unknown"}:
        status = "unknown"
    doc = sweep_document(result)
    plans: list[dict[str, Any]] = []
    for row, r in zip(doc["variants"], result.results, strict=True):
        row["plan"] = None
        row["plan_rank"] = None
        if r.outcome.plan is not None:
            plans.append(r.outcome.plan)
            row["plan_rank"] = len(plans)
    return {"kind": "sweep", "status": status, "sweep": doc, "plans": plans}


def sweep_from_document(doc: Mapping[str, Any], plans: Mapping[str, dict[str, Any]]) -> Sweep:
    """A :class:`Sweep` back from its ``sweep.json`` document and the plans by variant id (to
    write the workbook of a stored sweep)."""
    base = Rules.model_validate(doc.get("base_rules") or {})
    results = []
    for row in doc.get("variants", []):
        variant = Variant(str(row["id"]), dict(row.get("values") or {}))
        plan = plans.get(variant.id)
        rules_doc = (plan or {}).get("rules")
        rules = Rules.model_validate(rules_doc) if rules_doc else base
        outcome = Outcome(
            status=row["status"],
            plan=plan,
            seconds=float(row.get("seconds") or 0.0),
            error=row.get("error"),
        )
        kpis = flatten_kpis(row.get("kpis")) if row["status"] in ("optimal", "feasible") else {}
        results.append(
            VariantResult(variant, rules, outcome, kpis, dict(row.get("dominated") or {}))
        )
    frontiers = [
        Frontier(f["name"], f["x"], f["y"], f.get("file"), f.get("skipped"))
        for f in doc.get("frontiers", [])
    ]
    return Sweep(
        keys=list(doc.get("keys") or []),
        base=base,
        results=results,
        engine=dict(doc.get("engine") or {}),
        frontiers=frontiers,
    )
