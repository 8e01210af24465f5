//! Protocol message builders, one module per protocol, each written from its public specification.

pub mod bacnet;
pub mod dnp3;
pub mod enip;
pub mod iec104;
pub mod it;
pub mod modbus;
pub mod s7;
