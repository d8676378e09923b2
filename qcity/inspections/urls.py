"""URLs of inspections (prefix set in qcity/urls.py)."""

from django.urls import path

from qcity.inspections import task_views

app_name = "inspections"

urlpatterns: list = []

# Inspectors' tasks, result entry and follow-ups (tasks work).
urlpatterns += [
    path("tasks/", task_views.task_list, name="task_list"),
    path("tasks/export.xlsx", task_views.task_export, name="task_export"),
    path("tasks/<int:pk>/", task_views.task_detail, name="task_detail"),
    path("follow-ups/", task_views.followup_list, name="followup_list"),
    path("follow-ups/<int:pk>/", task_views.followup_detail, name="followup_detail"),
]
