"""Reference data loaded once per session, replayed into every test that asks for it.

Loading the org tree and importing the seed plan runs the real commands: hundreds of
queries, the parser, the audit chain. Doing that for every test cost most of the
suite's time. ``load(name, loader)`` runs ``loader`` for real the first time it meets a
given database state, records which rows it wrote, and afterwards, whenever a test's
database is in exactly that state again, writes the same rows with a few bulk INSERTs.

Why not load the data once into the session database (``django_db_setup``)? Then every
test would start with a plan in it, including the many that rely on an empty database
(importing into it, counting audit events, loading units). Each test still starts
empty and gets only what its fixtures ask for; the fixtures keep their meaning.

The replay is exact or it does not happen: the recording is keyed by the full content
of every table before the loader ran (the audit chain's head included, so the chain
stays intact), and a loader that deleted rows is never replayed. A test whose database
differs (its own rows written before the fixture, another fixture order) runs the real
loader, which is slower and still correct.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction

Rows = dict[object, tuple]  # primary key -> row (concrete field values, by attname)


@dataclass
class _Recording:
    inserted: dict[type[models.Model], list[tuple]] = field(default_factory=dict)
    updated: dict[type[models.Model], list[tuple]] = field(default_factory=dict)


_recordings: dict[tuple[str, str], _Recording] = {}
_models_cache: list[type[models.Model]] = []


def load(name: str, loader: Callable[[], object]) -> None:
    """Bring the database to "what ``loader`` writes on top of the current state"."""
    with transaction.atomic():
        key = (name, _fingerprint())
        recording = _recordings.get(key)
        if recording is not None:
            _replay(recording)
            return
        before = {model: _rows(model) for model in _models()}
        loader()
        recording = _diff(before, {model: _rows(model) for model in _models()})
        if recording is not None:
            _recordings[key] = recording


def _models() -> list[type[models.Model]]:
    # Every concrete table the migrations created, many-to-many tables included.
    if not _models_cache:
        existing = set(connection.introspection.table_names())
        _models_cache.extend(
            model
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy and model._meta.db_table in existing
        )
    return _models_cache


def _attnames(model: type[models.Model]) -> list[str]:
    # The database computes generated columns; they cannot be written back.
    return [f.attname for f in model._meta.concrete_fields if not f.generated]


def _rows(model: type[models.Model]) -> Rows:
    pk_index = _attnames(model).index(model._meta.pk.attname)
    return {
        row[pk_index]: row
        for row in model._base_manager.order_by("pk").values_list(*_attnames(model))
    }


def _fingerprint() -> str:
    """A digest of every row of every table, read with as few queries as possible."""
    quote = connection.ops.quote_name
    tables = [(quote(m._meta.db_table), quote(m._meta.pk.column)) for m in _models()]
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(f"SELECT {i}, COUNT(*) FROM {t}" for i, (t, _) in enumerate(tables))
        )
        for i, count in sorted(cursor.fetchall()):
            if count:
                table, pk = tables[i]
                cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")
                digest.update(f"{table}:{cursor.fetchall()!r}\n".encode())
    return digest.hexdigest()


def _diff(
    before: dict[type[models.Model], Rows], after: dict[type[models.Model], Rows]
) -> _Recording | None:
    recording = _Recording()
    for model, old in before.items():
        new = after[model]
        if old.keys() - new.keys():
            return None  # the loader deleted rows: always run it for real
        inserted = [row for pk, row in new.items() if pk not in old]
        updated = [row for pk, row in new.items() if pk in old and old[pk] != row]
        if inserted:
            recording.inserted[model] = inserted
        if updated:
            recording.updated[model] = updated
    return recording


def _replay(recording: _Recording) -> None:
    for model, rows in recording.updated.items():
        names = _attnames(model)
        pk = model._meta.pk.attname
        for row in rows:
            values = dict(zip(names, row, strict=True))
            model._base_manager.filter(pk=values.pop(pk)).update(**values)
    for model, rows in recording.inserted.items():
        names = _attnames(model)
        model._base_manager.bulk_create(model(**dict(zip(names, row, strict=True))) for row in rows)
    # Rows were written with their recorded keys: move PostgreSQL's sequences past them.
    statements = connection.ops.sequence_reset_sql(no_style(), list(recording.inserted))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
