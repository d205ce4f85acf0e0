-- Projection documents are kept compressed (crates/ledger/src/doc_codec.rs),
-- so the column becomes a BLOB. Documents written before keep their JSON
-- text's bytes, which the codec reads as they are.
-- The (kind, agency) index goes: no query reads documents by agency, and
-- every document written paid for it.
CREATE TABLE projection_docs_compressed (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    agency TEXT,
    doc    BLOB NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;
INSERT INTO projection_docs_compressed (kind, key, agency, doc)
    SELECT kind, key, agency, CAST(doc AS BLOB) FROM projection_docs;
DROP TABLE projection_docs;
ALTER TABLE projection_docs_compressed RENAME TO projection_docs;
