"""The default sensitivity scale and data-category taxonomy (editable afterwards)."""

from django.db import migrations

LEVELS = [
    ("public", "Public", 10, "#16a34a", "May be shared outside the company."),
    ("internal", "Internal", 20, "#2563eb", "Anyone in the company may see it."),
    ("confidential", "Confidential", 30, "#d97706", "Need to know; personal data by default."),
    ("restricted", "Restricted", 40, "#dc2626", "Special-category or high-risk data; strictest handling."),
]

# key, name, parent, default sensitivity, description
CATEGORIES = [
    ("personal", "Personal data", None, "confidential", "Information relating to an identifiable person."),
    ("contact", "Contact data", "personal", "confidential", "E-mail addresses, phone numbers, postal addresses."),
    ("name", "Person name", "personal", "confidential", "Given and family names."),
    ("government-id", "Government identifier", "personal", "restricted", "SSN, passport, national id, tax id."),
    ("financial", "Financial data", "personal", "restricted", "Payment cards, bank accounts (IBAN), income."),
    ("health", "Health data", "personal", "restricted", "Special category (GDPR art. 9): medical and health records."),
    ("biometric", "Biometric data", "personal", "restricted", "Special category: fingerprints, face templates."),
    ("location", "Location data", "personal", "confidential", "Precise geolocation, addresses of movement."),
    ("online-id", "Online identifier", "personal", "confidential", "IP addresses, device ids, cookies."),
    ("demographic", "Demographic data", "personal", "confidential", "Date of birth, age, gender."),
    ("credentials", "Credentials", None, "restricted", "Passwords, API keys, tokens, secrets."),
    ("business", "Business data", None, "internal", "Non-personal operational data."),
]


def forwards(apps, schema_editor):
    SensitivityLevel = apps.get_model("classification", "SensitivityLevel")
    DataCategory = apps.get_model("classification", "DataCategory")
    levels = {}
    for key, name, rank, color, description in LEVELS:
        levels[key], _ = SensitivityLevel.objects.get_or_create(
            key=key, defaults={"name": name, "rank": rank, "color": color, "description": description}
        )
    made = {}
    for key, name, parent, default, description in CATEGORIES:
        made[key], _ = DataCategory.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "parent": made.get(parent) if parent else None,
                "default_sensitivity": levels[default],
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("classification", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
