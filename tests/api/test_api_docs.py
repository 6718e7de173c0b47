"""/docs and /redoc work offline; every refusal has one documented shape (problem+json)."""

from __future__ import annotations

import re

import pytest

from api.problems import DOCUMENTED, MEDIA_TYPE


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_served_offline(api, page):
    """The page loads only scripts and styles the app serves itself (no CDN)."""
    r = api.client.get(page)
    assert r.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for a in assets:
        if a.endswith((".js", ".css")):
            got = api.client.get(a)
            assert got.status_code == 200 and len(got.content) > 1000, a
    assert "cdn" not in r.text.lower()


def test_refusals_documented_as_problem_json(api):
    """Every operation documents the refusals that apply to it (and 500), each as
    application/problem+json with the Problem schema; the schema is in the components."""
    doc = api.client.get("/openapi.json").json()
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    statuses = {}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            errors = {int(s) for s in op["responses"] if int(s) >= 400}
            assert errors <= {*DOCUMENTED, 500} and 500 in errors, (method, path, errors)
            statuses[op["operationId"]] = errors
            for status in errors:
                content = op["responses"][str(status)]["content"]
                ref = content[MEDIA_TYPE]["schema"]["$ref"]
                assert ref == "#/components/schemas/Problem", (method, path, status)
    assert statuses["create_plan_job"] == {401, 403, 404, 409, 413, 415, 422, 500}
    assert statuses["create_dataset"] == {401, 403, 413, 415, 422, 500}
    assert statuses["job_events"] == {401, 403, 404, 422, 429, 500}
    assert statuses["get_plan"] == {401, 404, 422, 500}
    assert statuses["list_datasets"] == {401, 500}
    assert statuses["rule_defaults"] == {500}  # public, no parameter


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/v1/datasets", {"headers": {}}, 401),
        ("get", "/v1/datasets/nope", {}, 404),
        ("post", "/v1/datasets", {"files": {"file": ("x.csv", b"a\n", "text/csv")}}, 415),
        ("get", "/v1/compare?plans=a", {}, 422),
        ("get", "/v1/plans/x/export?format=pdf", {}, 422),
    ],
)
def test_one_error_shape(api, method, path, kwargs, status):
    """401, 404, 415 and 422 (route and FastAPI validation alike) share the problem shape."""
    kwargs = {"headers": api.key("admin"), **kwargs}
    r = getattr(api.client, method)(path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(MEDIA_TYPE)
    body = r.json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    if path.endswith("format=pdf"):
        assert body["errors"][0]["field"] == "format"


def _typed(schema: dict) -> bool:
    """A response schema names a model (or a list of one), a file, or a known document."""
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _typed(schema.get("items", {}))
    if schema.get("type") == "string" and schema.get("format") == "binary":
        return True
    return (
        schema.get("type") == "object"
        and "description" in schema
        and not schema.get("additionalProperties")
    )


def test_every_answer_is_typed(api):
    """No operation answers an untyped object: each 2xx body is a named model, a list of one,
    a file, or the event stream."""
    doc = api.client.get("/openapi.json").json()
    untyped = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, resp in op["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                content = resp.get("content", {})
                assert content, (method, path, status)
                for media, spec in content.items():
                    if media == "text/event-stream":
                        continue
                    if not _typed(spec.get("schema", {})):
                        untyped.append((method, path, status, media))
    assert not untyped, untyped


def test_contract_words_in_the_document(api):
    """The plan, rules and roadmap schemas are in the document, with the contract's names and
    wording: a dashboard developer needs no other file."""
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    plan = schemas["PlanDocument"]["properties"]
    assert {"status", "objective", "bound", "assignments", "released", "kpis", "diagnosis"} <= set(
        plan
    )
    assert "no fake zeros" in plan["kpis"]["description"]
    assignment = schemas["Assignment"]["properties"]
    assert {"cadre_name", "unit_name", "support_vnd", "travel_km", "non_local"} <= set(assignment)
    assert "v1.1" in assignment["cadre_name"]["description"]
    rules = schemas["RulesDocument"]
    assert "non-local holders" in rules["properties"]["never_below_current"]["description"]
    assert rules["properties"]["positions"]["minItems"] == 1
    assert "kpis_by_round" in schemas["RoadmapDocument"]["properties"]
    body = api.client.get("/openapi.json").json()["paths"]["/v1/datasets/{dataset_id}/plans"]
    ref = body["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/RulesDocument"


def test_status_table_in_numbers(api, tiny_id):
    """The dataset summary's status table carries numbers and booleans, not their text."""
    s = api.client.get(f"/v1/datasets/{tiny_id}", headers=api.key("admin")).json()["summary"]
    row = s["status_table"][0]
    assert row["posts"] == 3 and isinstance(row["share"], float) and row["is_total"] is False
    assert s["status_table"][-1]["is_total"] is True and "index" not in row


def test_status_table_stored_as_text_still_numbers(api, tiny_id):
    """A dataset stored before (every cell text) is served in numbers too."""
    from api.documents import typed_status_table

    rows = [
        {
            "index": "0",
            "position": "secretary",
            "scope_level": "district",
            "scope_id": "D1",
            "scope_name": "Huyện 1",
            "posts": "3",
            "posts_after": "3",
            "non_local": "0",
            "share": "0.0",
            "target_share": "0.3",
            "required": "1",
            "shortfall": "1",
            "is_total": "False",
        }
    ]
    total = {**rows[0], "scope_id": None, "scope_name": None, "posts": "6", "is_total": "True"}
    out, tot = typed_status_table([*rows, total])
    assert out["posts"] == 3 and out["target_share"] == 0.3 and out["is_total"] is False
    assert "index" not in out
    assert tot["scope_id"] is None and tot["posts"] == 6 and tot["is_total"] is True
