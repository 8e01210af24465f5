//! S7comm clients: the HMI reading process data from an S7 PLC twice a second, and the
//! shared connection set-up (COTP connect, setup communication) and SZL identification reads.

use crate::plant::Identity;
use crate::proto::s7::{self, Item, area};
use crate::rng::Rng;
use crate::sim::{Actor, ClientLink, Cx, Ready};
use crate::time::{MS, SEC};

/// ISO-on-TCP port.
pub const PORT: u16 = 102;

/// CPU slot and negotiated PDU size of a PLC model.
pub fn cpu_params(ident: &Identity) -> (u8, u16) {
    if ident.model.starts_with("6ES7 4") { (3, 480) } else { (2, 240) }
}

/// COTP connect and setup communication on a fresh connection. Returns the time after.
pub fn connect(
    link: &mut ClientLink,
    t: u64,
    cx: &mut Cx<'_>,
    rng: &mut Rng,
    pduref: &mut u16,
) -> Result<u64, u64> {
    let ident = cx.identity(link.server, t);
    let (slot, pdu) = cpu_params(&ident);
    let cref = rng.next_u16() | 1;
    let sref = rng.next_u16() | 0x100;
    let t = link.exchange(
        t,
        cx,
        rng,
        vec![s7::cotp_cr(cref, slot)],
        vec![s7::cotp_cc(cref, sref, slot)],
    )?;
    *pduref = pduref.wrapping_add(1);
    let r = *pduref;
    link.exchange(
        t + rng.range(MS, 5 * MS),
        cx,
        rng,
        vec![s7::setup_job(r, 480)],
        vec![s7::setup_ack(r, pdu)],
    )
}

/// SZL 0x0011 and 0x001C reads (module and component identification).
pub fn identify(
    link: &mut ClientLink,
    t: u64,
    cx: &mut Cx<'_>,
    rng: &mut Rng,
    pduref: &mut u16,
) -> Result<u64, u64> {
    let ident = cx.identity(link.server, t);
    let fw = parse_fw(&ident.firmware);
    *pduref = pduref.wrapping_add(1);
    let r = *pduref;
    let recs = s7::szl_0011_records(&ident.model, ident.product_code, fw);
    let t = link.exchange(
        t,
        cx,
        rng,
        vec![s7::szl_request(r, 0x0011, 0)],
        vec![s7::szl_response(r, 0x0011, 0, 28, &recs)],
    )?;
    *pduref = pduref.wrapping_add(1);
    let r = *pduref;
    let name = cx.plant.devices[link.server].name.clone();
    let cpu = if ident.model.starts_with("6ES7 4") { "CPU 414-3 PN/DP" } else { "CPU 315-2 PN/DP" };
    let recs = s7::szl_001c_records(&name, cpu, &ident.serial, cpu);
    link.exchange(
        t + rng.range(5 * MS, 30 * MS),
        cx,
        rng,
        vec![s7::szl_request(r, 0x001c, 0)],
        vec![s7::szl_response(r, 0x001c, 0, 34, &recs)],
    )
}

/// "V3.2.6" → (3, 2, 6).
pub fn parse_fw(text: &str) -> (u8, u8, u8) {
    let mut it =
        text.trim_start_matches(['V', 'v']).split('.').map(|p| p.parse::<u8>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// The HMI's S7 poller for one PLC.
pub struct S7Hmi {
    link: ClientLink,
    rng: Rng,
    pduref: u16,
    cycle: u64,
    ready: bool,
    db: [u8; 32],
}

impl S7Hmi {
    /// A poller from `hmi` to `plc`.
    pub fn new(seed: u64, hmi: usize, plc: usize, label: &str) -> S7Hmi {
        let mut rng = Rng::new(seed, label);
        let mut db = [0u8; 32];
        for b in &mut db {
            *b = rng.next_u32() as u8;
        }
        S7Hmi {
            link: ClientLink::new(hmi, plc, PORT, (3 * MS, 15 * MS)),
            pduref: rng.next_u16(),
            rng,
            cycle: 0,
            ready: false,
            db,
        }
    }

    fn step(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let mut t = t;
        if !self.ready {
            t = connect(&mut self.link, t, cx, &mut self.rng, &mut self.pduref)?
                + self.rng.range(5 * MS, 20 * MS);
            self.ready = true;
        }
        for _ in 0..3 {
            let i = self.rng.below(32) as usize;
            self.db[i] = self.db[i].wrapping_add(self.rng.range(1, 3) as u8);
        }
        self.pduref = self.pduref.wrapping_add(1);
        let r = self.pduref;
        let items = [
            Item { area: area::DB, db: 1, start: 0, len: 32 },
            Item { area: area::FLAGS, db: 0, start: 0, len: 4 },
        ];
        let flags = vec![self.db[0] & 0x0f, 0x01, 0x00, (self.cycle & 0xff) as u8];
        t = self.link.exchange(
            t,
            cx,
            &mut self.rng,
            vec![s7::read_var_job(r, &items)],
            vec![s7::read_var_ack(r, &[self.db.to_vec(), flags])],
        )?;
        if self.cycle % 40 == 20 {
            self.pduref = self.pduref.wrapping_add(1);
            let r = self.pduref;
            let item = [Item { area: area::DB, db: 2, start: 0, len: 4 }];
            let v = (self.rng.range(20, 80) as u32).to_be_bytes().to_vec();
            t = self.link.exchange(
                t + self.rng.range(5 * MS, 20 * MS),
                cx,
                &mut self.rng,
                vec![s7::write_var_job(r, &item, &[v])],
                vec![s7::write_var_ack(r, 1)],
            )?;
        }
        Ok(t)
    }
}

impl Actor for S7Hmi {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let t = match self.link.ensure(now, cx, &mut self.rng) {
            Ready::At { t, fresh } => {
                if fresh {
                    self.ready = false;
                }
                t
            }
            Ready::Retry(r) => return Some(r),
        };
        match self.step(t, cx) {
            Ok(_) => {
                self.cycle += 1;
                Some(now + self.rng.jitter(500 * MS, 10))
            }
            Err(r) => {
                self.ready = false;
                Some(r)
            }
        }
    }
}

/// The period of the engineering workstation's identification visits.
pub const ENG_PERIOD: u64 = 10 * 60 * SEC;
