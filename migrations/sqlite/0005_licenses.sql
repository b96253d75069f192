-- License pillar: license types (证照类型), issued licenses (电子证照) and the
-- per-(type, issuer) serial counter used by the GB/T 36904 identifier.
CREATE TABLE license_types (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    validity_days BIGINT NOT NULL,
    fields_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE license_type_issuers (
    type_code TEXT NOT NULL REFERENCES license_types(code),
    department_id TEXT NOT NULL REFERENCES departments(id),
    PRIMARY KEY (type_code, department_id)
);

CREATE TABLE license_serials (
    type_code TEXT NOT NULL,
    issuer_uscc TEXT NOT NULL,
    last_serial BIGINT NOT NULL,
    PRIMARY KEY (type_code, issuer_uscc)
);

CREATE TABLE licenses (
    id TEXT PRIMARY KEY,
    type_code TEXT NOT NULL REFERENCES license_types(code),
    department_id TEXT NOT NULL REFERENCES departments(id),
    seal_id TEXT NOT NULL REFERENCES seals(id),
    holder_name TEXT NOT NULL,
    holder_id_type TEXT NOT NULL,
    holder_id TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    issued_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    record BLOB NOT NULL,
    pdf BLOB NOT NULL,
    actor TEXT NOT NULL,
    idempotency_key TEXT,
    request_sha256 TEXT NOT NULL
);
CREATE UNIQUE INDEX licenses_idempotency ON licenses (actor, idempotency_key);
CREATE INDEX licenses_holder ON licenses (holder_id);
CREATE INDEX licenses_status ON licenses (status);
