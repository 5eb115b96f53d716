"""Write an extraction as a draft policy folder that ``huiqi validate`` loads.

``<out>/<id>/policy.yaml``, ``source.txt`` (the normalised text the quotes point into), ``received.txt``
(the text as received, decoded), ``extraction.yaml`` (every value with its span, confidence and pattern;
what the reviewer must check), ``cases/draft.yaml``; ``<out>/_facts/<id>.yaml`` the proposed facts, and
the catalogue's other files copied when ``<out>`` is not the policy base itself.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from huiqi.extract.core import Extraction
from huiqi.extract.gencases import draft_cases


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


def document_id(path: Path, text: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    if not stem or not re.match(r"^[a-z0-9]", stem):
        stem = "draft-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return stem


def jurisdiction(extraction: Extraction) -> dict[str, str]:
    """The largest-to-smallest most specific division named in the title or issuers (official full name)."""
    from huiqi.regions.table import divisions

    table = divisions()
    haystack = str(extraction.meta.get("title", "")) + "".join(extraction.meta.get("issuers", []))
    haystack += extraction.text[:300]
    best: tuple[int, int, str, str] | None = None
    rank = {"province": 0, "city": 1, "county": 2}
    for name, found in table.by_name.items():
        if len(name) < 3:
            continue
        at = haystack.find(name)
        if at >= 0:
            level = found[0].level
            key = (rank.get(level, 0), -at, name, level)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None:
        for short, found in table.by_short.items():
            if len(short) >= 2 and len(found) == 1 and short in haystack[:80]:
                return {"region": found[0].name, "level": found[0].level}
        return {"region": "全国", "level": "nation"}
    return {"region": best[2], "level": best[3]}


def write_draft(extraction: Extraction, out: Path, doc_id: str, *, policies: Path | None = None) -> Path:
    folder = out / doc_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "source.txt").write_text(extraction.text, encoding="utf-8")
    (folder / "received.txt").write_text(extraction.received.raw, encoding="utf-8")
    juris = jurisdiction(extraction)
    policy = _policy(extraction, doc_id, juris)
    (folder / "policy.yaml").write_text(_HEADER + dump(policy), encoding="utf-8")
    (folder / "extraction.yaml").write_text(dump(_explanation(extraction, doc_id)), encoding="utf-8")
    facts_dir = out / "_facts"
    facts_dir.mkdir(exist_ok=True)
    if policies is not None and policies.resolve() != out.resolve() and (policies / "_facts").is_dir():
        for path in sorted((policies / "_facts").glob("*.yaml")):
            target = facts_dir / path.name
            if not target.exists() and path.stem != doc_id:
                shutil.copyfile(path, target)
    facts = [_fact(fact, extraction) for fact in extraction.facts]
    (facts_dir / f"{doc_id}.yaml").write_text(
        "# 由 huiqi extract 提出的事实（草稿）：请审核名称、类型、单位与定义\n" + dump({"facts": facts}),
        encoding="utf-8",
    )
    cases_dir = folder / "cases"
    cases_dir.mkdir(exist_ok=True)
    cases = draft_cases(policy, juris, extraction)
    if cases:
        (cases_dir / "draft.yaml").write_text(
            "# 由 huiqi extract 按门槛生成的草稿案例（恰好达到、差一点、达到上限）：预期值取自原文，请逐条确认\n"
            + dump({"cases": cases}),
            encoding="utf-8",
        )
    return folder


_HEADER = (
    "# 由 huiqi extract 生成的草稿（draft）：每条规则的 note 以“extract 草稿，待审核”开头；\n"
    "# 每个数值的出处、置信度与识别规则见同目录 extraction.yaml。审核后运行 huiqi validate 与 huiqi cases。\n"
)


def _fact(fact: Any, extraction: Extraction) -> dict[str, Any]:
    out: dict[str, Any] = {"key": fact.key, "name": fact.name, "type": fact.type}
    if fact.unit:
        out["unit"] = fact.unit
    out["entity"] = fact.entity
    out["definition"] = f"extract 草稿，待审核：据原文“{fact.quote[:60]}”提出。"
    values = fact.values
    if values:
        out["values"] = values
    return out


def _policy(extraction: Extraction, doc_id: str, juris: dict[str, str]) -> dict[str, Any]:
    meta = extraction.meta
    text = extraction.text
    steps = extraction.received.steps
    review: list[str] = []
    if meta.get("status_review"):
        review.append("状态按“现行有效”起草：正文未写明，请核对")
    if not meta.get("issuers"):
        review.append("未识别发文机关，请补充 issuers")
    if meta.get("script_note"):
        review.append(str(meta["script_note"]))
    document: dict[str, Any] = {
        "id": doc_id,
        "title": meta["title"],
        "short_title": None,
        "doc_number": meta.get("doc_number"),
        "issuers": meta.get("issuers") or [],
        "jurisdiction": juris,
        "type": extraction.document_type,
        "status": meta["status"],
        "issue_date": meta.get("issue_date"),
        "effective_from": meta.get("effective_from"),
        "effective_to": meta.get("effective_to"),
        "validity": meta.get("validity"),
        "supersedes": meta.get("supersedes") or [],
        "non_duplication": meta.get("non_duplication"),
        "budget_semantics": meta.get("budget_semantics"),
        "interpreting_authority": meta.get("interpreting_authority") or [],
        "source": {
            "seed": Path(extraction.received.path).name or "pasted.txt",
            "normalisation": [],
            "note": "huiqi extract 规范化（received.txt → source.txt）："
            + ("；".join(f"{s['step']}：{s['note']}" for s in steps) if steps else "无"),
        },
        "notes": "extract 草稿，待审核。文件类型："
        + f"{extraction.document_kind}（{extraction.type_why}，置信度 {extraction.type_confidence}）。"
        + ("；".join(review) if review else ""),
    }
    provisions = []
    covered: list[tuple[int, int]] = []
    for provision in extraction.provisions:
        item: dict[str, Any] = {"id": provision.id}
        if provision.number:
            item["number"] = provision.number
        if provision.section:
            item["section"] = provision.section
        if provision.heading:
            item["heading"] = provision.heading
        item["kind"] = provision.kind
        item["quote"] = provision.quote
        item["span"] = list(provision.span)
        if provision.lead_unit:
            item["lead_unit"] = provision.lead_unit
            item["co_units"] = provision.co_units
            item["units_quote"] = provision.units_quote
        if provision.rules:
            item["rules"] = provision.rules
        note = f"extract 草稿，待审核：{provision.kind_why}"
        if provision.review:
            note += "。需核对：" + "；".join(provision.review)
        item["note"] = note
        provisions.append(item)
        covered.append(provision.span)
    omitted: list[dict[str, Any]] = [
        {"quote": text[a:b], "span": [a, b], "reason": reason} for a, b, reason in extraction.omitted
    ]
    covered += [(a, b) for a, b, _ in extraction.omitted]
    for a, b in _gaps(text, covered):
        omitted.append({"quote": text[a:b], "span": [a, b], "reason": "未归入任何条款的文字（extract 草稿，待审核）"})
    omitted.sort(key=lambda o: int(o["span"][0]))
    return {"document": document, "omitted": omitted, "provisions": provisions}


def _gaps(text: str, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    mask = [False] * len(text)
    for a, b in covered:
        for i in range(a, b):
            mask[i] = True
    out = []
    i = 0
    while i < len(text):
        if not mask[i] and re.match(r"[\u4e00-\u9fff]", text[i]):
            j = i
            while j < len(text) and not mask[j] and text[j] != "\n":
                j += 1
            a = i
            while a > 0 and not mask[a - 1] and text[a - 1] not in "\n":
                a -= 1
            seg = text[a:j].strip()
            if seg:
                start = a + text[a:j].index(seg)
                out.append((start, start + len(seg)))
            i = j
        else:
            i += 1
    return out


def _explanation(extraction: Extraction, doc_id: str) -> dict[str, Any]:
    return {
        "document": doc_id,
        "classification": {
            "kind": extraction.document_kind,
            "type": extraction.document_type,
            "confidence": extraction.type_confidence,
            "why": extraction.type_why,
        },
        "received": {
            "file": extraction.received.path,
            "format": extraction.received.format,
            "encoding": extraction.received.encoding,
            "normalisation": extraction.received.steps,
        },
        "metadata": {k: v for k, v in extraction.meta.items() if k not in ("status_review", "script_note")},
        "provisions": [
            {
                "id": p.id,
                "number": p.number,
                "kind": p.kind,
                "kind_why": p.kind_why,
                "span": list(p.span),
                "beneficiary": p.beneficiary,
                "beneficiary_word": p.beneficiary_word,
                "lead_unit": p.lead_unit,
                "co_units": p.co_units,
                "values": [v.as_dict() for v in p.values],
                "tiers": [
                    {
                        "pattern": t.pattern,
                        "review": t.review,
                        "pairs": [
                            {
                                "when": [w.label for w in pair.when],
                                "category": pair.category,
                                "amount": pair.amount.label,
                            }
                            for pair in t.pairs
                        ],
                    }
                    for t in p.tiers
                ],
                "review": p.review,
            }
            for p in extraction.provisions
        ],
        "proposed_facts": [
            {"key": f.key, "name": f.name, "type": f.type, "unit": f.unit, "quote": f.quote[:80]}
            for f in extraction.facts
        ],
        "catalogue_facts_used": extraction.fact_uses,
    }
