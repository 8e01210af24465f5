//! APDUs, ASDUs and wire enums of IEC 60870-5-104. Plain data borrowing from
//! the input; wire enums keep the raw value so unknown codes survive.

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
                    None => write!(f, "unknown ({})", self.0),
                }
            }
        }
    };
}

wire_enum! {
    /// U-format function: the control field's first octet shifted right by 2
    /// (one bit each for STARTDT/STOPDT/TESTFR act and con; IEC 60870-5-104, 5.3).
    UFunction(u8) {
        STARTDT_ACT = 0x01 => "STARTDT act",
        STARTDT_CON = 0x02 => "STARTDT con",
        STOPDT_ACT = 0x04 => "STOPDT act",
        STOPDT_CON = 0x08 => "STOPDT con",
        TESTFR_ACT = 0x10 => "TESTFR act",
        TESTFR_CON = 0x20 => "TESTFR con",
    }
}

wire_enum! {
    /// ASDU type identification (IEC 60870-5-101 7.2.1 and -104 table 1).
    TypeId(u8) {
        M_SP_NA_1 = 1 => "M_SP_NA_1",
        M_SP_TA_1 = 2 => "M_SP_TA_1",
        M_DP_NA_1 = 3 => "M_DP_NA_1",
        M_DP_TA_1 = 4 => "M_DP_TA_1",
        M_ST_NA_1 = 5 => "M_ST_NA_1",
        M_ST_TA_1 = 6 => "M_ST_TA_1",
        M_BO_NA_1 = 7 => "M_BO_NA_1",
        M_BO_TA_1 = 8 => "M_BO_TA_1",
        M_ME_NA_1 = 9 => "M_ME_NA_1",
        M_ME_TA_1 = 10 => "M_ME_TA_1",
        M_ME_NB_1 = 11 => "M_ME_NB_1",
        M_ME_TB_1 = 12 => "M_ME_TB_1",
        M_ME_NC_1 = 13 => "M_ME_NC_1",
        M_ME_TC_1 = 14 => "M_ME_TC_1",
        M_IT_NA_1 = 15 => "M_IT_NA_1",
        M_IT_TA_1 = 16 => "M_IT_TA_1",
        M_EP_TA_1 = 17 => "M_EP_TA_1",
        M_EP_TB_1 = 18 => "M_EP_TB_1",
        M_EP_TC_1 = 19 => "M_EP_TC_1",
        M_PS_NA_1 = 20 => "M_PS_NA_1",
        M_ME_ND_1 = 21 => "M_ME_ND_1",
        M_SP_TB_1 = 30 => "M_SP_TB_1",
        M_DP_TB_1 = 31 => "M_DP_TB_1",
        M_ST_TB_1 = 32 => "M_ST_TB_1",
        M_BO_TB_1 = 33 => "M_BO_TB_1",
        M_ME_TD_1 = 34 => "M_ME_TD_1",
        M_ME_TE_1 = 35 => "M_ME_TE_1",
        M_ME_TF_1 = 36 => "M_ME_TF_1",
        M_IT_TB_1 = 37 => "M_IT_TB_1",
        M_EP_TD_1 = 38 => "M_EP_TD_1",
        M_EP_TE_1 = 39 => "M_EP_TE_1",
        M_EP_TF_1 = 40 => "M_EP_TF_1",
        C_SC_NA_1 = 45 => "C_SC_NA_1",
        C_DC_NA_1 = 46 => "C_DC_NA_1",
        C_RC_NA_1 = 47 => "C_RC_NA_1",
        C_SE_NA_1 = 48 => "C_SE_NA_1",
        C_SE_NB_1 = 49 => "C_SE_NB_1",
        C_SE_NC_1 = 50 => "C_SE_NC_1",
        C_BO_NA_1 = 51 => "C_BO_NA_1",
        C_SC_TA_1 = 58 => "C_SC_TA_1",
        C_DC_TA_1 = 59 => "C_DC_TA_1",
        C_RC_TA_1 = 60 => "C_RC_TA_1",
        C_SE_TA_1 = 61 => "C_SE_TA_1",
        C_SE_TB_1 = 62 => "C_SE_TB_1",
        C_SE_TC_1 = 63 => "C_SE_TC_1",
        C_BO_TA_1 = 64 => "C_BO_TA_1",
        M_EI_NA_1 = 70 => "M_EI_NA_1",
        C_IC_NA_1 = 100 => "C_IC_NA_1",
        C_CI_NA_1 = 101 => "C_CI_NA_1",
        C_RD_NA_1 = 102 => "C_RD_NA_1",
        C_CS_NA_1 = 103 => "C_CS_NA_1",
        C_TS_NA_1 = 104 => "C_TS_NA_1",
        C_RP_NA_1 = 105 => "C_RP_NA_1",
        C_CD_NA_1 = 106 => "C_CD_NA_1",
        C_TS_TA_1 = 107 => "C_TS_TA_1",
        P_ME_NA_1 = 110 => "P_ME_NA_1",
        P_ME_NB_1 = 111 => "P_ME_NB_1",
        P_ME_NC_1 = 112 => "P_ME_NC_1",
        P_AC_NA_1 = 113 => "P_AC_NA_1",
        F_FR_NA_1 = 120 => "F_FR_NA_1",
        F_SR_NA_1 = 121 => "F_SR_NA_1",
        F_SC_NA_1 = 122 => "F_SC_NA_1",
        F_LS_NA_1 = 123 => "F_LS_NA_1",
        F_AF_NA_1 = 124 => "F_AF_NA_1",
        F_SG_NA_1 = 125 => "F_SG_NA_1",
        F_DR_TA_1 = 126 => "F_DR_TA_1",
        F_SC_NB_1 = 127 => "F_SC_NB_1",
    }
}

/// What a type id is for: the -101/-104 groups of type identifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeCategory {
    /// Process information in monitor direction (1–40).
    Monitor,
    /// Process information in control direction: commands and set points (45–64).
    Command,
    /// System information in monitor direction (70, end of initialisation).
    SystemMonitor,
    /// System information in control direction: interrogation, read, clock sync, reset (100–107).
    SystemCommand,
    /// Parameters in control direction (110–113).
    Parameter,
    /// File transfer (120–127).
    File,
    /// Reserved or private: not sizeable.
    Unknown,
}

impl TypeId {
    /// The size in bytes of one information element (with its quality and
    /// time tag), or `None` when the type is unknown or variable-sized.
    pub fn element_size(self) -> Option<usize> {
        let n = match self.0 {
            1 | 3 => 1,       // SIQ / DIQ
            2 | 4 => 4,       // SIQ/DIQ + CP24Time2a
            5 => 2,           // VTI + QDS
            6 => 5,           // VTI + QDS + CP24
            7 => 5,           // BSI + QDS
            8 => 8,           // BSI + QDS + CP24
            9 | 11 => 3,      // NVA/SVA + QDS
            10 | 12 => 6,     // + CP24
            13 => 5,          // IEEE STD 754 + QDS
            14 => 8,          // + CP24
            15 => 5,          // BCR
            16 => 8,          // BCR + CP24
            17 => 6,          // SEP + CP16 + CP24
            18 | 19 => 7,     // SPE/OCI + QDP + CP16 + CP24
            20 => 5,          // SCD + QDS
            21 => 2,          // NVA without quality
            30 | 31 => 8,     // SIQ/DIQ + CP56Time2a
            32 => 9,          // VTI + QDS + CP56
            33 => 12,         // BSI + QDS + CP56
            34 | 35 => 10,    // NVA/SVA + QDS + CP56
            36 => 12,         // float + QDS + CP56
            37 => 12,         // BCR + CP56
            38 => 10,         // SEP + CP16 + CP56
            39 | 40 => 11,    // SPE/OCI + QDP + CP16 + CP56
            45..=47 => 1,     // SCO / DCO / RCO
            48 | 49 => 3,     // NVA/SVA + QOS
            50 => 5,          // float + QOS
            51 => 4,          // BSI
            58..=60 => 8,     // SCO/DCO/RCO + CP56
            61 | 62 => 10,    // NVA/SVA + QOS + CP56
            63 => 12,         // float + QOS + CP56
            64 => 11,         // BSI + CP56
            70 => 1,          // COI
            100 | 101 => 1,   // QOI / QCC
            102 => 0,         // read: address only
            103 => 7,         // CP56Time2a
            104 => 2,         // FBP (fixed test pattern)
            105 => 1,         // QRP
            106 => 2,         // CP16Time2a
            107 => 9,         // TSC + CP56
            110 | 111 => 3,   // NVA/SVA + QPM
            112 => 5,         // float + QPM
            113 => 1,         // QPA
            120 => 6,         // NOF + LOF + FRQ
            121 => 7,         // NOF + NOS + LOF + SRQ
            122 => 4,         // NOF + NOS + SCQ
            123 | 124 => 5,   // NOF + NOS + LSQ/AFQ + CHS
            126 => 13,        // NOF + LOF + SOF + CP56
            127 => 16,        // NOF + CP56 start + CP56 stop
            _ => return None, // 125 F_SG_NA_1 is variable; the rest reserved
        };
        Some(n)
    }

    /// The group the type belongs to.
    pub fn category(self) -> TypeCategory {
        match self.0 {
            1..=40 if self.is_known() => TypeCategory::Monitor,
            45..=64 if self.is_known() => TypeCategory::Command,
            70 => TypeCategory::SystemMonitor,
            100..=107 => TypeCategory::SystemCommand,
            110..=113 => TypeCategory::Parameter,
            120..=127 => TypeCategory::File,
            _ => TypeCategory::Unknown,
        }
    }

    /// Whether this type changes process state or the outstation: commands,
    /// set points, parameter loads, reset process, clock synchronisation.
    pub fn is_control(self) -> bool {
        matches!(self.category(), TypeCategory::Command | TypeCategory::Parameter)
            || matches!(self, TypeId::C_CS_NA_1 | TypeId::C_RP_NA_1 | TypeId::C_CD_NA_1)
    }

    /// Whether the cause of transmission is one the standard allows with this type.
    pub fn allows_cause(self, cause: Cause) -> bool {
        let c = cause.0;
        let mirrored = matches!(c, 44..=47);
        match self.category() {
            TypeCategory::Monitor => matches!(c, 1..=3 | 5 | 11 | 12 | 20..=41),
            TypeCategory::Command => matches!(c, 6..=10) || mirrored,
            TypeCategory::SystemMonitor => c == 4,
            TypeCategory::SystemCommand => match self.0 {
                100 | 101 => matches!(c, 6..=10) || mirrored,
                102 => c == 5 || mirrored,
                103 | 106 => matches!(c, 3 | 6 | 7) || mirrored,
                _ => matches!(c, 6 | 7) || mirrored,
            },
            TypeCategory::Parameter => matches!(c, 6..=9 | 20..=36) || mirrored,
            TypeCategory::File => matches!(c, 3 | 5 | 13) || mirrored,
            TypeCategory::Unknown => true,
        }
    }
}

wire_enum! {
    /// Cause of transmission (6 bits; IEC 60870-5-101 7.2.3).
    Cause(u8) {
        PERIODIC = 1 => "per/cyc",
        BACKGROUND = 2 => "back",
        SPONTANEOUS = 3 => "spont",
        INITIALIZED = 4 => "init",
        REQUEST = 5 => "req",
        ACTIVATION = 6 => "act",
        ACTIVATION_CON = 7 => "actcon",
        DEACTIVATION = 8 => "deact",
        DEACTIVATION_CON = 9 => "deactcon",
        ACTIVATION_TERM = 10 => "actterm",
        RETURN_REMOTE = 11 => "retrem",
        RETURN_LOCAL = 12 => "retloc",
        FILE = 13 => "file",
        INROGEN = 20 => "inrogen",
        INRO1 = 21 => "inro1",
        INRO2 = 22 => "inro2",
        INRO3 = 23 => "inro3",
        INRO4 = 24 => "inro4",
        INRO5 = 25 => "inro5",
        INRO6 = 26 => "inro6",
        INRO7 = 27 => "inro7",
        INRO8 = 28 => "inro8",
        INRO9 = 29 => "inro9",
        INRO10 = 30 => "inro10",
        INRO11 = 31 => "inro11",
        INRO12 = 32 => "inro12",
        INRO13 = 33 => "inro13",
        INRO14 = 34 => "inro14",
        INRO15 = 35 => "inro15",
        INRO16 = 36 => "inro16",
        REQCOGEN = 37 => "reqcogen",
        REQCO1 = 38 => "reqco1",
        REQCO2 = 39 => "reqco2",
        REQCO3 = 40 => "reqco3",
        REQCO4 = 41 => "reqco4",
        UNKNOWN_TYPE = 44 => "unknown type identification",
        UNKNOWN_CAUSE = 45 => "unknown cause of transmission",
        UNKNOWN_COMMON_ADDRESS = 46 => "unknown common address of ASDU",
        UNKNOWN_IOA = 47 => "unknown information object address",
    }
}

/// The APCI control field, decoded by format (IEC 60870-5-104, 5.1–5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apci {
    /// I format: numbered information transfer, carries an ASDU.
    I {
        /// Send sequence number N(S) (15 bits).
        send_seq: u16,
        /// Receive sequence number N(R) (15 bits).
        recv_seq: u16,
    },
    /// S format: numbered supervisory acknowledgement.
    S {
        /// Receive sequence number N(R) (15 bits).
        recv_seq: u16,
    },
    /// U format: unnumbered control function.
    U {
        /// The function bits.
        function: UFunction,
    },
    /// An APDU whose length (0–3) leaves no room for a control field.
    Short,
}

impl Apci {
    /// `'I'`, `'S'` or `'U'`; `None` for a short APDU without a control field.
    pub fn format(&self) -> Option<char> {
        match self {
            Apci::I { .. } => Some('I'),
            Apci::S { .. } => Some('S'),
            Apci::U { .. } => Some('U'),
            Apci::Short => None,
        }
    }
}

/// One APDU: start byte, length, control field and, for I format, the ASDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Apdu<'a> {
    /// The APDU length octet (bytes after it: control field plus ASDU).
    pub length: u8,
    /// The decoded control field.
    pub apci: Apci,
    /// The ASDU of an I-format APDU, when its 6-byte header is present.
    pub asdu: Option<Asdu<'a>>,
    /// APCI and ASDU anomalies.
    pub anomalies: Anomalies,
}

/// Cause of transmission octet: cause, P/N and T bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CauseOfTransmission {
    /// The cause (6 bits).
    pub cause: Cause,
    /// P/N bit: negative confirmation.
    pub negative: bool,
    /// T bit: test.
    pub test: bool,
}

/// An ASDU (IEC 60870-5-101 7.1 with the -104 field sizes: 1-byte originator,
/// 2-byte common address, 3-byte information object addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asdu<'a> {
    /// Type identification.
    pub type_id: TypeId,
    /// SQ bit: one address followed by a sequence of elements.
    pub sequence: bool,
    /// Number of objects (or elements when `sequence`), 7 bits.
    pub count: u8,
    /// Cause of transmission with P/N and T.
    pub cot: CauseOfTransmission,
    /// Originator address.
    pub originator: u8,
    /// Common address of the ASDU (station address), little-endian on the wire.
    pub common_address: u16,
    /// Information objects, each with its address (consecutive addresses when
    /// `sequence`); empty when the type cannot be sized. At most [`super::MAX_OBJECTS`].
    pub objects: Vec<InfoObject<'a>>,
    /// The raw bytes after the 6-byte header.
    pub body: &'a [u8],
}

/// One information object: its address and element bytes (value, quality, time tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InfoObject<'a> {
    /// Information object address (24 bits).
    pub address: u32,
    /// The element bytes.
    pub element: &'a [u8],
}

/// The qualifier of a command or set point: select (S/E = 1) or execute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandQualifier {
    /// S/E bit: true for select, false for execute.
    pub select: bool,
    /// The qualifier bits without S/E (QU for commands, QL for set points).
    pub qualifier: u8,
    /// The commanded state for single/double/regulating-step commands.
    pub state: Option<u8>,
}

impl<'a> InfoObject<'a> {
    /// The command qualifier of a command or set point element of `type_id`.
    pub fn command(&self, type_id: TypeId) -> Option<CommandQualifier> {
        let (byte, state) = match type_id.0 {
            45 | 58 => (*self.element.first()?, Some(self.element.first()? & 0x01)),
            46 | 47 | 59 | 60 => (*self.element.first()?, Some(self.element.first()? & 0x03)),
            48 | 49 | 61 | 62 => (*self.element.get(2)?, None),
            50 | 63 => (*self.element.get(4)?, None),
            _ => return None,
        };
        let qualifier = if state.is_some() { (byte & 0x7c).wrapping_shr(2) } else { byte & 0x7f };
        Some(CommandQualifier { select: byte & 0x80 != 0, qualifier, state })
    }
}
