"""Term roadmap: the rotations of a whole term, round by round (rules ``horizon``)."""

from .horizon import Horizon, TrajectoryTarget, round_rules
from .state import project_ratings, release_office, roll_forward

__all__ = [
    "Horizon",
    "TrajectoryTarget",
    "project_ratings",
    "release_office",
    "roll_forward",
    "round_rules",
]
