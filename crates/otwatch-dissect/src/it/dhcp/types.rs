//! DHCP message and wire enums: what [`super::parse`] returns.

use crate::reader::Reader;

use super::anomaly::Anomalies;

/// The BOOTP `op` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Op(pub u8);

impl Op {
    /// 1: BOOTREQUEST (client to server).
    pub const BOOTREQUEST: Op = Op(1);
    /// 2: BOOTREPLY (server to client).
    pub const BOOTREPLY: Op = Op(2);

    /// The RFC 951 name, if defined.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("BOOTREQUEST"),
            2 => Some("BOOTREPLY"),
            _ => None,
        }
    }
}

/// The DHCP Message Type (option 53).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    /// 1: DHCPDISCOVER.
    pub const DISCOVER: MessageType = MessageType(1);
    /// 2: DHCPOFFER.
    pub const OFFER: MessageType = MessageType(2);
    /// 3: DHCPREQUEST.
    pub const REQUEST: MessageType = MessageType(3);
    /// 4: DHCPDECLINE.
    pub const DECLINE: MessageType = MessageType(4);
    /// 5: DHCPACK.
    pub const ACK: MessageType = MessageType(5);
    /// 6: DHCPNAK.
    pub const NAK: MessageType = MessageType(6);
    /// 7: DHCPRELEASE.
    pub const RELEASE: MessageType = MessageType(7);
    /// 8: DHCPINFORM.
    pub const INFORM: MessageType = MessageType(8);

    /// The registered name, if defined (RFC 2132, 3203, 4388, 6926, 7724).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "DHCPDISCOVER",
            2 => "DHCPOFFER",
            3 => "DHCPREQUEST",
            4 => "DHCPDECLINE",
            5 => "DHCPACK",
            6 => "DHCPNAK",
            7 => "DHCPRELEASE",
            8 => "DHCPINFORM",
            9 => "DHCPFORCERENEW",
            10 => "DHCPLEASEQUERY",
            11 => "DHCPLEASEUNASSIGNED",
            12 => "DHCPLEASEUNKNOWN",
            13 => "DHCPLEASEACTIVE",
            14 => "DHCPBULKLEASEQUERY",
            15 => "DHCPLEASEQUERYDONE",
            16 => "DHCPACTIVELEASEQUERY",
            17 => "DHCPLEASEQUERYSTATUS",
            18 => "DHCPTLS",
            _ => return None,
        })
    }

    /// Whether clients send this type (in a BOOTREQUEST).
    pub fn is_from_client(self) -> bool {
        matches!(self.0, 1 | 3 | 4 | 7 | 8 | 10 | 14 | 16)
    }
}

/// A DHCP option code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionCode(pub u8);

impl OptionCode {
    /// 0: Pad.
    pub const PAD: OptionCode = OptionCode(0);
    /// 12: Host Name.
    pub const HOST_NAME: OptionCode = OptionCode(12);
    /// 15: Domain Name.
    pub const DOMAIN_NAME: OptionCode = OptionCode(15);
    /// 50: Requested IP Address.
    pub const REQUESTED_IP: OptionCode = OptionCode(50);
    /// 53: DHCP Message Type.
    pub const MESSAGE_TYPE: OptionCode = OptionCode(53);
    /// 54: Server Identifier.
    pub const SERVER_ID: OptionCode = OptionCode(54);
    /// 55: Parameter Request List.
    pub const PARAMETER_REQUEST_LIST: OptionCode = OptionCode(55);
    /// 60: Vendor Class Identifier.
    pub const VENDOR_CLASS_ID: OptionCode = OptionCode(60);
    /// 61: Client Identifier.
    pub const CLIENT_ID: OptionCode = OptionCode(61);
    /// 255: End.
    pub const END: OptionCode = OptionCode(255);
}

/// One option: code and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    /// The option code.
    pub code: OptionCode,
    /// The value bytes.
    pub value: &'a [u8],
}

/// The options area after the magic cookie, walked lazily.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> Options<'a> {
    /// The options up to End, the first truncated one, or
    /// [`super::MAX_OPTIONS`] of them; Pad is skipped.
    pub fn iter(&self) -> OptionIter<'a> {
        OptionIter { reader: Reader::new(self.bytes), seen: 0 }
    }

    /// The first option with `code`.
    pub fn get(&self, code: OptionCode) -> Option<&'a [u8]> {
        self.iter().find(|o| o.code == code).map(|o| o.value)
    }
}

/// Iterator over [`Options`].
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    reader: Reader<'a>,
    seen: usize,
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = DhcpOption<'a>;

    fn next(&mut self) -> Option<DhcpOption<'a>> {
        loop {
            if self.seen >= super::MAX_OPTIONS {
                return None;
            }
            let code = OptionCode(self.reader.u8().ok()?);
            if code == OptionCode::END {
                self.reader.take_rest();
                return None;
            }
            if code == OptionCode::PAD {
                continue;
            }
            let mut r = self.reader;
            let len = r.u8().ok()?;
            let value = r.take(usize::from(len)).ok()?;
            self.reader = r;
            self.seen = self.seen.saturating_add(1);
            return Some(DhcpOption { code, value });
        }
    }
}

/// A DHCP or BOOTP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// Request or reply.
    pub op: Op,
    /// Hardware address type (1 Ethernet).
    pub htype: u8,
    /// Hardware address length.
    pub hlen: u8,
    /// Relay hops.
    pub hops: u8,
    /// Transaction id.
    pub xid: u32,
    /// Seconds since the client began.
    pub secs: u16,
    /// Flags (bit 15: broadcast).
    pub flags: u16,
    /// Client IP address (when the client has one).
    pub ciaddr: [u8; 4],
    /// "Your" (client) address assigned by the server.
    pub yiaddr: [u8; 4],
    /// Next server address.
    pub siaddr: [u8; 4],
    /// Relay agent address.
    pub giaddr: [u8; 4],
    /// Client hardware address (`hlen` bytes, at most 16).
    pub chaddr: &'a [u8],
    /// Server host name field (NUL-padded).
    pub sname: &'a [u8],
    /// Boot file name field (NUL-padded).
    pub file: &'a [u8],
    /// Whether the magic cookie is present (RFC 1497 vendor extensions);
    /// without it the message is plain BOOTP and no option is read.
    pub has_magic_cookie: bool,
    /// Option 53; `None` for BOOTP (many controllers still use BOOTP).
    pub message_type: Option<MessageType>,
    /// Option 12.
    pub host_name: Option<&'a [u8]>,
    /// Option 60.
    pub vendor_class_id: Option<&'a [u8]>,
    /// Option 55: the option codes the client asks for (a fingerprint).
    pub parameter_request_list: Option<&'a [u8]>,
    /// Option 50.
    pub requested_ip: Option<[u8; 4]>,
    /// Option 54.
    pub server_id: Option<[u8; 4]>,
    /// Option 61 (type byte then identifier).
    pub client_id: Option<&'a [u8]>,
    /// Every option.
    pub options: Options<'a>,
    /// What is wrong with it.
    pub anomalies: Anomalies,
}

impl<'a> Message<'a> {
    /// Whether this is DHCP (it has a message type) rather than BOOTP.
    pub fn is_dhcp(&self) -> bool {
        self.message_type.is_some()
    }

    /// The host name as text, if present and valid UTF-8.
    pub fn host_name_str(&self) -> Option<&'a str> {
        self.host_name.and_then(|h| std::str::from_utf8(h).ok())
    }

    /// The vendor class as text, if present and valid UTF-8.
    pub fn vendor_class_str(&self) -> Option<&'a str> {
        self.vendor_class_id.and_then(|h| std::str::from_utf8(h).ok())
    }

    /// The client MAC address, when the hardware is Ethernet.
    pub fn client_mac(&self) -> Option<[u8; 6]> {
        if self.htype == 1 && self.hlen == 6 { self.chaddr.try_into().ok() } else { None }
    }
}
