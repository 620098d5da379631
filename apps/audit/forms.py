import datetime as dt

from django import forms

from apps.audit.models import AuditEvent
from apps.audit.selectors import AuditFilters


class AuditFilterForm(forms.Form):
    """The viewer's filters. Times are entered and shown in UTC."""

    actor = forms.CharField(required=False, max_length=200, help_text="name, or prefix*")
    action = forms.CharField(
        required=False, max_length=80, help_text="e.g. catalog. or auth.sign_in"
    )
    target_type = forms.CharField(required=False, max_length=80)
    target_id = forms.CharField(required=False, max_length=64)
    outcome = forms.ChoiceField(required=False, choices=[("", "any"), *AuditEvent.Outcome.choices])
    since = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        label="From (UTC)",
    )
    until = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        label="To (UTC)",
    )

    def clean_since(self) -> dt.datetime | None:
        return _utc(self.cleaned_data.get("since"))

    def clean_until(self) -> dt.datetime | None:
        return _utc(self.cleaned_data.get("until"))

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", "“To” must be later than “From”.")
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            actor=data.get("actor", "").strip(),
            action=data.get("action", "").strip(),
            target_type=data.get("target_type", "").strip(),
            target_id=data.get("target_id", "").strip(),
            outcome=data.get("outcome", ""),
            since=data.get("since"),
            until=data.get("until"),
        )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """The form reads wall-clock input; the viewer is in UTC whatever the server's zone."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
