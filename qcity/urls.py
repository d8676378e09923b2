from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from qcity.api import api
from qcity.core import views as core_views
from qcity.core.forms import LoginForm
from qcity.core.ratelimit import RateLimitedLoginView
from qcity.plans import views as plan_views

admin.site.site_header = _("质量强市数字化平台 · 系统管理")
admin.site.site_title = _("质量强市数字化平台")
admin.site.index_title = _("系统管理")

urlpatterns = [
    path("", plan_views.home, name="home"),
    path(
        "accounts/login/",
        RateLimitedLoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", core_views.change_password, name="change_password"),
    path("units/pending/", core_views.pending_units, name="pending_units"),
    path("units/pending/<int:pk>/map/", core_views.map_unit, name="map_unit"),
    path("units/pending/<int:pk>/confirm/", core_views.confirm_unit, name="confirm_unit"),
    path("files/<int:pk>/", core_views.download_file, name="download_file"),
    path("notices/", core_views.notice_list, name="notice_list"),
    path("notices/read/", core_views.notice_mark_read, name="notice_mark_read"),
    path("plans/", include("qcity.plans.urls")),
    path("indicators/", include("qcity.metrics.urls")),
    path("reporting/", include("qcity.reporting.urls")),
    path("dashboard/", include("qcity.dashboard.urls")),
    path("assessment/", include("qcity.assessment.urls")),
    path("reporting/", include("qcity.reporting.urls_quarterly")),
    path("registry/", include("qcity.registry.urls")),
    path("inspections/", include("qcity.inspections.urls")),
    path("portal/", include("qcity.portal.urls")),
    path("complaints/", include("qcity.complaints.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
