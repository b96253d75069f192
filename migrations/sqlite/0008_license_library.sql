-- The license library (电子证照库): service items (事项) and their use lists
-- (用证清单), holders' one-time consent codes (用证码), and the record of
-- every use and every refusal (可留痕、可追查). Every row is logged.

-- A service item a department handles for citizens and businesses.
CREATE TABLE service_items (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The departments that handle a service item (and so may use licenses for it).
CREATE TABLE service_item_departments (
    item_code TEXT NOT NULL REFERENCES service_items (code),
    department_id TEXT NOT NULL REFERENCES departments (id),
    PRIMARY KEY (item_code, department_id)
);

-- The use list, versioned: one row per (item, license type, version); the
-- row with the highest version is in force. A row is never changed.
CREATE TABLE use_list_entries (
    id TEXT PRIMARY KEY,
    item_code TEXT NOT NULL REFERENCES service_items (code),
    type_code TEXT NOT NULL REFERENCES license_types (code),
    version BIGINT NOT NULL,
    -- JSON array of the field keys released (data minimisation); empty: none.
    fields_json TEXT NOT NULL,
    -- Whether a release needs the holder's consent: 1 or 0.
    consent_required BIGINT NOT NULL,
    legal_basis TEXT NOT NULL,
    -- 0: withdrawn (the type may no longer be used for the item).
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (item_code, type_code, version)
);

-- One-time consent codes (用证码). Only the code's SHA-256 is kept.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    code_sha256 TEXT NOT NULL UNIQUE,
    holder_id_type TEXT NOT NULL,
    holder_id TEXT NOT NULL,
    item_code TEXT NOT NULL REFERENCES service_items (code),
    department_id TEXT REFERENCES departments (id),
    -- JSON array of license type codes, sorted.
    license_types TEXT NOT NULL,
    -- Who created it: `client:<id>` (a holder-facing app) or `holder:<subject>`.
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    used_by TEXT,
    revoked_at BIGINT
);
CREATE INDEX consents_holder ON consents (holder_id);

-- Every use of the library and every refusal.
CREATE TABLE license_uses (
    id TEXT PRIMARY KEY,
    -- `granted` or `refused`.
    outcome TEXT NOT NULL,
    -- For a refusal: its error code (not_on_use_list, consent_required, ...).
    refusal TEXT,
    department_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    operator TEXT NOT NULL,
    item_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    holder_id_type TEXT NOT NULL,
    holder_id TEXT NOT NULL,
    consent_id TEXT,
    -- JSON array of the use list entry ids in force when judged.
    use_list_json TEXT NOT NULL,
    -- JSON array of {"id","type","issuer","fields":[keys]} released.
    licenses_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Until when the originals (PDFs) may be fetched within this use.
    pdf_until BIGINT
);
CREATE INDEX license_uses_holder ON license_uses (holder_id, created_at);
CREATE INDEX license_uses_department ON license_uses (department_id, created_at);
CREATE INDEX license_uses_item ON license_uses (item_code, created_at);
CREATE INDEX license_uses_time ON license_uses (created_at);

-- Which licenses each use released, with their issuer (an index of
-- license_uses.licenses_json, so issuers and license ids can be queried).
CREATE TABLE license_use_licenses (
    use_id TEXT NOT NULL REFERENCES license_uses (id),
    license_id TEXT NOT NULL,
    issuer_department_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (use_id, license_id)
);
CREATE INDEX license_use_licenses_license ON license_use_licenses (license_id);
CREATE INDEX license_use_licenses_issuer ON license_use_licenses (issuer_department_id, created_at);
