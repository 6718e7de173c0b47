"""Plan types: declared optional fields (score parts, alternatives, best reachable share,
non-local counts) appear in the JSON only when set, where the run-time attachments used to."""

from __future__ import annotations

import json

from rotation.plan import Assignment, DiagnosisItem, Kpis, NonLocalShare, Plan


def assignment(**extra: object) -> Assignment:
    return Assignment(post_id="S1", unit_id="C1", position="secretary", cadre_id="K1", **extra)


def test_explanations_absent_leave_no_key():
    """Without explanations the assignment JSON has exactly the contract keys."""
    d = json.loads(Plan(status="feasible", assignments=[assignment()]).to_json())
    assert list(d["assignments"][0]) == [
        "post_id",
        "unit_id",
        "position",
        "cadre_id",
        "previous_post_id",
        "changed",
        "non_local",
        "travel_km",
    ]


def test_explanations_set_come_after_the_contract_keys():
    """score then alternatives, after travel_km; an empty score part set is kept ({})."""
    a = assignment()
    a.score = {}
    a.alternatives = [{"cadre_id": "K2", "why_not": "x", "failed_rule": None}]
    d = json.loads(Plan(status="feasible", assignments=[a]).to_json())["assignments"][0]
    assert list(d)[-2:] == ["score", "alternatives"]
    assert d["score"] == {} and d["alternatives"][0]["failed_rule"] is None


def test_round_trip_keeps_declared_fields():
    """Plan JSON read back gives the declared fields as typed attributes."""
    plan = Plan(
        status="infeasible",
        objective=None,
        bound=None,
        assignments=[assignment(score={"travel_km": 2.5})],
        kpis=Kpis(non_local_share=NonLocalShare(overall=0.5, non_local_posts=1, posts=2)),
        diagnosis=[DiagnosisItem(rule="non_local_target", scope="D1", detail="d", best_share=0.2)],
    )
    back = Plan.model_validate(json.loads(plan.to_json()))
    assert back.assignments[0].score == {"travel_km": 2.5}
    assert back.assignments[0].alternatives is None
    assert back.kpis.non_local_share.non_local_posts == 1
    assert back.kpis.non_local_share.posts == 2
    assert back.diagnosis[0].best_share == 0.2
    assert back.to_json() == plan.to_json()


def test_counts_and_best_share_absent_leave_no_key():
    share = json.loads(NonLocalShare(overall=0.1).model_dump_json())
    assert list(share) == ["overall", "by_scope"]
    item = json.loads(DiagnosisItem(rule="r", scope="s", detail="d").model_dump_json())
    assert list(item) == ["rule", "scope", "detail"]


def test_json_text_is_pythons_json_of_the_dump():
    """to_json (pydantic's serializer) writes the text json.dumps writes of the dump: Vietnamese
    unescaped, indent 2, extra fields, and infinities and NaN as Python writes them, so that a
    plan reads back the same."""
    a = assignment(travel_km=float("inf"), score={"travel_km": 1.5}, note="Bí thư Đảng ủy")
    b = Assignment(post_id="S2", unit_id="C2", position="chair", cadre_id=None, travel_km=0.1 + 0.2)
    plan = Plan(status="optimal", objective=float("nan"), assignments=[a, b])
    text = plan.to_json()
    assert text == json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2)
    assert "Bí thư Đảng ủy" in text and "Infinity" in text and "NaN" in text
    back = Plan.from_json(text)
    assert (
        back.assignments[0].travel_km == float("inf") and back.assignments[1].travel_km == 0.1 + 0.2
    )
