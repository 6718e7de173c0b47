"""Repair of a term roadmap over HTTP: POST /v1/roadmaps/{id}/repair as a job, the repaired
roadmap read back and validated, bad events 422 naming them, scope and role as plan repair."""

from __future__ import annotations

import pytest
from api_helpers import AS_OF_RULES

ROUNDS = ["2026-01-01", "2027-01-01", "2028-01-01"]
HORIZON_RULES = {**AS_OF_RULES, "horizon": {"rounds": ROUNDS}}


def _roadmap(api, ds: str, headers: dict) -> dict:
    r = api.client.post(f"/v1/datasets/{ds}/roadmaps", json=HORIZON_RULES, headers=headers)
    assert r.status_code == 202, r.text
    job = api.wait(r.json()["job_id"], headers)
    assert job["status"] == "done", job
    return api.client.get(f"/v1/roadmaps/{job['roadmap_id']}", headers=headers).json()


def _holders(body: dict) -> list[dict]:
    return [{a["post_id"]: a["cadre_id"] for a in r["plan"]["assignments"]} for r in body["rounds"]]


@pytest.fixture(scope="module")
def adopted(api, tiny_id) -> dict:
    """The adopted roadmap of the whole tiny dataset (O22 holds S-C21 in every round)."""
    body = _roadmap(api, tiny_id, api.key("planner"))
    assert all(h["S-C21"] == "O22" for h in _holders(body))
    return body


def _repair(api, rid: str, events: list[dict], headers: dict):
    return api.client.post(f"/v1/roadmaps/{rid}/repair", json={"events": events}, headers=headers)


def test_roadmap_repair_job(api, adopted):
    """O22 leaves in round 2: a 202 job whose roadmap keeps round 1 as adopted, refills S-C21
    from round 2 with the fewest changes (S-C21 in rounds 2 and 3 only), lists them with names,
    and passes the roadmap validator."""
    from builders import tiny_problem

    from rotation.roadmap.validate import validate_roadmap
    from rotation.rules import load_rules

    h = api.key("planner")
    r = _repair(api, adopted["roadmap_id"], [{"type": "leaves", "cadre_id": "O22", "round": 2}], h)
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["repair_of"] == adopted["roadmap_id"] and created["from_round"] == 2
    job = api.wait(created["job_id"], h)
    assert job["status"] == "done", job
    assert job["kind"] == "roadmap" and job["roadmap_id"] != adopted["roadmap_id"]
    body = api.client.get(f"/v1/roadmaps/{job['roadmap_id']}", headers=api.key("viewer")).json()
    assert body["rounds"][0]["plan"] == adopted["rounds"][0]["plan"]
    changed = [
        (day, p)
        for day, old, new in zip(ROUNDS, _holders(adopted), _holders(body), strict=True)
        for p in old
        if old[p] != new[p]
    ]
    assert changed == [("2027-01-01", "S-C21"), ("2028-01-01", "S-C21")]
    repair = body["repair"]
    assert repair["repair_of"] == adopted["roadmap_id"] and repair["from_round"] == 2
    assert [(c["round"], c["post_id"]) for c in repair["changes"]] == changed
    assert all(c["adopted"] == "O22" and c["adopted_name"] for c in repair["changes"])
    assert repair["changed_posts_by_round"] == {"2027-01-01": 1, "2028-01-01": 1}
    assert repair["violations"] == []
    assert validate_roadmap(tiny_problem(), load_rules(HORIZON_RULES), body) == []


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ({"type": "leaves", "cadre_id": "NOBODY", "round": 2}, "cadre 'NOBODY' is not in"),
        ({"type": "vacant", "post_id": "S-C99", "round": 2}, "post 'S-C99' is not in round 2"),
        ({"type": "declines", "cadre_id": "O22", "round": 9}, "round 9 is not a round"),
        ({"type": "declines", "cadre_id": "O21", "round": 1}, "O21 holds no post in round 1"),
    ],
)
def test_roadmap_repair_bad_event_422_names_it(api, adopted, event, needle):
    """An event that does not fit the roadmap: 422 problem+json naming it, no job queued."""
    before = len(api.store.audit_rows())
    r = _repair(api, adopted["roadmap_id"], [event], api.key("planner"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert needle in r.text
    assert len(api.store.audit_rows()) == before


@pytest.mark.parametrize(
    "events",
    [
        [{"type": "leaves", "cadre_id": "O22"}],  # no round
        [{"type": "explodes", "cadre_id": "O22", "round": 2}],
        [{"type": "disciplined", "cadre_id": "O22", "kind": "fine", "round": 2}],
        [],
    ],
)
def test_roadmap_repair_bad_body_422(api, adopted, events):
    """A body outside the typed request (round missing, unknown type or kind, no events): 422."""
    r = _repair(api, adopted["roadmap_id"], events, api.key("planner"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_roadmap_repair_events_of_two_rounds_422(api, adopted):
    """Events of different rounds in one repair are refused, saying so."""
    events = [
        {"type": "leaves", "cadre_id": "O22", "round": 2},
        {"type": "disciplined", "cadre_id": "O11", "round": 3},
    ]
    r = _repair(api, adopted["roadmap_id"], events, api.key("planner"))
    assert r.status_code == 422, r.text
    assert "in one round" in r.text


def test_roadmap_repair_roles_and_scope(api, tiny_id, adopted):
    """As plan repair: a viewer may not start one (403); a district key cannot see another
    district's or the whole province's roadmap (404); in its own, another district's cadre
    gets the same 422 as an unknown one."""
    event = [{"type": "leaves", "cadre_id": "O22", "round": 2}]
    assert _repair(api, adopted["roadmap_id"], event, api.key("viewer")).status_code == 403
    d1 = api.key("planner", "D1")
    assert _repair(api, adopted["roadmap_id"], event, d1).status_code == 404
    own = _roadmap(api, tiny_id, d1)
    answers = []
    for cadre in ("K21", "NOBODY"):
        r = _repair(api, own["roadmap_id"], [{"type": "leaves", "cadre_id": cadre, "round": 2}], d1)
        assert r.status_code == 422, r.text
        answers.append(r.json()["detail"].replace(repr(cadre), "X"))
    assert answers[0] == answers[1]


def test_roadmap_repair_unknown_roadmap_404(api):
    """A roadmap id that does not exist: 404."""
    event = [{"type": "leaves", "cadre_id": "O22", "round": 2}]
    assert _repair(api, "nope", event, api.key("planner")).status_code == 404
