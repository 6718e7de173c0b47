"""The rule names, one per rule family, shared by eligibility refusals, model constraints, the
validator, diagnoses and explanations. A planner sees the same name wherever a rule shows up.
"""

from __future__ import annotations

# Hard rules (contract §2). name -> what it means, in a planner's words.
HARD_RULES: dict[str, str] = {
    "fill_every_post": "every post in the plan's scope has exactly one holder (vacancies only when allowed)",
    "one_post_per_cadre": "a cadre holds at most one post",
    "out_of_scope_post": "a cadre who holds a post outside the plan's positions keeps it",
    "not_movable": "a cadre marked not movable keeps the current post (at the tenure limit: released, never moved)",
    "minimum_tenure": "a cadre with less than min_years_in_post in the current post keeps it",
    "maximum_tenure": "an incumbent with max_years_in_post or more must leave the post",
    "lock": "a locked post goes to the named cadre",
    "exclusion": "an excluded cadre does not take the named post",
    "planning_list": "a new position must be on the cadre's planning list",
    "rating": "a cadre taking a new post was rated at least min_rating in each of the last rating_years years",
    "retirement": "a cadre taking a new post has at least min_years_to_retirement years before retirement",
    "merged_commune": "posts of a commune merged into another are not filled; their holders take another post or are released",
    "discipline": "a disciplined cadre takes no new post for discipline_months after the measure (Regulation 377-QĐ/TW)",
    "retirement_from_office": "a cadre coming from an office to a commune post has at least min_years_to_retirement_from_office years before retirement (Regulation 65-QĐ/TW)",
    "never_below_current": "no scope of a non-local target ends with fewer non-local holders than today",
    "travel_distance": "residence to the new post is within max_travel_km",
    "personal_travel_limit": "residence to the new post is within the cadre's own max_travel_km",
    "other_province": "candidates come from the post's own province (rule same_province)",
    "relatives_same_unit": "two relatives do not lead the same unit (Regulation 114-QĐ/TW)",
    "non_local_target": "at least ceil(min_share × n) of a scope's posts have non-local holders",
    "max_changes": "at most `count` posts change holder in each scope",
    "priority_shares": "among the cadres who take a new post, at least min_share are women / young (< 40) / ethnic minority",
    "budget_vnd": "the plan's total support allowance stays within budget_vnd",
}

# Checks of a plan's own claims (validator only).
CLAIMS: dict[str, str] = {
    "unknown_post": "the plan names a post that is not in the data",
    "unknown_cadre": "the plan names a cadre who is not in the data",
    "claim_previous_post": "previous_post_id is the post the cadre held before",
    "claim_changed": "changed is true exactly when the holder differs from the incumbent",
    "claim_non_local": "non_local matches the data and the rules' definition of local",
    "claim_travel_km": "travel_km matches the distance residence → post unit",
    "claim_released": "released lists exactly the incumbents who keep no post",
    "claim_support": "support_vnd is the support tier (rules.support) for the travel of a cadre who takes a new post, 0 otherwise",
    "claim_names": "cadre_name and unit_name match the data",
    "claim_kpis": "each KPI the plan (or a roadmap's kpis_by_round) claims matches the data",
    "claim_unit_position": "unit_id and position match the post",
}

# Soft terms of the objective (see Weights in rules.py for units).
SOFT_TERMS: dict[str, str] = {
    "travel_km": "km travelled residence → post, summed over holders",
    "change": "posts whose holder changes",
    "vacancy": "posts left vacant",
    "non_local_extra": "non-local holders beyond the target (a reward)",
    "priority_women": "newly appointed women (a reward)",
    "priority_young": "newly appointed cadres under 40 (a reward)",
    "priority_minority": "newly appointed ethnic-minority cadres (a reward)",
    "rating_fit": "newly appointed cadres rated excellent last year (a reward)",
    "max_travel": "the longest travel among cadres who take a new post",
    "support_cost": "support allowance paid to cadres who take a new post, per million VND",
    "preference": "cadres placed in a unit they wished for (a reward)",
}


def describe(rule: str) -> str:
    return HARD_RULES.get(rule) or CLAIMS.get(rule) or SOFT_TERMS.get(rule) or rule
