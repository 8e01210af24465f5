//! BACnet messages and wire enumerations, as decoded; every code keeps its raw value.
//!
//! Layering follows the standard: a BVLC message ([`Message`], Annex J) may carry an
//! NPDU ([`Npdu`], clause 6), which carries either a network layer message
//! ([`NetworkMessage`]) or an APDU ([`Apdu`], clause 20), whose service parameters
//! are decoded for the services that matter to a security monitor (writes, device
//! control, file transfer, identification) and kept raw otherwise. MS/TP frames
//! ([`MstpFrame`], clause 9) wrap NPDUs on serial links.
//!
//! Enumerations are newtypes over the wire integer with named constants, so values
//! this code does not know survive unchanged; `name()` gives the standard name.

use std::fmt;

use super::anomaly::Anomalies;
use super::tag::{CharacterString, Value};

// ---------------------------------------------------------------- BVLC (Annex J)

wire_enum! {
    /// BVLC function (Annex J.2; 0x0C Secure-BVLL from Annex J.2.12 of 135-2012).
    BvlcFunction(u8);
    fallback |_v| "reserved";
    RESULT = 0x00 => "BVLC-Result",
    WRITE_BROADCAST_DISTRIBUTION_TABLE = 0x01 => "Write-Broadcast-Distribution-Table",
    READ_BROADCAST_DISTRIBUTION_TABLE = 0x02 => "Read-Broadcast-Distribution-Table",
    READ_BROADCAST_DISTRIBUTION_TABLE_ACK = 0x03 => "Read-Broadcast-Distribution-Table-Ack",
    FORWARDED_NPDU = 0x04 => "Forwarded-NPDU",
    REGISTER_FOREIGN_DEVICE = 0x05 => "Register-Foreign-Device",
    READ_FOREIGN_DEVICE_TABLE = 0x06 => "Read-Foreign-Device-Table",
    READ_FOREIGN_DEVICE_TABLE_ACK = 0x07 => "Read-Foreign-Device-Table-Ack",
    DELETE_FOREIGN_DEVICE_TABLE_ENTRY = 0x08 => "Delete-Foreign-Device-Table-Entry",
    DISTRIBUTE_BROADCAST_TO_NETWORK = 0x09 => "Distribute-Broadcast-To-Network",
    ORIGINAL_UNICAST_NPDU = 0x0a => "Original-Unicast-NPDU",
    ORIGINAL_BROADCAST_NPDU = 0x0b => "Original-Broadcast-NPDU",
    SECURE_BVLL = 0x0c => "Secure-BVLL",
}

impl BvlcFunction {
    /// Whether a message with this function changes a BBMD's configuration
    /// (broadcast distribution table or foreign device table).
    pub fn is_bbmd_configuration(self) -> bool {
        matches!(
            self,
            BvlcFunction::WRITE_BROADCAST_DISTRIBUTION_TABLE
                | BvlcFunction::REGISTER_FOREIGN_DEVICE
                | BvlcFunction::DELETE_FOREIGN_DEVICE_TABLE_ENTRY
        )
    }
}

wire_enum! {
    /// BVLC-Result code (Annex J.2.1.1).
    BvlcResultCode(u16);
    fallback |_v| "reserved";
    SUCCESSFUL_COMPLETION = 0x0000 => "Successful completion",
    WRITE_BDT_NAK = 0x0010 => "Write-Broadcast-Distribution-Table NAK",
    READ_BDT_NAK = 0x0020 => "Read-Broadcast-Distribution-Table NAK",
    REGISTER_FOREIGN_DEVICE_NAK = 0x0030 => "Register-Foreign-Device NAK",
    READ_FDT_NAK = 0x0040 => "Read-Foreign-Device-Table NAK",
    DELETE_FDT_ENTRY_NAK = 0x0050 => "Delete-Foreign-Device-Table-Entry NAK",
    DISTRIBUTE_BROADCAST_TO_NETWORK_NAK = 0x0060 => "Distribute-Broadcast-To-Network NAK",
}

/// A B/IP address: IPv4 address and UDP port (Annex J.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BipAddress {
    /// IPv4 address octets.
    pub ip: [u8; 4],
    /// UDP port.
    pub port: u16,
}

impl BipAddress {
    /// As a standard socket address.
    pub fn to_socket_addr(self) -> std::net::SocketAddrV4 {
        std::net::SocketAddrV4::new(std::net::Ipv4Addr::from(self.ip), self.port)
    }
}

impl fmt::Display for BipAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_socket_addr(), f)
    }
}

/// One broadcast distribution table entry (Annex J.4.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BdtEntry {
    /// The BBMD's B/IP address.
    pub address: BipAddress,
    /// Its broadcast distribution mask.
    pub mask: [u8; 4],
}

/// One foreign device table entry as read back (Annex J.2.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdtEntry {
    /// The foreign device's B/IP address.
    pub address: BipAddress,
    /// Time-to-live it registered with, in seconds.
    pub ttl: u16,
    /// Seconds remaining before the entry is purged.
    pub remaining: u16,
}

/// A BVLC message: one BACnet/IP UDP datagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Message<'a> {
    /// BVLC function.
    pub function: BvlcFunction,
    /// The BVLC length field (whole message, header included).
    pub length: u16,
    /// Function-specific content.
    pub body: BvlcBody<'a>,
    /// Anomalies of this message and of everything it carries.
    pub anomalies: Anomalies,
}

impl<'a> Message<'a> {
    /// The NPDU this message carries, if any.
    pub fn npdu(&self) -> Option<&Npdu<'a>> {
        match &self.body {
            BvlcBody::ForwardedNpdu { npdu, .. }
            | BvlcBody::DistributeBroadcastToNetwork(npdu)
            | BvlcBody::OriginalUnicastNpdu(npdu)
            | BvlcBody::OriginalBroadcastNpdu(npdu) => npdu.as_ref(),
            _ => None,
        }
    }

    /// The APDU this message carries, if any.
    pub fn apdu(&self) -> Option<&Apdu<'a>> {
        self.npdu().and_then(Npdu::apdu)
    }
}

/// BVLC function-specific content (Annex J.2).
#[derive(Clone, Debug, PartialEq)]
pub enum BvlcBody<'a> {
    /// BVLC-Result with its result code.
    Result(BvlcResultCode),
    /// Write-Broadcast-Distribution-Table: a BBMD configuration change.
    WriteBroadcastDistributionTable(BdtEntries<'a>),
    /// Read-Broadcast-Distribution-Table.
    ReadBroadcastDistributionTable,
    /// Read-Broadcast-Distribution-Table-Ack.
    ReadBroadcastDistributionTableAck(BdtEntries<'a>),
    /// Forwarded-NPDU: a broadcast relayed by a BBMD, with the originator's address.
    ForwardedNpdu {
        /// The B/IP address of the device that sent the original broadcast.
        origin: BipAddress,
        /// The NPDU, if it could be decoded.
        npdu: Option<Npdu<'a>>,
    },
    /// Register-Foreign-Device with its time-to-live in seconds.
    RegisterForeignDevice {
        /// Requested time-to-live, seconds.
        ttl: u16,
    },
    /// Read-Foreign-Device-Table.
    ReadForeignDeviceTable,
    /// Read-Foreign-Device-Table-Ack.
    ReadForeignDeviceTableAck(FdtEntries<'a>),
    /// Delete-Foreign-Device-Table-Entry for this address.
    DeleteForeignDeviceTableEntry(BipAddress),
    /// Distribute-Broadcast-To-Network (from a foreign device).
    DistributeBroadcastToNetwork(Option<Npdu<'a>>),
    /// Original-Unicast-NPDU.
    OriginalUnicastNpdu(Option<Npdu<'a>>),
    /// Original-Broadcast-NPDU.
    OriginalBroadcastNpdu(Option<Npdu<'a>>),
    /// Secure-BVLL (BACnet security wrapper), kept raw.
    SecureBvll(&'a [u8]),
    /// A reserved function; the body is kept raw.
    Unknown(&'a [u8]),
}

/// A broadcast distribution table as carried on the wire (10 octets per entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BdtEntries<'a>(pub(crate) &'a [u8]);

impl<'a> BdtEntries<'a> {
    /// The raw table octets.
    pub fn raw(&self) -> &'a [u8] {
        self.0
    }

    /// The entries; a partial entry at the end is ignored (and flagged by the parser).
    pub fn iter(&self) -> impl Iterator<Item = BdtEntry> + 'a {
        let mut r = crate::reader::Reader::new(self.0);
        std::iter::from_fn(move || {
            let ip = r.take_array::<4>().ok()?;
            let port = r.u16_be().ok()?;
            let mask = r.take_array::<4>().ok()?;
            Some(BdtEntry { address: BipAddress { ip, port }, mask })
        })
    }
}

/// A foreign device table as carried on the wire (10 octets per entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdtEntries<'a>(pub(crate) &'a [u8]);

impl<'a> FdtEntries<'a> {
    /// The raw table octets.
    pub fn raw(&self) -> &'a [u8] {
        self.0
    }

    /// The entries; a partial entry at the end is ignored (and flagged by the parser).
    pub fn iter(&self) -> impl Iterator<Item = FdtEntry> + 'a {
        let mut r = crate::reader::Reader::new(self.0);
        std::iter::from_fn(move || {
            let ip = r.take_array::<4>().ok()?;
            let port = r.u16_be().ok()?;
            let ttl = r.u16_be().ok()?;
            let remaining = r.u16_be().ok()?;
            Some(FdtEntry { address: BipAddress { ip, port }, ttl, remaining })
        })
    }
}

// ---------------------------------------------------------------- BACnet/IPv6 (Annex U)

wire_enum! {
    /// BVLC function of BACnet/IPv6 (BVLC type 0x82, Annex U.2).
    Bvlc6Function(u8);
    fallback |_v| "reserved";
    RESULT = 0x00 => "BVLC-Result",
    ORIGINAL_UNICAST_NPDU = 0x01 => "Original-Unicast-NPDU",
    ORIGINAL_BROADCAST_NPDU = 0x02 => "Original-Broadcast-NPDU",
    ADDRESS_RESOLUTION = 0x03 => "Address-Resolution",
    FORWARDED_ADDRESS_RESOLUTION = 0x04 => "Forwarded-Address-Resolution",
    ADDRESS_RESOLUTION_ACK = 0x05 => "Address-Resolution-ACK",
    VIRTUAL_ADDRESS_RESOLUTION = 0x06 => "Virtual-Address-Resolution",
    VIRTUAL_ADDRESS_RESOLUTION_ACK = 0x07 => "Virtual-Address-Resolution-ACK",
    FORWARDED_NPDU = 0x08 => "Forwarded-NPDU",
    REGISTER_FOREIGN_DEVICE = 0x09 => "Register-Foreign-Device",
    DELETE_FOREIGN_DEVICE_TABLE_ENTRY = 0x0a => "Delete-Foreign-Device-Table-Entry",
    SECURE_BVLL = 0x0b => "Secure-BVLL",
    DISTRIBUTE_BROADCAST_TO_NETWORK = 0x0c => "Distribute-Broadcast-To-Network",
}

/// A B/IPv6 address: IPv6 address and UDP port (Annex U.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bip6Address {
    /// IPv6 address octets.
    pub ip: [u8; 16],
    /// UDP port.
    pub port: u16,
}

impl fmt::Display for Bip6Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]:{}", std::net::Ipv6Addr::from(self.ip), self.port)
    }
}

/// A BACnet/IPv6 virtual MAC address (3 octets, Annex U.1).
pub type Vmac = [u8; 3];

/// A BACnet/IPv6 BVLC message (BVLC type 0x82).
#[derive(Clone, Debug, PartialEq)]
pub struct Bvlc6Message<'a> {
    /// BVLC function.
    pub function: Bvlc6Function,
    /// The BVLC length field (whole message).
    pub length: u16,
    /// The sender's virtual MAC address, which every defined function carries.
    pub source: Option<Vmac>,
    /// Function-specific content.
    pub body: Bvlc6Body<'a>,
    /// Anomalies of this message and of everything it carries.
    pub anomalies: Anomalies,
}

impl<'a> Bvlc6Message<'a> {
    /// The NPDU this message carries, if any.
    pub fn npdu(&self) -> Option<&Npdu<'a>> {
        match &self.body {
            Bvlc6Body::OriginalUnicastNpdu { npdu, .. }
            | Bvlc6Body::ForwardedNpdu { npdu, .. }
            | Bvlc6Body::OriginalBroadcastNpdu(npdu)
            | Bvlc6Body::DistributeBroadcastToNetwork(npdu) => npdu.as_ref(),
            _ => None,
        }
    }
}

/// BACnet/IPv6 BVLC function-specific content (Annex U.2), after the source
/// virtual address.
#[derive(Clone, Debug, PartialEq)]
pub enum Bvlc6Body<'a> {
    /// BVLC-Result with its result code.
    Result(u16),
    /// Original-Unicast-NPDU.
    OriginalUnicastNpdu {
        /// Destination virtual address.
        destination: Vmac,
        /// The NPDU, if it could be decoded.
        npdu: Option<Npdu<'a>>,
    },
    /// Original-Broadcast-NPDU.
    OriginalBroadcastNpdu(Option<Npdu<'a>>),
    /// Address-Resolution for a virtual address.
    AddressResolution {
        /// The virtual address looked up.
        target: Vmac,
    },
    /// Forwarded-Address-Resolution.
    ForwardedAddressResolution {
        /// The virtual address looked up.
        target: Vmac,
        /// Who asked.
        origin: Bip6Address,
    },
    /// Address-Resolution-ACK or Virtual-Address-Resolution-ACK.
    ResolutionAck {
        /// Destination virtual address.
        destination: Vmac,
    },
    /// Virtual-Address-Resolution.
    VirtualAddressResolution,
    /// Forwarded-NPDU with the originator's B/IPv6 address.
    ForwardedNpdu {
        /// The original sender.
        origin: Bip6Address,
        /// The NPDU, if it could be decoded.
        npdu: Option<Npdu<'a>>,
    },
    /// Register-Foreign-Device with its time-to-live in seconds.
    RegisterForeignDevice {
        /// Requested time-to-live, seconds.
        ttl: u16,
    },
    /// Delete-Foreign-Device-Table-Entry.
    DeleteForeignDeviceTableEntry(Bip6Address),
    /// Distribute-Broadcast-To-Network.
    DistributeBroadcastToNetwork(Option<Npdu<'a>>),
    /// Secure-BVLL, kept raw.
    SecureBvll(&'a [u8]),
    /// A reserved function or a body too short for its function, kept raw.
    Unknown(&'a [u8]),
}

// ---------------------------------------------------------------- NPDU (clause 6)

wire_enum! {
    /// Network priority, the two low bits of the NPDU control octet (6.2.2).
    NetworkPriority(u8);
    fallback |_v| "invalid";
    NORMAL = 0 => "Normal",
    URGENT = 1 => "Urgent",
    CRITICAL_EQUIPMENT = 2 => "Critical Equipment",
    LIFE_SAFETY = 3 => "Life Safety",
}

wire_enum! {
    /// Network layer message type (6.2.4); 0x80–0xFF are vendor proprietary.
    NetworkMessageType(u8);
    fallback |v| if v >= 0x80 { "Proprietary" } else { "Reserved" };
    WHO_IS_ROUTER_TO_NETWORK = 0x00 => "Who-Is-Router-To-Network",
    I_AM_ROUTER_TO_NETWORK = 0x01 => "I-Am-Router-To-Network",
    I_COULD_BE_ROUTER_TO_NETWORK = 0x02 => "I-Could-Be-Router-To-Network",
    REJECT_MESSAGE_TO_NETWORK = 0x03 => "Reject-Message-To-Network",
    ROUTER_BUSY_TO_NETWORK = 0x04 => "Router-Busy-To-Network",
    ROUTER_AVAILABLE_TO_NETWORK = 0x05 => "Router-Available-To-Network",
    INITIALIZE_ROUTING_TABLE = 0x06 => "Initialize-Routing-Table",
    INITIALIZE_ROUTING_TABLE_ACK = 0x07 => "Initialize-Routing-Table-Ack",
    ESTABLISH_CONNECTION_TO_NETWORK = 0x08 => "Establish-Connection-To-Network",
    DISCONNECT_CONNECTION_TO_NETWORK = 0x09 => "Disconnect-Connection-To-Network",
    CHALLENGE_REQUEST = 0x0a => "Challenge-Request",
    SECURITY_PAYLOAD = 0x0b => "Security-Payload",
    SECURITY_RESPONSE = 0x0c => "Security-Response",
    REQUEST_KEY_UPDATE = 0x0d => "Request-Key-Update",
    UPDATE_KEY_SET = 0x0e => "Update-Key-Set",
    UPDATE_DISTRIBUTION_KEY = 0x0f => "Update-Distribution-Key",
    REQUEST_MASTER_KEY = 0x10 => "Request-Master-Key",
    SET_MASTER_KEY = 0x11 => "Set-Master-Key",
    WHAT_IS_NETWORK_NUMBER = 0x12 => "What-Is-Network-Number",
    NETWORK_NUMBER_IS = 0x13 => "Network-Number-Is",
}

/// A BACnet network address: network number and MAC address on that network (6.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetworkAddress<'a> {
    /// Network number (DNET/SNET); 0xFFFF in a destination means all networks.
    pub network: u16,
    /// MAC address (DADR/SADR); empty in a destination means broadcast on `network`.
    pub mac: &'a [u8],
}

impl NetworkAddress<'_> {
    /// Whether this destination is a broadcast (empty MAC or global network 0xFFFF).
    pub fn is_broadcast(&self) -> bool {
        self.mac.is_empty() || self.network == 0xffff
    }
}

/// An NPDU: network layer header plus its payload (clause 6.2).
#[derive(Clone, Debug, PartialEq)]
pub struct Npdu<'a> {
    /// Protocol version (1).
    pub version: u8,
    /// The raw control octet.
    pub control: u8,
    /// Destination network address (DNET/DLEN/DADR), when present.
    pub destination: Option<NetworkAddress<'a>>,
    /// Source network address (SNET/SLEN/SADR), when present: the message was
    /// routed from another BACnet network.
    pub source: Option<NetworkAddress<'a>>,
    /// Hop count, present with a destination.
    pub hop_count: Option<u8>,
    /// The data-expecting-reply bit.
    pub expecting_reply: bool,
    /// Network priority.
    pub priority: NetworkPriority,
    /// A network layer message or an APDU.
    pub payload: NpduPayload<'a>,
    /// Anomalies of the NPDU and its payload.
    pub anomalies: Anomalies,
}

impl<'a> Npdu<'a> {
    /// The APDU, if this NPDU carries one.
    pub fn apdu(&self) -> Option<&Apdu<'a>> {
        match &self.payload {
            NpduPayload::Apdu(apdu) => Some(apdu),
            _ => None,
        }
    }

    /// The network layer message, if this NPDU carries one.
    pub fn network_message(&self) -> Option<&NetworkMessage<'a>> {
        match &self.payload {
            NpduPayload::Network(m) => Some(m),
            _ => None,
        }
    }
}

/// What an NPDU carries.
#[derive(Clone, Debug, PartialEq)]
pub enum NpduPayload<'a> {
    /// A network layer message (control bit 7 set).
    Network(NetworkMessage<'a>),
    /// An application layer PDU.
    Apdu(Apdu<'a>),
    /// The control octet announces an APDU but none follows.
    Missing,
    /// The network header is cut short (inside an address, before the hop
    /// count or the message type): the rest is unknown.
    HeaderTruncated,
}

/// A network layer message (clause 6.4).
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkMessage<'a> {
    /// Message type.
    pub message_type: NetworkMessageType,
    /// Vendor id, present for proprietary message types (0x80–0xFF).
    pub vendor_id: Option<u16>,
    /// Type-specific content.
    pub body: NetworkMessageBody<'a>,
}

/// Network layer message content (clause 6.4).
#[derive(Clone, Debug, PartialEq)]
pub enum NetworkMessageBody<'a> {
    /// Who-Is-Router-To-Network, optionally for one network.
    WhoIsRouterToNetwork(Option<u16>),
    /// I-Am-Router-To-Network, Router-Busy-To-Network or Router-Available-To-Network:
    /// a list of network numbers.
    Networks(NetworkList<'a>),
    /// I-Could-Be-Router-To-Network.
    ICouldBeRouterToNetwork {
        /// The network the half-router could reach.
        network: u16,
        /// Its performance index.
        performance_index: u8,
    },
    /// Reject-Message-To-Network.
    RejectMessageToNetwork {
        /// Reject reason (0 other … 5 unknown message type).
        reason: u8,
        /// The network the rejected message was for.
        network: u16,
    },
    /// Initialize-Routing-Table or its Ack: a routing table change or dump. The
    /// number of ports is decoded; the port entries are kept raw.
    RoutingTable {
        /// Number of port mappings announced.
        ports: u8,
        /// The port mapping octets.
        data: &'a [u8],
    },
    /// Network-Number-Is.
    NetworkNumberIs {
        /// The network number.
        network: u16,
        /// Whether it was configured (1) or learned (0).
        configured: bool,
    },
    /// Anything else (What-Is-Network-Number, security messages, proprietary),
    /// kept raw.
    Other(&'a [u8]),
}

/// A list of 2-octet network numbers as carried on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkList<'a>(pub(crate) &'a [u8]);

impl<'a> NetworkList<'a> {
    /// The network numbers.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        let mut r = crate::reader::Reader::new(self.0);
        std::iter::from_fn(move || r.u16_be().ok())
    }

    /// How many network numbers the list holds.
    pub fn len(&self) -> usize {
        self.0.len() / 2
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.len() < 2
    }
}

// ---------------------------------------------------------------- APDU (clause 20)

wire_enum! {
    /// APDU type, the high nibble of the first APDU octet (20.1.1).
    PduType(u8);
    fallback |_v| "Reserved";
    CONFIRMED_REQUEST = 0 => "Confirmed-REQ",
    UNCONFIRMED_REQUEST = 1 => "Unconfirmed-REQ",
    SIMPLE_ACK = 2 => "Simple-ACK",
    COMPLEX_ACK = 3 => "Complex-ACK",
    SEGMENT_ACK = 4 => "Segment-ACK",
    ERROR = 5 => "Error",
    REJECT = 6 => "Reject",
    ABORT = 7 => "Abort",
}

wire_enum! {
    /// BACnetConfirmedServiceChoice (21).
    ConfirmedService(u8);
    fallback |_v| "unknown";
    ACKNOWLEDGE_ALARM = 0 => "acknowledgeAlarm",
    CONFIRMED_COV_NOTIFICATION = 1 => "confirmedCOVNotification",
    CONFIRMED_EVENT_NOTIFICATION = 2 => "confirmedEventNotification",
    GET_ALARM_SUMMARY = 3 => "getAlarmSummary",
    GET_ENROLLMENT_SUMMARY = 4 => "getEnrollmentSummary",
    SUBSCRIBE_COV = 5 => "subscribeCOV",
    ATOMIC_READ_FILE = 6 => "atomicReadFile",
    ATOMIC_WRITE_FILE = 7 => "atomicWriteFile",
    ADD_LIST_ELEMENT = 8 => "addListElement",
    REMOVE_LIST_ELEMENT = 9 => "removeListElement",
    CREATE_OBJECT = 10 => "createObject",
    DELETE_OBJECT = 11 => "deleteObject",
    READ_PROPERTY = 12 => "readProperty",
    READ_PROPERTY_CONDITIONAL = 13 => "readPropertyConditional",
    READ_PROPERTY_MULTIPLE = 14 => "readPropertyMultiple",
    WRITE_PROPERTY = 15 => "writeProperty",
    WRITE_PROPERTY_MULTIPLE = 16 => "writePropertyMultiple",
    DEVICE_COMMUNICATION_CONTROL = 17 => "deviceCommunicationControl",
    CONFIRMED_PRIVATE_TRANSFER = 18 => "confirmedPrivateTransfer",
    CONFIRMED_TEXT_MESSAGE = 19 => "confirmedTextMessage",
    REINITIALIZE_DEVICE = 20 => "reinitializeDevice",
    VT_OPEN = 21 => "vtOpen",
    VT_CLOSE = 22 => "vtClose",
    VT_DATA = 23 => "vtData",
    AUTHENTICATE = 24 => "authenticate",
    REQUEST_KEY = 25 => "requestKey",
    READ_RANGE = 26 => "readRange",
    LIFE_SAFETY_OPERATION = 27 => "lifeSafetyOperation",
    SUBSCRIBE_COV_PROPERTY = 28 => "subscribeCOVProperty",
    GET_EVENT_INFORMATION = 29 => "getEventInformation",
    SUBSCRIBE_COV_PROPERTY_MULTIPLE = 30 => "subscribeCOVPropertyMultiple",
    CONFIRMED_COV_NOTIFICATION_MULTIPLE = 31 => "confirmedCOVNotificationMultiple",
    CONFIRMED_AUDIT_NOTIFICATION = 32 => "confirmedAuditNotification",
    AUDIT_LOG_QUERY = 33 => "auditLogQuery",
}

impl ConfirmedService {
    /// Whether the service changes state in the device: writes values, lists,
    /// objects or files, or controls the device itself.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            ConfirmedService::ATOMIC_WRITE_FILE
                | ConfirmedService::ADD_LIST_ELEMENT
                | ConfirmedService::REMOVE_LIST_ELEMENT
                | ConfirmedService::CREATE_OBJECT
                | ConfirmedService::DELETE_OBJECT
                | ConfirmedService::WRITE_PROPERTY
                | ConfirmedService::WRITE_PROPERTY_MULTIPLE
        )
    }

    /// Whether the service controls the device or its communication
    /// (deviceCommunicationControl, reinitializeDevice, lifeSafetyOperation).
    pub fn is_device_control(self) -> bool {
        matches!(
            self,
            ConfirmedService::DEVICE_COMMUNICATION_CONTROL
                | ConfirmedService::REINITIALIZE_DEVICE
                | ConfirmedService::LIFE_SAFETY_OPERATION
        )
    }
}

wire_enum! {
    /// BACnetUnconfirmedServiceChoice (21).
    UnconfirmedService(u8);
    fallback |_v| "unknown";
    I_AM = 0 => "i-Am",
    I_HAVE = 1 => "i-Have",
    UNCONFIRMED_COV_NOTIFICATION = 2 => "unconfirmedCOVNotification",
    UNCONFIRMED_EVENT_NOTIFICATION = 3 => "unconfirmedEventNotification",
    UNCONFIRMED_PRIVATE_TRANSFER = 4 => "unconfirmedPrivateTransfer",
    UNCONFIRMED_TEXT_MESSAGE = 5 => "unconfirmedTextMessage",
    TIME_SYNCHRONIZATION = 6 => "timeSynchronization",
    WHO_HAS = 7 => "who-Has",
    WHO_IS = 8 => "who-Is",
    UTC_TIME_SYNCHRONIZATION = 9 => "utcTimeSynchronization",
    WRITE_GROUP = 10 => "writeGroup",
    UNCONFIRMED_COV_NOTIFICATION_MULTIPLE = 11 => "unconfirmedCOVNotificationMultiple",
    UNCONFIRMED_AUDIT_NOTIFICATION = 12 => "unconfirmedAuditNotification",
    WHO_AM_I = 13 => "who-Am-I",
    YOU_ARE = 14 => "you-Are",
}

wire_enum! {
    /// BACnetRejectReason (18.8, 21); 64–255 are proprietary.
    RejectReason(u8);
    fallback |v| if v >= 64 { "proprietary" } else { "reserved" };
    OTHER = 0 => "other",
    BUFFER_OVERFLOW = 1 => "buffer-overflow",
    INCONSISTENT_PARAMETERS = 2 => "inconsistent-parameters",
    INVALID_PARAMETER_DATA_TYPE = 3 => "invalid-parameter-data-type",
    INVALID_TAG = 4 => "invalid-tag",
    MISSING_REQUIRED_PARAMETER = 5 => "missing-required-parameter",
    PARAMETER_OUT_OF_RANGE = 6 => "parameter-out-of-range",
    TOO_MANY_ARGUMENTS = 7 => "too-many-arguments",
    UNDEFINED_ENUMERATION = 8 => "undefined-enumeration",
    UNRECOGNIZED_SERVICE = 9 => "unrecognized-service",
}

wire_enum! {
    /// BACnetAbortReason (18.9, 21); 64–255 are proprietary.
    AbortReason(u8);
    fallback |v| if v >= 64 { "proprietary" } else { "reserved" };
    OTHER = 0 => "other",
    BUFFER_OVERFLOW = 1 => "buffer-overflow",
    INVALID_APDU_IN_THIS_STATE = 2 => "invalid-apdu-in-this-state",
    PREEMPTED_BY_HIGHER_PRIORITY_TASK = 3 => "preempted-by-higher-priority-task",
    SEGMENTATION_NOT_SUPPORTED = 4 => "segmentation-not-supported",
    SECURITY_ERROR = 5 => "security-error",
    INSUFFICIENT_SECURITY = 6 => "insufficient-security",
    WINDOW_SIZE_OUT_OF_RANGE = 7 => "window-size-out-of-range",
    APPLICATION_EXCEEDED_REPLY_TIME = 8 => "application-exceeded-reply-time",
    OUT_OF_RESOURCES = 9 => "out-of-resources",
    TSM_TIMEOUT = 10 => "tsm-timeout",
    APDU_TOO_LONG = 11 => "apdu-too-long",
}

wire_enum! {
    /// Error class (18, BACnetErrorClass); 64 and above are proprietary.
    ErrorClass(u32);
    fallback |v| if v >= 64 { "proprietary" } else { "reserved" };
    DEVICE = 0 => "device",
    OBJECT = 1 => "object",
    PROPERTY = 2 => "property",
    RESOURCES = 3 => "resources",
    SECURITY = 4 => "security",
    SERVICES = 5 => "services",
    VT = 6 => "vt",
    COMMUNICATION = 7 => "communication",
}

wire_enum! {
    /// Error code (18, BACnetErrorCode); 256 and above are proprietary.
    ErrorCode(u32);
    fallback |v| if v >= 256 { "proprietary" } else { "unnamed" };
    OTHER = 0 => "other",
    AUTHENTICATION_FAILED = 1 => "authentication-failed",
    CONFIGURATION_IN_PROGRESS = 2 => "configuration-in-progress",
    DEVICE_BUSY = 3 => "device-busy",
    DYNAMIC_CREATION_NOT_SUPPORTED = 4 => "dynamic-creation-not-supported",
    FILE_ACCESS_DENIED = 5 => "file-access-denied",
    INCOMPATIBLE_SECURITY_LEVELS = 6 => "incompatible-security-levels",
    INCONSISTENT_PARAMETERS = 7 => "inconsistent-parameters",
    INCONSISTENT_SELECTION_CRITERION = 8 => "inconsistent-selection-criterion",
    INVALID_DATA_TYPE = 9 => "invalid-data-type",
    INVALID_FILE_ACCESS_METHOD = 10 => "invalid-file-access-method",
    INVALID_FILE_START_POSITION = 11 => "invalid-file-start-position",
    INVALID_OPERATOR_NAME = 12 => "invalid-operator-name",
    INVALID_PARAMETER_DATA_TYPE = 13 => "invalid-parameter-data-type",
    INVALID_TIME_STAMP = 14 => "invalid-time-stamp",
    KEY_GENERATION_ERROR = 15 => "key-generation-error",
    MISSING_REQUIRED_PARAMETER = 16 => "missing-required-parameter",
    NO_OBJECTS_OF_SPECIFIED_TYPE = 17 => "no-objects-of-specified-type",
    NO_SPACE_FOR_OBJECT = 18 => "no-space-for-object",
    NO_SPACE_TO_ADD_LIST_ELEMENT = 19 => "no-space-to-add-list-element",
    NO_SPACE_TO_WRITE_PROPERTY = 20 => "no-space-to-write-property",
    NO_VT_SESSIONS_AVAILABLE = 21 => "no-vt-sessions-available",
    PROPERTY_IS_NOT_A_LIST = 22 => "property-is-not-a-list",
    OBJECT_DELETION_NOT_PERMITTED = 23 => "object-deletion-not-permitted",
    OBJECT_IDENTIFIER_ALREADY_EXISTS = 24 => "object-identifier-already-exists",
    OPERATIONAL_PROBLEM = 25 => "operational-problem",
    PASSWORD_FAILURE = 26 => "password-failure",
    READ_ACCESS_DENIED = 27 => "read-access-denied",
    SECURITY_NOT_SUPPORTED = 28 => "security-not-supported",
    SERVICE_REQUEST_DENIED = 29 => "service-request-denied",
    TIMEOUT = 30 => "timeout",
    UNKNOWN_OBJECT = 31 => "unknown-object",
    UNKNOWN_PROPERTY = 32 => "unknown-property",
    UNKNOWN_VT_CLASS = 34 => "unknown-vt-class",
    UNKNOWN_VT_SESSION = 35 => "unknown-vt-session",
    UNSUPPORTED_OBJECT_TYPE = 36 => "unsupported-object-type",
    VALUE_OUT_OF_RANGE = 37 => "value-out-of-range",
    VT_SESSION_ALREADY_CLOSED = 38 => "vt-session-already-closed",
    VT_SESSION_TERMINATION_FAILURE = 39 => "vt-session-termination-failure",
    WRITE_ACCESS_DENIED = 40 => "write-access-denied",
    CHARACTER_SET_NOT_SUPPORTED = 41 => "character-set-not-supported",
    INVALID_ARRAY_INDEX = 42 => "invalid-array-index",
    COV_SUBSCRIPTION_FAILED = 43 => "cov-subscription-failed",
    NOT_COV_PROPERTY = 44 => "not-cov-property",
    OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED = 45 => "optional-functionality-not-supported",
    INVALID_CONFIGURATION_DATA = 46 => "invalid-configuration-data",
    DATATYPE_NOT_SUPPORTED = 47 => "datatype-not-supported",
    DUPLICATE_NAME = 48 => "duplicate-name",
    DUPLICATE_OBJECT_ID = 49 => "duplicate-object-id",
    PROPERTY_IS_NOT_AN_ARRAY = 50 => "property-is-not-an-array",
}

/// An error class and code pair (the `Error` production of clause 21).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BacnetError {
    /// Error class.
    pub class: ErrorClass,
    /// Error code.
    pub code: ErrorCode,
}

wire_enum! {
    /// Max-segments-accepted, the 3-bit code in a Confirmed-Request header (20.1.2.4).
    MaxSegments(u8);
    fallback |_v| "invalid";
    UNSPECIFIED = 0 => "unspecified",
    TWO = 1 => "2 segments",
    FOUR = 2 => "4 segments",
    EIGHT = 3 => "8 segments",
    SIXTEEN = 4 => "16 segments",
    THIRTY_TWO = 5 => "32 segments",
    SIXTY_FOUR = 6 => "64 segments",
    MORE_THAN_SIXTY_FOUR = 7 => "more than 64 segments",
}

wire_enum! {
    /// Max-APDU-length-accepted, the 4-bit code in a Confirmed-Request header (20.1.2.5).
    MaxApdu(u8);
    fallback |_v| "reserved";
    UP_TO_50 = 0 => "up to 50 octets",
    UP_TO_128 = 1 => "up to 128 octets",
    UP_TO_206 = 2 => "up to 206 octets",
    UP_TO_480 = 3 => "up to 480 octets",
    UP_TO_1024 = 4 => "up to 1024 octets",
    UP_TO_1476 = 5 => "up to 1476 octets",
}

impl MaxApdu {
    /// The largest APDU, in octets, this code accepts (None for reserved codes).
    pub fn octets(self) -> Option<u16> {
        match self.0 {
            0 => Some(50),
            1 => Some(128),
            2 => Some(206),
            3 => Some(480),
            4 => Some(1024),
            5 => Some(1476),
            _ => None,
        }
    }
}

/// Sequence number and window size of a segmented message (20.1.2.7, 20.1.2.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The segment's sequence number.
    pub sequence_number: u8,
    /// The proposed window size (1–127).
    pub proposed_window_size: u8,
}

/// An APDU (clause 20.1).
#[derive(Clone, Debug, PartialEq)]
pub enum Apdu<'a> {
    /// BACnet-Confirmed-Request-PDU.
    ConfirmedRequest(ConfirmedRequest<'a>),
    /// BACnet-Unconfirmed-Request-PDU.
    UnconfirmedRequest(UnconfirmedRequest<'a>),
    /// BACnet-SimpleACK-PDU.
    SimpleAck {
        /// Invoke id of the request being acknowledged.
        invoke_id: u8,
        /// The acknowledged service.
        service: ConfirmedService,
    },
    /// BACnet-ComplexACK-PDU.
    ComplexAck(ComplexAck<'a>),
    /// BACnet-SegmentACK-PDU.
    SegmentAck {
        /// Negative acknowledgement (a segment was lost).
        negative: bool,
        /// Sent by the server (true) or the client (false).
        from_server: bool,
        /// Invoke id of the segmented transaction.
        invoke_id: u8,
        /// Sequence number acknowledged.
        sequence_number: u8,
        /// Actual window size.
        actual_window_size: u8,
    },
    /// BACnet-Error-PDU.
    Error(ErrorPdu<'a>),
    /// BACnet-Reject-PDU.
    Reject {
        /// Invoke id of the rejected request.
        invoke_id: u8,
        /// Why it was rejected.
        reason: RejectReason,
    },
    /// BACnet-Abort-PDU.
    Abort {
        /// Sent by the server (true) or the client (false).
        from_server: bool,
        /// Invoke id of the aborted transaction.
        invoke_id: u8,
        /// Why it was aborted.
        reason: AbortReason,
    },
    /// A reserved PDU type (8–15), kept raw.
    Reserved {
        /// The PDU type.
        pdu_type: PduType,
        /// The whole APDU.
        data: &'a [u8],
    },
    /// An APDU too short for its type's fixed header; only the type is known.
    Truncated {
        /// The PDU type.
        pdu_type: PduType,
        /// The whole APDU.
        data: &'a [u8],
    },
}

impl<'a> Apdu<'a> {
    /// The PDU type.
    pub fn pdu_type(&self) -> PduType {
        match self {
            Apdu::ConfirmedRequest(_) => PduType::CONFIRMED_REQUEST,
            Apdu::UnconfirmedRequest(_) => PduType::UNCONFIRMED_REQUEST,
            Apdu::SimpleAck { .. } => PduType::SIMPLE_ACK,
            Apdu::ComplexAck(_) => PduType::COMPLEX_ACK,
            Apdu::SegmentAck { .. } => PduType::SEGMENT_ACK,
            Apdu::Error(_) => PduType::ERROR,
            Apdu::Reject { .. } => PduType::REJECT,
            Apdu::Abort { .. } => PduType::ABORT,
            Apdu::Reserved { pdu_type, .. } | Apdu::Truncated { pdu_type, .. } => *pdu_type,
        }
    }

    /// The invoke id, for PDU types that have one.
    pub fn invoke_id(&self) -> Option<u8> {
        match self {
            Apdu::ConfirmedRequest(r) => Some(r.invoke_id),
            Apdu::ComplexAck(a) => Some(a.invoke_id),
            Apdu::Error(e) => Some(e.invoke_id),
            Apdu::SimpleAck { invoke_id, .. }
            | Apdu::SegmentAck { invoke_id, .. }
            | Apdu::Reject { invoke_id, .. }
            | Apdu::Abort { invoke_id, .. } => Some(*invoke_id),
            _ => None,
        }
    }

    /// The confirmed service this PDU requests, acknowledges or answers with an
    /// error (Confirmed-Request, SimpleACK, ComplexACK, Error).
    pub fn confirmed_service(&self) -> Option<ConfirmedService> {
        match self {
            Apdu::ConfirmedRequest(r) => Some(r.service),
            Apdu::SimpleAck { service, .. } => Some(*service),
            Apdu::ComplexAck(a) => Some(a.service),
            Apdu::Error(e) => Some(e.service),
            _ => None,
        }
    }

    /// The unconfirmed service, for an Unconfirmed-Request.
    pub fn unconfirmed_service(&self) -> Option<UnconfirmedService> {
        match self {
            Apdu::UnconfirmedRequest(r) => Some(r.service),
            _ => None,
        }
    }

    /// The property values a ReadProperty-ACK or ReadPropertyMultiple-ACK returns,
    /// with the first application-tagged value of each decoded (results that are
    /// errors or whose value does not decode are skipped). Filter with
    /// [`PropertyId::is_identification`] for vendor, model, firmware and names.
    pub fn read_values(&self) -> Vec<(PropertyRef, Value<'a>)> {
        let Apdu::ComplexAck(ack) = self else { return Vec::new() };
        match &ack.body {
            ComplexAckBody::ReadProperty(v) => {
                v.first_value().map(|x| (v.target, x)).into_iter().collect()
            }
            ComplexAckBody::ReadPropertyMultiple(rpm) => {
                rpm.results.iter().filter_map(|r| r.first_value().map(|x| (r.target, x))).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The first error class/code pair the PDU carries: the error of an Error PDU,
    /// or the first property access error in a ReadPropertyMultiple-ACK.
    pub fn first_error(&self) -> Option<BacnetError> {
        match self {
            Apdu::Error(e) => e.error,
            Apdu::ComplexAck(a) => match &a.body {
                ComplexAckBody::ReadPropertyMultiple(results) => {
                    results.results.iter().find_map(|r| r.value.err())
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// A Confirmed-Request PDU (20.1.2).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfirmedRequest<'a> {
    /// The segmented-message bit.
    pub segmented: bool,
    /// The more-follows bit.
    pub more_follows: bool,
    /// Whether the client accepts a segmented response.
    pub segmented_response_accepted: bool,
    /// Max segments the client accepts.
    pub max_segments: MaxSegments,
    /// Max APDU length the client accepts.
    pub max_apdu: MaxApdu,
    /// Invoke id.
    pub invoke_id: u8,
    /// Sequence number and window size, for a segmented request.
    pub segment: Option<SegmentHeader>,
    /// Service choice.
    pub service: ConfirmedService,
    /// Decoded service parameters.
    pub body: ConfirmedRequestBody<'a>,
    /// The raw service request octets.
    pub data: &'a [u8],
}

/// An Unconfirmed-Request PDU (20.1.3).
#[derive(Clone, Debug, PartialEq)]
pub struct UnconfirmedRequest<'a> {
    /// Service choice.
    pub service: UnconfirmedService,
    /// Decoded service parameters.
    pub body: UnconfirmedRequestBody<'a>,
    /// The raw service request octets.
    pub data: &'a [u8],
}

/// A ComplexACK PDU (20.1.5).
#[derive(Clone, Debug, PartialEq)]
pub struct ComplexAck<'a> {
    /// The segmented-message bit.
    pub segmented: bool,
    /// The more-follows bit.
    pub more_follows: bool,
    /// Invoke id.
    pub invoke_id: u8,
    /// Sequence number and window size, for a segmented ACK.
    pub segment: Option<SegmentHeader>,
    /// Service ACK choice.
    pub service: ConfirmedService,
    /// Decoded service ACK parameters.
    pub body: ComplexAckBody<'a>,
    /// The raw service ACK octets.
    pub data: &'a [u8],
}

/// An Error PDU (20.1.7).
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorPdu<'a> {
    /// Invoke id of the failed request.
    pub invoke_id: u8,
    /// The service that failed.
    pub service: ConfirmedService,
    /// Error class and code (for services with a structured error, the class and
    /// code inside its `errorType`); None if they cannot be decoded.
    pub error: Option<BacnetError>,
    /// The raw error octets.
    pub data: &'a [u8],
}

// ---------------------------------------------------------------- objects and properties

wire_enum! {
    /// BACnetObjectType (21); 128–1023 are proprietary.
    ObjectType(u16);
    fallback |v| if v >= 128 { "proprietary" } else { "reserved" };
    ANALOG_INPUT = 0 => "analog-input",
    ANALOG_OUTPUT = 1 => "analog-output",
    ANALOG_VALUE = 2 => "analog-value",
    BINARY_INPUT = 3 => "binary-input",
    BINARY_OUTPUT = 4 => "binary-output",
    BINARY_VALUE = 5 => "binary-value",
    CALENDAR = 6 => "calendar",
    COMMAND = 7 => "command",
    DEVICE = 8 => "device",
    EVENT_ENROLLMENT = 9 => "event-enrollment",
    FILE = 10 => "file",
    GROUP = 11 => "group",
    LOOP = 12 => "loop",
    MULTI_STATE_INPUT = 13 => "multi-state-input",
    MULTI_STATE_OUTPUT = 14 => "multi-state-output",
    NOTIFICATION_CLASS = 15 => "notification-class",
    PROGRAM = 16 => "program",
    SCHEDULE = 17 => "schedule",
    AVERAGING = 18 => "averaging",
    MULTI_STATE_VALUE = 19 => "multi-state-value",
    TREND_LOG = 20 => "trend-log",
    LIFE_SAFETY_POINT = 21 => "life-safety-point",
    LIFE_SAFETY_ZONE = 22 => "life-safety-zone",
    ACCUMULATOR = 23 => "accumulator",
    PULSE_CONVERTER = 24 => "pulse-converter",
    EVENT_LOG = 25 => "event-log",
    GLOBAL_GROUP = 26 => "global-group",
    TREND_LOG_MULTIPLE = 27 => "trend-log-multiple",
    LOAD_CONTROL = 28 => "load-control",
    STRUCTURED_VIEW = 29 => "structured-view",
    ACCESS_DOOR = 30 => "access-door",
    TIMER = 31 => "timer",
    ACCESS_CREDENTIAL = 32 => "access-credential",
    ACCESS_POINT = 33 => "access-point",
    ACCESS_RIGHTS = 34 => "access-rights",
    ACCESS_USER = 35 => "access-user",
    ACCESS_ZONE = 36 => "access-zone",
    CREDENTIAL_DATA_INPUT = 37 => "credential-data-input",
    NETWORK_SECURITY = 38 => "network-security",
    BITSTRING_VALUE = 39 => "bitstring-value",
    CHARACTERSTRING_VALUE = 40 => "characterstring-value",
    DATE_PATTERN_VALUE = 41 => "date-pattern-value",
    DATE_VALUE = 42 => "date-value",
    DATETIME_PATTERN_VALUE = 43 => "datetime-pattern-value",
    DATETIME_VALUE = 44 => "datetime-value",
    INTEGER_VALUE = 45 => "integer-value",
    LARGE_ANALOG_VALUE = 46 => "large-analog-value",
    OCTETSTRING_VALUE = 47 => "octetstring-value",
    POSITIVE_INTEGER_VALUE = 48 => "positive-integer-value",
    TIME_PATTERN_VALUE = 49 => "time-pattern-value",
    TIME_VALUE = 50 => "time-value",
    NOTIFICATION_FORWARDER = 51 => "notification-forwarder",
    ALERT_ENROLLMENT = 52 => "alert-enrollment",
    CHANNEL = 53 => "channel",
    LIGHTING_OUTPUT = 54 => "lighting-output",
    BINARY_LIGHTING_OUTPUT = 55 => "binary-lighting-output",
    NETWORK_PORT = 56 => "network-port",
    ELEVATOR_GROUP = 57 => "elevator-group",
    ESCALATOR = 58 => "escalator",
    LIFT = 59 => "lift",
    STAGING = 60 => "staging",
    AUDIT_LOG = 61 => "audit-log",
    AUDIT_REPORTER = 62 => "audit-reporter",
    COLOR = 63 => "color",
    COLOR_TEMPERATURE = 64 => "color-temperature",
}

/// A BACnetObjectIdentifier: 10-bit object type and 22-bit instance (20.2.14).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// Object type.
    pub object_type: ObjectType,
    /// Instance number (0–4194303; 4194303 is the "unconfigured"/wildcard instance).
    pub instance: u32,
}

impl ObjectId {
    /// The wildcard instance number (2^22 - 1).
    pub const WILDCARD_INSTANCE: u32 = 0x3f_ffff;

    /// Splits a raw 32-bit object identifier.
    pub fn from_raw(raw: u32) -> ObjectId {
        // Both parts are masked shifts of a u32 and cannot overflow; the type has
        // 10 bits so it fits in u16.
        let object_type = u16::try_from(raw >> 22).unwrap_or(u16::MAX);
        ObjectId { object_type: ObjectType(object_type), instance: raw & Self::WILDCARD_INSTANCE }
    }

    /// The raw 32-bit encoding.
    pub fn to_raw(self) -> u32 {
        (u32::from(self.object_type.0 & 0x3ff) << 22) | (self.instance & Self::WILDCARD_INSTANCE)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.object_type.name(), self.instance)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.object_type.name(), self.instance)
    }
}

wire_enum! {
    /// BACnetPropertyIdentifier (21); only the identifiers a monitor commonly needs
    /// are named. 512–4194303 are proprietary.
    PropertyId(u32);
    fallback |v| if v >= 512 { "proprietary" } else { "unnamed" };
    ACKED_TRANSITIONS = 0 => "acked-transitions",
    ACTIVE_TEXT = 4 => "active-text",
    ALL = 8 => "all",
    APDU_TIMEOUT = 11 => "apdu-timeout",
    APPLICATION_SOFTWARE_VERSION = 12 => "application-software-version",
    DESCRIPTION = 28 => "description",
    DEVICE_ADDRESS_BINDING = 30 => "device-address-binding",
    EVENT_STATE = 36 => "event-state",
    FILE_SIZE = 42 => "file-size",
    FIRMWARE_REVISION = 44 => "firmware-revision",
    INACTIVE_TEXT = 46 => "inactive-text",
    LOCAL_DATE = 56 => "local-date",
    LOCAL_TIME = 57 => "local-time",
    LOCATION = 58 => "location",
    MAX_APDU_LENGTH_ACCEPTED = 62 => "max-apdu-length-accepted",
    MAX_INFO_FRAMES = 63 => "max-info-frames",
    MAX_MASTER = 64 => "max-master",
    MODEL_NAME = 70 => "model-name",
    NUMBER_OF_APDU_RETRIES = 73 => "number-of-APDU-retries",
    OBJECT_IDENTIFIER = 75 => "object-identifier",
    OBJECT_LIST = 76 => "object-list",
    OBJECT_NAME = 77 => "object-name",
    OBJECT_TYPE = 79 => "object-type",
    OPTIONAL = 80 => "optional",
    OUT_OF_SERVICE = 81 => "out-of-service",
    PRESENT_VALUE = 85 => "present-value",
    PRIORITY_ARRAY = 87 => "priority-array",
    PROGRAM_CHANGE = 90 => "program-change",
    PROGRAM_STATE = 92 => "program-state",
    PROTOCOL_OBJECT_TYPES_SUPPORTED = 96 => "protocol-object-types-supported",
    PROTOCOL_SERVICES_SUPPORTED = 97 => "protocol-services-supported",
    PROTOCOL_VERSION = 98 => "protocol-version",
    RELIABILITY = 103 => "reliability",
    RELINQUISH_DEFAULT = 104 => "relinquish-default",
    REQUIRED = 105 => "required",
    SEGMENTATION_SUPPORTED = 107 => "segmentation-supported",
    STATUS_FLAGS = 111 => "status-flags",
    SYSTEM_STATUS = 112 => "system-status",
    UNITS = 117 => "units",
    VENDOR_IDENTIFIER = 120 => "vendor-identifier",
    VENDOR_NAME = 121 => "vendor-name",
    PROTOCOL_REVISION = 139 => "protocol-revision",
    DATABASE_REVISION = 155 => "database-revision",
    PROPERTY_LIST = 371 => "property-list",
    SERIAL_NUMBER = 372 => "serial-number",
}

impl PropertyId {
    /// Whether the property identifies the device: vendor, model, firmware,
    /// software version, serial number, name, location, description.
    pub fn is_identification(self) -> bool {
        matches!(
            self,
            PropertyId::VENDOR_NAME
                | PropertyId::VENDOR_IDENTIFIER
                | PropertyId::MODEL_NAME
                | PropertyId::FIRMWARE_REVISION
                | PropertyId::APPLICATION_SOFTWARE_VERSION
                | PropertyId::SERIAL_NUMBER
                | PropertyId::OBJECT_NAME
                | PropertyId::LOCATION
                | PropertyId::DESCRIPTION
        )
    }
}

/// A property of an object: BACnetObjectPropertyReference (21).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PropertyRef {
    /// The object.
    pub object: ObjectId,
    /// The property.
    pub property: PropertyId,
    /// The array index, when one element of an array property is meant.
    pub array_index: Option<u32>,
}

wire_enum! {
    /// BACnetSegmentation (21), as announced in I-Am.
    Segmentation(u32);
    fallback |_v| "invalid";
    BOTH = 0 => "segmented-both",
    TRANSMIT = 1 => "segmented-transmit",
    RECEIVE = 2 => "segmented-receive",
    NONE = 3 => "no-segmentation",
}

// ---------------------------------------------------------------- confirmed services

/// Decoded Confirmed-Request service parameters (clauses 13–17, 21).
#[derive(Clone, Debug, PartialEq)]
pub enum ConfirmedRequestBody<'a> {
    /// ReadProperty (15.5).
    ReadProperty(PropertyRef),
    /// ReadPropertyMultiple (15.7): the properties asked for, flattened.
    ReadPropertyMultiple(Vec<PropertyRef>),
    /// WriteProperty (15.9).
    WriteProperty(PropertyWrite<'a>),
    /// WritePropertyMultiple (15.10): the writes, flattened.
    WritePropertyMultiple(Vec<PropertyWrite<'a>>),
    /// DeviceCommunicationControl (16.1).
    DeviceCommunicationControl(DeviceCommunicationControl<'a>),
    /// ReinitializeDevice (16.4).
    ReinitializeDevice(ReinitializeDevice<'a>),
    /// AtomicReadFile (14.1).
    AtomicReadFile(AtomicReadFile),
    /// AtomicWriteFile (14.2).
    AtomicWriteFile(AtomicWriteFile<'a>),
    /// ConfirmedPrivateTransfer (16.2).
    ConfirmedPrivateTransfer(PrivateTransfer<'a>),
    /// LifeSafetyOperation (13.13).
    LifeSafetyOperation(LifeSafetyOperation<'a>),
    /// CreateObject (15.3): the object type, or the full identifier if given.
    CreateObject(CreateObject),
    /// DeleteObject (15.4).
    DeleteObject(ObjectId),
    /// AddListElement (15.1) or RemoveListElement (15.2): the list property changed.
    ListElement(PropertyRef),
    /// SubscribeCOV (13.14) or SubscribeCOVProperty (13.15): the monitored object.
    SubscribeCov {
        /// Subscriber process identifier.
        process_id: u32,
        /// The monitored object.
        object: ObjectId,
    },
    /// ReadRange (15.8): the property read.
    ReadRange(PropertyRef),
    /// One segment of a segmented request; decode the reassembled service data
    /// with [`super::decode_confirmed_request`].
    Segment(&'a [u8]),
    /// A service this dissector does not decode, or parameters it could not
    /// decode (then `bacnet.service_malformed` is set).
    Other(&'a [u8]),
}

/// One property write: WriteProperty or one element of WritePropertyMultiple.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyWrite<'a> {
    /// The property written.
    pub target: PropertyRef,
    /// The value, as the raw tagged octets between its opening and closing tags.
    pub value: &'a [u8],
    /// Write priority (1–16), when given.
    pub priority: Option<u8>,
}

impl<'a> PropertyWrite<'a> {
    /// The first application-tagged value written, decoded.
    pub fn first_value(&self) -> Option<Value<'a>> {
        super::tag::first_value(self.value)
    }
}

wire_enum! {
    /// DeviceCommunicationControl enable-disable parameter (16.1.1.1.2).
    EnableDisable(u32);
    fallback |_v| "invalid";
    ENABLE = 0 => "enable",
    DISABLE = 1 => "disable",
    DISABLE_INITIATION = 2 => "disable-initiation",
}

/// DeviceCommunicationControl-Request (16.1).
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceCommunicationControl<'a> {
    /// How long, in minutes, the state holds (absent: indefinitely).
    pub duration_minutes: Option<u32>,
    /// Enable, disable, or disable initiation.
    pub state: EnableDisable,
    /// The password, when one was sent (in clear text, as BACnet sends it).
    pub password: Option<CharacterString<'a>>,
}

wire_enum! {
    /// ReinitializeDevice reinitialized-state-of-device parameter (16.4.1.1.1).
    ReinitState(u32);
    fallback |_v| "invalid";
    COLDSTART = 0 => "coldstart",
    WARMSTART = 1 => "warmstart",
    START_BACKUP = 2 => "startbackup",
    END_BACKUP = 3 => "endbackup",
    START_RESTORE = 4 => "startrestore",
    END_RESTORE = 5 => "endrestore",
    ABORT_RESTORE = 6 => "abortrestore",
    ACTIVATE_CHANGES = 7 => "activate-changes",
}

/// ReinitializeDevice-Request (16.4).
#[derive(Clone, Debug, PartialEq)]
pub struct ReinitializeDevice<'a> {
    /// The state the device is asked to enter.
    pub state: ReinitState,
    /// The password, when one was sent (in clear text, as BACnet sends it).
    pub password: Option<CharacterString<'a>>,
}

/// How a file is accessed (14.1, 14.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAccess {
    /// Stream access: a start octet position and an octet count.
    Stream {
        /// First octet position (may be negative in a write: append).
        start: i64,
        /// Octets requested (read) or carried (write).
        count: u64,
    },
    /// Record access: a start record and a record count.
    Record {
        /// First record (may be negative in a write: append).
        start: i64,
        /// Records requested (read) or carried (write).
        count: u64,
    },
}

/// AtomicReadFile-Request (14.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtomicReadFile {
    /// The file object.
    pub file: ObjectId,
    /// What is read.
    pub access: FileAccess,
}

/// AtomicWriteFile-Request (14.2).
#[derive(Clone, Debug, PartialEq)]
pub struct AtomicWriteFile<'a> {
    /// The file object.
    pub file: ObjectId,
    /// What is written; for stream access `count` is the data length.
    pub access: FileAccess,
    /// The data written (stream access) or the first record (record access).
    pub data: &'a [u8],
}

/// ConfirmedPrivateTransfer or UnconfirmedPrivateTransfer (16.2, 16.3).
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateTransfer<'a> {
    /// The vendor whose service is invoked.
    pub vendor_id: u32,
    /// The vendor's service number.
    pub service_number: u32,
    /// Service parameters, raw, when present.
    pub parameters: Option<&'a [u8]>,
}

/// LifeSafetyOperation-Request (13.13).
#[derive(Clone, Debug, PartialEq)]
pub struct LifeSafetyOperation<'a> {
    /// Requesting process identifier.
    pub process_id: u32,
    /// Requesting source (operator or process name).
    pub source: CharacterString<'a>,
    /// The operation (BACnetLifeSafetyOperation: 1 silence … 9 unsilence-visual).
    pub operation: u32,
    /// The object operated on; absent means all objects of the device.
    pub object: Option<ObjectId>,
}

/// CreateObject object specifier (15.3.1.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateObject {
    /// Create an object of this type; the device picks the instance.
    Type(ObjectType),
    /// Create this object.
    Id(ObjectId),
}

// ---------------------------------------------------------------- complex ACKs

/// Decoded ComplexACK service parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum ComplexAckBody<'a> {
    /// ReadProperty-ACK (15.5.1.3).
    ReadProperty(PropertyValue<'a>),
    /// ReadPropertyMultiple-ACK (15.7.1.3).
    ReadPropertyMultiple(ReadPropertyMultipleAck<'a>),
    /// AtomicReadFile-ACK (14.1.1.3).
    AtomicReadFile {
        /// End of file reached.
        end_of_file: bool,
        /// File access and position.
        access: FileAccess,
        /// The data (stream access) or first record (record access).
        data: &'a [u8],
    },
    /// One segment of a segmented ACK; decode the reassembled service data with
    /// [`super::decode_complex_ack`].
    Segment(&'a [u8]),
    /// A service this dissector does not decode, or parameters it could not decode.
    Other(&'a [u8]),
}

/// A property and its value, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyValue<'a> {
    /// The property.
    pub target: PropertyRef,
    /// The value, as raw tagged octets between its opening and closing tags.
    pub value: &'a [u8],
}

impl<'a> PropertyValue<'a> {
    /// The first application-tagged value, decoded.
    pub fn first_value(&self) -> Option<Value<'a>> {
        super::tag::first_value(self.value)
    }
}

/// ReadPropertyMultiple-ACK, flattened to one result per property.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReadPropertyMultipleAck<'a> {
    /// Results in order, up to [`super::MAX_LIST_ITEMS`].
    pub results: Vec<PropertyResult<'a>>,
}

/// One ReadPropertyMultiple result.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyResult<'a> {
    /// The property.
    pub target: PropertyRef,
    /// The raw tagged value octets, or the property access error.
    pub value: Result<&'a [u8], BacnetError>,
}

impl<'a> PropertyResult<'a> {
    /// The first application-tagged value, decoded (None for an error result).
    pub fn first_value(&self) -> Option<Value<'a>> {
        self.value.ok().and_then(super::tag::first_value)
    }
}

// ---------------------------------------------------------------- unconfirmed services

/// Decoded Unconfirmed-Request service parameters (clause 16, 21).
#[derive(Clone, Debug, PartialEq)]
pub enum UnconfirmedRequestBody<'a> {
    /// I-Am (16.10).
    IAm(IAm),
    /// I-Have (16.9).
    IHave(IHave<'a>),
    /// Who-Is (16.10), optionally limited to an instance range.
    WhoIs {
        /// Low and high device instance limits, when given.
        range: Option<(u32, u32)>,
    },
    /// Who-Has (16.9).
    WhoHas(WhoHas<'a>),
    /// TimeSynchronization or UTCTimeSynchronization (16.7, 16.8).
    TimeSynchronization {
        /// Date.
        date: super::tag::Date,
        /// Time.
        time: super::tag::Time,
    },
    /// UnconfirmedPrivateTransfer (16.3).
    UnconfirmedPrivateTransfer(PrivateTransfer<'a>),
    /// Who-Am-I (16.11): a device without an identity announces itself.
    WhoAmI(DeviceIdentity<'a>),
    /// You-Are (16.12): a device is given its identity.
    YouAre {
        /// Vendor, model and serial number of the addressed device.
        identity: DeviceIdentity<'a>,
        /// The device object identifier assigned, when given.
        device: Option<ObjectId>,
        /// The MAC address assigned, when given.
        mac: Option<&'a [u8]>,
    },
    /// A service this dissector does not decode, or parameters it could not decode.
    Other(&'a [u8]),
}

/// I-Am-Request (16.10.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IAm {
    /// The device object identifier.
    pub device: ObjectId,
    /// Max APDU length accepted, octets.
    pub max_apdu: u32,
    /// Segmentation supported.
    pub segmentation: Segmentation,
    /// Vendor identifier (ASHRAE-assigned).
    pub vendor_id: u32,
}

/// I-Have-Request (16.9.2).
#[derive(Clone, Debug, PartialEq)]
pub struct IHave<'a> {
    /// The device that has the object.
    pub device: ObjectId,
    /// The object.
    pub object: ObjectId,
    /// The object's name.
    pub name: CharacterString<'a>,
}

/// Who-Has-Request (16.9.1).
#[derive(Clone, Debug, PartialEq)]
pub struct WhoHas<'a> {
    /// Low and high device instance limits, when given.
    pub range: Option<(u32, u32)>,
    /// The object searched for.
    pub object: WhoHasObject<'a>,
}

/// What Who-Has searches for.
#[derive(Clone, Debug, PartialEq)]
pub enum WhoHasObject<'a> {
    /// An object identifier.
    Id(ObjectId),
    /// An object name.
    Name(CharacterString<'a>),
}

/// Vendor, model and serial number (Who-Am-I, You-Are).
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceIdentity<'a> {
    /// Vendor identifier.
    pub vendor_id: u32,
    /// Model name.
    pub model_name: CharacterString<'a>,
    /// Serial number.
    pub serial_number: CharacterString<'a>,
}

// ---------------------------------------------------------------- MS/TP (clause 9)

wire_enum! {
    /// MS/TP frame type (9.3): 0–7 plain frames, 8–31 reserved, 32–127 COBS-encoded
    /// (extended) frames, 128–255 proprietary.
    MstpFrameType(u8);
    fallback |v| if v >= 128 { "Proprietary" } else { "Reserved" };
    TOKEN = 0 => "Token",
    POLL_FOR_MASTER = 1 => "Poll For Master",
    REPLY_TO_POLL_FOR_MASTER = 2 => "Reply To Poll For Master",
    TEST_REQUEST = 3 => "Test_Request",
    TEST_RESPONSE = 4 => "Test_Response",
    DATA_EXPECTING_REPLY = 5 => "BACnet Data Expecting Reply",
    DATA_NOT_EXPECTING_REPLY = 6 => "BACnet Data Not Expecting Reply",
    REPLY_POSTPONED = 7 => "Reply Postponed",
    EXTENDED_DATA_EXPECTING_REPLY = 32 => "BACnet Extended Data Expecting Reply",
    EXTENDED_DATA_NOT_EXPECTING_REPLY = 33 => "BACnet Extended Data Not Expecting Reply",
    IPV6_ENCAPSULATION = 34 => "IPv6 over MS/TP (LoBAC) Encapsulation",
}

impl MstpFrameType {
    /// Whether frames of this type carry an NPDU in plain form (types 5 and 6).
    pub fn carries_npdu(self) -> bool {
        matches!(
            self,
            MstpFrameType::DATA_EXPECTING_REPLY | MstpFrameType::DATA_NOT_EXPECTING_REPLY
        )
    }

    /// Whether frames of this type carry a COBS-encoded NPDU (types 32 and 33);
    /// decode it with [`super::mstp::decode_cobs_data`].
    pub fn carries_cobs_npdu(self) -> bool {
        matches!(
            self,
            MstpFrameType::EXTENDED_DATA_EXPECTING_REPLY
                | MstpFrameType::EXTENDED_DATA_NOT_EXPECTING_REPLY
        )
    }

    /// Whether the data field of this type is COBS-encoded (types 32–127).
    pub fn is_cobs(self) -> bool {
        (32..=127).contains(&self.0)
    }

    /// Whether frames of this type may carry data at all.
    pub fn may_carry_data(self) -> bool {
        !matches!(
            self,
            MstpFrameType::TOKEN
                | MstpFrameType::POLL_FOR_MASTER
                | MstpFrameType::REPLY_TO_POLL_FOR_MASTER
                | MstpFrameType::REPLY_POSTPONED
        )
    }
}

/// An MS/TP frame (9.3), from its preamble to its data CRC.
#[derive(Clone, Debug, PartialEq)]
pub struct MstpFrame<'a> {
    /// Frame type.
    pub frame_type: MstpFrameType,
    /// Destination MAC address (255 = broadcast).
    pub destination: u8,
    /// Source MAC address.
    pub source: u8,
    /// The data length field.
    pub length: u16,
    /// Whether the header CRC checks.
    pub header_crc_ok: bool,
    /// The data field. For COBS-encoded types (32–127) this is the whole encoded
    /// field (`length + 2` octets: Encoded Data then Encoded CRC-32K).
    pub data: &'a [u8],
    /// Whether the data CRC (CRC-16, or CRC-32K for COBS-encoded frames) checks;
    /// true when there is no data.
    pub data_crc_ok: bool,
    /// The NPDU, for plain BACnet data frames (types 5 and 6) whose data decodes.
    /// Extended data frames (32, 33) need their data COBS-decoded first.
    pub npdu: Option<Npdu<'a>>,
    /// Anomalies of the frame and of the NPDU it carries.
    pub anomalies: Anomalies,
}
