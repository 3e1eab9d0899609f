"""Review workflows as data (app/domain/workflow.py): what may be decided, by whom,
from which state, with which reason — without an app."""
from __future__ import annotations

import pytest

from app.domain.errors import RuleError
from app.domain.workflow import Transition, Workflow

REVIEW = Workflow(
    "demo", initial="待审核", states=("待审核", "已通过", "未通过", "草稿"),
    transitions=(
        Transition("approve", ("待审核",), "已通过", "通过", roles={"town", "bureau"}),
        Transition("reject", ("待审核",), "未通过", "驳回", roles={"town", "bureau"}, reason_required=True,
                   message="rejected"),
        Transition("return", ("已通过", "未通过"), "草稿", "退审", roles={"institution_admin"}),
    ),
)


def test_a_reviewer_approves_a_pending_row():
    """A town reviewer may approve what waits for review, without a reason."""
    assert REVIEW.decide("待审核", "approve", {"town"}).target == "已通过"


def test_rejecting_needs_a_reason():
    """驳回 without a reason is refused with a Chinese message naming the step."""
    with pytest.raises(RuleError) as err:
        REVIEW.decide("待审核", "reject", {"bureau"}, "  ")
    assert err.value.field == "reason" and "驳回" in str(err.value)
    assert REVIEW.decide("待审核", "reject", {"bureau"}, "材料不全").target == "未通过"


def test_a_decided_row_cannot_be_decided_again():
    """Once approved, approve and reject are refused: the state says so."""
    for action in ("approve", "reject"):
        with pytest.raises(RuleError) as err:
            REVIEW.decide("已通过", action, {"town"}, "x")
        assert "已通过" in str(err.value)


def test_only_the_declared_roles_may_take_a_step():
    """An enterprise head cannot approve; only the institution admin returns (退审)."""
    with pytest.raises(RuleError):
        REVIEW.decide("待审核", "approve", {"enterprise_head"})
    with pytest.raises(RuleError):
        REVIEW.decide("已通过", "return", {"town"})
    assert REVIEW.decide("已通过", "return", {"institution_admin"}).target == "草稿"


def test_unknown_action_and_overlong_reason_are_refused():
    with pytest.raises(RuleError):
        REVIEW.decide("待审核", "delete", {"town"})
    with pytest.raises(RuleError) as err:
        REVIEW.decide("待审核", "reject", {"town"}, "长" * 501)
    assert err.value.field == "reason"


def test_the_buttons_follow_state_and_roles():
    """The steps offered are those of the row's state the user's roles may take."""
    assert [t.action for t in REVIEW.available("待审核", {"town"})] == ["approve", "reject"]
    assert REVIEW.available("待审核", {"enterprise_head"}) == []
    assert [t.action for t in REVIEW.available("未通过", {"institution_admin"})] == ["return"]


def test_a_declaration_with_unknown_states_or_duplicate_steps_fails_at_import():
    with pytest.raises(ValueError):
        Workflow("bad", "待审核", ("待审核",), (Transition("go", ("待审核",), "别处", "去"),))
    with pytest.raises(ValueError):
        Workflow("bad", "a", ("a", "b"), (Transition("go", ("a",), "b", "x"), Transition("go", ("a",), "a", "y")))
    with pytest.raises(ValueError):
        Workflow("bad", "z", ("a",), ())
