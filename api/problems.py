"""One error shape for every refusal: ``application/problem+json`` (RFC 9457).

Every 4xx and 5xx body is ``{"type", "title", "status", "detail", "errors"}``: ``detail`` says it
in one line, ``errors`` lists each problem with the ``field`` it is about (a rules key such as
``weights.travel_km``, a body field such as ``events.0.cadre_id``, or a file/row/column such as
``cadres.csv, row 14, column birth_date``) and its ``message``. Routes raise
``HTTPException(status, detail)`` with a text or a list of ``"field: message"`` lines; the
handlers here turn both into the one shape. Refusals are written to the audit log here too:
failed authentication (401) and forbidden actions (403).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .schemas import FieldError, Problem

MEDIA_TYPE = "application/problem+json"
DOCUMENTED = (401, 403, 404, 409, 413, 415, 422, 429)
"""The refusals the service answers (each /v1 operation documents those that apply to it, see
:func:`applicable`), plus 500 on every operation."""
READS_THAT_POST = frozenset({"stream_token"})
"""POST operations that change nothing (no viewer refusal, no conflict)."""
PARSED_BODIES = frozenset({"repair_plan"})
"""Operations whose body FastAPI parses itself (a typed model): no size cap of ours (413), and a
body that is not JSON is a 422. The others read their body themselves (413, 415)."""
MAX_ERRORS = 100
"""Most ``errors`` one answer lists (the rest are counted in ``detail``)."""


def title_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def field_error(line: str) -> FieldError:
    """``"weights.travel_km: must be ≤ 1e6"`` → field ``weights.travel_km``, message the rest; a
    line without a ``field:`` prefix has field None."""
    head, sep, tail = line.partition(": ")
    if sep and head and len(head) <= 120 and "\n" not in head:
        return FieldError(field=head, message=tail)
    return FieldError(field=None, message=line)


def problem(
    status: int, detail: str, errors: list[FieldError] | None = None, headers: Any = None
) -> JSONResponse:
    errors = errors or []
    extra = len(errors) - MAX_ERRORS
    if extra > 0:
        errors = errors[:MAX_ERRORS]
        detail = f"{detail} (and {extra} more)"
    body = Problem(title=title_of(status), status=status, detail=detail, errors=errors)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def _from_detail(detail: Any) -> tuple[str, list[FieldError]]:
    if isinstance(detail, list | tuple):
        lines = [str(x) for x in detail]
        errors = [field_error(x) for x in lines]
        if len(lines) == 1:
            return lines[0], errors
        return f"{len(lines)} problems: {lines[0]}" if lines else "invalid request", errors
    return str(detail), []


def _audit_refusal(request: Request, status: int) -> None:
    """401 and 403 go to the audit log: who (the key id when one was presented), and what."""
    store = getattr(request.app.state, "store", None)
    if store is None or status not in (401, 403):
        return
    principal = getattr(request.state, "principal", None)
    who = principal.key_id if principal is not None else None
    tried = getattr(request.state, "presented_key_id", None)
    action = "auth_failed" if status == 401 else "refused"
    what = f"{request.method} {request.url.path}"
    if status == 401 and tried:
        what = f"key:{tried} {what}"
    try:
        store.audit(who, action, what)
    except Exception as err:  # the refusal stands even if the audit write fails
        print(f"audit: {type(err).__name__}: {err}", flush=True)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at this path (Starlette's own 405 names only
    the first matching route's methods, e.g. ``POST`` for ``/v1/datasets`` that also has GET)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match == Match.NONE:
            continue
        route_methods = getattr(route, "methods", None) or set()
        methods |= set(route_methods)
        match_any, _ = route.matches(request.scope)
        if match_any == Match.FULL:
            methods.add(request.method)
    return sorted(methods)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    _audit_refusal(request, exc.status_code)
    detail, errors = _from_detail(exc.detail)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 400:  # FastAPI's "error parsing the body": a body we cannot read
        return problem(422, "the request body could not be parsed: " + detail, errors)
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(exc.status_code, detail, errors, headers=headers or None)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:] or loc
        errors.append(FieldError(field=".".join(loc) or None, message=str(e.get("msg", ""))))
    first = errors[0] if errors else None
    detail = f"{first.field}: {first.message}" if first and first.field else "invalid request"
    return problem(422, detail, errors)


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected error: 500 in the one shape, no traceback in the answer (it is printed)."""
    print(f"500 on {request.method} {request.url.path}: {type(exc).__name__}: {exc}", flush=True)
    return problem(500, "internal error; the request was not completed")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, server_error)


def applicable(method: str, path: str, op: dict[str, Any]) -> tuple[int, ...]:
    """The refusals an operation can answer, read from what it takes (in its OpenAPI entry):
    401 when it needs a key, 403 for a write (a viewer's key; a scope that does not cover it) or
    a stream token of another job, 404 for an id in the path (or the plans compared), 409 for a
    write on an existing object (a finished job, an infeasible plan, another scope's work) or an
    export, 413/415 for a request body the service reads itself, 422 for any parameter or body,
    429 for an event stream; plus 500 everywhere."""
    name = str(op.get("operationId", ""))
    write = method.upper() in ("POST", "DELETE") and name not in READS_THAT_POST
    params = bool(op.get("parameters")) or "requestBody" in op
    out = {500}
    if op.get("security"):
        out.add(401)
    if write or path.endswith("/events"):
        out.add(403)
    if "{" in path or name == "compare":
        out.add(404)
    if (write and "{" in path) or path.endswith("/export"):
        out.add(409)
    if "requestBody" in op and name not in PARSED_BODIES:
        out.update((413, 415))
    if params:
        out.add(422)
    if path.endswith("/events"):
        out.add(429)
    return tuple(sorted(out))


def responses(statuses: tuple[int, ...] = DOCUMENTED) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these statuses, each an ``application/problem+json`` Problem."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        s: {"description": title_of(s), "content": {MEDIA_TYPE: {"schema": schema}}}
        for s in statuses
    }


def document(doc: dict[str, Any]) -> None:
    """Give every operation of an OpenAPI document its refusals (:func:`applicable`, and any
    4xx a route names itself) as problem+json with the Problem schema."""
    every = responses((*DOCUMENTED, 500))
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            given = op.setdefault("responses", {})
            named = {int(s) for s in given if s.isdigit() and int(s) >= 400}
            for status in sorted(set(applicable(method, path, op)) | named):
                spec = every.get(status) or responses((status,))[status]
                entry = given.setdefault(str(status), {})
                entry.setdefault("description", spec["description"])
                entry.setdefault("content", {}).update(spec["content"])
