//! DNP3 messages and wire enums: what the link, transport and application parsers return.
//!
//! Wire values are newtypes over the raw integer with named constants, so
//! unknown codes survive decoding and print as numbers. Messages borrow from
//! the input; object lists are walked lazily (see [`super::Objects`]), so
//! decoding never allocates. Decoding logic lives in `parser.rs`; this module
//! only holds the shapes and the small accessors on them.

use crate::Direction;
use crate::reader::Reader;

use super::anomaly::Anomalies;
use super::{LINK_HEADER_LEN, MIN_LINK_LENGTH};

/// Defines a newtype over a wire integer with named constants and a `name()`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident($ty:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $value:expr => $text:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $ty);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($value); )*

            /// The standard name, or `None` for a value the specification does not define.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}({})", n, self.0),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}", self.0),
                }
            }
        }
    };
}

// ---------------------------------------------------------------- link layer

wire_enum! {
    /// Link function code of a primary frame (PRM = 1), IEEE 1815-2012 9.2.4.1.3, table 9-1.
    PrimaryFunction(u8) {
        /// Reset the secondary's link states (FCB expected next: 1).
        RESET_LINK_STATES = 0 => "Reset Link States",
        /// Obsolete: reset the user process.
        RESET_USER_PROCESS = 1 => "Reset User Process",
        /// Test the link (FCV set).
        TEST_LINK_STATES = 2 => "Test Link States",
        /// User data the secondary must acknowledge.
        CONFIRMED_USER_DATA = 3 => "Confirmed User Data",
        /// User data without link acknowledgement (the usual case over TCP/UDP).
        UNCONFIRMED_USER_DATA = 4 => "Unconfirmed User Data",
        /// Ask for the secondary's link status (used as a keep-alive).
        REQUEST_LINK_STATUS = 9 => "Request Link Status",
    }
}

wire_enum! {
    /// Link function code of a secondary frame (PRM = 0), IEEE 1815-2012 9.2.4.1.3, table 9-2.
    SecondaryFunction(u8) {
        /// Positive acknowledgement.
        ACK = 0 => "ACK",
        /// Negative acknowledgement.
        NACK = 1 => "NACK",
        /// Answer to Request Link Status.
        LINK_STATUS = 11 => "Link Status",
        /// Obsolete: the link service is not functioning.
        NOT_FUNCTIONING = 14 => "Link Service Not Functioning",
        /// The requested link service is not supported.
        NOT_SUPPORTED = 15 => "Link Service Not Used or Implemented",
    }
}

/// A link function code, interpreted by the PRM bit of its control octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkFunction {
    /// A primary (initiating) frame.
    Primary(PrimaryFunction),
    /// A secondary (responding) frame.
    Secondary(SecondaryFunction),
}

impl LinkFunction {
    /// Whether the specification defines this code for its PRM bit (the
    /// obsolete Reset User Process and Not Functioning count as undefined).
    pub fn is_defined(self) -> bool {
        match self {
            LinkFunction::Primary(f) => {
                f.name().is_some() && f != PrimaryFunction::RESET_USER_PROCESS
            }
            LinkFunction::Secondary(f) => {
                f.name().is_some() && f != SecondaryFunction::NOT_FUNCTIONING
            }
        }
    }

    /// Whether frames with this function carry user data (a transport segment).
    pub fn carries_user_data(self) -> bool {
        matches!(
            self,
            LinkFunction::Primary(
                PrimaryFunction::CONFIRMED_USER_DATA | PrimaryFunction::UNCONFIRMED_USER_DATA
            )
        )
    }
}

/// The link control octet (IEEE 1815-2012 9.2.4.1.3): DIR, PRM, FCB/FCV (or DFC) and function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkControl(pub u8);

impl LinkControl {
    /// DIR: set on frames sent by a master, clear on frames sent by an outstation.
    pub fn dir(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// PRM: set on primary (initiating) frames.
    pub fn prm(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// FCB (primary frames): the frame count bit that alternates between
    /// successive confirmed frames.
    pub fn fcb(self) -> bool {
        self.prm() && self.0 & 0x20 != 0
    }

    /// FCV (primary frames): whether the FCB is valid for this function.
    pub fn fcv(self) -> bool {
        self.prm() && self.0 & 0x10 != 0
    }

    /// DFC (secondary frames): data flow control, the secondary's buffers are full.
    pub fn dfc(self) -> bool {
        !self.prm() && self.0 & 0x10 != 0
    }

    /// The 4-bit function code as sent.
    pub fn function_code(self) -> u8 {
        self.0 & 0x0F
    }

    /// The function code interpreted by the PRM bit.
    pub fn function(self) -> LinkFunction {
        if self.prm() {
            LinkFunction::Primary(PrimaryFunction(self.function_code()))
        } else {
            LinkFunction::Secondary(SecondaryFunction(self.function_code()))
        }
    }

    /// Which way the frame travels: master to outstation when DIR is set.
    pub fn direction(self) -> Direction {
        if self.dir() { Direction::ToServer } else { Direction::ToClient }
    }
}

/// The 10-octet link header (IEEE 1815-2012 9.2.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkHeader {
    /// The length field: octets of control, addresses and user data, without CRCs (5-255).
    pub length: u8,
    /// The control octet.
    pub control: LinkControl,
    /// Destination address.
    pub destination: u16,
    /// Source address.
    pub source: u16,
    /// The header CRC as sent.
    pub crc: u16,
}

impl LinkHeader {
    /// Octets of user data the frame carries, without CRCs (length - 5).
    pub fn user_data_len(&self) -> usize {
        usize::from(self.length.saturating_sub(MIN_LINK_LENGTH))
    }

    /// The master's address: the source of a frame with DIR set, else the destination.
    pub fn master_address(&self) -> u16 {
        if self.control.dir() { self.source } else { self.destination }
    }

    /// The outstation's address: the destination of a frame with DIR set, else the source.
    pub fn outstation_address(&self) -> u16 {
        if self.control.dir() { self.destination } else { self.source }
    }

    /// Whether the destination is a broadcast address (0xFFFD-0xFFFF).
    pub fn is_broadcast(&self) -> bool {
        self.destination >= 0xFFFD
    }
}

/// One DNP3 link-layer frame: header plus user-data blocks, as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkFrame<'a> {
    /// The link header.
    pub header: LinkHeader,
    /// The user-data blocks, each of up to 16 octets followed by its 2-octet CRC.
    pub blocks: &'a [u8],
    /// What is wrong with the frame (CRCs, reserved function, addresses).
    pub anomalies: Anomalies,
}

impl<'a> LinkFrame<'a> {
    /// Octets the frame takes on the wire.
    pub fn wire_len(&self) -> usize {
        LINK_HEADER_LEN.saturating_add(self.blocks.len())
    }

    /// Whether the header CRC matched.
    pub fn header_crc_ok(&self) -> bool {
        !self.anomalies.contains(Anomalies::BAD_HEADER_CRC)
    }

    /// Whether every data-block CRC matched.
    pub fn data_crc_ok(&self) -> bool {
        !self.anomalies.contains(Anomalies::BAD_DATA_CRC)
    }

    /// The user data, block by block, without the CRCs.
    pub fn chunks(&self) -> DataChunks<'a> {
        DataChunks { reader: Reader::new(self.blocks) }
    }

    /// Copies the user data, without CRCs, to the end of `out`.
    pub fn copy_user_data(&self, out: &mut Vec<u8>) {
        for chunk in self.chunks() {
            out.extend_from_slice(chunk.data);
        }
    }

    /// Whether the frame delivers a transport segment: both CRCs good, a
    /// primary user-data function, and at least one octet of user data.
    pub fn carries_segment(&self) -> bool {
        self.header_crc_ok()
            && self.data_crc_ok()
            && self.header.control.function().carries_user_data()
            && !self.blocks.is_empty()
    }

    /// The transport header (first user-data octet), if there is user data.
    pub fn transport_header(&self) -> Option<TransportHeader> {
        self.chunks().next().and_then(|c| c.data.first().copied()).map(TransportHeader)
    }
}

/// One user-data block of a link frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataChunk<'a> {
    /// The data octets (1-16).
    pub data: &'a [u8],
    /// The CRC as sent.
    pub crc: u16,
}

impl DataChunk<'_> {
    /// Whether the CRC matches the data.
    pub fn crc_ok(&self) -> bool {
        super::crc::crc16_dnp(self.data) == self.crc
    }
}

/// Iterator over the user-data blocks of a [`LinkFrame`].
#[derive(Clone, Debug)]
pub struct DataChunks<'a> {
    reader: Reader<'a>,
}

impl<'a> Iterator for DataChunks<'a> {
    type Item = DataChunk<'a>;

    fn next(&mut self) -> Option<DataChunk<'a>> {
        let left = self.reader.left();
        if left <= super::CRC_LEN {
            return None;
        }
        let n = left.saturating_sub(super::CRC_LEN).min(super::BLOCK_LEN);
        let data = self.reader.take(n).ok()?;
        let crc = self.reader.u16_le().ok()?;
        Some(DataChunk { data, crc })
    }
}

// ------------------------------------------------------------- transport layer

/// The transport header octet (IEEE 1815-2012 8.2.1): FIN, FIR and a 6-bit sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransportHeader(pub u8);

impl TransportHeader {
    /// FIN: the last segment of a fragment.
    pub fn fin(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// FIR: the first segment of a fragment.
    pub fn fir(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// The sequence number (0-63).
    pub fn seq(self) -> u8 {
        self.0 & 0x3F
    }
}

// ----------------------------------------------------------- application layer

/// The application control octet (IEEE 1815-2012 4.2.2.4): FIR, FIN, CON, UNS and SEQ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AppControl(pub u8);

impl AppControl {
    /// FIR: the first fragment of a message.
    pub fn fir(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// FIN: the last fragment of a message.
    pub fn fin(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// CON: the receiver must confirm this fragment.
    pub fn con(self) -> bool {
        self.0 & 0x20 != 0
    }

    /// UNS: an unsolicited response, or the confirm of one.
    pub fn uns(self) -> bool {
        self.0 & 0x10 != 0
    }

    /// The sequence number (0-15).
    pub fn seq(self) -> u8 {
        self.0 & 0x0F
    }
}

wire_enum! {
    /// Application function code (IEEE 1815-2012 4.2.2.5, table 4-1).
    FunctionCode(u8) {
        /// Confirm a fragment that asked for confirmation.
        CONFIRM = 0 => "Confirm",
        /// Read objects.
        READ = 1 => "Read",
        /// Write objects (time, IIN bits, attributes, octet strings...).
        WRITE = 2 => "Write",
        /// Select outputs for a later Operate.
        SELECT = 3 => "Select",
        /// Operate previously selected outputs.
        OPERATE = 4 => "Operate",
        /// Operate outputs without a prior Select.
        DIRECT_OPERATE = 5 => "Direct Operate",
        /// Direct Operate without a response.
        DIRECT_OPERATE_NR = 6 => "Direct Operate No Response",
        /// Freeze counters or analogs.
        IMMED_FREEZE = 7 => "Immediate Freeze",
        /// Immediate Freeze without a response.
        IMMED_FREEZE_NR = 8 => "Immediate Freeze No Response",
        /// Freeze and clear counters.
        FREEZE_CLEAR = 9 => "Freeze and Clear",
        /// Freeze and Clear without a response.
        FREEZE_CLEAR_NR = 10 => "Freeze and Clear No Response",
        /// Freeze at a given time.
        FREEZE_AT_TIME = 11 => "Freeze at Time",
        /// Freeze at Time without a response.
        FREEZE_AT_TIME_NR = 12 => "Freeze at Time No Response",
        /// Restart the outstation completely.
        COLD_RESTART = 13 => "Cold Restart",
        /// Restart the outstation's DNP3 application.
        WARM_RESTART = 14 => "Warm Restart",
        /// Obsolete: initialise data to their initial values.
        INITIALIZE_DATA = 15 => "Initialize Data",
        /// Prepare applications (group 90) to run.
        INITIALIZE_APPL = 16 => "Initialize Application",
        /// Start applications (group 90).
        START_APPL = 17 => "Start Application",
        /// Stop applications (group 90).
        STOP_APPL = 18 => "Stop Application",
        /// Deprecated: save the configuration.
        SAVE_CONFIG = 19 => "Save Configuration",
        /// Enable unsolicited responses for event classes.
        ENABLE_UNSOLICITED = 20 => "Enable Unsolicited",
        /// Disable unsolicited responses for event classes.
        DISABLE_UNSOLICITED = 21 => "Disable Unsolicited",
        /// Assign points to event classes.
        ASSIGN_CLASS = 22 => "Assign Class",
        /// Measure the link delay (for time synchronisation).
        DELAY_MEASURE = 23 => "Delay Measurement",
        /// Record the current time (LAN time synchronisation).
        RECORD_CURRENT_TIME = 24 => "Record Current Time",
        /// Open a file.
        OPEN_FILE = 25 => "Open File",
        /// Close a file.
        CLOSE_FILE = 26 => "Close File",
        /// Delete a file.
        DELETE_FILE = 27 => "Delete File",
        /// Get file information.
        GET_FILE_INFO = 28 => "Get File Info",
        /// Obtain a file authentication key.
        AUTHENTICATE_FILE = 29 => "Authenticate File",
        /// Abort a file transfer.
        ABORT_FILE = 30 => "Abort File",
        /// Activate a configuration (files or strings written earlier).
        ACTIVATE_CONFIG = 31 => "Activate Configuration",
        /// Secure Authentication request (expects a response).
        AUTHENTICATE_REQ = 32 => "Authentication Request",
        /// Secure Authentication request without a response (error messages).
        AUTH_REQ_NO_ACK = 33 => "Authentication Request No Ack",
        /// Solicited response.
        RESPONSE = 129 => "Response",
        /// Unsolicited response.
        UNSOLICITED_RESPONSE = 130 => "Unsolicited Response",
        /// Secure Authentication response.
        AUTHENTICATE_RESP = 131 => "Authentication Response",
    }
}

/// What an application function does, for detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Confirm (0).
    Confirm,
    /// Read (1).
    Read,
    /// Write (2): changes outstation values, time, IIN bits or attributes.
    Write,
    /// Select, Operate, Direct Operate (3-6): drives outputs (CROB group 12,
    /// analog outputs group 41).
    Control,
    /// Freeze functions (7-12).
    Freeze,
    /// Cold or Warm Restart (13, 14).
    Restart,
    /// Initialize, Start or Stop Application (16-18).
    ApplicationControl,
    /// Configuration changes: Initialize Data (15), Save Configuration (19),
    /// Assign Class (22), Activate Configuration (31).
    Configuration,
    /// Enable or Disable Unsolicited (20, 21).
    UnsolicitedControl,
    /// Delay Measurement or Record Current Time (23, 24).
    TimeSync,
    /// File operations (25-30).
    File,
    /// Secure Authentication (32, 33, 131).
    Authentication,
    /// Solicited or unsolicited response (129, 130).
    Response,
    /// A reserved function code.
    Reserved,
}

impl FunctionCode {
    /// Whether the code is sent by an outstation (129-131).
    pub fn is_response(self) -> bool {
        matches!(
            self,
            FunctionCode::RESPONSE
                | FunctionCode::UNSOLICITED_RESPONSE
                | FunctionCode::AUTHENTICATE_RESP
        )
    }

    /// Whether the specification reserves the code (34-128, 132-255).
    pub fn is_reserved(self) -> bool {
        self.name().is_none()
    }

    /// Whether the specification marks the code obsolete or deprecated.
    pub fn is_obsolete(self) -> bool {
        matches!(self, FunctionCode::INITIALIZE_DATA | FunctionCode::SAVE_CONFIG)
    }

    /// What the function does.
    pub fn operation(self) -> Operation {
        match self.0 {
            0 => Operation::Confirm,
            1 => Operation::Read,
            2 => Operation::Write,
            3..=6 => Operation::Control,
            7..=12 => Operation::Freeze,
            13 | 14 => Operation::Restart,
            16..=18 => Operation::ApplicationControl,
            15 | 19 | 22 | 31 => Operation::Configuration,
            20 | 21 => Operation::UnsolicitedControl,
            23 | 24 => Operation::TimeSync,
            25..=30 => Operation::File,
            32 | 33 | 131 => Operation::Authentication,
            129 | 130 => Operation::Response,
            _ => Operation::Reserved,
        }
    }
}

/// Internal indications of a response (IEEE 1815-2012 4.2.2.6): IIN1 in the
/// high octet, IIN2 in the low octet, so `IIN1.7` is bit 15.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Iin(pub u16);

impl Iin {
    /// IIN1.0: a broadcast message was received.
    pub const BROADCAST: Iin = Iin(0x0100);
    /// IIN1.1: class 1 events are available.
    pub const CLASS_1_EVENTS: Iin = Iin(0x0200);
    /// IIN1.2: class 2 events are available.
    pub const CLASS_2_EVENTS: Iin = Iin(0x0400);
    /// IIN1.3: class 3 events are available.
    pub const CLASS_3_EVENTS: Iin = Iin(0x0800);
    /// IIN1.4: the outstation needs time synchronisation.
    pub const NEED_TIME: Iin = Iin(0x1000);
    /// IIN1.5: some outputs are in local control.
    pub const LOCAL_CONTROL: Iin = Iin(0x2000);
    /// IIN1.6: an abnormal condition exists (device trouble).
    pub const DEVICE_TROUBLE: Iin = Iin(0x4000);
    /// IIN1.7: the outstation restarted.
    pub const DEVICE_RESTART: Iin = Iin(0x8000);
    /// IIN2.0: the function code is not implemented.
    pub const NO_FUNC_CODE_SUPPORT: Iin = Iin(0x0001);
    /// IIN2.1: a requested object is unknown.
    pub const OBJECT_UNKNOWN: Iin = Iin(0x0002);
    /// IIN2.2: a parameter is invalid or out of range.
    pub const PARAMETER_ERROR: Iin = Iin(0x0004);
    /// IIN2.3: the event buffer overflowed.
    pub const EVENT_BUFFER_OVERFLOW: Iin = Iin(0x0008);
    /// IIN2.4: the requested operation is already executing.
    pub const ALREADY_EXECUTING: Iin = Iin(0x0010);
    /// IIN2.5: the configuration is corrupt.
    pub const CONFIG_CORRUPT: Iin = Iin(0x0020);
    /// IIN2.6: reserved, must be 0.
    pub const RESERVED_2_6: Iin = Iin(0x0040);
    /// IIN2.7: reserved, must be 0.
    pub const RESERVED_2_7: Iin = Iin(0x0080);

    /// Every bit with its name, IIN1.0 first.
    pub const ALL: [(Iin, &'static str); 16] = [
        (Iin::BROADCAST, "Broadcast"),
        (Iin::CLASS_1_EVENTS, "Class 1 Events"),
        (Iin::CLASS_2_EVENTS, "Class 2 Events"),
        (Iin::CLASS_3_EVENTS, "Class 3 Events"),
        (Iin::NEED_TIME, "Need Time"),
        (Iin::LOCAL_CONTROL, "Local Control"),
        (Iin::DEVICE_TROUBLE, "Device Trouble"),
        (Iin::DEVICE_RESTART, "Device Restart"),
        (Iin::NO_FUNC_CODE_SUPPORT, "Function Code Not Supported"),
        (Iin::OBJECT_UNKNOWN, "Object Unknown"),
        (Iin::PARAMETER_ERROR, "Parameter Error"),
        (Iin::EVENT_BUFFER_OVERFLOW, "Event Buffer Overflow"),
        (Iin::ALREADY_EXECUTING, "Already Executing"),
        (Iin::CONFIG_CORRUPT, "Configuration Corrupt"),
        (Iin::RESERVED_2_6, "Reserved 2.6"),
        (Iin::RESERVED_2_7, "Reserved 2.7"),
    ];

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Iin) -> bool {
        self.0 & other.0 == other.0
    }

    /// IIN1.7, Device Restart.
    pub fn device_restart(self) -> bool {
        self.contains(Iin::DEVICE_RESTART)
    }

    /// Whether either reserved bit (IIN2.6, IIN2.7) is set.
    pub fn reserved_bits(self) -> bool {
        self.0 & (Iin::RESERVED_2_6.0 | Iin::RESERVED_2_7.0) != 0
    }

    /// The names of the bits that are set.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Iin::ALL.into_iter().filter(move |(b, _)| self.contains(*b)).map(|(_, n)| n)
    }
}

/// One application fragment (IEEE 1815-2012 4.2.2): header plus object data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppFragment<'a> {
    /// The application control octet.
    pub control: AppControl,
    /// The function code.
    pub function: FunctionCode,
    /// Internal indications (responses only; `None` on requests or when the
    /// response is too short to hold them).
    pub iin: Option<Iin>,
    /// The octets after the header: object headers and their objects.
    pub object_bytes: &'a [u8],
    /// How many object headers were found (at most [`super::MAX_OBJECT_HEADERS`]).
    pub object_headers: usize,
    /// What is wrong with the fragment.
    pub anomalies: Anomalies,
}

impl<'a> AppFragment<'a> {
    /// The object headers, decoded lazily.
    pub fn objects(&self) -> super::Objects<'a> {
        super::Objects::new(self.object_bytes, self.function)
    }

    /// Whether the fragment is a request (sent by a master).
    pub fn is_request(&self) -> bool {
        !self.function.is_response()
    }
}

// ------------------------------------------------------------ object headers

wire_enum! {
    /// Object group (IEEE 1815-2012 clause 4.2.2.7.1 and annex A, the object library).
    ObjectGroup(u8) {
        /// Device attributes (vendor, model, versions, serial number...).
        DEVICE_ATTRIBUTES = 0 => "Device Attributes",
        /// Binary input (static).
        BINARY_INPUT = 1 => "Binary Input",
        /// Binary input event.
        BINARY_INPUT_EVENT = 2 => "Binary Input Event",
        /// Double-bit binary input (static).
        DOUBLE_BIT_INPUT = 3 => "Double-bit Binary Input",
        /// Double-bit binary input event.
        DOUBLE_BIT_INPUT_EVENT = 4 => "Double-bit Binary Input Event",
        /// Binary output status.
        BINARY_OUTPUT = 10 => "Binary Output",
        /// Binary output event.
        BINARY_OUTPUT_EVENT = 11 => "Binary Output Event",
        /// Binary output command: CROB (v1), pattern control block (v2), pattern mask (v3).
        BINARY_COMMAND = 12 => "Binary Output Command",
        /// Binary output command event.
        BINARY_COMMAND_EVENT = 13 => "Binary Output Command Event",
        /// Counter.
        COUNTER = 20 => "Counter",
        /// Frozen counter.
        FROZEN_COUNTER = 21 => "Frozen Counter",
        /// Counter event.
        COUNTER_EVENT = 22 => "Counter Event",
        /// Frozen counter event.
        FROZEN_COUNTER_EVENT = 23 => "Frozen Counter Event",
        /// Analog input.
        ANALOG_INPUT = 30 => "Analog Input",
        /// Frozen analog input.
        FROZEN_ANALOG_INPUT = 31 => "Frozen Analog Input",
        /// Analog input event.
        ANALOG_INPUT_EVENT = 32 => "Analog Input Event",
        /// Frozen analog input event.
        FROZEN_ANALOG_INPUT_EVENT = 33 => "Frozen Analog Input Event",
        /// Analog input reporting deadband.
        ANALOG_INPUT_DEADBAND = 34 => "Analog Input Deadband",
        /// Analog output status.
        ANALOG_OUTPUT_STATUS = 40 => "Analog Output Status",
        /// Analog output block (a set point command).
        ANALOG_OUTPUT = 41 => "Analog Output",
        /// Analog output event.
        ANALOG_OUTPUT_EVENT = 42 => "Analog Output Event",
        /// Analog output command event.
        ANALOG_COMMAND_EVENT = 43 => "Analog Output Command Event",
        /// Time and date.
        TIME_AND_DATE = 50 => "Time and Date",
        /// Common time of occurrence.
        CTO = 51 => "Common Time of Occurrence",
        /// Time delay.
        TIME_DELAY = 52 => "Time Delay",
        /// Class data (0-3).
        CLASS_DATA = 60 => "Class Data",
        /// File control.
        FILE_CONTROL = 70 => "File Control",
        /// Internal indications.
        INTERNAL_INDICATIONS = 80 => "Internal Indications",
        /// Device storage (obsolete).
        DEVICE_STORAGE = 81 => "Device Storage",
        /// Device profile (obsolete).
        DEVICE_PROFILE = 82 => "Device Profile",
        /// Data set registration (private registration object).
        DATA_SET_REGISTRATION = 83 => "Data Set Registration",
        /// Data set prototype.
        DATA_SET_PROTOTYPE = 85 => "Data Set Prototype",
        /// Data set descriptor.
        DATA_SET_DESCRIPTOR = 86 => "Data Set Descriptor",
        /// Data set present value.
        DATA_SET = 87 => "Data Set",
        /// Data set snapshot (event).
        DATA_SET_EVENT = 88 => "Data Set Event",
        /// Application identifier (for the application control functions).
        APPLICATION = 90 => "Application Identifier",
        /// Status of requested operation.
        STATUS_OF_OPERATION = 91 => "Status of Requested Operation",
        /// Floating point (obsolete).
        FLOATING_POINT = 100 => "Floating Point",
        /// BCD integer.
        BCD = 101 => "BCD Integer",
        /// Unsigned 8-bit integer.
        UNSIGNED_INTEGER = 102 => "Unsigned Integer",
        /// Octet string (the variation is the length).
        OCTET_STRING = 110 => "Octet String",
        /// Octet string event.
        OCTET_STRING_EVENT = 111 => "Octet String Event",
        /// Virtual terminal output block.
        VIRTUAL_TERMINAL_OUTPUT = 112 => "Virtual Terminal Output Block",
        /// Virtual terminal event data.
        VIRTUAL_TERMINAL_EVENT = 113 => "Virtual Terminal Event Data",
        /// Secure Authentication.
        AUTHENTICATION = 120 => "Authentication",
        /// Security statistic.
        SECURITY_STATISTIC = 121 => "Security Statistic",
        /// Security statistic event.
        SECURITY_STATISTIC_EVENT = 122 => "Security Statistic Event",
    }
}

wire_enum! {
    /// Object prefix code, bits 6-4 of the qualifier (IEEE 1815-2012 4.2.2.7.3.1).
    PrefixCode(u8) {
        /// No prefix.
        NONE = 0 => "None",
        /// 1-octet index before each object.
        INDEX_1 = 1 => "1-Octet Index",
        /// 2-octet index before each object.
        INDEX_2 = 2 => "2-Octet Index",
        /// 4-octet index before each object.
        INDEX_4 = 3 => "4-Octet Index",
        /// 1-octet object size before each object.
        SIZE_1 = 4 => "1-Octet Object Size",
        /// 2-octet object size before each object.
        SIZE_2 = 5 => "2-Octet Object Size",
        /// 4-octet object size before each object.
        SIZE_4 = 6 => "4-Octet Object Size",
    }
}

impl PrefixCode {
    /// Octets of the prefix before each object (0 for none or reserved).
    pub fn octets(self) -> usize {
        match self.0 {
            1 | 4 => 1,
            2 | 5 => 2,
            3 | 6 => 4,
            _ => 0,
        }
    }

    /// Whether the prefix is an index.
    pub fn is_index(self) -> bool {
        matches!(self.0, 1..=3)
    }

    /// Whether the prefix is an object size.
    pub fn is_size(self) -> bool {
        matches!(self.0, 4..=6)
    }
}

wire_enum! {
    /// Range specifier code, bits 3-0 of the qualifier (IEEE 1815-2012 4.2.2.7.3.2).
    RangeCode(u8) {
        /// 1-octet start and stop indices.
        START_STOP_1 = 0 => "1-Octet Start/Stop",
        /// 2-octet start and stop indices.
        START_STOP_2 = 1 => "2-Octet Start/Stop",
        /// 4-octet start and stop indices.
        START_STOP_4 = 2 => "4-Octet Start/Stop",
        /// 1-octet absolute (virtual) address of one object; obsolete.
        ADDRESS_1 = 3 => "1-Octet Address",
        /// 2-octet absolute (virtual) address of one object; obsolete.
        ADDRESS_2 = 4 => "2-Octet Address",
        /// 4-octet absolute (virtual) address of one object; obsolete.
        ADDRESS_4 = 5 => "4-Octet Address",
        /// No range field: all objects.
        ALL = 6 => "All",
        /// 1-octet count of objects.
        COUNT_1 = 7 => "1-Octet Count",
        /// 2-octet count of objects.
        COUNT_2 = 8 => "2-Octet Count",
        /// 4-octet count of objects.
        COUNT_4 = 9 => "4-Octet Count",
        /// 1-octet count of variable-format objects (free format).
        FREE_FORMAT = 11 => "1-Octet Count, Variable Format",
    }
}

/// The qualifier octet of an object header (IEEE 1815-2012 4.2.2.7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Qualifier(pub u8);

impl Qualifier {
    /// The object prefix code.
    pub fn prefix(self) -> PrefixCode {
        PrefixCode((self.0 >> 4) & 0x07)
    }

    /// The range specifier code.
    pub fn range(self) -> RangeCode {
        RangeCode(self.0 & 0x0F)
    }

    /// Whether the reserved bit 7 is set (it must be 0).
    pub fn reserved_bit(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// Whether the qualifier uses only defined codes and a clear reserved bit.
    pub fn is_valid(self) -> bool {
        !self.reserved_bit() && self.prefix().name().is_some() && self.range().name().is_some()
    }
}

/// The decoded range field of an object header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Range {
    /// Objects `start..=stop` (range codes 0-2).
    StartStop {
        /// First index.
        start: u32,
        /// Last index.
        stop: u32,
    },
    /// One object at an absolute address (obsolete range codes 3-5).
    Address(u32),
    /// All objects; no range field (range code 6).
    All,
    /// A count of objects (range codes 7-9).
    Count(u32),
    /// A count of variable-format objects (range code 0xB).
    FreeFormat(u8),
}

impl Range {
    /// How many objects follow the header (0 for `All`), or `None` when a
    /// start/stop range is inverted.
    pub fn count(self) -> Option<u64> {
        match self {
            Range::StartStop { start, stop } => {
                u64::from(stop).checked_sub(u64::from(start)).and_then(|d| d.checked_add(1))
            }
            Range::Address(_) => Some(1),
            Range::All => Some(0),
            Range::Count(n) => Some(u64::from(n)),
            Range::FreeFormat(n) => Some(u64::from(n)),
        }
    }
}

/// How the objects after a header are laid out, which decides their size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// No object data, only prefixes if any (requests such as Read, class data).
    NoData,
    /// Every object takes this many octets after its prefix.
    Fixed(usize),
    /// Objects packed this many bits each, without prefixes.
    Packed(u8),
    /// Every object is preceded by a size prefix.
    SizePrefixed,
    /// Device attributes (group 0): data type, length, value after the prefix.
    Attribute,
    /// The size cannot be computed.
    Unknown,
}

/// Why decoding of an object header ended where it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectStatus {
    /// The header and all its objects were decoded.
    Complete,
    /// The header or its objects run past the end of the fragment.
    Truncated,
    /// The qualifier is reserved or cannot be decoded.
    InvalidQualifier,
    /// The start/stop range is inverted (stop below start - 1), so the
    /// number of objects is undefined.
    InvalidRange,
    /// The start/stop range is empty (stop = start - 1): invalid, but it
    /// frames as zero objects, so the walk goes on.
    EmptyRange,
    /// The size of the objects cannot be computed.
    UnknownSize,
}

/// One object header with the objects that follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectHeader<'a> {
    /// The object group.
    pub group: ObjectGroup,
    /// The variation within the group.
    pub variation: u8,
    /// The qualifier (`None` if the fragment ended before it).
    pub qualifier: Option<Qualifier>,
    /// The decoded range field (`None` if missing or undecodable).
    pub range: Option<Range>,
    /// How the objects are laid out.
    pub layout: Layout,
    /// The objects, with their prefixes, as sent. When the status is not
    /// `Complete` this is whatever followed the header.
    pub data: &'a [u8],
    /// Whether decoding of this header completed.
    pub status: ObjectStatus,
}

impl<'a> ObjectHeader<'a> {
    /// The group and variation as `gXvY`.
    pub fn gv(&self) -> String {
        format!("g{}v{}", self.group.0, self.variation)
    }

    /// The objects one by one, with their index where the range or prefix
    /// gives one. Only for `Complete` headers with a fixed, size-prefixed or
    /// attribute layout; packed objects are read from [`ObjectHeader::data`].
    pub fn points(&self) -> Points<'a> {
        let usable = self.status == ObjectStatus::Complete
            && matches!(self.layout, Layout::Fixed(_) | Layout::SizePrefixed | Layout::Attribute);
        let count = if usable { self.range.and_then(Range::count).unwrap_or(0) } else { 0 };
        let start = match self.range {
            Some(Range::StartStop { start, .. }) => Some(start),
            Some(Range::Address(a)) => Some(a),
            _ => None,
        };
        Points {
            reader: Reader::new(self.data),
            prefix: self.qualifier.map_or(PrefixCode::NONE, Qualifier::prefix),
            layout: self.layout,
            next_index: start,
            left: count,
        }
    }
}

/// One object of an [`ObjectHeader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point<'a> {
    /// The point index, from the index prefix or the start/stop range.
    pub index: Option<u32>,
    /// The object octets (after any prefix).
    pub data: &'a [u8],
}

/// Iterator over the objects of one header.
#[derive(Clone, Debug)]
pub struct Points<'a> {
    reader: Reader<'a>,
    prefix: PrefixCode,
    layout: Layout,
    next_index: Option<u32>,
    left: u64,
}

impl<'a> Iterator for Points<'a> {
    type Item = Point<'a>;

    fn next(&mut self) -> Option<Point<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left = self.left.saturating_sub(1);
        let mut index = self.next_index;
        self.next_index = self.next_index.and_then(|i| i.checked_add(1));
        let mut size = None;
        match self.prefix.0 {
            1 => index = self.reader.u8().ok().map(u32::from),
            2 => index = self.reader.u16_le().ok().map(u32::from),
            3 => index = self.reader.u32_le().ok(),
            4 => size = self.reader.u8().ok().map(usize::from),
            5 => size = self.reader.u16_le().ok().map(usize::from),
            6 => size = self.reader.u32_le().ok().and_then(|s| usize::try_from(s).ok()),
            _ => {}
        }
        let len = match self.layout {
            Layout::Fixed(n) => n,
            Layout::SizePrefixed => size?,
            Layout::Attribute => {
                let head = self.reader.rest();
                let value_len = head.get(1).copied().map(usize::from)?;
                value_len.checked_add(2)?
            }
            _ => return None,
        };
        let Ok(data) = self.reader.take(len) else {
            self.left = 0;
            return None;
        };
        Some(Point { index, data })
    }
}

// -------------------------------------------------------- decoded object data

wire_enum! {
    /// Operation type, bits 3-0 of a CROB control code (IEEE 1815-2012 A.8.1).
    OpType(u8) {
        /// No operation.
        NUL = 0 => "NUL",
        /// Pulse on.
        PULSE_ON = 1 => "Pulse On",
        /// Pulse off.
        PULSE_OFF = 2 => "Pulse Off",
        /// Latch on.
        LATCH_ON = 3 => "Latch On",
        /// Latch off.
        LATCH_OFF = 4 => "Latch Off",
    }
}

wire_enum! {
    /// Trip-close code, bits 7-6 of a CROB control code (IEEE 1815-2012 A.8.1).
    TripCloseCode(u8) {
        /// Neither trip nor close.
        NUL = 0 => "NUL",
        /// Close.
        CLOSE = 1 => "Close",
        /// Trip.
        TRIP = 2 => "Trip",
    }
}

wire_enum! {
    /// Command status of control objects (IEEE 1815-2012 A.8.1, table A-4).
    CommandStatus(u8) {
        /// Accepted, initiated or queued.
        SUCCESS = 0 => "Success",
        /// The operate arrived after the select timed out.
        TIMEOUT = 1 => "Timeout",
        /// No matching select.
        NO_SELECT = 2 => "No Select",
        /// A format error in the request.
        FORMAT_ERROR = 3 => "Format Error",
        /// The operation is not supported for this point.
        NOT_SUPPORTED = 4 => "Not Supported",
        /// The queue is full or the point is already active.
        ALREADY_ACTIVE = 5 => "Already Active",
        /// A hardware problem.
        HARDWARE_ERROR = 6 => "Hardware Error",
        /// The point is in local control.
        LOCAL = 7 => "Local",
        /// Too many objects in the request.
        TOO_MANY_OBJS = 8 => "Too Many Objects",
        /// Not authorised.
        NOT_AUTHORIZED = 9 => "Not Authorized",
        /// Blocked by automation inhibit.
        AUTOMATION_INHIBIT = 10 => "Automation Inhibit",
        /// Processing limited by the device.
        PROCESSING_LIMITED = 11 => "Processing Limited",
        /// The value is out of range.
        OUT_OF_RANGE = 12 => "Out of Range",
        /// Downstream device is local.
        DOWNSTREAM_LOCAL = 13 => "Downstream Local",
        /// Already complete.
        ALREADY_COMPLETE = 14 => "Already Complete",
        /// Blocked.
        BLOCKED = 15 => "Blocked",
        /// Cancelled.
        CANCELLED = 16 => "Cancelled",
        /// Blocked by another master.
        BLOCKED_OTHER_MASTER = 17 => "Blocked by Other Master",
        /// Downstream failure.
        DOWNSTREAM_FAIL = 18 => "Downstream Fail",
        /// Not participating.
        NON_PARTICIPATING = 126 => "Non Participating",
        /// Undefined error.
        UNDEFINED = 127 => "Undefined",
    }
}

/// The control code octet of a CROB (IEEE 1815-2012 A.8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ControlCode(pub u8);

impl ControlCode {
    /// Operation type (bits 3-0).
    pub fn op_type(self) -> OpType {
        OpType(self.0 & 0x0F)
    }

    /// Queue flag (bit 4, obsolete).
    pub fn queue(self) -> bool {
        self.0 & 0x10 != 0
    }

    /// Clear flag (bit 5): cancel queued operations.
    pub fn clear(self) -> bool {
        self.0 & 0x20 != 0
    }

    /// Trip-close code (bits 7-6).
    pub fn trip_close(self) -> TripCloseCode {
        TripCloseCode(self.0 >> 6)
    }
}

/// Control Relay Output Block, group 12 variation 1 (IEEE 1815-2012 A.8.1): 11 octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Crob {
    /// What to do.
    pub code: ControlCode,
    /// How many times to repeat the operation.
    pub count: u8,
    /// On time in milliseconds.
    pub on_time_ms: u32,
    /// Off time in milliseconds.
    pub off_time_ms: u32,
    /// Command status (bits 6-0; 0 in requests).
    pub status: CommandStatus,
}

impl Crob {
    /// Octets of one CROB.
    pub const LEN: usize = 11;

    /// Decodes one CROB from its 11 octets.
    pub fn parse(data: &[u8]) -> Option<Crob> {
        let mut r = Reader::new(data);
        let code = ControlCode(r.u8().ok()?);
        let count = r.u8().ok()?;
        let on_time_ms = r.u32_le().ok()?;
        let off_time_ms = r.u32_le().ok()?;
        let status = CommandStatus(r.u8().ok()? & 0x7F);
        Some(Crob { code, count, on_time_ms, off_time_ms, status })
    }
}

/// The value of an analog output command.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AnalogValue {
    /// 32-bit signed integer (variation 1).
    I32(i32),
    /// 16-bit signed integer (variation 2).
    I16(i16),
    /// Single-precision float (variation 3).
    F32(f32),
    /// Double-precision float (variation 4).
    F64(f64),
}

/// Analog Output Block, group 41 (IEEE 1815-2012 A.23): a set point command.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnalogOutput {
    /// The requested value.
    pub value: AnalogValue,
    /// Command status (0 in requests).
    pub status: CommandStatus,
}

impl AnalogOutput {
    /// Decodes one group 41 object of the given variation.
    pub fn parse(variation: u8, data: &[u8]) -> Option<AnalogOutput> {
        let mut r = Reader::new(data);
        let value = match variation {
            1 => AnalogValue::I32(i32::from_le_bytes(r.take_array().ok()?)),
            2 => AnalogValue::I16(i16::from_le_bytes(r.take_array().ok()?)),
            3 => AnalogValue::F32(f32::from_le_bytes(r.take_array().ok()?)),
            4 => AnalogValue::F64(f64::from_le_bytes(r.take_array().ok()?)),
            _ => return None,
        };
        let status = CommandStatus(r.u8().ok()? & 0x7F);
        Some(AnalogOutput { value, status })
    }
}

wire_enum! {
    /// Device attribute variations of group 0 that identify a device (IEEE 1815-2012 A.1).
    AttributeVariation(u8) {
        /// Configuration ID.
        CONFIG_ID = 196 => "Configuration ID",
        /// Configuration version.
        CONFIG_VERSION = 197 => "Configuration Version",
        /// Maximum transmit fragment size.
        MAX_TX_FRAGMENT = 240 => "Maximum Transmit Fragment Size",
        /// Maximum receive fragment size.
        MAX_RX_FRAGMENT = 241 => "Maximum Receive Fragment Size",
        /// Device manufacturer's software version.
        SOFTWARE_VERSION = 242 => "Software Version",
        /// Device manufacturer's hardware version.
        HARDWARE_VERSION = 243 => "Hardware Version",
        /// User-assigned location name.
        LOCATION = 245 => "Location",
        /// User-assigned ID code or number.
        USER_ID = 246 => "User-assigned ID",
        /// User-assigned device name.
        DEVICE_NAME = 247 => "Device Name",
        /// Device serial number.
        SERIAL_NUMBER = 248 => "Serial Number",
        /// DNP3 subset and conformance.
        SUBSET_AND_CONFORMANCE = 249 => "DNP3 Subset and Conformance",
        /// Device manufacturer's product name and model.
        PRODUCT_NAME_AND_MODEL = 250 => "Product Name and Model",
        /// Device manufacturer's name.
        MANUFACTURER = 252 => "Manufacturer",
        /// Request for all attributes (requests only).
        ALL_ATTRIBUTES = 254 => "All Attributes",
        /// List of attribute variations.
        ATTRIBUTE_LIST = 255 => "List of Attribute Variations",
    }
}

wire_enum! {
    /// Data type code of a device attribute (IEEE 1815-2012 A.1, table A-2).
    AttributeDataType(u8) {
        /// Visible string.
        VSTR = 1 => "VSTR",
        /// Unsigned integer.
        UINT = 2 => "UINT",
        /// Signed integer.
        INT = 3 => "INT",
        /// Floating point.
        FLT = 4 => "FLT",
        /// Octet string.
        OSTR = 5 => "OSTR",
        /// Bit string.
        BSTR = 6 => "BSTR",
        /// DNP3 time (48-bit milliseconds).
        TIME = 7 => "TIME",
        /// List of variation/property pairs.
        U8BS8LIST = 254 => "U8BS8LIST",
        /// Extended list of variation/property pairs.
        U8BS8EXLIST = 255 => "U8BS8EXLIST",
    }
}

/// One device attribute (group 0 object): data type, length and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceAttribute<'a> {
    /// Which attribute (the variation).
    pub variation: AttributeVariation,
    /// The data type code.
    pub data_type: AttributeDataType,
    /// The value octets.
    pub value: &'a [u8],
}

impl<'a> DeviceAttribute<'a> {
    /// Decodes one attribute object (the octets after any prefix).
    pub fn parse(variation: u8, data: &'a [u8]) -> Option<DeviceAttribute<'a>> {
        let mut r = Reader::new(data);
        let data_type = AttributeDataType(r.u8().ok()?);
        let len = usize::from(r.u8().ok()?);
        let value = r.take(len).ok()?;
        Some(DeviceAttribute { variation: AttributeVariation(variation), data_type, value })
    }

    /// The value as text, for visible strings that are valid UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        if self.data_type == AttributeDataType::VSTR {
            std::str::from_utf8(self.value).ok()
        } else {
            None
        }
    }
}

wire_enum! {
    /// Operational mode of a file command (IEEE 1815-2012 A.33, group 70 variation 3).
    FileMode(u16) {
        /// No mode (Delete, Get File Info).
        NULL = 0 => "Null",
        /// Open for reading.
        READ = 1 => "Read",
        /// Open for writing (the file is replaced).
        WRITE = 2 => "Write",
        /// Open for appending.
        APPEND = 3 => "Append",
    }
}

/// File command, group 70 variation 3 (Open/Delete File requests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileCommand<'a> {
    /// DNP3 time of creation (ms since 1970).
    pub created_ms: u64,
    /// Permissions (Unix-style bits).
    pub permissions: u16,
    /// Authentication key from Authenticate File.
    pub auth_key: u32,
    /// File size.
    pub file_size: u32,
    /// Read, write or append.
    pub mode: FileMode,
    /// Largest block the master accepts.
    pub max_block_size: u16,
    /// Request identifier.
    pub request_id: u16,
    /// The file name, as sent.
    pub file_name: &'a [u8],
}

impl<'a> FileCommand<'a> {
    /// Fixed octets before the file name.
    pub const FIXED_LEN: usize = 26;

    /// Decodes one file command object (the octets after its size prefix).
    pub fn parse(data: &'a [u8]) -> Option<FileCommand<'a>> {
        let mut r = Reader::new(data);
        let _name_offset = r.u16_le().ok()?;
        let name_len = usize::from(r.u16_le().ok()?);
        let created_ms = read_u48(&mut r)?;
        let permissions = r.u16_le().ok()?;
        let auth_key = r.u32_le().ok()?;
        let file_size = r.u32_le().ok()?;
        let mode = FileMode(r.u16_le().ok()?);
        let max_block_size = r.u16_le().ok()?;
        let request_id = r.u16_le().ok()?;
        let file_name = r.take(name_len).ok()?;
        Some(FileCommand {
            created_ms,
            permissions,
            auth_key,
            file_size,
            mode,
            max_block_size,
            request_id,
            file_name,
        })
    }
}

wire_enum! {
    /// Secure Authentication error code of an Error object, group 120
    /// variation 7 (IEEE 1815-2012 A.45.7).
    AuthErrorCode(u8) {
        /// The MAC or key did not verify.
        AUTHENTICATION_FAILED = 1 => "Authentication Failed",
        /// Obsolete: unexpected response.
        UNEXPECTED_RESPONSE = 2 => "Unexpected Response",
        /// No response to a challenge.
        NO_RESPONSE = 3 => "No Response",
        /// Aggressive mode is not supported.
        AGGRESSIVE_MODE_NOT_SUPPORTED = 4 => "Aggressive Mode Not Supported",
        /// The MAC algorithm is not supported.
        MAC_NOT_SUPPORTED = 5 => "MAC Algorithm Not Supported",
        /// The key-wrap algorithm is not supported.
        KEY_WRAP_NOT_SUPPORTED = 6 => "Key Wrap Algorithm Not Supported",
        /// The user is not authorised for the function.
        AUTHORIZATION_FAILED = 7 => "Authorization Failed",
        /// The update key change method is not permitted.
        UPDATE_KEY_METHOD_NOT_PERMITTED = 8 => "Update Key Change Method Not Permitted",
        /// A digital signature did not verify.
        INVALID_SIGNATURE = 9 => "Invalid Signature",
        /// Certification data did not verify.
        INVALID_CERTIFICATION = 10 => "Invalid Certification Data",
        /// The user is unknown.
        UNKNOWN_USER = 11 => "Unknown User",
        /// Too many session key status requests.
        MAX_SESSION_KEY_STATUS_REQUESTS = 12 => "Max Session Key Status Requests Exceeded",
    }
}

/// Secure Authentication challenge, group 120 variation 1 (IEEE 1815-2012 A.45.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthChallenge<'a> {
    /// Challenge sequence number.
    pub csq: u32,
    /// User number.
    pub user: u16,
    /// MAC algorithm.
    pub mac_algorithm: u8,
    /// Reason for the challenge (1 = critical function).
    pub reason: u8,
    /// Pseudo-random challenge data.
    pub challenge: &'a [u8],
}

impl<'a> AuthChallenge<'a> {
    /// Decodes a challenge object (the octets after its size prefix).
    pub fn parse(data: &'a [u8]) -> Option<AuthChallenge<'a>> {
        let mut r = Reader::new(data);
        let csq = r.u32_le().ok()?;
        let user = r.u16_le().ok()?;
        let mac_algorithm = r.u8().ok()?;
        let reason = r.u8().ok()?;
        Some(AuthChallenge { csq, user, mac_algorithm, reason, challenge: r.take_rest() })
    }
}

/// Secure Authentication reply, group 120 variation 2 (IEEE 1815-2012 A.45.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthReply<'a> {
    /// Challenge sequence number being answered.
    pub csq: u32,
    /// User number.
    pub user: u16,
    /// The MAC value.
    pub mac: &'a [u8],
}

impl<'a> AuthReply<'a> {
    /// Decodes a reply object (the octets after its size prefix).
    pub fn parse(data: &'a [u8]) -> Option<AuthReply<'a>> {
        let mut r = Reader::new(data);
        let csq = r.u32_le().ok()?;
        let user = r.u16_le().ok()?;
        Some(AuthReply { csq, user, mac: r.take_rest() })
    }
}

/// Secure Authentication error, group 120 variation 7 (IEEE 1815-2012 A.45.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthError<'a> {
    /// Challenge sequence number.
    pub csq: u32,
    /// User number.
    pub user: u16,
    /// Association id.
    pub association: u16,
    /// What went wrong.
    pub code: AuthErrorCode,
    /// DNP3 time of the error (ms since 1970).
    pub time_ms: u64,
    /// Optional error text.
    pub text: &'a [u8],
}

impl<'a> AuthError<'a> {
    /// Decodes an error object (the octets after its size prefix).
    pub fn parse(data: &'a [u8]) -> Option<AuthError<'a>> {
        let mut r = Reader::new(data);
        let csq = r.u32_le().ok()?;
        let user = r.u16_le().ok()?;
        let association = r.u16_le().ok()?;
        let code = AuthErrorCode(r.u8().ok()?);
        let time_ms = read_u48(&mut r)?;
        Some(AuthError { csq, user, association, code, time_ms, text: r.take_rest() })
    }
}

/// Reads a little-endian 48-bit DNP3 time.
fn read_u48(r: &mut Reader<'_>) -> Option<u64> {
    let b: [u8; 6] = r.take_array().ok()?;
    let [a0, a1, a2, a3, a4, a5] = b;
    Some(u64::from_le_bytes([a0, a1, a2, a3, a4, a5, 0, 0]))
}
