"""One OS process of the concurrent-writers test: its own app writing notes through the shared database."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy.exc import OperationalError

from kb import create_app
from kb.extensions import db
from tests.search import notes


def commit_with_retry(work) -> None:
    for attempt in range(50):
        try:
            work()
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            time.sleep(0.05 + random.random() * 0.1)
    raise RuntimeError("database stayed locked")


def main(db_url: str, index_dir: str, worker: int, count: int) -> None:
    app = create_app({"ENV": "testing", "SECRET_KEY": "t", "DATABASE_URL": db_url, "INDEX_DIR": index_dir,
                      "SEARCH_DRAIN_INTERVAL": 0}, instance_path=str(Path(index_dir).parent / f"inst{worker}"))
    notes.register(app)
    rng = random.Random(worker)
    mine: list[int] = []
    with app.app_context():
        for i in range(count):
            def create(i=i):
                note = notes.Note(title=f"worker{worker} note{i} pelican", body=f"written by w{worker}x{i}")
                db.session.add(note)
                db.session.flush()
                mine.append(note.id)
            commit_with_retry(create)
            if mine and rng.random() < 0.4:
                target = rng.choice(mine)

                def edit(i=i, target=target):
                    note = db.session.get(notes.Note, target)
                    note.title = f"worker{worker} edited{i} pelican"

                commit_with_retry(edit)
            if len(mine) > 2 and rng.random() < 0.15:
                target = mine.pop(rng.randrange(len(mine)))
                commit_with_retry(lambda target=target: db.session.delete(db.session.get(notes.Note, target)))
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
