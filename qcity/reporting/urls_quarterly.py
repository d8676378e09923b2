"""URLs of the quarterly report (included under ``reporting/`` beside ``reporting.urls``)."""

from django.urls import path

from qcity.reporting import quarterly_views

urlpatterns = [
    path("cycles/<int:pk>/quarterly.pdf", quarterly_views.quarterly_pdf, name="quarterly_pdf"),
    path("cycles/<int:pk>/quarterly.xlsx", quarterly_views.quarterly_xlsx, name="quarterly_xlsx"),
]
