"""Stream tokens for EventSource: a short-lived, signed token from an authenticated call opens
one job's event stream with the key's role and scope; an API key is never accepted in a URL;
expired, tampered, foreign and revoked tokens are refused as problem+json."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import Api, open_api

from api import stream_tokens
from api.problems import MEDIA_TYPE

TTL_S = 5


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app with a short token life, so expiry is seen in a test."""
    db: Path = tmp_path_factory.mktemp("db") / "api.sqlite3"
    yield from open_api(db, STREAM_TOKEN_TTL_S=TTL_S)


@pytest.fixture(scope="module")
def jobs(api: Api, tiny_id: str) -> dict[str, str]:
    """Two finished jobs: one of the whole dataset (admin), one of district D1 (its planner)."""
    whole = api.plan(tiny_id)
    d1 = api.plan(tiny_id, headers=api.key("planner", "D1"))
    assert whole["status"] == d1["status"] == "done"
    return {"whole": whole["job_id"], "d1": d1["job_id"]}


def _token(api: Api, job_id: str, headers: dict[str, str]) -> dict:
    r = api.client.post(f"/v1/jobs/{job_id}/stream-token", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _events(api: Api, url: str) -> tuple[int, str, str]:
    with api.client.stream("GET", url) as r:
        text = "".join(r.iter_text())
        return r.status_code, r.headers["content-type"], text


def _refused(api: Api, url: str, status: int) -> dict:
    r = api.client.get(url)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(MEDIA_TYPE)
    body = r.json()
    assert body["status"] == status and body["detail"]
    return body


def test_token_opens_the_stream_without_a_header(api, jobs):
    """The token in the URL, no Authorization header: the job's progress and end events."""
    tok = _token(api, jobs["whole"], api.key("viewer"))
    assert tok["token"].startswith(stream_tokens.PREFIX) and tok["expires_in_s"] == TTL_S
    assert tok["events_url"] == f"/v1/jobs/{jobs['whole']}/events?token={tok['token']}"
    status, ctype, text = _events(api, tok["events_url"])
    assert status == 200 and ctype.startswith("text/event-stream")
    assert "event: progress" in text and "event: end" in text and '"status": "done"' in text
    assert api.keys["viewer:None"] not in tok["token"]  # the key is not in the token


def test_token_is_bound_to_its_job(api, jobs):
    """A good token for one job does not open another job's stream (403)."""
    tok = _token(api, jobs["whole"], api.key("admin"))
    body = _refused(api, f"/v1/jobs/{jobs['d1']}/events?token={tok['token']}", 403)
    assert "another job" in body["detail"]


def test_token_carries_the_keys_scope(api, jobs):
    """A district key gets tokens for its district's jobs only: the province-wide job is 404
    to it, as every object outside its scope is."""
    d1 = api.key("planner", "D1")
    tok = _token(api, jobs["d1"], d1)
    assert _events(api, tok["events_url"])[0] == 200
    r = api.client.post(f"/v1/jobs/{jobs['whole']}/stream-token", headers=d1)
    assert r.status_code == 404 and r.headers["content-type"].startswith(MEDIA_TYPE)


def test_token_expires(api, jobs):
    """After STREAM_TOKEN_TTL_S seconds the token no longer opens the stream (401)."""
    tok = _token(api, jobs["whole"], api.key("admin"))
    time.sleep(TTL_S + 1.5)
    body = _refused(api, tok["events_url"], 401)
    assert "expired" in body["detail"]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: t.replace(".", ".x", 2),  # payload changed
        lambda t: "st1.garbage",
        lambda t: "",
    ],
    ids=["signature", "payload", "garbage", "empty"],
)
def test_tampered_token_refused(api, jobs, mangle):
    """Any change to the token: 401 problem+json."""
    tok = _token(api, jobs["whole"], api.key("admin"))
    _refused(api, f"/v1/jobs/{jobs['whole']}/events?token={mangle(tok['token'])}", 401)


def test_api_key_never_accepted_in_the_url(api, jobs):
    """The long-lived key as ?token= is refused (401) even though it is a good key in a header."""
    key = api.keys.get("admin:None") or api.key("admin")["Authorization"].split()[1]
    body = _refused(api, f"/v1/jobs/{jobs['whole']}/events?token={key}", 401)
    assert "never accepted in a URL" in body["detail"]
    assert key not in str(body)


def test_token_of_a_revoked_key_refused(api, jobs):
    """Revoking the key kills its tokens at once."""
    key = api.store.create_key("viewer", None)
    headers = {"Authorization": f"Bearer {key[1]}"}
    tok = _token(api, jobs["whole"], headers)
    assert api.store.revoke_key(key[0])
    _refused(api, tok["events_url"], 401)


def test_token_of_another_server_secret_refused(api, jobs):
    """A token signed with another server secret (ROTATION_STREAM_SECRET) does not verify."""
    key_id, _ = api.store.create_key("viewer", None)
    row = api.store.active_key(key_id)
    assert row is not None
    forged = stream_tokens.issue(row, jobs["whole"], TTL_S, server_secret="someone else's")
    _refused(api, f"/v1/jobs/{jobs['whole']}/events?token={forged.token}", 401)


def test_verify_with_a_clock():
    """Unit: the token holds within its life and not after, by the signer's clock."""
    from api.models import ApiKey

    row = ApiKey(id="k1", salt="s", hash="h", role="viewer", scope_unit_id=None, revoked=False)
    now = [1_000_000.0]
    tok = stream_tokens.issue(row, "J1", 60, clock=lambda: now[0]).token
    assert stream_tokens.key_id_of(tok) == "k1"
    now[0] += 59
    stream_tokens.verify(tok, row, "J1", 60, clock=lambda: now[0])
    now[0] += 2
    with pytest.raises(stream_tokens.TokenError) as err:
        stream_tokens.verify(tok, row, "J1", 60, clock=lambda: now[0])
    assert err.value.status == 401


def test_header_still_works(api, jobs):
    """Clients that can send the Authorization header keep doing so."""
    with api.client.stream(
        "GET", f"/v1/jobs/{jobs['whole']}/events", headers=api.key("admin")
    ) as r:
        assert r.status_code == 200 and "event: end" in "".join(r.iter_text())


def test_token_route_needs_a_key(api, jobs):
    """Asking for a token is itself authenticated (401 without a key)."""
    r = api.client.post(f"/v1/jobs/{jobs['whole']}/stream-token")
    assert r.status_code == 401 and r.headers["content-type"].startswith(MEDIA_TYPE)
