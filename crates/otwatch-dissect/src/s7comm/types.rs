//! Messages and wire enums of TPKT, COTP, S7comm and S7comm-plus. Plain data
//! borrowing from the input; wire enums keep the raw value so unknown codes
//! survive. Decoding lives in `parser.rs`; nothing here reads bytes.

use super::anomaly::Anomalies;

/// Declares a newtype over a wire integer with named constants, `name()` and `Display`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident($ty:ty) {
            $($konst:ident = $value:expr => $text:expr,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $ty);

        impl $name {
            $(
                #[doc = $text]
                pub const $konst: $name = $name($value);
            )*

            /// The standard name, or `None` for a value this dissector does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }

            /// Whether the value is one this dissector knows by name.
            pub fn is_known(self) -> bool {
                self.name().is_some()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "unknown (0x{:x})", self.0),
                }
            }
        }
    };
}

wire_enum! {
    /// COTP TPDU code: the high nibble of the type byte (ISO 8073 / X.224, 13.1).
    CotpPduType(u8) {
        ED = 0x10 => "ED Expedited Data",
        EA = 0x20 => "EA Expedited Data Acknowledgement",
        RJ = 0x50 => "RJ Reject",
        AK = 0x60 => "AK Data Acknowledgement",
        ER = 0x70 => "ER TPDU Error",
        DR = 0x80 => "DR Disconnect Request",
        DC = 0xc0 => "DC Disconnect Confirm",
        CC = 0xd0 => "CC Connect Confirm",
        CR = 0xe0 => "CR Connect Request",
        DT = 0xf0 => "DT Data",
    }
}

wire_enum! {
    /// S7comm message type (ROSCTR, "remote operating service control").
    Rosctr(u8) {
        JOB = 0x01 => "Job",
        ACK = 0x02 => "Ack",
        ACK_DATA = 0x03 => "Ack_Data",
        USERDATA = 0x07 => "Userdata",
    }
}

wire_enum! {
    /// S7comm function code (first parameter byte of Job, Ack and Ack_Data).
    Function(u8) {
        CPU_SERVICES = 0x00 => "CPU services",
        READ_VAR = 0x04 => "Read Var",
        WRITE_VAR = 0x05 => "Write Var",
        REQUEST_DOWNLOAD = 0x1a => "Request download",
        DOWNLOAD_BLOCK = 0x1b => "Download block",
        DOWNLOAD_ENDED = 0x1c => "Download ended",
        START_UPLOAD = 0x1d => "Start upload",
        UPLOAD = 0x1e => "Upload",
        END_UPLOAD = 0x1f => "End upload",
        PI_SERVICE = 0x28 => "PI-Service",
        PLC_STOP = 0x29 => "PLC Stop",
        SETUP_COMMUNICATION = 0xf0 => "Setup communication",
    }
}

impl Function {
    /// Whether the function belongs to block download (0x1a–0x1c: writes a program block).
    pub fn is_download(self) -> bool {
        matches!(self.0, 0x1a..=0x1c)
    }

    /// Whether the function belongs to block upload (0x1d–0x1f: reads a program block).
    pub fn is_upload(self) -> bool {
        matches!(self.0, 0x1d..=0x1f)
    }
}

wire_enum! {
    /// Error class in the header of Ack and Ack_Data messages.
    ErrorClass(u8) {
        NO_ERROR = 0x00 => "No error",
        APPLICATION_RELATIONSHIP = 0x81 => "Application relationship",
        OBJECT_DEFINITION = 0x82 => "Object definition",
        NO_RESOURCES = 0x83 => "No resources available",
        SERVICE_PROCESSING = 0x84 => "Error on service processing",
        SUPPLIES = 0x85 => "Error on supplies",
        ACCESS = 0x87 => "Access error",
    }
}

wire_enum! {
    /// Memory area of an S7ANY address.
    Area(u8) {
        SYSTEM_INFO_200 = 0x03 => "System info of 200 family",
        SYSTEM_FLAGS_200 = 0x05 => "System flags of 200 family",
        ANALOG_INPUTS_200 = 0x06 => "Analog inputs of 200 family",
        ANALOG_OUTPUTS_200 = 0x07 => "Analog outputs of 200 family",
        COUNTERS = 0x1c => "S7 counters (C)",
        TIMERS = 0x1d => "S7 timers (T)",
        IEC_COUNTERS_200 = 0x1e => "IEC counters (200 family)",
        IEC_TIMERS_200 = 0x1f => "IEC timers (200 family)",
        PERIPHERAL = 0x80 => "Direct peripheral access (P)",
        INPUTS = 0x81 => "Inputs (I)",
        OUTPUTS = 0x82 => "Outputs (Q)",
        FLAGS = 0x83 => "Flags (M)",
        DATA_BLOCKS = 0x84 => "Data blocks (DB)",
        INSTANCE_DATA_BLOCKS = 0x85 => "Instance data blocks (DI)",
        LOCAL_DATA = 0x86 => "Local data (L)",
        V_MEMORY = 0x87 => "Unknown yet (V)",
    }
}

wire_enum! {
    /// Transport size (data type) of an S7ANY item specification.
    TransportSize(u8) {
        BIT = 0x01 => "BIT",
        BYTE = 0x02 => "BYTE",
        CHAR = 0x03 => "CHAR",
        WORD = 0x04 => "WORD",
        INT = 0x05 => "INT",
        DWORD = 0x06 => "DWORD",
        DINT = 0x07 => "DINT",
        REAL = 0x08 => "REAL",
        DATE = 0x09 => "DATE",
        TOD = 0x0a => "TOD",
        TIME = 0x0b => "TIME",
        S5TIME = 0x0c => "S5TIME",
        DATE_AND_TIME = 0x0f => "DATE_AND_TIME",
        COUNTER = 0x1c => "COUNTER",
        TIMER = 0x1d => "TIMER",
        IEC_TIMER = 0x1e => "IEC TIMER",
        IEC_COUNTER = 0x1f => "IEC COUNTER",
        HS_COUNTER = 0x20 => "HS COUNTER",
    }
}

wire_enum! {
    /// Transport size of a data item (how its length field counts).
    DataTransportSize(u8) {
        NULL = 0x00 => "NULL",
        BIT = 0x03 => "BIT",
        BYTE_WORD_DWORD = 0x04 => "BYTE/WORD/DWORD",
        INTEGER = 0x05 => "INTEGER",
        DINTEGER = 0x06 => "DINTEGER",
        REAL = 0x07 => "REAL",
        OCTET_STRING = 0x09 => "OCTET STRING",
    }
}

impl DataTransportSize {
    /// Whether the item's length field counts bits (otherwise bytes).
    pub fn length_in_bits(self) -> bool {
        matches!(self.0, 0x03..=0x05)
    }
}

wire_enum! {
    /// Return code of a data item (and of userdata data).
    ReturnCode(u8) {
        RESERVED = 0x00 => "Reserved",
        HARDWARE_FAULT = 0x01 => "Hardware error",
        ACCESS_DENIED = 0x03 => "Accessing the object not allowed",
        INVALID_ADDRESS = 0x05 => "Invalid address",
        DATA_TYPE_NOT_SUPPORTED = 0x06 => "Data type not supported",
        DATA_TYPE_INCONSISTENT = 0x07 => "Data type inconsistent",
        OBJECT_DOES_NOT_EXIST = 0x0a => "Object does not exist",
        SUCCESS = 0xff => "Success",
    }
}

wire_enum! {
    /// Syntax id of a variable specification (how the address is written).
    SyntaxId(u8) {
        S7ANY = 0x10 => "S7ANY",
        PBC_ID = 0x13 => "PBC-R_ID",
        ALARM_LOCKFREE = 0x15 => "ALARM_LOCKFREE",
        ALARM_IND = 0x16 => "ALARM_IND",
        ALARM_ACK = 0x19 => "ALARM_ACK",
        ALARM_QUERYREQ = 0x1a => "ALARM_QUERYREQ",
        NOTIFY_IND = 0x1c => "NOTIFY_IND",
        NCK = 0x82 => "NCK",
        NCK_METRIC = 0x83 => "NCK_M",
        NCK_INCH = 0x84 => "NCK_I",
        DRIVEESANY = 0xa2 => "DRIVEESANY",
        S1200SYM = 0xb2 => "1200SYM",
        DBREAD = 0xb0 => "DBREAD",
    }
}

wire_enum! {
    /// Block type, written as two hex digits in block file names.
    BlockType(u8) {
        OB = 0x08 => "OB",
        DB = 0x0a => "DB",
        SDB = 0x0b => "SDB",
        FC = 0x0c => "FC",
        SFC = 0x0d => "SFC",
        FB = 0x0e => "FB",
        SFB = 0x0f => "SFB",
    }
}

wire_enum! {
    /// Userdata type: the high nibble of the type/group byte.
    UserdataType(u8) {
        PUSH = 0x0 => "Push",
        NC_PUSH = 0x3 => "NC Push",
        REQUEST = 0x4 => "Request",
        NC_REQUEST = 0x7 => "NC Request",
        RESPONSE = 0x8 => "Response",
        NC_RESPONSE = 0xb => "NC Response",
    }
}

wire_enum! {
    /// Userdata function group: the low nibble of the type/group byte.
    FunctionGroup(u8) {
        MODE_TRANSITION = 0x0 => "Mode-transition",
        PROGRAMMER = 0x1 => "Programmer commands",
        CYCLIC_DATA = 0x2 => "Cyclic data",
        BLOCK_FUNCTIONS = 0x3 => "Block functions",
        CPU_FUNCTIONS = 0x4 => "CPU functions",
        SECURITY = 0x5 => "Security",
        PBC = 0x6 => "PBC BSEND/BRECV",
        TIME_FUNCTIONS = 0x7 => "Time functions",
        NC_PROGRAMMING = 0xf => "NC programming",
    }
}

wire_enum! {
    /// CPU operating mode reported by a mode-transition push (group 0).
    CpuMode(u8) {
        STOP = 0x00 => "STOP",
        WARM_RESTART = 0x01 => "Warm Restart",
        RUN = 0x02 => "RUN",
        HOT_RESTART = 0x03 => "Hot Restart",
        HOLD = 0x04 => "HOLD",
        COLD_RESTART = 0x06 => "Cold Restart",
        RUN_REDUNDANT = 0x09 => "RUN_R (H-System redundant)",
        LINK_UP = 0x0b => "LINK-UP",
        UPDATE = 0x0c => "UPDATE",
    }
}

/// Well-known userdata subfunctions, named per function group.
pub mod subfunction {
    /// Group 1 (programmer commands): request diagnostic data (type 1).
    pub const PROG_REQUEST_DIAG_DATA: u8 = 0x01;
    /// Group 1: variable table.
    pub const PROG_VARTAB: u8 = 0x02;
    /// Group 1: erase.
    pub const PROG_ERASE: u8 = 0x0c;
    /// Group 1: forces (forcing values onto I/O).
    pub const PROG_FORCES: u8 = 0x10;
    /// Group 3 (block functions): list blocks.
    pub const BLOCK_LIST: u8 = 0x01;
    /// Group 3: list blocks of a type.
    pub const BLOCK_LIST_OF_TYPE: u8 = 0x02;
    /// Group 3: get block info.
    pub const BLOCK_INFO: u8 = 0x03;
    /// Group 4 (CPU functions): read SZL.
    pub const CPU_READ_SZL: u8 = 0x01;
    /// Group 4: message service.
    pub const CPU_MESSAGE_SERVICE: u8 = 0x02;
    /// Group 4: diagnostic message.
    pub const CPU_DIAGNOSTIC_MESSAGE: u8 = 0x03;
    /// Group 5 (security): PLC password.
    pub const SECURITY_PASSWORD: u8 = 0x01;
    /// Group 7 (time functions): read clock.
    pub const TIME_READ_CLOCK: u8 = 0x01;
    /// Group 7: set clock.
    pub const TIME_SET_CLOCK: u8 = 0x02;
    /// Group 7: read clock (following).
    pub const TIME_READ_CLOCK_FOLLOWING: u8 = 0x03;
    /// Group 7: set clock (second variant).
    pub const TIME_SET_CLOCK_2: u8 = 0x04;
}

/// The name of a userdata subfunction within its function group, if known.
pub fn subfunction_name(group: FunctionGroup, sub: u8) -> Option<&'static str> {
    let name = match (group.0, sub) {
        (0x1, 0x01) => "Request diag data (Type 1)",
        (0x1, 0x02) => "VarTab",
        (0x1, 0x0c) => "Erase",
        (0x1, 0x0e) => "Read diag data",
        (0x1, 0x0f) => "Remove diag data",
        (0x1, 0x10) => "Forces",
        (0x1, 0x13) => "Request diag data (Type 2)",
        (0x2, 0x01) => "Memory",
        (0x2, 0x04) => "Unsubscribe",
        (0x2, 0x05) => "Memory2",
        (0x2, 0x07) => "Change driven subscribe",
        (0x3, 0x01) => "List blocks",
        (0x3, 0x02) => "List blocks of type",
        (0x3, 0x03) => "Get block info",
        (0x4, 0x01) => "Read SZL",
        (0x4, 0x02) => "Message service",
        (0x4, 0x03) => "Diagnostic message",
        (0x4, 0x05) => "ALARM_8 indication",
        (0x4, 0x06) => "NOTIFY indication",
        (0x4, 0x07) => "ALARM_8 lock",
        (0x4, 0x08) => "ALARM_8 unlock",
        (0x4, 0x09) => "SCAN indication",
        (0x4, 0x0b) => "ALARM ack",
        (0x4, 0x0c) => "ALARM ack indication",
        (0x4, 0x0d) => "ALARM lock indication",
        (0x4, 0x0e) => "ALARM unlock indication",
        (0x4, 0x11) => "ALARM_SQ indication",
        (0x4, 0x12) => "ALARM_S indication",
        (0x4, 0x13) => "ALARM query",
        (0x4, 0x16) => "NOTIFY_8 indication",
        (0x5, 0x01) => "PLC password",
        (0x5, 0x02) => "Clean session",
        (0x7, 0x01) => "Read clock",
        (0x7, 0x02) => "Set clock",
        (0x7, 0x03) => "Read clock (following)",
        (0x7, 0x04) => "Set clock",
        _ => return None,
    };
    Some(name)
}

wire_enum! {
    /// S7comm-plus protocol version (second byte after 0x72).
    PlusVersion(u8) {
        V1 = 0x01 => "V1",
        V2 = 0x02 => "V2",
        V3 = 0x03 => "V3",
        SYSTEM_EVENT = 0xfe => "System event",
    }
}

wire_enum! {
    /// S7comm-plus opcode (first byte of the data part).
    PlusOpcode(u8) {
        RESPONSE2 = 0x02 => "Response2",
        REQUEST = 0x31 => "Request",
        RESPONSE = 0x32 => "Response",
        NOTIFICATION = 0x33 => "Notification",
    }
}

wire_enum! {
    /// S7comm-plus function code (requests and responses).
    PlusFunction(u16) {
        ERROR = 0x04b1 => "Error",
        EXPLORE = 0x04bb => "Explore",
        CREATE_OBJECT = 0x04ca => "CreateObject",
        DELETE_OBJECT = 0x04d4 => "DeleteObject",
        SET_VARIABLE = 0x04f2 => "SetVariable",
        GET_VARIABLE = 0x04fc => "GetVariable",
        ADD_LINK = 0x0506 => "AddLink",
        REMOVE_LINK = 0x051a => "RemoveLink",
        GET_LINK = 0x0524 => "GetLink",
        SET_MULTI_VARIABLES = 0x0542 => "SetMultiVariables",
        GET_MULTI_VARIABLES = 0x054c => "GetMultiVariables",
        BEGIN_SEQUENCE = 0x0556 => "BeginSequence",
        END_SEQUENCE = 0x0560 => "EndSequence",
        INVOKE = 0x056b => "Invoke",
        SET_VAR_SUB_STREAMED = 0x057c => "SetVarSubStreamed",
        GET_VAR_SUB_STREAMED = 0x0586 => "GetVarSubStreamed",
        GET_VARIABLES_ADDRESS = 0x0590 => "GetVariablesAddress",
        ABORT = 0x059a => "Abort",
        ERROR2 = 0x05a9 => "Error2",
        INIT_SSL = 0x05b3 => "InitSsl",
    }
}

impl PlusFunction {
    /// Whether the function changes PLC state (writes variables, creates or deletes objects).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            PlusFunction::SET_VARIABLE
                | PlusFunction::SET_MULTI_VARIABLES
                | PlusFunction::SET_VAR_SUB_STREAMED
                | PlusFunction::CREATE_OBJECT
                | PlusFunction::DELETE_OBJECT
                | PlusFunction::INVOKE
        )
    }
}

/// One TPKT packet (RFC 1006) carrying one COTP TPDU, with what it carries decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tpdu<'a> {
    /// TPKT version (3).
    pub tpkt_version: u8,
    /// TPKT length: the whole packet including the 4-byte TPKT header.
    pub tpkt_length: u16,
    /// The COTP TPDU.
    pub cotp: Cotp<'a>,
    /// What the COTP user data carries (decoded only for a DT with EOT set).
    pub payload: Payload<'a>,
    /// TPKT/COTP-level anomalies (the S7 PDU has its own).
    pub anomalies: Anomalies,
}

impl<'a> Tpdu<'a> {
    /// The union of the TPDU's and the payload's anomalies.
    pub fn all_anomalies(&self) -> Anomalies {
        self.anomalies.union(self.payload.anomalies())
    }
}

/// A COTP TPDU header and its user data (ISO 8073, class 0 as used by RFC 1006).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cotp<'a> {
    /// Length indicator: header length excluding this byte.
    pub length_indicator: u8,
    /// The TPDU code (high nibble of the type byte).
    pub pdu_type: CotpPduType,
    /// The whole type byte (the low nibble is the credit or zero).
    pub type_byte: u8,
    /// Type-specific header fields.
    pub kind: CotpKind<'a>,
    /// User data after the header (the S7 PDU, or a segment of it, for DT).
    pub user_data: &'a [u8],
}

/// Type-specific fields of a COTP TPDU header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CotpKind<'a> {
    /// DT data TPDU.
    Data {
        /// End of TSDU: this is the last (or only) segment.
        eot: bool,
        /// TPDU send sequence number (7 bits).
        tpdu_number: u8,
    },
    /// CR or CC: connection establishment with its parameters.
    Connect(ConnectParams<'a>),
    /// DR or DC: disconnection.
    Disconnect {
        /// Destination reference.
        dst_ref: u16,
        /// Source reference.
        src_ref: u16,
        /// Disconnect reason (DR only).
        reason: Option<u8>,
    },
    /// Any other TPDU: its fixed and variable header bytes after the type byte.
    Other(&'a [u8]),
}

/// Parameters of a COTP connection request or confirm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectParams<'a> {
    /// Destination reference.
    pub dst_ref: u16,
    /// Source reference.
    pub src_ref: u16,
    /// Class (high nibble) and options (low nibble).
    pub class_option: u8,
    /// TPDU size parameter (0xc0): log2 of the maximum TPDU size.
    pub tpdu_size: Option<u8>,
    /// Calling (source) TSAP (0xc1).
    pub calling_tsap: Option<&'a [u8]>,
    /// Called (destination) TSAP (0xc2).
    pub called_tsap: Option<&'a [u8]>,
    /// The raw variable part (all parameters).
    pub parameters: &'a [u8],
}

/// An S7 TSAP decoded the usual way: connection type, rack and slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S7Tsap {
    /// Connection type: 1 PG (programming device), 2 OP (HMI), 3 S7 basic, 0x10.. others.
    pub connection_type: u8,
    /// Rack number (high 3 bits of the second byte).
    pub rack: u8,
    /// Slot number (low 5 bits of the second byte).
    pub slot: u8,
}

impl S7Tsap {
    /// Decodes a two-byte S7 TSAP; `None` for any other length.
    pub fn from_bytes(tsap: &[u8]) -> Option<S7Tsap> {
        match tsap {
            [kind, rs] => Some(S7Tsap {
                connection_type: *kind,
                rack: (rs & 0xe0).rotate_right(5),
                slot: rs & 0x1f,
            }),
            _ => None,
        }
    }
}

/// What one TPDU's user data carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// No user data (CR, CC, DR, or an empty DT).
    None,
    /// A complete S7comm PDU (protocol id 0x32).
    S7(Pdu<'a>),
    /// A complete S7comm-plus PDU (protocol id 0x72).
    S7Plus(PlusPdu<'a>),
    /// A DT without EOT: a segment to feed to a [`super::CotpReassembler`].
    Segment(&'a [u8]),
    /// User data that is neither S7comm nor S7comm-plus.
    Unknown(&'a [u8]),
}

impl<'a> Payload<'a> {
    /// The payload's own anomalies (none for segments and empty payloads).
    pub fn anomalies(&self) -> Anomalies {
        match self {
            Payload::S7(p) => p.anomalies,
            Payload::S7Plus(p) => p.anomalies,
            Payload::Unknown(_) => Anomalies::UNKNOWN_PAYLOAD,
            Payload::None | Payload::Segment(_) => Anomalies::NONE,
        }
    }
}

/// The fixed S7comm header (10 bytes, 12 with the error fields of Ack/Ack_Data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Message type.
    pub rosctr: Rosctr,
    /// Redundancy identification (reserved, normally 0).
    pub redundancy_id: u16,
    /// PDU reference: pairs a Job with its Ack/Ack_Data.
    pub pdu_ref: u16,
    /// Declared parameter length.
    pub param_len: u16,
    /// Declared data length.
    pub data_len: u16,
    /// Error class (Ack and Ack_Data only).
    pub error_class: Option<ErrorClass>,
    /// Error code (Ack and Ack_Data only).
    pub error_code: Option<u8>,
}

impl Header {
    /// Whether the header reports an error (a non-zero error class).
    pub fn is_error(&self) -> bool {
        self.error_class.is_some_and(|c| c.0 != 0)
    }

    /// Whether the message goes from client to PLC (Job), as opposed to an acknowledgement.
    pub fn is_request(&self) -> bool {
        self.rosctr == Rosctr::JOB
    }
}

/// A decoded S7comm PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// The fixed header.
    pub header: Header,
    /// The parameter part, decoded.
    pub param: Param<'a>,
    /// The raw data part (within the declared length and the bytes present).
    pub data: &'a [u8],
    /// S7-level anomalies.
    pub anomalies: Anomalies,
}

impl<'a> Pdu<'a> {
    /// The function code of a Job, Ack or Ack_Data parameter.
    pub fn function(&self) -> Option<Function> {
        match &self.param {
            Param::Function(f) => Some(f.function),
            _ => None,
        }
    }

    /// The userdata parameter, if this is a Userdata message.
    pub fn userdata(&self) -> Option<&Userdata<'a>> {
        match &self.param {
            Param::Userdata(u) => Some(u),
            _ => None,
        }
    }
}

/// The parameter part of an S7comm PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param<'a> {
    /// No parameter part (parameter length 0).
    None,
    /// Job, Ack or Ack_Data parameter: a function code and its fields.
    Function(FunctionParam<'a>),
    /// Userdata parameter (with the userdata data part decoded).
    Userdata(Userdata<'a>),
    /// A parameter of an unknown ROSCTR, undecoded.
    Raw(&'a [u8]),
}

/// A function code with its decoded fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionParam<'a> {
    /// The function code.
    pub function: Function,
    /// The function's fields (from the parameter part, plus items from the data part).
    pub detail: FunctionDetail<'a>,
}

/// The fields of a function, by function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FunctionDetail<'a> {
    /// Only the function code is present (typical of acknowledgements).
    Empty,
    /// 0xf0 Setup communication.
    Setup(SetupCommunication),
    /// 0x04 Read Var or 0x05 Write Var.
    Variables(VarAccess<'a>),
    /// 0x1a–0x1f block download and upload.
    Block(BlockControl<'a>),
    /// 0x28 PI service or 0x29 PLC Stop.
    Pi(PiService<'a>),
    /// Any other function: the parameter bytes after the function code.
    Raw(&'a [u8]),
}

/// Setup communication: negotiated queue depths and PDU size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetupCommunication {
    /// Reserved byte.
    pub reserved: u8,
    /// Max parallel jobs the calling side accepts.
    pub max_amq_calling: u16,
    /// Max parallel jobs the called side accepts.
    pub max_amq_called: u16,
    /// Negotiated PDU length.
    pub pdu_length: u16,
}

/// Read Var / Write Var: item addresses (Job) and data items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarAccess<'a> {
    /// Declared item count.
    pub item_count: u8,
    /// Variable specifications (Job only), at most [`super::MAX_ITEMS`].
    pub items: Vec<VarItem<'a>>,
    /// Data items: values of Write Var jobs and Read Var acks, at most [`super::MAX_ITEMS`].
    pub data_items: Vec<DataItem<'a>>,
    /// Return codes of a Write Var ack (one byte per item), at most [`super::MAX_ITEMS`].
    pub write_results: Vec<ReturnCode>,
}

/// One variable specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarItem<'a> {
    /// An S7ANY address (area, DB, byte.bit, type, count).
    Any(AnyAddress),
    /// Any other syntax: its id and raw address bytes.
    Other {
        /// Syntax id.
        syntax_id: SyntaxId,
        /// Address bytes after the syntax id.
        address: &'a [u8],
    },
}

/// An S7ANY address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnyAddress {
    /// Element type.
    pub transport_size: TransportSize,
    /// Number of elements.
    pub length: u16,
    /// Data block number (0 outside DB/DI).
    pub db_number: u16,
    /// Memory area.
    pub area: Area,
    /// Byte address.
    pub byte_address: u32,
    /// Bit address (0–7).
    pub bit_address: u8,
}

/// One data item: return code, transport size, length and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataItem<'a> {
    /// Return code (0xff success in responses; 0x00 in requests).
    pub return_code: ReturnCode,
    /// How the length counts.
    pub transport_size: DataTransportSize,
    /// The raw length field.
    pub length: u16,
    /// The value bytes.
    pub value: &'a [u8],
}

/// Block download/upload fields (0x1a–0x1f).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockControl<'a> {
    /// Function status (bit 0: more data following, bit 1: error).
    pub function_status: Option<u8>,
    /// Upload/download session id.
    pub session_id: Option<u32>,
    /// Block file name, e.g. `_0A00001P`.
    pub filename: Option<&'a [u8]>,
    /// The block named by the file name.
    pub block: Option<BlockName>,
    /// Request download: load memory length.
    pub load_memory_length: Option<u32>,
    /// Request download: MC7 code length.
    pub mc7_length: Option<u32>,
    /// Start upload ack: total block length.
    pub block_length: Option<u32>,
    /// Block bytes carried in the data part (download block ack, upload ack).
    pub block_data: Option<&'a [u8]>,
}

/// A block named in a file name: type, number and destination file system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockName {
    /// Block type (OB, DB, FC, ...).
    pub block_type: BlockType,
    /// Block number.
    pub number: u32,
    /// Destination file system: `P` passive, `A` active, `B` both.
    pub filesystem: u8,
}

/// PI service (0x28) or PLC Stop (0x29): a named program-invocation service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PiService<'a> {
    /// The service name, e.g. `P_PROGRAM`, `_INSE`, `_DELE`, `_MODU`, `_GARB`.
    pub service: &'a [u8],
    /// The raw parameter block (PI service only).
    pub parameter_block: &'a [u8],
    /// Block names in the parameter block (`_INSE`/`_DELE`), at most [`super::MAX_PI_BLOCKS`].
    pub blocks: Vec<(&'a [u8], Option<BlockName>)>,
}

/// PI services whose meaning is documented, with a description.
pub fn pi_service_description(service: &[u8]) -> Option<&'static str> {
    let d = match service {
        b"_INSE" => "Activates a PLC module (insert block)",
        b"_DELE" => "Removes a module from the PLC's passive file system (delete block)",
        b"P_PROGRAM" => "PLC start / stop",
        b"_MODU" => "PLC copy RAM to ROM",
        b"_GARB" => "Compress PLC memory",
        b"_N_LOGOUT" => "Logout",
        b"_N_LOGIN_" => "Login",
        b"_N_DASAVE" => "Copy RAM to ROM (NC)",
        _ => return None,
    };
    Some(d)
}

/// The userdata parameter and its data part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Userdata<'a> {
    /// Parameter head (normally `00 01 12`).
    pub head: [u8; 3],
    /// Length of the rest of the parameter (4, 8 or 12).
    pub param_len: u8,
    /// Method: 0x11 request, 0x12 response.
    pub method: u8,
    /// Push, request or response.
    pub kind: UserdataType,
    /// Function group.
    pub group: FunctionGroup,
    /// Subfunction (for group 0 this byte is the current CPU mode; see [`CpuMode`]).
    pub subfunction: u8,
    /// Sequence number.
    pub sequence: u8,
    /// Data unit reference number (8/12-byte form).
    pub data_unit_ref: Option<u8>,
    /// Last data unit: 0 yes, 1 more follow (8/12-byte form).
    pub last_data_unit: Option<u8>,
    /// Error code (8/12-byte form).
    pub error_code: Option<u16>,
    /// The data part, when present and long enough.
    pub data: Option<UserdataData<'a>>,
}

impl<'a> Userdata<'a> {
    /// Whether this is a mode-transition push (group 0), where the subfunction byte is a CPU mode.
    pub fn cpu_mode(&self) -> Option<CpuMode> {
        (self.group == FunctionGroup::MODE_TRANSITION).then_some(CpuMode(self.subfunction))
    }

    /// The SZL request or response this message carries.
    pub fn szl(&self) -> Option<&Szl<'a>> {
        self.data.as_ref().and_then(|d| d.szl.as_ref())
    }

    /// Whether this is a PLC password (security group) message.
    pub fn is_password(&self) -> bool {
        self.group == FunctionGroup::SECURITY && self.subfunction == subfunction::SECURITY_PASSWORD
    }

    /// Whether this sets the PLC clock.
    pub fn is_set_clock(&self) -> bool {
        self.group == FunctionGroup::TIME_FUNCTIONS
            && matches!(
                self.subfunction,
                subfunction::TIME_SET_CLOCK | subfunction::TIME_SET_CLOCK_2
            )
    }
}

/// The data part of a userdata message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserdataData<'a> {
    /// Return code (0xff success; 0x0a object does not exist, ...).
    pub return_code: ReturnCode,
    /// Transport size of the payload.
    pub transport_size: DataTransportSize,
    /// Declared payload length.
    pub length: u16,
    /// The payload (within the declared length and the bytes present).
    pub payload: &'a [u8],
    /// SZL id/index and list (group 4, subfunction 1), when present.
    pub szl: Option<Szl<'a>>,
}

/// An SZL (system status list) request or response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Szl<'a> {
    /// SZL id (e.g. 0x0011 module identification, 0x001c component identification).
    pub id: u16,
    /// SZL index.
    pub index: u16,
    /// The partial list (responses).
    pub list: Option<SzlList<'a>>,
}

/// A partial SZL list: fixed-size records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SzlList<'a> {
    /// Length of one record in bytes.
    pub record_len: u16,
    /// Declared number of records.
    pub record_count: u16,
    /// The record bytes present (possibly fewer than declared if the answer is fragmented).
    pub records: &'a [u8],
}

/// SZL id of module identification (order number, hardware and firmware versions).
pub const SZL_MODULE_IDENTIFICATION: u16 = 0x0011;
/// SZL id of component identification (names, serial number, module type).
pub const SZL_COMPONENT_IDENTIFICATION: u16 = 0x001c;

impl<'a> SzlList<'a> {
    /// The complete records present, in order.
    pub fn records(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let len = usize::from(self.record_len);
        let chunks = if len == 0 { None } else { Some(self.records.chunks_exact(len)) };
        chunks.into_iter().flatten()
    }
}

/// One record of SZL 0x0011 (module identification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModuleIdentification<'a> {
    /// Record index: 1 module, 6 basic hardware, 7 basic firmware, ...
    pub index: u16,
    /// Order number (MLFB), e.g. `6ES7 315-2EH14-0AB0`, trailing spaces kept.
    pub order_number: &'a [u8],
    /// Module type id (BGTyp).
    pub module_type: u16,
    /// Version bytes (Ausbg, Ausbe).
    pub version: [u8; 4],
}

impl<'a> ModuleIdentification<'a> {
    /// Decodes a 28-byte record; `None` for any other length.
    pub fn from_record(rec: &'a [u8]) -> Option<ModuleIdentification<'a>> {
        let (index, rest) = rec.split_first_chunk::<2>()?;
        let (order_number, rest) = rest.split_at_checked(20)?;
        let (ty, rest) = rest.split_first_chunk::<2>()?;
        let version: [u8; 4] = rest.try_into().ok()?;
        Some(ModuleIdentification {
            index: u16::from_be_bytes(*index),
            order_number,
            module_type: u16::from_be_bytes(*ty),
            version,
        })
    }

    /// The firmware/hardware version as `(major, minor, patch)` when written `V x.y.z`.
    pub fn version_triple(&self) -> Option<(u8, u8, u8)> {
        match self.version {
            [b'V', major, minor, patch] => Some((major, minor, patch)),
            _ => None,
        }
    }
}

/// One record of SZL 0x001c (component identification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComponentIdentification<'a> {
    /// Record index: 1 automation system name, 2 module name, 3 plant id, 4 copyright,
    /// 5 serial number, 7 module type name, 8 memory card serial, 9 manufacturer/profile, 0xb location.
    pub index: u16,
    /// The text (NUL padding kept).
    pub text: &'a [u8],
}

impl<'a> ComponentIdentification<'a> {
    /// Decodes a record (2-byte index, then text); `None` if shorter than 2 bytes.
    pub fn from_record(rec: &'a [u8]) -> Option<ComponentIdentification<'a>> {
        let (index, text) = rec.split_first_chunk::<2>()?;
        Some(ComponentIdentification { index: u16::from_be_bytes(*index), text })
    }

    /// The text without NUL and space padding.
    pub fn trimmed(&self) -> &'a [u8] {
        let end = self
            .text
            .iter()
            .rposition(|b| *b != 0 && *b != b' ')
            .map_or(0, |p| p.saturating_add(1));
        self.text.get(..end).unwrap_or(&[])
    }
}

/// An S7comm-plus PDU: what can safely be extracted without a full decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlusPdu<'a> {
    /// Protocol version.
    pub version: PlusVersion,
    /// Declared data length.
    pub data_len: u16,
    /// Integrity digest (V2/V3), when present.
    pub digest: Option<&'a [u8]>,
    /// Opcode, when the data part is long enough.
    pub opcode: Option<PlusOpcode>,
    /// Function code (requests and responses).
    pub function: Option<PlusFunction>,
    /// Sequence number (requests and responses).
    pub sequence: Option<u16>,
    /// Session id (requests).
    pub session_id: Option<u32>,
    /// Whether the 4-byte trailer (`72 vv 00 00`) follows the data.
    pub has_trailer: bool,
    /// S7comm-plus anomalies.
    pub anomalies: Anomalies,
}
