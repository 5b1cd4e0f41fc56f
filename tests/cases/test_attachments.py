"""Files on cases: the new-case form, comments, internal notes, the API and mail-in; limits, deletion, pruning."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from email.message import EmailMessage

import pytest

from kb.cases import actions, notify
from kb.cases.attachments import case_files_query
from kb.cases.models import CaseEvent, CaseStatus, EventKind
from kb.extensions import db
from kb.types import utcnow
from kb.uploads import file_url
from kb.uploads.models import StoredFile
from tests.conftest import login


@pytest.fixture(params=["filesystem", "database"])
def storage(request, app_config):
    """Each test here once per storage backend (the database one on SQLite, or PostgreSQL when configured)."""
    app_config["ATTACHMENT_STORAGE"] = request.param
    return request.param


def bundle(name: str = "logs.zip", content: bytes | None = None):
    return (io.BytesIO(content if content is not None else b"PK\x03\x04" + b"log data " * 1000), name)


def _all(case) -> list[StoredFile]:
    return list(db.session.scalars(case_files_query(case).order_by(StoredFile.id)))


def open_with_files(client, *files, title="Replication stalls"):
    return client.post("/cases/new", data={"title": title, "description": "Since the upgrade.", "severity": "3",
                                           "files": list(files)}, content_type="multipart/form-data")


def comment_with_files(client, case, *files, body="Logs attached."):
    return client.post(f"/cases/{case.number}/comment", data={"comment-body": body, "comment-files": list(files)},
                       content_type="multipart/form-data")


def test_done_when_customer_attaches_staff_download_other_org_404(app, client, storage, customer, other_customer,
                                                                    staff):
    """A log bundle on opening and another on a comment; staff download both; another organisation gets 404."""
    first, second = b"PK\x03\x04 first bundle " * 500, b"PK\x03\x04 second bundle " * 700
    login(client, customer)
    response = open_with_files(client, bundle("bundle-1.zip", first))
    assert response.status_code == 302
    case = actions.case_by_number(int(response.headers["Location"].rsplit("/", 1)[1]))
    assert comment_with_files(client, case, bundle("bundle-2.zip", second)).status_code == 302
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    for name, data in (("bundle-1.zip", first), ("bundle-2.zip", second)):
        assert name in page and hashlib.sha256(data).hexdigest() in page
    client.post("/logout")

    files = _all(case)
    assert [f.filename for f in files] == ["bundle-1.zip", "bundle-2.zip"]
    login(client, staff)
    for stored, data in zip(files, (first, second)):
        response = client.get(file_url(stored))
        assert response.status_code == 200 and response.data == data
        assert response.headers["Content-Disposition"].startswith("attachment;")
    client.post("/logout")

    login(client, other_customer)
    for stored in files:
        assert client.get(file_url(stored)).status_code == 404
    assert client.get(f"/cases/{case.number}").status_code == 404


def test_case_page_lists_name_size_uploader_time_and_hash(client, make_case, customer):
    case = make_case(customer)
    login(client, customer)
    comment_with_files(client, case, bundle("<b>evil<b>.log", b"x" * 2048))
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "&lt;b&gt;evil&lt;b&gt;.log" in page and "<b>evil" not in page  # names shown escaped
    assert "2 KiB" in page and "Alice" in page
    assert hashlib.sha256(b"x" * 2048).hexdigest() in page
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page and "multiple" in page


def test_several_files_at_once(client, make_case, customer):
    case = make_case(customer)
    login(client, customer)
    response = comment_with_files(client, case, bundle("a.log", b"a"), bundle("b.log", b"b"), bundle("c.png", b"c"))
    assert response.status_code == 302
    [comment] = [e for e in case.events if e.kind is EventKind.COMMENT]
    assert [(f.filename, f.owner_kind, f.owner_id) for f in _all(case)] == [
        ("a.log", "comment", comment.id), ("b.log", "comment", comment.id), ("c.png", "comment", comment.id)]


@pytest.mark.parametrize("role", ["anonymous", "own-org", "colleague", "other-org", "staff", "admin"])
def test_who_may_download_public_and_internal_files(client, make_case, make_user, customer, other_customer, staff,
                                                    admin, org, role):
    case = make_case(customer)
    login(client, customer)
    comment_with_files(client, case, bundle("public.log", b"public"))
    client.post("/logout")
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Our analysis", "update-send": "note",
                                                       "update-files": [bundle("internal.txt", b"internal")]},
                content_type="multipart/form-data")
    client.post("/logout")
    public, internal = _all(case)
    assert (public.internal, internal.internal) == (False, True)
    users = {"own-org": customer, "colleague": make_user("customer", org=org), "other-org": other_customer,
             "staff": staff, "admin": admin}
    if role in users:
        login(client, users[role])
    sees_public = role in ("own-org", "colleague", "staff", "admin")
    sees_internal = role in ("staff", "admin")
    assert client.get(file_url(public)).status_code == (200 if sees_public else 404)
    assert client.get(file_url(internal)).status_code == (200 if sees_internal else 404)
    if sees_public:
        page = client.get(f"/cases/{case.number}").get_data(as_text=True)
        assert "public.log" in page
        assert ("internal.txt" in page) is sees_internal


def test_internal_files_stay_out_of_the_api_and_mail(client, make_case, customer, staff, token_for, mail_outbox):
    case = make_case(customer)
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Note", "update-send": "note",
                                                       "update-files": [bundle("secret.txt", b"s")]},
                content_type="multipart/form-data")
    token = token_for(customer)
    detail = client.get(f"/api/v1/cases/{case.number}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert detail["attachments"] == []
    assert all("secret.txt" not in m.as_string() for m in mail_outbox)


def test_staff_reply_with_files_is_public(client, make_case, customer, staff):
    case = make_case(customer)
    login(client, staff)
    response = client.post(f"/cases/{case.number}/comment", data={
        "update-body": "Here is the patched agent.", "update-send": "reply",
        "update-files": [bundle("agent-8.0.1.msi", b"MZ" * 100)]}, content_type="multipart/form-data")
    assert response.status_code == 302
    [stored] = _all(case)
    assert not stored.internal
    client.post("/logout")
    login(client, customer)
    assert client.get(file_url(stored)).status_code == 200


def test_staff_files_need_a_message(client, make_case, customer, staff):
    case = make_case(customer)
    login(client, staff)
    response = client.post(f"/cases/{case.number}/comment", data={
        "update-body": "", "update-send": "reply", "update-status": "waiting",
        "update-files": [bundle("a.log", b"a")]}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Write a reply or an internal note to go with the files." in response.get_data(as_text=True)
    assert _all(case) == []


@pytest.mark.parametrize("files, status, message", [
    ([("empty.log", b"")], 400, "is empty"),
    ([("../../etc/passwd", b"x")], 400, "folder path"),
    ([("..", b"x")], 400, "folder path"),
    ([("bad\x07name.log", b"x")], 400, "control characters"),
    ([("big.log", b"x" * 5001)], 413, "each file can be at most"),
    ([(f"f{i}.log", b"x") for i in range(4)], 400, "at most 3 files at once"),
])
def test_bad_files_are_refused_and_the_comment_stays(app, client, storage, make_case, customer, files, status, message):
    app.config.update(ATTACHMENT_MAX_BYTES=5000, ATTACHMENT_MAX_FILES=3)
    case = make_case(customer)
    login(client, customer)
    response = comment_with_files(client, case, *[bundle(n, d) for n, d in files], body="My typed words")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page and "My typed words" in page
    assert [e for e in case.events if e.kind is EventKind.COMMENT] == []
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFile)) == 0


def test_case_total_is_a_limit(app, client, make_case, customer):
    app.config.update(ATTACHMENT_CASE_MAX_BYTES=3000)
    case = make_case(customer)
    login(client, customer)
    assert comment_with_files(client, case, bundle("one.log", b"x" * 2000)).status_code == 302
    response = comment_with_files(client, case, bundle("two.log", b"x" * 1500), body="Second bundle")
    assert response.status_code == 413
    assert "A case can hold at most" in response.get_data(as_text=True)
    assert "Second bundle" in response.get_data(as_text=True)


def test_bad_file_on_the_new_case_form_keeps_everything_typed(app, client, customer):
    login(client, customer)
    response = client.post("/cases/new", data={"title": "Typed title", "description": "Typed description",
                                               "severity": "2", "files": [bundle("empty.zip", b"")]},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "is empty" in page and "Typed title" in page and "Typed description" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFile)) == 0


def test_upload_pages_take_bodies_beyond_the_site_wide_cap(app, client, make_case, customer):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    case = make_case(customer)
    login(client, customer)
    assert comment_with_files(client, case, bundle("large.log", b"y" * 50_000)).status_code == 302
    assert _all(case)[0].size == 50_000
    # Elsewhere the cap holds.
    response = client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": "x" * 20_000})
    assert response.status_code == 413


def test_request_beyond_every_attachment_limit_is_413(app, client, make_case, customer):
    app.config.update(MAX_CONTENT_LENGTH=10_000, ATTACHMENT_MAX_BYTES=5_000, ATTACHMENT_MAX_FILES=2)
    case = make_case(customer)
    login(client, customer)
    response = comment_with_files(client, case, bundle("huge.log", b"z" * 40_000))
    assert response.status_code == 413


def test_staff_delete_a_file_and_history_says_who_and_when(client, storage, make_case, customer, staff):
    case = make_case(customer)
    login(client, customer)
    comment_with_files(client, case, bundle("oops-passwords.txt", b"hunter2"))
    [stored] = _all(case)
    url = file_url(stored)
    assert client.post(f"/cases/{case.number}/files/{stored.id}/delete").status_code == 404  # customers cannot
    client.post("/logout")
    login(client, staff)
    response = client.post(f"/cases/{case.number}/files/{stored.id}/delete")
    assert response.status_code == 302
    assert client.get(url).status_code == 404
    db.session.expire_all()
    row = db.session.get(StoredFile, stored.id)
    assert row.deleted_by_id == staff.id and row.deleted_at is not None
    [event] = [e for e in case.events if e.kind is EventKind.FILE_REMOVED]
    assert event.author_id == staff.id and event.old_value == "oops-passwords.txt" and not event.internal
    client.post("/logout")
    login(client, customer)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "Deleted the file “oops-passwords.txt”" in page and "Sam Support" in page
    assert "hunter2" not in page


def test_deleting_a_file_of_another_case_is_404(client, make_case, customer, staff):
    case, other = make_case(customer), make_case(customer, title="Other")
    login(client, customer)
    comment_with_files(client, case, bundle("a.log", b"a"))
    [stored] = _all(case)
    client.post("/logout")
    login(client, staff)
    assert client.post(f"/cases/{other.number}/files/{stored.id}/delete").status_code == 404


def test_prune_removes_files_of_long_closed_cases_and_old_orphans(app, runner, storage, make_case, customer):
    from kb.uploads.service import store_upload

    old, recent, still_open = make_case(customer, title="Old"), make_case(customer, title="Recent"), make_case(customer)
    long_ago = utcnow() - timedelta(days=40)
    for case in (old, recent, still_open):
        store_upload(io.BytesIO(b"data"), f"{case.title}.log", uploader=customer, owner_kind="case", owner_id=case.id,
                     max_bytes=100)
    db.session.add(CaseEvent(case=old, kind=EventKind.STATUS, old_value="open", new_value="closed", created_at=long_ago))
    old.status = CaseStatus.CLOSED
    actions.change_status(recent, customer, CaseStatus.CLOSED)
    orphan = store_upload(io.BytesIO(b"draft"), "draft.png", uploader=customer, owner_kind="image", max_bytes=100)
    fresh = store_upload(io.BytesIO(b"draft"), "fresh.png", uploader=customer, owner_kind="image", max_bytes=100)
    db.session.commit()
    orphan.created_at = utcnow() - timedelta(hours=30)
    db.session.commit()

    result = runner.invoke(args=["attachments-prune"])
    assert result.exit_code == 0, result.output
    assert "unattached upload: draft.png" in result.output
    assert "kept forever" in result.output and "Old.log" not in result.output

    app.config["ATTACHMENT_RETENTION_DAYS"] = 30
    result = runner.invoke(args=["attachments-prune"])
    assert f"case #{old.number}: Old.log" in result.output
    assert "Removed 1 file;" in result.output
    db.session.expire_all()
    names = {f.filename for f in db.session.scalars(db.select(StoredFile))}
    assert names == {"Recent.log", "Replication to site B stopped.log", "fresh.png"}
    assert fresh.id


# --- API -----------------------------------------------------------------------------------


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_api_attachments_listed_on_the_case(client, storage, make_case, customer, token_for):
    case = make_case(customer)
    token = token_for(customer)
    response = client.post(f"/api/v1/cases/{case.number}/attachments", headers=bearer(token),
                           data={"files": [bundle("support-bundle.tgz", b"\x1f\x8b" + b"z" * 300), bundle("b.txt", b"b")],
                                 "comment": "Bundle from the appliance."}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    made = response.get_json()["attachments"]
    assert [a["filename"] for a in made] == ["support-bundle.tgz", "b.txt"]
    assert made[0]["size"] == 302 and made[0]["sha256"] == hashlib.sha256(b"\x1f\x8b" + b"z" * 300).hexdigest()
    detail = client.get(f"/api/v1/cases/{case.number}", headers=bearer(token)).get_json()
    assert [a["filename"] for a in detail["attachments"]] == ["support-bundle.tgz", "b.txt"]
    assert detail["comments"][-1]["body"] == "Bundle from the appliance."
    without_comment = client.post(f"/api/v1/cases/{case.number}/attachments", headers=bearer(token),
                                  data={"files": [bundle("c.txt", b"c")]}, content_type="multipart/form-data")
    assert without_comment.status_code == 201
    assert [f.owner_kind for f in _all(case)] == ["comment", "comment", "case"]


@pytest.mark.parametrize("who, status", [("other-org", 404), ("none", 401), ("staff", 201)])
def test_api_attachments_authorisation(client, make_case, customer, other_customer, staff, token_for, who, status):
    case = make_case(customer)
    headers = {"none": {}, "other-org": bearer(token_for(other_customer)), "staff": bearer(token_for(staff))}[who]
    response = client.post(f"/api/v1/cases/{case.number}/attachments", headers=headers,
                           data={"files": [bundle("a.txt", b"a")]}, content_type="multipart/form-data")
    assert response.status_code == status
    assert response.is_json


@pytest.mark.parametrize("data, content_type, status", [
    ({"files": [bundle("", b"a")]}, "multipart/form-data", 400),
    ({"files": [bundle("empty.log", b"")]}, "multipart/form-data", 400),
    ({"files": [bundle("dir/a.log", b"a")]}, "multipart/form-data", 400),
    ({"files": [bundle("big.log", b"a" * 6000)]}, "multipart/form-data", 413),
    ({"files": [bundle(f"{i}.log", b"a") for i in range(4)]}, "multipart/form-data", 400),
    ({"files": [bundle("a.log", b"a")], "comment": "x" * 301}, "multipart/form-data", 422),
    ('{"files": []}', "application/json", 415),
])
def test_api_attachment_refusals(app, client, make_case, customer, token_for, data, content_type, status):
    app.config.update(ATTACHMENT_MAX_BYTES=5000, ATTACHMENT_MAX_FILES=3, CASE_COMMENT_MAX_LENGTH=300)
    case = make_case(customer)
    response = client.post(f"/api/v1/cases/{case.number}/attachments", headers=bearer(token_for(customer)),
                           data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert _all(case) == []


# --- mail-in -------------------------------------------------------------------------------


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("appliance/replication.log", "2026-01-05 02:00 ERROR journal full\n" * 200)
    return buffer.getvalue()


def reply_with(case, sender: str, body: str, files) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notify.reply_address(case, case.opener)
    message["Subject"] = f"Re: [Case #{case.number}] {case.title}"
    message.set_content(body)
    for name, data, kind in files:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def test_mailed_reply_with_a_zip_adds_the_zip(app, runner, client, storage, make_case, customer, staff):
    case = make_case(customer)
    archive = _zip_bytes()
    raw = reply_with(case, customer.email, "Logs attached, errors start at 02:00.",
                     [("appliance-logs.zip", archive, "application/zip")])
    result = runner.invoke(args=["mail-in"], input=raw)
    assert result.exit_code == 0, result.output + result.stderr
    db.session.expire_all()
    [comment] = [e for e in case.events if e.kind is EventKind.COMMENT]
    assert comment.via == "email" and comment.body == "Logs attached, errors start at 02:00."
    [stored] = _all(case)
    assert (stored.filename, stored.owner_kind, stored.owner_id, stored.size) == (
        "appliance-logs.zip", "comment", comment.id, len(archive))
    login(client, staff)
    response = client.get(file_url(stored))
    assert response.data == archive
    assert zipfile.ZipFile(io.BytesIO(response.data)).namelist() == ["appliance/replication.log"]


def test_mailed_reply_over_the_old_one_mebibyte_is_accepted(app, runner, make_case, customer):
    case = make_case(customer)
    big = bytes(range(256)) * 8192  # 2 MiB, base64 makes it larger still
    raw = reply_with(case, customer.email, "Full bundle.", [("full.bin", big, "application/octet-stream")])
    assert len(raw) > 2 * 1024 * 1024
    result = runner.invoke(args=["mail-in"], input=raw)
    assert result.exit_code == 0, result.stderr
    assert _all(case)[0].size == len(big)


def test_mail_over_its_own_limit_is_refused(app, runner, make_case, customer):
    app.config["MAILIN_MAX_BYTES"] = 50_000
    case = make_case(customer)
    raw = reply_with(case, customer.email, "Too big.", [("big.bin", b"q" * 60_000, "application/octet-stream")])
    result = runner.invoke(args=["mail-in"], input=raw)
    assert result.exit_code == 65 and "limit is 50000 bytes" in result.stderr
    assert _all(case) == []


def test_mail_with_a_bad_attachment_is_refused_with_the_reason(app, runner, storage, make_case, customer):
    app.config["ATTACHMENT_MAX_FILES"] = 1
    case = make_case(customer)
    raw = reply_with(case, customer.email, "Two files.", [("a.log", b"a", "text/plain"), ("b.log", b"b", "text/plain")])
    result = runner.invoke(args=["mail-in"], input=raw)
    assert result.exit_code == 65 and "at most 1 files at once" in result.stderr
    db.session.expire_all()
    assert [e for e in case.events if e.kind is EventKind.COMMENT] == []
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFile)) == 0


def test_mailed_files_without_text_still_land(runner, make_case, customer):
    case = make_case(customer)
    raw = reply_with(case, customer.email, "", [("screen.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "image/png")])
    result = runner.invoke(args=["mail-in"], input=raw)
    assert result.exit_code == 0, result.stderr
    db.session.expire_all()
    [comment] = [e for e in case.events if e.kind is EventKind.COMMENT]
    assert "screen.png" in comment.body
    assert _all(case)[0].content_type == "image/png"


def test_api_clients_download_with_their_token(client, make_case, customer, other_customer, token_for):
    case = make_case(customer)
    token = token_for(customer)
    made = client.post(f"/api/v1/cases/{case.number}/attachments", headers=bearer(token),
                       data={"files": [bundle("trace.log", b"t" * 5000)]}, content_type="multipart/form-data")
    url = made.get_json()["attachments"][0]["url"]
    assert "/api/v1/files/" in url
    response = client.get(url, headers={**bearer(token), "Range": "bytes=4000-"})
    assert response.status_code == 206 and response.data == b"t" * 1000
    assert client.get(url).status_code == 404
    other = client.get(url, headers=bearer(token_for(other_customer)))
    assert other.status_code == 404 and other.is_json


def test_the_larger_cap_is_set_before_the_csrf_check_reads_the_form(app_config, tmp_path, make_org, make_user):
    """With CSRF on, the form is read before any view: the upload page's cap must already apply then."""
    import re

    from kb import create_app
    from tests.conftest import isolate_requests

    app = isolate_requests(create_app({**app_config, "WTF_CSRF_ENABLED": True, "MAX_CONTENT_LENGTH": 10_000},
                                      instance_path=str(tmp_path / "csrf")))
    with app.app_context():
        db.create_all()
        org = make_org("Initech")
        user = make_user("customer", org=org)
        case = actions.open_case(user, title="Big log", description="d", severity=3)
        db.session.commit()
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"email": user.email, "password": "correct horse battery staple", "csrf_token": token})
        page = client.get(f"/cases/{case.number}").get_data(as_text=True)
        token = re.search(r'name="comment-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(f"/cases/{case.number}/comment", data={
            "comment-csrf_token": token, "comment-body": "Big one", "comment-files": [bundle("big.log", b"b" * 50_000)]},
            content_type="multipart/form-data")
        assert response.status_code == 302
        assert _all(case)[0].size == 50_000
        db.session.remove()
        db.engine.dispose()


def test_watchers_mail_names_the_files_of_a_reply(client, make_case, customer, staff, mail_outbox):
    case = make_case(customer)
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={
        "update-body": "Patched agent attached.", "update-send": "reply",
        "update-files": [bundle("agent-8.0.1.msi", b"M" * 3072)]}, content_type="multipart/form-data")
    [message] = [m for m in mail_outbox if customer.email in m.envelope_rcpt]
    assert "Attached: agent-8.0.1.msi (3 KiB)" in message.get_body(("plain",)).get_content()
