"""URLs of complaints (prefix /complaints/; names in the ``complaints`` namespace)."""

from django.urls import path, register_converter

from qcity.complaints import views


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
