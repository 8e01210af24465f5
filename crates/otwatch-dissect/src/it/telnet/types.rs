//! Telnet stream units, wire values and the sign-in tracker.

use crate::Direction;
use crate::it::contains_ignore_case;

/// A Telnet command byte (after IAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Command(pub u8);

impl Command {
    /// 240: end of subnegotiation.
    pub const SE: Command = Command(240);
    /// 250: start of subnegotiation.
    pub const SB: Command = Command(250);
    /// 251: WILL.
    pub const WILL: Command = Command(251);
    /// 252: WONT.
    pub const WONT: Command = Command(252);
    /// 253: DO.
    pub const DO: Command = Command(253);
    /// 254: DONT.
    pub const DONT: Command = Command(254);
    /// 255: IAC.
    pub const IAC: Command = Command(255);

    /// The RFC 854 name, if the byte is a command.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            240 => "SE",
            241 => "NOP",
            242 => "Data Mark",
            243 => "Break",
            244 => "Interrupt Process",
            245 => "Abort Output",
            246 => "Are You There",
            247 => "Erase Character",
            248 => "Erase Line",
            249 => "Go Ahead",
            250 => "SB",
            251 => "WILL",
            252 => "WONT",
            253 => "DO",
            254 => "DONT",
            255 => "IAC",
            _ => return None,
        })
    }
}

/// A Telnet option code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TelnetOption(pub u8);

impl TelnetOption {
    /// 1: Echo.
    pub const ECHO: TelnetOption = TelnetOption(1);
    /// 24: Terminal Type.
    pub const TERMINAL_TYPE: TelnetOption = TelnetOption(24);

    /// The registered name of common options.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Binary Transmission",
            1 => "Echo",
            3 => "Suppress Go Ahead",
            5 => "Status",
            6 => "Timing Mark",
            24 => "Terminal Type",
            31 => "Window Size",
            32 => "Terminal Speed",
            33 => "Remote Flow Control",
            34 => "Linemode",
            35 => "X Display Location",
            36 => "Environment Option",
            37 => "Authentication Option",
            38 => "Encryption Option",
            39 => "New Environment Option",
            _ => return None,
        })
    }
}

/// One unit of a Telnet stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit<'a> {
    /// Data bytes (an escaped IAC IAC is one 0xFF byte).
    Text(&'a [u8]),
    /// WILL, WONT, DO or DONT an option.
    Negotiation {
        /// The verb.
        verb: Command,
        /// The option.
        option: TelnetOption,
    },
    /// SB option ... IAC SE; the parameters are raw (IAC IAC not undone).
    Subnegotiation {
        /// The option.
        option: TelnetOption,
        /// The parameter bytes between the option and IAC SE.
        data: &'a [u8],
    },
    /// Any other command (NOP, Break, Interrupt Process, Go Ahead, ...).
    Command(Command),
}

/// The result of a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A password was entered.
    Attempt,
    /// The server showed a shell prompt or welcome after the password.
    Success,
    /// The server showed a failure message after the password.
    Failure,
}

/// A sign-in event, with the user name typed before it (if seen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginEvent {
    /// What happened.
    pub outcome: LoginOutcome,
    /// The user name, at most [`Logins::MAX_USER_LEN`] bytes, lossily decoded.
    pub user: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Idle,
    TypingUser,
    PasswordPrompted,
    TypingPassword,
    AwaitingOutcome,
}

/// Follows one Telnet connection and reports sign-in attempts and their
/// outcome, from the prompts and messages in the text. Keeps the user name
/// (bounded) and a short tail of server text, never the password.
#[derive(Clone, Debug, Default)]
pub struct Logins {
    state: State,
    tail: Vec<u8>,
    user: Vec<u8>,
    last_user: Option<String>,
    /// Passwords entered.
    pub attempts: u64,
    /// Sign-ins that reached a shell or welcome message.
    pub successes: u64,
    /// Sign-ins refused.
    pub failures: u64,
}

/// Server messages that mean a sign-in failed.
const FAILURE_MARKERS: [&[u8]; 8] = [
    b"login incorrect",
    b"incorrect password",
    b"password incorrect",
    b"login failed",
    b"authentication failed",
    b"access denied",
    b"invalid password",
    b"bad password",
];
/// Server messages that mean a sign-in succeeded.
const SUCCESS_MARKERS: [&[u8]; 2] = [b"last login", b"welcome"];
/// Prompts that ask for a user name.
const USER_PROMPTS: [&[u8]; 3] = [b"login:", b"username:", b"user name:"];

impl Logins {
    /// Longest user name kept.
    pub const MAX_USER_LEN: usize = 64;
    /// Bytes of recent server text kept to find prompts split across units.
    pub const TAIL_LEN: usize = 128;

    /// A tracker for a new connection.
    pub fn new() -> Logins {
        Logins::default()
    }

    /// Feeds one unit seen travelling `dir` (`ToServer` is what the user
    /// typed); returns the sign-in event it completes, if any.
    pub fn observe(&mut self, dir: Direction, unit: &Unit<'_>) -> Option<LoginEvent> {
        let Unit::Text(text) = unit else { return None };
        match dir {
            Direction::ToServer => self.typed(text),
            Direction::ToClient => self.shown(text),
        }
    }

    fn typed(&mut self, text: &[u8]) -> Option<LoginEvent> {
        for &b in text {
            let line_end = b == b'\r' || b == b'\n';
            match self.state {
                State::TypingUser if line_end => {
                    if !self.user.is_empty() {
                        self.last_user = Some(String::from_utf8_lossy(&self.user).into_owned());
                    }
                    self.user.clear();
                    self.state = State::Idle;
                }
                State::TypingUser => {
                    if b == 0x08 || b == 0x7F {
                        self.user.pop();
                    } else if self.user.len() < Logins::MAX_USER_LEN && b != 0 {
                        self.user.push(b);
                    }
                }
                State::PasswordPrompted if !line_end => self.state = State::TypingPassword,
                State::PasswordPrompted | State::TypingPassword if line_end => {
                    self.state = State::AwaitingOutcome;
                    self.tail.clear();
                    self.attempts = self.attempts.saturating_add(1);
                    return Some(self.event(LoginOutcome::Attempt));
                }
                _ => {}
            }
        }
        None
    }

    fn shown(&mut self, text: &[u8]) -> Option<LoginEvent> {
        for &b in text {
            if self.tail.len() >= Logins::TAIL_LEN {
                self.tail.remove(0);
            }
            self.tail.push(b.to_ascii_lowercase());
        }
        let mut event = None;
        if self.state == State::AwaitingOutcome {
            if FAILURE_MARKERS.iter().any(|m| contains_ignore_case(&self.tail, m)) {
                self.failures = self.failures.saturating_add(1);
                self.state = State::Idle;
                event = Some(self.event(LoginOutcome::Failure));
            } else if SUCCESS_MARKERS.iter().any(|m| contains_ignore_case(&self.tail, m))
                || ends_with_shell_prompt(&self.tail)
            {
                self.successes = self.successes.saturating_add(1);
                self.state = State::Idle;
                event = Some(self.event(LoginOutcome::Success));
            }
        }
        let trimmed = trim_end(&self.tail);
        if trimmed.ends_with(b"password:") {
            self.state = State::PasswordPrompted;
            self.tail.clear();
        } else if USER_PROMPTS.iter().any(|p| trimmed.ends_with(p)) {
            if self.state == State::AwaitingOutcome {
                // Asked for a user name again without a message: refused.
                self.failures = self.failures.saturating_add(1);
                event = Some(self.event(LoginOutcome::Failure));
            }
            self.state = State::TypingUser;
            self.user.clear();
            self.tail.clear();
        }
        event
    }

    fn event(&self, outcome: LoginOutcome) -> LoginEvent {
        LoginEvent { outcome, user: self.last_user.clone() }
    }
}

fn trim_end(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace() && *b != 0)
        .map_or(0, |i| i.saturating_add(1));
    s.get(..end).unwrap_or(&[])
}

/// Whether the text ends like a shell prompt (`$`, `#`, `>` or `%`, with
/// an optional space) on a line of its own that is not a sign-in prompt.
fn ends_with_shell_prompt(tail: &[u8]) -> bool {
    let t = trim_end(tail);
    matches!(t.last(), Some(b'$' | b'#' | b'>' | b'%'))
        && tail.len().saturating_sub(t.len()) <= 1
        && t.len() > 1
}
