"""Ingest: quarantined files and what else the ingest pipeline keeps (issue 4)."""
