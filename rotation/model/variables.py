"""The CP-SAT model: one boolean per eligible (cadre, post) pair, vacancy flags, and every rule
row of ``constraints.py`` added as a linear constraint."""

from __future__ import annotations

from ortools.sat.python import cp_model

from ..eligibility import Eligibility
from .constraints import Row, all_rows
from .index import PairIndex


class Variables(PairIndex):
    def __init__(self, elig: Eligibility, diagnosing: bool = False) -> None:
        super().__init__(elig)
        self.diagnosing = diagnosing
        self.assumptions: dict[int, tuple[str, str, str]] = {}
        self.slacks: list = []
        self.cp = cp_model.CpModel()
        self.x = [self.cp.NewBoolVar(f"x{k}") for k in range(self.n_pairs)]
        self.vacant = (
            {p: self.cp.NewBoolVar(f"vacant{p}") for p in range(len(elig.posts))}
            if self.allow_vacancies
            else {}
        )

    def expr(self, row: Row):
        x = self.x
        terms = [x[k] for k in row.pairs.tolist()] + [self.vacant[p] for p in row.vacs]
        coefs = row.coefs.tolist() + [1] * len(row.vacs)
        return cp_model.LinearExpr.WeightedSum(terms, coefs)

    def add_row(self, row: Row) -> None:
        """Add one rule instance. In diagnosis mode a relaxable row gets an elastic slack that an
        assumption literal pins to 0, so the solver can name the instances in conflict (a slack
        keeps the LP relaxation tight, unlike enforcing the whole sum with a literal)."""
        expr = self.expr(row)
        if not (self.diagnosing and row.relaxable):
            if row.lo is not None:
                self.cp.Add(expr >= int(row.lo))
            if row.hi is not None:
                self.cp.Add(expr <= int(row.hi))
            return
        reach = int(abs(row.coefs).sum()) + len(row.vacs)  # the expression's largest swing
        big = max(1, reach + abs(int(row.lo or 0)) + abs(int(row.hi or 0)))
        under = self.cp.NewIntVar(0, big if row.lo is not None else 0, "")
        over = self.cp.NewIntVar(0, big if row.hi is not None else 0, "")
        if row.lo is not None:
            self.cp.Add(expr + under >= int(row.lo))
        if row.hi is not None:
            self.cp.Add(expr - over <= int(row.hi))
        lit = self.cp.NewBoolVar(f"assume:{row.rule}:{row.scope}")
        self.cp.Add(under + over == 0).OnlyEnforceIf(lit)
        self.assumptions[lit.Index()] = (row.rule, row.scope, row.detail)
        self.slacks.append((lit, under, over))

    def add_rules(self) -> None:
        for row in all_rows(self):
            self.add_row(row)
