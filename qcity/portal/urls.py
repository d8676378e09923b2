"""URLs of portal (prefix set in qcity/urls.py): public, no login."""

from django.urls import path

from qcity.complaints import intake_views
from qcity.portal import complaint_views, views

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
    # After new/ and follow/: a credit code never spells either.
    path("complaints/", complaint_views.complaint_list, name="complaint_list"),
    path("complaints/<str:code>/", complaint_views.complaint_entity, name="complaint_entity"),
]
