//! Modbus messages and wire enums: what [`super::parse`] returns.
//!
//! Wire values are newtypes over the raw integer with named constants, so
//! unknown codes survive decoding. Variable-length lists (file records,
//! device identification objects) are kept as borrowed bytes and walked by
//! iterators, so decoding never allocates.

use crate::reader::Reader;

use super::anomaly::Anomalies;

/// The MBAP header that precedes every Modbus/TCP PDU (Implementation Guide 3.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mbap {
    /// Transaction identifier, copied by the server into its response.
    pub transaction_id: u16,
    /// Protocol identifier; 0 for Modbus.
    pub protocol_id: u16,
    /// Bytes that follow the length field (unit id plus PDU).
    pub length: u16,
    /// Unit identifier (the serial slave address behind a gateway, often 0 or 255).
    pub unit_id: u8,
}

/// One Modbus/TCP application data unit: MBAP header plus PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adu<'a> {
    /// The MBAP header.
    pub header: Mbap,
    /// The protocol data unit.
    pub pdu: Pdu<'a>,
    /// What is wrong with it (header and PDU).
    pub anomalies: Anomalies,
}

/// A Modbus PDU: function code plus decoded body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// The function code as sent (bit 7 set on exception responses).
    pub function: FunctionCode,
    /// Whether this is a request (to the server) or a response.
    pub is_request: bool,
    /// The decoded body.
    pub body: Body<'a>,
    /// The bytes after the function code, undecoded.
    pub data: &'a [u8],
}

impl Pdu<'_> {
    /// The exception code, if this is an exception response.
    pub fn exception(&self) -> Option<ExceptionCode> {
        match self.body {
            Body::Exception { code } => Some(code),
            _ => None,
        }
    }

    /// What the PDU does, for detection.
    pub fn operation(&self) -> Operation {
        match self.body {
            Body::Exception { .. } => return Operation::Exception,
            Body::Diagnostics { sub_function, .. } => {
                return match sub_function {
                    DiagnosticSubFunction::RESTART_COMMUNICATIONS_OPTION => Operation::Restart,
                    DiagnosticSubFunction::FORCE_LISTEN_ONLY_MODE => Operation::ListenOnly,
                    DiagnosticSubFunction::CLEAR_COUNTERS
                    | DiagnosticSubFunction::CLEAR_OVERRUN_COUNTER
                    | DiagnosticSubFunction::CHANGE_ASCII_INPUT_DELIMITER => Operation::Configure,
                    _ => Operation::Diagnostic,
                };
            }
            Body::Umas { code, .. } => return code.operation(),
            _ => {}
        }
        self.function.operation()
    }
}

/// The body of a Modbus PDU, by function code and direction (Application
/// Protocol Specification V1.1b3, section 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// Request of Read Coils (1), Read Discrete Inputs (2), Read Holding
    /// Registers (3) or Read Input Registers (4).
    ReadRequest {
        /// First address.
        start: u16,
        /// Number of items.
        quantity: u16,
    },
    /// Response carrying a byte count and that many data bytes: Read Coils,
    /// Read Discrete Inputs (bit-packed), Read Holding/Input Registers and
    /// Read/Write Multiple Registers (big-endian registers).
    ReadResponse {
        /// The byte count field.
        byte_count: u8,
        /// The data bytes.
        values: &'a [u8],
    },
    /// Write Single Coil (5) or Write Single Register (6); the response
    /// echoes the request.
    WriteSingle {
        /// Address written.
        address: u16,
        /// Value written (0xFF00 on, 0x0000 off for coils).
        value: u16,
    },
    /// Request of Write Multiple Coils (15) or Write Multiple Registers (16).
    WriteMultipleRequest {
        /// First address.
        start: u16,
        /// Number of items.
        quantity: u16,
        /// The byte count field.
        byte_count: u8,
        /// The values written.
        values: &'a [u8],
    },
    /// Response of Write Multiple Coils (15) or Write Multiple Registers (16).
    WriteMultipleResponse {
        /// First address.
        start: u16,
        /// Number of items written.
        quantity: u16,
    },
    /// A request without data: Read Exception Status (7), Get Comm Event
    /// Counter (11), Get Comm Event Log (12), Report Server ID (17).
    Empty,
    /// Response of Read Exception Status (7).
    ExceptionStatus {
        /// The eight exception status outputs.
        outputs: u8,
    },
    /// Diagnostics (8), request or echoed response.
    Diagnostics {
        /// The sub-function.
        sub_function: DiagnosticSubFunction,
        /// The data field.
        data: &'a [u8],
    },
    /// Response of Get Comm Event Counter (11).
    CommEventCounter {
        /// 0xFFFF while a previous command is still being processed.
        status: u16,
        /// The event count.
        event_count: u16,
    },
    /// Response of Get Comm Event Log (12).
    CommEventLog {
        /// The byte count field.
        byte_count: u8,
        /// Status word.
        status: u16,
        /// Event count.
        event_count: u16,
        /// Bus message count.
        message_count: u16,
        /// The event bytes, most recent first.
        events: &'a [u8],
    },
    /// Response of Report Server ID (17). The server id and run indicator
    /// are device specific in length, so the data is kept whole.
    ReportServerId {
        /// The byte count field.
        byte_count: u8,
        /// Server id, run indicator (0x00 off, 0xFF on) and additional data.
        data: &'a [u8],
    },
    /// Read File Record (20) request, Write File Record (21) request or
    /// response, or Read File Record response: a byte count and a list of
    /// sub-requests or sub-responses.
    FileRecords {
        /// The byte count field.
        byte_count: u8,
        /// The records, walked by [`FileRecords::iter`].
        records: FileRecords<'a>,
    },
    /// Mask Write Register (22), request or echoed response.
    MaskWrite {
        /// Register address.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// Request of Read/Write Multiple Registers (23).
    ReadWriteRequest {
        /// First register read.
        read_start: u16,
        /// Registers read.
        read_quantity: u16,
        /// First register written.
        write_start: u16,
        /// Registers written.
        write_quantity: u16,
        /// The write byte count field.
        byte_count: u8,
        /// The values written.
        values: &'a [u8],
    },
    /// Request of Read FIFO Queue (24).
    ReadFifoRequest {
        /// FIFO pointer address.
        address: u16,
    },
    /// Response of Read FIFO Queue (24).
    ReadFifoResponse {
        /// The byte count field (bytes after it).
        byte_count: u16,
        /// Registers in the queue (at most 31).
        fifo_count: u16,
        /// The queued registers.
        values: &'a [u8],
    },
    /// Encapsulated Interface Transport (43), Read Device Identification
    /// (MEI type 14) request.
    ReadDeviceIdRequest {
        /// Which category of objects is asked for.
        code: ReadDeviceIdCode,
        /// The first (or the one) object asked for.
        object_id: DeviceObjectId,
    },
    /// Encapsulated Interface Transport (43), Read Device Identification
    /// (MEI type 14) response.
    ReadDeviceIdResponse {
        /// Echo of the request's code.
        code: ReadDeviceIdCode,
        /// Conformity level of the device.
        conformity: ConformityLevel,
        /// 0xFF when more objects follow in another transaction.
        more_follows: u8,
        /// Object id to ask for next when more follow.
        next_object_id: DeviceObjectId,
        /// Number of objects the response says it holds.
        number_of_objects: u8,
        /// The objects, walked by [`DeviceObjects::iter`].
        objects: DeviceObjects<'a>,
    },
    /// Encapsulated Interface Transport (43) with another MEI type (13,
    /// CANopen General Reference, or unknown): kept raw.
    Mei {
        /// The MEI type.
        mei_type: MeiType,
        /// Bytes after the MEI type.
        data: &'a [u8],
    },
    /// Schneider Electric UMAS over function code 90 (0x5A). Only the
    /// framing is decoded: the pairing key and the UMAS function code.
    Umas {
        /// The session pairing key (0 before a reservation).
        pairing_key: u8,
        /// The UMAS function code (request) or status (response: 0xFE ok,
        /// 0xFD error).
        code: UmasCode,
        /// Bytes after the code.
        data: &'a [u8],
    },
    /// Exception response (function code with bit 7 set).
    Exception {
        /// The exception code.
        code: ExceptionCode,
    },
    /// A body that is not decoded: unknown, reserved or user-defined
    /// function codes, and bodies whose shape does not fit the function (the
    /// PDU's anomalies say why). The bytes are in [`Pdu::data`].
    Raw,
}

/// What a PDU does, coarsely, for detection and inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Reads process data.
    Read,
    /// Writes process data (coils, registers, files).
    Write,
    /// Reads diagnostics or counters.
    Diagnostic,
    /// Asks the device to identify itself.
    Identification,
    /// Clears counters or changes communication settings.
    Configure,
    /// Restarts the device's communications.
    Restart,
    /// Forces the device into listen-only mode (it stops answering).
    ListenOnly,
    /// Starts the controller's program (UMAS).
    Start,
    /// Stops the controller's program (UMAS).
    Stop,
    /// Reads the controller's program (UMAS upload).
    ProgramUpload,
    /// Writes the controller's program (UMAS download).
    ProgramDownload,
    /// Takes or releases a vendor session reservation (UMAS).
    Session,
    /// An exception response.
    Exception,
    /// Anything else (unknown, user-defined or reserved codes, vendor traffic).
    Other,
}

/// A Modbus function code as sent, including bit 7 on exception responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionCode(pub u8);

impl FunctionCode {
    /// 1: Read Coils.
    pub const READ_COILS: FunctionCode = FunctionCode(1);
    /// 2: Read Discrete Inputs.
    pub const READ_DISCRETE_INPUTS: FunctionCode = FunctionCode(2);
    /// 3: Read Holding Registers.
    pub const READ_HOLDING_REGISTERS: FunctionCode = FunctionCode(3);
    /// 4: Read Input Registers.
    pub const READ_INPUT_REGISTERS: FunctionCode = FunctionCode(4);
    /// 5: Write Single Coil.
    pub const WRITE_SINGLE_COIL: FunctionCode = FunctionCode(5);
    /// 6: Write Single Register.
    pub const WRITE_SINGLE_REGISTER: FunctionCode = FunctionCode(6);
    /// 7: Read Exception Status (serial line only).
    pub const READ_EXCEPTION_STATUS: FunctionCode = FunctionCode(7);
    /// 8: Diagnostics (serial line only).
    pub const DIAGNOSTICS: FunctionCode = FunctionCode(8);
    /// 11: Get Comm Event Counter (serial line only).
    pub const GET_COMM_EVENT_COUNTER: FunctionCode = FunctionCode(11);
    /// 12: Get Comm Event Log (serial line only).
    pub const GET_COMM_EVENT_LOG: FunctionCode = FunctionCode(12);
    /// 15: Write Multiple Coils.
    pub const WRITE_MULTIPLE_COILS: FunctionCode = FunctionCode(15);
    /// 16: Write Multiple Registers.
    pub const WRITE_MULTIPLE_REGISTERS: FunctionCode = FunctionCode(16);
    /// 17: Report Server ID (serial line only).
    pub const REPORT_SERVER_ID: FunctionCode = FunctionCode(17);
    /// 20: Read File Record.
    pub const READ_FILE_RECORD: FunctionCode = FunctionCode(20);
    /// 21: Write File Record.
    pub const WRITE_FILE_RECORD: FunctionCode = FunctionCode(21);
    /// 22: Mask Write Register.
    pub const MASK_WRITE_REGISTER: FunctionCode = FunctionCode(22);
    /// 23: Read/Write Multiple Registers.
    pub const READ_WRITE_MULTIPLE_REGISTERS: FunctionCode = FunctionCode(23);
    /// 24: Read FIFO Queue.
    pub const READ_FIFO_QUEUE: FunctionCode = FunctionCode(24);
    /// 43: Encapsulated Interface Transport.
    pub const ENCAPSULATED_INTERFACE_TRANSPORT: FunctionCode = FunctionCode(43);
    /// 90 (0x5A): Schneider Electric UMAS (reserved in the public specification).
    pub const UMAS: FunctionCode = FunctionCode(90);

    /// Bit 7, set on exception responses.
    pub const EXCEPTION_BIT: u8 = 0x80;

    /// The code with the exception bit cleared (what tshark reports).
    pub fn base(self) -> FunctionCode {
        FunctionCode(self.0 & !FunctionCode::EXCEPTION_BIT)
    }

    /// Whether bit 7 is set (an exception response).
    pub fn is_exception(self) -> bool {
        self.0 & FunctionCode::EXCEPTION_BIT != 0
    }

    /// Whether the (base) code is one of the public codes the specification defines.
    pub fn is_public(self) -> bool {
        matches!(self.base().0, 1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43)
    }

    /// Whether the (base) code is in a user-defined range (65-72, 100-110).
    pub fn is_user_defined(self) -> bool {
        matches!(self.base().0, 65..=72 | 100..=110)
    }

    /// Whether the (base) code is reserved: neither public, user-defined,
    /// UMAS (90) nor 0.
    pub fn is_reserved(self) -> bool {
        let b = self.base();
        b.0 != 0 && b != FunctionCode::UMAS && !self.is_public() && !self.is_user_defined()
    }

    /// Whether the (base) code changes process data or files.
    pub fn is_write(self) -> bool {
        matches!(self.base().0, 5 | 6 | 15 | 16 | 21 | 22 | 23)
    }

    /// What the (base) code does, without looking at the body.
    pub fn operation(self) -> Operation {
        match self.base().0 {
            1..=4 | 20 | 24 => Operation::Read,
            5 | 6 | 15 | 16 | 21..=23 => Operation::Write,
            7 | 8 | 11 | 12 => Operation::Diagnostic,
            17 | 43 => Operation::Identification,
            _ => Operation::Other,
        }
    }

    /// The specification's name of the (base) code, if it has one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.base().0 {
            1 => "Read Coils",
            2 => "Read Discrete Inputs",
            3 => "Read Holding Registers",
            4 => "Read Input Registers",
            5 => "Write Single Coil",
            6 => "Write Single Register",
            7 => "Read Exception Status",
            8 => "Diagnostics",
            11 => "Get Comm Event Counter",
            12 => "Get Comm Event Log",
            15 => "Write Multiple Coils",
            16 => "Write Multiple Registers",
            17 => "Report Server ID",
            20 => "Read File Record",
            21 => "Write File Record",
            22 => "Mask Write Register",
            23 => "Read/Write Multiple Registers",
            24 => "Read FIFO Queue",
            43 => "Encapsulated Interface Transport",
            90 => "UMAS",
            _ => return None,
        })
    }
}

impl std::fmt::Display for FunctionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) if self.is_exception() => write!(f, "{n} (exception)"),
            Some(n) => f.write_str(n),
            None => write!(f, "function {}", self.0),
        }
    }
}

/// An exception code (Application Protocol Specification section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExceptionCode(pub u8);

impl ExceptionCode {
    /// 1: Illegal Function.
    pub const ILLEGAL_FUNCTION: ExceptionCode = ExceptionCode(0x01);
    /// 2: Illegal Data Address.
    pub const ILLEGAL_DATA_ADDRESS: ExceptionCode = ExceptionCode(0x02);
    /// 3: Illegal Data Value.
    pub const ILLEGAL_DATA_VALUE: ExceptionCode = ExceptionCode(0x03);
    /// 4: Server Device Failure.
    pub const SERVER_DEVICE_FAILURE: ExceptionCode = ExceptionCode(0x04);
    /// 5: Acknowledge (long-running request accepted).
    pub const ACKNOWLEDGE: ExceptionCode = ExceptionCode(0x05);
    /// 6: Server Device Busy.
    pub const SERVER_DEVICE_BUSY: ExceptionCode = ExceptionCode(0x06);
    /// 8: Memory Parity Error.
    pub const MEMORY_PARITY_ERROR: ExceptionCode = ExceptionCode(0x08);
    /// 10: Gateway Path Unavailable.
    pub const GATEWAY_PATH_UNAVAILABLE: ExceptionCode = ExceptionCode(0x0A);
    /// 11: Gateway Target Device Failed to Respond.
    pub const GATEWAY_TARGET_FAILED: ExceptionCode = ExceptionCode(0x0B);

    /// The specification's name, if the code is defined.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "Illegal Function",
            0x02 => "Illegal Data Address",
            0x03 => "Illegal Data Value",
            0x04 => "Server Device Failure",
            0x05 => "Acknowledge",
            0x06 => "Server Device Busy",
            0x08 => "Memory Parity Error",
            0x0A => "Gateway Path Unavailable",
            0x0B => "Gateway Target Device Failed to Respond",
            _ => return None,
        })
    }
}

/// A Diagnostics (8) sub-function code (specification 6.8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiagnosticSubFunction(pub u16);

impl DiagnosticSubFunction {
    /// 0x00: Return Query Data (loopback).
    pub const RETURN_QUERY_DATA: DiagnosticSubFunction = DiagnosticSubFunction(0x00);
    /// 0x01: Restart Communications Option.
    pub const RESTART_COMMUNICATIONS_OPTION: DiagnosticSubFunction = DiagnosticSubFunction(0x01);
    /// 0x02: Return Diagnostic Register.
    pub const RETURN_DIAGNOSTIC_REGISTER: DiagnosticSubFunction = DiagnosticSubFunction(0x02);
    /// 0x03: Change ASCII Input Delimiter.
    pub const CHANGE_ASCII_INPUT_DELIMITER: DiagnosticSubFunction = DiagnosticSubFunction(0x03);
    /// 0x04: Force Listen Only Mode.
    pub const FORCE_LISTEN_ONLY_MODE: DiagnosticSubFunction = DiagnosticSubFunction(0x04);
    /// 0x0A: Clear Counters and Diagnostic Register.
    pub const CLEAR_COUNTERS: DiagnosticSubFunction = DiagnosticSubFunction(0x0A);
    /// 0x14: Clear Overrun Counter and Flag.
    pub const CLEAR_OVERRUN_COUNTER: DiagnosticSubFunction = DiagnosticSubFunction(0x14);

    /// The specification's name, if the sub-function is defined.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "Return Query Data",
            0x01 => "Restart Communications Option",
            0x02 => "Return Diagnostic Register",
            0x03 => "Change ASCII Input Delimiter",
            0x04 => "Force Listen Only Mode",
            0x0A => "Clear Counters and Diagnostic Register",
            0x0B => "Return Bus Message Count",
            0x0C => "Return Bus Communication Error Count",
            0x0D => "Return Bus Exception Error Count",
            0x0E => "Return Server Message Count",
            0x0F => "Return Server No Response Count",
            0x10 => "Return Server NAK Count",
            0x11 => "Return Server Busy Count",
            0x12 => "Return Bus Character Overrun Count",
            0x14 => "Clear Overrun Counter and Flag",
            _ => return None,
        })
    }
}

/// An Encapsulated Interface Transport (43) MEI type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MeiType(pub u8);

impl MeiType {
    /// 13: CANopen General Reference Request and Response.
    pub const CANOPEN_GENERAL_REFERENCE: MeiType = MeiType(0x0D);
    /// 14: Read Device Identification.
    pub const READ_DEVICE_IDENTIFICATION: MeiType = MeiType(0x0E);

    /// The specification's name, if the type is defined.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0x0D => Some("CANopen General Reference"),
            0x0E => Some("Read Device Identification"),
            _ => None,
        }
    }
}

/// The Read Device ID code of a Read Device Identification request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadDeviceIdCode(pub u8);

impl ReadDeviceIdCode {
    /// 1: basic identification (stream access).
    pub const BASIC: ReadDeviceIdCode = ReadDeviceIdCode(1);
    /// 2: regular identification (stream access).
    pub const REGULAR: ReadDeviceIdCode = ReadDeviceIdCode(2);
    /// 3: extended identification (stream access).
    pub const EXTENDED: ReadDeviceIdCode = ReadDeviceIdCode(3);
    /// 4: one specific object (individual access).
    pub const SPECIFIC: ReadDeviceIdCode = ReadDeviceIdCode(4);

    /// The specification's name, if the code is defined.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("Basic Device Identification"),
            2 => Some("Regular Device Identification"),
            3 => Some("Extended Device Identification"),
            4 => Some("Specific Identification Object"),
            _ => None,
        }
    }
}

/// The conformity level in a Read Device Identification response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConformityLevel(pub u8);

impl ConformityLevel {
    /// The specification's name, if the level is defined (0x01-0x03 stream
    /// access only, 0x81-0x83 stream and individual access).
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0x01 => Some("Basic (stream access only)"),
            0x02 => Some("Regular (stream access only)"),
            0x03 => Some("Extended (stream access only)"),
            0x81 => Some("Basic (stream and individual access)"),
            0x82 => Some("Regular (stream and individual access)"),
            0x83 => Some("Extended (stream and individual access)"),
            _ => None,
        }
    }
}

/// A device identification object id (specification 6.21).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceObjectId(pub u8);

impl DeviceObjectId {
    /// 0x00: VendorName.
    pub const VENDOR_NAME: DeviceObjectId = DeviceObjectId(0x00);
    /// 0x01: ProductCode.
    pub const PRODUCT_CODE: DeviceObjectId = DeviceObjectId(0x01);
    /// 0x02: MajorMinorRevision.
    pub const MAJOR_MINOR_REVISION: DeviceObjectId = DeviceObjectId(0x02);
    /// 0x03: VendorUrl.
    pub const VENDOR_URL: DeviceObjectId = DeviceObjectId(0x03);
    /// 0x04: ProductName.
    pub const PRODUCT_NAME: DeviceObjectId = DeviceObjectId(0x04);
    /// 0x05: ModelName.
    pub const MODEL_NAME: DeviceObjectId = DeviceObjectId(0x05);
    /// 0x06: UserApplicationName.
    pub const USER_APPLICATION_NAME: DeviceObjectId = DeviceObjectId(0x06);

    /// The specification's name; reserved (0x07-0x7F) and private (0x80-0xFF)
    /// objects have none.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "VendorName",
            0x01 => "ProductCode",
            0x02 => "MajorMinorRevision",
            0x03 => "VendorUrl",
            0x04 => "ProductName",
            0x05 => "ModelName",
            0x06 => "UserApplicationName",
            _ => return None,
        })
    }

    /// Whether the id is in the reserved range 0x07-0x7F.
    pub fn is_reserved(self) -> bool {
        (0x07..=0x7F).contains(&self.0)
    }
}

/// One device identification object: id and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceObject<'a> {
    /// The object id.
    pub id: DeviceObjectId,
    /// The value bytes (ASCII strings for the standard objects).
    pub value: &'a [u8],
}

impl<'a> DeviceObject<'a> {
    /// The value as text, if it is valid UTF-8.
    pub fn value_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.value).ok()
    }
}

/// The object list of a Read Device Identification response, walked lazily.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceObjects<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> DeviceObjects<'a> {
    /// The objects, up to the first one that does not fit in the PDU.
    pub fn iter(&self) -> DeviceObjectIter<'a> {
        DeviceObjectIter { reader: Reader::new(self.bytes) }
    }

    /// The raw bytes of the list.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Iterator over [`DeviceObjects`].
#[derive(Clone, Debug)]
pub struct DeviceObjectIter<'a> {
    reader: Reader<'a>,
}

impl<'a> Iterator for DeviceObjectIter<'a> {
    type Item = DeviceObject<'a>;

    fn next(&mut self) -> Option<DeviceObject<'a>> {
        let mut r = self.reader;
        let id = r.u8().ok()?;
        let len = r.u8().ok()?;
        let value = r.take(usize::from(len)).ok()?;
        self.reader = r;
        Some(DeviceObject { id: DeviceObjectId(id), value })
    }
}

/// Which shape the records of a [`Body::FileRecords`] have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileRecordKind {
    /// Read File Record request: reference, file, record, length (7 bytes each).
    ReadRequest,
    /// Read File Record response: length byte, reference, record data.
    ReadResponse,
    /// Write File Record request or response: reference, file, record,
    /// length, then the record data.
    Write,
}

/// The sub-requests or sub-responses of a file record PDU, walked lazily.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRecords<'a> {
    /// Which shape the records have.
    pub kind: FileRecordKind,
    pub(crate) bytes: &'a [u8],
}

impl<'a> FileRecords<'a> {
    /// The records, up to the first one that does not fit.
    pub fn iter(&self) -> FileRecordIter<'a> {
        FileRecordIter { kind: self.kind, reader: Reader::new(self.bytes) }
    }

    /// The raw bytes of the list.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// One file record sub-request or sub-response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRecord<'a> {
    /// Reference type; must be 6.
    pub reference_type: u8,
    /// File number (absent in read responses).
    pub file_number: Option<u16>,
    /// Record number, 0-9999 (absent in read responses).
    pub record_number: Option<u16>,
    /// Record length in registers (absent in read responses).
    pub record_length: Option<u16>,
    /// Record data (empty in read requests).
    pub data: &'a [u8],
}

/// Iterator over [`FileRecords`].
#[derive(Clone, Debug)]
pub struct FileRecordIter<'a> {
    kind: FileRecordKind,
    reader: Reader<'a>,
}

impl<'a> Iterator for FileRecordIter<'a> {
    type Item = FileRecord<'a>;

    fn next(&mut self) -> Option<FileRecord<'a>> {
        let mut r = self.reader;
        let rec = match self.kind {
            FileRecordKind::ReadRequest => FileRecord {
                reference_type: r.u8().ok()?,
                file_number: Some(r.u16_be().ok()?),
                record_number: Some(r.u16_be().ok()?),
                record_length: Some(r.u16_be().ok()?),
                data: &[],
            },
            FileRecordKind::ReadResponse => {
                let len = r.u8().ok()?;
                let reference_type = r.u8().ok()?;
                let data = r.take(usize::from(len.saturating_sub(1))).ok()?;
                FileRecord {
                    reference_type,
                    file_number: None,
                    record_number: None,
                    record_length: None,
                    data,
                }
            }
            FileRecordKind::Write => {
                let reference_type = r.u8().ok()?;
                let file_number = r.u16_be().ok()?;
                let record_number = r.u16_be().ok()?;
                let record_length = r.u16_be().ok()?;
                let data = r.take(usize::from(record_length).checked_mul(2)?).ok()?;
                FileRecord {
                    reference_type,
                    file_number: Some(file_number),
                    record_number: Some(record_number),
                    record_length: Some(record_length),
                    data,
                }
            }
        };
        self.reader = r;
        Some(rec)
    }
}

/// A UMAS function code (requests) or status byte (responses), as documented
/// in public research on Schneider Electric's protocol. Only names are known;
/// bodies are not decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UmasCode(pub u8);

impl UmasCode {
    /// 0x10: take the PLC reservation (start an engineering session).
    pub const TAKE_PLC_RESERVATION: UmasCode = UmasCode(0x10);
    /// 0x11: release the PLC reservation.
    pub const RELEASE_PLC_RESERVATION: UmasCode = UmasCode(0x11);
    /// 0x23: write variables.
    pub const WRITE_VARIABLES: UmasCode = UmasCode(0x23);
    /// 0x25: write coils and registers.
    pub const WRITE_COILS_REGISTERS: UmasCode = UmasCode(0x25);
    /// 0x30: initialise a program upload (read from the PLC).
    pub const INITIALIZE_UPLOAD: UmasCode = UmasCode(0x30);
    /// 0x31: upload a block.
    pub const UPLOAD_BLOCK: UmasCode = UmasCode(0x31);
    /// 0x32: end a program upload.
    pub const END_STRATEGY_UPLOAD: UmasCode = UmasCode(0x32);
    /// 0x33: initialise a program download (write to the PLC).
    pub const INITIALIZE_DOWNLOAD: UmasCode = UmasCode(0x33);
    /// 0x34: download a block.
    pub const DOWNLOAD_BLOCK: UmasCode = UmasCode(0x34);
    /// 0x35: end a program download.
    pub const END_STRATEGY_DOWNLOAD: UmasCode = UmasCode(0x35);
    /// 0x40: start the PLC.
    pub const START_PLC: UmasCode = UmasCode(0x40);
    /// 0x41: stop the PLC.
    pub const STOP_PLC: UmasCode = UmasCode(0x41);
    /// 0xFD: response status "error".
    pub const RESPONSE_ERROR: UmasCode = UmasCode(0xFD);
    /// 0xFE: response status "ok".
    pub const RESPONSE_OK: UmasCode = UmasCode(0xFE);

    /// The commonly used name, if known.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "INIT_COMM",
            0x02 => "READ_ID",
            0x03 => "READ_PROJECT_INFO",
            0x04 => "READ_PLC_INFO",
            0x06 => "READ_CARD_INFO",
            0x0A => "REPEAT",
            0x10 => "TAKE_PLC_RESERVATION",
            0x11 => "RELEASE_PLC_RESERVATION",
            0x12 => "KEEP_ALIVE",
            0x20 => "READ_MEMORY_BLOCK",
            0x22 => "READ_VARIABLES",
            0x23 => "WRITE_VARIABLES",
            0x24 => "READ_COILS_REGISTERS",
            0x25 => "WRITE_COILS_REGISTERS",
            0x30 => "INITIALIZE_UPLOAD",
            0x31 => "UPLOAD_BLOCK",
            0x32 => "END_STRATEGY_UPLOAD",
            0x33 => "INITIALIZE_DOWNLOAD",
            0x34 => "DOWNLOAD_BLOCK",
            0x35 => "END_STRATEGY_DOWNLOAD",
            0x39 => "READ_ETH_MASTER_DATA",
            0x40 => "START_PLC",
            0x41 => "STOP_PLC",
            0x50 => "MONITOR_PLC",
            0x58 => "CHECK_PLC",
            0x70 => "READ_IO_OBJECT",
            0x71 => "WRITE_IO_OBJECT",
            0x73 => "GET_STATUS_MODULE",
            0xFD => "RESPONSE_ERROR",
            0xFE => "RESPONSE_OK",
            _ => return None,
        })
    }

    /// What the code does, for detection.
    pub fn operation(self) -> Operation {
        match self.0 {
            0x10 | 0x11 => Operation::Session,
            0x23 | 0x25 | 0x71 => Operation::Write,
            0x30..=0x32 => Operation::ProgramUpload,
            0x33..=0x35 => Operation::ProgramDownload,
            0x40 => Operation::Start,
            0x41 => Operation::Stop,
            0x02..=0x06 => Operation::Identification,
            0x20 | 0x22 | 0x24 | 0x70 => Operation::Read,
            _ => Operation::Other,
        }
    }
}
