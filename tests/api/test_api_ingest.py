"""Dataset uploads over HTTP hit the library's one reader: every attack is a 4xx (file attacks
with the reader's message), nothing is stored, no 5xx."""

from __future__ import annotations

import pytest
from api_helpers import tiny_xlsx, tiny_zip
from test_ingest import GUARDS

FILE_GUARDS = [g for g in GUARDS if not g[1].endswith(".json") and g[0] != "zip-entries"]
JSON_GUARDS = [g for g in GUARDS if g[1].endswith(".json")]


def _post_file(api, name: str, content: bytes):
    return api.client.post(
        "/v1/datasets",
        headers=api.key("admin"),
        files={"file": (name, content, "application/octet-stream")},
    )


@pytest.mark.parametrize(
    ("case", "filename", "build", "status", "fragment"),
    FILE_GUARDS,
    ids=[g[0] for g in FILE_GUARDS],
)
def test_upload_attack_is_refused_and_nothing_stored(api, case, filename, build, status, fragment):
    """Each attack answers its 4xx with the reader's message; the store is unchanged."""
    before = len(api.store.list_datasets())
    r = _post_file(api, filename, build())
    assert r.status_code == status, r.text
    assert fragment in r.text
    assert len(api.store.list_datasets()) == before


@pytest.mark.parametrize(("name", "build"), [("t.zip", tiny_zip), ("t.xlsx", tiny_xlsx)])
def test_clean_uploads_still_stored(api, name, build):
    """The same reader accepts the clean .zip and .xlsx uploads (201)."""
    r = _post_file(api, name, build())
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("case", "filename", "build", "status", "fragment"),
    JSON_GUARDS,
    ids=[g[0] for g in JSON_GUARDS],
)
def test_json_attack_is_refused_and_nothing_stored(api, case, filename, build, status, fragment):
    """A JSON body 100,000 levels deep, with NaN/Infinity/1e400 or a control character: 422."""
    before = len(api.store.list_datasets())
    r = api.client.post(
        "/v1/datasets",
        headers={**api.key("admin"), "content-type": "application/json"},
        content=build(),
    )
    assert r.status_code == status, r.text
    assert len(api.store.list_datasets()) == before
