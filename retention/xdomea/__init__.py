"""xdomea 3.1.0 disposal messages (Aussonderung): writing 0501/0503, reading 0502/0506.

Plain values in, bytes out (and back): the services in ``retention.transfer`` map cases to the
dataclasses of ``retention.xdomea.model`` and apply what the archive answered.
"""

NAMESPACE = "urn:xoev-de:xdomea:schema:3.1.0"
OFFER = "0501"  # Aussonderung.Anbieteverzeichnis
APPRAISAL = "0502"  # Aussonderung.Bewertungsverzeichnis
TRANSFER = "0503"  # Aussonderung.Aussonderung
IMPORT_CONFIRMATION = "0506"  # Aussonderung.AussonderungImportBestaetigen

MESSAGE_NAMES = {
    OFFER: "Aussonderung.Anbieteverzeichnis",
    APPRAISAL: "Aussonderung.Bewertungsverzeichnis",
    TRANSFER: "Aussonderung.Aussonderung",
    IMPORT_CONFIRMATION: "Aussonderung.AussonderungImportBestaetigen",
}


def message_file_name(process_id: str, message_type: str, suffix: str) -> str:
    """``{ProzessID}_{Nachricht}.{Typ}.{suffix}``, the names archives' tools expect."""
    return f"{process_id}_{MESSAGE_NAMES[message_type]}.{message_type}.{suffix}"
