"""Forms of the records UI. Labels are English message ids, shown in German via the catalog."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

NONE = SelectChoice("", "–")  # the empty option of a select that may stay unset


class ActionForm(FlaskForm):
    """A button that only needs CSRF protection."""


class PageForm(FlaskForm):
    """One of several forms on a page, told apart by its prefix."""

    def submit_ok(self) -> bool:
        """True when *this* form was posted and is valid."""
        sent = any(key.startswith(self._prefix) for key in request.form)
        return sent and self.validate_on_submit()


class ScanProfileForm(PageForm):
    """What a scan batch records of how it was scanned (TR-RESISCAN transfer note)."""

    device = StringField(_l("Scanner"), validators=[Optional(), Length(max=200)])
    dpi = IntegerField(_l("Resolution (dpi)"), validators=[Optional(), NumberRange(50, 2400)])
    colour_mode = SelectField(
        _l("Colour mode"),
        choices=[
            NONE,
            SelectChoice("bw", _l("black and white")),
            SelectChoice("gray", _l("greyscale")),
            SelectChoice("color", _l("colour")),
        ],
    )


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


class CaseCreateForm(FlaskForm):
    node = HiddenField(validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class CaseEditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class EventDateForm(FlaskForm):
    """Records officers only: the date moves the retention end (R7)."""

    event_date = DateField(
        _l("Event date (for event-triggered retention)"), validators=[Optional()]
    )


class MoveCaseForm(FlaskForm):
    node = StringField(_l("New file plan node (code)"), validators=[DataRequired(), Length(max=64)])


class MoveProcessForm(FlaskForm):
    # The service checks the process; the choices are only what the case page offers.
    process_uuid = SelectField(_l("Process"), validators=[DataRequired()], validate_choice=False)
    reference = StringField(
        _l("Target case (file reference)"), validators=[DataRequired(), Length(max=120)]
    )


class ProcessForm(FlaskForm):
    title = StringField(_l("Title of the process"), validators=[DataRequired(), Length(max=500)])


class DocumentEditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    doc_type = StringField(_l("Document type"), validators=[Optional(), Length(max=100)])
    correspondent = StringField(_l("Correspondent"), validators=[Optional(), Length(max=300)])
    received_date = DateField(_l("Received on"), validators=[Optional()])


class FileForm(FlaskForm):
    """File a document: a process chosen from the search, or a case reference plus a new
    process title."""

    process_id = HiddenField()
    reference = StringField(_l("File reference or title"), validators=[Optional(), Length(max=200)])
