"""Helpers for the web UI's forms."""


def comma_separated(text: str) -> list[str]:
    """The non-blank items of a comma-separated field, stripped, in order."""
    return [part.strip() for part in text.split(",") if part.strip()]
