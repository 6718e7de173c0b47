"""Bad input answers 4xx with a clear message and stores nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from api_helpers import tiny_xlsx, tiny_zip


def _count(api) -> int:
    return len(api.store.list_datasets())


def _post_file(api, name: str, content: bytes):
    return api.client.post(
        "/v1/datasets",
        headers=api.key("admin"),
        files={"file": (name, content, "application/octet-stream")},
    )


def test_no_key_401(api):
    """No key, or a wrong one → 401."""
    assert api.client.get("/v1/datasets").status_code == 401
    bad = {"Authorization": "Bearer rk_nope_nope"}
    assert api.client.get("/v1/datasets", headers=bad).status_code == 401


def test_viewer_cannot_write_403(api):
    """A viewer key may read but not upload, solve or delete."""
    r = api.client.post("/v1/datasets", headers=api.key("viewer"), json={"tables": {}})
    assert r.status_code == 403


def test_revoked_key_401(api):
    """A revoked key no longer works."""
    key_id, key = api.store.create_key("planner", None)
    h = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/v1/datasets", headers=h).status_code == 200
    api.store.revoke_key(key_id)
    assert api.client.get("/v1/datasets", headers=h).status_code == 401


def test_invalid_data_lists_problems(api):
    """Invalid rows → 422 with file/row/column lines; nothing stored."""
    from builders import tiny_problem, with_cadre

    before = _count(api)
    zipped = tiny_zip(tiny_problem())
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(zipped)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            raw = src.read(info)
            if info.filename == "cadres.csv":
                raw = raw.replace(b"1981-01-01", b"1981-13-01", 1)
            dst.writestr(info.filename, raw)
    r = _post_file(api, "bad.zip", buf.getvalue())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] or "" for e in r.json()["errors"]]
    assert any("cadres.csv, row" in f and "birth_date" in f for f in fields), r.json()
    assert _count(api) == before
    assert with_cadre  # builders import works


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 422),
        (b"[1, 2]", 422),
        (b'{"tables": "nope"}', 422),
        (b'{"tables": {"units": [{"unit_id": {"a": 1}}]}}', 422),
        (b'{"tables": {}}', 422),
    ],
)
def test_bad_json_uploads(api, body, status):
    """Malformed JSON and wrong types → 422."""
    before = _count(api)
    r = api.client.post(
        "/v1/datasets",
        content=body,
        headers={**api.key("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == status, r.text
    assert _count(api) == before


def test_wrong_file_type_415(api):
    """Neither .xlsx nor .zip → 415."""
    assert _post_file(api, "x.csv", b"a,b\n").status_code == 415


def test_oversized_upload_413(tmp_path):
    """Past MAX_UPLOAD_MB → 413."""
    from api_helpers import open_api

    for small in open_api(tmp_path / "small.sqlite3", MAX_UPLOAD_MB=0.01):
        r = small.client.post(
            "/v1/datasets",
            headers=small.key("admin"),
            files={"file": ("big.zip", b"0" * 20000, "application/zip")},
        )
        assert r.status_code == 413
        assert small.store.list_datasets() == []


def test_zip_bomb_413(api):
    """A highly compressed entry is refused before it is inflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("units.csv", b"0" * (30 * 1024 * 1024))
    r = _post_file(api, "bomb.zip", buf.getvalue())
    assert r.status_code == 413 and "zip bomb" in r.text


def test_zip_path_traversal_422(api, tmp_path):
    """Entries like ../evil.csv are refused; nothing is written."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.csv", b"a\n1\n")
    r = _post_file(api, "t.zip", buf.getvalue())
    assert r.status_code == 422 and "path traversal" in r.text


def test_not_a_zip_422(api):
    """Garbage named .zip/.xlsx → 422."""
    assert _post_file(api, "t.zip", b"garbage").status_code == 422
    assert _post_file(api, "t.xlsx", b"garbage").status_code == 422


def test_xlsx_with_formula_422(api):
    """A workbook with a formula cell is refused."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(tiny_xlsx()))
    wb["units"]["B2"] = "=1+1"
    out = io.BytesIO()
    wb.save(out)
    r = _post_file(api, "f.xlsx", out.getvalue())
    assert r.status_code == 422 and "formula" in r.text


def test_xlsx_with_macros_422(api):
    """vbaProject.bin inside, or an .xlsm name → refused."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(tiny_xlsx())) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/vbaProject.bin", b"\0" * 10)
    r = _post_file(api, "m.xlsx", buf.getvalue())
    assert r.status_code == 422 and "macros" in r.text
    assert _post_file(api, "m.xlsm", tiny_xlsx()).status_code == 422


def test_bad_rules_422(api, tiny_id):
    """Unknown rule keys, wrong types, malformed JSON → 422, no job."""
    h = api.key("admin")
    url = f"/v1/datasets/{tiny_id}/plans"
    r = api.client.post(url, json={"max_travel_kmm": 5}, headers=h)
    assert r.status_code == 422 and "max_travel_kmm" in r.text
    assert api.client.post(url, json={"candidates": "many"}, headers=h).status_code == 422
    r = api.client.post(url, content=b"{bad", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert api.client.post(url, json={"time_limit_s": 1e9}, headers=h).status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/v1/datasets/nope",
        "/v1/jobs/nope",
        "/v1/jobs/nope/events",
        "/v1/plans/nope",
        "/v1/plans/nope/export",
        "/v1/plans/nope/posts/x/explain",
        "/v1/compare?plans=a,b",
        "/v1/datasets/nope/plans",
    ],
)
def test_unknown_ids_404(api, path):
    """Unknown ids → 404."""
    assert api.client.get(path, headers=api.key("admin")).status_code == 404


def test_unknown_ids_404_writes(api):
    """Unknown ids on writes → 404."""
    h = api.key("admin")
    assert api.client.delete("/v1/datasets/nope", headers=h).status_code == 404
    assert api.client.delete("/v1/jobs/nope", headers=h).status_code == 404
    assert api.client.post("/v1/datasets/nope/plans", json={}, headers=h).status_code == 404
    r = api.client.post(
        "/v1/plans/nope/repair", headers=h, json={"events": [{"type": "vacant", "post_id": "x"}]}
    )
    assert r.status_code == 404


def test_bad_repair_body_422(api, done_job):
    """Repair events of an unknown type → 422."""
    pid = done_job["plan_ids"][0]
    r = api.client.post(
        f"/v1/plans/{pid}/repair", headers=api.key("admin"), json={"events": [{"type": "explodes"}]}
    )
    assert r.status_code == 422
    r = api.client.post(f"/v1/plans/{pid}/repair", headers=api.key("admin"), json={"events": []})
    assert r.status_code == 422
