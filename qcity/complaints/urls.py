"""URLs of complaints (prefix /complaints/; names in the ``complaints`` namespace)."""

from django.urls import path

from qcity.complaints import intake_views, odr_views

app_name = "complaints"

urlpatterns: list = [
    path("new/", intake_views.staff_new, name="intake_new"),
]

# ODR: the enterprise's pages and the bureau's enrolment page (odr branch).
urlpatterns += [
    path("odr/", odr_views.inbox, name="odr_inbox"),
    path("odr/enrolments/", odr_views.enrolments, name="odr_enrolments"),
    path("odr/<int:pk>/", odr_views.case_detail, name="odr_case"),
    path("odr/<int:pk>/settle/", odr_views.settle, name="odr_settle"),
    path("odr/<int:pk>/decline/", odr_views.decline, name="odr_decline"),
    path("odr/<int:pk>/pay/", odr_views.pay, name="odr_pay"),
]
