"""Who may fetch a stored file: each owning feature says so for its own kind; unknown kinds are nobody's."""

from __future__ import annotations

from collections.abc import Callable

from kb.accounts.permissions import is_staff
from kb.uploads.models import StoredFile

_OWNERS: dict[str, Callable[[object, StoredFile], bool]] = {}


def register_file_owner(owner_kind: str, can_view: Callable[[object, StoredFile], bool]) -> None:
    """Declare how viewers of ``owner_kind`` files are checked (the owning feature's own permission rule)."""
    _OWNERS[owner_kind] = can_view


def can_view_file(user, stored: StoredFile | None) -> bool:
    """Live file, an owner that allows this user, and internal files for staff only."""
    if stored is None or stored.deleted_at is not None:
        return False
    check = _OWNERS.get(stored.owner_kind)
    if check is None:
        return False
    if stored.internal and not (getattr(user, "is_authenticated", False) and is_staff(user)):
        return False
    return bool(check(user, stored))
