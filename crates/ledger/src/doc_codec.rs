//! How a projection document is kept at rest: its JSON compressed with zstd
//! against a dictionary trained on casetrail's own documents.
//!
//! Documents are small (an appeal is ~680 bytes of JSON, mostly field names
//! that every appeal repeats), so plain compression gains little (~45 %);
//! with the dictionary an appeal takes ~100 bytes. Fewer bytes mean fewer
//! pages to read, dirty and commit per imported event, and a national year
//! that fits on one disk (BENCHMARKS.md).
//!
//! Every frame names its dictionary by id, and every dictionary ever used
//! stays embedded here, so a new dictionary (`scripts/train-doc-dictionary`)
//! never makes an existing database unreadable. Bytes that are not a zstd
//! frame are read as plain JSON text: what a database written before the
//! codec holds, and what a document shorter than [`PLAIN_BELOW_BYTES`] is
//! kept as.

use std::cell::RefCell;
use std::sync::LazyLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::{ProjectionDoc, StoreError};

/// The dictionaries by id; the last one compresses new documents.
const DICTIONARIES: &[(u32, &[u8])] = &[(1, include_bytes!("../data/projection-docs-1.zdict"))];

/// zstd's level 3 with the dictionary: within 10 % of level 19's size here,
/// at a fraction of its cost.
const LEVEL: i32 = 3;

/// A zstd frame's first four bytes. A JSON document starts with `{`.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Documents larger than this decompress in a loop that grows the buffer;
/// none comes near it.
const MAX_DOC_BYTES: usize = 64 * 1024 * 1024;

static ENCODER: LazyLock<EncoderDictionary<'static>> = LazyLock::new(|| {
    let (_, newest) = DICTIONARIES[DICTIONARIES.len() - 1];
    EncoderDictionary::copy(newest, LEVEL)
});

static DECODERS: LazyLock<Vec<(u32, DecoderDictionary<'static>)>> =
    LazyLock::new(|| DICTIONARIES.iter().map(|(id, bytes)| (*id, DecoderDictionary::copy(bytes))).collect());

thread_local! {
    // Contexts are costly to make (a decompression context is ~100 KiB to
    // allocate and clear): one of each per thread, reused.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSORS: RefCell<Vec<(u32, Decompressor<'static>)>> = const { RefCell::new(Vec::new()) };
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("a projection document cannot be decompressed ({error}); run `casetrail rebuild`"))
}

/// Documents shorter than this are kept as their JSON text: an index entry
/// (`{"appeal":…,"due":…}`) shrinks by a few bytes at most, and a zstd call
/// costs more than the bytes it saves (a frame's header alone is ~10).
pub const PLAIN_BELOW_BYTES: usize = 128;

/// The bytes to store for a document's JSON text.
pub fn encode(json: &str) -> Result<Vec<u8>, StoreError> {
    if json.len() < PLAIN_BELOW_BYTES {
        return Ok(json.as_bytes().to_vec());
    }
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(compressor) => compressor,
            None => slot.insert(Compressor::with_prepared_dictionary(&ENCODER).map_err(corrupt)?),
        };
        compressor.compress(json.as_bytes()).map_err(corrupt)
    })
}

/// Documents below which [`encode_each`] compresses on the caller's thread:
/// a second thread costs tens of microseconds to start, and a server's
/// group commit (a few hundred documents, most too small to compress) did
/// better without it on a busy machine (BENCHMARKS.md). An import's batch
/// of 20,000 lines still compresses beside its writes.
const SECOND_THREAD_DOCS_MIN: usize = 1024;

/// Encodes `docs` in order, handing each one's bytes to `store` on the
/// caller's thread. A large batch is compressed on a second thread while
/// `store` writes the documents already compressed, so that the two
/// overlap instead of adding up on the writer's thread.
pub fn encode_each(
    docs: &[ProjectionDoc],
    mut store: impl FnMut(&ProjectionDoc, Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if docs.len() < SECOND_THREAD_DOCS_MIN {
        for doc in docs {
            store(doc, encode(&doc.doc)?)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (compressed, results) = std::sync::mpsc::sync_channel::<Result<Vec<u8>, StoreError>>(docs.len());
        scope.spawn(move || {
            for doc in docs {
                // The receiver is gone when `store` failed: stop.
                if compressed.send(encode(&doc.doc)).is_err() {
                    break;
                }
            }
        });
        let mut stored = 0;
        for (doc, bytes) in docs.iter().zip(results) {
            store(doc, bytes?)?;
            stored += 1;
        }
        if stored < docs.len() {
            return Err(corrupt("the compressing thread stopped before the last document"));
        }
        Ok(())
    })
}

/// The JSON text of stored bytes: a frame with one of the dictionaries, or
/// plain JSON text written before the codec.
pub fn decode(stored: Vec<u8>) -> Result<String, StoreError> {
    if !stored.starts_with(&ZSTD_MAGIC) {
        return String::from_utf8(stored).map_err(corrupt);
    }
    let id = zstd::zstd_safe::get_dict_id_from_frame(&stored).map(u32::from).unwrap_or(0);
    let dictionary =
        DECODERS.iter().find(|(known, _)| *known == id).map(|(_, dictionary)| dictionary).ok_or_else(|| {
            corrupt(format!("dictionary {id} is not one this casetrail knows; a newer casetrail wrote it"))
        })?;
    let size = match zstd::zstd_safe::get_frame_content_size(&stored) {
        Ok(Some(size)) => usize::try_from(size).map_err(corrupt)?,
        _ => return Err(corrupt("the frame does not say its size")),
    };
    if size > MAX_DOC_BYTES {
        return Err(corrupt(format!("the frame claims {size} bytes")));
    }
    let bytes = DECOMPRESSORS.with(|cell| {
        let mut contexts = cell.borrow_mut();
        let index = match contexts.iter().position(|(known, _)| *known == id) {
            Some(index) => index,
            None => {
                contexts.push((id, Decompressor::with_prepared_dictionary(dictionary).map_err(corrupt)?));
                contexts.len() - 1
            }
        };
        contexts[index].1.decompress(&stored, size).map_err(corrupt)
    })?;
    String::from_utf8(bytes).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPEAL: &str = r#"{"appeal":"ЖТ-2025-00000001","status":"answered","holdings":[{"agency":"min-emergencies","received_at":"2025-01-01T06:57:49Z","received_on":"2025-01-01","via":"registered","seq":451,"regime":"appc-76","due":"2025-01-27","forward_by":"2025-01-09","extension_max":"2025-03-05","left_on":"2025-01-09","left_seq":10615,"departure":"forwarded","late_forward":false,"forwarded_on_last_day":false,"ping_pong":false}],"channel":"portal","kind":"inquiry","category":"utilities","region":"350000000","applicant":"730301316877"}"#;

    #[test]
    fn a_document_comes_back_as_written_and_much_smaller() {
        let stored = encode(APPEAL).unwrap();
        assert!(stored.len() * 3 < APPEAL.len(), "{} bytes stored for {}", stored.len(), APPEAL.len());
        assert_eq!(decode(stored).unwrap(), APPEAL);
    }

    #[test]
    fn many_documents_are_encoded_in_order_each_as_alone() {
        let docs: Vec<ProjectionDoc> = (0..SECOND_THREAD_DOCS_MIN * 3)
            .map(|i| ProjectionDoc {
                kind: "appeal".into(),
                key: format!("A-{i}"),
                agency: None,
                doc: APPEAL.replace("ЖТ-2025-00000001", &format!("A-{i}")),
            })
            .collect();
        let mut seen = Vec::new();
        encode_each(&docs, |doc, bytes| {
            assert_eq!(bytes, encode(&doc.doc).unwrap(), "{}", doc.key);
            seen.push(doc.key.clone());
            Ok(())
        })
        .unwrap();
        let keys: Vec<String> = docs.iter().map(|doc| doc.key.clone()).collect();
        assert_eq!(seen, keys);
        // A failure while storing stops the batch and is the answer.
        let mut calls = 0;
        let error = encode_each(&docs, |_, _| {
            calls += 1;
            if calls == 10 {
                Err(StoreError::Corrupt("disk full".into()))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert!(error.to_string().contains("disk full"));
        assert_eq!(calls, 10);
    }

    #[test]
    fn a_small_document_is_kept_as_its_text() {
        let entry = r#"{"appeal":"ЖТ-2025-00000001","due":"2025-01-27"}"#;
        assert!(entry.len() < PLAIN_BELOW_BYTES);
        assert_eq!(encode(entry).unwrap(), entry.as_bytes());
        assert_eq!(decode(encode(entry).unwrap()).unwrap(), entry);
    }

    #[test]
    fn plain_json_written_before_the_codec_still_reads() {
        assert_eq!(decode(APPEAL.as_bytes().to_vec()).unwrap(), APPEAL);
    }

    #[test]
    fn a_damaged_frame_is_an_error_that_says_what_to_do() {
        let mut stored = encode(APPEAL).unwrap();
        let last = stored.len() - 1;
        stored.truncate(last - 4);
        let error = decode(stored).unwrap_err().to_string();
        assert!(error.contains("casetrail rebuild"), "{error}");
    }

    #[test]
    fn an_unknown_dictionary_is_refused_not_guessed() {
        // Our dictionary under another id (a dictionary's id is its bytes 4..8).
        let mut newer = DICTIONARIES[0].1.to_vec();
        newer[4..8].copy_from_slice(&99u32.to_le_bytes());
        let stored = Compressor::with_dictionary(LEVEL, &newer).unwrap().compress(APPEAL.as_bytes()).unwrap();
        let error = decode(stored).unwrap_err().to_string();
        assert!(error.contains("dictionary 99"), "{error}");
    }
}
