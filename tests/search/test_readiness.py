"""``/readyz`` reports the configured index, Whoosh directory or PostgreSQL tables."""

from __future__ import annotations


def test_readyz_reports_the_configured_index(world, archive, client):
    index = client.get("/readyz").get_json()["checks"]["index"]
    keys = world.rt.search.keys()
    assert (index["status"], index["documents"]) == ("ok", len(keys))
    assert len(keys) > 10  # the archive's cases and documents
