-- Transparency log (RFC 9162 Merkle tree). Entries are written in the same
-- transaction as their business record, unsequenced (leaf_index NULL); the
-- sequencer assigns indices in batches, stores complete subtree nodes and
-- signs a checkpoint.
CREATE TABLE log_entries (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    entry BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL,
    leaf_index BIGINT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX log_entries_pending ON log_entries (leaf_index, created_at, id);
CREATE INDEX log_entries_subject ON log_entries (subject_id);

-- Complete subtree hashes: level 0 = leaves; (level, idx) covers leaves [idx·2^level, (idx+1)·2^level).
CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- One row (id = 1): the sequenced size and root. Sequencers lock it.
CREATE TABLE log_state (
    id INTEGER PRIMARY KEY,
    size BIGINT NOT NULL,
    root BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE log_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
