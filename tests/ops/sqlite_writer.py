"""One OS process of the four-writers test: its own app, signed in as its own user, writing through the site."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kb import create_app
from tests.conftest import PASSWORD, isolate_requests


def main(db_url: str, instance: str, email: str, thread_id: int, post_ids: list[int]) -> None:
    app = isolate_requests(create_app(
        {"ENV": "testing", "SECRET_KEY": "t", "DATABASE_URL": db_url, "INDEX_DIR": str(Path(instance) / "index"),
         "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "FORUMS_NEW_ACCOUNT_AGE": 0},
        instance_path=instance,
    ))
    failures = []
    with app.app_context():
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        for n, post_id in enumerate(post_ids):
            steps = [
                client.post(f"/threads/{thread_id}/reply", data={"body": f"Reply {n} from {email}: failover works."}),
                client.post(f"/posts/{post_id}/like"),
                client.get(f"/search?q=failover+{email.split('@')[0]}+{n}"),
            ]
            failures += [f"{r.request.path} {r.status_code}" for r in steps if r.status_code >= 400]
    print("\n".join(failures) or "ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), [int(p) for p in sys.argv[5].split(",")])
