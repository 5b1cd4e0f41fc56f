"""A small site with one object of every kind, owned so that each role sees a different part of it."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser

from sqlalchemy import select

from kb.accounts.models import Plan, Role
from kb.accounts.tokens import create_api_token
from kb.accounts.users import create_organization, create_user
from kb.extensions import db
from tests.conftest import PASSWORD

ROLES = ("anonymous", "customer", "other_customer", "staff", "admin")


def feature_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class World:
    """Users of each role, their objects, logged-in test clients, and the secrets each must not see."""

    def __init__(self, app):
        self.app = app
        self.ids: dict[str, int] = {}
        # URL parameter values per object variant: "own" is the customer's (Acme), "others" Globex's.
        self.params: dict[str, dict[str, object]] = {"own": {}, "others": {}, "public": {}, "draft": {}, "private": {}}
        # secret text -> roles allowed to see it
        self.secrets: dict[str, set[str]] = {}
        self.tokens: dict[str, str] = {}
        self._clients: dict[str, object] = {}

    # -- seeding -------------------------------------------------------------------------------
    def seed(self) -> None:
        """Accounts directly; every feature's objects through its own web forms, as users make them."""
        from kb.hooks import init_steps

        with self.app.app_context():
            for label, step in init_steps(self.app):
                if "bundled content" not in label.lower():
                    step()
            acme = create_organization("Acme Corp", Plan.STANDARD, "Europe/London")
            globex = create_organization("Globex", Plan.PREMIUM, "America/New_York")
            users = {
                "customer": create_user("alice@acme.example", PASSWORD, "Alice Acme", Role.CUSTOMER, acme),
                "colleague": create_user("carol@acme.example", PASSWORD, "Carol Acme", Role.CUSTOMER, acme),
                "other_customer": create_user("bob@globex.example", PASSWORD, "Bob Globex", Role.CUSTOMER, globex),
                "staff": create_user("sam@support.example", PASSWORD, "Sam Support", Role.STAFF),
                "admin": create_user("ada@support.example", PASSWORD, "Ada Admin", Role.ADMIN),
            }
            own_token, own_plain = create_api_token(users["customer"], "acme-iguana-token")
            other_token, other_plain = create_api_token(users["other_customer"], "globex-tapir-token")
            _, staff_plain = create_api_token(users["staff"], "staff-token")
            _, admin_plain = create_api_token(users["admin"], "admin-token")
            db.session.commit()
            for name, user in users.items():
                self.ids[name] = user.id
            self.ids.update(acme=acme.id, globex=globex.id)
            self.tokens = {"customer": own_plain, "other_customer": other_plain,
                           "staff": staff_plain, "admin": admin_plain}
            self.set("own", token_id=own_token.id, user_id=users["customer"].id, org_id=acme.id)
            self.set("others", token_id=other_token.id, user_id=users["other_customer"].id, org_id=globex.id)
            self.set("public", "accounts.reset_password", token="not-a-valid-reset-token")
            self.set("public", "accounts.verify_email", token="not-a-valid-verify-token")
            self.set("public", "accounts.accept_invite", token="not-a-valid-invite-token")
            self.secrets["acme-iguana-token"] = {"customer"}
            self.secrets["globex-tapir-token"] = {"other_customer"}
            self.secrets[own_plain] = set()
            self.secrets[other_plain] = set()
            db.session.remove()
        # Feature objects are made over HTTP with no app context pushed, so each request is independent.
        for seeder in SEEDERS:
            if feature_exists(seeder.module):
                seeder(self)

    def set(self, variant: str, scope: str = "", **values) -> None:
        """Record URL argument values for a variant; ``scope`` is an endpoint or blueprint prefix."""
        for name, value in values.items():
            self.params[variant][f"{scope}:{name}" if scope else name] = value

    def values(self, endpoint: str, variant: str) -> dict[str, object]:
        """Argument values for ``endpoint``: endpoint-scoped first, then blueprint-scoped, then plain."""
        blueprint = endpoint.split(".")[0]
        found: dict[str, object] = {}
        for key, value in self.params[variant].items():
            scope, _, name = key.rpartition(":")
            if scope in ("", blueprint, endpoint):
                rank = {"": 0, blueprint: 1, endpoint: 2}[scope]
                if name not in found or rank >= found[name][0]:
                    found[name] = (rank, value)
        return {name: value for name, (_, value) in found.items()}

    def post(self, role: str, url: str, data: dict, expect=(302, 303)) -> str:
        """Submit a form as ``role``; return where the site sent us."""
        response = self.client(role).post(url, data=data)
        if response.status_code not in expect:
            page = response.get_data(as_text=True)
            errors = re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', page, re.DOTALL) or [page[-1500:]]
            raise AssertionError(f"seeding: {role} POST {url} -> {response.status_code}: {errors}")
        return response.headers.get("Location", "")

    # -- clients -------------------------------------------------------------------------------
    def client(self, role: str):
        """A test client signed in as ``role`` through the login form (anonymous: not signed in)."""
        if role not in self._clients:
            client = self.app.test_client()
            if role != "anonymous":
                email = {"customer": "alice@acme.example", "colleague": "carol@acme.example",
                         "other_customer": "bob@globex.example", "staff": "sam@support.example",
                         "admin": "ada@support.example"}[role]
                csrf_was = self.app.config["WTF_CSRF_ENABLED"]
                self.app.config["WTF_CSRF_ENABLED"] = False
                try:
                    response = client.post("/login", data={"email": email, "password": PASSWORD})
                finally:
                    self.app.config["WTF_CSRF_ENABLED"] = csrf_was
                assert response.status_code == 302, f"could not sign in as {role}"
            self._clients[role] = client
        return self._clients[role]

    def forbidden_secrets(self, role: str) -> list[str]:
        return [secret for secret, allowed in self.secrets.items() if role not in allowed]


class Seeder:
    """Creates one feature's objects when that feature exists."""

    def __init__(self, module: str, fn):
        self.module = module
        self.fn = fn

    def __call__(self, world: World) -> None:
        self.fn(world)


SEEDERS: list[Seeder] = []


def seeds(module: str):
    def register(fn):
        SEEDERS.append(Seeder(module, fn))
        return fn

    return register


DRAFT_TITLE = "Draft zebra quokka notes"
PRIVATE_TITLE = "Private walrus narwhal thread for staff"
OWN_CASE_TITLE = "Acme ocelot outage in replication"
OTHER_CASE_TITLE = "Globex pangolin outage in failover"
INTERNAL_NOTE = "Internal lynx note about the customer"
MEMBERS_TITLE = "Members capybara runbook story"
HIDDEN_REPLY = "Hidden marmot reply that broke the rules"
STAFF = {"staff", "admin"}


def _last_number(location: str) -> int:
    return int(re.search(r"/(\d+)(?:-[^/]*)?/?(?:[#?].*)?$", location).group(1))


@seeds("kb.articles.views")
def _seed_articles(world: World) -> None:
    from kb.articles.models import Article, Category, Revision

    with world.app.app_context():
        category = Category(name="Heron topics", slug="heron-topics", description="Heron things.")
        db.session.add(category)
        db.session.commit()
        category_id = category.id
        db.session.remove()
    base = {"summary": "A short summary.", "type": "how-to", "category": str(category_id), "tags": "heron",
            "versions": "", "message": "First version"}
    world.post("staff", "/articles/new", {**base, "title": "Public heron guide", "slug": "public-heron-guide",
                                         "body": "## Heron steps\n\nPublic heron text.", "action": "publish"})
    world.post("staff", "/articles/new", {**base, "title": DRAFT_TITLE, "slug": "draft-zebra-quokka",
                                         "body": "Unpublished zebra quokka body.", "action": "save"})
    with world.app.app_context():
        def revision_of(slug):
            return db.session.scalar(select(Revision.id).join(Article).where(Article.slug == slug))

        world.set("public", "articles", slug="public-heron-guide", revision_id=revision_of("public-heron-guide"))
        world.set("draft", "articles", slug="draft-zebra-quokka", revision_id=revision_of("draft-zebra-quokka"))
        world.set("public", "articles.category", slug="heron-topics")
        db.session.remove()
    world.secrets[DRAFT_TITLE] = set(STAFF)


@seeds("kb.forums.views")
def _seed_forums(world: World) -> None:
    from kb.forums.models import ForumCategory as Category
    from kb.forums.models import Post

    world.post("admin", "/moderation/categories/new", {
        "name": "Escalations desk", "slug": "escalations-desk", "description": "For the support team only.",
        "position": "100", "read_access": "staff", "post_access": "staff"})
    made = {}
    for role, slug, title in (
        ("customer", "getting-started", "Acme heron question about pairing two sites"),
        ("other_customer", "getting-started", "Globex heron question about journal sizing"),
        ("staff", "escalations-desk", PRIVATE_TITLE),
    ):
        location = world.post(role, f"/forums/{slug}/new", {
            "title": title, "body": f"{title}. How do I get this working again?", "tags": ""})
        made[role] = _last_number(location)
        made[role + "-slug"] = re.search(r"/threads/\d+-([^/?#]+)", location).group(1) if "-" in location else None
    with world.app.app_context():
        def first_post(thread_id):
            return db.session.scalar(select(Post.id).where(Post.thread_id == thread_id).order_by(Post.id))

        def category_id(slug):
            return db.session.scalar(select(Category.id).where(Category.slug == slug))

        world.set("own", "forums", thread_id=made["customer"], post_id=first_post(made["customer"]),
                  slug="getting-started")
        world.set("others", "forums", thread_id=made["other_customer"], post_id=first_post(made["other_customer"]),
                  slug="getting-started")
        world.set("private", "forums", thread_id=made["staff"], post_id=first_post(made["staff"]), slug="escalations-desk",
                  category_id=category_id("escalations-desk"))
        world.set("public", "forums", slug="getting-started", category_id=category_id("getting-started"))
        world.set("public", "forums.unsubscribe", token="not-a-valid-unsubscribe-token")
        for variant, role in (("own", "customer"), ("others", "other_customer"), ("private", "staff")):
            if made[role + "-slug"]:
                world.set(variant, "forums.thread", slug=made[role + "-slug"])
        db.session.remove()
    # A staff answer in each thread: the post its asker (and only its asker or staff) may accept.
    for variant, role in (("own", "customer"), ("others", "other_customer"), ("private", "staff")):
        world.post("staff", f"/threads/{made[role]}/reply", {"body": "Try restarting the replication service.",
                                                             "action": "post"})
        with world.app.app_context():
            answer = db.session.scalar(select(Post.id).where(Post.thread_id == made[role]).order_by(Post.id.desc()))
            world.set(variant, "forums.accept", post_id=answer)
            db.session.remove()
    world.secrets[PRIVATE_TITLE] = set(STAFF)
    # Signed-in-only category: its threads stay out of everything an anonymous visitor sees.
    world.post("customer", "/forums/customer-lounge/new", {
        "title": MEMBERS_TITLE, "body": "Our runbook for the quarterly failover test.", "tags": "", "action": "post"},
        expect=(302, 303, 404))
    if "customer-lounge" in world.client("customer").get("/forums/").get_data(as_text=True):
        world.secrets[MEMBERS_TITLE] = {"customer", "colleague", "other_customer"} | STAFF
    # A reply hidden by a moderator: only staff still read it.
    location = world.post("customer", f"/threads/{made['other_customer']}/reply", {
        "body": HIDDEN_REPLY, "action": "post"})
    with world.app.app_context():
        hidden = db.session.scalar(select(Post.id).where(Post.thread_id == made["other_customer"])
                                   .order_by(Post.id.desc()))
        db.session.remove()
    world.post("staff", f"/posts/{hidden}/hide", {"reason": "off-topic", "note": "moderated"})
    world.secrets[HIDDEN_REPLY] = set(STAFF)
    assert location


@seeds("kb.cases.views")
def _seed_cases(world: World) -> None:
    numbers = {}
    for role, title in (("customer", OWN_CASE_TITLE), ("other_customer", OTHER_CASE_TITLE)):
        location = world.post(role, "/cases/new", {
            "title": title, "severity": "3", "description": f"{title}: the job stops at 40 percent.",
            "business_impact": "Some", "environment": "Two sites", "product_version": "8.0", "product_build": ""})
        numbers[role] = _last_number(location)
    world.post("staff", f"/cases/{numbers['customer']}/comment",
               {"update-body": INTERNAL_NOTE, "update-send": "note"})
    # Each case linked to its customer's public thread: the thread page must not reveal the case.
    for role, variant in (("customer", "own"), ("other_customer", "others")):
        thread_id = world.values("forums.thread", variant).get("thread_id")
        if thread_id:
            world.post(role, f"/cases/{numbers[role]}/link-thread", {"link-thread": str(thread_id)})
    world.set("own", number=numbers["customer"])
    world.set("others", number=numbers["other_customer"])
    world.secrets[OWN_CASE_TITLE] = {"customer", "colleague"} | STAFF
    world.secrets[OTHER_CASE_TITLE] = {"other_customer"} | STAFF
    world.secrets[INTERNAL_NOTE] = set(STAFF)


@seeds("kb.images.service")
def _seed_images(world: World) -> None:
    """A screenshot a customer put in a forum post: published, so every role may fetch it."""
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(picture, "PNG")
    picture.seek(0)
    response = world.client("customer").post("/forums/images", data={"image": (picture, "heron.png")},
                                             headers={"Accept": "application/json"})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    file_id, name = re.search(r"/files/(\d+)/([^/]+)$", response.get_json()["url"]).groups()
    world.set("public", "uploads", file_id=int(file_id), name=name)


# -- what a page may contain -------------------------------------------------------------------
class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag, attrs):
        names = {name.lower(): (value or "") for name, value in attrs}
        if tag == "script":
            src = names.get("src", "")
            if not src.startswith("/static/"):
                self.problems.append(f"<script> not from /static/: {attrs!r}")
            self._in_script = True
        if tag in ("iframe", "object", "embed", "frame", "frameset", "applet", "base", "svg", "math"):
            self.problems.append(f"<{tag}> element: {attrs!r}")
        if tag == "meta" and names.get("http-equiv", "").lower() == "refresh":
            self.problems.append(f"meta refresh: {attrs!r}")
        for name, value in names.items():
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f"style= attribute on <{tag}>")
            if name in ("href", "src", "action", "formaction", "xlink:href", "poster", "srcset"):
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text", "data:application")):
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script body: {data[:80]!r}")


def unsafe_markup(html: str) -> list[str]:
    """What in an HTML page could run script or break the CSP: should always be empty."""
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.problems
