"""The evaluation environment of one entity: its facts, the assessed period, the ledger, the readings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """An award already paid (or approved): what the engine reads for top-ups, caps and 一次性."""

    rule: str  # "<document>:<provision>/<rule>"
    period: int
    amount_fen: int
    tier: str | None = None
    quarter: int | None = None  # 1–4 for an award of a quarterly rule (按季度兑现)

    @property
    def provision(self) -> str:
        """The ``<document>:<provision>`` part of the rule reference."""
        return self.rule.rsplit("/", 1)[0]


@dataclass(slots=True)
class Env:
    """Everything an expression may read while evaluating one entity."""

    facts: dict[str, Any]
    period: int
    as_of: dt.date
    ledger: tuple[LedgerEntry, ...] = ()
    readings: dict[str, str] = field(default_factory=dict)
    region: tuple[str, ...] = ()  # "<document>:<key>" → option value
    rule_key: str = ""
    provision_key: str = ""
    memo: dict[str, Any] = field(default_factory=dict)
    defaults_used: set[str] = field(default_factory=set)
    item: dict[str, Any] | None = None  # the item a per_item benefit is paying (its fields by key)
    quarter: int | None = None  # the assessed quarter (1–4) of a quarterly evaluation, within ``period``
    explain: bool = True  # build condition traces and calculation steps (False: statuses and amounts only)

    def with_facts(self, facts: dict[str, Any]) -> Env:
        """A "what if" copy with other facts: the same year, date, ledger, readings, region, rule and quarter,
        a fresh memo, statuses and amounts only (the trials of hints and of the calculator's questions)."""
        return Env(facts=facts, period=self.period, as_of=self.as_of, ledger=self.ledger, readings=self.readings,
                   region=self.region, rule_key=self.rule_key, provision_key=self.provision_key, quarter=self.quarter,
                   explain=False)  # fmt: skip

    def paid(
        self,
        *,
        rule: str | None = None,
        provision: str | None = None,
        period: int | None = None,
        quarter: int | None = None,
        before_quarter: int | None = None,
    ) -> int:
        """Total fen already paid under a rule or a provision (optionally in one year, one quarter of it, or
        its quarters before one)."""
        total = 0
        for entry in self.ledger:
            if rule is not None and entry.rule != rule:
                continue
            if provision is not None and entry.provision != provision:
                continue
            if period is not None and entry.period != period:
                continue
            if quarter is not None and entry.quarter != quarter:
                continue
            if before_quarter is not None and entry.quarter is not None and entry.quarter >= before_quarter:
                continue
            total += entry.amount_fen
        return total

    def paid_years(self, rule: str) -> int:
        """How many distinct years a rule has paid."""
        return len({entry.period for entry in self.ledger if entry.rule == rule})

    def paid_tiers(self, rule: str) -> set[str]:
        """The tiers of a tiered rule that have been paid already."""
        return {entry.tier for entry in self.ledger if entry.rule == rule and entry.tier is not None}
