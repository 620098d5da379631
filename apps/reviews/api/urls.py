from django.urls import path

from apps.reviews.api import views

app_name = "reviews-api"

urlpatterns = [
    path("reviews/campaigns/", views.CampaignsApi.as_view(), name="campaigns"),
    path("reviews/campaigns/<int:pk>/", views.CampaignApi.as_view(), name="campaign"),
    path("reviews/items/", views.ItemsApi.as_view(), name="items"),
    path("reviews/items/decision/", views.ItemsDecisionApi.as_view(), name="items-decision"),
    path("reviews/schedules/", views.SchedulesApi.as_view(), name="schedules"),
    path("reviews/schedules/<int:pk>/", views.ScheduleApi.as_view(), name="schedule"),
]
