"""URLs of registry (prefix set in qcity/urls.py)."""

from django.urls import path

from qcity.registry import import_views, views

urlpatterns: list = [
    path("entities/", views.entity_list, name="registry_entity_list"),
    path("entities/export.xlsx", views.entity_export, name="registry_entity_export"),
    path("entities/<str:code>/", views.entity_detail, name="registry_entity_detail"),
    path("inspectors/", views.inspector_list, name="registry_inspector_list"),
    path("inspectors/add/", views.inspector_add, name="registry_inspector_add"),
    path("inspectors/<int:pk>/", views.inspector_detail, name="registry_inspector_detail"),
    path("inspectors/<int:pk>/edit/", views.inspector_edit, name="registry_inspector_edit"),
    path("inspectors/<int:pk>/active/", views.inspector_active, name="registry_inspector_active"),
    path(
        "inspectors/<int:pk>/conflicts/", views.conflict_declare, name="registry_conflict_declare"
    ),
    path(
        "conflicts/<int:pk>/withdraw/", views.conflict_withdraw, name="registry_conflict_withdraw"
    ),
]

# Bulk import of the entity register (core.imports).
urlpatterns += [
    path("import/", import_views.import_form, name="registry_import"),
    path("import/<int:pk>/", import_views.import_job, name="registry_import_job"),
    path(
        "import/<int:pk>/progress/", import_views.import_progress, name="registry_import_progress"
    ),
    path("import/<int:pk>/errors.csv", import_views.import_errors, name="registry_import_errors"),
]
