//! An HMI polling a Modbus/TCP PLC: device identification at connect, then register and
//! coil reads every second and an occasional setpoint write.

use crate::proto::modbus::{self, fc};
use crate::rng::Rng;
use crate::sim::{Actor, ClientLink, Cx, Ready};
use crate::time::{MS, SEC};

/// Modbus/TCP port.
pub const PORT: u16 = 502;

/// The HMI's Modbus poller for one PLC.
pub struct ModbusHmi {
    link: ClientLink,
    rng: Rng,
    tid: u16,
    cycle: u64,
    unit: u8,
    regs: [u16; 20],
    identified: bool,
    period: u64,
}

impl ModbusHmi {
    /// A poller from `hmi` to `plc`.
    pub fn new(seed: u64, hmi: usize, plc: usize, unit: u8, label: &str) -> ModbusHmi {
        let mut rng = Rng::new(seed, label);
        let mut regs = [0u16; 20];
        for r in &mut regs {
            *r = rng.range(100, 4000) as u16;
        }
        let mut link = ClientLink::new(hmi, plc, PORT, (2 * MS, 12 * MS));
        // HMIs resend an unanswered Modbus request twice before they reconnect.
        link.repeats = 2;
        ModbusHmi {
            link,
            tid: rng.next_u16(),
            rng,
            cycle: 0,
            unit,
            regs,
            identified: false,
            period: SEC,
        }
    }

    fn tx(&mut self) -> u16 {
        self.tid = self.tid.wrapping_add(1);
        self.tid
    }

    fn step(&mut self, t: u64, cx: &mut Cx<'_>) -> Result<u64, u64> {
        let mut t = t;
        if !self.identified {
            let tid = self.tx();
            let ident = cx.identity(self.link.server, t);
            let req = modbus::read_device_id_request(tid, self.unit);
            let resp = modbus::read_device_id_response(
                tid,
                self.unit,
                &ident.vendor_name,
                &ident.model,
                &ident.firmware,
            );
            t = self.link.exchange(t, cx, &mut self.rng, vec![req], vec![resp])?
                + self.rng.range(5 * MS, 40 * MS);
            self.identified = true;
        }
        for r in &mut self.regs {
            let d = self.rng.range(0, 20) as i32 - 10;
            *r = (i32::from(*r) + d).clamp(0, 9999) as u16;
        }
        let unit = self.unit;
        let tid = self.tx();
        let regs = self.regs;
        t = self.link.exchange(
            t,
            cx,
            &mut self.rng,
            vec![modbus::read_request(tid, unit, fc::READ_HOLDING, 0, 20)],
            vec![modbus::read_registers_response(tid, unit, fc::READ_HOLDING, &regs)],
        )?;
        if self.cycle.is_multiple_of(2) {
            let tid = self.tx();
            let vals: Vec<u16> = (0..10).map(|i| regs[i] / 3 + i as u16).collect();
            t = self.link.exchange(
                t + self.rng.range(2 * MS, 15 * MS),
                cx,
                &mut self.rng,
                vec![modbus::read_request(tid, unit, fc::READ_INPUT, 0, 10)],
                vec![modbus::read_registers_response(tid, unit, fc::READ_INPUT, &vals)],
            )?;
        }
        if self.cycle.is_multiple_of(5) {
            let tid = self.tx();
            let bits: Vec<bool> = (0..16).map(|i| (regs[i % 20] >> (i % 3)) & 1 == 1).collect();
            t = self.link.exchange(
                t + self.rng.range(2 * MS, 15 * MS),
                cx,
                &mut self.rng,
                vec![modbus::read_request(tid, unit, fc::READ_COILS, 0, 16)],
                vec![modbus::read_bits_response(tid, unit, fc::READ_COILS, &bits)],
            )?;
        }
        if self.cycle % 60 == 30 {
            let tid = self.tx();
            let v = self.rng.range(500, 900) as u16;
            t = self.link.exchange(
                t + self.rng.range(2 * MS, 15 * MS),
                cx,
                &mut self.rng,
                vec![modbus::write_register(tid, unit, 10, v)],
                vec![modbus::write_register(tid, unit, 10, v)],
            )?;
            self.regs[10] = v;
        }
        Ok(t)
    }
}

impl Actor for ModbusHmi {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let t = match self.link.ensure(now, cx, &mut self.rng) {
            Ready::At { t, fresh } => {
                if fresh {
                    self.identified = false;
                }
                t
            }
            Ready::Retry(r) => return Some(r),
        };
        match self.step(t, cx) {
            Ok(_) => {
                self.cycle += 1;
                Some(now + self.rng.jitter(self.period, 10))
            }
            Err(retry) => Some(retry),
        }
    }
}
