"""Administration of sign-in (issue 19): the tenant's directory, its group → role / org unit
table, a connection test, and resetting a person's second factor. Services check who may."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from eakte.directory import config, mapping
from eakte.directory.ldap_client import DirectoryClient
from eakte.directory.settings import AD_USER_FILTER, DEFAULT_GROUP_FILTER, LdapSettings
from eakte.errors import BadInput, ConfigError, Conflict, DirectoryUnavailable
from eakte.models import Role, Tenant
from eakte.services import accounts, totp
from web.admin import ROLE_LABELS
from web.context import actor
from web.db import db, runtime
from web.forms import NONE, ActionForm, PageForm

bp = Blueprint("directory_admin", __name__, url_prefix="/verwaltung/verzeichnis")

# An admin maps groups to these only; admin and records officer are the operator's
# (``eakte ldap map``): four eyes.
MAPPABLE = (Role.clerk, Role.scanner)


class DirectoryForm(PageForm):
    enabled = BooleanField(_l("Sign-in through the directory"), default=True)
    url = StringField(
        _l("Server (ldaps://… or ldap://… with StartTLS)"),
        validators=[DataRequired(), Length(max=300)],
    )
    starttls = BooleanField(_l("StartTLS"))
    ca_file = StringField(
        _l("CA certificate file on the server"), validators=[Optional(), Length(max=500)]
    )
    base_dn = StringField(_l("Base DN of the people"), validators=[DataRequired(), Length(max=500)])
    user_filter = StringField(
        _l("User filter ({username})"),
        default=AD_USER_FILTER,
        validators=[DataRequired(), Length(max=500)],
    )
    group_base_dn = StringField(
        _l("Base DN of the groups"), validators=[Optional(), Length(max=500)]
    )
    group_filter = StringField(
        _l("Group filter ({dn})"),
        default=DEFAULT_GROUP_FILTER,
        validators=[DataRequired(), Length(max=500)],
    )
    bind_dn = StringField(_l("Service account DN"), validators=[Optional(), Length(max=500)])
    bind_password = PasswordField(
        _l("Service account password (empty: keep the stored one)"),
        validators=[Optional(), Length(max=500)],
    )
    local_users = StringField(
        _l("Local emergency accounts (comma-separated)"),
        default="admin",
        validators=[Optional(), Length(max=500)],
    )


class MappingForm(PageForm):
    group_dn = StringField(_l("Group DN"), validators=[DataRequired(), Length(max=500)])
    role = SelectField(
        _l("Role"),
        choices=[NONE] + [SelectChoice(r.value, ROLE_LABELS[r]) for r in MAPPABLE],
        validators=[Optional()],
    )
    org_unit = SelectField(_l("Org unit"), validators=[Optional()])


class LookupForm(PageForm):
    username = StringField(_l("User name to look up"), validators=[DataRequired(), Length(max=80)])


class ResetForm(PageForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])


def _key() -> str:
    return runtime().settings.resolved_secret_key()


def _tenant() -> Tenant:
    return db().get_one(Tenant, actor().tenant_id)


@bp.route("/", methods=["GET", "POST"])
def overview():
    source, row, env = config.describe(db(), actor(), runtime().settings.ldap)
    form = DirectoryForm(prefix="dir", obj=row)
    if row is not None and not form.is_submitted():
        form.bind_password.data = ""
    map_form = MappingForm(prefix="map")
    map_form.org_unit.choices = [NONE] + [
        SelectChoice(u.code, f"{u.code} {u.name}") for u in accounts.list_org_units(db(), actor())
    ]
    lookup_form, reset_form = LookupForm(prefix="look"), ResetForm(prefix="reset")
    found = None
    if form.submit_ok():
        values = LdapSettings(
            url=form.url.data.strip(),
            starttls=bool(form.starttls.data),
            ca_file=(form.ca_file.data or "").strip(),
            base_dn=form.base_dn.data.strip(),
            user_filter=form.user_filter.data.strip(),
            group_base_dn=(form.group_base_dn.data or "").strip(),
            group_filter=form.group_filter.data.strip(),
            bind_dn=(form.bind_dn.data or "").strip(),
            bind_password=form.bind_password.data or "",
            local_users=tuple(
                u.strip() for u in (form.local_users.data or "").split(",") if u.strip()
            ),
        )
        try:
            config.save(
                db(),
                actor(),
                _tenant(),
                values,
                _key(),
                enabled=bool(form.enabled.data),
                keep_password=not values.bind_password,
            )
        except ConfigError as exc:
            db().rollback()
            flash(_("The settings are not valid: %(reason)s", reason=str(exc)), "error")
        else:
            flash(_("Directory settings saved."), "info")
            return redirect(url_for("directory_admin.overview"))
    elif map_form.submit_ok():
        role = Role(map_form.role.data) if map_form.role.data else None
        try:
            mapping.add(
                db(), actor(), _tenant(), map_form.group_dn.data, role, map_form.org_unit.data
            )
        except (BadInput, Conflict) as exc:
            flash(_(exc.user_message), "error")
        else:
            flash(_("Mapping added."), "info")
            return redirect(url_for("directory_admin.overview"))
    elif lookup_form.submit_ok():
        found = _lookup(lookup_form.username.data)
    elif reset_form.submit_ok():
        totp.reset(db(), actor(), reset_form.username.data.strip())
        flash(_("The second factor of %(name)s was reset.", name=reset_form.username.data), "info")
        return redirect(url_for("directory_admin.overview"))
    return render_template(
        "directory_admin/overview.html",
        source=source,
        row=row,
        env=env,
        form=form,
        map_form=map_form,
        lookup_form=lookup_form,
        reset_form=reset_form,
        found=found,
        mappings=mapping.listing_for(db(), actor()),
        role_labels=ROLE_LABELS,
        action_form=ActionForm(),
    )


def _lookup(username: str) -> dict:
    directory = config.for_tenant(db(), runtime().settings.ldap, _key(), _tenant())
    if directory is None:
        return {"error": _("No directory is configured.")}
    try:
        entry = DirectoryClient(directory).lookup(username.strip())
    except DirectoryUnavailable as exc:
        return {"error": _(exc.user_message), "detail": str(exc)}
    if entry is None:
        return {"error": _("Not found (or disabled) in the directory.")}
    mapped = mapping.resolve(db(), actor().tenant_id, entry.groups)
    return {"entry": entry, "roles": sorted(ROLE_LABELS[r] for r in mapped.roles)}


@bp.post("/zuordnung/<int:mapping_id>/entfernen")
def remove_mapping(mapping_id: int):
    if ActionForm().validate_on_submit():
        mapping.remove(db(), actor(), _tenant(), mapping_id)
        flash(_("Mapping removed."), "info")
    return redirect(url_for("directory_admin.overview"))
