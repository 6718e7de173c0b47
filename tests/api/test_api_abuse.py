"""Fault and abuse: every attack of issue 10 on the rules door, replayed one case each.

Each case asserts the 4xx (never a 5xx), the problem+json shape naming the field, and that
nothing was stored or queued (datasets, jobs, plans counted in the database before and after).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import AS_OF_RULES
from sqlalchemy import func, select

from api.models import Dataset, Job, PlanRow

BIG = 7_500_000
"""The 7.5 MB rules body of the issue (the default limit is 1 MB)."""


def _counts(api) -> tuple[int, int, int]:
    with api.store.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) or 0 for m in (Dataset, Job, PlanRow)
        )  # type: ignore[return-value]


def _chunks(size: int) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked): the cap must hold while it streams."""
    piece = b'{"x": "' + b"a" * 65536
    sent = 0
    while sent < size:
        yield piece
        sent += len(piece)


@pytest.fixture(scope="module")
def world(api) -> dict[str, Any]:
    """The tiny dataset (districts D1, D2) and a finished D1 plan to repair."""
    ds = api.upload_zip()
    d1 = api.key("planner", "D1")
    job = api.plan(ds, AS_OF_RULES, headers=d1)
    assert job["status"] == "done", job
    return {"ds": ds, "d1": d1, "plan": job["plan_ids"][0]}


def _json(body: Any) -> dict[str, Any]:
    return {"content": json.dumps(body).encode(), "ctype": "application/json"}


def _raw(text: str | bytes, ctype: str = "application/json") -> dict[str, Any]:
    return {"content": text.encode() if isinstance(text, str) else text, "ctype": ctype}


LOCK = {"post_id": "S-C11", "cadre_id": "K11"}
ATTACKS: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "rating_years_1e9",
        _json({**AS_OF_RULES, "rating_years": 1_000_000_000}),
        422,
        "rating_years",
    ),
    ("seed_2**76", _raw('{"seed": 99999999999999999999999}'), 422, "seed"),
    ("seed_negative", _json({"seed": -1}), 422, "seed"),
    ("weight_1e308", _json({"weights": {"travel_km": 1e308}}), 422, "weights.travel_km"),
    ("weight_Infinity", _raw('{"weights": {"travel_km": Infinity}}'), 422, "body"),
    ("weight_NaN", _raw('{"weights": {"change": NaN}}'), 422, "body"),
    ("bare_Infinity", _raw("Infinity"), 422, "body"),
    ("km_-Infinity", _raw('{"max_travel_km": -Infinity}'), 422, "body"),
    ("retirement_age_1e300", _json({"retirement_age": {"M": 1e300}}), 422, "retirement_age.M"),
    ("retirement_age_30", _json({"retirement_age": {"F": 30}}), 422, "retirement_age.F"),
    ("time_limit_1e9", _json({"time_limit_s": 1e9}), 422, "time_limit_s"),
    (
        "share_above_1",
        _json({"non_local_targets": [{"min_share": 1.5}]}),
        422,
        "non_local_targets.0.min_share",
    ),
    (
        "lock_unknown_post",
        _json({"locks": [{"post_id": "NOPE", "cadre_id": "K11"}]}),
        422,
        "locks.0.post_id",
    ),
    (
        "lock_unknown_cadre",
        _json({"locks": [{"post_id": "S-C11", "cadre_id": "NOPE"}]}),
        422,
        "locks.0.cadre_id",
    ),
    (
        "exclude_unknown_post",
        _json({"exclude": [{"post_id": "NOPE", "cadre_id": "K11"}]}),
        422,
        "exclude.0.post_id",
    ),
    (
        "exclude_unknown_cadre",
        _json({"exclude": [{"post_id": "S-C11", "cadre_id": "ZZ"}]}),
        422,
        "exclude.0.cadre_id",
    ),
    ("6000_locks", _json({"locks": [LOCK] * 6000}), 422, "locks"),
    ("body_7.5MB", _raw(b'{"x": "' + b"a" * BIG + b'"}'), 413, "body"),
    ("body_7.5MB_chunked", {"content": _chunks(BIG), "ctype": "application/json"}, 413, "body"),
    ("nested_100k", _raw("[" * 100_000 + "]" * 100_000), 422, "body"),
    ("not_an_object", _json([1, 2, 3]), 422, "body"),
    ("not_json", _raw("{rating_years: 3"), 422, "body"),
    ("text_plain", _raw('{"seed": 1}', "text/plain"), 415, "body"),
]


def _send(api, url: str, headers: dict[str, str], attack: dict[str, Any]):
    content = attack["content"]
    if not isinstance(content, bytes):  # a generator: rebuilt per call
        content = _chunks(BIG)
    return api.client.post(
        url, content=content, headers={**headers, "Content-Type": attack["ctype"]}
    )


@pytest.mark.parametrize("route", ["plans", "roadmaps"])
@pytest.mark.parametrize(
    ("attack", "status", "field"),
    [pytest.param(a, s, f, id=name) for name, a, s, f in ATTACKS],
)
def test_rules_attack_refused(api, world, route, attack, status, field, capsys):
    """The attack answers its 4xx naming the field, as problem+json; nothing is stored."""
    before = _counts(api)
    r = _send(api, f"/v1/datasets/{world['ds']}/{route}", api.key("planner"), attack)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert any((e["field"] or "").startswith(field) for e in body["errors"]), body
    assert _counts(api) == before
    assert "500 on" not in capsys.readouterr().out


def test_out_of_scope_cadre_same_as_unknown(api, world):
    """A D1 key excluding a D2 cadre gets the same 422 as for a cadre that does not exist."""
    url = f"/v1/datasets/{world['ds']}/plans"
    before = _counts(api)
    answers = []
    for cadre in ("K21", "NOBODY"):  # K21 exists, in district D2
        rules = {"exclude": [{"post_id": "S-C11", "cadre_id": cadre}]}
        r = api.client.post(url, json=rules, headers=world["d1"])
        assert r.status_code == 422, r.text
        answers.append(r.json()["detail"].replace(repr(cadre), "X"))
    assert answers[0] == answers[1]
    assert _counts(api) == before


def test_out_of_scope_post_same_as_unknown(api, world):
    """A D1 key locking a D2 post gets the same 422 as for a post that does not exist."""
    url = f"/v1/datasets/{world['ds']}/plans"
    answers = []
    for post in ("S-C21", "NOPOST"):
        r = api.client.post(
            url, json={"locks": [{"post_id": post, "cadre_id": "K11"}]}, headers=world["d1"]
        )
        assert r.status_code == 422, r.text
        answers.append(r.json()["detail"].replace(repr(post), "X"))
    assert answers[0] == answers[1]


def test_valid_lock_accepted(api, world):
    """The guard is not a wall: a lock naming a post and cadre of the dataset is queued."""
    rules = {**AS_OF_RULES, "locks": [{"post_id": "S-C11", "cadre_id": "K11"}]}
    r = api.client.post(f"/v1/datasets/{world['ds']}/plans", json=rules, headers=api.key("admin"))
    assert r.status_code == 202, r.text
    api.wait(r.json()["job_id"])


def test_repair_other_district_cadre_same_as_unknown(api, world):
    """A repair event naming another district's cadre answers the same 422 as an unknown one;
    no job is queued."""
    url = f"/v1/plans/{world['plan']}/repair"
    before = _counts(api)
    answers = []
    for cadre in ("K21", "NOBODY"):
        r = api.client.post(
            url, json={"events": [{"type": "leaves", "cadre_id": cadre}]}, headers=world["d1"]
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        answers.append(r.json()["detail"].replace(repr(cadre), "X"))
    assert answers[0] == answers[1]
    assert _counts(api) == before
