//! A SCADA server's IEC 60870-5-104 session with one controlled station: STARTDT, clock
//! synchronisation and general interrogation at connect, then spontaneous measurements
//! from the station, S-frame acknowledgements (w = 8 or t2 = 10 s), TESTFR when idle
//! (t3 = 20 s) and a general interrogation every 15 minutes.

use crate::proto::iec104::{self, Asdu, cot, ty, u};
use crate::rng::Rng;
use crate::sim::{Actor, ClientLink, Cx, Ready};
use crate::tcp::Pdu;
use crate::time::{MS, SEC};

/// Acknowledge after this many received I-frames.
pub const W: u16 = 8;
/// Acknowledge at the latest this long after the first unacknowledged I-frame.
pub const T2: u64 = 10 * SEC;
/// Test an idle connection after this long.
pub const T3: u64 = 20 * SEC;
/// General interrogation period.
pub const GI_PERIOD: u64 = 15 * 60 * SEC;

/// One master–station session.
pub struct Iec104Master {
    link: ClientLink,
    rng: Rng,
    ca: u16,
    /// Master's send sequence and the station's.
    ns_m: u16,
    ns_o: u16,
    unacked: u16,
    s_deadline: Option<u64>,
    last_activity: u64,
    next_spont: u64,
    next_gi: u64,
    started: bool,
    points: Vec<bool>,
    values: Vec<f32>,
}

impl Iec104Master {
    /// A session from `scada` to `rtu` with common address `ca`.
    pub fn new(seed: u64, scada: usize, rtu: usize, ca: u16, label: &str) -> Iec104Master {
        let mut rng = Rng::new(seed, label);
        let points = (0..16).map(|_| rng.chance(0.5)).collect();
        let values = (0..8).map(|_| 10.0 + rng.below(900) as f32 / 10.0).collect();
        Iec104Master {
            link: ClientLink::new(scada, rtu, iec104::PORT, (5 * MS, 30 * MS)),
            rng,
            ca,
            ns_m: 0,
            ns_o: 0,
            unacked: 0,
            s_deadline: None,
            last_activity: 0,
            next_spont: 0,
            next_gi: 0,
            started: false,
            points,
            values,
        }
    }

    fn master_frame(&mut self, asdu: &Asdu) -> Pdu {
        let p = iec104::i_frame(self.ns_m, self.ns_o, asdu);
        self.ns_m = (self.ns_m + 1) & 0x7fff;
        self.unacked = 0;
        self.s_deadline = None;
        p
    }

    fn station_frame(&mut self, asdu: &Asdu, now: u64) -> Pdu {
        let p = iec104::i_frame(self.ns_o, self.ns_m, asdu);
        self.ns_o = (self.ns_o + 1) & 0x7fff;
        self.unacked += 1;
        if self.s_deadline.is_none() {
            self.s_deadline = Some(now + T2);
        }
        p
    }

    fn asdu(&self, type_id: u8, c: u8, objects: Vec<(u32, Vec<u8>)>) -> Asdu {
        Asdu { type_id, cot: c, negative: false, ca: self.ca, objects }
    }

    fn ack(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let s = iec104::s_frame(self.ns_o);
        self.unacked = 0;
        self.s_deadline = None;
        self.link.push_from_client(t, cx, &mut self.rng, vec![s])
    }

    fn station_sends(&mut self, t: u64, cx: &mut Cx<'_>, asdu: Asdu) -> Result<u64, u64> {
        let p = self.station_frame(&asdu, t);
        let Some(t) = self.link.push_from_server(t, cx, &mut self.rng, vec![p]) else {
            return Err(t + SEC);
        };
        if self.unacked >= W {
            let at = t + self.rng.range(MS, 5 * MS);
            return self.ack(at, cx);
        }
        Ok(t)
    }

    fn interrogation(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let act = self.asdu(ty::C_IC_NA_1, cot::ACT, vec![(0, vec![20])]);
        let req = self.master_frame(&act);
        let con = self.asdu(ty::C_IC_NA_1, cot::ACTCON, vec![(0, vec![20])]);
        let resp = self.station_frame(&con, t);
        let mut t = self.link.exchange(t, cx, &mut self.rng, vec![req], vec![resp])?;
        let sp = self.asdu(
            ty::M_SP_NA_1,
            cot::INROGEN,
            self.points
                .iter()
                .enumerate()
                .map(|(i, v)| (1001 + i as u32, vec![u8::from(*v)]))
                .collect(),
        );
        let at = t + self.rng.range(2 * MS, 10 * MS);
        t = self.station_sends(at, cx, sp)?;
        let me = self.asdu(
            ty::M_ME_NC_1,
            cot::INROGEN,
            self.values
                .iter()
                .enumerate()
                .map(|(i, v)| (2001 + i as u32, iec104::float_qds(*v)))
                .collect(),
        );
        let at = t + self.rng.range(2 * MS, 10 * MS);
        t = self.station_sends(at, cx, me)?;
        let term = self.asdu(ty::C_IC_NA_1, cot::ACTTERM, vec![(0, vec![20])]);
        let at = t + self.rng.range(2 * MS, 10 * MS);
        t = self.station_sends(at, cx, term)?;
        Ok(t)
    }

    fn start(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        self.ns_m = 0;
        self.ns_o = 0;
        self.unacked = 0;
        self.s_deadline = None;
        let t = self.link.exchange(
            t,
            cx,
            &mut self.rng,
            vec![iec104::u_frame(u::STARTDT_ACT)],
            vec![iec104::u_frame(u::STARTDT_CON)],
        )?;
        let cs = self.asdu(ty::C_CS_NA_1, cot::ACT, vec![(0, iec104::cp56(t))]);
        let req = self.master_frame(&cs);
        let con = self.asdu(ty::C_CS_NA_1, cot::ACTCON, vec![(0, iec104::cp56(t))]);
        let resp = self.station_frame(&con, t);
        let t = self.link.exchange(
            t + self.rng.range(5 * MS, 50 * MS),
            cx,
            &mut self.rng,
            vec![req],
            vec![resp],
        )?;
        let at = t + self.rng.range(5 * MS, 50 * MS);
        let t = self.interrogation(at, cx)?;
        Ok(t)
    }

    fn spontaneous(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let asdu = if self.rng.chance(0.25) {
            let i = self.rng.below(self.points.len() as u64) as usize;
            self.points[i] = !self.points[i];
            let mut el = vec![u8::from(self.points[i])];
            el.extend_from_slice(&iec104::cp56(t));
            self.asdu(ty::M_SP_TB_1, cot::SPONTANEOUS, vec![(1001 + i as u32, el)])
        } else {
            let n = self.rng.range(1, 3) as usize;
            let mut objs = Vec::new();
            for _ in 0..n {
                let i = self.rng.below(self.values.len() as u64) as usize;
                self.values[i] += (self.rng.unit() as f32 - 0.5) * 2.0;
                let mut el = iec104::float_qds(self.values[i]);
                el.extend_from_slice(&iec104::cp56(t));
                if !objs.iter().any(|(ioa, _)| *ioa == 2001 + i as u32) {
                    objs.push((2001 + i as u32, el));
                }
            }
            self.asdu(ty::M_ME_TF_1, cot::SPONTANEOUS, objs)
        };
        self.station_sends(t, cx, asdu)
    }
}

impl Actor for Iec104Master {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let t = match self.link.ensure(now, cx, &mut self.rng) {
            Ready::At { t, fresh } => {
                if fresh {
                    self.started = false;
                }
                t
            }
            Ready::Retry(r) => return Some(r),
        };
        let result = if !self.started {
            self.started = true;
            self.next_gi = now + GI_PERIOD;
            self.next_spont = now + self.rng.range(2 * SEC, 5 * SEC);
            self.start(t, cx)
        } else if now >= self.next_gi {
            self.next_gi = now + GI_PERIOD;
            self.interrogation(t, cx)
        } else if self.s_deadline.is_some_and(|d| now >= d) {
            self.ack(t, cx)
        } else if now >= self.next_spont {
            self.next_spont = now + self.rng.range(SEC, 8 * SEC);
            self.spontaneous(t, cx)
        } else if now >= self.last_activity + T3 {
            self.link.exchange(
                t,
                cx,
                &mut self.rng,
                vec![iec104::u_frame(u::TESTFR_ACT)],
                vec![iec104::u_frame(u::TESTFR_CON)],
            )
        } else {
            Ok(t)
        };
        match result {
            Ok(t_end) => {
                if t_end > t || !self.started {
                    self.last_activity = t_end;
                }
                let mut next = self.next_spont.min(self.next_gi).min(self.last_activity + T3);
                if let Some(d) = self.s_deadline {
                    next = next.min(d);
                }
                Some(next.max(t_end + MS).max(now + MS))
            }
            Err(r) => {
                self.started = false;
                Some(r)
            }
        }
    }
}
