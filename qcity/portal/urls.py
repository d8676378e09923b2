"""URLs of portal (prefix set in qcity/urls.py): public, no login."""

from django.urls import path

from qcity.complaints import intake_views
from qcity.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.index, name="index"),
    path("results/<int:pk>/", views.result_detail, name="result_detail"),
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/record.json", views.draw_record, name="draw_record"),
    path("draws/<int:pk>/population.csv", views.draw_population, name="draw_population"),
    path("complaints/new/", intake_views.public_new, name="complaint_new"),
    path("complaints/follow/", intake_views.follow, name="complaint_follow"),
]
