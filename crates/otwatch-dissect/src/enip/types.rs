//! Messages and wire enums of EtherNet/IP and CIP, borrowing from the input.
//!
//! Wire enums are newtypes over the raw integer with named constants, so
//! unknown codes survive; `name()` gives the specification's name when the
//! code is known. Nothing here parses bytes except the EPATH segment
//! iterator, which reads through the checked [`Reader`].

use std::fmt;

use super::anomaly::Anomalies;
use crate::DecodeError;
use crate::reader::Reader;

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $val:expr => $text:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($val); )*

            /// The standard name, if the code is known.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($text), )*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}({:#x} {})", stringify!($name), self.0, n),
                    None => write!(f, "{}({:#x})", stringify!($name), self.0),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{:#x}", self.0),
                }
            }
        }
    };
}

wire_enum! {
    /// Encapsulation command (Vol. 2, Table 2-3.2).
    Command(u16) {
        /// No operation; either side may send it, no reply.
        NOP = 0x0000 => "NOP",
        /// Which encapsulation services the target supports.
        LIST_SERVICES = 0x0004 => "ListServices",
        /// Device identity (often broadcast over UDP).
        LIST_IDENTITY = 0x0063 => "ListIdentity",
        /// Non-CIP communication interfaces.
        LIST_INTERFACES = 0x0064 => "ListInterfaces",
        /// Opens an encapsulation session.
        REGISTER_SESSION = 0x0065 => "RegisterSession",
        /// Closes an encapsulation session.
        UNREGISTER_SESSION = 0x0066 => "UnRegisterSession",
        /// Request/reply (unconnected) CIP messaging.
        SEND_RR_DATA = 0x006F => "SendRRData",
        /// Connected CIP messaging.
        SEND_UNIT_DATA = 0x0070 => "SendUnitData",
        /// Status indication (optional).
        INDICATE_STATUS = 0x0072 => "IndicateStatus",
        /// Cancel (optional).
        CANCEL = 0x0073 => "Cancel",
    }
}

impl Command {
    /// Whether a header with this command can be an encapsulation header at
    /// all: codes 0x0000–0x00FF are defined or reserved (legacy) by the
    /// specification; above that nothing has ever been assigned, so a
    /// stream whose next header claims one is out of step.
    pub fn is_frameable(self) -> bool {
        self.0 <= 0x00FF
    }
}

wire_enum! {
    /// Encapsulation status (Vol. 2, Table 2-3.3).
    EncapStatus(u32) {
        /// Success.
        SUCCESS = 0x0000 => "Success",
        /// Invalid or unsupported command.
        INVALID_COMMAND = 0x0001 => "Invalid or unsupported command",
        /// Insufficient memory in the receiver.
        INSUFFICIENT_MEMORY = 0x0002 => "Insufficient memory",
        /// Poorly formed or incorrect data.
        INCORRECT_DATA = 0x0003 => "Incorrect data",
        /// Invalid session handle.
        INVALID_SESSION = 0x0064 => "Invalid session handle",
        /// Invalid length.
        INVALID_LENGTH = 0x0065 => "Invalid length",
        /// Unsupported encapsulation protocol revision.
        UNSUPPORTED_PROTOCOL = 0x0069 => "Unsupported protocol revision",
    }
}

wire_enum! {
    /// Common Packet Format item type (Vol. 2, Table 2-6.3).
    ItemType(u16) {
        /// Null address (unconnected messages).
        NULL_ADDRESS = 0x0000 => "Null Address",
        /// ListIdentity reply item.
        LIST_IDENTITY = 0x000C => "CIP Identity",
        /// CIP Security information.
        SECURITY_INFO = 0x0086 => "CIP Security Information",
        /// Connected address (connection identifier).
        CONNECTED_ADDRESS = 0x00A1 => "Connected Address",
        /// Connected data (class 0/1 I/O or class 3 transport).
        CONNECTED_DATA = 0x00B1 => "Connected Data",
        /// Unconnected data (a CIP message).
        UNCONNECTED_DATA = 0x00B2 => "Unconnected Data",
        /// ListServices reply item.
        LIST_SERVICES = 0x0100 => "List Services Response",
        /// Socket address, originator to target.
        SOCKADDR_O_T = 0x8000 => "Sockaddr Info O->T",
        /// Socket address, target to originator.
        SOCKADDR_T_O = 0x8001 => "Sockaddr Info T->O",
        /// Sequenced address (connection id and sequence number; class 0/1).
        SEQUENCED_ADDRESS = 0x8002 => "Sequenced Address",
        /// Unconnected message over UDP.
        UNCONNECTED_MESSAGE_UDP = 0x8003 => "Unconnected Message over UDP",
    }
}

wire_enum! {
    /// CIP service code without the response bit (Vol. 1, Appendix A).
    ///
    /// Codes 0x4B–0x63 are object-class specific: their meaning depends on
    /// the class addressed (see [`ServiceCode::name_for`]).
    ServiceCode(u8) {
        /// Get_Attributes_All.
        GET_ATTRIBUTES_ALL = 0x01 => "Get Attributes All",
        /// Set_Attributes_All.
        SET_ATTRIBUTES_ALL = 0x02 => "Set Attributes All",
        /// Get_Attribute_List.
        GET_ATTRIBUTE_LIST = 0x03 => "Get Attribute List",
        /// Set_Attribute_List.
        SET_ATTRIBUTE_LIST = 0x04 => "Set Attribute List",
        /// Reset (on the Identity object: device reset).
        RESET = 0x05 => "Reset",
        /// Start (on a Logix controller: run mode).
        START = 0x06 => "Start",
        /// Stop (on a Logix controller: program mode).
        STOP = 0x07 => "Stop",
        /// Create an instance.
        CREATE = 0x08 => "Create",
        /// Delete an instance.
        DELETE = 0x09 => "Delete",
        /// Multiple_Service_Packet.
        MULTIPLE_SERVICE_PACKET = 0x0A => "Multiple Service Packet",
        /// Apply_Attributes.
        APPLY_ATTRIBUTES = 0x0D => "Apply Attributes",
        /// Get_Attribute_Single.
        GET_ATTRIBUTE_SINGLE = 0x0E => "Get Attribute Single",
        /// Set_Attribute_Single.
        SET_ATTRIBUTE_SINGLE = 0x10 => "Set Attribute Single",
        /// Find_Next_Object_Instance.
        FIND_NEXT_OBJECT_INSTANCE = 0x11 => "Find Next Object Instance",
        /// Error_Response (DeviceNet only).
        ERROR_RESPONSE = 0x14 => "Error Response",
        /// Restore.
        RESTORE = 0x15 => "Restore",
        /// Save.
        SAVE = 0x16 => "Save",
        /// No_Operation.
        NO_OPERATION = 0x17 => "No Operation",
        /// Get_Member.
        GET_MEMBER = 0x18 => "Get Member",
        /// Set_Member.
        SET_MEMBER = 0x19 => "Set Member",
        /// Insert_Member.
        INSERT_MEMBER = 0x1A => "Insert Member",
        /// Remove_Member.
        REMOVE_MEMBER = 0x1B => "Remove Member",
        /// GroupSync.
        GROUP_SYNC = 0x1C => "Group Sync",
    }
}

impl ServiceCode {
    /// Connection Manager: Forward_Close (0x4E on class 0x06 only).
    pub const FORWARD_CLOSE: ServiceCode = ServiceCode(0x4E);
    /// Connection Manager: Unconnected_Send (0x52 on class 0x06 only).
    pub const UNCONNECTED_SEND: ServiceCode = ServiceCode(0x52);
    /// Connection Manager: Forward_Open (0x54 on class 0x06 only).
    pub const FORWARD_OPEN: ServiceCode = ServiceCode(0x54);
    /// Connection Manager: Get_Connection_Data.
    pub const GET_CONNECTION_DATA: ServiceCode = ServiceCode(0x56);
    /// Connection Manager: Search_Connection_Data.
    pub const SEARCH_CONNECTION_DATA: ServiceCode = ServiceCode(0x57);
    /// Connection Manager: Get_Connection_Owner.
    pub const GET_CONNECTION_OWNER: ServiceCode = ServiceCode(0x5A);
    /// Connection Manager: Large_Forward_Open.
    pub const LARGE_FORWARD_OPEN: ServiceCode = ServiceCode(0x5B);
    /// Logix tag service on a symbolic path: Read Tag.
    pub const READ_TAG: ServiceCode = ServiceCode(0x4C);
    /// Logix tag service on a symbolic path: Write Tag.
    pub const WRITE_TAG: ServiceCode = ServiceCode(0x4D);
    /// Logix tag service on a symbolic path: Read Modify Write Tag.
    pub const READ_MODIFY_WRITE_TAG: ServiceCode = ServiceCode(0x4E);
    /// Logix tag service on a symbolic path: Read Tag Fragmented.
    pub const READ_TAG_FRAGMENTED: ServiceCode = ServiceCode(0x52);
    /// Logix tag service on a symbolic path: Write Tag Fragmented.
    pub const WRITE_TAG_FRAGMENTED: ServiceCode = ServiceCode(0x53);
    /// Logix Symbol object: Get Instance Attribute List.
    pub const GET_INSTANCE_ATTRIBUTE_LIST: ServiceCode = ServiceCode(0x55);

    /// Whether the code is in the object-class-specific range 0x4B–0x63.
    pub fn is_class_specific(self) -> bool {
        (0x4B..=0x63).contains(&self.0)
    }

    /// Whether the code is reserved (0x00, or 0x64–0x7F).
    pub fn is_reserved(self) -> bool {
        self.0 == 0 || self.0 >= 0x64
    }

    /// The service's name for the object addressed: class-specific codes
    /// are named only for the Connection Manager and for Logix tag access
    /// (symbolic paths and the Symbol object).
    pub fn name_for(self, target: Target) -> Option<&'static str> {
        if !self.is_class_specific() {
            return self.name();
        }
        match target {
            Target::Class(ClassId::CONNECTION_MANAGER) => match self {
                ServiceCode::FORWARD_CLOSE => Some("Forward Close"),
                ServiceCode::UNCONNECTED_SEND => Some("Unconnected Send"),
                ServiceCode::FORWARD_OPEN => Some("Forward Open"),
                ServiceCode::GET_CONNECTION_DATA => Some("Get Connection Data"),
                ServiceCode::SEARCH_CONNECTION_DATA => Some("Search Connection Data"),
                ServiceCode::GET_CONNECTION_OWNER => Some("Get Connection Owner"),
                ServiceCode::LARGE_FORWARD_OPEN => Some("Large Forward Open"),
                _ => None,
            },
            Target::Symbolic | Target::Class(ClassId::SYMBOL) => match self {
                ServiceCode::READ_TAG => Some("Read Tag"),
                ServiceCode::WRITE_TAG => Some("Write Tag"),
                ServiceCode::READ_MODIFY_WRITE_TAG => Some("Read Modify Write Tag"),
                ServiceCode::READ_TAG_FRAGMENTED => Some("Read Tag Fragmented"),
                ServiceCode::WRITE_TAG_FRAGMENTED => Some("Write Tag Fragmented"),
                ServiceCode::GET_INSTANCE_ATTRIBUTE_LIST => Some("Get Instance Attribute List"),
                _ => None,
            },
            _ => None,
        }
    }
}

wire_enum! {
    /// CIP general status (Vol. 1, Appendix B).
    GeneralStatus(u8) {
        /// Success.
        SUCCESS = 0x00 => "Success",
        /// Connection failure.
        CONNECTION_FAILURE = 0x01 => "Connection failure",
        /// Resource unavailable.
        RESOURCE_UNAVAILABLE = 0x02 => "Resource unavailable",
        /// Invalid parameter value.
        INVALID_PARAMETER_VALUE = 0x03 => "Invalid parameter value",
        /// Path segment error.
        PATH_SEGMENT_ERROR = 0x04 => "Path segment error",
        /// Path destination unknown.
        PATH_DESTINATION_UNKNOWN = 0x05 => "Path destination unknown",
        /// Partial transfer.
        PARTIAL_TRANSFER = 0x06 => "Partial transfer",
        /// Connection lost.
        CONNECTION_LOST = 0x07 => "Connection lost",
        /// Service not supported.
        SERVICE_NOT_SUPPORTED = 0x08 => "Service not supported",
        /// Invalid attribute value.
        INVALID_ATTRIBUTE_VALUE = 0x09 => "Invalid attribute value",
        /// Attribute list error.
        ATTRIBUTE_LIST_ERROR = 0x0A => "Attribute list error",
        /// Already in requested mode/state.
        ALREADY_IN_MODE = 0x0B => "Already in requested mode/state",
        /// Object state conflict.
        OBJECT_STATE_CONFLICT = 0x0C => "Object state conflict",
        /// Object already exists.
        OBJECT_ALREADY_EXISTS = 0x0D => "Object already exists",
        /// Attribute not settable.
        ATTRIBUTE_NOT_SETTABLE = 0x0E => "Attribute not settable",
        /// Privilege violation.
        PRIVILEGE_VIOLATION = 0x0F => "Privilege violation",
        /// Device state conflict.
        DEVICE_STATE_CONFLICT = 0x10 => "Device state conflict",
        /// Reply data too large.
        REPLY_TOO_LARGE = 0x11 => "Reply data too large",
        /// Fragmentation of a primitive value.
        FRAGMENTATION_OF_PRIMITIVE = 0x12 => "Fragmentation of a primitive value",
        /// Not enough data.
        NOT_ENOUGH_DATA = 0x13 => "Not enough data",
        /// Attribute not supported.
        ATTRIBUTE_NOT_SUPPORTED = 0x14 => "Attribute not supported",
        /// Too much data.
        TOO_MUCH_DATA = 0x15 => "Too much data",
        /// Object does not exist.
        OBJECT_DOES_NOT_EXIST = 0x16 => "Object does not exist",
        /// Service fragmentation sequence not in progress.
        FRAGMENTATION_NOT_IN_PROGRESS = 0x17 => "Service fragmentation sequence not in progress",
        /// No stored attribute data.
        NO_STORED_ATTRIBUTE_DATA = 0x18 => "No stored attribute data",
        /// Store operation failure.
        STORE_OPERATION_FAILURE = 0x19 => "Store operation failure",
        /// Routing failure, request packet too large.
        ROUTING_REQUEST_TOO_LARGE = 0x1A => "Routing failure, request packet too large",
        /// Routing failure, response packet too large.
        ROUTING_RESPONSE_TOO_LARGE = 0x1B => "Routing failure, response packet too large",
        /// Missing attribute list entry data.
        MISSING_ATTRIBUTE_LIST_ENTRY = 0x1C => "Missing attribute list entry data",
        /// Invalid attribute value list.
        INVALID_ATTRIBUTE_VALUE_LIST = 0x1D => "Invalid attribute value list",
        /// Embedded service error (Multiple Service Packet).
        EMBEDDED_SERVICE_ERROR = 0x1E => "Embedded service error",
        /// Vendor specific error.
        VENDOR_SPECIFIC = 0x1F => "Vendor specific error",
        /// Invalid parameter.
        INVALID_PARAMETER = 0x20 => "Invalid parameter",
        /// Write-once value or medium already written.
        WRITE_ONCE_ALREADY_WRITTEN = 0x21 => "Write-once value or medium already written",
        /// Invalid reply received.
        INVALID_REPLY = 0x22 => "Invalid reply received",
        /// Buffer overflow.
        BUFFER_OVERFLOW = 0x23 => "Buffer overflow",
        /// Message format error.
        MESSAGE_FORMAT_ERROR = 0x24 => "Message format error",
        /// Key failure in path.
        KEY_FAILURE_IN_PATH = 0x25 => "Key failure in path",
        /// Path size invalid.
        PATH_SIZE_INVALID = 0x26 => "Path size invalid",
        /// Unexpected attribute in list.
        UNEXPECTED_ATTRIBUTE = 0x27 => "Unexpected attribute in list",
        /// Invalid member ID.
        INVALID_MEMBER_ID = 0x28 => "Invalid Member ID",
        /// Member not settable.
        MEMBER_NOT_SETTABLE = 0x29 => "Member not settable",
        /// Group 2 only server general failure.
        GROUP2_FAILURE = 0x2A => "Group 2 only server general failure",
        /// Unknown Modbus error.
        UNKNOWN_MODBUS_ERROR = 0x2B => "Unknown Modbus error",
        /// Attribute not gettable.
        ATTRIBUTE_NOT_GETTABLE = 0x2C => "Attribute not gettable",
    }
}

impl GeneralStatus {
    /// Whether the status reports success.
    pub fn is_success(self) -> bool {
        self.0 == 0
    }
}

wire_enum! {
    /// CIP object class identifier (Vol. 1, Chapter 5; 0x64–0xC7 and
    /// 0x300–0x4FF are vendor specific, named here where the vendor's public
    /// documentation gives the name).
    ClassId(u32) {
        /// Identity object.
        IDENTITY = 0x01 => "Identity",
        /// Message Router.
        MESSAGE_ROUTER = 0x02 => "Message Router",
        /// DeviceNet object.
        DEVICENET = 0x03 => "DeviceNet",
        /// Assembly object.
        ASSEMBLY = 0x04 => "Assembly",
        /// Connection object.
        CONNECTION = 0x05 => "Connection",
        /// Connection Manager.
        CONNECTION_MANAGER = 0x06 => "Connection Manager",
        /// Register object.
        REGISTER = 0x07 => "Register",
        /// Parameter object.
        PARAMETER = 0x0F => "Parameter",
        /// Parameter Group object.
        PARAMETER_GROUP = 0x10 => "Parameter Group",
        /// Port object.
        PORT = 0xF4 => "Port",
        /// TCP/IP Interface object.
        TCPIP_INTERFACE = 0xF5 => "TCP/IP Interface",
        /// Ethernet Link object.
        ETHERNET_LINK = 0xF6 => "Ethernet Link",
        /// File object.
        FILE = 0x37 => "File",
        /// Time Sync object (CIP Sync).
        TIME_SYNC = 0x43 => "Time Sync",
        /// Logix Symbol object (tags).
        SYMBOL = 0x6B => "Symbol",
        /// Logix Template object (structure definitions).
        TEMPLATE = 0x6C => "Template",
        /// Logix Wall Clock Time object (controller time).
        WALL_CLOCK_TIME = 0x8B => "Wall Clock Time",
        /// Logix controller object (run/program mode via Start/Stop).
        LOGIX_CONTROLLER = 0x8E => "Logix Controller",
        /// Non-Volatile Storage object (firmware update).
        NON_VOLATILE_STORAGE = 0xA1 => "Non-Volatile Storage",
    }
}

impl ClassId {
    /// Whether the class is in a vendor-specific range (0x64–0xC7, 0x300–0x4FF).
    pub fn is_vendor_specific(self) -> bool {
        (0x64..=0xC7).contains(&self.0) || (0x300..=0x4FF).contains(&self.0)
    }
}

/// What a CIP request addresses, reduced to what detection keys on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// The first class segment of the path.
    Class(ClassId),
    /// A path of symbolic (tag name) segments and no class segment.
    Symbolic,
    /// No class and no symbol (empty or port-only path, or a response).
    None,
}

impl Target {
    /// The class, if the target is one.
    pub fn class(self) -> Option<ClassId> {
        match self {
            Target::Class(c) => Some(c),
            _ => None,
        }
    }
}

/// Security-relevant operations a CIP request performs (a bitset).
///
/// Derived from the service and its target by [`operations`]; the meaning
/// of class-specific services is known only for the Connection Manager,
/// Logix tag access, the Non-Volatile Storage object and the Logix
/// controller/program objects.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Operations(u16);

impl Operations {
    /// Nothing notable.
    pub const NONE: Operations = Operations(0);
    /// Reads attributes or tags.
    pub const READ: Operations = Operations(0x0001);
    /// Writes attributes, members or tags.
    pub const WRITE: Operations = Operations(0x0002);
    /// Reset (device reset on the Identity object).
    pub const RESET: Operations = Operations(0x0004);
    /// Start (run mode on a controller).
    pub const START: Operations = Operations(0x0008);
    /// Stop (program mode on a controller).
    pub const STOP: Operations = Operations(0x0010);
    /// Creates an object instance.
    pub const CREATE: Operations = Operations(0x0020);
    /// Deletes an object instance.
    pub const DELETE: Operations = Operations(0x0040);
    /// Opens a connection (Forward Open, Large Forward Open).
    pub const CONNECTION_OPEN: Operations = Operations(0x0080);
    /// Closes a connection (Forward Close).
    pub const CONNECTION_CLOSE: Operations = Operations(0x0100);
    /// Routes an embedded request to another device (Unconnected Send).
    pub const ROUTED: Operations = Operations(0x0200);
    /// Accesses a tag by name (Logix symbolic path or Symbol object).
    pub const TAG_ACCESS: Operations = Operations(0x0400);
    /// Firmware update (class-specific service on Non-Volatile Storage).
    pub const FIRMWARE_UPDATE: Operations = Operations(0x0800);
    /// Sets the controller's clock (write to the Wall Clock Time object).
    pub const TIME_CHANGE: Operations = Operations(0x1000);
    /// Changes the controller's operating mode (Start/Stop on the controller object).
    pub const MODE_CHANGE: Operations = Operations(0x2000);
    /// Changes program structure: creates, deletes or class-specific edits
    /// on vendor-specific (Logix program/routine/task) objects.
    pub const PROGRAM_CHANGE: Operations = Operations(0x4000);
    /// Device reset: Reset on the Identity object.
    pub const DEVICE_RESET: Operations = Operations(0x8000);

    /// Every flag with its stable name, in bit order.
    pub const ALL: [(Operations, &'static str); 16] = [
        (Operations::READ, "read"),
        (Operations::WRITE, "write"),
        (Operations::RESET, "reset"),
        (Operations::START, "start"),
        (Operations::STOP, "stop"),
        (Operations::CREATE, "create"),
        (Operations::DELETE, "delete"),
        (Operations::CONNECTION_OPEN, "connection_open"),
        (Operations::CONNECTION_CLOSE, "connection_close"),
        (Operations::ROUTED, "routed"),
        (Operations::TAG_ACCESS, "tag_access"),
        (Operations::FIRMWARE_UPDATE, "firmware_update"),
        (Operations::TIME_CHANGE, "time_change"),
        (Operations::MODE_CHANGE, "mode_change"),
        (Operations::PROGRAM_CHANGE, "program_change"),
        (Operations::DEVICE_RESET, "device_reset"),
    ];

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Operations) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Operations) {
        self.0 |= other.0;
    }

    /// Whether nothing is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the flags that are set.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Operations::ALL.into_iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| n)
    }
}

impl std::ops::BitOr for Operations {
    type Output = Operations;
    fn bitor(self, rhs: Operations) -> Operations {
        Operations(self.0 | rhs.0)
    }
}

impl fmt::Debug for Operations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// Classifies a request by service and target (see [`Operations`]).
pub fn operations(service: ServiceCode, target: Target) -> Operations {
    let mut ops = match service {
        ServiceCode::GET_ATTRIBUTES_ALL
        | ServiceCode::GET_ATTRIBUTE_LIST
        | ServiceCode::GET_ATTRIBUTE_SINGLE
        | ServiceCode::GET_MEMBER => Operations::READ,
        ServiceCode::SET_ATTRIBUTES_ALL
        | ServiceCode::SET_ATTRIBUTE_LIST
        | ServiceCode::SET_ATTRIBUTE_SINGLE
        | ServiceCode::SET_MEMBER
        | ServiceCode::INSERT_MEMBER
        | ServiceCode::REMOVE_MEMBER
        | ServiceCode::RESTORE
        | ServiceCode::APPLY_ATTRIBUTES => Operations::WRITE,
        ServiceCode::RESET => Operations::RESET,
        ServiceCode::START => Operations::START,
        ServiceCode::STOP => Operations::STOP,
        ServiceCode::CREATE => Operations::CREATE,
        ServiceCode::DELETE => Operations::DELETE,
        _ => Operations::NONE,
    };
    let class = target.class();
    match target {
        Target::Class(ClassId::CONNECTION_MANAGER) => match service {
            ServiceCode::FORWARD_OPEN | ServiceCode::LARGE_FORWARD_OPEN => {
                ops.insert(Operations::CONNECTION_OPEN)
            }
            ServiceCode::FORWARD_CLOSE => ops.insert(Operations::CONNECTION_CLOSE),
            ServiceCode::UNCONNECTED_SEND => ops.insert(Operations::ROUTED),
            _ => {}
        },
        Target::Symbolic | Target::Class(ClassId::SYMBOL) => match service {
            ServiceCode::READ_TAG | ServiceCode::READ_TAG_FRAGMENTED => {
                ops.insert(Operations::READ | Operations::TAG_ACCESS)
            }
            ServiceCode::WRITE_TAG
            | ServiceCode::WRITE_TAG_FRAGMENTED
            | ServiceCode::READ_MODIFY_WRITE_TAG => {
                ops.insert(Operations::WRITE | Operations::TAG_ACCESS)
            }
            _ => {}
        },
        _ => {}
    }
    if class == Some(ClassId::NON_VOLATILE_STORAGE) && service.is_class_specific() {
        ops.insert(Operations::FIRMWARE_UPDATE);
    }
    if class == Some(ClassId::WALL_CLOCK_TIME) && ops.contains(Operations::WRITE) {
        ops.insert(Operations::TIME_CHANGE);
    }
    if class == Some(ClassId::IDENTITY) && service == ServiceCode::RESET {
        ops.insert(Operations::DEVICE_RESET);
    }
    if class == Some(ClassId::LOGIX_CONTROLLER)
        && (service == ServiceCode::START || service == ServiceCode::STOP)
    {
        ops.insert(Operations::MODE_CHANGE);
    }
    if let Some(c) = class
        && c.is_vendor_specific()
        && c != ClassId::SYMBOL
        && c != ClassId::NON_VOLATILE_STORAGE
        && (service == ServiceCode::CREATE || service == ServiceCode::DELETE)
    {
        ops.insert(Operations::PROGRAM_CHANGE);
    }
    ops
}

/// The 24-byte encapsulation header (Vol. 2, §2-3.1), all fields little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncapHeader {
    /// Command.
    pub command: Command,
    /// Bytes of command-specific data after the header.
    pub length: u16,
    /// Session handle (0 before RegisterSession).
    pub session_handle: u32,
    /// Status (0 in requests).
    pub status: EncapStatus,
    /// Opaque context echoed by the receiver in the reply.
    pub sender_context: [u8; 8],
    /// Options (must be 0).
    pub options: u32,
}

/// One encapsulation message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnipMessage<'a> {
    /// The header.
    pub header: EncapHeader,
    /// The command-specific data, undecoded.
    pub raw_data: &'a [u8],
    /// The command-specific data, decoded.
    pub data: CommandData<'a>,
    /// Anomalies found anywhere in the message (including its CIP messages).
    pub anomalies: Anomalies,
}

impl<'a> EnipMessage<'a> {
    /// The CIP messages carried (unconnected or connected data items).
    pub fn cip(&self) -> impl Iterator<Item = &CipPayload<'a>> {
        let items: &[CpfItem<'a>] = match &self.data {
            CommandData::Send(s) => &s.items,
            _ => &[],
        };
        items.iter().filter_map(|i| match i {
            CpfItem::UnconnectedData(p) => Some(p),
            CpfItem::ConnectedData { payload, .. } => Some(payload),
            _ => None,
        })
    }

    /// The connection id of a connected message (SendUnitData).
    pub fn connection_id(&self) -> Option<u32> {
        match &self.data {
            CommandData::Send(s) => s.items.iter().find_map(|i| match i {
                CpfItem::ConnectedAddress { connection_id } => Some(*connection_id),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The CIP sequence count of a connected message (SendUnitData).
    pub fn sequence_count(&self) -> Option<u16> {
        match &self.data {
            CommandData::Send(s) => s.items.iter().find_map(|i| match i {
                CpfItem::ConnectedData { sequence_count, .. } => Some(*sequence_count),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Identity items of a ListIdentity reply.
    pub fn identities(&self) -> impl Iterator<Item = &ListIdentityItem<'a>> {
        let items: &[CpfItem<'a>] = match &self.data {
            CommandData::Items(items) => items,
            _ => &[],
        };
        items.iter().filter_map(|i| match i {
            CpfItem::ListIdentity(id) => Some(id),
            _ => None,
        })
    }
}

/// Command-specific data, by command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandData<'a> {
    /// No data (List requests, UnRegisterSession, error replies).
    Empty,
    /// NOP: data the receiver ignores.
    Nop(&'a [u8]),
    /// RegisterSession request or reply.
    RegisterSession {
        /// Requested protocol version (1).
        protocol_version: u16,
        /// Option flags (0).
        options: u16,
    },
    /// A List reply (ListIdentity, ListServices, ListInterfaces): CPF items.
    Items(Vec<CpfItem<'a>>),
    /// SendRRData or SendUnitData.
    Send(SendData<'a>),
    /// Data not decoded (unknown command, or too short for its structure).
    Raw(&'a [u8]),
}

/// SendRRData / SendUnitData data (Vol. 2, §2-4.7, §2-4.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendData<'a> {
    /// Interface handle (0 = CIP).
    pub interface_handle: u32,
    /// Timeout in seconds (SendRRData; 0 for SendUnitData).
    pub timeout: u16,
    /// The Common Packet Format items.
    pub items: Vec<CpfItem<'a>>,
}

/// A Common Packet Format item (Vol. 2, §2-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CpfItem<'a> {
    /// Null address item.
    NullAddress,
    /// Connected address item.
    ConnectedAddress {
        /// Connection identifier.
        connection_id: u32,
    },
    /// Sequenced address item (class 0/1 I/O).
    SequencedAddress {
        /// Connection identifier.
        connection_id: u32,
        /// Encapsulation sequence number.
        sequence: u32,
    },
    /// Unconnected data item: a CIP message.
    UnconnectedData(CipPayload<'a>),
    /// Connected data item of a class-3 transport (SendUnitData).
    ConnectedData {
        /// CIP sequence count.
        sequence_count: u16,
        /// The CIP message.
        payload: CipPayload<'a>,
    },
    /// Connected data item of class 0/1 I/O (opaque application data).
    IoData(&'a [u8]),
    /// ListIdentity reply item.
    ListIdentity(ListIdentityItem<'a>),
    /// ListServices reply item.
    ListServices(ServiceInfo<'a>),
    /// Socket address item (O->T or T->O).
    SockAddr {
        /// Which of the two.
        item_type: ItemType,
        /// The address.
        addr: SockAddr,
    },
    /// Any other item, kept raw.
    Other {
        /// Item type.
        item_type: ItemType,
        /// Item data.
        data: &'a [u8],
    },
}

/// A socket address as carried in CPF items (big-endian, like `sockaddr_in`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockAddr {
    /// Address family (2 = AF_INET).
    pub family: u16,
    /// Port.
    pub port: u16,
    /// IPv4 address.
    pub addr: [u8; 4],
}

/// Identity attributes of a device (Identity object attributes 1–7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity<'a> {
    /// Vendor ID.
    pub vendor_id: u16,
    /// Device type (e.g. 12 communications adapter, 14 PLC).
    pub device_type: u16,
    /// Product code.
    pub product_code: u16,
    /// Major revision (firmware).
    pub revision_major: u8,
    /// Minor revision (firmware).
    pub revision_minor: u8,
    /// Status word.
    pub status: u16,
    /// Serial number.
    pub serial_number: u32,
    /// Product name (model), raw bytes.
    pub product_name: &'a [u8],
}

impl Identity<'_> {
    /// The product name as text, if it is UTF-8 (it is ASCII in practice).
    pub fn product_name_str(&self) -> Option<&str> {
        std::str::from_utf8(self.product_name).ok()
    }
}

/// One item of a ListIdentity reply (Vol. 2, §2-4.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListIdentityItem<'a> {
    /// Encapsulation protocol version.
    pub protocol_version: u16,
    /// The device's socket address.
    pub socket: SockAddr,
    /// Identity attributes.
    pub identity: Identity<'a>,
    /// Device state, when present.
    pub state: Option<u8>,
}

/// One item of a ListServices reply (Vol. 2, §2-4.6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceInfo<'a> {
    /// Encapsulation protocol version.
    pub protocol_version: u16,
    /// Capability flags (bit 5: CIP over TCP; bit 8: class 0/1 over UDP).
    pub capability_flags: u16,
    /// Service name, NUL padded to 16 bytes.
    pub name: &'a [u8],
}

/// The bytes of a CIP message and, if they frame, the decoded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CipPayload<'a> {
    /// The raw message.
    pub raw: &'a [u8],
    /// The decoded message, `None` if it could not be framed.
    pub message: Option<CipMessage<'a>>,
}

impl CipPayload<'_> {
    /// The first byte (service code and response bit), even when the
    /// message does not frame: enough to count a truncated request or reply.
    pub fn service_byte(&self) -> Option<u8> {
        Reader::new(self.raw).u8().ok()
    }
}

/// A CIP explicit message: a Message Router request or response (Vol. 1, §2-4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CipMessage<'a> {
    /// The service byte as sent (bit 7 = response).
    pub raw_service: u8,
    /// The service code without the response bit.
    pub service: ServiceCode,
    /// Request or response header.
    pub kind: CipKind<'a>,
    /// Service data after the header.
    pub data: &'a [u8],
    /// Service-specific decoding of `data`, where the service is known.
    pub body: ServiceBody<'a>,
}

impl<'a> CipMessage<'a> {
    /// Whether this is a response.
    pub fn is_response(&self) -> bool {
        matches!(self.kind, CipKind::Response { .. })
    }

    /// The request path (requests only).
    pub fn path(&self) -> Option<Epath<'a>> {
        match self.kind {
            CipKind::Request { path } => Some(path),
            CipKind::Response { .. } => None,
        }
    }

    /// What the request addresses ([`Target::None`] for responses).
    pub fn target(&self) -> Target {
        self.path().map_or(Target::None, |p| p.target())
    }

    /// The general status (responses only).
    pub fn general_status(&self) -> Option<GeneralStatus> {
        match self.kind {
            CipKind::Response { general_status, .. } => Some(general_status),
            CipKind::Request { .. } => None,
        }
    }

    /// The service name, taking the class into account for class-specific codes.
    pub fn service_name(&self) -> Option<&'static str> {
        self.service.name_for(self.target())
    }

    /// Security-relevant operations of a request (empty for responses).
    pub fn operations(&self) -> Operations {
        if self.is_response() { Operations::NONE } else { operations(self.service, self.target()) }
    }

    /// Messages embedded in this one: the services of a Multiple Service
    /// Packet, or the request routed by an Unconnected Send.
    pub fn embedded(&self) -> &[CipMessage<'a>] {
        match &self.body {
            ServiceBody::MultipleService(v) => v,
            ServiceBody::UnconnectedSend(u) => match &u.message.message {
                Some(m) => std::slice::from_ref(m),
                None => &[],
            },
            _ => &[],
        }
    }
}

/// Request or response header of a CIP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipKind<'a> {
    /// A request with its path.
    Request {
        /// The request path.
        path: Epath<'a>,
    },
    /// A response with its status.
    Response {
        /// General status.
        general_status: GeneralStatus,
        /// Additional (extended) status, raw 16-bit little-endian words.
        additional_status: &'a [u8],
    },
}

/// Service-specific data, decoded where the service is known from the message alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceBody<'a> {
    /// Not decoded (service data is in [`CipMessage::data`]).
    None,
    /// Multiple Service Packet request or response: the embedded messages.
    MultipleService(Vec<CipMessage<'a>>),
    /// Unconnected Send request (Connection Manager).
    UnconnectedSend(Box<UnconnectedSend<'a>>),
    /// Forward Open or Large Forward Open request (Connection Manager).
    ForwardOpen(ForwardOpen<'a>),
    /// Forward Close request (Connection Manager).
    ForwardClose(ForwardClose<'a>),
}

/// Unconnected Send request (Vol. 1, §3-5.6.3 / Table 3-5.21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnconnectedSend<'a> {
    /// Priority and tick time.
    pub priority_tick: u8,
    /// Timeout in ticks.
    pub timeout_ticks: u8,
    /// The embedded message request.
    pub message: CipPayload<'a>,
    /// Route path to the target (port segments).
    pub route_path: Epath<'a>,
}

/// Forward Open / Large Forward Open request (Vol. 1, §3-5.6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardOpen<'a> {
    /// Large Forward Open (32-bit network connection parameters).
    pub large: bool,
    /// Priority and tick time.
    pub priority_tick: u8,
    /// Timeout in ticks.
    pub timeout_ticks: u8,
    /// O->T network connection id.
    pub o_t_connection_id: u32,
    /// T->O network connection id.
    pub t_o_connection_id: u32,
    /// Connection serial number.
    pub connection_serial: u16,
    /// Originator vendor id.
    pub originator_vendor_id: u16,
    /// Originator serial number.
    pub originator_serial: u32,
    /// Connection timeout multiplier.
    pub timeout_multiplier: u8,
    /// O->T requested packet interval (µs).
    pub o_t_rpi: u32,
    /// O->T network connection parameters.
    pub o_t_params: u32,
    /// T->O requested packet interval (µs).
    pub t_o_rpi: u32,
    /// T->O network connection parameters.
    pub t_o_params: u32,
    /// Transport class and trigger.
    pub transport_trigger: u8,
    /// Connection path.
    pub connection_path: Epath<'a>,
}

impl ForwardOpen<'_> {
    /// Transport class (0–3) from the transport/trigger byte.
    pub fn transport_class(&self) -> u8 {
        self.transport_trigger & 0x0F
    }
}

/// Forward Close request (Vol. 1, §3-5.6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardClose<'a> {
    /// Priority and tick time.
    pub priority_tick: u8,
    /// Timeout in ticks.
    pub timeout_ticks: u8,
    /// Connection serial number.
    pub connection_serial: u16,
    /// Originator vendor id.
    pub originator_vendor_id: u16,
    /// Originator serial number.
    pub originator_serial: u32,
    /// Connection path.
    pub connection_path: Epath<'a>,
}

/// Successful Forward Open reply (Vol. 1, Table 3-5.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardOpenReply<'a> {
    /// O->T network connection id chosen by the target.
    pub o_t_connection_id: u32,
    /// T->O network connection id.
    pub t_o_connection_id: u32,
    /// Connection serial number.
    pub connection_serial: u16,
    /// Originator vendor id.
    pub originator_vendor_id: u16,
    /// Originator serial number.
    pub originator_serial: u32,
    /// O->T actual packet interval (µs).
    pub o_t_api: u32,
    /// T->O actual packet interval (µs).
    pub t_o_api: u32,
    /// Application reply.
    pub application_reply: &'a [u8],
}

/// A class-1 (or class-0) I/O datagram on UDP 2222 (Vol. 2, §2-6.3 and §3-2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoFrame<'a> {
    /// Connection id of the sequenced address item.
    pub connection_id: Option<u32>,
    /// Encapsulation sequence number of the sequenced address item.
    pub sequence: Option<u32>,
    /// Application data of the connected data item.
    pub data: Option<&'a [u8]>,
    /// All items.
    pub items: Vec<CpfItem<'a>>,
    /// Anomalies.
    pub anomalies: Anomalies,
}

/// A padded EPATH (Vol. 1, Appendix C), as sent in requests and connection paths.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Epath<'a> {
    raw: &'a [u8],
}

impl fmt::Debug for Epath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.segments()).finish()
    }
}

impl<'a> Epath<'a> {
    /// A path over raw bytes (not validated; see [`Epath::is_well_formed`]).
    pub fn new(raw: &'a [u8]) -> Epath<'a> {
        Epath { raw }
    }

    /// The raw bytes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The segments in order; the iterator yields one `Err` and stops at the
    /// first segment that cannot be decoded.
    pub fn segments(&self) -> Segments<'a> {
        Segments { r: Reader::new(self.raw), failed: false }
    }

    /// Whether every segment decodes.
    pub fn is_well_formed(&self) -> bool {
        self.segments().all(|s| s.is_ok())
    }

    fn logical(&self, want: LogicalType) -> Option<u32> {
        self.segments().map_while(Result::ok).find_map(|s| match s {
            Segment::Logical { kind, value } if kind == want => Some(value),
            _ => None,
        })
    }

    /// The first class id.
    pub fn class(&self) -> Option<ClassId> {
        self.logical(LogicalType::CLASS_ID).map(ClassId)
    }

    /// The first instance id.
    pub fn instance(&self) -> Option<u32> {
        self.logical(LogicalType::INSTANCE_ID)
    }

    /// The first attribute id.
    pub fn attribute(&self) -> Option<u32> {
        self.logical(LogicalType::ATTRIBUTE_ID)
    }

    /// The first member id (Logix array element).
    pub fn member(&self) -> Option<u32> {
        self.logical(LogicalType::MEMBER_ID)
    }

    /// The first connection point.
    pub fn connection_point(&self) -> Option<u32> {
        self.logical(LogicalType::CONNECTION_POINT)
    }

    /// Symbol names (tag name parts) in order: ANSI extended symbol and
    /// symbolic segments.
    pub fn symbols(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.segments().map_while(Result::ok).filter_map(|s| match s {
            Segment::AnsiSymbol(n) | Segment::Symbolic(n) => Some(n),
            _ => None,
        })
    }

    /// Whether the path has a symbolic segment.
    pub fn is_symbolic(&self) -> bool {
        self.symbols().next().is_some()
    }

    /// What the path addresses: the first class, else symbolic, else none.
    pub fn target(&self) -> Target {
        match self.class() {
            Some(c) => Target::Class(c),
            None if self.is_symbolic() => Target::Symbolic,
            None => Target::None,
        }
    }
}

wire_enum! {
    /// Logical segment type (bits 4–2 of a logical segment byte).
    LogicalType(u8) {
        /// Class id.
        CLASS_ID = 0 => "Class ID",
        /// Instance id.
        INSTANCE_ID = 1 => "Instance ID",
        /// Member id.
        MEMBER_ID = 2 => "Member ID",
        /// Connection point.
        CONNECTION_POINT = 3 => "Connection Point",
        /// Attribute id.
        ATTRIBUTE_ID = 4 => "Attribute ID",
        /// Special (electronic key).
        SPECIAL = 5 => "Special",
        /// Service id.
        SERVICE_ID = 6 => "Service ID",
        /// Extended logical.
        EXTENDED = 7 => "Extended Logical",
    }
}

/// One EPATH segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Port segment: route through a port to a link address.
    Port {
        /// Port identifier.
        port: u16,
        /// Link address (node number or IP address text).
        link_address: &'a [u8],
    },
    /// Logical segment (class, instance, attribute, …).
    Logical {
        /// Logical type.
        kind: LogicalType,
        /// Value (8, 16 or 32 bits on the wire).
        value: u32,
    },
    /// Electronic key (logical special, format 4).
    ElectronicKey(&'a [u8]),
    /// Extended logical segment.
    ExtendedLogical {
        /// Extended logical type.
        kind: u8,
        /// Value.
        value: u32,
    },
    /// Network segment.
    Network {
        /// Segment byte.
        segment: u8,
        /// Data.
        data: &'a [u8],
    },
    /// Symbolic segment (ASCII name, 1–31 bytes, or extended format).
    Symbolic(&'a [u8]),
    /// Simple data segment.
    Data(&'a [u8]),
    /// ANSI extended symbol segment (Logix tag name part).
    AnsiSymbol(&'a [u8]),
}

/// Iterator over the segments of an [`Epath`].
#[derive(Clone, Debug)]
pub struct Segments<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<Segment<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || !self.r.any_left() {
            return None;
        }
        let res = super::parser::segment(&mut self.r);
        if res.is_err() {
            self.failed = true;
        }
        Some(res)
    }
}
