"""Scenario sweeps (issue 16): start a sweep job on a dataset, read its table, export it.

A sweep job runs like a plan job (same queue, leases and workers, job kind ``sweep``): its
variants run one after another in the job's worker process, or on the Dask cluster named by
``ROTATION_SWEEP_ADDRESS`` when the service has one (rotation.sweep.sweep_job). Each variant's
plan is an ordinary plan of the job (``GET /v1/plans/{id}``, export, explain, compare work on
it); the sweep's table (contract §4.1, ``sweep.json``) is kept with the job, and the sweep's id
is the job's id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from ..deps import (
    PrincipalDep,
    RulesBodyDep,
    RunnerDep,
    SettingsDep,
    StoreDep,
    WriterDep,
    check_pairs,
    checked_rules,
    visible_dataset,
    visible_job,
)
from ..documents import BINARY, XLSX, SweepTable
from ..schemas import JobCreated

router = APIRouter(prefix="/v1", tags=["sweeps"])

MAX_VARIANTS = 200
"""Most variants one sweep job may have here (each is a full solve)."""
SWEEP_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "`rules` (the base rules, contract §2) and either `vary` "
        "(`{KEY: [V, …]}`, the grid of every combination) or `variants` (`[{KEY: V, …}, …]`); "
        "keys are paths into the rules: `non_local_targets[0].min_share`, `max_changes.count`, "
        "`weights.change`, `budget_vnd`. Same size limit as a rules body (MAX_RULES_KB).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "rules": {"$ref": "#/components/schemas/RulesDocument"},
                        "vary": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {}},
                            "description": "KEY -> the values it takes (a grid)",
                        },
                        "variants": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "[{KEY: V, …}, …]",
                        },
                    },
                    "additionalProperties": False,
                }
            }
        },
    }
}


def _variant_problems(body: dict[str, Any], base: Any, settings: Any) -> list[str]:
    """Every variant's rules built before anything is queued; one line per problem."""
    from rotation.sweep import SweepError, build_variants, variants_from_doc

    spec = {k: body[k] for k in ("vary", "variants") if k in body}
    if len(spec) != 1:
        return ["body: give either 'vary' ({KEY: [V, …]}) or 'variants' ([{KEY: V, …}, …])"]
    try:
        variants = variants_from_doc(spec, "body")
        if len(variants) > MAX_VARIANTS:
            return [f"body: {len(variants)} variants, at most {MAX_VARIANTS} in one sweep here"]
        rules = build_variants(base, variants)
    except SweepError as exc:
        return list(exc.messages)
    cap = settings.max_time_limit_s
    return [
        f"{v.id}: time_limit_s: at most {cap:g} s here"
        for v, r in zip(variants, rules, strict=True)
        if r.time_limit_s > cap
    ]


@router.post(
    "/datasets/{dataset_id}/sweeps",
    status_code=202,
    response_model=JobCreated,
    openapi_extra=SWEEP_BODY_DOC,
)
def create_sweep_job(
    dataset_id: str,
    store: StoreDep,
    runner: RunnerDep,
    settings: SettingsDep,
    who: WriterDep,
    body: RulesBodyDep,
) -> JobCreated:
    """Start a sweep job (202); poll GET /v1/jobs/{id}, then read GET /v1/sweeps/{job_id}. It
    covers the key's scope only. The base rules and every variant are checked first (a bad key
    or value is a 422 naming it); a refusal stores and queues nothing."""
    ds = visible_dataset(store, who, dataset_id)
    unknown = sorted(set(body) - {"rules", "vary", "variants"})
    if unknown:
        raise HTTPException(
            422, [f"body: unknown key '{k}' (known: rules, vary, variants)" for k in unknown]
        )
    rules = body.get("rules") or {}
    if not isinstance(rules, dict):
        raise HTTPException(422, ["rules: the rules must be a JSON object of keys to values"])
    base = checked_rules(rules, settings)
    problems = _variant_problems(body, base, settings)
    if problems:
        raise HTTPException(422, problems)
    check_pairs(store, ds, who.scope, base)
    spec = {k: body[k] for k in ("vary", "variants") if k in body}
    job = store.add_job(
        dataset_id=ds.id,
        kind="sweep",
        scope_unit_id=who.scope,
        rules=rules,
        spec={"sweep": spec},
        created_by=who.key_id,
    )
    store.audit(who.key_id, "solve", f"job:{job.id}")
    runner.submit(job.id)
    return JobCreated(job_id=job.id)


def _sweep_job(store: Any, who: Any, sweep_id: str) -> Any:
    job = visible_job(store, who, sweep_id)
    if job.kind != "sweep":
        raise HTTPException(404, f"no sweep {sweep_id!r} (job {sweep_id!r} is a {job.kind} job)")
    return job


def sweep_table(job: Any) -> dict[str, Any]:
    """The stored sweep document with each variant's ``plan`` as the id of its stored plan
    (None for a variant that failed); ``sweep_id``, ``job_id``, ``status`` of the job."""
    doc = dict((job.progress or {}).get("sweep") or {})
    plan_ids = list(job.plan_ids or [])
    rows = []
    for row in doc.get("variants", []):
        rank = row.get("plan_rank")
        plan_id = (
            plan_ids[rank - 1] if isinstance(rank, int) and 0 < rank <= len(plan_ids) else None
        )
        rows.append({**{k: v for k, v in row.items() if k != "plan_rank"}, "plan": plan_id})
    return {
        "sweep_id": job.id,
        "job_id": job.id,
        "dataset_id": job.dataset_id,
        "scope": job.scope_unit_id,
        "status": job.status,
        "keys": doc.get("keys", []),
        "variants": rows,
        "frontiers": doc.get("frontiers", []),
    }


@router.get("/sweeps/{sweep_id}", response_model=SweepTable)
def get_sweep(sweep_id: str, store: StoreDep, who: PrincipalDep) -> JSONResponse:
    """The sweep's table: per variant the varied values, status, KPIs, objective, the rules
    that block it when infeasible, dominance on the frontiers, and the id of its plan. While
    the job runs, ``variants`` is empty (GET /v1/jobs/{id} has the progress)."""
    return JSONResponse(sweep_table(_sweep_job(store, who, sweep_id)))


@router.get(
    "/sweeps/{sweep_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "the sweep as a file: .xlsx, or JSON (the sweep table)",
            "content": {
                XLSX: BINARY,
                "application/json": {"schema": {"$ref": "#/components/schemas/SweepTable"}},
            },
        }
    },
)
def export_sweep(
    sweep_id: str,
    store: StoreDep,
    who: PrincipalDep,
    format: Annotated[Literal["json", "xlsx"], Query()] = "xlsx",
    lang: Annotated[Literal["vi", "en"], Query()] = "vi",
) -> Response:
    """The sweep as a workbook (one row per variant, Vietnamese by default; text never a
    formula) or as a JSON file (the table)."""
    import json

    job = _sweep_job(store, who, sweep_id)
    table = sweep_table(job)
    name = f"sweep-{sweep_id[:8]}"
    store.audit(who.key_id, "export", f"sweep:{sweep_id}:{format}")
    if format == "json":
        return Response(
            json.dumps(table, ensure_ascii=False, indent=1),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
    if not table["variants"]:
        raise HTTPException(409, f"sweep {sweep_id!r} has no results yet (job {job.status})")
    import tempfile
    from pathlib import Path

    from rotation.sweep import sweep_from_document, write_sweep_xlsx

    doc = dict((job.progress or {}).get("sweep") or {})
    plans = {}
    for row in table["variants"]:
        stored = store.get_plan(row["plan"]) if row["plan"] else None
        if stored is not None:
            plans[row["id"]] = stored.body
    sweep = sweep_from_document(doc, plans)
    with tempfile.TemporaryDirectory(prefix="rotation-export-") as tmp:
        ids = {row["id"]: row["plan"] for row in table["variants"] if row["plan"]}
        path = write_sweep_xlsx(sweep, Path(tmp) / f"{name}.xlsx", lang=lang, plan_names=ids)
        content = path.read_bytes()
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
