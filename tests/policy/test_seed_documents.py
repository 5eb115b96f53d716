"""The five seed documents are in the policy base whole, verbatim and traceable."""

from __future__ import annotations

from pathlib import Path

import pytest

from huiqi.policy import normalise
from huiqi.policy.base import PolicyBase, covered_mask, default_policies_dir, uncovered_sentences
from huiqi.policy.models import ProvisionKind

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
DOCUMENTS = {
    "xinjiang-2017-software": "000_5ce8ae7b8fe570ba.txt",
    "suzhou-software-cluster": "001_c8fcdbadbc64ae64.txt",
    "urumqi-reply-2009": "002_9c330a7d433e781f.txt",
    "guangzhou-software": "003_b8502f25debe0918.txt",
    "zhejiang-software-bases": "004_410699b3256c3503.txt",
}


def test_every_seed_document_is_loaded_without_errors(seed_base: PolicyBase) -> None:
    assert sorted(seed_base.documents) == sorted(DOCUMENTS)
    assert seed_base.errors == []


@pytest.mark.parametrize(("doc_id", "seed"), DOCUMENTS.items())
def test_original_is_the_seed_text_and_source_reproduces_from_it(doc_id: str, seed: str, seed_base: PolicyBase) -> None:
    document = seed_base.document(doc_id)
    original = (document.folder / "original.txt").read_text("utf-8")
    if SEEDS.exists():
        assert original == (SEEDS / seed).read_text("utf-8")
    assert document.policy.document.source.seed == seed
    assert normalise.apply(document.policy.document.source.normalisation, original) == document.source


@pytest.mark.parametrize("doc_id", DOCUMENTS)
def test_every_quote_is_the_source_at_its_span(doc_id: str, seed_base: PolicyBase) -> None:
    document = seed_base.document(doc_id)
    source = document.source
    for provision in document.policy.provisions:
        assert source[provision.span[0] : provision.span[1]] == provision.quote, provision.id
        for rule in provision.rules:
            assert source[rule.span[0] : rule.span[1]] == rule.quote, f"{provision.id}/{rule.id}"
            assert provision.span[0] <= rule.span[0] <= rule.span[1] <= provision.span[1]
    for omitted in document.policy.omitted:
        assert source[omitted.span[0] : omitted.span[1]] == omitted.quote
        assert omitted.reason.strip()


@pytest.mark.parametrize("doc_id", DOCUMENTS)
def test_provisions_cover_every_substantive_sentence(doc_id: str, seed_base: PolicyBase) -> None:
    document = seed_base.document(doc_id)
    assert uncovered_sentences(document) == []
    mask = covered_mask(document)
    omitted_chars = sum(o.span[1] - o.span[0] for o in document.policy.omitted)
    # What was left out is listed with a reason, and is a small part of the text (headings, addressees …)
    assert omitted_chars < 0.2 * len(document.source)
    assert sum(mask) > 0.8 * len(document.source.replace("\n", "").replace(" ", ""))


def test_what_was_left_out_is_listed_with_reasons(seed_base: PolicyBase) -> None:
    reasons = {o.reason for d in seed_base.documents.values() for o in d.policy.omitted}
    assert reasons
    assert all(len(reason) >= 2 for reason in reasons)


def test_urumqi_reply_is_a_reply_not_a_policy(seed_base: PolicyBase) -> None:
    document = seed_base.document("urumqi-reply-2009")
    assert document.policy.document.type.value == "建议答复"
    assert all(not p.rules for p in document.policy.provisions)
    kinds = {p.kind for p in document.policy.provisions}
    assert ProvisionKind.INFORMATIVE in kinds and ProvisionKind.COMPUTABLE not in kinds


def test_xinjiang_lead_unit_is_the_first_listed(seed_base: PolicyBase) -> None:
    document = seed_base.document("xinjiang-2017-software")
    article_1 = document.provision("1")
    assert article_1.lead_unit is not None and "财政厅" in article_1.lead_unit
    assert any("经信委" in unit for unit in article_1.co_units)


def test_guangzhou_metadata(seed_base: PolicyBase) -> None:
    meta = seed_base.document("guangzhou-software").policy.document
    assert meta.status.value == "征求意见稿"
    assert meta.validity is not None and "5年" in meta.validity
    assert any(s.doc_number == "穗府办规〔2020〕2号" for s in meta.supersedes)
    assert meta.non_duplication is not None
    assert meta.budget_semantics is not None and meta.budget_semantics.amounts_are_ceilings


def test_every_computable_provision_has_rules(seed_base: PolicyBase) -> None:
    for document in seed_base.documents.values():
        for provision in document.policy.provisions:
            if provision.kind is ProvisionKind.COMPUTABLE:
                assert provision.rules, f"{document.id}:{provision.id}"


def test_policies_dir_is_the_checkout(seed_base: PolicyBase) -> None:
    assert seed_base.root == default_policies_dir()
