from django import template

register = template.Library()


@register.filter
def thousands(value) -> str:
    """1234567 -> "1,234,567" (django.contrib.humanize is not installed)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
