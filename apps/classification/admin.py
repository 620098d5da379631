from django.contrib import admin

from apps.classification.models import DataCategory, SensitivityLevel, Tag

admin.site.register(SensitivityLevel)
admin.site.register(DataCategory)
admin.site.register(Tag)
