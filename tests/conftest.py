"""Shared fixtures: the real policy base, and a builder for small synthetic policy bases."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.engine.results import Evaluation
from huiqi.policy.base import PolicyBase, default_policies_dir


@pytest.fixture(scope="session")
def seed_base() -> PolicyBase:
    return PolicyBase.load(default_policies_dir())


@pytest.fixture(scope="session")
def seed_engine(seed_base: PolicyBase) -> Engine:
    return Engine(seed_base)


MiniFactory = Callable[..., Engine]


@pytest.fixture
def mini(tmp_path: Path) -> MiniFactory:
    """Build a one-document policy base from provision texts and rules; returns its engine.

    Each provision is ``{"id", "text", "rules": [...]}``; a rule's ``quote`` defaults to the whole text.
    Spans are computed here so tests can focus on behaviour.
    """

    def build(provisions: list[dict[str, Any]], **document: Any) -> Engine:
        root = tmp_path / "policies"
        if root.exists():
            shutil.rmtree(root)
        (root / "_facts").mkdir(parents=True)
        shutil.copy(default_policies_dir() / "_facts" / "core.yaml", root / "_facts" / "core.yaml")
        extra_facts = document.pop("facts", [])
        (root / "_facts" / "test.yaml").write_text(yaml.safe_dump({"facts": extra_facts}, allow_unicode=True), "utf-8")
        folder = root / "test-doc"
        folder.mkdir()
        source = ""
        out = []
        for provision in provisions:
            text = provision["text"]
            start = len(source)
            source += text + "\n"
            rules = []
            for rule in provision.get("rules", []):
                quote = rule.get("quote", text)
                offset = start + text.index(quote)
                rules.append({"label": rule.get("id"), "applies_to": "enterprise", **rule, "quote": quote,
                              "span": [offset, offset + len(quote)]})  # fmt: skip
            item = {k: v for k, v in provision.items() if k not in ("text", "rules")}
            out.append(
                {"kind": "computable", **item, "quote": text, "span": [start, start + len(text)], "rules": rules}
            )
        (folder / "source.txt").write_text(source, "utf-8")
        meta = {
            "id": "test-doc",
            "title": "测试文件",
            "issuers": ["测试局"],
            "jurisdiction": {"region": "苏州市", "level": "city"},
            "type": "政策措施",
            "status": "现行有效",
            "source": {"seed": "none"},
            **document.pop("meta", {}),
        }
        policy = {"document": meta, "provisions": out, **document}
        (folder / "policy.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), "utf-8")
        return Engine(PolicyBase.load(root))

    return build


def run(
    engine: Engine,
    facts: dict[str, Any],
    *,
    as_of: str = "2024-06-30",
    ledger: list[dict[str, Any]] | None = None,
    readings: dict[str, str] | None = None,
    entity_type: str = "enterprise",
    region: list[str] | None = None,
) -> Evaluation:
    """Evaluate a profile given as plain facts against every document of an engine."""
    raw = {"entity_type": entity_type, "region": region if region is not None else ["苏州市"], "facts": facts,
           "ledger": ledger or []}  # fmt: skip
    profile = parse_profile(raw, engine.catalogue)
    return engine.evaluate(
        profile,
        Options(as_of=dt.date.fromisoformat(as_of), readings=readings or {}, include_drafts=True, include_expired=True),
    )
