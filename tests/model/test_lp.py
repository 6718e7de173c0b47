"""The LP relaxation reads a row's arrivals as the pairs themselves (a single plan's new-post
pair arrives exactly when chosen), so a row written over arrivals bounds the LP as the same row
written over pairs does."""

from __future__ import annotations

import numpy as np
from builders import default_rules, tiny_problem, with_travel

from rotation.eligibility import compute_eligibility
from rotation.model import PairIndex, Row, all_rows
from rotation.model.lp import solve_lp


def test_a_row_over_arrivals_bounds_the_lp_like_the_same_row_over_pairs():
    data = with_travel(tiny_problem(), "C12", "C13", 30)  # O12 lives in C12
    e = compute_eligibility(data, default_rules(weights={"travel_km": 1, "change": 50}))
    ix = PairIndex(e)
    rows = list(all_rows(ix))
    near = [ix.post_index[p] for p in ("S-C11", "S-C12")]  # where D1's office cadres live
    new = [k for p in near for k in ix.pairs_of_post[p] if not e.pair_keep[k]]
    none = np.zeros(0, dtype=np.int64)
    over_pairs = Row("test", "D1", "", np.asarray(new), np.ones(len(new), np.int64), None, 0)
    over_arrivals = Row("test", "D1", "", none, none, None, 0, arrivals=new)
    free = solve_lp(ix, rows).bound
    by_pairs = solve_lp(ix, [*rows, over_pairs]).bound
    by_arrivals = solve_lp(ix, [*rows, over_arrivals]).bound
    assert by_arrivals == by_pairs > free  # D1's move must go to C13, farther


def test_the_pair_index_gives_each_posts_and_cadres_pairs_once_and_read_only():
    """The views the rows are made of (a post's pairs, a cadre's pairs) are exactly the pairs
    with that post or cadre, in pair order, and cannot be written to; the lists made from them
    on demand say the same; a cadre without pairs has none."""
    e = compute_eligibility(tiny_problem(), default_rules())
    ix = PairIndex(e)
    for p in range(len(e.posts)):
        want = np.nonzero(e.pair_post == p)[0]
        assert ix.post_pairs(p).tolist() == want.tolist() == ix.pairs_of_post[p]
    seen = dict(ix.cadre_pairs())
    for c in range(len(e.data.cadres)):
        want = np.nonzero(e.pair_cadre == c)[0].tolist()
        assert ix.pairs_of_one_cadre(c).tolist() == want == ix.pairs_of_cadre.get(c, [])
        assert seen.get(c, np.zeros(0)).tolist() == want
    assert len(ix.pairs_of_one_cadre(-1)) == len(ix.pairs_of_one_cadre(len(e.data.cadres))) == 0
    with np.testing.assert_raises(ValueError):
        ix.post_pairs(0)[:] = 0
