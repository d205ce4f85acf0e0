-- Projection documents are kept compressed (crates/ledger/src/doc_codec.rs),
-- so the column becomes bytes. Documents written before keep their JSON
-- text's UTF-8 bytes, which the codec reads as they are.
-- The (kind, agency) index goes: no query reads documents by agency, and
-- every document written paid for it.
ALTER TABLE projection_docs ALTER COLUMN doc TYPE BYTEA USING convert_to(doc, 'UTF8');
DROP INDEX projection_docs_agency;
