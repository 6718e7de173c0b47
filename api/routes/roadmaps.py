"""Term roadmaps (rules ``horizon``): start a roadmap job on a dataset, read it, export it.

A roadmap job runs like a plan job (same queue and workers, job kind ``roadmap``); its result is
one roadmap: ``{"status", "rounds": [{"as_of", "plan"}], "kpis_by_round", "diagnosis"}``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from rotation.roadmap.model import proof_line
from rotation.rules import load_rules

from ..deps import (
    RULES_BODY_DOC,
    PrincipalDep,
    RulesBodyDep,
    RunnerDep,
    SettingsDep,
    StoreDep,
    WriterDep,
    check_pairs,
    checked_rules,
    dataset_tables,
    visible_dataset,
    visible_roadmap,
)
from ..documents import BINARY, XLSX, RoadmapDocument, RoadmapSummary
from ..schemas import JobCreated, RoadmapRepairCreated, RoadmapRepairRequest
from ..scoping import within

router = APIRouter(prefix="/v1", tags=["roadmaps"])

MAX_ROUNDS = 20
"""Most rounds one roadmap may have (a term is 5 years; this leaves room for monthly rounds
over a year or two, never an unbounded model)."""


def _horizon_problems(rules: Any) -> list[str]:
    """The ``horizon`` part, checked as the roadmap will read it."""
    from rotation.roadmap.horizon import Horizon

    try:
        h = Horizon.model_validate(rules.horizon or {})
    except ValidationError as err:
        return [
            f"horizon.{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
            if e["loc"]
            else f"horizon: {e['msg']}"
            for e in err.errors()
        ]
    if not h.rounds:
        return ["horizon.rounds: give at least one round date"]
    if len(h.rounds) > MAX_ROUNDS:
        return [f"horizon.rounds: at most {MAX_ROUNDS} rounds here, not {len(h.rounds)}"]
    return []


@router.post(
    "/datasets/{dataset_id}/roadmaps",
    status_code=202,
    response_model=JobCreated,
    openapi_extra=RULES_BODY_DOC,
)
def create_roadmap_job(
    dataset_id: str,
    store: StoreDep,
    runner: RunnerDep,
    settings: SettingsDep,
    who: WriterDep,
    rules: RulesBodyDep,
) -> JobCreated:
    """Start a term-roadmap job (202); poll GET /v1/jobs/{id}, then read
    GET /v1/roadmaps/{roadmap_id}. The roadmap covers the key's scope only. The rules (contract
    §2 with ``horizon``: rounds, trajectory, min_stay_years, max_changes_per_round, discount)
    are checked first; a refusal stores and queues nothing."""
    ds = visible_dataset(store, who, dataset_id)
    checked = checked_rules(rules, settings)
    problems = _horizon_problems(checked)
    if problems:
        raise HTTPException(422, problems)
    check_pairs(store, ds, who.scope, checked)
    job = store.add_job(
        dataset_id=ds.id,
        kind="roadmap",
        scope_unit_id=who.scope,
        rules=rules,
        spec={},
        created_by=who.key_id,
    )
    store.audit(who.key_id, "solve", f"job:{job.id}")
    runner.submit(job.id)
    return JobCreated(job_id=job.id)


@router.get(
    "/datasets/{dataset_id}/roadmaps",
    response_model=list[RoadmapSummary],
    response_model_exclude_unset=True,
)
def list_roadmaps(dataset_id: str, store: StoreDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """The roadmaps made on this dataset that the key can see: id, status, scope, rounds and the
    KPIs of each round."""
    ds = visible_dataset(store, who, dataset_id)
    out = []
    for row in store.roadmaps_of_dataset(ds.id):
        if who.scope is not None and not within(ds.hierarchy, row.scope_unit_id, who.scope):
            continue
        out.append(
            {
                "roadmap_id": row.id,
                "job_id": row.job_id,
                "status": row.status,
                "scope": row.scope_unit_id,
                "created_at": row.created_at.isoformat(),
                "rounds": [r.get("as_of") for r in row.body.get("rounds", [])],
                "kpis_by_round": row.body.get("kpis_by_round", []),
                # what the status rests on: proven over every eligible triple, or the gap
                "proven": bool(row.body.get("stats", {}).get("proven", False)),
                "gap": row.body.get("stats", {}).get("gap"),
                "proof": proof_line(row.body.get("stats", {})),
            }
        )
    return out


@router.get("/roadmaps/{roadmap_id}", response_model=RoadmapDocument)
def get_roadmap(roadmap_id: str, store: StoreDep, who: PrincipalDep) -> JSONResponse:
    """The roadmap: status, rounds (as_of, plan as contract §3), kpis_by_round, diagnosis
    (plus roadmap_id, job_id, dataset_id, scope)."""
    return JSONResponse(visible_roadmap(store, who, roadmap_id).body)


@router.post("/roadmaps/{roadmap_id}/repair", status_code=202, response_model=RoadmapRepairCreated)
def repair_roadmap_job(
    roadmap_id: str,
    body: RoadmapRepairRequest,
    store: StoreDep,
    runner: RunnerDep,
    who: WriterDep,
) -> RoadmapRepairCreated:
    """Start a job that repairs this adopted roadmap after events of one round (202): rounds
    before it as adopted, the fewest posts changed from it on; then read the new roadmap. The
    events may name only posts of the roadmap and cadres of its scope (another district's
    cadre gets the same 422 as an unknown one); a refusal queues nothing."""
    from rotation.repair import RepairError
    from rotation.roadmap.repair import check_roadmap_events, resolve_roadmap_events
    from rotation.roadmap.validate import RoadmapError, parse_roadmap

    from ..ingest import problem_data
    from ..scoping import restrict

    row = visible_roadmap(store, who, roadmap_id)
    if row.status not in ("optimal", "feasible") or not row.body.get("rounds"):
        raise HTTPException(
            409, f"roadmap {roadmap_id!r} has status {row.status}: nothing to repair; plan again"
        )
    try:
        rounds = parse_roadmap(row.body).rounds
    except (RoadmapError, RepairError) as exc:
        raise HTTPException(409, f"roadmap {roadmap_id!r} cannot be read: {exc}") from None
    ds = visible_dataset(store, who, row.dataset_id)
    data = restrict(problem_data(dataset_tables(store, ds)), row.scope_unit_id)
    events = resolve_roadmap_events([e.model_dump(exclude_none=True) for e in body.events], rounds)
    problems = check_roadmap_events(events, rounds, {str(c) for c in data.cadres.index})
    if problems:
        raise HTTPException(422, problems)
    job = store.get_job(row.job_id)
    spec = {"roadmap_repair": {"roadmap_id": roadmap_id, "roadmap": row.body, "events": events}}
    new = store.add_job(
        dataset_id=row.dataset_id,
        kind="roadmap",
        scope_unit_id=row.scope_unit_id,
        rules=job.rules if job is not None else {},
        spec=spec,
        created_by=who.key_id,
    )
    store.audit(who.key_id, "solve", f"job:{new.id}")
    runner.submit(new.id)
    return RoadmapRepairCreated(
        job_id=new.id, repair_of=roadmap_id, from_round=int(events[0]["round"])
    )


def xlsx_available() -> bool:
    try:
        from rotation.roadmap.export import write_roadmap_xlsx  # noqa: F401
    except ImportError:
        return False
    return True


@router.get(
    "/roadmaps/{roadmap_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "the roadmap as a file: .xlsx, or JSON (the roadmap document)",
            "content": {
                XLSX: BINARY,
                "application/json": {"schema": {"$ref": "#/components/schemas/RoadmapDocument"}},
            },
        }
    },
)
def export_roadmap(
    roadmap_id: str,
    store: StoreDep,
    who: PrincipalDep,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> Response:
    """The roadmap as a JSON file, or an .xlsx workbook (timeline, KPIs per round, vacancy
    forecast, and the diagnosis when there is one)."""
    row = visible_roadmap(store, who, roadmap_id)
    name = f"roadmap-{roadmap_id[:8]}"
    store.audit(who.key_id, "export", f"roadmap:{roadmap_id}:{format}")
    if format == "json":
        return Response(
            json.dumps(row.body, ensure_ascii=False, indent=1),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
    if not row.body.get("rounds"):
        raise HTTPException(
            409,
            f"roadmap {roadmap_id!r} has no rounds to export "
            f"(status {row.status}); use format=json for its diagnosis",
        )
    try:
        from rotation.roadmap.export import write_roadmap_xlsx
    except ImportError:
        raise HTTPException(501, "roadmap xlsx export is not available in this build") from None
    from ..ingest import problem_data
    from ..scoping import restrict

    ds = visible_dataset(store, who, row.dataset_id)
    job = store.get_job(row.job_id)
    data = restrict(problem_data(dataset_tables(store, ds)), row.scope_unit_id)
    rules = load_rules(job.rules if job is not None else {})
    with tempfile.TemporaryDirectory(prefix="rotation-export-") as tmp:
        path = Path(tmp) / f"{name}.xlsx"
        write_roadmap_xlsx(data, rules, row.body, path)
        content = path.read_bytes()
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
