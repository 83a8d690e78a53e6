"""Retention and disposal (Aussonderung): schedules, due lists, legal holds, four-eyes disposal,
destruction with certificates, xdomea transfer to the archive, S3 Object Lock (R3, R6-R14, R25).

One vertical slice: its models (``retention.models``), rules, services, jobs, commands and
verify checks. Sits above ``eakte``: it uses eakte's models and services and the object store;
nothing in ``eakte`` imports it. What the core needs of retention (hold checks, the clock at
closure, the locks of new versions) it declares as a port (``eakte.ports.RetentionPort``), which
``retention.port`` implements and the composition root wires.
"""
