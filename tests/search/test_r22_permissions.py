"""R22: search results, counts, facets, snippets and suggestions only ever contain what the
user may open — the same answer ``permissions.can`` gives, object by object."""

from __future__ import annotations

from sqlalchemy import select

from eakte.models import Case, Document, User
from eakte.permissions import Action, can
from eakte.services import search as search_service


def _search(world, user, text, **kw):
    with world.session() as s:
        return search_service.search(s, s.get(User, user.id), world.rt.search, text, **kw)


def _may_open(world, user) -> set[str]:
    with world.session() as s:
        user = s.get(User, user.id)
        visible = {f"d{d.id}" for d in s.scalars(select(Document)) if can(s, user, Action.view, d)}
        visible |= {f"c{c.id}" for c in s.scalars(select(Case)) if can(s, user, Action.view, c)}
    return visible


def _users(world, archive) -> dict[str, User]:
    return {
        "officer": world.officer,  # everything, restricted included
        "admin": world.admin,  # everything but restricted objects
        "clerk": world.clerk,  # Ordnungsamt and Hundesteuer beneath it
        "clerk_sub": world.clerk_sub,  # Hundesteuer only
        "clerk_bau": world.clerk_bau,  # Bauamt
        "scanner": world.scanner,  # the Ordnungsamt's inbox only
        "neighbour": archive.neighbour_clerk,  # another tenant
    }


def test_r22_search_agrees_with_can_on_a_mixed_archive(world, archive):
    for name, user in _users(world, archive).items():
        expected = _may_open(world, user)
        result = _search(world, user, "*", per_page=100)
        assert {hit.key for hit in result.hits} == expected, name
        assert result.total == len(expected), name
        # Facet counts are counts of visible hits only.
        status = {f.value: f.count for f in result.facets["status"]}
        assert sum(status.values()) == len(expected), name
        for counts in result.facets.values():
            assert all(0 < c.count <= len(expected) for c in counts), name
        # The same for a word, with its counts.
        word = _search(world, user, "Gebühr", per_page=100)
        assert {hit.key for hit in word.hits} <= expected, name
        assert word.total == len(word.hits), name


def test_r22_counts_facets_snippets_and_suggestions_reveal_nothing(world, archive):
    secret = archive.key("restricted_doc")  # "Geheimwort Krankheitsgeschichte"
    in_secret_case = archive.key("in_secret_case")
    for user in (world.clerk, world.admin, world.scanner, world.clerk_sub):
        for text in ("Geheimwort", "Krankheitsgeschichte", "Befund", "Gesundheitsamt"):
            result = _search(world, user, text)
            assert result.total == 0 and result.hits == [], (user.username, text)
            assert all(counts == [] for counts in result.facets.values())
        # A typo of a word only restricted documents contain suggests nothing.
        typo = _search(world, user, "Geheimwrt")
        assert typo.suggestion is None and typo.total == 0 and not typo.fuzzy
        # Snippets of visible documents do not carry words of invisible ones.
        for hit in _search(world, user, "Gebühr", per_page=100).hits:
            assert hit.key not in (secret, in_secret_case)
            assert "Geheimwort" not in hit.snippet_html and "Befund" not in hit.snippet_html
    # Whoever may open it finds it, with its suggestion.
    found = _search(world, world.officer, "Geheimwort")
    assert [hit.key for hit in found.hits] == [secret]
    assert "<mark>Geheimwort</mark>" in found.hits[0].snippet_html
    assert _search(world, world.officer, "Geheimwrt").suggestion == "Geheimwort"
    # Scanning staff: inbox documents of their unit, nothing filed, nothing of others' inboxes.
    scanner = _search(world, world.scanner, "*", per_page=100)
    assert {hit.key for hit in scanner.hits} == {archive.key("inbox_32")}
    # Tenants never cross, in either direction.
    assert _search(world, world.officer, "Zweitwohnungsteuer").total == 0
    theirs = _search(world, archive.neighbour_clerk, "Gebühr", per_page=100)
    assert [hit.key for hit in theirs.hits] == [archive.key("neighbour")]
    assert _search(world, archive.neighbour_clerk, "Gewerbeuntersagung").total == 0


def test_r22_restriction_and_filing_changes_reach_the_index(world, archive):
    """What the index shows follows the services' changes after the indexer's next run."""
    from eakte.services import cases, documents
    from eakte.services.indexer import index_pending

    key = archive.key("gewerbe_bescheid")
    assert key in {h.key for h in _search(world, world.clerk, "Gewerbeuntersagung").hits}
    with world.session() as s:
        documents.restrict_document(s, world.officer, archive.ids["gewerbe_bescheid"], True, "x")
    index_pending(world.rt)
    assert key not in {h.key for h in _search(world, world.clerk, "Gewerbeuntersagung").hits}
    # Restricting a case hides its documents too.
    with world.session() as s:
        cases.restrict_case(s, world.officer, archive.case_ids["hund"], True, "Art. 18")
    index_pending(world.rt)
    assert _search(world, world.clerk_sub, "Bello").total == 0
    assert _search(world, world.officer, "Bello").total == 2  # the case and its document
