"""Index jobs: the indexer that brings the search index up to date (issue 5)."""
