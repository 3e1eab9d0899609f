"""Building blocks the next modules use, on a real database: the inverse scope (who may
see a row, for every dimension), a declared review workflow applied to a row (scope,
one winner, audit, messages once), and templated notifications (once per event and
recipient)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.domain.errors import Conflict, OutOfScope, ServiceError
from app.domain.workflow import Transition, Workflow
from app.notify.messages import MessageTemplate, to_phones
from app.security import roles as R
from app.security import scope as S
from app.services import review
from models.enterprises import Enterprise
from tests.integration.factories import in_db, make_enterprise, make_staff, make_user, phone, tag
from tests.integration.health.stats_factories import make_bureau_type, make_bureau_user, make_town


class _Base(DeclarativeBase):
    pass


class Application(_Base):
    """A test-only model: an application of an enterprise, awaiting review."""

    __tablename__ = "test_review_application"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(Integer, nullable=False)  # scoped like its enterprise
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="待审核")
    head_phone: Mapped[str] = mapped_column(String(20), nullable=False)


FLOW = Workflow("test_application", "待审核", ("待审核", "已通过", "未通过"), (
    Transition("approve", ("待审核",), "已通过", "通过", roles={R.TOWN, R.BUREAU}, message="approved"),
    Transition("reject", ("待审核",), "未通过", "驳回", roles={R.TOWN, R.BUREAU}, reason_required=True,
               message="rejected"),
))
APPROVED = MessageTemplate("approved", "申请（%(name)s）已通过，处理人知悉。")
REJECTED = MessageTemplate("rejected", "您的申请未通过：%(reason)s")
REVIEW = review.Review(
    FLOW, Application, owner=lambda row: to_phones([row.head_phone]),
    messages={"approved": (APPROVED, (review.REVIEWERS,)), "rejected": (REJECTED, (review.OWNER,))},
    context=lambda row: {"name": f"#{row.id}"},
)


@pytest.fixture(scope="module")
def table(app):
    from app.platform.extensions import db

    with app.app_context():
        Application.__table__.create(db.engine)
        S.register(Application, parent=S.Parent(Application.enterprise_id, Enterprise))
    yield
    with app.app_context():
        Application.__table__.drop(db.engine)
        S._POLICIES.pop(Application, None)


@pytest.fixture
def world(app, table):
    """A town of its own with a town user, a bureau with its type and user, an
    enterprise of that type there (head phone known) and an application of it."""
    town_id, town = make_town(app)
    bureau_code, type_code, bureau_id = make_bureau_type(app)
    head = phone()
    enterprise_id = make_enterprise(app, f"{tag()}企业", town=town, type_code=type_code, head_phone=head)
    town_user = make_user(app, "u" + tag()[1:], R.TOWN, town=town)
    other_town_user = make_user(app, "u" + tag()[1:], R.TOWN, town="黄阁镇")
    bureau_user = make_bureau_user(app, bureau_id)

    def create(session):
        row = Application(enterprise_id=enterprise_id, head_phone=head)
        session.add(row)
        session.commit()
        return row.id

    return dict(town_id=town_id, town=town, bureau_id=bureau_id, head=head, enterprise_id=enterprise_id,
                town_user=town_user, other_town_user=other_town_user, bureau_user=bureau_user,
                type_code=type_code, application=in_db(app, create))


def _user(session, username):
    from models.users import SentinelUser

    return session.execute(select(SentinelUser).where(SentinelUser.username == username)).scalar_one()


def _ids(session, *usernames):
    return frozenset(_user(session, u).id for u in usernames)


def test_the_users_who_may_see_an_enterprise_are_its_town_its_bureau_and_its_head(app, world):
    """The inverse scope of an enterprise: the town users of its town (not another town's),
    the bureau users of its type's bureau, and the head by phone."""
    from models.enterprises import Enterprise

    def check(session):
        enterprise = session.get(Enterprise, world["enterprise_id"])
        seen = S.audience(session, Enterprise, enterprise)
        assert seen.user_ids == _ids(session, world["town_user"], world["bureau_user"])
        assert seen.phones == {world["head"]}
        assert S.audience(session, Enterprise, enterprise, dimensions=[R.DIM_TOWN]).user_ids == \
            _ids(session, world["town_user"])
        # and each of them indeed sees it (forward scope agrees with the inverse)
        for username in (world["town_user"], world["bureau_user"]):
            scope = S.scope_for_user(_user(session, username))
            assert S.get_or_404(session, Enterprise, enterprise.id, scope) is enterprise
        with pytest.raises(OutOfScope):
            S.get_or_404(session, Enterprise, enterprise.id, S.scope_for_user(_user(session, world["other_town_user"])))

    in_db(app, check)


def test_staff_and_child_rows_have_their_parents_audience(app, world):
    """A person (and any row scoped through its enterprise) reaches the same people."""
    from models.enterprises import Enterprise
    from models.staff import Staff

    staff_id = make_staff(app, world["enterprise_id"], "张三")

    def check(session):
        person = session.get(Staff, staff_id)
        application = session.get(Application, world["application"])
        expected = S.audience(session, Enterprise, session.get(Enterprise, world["enterprise_id"]))
        assert S.audience(session, Staff, person) == expected
        assert S.audience(session, Application, application) == expected

    in_db(app, check)


def test_a_town_and_a_type_reach_their_own_users(app, world):
    """A town row reaches its town users; a type reaches its bureau's users; an inactive
    user is nobody's recipient."""
    from models.enterprise_types import EnterpriseType
    from models.regions import Town

    def check(session):
        town = session.get(Town, world["town_id"])
        etype = session.execute(select(EnterpriseType).where(EnterpriseType.code == world["type_code"])).scalar_one()
        assert S.audience(session, Town, town).user_ids == _ids(session, world["town_user"])
        assert S.audience(session, EnterpriseType, etype).user_ids == _ids(session, world["bureau_user"])
        _user(session, world["town_user"]).active = False
        session.flush()
        assert S.audience(session, Town, town).user_ids == frozenset()

    in_db(app, check)


def _take(app, username, action, reason=None, row_id=None, world=None):
    def run(session):
        user = _user(session, username)
        row, transition = review.take(session, S.scope_for_user(user), user, REVIEW,
                                      row_id or world["application"], action, reason)
        return row.status

    return in_db(app, run)


def _messages(app, key_part):
    from models.notify import Message

    return in_db(app, lambda s: [(m.recipient, m.body) for m in s.execute(
        select(Message).where(Message.idempotency_key.like(f"review:Application:{key_part}:%"))).scalars()])


def _steps(app, row_id):
    from models.review import ReviewStep

    return in_db(app, lambda s: [(r.action, r.from_state, r.to_state, r.reason) for r in s.execute(
        select(ReviewStep).where(ReviewStep.entity == "Application", ReviewStep.entity_id == row_id)).scalars()])


def test_a_reviewer_in_scope_rejects_with_a_reason_and_the_applicant_is_told_once(app, world):
    """Reject without a reason: refused, nothing changes. With one: the state moves, the
    step and its reason are recorded, the head gets one SMS with the reason."""
    with pytest.raises(ServiceError):
        _take(app, world["town_user"], "reject", "  ", world=world)
    assert _steps(app, world["application"]) == []
    assert _take(app, world["town_user"], "reject", "材料不全", world=world) == "未通过"
    assert _steps(app, world["application"]) == [("reject", "待审核", "未通过", "材料不全")]
    assert _messages(app, world["application"]) == [(world["head"], "您的申请未通过：材料不全")]
    with pytest.raises(ServiceError):  # decided: a second decision is refused
        _take(app, world["bureau_user"], "approve", world=world)
    assert len(_messages(app, world["application"])) == 1


def test_approval_tells_the_reviewers_who_see_the_row(app, world):
    """An approval's message goes to the users who may see the row (inverse scope), once each."""
    from models.users import SentinelUser

    assert _take(app, world["bureau_user"], "approve", world=world) == "已通过"
    got = {recipient for recipient, _body in _messages(app, world["application"])}
    ids = in_db(app, lambda s: {u: s.execute(select(SentinelUser.id).where(SentinelUser.username == u)).scalar()
                                for u in (world["town_user"], world["bureau_user"])})
    assert got == {f"user:{ids[world['town_user']]}", f"user:{ids[world['bureau_user']]}", world["head"]}


def test_a_reviewer_outside_the_scope_gets_404_and_nothing_changes(app, world):
    """Another town's user cannot decide (the row does not exist for them)."""
    with pytest.raises(OutOfScope):
        _take(app, world["other_town_user"], "approve", world=world)
    assert _steps(app, world["application"]) == []


def test_two_reviewers_deciding_at_once_exactly_one_wins(app, world):
    """Concurrent approve and reject: one step recorded, the other refused (409 or the state)."""
    outcomes = []

    def decide(username, action, reason):
        try:
            outcomes.append(_take(app, username, action, reason, world=world))
        except (Conflict, ServiceError) as err:
            outcomes.append(type(err).__name__)

    threads = [threading.Thread(target=decide, args=(world["town_user"], "approve", None)),
               threading.Thread(target=decide, args=(world["bureau_user"], "reject", "不符合"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_steps(app, world["application"])) == 1
    assert sorted(o in ("已通过", "未通过") for o in outcomes) == [False, True]
