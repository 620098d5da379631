from django.core.validators import RegexValidator
from django.db import models

key_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,62}$",
    "Use lowercase letters, digits, '-' and '_' (up to 63 characters), starting with a letter or digit.",
)


class SensitivityLevel(models.Model):
    """One step of the ordered sensitivity scale (e.g. public < internal < confidential < restricted)."""

    key = models.CharField(max_length=63, unique=True, validators=[key_validator])
    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="Higher is more sensitive.")
    description = models.TextField(blank=True)
    color = models.CharField(max_length=7, default="#6b7280")

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class DataCategory(models.Model):
    """A node of the data-category taxonomy (contact data, government id, health, ...)."""

    key = models.CharField(max_length=63, unique=True, validators=[key_validator])
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    # The least sensitivity a column of this category should carry; suggestions propose it.
    default_sensitivity = models.ForeignKey(
        SensitivityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "data categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    key = models.CharField(max_length=63, unique=True, validators=[key_validator])
    description = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
