"""The audit page (Protokoll) shows an entry's values only where the viewer may open the
object (R22, R24; issue 13, finding 5): an admin sees that a restricted case changed, not
what it is called."""

from eakte.services import cases


def _restricted_case(world):
    with world.session() as s:
        case = cases.create_case(s, world.officer, "32.10.05", "Geheimsache Müller")
        cases.update_case(
            s, world.officer, case.id, title="Geheimsache Meier", description="Adoptionsakte"
        )
        cases.restrict_case(s, world.officer, case.id, True, "Art. 18 DSGVO")
        return case


def test_admin_does_not_read_a_restricted_case_on_the_audit_page(world, sign_in):
    case = _restricted_case(world)
    admin = sign_in("admin")
    assert admin.get(f"/akten/{case.uuid}").status_code == 404
    html = admin.get(f"/registratur/protokoll?object_uuid={case.uuid}").get_data(as_text=True)
    assert str(case.uuid)[:8] in html  # the entries are listed ...
    for secret in ("Geheimsache", "Müller", "Meier", "Adoptionsakte"):
        assert secret not in html  # ... their values are not
    assert "Sie dürfen dieses Objekt nicht öffnen" in html


def test_records_officer_who_may_open_it_reads_the_values(world, sign_in):
    case = _restricted_case(world)
    officer = sign_in("registratur")
    assert officer.get(f"/akten/{case.uuid}").status_code == 200
    html = officer.get(f"/registratur/protokoll?object_uuid={case.uuid}").get_data(as_text=True)
    assert "Geheimsache Müller" in html and "Geheimsache Meier" in html


def test_admin_reads_the_values_of_a_case_they_may_open(world, sign_in):
    with world.session() as s:
        case = cases.create_case(s, world.officer, "32.10.05", "Gewerbe Schmidt")
        cases.update_case(s, world.officer, case.id, title="Gewerbe Schmidt GmbH")
    html = sign_in("admin").get(f"/registratur/protokoll?object_uuid={case.uuid}")
    assert "Gewerbe Schmidt GmbH" in html.get_data(as_text=True)
