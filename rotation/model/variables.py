"""The CP-SAT model: one boolean per eligible (cadre, post) pair, vacancy flags, and every rule
row of ``constraints.py`` added as a linear constraint."""

from __future__ import annotations

from ortools.sat.python import cp_model

from ..eligibility import Eligibility
from .constraints import Row, all_rows
from .index import PairIndex


class Variables(PairIndex):
    """The pair index and the CP-SAT variables its rows are written over.

    ``cp``: the model the variables live in (a new one by default; a term roadmap passes one
    shared model to every round's variables).
    """

    def __init__(
        self, elig: Eligibility, diagnosing: bool = False, cp: cp_model.CpModel | None = None
    ) -> None:
        super().__init__(elig)
        self.diagnosing = diagnosing
        self.assumptions: dict[int, tuple[str, str, str]] = {}
        self.slacks: list[tuple[cp_model.IntVar, cp_model.IntVar, cp_model.IntVar]] = []
        self.cp = cp_model.CpModel() if cp is None else cp
        self.x = [self.cp.new_bool_var(f"x{k}") for k in range(self.n_pairs)]
        self.vacant = (
            {p: self.cp.new_bool_var(f"vacant{p}") for p in range(len(elig.posts))}
            if self.allow_vacancies
            else {}
        )
        self.longest: cp_model.IntVar | None = None  # the max_travel term's variable, if any

    def arrival(self, k: int) -> cp_model.IntVar:
        """The literal "pair ``k``'s cadre arrives at its post": in a single plan a new-post pair
        arrives exactly when it is chosen."""
        return self.x[k]

    def expr(self, row: Row) -> cp_model.LinearExpr:
        x = self.x
        terms = (
            [x[k] for k in row.pairs.tolist()]
            + [self.vacant[p] for p in row.vacs]
            + [self.arrival(k) for k in row.arrivals]
        )
        coefs = row.coefs.tolist() + [1] * len(row.vacs) + row.arrival_weights().tolist()
        return cp_model.LinearExpr.weighted_sum(terms, coefs)

    def add_row(self, row: Row) -> None:
        """Add one rule instance. In diagnosis mode a relaxable row gets an elastic slack that an
        assumption literal pins to 0, so the solver can name the instances in conflict (a slack
        keeps the LP relaxation tight, unlike enforcing the whole sum with a literal)."""
        # the expression's largest swing (rows of v1.1 carry large coefficients: budget, shares)
        size = int(abs(row.coefs).sum()) + len(row.vacs) + int(abs(row.arrival_weights()).sum())
        self.add_bounds(
            self.expr(row), row.lo, row.hi, (row.rule, row.scope, row.detail), size, row.relaxable
        )

    def add_bounds(
        self,
        expr: cp_model.LinearExpr,
        lo: float | None,
        hi: float | None,
        name: tuple[str, str, str],
        size: int,
        relaxable: bool = True,
    ) -> None:
        """``lo <= expr <= hi`` as one rule instance ``name`` = (rule, scope, detail) over
        ``size`` terms, elastic in diagnosis mode (see :meth:`add_row`)."""
        if not (self.diagnosing and relaxable):
            if lo is not None:
                self.cp.add(expr >= int(lo))
            if hi is not None:
                self.cp.add(expr <= int(hi))
            return
        big = max(1, size + abs(int(lo or 0)) + abs(int(hi or 0)))
        under = self.cp.new_int_var(0, big if lo is not None else 0, "")
        over = self.cp.new_int_var(0, big if hi is not None else 0, "")
        if lo is not None:
            self.cp.add(expr + under >= int(lo))
        if hi is not None:
            self.cp.add(expr - over <= int(hi))
        lit = self.cp.new_bool_var(f"assume:{name[0]}:{name[1]}")
        self.cp.add(under + over == 0).only_enforce_if(lit)
        self.assumptions[lit.index] = name
        self.slacks.append((lit, under, over))

    def add_rules(self) -> None:
        for row in all_rows(self):
            self.add_row(row)
