"""A second qcity process for tests/core/test_workdays.py (not a test module).

Reads commands on stdin, one per line, and answers each on one line:
  is_workday 2025-09-29   → "True 17"  (the answer and the calendar version used)
  holiday 2025-09-29      → "ok 18"    (stores a holiday the way the admin does)
The database comes from DATABASE_URL, like any qcity process.
"""

import datetime as dt
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qcity.settings")

import django

django.setup()

from qcity.core import workdays  # noqa: E402
from qcity.core.models import CalendarDay  # noqa: E402

for line in sys.stdin:
    command, _sep, argument = line.strip().partition(" ")
    day = dt.date.fromisoformat(argument)
    if command == "is_workday":
        answer = workdays.is_workday(day)
    else:
        CalendarDay.objects.create(date=day, is_workday=False, name="临时停工", source="manual")
        answer = "ok"
    print(answer, workdays.current_version(), flush=True)
