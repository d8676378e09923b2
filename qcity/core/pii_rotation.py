"""Key rotation for personal data at rest: re-encrypt every token under the current key.

The procedure (docs/personal-data.md): back up the key file; ``qcity pii_keygen --add``
puts a new current key first (the old ones stay, so every token still decrypts); the
file is copied to every server (each process re-reads it when it changes); ``qcity
rotate_pii_key`` re-encrypts, in batches, every token of every registered field
(``pii.ENCRYPTED_FIELDS``) that is not under the current key; ``--prune`` then removes
the ``enc`` lines no token uses any more. Each batch is one transaction that locks its
rows, so a step saving the same case waits for it (or it for the step), and writes one
audit event; a second run finds nothing to do. ``--reindex`` also recomputes the blind
indexes (after the ``hmac`` key itself was replaced).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction

from qcity.core import audit, pii


@dataclass
class Rotation:
    key_id: str
    reencrypted: dict[str, int] = field(default_factory=dict)
    reindexed: dict[str, int] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.reencrypted.values())


def _pending(entry: pii.EncryptedField, key_id: str, reindex: bool) -> models.QuerySet:
    model = apps.get_model(entry.model)
    rows = model._default_manager.exclude(**{entry.field: ""})
    if not reindex:
        rows = rows.exclude(**{f"{entry.field}__startswith": f"{pii.PREFIX}:{key_id}:"})
    return rows


def _rotate_field(
    entry: pii.EncryptedField, key_id: str, *, batch_size: int, reindex: bool, result: Rotation
) -> None:
    label = f"{entry.model}.{entry.field}"
    columns = ["pk", entry.field] + ([entry.index_field] if entry.index_field else [])
    last = None
    while True:
        with transaction.atomic():
            rows = _pending(entry, key_id, reindex).order_by("pk")
            if last is not None:
                rows = rows.filter(pk__gt=last)
            batch = list(rows.select_for_update(of=("self",)).only(*columns)[:batch_size])
            if not batch:
                return
            changed_tokens, changed_index = [], []
            for row in batch:
                token = getattr(row, entry.field)
                try:
                    if not pii.is_current(token):
                        setattr(row, entry.field, pii.reencrypt(token))
                        changed_tokens.append(row)
                    if reindex and entry.index_field:
                        index = pii.blind_index(entry.kind, pii.decrypt(token))
                        if getattr(row, entry.index_field) != index:
                            setattr(row, entry.index_field, index)
                            changed_index.append(row)
                except pii.PiiKeyProblem as exc:
                    raise pii.PiiKeyProblem(f"{label} #{row.pk}：{exc}") from None
            fields = [entry.field] + ([entry.index_field] if changed_index else [])
            touched = {row.pk: row for row in changed_tokens + changed_index}
            if touched:
                type(batch[0])._default_manager.bulk_update(list(touched.values()), fields)
                audit.record(
                    "pii.reencrypted",
                    by=None,
                    actor_label="system",
                    details={
                        "field": label,
                        "key": key_id,
                        "rows": len(changed_tokens),
                        "reindexed": len(changed_index),
                        "first_id": batch[0].pk,
                        "last_id": batch[-1].pk,
                    },
                )
            result.reencrypted[label] = result.reencrypted.get(label, 0) + len(changed_tokens)
            if reindex:
                result.reindexed[label] = result.reindexed.get(label, 0) + len(changed_index)
            last = batch[-1].pk
        if len(batch) < batch_size:
            return


def keys_in_use() -> set[str]:
    """The key ids some stored token still names (a retired key must be in none)."""
    ring = pii.keyring()
    used = set()
    for key_id, _ in ring.enc:
        prefix = f"{pii.PREFIX}:{key_id}:"
        for entry in pii.ENCRYPTED_FIELDS:
            model = apps.get_model(entry.model)
            if model._default_manager.filter(**{f"{entry.field}__startswith": prefix}).exists():
                used.add(key_id)
                break
    return used


def rotate(*, batch_size: int = 1000, reindex: bool = False, prune: bool = False) -> Rotation:
    """Re-encrypt every token not under the current key; see the module's docstring.

    :raises pii.PiiKeyProblem: a token names a key the file does not hold, or fails its
        check; the batch it was in is rolled back, earlier batches stay done.
    """
    key_id = pii.keyring().current[0]
    result = Rotation(key_id)
    for entry in pii.ENCRYPTED_FIELDS:
        _rotate_field(entry, key_id, batch_size=batch_size, reindex=reindex, result=result)
    if prune:
        ring = pii.keyring()
        retired = {kid for kid, _ in ring.enc[1:]} - keys_in_use()
        if retired:
            pii.drop_keys(retired)
            result.retired = sorted(retired)
    audit.record(
        "pii.key_rotated",
        by=None,
        actor_label="system",
        details={
            "key": key_id,
            "rows": result.total,
            "reindexed": sum(result.reindexed.values()),
            "retired_keys": result.retired,
        },
    )
    return result
