"""Issue 19: admins keep their municipality's directory and group mapping in the web; the bind
password is stored encrypted and never shown or logged again."""

from __future__ import annotations

from sqlalchemy import select

from eakte.models import AuditEvent
from eakte.models.directory import DirectoryConfig, DirectoryGroupMap, TotpSecret
from eakte.services import totp
from tests.directory.conftest import post_login
from tests.fixtures import slapd
from tests.fixtures.app import PASSWORD, csrf_token

PAGE = "/verwaltung/verzeichnis/"


def _form(ldap_settings, **changes):
    values = {
        "dir-enabled": "y",
        "dir-url": ldap_settings.url,
        "dir-ca_file": ldap_settings.ca_file,
        "dir-base_dn": slapd.SUFFIX,
        "dir-user_filter": slapd.USER_FILTER,
        "dir-group_base_dn": slapd.GROUPS,
        "dir-group_filter": slapd.GROUP_FILTER,
        "dir-bind_dn": slapd.SERVICE_DN,
        "dir-bind_password": slapd.SERVICE_PW,
        "dir-local_users": "admin",
    }
    values.update(changes)
    return values


def test_admin_keeps_the_tenants_directory_and_mapping(app, mapped, ldap_settings):
    admin, response = post_login(app, "admin", PASSWORD)
    assert response.status_code == 302
    page = admin.get(PAGE).get_data(as_text=True)
    assert "EAKTE_LDAP_" in page and ldap_settings.url in page
    token = csrf_token(page)
    saved = admin.post(PAGE, data={"csrf_token": token, **_form(ldap_settings)})
    assert saved.status_code == 302
    with mapped.session() as s:
        row = s.get(DirectoryConfig, mapped.tenant.id)
        assert row.bind_password_enc and slapd.SERVICE_PW not in row.bind_password_enc
        trail = " ".join(e.details for e in s.scalars(select(AuditEvent)))
        assert slapd.SERVICE_PW not in trail
    page = admin.get(PAGE).get_data(as_text=True)
    assert slapd.SERVICE_PW not in page and "verschlüsselt" in page
    # saved again without a password: the stored one stays and sign-in keeps working
    keep = _form(ldap_settings, **{"dir-bind_password": ""})
    again = admin.post(PAGE, data={"csrf_token": token, **keep})
    assert again.status_code == 302
    assert post_login(app, "mmueller", slapd.USER_PASSWORD)[1].status_code == 302
    # a plain ldap:// without StartTLS is refused with the reason
    bad = admin.post(
        PAGE,
        data={"csrf_token": token, **_form(ldap_settings, **{"dir-url": "ldap://127.0.0.1:1"})},
        follow_redirects=True,
    )
    assert "ungültig" in bad.get_data(as_text=True)
    # a mapping to a clerk-level role is the admin's; four-eyes roles are not offered
    group = "cn=scanstelle,ou=groups,dc=usingen,dc=de"
    added = admin.post(
        PAGE, data={"csrf_token": token, "map-group_dn": group, "map-role": "scanner"}
    )
    assert added.status_code == 302
    admin.post(PAGE, data={"csrf_token": token, "map-group_dn": group, "map-role": "admin"})
    with mapped.session() as s:
        roles = s.scalars(
            select(DirectoryGroupMap.role).where(DirectoryGroupMap.group_dn == group)
        ).all()
        assert roles == ["scanner"]
    # the connection test looks one person up
    looked = admin.post(PAGE, data={"csrf_token": token, "look-username": "rweber"})
    assert slapd.user_dn("rweber") in looked.get_data(as_text=True)


def test_only_admins_see_the_page(app, mapped):
    clerk, _ = post_login(app, "mmueller", slapd.USER_PASSWORD)
    assert clerk.get(PAGE).status_code == 403


def test_admin_resets_a_second_factor(app, mapped):
    with mapped.session() as s:
        totp.start_enrolment(s, mapped.officer, mapped.rt.settings.resolved_secret_key())
    admin, _ = post_login(app, "admin", PASSWORD)
    token = csrf_token(admin.get(PAGE).get_data(as_text=True))
    done = admin.post(PAGE, data={"csrf_token": token, "reset-username": "registratur"})
    assert done.status_code == 302
    with mapped.session() as s:
        assert s.get(TotpSecret, mapped.officer.id) is None
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "second_factor_reset"))
