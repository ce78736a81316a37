import re

import pytest
from django.urls import reverse

from imports.models import ImportJob


@pytest.mark.django_db
def test_the_steps_on_the_page_are_the_model_phases_in_order_each_with_its_status_text(
    staff_client,
):
    """imports-progress.js has no list of phases: it reads keys and texts from these items."""
    job = ImportJob.objects.create(original_name="a.csv", size=10)

    html = staff_client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    steps = re.findall(r'<li data-step="([^"]+)" data-text="([^"]+)">', html)

    assert [key for key, _ in steps] == [
        "uploading", "queued", *ImportJob.Phase.values, "complete",
    ]  # fmt: skip
    assert all(text for _, text in steps)
    assert dict(steps)["merging"] == "Merging into the catalogue"
