//! BACnet/IP on a control zone: the HMI's Who-Is broadcast answered by I-Am broadcasts, device
//! identification reads (name, model, firmware, software version, vendor), and
//! present-value polling of inputs and values every two seconds.

use crate::emit::Layer;
use crate::proto::bacnet::{self, Msg, Value, obj, prop};
use crate::rng::Rng;
use crate::sim::{Actor, Avail, Cx};
use crate::time::{MS, SEC};

/// How often the HMI re-discovers devices.
pub const WHO_IS_PERIOD: u64 = 10 * 60 * SEC;
/// How often the HMI re-reads device identification.
pub const IDENT_PERIOD: u64 = 30 * 60 * SEC;

fn send(cx: &mut Cx<'_>, t: u64, from: usize, to: std::net::Ipv4Addr, m: Msg, ip_id: u16) {
    cx.udp(
        t,
        from,
        to,
        bacnet::PORT,
        bacnet::PORT,
        &m.bytes,
        &[Layer::Bvlc, Layer::Bacnet, Layer::Bacapp],
        vec![m.rec],
        ip_id,
    );
}

/// Who-Is from the zone's HMI and the devices' I-Am answers.
pub struct BacnetWhoIs {
    rng: Rng,
    hmi: usize,
    devices: Vec<usize>,
    ip_id: u16,
}

impl BacnetWhoIs {
    /// Discovery of `devices` by `hmi`.
    pub fn new(seed: u64, hmi: usize, devices: Vec<usize>, label: &str) -> BacnetWhoIs {
        let mut rng = Rng::new(seed, label);
        BacnetWhoIs { ip_id: rng.next_u16(), rng, hmi, devices }
    }
}

impl Actor for BacnetWhoIs {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let bcast = cx.plant.zones[cx.plant.devices[self.hmi].zone].broadcast();
        self.ip_id = self.ip_id.wrapping_add(1);
        send(cx, now, self.hmi, bcast, bacnet::who_is(), self.ip_id);
        for &d in &self.devices {
            if cx.avail(d, now, now) != Avail::Up {
                continue;
            }
            let at = now + self.rng.range(5 * MS, 60 * MS);
            let dev = &cx.plant.devices[d];
            let vendor = dev.identity.as_ref().map_or(0, |i| i.vendor_id);
            let inst = dev.proto_addr;
            let id = self.rng.next_u16();
            send(cx, at, d, bcast, bacnet::i_am(inst, vendor), id);
        }
        Some(now + WHO_IS_PERIOD)
    }
}

/// The HMI's reads of one BACnet controller.
pub struct BacnetPoller {
    rng: Rng,
    hmi: usize,
    dev: usize,
    invoke: u8,
    cycle: u64,
    next_ident: u64,
    ip_id: (u16, u16),
    values: [f32; 3],
    binary: bool,
}

impl BacnetPoller {
    /// Reads of `dev` by `hmi`.
    pub fn new(seed: u64, hmi: usize, dev: usize, label: &str) -> BacnetPoller {
        let mut rng = Rng::new(seed, label);
        BacnetPoller {
            invoke: rng.next_u32() as u8,
            ip_id: (rng.next_u16(), rng.next_u16()),
            values: [21.5 + rng.unit() as f32, 45.0 + rng.unit() as f32 * 5.0, 18.0],
            binary: false,
            rng,
            hmi,
            dev,
            cycle: 0,
            next_ident: 0,
        }
    }

    fn read(
        &mut self,
        t: u64,
        cx: &mut Cx<'_>,
        kind: u16,
        inst: u32,
        property: u8,
        value: Value,
    ) -> u64 {
        self.invoke = self.invoke.wrapping_add(1);
        let dip = cx.plant.devices[self.dev].ip;
        let hip = cx.plant.devices[self.hmi].ip;
        cx.arp(self.hmi, t, dip);
        self.ip_id.0 = self.ip_id.0.wrapping_add(1);
        send(
            cx,
            t,
            self.hmi,
            dip,
            bacnet::read_property(self.invoke, kind, inst, property),
            self.ip_id.0,
        );
        if cx.avail(self.dev, t, t) != Avail::Up {
            return t + SEC;
        }
        let at = t + self.rng.range(3 * MS, 25 * MS);
        self.ip_id.1 = self.ip_id.1.wrapping_add(1);
        let ack = bacnet::read_property_ack(self.invoke, kind, inst, property, &value);
        send(cx, at, self.dev, hip, ack, self.ip_id.1);
        at
    }
}

impl Actor for BacnetPoller {
    fn fire(&mut self, now: u64, cx: &mut Cx<'_>) -> Option<u64> {
        let mut t = now;
        let dev = cx.plant.devices[self.dev].clone();
        let inst = dev.proto_addr;
        if now >= self.next_ident {
            self.next_ident = now + IDENT_PERIOD;
            let ident = cx.identity(self.dev, now);
            let reads = [
                (prop::OBJECT_NAME, dev.name),
                (prop::MODEL_NAME, ident.model.clone()),
                (prop::FIRMWARE_REVISION, ident.firmware.clone()),
                (
                    prop::APPLICATION_SOFTWARE_VERSION,
                    format!("APP {}.{}", ident.revision.0, ident.revision.1),
                ),
                (prop::VENDOR_NAME, ident.vendor_name),
            ];
            for (p, v) in reads {
                t = self.read(t, cx, obj::DEVICE, inst, p, Value::Text(v))
                    + self.rng.range(10 * MS, 40 * MS);
            }
        }
        for v in &mut self.values {
            *v += (self.rng.unit() as f32 - 0.5) * 0.2;
        }
        let (kind, i, value) = match self.cycle % 4 {
            0 => (obj::ANALOG_INPUT, 1, Value::Real(self.values[0])),
            1 => (obj::ANALOG_INPUT, 2, Value::Real(self.values[1])),
            2 => (obj::ANALOG_VALUE, 1, Value::Real(self.values[2])),
            _ => {
                if self.rng.chance(0.1) {
                    self.binary = !self.binary;
                }
                (obj::BINARY_INPUT, 1, Value::Enum(u8::from(self.binary)))
            }
        };
        self.read(t, cx, kind, i, prop::PRESENT_VALUE, value);
        self.cycle += 1;
        Some(now + self.rng.jitter(2 * SEC, 10))
    }
}
