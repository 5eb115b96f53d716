"""政策找企业: the registry evaluated for a call (qualifies / nearly / not told), told once, filtered by what
an entity follows, counted for the official; the webhook delivers, retries, records and signs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from huiqi import beijing
from huiqi.store.db import Database
from huiqi.store.entities import create_entity, record_fact
from huiqi.store.errors import InvalidInput, NotFound
from huiqi.store.models import Call, Entity, Notice
from huiqi.workflow.matching import (
    call_reach,
    call_topics,
    follow,
    mark_read,
    match_call,
    nearness,
    notices_for,
    notify_call,
    subscription_matches,
    told_entities,
    unfollow,
    unmet_conditions,
)
from huiqi.workflow.policy import PolicyEngine
from huiqi.workflow.webhooks import SIGNATURE_HEADER, WebhookConfig, deliver, verify
from platform_fixtures import add_call, add_firm, make_uscc, submit_application


def _not_close(db: Database, policy: PolicyEngine, n: int) -> int:
    """A Suzhou firm that is no software firm, shrinking, and on no 百强 list: more than one condition away."""
    firm = add_firm(db, policy, n, revenue_2023="2000万元")
    with db.transaction() as session:
        entity = session.get_one(Entity, firm)
        for key, value, year in [("main_business_software", False, None),
                                 ("first_listed_china_software_top100", False, 2023),
                                 ("first_listed_china_internet_top100", False, 2023)]:  # fmt: skip
            record_fact(session, entity=entity, key=key, value=value, year=year, provenance="verified",
                        recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
    return firm


def _match(db: Database, policy: PolicyEngine, call_id: int) -> Any:
    with db.transaction() as session:
        return match_call(session, call=session.get_one(Call, call_id), policy=policy)


def _notices(db: Database, call_id: int) -> dict[int, Notice]:
    with db.sessions() as session:
        rows = session.scalars(select(Notice).where(Notice.call_id == call_id)).all()
        session.expunge_all()
    return {n.entity_id: n for n in rows}


def test_qualifies_nearly_and_not_told(db: Database, policy: PolicyEngine) -> None:
    qualifies = add_firm(db, policy, 1)  # 2023 revenue 1.35亿元: first passes 1亿元
    nearly = add_firm(db, policy, 2, revenue_2023="9000万元")  # one threshold short
    far = _not_close(db, policy, 3)
    with db.transaction() as session:  # another city's firm: Suzhou's document does not reach it
        elsewhere = create_entity(session, entity_type="enterprise", name="南京测试软件有限公司", uscc=make_uscc(4),
                                  region=["江苏省", "南京市"]).id  # fmt: skip
    call_id = add_call(db, policy)
    report = _match(db, policy, call_id)
    assert (report.considered, report.qualifies, report.nearly) == (3, 1, 1)  # Nanjing: out of reach
    notices = _notices(db, call_id)
    assert set(notices) == {qualifies, nearly}
    assert far not in notices and elsewhere not in notices
    told = notices[qualifies]
    assert (told.match, told.amount_fen, told.amount_kind, told.lacking) == ("qualifies", 200_000_000, "certain", [])
    assert told.key == f"call:{call_id}:3" and told.provision_id == "3" and told.delivery == "in_app"
    assert "营业收入首次达到1亿元" in told.summary
    with db.sessions() as session:
        assert told.deadline == session.get_one(Call, call_id).closes_on
    near = notices[nearly]
    assert near.match == "nearly" and near.amount_kind == "certain"
    assert near.lacking == ["若营业收入（2023年）达到1亿元（现为0.9亿元），可获200万元"]


def test_missing_facts_make_nearly_and_are_listed_in_chinese(db: Database, policy: PolicyEngine) -> None:
    firm = add_firm(db, policy, 1)
    with db.transaction() as session:  # the same firm, without 纳入工信部软件统计: unknown, not false
        entity = create_entity(session, entity_type="enterprise", name="苏州缺信息软件有限公司", uscc=make_uscc(2),
                               region=["江苏省", "苏州市"])  # fmt: skip
        for key, value in (("registered_city", "苏州市"), ("main_business_software", True)):
            record_fact(session, entity=entity, key=key, value=value, year=None, provenance="declared",
                        recorded_by="applicant", catalogue=policy.base.catalogue)  # fmt: skip
        for year, value in ((2022, "4800万元"), (2023, "1.35亿元")):
            record_fact(session, entity=entity, key="revenue", value=value, year=year, provenance="declared",
                        recorded_by="applicant", catalogue=policy.base.catalogue)  # fmt: skip
        lacking_id = entity.id
    call_id = add_call(db, policy)
    _match(db, policy, call_id)
    notices = _notices(db, call_id)
    assert notices[firm].match == "qualifies"
    assert notices[lacking_id].match == "nearly"
    assert notices[lacking_id].lacking == ["需补充：纳入工信部软件统计"]
    assert notices[lacking_id].amount_fen == 200_000_000


def test_telling_twice_changes_nothing_and_read_stays_read(db: Database, policy: PolicyEngine) -> None:
    firm = add_firm(db, policy, 1)
    call_id = add_call(db, policy)
    first = _match(db, policy, call_id)
    assert len(first.new_notice_ids) == 1
    with db.transaction() as session:
        assert mark_read(session, entity_id=firm, notice_id=None, now=_now()) == 1
    again = _match(db, policy, call_id)
    assert again.new_notice_ids == [] and again.qualifies == 1
    notices = _notices(db, call_id)
    assert len(notices) == 1 and notices[firm].read_at is not None


def _now() -> Any:
    from huiqi.store.base import utcnow

    return utcnow()


def test_subscriptions_filter_what_an_entity_hears(db: Database, policy: PolicyEngine) -> None:
    follows_nothing = add_firm(db, policy, 1)
    follows_software = add_firm(db, policy, 2)
    follows_talent = add_firm(db, policy, 3)
    follows_jiangsu = add_firm(db, policy, 4)
    follows_xinjiang = add_firm(db, policy, 5)
    with db.transaction() as session:
        follow(session, entity_id=follows_software, kind="topic", value="软件")
        follow(session, entity_id=follows_talent, kind="topic", value="人才引进")
        follow(session, entity_id=follows_jiangsu, kind="region", value="江苏")  # short form → 江苏省
        follow(session, entity_id=follows_xinjiang, kind="region", value="新疆维吾尔自治区")
        with pytest.raises(InvalidInput, match="已经关注"):
            follow(session, entity_id=follows_jiangsu, kind="region", value="江苏省")
        with pytest.raises(InvalidInput):
            follow(session, entity_id=follows_jiangsu, kind="region", value="苏洲市")  # a typo: told the nearest
        with pytest.raises(InvalidInput, match="主题应为"):
            follow(session, entity_id=follows_jiangsu, kind="topic", value="软")
    call_id = add_call(db, policy)
    _match(db, policy, call_id)
    assert set(_notices(db, call_id)) == {follows_nothing, follows_software, follows_jiangsu}


def test_topics_and_regions_of_a_call(db: Database, policy: PolicyEngine) -> None:
    call_id = add_call(db, policy)
    with db.sessions() as session:
        topics = call_topics(session.get_one(Call, call_id), policy)
    assert topics.region_path == ("江苏省", "苏州市")
    assert subscription_matches([], topics)
    assert subscription_matches([("region", "苏州市"), ("topic", "人才"), ("topic", "软件")], topics)
    assert not subscription_matches([("region", "苏州市"), ("topic", "人才")], topics)  # each kind must match
    assert not subscription_matches([("region", "南京市")], topics)
    assert subscription_matches([("region", "苏州工业园区")], topics)  # a park hears of its city's policies
    assert subscription_matches([("region", "江苏省")], topics)  # a province, of its cities'


def test_nearly_is_one_threshold_away(policy: PolicyEngine) -> None:
    import datetime as dt

    from huiqi.engine.evaluate import Options
    from huiqi.engine.profile import parse_profile

    def rule(**changes: Any) -> Any:
        facts = {"registered_city": "苏州市", "main_business_software": True, "in_miit_software_statistics": True,
                 "revenue": {2022: "4800万元", 2023: "9000万元"}, **changes}  # fmt: skip
        facts = {k: v for k, v in facts.items() if v is not None}  # None: not known
        profile = parse_profile({"entity_type": "enterprise", "region": ["江苏省", "苏州市"], "facts": facts},
                                policy.base.catalogue, where="test")  # fmt: skip
        options = Options(as_of=dt.date(2024, 6, 30), period=2023, documents=("suzhou-software-cluster",))
        return policy.engine.evaluate(profile, options).rule("suzhou-software-cluster:3/revenue-milestone")

    short = rule()  # a software firm 1000万元 short of the first tier
    assert unmet_conditions(short) == (1, 0)
    found = nearness(short)
    assert found is not None and found.match == "nearly" and found.amount_fen == 200_000_000
    assert found.lacking == ["若营业收入（2023年）达到1亿元（现为0.9亿元），可获200万元"]
    no_software = rule(main_business_software=False)  # a yes/no condition fails: nothing to reach
    assert unmet_conditions(no_software) == (1, 0) and nearness(no_software) is None
    unknown = rule(in_miit_software_statistics=None, revenue={2022: "4800万元", 2023: "1.2亿元"})
    found = nearness(unknown)
    assert found is not None and found.lacking == ["需补充：纳入工信部软件统计"]


def test_told_and_applied_counts(db: Database, policy: PolicyEngine) -> None:
    firms = [add_firm(db, policy, 1), add_firm(db, policy, 2), add_firm(db, policy, 3, revenue_2023="9000万元")]
    call_id = add_call(db, policy)
    _match(db, policy, call_id)
    submit_application(db, policy, call_id, firms[0])
    with db.transaction() as session:
        mark_read(session, entity_id=firms[1], notice_id=None, now=_now())
        reach = call_reach(session, call_id)
    assert (reach.told, reach.qualifies, reach.nearly, reach.read, reach.applied, reach.applied_total) == (
        3, 2, 1, 1, 1, 1)  # fmt: skip
    with db.sessions() as session:
        rows = told_entities(session, call_id)
        assert [(r.entity_id, r.match, r.read, r.applied) for r in rows] == [
            (firms[0], "qualifies", False, True), (firms[1], "qualifies", True, False),
            (firms[2], "nearly", False, False)]  # fmt: skip
        ordered = notices_for(session, firms[1])
        assert [n.read_at is not None for n in ordered] == [True]


def test_another_entitys_notice_or_subscription_is_not_found(db: Database, policy: PolicyEngine) -> None:
    mine, theirs = add_firm(db, policy, 1), add_firm(db, policy, 2)
    call_id = add_call(db, policy)
    _match(db, policy, call_id)
    their_notice = _notices(db, call_id)[theirs].id
    with db.transaction() as session:
        subscription = follow(session, entity_id=theirs, kind="topic", value="软件").id
    with db.transaction() as session, pytest.raises(NotFound):
        mark_read(session, entity_id=mine, notice_id=their_notice, now=_now())
    with db.transaction() as session, pytest.raises(NotFound):
        unfollow(session, entity_id=mine, subscription_id=subscription)
    assert _notices(db, call_id)[theirs].read_at is None


# -- webhook ---------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    received: ClassVar[list[tuple[bytes, dict[str, str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, dict(self.headers)))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"answers": [], "received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


SECRET = "a-test-secret-of-enough-length"  # noqa: S105 - a test key


def test_webhook_delivers_signed_json(db: Database, policy: PolicyEngine, receiver: Any) -> None:
    url, handler = receiver
    firm = add_firm(db, policy, 1)
    call_id = add_call(db, policy)
    report = notify_call(db, policy, call_id, webhook=WebhookConfig(url, SECRET, timeout_s=2))
    assert len(report.new_notice_ids) == 1 and len(handler.received) == 1
    body, headers = handler.received[0]
    assert verify(SECRET, body, headers[SIGNATURE_HEADER])
    assert not verify("another-secret-entirely", body, headers[SIGNATURE_HEADER])
    data = json.loads(body)
    assert data["entity"]["id"] == firm and data["match"] == "qualifies"
    assert (data["amount_fen"], data["amount_kind"], data["amount_text"]) == (200_000_000, "certain", "200万元")
    assert data["call"]["id"] == call_id and data["deadline"]
    notice = _notices(db, call_id)[firm]
    assert (notice.delivery, notice.delivery_attempts) == ("sent", 1)
    again = notify_call(db, policy, call_id, webhook=WebhookConfig(url, SECRET, timeout_s=2))
    assert again.new_notice_ids == [] and len(handler.received) == 1  # told once, sent once


def test_webhook_retries_then_records_failure(db: Database, policy: PolicyEngine, receiver: Any) -> None:
    url, handler = receiver
    first, second = add_firm(db, policy, 1), add_firm(db, policy, 2)
    call_id = add_call(db, policy)
    with db.transaction() as session:
        ids = match_call(session, call=session.get_one(Call, call_id), policy=policy).new_notice_ids
    handler.answers = [500, 503, 200, 500, 500, 500]  # the first notice on its third try; the second never
    pauses: list[float] = []
    outcome = deliver(db, WebhookConfig(url, SECRET, attempts=3, backoff_s=0.5), ids, sleep=pauses.append)
    assert list(outcome.values()) == ["sent", "failed"]
    assert pauses == [0.5, 1.0, 0.5, 1.0]  # doubling pauses between tries
    notices = _notices(db, call_id)
    assert (notices[first].delivery, notices[first].delivery_attempts) == ("sent", 3)
    assert (notices[second].delivery, notices[second].delivery_attempts) == ("failed", 3)
    with db.sessions() as session:
        assert call_reach(session, call_id).failed_deliveries == 1


def test_webhook_to_nobody_fails_without_raising(db: Database, policy: PolicyEngine) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    firm = add_firm(db, policy, 1)
    call_id = add_call(db, policy)
    config = WebhookConfig(f"http://127.0.0.1:{port}/hook", SECRET, timeout_s=1, attempts=2, backoff_s=0)
    notify_call(db, policy, call_id, webhook=config)
    notice = _notices(db, call_id)[firm]
    assert (notice.delivery, notice.delivery_attempts) == ("failed", 2)


def test_a_call_opened_over_the_api_tells_the_registry_and_the_webhook(
    db: Database, policy: PolicyEngine, receiver: Any
) -> None:
    from platform_fixtures import TestClient, add_user, make_app

    url, handler = receiver
    firm = add_firm(db, policy, 1)
    official = add_user(db, "official", "official")
    client = TestClient(make_app(db, webhook_url=url, webhook_secret=SECRET))
    created = client.post("/api/v1/calls", headers={"Authorization": f"Bearer {official}"}, json={
        "title": "苏州软件规模奖励", "document_id": "suzhou-software-cluster", "provisions": ["3"], "period": 2023,
        "as_of": "2024-06-30", "opens_on": "2024-01-01", "closes_on": "2099-12-31", "budget": "1000万元",
        "review_mode": "formal", "publicity_days": 0})  # fmt: skip
    assert created.status_code == 201, created.text
    notice = _notices(db, created.json()["id"])[firm]  # the background task ran after the answer
    assert (notice.match, notice.delivery, notice.delivery_attempts) == ("qualifies", "sent", 1)
    assert len(handler.received) == 1


def test_a_webhook_url_needs_a_secret() -> None:
    from huiqi.api.config import Settings
    from huiqi.errors import HuiqiError

    with pytest.raises(HuiqiError, match="HUIQI_WEBHOOK_SECRET"):
        Settings.from_env({"HUIQI_WEBHOOK_URL": "https://msg.example.gov.cn/hook"})
    with pytest.raises(HuiqiError):
        Settings.from_env({"HUIQI_WEBHOOK_URL": "ftp://msg.example.gov.cn/hook", "HUIQI_WEBHOOK_SECRET": SECRET})
    settings = Settings.from_env(
        {"HUIQI_WEBHOOK_URL": "https://msg.example.gov.cn/hook", "HUIQI_WEBHOOK_SECRET": SECRET}
    )
    assert SECRET not in repr(settings)


def test_huiqi_notify_on_the_command_line(policy: PolicyEngine, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from huiqi.cli import app
    from platform_fixtures import sqlite_database

    database = sqlite_database(tmp_path)
    add_firm(database, policy, 1)
    add_firm(database, policy, 2, revenue_2023="9000万元")
    call_id = add_call(database, policy)
    runner = CliRunner()
    first = runner.invoke(app, ["notify", "--call", str(call_id), "--database", database.url], env={})
    assert first.exit_code == 0, first.output
    assert "符合 1、接近符合 1；新通知 2 条" in first.output
    again = runner.invoke(app, ["notify", "--call", str(call_id), "--database", database.url], env={})
    assert again.exit_code == 0 and "新通知 0 条" in again.output
    missing = runner.invoke(app, ["notify", "--call", "999", "--database", database.url], env={})
    assert missing.exit_code == 2 and "未找到申报批次 999" in missing.output
    neither = runner.invoke(app, ["notify", "--database", database.url], env={})
    assert neither.exit_code == 2 and "--document" in neither.output
    draft = runner.invoke(app, ["notify", "--document", "suzhou-software-cluster", "--database", database.url], env={})
    assert draft.exit_code == 2 and "征求意见稿" in draft.output
    published = runner.invoke(app, ["notify", "--document", "xinjiang-2017-software", "--database", database.url],
                              env={})  # fmt: skip
    assert published.exit_code == 0 and "文件 xinjiang-2017-software：评估 0 个主体" in published.output
    database.dispose()


def test_a_dead_receiver_is_given_up_on_and_tried_again_later(
    db: Database, policy: PolicyEngine, receiver: Any
) -> None:
    from huiqi.workflow.matching import deliver_pending

    url, handler = receiver
    firms = [add_firm(db, policy, n) for n in range(1, 5)]
    call_id = add_call(db, policy)
    with db.transaction() as session:
        ids = match_call(session, call=session.get_one(Call, call_id), policy=policy).new_notice_ids
    handler.answers = [500] * 4  # two notices, two tries each: then the receiver is taken to be down
    config = WebhookConfig(url, SECRET, attempts=2, backoff_s=0)
    outcome = deliver(db, config, ids, sleep=lambda _s: None)
    assert list(outcome.values()) == ["failed"] * 4 and len(handler.received) == 4
    notices = _notices(db, call_id)
    assert [notices[f].delivery_attempts for f in firms] == [2, 2, 0, 0]
    deliver_pending(db, config, call_id, [])  # the receiver is back: the next run sends the failed ones
    notices = _notices(db, call_id)
    assert [(notices[f].delivery, notices[f].delivery_attempts) for f in firms] == [
        ("sent", 3), ("sent", 3), ("sent", 1), ("sent", 1)]  # fmt: skip


def test_a_published_document_tells_the_registry_once(db: Database, policy: PolicyEngine) -> None:

    from huiqi.workflow.matching import match_committed
    from platform_fixtures import make_id_number

    year = beijing.today().year - 1  # a document's matching assesses last year, as of today
    with db.transaction() as session:
        talent = create_entity(session, entity_type="talent", name="新疆测试人才", id_number=make_id_number(7),
                               region=["新疆维吾尔自治区", "乌鲁木齐市"])  # fmt: skip
        for key, value, fact_year in [("talent_recognised_on", "2021-09-01", None),
                                      ("xinjiang_work_started_on", "2021-03-01", None),
                                      ("iit_paid", "8.6万元", year), ("iit_local_retained", "3.44万元", year)]:  # fmt: skip
            record_fact(session, entity=talent, key=key, value=value, year=fact_year, provenance="verified",
                        recorded_by="official1", catalogue=policy.base.catalogue)  # fmt: skip
        talent_id = talent.id
    add_firm(db, policy, 1)  # a Suzhou firm: Xinjiang's document does not reach it
    report = match_committed(db, policy, document_id="xinjiang-2017-software")
    assert report.call_id is None and report.considered == 1 and report.qualifies >= 1
    with db.sessions() as session:
        notices = session.scalars(select(Notice).where(Notice.call_id.is_(None))).all()
        assert {n.entity_id for n in notices} == {talent_id}
        told = {n.provision_id: n for n in notices}
        assert told["8"].match == "qualifies" and told["8"].key == "document:xinjiang-2017-software:8"
        assert told["8"].deadline is None and told["8"].amount_kind == "certain"
    again = match_committed(db, policy, document_id="xinjiang-2017-software")
    assert again.new_notice_ids == []
    with pytest.raises(InvalidInput, match="征求意见稿"):  # a draft is not published
        match_committed(db, policy, document_id="suzhou-software-cluster")
    with pytest.raises(NotFound):
        match_committed(db, policy, document_id="no-such-document")
