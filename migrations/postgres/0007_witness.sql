-- Witness cosignatures (C2SP tlog-cosignature, cosignature/v1) of the log's
-- signed checkpoints, as returned by each witness's add-checkpoint
-- (c2sp.org/tlog-witness). The checkpoint note served to clients is the
-- stored note with these signature lines appended. One row per checkpoint
-- and witness key; a witness's newest row tells the log which size to send
-- as `old` next time.
CREATE TABLE log_cosignatures (
    size BIGINT NOT NULL REFERENCES log_checkpoints (size),
    -- The witness's verifier key text (<name>+<key ID>+<base64(0x04 ‖ key)>).
    witness_key TEXT NOT NULL,
    -- The note signature line, "— <name> <base64>\n", verified before it is stored.
    signature_line TEXT NOT NULL,
    -- The cosignature's own timestamp (POSIX seconds).
    cosigned_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (size, witness_key)
);
CREATE INDEX log_cosignatures_witness ON log_cosignatures (witness_key, size);
