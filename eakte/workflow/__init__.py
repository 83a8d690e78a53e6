"""The clerk's daily work (issue 16): routes for co-signing (Geschäftsgang), Wiedervorlagen,
deputies (Vertretung) and the desk (Schreibtisch) that gathers them.

Services here take a session and own their transaction, check permissions through
``eakte.permissions`` and write the audit trail, like ``eakte.services``; the models are in
``eakte.models.workflow``.
"""
