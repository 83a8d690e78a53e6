"""Retention and disposal (Aussonderung): schedules, due lists, legal holds, four-eyes disposal,
destruction with certificates, xdomea transfer to the archive, S3 Object Lock (R3, R6-R14, R25).

Sits above ``eakte``: it uses eakte's models and services and the object store; nothing in
``eakte`` imports it (the small rules eakte's own services need are in ``eakte.holds`` and
``eakte.retention_rules``).
"""
