"""django-ninja names each schema in the OpenAPI document by its class name alone: two
schemas of one name in two routers become one component, and the API then answers
against the other's description (the fuzz test found exactly that). So every schema
class of our API modules has a name of its own."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from ninja import Schema

import qcity


def _api_modules():
    for info in pkgutil.walk_packages(qcity.__path__, "qcity."):
        if info.name.rsplit(".", 1)[-1].endswith("api"):
            yield importlib.import_module(info.name)


def test_it_gives_every_api_schema_a_name_of_its_own():
    owners: dict[str, set[str]] = {}
    for module in _api_modules():
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and cls.__module__ == module.__name__:
                owners.setdefault(name, set()).add(module.__name__)
    assert len(owners) > 20  # the scan found the API modules
    shared = {name: sorted(mods) for name, mods in owners.items() if len(mods) > 1}
    assert shared == {}
