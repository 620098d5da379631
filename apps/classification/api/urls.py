from django.urls import path

from apps.classification.api import views
from apps.core.api.schema import one_url

app_name = "classification-api"

urlpatterns = [
    path(
        "sensitivity-levels/",
        one_url(
            "SensitivityLevelsApi", views.SensitivityLevelListApi, views.SensitivityLevelCreateApi
        ).as_view(),
        name="sensitivity-levels",
    ),
    path(
        "categories/",
        one_url("CategoriesApi", views.CategoryListApi, views.CategoryCreateApi).as_view(),
        name="categories",
    ),
    path(
        "tags/",
        one_url("TagsApi", views.TagListApi, views.TagCreateApi).as_view(),
        name="tags",
    ),
]
