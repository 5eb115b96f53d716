"""Score the extractor against a gold set: segmentation, values per field, kinds, inverted bounds.

A gold set is a folder of document folders, each with ``source.txt`` (the text as received) and
``gold.yaml``::

    document: {id: d01-…, set: dev, kind: policy, source_url: …}
    provisions:
      - start: 对项目设备实际投资达到          # the provision's first characters, as printed
        kind: computable
        beneficiary: project
        thresholds: [">=500万元", ">=3000万元"]
        rates: ["1.5%"]
        caps: [100万元]
        amounts: []
        durations: [3年]
        tiers: 3                            # number of tiers (pairs) in the provision
        flags: [一次性]

Segmentation: a gold provision is right when an extracted provision starts with its ``start`` (spaces
ignored) and holds no other gold provision's start. Values are compared per document as multisets of
canonical labels (100万元, 5%, >=1000万元), so a value found in a neighbouring provision still counts; the
kinds and beneficiaries are compared on the provisions segmented right. An inverted bound is a gold
ceiling extracted as a threshold (a 最高 read as a floor) or a threshold extracted with the opposite
direction (≥ for ≤).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from huiqi.extract.numerals import format_money, format_rate, money_fen, to_number
from huiqi.extract.reading import ExtractError, read_policy_file

FIELDS = ("amounts", "rates", "thresholds", "caps", "durations", "flags")
_EXTRACTED_FIELD = {
    "amount": "amounts",
    "rate": "rates",
    "threshold": "thresholds",
    "cap": "caps",
    "duration": "durations",
}


def canon(label: str) -> str:
    """The canonical label of a written value: ``>=1,000万元`` → ``>=1000万元``, ``5.0%`` → ``5%``."""
    text = str(label).strip().replace(" ", "")
    m = re.match(r"^(>=|<=|>|<)?(.*)$", text)
    assert m is not None
    op, rest = m.group(1) or "", m.group(2)
    mm = re.match(r"^([0-9.,]+)(亿元|万元|元)$", rest)
    if mm:
        return op + format_money(money_fen(mm.group(1), mm.group(2)))
    mm = re.match(r"^([0-9.]+)([%‰])$", rest)
    if mm:
        return op + format_rate(to_number(mm.group(1)) / (100 if mm.group(2) == "%" else 1000))
    mm = re.match(r"^([0-9.]+)(.*)$", rest)
    if mm:
        number = Fraction(mm.group(1))
        shown = str(number.numerator) if number.denominator == 1 else mm.group(1)
        unit = mm.group(2)
        if op and unit in ("人", "家", "个", "项", "名", "位", "件", "台", "套", "户", "次"):
            unit = ""  # a count threshold: 50人 and a rule's bare 50 are the same figure
        return op + shown + unit
    return op + rest


@dataclass
class Tally:
    gold: int = 0
    found: int = 0
    right: int = 0

    def add(self, gold: Counter[str], found: Counter[str]) -> None:
        self.gold += sum(gold.values())
        self.found += sum(found.values())
        self.right += sum((gold & found).values())

    @property
    def precision(self) -> float | None:
        return self.right / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.right / self.gold if self.gold else None


@dataclass
class DocScore:
    id: str
    set: str
    kind_gold: str
    kind_found: str
    provisions_gold: int = 0
    provisions_found: int = 0
    segmented_right: int = 0
    kinds_right: int = 0
    beneficiaries: int = 0
    beneficiaries_right: int = 0
    tiers_gold: int = 0
    tiers_found: int = 0
    inverted: int = 0
    inclusiveness: int = 0
    fields: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in FIELDS})
    misses: list[str] = field(default_factory=list)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def score_document(folder: Path) -> DocScore:
    from huiqi.extract.core import extract

    gold = yaml.safe_load((folder / "gold.yaml").read_text(encoding="utf-8"))
    received = read_policy_file(folder / "source.txt")
    extraction = extract(received, doc_id=folder.name)
    doc = gold["document"]
    score = DocScore(doc["id"], doc.get("set", "dev"), doc.get("kind", "policy"), extraction.document_kind)
    provisions = gold.get("provisions") or []
    score.provisions_gold = len(provisions)
    score.provisions_found = len(extraction.provisions)
    starts = [_squash(p["start"]) for p in provisions]
    for index, gp in enumerate(provisions):
        start = starts[index]
        match = None
        for ep in extraction.provisions:
            body = _squash(ep.quote)
            if body.startswith(start) and not any(
                other in body[1:] for j, other in enumerate(starts) if j != index and j > index
            ):
                match = ep
                break
        if match is None:
            score.misses.append(f"条款未正确切分：{gp['start']}")
            continue
        score.segmented_right += 1
        if gp.get("kind") == match.kind:
            score.kinds_right += 1
        if gp.get("beneficiary"):
            score.beneficiaries += 1
            if gp["beneficiary"] == match.beneficiary:
                score.beneficiaries_right += 1
    gold_values: dict[str, Counter[str]] = {f: Counter() for f in FIELDS}
    for gp in provisions:
        for name in FIELDS:
            items = [canon(v) for v in gp.get(name) or []]
            gold_values[name].update(set(items) if name == "flags" else items)
        score.tiers_gold += int(gp.get("tiers") or 0)
    found: dict[str, Counter[str]] = {f: Counter() for f in FIELDS}
    for ep in extraction.provisions:
        if ep.kind == "informative":
            continue  # a reply's or a notice's figures are statistics, not rule values
        flags: set[str] = set()
        for value in ep.values:
            if value.field in _EXTRACTED_FIELD:
                found[_EXTRACTED_FIELD[value.field]][canon(value.label)] += 1
            elif value.field == "flag":
                flags.add(value.label)
        found["flags"].update(flags)
        score.tiers_found += sum(len(t.pairs) for t in ep.tiers if not t.review)
    for name in FIELDS:
        score.fields[name].add(gold_values[name], found[name])
        for label in (gold_values[name] - found[name]).elements():
            score.misses.append(f"{name} 漏：{label}")
        for label in (found[name] - gold_values[name]).elements():
            score.misses.append(f"{name} 多：{label}")
    for label, count in found["thresholds"].items():
        bare = label.lstrip("<>=")
        op = label[: len(label) - len(bare)]
        excess = count - gold_values["thresholds"][label]
        if excess <= 0:
            continue
        if op in (">=", ">") and gold_values["caps"][bare] > 0:  # a ceiling (最高) read as a floor
            score.inverted += min(excess, gold_values["caps"][bare])
            continue
        for gold_label in gold_values["thresholds"]:
            gold_bare = gold_label.lstrip("<>=")
            gold_op = gold_label[: len(gold_label) - len(gold_bare)]
            if gold_bare == bare and gold_op != op:
                if (gold_op[0] == ">") != (op[0] == ">"):
                    score.inverted += 1
                else:
                    score.inclusiveness += 1
    return score


def score_gold(root: Path) -> list[DocScore]:
    if not root.is_dir():
        raise ExtractError(f"找不到金标准目录 {root}")
    folders = sorted({p.parent for p in root.rglob("gold.yaml")})
    if not folders:
        raise ExtractError(f"{root} 下没有 gold.yaml：每份文件一个子目录，含 source.txt 与 gold.yaml")
    return [score_document(folder) for folder in folders]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def summary(scores: list[DocScore]) -> dict[str, Any]:
    total = {f: Tally() for f in FIELDS}
    for s in scores:
        for f in FIELDS:
            t = s.fields[f]
            total[f].gold += t.gold
            total[f].found += t.found
            total[f].right += t.right
    gold_p = sum(s.provisions_gold for s in scores)
    right_p = sum(s.segmented_right for s in scores)
    found_p = sum(s.provisions_found for s in scores)
    ben = sum(s.beneficiaries for s in scores)
    return {
        "documents": len(scores),
        "doc_type_right": sum(1 for s in scores if s.kind_gold == s.kind_found),
        "segmentation_recall": right_p / gold_p if gold_p else None,
        "segmentation_precision": right_p / found_p if found_p else None,
        "kind_accuracy": sum(s.kinds_right for s in scores) / right_p if right_p else None,
        "beneficiary_accuracy": sum(s.beneficiaries_right for s in scores) / ben if ben else None,
        "tiers": (sum(s.tiers_gold for s in scores), sum(s.tiers_found for s in scores)),
        "inverted": sum(s.inverted for s in scores),
        "inclusiveness": sum(s.inclusiveness for s in scores),
        "fields": {
            f: (total[f].precision, total[f].recall, total[f].gold, total[f].found, total[f].right) for f in FIELDS
        },
    }


def print_report(scores: list[DocScore], console: Any) -> None:
    order = {"seed": 0, "dev": 1, "heldout": 2}
    sets = sorted({s.set for s in scores}, key=lambda name: (order.get(name, 3), name))
    for name in sets:
        chosen = [s for s in scores if s.set == name]
        console.print(
            f"\n[bold]{ {'seed': '种子文件', 'dev': '开发集', 'heldout': '留出集'}.get(name, '金标准') }（{name}）：{len(chosen)} 份[/]",
            highlight=False,
        )
        console.print(
            "  文件                              类型  条款(对/金/抽)  金额P/R        比例P/R        门槛P/R        上限P/R",
            highlight=False,
        )
        for s in chosen:
            cells = []
            for f in ("amounts", "rates", "thresholds", "caps"):
                t = s.fields[f]
                cells.append(f"{_pct(t.precision):>6}/{_pct(t.recall):<6}")
            kind = "✔" if s.kind_gold == s.kind_found else f"✘{s.kind_found}"
            console.print(
                f"  {s.id:<34}{kind:<5} {s.segmented_right:>3}/{s.provisions_gold:<3}/{s.provisions_found:<5}  "
                + "  ".join(cells),
                highlight=False,
            )
        total = summary(chosen)
        console.print(
            f"  切分：{_pct(total['segmentation_recall'])} 的金标准条款切分正确（抽取条款中正确的 {_pct(total['segmentation_precision'])}）；"
            f"文件类型 {total['doc_type_right']}/{total['documents']}；条款类别 {_pct(total['kind_accuracy'])}；"
            f"受益主体 {_pct(total['beneficiary_accuracy'])}；分档 金标准 {total['tiers'][0]}、抽取 {total['tiers'][1]}",
            highlight=False,
        )
        for f, (p, r, g, fd, rt) in total["fields"].items():
            console.print(
                f"  {f:<11} 精确率 {_pct(p):>6}  召回率 {_pct(r):>6}  （金标准 {g}，抽取 {fd}，正确 {rt}）",
                highlight=False,
            )
        console.print(
            f"  上下限颠倒（上限读成门槛、≥读成≤）：{total['inverted']}；含与不含本数错：{total['inclusiveness']}",
            highlight=False,
        )
