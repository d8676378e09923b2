"""Single files from npm packages, served as static files without their whole package.

``STATICFILES_DIRS`` can only name directories; ECharts' ``dist/`` holds 51 MB of
variants and source maps of which the pages use one 1 MB file. ``VENDOR_STATIC_FILES``
maps a static path to one file; this finder serves and collects exactly those.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder, searched_locations
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage


class VendorFileFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        self.files = {
            path: str(source)
            for path, source in getattr(settings, "VENDOR_STATIC_FILES", {}).items()
        }

    def check(self, **kwargs) -> list[Error]:
        return [
            Error(
                f"VENDOR_STATIC_FILES: {source} does not exist (run make install)", id="qcity.E010"
            )
            for source in self.files.values()
            if not os.path.isfile(source)
        ]

    def find(self, path, find_all=False, **kwargs):
        if kwargs:  # Django 5.2 still accepts the deprecated ``all``
            find_all = self._check_deprecated_find_param(find_all=find_all, **kwargs)
        source = self.files.get(path)
        found = source if source and os.path.isfile(source) else None
        if source and source not in searched_locations:
            searched_locations.append(source)
        if find_all:
            return [found] if found else []
        return found

    def list(self, ignore_patterns):
        for path, source in self.files.items():
            if not os.path.isfile(source):
                continue
            storage = FileSystemStorage(location=os.path.dirname(source))
            # collectstatic writes the file under the prefix: vendor/echarts/echarts.min.js.
            storage.prefix = os.path.dirname(path)
            yield os.path.basename(source), storage
