"""Timefold Solver for Python as a peer of the benchmark, on the same rows and costs as every
other peer (``methods.row_model``).

The model, in Timefold's terms (as the quickstarts write it):

- planning entity = a post (``PostSlot``); planning variable = its holder, a ``Cadre`` taken from
  the post's own eligible cadres (a value range per entity); ``allows_unassigned`` exactly when
  the rules allow vacancies (then an unassigned post is a vacancy);
- ``one_post_per_cadre``: a unique-pair constraint (two posts with the same cadre);
- ``fill_every_post``: implied by the entity itself (one variable per post);
- every other rule row (``lo <= sum coef * x + vacancies <= hi``): one grouped hard constraint,
  the rows' terms grouped by row and summed, rows with no term added by ``complement``; the
  penalty is how far the sum is outside ``[lo, hi]``, in units of the row's largest coefficient;
- pair costs and vacancy costs: soft, the same scaled integers as the other peers get.

The solution comes back as a 0/1 vector over the row model's variables, so it is re-checked and
its objective recomputed by the same code as every other peer (``RowModel.violations`` /
``RowModel.objective``).

Times: the Java solver's own clock for the best-solution events (a Java-side listener that
reads the score only: the Python listener of ``timefold`` converts the whole solution to Python
on every event, which slows construction many times over); Python → Java and Java → Python
conversions are timed apart (``to_java_s``, ``from_java_s``). Needs a JDK ≥ 17 (``java`` on the
path or ``JAVA_HOME``) and ``pip install .[bench]``; see ``scripts/bench-peers.sh``.
"""

import dataclasses
import importlib.util
import os
import shutil
import time
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np

from rotation.model import SCALE

if TYPE_CHECKING:
    from .methods import RowModel

STRUCTURAL = {"fill_every_post", "one_post_per_cadre"}
"""Rules the entity model holds by construction (one holder per post) or by the unique-pair
constraint (one post per cadre): no grouped row for them."""

MAX_HEAP = os.environ.get("BENCH_TIMEFOLD_XMX", "4g")
"""The JVM's heap limit (``-Xmx``): the machine is shared; Hai Duong for 120 s needs < 3 GiB."""

MAX_PAIRS = int(os.environ.get("BENCH_TIMEFOLD_MAX_PAIRS", "300000"))
"""Above this many eligible pairs the peer is not run: the Python → Java conversion walks every
reference in Python (0.3–0.4 ms per pair each way at load 9–20, bench/README.md; national
2025's 933k pairs would spend five minutes or more converting before and after the solve)."""
TOO_BIG = f"more than {MAX_PAIRS:,} pairs: conversion to Java alone would exceed the budget"

NO_BOUND = 1 << 62  # a row side that is absent (Java long range; no real row comes close)


def unavailable() -> str | None:
    """Why the Timefold peer cannot run here (``None``: it can)."""
    if importlib.util.find_spec("timefold") is None:
        return "timefold not installed: pip install .[bench]"
    home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (home and os.path.exists(os.path.join(home, "bin"))):
        return "no JDK (java ≥ 17): scripts/bench-peers.sh installs openjdk-17-jdk-headless"
    return None


def start_jvm() -> float:
    """Start the JVM (once per process) with the heap limit; seconds it took."""
    import jpype

    t0 = time.perf_counter()
    if not jpype.isJVMStarted():
        from _jpyinterpreter import get_default_jvm_path
        from timefold.solver._timefold_java_interop import init

        init(get_default_jvm_path(), f"-Xmx{MAX_HEAP}")
    return time.perf_counter() - t0


@lru_cache(maxsize=2)
def domain(allow_vacancies: bool) -> SimpleNamespace:
    """The Timefold domain (classes and constraints), built once per process and per kind of
    post (vacancies allowed or not: ``allows_unassigned`` is a class-level annotation)."""
    start_jvm()
    from timefold.solver.domain import (
        PlanningEntityCollectionProperty,
        PlanningId,
        PlanningScore,
        PlanningVariable,
        ProblemFactCollectionProperty,
        ValueRangeProvider,
        planning_entity,
        planning_solution,
    )
    from timefold.solver.score import (
        ConstraintCollectors,
        ConstraintFactory,
        HardSoftScore,
        Joiners,
        constraint_provider,
    )

    @dataclasses.dataclass(eq=False)  # identity equality: dataclass __eq__ costs moves/s
    class Cadre:
        index: Annotated[int, PlanningId]

    @dataclasses.dataclass(eq=False)
    class RuleRow:
        """One rule row: ``lo <= sum of its terms <= hi``; ``unit``: its largest |coef|."""

        index: Annotated[int, PlanningId]
        lo: int
        hi: int
        unit: int

    @dataclasses.dataclass(eq=False)
    class Term:
        row: RuleRow
        coef: int

    @planning_entity
    @dataclasses.dataclass(eq=False)
    class PostSlot:
        index: Annotated[int, PlanningId]
        eligible: Annotated[list[Cadre], ValueRangeProvider(id="eligible")]
        cost: dict  # cadre index -> scaled cost of the pair
        terms: dict  # cadre index -> the pair's terms in rule rows (absent: none)
        vacancy_cost: int
        vacancy_terms: list
        cadre: Annotated[
            Cadre | None,
            PlanningVariable(
                value_range_provider_refs=["eligible"], allows_unassigned=allow_vacancies
            ),
        ] = None

    @planning_solution
    @dataclasses.dataclass(eq=False)
    class Rotation:
        cadres: Annotated[list[Cadre], ProblemFactCollectionProperty]
        rows: Annotated[list[RuleRow], ProblemFactCollectionProperty]
        posts: Annotated[list[PostSlot], PlanningEntityCollectionProperty]
        score: Annotated[HardSoftScore | None, PlanningScore] = None

    no_terms: list = []

    def one_post_per_cadre(f: ConstraintFactory):
        """A cadre holds at most one post."""
        return (
            f.for_each_unique_pair(PostSlot, Joiners.equal(lambda p: p.cadre))
            .penalize(HardSoftScore.ONE_HARD)
            .as_constraint("one_post_per_cadre")
        )

    def rule_rows(f: ConstraintFactory):
        """Every other rule row: the sum of the chosen pairs' (and vacancies') terms within
        [lo, hi]; a row no chosen pair touches sums to 0 (complement)."""
        return (
            f.for_each_including_unassigned(PostSlot)
            .flatten_last(
                lambda p: (
                    p.vacancy_terms if p.cadre is None else p.terms.get(p.cadre.index, no_terms)
                )
            )
            .group_by(lambda t: t.row, ConstraintCollectors.sum(lambda t: t.coef))
            .complement(RuleRow, lambda r: 0)
            .filter(lambda r, s: s < r.lo or s > r.hi)
            .penalize(
                HardSoftScore.ONE_HARD,
                lambda r, s: (
                    (r.lo - s + r.unit - 1) // r.unit
                    if s < r.lo
                    else (s - r.hi + r.unit - 1) // r.unit
                ),
            )
            .as_constraint("rule_rows")
        )

    def pair_cost(f: ConstraintFactory):
        """The planner's objective: each assignment's scaled cost (travel, change, rewards)."""
        return (
            f.for_each(PostSlot)
            .impact(HardSoftScore.ONE_SOFT, lambda p: -p.cost[p.cadre.index])
            .as_constraint("pair_cost")
        )

    def vacancy_cost(f: ConstraintFactory):
        """The planner's objective: each vacancy's scaled cost."""
        return (
            f.for_each_including_unassigned(PostSlot)
            .filter(lambda p: p.cadre is None)
            .impact(HardSoftScore.ONE_SOFT, lambda p: -p.vacancy_cost)
            .as_constraint("vacancy_cost")
        )

    hard = [one_post_per_cadre, rule_rows]
    soft = [pair_cost] + ([vacancy_cost] if allow_vacancies else [])

    @constraint_provider
    def constraints(f: ConstraintFactory):
        # Hard constraints
        out = [c(f) for c in hard]
        # Soft constraints
        out += [c(f) for c in soft]
        return out

    return SimpleNamespace(
        Cadre=Cadre,
        RuleRow=RuleRow,
        Term=Term,
        PostSlot=PostSlot,
        Rotation=Rotation,
        constraints=constraints,
    )


def build_problem(m: "RowModel", d: SimpleNamespace) -> Any:
    """The row model as a Timefold problem (all posts unassigned)."""
    e = m.elig
    n = m.n
    n_post = len(e.posts)
    pair_post = e.pair_post.astype(np.int64)
    pair_cadre = e.pair_cadre.astype(np.int64)
    cadres = {int(c): d.Cadre(int(c)) for c in np.unique(pair_cadre).tolist()}
    rows = []
    # the conversion to Java costs one call per reference: terms (row, coef) and the lists of
    # terms are shared between the pairs that have the same ones, so each is converted once
    term_of: dict[tuple[int, int], Any] = {}
    terms_of: dict[int, list[tuple[int, int]]] = {}  # variable -> its (row, coef) keys
    for k in range(m.rows):
        if m.rule[k] in STRUCTURAL:
            continue
        a, b = int(m.starts[k]), int(m.starts[k + 1])
        cols = m.index[a:b].tolist()
        vals = np.rint(m.value[a:b]).astype(np.int64).tolist()
        lo = -NO_BOUND if np.isinf(m.lo[k]) else round(m.lo[k])
        hi = NO_BOUND if np.isinf(m.hi[k]) else round(m.hi[k])
        row = d.RuleRow(len(rows), int(lo), int(hi), max((abs(v) for v in vals), default=1) or 1)
        rows.append(row)
        for j, v in zip(cols, vals, strict=True):
            if v == 0:
                continue
            if (row.index, v) not in term_of:
                term_of[(row.index, v)] = d.Term(row, v)
            terms_of.setdefault(j, []).append((row.index, v))
    shared: dict[tuple, list] = {}

    def term_list(j: int) -> list:
        key = tuple(terms_of[j])
        if key not in shared:
            shared[key] = [term_of[t] for t in key]
        return shared[key]

    pair_terms = {j: term_list(j) for j in terms_of if j < n}
    vac_terms = {j - n: term_list(j) for j in terms_of if j >= n}
    cost = np.rint(m.cost).astype(np.int64)
    by_post: list[list[int]] = [[] for _ in range(n_post)]
    for k, p in enumerate(pair_post.tolist()):
        by_post[p].append(k)
    posts = []
    for p in range(n_post):
        ks = by_post[p]
        cs = pair_cadre[ks].tolist()
        posts.append(
            d.PostSlot(
                index=p,
                eligible=[cadres[c] for c in cs],
                cost=dict(zip(cs, cost[ks].tolist(), strict=True)),
                terms={c: pair_terms[k] for k, c in zip(ks, cs, strict=True) if k in pair_terms},
                vacancy_cost=int(cost[n + p]) if n + p < len(cost) else 0,
                vacancy_terms=vac_terms.get(p, []),
            )
        )
    return d.Rotation(cadres=list(cadres.values()), rows=rows, posts=posts)


def solution_vector(m: "RowModel", solution: Any) -> np.ndarray:
    """The solution as a 0/1 vector over the row model's variables (pairs, then vacancies)."""
    e = m.elig
    pair_of = {
        (int(p), int(c)): k
        for k, (p, c) in enumerate(zip(e.pair_post.tolist(), e.pair_cadre.tolist(), strict=True))
    }
    x = np.zeros(m.nv)
    for post in solution.posts:
        if post.cadre is None:
            if m.nv > m.n:
                x[m.n + post.index] = 1
        else:
            x[pair_of[(post.index, post.cadre.index)]] = 1
    return x


def solve(m: "RowModel", time_limit: float, seed: int = 0, with_holders: bool = False) -> dict:
    """Solve the row model with Timefold for ``time_limit`` seconds (Java clock): a result dict
    as the other peers give (status, objective re-checked, times, conversions); with
    ``holders`` (post id → cadre id or None) when ``with_holders``."""
    from .methods import _checked

    jvm_s = start_jvm()
    e = m.elig
    allow_vac = m.nv > m.n
    if not allow_vac:
        empty = np.setdiff1d(np.arange(len(e.posts)), e.pair_post)
        if len(empty):
            return {
                "pairs": m.n,
                "status": f"infeasible ({len(empty)} posts without an eligible cadre)",
            }
    td = time.perf_counter()
    d = domain(allow_vac)
    domain_s = time.perf_counter() - td
    t0 = time.perf_counter()
    problem = build_problem(m, d)
    build_problem_s = time.perf_counter() - t0

    import jpype
    from _jpyinterpreter import convert_to_java_python_like_object, unwrap_python_like_object
    from timefold.solver import SolverFactory
    from timefold.solver.config import (
        Duration,
        EnvironmentMode,
        ScoreDirectorFactoryConfig,
        SolverConfig,
        TerminationConfig,
    )

    t1 = time.perf_counter()
    config = SolverConfig(
        solution_class=d.Rotation,
        entity_class_list=[d.PostSlot],
        environment_mode=EnvironmentMode.NO_ASSERT,  # reproducible, no checks
        random_seed=seed,
        score_director_factory_config=ScoreDirectorFactoryConfig(
            constraint_provider_function=d.constraints
        ),
        termination_config=TerminationConfig(
            spent_limit=Duration(milliseconds=int(time_limit * 1000))
        ),
    )
    solver = SolverFactory.create(config).build_solver()
    events: list[tuple[float, int, int, bool]] = []  # (Java s, hard, soft, initialized)

    @jpype.JImplements("ai.timefold.solver.core.api.solver.event.SolverEventListener")
    class _Scores:
        @jpype.JOverride
        def bestSolutionChanged(self, event):  # Java's method name
            score = event.getNewBestScore()
            events.append(
                (
                    event.getTimeMillisSpent() / 1000,
                    int(score.hardScore()),
                    int(score.softScore()),
                    bool(event.isNewBestSolutionInitialized()),
                )
            )

    solver._delegate.addEventListener(_Scores())
    solver_build_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    java_problem = convert_to_java_python_like_object(problem)
    to_java_s = time.perf_counter() - t2
    t3 = time.perf_counter()
    java_solution = solver._delegate.solve(java_problem)
    solve_s = time.perf_counter() - t3
    t4 = time.perf_counter()
    solution = unwrap_python_like_object(java_solution)
    from_java_s = time.perf_counter() - t4
    unassigned = 0 if allow_vac else sum(p.cadre is None for p in solution.posts)
    x = solution_vector(m, solution)
    broken: int | None = m.violations(x)
    status = "feasible"
    if unassigned:  # the construction heuristic ran out of time: no complete plan
        status, broken = f"no complete plan ({unassigned} posts unassigned at the limit)", None
    # first feasible: Timefold's own hard score 0; the re-check below is the judge of the last
    feasible = [ev for ev in events if ev[3] and ev[1] == 0]
    score = solution.score
    out = {
        "pairs": m.n,
        "build_s": m.build_s + domain_s + build_problem_s + solver_build_s,
        "solve_s": solve_s,
        "total_s": m.build_s
        + domain_s
        + build_problem_s
        + solver_build_s
        + to_java_s
        + solve_s
        + from_java_s,
        "status": _checked(status, broken),
        "objective": m.objective(x) if broken == 0 else None,  # from our costs, not its score
        "bound": None,
        "rows": m.rows,
        "grouped_rows": len(problem.rows),
        "first_s": feasible[0][0] if feasible else None,
        "best_s": events[-1][0] if events and events[-1] in feasible else None,
        "proof_s": None,  # a local search never proves optimality
        "jvm_start_s": jvm_s,
        "row_model_s": m.build_s,
        "domain_s": domain_s,
        "problem_build_s": build_problem_s,
        "solver_build_s": solver_build_s,
        "to_java_s": to_java_s,
        "from_java_s": from_java_s,
        "score": str(score),
        "timefold_objective": -score.soft_score / SCALE if score is not None else None,
        "events": len(events),
    }
    if with_holders:
        out["holders"] = {
            e.post_id(p.index): None if p.cadre is None else e.cadre_id(p.cadre.index)
            for p in solution.posts
        }
    return out
