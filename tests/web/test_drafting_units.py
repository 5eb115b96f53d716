"""The pieces of 政策起草审核 that need no browser: what accepting removes from a note, how the source text is
cut for highlighting, where drafts live and that a draft id never reaches outside its owner's folder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from huiqi.api.config import Settings
from huiqi.errors import HuiqiError
from huiqi.extract.publish import DRAFT_MARK
from huiqi.web.drafting import DraftMissing, _pieces, draft_folder, drafts_root, unmark
from huiqi.workflow.actors import Actor


def test_accepting_removes_the_mark_and_keeps_the_rest() -> None:
    assert unmark(f"{DRAFT_MARK}：写明金额或比例") == "写明金额或比例"
    assert unmark(f"{DRAFT_MARK}。文件类型：policy") == "文件类型：policy"
    assert unmark(f"未归入任何条款的文字（{DRAFT_MARK}）") == "未归入任何条款的文字（已审核）"
    assert unmark(f"{DRAFT_MARK}。") is None
    assert unmark(None) is None
    assert DRAFT_MARK not in (unmark(f"{DRAFT_MARK}：条件只含门槛。\n找到依据：{DRAFT_MARK}") or "")


def test_the_source_is_cut_at_provisions_and_values() -> None:
    source = "标题\n一、达到5000万元的，给予50万元。"
    policy = {"provisions": [{"id": "一", "span": [3, len(source)]}]}
    explanation = {"provisions": [{"id": "一", "values": [
        {"field": "threshold", "span": [7, 13], "pattern": "达到"},
        {"field": "amount", "span": [17, 21], "pattern": "给予"}]}]}  # fmt: skip
    pieces = _pieces(source, policy, explanation)
    assert "".join(p["text"] for p in pieces) == source
    marked = [(p["text"], p["field"]) for p in pieces if p["field"]]
    assert marked == [("5000万元", "threshold"), ("50万元", "amount")]
    assert pieces[0] == {"text": "标题\n", "provision": None, "field": None, "title": None}
    assert all(p["provision"] == "一" for p in pieces[1:])


def test_drafts_live_next_to_the_sqlite_file_unless_set(tmp_path: Path) -> None:
    sqlite = Settings(database_url=f"sqlite:///{tmp_path / 'huiqi.db'}")
    assert drafts_root(sqlite) == tmp_path.resolve() / "drafts"
    assert drafts_root(Settings(drafts_dir=tmp_path / "d")) == tmp_path / "d"
    with pytest.raises(HuiqiError, match="HUIQI_DRAFTS_DIR"):
        drafts_root(Settings(database_url="postgresql+psycopg://u@h/db"))


def test_a_draft_id_stays_in_its_owners_folder(tmp_path: Path) -> None:
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=Settings(drafts_dir=tmp_path))))
    mine, theirs = Actor("a", "official", user_id=1), Actor("b", "official", user_id=2)
    (tmp_path / "u2" / "theirs").mkdir(parents=True)
    (tmp_path / "u2" / "theirs" / "policy.yaml").write_text("document: {}\n", encoding="utf-8")
    assert draft_folder(request, theirs, "theirs") == tmp_path / "u2" / "theirs"  # type: ignore[arg-type]
    for asked in ("theirs", "../u2/theirs", "..", "Theirs", "_facts"):
        with pytest.raises(DraftMissing):
            draft_folder(request, mine, asked)  # type: ignore[arg-type]
