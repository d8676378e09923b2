from django.urls import path

from qcity.dashboard import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("chapters/<int:chapter_pk>/", views.chapter_detail, name="dashboard_chapter"),
]
