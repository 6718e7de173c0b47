"""Eligibility: the vectorised pair builder and the scalar refusal reasons agree on every pair."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from strategies import instances

from rotation.data import ProblemData
from rotation.eligibility import compute_eligibility
from rotation.rules import Rules


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instances())
def test_vectorised_pairs_match_refusal_reasons(case: tuple[ProblemData, Rules]):
    """A (cadre, post) pair is eligible exactly when refusal_reasons finds no rule against it."""
    data, rules = case
    elig = compute_eligibility(data, rules)
    post_ids = elig.posts.index.to_numpy()
    cadre_ids = data.cadres.index.to_numpy()
    eligible = {
        (str(post_ids[p]), str(cadre_ids[c]))
        for p, c in zip(elig.pair_post, elig.pair_cadre, strict=True)
    }
    disagree = []
    for post_id in post_ids:
        for cadre_id in cadre_ids:
            reasons = elig.why_not(str(cadre_id), str(post_id))
            if ((post_id, cadre_id) in eligible) == bool(reasons):
                disagree.append((post_id, cadre_id, reasons))
    assert disagree == [], disagree[:5]
