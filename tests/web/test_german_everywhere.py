"""Every page speaks German, for every role: each GET page of the app (and the pages of a
document, a case, a file-plan node and a search) is fetched as each role, its visible text
read, and any English word of the app's status and facet values or of common English UI
vocabulary fails the test. Error pages (403/404) count too: they are pages a user sees."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import update

from eakte.models import Document
from eakte.services import cases, documents
from eakte.services.indexer import index_pending

ROLES = ("sachb", "scan", "registratur", "admin")
# The app's own values that must never show untranslated (statuses, facets, kinds, actions)
VALUES = [
    "inbox",
    "open",
    "closed",
    "received",
    "processing",
    "ready",
    "failed",
    "destroyed",
    "discarded",
    "proposed",
    "approved",
    "rejected",
    "completed",
    "pending",
    "passed",
    "relevance",
    "newest",
    "oldest",
    "document",
    "case",
    "rendition",
    "original",
    "assign",
    "unassign",
    "refile",
    "restrict",
    "unrestrict",
]
# Common English UI words that have no place in a German page (none is also German)
UI_WORDS = [
    "Save",
    "Cancel",
    "Delete",
    "Search",
    "Submit",
    "Inbox",
    "Previous",
    "Next",
    "Upload",
    "Password",
    "Users",
    "Settings",
    "Edit",
    "Back",
    "Received",
    "Created",
    "Filed",
    "Welcome",
    "Open",
    "Closed",
    "Please",
    "Sign",
    "File",
    "Files",
    "Case",
    "Cases",
    "Document",
    "Documents",
    "Process",
    "Select",
    "Selected",
    "Assign",
    "Assigned",
    "Shortcuts",
    "Keyboard",
    "Help",
    "Close",
    "Title",
    "Sender",
    "Type",
    "Page",
    "Pages",
    "Zoom",
    "Rotate",
    "Download",
    "Results",
    "Saved",
    "Shared",
    "Hits",
    "Nobody",
    "the",
    "and",
    "with",
    "not",
    "found",
    "you",
    "your",
    "is",
    "are",
    "this",
    "that",
    "from",
    "into",
]
ENGLISH = re.compile(r"\b(" + "|".join(map(re.escape, VALUES + UI_WORDS)) + r")\b")


class _Text(HTMLParser):
    """The text a user reads: element text and the attributes shown or spoken."""

    SHOWN = ("alt", "title", "placeholder", "aria-label", "value")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        for name in self.SHOWN:
            if attrs.get(name) and not (
                name == "value"
                and attrs.get("type") in (None, "hidden", "checkbox", "text", "search")
            ):
                self.parts.append(attrs[name])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_the_detector_finds_english():
    assert ENGLISH.findall(visible_text('<p>Status: <span>inbox</span></p><a title="Save">x</a>'))
    assert not ENGLISH.findall(
        visible_text("<p>Posteingang, offen, bereit</p><script>Save</script>")
    )


@pytest.fixture
def sample(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Bäckerei Schmidt")
        process = cases.add_process(s, world.clerk, case.id, "Anmeldung")
    filed = world.inbox_document("Gewerbeanmeldung Schmidt")
    inbox = world.inbox_document("Antrag Hundesteuer")
    with world.session() as s:
        documents.file_document(s, world.clerk, filed.id, process.id)
        with s.begin():
            s.execute(
                update(Document)
                .where(Document.id.in_((filed.id, inbox.id)))
                .values(status="ready", extracted_text="Gewerbe Anmeldung", index_dirty=True)
            )
    index_pending(world.rt)
    return case, filed, inbox


def _pages(app, sample):
    case, filed, inbox = sample
    skip = ("static", "api.", "health.", "auth.login", "auth.logout")
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            plain_get = "GET" in rule.methods and not rule.arguments
            if (
                plain_get
                and not rule.endpoint.startswith(skip)
                and not rule.rule.endswith((".json", ".png", ".svg", ".csv", ".xml", ".pdf"))
            ):
                urls.append(rule.rule)
    return [
        *sorted(set(urls)),
        f"/dokumente/{filed.uuid}",
        f"/dokumente/{inbox.uuid}?liste=posteingang",
        f"/akten/{case.uuid}",
        "/aktenplan/32.10.05",
        "/suche/?q=Gewerbe",
        "/suche/?q=Gewerbe&status=open",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_german_for_each_role(app, world, sign_in, sample, role):
    client = sign_in(role)
    found = {}
    for url in _pages(app, sample):
        response = client.get(url)
        if response.mimetype != "text/html" or response.status_code in (301, 302, 303):
            continue
        words = set(ENGLISH.findall(visible_text(response.get_data(as_text=True))))
        if words:
            found[url] = sorted(words)
    assert found == {}, f"{role}: English on {found}"
