from django.urls import path

from qcity.reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.cycle_list, name="cycle_list"),
    path("mine/", views.my_reports, name="my_reports"),
    path("review/", views.review_queue, name="review_queue"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/step/", views.cycle_step, name="cycle_step"),
    path("cycles/<int:pk>/export.xlsx", views.cycle_export, name="cycle_export"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/step/", views.report_step, name="report_step"),
    path(
        "reports/<int:pk>/evidence/<int:attachment_pk>/delete/",
        views.evidence_remove,
        name="evidence_remove",
    ),
]
