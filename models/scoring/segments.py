"""Segments and suggested outreach programs: rules as data, checked when they are loaded.

Segments are tried in order and a customer lands in the first that matches. A segment
matches through conditions on features (`when_any`: any group whose conditions all
hold) and/or a position in the ranked list (`top_share`: within the top share of all
scored customers). Inside a segment, the first program whose conditions hold is
suggested. A condition reads `feature op number`, e.g. `last_nps <= 6`; a condition on
a missing value is false. The first condition of a group names the fact the group is
about: in the ranked list, that fact leads the reasons of the customers it put there.
Segments and programs may carry a one-line `description` for the report; without one,
the report describes them from their rules.

A group with a condition on a feature the source lacks (the feature table has no such
column) holds for no one: it is not applied, and `unapplied_groups` says so, rather than
reading an absent fact as 0 ("no urgent ticket open") or as always true.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from features.availability import Present, lacking
from features.definitions import FEATURE_NAMES, feature
from models.scoring.files import slug

OPERATORS: dict[str, Callable[[pd.Series, float], pd.Series]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
CONDITION = re.compile(r"^\s*(\w+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_condition(text: str) -> tuple[str, str, float]:
    """`"last_nps <= 6"` -> ("last_nps", "<=", 6.0); unknown features are an error."""
    match = CONDITION.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a condition of the form `feature <= number`")
    name, op, number = match.groups()
    if name not in FEATURE_NAMES:
        raise ValueError(f"'{text}' names unknown feature '{name}' (see features/README.md)")
    return name, op, float(number)


def group_holds(group: list[str], features: pd.DataFrame) -> pd.Series:
    """Where every condition of the group holds (nowhere when a feature is not a column)."""
    holds = pd.Series(True, index=features.index)
    for text in group:
        name, op, number = parse_condition(text)
        if name not in features.columns:
            return pd.Series(False, index=features.index)
        values = features[name]
        holds &= OPERATORS[op](values, number).fillna(False) & values.notna()
    return holds


class Conditions(BaseModel):
    """Condition groups: true where every condition of at least one group holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    when_any: list[list[str]] = []

    @field_validator("when_any")
    @classmethod
    def _conditions_parse(cls, groups: list[list[str]]) -> list[list[str]]:
        for group in groups:
            for text in group:
                parse_condition(text)
        return groups

    def features(self) -> list[str]:
        """The features the conditions name, in the order they name them."""
        return [parse_condition(text)[0] for group in self.when_any for text in group]

    def holds(self, features: pd.DataFrame) -> pd.Series:
        """Where the conditions hold (everywhere when there are none)."""
        if not self.when_any:
            return pd.Series(True, index=features.index)
        result = pd.Series(False, index=features.index)
        for group in self.when_any:
            result |= group_holds(group, features)
        return result

    def defining_fact(self, features: pd.DataFrame) -> pd.Series:
        """The feature named by the first condition of the first group that holds.

        A group's first condition names the fact that it is about ("last_nps <= 6" in a
        group that also bounds the answer's age); missing where no group holds.
        """
        fact = pd.Series(pd.NA, index=features.index, dtype="str")
        for group in self.when_any:
            fact[fact.isna() & group_holds(group, features)] = parse_condition(group[0])[0]
        return fact


class ProgramRule(Conditions):
    """A suggested outreach program and when to suggest it."""

    program: str
    description: str | None = None
    """One line for marketing: what the program asks of the customer."""


class SegmentRule(Conditions):
    """One segment: its conditions, its place in the list, its programs."""

    name: str
    description: str | None = None
    """One line for marketing: who is in the segment and what to do with them."""
    top_share: float | None = Field(None, gt=0, le=1)
    programs: list[ProgramRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_a_default_program(self) -> SegmentRule:
        if self.programs[-1].when_any:
            raise ValueError(f"segment '{self.name}': the last program needs no conditions")
        return self

    def matches(self, features: pd.DataFrame, percentile: pd.Series) -> pd.Series:
        """Customers in this segment (before earlier segments take theirs)."""
        inside = self.holds(features)
        if self.top_share is not None:
            inside &= percentile > 1 - self.top_share
        return inside


class SegmentSettings(BaseModel):
    """The ordered segment rules; the last one must take everyone left."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[SegmentRule] = Field(min_length=1)

    def check_named(self, names: list[str], key: str) -> None:
        """Raise a ValueError naming `key` when `names` holds a name that is no segment's."""
        known = [rule.name for rule in self.rules]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(
                f"{key} names no segment: {', '.join(unknown)} (segments: {', '.join(known)})"
            )

    def features_read(self) -> list[str]:
        """The features the rules' conditions name, and those that date the facts they name."""
        every = [conditions for rule in self.rules for conditions in (rule, *rule.programs)]
        named = [name for conditions in every for name in conditions.features()]
        dating = [feature(name).dated_by for name in named]
        return list(dict.fromkeys([*named, *(name for name in dating if name)]))

    @model_validator(mode="after")
    def _last_segment_takes_the_rest(self) -> SegmentSettings:
        slugs = [slug(rule.name) for rule in self.rules]
        if len(set(slugs)) < len(slugs):
            raise ValueError("segment names must differ (also in letters and digits alone)")
        last = self.rules[-1]
        if last.when_any or last.top_share is not None:
            raise ValueError(f"the last segment ('{last.name}') must have no conditions")
        return self


def assign_segments(
    features: pd.DataFrame, percentile: pd.Series, settings: SegmentSettings
) -> pd.DataFrame:
    """Columns segment and suggested_program, one row per customer of `features`."""
    segment = pd.Series(pd.NA, index=features.index, dtype="str")
    program = pd.Series(pd.NA, index=features.index, dtype="str")
    for rule in settings.rules:
        members = segment.isna() & rule.matches(features, percentile)
        segment[members] = rule.name
        for choice in rule.programs:
            chosen = members & program.isna() & choice.holds(features)
            program[chosen] = choice.program
    return pd.DataFrame({"segment": segment, "suggested_program": program})


def defining_facts(
    features: pd.DataFrame, segment: pd.Series, settings: SegmentSettings
) -> pd.Series:
    """Per customer, the feature of the fact that put them in their segment.

    Missing for segments without conditions (a place in the list is no fact).
    """
    fact = pd.Series(pd.NA, index=features.index, dtype="str")
    for rule in settings.rules:
        members = segment == rule.name
        fact[members] = rule.defining_fact(features[members])
    return fact


def percentile_of(rank: pd.Series) -> pd.Series:
    """Share of customers ranked at or below each one: 1.0 for rank 1, 1/n for the last.

    `percentile > 1 - share` then holds exactly for the top `share` of the list.
    """
    return 1 - (rank - 1) / len(rank)


def unapplied_groups(settings: SegmentSettings, present: Present) -> list[str]:
    """Condition groups of segments and programs on features the source lacks.

    Each as "<segment>[ / <program>]: `<conditions>` (no <what the source lacks>)".
    """
    named = [(rule.name, rule) for rule in settings.rules] + [
        (f"{rule.name} / {choice.program}", choice)
        for rule in settings.rules
        for choice in rule.programs
    ]
    found = []
    for name, conditions in named:
        for group in conditions.when_any:
            missing = [m for text in group for m in lacking(parse_condition(text)[0], present)]
            if missing:
                lacks = ", ".join(dict.fromkeys(missing))
                found.append(f"{name}: `{' and '.join(group)}` (no {lacks})")
    return found
