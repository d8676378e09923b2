"""URLs of registry (prefix set in qcity/urls.py)."""

from django.urls import path

urlpatterns: list = []

from qcity.registry import import_views  # noqa: E402

urlpatterns += [
    path("import/", import_views.import_form, name="registry_import"),
    path("import/<int:pk>/", import_views.import_job, name="registry_import_job"),
    path(
        "import/<int:pk>/progress/", import_views.import_progress, name="registry_import_progress"
    ),
    path("import/<int:pk>/errors.csv", import_views.import_errors, name="registry_import_errors"),
]
