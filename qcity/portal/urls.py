"""URLs of portal (prefix set in qcity/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
