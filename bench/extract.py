"""The extractor measured: build the seed gold set from the hand-written policies, then score both sets.

    python bench/extract.py seed-gold     # writes tests/extract/gold/seeds/<id>/{source.txt,gold.yaml}
    python bench/extract.py score         # huiqi extract --score on every gold set (seeds, dev, heldout, blind2), timed

The seed gold is derived from policies/<id>/policy.yaml, written by hand before the extractor existed:
per provision its first characters, kind, the first rule's applies_to, and the figures of its rules
(fixed amounts and tier amounts → amounts, or caps when is_ceiling; benefit rates and schedule rates →
rates; the ceiling and caps → caps; comparisons `fact op figure` in conditions and tier conditions →
thresholds; duration → N年; once / top_up / first_reached → 一次性 / 进档补差 / 首次). Rules that exist only
under a non-default reading are left out. Figures the hand-written rules express otherwise (a formula,
a date, a definition) are not in this gold set, and figures the hand-written rules left out of any rule
are not either: the seed figures measure agreement with the hand encoding, the development set (annotated
from the text) measures reading.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "extract" / "gold"
_LEAF = re.compile(r"([a-z_][a-z0-9_]*)\s*(>=|<=|>|<)\s*([0-9][0-9.]*(?:亿元|万元|元|%|‰|人|家|年|个|项|天|月)?)")
_MONEY = re.compile(r"^[0-9.]+(?:亿元|万元|元)$")


def _texts(condition: Any) -> list[str]:
    from huiqi.policy.models import condition_texts

    return condition_texts(condition)


def _rule_values(rule: dict[str, Any], values: dict[str, list[str]]) -> None:
    benefit = rule.get("benefit") or {}
    ceiling = bool(benefit.get("is_ceiling"))
    form = benefit.get("form")
    conditions = _texts(rule.get("conditions"))
    for tier in benefit.get("tiers") or []:
        conditions += _texts(tier.get("when"))
        amount = str(tier.get("amount", ""))
        if _MONEY.match(amount):
            values["caps" if ceiling else "amounts"].append(amount)
    if form == "fixed" and _MONEY.match(str(benefit.get("amount", ""))):
        values["caps" if ceiling else "amounts"].append(str(benefit["amount"]))
    if form == "rate" and re.match(r"^[0-9.]+[%‰]$", str(benefit.get("rate", ""))):
        values["rates"].append(str(benefit["rate"]))
    for step in benefit.get("steps") or []:
        if re.match(r"^[0-9.]+[%‰]$", str(step.get("rate", ""))):
            values["rates"].append(str(step["rate"]))
    if benefit.get("ceiling") and _MONEY.match(str(benefit["ceiling"])):
        values["caps"].append(str(benefit["ceiling"]))
    for cap in rule.get("caps") or []:
        if _MONEY.match(str(cap.get("amount", ""))):
            values["caps"].append(str(cap["amount"]))
    for text in conditions:
        for m in _LEAF.finditer(text):
            if re.fullmatch(r"0+(?:\.0+)?(?:亿元|万元|元)?", m.group(3)):
                continue  # `> 0`: a check the encoding adds, not a figure of the text
            values["thresholds"].append(f"{m.group(2)}{m.group(3)}")
        if "first_reached" in text:
            values["flags"].append("首次")
    if rule.get("duration"):
        values["durations"].append(f"{rule['duration']['max_years']}年")
    if rule.get("once"):
        values["flags"].append("一次性")
    if benefit.get("mode") == "top_up":
        values["flags"].append("进档补差")


def seed_gold() -> None:
    policies = ROOT / "policies"
    index = (
        (ROOT.parent / "shared" / "seeds" / "INDEX.md").read_text(encoding="utf-8")
        if (ROOT.parent / "shared" / "seeds" / "INDEX.md").exists()
        else ""
    )
    for folder in sorted(p for p in policies.iterdir() if p.is_dir() and not p.name.startswith("_")):
        policy = yaml.safe_load((folder / "policy.yaml").read_text(encoding="utf-8"))
        defaults = {r["key"]: r["default"] for r in policy.get("readings") or []}
        kind = "reply" if policy["document"]["type"] == "建议答复" else "policy"
        provisions = []
        for provision in policy["provisions"]:
            values: dict[str, list[str]] = {
                k: [] for k in ("amounts", "rates", "thresholds", "caps", "durations", "flags")
            }
            rules = [
                r
                for r in provision.get("rules") or []
                if all(defaults.get(k) == v for k, v in (r.get("when_reading") or {}).items())
            ]
            for rule in rules:
                _rule_values(rule, values)
            item: dict[str, Any] = {"start": provision["quote"][:12], "kind": provision["kind"]}
            if rules:
                applies = rules[0]["applies_to"]
                item["beneficiary"] = applies if isinstance(applies, str) else applies[0]
            for key, items in values.items():
                if key == "flags":
                    items = sorted(set(items))
                if items:
                    item[key] = items
            tiers = sum(len((r.get("benefit") or {}).get("tiers") or []) for r in rules)
            if tiers:
                item["tiers"] = tiers
            provisions.append(item)
        seed = policy["document"]["source"]["seed"]
        out = GOLD / "seeds" / folder.name
        out.mkdir(parents=True, exist_ok=True)
        original = folder / "original.txt"
        (out / "source.txt").write_text(
            (original if original.exists() else folder / "source.txt").read_text(encoding="utf-8"), encoding="utf-8"
        )
        document = {
            "id": folder.name,
            "set": "seed",
            "kind": kind,
            "source_url": f"../shared/seeds/{seed}" + (" (see INDEX.md)" if index else ""),
            "field": "软件和信息服务业（种子文件）",
            "annotated_by": "derived by bench/extract.py from the hand-written policies/"
            + folder.name
            + "/policy.yaml",
        }
        (out / "gold.yaml").write_text(
            yaml.safe_dump(
                {"document": document, "provisions": provisions}, allow_unicode=True, sort_keys=False, width=120
            ),
            encoding="utf-8",
        )
        print(f"{out}: {len(provisions)} provisions")


def score() -> None:
    from rich.console import Console

    from huiqi.extract.score import print_report, score_gold

    started = time.perf_counter()
    scores = score_gold(GOLD)
    elapsed = time.perf_counter() - started
    print_report(scores, Console(width=160))
    print(f"\n{len(scores)} documents scored in {elapsed:.2f} s")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "score"
    {"seed-gold": seed_gold, "score": score}[command]()
