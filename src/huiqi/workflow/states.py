"""The application lifecycle as a state machine: named transitions, each allowed to exactly one role.

The machine of a call is built from its configuration: the review mode decides where a submission goes
(straight to 形式审查通过 when there is no review at all), and ``transition_roles`` may hand a
transition to another role (for instance 批准 to the administrator). Anything not listed is refused, with
a Chinese message that says what the state allows and who may do it.

Whatever the overrides, the machine keeps separation of duties (职责分离, ``separation_problem``): the
applicant's own steps stay with the applicant and the applicant holds nothing else; no review or decision
step goes to an expert (experts only score, which is not a step of the machine); 拨付 stays with finance;
and 批准 and 拨付 are never held by the same role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from huiqi.store.errors import IllegalTransition, InvalidInput, PermissionDenied
from huiqi.store.models import ROLE_LABELS, ROLES
from huiqi.workflow.actors import Actor


class State(StrEnum):
    """States of an application (DESIGN §7)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    CHECKED = "checked"
    UNDER_REVIEW = "under_review"
    PROPOSED = "proposed"
    PUBLICITY = "publicity"
    APPROVED = "approved"
    PAYING = "paying"
    PAID = "paid"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    CLAWED_BACK = "clawed_back"


STATE_LABELS: dict[State, str] = {
    State.DRAFT: "草稿",
    State.SUBMITTED: "已提交（待形式审查）",
    State.RETURNED: "退回补正",
    State.CHECKED: "形式审查通过",
    State.UNDER_REVIEW: "专家评审中",
    State.PROPOSED: "拟支持",
    State.PUBLICITY: "公示中",
    State.APPROVED: "已批准",
    State.PAYING: "拨付中",
    State.PAID: "已拨付",
    State.FOLLOW_UP: "绩效跟踪",
    State.CLOSED: "已结项",
    State.WITHDRAWN: "已撤回",
    State.REJECTED: "不予支持",
    State.CLAWED_BACK: "已追回",
}

FINAL_STATES = frozenset({State.CLOSED, State.WITHDRAWN, State.REJECTED, State.CLAWED_BACK})


@dataclass(frozen=True)
class Transition:
    """A named move from any of ``sources`` to one of ``targets``, allowed to ``role`` only."""

    name: str
    label: str
    sources: frozenset[State]
    targets: tuple[State, ...]
    role: str

    @property
    def target(self) -> State:
        return self.targets[0]


def _t(name: str, label: str, sources: Iterable[State], targets: Iterable[State], role: str) -> Transition:
    return Transition(name, label, frozenset(sources), tuple(targets), role)


S = State
#: The default lifecycle. Where a transition has two targets the operation picks one (documented there).
DEFAULT_TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", "提交申报（信用承诺）", [S.DRAFT], [S.SUBMITTED, S.CHECKED], "applicant"),
    _t("resubmit", "补正后重新提交", [S.RETURNED], [S.SUBMITTED], "applicant"),
    _t(
        "withdraw",
        "撤回申请",
        [S.DRAFT, S.SUBMITTED, S.RETURNED, S.CHECKED, S.UNDER_REVIEW],
        [S.WITHDRAWN],
        "applicant",
    ),
    _t("return_for_correction", "退回补正（一次性告知）", [S.SUBMITTED], [S.RETURNED], "official"),
    _t("pass_check", "形式审查通过", [S.SUBMITTED], [S.CHECKED], "official"),
    _t("start_review", "抽取专家、开始评审", [S.CHECKED], [S.UNDER_REVIEW], "official"),
    _t("propose", "列入拟支持名单", [S.CHECKED, S.UNDER_REVIEW], [S.PROPOSED], "official"),
    _t("reject", "不予支持", [S.SUBMITTED, S.CHECKED, S.UNDER_REVIEW, S.PROPOSED], [S.REJECTED], "official"),
    _t("start_publicity", "开始公示", [S.PROPOSED], [S.PUBLICITY], "official"),
    _t("uphold_objection", "异议成立，不予支持", [S.PUBLICITY], [S.REJECTED], "official"),
    _t("approve", "批准（预留预算）", [S.PUBLICITY, S.PROPOSED], [S.APPROVED], "official"),
    _t("pay", "拨付一期资金", [S.APPROVED, S.PAYING], [S.PAYING, S.PAID, S.FOLLOW_UP], "finance"),
    _t("close", "结项", [S.PAID, S.FOLLOW_UP], [S.CLOSED], "official"),
    _t(
        "claw_back",
        "追回资金并列入失信名单",
        [S.APPROVED, S.PAYING, S.PAID, S.FOLLOW_UP, S.CLOSED],
        [S.CLAWED_BACK],
        "official",
    ),
)


#: The applicant's own steps: what the entity does for itself (the 信用承诺 is made in its own name).
APPLICANT_STEPS = frozenset(t.name for t in DEFAULT_TRANSITIONS if t.role == "applicant")
#: The step that moves money, and the one role that may take it.
PAY_STEP, PAYER_ROLE = "pay", "finance"
#: The step that commits the budget; never held by the role that pays.
APPROVE_STEP = "approve"


def _step(transition: Transition) -> str:
    return f"“{transition.label}”（{transition.name}）"


def separation_problem(transitions: Mapping[str, Transition], name: str) -> str | None:
    """Why the role now holding step ``name`` breaks separation of duties (职责分离), or None.

    - the applicant's own steps (``APPLICANT_STEPS``) are taken by the applicant, and nobody else;
    - every other step (check, review, decision, approval, payment, clawback) is never the applicant's,
      nor an expert's (an expert only hands in its score sheet, which is not a step of the machine);
    - 拨付 is finance's alone; 批准 and 拨付 are never held by the same role.
    """
    transition = transitions[name]
    role, holder = transition.role, ROLE_LABELS.get(transition.role, transition.role)
    if name in APPLICANT_STEPS:
        if role != "applicant":
            return (
                f"职责分离：{_step(transition)}是申报主体本人的步骤（信用承诺、补正、撤回须由申报主体自己作出），"
                f"不能交给{holder}"
            )
        return None
    if role == "applicant":
        own = "、".join(_step(transitions[n]) for n in sorted(APPLICANT_STEPS) if n in transitions)
        return f"职责分离：{_step(transition)}是审查或决定步骤，不能交给申报主体；申报主体只能执行本单位的{own}"
    if role == "expert":
        return f"职责分离：评审专家只提交评分，{_step(transition)}是审查或决定步骤，不能交给评审专家"
    if name == PAY_STEP and role != PAYER_ROLE:
        return f"职责分离：{_step(transition)}只能由{ROLE_LABELS[PAYER_ROLE]}执行，不能交给{holder}"
    pay, approve = transitions.get(PAY_STEP), transitions.get(APPROVE_STEP)
    if name in (PAY_STEP, APPROVE_STEP) and pay is not None and approve is not None and pay.role == approve.role:
        return (
            f"职责分离：批准与拨付不能由同一角色执行：{_step(approve)}和{_step(pay)}都交给了{holder}；"
            f"拨付由{ROLE_LABELS[PAYER_ROLE]}执行，批准须由其他角色（主管部门经办人或系统管理员）执行"
        )
    return None


class StateMachine:
    """The transitions of one call, by name."""

    def __init__(self, transitions: Iterable[Transition]) -> None:
        self.transitions = {t.name: t for t in transitions}

    def check(self, name: str, state: str, actor: Actor) -> Transition:
        """The transition ``name`` if ``actor`` may take it from ``state``; else a refusal saying why."""
        transition = self.transitions.get(name)
        if transition is None:
            known = "、".join(f"{t.name}（{t.label}）" for t in self.transitions.values())
            raise IllegalTransition(f"本批次的流程没有“{name}”这一步；可用：{known}", where="transition")
        current = State(state)
        if current not in transition.sources:
            allowed = self.allowed_from(current)
            hint = "、".join(f"{t.label}" for t in allowed) or "无（已是终态）"
            sources = "、".join(STATE_LABELS[s] for s in sorted(transition.sources))
            raise IllegalTransition(
                f"申请当前为“{STATE_LABELS[current]}”，不能“{transition.label}”：只有“{sources}”的申请可以；"
                f"当前可进行：{hint}",
                where="state",
            )
        if actor.role != transition.role:
            raise PermissionDenied(
                f"“{transition.label}”只能由{ROLE_LABELS[transition.role]}执行，当前用户是{actor.role_label}",
                where="role",
            )
        return transition

    def allowed_from(self, state: State) -> list[Transition]:
        """The transitions that leave ``state``, whoever may take them."""
        return [t for t in self.transitions.values() if state in t.sources]

    def table(self) -> list[dict[str, str]]:
        """The machine as rows (for docs and the API): transition, from, to, role."""
        return [
            {
                "transition": t.name,
                "label": t.label,
                "from": "、".join(STATE_LABELS[s] for s in sorted(t.sources)),
                "to": "、".join(STATE_LABELS[s] for s in t.targets),
                "role": ROLE_LABELS[t.role],
            }
            for t in self.transitions.values()
        ]


def machine_for(*, review_mode: str, publicity_days: int, roles: Mapping[str, str] | None = None) -> StateMachine:
    """The machine of a call: the default lifecycle shaped by its review mode, 公示 and role overrides."""
    transitions = {t.name: t for t in DEFAULT_TRANSITIONS}
    if review_mode == "none":  # no check at all: a submission is accepted as it stands
        transitions["submit"] = replace(transitions["submit"], targets=(S.CHECKED,))
        for name in ("return_for_correction", "pass_check", "start_review"):
            transitions.pop(name)
    else:
        transitions["submit"] = replace(transitions["submit"], targets=(S.SUBMITTED,))
    if review_mode in ("none", "formal"):
        transitions.pop("start_review", None)
        transitions["propose"] = replace(transitions["propose"], sources=frozenset({S.CHECKED}))
    else:  # expert review is compulsory: nothing is proposed unreviewed
        transitions["propose"] = replace(transitions["propose"], sources=frozenset({S.UNDER_REVIEW}))
    if publicity_days > 0:  # 公示 cannot be skipped
        transitions["approve"] = replace(transitions["approve"], sources=frozenset({S.PUBLICITY}))
    else:
        transitions.pop("start_publicity")
        transitions.pop("uphold_objection")
        transitions["approve"] = replace(transitions["approve"], sources=frozenset({S.PROPOSED}))
    for name, role in (roles or {}).items():
        if name not in transitions:
            raise InvalidInput(f"流程中没有“{name}”这一步，不能指定其角色", where=f"transition_roles.{name}")
        if role not in ROLES:
            raise InvalidInput(f"角色 {role!r} 无效：可用 {'、'.join(ROLES)}", where=f"transition_roles.{name}")
        transitions[name] = replace(transitions[name], role=role)
    for name in sorted(roles or {}):
        problem = separation_problem(transitions, name)
        if problem:
            raise InvalidInput(problem, where=f"transition_roles.{name}")
    return StateMachine(transitions.values())


def default_roles(*, review_mode: str, publicity_days: int) -> dict[str, str]:
    """Who takes each step of a call's machine when ``transition_roles`` is empty."""
    machine = machine_for(review_mode=review_mode, publicity_days=publicity_days)
    return {name: t.role for name, t in machine.transitions.items()}
