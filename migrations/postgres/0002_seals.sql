-- Seal pillar: electronic seals (电子印章) and the record of every stamp.
CREATE TABLE seals (
    id TEXT PRIMARY KEY,
    department_id TEXT NOT NULL REFERENCES departments(id),
    seal_type TEXT NOT NULL,
    name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    certificate_id TEXT NOT NULL REFERENCES certificates(id),
    status TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX seals_department ON seals (department_id);

CREATE TABLE stamps (
    id TEXT PRIMARY KEY,
    department_id TEXT NOT NULL REFERENCES departments(id),
    seal_id TEXT NOT NULL REFERENCES seals(id),
    actor TEXT NOT NULL,
    operator TEXT,
    reason TEXT,
    level TEXT NOT NULL,
    page BIGINT NOT NULL,
    x DOUBLE PRECISION NOT NULL,
    y DOUBLE PRECISION NOT NULL,
    size_mm DOUBLE PRECISION NOT NULL,
    input_sha256 TEXT NOT NULL,
    output_sha256 TEXT NOT NULL,
    output_pdf BYTEA NOT NULL,
    idempotency_key TEXT,
    request_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX stamps_idempotency ON stamps (actor, idempotency_key);
CREATE INDEX stamps_seal ON stamps (seal_id);
