"""What the population tables must equal: sums over the scalar engine's per-entity results."""

from __future__ import annotations

from collections import Counter, defaultdict

from huiqi.engine.evaluate import Engine
from huiqi.engine.results import Evaluation, Status

COUNTS = {
    Status.ELIGIBLE: "beneficiaries",
    Status.NEEDS_REVIEW: "review_count",
    Status.NEEDS_INFORMATION: "information_count",
    Status.EXCLUDED: "excluded_count",
    Status.NOT_ELIGIBLE: "not_eligible_count",
}


def _add(totals: Counter[str], status: Status, money: list[tuple[Status, int | None, bool]]) -> None:
    totals["assessed"] += 1
    totals[COUNTS[status]] += 1
    for rule_status, amount, is_ceiling in money:
        if rule_status is Status.ELIGIBLE and amount is not None:
            totals["ceiling_fen" if is_ceiling else "cost_fen"] += amount
            totals["total_fen"] += amount
        if rule_status is Status.NEEDS_REVIEW and amount is not None:
            totals["review_ceiling_fen"] += amount


def by_level(engine: Engine, evaluations: dict[str, Evaluation]) -> dict[str, dict[tuple[str, ...], Counter[str]]]:
    """Expected figures per rule, provision and document (applicable results only)."""
    ceiling = {r.ref: r.is_ceiling for d in engine.documents.values() for r in d.rules}
    levels: dict[str, dict[tuple[str, ...], Counter[str]]] = {
        "rule": defaultdict(Counter), "provision": defaultdict(Counter), "document": defaultdict(Counter),
    }  # fmt: skip
    for evaluation in evaluations.values():
        for document in evaluation.documents:
            document_money: list[tuple[Status, int | None, bool]] = []
            best: Status | None = None
            for provision in document.provisions:
                applicable = [r for r in provision.rules if r.status is not Status.NOT_APPLICABLE]
                if not applicable:
                    continue
                money = [(r.status, r.amount_fen, ceiling[r.ref]) for r in applicable]
                for result, item in zip(applicable, money, strict=True):
                    _add(levels["rule"][(document.document, provision.provision, result.rule)], result.status, [item])
                _add(levels["provision"][(document.document, provision.provision)], provision.status, money)
                document_money += money
                order = list(Status)
                best = provision.status if best is None or order.index(provision.status) < order.index(best) else best
            if best is not None:
                _add(levels["document"][(document.document,)], best, document_money)
    return levels


def entity_benefit(engine: Engine, evaluation: Evaluation) -> int:
    """What one entity can claim: the amounts of its eligible rules."""
    return sum(r.amount_fen or 0 for r in evaluation.rules() if r.status is Status.ELIGIBLE)
