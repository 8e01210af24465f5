//! A macro for closed vocabularies (severity, engine, status…) that travel as text.
//!
//! Each generated enum knows its canonical name, accepts a few spellings when
//! parsed (case-insensitive, plus aliases such as the API's `POLICY_VIOLATION`),
//! lists its values for error messages, and serialises as its canonical name.

/// Declares a closed enum with canonical names and aliases.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $canon:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The canonical name.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $canon ),+ }
            }

            /// Parses a name, case-insensitively, accepting aliases.
            pub fn parse(text: &str) -> Result<Self, $crate::UnknownName> {
                let t = text.trim();
                $(
                    if t.eq_ignore_ascii_case($canon) $(|| t.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )+
                Err($crate::UnknownName {
                    what: $what,
                    value: t.to_string(),
                    choices: Self::ALL.iter().map(|v| v.as_str()).collect(),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A name that is not one of the allowed values; the message lists them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}; valid values: {}", choices.join(", "))]
pub struct UnknownName {
    /// What kind of value was expected ("severity", "engine"…).
    pub what: &'static str,
    /// The text that was given.
    pub value: String,
    /// The canonical names that would have been accepted.
    pub choices: Vec<&'static str>,
}
