"""URLs of inspections (prefix set in qcity/urls.py; names in the ``inspections`` namespace)."""

from django.urls import path

from qcity.inspections import publication_views, task_views, views

app_name = "inspections"

urlpatterns: list = [
    path("checkitems/", views.checkitem_list, name="inspection_checkitems"),
    path("plans/", views.plan_list, name="inspection_plans"),
    path("plans/<int:pk>/", views.plan_detail, name="inspection_plan"),
    path("plans/<int:pk>/batches/new/", views.batch_create, name="inspection_batch_create"),
    path("batches/<int:pk>/", views.batch_detail, name="inspection_batch"),
    path("batches/<int:pk>/edit/", views.batch_edit, name="inspection_batch_edit"),
    path("batches/<int:pk>/step/", views.batch_step, name="inspection_batch_step"),
    path("batches/<int:pk>/tasks.xlsx", views.batch_export, name="inspection_batch_export"),
    path(
        "batches/<int:pk>/draws/<int:attempt>/record.json",
        views.draw_record_file,
        name="inspection_draw_record",
    ),
    path(
        "batches/<int:pk>/draws/<int:attempt>/population.csv",
        views.draw_population_file,
        name="inspection_draw_population",
    ),
]

# Inspectors' tasks, result entry and follow-ups (tasks work).
urlpatterns += [
    path("tasks/", task_views.task_list, name="inspection_tasks"),
    path("tasks/export.xlsx", task_views.task_export, name="inspection_task_export"),
    path("tasks/<int:pk>/", task_views.task_detail, name="inspection_task"),
    path("follow-ups/", task_views.followup_list, name="inspection_followups"),
    path("follow-ups/<int:pk>/", task_views.followup_detail, name="inspection_followup"),
]

# 一公开: results due for publication, publishing, the provincial export (helper portal).
urlpatterns += [
    path("publication/", publication_views.publication_list, name="publication"),
    path(
        "publication/draws/<int:pk>/publish/",
        publication_views.publish_draw,
        name="publish_draw",
    ),
    path(
        "publication/export/<slug:kind>.<slug:fmt>",
        publication_views.export,
        name="publication_export",
    ),
]
