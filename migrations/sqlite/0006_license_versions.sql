-- License versions (换发/变更): a renewal or an amendment is a new row with
-- the same serial and version + 1 (GB/T 36904-2018 identifier), linked to the
-- row it supersedes; the old row's status becomes 'superseded'. The unique
-- index lets a version have at most one successor.
ALTER TABLE licenses ADD COLUMN supersedes TEXT REFERENCES licenses(id);
ALTER TABLE licenses ADD COLUMN superseded_by TEXT;
CREATE UNIQUE INDEX licenses_supersedes ON licenses (supersedes);
