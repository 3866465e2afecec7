//! The records of an append or a truncation as the history keeps them: packed, and owned by the
//! history alone. Sharing the log's `Arc<[RecordId]>` would keep every record that retention,
//! a cleaner or a truncation removed from the log alive in memory (issue 14 point 11).
//!
//! A batch holds records of one producer in increasing sequence order: consecutive ones for a
//! producer writing to one partition, or with small gaps where its other partitions' records
//! went. So the first record is kept whole and each next one as the gap from the one before, in
//! a variable-length integer (one byte for gaps up to 64), or as nothing at all when every gap is
//! one. Any other order (several producers, a sequence going back) is kept exactly too, at a
//! few more bytes per record.

use crate::kafka::record::RecordId;

/// A list of records, packed (see the module documentation).
#[derive(Clone, PartialEq, Eq)]
pub struct RecordList {
    /// The first record (`RecordId { producer: 0, seq: 0 }` when the list is empty).
    first: RecordId,
    /// How many records.
    len: u32,
    /// The records after the first, each as a step from the one before: empty when each is
    /// the next sequence number of the same producer.
    steps: Box<[u8]>,
}

/// The low bit of a step's first integer: 0 for a forward gap within the producer (the integer
/// is the gap minus one, shifted left by one), 1 for a whole record (the integer is the
/// producer, shifted left by one, and a second integer follows with the sequence number).
const WHOLE: u64 = 1;

impl RecordList {
    /// Packs `records`, in their order.
    pub fn new(records: &[RecordId]) -> RecordList {
        let len = u32::try_from(records.len()).expect("fewer than 2^32 records in a batch");
        let Some((&first, rest)) = records.split_first() else {
            return RecordList {
                first: RecordId { producer: 0, seq: 0 },
                len,
                steps: Box::default(),
            };
        };
        let consecutive = records
            .windows(2)
            .all(|w| w[1].producer == w[0].producer && w[0].seq.checked_add(1) == Some(w[1].seq));
        if consecutive {
            return RecordList {
                first,
                len,
                steps: Box::default(),
            };
        }
        let mut steps = Vec::with_capacity(records.len());
        let mut previous = first;
        for &r in rest {
            if r.producer == previous.producer && r.seq > previous.seq {
                put(&mut steps, u64::from(r.seq - previous.seq - 1) << 1);
            } else {
                put(&mut steps, (u64::from(r.producer) << 1) | WHOLE);
                put(&mut steps, u64::from(r.seq));
            }
            previous = r;
        }
        RecordList {
            first,
            len,
            steps: steps.into_boxed_slice(),
        }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first record.
    pub fn first(&self) -> Option<RecordId> {
        (self.len > 0).then_some(self.first)
    }

    /// The records, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            next: self.first,
            left: self.len,
            steps: &self.steps,
        }
    }

    /// True if `r` is one of them.
    pub fn contains(&self, r: RecordId) -> bool {
        self.iter().any(|x| x == r)
    }

    /// Unpacked.
    pub fn to_vec(&self) -> Vec<RecordId> {
        self.iter().collect()
    }
}

impl From<&[RecordId]> for RecordList {
    fn from(records: &[RecordId]) -> RecordList {
        RecordList::new(records)
    }
}

impl std::fmt::Debug for RecordList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a RecordList {
    type Item = RecordId;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The records of a [`RecordList`], in order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    /// The record to yield next (if `left` > 0).
    next: RecordId,
    /// Records not yielded yet.
    left: u32,
    /// The steps after `next`.
    steps: &'a [u8],
}

impl Iterator for Iter<'_> {
    type Item = RecordId;

    fn next(&mut self) -> Option<RecordId> {
        if self.left == 0 {
            return None;
        }
        let r = self.next;
        self.left -= 1;
        if self.left > 0 {
            self.next = if self.steps.is_empty() {
                RecordId {
                    producer: r.producer,
                    seq: r.seq + 1,
                }
            } else {
                let code = take(&mut self.steps);
                if code & WHOLE == 0 {
                    RecordId {
                        producer: r.producer,
                        seq: r.seq + narrow(code >> 1) + 1,
                    }
                } else {
                    RecordId {
                        producer: narrow(code >> 1),
                        seq: narrow(take(&mut self.steps)),
                    }
                }
            };
        }
        Some(r)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Appends `v` as a LEB128 integer: seven bits a byte, low bits first, the high bit set on every
/// byte but the last.
fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Takes one LEB128 integer off the front of `bytes` (written by [`put`]).
fn take(bytes: &mut &[u8]) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some((&b, rest)) = bytes.split_first() {
        *bytes = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

/// A decoded integer that [`RecordList::new`] wrote from a `u32`.
fn narrow(v: u64) -> u32 {
    u32::try_from(v).expect("packed from a u32")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(producer: u32, seq: u32) -> RecordId {
        RecordId { producer, seq }
    }

    fn round_trip(records: &[RecordId]) -> RecordList {
        let list = RecordList::new(records);
        assert_eq!(list.to_vec(), records);
        assert_eq!(list.len(), records.len());
        assert_eq!(list.iter().len(), records.len());
        assert_eq!(list.first(), records.first().copied());
        list
    }

    #[test]
    fn an_empty_list_has_no_first_record() {
        let list = round_trip(&[]);
        assert!(list.is_empty());
        assert!(!list.contains(rec(0, 0)));
    }

    #[test]
    fn consecutive_records_take_no_bytes_beyond_the_first() {
        let records: Vec<RecordId> = (7..1007).map(|s| rec(2, s)).collect();
        let list = round_trip(&records);
        assert!(list.steps.is_empty());
        assert!(list.contains(rec(2, 500)));
        assert!(!list.contains(rec(2, 1007)));
        assert!(!list.contains(rec(1, 500)));
    }

    #[test]
    fn gaps_up_to_64_take_one_byte_each() {
        let records: Vec<RecordId> = (0..100).map(|i| rec(0, i * 64)).collect();
        let list = round_trip(&records);
        assert_eq!(list.steps.len(), 99);
        let wider = round_trip(&[rec(0, 0), rec(0, 65)]);
        assert_eq!(wider.steps.len(), 2);
    }

    #[test]
    fn any_order_of_any_producers_comes_back_exactly() {
        let records = [
            rec(0, 5),
            rec(0, 9),
            rec(3, 2),
            rec(3, 1),
            rec(3, 1),
            rec(u32::MAX, u32::MAX),
            rec(0, 0),
            rec(u32::MAX, 0),
            rec(u32::MAX, u32::MAX),
        ];
        let list = round_trip(&records);
        assert!(list.contains(rec(3, 1)));
        assert!(!list.contains(rec(3, 3)));
        assert_eq!(format!("{list:?}"), format!("{:?}", records));
    }

    proptest::proptest! {
        #[test]
        fn any_list_comes_back_exactly(
            ids in proptest::collection::vec((0u32..3, proptest::num::u32::ANY), 0..100),
        ) {
            let records: Vec<RecordId> = ids.iter().map(|&(p, s)| rec(p, s)).collect();
            round_trip(&records);
        }

        #[test]
        fn a_batch_of_one_producer_comes_back_exactly(
            start in proptest::num::u32::ANY,
            gaps in proptest::collection::vec(1u32..300, 0..100),
        ) {
            let mut seq = start;
            let mut records = vec![rec(1, seq)];
            for gap in gaps {
                let Some(next) = seq.checked_add(gap) else { break };
                seq = next;
                records.push(rec(1, seq));
            }
            round_trip(&records);
        }
    }

    #[test]
    fn a_single_record_is_its_first() {
        let list = round_trip(&[rec(4, u32::MAX)]);
        assert_eq!(list.first(), Some(rec(4, u32::MAX)));
    }
}
