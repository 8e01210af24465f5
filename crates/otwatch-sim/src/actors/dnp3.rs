//! A SCADA server's DNP3 master session with one outstation: integrity poll and restart-bit
//! clearing at connect, class 1/2/3 event polls every two seconds with application
//! confirms for event data, and an integrity poll every minute.

use crate::proto::dnp3::{self, fc, iin1};
use crate::rng::Rng;
use crate::sim::{Actor, ClientLink, Cmd, Cx, Ready};
use crate::tcp::Pdu;
use crate::time::{MS, SEC};

/// The master's link address.
pub const MASTER_ADDR: u16 = 1;
/// Event poll period.
pub const EVENT_POLL: u64 = 2 * SEC;
/// Integrity poll period.
pub const INTEGRITY_POLL: u64 = 60 * SEC;

/// Outstation state the master sees.
struct Outstation {
    binaries: Vec<bool>,
    analogs: Vec<i32>,
    counters: Vec<u32>,
    restart: bool,
    tseq: u8,
}

/// One master–outstation session.
pub struct Dnp3Master {
    link: ClientLink,
    rng: Rng,
    addr: u16,
    seq: u8,
    tseq: u8,
    out: Outstation,
    next_integrity: u64,
    connected: bool,
    actor: u32,
}

impl Dnp3Master {
    /// A session from `scada` to `rtu` (link address `addr`); `actor` is this actor's index.
    pub fn new(
        seed: u64,
        scada: usize,
        rtu: usize,
        addr: u16,
        label: &str,
        actor: u32,
    ) -> Dnp3Master {
        let mut rng = Rng::new(seed, label);
        let binaries = (0..64).map(|_| rng.chance(0.3)).collect();
        let analogs = (0..100).map(|_| rng.range(0, 50_000) as i32).collect();
        let counters = (0..16).map(|_| rng.next_u32() >> 12).collect();
        Dnp3Master {
            link: ClientLink::new(scada, rtu, dnp3::PORT, (8 * MS, 40 * MS)),
            seq: rng.below(16) as u8,
            tseq: rng.below(64) as u8,
            out: Outstation {
                binaries,
                analogs,
                counters,
                restart: true,
                tseq: rng.below(64) as u8,
            },
            rng,
            addr,
            next_integrity: 0,
            connected: false,
            actor,
        }
    }

    fn req(&mut self, func: u8, objects: (Vec<u8>, Vec<(u8, u8)>)) -> (u8, Vec<Pdu>) {
        self.seq = (self.seq + 1) & 0x0f;
        let frag = dnp3::request(self.seq, func, &objects.0, objects.1);
        (self.seq, dnp3::frames(frag, true, self.addr, MASTER_ADDR, &mut self.tseq))
    }

    fn resp(&mut self, seq: u8, con: bool, objects: (Vec<u8>, Vec<(u8, u8)>)) -> Vec<Pdu> {
        let iin = (if self.out.restart { iin1::RESTART } else { 0 }, 0);
        let frag = dnp3::response(seq, con, iin, &objects.0, objects.1);
        dnp3::frames(frag, false, MASTER_ADDR, self.addr, &mut self.out.tseq)
    }

    fn drift(&mut self) {
        for a in &mut self.out.analogs {
            *a += self.rng.range(0, 40) as i32 - 20;
        }
        for c in &mut self.out.counters {
            *c += self.rng.range(0, 3) as u32;
        }
    }

    fn integrity(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        self.drift();
        let (seq, req) = self.req(fc::READ, dnp3::class_read(&[2, 3, 4, 1]));
        let data = dnp3::static_data(&self.out.binaries, &self.out.analogs, &self.out.counters);
        let resp = self.resp(seq, false, data);
        let mut t = self.link.exchange(t, cx, &mut self.rng, req, resp)?;
        if self.out.restart {
            let (seq, req) = self.req(fc::WRITE, dnp3::clear_restart());
            self.out.restart = false;
            let resp = self.resp(seq, false, (Vec::new(), Vec::new()));
            t = self.link.exchange(
                t + self.rng.range(5 * MS, 30 * MS),
                cx,
                &mut self.rng,
                req,
                resp,
            )?;
        }
        Ok(t)
    }

    fn event_poll(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        self.drift();
        let (seq, req) = self.req(fc::READ, dnp3::class_read(&[2, 3, 4]));
        let events = self.rng.chance(0.3);
        let mut t = if events {
            let n = self.rng.range(1, 3) as usize;
            let mut bins = Vec::new();
            for _ in 0..n {
                let i = self.rng.below(self.out.binaries.len() as u64) as usize;
                self.out.binaries[i] = !self.out.binaries[i];
                bins.push((i as u8, self.out.binaries[i]));
            }
            let i = self.rng.below(self.out.analogs.len() as u64) as usize;
            let anas = vec![(i as u8, self.out.analogs[i])];
            let resp = self.resp(seq, true, dnp3::events(&bins, &anas));
            self.link.exchange(t, cx, &mut self.rng, req, resp)?
        } else {
            let resp = self.resp(seq, false, (Vec::new(), Vec::new()));
            self.link.exchange(t, cx, &mut self.rng, req, resp)?
        };
        if events {
            // Application confirm echoes the response's sequence number.
            let frag = dnp3::request(seq, fc::CONFIRM, &[], Vec::new());
            let pdus = dnp3::frames(frag, true, self.addr, MASTER_ADDR, &mut self.tseq);
            t = self.link.push_from_client(
                t + self.rng.range(MS, 10 * MS),
                cx,
                &mut self.rng,
                pdus,
            )?;
        }
        Ok(t)
    }

    fn cold_restart(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let (seq, req) = self.req(fc::COLD_RESTART, (Vec::new(), Vec::new()));
        let resp = self.resp(seq, false, dnp3::time_delay_fine(2000));
        let t = self.link.exchange(t, cx, &mut self.rng, req, resp)?;
        // The outstation restarts its application; the next responses report IIN1.7.
        self.out.restart = true;
        Ok(t)
    }

    fn step(&mut self, now: u64, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let cmds = cx.world.mailbox.remove(&self.actor).unwrap_or_default();
        if cmds.contains(&Cmd::Dnp3ColdRestart) {
            self.next_integrity = now + 3 * SEC;
            return self.cold_restart(t, cx);
        }
        if !self.connected || now >= self.next_integrity || self.out.restart {
            self.connected = true;
            self.next_integrity = now + INTEGRITY_POLL;
            return self.integrity(t, cx);
        }
        self.event_poll(t, cx)
    }
}

impl Actor for Dnp3Master {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let t = match self.link.ensure(now, cx, &mut self.rng) {
            Ready::At { t, fresh } => {
                if fresh {
                    self.connected = false;
                }
                t
            }
            Ready::Retry(r) => return Some(r),
        };
        match self.step(now, t, cx) {
            Ok(_) => Some(now + self.rng.jitter(EVENT_POLL, 5)),
            Err(r) => {
                self.connected = false;
                Some(r)
            }
        }
    }
}
