from django.urls import path

from qcity.metrics import views

urlpatterns = [
    path("", views.indicator_list, name="indicator_list"),
    path("<int:pk>/", views.indicator_detail, name="indicator_detail"),
]
