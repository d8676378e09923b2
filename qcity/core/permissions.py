"""Role checks for actions (data scope for rows lives in core.scope)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from qcity.core.models import User


def has_role(user: User, *roles: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def role_required(*roles: str) -> Callable:
    """Allow a view only to the given roles; everyone else gets 403."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
