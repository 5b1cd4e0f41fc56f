"""The one role ladder (customer < staff < admin) and the questions every feature asks of it."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from kb.accounts.models import Role
from kb.accounts.permissions import active_staff, at_least, is_active_staff
from kb.extensions import db
from kb.forums.models import Access
from kb.forums.permissions import meets, readable_levels, visibility_token
from kb.search.documents import AUTHENTICATED, PUBLIC, viewer_visibility


def test_each_role_includes_the_ones_below_it_and_none_above():
    assert [r.level for r in Role] == [0, 1, 2]
    assert Role.at_least(Role.STAFF) == [Role.STAFF, Role.ADMIN]
    assert Role.ADMIN.includes(Role.CUSTOMER) and not Role.CUSTOMER.includes(Role.STAFF)


@pytest.mark.parametrize(("role", "staff", "admin"), [("customer", False, False), ("staff", True, False),
                                                      ("admin", True, True)])
def test_at_least_follows_the_ladder(make_user, role, staff, admin):
    user = make_user(role)
    assert (at_least(user, Role.STAFF), at_least(user, Role.ADMIN)) == (staff, admin)
    assert (user.is_staff, user.is_admin) == (staff, admin)
    assert at_least(user, Role.CUSTOMER)
    assert not at_least(AnonymousUserMixin(), Role.CUSTOMER)


@pytest.mark.parametrize(("role", "readable"), [
    (None, ["everyone"]),
    ("customer", ["everyone", "users"]),
    ("staff", ["everyone", "users", "staff"]),
    ("admin", ["everyone", "users", "staff", "admin"]),
])
def test_forum_access_levels_and_search_visibility_ask_the_same_ladder(make_user, role, readable):
    user = make_user(role) if role else AnonymousUserMixin()
    assert readable_levels(user) == [Access(a) for a in readable]
    assert all(meets(user, a) == (a.value in readable) for a in Access)
    visible = viewer_visibility(user)
    for access in Access:
        token = visibility_token(type("Category", (), {"read_access": access})())
        assert (token in visible) == (access.value in readable), access
    assert PUBLIC in visible and (AUTHENTICATED in visible) == (role is not None)


def test_active_staff_leaves_out_customers_and_disabled_accounts(make_user):
    staff, admin, gone = make_user("staff"), make_user("admin"), make_user("staff")
    make_user("customer")
    gone.disabled = True
    db.session.commit()
    assert set(db.session.scalars(active_staff())) == {staff, admin}
    assert is_active_staff(staff) and not is_active_staff(gone) and not is_active_staff(None)
