from django.urls import path

from apps.reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.home, name="home"),
    path("decide/", views.decide, name="decide"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("campaigns/<int:pk>/evidence.csv", views.evidence, name="evidence"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/<int:pk>/delete/", views.schedule_delete, name="schedule-delete"),
]
