//! The KRaft controller: broker liveness by heartbeats, leader election, metadata for brokers.
//!
//! Followed: `BrokerHeartbeatManager` (a broker whose last heartbeat is older than
//! `broker.session.timeout.ms` is fenced) and `PartitionChangeBuilder` (the new leader is the first
//! replica in assignment order that is in the ISR and not fenced; a fenced broker leaves the ISR
//! unless it is the last member) in metadata/src/main/java/org/apache/kafka/controller/.

use super::addr::Addresses;
use super::protocol::{BrokerId, ClusterMetadata, Message, PartitionState};
use super::record::Tp;
use crate::sim::{Out, SimDuration, SimTime};
use crate::trace::Event;
use std::sync::Arc;

/// The controller's state.
pub struct Controller {
    addr: Addresses,
    session_timeout: SimDuration,
    last_heartbeat: Vec<SimTime>,
    fenced: Vec<bool>,
    metadata: Arc<ClusterMetadata>,
}

impl Controller {
    /// A controller for a running cluster: every broker registered, each partition led by its
    /// first replica at leader epoch 0.
    pub fn new(
        addr: Addresses,
        assignments: &[Vec<Vec<BrokerId>>],
        session_timeout: SimDuration,
    ) -> Controller {
        let topics = assignments
            .iter()
            .map(|partitions| {
                partitions
                    .iter()
                    .map(|replicas| PartitionState {
                        leader: replicas.first().copied(),
                        leader_epoch: 0,
                        replicas: replicas.clone(),
                        isr: replicas.clone(),
                    })
                    .collect()
            })
            .collect();
        let n = addr.broker_count() as usize;
        Controller {
            addr,
            session_timeout,
            last_heartbeat: vec![SimTime::ZERO; n],
            fenced: vec![false; n],
            metadata: Arc::new(ClusterMetadata {
                version: 1,
                live_brokers: addr.broker_ids().collect(),
                topics,
            }),
        }
    }

    /// The current metadata image.
    pub fn metadata(&self) -> Arc<ClusterMetadata> {
        Arc::clone(&self.metadata)
    }

    /// Starts the session timers.
    pub fn on_start(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        self.schedule(now, out);
    }

    /// A heartbeat from a broker.
    pub fn on_message(&mut self, now: SimTime, msg: Message, out: &mut Out<Message, Event>) {
        if let Message::Heartbeat {
            broker,
            metadata_version,
        } = msg
        {
            let i = broker as usize - 1;
            self.last_heartbeat[i] = now;
            if self.fenced[i] {
                self.fenced[i] = false;
                out.trace(|| Event::BrokerUnfenced { broker });
                self.unfence(broker, out);
            } else if metadata_version < self.metadata.version {
                // A broker that restarted fetches the metadata log before it serves clients.
                out.send(
                    self.addr.broker(broker),
                    Message::MetadataUpdate(Arc::clone(&self.metadata)),
                );
            }
        }
        self.schedule(now, out);
    }

    /// Fences brokers whose session expired.
    pub fn on_wake(&mut self, now: SimTime, out: &mut Out<Message, Event>) {
        for broker in self.addr.broker_ids() {
            let i = broker as usize - 1;
            if !self.fenced[i] && now >= self.last_heartbeat[i] + self.session_timeout {
                self.fenced[i] = true;
                out.trace(|| Event::BrokerFenced { broker });
                self.fence(broker, out);
            }
        }
        self.schedule(now, out);
    }

    fn schedule(&self, now: SimTime, out: &mut Out<Message, Event>) {
        let next = self
            .addr
            .broker_ids()
            .filter(|b| !self.fenced[*b as usize - 1])
            .map(|b| self.last_heartbeat[b as usize - 1] + self.session_timeout)
            .min();
        if let Some(at) = next {
            out.wake_at(at.max(now));
        }
    }

    fn fence(&mut self, broker: BrokerId, out: &mut Out<Message, Event>) {
        let fenced = &self.fenced;
        let live = |b: &BrokerId| !fenced[*b as usize - 1];
        let md = Arc::make_mut(&mut self.metadata);
        md.live_brokers.retain(|b| *b != broker);
        let mut changes = Vec::new();
        for (t, partitions) in md.topics.iter_mut().enumerate() {
            for (p, state) in partitions.iter_mut().enumerate() {
                if state.isr.len() > 1 {
                    state.isr.retain(|b| *b != broker);
                }
                if state.leader == Some(broker) {
                    state.leader = state
                        .replicas
                        .iter()
                        .copied()
                        .find(|b| state.isr.contains(b) && live(b));
                    state.leader_epoch += 1;
                    changes.push((tp(t, p), state.leader, state.leader_epoch));
                }
            }
        }
        self.publish(changes, out);
    }

    fn unfence(&mut self, broker: BrokerId, out: &mut Out<Message, Event>) {
        let md = Arc::make_mut(&mut self.metadata);
        md.live_brokers.push(broker);
        md.live_brokers.sort_unstable();
        let mut changes = Vec::new();
        for (t, partitions) in md.topics.iter_mut().enumerate() {
            for (p, state) in partitions.iter_mut().enumerate() {
                if state.leader.is_none() && state.isr.contains(&broker) {
                    state.leader = Some(broker);
                    state.leader_epoch += 1;
                    changes.push((tp(t, p), state.leader, state.leader_epoch));
                }
            }
        }
        self.publish(changes, out);
    }

    fn publish(&mut self, changes: Vec<(Tp, Option<BrokerId>, u32)>, out: &mut Out<Message, Event>) {
        Arc::make_mut(&mut self.metadata).version += 1;
        for (tp, leader, leader_epoch) in changes {
            out.trace(|| Event::LeaderChanged {
                tp,
                leader,
                leader_epoch,
            });
        }
        for b in self.addr.broker_ids() {
            out.send(
                self.addr.broker(b),
                Message::MetadataUpdate(Arc::clone(&self.metadata)),
            );
        }
    }
}

fn tp(topic: usize, partition: usize) -> Tp {
    Tp {
        topic: u32::try_from(topic).unwrap_or(u32::MAX),
        partition: u32::try_from(partition).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller() -> Controller {
        Controller::new(
            Addresses::new(2),
            &[vec![vec![1], vec![2]]],
            SimDuration::from_ms(9000),
        )
    }

    #[test]
    fn a_silent_broker_is_fenced_and_its_partition_goes_offline() {
        let mut c = controller();
        let mut out = Out::new(false);
        c.on_message(
            SimTime::from_us(8_000_000),
            Message::Heartbeat {
                broker: 2,
                metadata_version: 1,
            },
            &mut out,
        );
        c.on_wake(SimTime::from_us(9_000_000), &mut out);
        let md = c.metadata();
        assert_eq!(md.live_brokers, vec![2]);
        let p0 = md
            .partition(Tp {
                topic: 0,
                partition: 0,
            })
            .expect("exists");
        assert_eq!((p0.leader, p0.leader_epoch, p0.isr.clone()), (None, 1, vec![1]));
        assert_eq!(
            md.partition(Tp {
                topic: 0,
                partition: 1
            })
            .and_then(|p| p.leader),
            Some(2)
        );
    }

    #[test]
    fn a_returning_broker_leads_its_partitions_again_with_a_new_epoch() {
        let mut c = controller();
        let mut out = Out::new(false);
        c.on_wake(SimTime::from_us(9_000_000), &mut out);
        c.on_message(
            SimTime::from_us(12_000_000),
            Message::Heartbeat {
                broker: 1,
                metadata_version: 0,
            },
            &mut out,
        );
        let p0 = c
            .metadata()
            .partition(Tp {
                topic: 0,
                partition: 0,
            })
            .cloned()
            .expect("exists");
        assert_eq!((p0.leader, p0.leader_epoch), (Some(1), 2));
    }
}
