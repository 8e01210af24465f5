//! The Sensors, sites and zones page: where each sensor sits, and what each site and zone holds.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;

use otwatch_model::AlertField;
use otwatch_store::{AlertQuery, DeviceGroup, DeviceQuery, Filter};

use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::{Chrome, Ctx, WebResult, When, count, href};

/// A sensor row.
#[derive(Clone, Debug)]
pub struct SensorRow {
    id: String,
    name: String,
    site: String,
    zone: String,
    last: When,
}

/// A site or zone row.
#[derive(Clone, Debug)]
pub struct PlaceRow {
    name: String,
    devices: String,
    devices_href: String,
    open: String,
    alerts_href: String,
    sensors: String,
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    chrome: Chrome,
    sensors: Vec<SensorRow>,
    sites: Vec<PlaceRow>,
    zones: Vec<PlaceRow>,
}

/// GET /sensors
pub async fn page(State(st): State<AppState>, ctx: Ctx) -> WebResult {
    let loaded: ApiResult<_> = st
        .blocking(|s| {
            let sensors = s.list_sensors()?;
            let all = DeviceQuery::default();
            let dev_sites = s.group_devices(&all, DeviceGroup::Site)?;
            let dev_zones = s.group_devices(&all, DeviceGroup::Zone)?;
            let open = AlertQuery {
                filters: vec![Filter::any_of(AlertField::Status, &["New", "Active"])?],
                ..AlertQuery::default()
            };
            let al_sites = s.group_alerts(&open, AlertField::Site)?;
            let al_zones = s.group_alerts(&open, AlertField::Zone)?;
            Ok((sensors, dev_sites, dev_zones, al_sites, al_zones))
        })
        .await;
    let (sensors, dev_sites, dev_zones, al_sites, al_zones) = loaded?;
    let places = |key: &str,
                  devs: &[otwatch_store::GroupCount],
                  alerts: &[otwatch_store::GroupCount],
                  sensor_of: &dyn Fn(&otwatch_model::Sensor) -> Option<String>|
     -> Vec<PlaceRow> {
        let mut m: BTreeMap<String, (u64, u64, Vec<String>)> = BTreeMap::new();
        for g in devs {
            m.entry(g.value.clone()).or_default().0 += g.count;
        }
        for g in alerts {
            m.entry(g.value.clone()).or_default().1 += g.count;
        }
        for sn in &sensors {
            m.entry(sensor_of(sn).unwrap_or_default()).or_default().2.push(sn.name.clone());
        }
        m.into_iter()
            .map(|(name, (d, a, ss))| PlaceRow {
                devices_href: if name.is_empty() {
                    String::new()
                } else {
                    href("/devices", &[(key, name.as_str())])
                },
                alerts_href: if name.is_empty() {
                    String::new()
                } else {
                    href("/alerts", &[(key, name.as_str()), ("status", "New,Active")])
                },
                name: if name.is_empty() { "(not set)".into() } else { name },
                devices: count(d),
                open: count(a),
                sensors: ss.join(", "),
            })
            .collect()
    };
    let sites = places("site", &dev_sites, &al_sites, &|s| s.site.clone());
    let zones = places("zone", &dev_zones, &al_zones, &|s| s.zone.clone());
    let page = SitesPage {
        chrome: ctx.chrome("sensors", "Sensors, sites and zones"),
        sensors: sensors
            .iter()
            .map(|s| SensorRow {
                id: s.id.clone(),
                name: s.name.clone(),
                site: s.site.clone().unwrap_or_default(),
                zone: s.zone.clone().unwrap_or_default(),
                last: When::opt(s.last_seen),
            })
            .collect(),
        sites,
        zones,
    };
    Ok(ctx.render(&page))
}
