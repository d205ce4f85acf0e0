//! Frontier serialisation: round trip, continuing after a restore, rejection of
//! corrupted bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // panicking is how tests fail

mod common;

use casetrail_merkle::{root_of, Frontier, FrontierError, TreeHead};
use common::{leaves, Rng};

#[test]
fn round_trip_and_continue_after_restore() {
    let all = leaves(300);
    let mut rng = Rng::new(7);
    let mut cuts: Vec<u64> = (0..=70).collect();
    cuts.extend((0..20).map(|_| rng.range(71, 299)));
    for cut in cuts {
        let f = Frontier::from_leaves(&all[..cut as usize]);
        let bytes = f.to_bytes();
        assert_eq!(bytes.len(), 8 + 32 * cut.count_ones() as usize);
        assert_eq!(&bytes[..8], &cut.to_be_bytes());
        let mut restored = Frontier::from_bytes(&bytes).expect("valid serialisation");
        assert_eq!(restored, f);
        assert_eq!(restored.size(), cut);
        assert_eq!(restored.root(), root_of(&all[..cut as usize]));
        // Continue appending after a "restart".
        for leaf in &all[cut as usize..] {
            restored.push(*leaf);
        }
        assert_eq!(restored.root(), root_of(&all));
        assert_eq!(restored, Frontier::from_leaves(&all));
    }
}

#[test]
fn empty_frontier() {
    let f = Frontier::new();
    assert_eq!(f.size(), 0);
    assert_eq!(f.root(), root_of(&[]));
    assert_eq!(f.to_bytes(), vec![0u8; 8]);
    assert_eq!(Frontier::from_bytes(&[0u8; 8]), Ok(Frontier::new()));
}

#[test]
fn corrupted_serialisations_are_rejected() {
    let f = Frontier::from_leaves(&leaves(13)); // 13 = 0b1101: 3 hashes
    let good = f.to_bytes();
    assert_eq!(good.len(), 8 + 3 * 32);

    // Too short for the size.
    assert_eq!(Frontier::from_bytes(&[]), Err(FrontierError::TooShort { len: 0 }));
    assert_eq!(Frontier::from_bytes(&good[..7]), Err(FrontierError::TooShort { len: 7 }));
    // Truncated inside a hash, or a stray byte appended.
    assert_eq!(Frontier::from_bytes(&good[..good.len() - 1]), Err(FrontierError::Ragged { len: 95 }));
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(Frontier::from_bytes(&longer), Err(FrontierError::Ragged { len: 97 }));
    // A whole hash missing or extra.
    assert_eq!(
        Frontier::from_bytes(&good[..good.len() - 32]),
        Err(FrontierError::WrongHashCount { size: 13, expected: 3, actual: 2 })
    );
    let mut extra = good.clone();
    extra.extend_from_slice(&[0u8; 32]);
    assert_eq!(Frontier::from_bytes(&extra), Err(FrontierError::WrongHashCount { size: 13, expected: 3, actual: 4 }));
    // Size changed to one with another popcount.
    let mut bad_size = good.clone();
    bad_size[7] = 12; // 0b1100: 2 hashes expected
    assert_eq!(
        Frontier::from_bytes(&bad_size),
        Err(FrontierError::WrongHashCount { size: 12, expected: 2, actual: 3 })
    );
    let mut huge = good.clone();
    huge[0] = 0xff;
    assert!(Frontier::from_bytes(&huge).is_err());

    // Corruption the layout cannot see is caught against the signed tree head.
    let head = TreeHead { size: 13, root: f.root(), timestamp_ms: 1 };
    assert!(f.matches_head(&head));
    let mut flipped = good.clone();
    flipped[40] ^= 0x01;
    let g = Frontier::from_bytes(&flipped).expect("layout still valid");
    assert!(!g.matches_head(&head));
    let mut same_popcount = good.clone();
    same_popcount[7] = 14; // 0b1110: also 3 hashes
    let g = Frontier::from_bytes(&same_popcount).expect("layout still valid");
    assert!(!g.matches_head(&head));
}

#[test]
fn push_at_maximum_size_is_refused() {
    let mut bytes = u64::MAX.to_be_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(7u8, 64 * 32));
    let mut f = Frontier::from_bytes(&bytes).expect("64 hashes for 2^64-1");
    assert_eq!(f.hashes().len(), 64);
    let before = f.clone();
    assert_eq!(f.try_push([1; 32]), Err(FrontierError::Full));
    f.push([1; 32]);
    assert_eq!(f, before);
}
