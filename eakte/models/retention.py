"""Retention: legal holds, disposal requests, destruction certificates, transfers (issue 6)."""
