"""Retention jobs: disposal execution, the nightly due-list refresh (issue 6)."""
