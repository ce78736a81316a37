from __future__ import annotations

from django import forms

from acme.lib.instants import InstantFormField
from webhooks.models import (
    ROTATION_OVERLAP_HOURS_DEFAULT,
    ROTATION_OVERLAP_HOURS_MAX,
    EventType,
    WebhookEndpoint,
)
from webhooks.recovery import MAX_WINDOW, check_window
from webhooks.targets import TargetRefused, check_url

MAX_RATE_LIMIT = 1_000_000


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        label="URL",
        help_text="An http:// or https:// address on the public internet; it receives a signed "
        "POST per event.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/acme"}),
    )
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="The events this endpoint receives.",
        error_messages={"required": "Choose at least one event."},
    )
    rate_limit = forms.IntegerField(
        min_value=1,
        max_value=MAX_RATE_LIMIT,
        initial=60,
        label="Rate limit (per minute)",
        help_text="Deliveries per minute at most; more wait for the next minute, none is dropped.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "rate_limit", "enabled"]
        labels = {"enabled": "Enabled"}
        help_texts = {"description": "Optional: who owns this receiver and what it is for."}

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except TargetRefused as error:
            raise forms.ValidationError(str(error)) from None
        return url


class RotateSecretForm(forms.Form):
    overlap_hours = forms.IntegerField(
        min_value=0,
        max_value=ROTATION_OVERLAP_HOURS_MAX,
        initial=ROTATION_OVERLAP_HOURS_DEFAULT,
        required=False,
        label="Keep the current secret for (hours)",
        help_text="Until then every delivery is signed with both secrets, so receivers accept "
        "it with either while they are updated; 0 stops the current secret at once.",
    )

    def clean_overlap_hours(self) -> int:
        hours = self.cleaned_data["overlap_hours"]
        return ROTATION_OVERLAP_HOURS_DEFAULT if hours is None else hours


class RecoverForm(forms.Form):
    since = InstantFormField(
        label="Since",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Deliveries created from this time on (your time zone's clock: the site's).",
    )
    until = InstantFormField(
        label="Until (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=f"Empty: up to now. At most {MAX_WINDOW.days} days after Since.",
    )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("since"):
            check_window(cleaned["since"], cleaned.get("until"))
        return cleaned
