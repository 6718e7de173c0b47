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
    """Every /v1 operation documents 401…429 as application/problem+json with the Problem
    schema; the schema is in the components."""
    doc = api.client.get("/openapi.json").json()
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    for path, ops in doc["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, op in ops.items():
            for status in DOCUMENTED:
                content = op["responses"][str(status)]["content"]
                ref = content[MEDIA_TYPE]["schema"]["$ref"]
                assert ref == "#/components/schemas/Problem", (method, path, status)


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
