"""CORS: off by default (a preflight from another site gets no allow-origin); on for the origins
named in CORS_ORIGINS, and only those."""

from __future__ import annotations

from api_helpers import make_settings
from fastapi.testclient import TestClient

from api.main import create_app

PREFLIGHT = {
    "Origin": "https://dashboard.example.vn",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


def _preflight(tmp_path, **settings) -> tuple[int, dict[str, str]]:
    app = create_app(make_settings(tmp_path / "api.sqlite3", WORKERS=0, **settings))
    with TestClient(app) as client:
        r = client.options("/v1/datasets", headers=PREFLIGHT)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}


def test_cors_is_off_by_default(tmp_path):
    _, headers = _preflight(tmp_path)
    assert "access-control-allow-origin" not in headers


def test_cors_allows_the_named_origin(tmp_path):
    status, headers = _preflight(tmp_path, CORS_ORIGINS="https://dashboard.example.vn")
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://dashboard.example.vn"
    assert "authorization" in headers["access-control-allow-headers"].lower()


def test_cors_refuses_another_origin(tmp_path):
    status, headers = _preflight(tmp_path, CORS_ORIGINS="https://other.example.vn")
    assert status == 400 and "access-control-allow-origin" not in headers
