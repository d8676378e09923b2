"""The WSGI entry point (``gunicorn qcity.wsgi``); refuses to start when production is not ready."""

import os
import sys

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qcity.settings")
django.setup(set_prefix=False)


def _refuse_if_not_ready() -> None:
    from qcity.deploy import startup_problems

    problems = startup_problems(database=True)
    if problems:
        # One line, no traceback. Exit status 3 is gunicorn's "worker failed to boot",
        # which stops the server rather than restarting the worker in a loop.
        sys.stderr.write("qcity 无法启动：" + "；".join(problems) + "\n")
        sys.stderr.flush()
        raise SystemExit(3)


_refuse_if_not_ready()  # before WhiteNoise looks for a missing directory
application = get_wsgi_application()
