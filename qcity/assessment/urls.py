from django.urls import path

from qcity.assessment import views

urlpatterns = [
    path("", views.scheme_list, name="assessment_list"),
    path("new/", views.scheme_create, name="assessment_create"),
    path("<int:pk>/", views.scheme_detail, name="assessment_detail"),
    path("<int:pk>/criteria/", views.scheme_criteria, name="assessment_criteria"),
    path("<int:pk>/criteria/default/", views.scheme_default, name="assessment_default"),
    path("<int:pk>/step/<slug:step>/", views.scheme_step, name="assessment_step"),
    path("<int:pk>/adjust/", views.adjust, name="assessment_adjust"),
    path("<int:pk>/qualitative/", views.qualitative, name="assessment_qualitative"),
    path("<int:pk>/units/<int:unit_pk>/", views.unit_detail, name="assessment_unit"),
    path("<int:pk>/export.xlsx", views.export_xlsx, name="assessment_export"),
]
