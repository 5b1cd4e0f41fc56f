"""One host of the several-hosts test: its own app and instance folder (so its own index) on the
shared database (with the engine named by the third argument), driven by lines on stdin ("add <title>", "edit <id> <title>", "find <word>",
"check") and answering one JSON line each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kb import create_app
from kb.extensions import db
from kb.search import check
from tests.search import notes


def main(db_url: str, instance: str, engine: str = "whoosh") -> None:
    app = create_app({"ENV": "testing", "TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": db_url,
                      "SEARCH_ENGINE": engine,
                      "INDEX_DIR": str(Path(instance) / "search-index"), "SEARCH_ANALYTICS_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SEARCH_DRAIN_INTERVAL": 0.25}, instance_path=instance)
    notes.register(app)
    client = app.test_client()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        with app.app_context():
            if command == "add":
                note = notes.add_note(rest)
                answer = {"id": note.id}
            elif command == "edit":
                note_id, _, title = rest.partition(" ")
                db.session.get(notes.Note, int(note_id)).title = title
                db.session.commit()
                answer = {"id": int(note_id)}
            elif command == "find":
                found = client.get(f"/search?q={rest}&format=json").get_json()
                answer = {"titles": [r["title"] for r in found["results"]]}
            else:
                report = check()
                answer = {"ok": report.ok, "lines": report.lines()}
            db.session.remove()
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
