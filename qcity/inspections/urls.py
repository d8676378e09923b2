"""URLs of inspections (prefix set in qcity/urls.py)."""

from django.urls import path

urlpatterns: list = []

# 一公开: results due for publication, publishing, the provincial export (helper portal).
from qcity.inspections import publication_views  # noqa: E402

urlpatterns += [
    path("publication/", publication_views.publication_list, name="inspections_publication"),
    path(
        "publication/draws/<int:pk>/publish/",
        publication_views.publish_draw,
        name="inspections_publish_draw",
    ),
    path(
        "publication/export/<slug:kind>.<slug:fmt>",
        publication_views.export,
        name="inspections_publication_export",
    ),
]
