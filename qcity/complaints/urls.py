"""URLs of complaints (prefix /complaints/; names in the ``complaints`` namespace)."""

from django.urls import path

from qcity.complaints import stats_views

app_name = "complaints"

urlpatterns: list = []

# Statistics and the disclosure button (the disclosure helper's; appended, ADR 0042).
urlpatterns += [
    path("statistics/", stats_views.statistics, name="statistics"),
    path("statistics/export.xlsx", stats_views.statistics_export, name="statistics_export"),
    path("statistics/publish/", stats_views.publish, name="statistics_publish"),
]
