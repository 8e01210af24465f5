//! The plant's actors (who polls whom, how often) and the list the simulation starts with.
//!
//! Actor order and labels are fixed by the plant layout, so each actor's
//! random stream and its tie-break rank do not depend on anything else.

pub mod bacnet;
pub mod dnp3;
pub mod eng;
pub mod enip;
pub mod iec104;
pub mod it;
pub mod modbus;
pub mod s7;

use std::collections::BTreeMap;

use crate::plant::{Plant, Role};
use crate::rng::Rng;
use crate::sim::Actor;
use crate::time::{MS, SEC};

/// An actor with its first run time (offset from the capture start).
pub struct Spawn {
    /// First run, microseconds after the start.
    pub first: u64,
    /// The actor.
    pub actor: Box<dyn Actor>,
}

/// The plant's actors and where scenarios find them.
#[derive(Default)]
pub struct PlantActors {
    /// Actors in rank order.
    pub list: Vec<Spawn>,
    /// DNP3 outstation device → index of the master session actor.
    pub dnp3_master_of: BTreeMap<usize, u32>,
}

impl PlantActors {
    fn push(&mut self, first: u64, actor: Box<dyn Actor>) -> u32 {
        self.list.push(Spawn { first, actor });
        (self.list.len() - 1) as u32
    }
}

/// Builds every actor of the clean plant.
pub fn plant_actors(plant: &Plant, seed: u64) -> PlantActors {
    let mut out = PlantActors::default();
    let mut starts = Rng::new(seed, "start-times");
    for site in &plant.sites {
        let s = &site.name;
        for (zi, &zone) in site.control_zones.iter().enumerate() {
            let hmi = site.hmis[zi];
            let mut bacnet_devices = Vec::new();
            for d in plant.devices.iter().filter(|d| d.zone == zone) {
                let label = format!("{s}/{}/{}", plant.devices[hmi].name, d.name);
                match d.role {
                    Role::ModbusPlc => {
                        let a = modbus::ModbusHmi::new(seed, hmi, d.id, d.proto_addr as u8, &label);
                        out.push(starts.range(500 * MS, 4 * SEC), Box::new(a));
                    }
                    Role::S7Plc => {
                        let a = s7::S7Hmi::new(seed, hmi, d.id, &label);
                        out.push(starts.range(500 * MS, 4 * SEC), Box::new(a));
                    }
                    Role::EnipPlc => {
                        let a = enip::EnipHmi::new(seed, hmi, d.id, &label);
                        out.push(starts.range(500 * MS, 4 * SEC), Box::new(a));
                    }
                    Role::EnipAdapter => {
                        if let Some(plc) = d.scanner {
                            let label = format!("{s}/{}/{}", plant.devices[plc].name, d.name);
                            let a = enip::EnipIo::new(seed, plc, d.id, &label);
                            out.push(starts.range(200 * MS, 2 * SEC), Box::new(a));
                        }
                    }
                    Role::BacnetController => {
                        bacnet_devices.push(d.id);
                        let a = bacnet::BacnetPoller::new(seed, hmi, d.id, &label);
                        out.push(starts.range(4 * SEC, 8 * SEC), Box::new(a));
                    }
                    Role::Dnp3Rtu => {
                        let label = format!("{s}/{}/{}", plant.devices[site.scada].name, d.name);
                        let id = out.list.len() as u32;
                        let a = dnp3::Dnp3Master::new(
                            seed,
                            site.scada,
                            d.id,
                            d.proto_addr as u16,
                            &label,
                            id,
                        );
                        let idx = out.push(starts.range(500 * MS, 5 * SEC), Box::new(a));
                        out.dnp3_master_of.insert(d.id, idx);
                    }
                    Role::Iec104Rtu => {
                        let label = format!("{s}/{}/{}", plant.devices[site.scada].name, d.name);
                        let a = iec104::Iec104Master::new(
                            seed,
                            site.scada,
                            d.id,
                            d.proto_addr as u16,
                            &label,
                        );
                        out.push(starts.range(500 * MS, 5 * SEC), Box::new(a));
                    }
                    _ => {}
                }
            }
            if !bacnet_devices.is_empty() {
                let label = format!("{s}/{}/who-is", plant.devices[hmi].name);
                let a = bacnet::BacnetWhoIs::new(seed, hmi, bacnet_devices, &label);
                out.push(starts.range(SEC, 3 * SEC), Box::new(a));
            }
        }
        for d in plant.devices.iter().filter(|d| {
            d.site == plant.devices[site.eng].site
                && matches!(d.role, Role::S7Plc | Role::EnipPlc | Role::EnipAdapter)
        }) {
            let label = format!("{s}/{}/{}", plant.devices[site.eng].name, d.name);
            let a = eng::EngOnline::new(seed, site.eng, d.id, &label);
            out.push(eng::first_visit(&mut starts), Box::new(a));
        }
        for &ws in &site.workstations {
            let label = format!("{s}/{}/dhcp", plant.devices[ws].name);
            out.push(
                starts.range(100 * MS, 5 * SEC),
                Box::new(it::DhcpClient::new(seed, ws, site.infra, &label)),
            );
            let label = format!("{s}/{}/browser", plant.devices[ws].name);
            let a = it::Browser::new(seed, ws, site.infra, site.web, &label);
            out.push(starts.range(10 * SEC, 40 * SEC), Box::new(a));
        }
        let label = format!("{s}/historian");
        let a = it::HistorianPull::new(seed, site.historian, site.infra, site.scada, &label);
        out.push(starts.range(5 * SEC, 30 * SEC), Box::new(a));
    }
    out
}
