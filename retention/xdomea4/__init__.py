"""xdomea 4.0.0 (issue 27): disposal beside 3.1.0, the archive's appraisal of the file plan,
Abgabe between authorities and systems, the file plan exchanged.

``schema`` validates every message written or read against the packaged official schema;
``codelists`` reads the code lists out of that schema; ``header`` builds the
``nachrichtenkopf``; the message modules (``disposal``, ``receipts``, ``appraisal``, ``abgabe``,
``fileplan``) turn plain values into bytes and back; ``containers`` packs and unpacks the ZIPs.
The services that act on them (``transfer``, ``takein``, ``exchange``) live beside them.
"""

NAMESPACE = "urn:xoev-de:xdomea:schema:4.0.0"
VERSION = "4.0.0"
