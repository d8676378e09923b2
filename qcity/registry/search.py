"""Finding market entities by code, by name and by 2-character Chinese words (ADR 0030).

Chinese has no spaces, so a word index needs a segmenter, and a trigram index
(pg_trgm, FTS5's ``trigram`` tokenizer) cannot serve the commonest query of all,
a 2-character word such as 奶粉. So the index holds each name's character
bigrams, and a query becomes "the name has every bigram of the query" (served
by the index) AND "the name contains the query" (the confirmation, so there are
no false hits: 奶粉 and 粉店 both in a name do not make 奶粉店).

- PostgreSQL: a GIN index on the expression ``qcity_name_bigrams(name)`` (an
  IMMUTABLE SQL function returning ``text[]``), queried with ``@>``. Being an
  expression index, it is kept in step by PostgreSQL itself on every write,
  COPY included; there is no column or trigger to forget.
- SQLite: a contentless FTS5 table ``registry_entity_name_fts`` (rowid = entity
  id) holding each bigram as one ASCII token (its code points in hex, so no
  tokenizer ever splits or drops a bigram of punctuation or full-width
  characters), kept in step by triggers on insert, update of name and delete.
  The triggers call ``qcity_name_bigram_tokens``, a deterministic Python
  function registered on every SQLite connection Django opens
  (``registry.apps``), so any writer through Django, raw SQL included, is covered.

Both fold only ASCII letters to lower case (``name`` is compared ASCII-case-
insensitively); other characters match as typed. A query is trimmed and split
on white space; every term must occur in the name. Terms of one character
are only confirmed, never looked up: a query made only of them is refused
(``query_too_short``) unless it is a code prefix. A query that looks like a
code (ASCII letters and digits) also matches codes starting with it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db import connections, models
from django.db.models import BooleanField, F, Func, Q

MAX_QUERY_CHARS = 100
# A 统一社会信用代码 (18) or 注册号 (15) or a prefix of one, half-width upper case.
_CODE_LIKE = re.compile(r"^[0-9A-Z]{1,18}$")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# Control characters (NUL among them) never occur in a name and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HAS_DIGIT = re.compile(r"[0-9]")


class SearchRefused(Exception):
    """A query that cannot be answered well; ``code`` is stable, ``message`` is for people."""

    status = 422

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def fold(text: str) -> str:
    """The form the index holds: ASCII letters lower-cased, everything else as is."""
    return text.translate(_ASCII_LOWER)


def bigrams(text: str) -> list[str]:
    """The distinct character bigrams of ``fold(text)``, in order of first occurrence."""
    folded = fold(text)
    return list(dict.fromkeys(folded[i : i + 2] for i in range(len(folded) - 1)))


def bigram_token(pair: str) -> str:
    """One bigram as an ASCII token: hex code points joined by 'g' (not a hex digit)."""
    return "g".join(format(ord(ch), "x") for ch in pair)


def bigram_tokens(name: str | None) -> str:
    """What the SQLite FTS table holds for a name: its bigram tokens, space-separated."""
    if not name:
        return ""
    return " ".join(bigram_token(pair) for pair in bigrams(name))


@dataclass(frozen=True)
class Query:
    """A parsed search: the name terms, their bigrams, and a code prefix if it looks like one."""

    text: str
    terms: tuple[str, ...]
    grams: tuple[str, ...]
    code_prefix: str

    @property
    def empty(self) -> bool:
        return not self.terms


def parse(raw: str | None) -> Query:
    """Turn what the user typed into a query, or refuse it with a reason.

    :raises SearchRefused: ``query_too_long`` beyond 100 characters,
        ``query_too_short`` for a name query of single characters only.
    """
    text = _CONTROL.sub(" ", raw or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise SearchRefused(
            "query_too_long", f"搜索词最多 {MAX_QUERY_CHARS} 个字，当前 {len(text)} 个字"
        )
    terms = tuple(dict.fromkeys(text.split()))
    grams = tuple(dict.fromkeys(g for term in terms for g in bigrams(term)))
    # Codes are stored half-width upper case; people paste them full-width or lower-case.
    compact = unicodedata.normalize("NFKC", "".join(terms)).upper()
    code_prefix = compact if len(terms) == 1 and _CODE_LIKE.match(compact) else ""
    if terms and not grams and not code_prefix:
        raise SearchRefused(
            "query_too_short",
            "请至少输入两个字（如“奶粉”），或输入统一社会信用代码的开头几位",
        )
    return Query(text=text, terms=terms, grams=grams, code_prefix=code_prefix)


class NameHasBigrams(Func):
    """True where the entity's name holds every given bigram (served by the index).

    A necessary condition only: ``filter_entities`` confirms with a substring match.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, grams: tuple[str, ...] | list[str]) -> None:
        self.grams = list(grams)
        super().__init__(F("name"), F("pk"))

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - per vendor below
        raise NotImplementedError(f"名称检索不支持数据库 {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        name_sql, params = compiler.compile(self.source_expressions[0])
        # The very expression of the GIN index, so the planner can use it.
        return f"qcity_name_bigrams({name_sql}) @> %s::text[]", (*params, self.grams)

    def as_sqlite(self, compiler, connection, **extra):
        pk_sql, params = compiler.compile(self.source_expressions[1])
        match = " AND ".join(f'"{bigram_token(g)}"' for g in self.grams)
        return (
            f"{pk_sql} IN (SELECT rowid FROM registry_entity_name_fts "
            "WHERE registry_entity_name_fts MATCH %s)",
            (*params, match),
        )


def name_q(query: Query) -> Q:
    """The name condition: every bigram (index), then every term as a substring (confirm)."""
    condition = Q(NameHasBigrams(query.grams))
    for term in query.terms:
        # icontains escapes % and _ (and \\), so a wildcard typed is matched literally.
        condition &= Q(name__icontains=term)
    return condition


def code_prefix_q(prefix: str, vendor: str) -> Q:
    """Codes starting with ``prefix``, in a form the code's index serves.

    PostgreSQL serves ``LIKE 'p%'`` from the ``varchar_pattern_ops`` index Django
    makes beside a unique CharField. SQLite uses an index for LIKE only on NOCASE
    columns, so there the prefix is also a range (codes are ASCII and compared
    byte-wise, so ``[p, p + U+10FFFF)`` holds exactly the codes starting with p).
    """
    condition = Q(code__startswith=prefix)
    if vendor == "sqlite":
        condition &= Q(code__gte=prefix, code__lt=prefix + "\U0010ffff")
    return condition


def filter_entities(queryset: models.QuerySet, raw: str | None) -> models.QuerySet:
    """``queryset`` narrowed to entities whose code starts with, or name contains, the query.

    :raises SearchRefused: see ``parse``.
    """
    query = parse(raw)
    if query.empty:
        return queryset
    if not query.code_prefix:
        return queryset.filter(name_q(query))
    code = code_prefix_q(query.code_prefix, connections[queryset.db].vendor)
    # Eight or more letters and digits with a digit among them are a code, not a name.
    if not query.grams or (len(query.code_prefix) >= 8 and _HAS_DIGIT.search(query.code_prefix)):
        return queryset.filter(code)
    return queryset.filter(code | name_q(query))


# --- the index, created by migration 0002_search ---------------------------------------------

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION qcity_name_bigrams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(substr(folded, i, 2)), '{}')
    FROM (SELECT translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                 'abcdefghijklmnopqrstuvwxyz') AS folded) AS f,
         generate_series(1, char_length(folded) - 1) AS i
$$
"""
PG_INDEX = (
    "CREATE INDEX IF NOT EXISTS registry_entity_name_bigrams ON registry_marketentity "
    "USING gin (qcity_name_bigrams(name))"
)
PG_DROP = [
    "DROP INDEX IF EXISTS registry_entity_name_bigrams",
    "DROP FUNCTION IF EXISTS qcity_name_bigrams(text)",
]

SQLITE_CREATE = [
    # Contentless (the names live in the entity table) and detail=none: only "which rows
    # hold this token" is ever asked, so no positions are stored.
    "CREATE VIRTUAL TABLE IF NOT EXISTS registry_entity_name_fts USING fts5("
    "grams, content='', detail='none', columnsize=0, tokenize='ascii')",
    "CREATE TRIGGER IF NOT EXISTS registry_entity_name_fts_ai AFTER INSERT ON "
    "registry_marketentity BEGIN INSERT INTO registry_entity_name_fts(rowid, grams) "
    "VALUES (new.id, qcity_name_bigram_tokens(new.name)); END",
    # A contentless table forgets a row by being told the values it indexed.
    "CREATE TRIGGER IF NOT EXISTS registry_entity_name_fts_ad AFTER DELETE ON "
    "registry_marketentity BEGIN INSERT INTO registry_entity_name_fts"
    "(registry_entity_name_fts, rowid, grams) VALUES "
    "('delete', old.id, qcity_name_bigram_tokens(old.name)); END",
    "CREATE TRIGGER IF NOT EXISTS registry_entity_name_fts_au AFTER UPDATE OF name, id ON "
    "registry_marketentity BEGIN INSERT INTO registry_entity_name_fts"
    "(registry_entity_name_fts, rowid, grams) VALUES "
    "('delete', old.id, qcity_name_bigram_tokens(old.name)); "
    "INSERT INTO registry_entity_name_fts(rowid, grams) "
    "VALUES (new.id, qcity_name_bigram_tokens(new.name)); END",
]
SQLITE_REBUILD = [
    "INSERT INTO registry_entity_name_fts(registry_entity_name_fts) VALUES ('delete-all')",
    "INSERT INTO registry_entity_name_fts(rowid, grams) "
    "SELECT id, qcity_name_bigram_tokens(name) FROM registry_marketentity",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registry_entity_name_fts_ai",
    "DROP TRIGGER IF EXISTS registry_entity_name_fts_ad",
    "DROP TRIGGER IF EXISTS registry_entity_name_fts_au",
    "DROP TABLE IF EXISTS registry_entity_name_fts",
]


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: the function the SQLite triggers call."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "qcity_name_bigram_tokens", 1, bigram_tokens, deterministic=True
        )


def create_index(schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        schema_editor.execute(PG_INDEX)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        register_sqlite_functions(None, connection)
        for sql in SQLITE_CREATE + SQLITE_REBUILD:
            schema_editor.execute(sql)


def drop_index(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in PG_DROP if vendor == "postgresql" else SQLITE_DROP if vendor == "sqlite" else []:
        schema_editor.execute(sql)


def rebuild_index(using: str = "default") -> None:
    """Refill the SQLite FTS table from the entity table (after a restore, say).

    Never needed in normal operation: the triggers keep it in step. On PostgreSQL
    this is ``REINDEX INDEX registry_entity_name_bigrams``.
    """
    from django.db import connections

    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for sql in SQLITE_REBUILD:
                cursor.execute(sql)
        elif connection.vendor == "postgresql":
            cursor.execute("REINDEX INDEX registry_entity_name_bigrams")
