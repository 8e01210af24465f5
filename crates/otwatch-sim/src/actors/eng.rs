//! The engineering workstation going online to a controller every ten minutes: S7 module and
//! component identification (SZL 0x0011, 0x001C), or EtherNet/IP ListIdentity and a
//! Get_Attribute_All of the Identity object, then an orderly disconnect.

use crate::emit::{Layer, Rec};
use crate::plant::Role;
use crate::proto::enip;
use crate::rng::Rng;
use crate::sim::{Actor, Avail, ClientLink, Cx, Ready};
use crate::time::{MS, SEC};

use super::{enip as enip_actor, s7 as s7_actor};

/// One workstation–controller pair.
pub struct EngOnline {
    rng: Rng,
    eng: usize,
    target: usize,
    period: u64,
}

impl EngOnline {
    /// Visits of `target` by `eng`.
    pub fn new(seed: u64, eng: usize, target: usize, label: &str) -> EngOnline {
        EngOnline { rng: Rng::new(seed, label), eng, target, period: s7_actor::ENG_PERIOD }
    }

    fn s7(&mut self, now: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let mut link = ClientLink::new(self.eng, self.target, s7_actor::PORT, (3 * MS, 20 * MS));
        let t = match link.ensure(now, cx, &mut self.rng) {
            Ready::At { t, .. } => t,
            Ready::Retry(r) => return Err(r),
        };
        let mut pduref = self.rng.next_u16();
        let t = s7_actor::connect(&mut link, t, cx, &mut self.rng, &mut pduref)?;
        let t = s7_actor::identify(
            &mut link,
            t + self.rng.range(5 * MS, 40 * MS),
            cx,
            &mut self.rng,
            &mut pduref,
        )?;
        Ok(link.close(t + self.rng.range(50 * MS, 500 * MS), cx, &mut self.rng))
    }

    fn enip(&mut self, now: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let tip = cx.plant.devices[self.target].ip;
        let eip = cx.plant.devices[self.eng].ip;
        cx.arp(self.eng, now, tip);
        let port = cx.port(self.eng);
        let ctx = self.rng.next_u64();
        let req = enip::list_identity_request(ctx, true);
        let id = self.rng.next_u16();
        cx.udp(now, self.eng, tip, port, enip::PORT, &req.bytes, &[Layer::Enip], req.recs, id);
        let mut t = now;
        if cx.avail(self.target, now, now) == Avail::Up {
            let ident = cx.identity(self.target, now);
            let rep = enip::list_identity_reply(ctx, &ident, tip, true);
            t = now + self.rng.range(2 * MS, 15 * MS);
            if cx.plant_actor {
                let nh = cx.plant.next_hop(self.target, eip);
                cx.arp_between(self.target, nh, t);
            }
            let id = self.rng.next_u16();
            cx.udp(t, self.target, eip, enip::PORT, port, &rep.bytes, &[Layer::Enip], rep.recs, id);
        }
        let mut link = ClientLink::new(self.eng, self.target, enip::PORT, (2 * MS, 10 * MS));
        let t = match link.ensure(t + self.rng.range(100 * MS, 400 * MS), cx, &mut self.rng) {
            Ready::At { t, .. } => t,
            Ready::Retry(r) => return Err(r),
        };
        let (t, session) = enip_actor::register(&mut link, t, cx, &mut self.rng)?;
        let t = enip_actor::identity(
            &mut link,
            t + self.rng.range(MS, 10 * MS),
            cx,
            &mut self.rng,
            session,
        )?;
        let ctx = self.rng.next_u64();
        let t = link.push_from_client(
            t + self.rng.range(20 * MS, 200 * MS),
            cx,
            &mut self.rng,
            vec![enip::unregister_session(session, ctx)],
        )?;
        Ok(link.close(t + self.rng.range(MS, 20 * MS), cx, &mut self.rng))
    }
}

impl Actor for EngOnline {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let result = match cx.plant.devices[self.target].role {
            Role::S7Plc => self.s7(now, cx),
            _ => self.enip(now, cx),
        };
        let _ = Rec::Cotp;
        match result {
            Ok(_) | Err(_) => Some(now + self.rng.jitter(self.period, 20)),
        }
    }
}

/// Delay before the first visit.
pub fn first_visit(rng: &mut Rng) -> u64 {
    rng.range(5 * SEC, 40 * SEC)
}
