"""Who may read, post, edit and moderate in the forums: the one place every view, list, feed and email asks."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from kb.accounts.permissions import at_least, is_admin, is_staff
from kb.forums.models import Access
from kb.search.documents import AUTHENTICATED, PUBLIC, role_visibility
from kb.types import utcnow


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def meets(user, access: Access | str) -> bool:
    """Does the user satisfy an access level: everyone, signed-in users, or a role and above?"""
    access = Access(access)
    if access is Access.EVERYONE:
        return True
    if access is Access.USERS:
        return _authenticated(user)
    return at_least(user, access.role)


def readable_levels(user) -> list[Access]:
    """The read_access values a user can read, for filtering queries."""
    return [access for access in Access if meets(user, access)]


def can_read(user, category) -> bool:
    return category is not None and meets(user, category.read_access)


def address_ok_for_posting(user) -> bool:
    """Unverified addresses post only when KB_UNVERIFIED_MAY_POST allows it; staff always may."""
    if not _authenticated(user) or is_staff(user) or current_app.config.get("UNVERIFIED_MAY_POST", True):
        return True
    return getattr(user, "email_verified_at", None) is not None


def can_post(user, category) -> bool:
    """May the user start a thread in this category?"""
    return (_authenticated(user) and can_read(user, category) and meets(user, category.post_access)
            and address_ok_for_posting(user))


def can_add_images(user) -> bool:
    """Staff always may put images in posts; members while KB_FORUM_IMAGES_ENABLED is on."""
    return (_authenticated(user) and address_ok_for_posting(user)
            and (is_staff(user) or bool(current_app.config["FORUM_IMAGES_ENABLED"])))


def image_daily_limit(user) -> int | None:
    """How many images a member may add per 24 hours; None (no limit) for staff."""
    return None if is_staff(user) else int(current_app.config["FORUM_IMAGE_DAILY_LIMIT"])


_RANK = {Access.EVERYONE: 0, Access.USERS: 1, Access.STAFF: 2, Access.ADMIN: 3}


def is_broadcast(category) -> bool:
    """Do fewer people start threads here than read it, beyond signing in (e.g. staff-only Announcements)?"""
    return _RANK[Access(category.post_access)] > max(_RANK[Access(category.read_access)], _RANK[Access.USERS])


def invites_questions(user, category) -> bool:
    """Does the category ask this user to start threads? Staff-only categories never ask customers or visitors.

    Signed out, a category asks when any signed-in user may post there (signing in is the next step).
    """
    if _authenticated(user):
        return can_post(user, category)
    return can_read(user, category) and Access(category.post_access) is Access.USERS


def can_see_thread(user, thread) -> bool:
    return can_read(user, thread.category) and (not thread.removed or is_staff(user))


def can_reply(user, thread) -> bool:
    return (_authenticated(user) and can_see_thread(user, thread) and (not thread.locked or is_staff(user))
            and address_ok_for_posting(user))


def can_see_post(user, post) -> bool:
    return post.visible or is_staff(user)


def can_edit(user, post) -> bool:
    """Authors edit their own posts (not once the thread is locked); staff edit anything."""
    if not _authenticated(user):
        return False
    if is_staff(user):
        return True
    return post.author_id == user.id and post.visible and not post.thread.locked


def can_delete(user, post) -> bool:
    return can_edit(user, post)


def can_accept(user, thread) -> bool:
    return _authenticated(user) and (thread.author_id == user.id or is_staff(user))


def can_moderate(user) -> bool:
    return is_staff(user)


def is_new_account(user) -> bool:
    """Customers younger than FORUMS_NEW_ACCOUNT_AGE post under the tighter new-account limit."""
    if not _authenticated(user) or is_staff(user):
        return False
    age = timedelta(seconds=current_app.config["FORUMS_NEW_ACCOUNT_AGE"])
    return utcnow() - user.created_at < age


def can_manage_categories(user) -> bool:
    return is_admin(user)


def visibility_token(category) -> str:
    """The search visibility token matching a category's read access."""
    access = Access(category.read_access)
    if access is Access.EVERYONE:
        return PUBLIC
    if access is Access.USERS:
        return AUTHENTICATED
    return role_visibility(access.role.value)
