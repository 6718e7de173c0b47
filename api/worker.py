"""What runs inside a worker process: rebuild the dataset, solve, send progress and plans back.

Only plain data crosses the process boundary: the job spec in, and ``(kind, job_id, payload)``
messages out on one queue (``progress``, ``result``, ``error``).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from .scoping import restrict

DEFAULT_TARGETS = {
    "plan": "rotation.solve:solve",
    "repair": "rotation.solve:solve",
    "roadmap": "rotation.roadmap.model:solve_roadmap",
    "sweep": "rotation.sweep:sweep_job",
}


def load_problem(tables: dict[str, Any], scope: str | None):
    from .ingest import problem_data

    return restrict(problem_data(tables), scope)


def resolve_target(dotted: str) -> Callable[..., Any]:
    """``"package.module:function"`` (or ``package.module.function``) → the function.

    Solve targets travel to the worker as text and are imported there: a function object
    cannot cross the spawn boundary, an importable name can (the child inherits ``sys.path``).
    """
    module, sep, name = dotted.partition(":")
    if not sep:
        module, _, name = dotted.rpartition(".")
    if not module or not name:
        raise ValueError(f"solve target {dotted!r} is not 'module:function'")
    fn = getattr(importlib.import_module(module), name)
    if not callable(fn):
        raise TypeError(f"solve target {dotted!r} is not callable")
    return fn


PR_SET_PDEATHSIG = 1
PARENT_CHECK_S = 1.0
ORPHAN_EXIT = 70
"""Exit code of a worker that found its parent gone."""


def die_with_parent(parent_pid: int | None, check_s: float = PARENT_CHECK_S) -> None:
    """Make this process end when the process that started it ends, even by ``kill -9``.

    On Linux the kernel sends SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``); as a
    fallback (other systems, or a parent that died before the call) a daemon thread checks the
    parent pid every ``check_s`` and exits when it changed. Without this a worker whose server
    was killed keeps solving, blocked on a pipe no one reads.
    """
    if parent_pid is None:
        return
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the heartbeat below still holds
    if os.getppid() != parent_pid:
        os._exit(ORPHAN_EXIT)

    def heartbeat() -> None:
        while True:
            time.sleep(check_s)
            if os.getppid() != parent_pid:
                os._exit(ORPHAN_EXIT)

    threading.Thread(target=heartbeat, name="parent-heartbeat", daemon=True).start()


def run_job(
    job_id: str, spec: dict[str, Any], out: Any, cancel: Any, parent_pid: int | None = None
) -> None:
    """Entry point of a worker process (spawned: imports happen here, not in the API).

    ``spec``: tables, scope, rules, kind (plan | repair | roadmap), target (``module:function``)
    and, for a repair, the repair spec (``roadmap_repair`` for a roadmap's: the adopted
    roadmap, its id and the events). ``parent_pid``: the runner's process, which this one
    must not outlive.
    """
    die_with_parent(parent_pid)
    try:
        from rotation.rules import load_rules

        kind = spec.get("kind", "plan")
        target = resolve_target(spec.get("target") or DEFAULT_TARGETS[kind])
        data = load_problem(spec["tables"], spec.get("scope"))
        rules = load_rules(spec["rules"])
        stop = threading.Event()
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                if cancel.wait(0.2):
                    stop.set()
                    return

        threading.Thread(target=watch, daemon=True).start()

        from rotation.solve import ProgressEvent

        def progress(event: ProgressEvent | dict[str, Any]) -> None:
            # objective, bound and gap are None until known; custom targets may send dicts
            d = event.as_dict() if isinstance(event, ProgressEvent) else event
            out.put(("progress", job_id, _plain(d)))

        out.put(("progress", job_id, {"phase": "solving", "posts": len(data.posts)}))
        if kind == "sweep":  # rule variants, one plan each (rotation.sweep.sweep_job)
            payload = target(
                data,
                rules,
                spec.get("sweep") or {},
                progress=lambda e: progress({"phase": "sweep", **e.as_dict()}),
                stop=stop,
            )
            done.set()
            out.put(("result", job_id, {**_plain(payload), "cancelled": stop.is_set()}))
            return
        if kind == "roadmap" and spec.get("roadmap_repair"):
            # an adopted roadmap after events (rotation.roadmap.repair, as the command line)
            from rotation.roadmap.repair import repair_roadmap

            rr = spec["roadmap_repair"]
            mended = repair_roadmap(
                data, rules, rr["roadmap"], list(rr["events"]), rr.get("roadmap_id"), progress, stop
            )
            done.set()
            body = _plain(mended.to_json())
            out.put(
                (
                    "result",
                    job_id,
                    {
                        "kind": "roadmap",
                        "status": mended.status,
                        "roadmap": body,
                        "cancelled": stop.is_set(),
                    },
                )
            )
            return
        if spec.get("repair"):
            # the same repair as the command line (the change cap against today's incumbents),
            # around the configured solve target
            from rotation.repair import repair_holders

            rep = spec["repair"]
            fixed = repair_holders(
                data,
                rules,
                dict(rep["holders"]),
                list(rep["events"]),
                rep.get("plan_id"),
                progress,
                stop,
                solve_fn=target,
            )
            done.set()
            repaired = [_plain(p) for p in fixed.plans]
            if not repaired and fixed.status == "infeasible":
                from rotation.plan import DiagnosisItem, Plan

                diag = [DiagnosisItem.model_validate(d) for d in fixed.diagnosis]
                none = Plan(status="infeasible", objective=None, bound=None, kpis=None)
                none.diagnosis = diag
                repaired = [none.model_dump(mode="json")]
            out.put(
                (
                    "result",
                    job_id,
                    {
                        "status": fixed.status,
                        "plans": repaired,
                        "diagnosis": fixed.diagnosis,
                        "cancelled": stop.is_set(),
                    },
                )
            )
            return
        result = target(data, rules, progress=progress, stop=stop)
        done.set()
        if kind == "roadmap":
            body = _plain(result.to_json())
            out.put(
                (
                    "result",
                    job_id,
                    {
                        "kind": "roadmap",
                        "status": result.status,
                        "roadmap": body,
                        "cancelled": stop.is_set(),
                    },
                )
            )
            return
        if result.plans:
            plans = [p.model_dump(mode="json") for p in result.plans]
            for plan, p in zip(plans, result.plans, strict=True):
                solver = getattr(p, "solver", None)
                if solver:
                    plan.setdefault("solver", solver)
        else:
            plans = [result.plan.model_dump(mode="json")] if result.status == "infeasible" else []
        diagnosis = [d.model_dump(mode="json") for d in result.diagnosis]
        out.put(
            (
                "result",
                job_id,
                {
                    "status": result.status,
                    "plans": plans,
                    "cancelled": stop.is_set(),
                    "diagnosis": diagnosis,
                    "stats": _plain(result.stats),
                },
            )
        )
    except BaseException as err:  # report every failure to the API, never die silently
        out.put(("error", job_id, f"{type(err).__name__}: {err}", traceback.format_exc(limit=5)))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
