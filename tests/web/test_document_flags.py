"""What intake noted about a document shows in words on its page, not as internal flag names."""

from eakte.models import Document


def test_document_page_names_its_flags_in_german(world, sign_in):
    doc = world.inbox_document("Antrag mit Makros")
    with world.session() as s:
        s.get(Document, doc.id).flags = "protected,signed,macros,some_future_flag"
        s.commit()
    html = sign_in("sachb").get(f"/dokumente/{doc.uuid}").get_data(as_text=True)
    assert "geschütztes PDF (die Archivfassung hat keine Einschränkungen)" in html
    assert "signiert" in html and "enthält Makros (werden nie ausgeführt)" in html
    assert "protected,signed" not in html
    assert "some_future_flag" in html  # one the table does not know shows as it is
