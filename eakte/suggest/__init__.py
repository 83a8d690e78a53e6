"""Suggestions from a document's content (issue 18): metadata at intake, where to file it.
Everything runs on this machine; nothing is sent anywhere."""
