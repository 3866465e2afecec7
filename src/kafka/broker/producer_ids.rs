//! Handing out producer ids for `InitProducerId` (idempotent producers without a transactional
//! id): each broker takes blocks of ids from the controller and serves ids from its block.
//!
//! Followed: `RPCProducerIdManager` (core/src/main/scala/kafka/coordinator/transaction/
//! ProducerIdManager.scala) and `ProducerIdControlManager` (metadata/, KIP-730), Kafka 4.0. A
//! broker starts with no block; a request that finds the block used up asks the controller for
//! the next one and is answered `COORDINATOR_LOAD_IN_PROGRESS`, which the client retries. The
//! next block is prefetched when 90% of the current one is used. The block is memory only: a
//! restarted broker asks again.

use crate::kafka::protocol::ErrorCode;
use crate::kafka::record::ProducerIdentity;

/// A broker's ids: the current block, a prefetched one, and whether a block was asked for.
#[derive(Clone, Debug, Default)]
pub struct ProducerIdPool {
    next: u64,
    end: u64,
    size: u64,
    prefetched: Option<(u64, u64)>,
    requested: bool,
}

/// What a broker does with an `InitProducerId` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handout {
    /// The answer.
    pub result: Result<ProducerIdentity, ErrorCode>,
    /// Ask the controller for a block now.
    pub request_block: bool,
}

impl ProducerIdPool {
    /// The next id (`generateProducerId`).
    pub fn generate(&mut self) -> Handout {
        if self.next == self.end
            && let Some((first, size)) = self.prefetched.take()
        {
            self.take(first, size);
        }
        if self.next == self.end {
            let request_block = !self.requested;
            self.requested = true;
            return Handout {
                result: Err(ErrorCode::CoordinatorLoadInProgress),
                request_block,
            };
        }
        let id = self.next;
        self.next += 1;
        let used = self.size - (self.end - self.next);
        // `maybeRequestNextBlock` once the block is 90% used.
        let request_block = used * 10 >= self.size * 9 && self.prefetched.is_none() && !self.requested;
        self.requested |= request_block;
        Handout {
            result: Ok(ProducerIdentity { id, epoch: 0 }),
            request_block,
        }
    }

    /// The controller's answer to the block request.
    pub fn on_block(&mut self, first: u64, size: u64) {
        self.requested = false;
        if self.next == self.end {
            self.take(first, size);
        } else {
            self.prefetched = Some((first, size));
        }
    }

    fn take(&mut self, first: u64, size: u64) {
        self.next = first;
        self.end = first + size;
        self.size = size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::protocol::PRODUCER_ID_BLOCK_SIZE as BLOCK_SIZE;

    #[test]
    fn the_first_request_waits_for_a_block_then_ids_count_up() {
        let mut pool = ProducerIdPool::default();
        let first = pool.generate();
        assert_eq!(first.result, Err(ErrorCode::CoordinatorLoadInProgress));
        assert!(first.request_block);
        assert!(!pool.generate().request_block, "asked once");
        pool.on_block(3000, BLOCK_SIZE);
        let ids: Vec<u64> = (0..3)
            .map(|_| pool.generate().result.map(|p| p.id))
            .collect::<Result<_, _>>()
            .expect("ids");
        assert_eq!(ids, [3000, 3001, 3002]);
    }

    #[test]
    fn the_next_block_is_prefetched_at_ninety_percent() {
        let mut pool = ProducerIdPool::default();
        pool.generate();
        pool.on_block(0, BLOCK_SIZE);
        let asked: Vec<u64> = (0..BLOCK_SIZE)
            .filter_map(|_| {
                let h = pool.generate();
                h.request_block
                    .then(|| h.result.map(|p| p.id).unwrap_or(u64::MAX))
            })
            .collect();
        assert_eq!(asked, [899], "asked once, when the 900th id went out");
        pool.on_block(5000, BLOCK_SIZE);
        assert_eq!(pool.generate().result.map(|p| p.id), Ok(5000));
    }
}
