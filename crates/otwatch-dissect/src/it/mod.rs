//! IT protocols that matter for OT security: DHCP, DNS, HTTP, FTP, Telnet.
//!
//! These are decoded only as far as an OT monitor needs them: DHCP for
//! inventory names and vendor classes, DNS for internet access and domain
//! reputation, HTTP request lines and headers for clients and abnormal
//! requests, and FTP and Telnet for sign-in attempts and failures (never the
//! password itself). Each submodule follows the dissector shape of the OT
//! protocols (`probe`, `pdu_len` for TCP streams, `parse` with anomaly
//! flags) and never panics on any input.

pub mod dhcp;
pub mod dns;
pub mod ftp;
pub mod http;
pub mod telnet;

/// Defines an anomaly bitset newtype with named flags and stable names.
macro_rules! anomaly_set {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $flag:ident = $bit:literal, $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name(u32);

        impl $name {
            /// No anomaly.
            pub const NONE: $name = $name(0);
            $( $(#[$fmeta])* pub const $flag: $name = $name(1 << $bit); )*

            /// Every flag with its stable name, in bit order.
            pub const ALL: &'static [($name, &'static str)] = &[ $( ($name::$flag, $text), )* ];

            /// The raw bits.
            pub fn bits(self) -> u32 {
                self.0
            }

            /// Whether no flag is set.
            pub fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every flag in `other` is set here.
            pub fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Sets the flags in `other`.
            pub fn insert(&mut self, other: $name) {
                self.0 |= other.0;
            }

            /// The stable names of the flags that are set, in bit order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                $name::ALL.iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| *n)
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;

            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }

        impl std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: $name) {
                self.0 |= rhs.0;
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                for (i, name) in self.names().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(name)?;
                }
                Ok(())
            }
        }
    };
}
pub(crate) use anomaly_set;

/// Finds the first line end (`\n`) in `buf` within `max` bytes; returns the
/// index just past it.
pub(crate) fn line_end(buf: &[u8], max: usize) -> Option<usize> {
    buf.iter().take(max).position(|&b| b == b'\n').and_then(|i| i.checked_add(1))
}

/// Strips one trailing `\r\n` or `\n`; reports whether the `\n` had no `\r`.
pub(crate) fn trim_eol(line: &[u8]) -> (&[u8], bool) {
    match line {
        [head @ .., b'\r', b'\n'] => (head, false),
        [head @ .., b'\n'] => (head, true),
        _ => (line, false),
    }
}

/// ASCII case-insensitive search for `needle` in `hay`.
pub(crate) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}
