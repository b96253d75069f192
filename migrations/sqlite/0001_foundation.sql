-- Foundation: key store, certificates, departments, API clients, CRLs.
-- Times are Unix seconds (BIGINT); ids are text (UUID or hex).
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    public_key BLOB NOT NULL,
    sealed_private_key BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE certificates (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    issuer_id TEXT REFERENCES certificates(id),
    serial_hex TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES keys(id),
    der BLOB NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    revoked_at BIGINT,
    revocation_reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX certificates_issuer_revoked ON certificates (issuer_id, revoked_at);

-- The installation's current CA and TSA certificates, one row per role.
CREATE TABLE authority (
    role TEXT PRIMARY KEY,
    certificate_id TEXT NOT NULL REFERENCES certificates(id)
);

CREATE TABLE departments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    uscc TEXT NOT NULL UNIQUE,
    parent_id TEXT REFERENCES departments(id),
    certificate_id TEXT NOT NULL REFERENCES certificates(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    department_id TEXT NOT NULL REFERENCES departments(id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_clients_department ON api_clients (department_id);

CREATE TABLE crls (
    ca TEXT NOT NULL,
    number BIGINT NOT NULL,
    der BLOB NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    PRIMARY KEY (ca, number)
);
