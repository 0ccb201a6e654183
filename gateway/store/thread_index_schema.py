"""The thread index's tables and triggers (schema version 3), on both backends.

``thread_index`` has one row per thread the gateway knows: its owner (the
thread's metadata value under ``OWNER_METADATA_KEY``, or NULL), ``created_at``
and ``last_activity_at`` (the later of ``created_at`` and the newest message's
``created_at``), with an index per sort key, with and without the owner in front,
so that every page of ``viewer.threads`` is one index range scan.

On the embedded store the rows are kept by **triggers** on ``threads`` and
``messages``: every write (GraphQL through ``/v1``, REST clients, ``copy-store``,
another worker or replica, an older process) updates the index in the write's own
transaction, so the index is exact and no code path can forget it. That is the
store's one hook per backend: it lives here, in the schema, not in the store's
write functions.

How the triggers learn the owner key: ``thread_index_owner_key`` holds it (one
row). The gateway writes its configured ``OWNER_METADATA_KEY`` there when it opens
the database (``ThreadIndexTable.adopt_owner_key``); when the key differs from
the one stored, every owner is recomputed from the threads' metadata in that same
transaction. A key read by the trigger from the database (instead of passed in by
each write) is what keeps REST writes and other processes exact too.

Over a remote upstream the same table holds what the gateway recorded (see
``gateway.thread_index.recorded``); the triggers never fire there (the store's
tables stay empty), and a change of owner key sets the recorded owners to NULL
(no caller lists them until the gateway sees the thread again): fail closed.
"""

from __future__ import annotations

__all__ = ["THREAD_INDEX_POSTGRES", "THREAD_INDEX_SQLITE"]

_INDEXES = (
    "CREATE INDEX thread_index_by_activity ON thread_index (last_activity_at, thread_id)",
    "CREATE INDEX thread_index_by_creation ON thread_index (created_at, thread_id)",
    "CREATE INDEX thread_index_by_owner_activity "
    "ON thread_index (owner, last_activity_at, thread_id)",
    "CREATE INDEX thread_index_by_owner_creation ON thread_index (owner, created_at, thread_id)",
)

_SQLITE_OWNER_OF_NEW = (
    "(SELECT j.value FROM json_each(NEW.metadata) AS j "
    "WHERE j.key = (SELECT owner_key FROM thread_index_owner_key))"
)

THREAD_INDEX_SQLITE: tuple[str, ...] = (
    """
    CREATE TABLE thread_index (
        thread_id        TEXT PRIMARY KEY,
        owner            TEXT,              -- metadata[OWNER_METADATA_KEY], or NULL
        created_at       INTEGER NOT NULL,
        last_activity_at INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE thread_index_owner_key (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        owner_key TEXT
    )
    """,
    "INSERT INTO thread_index_owner_key (singleton, owner_key) VALUES (1, NULL)",
    *_INDEXES,
    """
    INSERT INTO thread_index (thread_id, owner, created_at, last_activity_at)
    SELECT t.id, NULL, t.created_at,
           max(t.created_at, coalesce(
               (SELECT max(m.created_at) FROM messages AS m WHERE m.thread_id = t.id),
               t.created_at))
    FROM threads AS t
    """,
    f"""
    CREATE TRIGGER thread_index_thread_created AFTER INSERT ON threads BEGIN
        INSERT OR REPLACE INTO thread_index (thread_id, owner, created_at, last_activity_at)
        VALUES (NEW.id, {_SQLITE_OWNER_OF_NEW}, NEW.created_at, NEW.created_at);
    END
    """,  # noqa: S608 (constants only)
    f"""
    CREATE TRIGGER thread_index_thread_metadata AFTER UPDATE OF metadata ON threads BEGIN
        UPDATE thread_index SET owner = {_SQLITE_OWNER_OF_NEW} WHERE thread_id = NEW.id;
    END
    """,  # noqa: S608 (constants only)
    """
    CREATE TRIGGER thread_index_thread_deleted AFTER DELETE ON threads BEGIN
        DELETE FROM thread_index WHERE thread_id = OLD.id;
    END
    """,
    """
    CREATE TRIGGER thread_index_message_created AFTER INSERT ON messages BEGIN
        UPDATE thread_index SET last_activity_at = max(last_activity_at, NEW.created_at)
        WHERE thread_id = NEW.thread_id;
    END
    """,
    """
    CREATE TRIGGER thread_index_message_deleted AFTER DELETE ON messages BEGIN
        UPDATE thread_index SET last_activity_at = max(created_at, coalesce(
            (SELECT max(m.created_at) FROM messages AS m WHERE m.thread_id = OLD.thread_id),
            created_at))
        WHERE thread_id = OLD.thread_id;
    END
    """,
)

THREAD_INDEX_POSTGRES: tuple[str, ...] = (
    """
    CREATE TABLE thread_index (
        thread_id        text PRIMARY KEY,
        owner            text,
        created_at       bigint NOT NULL,
        last_activity_at bigint NOT NULL
    )
    """,
    """
    CREATE TABLE thread_index_owner_key (
        singleton integer PRIMARY KEY CHECK (singleton = 1),
        owner_key text
    )
    """,
    "INSERT INTO thread_index_owner_key (singleton, owner_key) VALUES (1, NULL)",
    *_INDEXES,
    """
    INSERT INTO thread_index (thread_id, owner, created_at, last_activity_at)
    SELECT t.id, NULL, t.created_at,
           GREATEST(t.created_at,
                    (SELECT max(m.created_at) FROM messages AS m WHERE m.thread_id = t.id))
    FROM threads AS t
    """,
    """
    CREATE FUNCTION thread_index_owner(metadata text) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT metadata::jsonb ->> (SELECT owner_key FROM thread_index_owner_key)
    $$
    """,
    """
    CREATE FUNCTION thread_index_on_thread() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM thread_index WHERE thread_id = OLD.id;
            RETURN OLD;
        ELSIF TG_OP = 'INSERT' THEN
            INSERT INTO thread_index (thread_id, owner, created_at, last_activity_at)
            VALUES (NEW.id, thread_index_owner(NEW.metadata), NEW.created_at, NEW.created_at)
            ON CONFLICT (thread_id) DO UPDATE SET owner = EXCLUDED.owner,
                created_at = EXCLUDED.created_at,
                last_activity_at = GREATEST(thread_index.last_activity_at, EXCLUDED.created_at);
        ELSE
            UPDATE thread_index SET owner = thread_index_owner(NEW.metadata)
            WHERE thread_id = NEW.id;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER thread_index_on_thread AFTER INSERT OR DELETE OR UPDATE OF metadata
    ON threads FOR EACH ROW EXECUTE FUNCTION thread_index_on_thread()
    """,
    # A message delete recomputes the thread's activity. It first locks the thread
    # row, as message inserts do (postgres._CREATE_MESSAGE), so that an insert
    # committing meanwhile is seen by the recomputation (each plpgsql statement
    # takes a fresh snapshot under READ COMMITTED) instead of being undone by it.
    """
    CREATE FUNCTION thread_index_on_message() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE thread_index SET last_activity_at = GREATEST(last_activity_at, NEW.created_at)
            WHERE thread_id = NEW.thread_id;
            RETURN NEW;
        END IF;
        PERFORM 1 FROM threads WHERE id = OLD.thread_id FOR UPDATE;
        UPDATE thread_index SET last_activity_at = GREATEST(created_at,
            (SELECT max(m.created_at) FROM messages AS m WHERE m.thread_id = OLD.thread_id))
        WHERE thread_id = OLD.thread_id;
        RETURN OLD;
    END
    $$
    """,
    """
    CREATE TRIGGER thread_index_on_message AFTER INSERT OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION thread_index_on_message()
    """,
)
