from django.urls import path

from apps.access import views

app_name = "access"

urlpatterns = [
    path("", views.my_access, name="mine"),
    path("inbox/", views.inbox, name="inbox"),
    path("roles/", views.roles, name="roles"),
    path("break-glass/", views.break_glass, name="break-glass"),
    path("break-glass/<int:pk>/review/", views.break_glass_review, name="break-glass-review"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request-cancel"),
    path("grants/<int:pk>/revoke/", views.grant_revoke, name="grant-revoke"),
]
