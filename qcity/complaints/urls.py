"""URLs of complaints (prefix /complaints/; names in the ``complaints`` namespace)."""

from django.urls import path

from qcity.complaints import intake_views

app_name = "complaints"

urlpatterns: list = [
    path("new/", intake_views.staff_new, name="intake_new"),
]
