from django.urls import path

from qcity.plans import target_views, views

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("upload/", views.upload, name="plan_upload"),
    path("upload/<str:token>/", views.upload_review, name="plan_upload_review"),
    path("upload/<str:token>/confirm/", views.upload_confirm, name="plan_upload_confirm"),
    path("mine/", views.my_measures, name="my_measures"),
    path("mine/export.xlsx", views.export_my_measures, name="my_measures_export"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/measures/<int:measure_pk>/", views.measure_detail, name="measure_detail"),
    path("<int:pk>/measures/<int:measure_pk>/units/", views.measure_units, name="measure_units"),
    path("<int:pk>/measures/<int:measure_pk>/subtasks/", views.subtask_add, name="subtask_add"),
    path(
        "<int:pk>/measures/<int:measure_pk>/subtasks/<int:subtask_pk>/delete/",
        views.subtask_remove,
        name="subtask_remove",
    ),
    path(
        "<int:pk>/measures/<int:measure_pk>/subtasks/<int:subtask_pk>/",
        views.subtask_edit,
        name="subtask_edit",
    ),
    path("<int:pk>/matrix/", views.matrix, name="plan_matrix"),
    path("<int:pk>/search/", views.search, name="plan_search"),
    path("<int:pk>/export.xlsx", views.export_xlsx, name="plan_export"),
    path("<int:pk>/matrix/export.xlsx", views.export_matrix, name="plan_matrix_export"),
]

# Targets ↔ indicators (issue 7 item 3), kept apart from the plan views above.
urlpatterns += [
    path("<int:pk>/targets/", target_views.plan_targets, name="plan_targets"),
    path(
        "<int:pk>/targets/<int:target_pk>/link/",
        target_views.link_target,
        name="plan_target_link",
    ),
    path(
        "<int:pk>/targets/<int:target_pk>/unlink/",
        target_views.unlink_target,
        name="plan_target_unlink",
    ),
]
