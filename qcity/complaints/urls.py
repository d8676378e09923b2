"""URLs of complaints (prefix /complaints/; names in the ``complaints`` namespace)."""

from django.urls import path, register_converter

from qcity.complaints import intake_views, odr_views, stats_views, views


class CaseNumber:
    """A case number: capitals, digits and hyphens. Lower-case words (``rules``, ``new``)
    are never case numbers, so pages added here cannot be shadowed by ``<case:number>/``."""

    regex = "[0-9A-Z][0-9A-Z-]{3,23}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseNumber, "case")

app_name = "complaints"

# The officers' pages (pages work).
urlpatterns: list = [
    path("", views.case_list, name="cases"),
    path("export.xlsx", views.case_export, name="export"),
    path("rules/", views.rules_page, name="rules"),
    path("<case:number>/", views.case_detail, name="case"),
    path("<case:number>/reveal/", views.case_reveal, name="reveal"),
    path("<case:number>/steps/<slug:step>/", views.case_step, name="step"),
    path("<case:number>/payments/", views.case_payment, name="payment"),
    path("<case:number>/leads/", views.case_lead, name="lead"),
]

# Staff entry of a phone, counter or letter case (intake work).
urlpatterns += [
    path("new/", intake_views.staff_new, name="intake_new"),
]

# ODR: the enterprise's pages and the bureau's enrolment page (odr work).
urlpatterns += [
    path("odr/", odr_views.inbox, name="odr_inbox"),
    path("odr/enrolments/", odr_views.enrolments, name="odr_enrolments"),
    path("odr/<int:pk>/", odr_views.case_detail, name="odr_case"),
    path("odr/<int:pk>/settle/", odr_views.settle, name="odr_settle"),
    path("odr/<int:pk>/decline/", odr_views.decline, name="odr_decline"),
    path("odr/<int:pk>/pay/", odr_views.pay, name="odr_pay"),
]

# Statistics and the disclosure button (disclosure work, ADR 0042).
urlpatterns += [
    path("statistics/", stats_views.statistics, name="statistics"),
    path("statistics/export.xlsx", stats_views.statistics_export, name="statistics_export"),
    path("statistics/publish/", stats_views.publish, name="statistics_publish"),
]
