"""The events a repair knows, for a plan and a term roadmap alike: one vocabulary, one parser,
and what a ``disciplined`` event adds to a dataset. Nothing here builds a plan, so the
validators may read it (``rotation.roadmap.validate`` applies a repaired roadmap's events)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from .data import DISCIPLINE_KINDS, ProblemData


class RepairError(ValueError):
    """An event that does not fit the plan or the dataset (a list of messages)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


EVENT_TYPES = ("declines", "leaves", "vacant", "disciplined")
"""The events a repair knows (a plan's and a term roadmap's alike): ``declines:CADRE[@POST]``
(the cadre refuses the post proposed to them), ``leaves:CADRE`` (retires, dies, is transferred
out: holds no post), ``vacant:POST`` (the post's planned holder is out; it is filled anew),
``disciplined:CADRE[:kind=reprimand|warning|removal]`` (a disciplinary measure on the plan's date:
the cadre takes no new post for ``discipline_months[kind]``; default kind ``reprimand``)."""

EVENT_SYNTAX = (
    "declines:CADRE[@POST], leaves:CADRE, vacant:POST or disciplined:CADRE[:kind=KIND]"
    ", each optionally followed by :round=N in a roadmap"
)


def _event_options(parts: list[str]) -> tuple[dict[str, str], list[str]]:
    """``key=value`` options after the reference (``round=2``, ``kind=warning``)."""
    options: dict[str, str] = {}
    bad: list[str] = []
    for part in parts:
        key, eq, value = (x.strip() for x in part.partition("="))
        if not eq or key not in ("round", "kind") or not value or key in options:
            bad.append(part)
        else:
            options[key] = value
    return options, bad


def parse_event(text: str) -> dict[str, Any]:
    """One event from its text (:data:`EVENT_TYPES`); ``round`` (1-based) when given.

    Raises ``ValueError`` with what is wrong (the caller names the event)."""
    kind, sep, rest = text.partition(":")
    kind = kind.strip()
    ref, *parts = rest.split(":")
    ref = ref.strip()
    if not sep or kind not in EVENT_TYPES or not ref:
        raise ValueError(f"expected {EVENT_SYNTAX}")
    options, bad = _event_options(parts)
    if bad:
        raise ValueError(f"unknown option {bad[0]!r} (options: round=N, kind=KIND)")
    target, at, post = (x.strip() for x in ref.partition("@"))
    if at and (kind != "declines" or not target or not post):
        raise ValueError("only declines names a post after '@': declines:CADRE@POST")
    event: dict[str, Any] = {"type": kind}
    if kind == "vacant":
        event["post_id"] = target
    else:
        event["cadre_id"] = target
    if post:
        event["post_id"] = post
    if "kind" in options:
        if kind != "disciplined":
            raise ValueError("kind= belongs to a disciplined event")
        if options["kind"] not in DISCIPLINE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(DISCIPLINE_KINDS)}")
    if kind == "disciplined":
        event["kind"] = options.get("kind", "reprimand")
    if "round" in options:
        if not options["round"].isdigit() or int(options["round"]) < 1:
            raise ValueError(f"round must be a round number 1, 2, … (got {options['round']!r})")
        event["round"] = int(options["round"])
    return event


def parse_events(texts: list[str], rounds: bool = False) -> list[dict[str, Any]]:
    """Event texts (:data:`EVENT_SYNTAX`) → event dicts; :class:`RepairError` names every
    malformed one. ``rounds``: the events are a term roadmap's (``round=N`` required);
    otherwise a plan's (no round)."""
    out: list[dict[str, Any]] = []
    bad: list[str] = []
    for i, text in enumerate(texts):
        try:
            event = parse_event(text)
        except ValueError as exc:
            bad.append(f"--event {text!r}: {exc} (event {i + 1})")
            continue
        if rounds and "round" not in event:
            bad.append(f"--event {text!r}: say in which round, e.g. {text}:round=2 (event {i + 1})")
        elif not rounds and "round" in event:
            bad.append(
                f"--event {text!r}: a plan has no rounds; round= is for a roadmap's repair"
                f" (event {i + 1})"
            )
        else:
            out.append(event)
    if bad:
        raise RepairError(bad)
    return out


def with_discipline(data: ProblemData, events: list[dict[str, Any]], day: dt.date) -> ProblemData:
    """``data`` with a discipline row (cadre, kind, ``day``) per ``disciplined`` event (the same
    table the rule ``discipline_months`` reads; other tables shared)."""
    import pandas as pd

    rows = [
        {"cadre_id": e["cadre_id"], "kind": e.get("kind", "reprimand"), "date": day}
        for e in events
        if e["type"] == "disciplined"
    ]
    if not rows:
        return data
    discipline = pd.concat([data.discipline, pd.DataFrame(rows)], ignore_index=True)
    return replace(data, discipline=discipline)
