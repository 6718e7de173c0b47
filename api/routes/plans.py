"""Plans: read (contract §3 JSON), export, explain one post, repair after events, compare."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from ..deps import (
    PrincipalDep,
    RunnerDep,
    StoreDep,
    WriterDep,
    dataset_tables,
    visible_dataset,
    visible_plan,
)
from ..documents import (
    BINARY,
    XLSX,
    ComparedPlan,
    DifferingPost,
    PlanDocument,
    PostExplanation,
)
from ..models import PlanRow
from ..repair import check_events
from ..schemas import Compared, JobCreated, PlanSummary, RepairRequest

router = APIRouter(prefix="/v1/plans", tags=["plans"])
compare_router = APIRouter(prefix="/v1", tags=["plans"])


def plan_summary(p: PlanRow) -> PlanSummary:
    return PlanSummary(
        plan_id=p.id,
        job_id=p.job_id,
        rank=p.rank,
        status=p.status,
        scope=p.scope_unit_id,
        objective=p.body.get("objective"),
        kpis=p.body.get("kpis", {}),
        created_at=p.created_at.isoformat(),
    )


@router.get("/{plan_id}", response_model=PlanDocument)
def get_plan(plan_id: str, store: StoreDep, who: PrincipalDep) -> JSONResponse:
    """The plan exactly as contract §3 (plus plan_id, job_id, dataset_id, rank, scope)."""
    return JSONResponse(visible_plan(store, who, plan_id).body)


def _plan_inputs(store: Any, who: Any, row: PlanRow):
    from rotation.plan import Plan
    from rotation.rules import load_rules

    from ..ingest import problem_data
    from ..scoping import restrict

    ds = visible_dataset(store, who, row.dataset_id)
    job = store.get_job(row.job_id)
    data = restrict(problem_data(dataset_tables(store, ds)), row.scope_unit_id)
    rules = load_rules(job.rules if job is not None else {})
    return data, rules, Plan.model_validate(row.body)


@router.get(
    "/{plan_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "the plan as a file: CSV, an .xlsx workbook or GeoJSON",
            "content": {
                # the workbook first: a generated client reads the answer as bytes then
                XLSX: BINARY,
                "text/csv": BINARY,
                "application/geo+json": {
                    "schema": {"type": "object", "description": "a GeoJSON FeatureCollection"}
                },
            },
        }
    },
)
def export_plan(
    plan_id: str,
    store: StoreDep,
    who: PrincipalDep,
    format: Annotated[Literal["csv", "xlsx", "geojson"], Query()] = "csv",
) -> Response:
    """The plan as CSV, an .xlsx workbook or GeoJSON."""
    import json

    row = visible_plan(store, who, plan_id)
    if row.status == "infeasible":
        raise HTTPException(409, "an infeasible plan has no assignments to export")
    try:
        from rotation import export
    except ImportError:
        raise HTTPException(501, "export is not available in this build") from None
    data, rules, plan = _plan_inputs(store, who, row)
    name = f"plan-{plan_id[:8]}"
    store.audit(who.key_id, "export", f"plan:{plan_id}:{format}")
    if format == "csv":
        return Response(
            export.plan_to_csv(data, plan),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "geojson":
        body = json.dumps(export.plan_to_geojson(data, plan), ensure_ascii=False)
        return Response(body, media_type="application/geo+json")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="rotation-export-") as tmp:
        path = Path(tmp) / f"{name}.xlsx"
        export.write_plan_xlsx(data, rules, plan, path)
        content = path.read_bytes()
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@router.get(
    "/{plan_id}/posts/{post_id}/explain",
    response_model=PostExplanation,
    response_model_exclude_unset=True,
)
def explain_post(plan_id: str, post_id: str, store: StoreDep, who: PrincipalDep) -> dict:
    """Why this holder: the assignment's score parts and the best alternatives."""
    row = visible_plan(store, who, plan_id)
    for a in row.body.get("assignments", []):
        if a.get("post_id") == post_id:
            return {
                "plan_id": plan_id,
                "post_id": post_id,
                "assignment": {k: v for k, v in a.items() if k not in ("score", "alternatives")},
                "score": a.get("score", {}),
                "alternatives": a.get("alternatives", []),
            }
    raise HTTPException(404, f"post {post_id!r} not found in plan {plan_id!r}")


@router.post("/{plan_id}/repair", status_code=202, response_model=JobCreated)
def repair_plan(
    plan_id: str, body: RepairRequest, store: StoreDep, runner: RunnerDep, who: WriterDep
) -> JobCreated:
    """Start a job for a new plan after events, changing as few posts of this plan as possible.
    Events may name only posts of the plan and cadres of the plan's scope: a cadre of another
    district gets the same 422 as one that does not exist."""
    from ..ingest import problem_data
    from ..scoping import restrict

    row = visible_plan(store, who, plan_id)
    if row.status == "infeasible":
        raise HTTPException(409, "an infeasible plan cannot be repaired; plan again")
    ds = visible_dataset(store, who, row.dataset_id)
    holders = {a["post_id"]: a.get("cadre_id") for a in row.body.get("assignments", [])}
    data = restrict(problem_data(dataset_tables(store, ds)), row.scope_unit_id)
    cadres = {str(c) for c in data.cadres.index}
    events = [e.model_dump() for e in body.events]
    problems = check_events(events, holders, cadres)
    if problems:
        raise HTTPException(422, problems)
    job = store.get_job(row.job_id)
    new = store.add_job(
        dataset_id=row.dataset_id,
        kind="repair",
        scope_unit_id=row.scope_unit_id,
        rules=job.rules if job is not None else {},
        spec={"repair": {"plan_id": plan_id, "holders": holders, "events": events}},
        created_by=who.key_id,
    )
    store.audit(who.key_id, "solve", f"job:{new.id}")
    runner.submit(new.id)
    return JobCreated(job_id=new.id)


@compare_router.get("/compare", response_model=Compared, response_model_exclude_unset=True)
def compare(
    store: StoreDep,
    who: PrincipalDep,
    plans: Annotated[
        str,
        Query(
            description="2 to 5 plan ids, comma-separated",
            pattern=r"^\s*[^,\s]+\s*(,\s*[^,\s]+\s*){1,4},?\s*$",
        ),
    ],
) -> Compared:
    """KPIs side by side and the posts whose holder differs between the plans."""
    ids = [p.strip() for p in plans.split(",") if p.strip()]
    if not 2 <= len(ids) <= 5:
        raise HTTPException(422, "give 2 to 5 plan ids: plans=a,b[,c]")
    rows = [visible_plan(store, who, i) for i in ids]
    datasets = sorted({r.dataset_id for r in rows})
    if len(datasets) > 1:  # the command line's compare refuses this too (exit 2)
        raise HTTPException(
            422,
            [
                f"plans: the plans are of different datasets ({', '.join(datasets)}); "
                "compare plans of one dataset"
            ],
        )
    holders = [
        {a["post_id"]: a.get("cadre_id") for a in r.body.get("assignments", [])} for r in rows
    ]
    names: dict[str, str] = {}
    for r in rows:
        for a in r.body.get("assignments", []):
            if a.get("cadre_id") and a.get("cadre_name"):
                names[a["cadre_id"]] = a["cadre_name"]
    posts = sorted(set().union(*holders))
    diff = []
    for post in posts:
        values = [h.get(post) for h in holders]
        if len(set(values)) > 1 or any(post not in h for h in holders):
            by_plan = {r.id: h.get(post) for r, h in zip(rows, holders, strict=True)}
            named = {c: names[c] for c in by_plan.values() if c and c in names}
            diff.append(DifferingPost(post_id=post, holders=by_plan, names=named))
    return Compared(
        plans=[
            ComparedPlan(
                plan_id=r.id,
                status=r.status,
                objective=r.body.get("objective"),
                kpis=r.body.get("kpis", {}),
            )
            for r in rows
        ],
        differing_posts=diff,
    )
