//! EtherNet/IP clients: the HMI reading Logix tags over a class-3 connection, and the PLC
//! scanning its I/O adapter over a class-1 connection (cyclic UDP 2222 both ways).

use crate::emit::{Layer, Rec};
use crate::proto::enip::{self, ForwardOpen, IO_PORT, PORT};
use crate::rng::Rng;
use crate::sim::{Actor, Avail, ClientLink, Cx, Ready};
use crate::time::{MS, SEC};

/// RegisterSession on a fresh connection; returns (time after, session handle).
pub fn register(
    link: &mut ClientLink,
    t: u64,
    cx: &mut Cx<'_>,
    rng: &mut Rng,
) -> Result<(u64, u32), u64> {
    let session = rng.next_u32() | 1;
    let ctx = rng.next_u64();
    let t = link.exchange(
        t,
        cx,
        rng,
        vec![enip::register_session(0, ctx)],
        vec![enip::register_session(session, ctx)],
    )?;
    Ok((t, session))
}

/// Get_Attribute_All on the Identity object (class 1, instance 1) over SendRRData.
pub fn identity(
    link: &mut ClientLink,
    t: u64,
    cx: &mut Cx<'_>,
    rng: &mut Rng,
    session: u32,
) -> Result<u64, u64> {
    let ident = cx.identity(link.server, t);
    let ctx = rng.next_u64();
    let req = enip::request(enip::svc::GET_ATTRIBUTE_ALL, &enip::path(0x01, 0x01, None), &[]);
    link.exchange(
        t,
        cx,
        rng,
        vec![enip::send_rr_data(session, ctx, &req)],
        vec![enip::send_rr_data(session, ctx, &enip::identity_reply(&ident))],
    )
}

/// Forward Open over SendRRData.
pub fn forward_open(
    link: &mut ClientLink,
    t: u64,
    cx: &mut Cx<'_>,
    rng: &mut Rng,
    session: u32,
    fo: &ForwardOpen,
) -> Result<u64, u64> {
    let ctx = rng.next_u64();
    link.exchange(
        t,
        cx,
        rng,
        vec![enip::send_rr_data(session, ctx, &enip::forward_open_request(fo))],
        vec![enip::send_rr_data(session, ctx, &enip::forward_open_reply(fo))],
    )
}

/// The HMI's tag reader for one Logix PLC.
pub struct EnipHmi {
    link: ClientLink,
    rng: Rng,
    session: Option<(u32, ForwardOpen)>,
    seq: u16,
    cycle: u64,
    speed: f32,
    count: i32,
}

impl EnipHmi {
    /// A reader from `hmi` to `plc`.
    pub fn new(seed: u64, hmi: usize, plc: usize, label: &str) -> EnipHmi {
        let mut rng = Rng::new(seed, label);
        EnipHmi {
            link: ClientLink::new(hmi, plc, PORT, (2 * MS, 10 * MS)),
            seq: rng.next_u16(),
            speed: 1200.0 + rng.below(200) as f32,
            count: rng.below(100_000) as i32,
            rng,
            session: None,
            cycle: 0,
        }
    }

    fn step(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let mut t = t;
        let (session, fo) = match self.session {
            Some(s) => s,
            None => {
                let (t1, session) = register(&mut self.link, t, cx, &mut self.rng)?;
                let t2 = identity(
                    &mut self.link,
                    t1 + self.rng.range(MS, 5 * MS),
                    cx,
                    &mut self.rng,
                    session,
                )?;
                let fo = ForwardOpen {
                    o_t_id: self.rng.next_u32(),
                    t_o_id: self.rng.next_u32(),
                    serial: self.rng.next_u16(),
                    vendor: 1,
                    orig_serial: self.rng.next_u32(),
                    rpi: 2_000_000,
                    io: false,
                    sizes: (500, 500),
                };
                t = forward_open(
                    &mut self.link,
                    t2 + self.rng.range(MS, 5 * MS),
                    cx,
                    &mut self.rng,
                    session,
                    &fo,
                )?;
                self.session = Some((session, fo));
                (session, fo)
            }
        };
        self.speed += (self.rng.unit() as f32 - 0.5) * 4.0;
        self.count += self.rng.range(0, 3) as i32;
        let reads: [(&str, enip::CipMsg); 2] = [
            ("Line1_Speed", enip::read_tag_reply_real(self.speed)),
            ("Line1_Count", enip::read_tag_reply_dint(self.count)),
        ];
        for (i, (tag, reply)) in reads.into_iter().enumerate() {
            self.seq = self.seq.wrapping_add(1);
            let req = enip::send_unit_data(session, fo.o_t_id, self.seq, &enip::read_tag(tag));
            let resp = enip::send_unit_data(session, fo.t_o_id, self.seq, &reply);
            let at = if i == 0 { t } else { t + self.rng.range(2 * MS, 10 * MS) };
            t = self.link.exchange(at, cx, &mut self.rng, vec![req], vec![resp])?;
        }
        if self.cycle % 60 == 45 {
            self.seq = self.seq.wrapping_add(1);
            let v = 1200.0 + self.rng.below(100) as f32;
            let req = enip::send_unit_data(
                session,
                fo.o_t_id,
                self.seq,
                &enip::write_tag_real("Line1_Setpoint", v),
            );
            let resp = enip::send_unit_data(
                session,
                fo.t_o_id,
                self.seq,
                &enip::reply(enip::svc::WRITE_TAG, 0, &[]),
            );
            t = self.link.exchange(
                t + self.rng.range(2 * MS, 10 * MS),
                cx,
                &mut self.rng,
                vec![req],
                vec![resp],
            )?;
        }
        Ok(t)
    }
}

impl Actor for EnipHmi {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let t = match self.link.ensure(now, cx, &mut self.rng) {
            Ready::At { t, fresh } => {
                if fresh {
                    self.session = None;
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
                self.session = None;
                Some(r)
            }
        }
    }
}

/// Requested packet interval of the class-1 I/O connections.
pub const RPI: u64 = 100 * MS;

/// A Logix PLC scanning its I/O adapter.
pub struct EnipIo {
    link: ClientLink,
    rng: Rng,
    fo: Option<ForwardOpen>,
    /// The adapter's side of a connection whose scanner rebooted, and when it times out.
    orphan: Option<(ForwardOpen, u64)>,
    since: u64,
    seq: (u32, u32),
    cip_seq: (u16, u16),
    ip_id: (u16, u16),
    inputs: [u8; 16],
    last_o_t: u64,
}

impl EnipIo {
    /// The scanner `plc` and its adapter.
    pub fn new(seed: u64, plc: usize, adapter: usize, label: &str) -> EnipIo {
        let mut rng = Rng::new(seed, label);
        EnipIo {
            link: ClientLink::new(plc, adapter, PORT, (MS, 4 * MS)),
            seq: (rng.next_u32() >> 8, rng.next_u32() >> 8),
            cip_seq: (rng.next_u16(), rng.next_u16()),
            ip_id: (rng.next_u16(), rng.next_u16()),
            inputs: [0; 16],
            rng,
            fo: None,
            orphan: None,
            since: 0,
            last_o_t: 0,
        }
    }

    fn setup(&mut self, now: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let t = match self.link.ensure(now, cx, &mut self.rng) {
            Ready::At { t, .. } => t,
            Ready::Retry(r) => return Err(r),
        };
        let (t, session) = register(&mut self.link, t, cx, &mut self.rng)?;
        let fo = ForwardOpen {
            o_t_id: self.rng.next_u32(),
            t_o_id: self.rng.next_u32(),
            serial: self.rng.next_u16(),
            vendor: 1,
            orig_serial: self.rng.next_u32(),
            rpi: RPI as u32,
            io: true,
            sizes: (14, 18),
        };
        let t = forward_open(
            &mut self.link,
            t + self.rng.range(MS, 3 * MS),
            cx,
            &mut self.rng,
            session,
            &fo,
        )?;
        self.fo = Some(fo);
        self.since = now;
        Ok(t)
    }

    /// The scanner's output datagram (O→T).
    fn produce_outputs(&mut self, now: u64, cx: &mut Cx<'_>, fo: &ForwardOpen) {
        let plc = self.link.client;
        let aip = cx.plant.devices[self.link.server].ip;
        self.seq.0 = self.seq.0.wrapping_add(1);
        self.cip_seq.0 = self.cip_seq.0.wrapping_add(1);
        let outputs = [(self.seq.0 >> 4) as u8, 0x01, 0, 0, 0, 0, 0x10, 0];
        let d = enip::io_datagram(fo.o_t_id, self.seq.0, self.cip_seq.0, Some(1), &outputs);
        self.ip_id.0 = self.ip_id.0.wrapping_add(1);
        cx.udp(
            now,
            plc,
            aip,
            IO_PORT,
            IO_PORT,
            &d,
            &[Layer::Cipio],
            vec![Rec::CipIo],
            self.ip_id.0,
        );
        self.last_o_t = now;
    }

    /// The adapter's input datagram (T→O), a fixed phase after the outputs.
    fn produce_inputs(&mut self, now: u64, cx: &mut Cx<'_>, fo: &ForwardOpen) {
        let adapter = self.link.server;
        let pip = cx.plant.devices[self.link.client].ip;
        if self.rng.chance(0.05) {
            let i = self.rng.below(16) as usize;
            self.inputs[i] ^= 1 << self.rng.below(8);
        }
        self.seq.1 = self.seq.1.wrapping_add(1);
        self.cip_seq.1 = self.cip_seq.1.wrapping_add(1);
        let d = enip::io_datagram(fo.t_o_id, self.seq.1, self.cip_seq.1, None, &self.inputs);
        self.ip_id.1 = self.ip_id.1.wrapping_add(1);
        let at = now + 37 * MS + self.rng.below(400);
        cx.udp(
            at,
            adapter,
            pip,
            IO_PORT,
            IO_PORT,
            &d,
            &[Layer::Cipio],
            vec![Rec::CipIo],
            self.ip_id.1,
        );
    }
}

impl Actor for EnipIo {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let plc = self.link.client;
        // A rebooted scanner has lost its connections and sets them up again afterwards;
        // the adapter keeps producing until its connection times out (8 RPIs).
        if let Some((a, b)) = cx.world.dev[plc].reboot
            && now >= a
            && self.since < a
        {
            if let Some(fo) = self.fo.take() {
                self.orphan = Some((fo, self.last_o_t + 8 * RPI));
                self.link.conn = None;
            }
            if now < b {
                if let Some((fo, until)) = self.orphan
                    && now < until
                {
                    self.produce_inputs(now, cx, &fo);
                    return Some(now + RPI);
                }
                return Some(b + self.rng.range(2 * SEC, 4 * SEC));
            }
        }
        if cx.avail(plc, now, now) != Avail::Up {
            return Some(now + SEC);
        }
        let Some(fo) = self.fo else {
            return match self.setup(now, cx) {
                Ok(t) => Some(t + self.rng.range(5 * MS, 30 * MS)),
                Err(r) => Some(r),
            };
        };
        self.produce_outputs(now, cx, &fo);
        self.produce_inputs(now, cx, &fo);
        Some(now + RPI)
    }
}
