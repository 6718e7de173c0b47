"""rotation: plan cadre rotations so communes get non-local leaders, within every rule.

Data flows one way: read → validate → eligibility → model → plan → report.
"""

from .data import ProblemData
from .errors import DataError, Problem
from .rules import Rules, RulesError, load_rules

__all__ = ["DataError", "Problem", "ProblemData", "Rules", "RulesError", "load_rules"]
__version__ = "0.1.0"
