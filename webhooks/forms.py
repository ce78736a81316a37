from __future__ import annotations

from django import forms

from webhooks.models import EventType, WebhookEndpoint
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
