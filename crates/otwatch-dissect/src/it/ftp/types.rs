//! FTP messages and the sign-in tracker.

/// Longest user name kept by [`Logins`].
pub const MAX_USER_LEN: usize = 64;

/// A command from the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// The verb as sent (compare case-insensitively).
    pub verb: &'a [u8],
    /// The argument; always `None` for PASS (see `password_sent`).
    pub argument: Option<&'a [u8]>,
    /// Whether this is a PASS command (its argument is not kept).
    pub password_sent: bool,
}

impl Command<'_> {
    /// Whether the verb is `v` (case-insensitive).
    pub fn is(&self, v: &str) -> bool {
        self.verb.eq_ignore_ascii_case(v.as_bytes())
    }

    /// Whether the verb is registered (RFC 959 and later extensions).
    pub fn is_registered(&self) -> bool {
        const VERBS: [&str; 48] = [
            "USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "QUIT", "REIN", "PORT", "PASV", "TYPE",
            "STRU", "MODE", "RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR",
            "DELE", "RMD", "MKD", "PWD", "LIST", "NLST", "SITE", "SYST", "STAT", "HELP", "NOOP",
            "FEAT", "OPTS", "AUTH", "PBSZ", "PROT", "EPRT", "EPSV", "MDTM", "SIZE", "MLSD", "MLST",
            "LANG", "XPWD", "HOST", "CCC",
        ];
        VERBS.iter().any(|v| self.is(v))
    }

    /// Whether the command changes files on the server (upload, delete,
    /// rename, make/remove directory, site-specific commands).
    pub fn is_write(&self) -> bool {
        ["STOR", "STOU", "APPE", "DELE", "RNFR", "RNTO", "MKD", "RMD", "SITE"]
            .iter()
            .any(|v| self.is(v))
    }
}

/// A reply from the server (the whole multi-line reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The three-digit code.
    pub code: u16,
    /// The text of the first line, after the code.
    pub text: &'a [u8],
    /// Lines in the reply.
    pub lines: usize,
}

impl Reply<'_> {
    /// 230: user logged in.
    pub fn is_login_success(&self) -> bool {
        self.code == 230
    }

    /// 530: not logged in.
    pub fn is_login_failure(&self) -> bool {
        self.code == 530
    }
}

/// One FTP control-connection message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// A command (client to server).
    Command(Command<'a>),
    /// A reply (server to client).
    Reply(Reply<'a>),
}

/// The result of a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A password was sent.
    Attempt,
    /// The server accepted the sign-in (230).
    Success,
    /// The server refused it (530).
    Failure,
}

/// A sign-in event, with the user name given before it (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginEvent {
    /// What happened.
    pub outcome: LoginOutcome,
    /// The USER argument, at most [`MAX_USER_LEN`] bytes, lossily decoded.
    pub user: Option<String>,
}

/// Follows one control connection and reports sign-in attempts and their
/// outcome. Keeps only the user name, never the password.
#[derive(Clone, Debug, Default)]
pub struct Logins {
    user: Option<String>,
    awaiting_outcome: bool,
    /// Passwords sent.
    pub attempts: u64,
    /// Sign-ins accepted.
    pub successes: u64,
    /// Sign-ins refused.
    pub failures: u64,
}

impl Logins {
    /// A tracker for a new connection.
    pub fn new() -> Logins {
        Logins::default()
    }

    /// Feeds one message; returns the sign-in event it completes, if any.
    pub fn observe(&mut self, msg: &Message<'_>) -> Option<LoginEvent> {
        match msg {
            Message::Command(c) if c.is("USER") => {
                let name = c.argument.unwrap_or(&[]);
                let name = name.get(..MAX_USER_LEN).unwrap_or(name);
                self.user = Some(String::from_utf8_lossy(name).into_owned());
                self.awaiting_outcome = true;
                None
            }
            Message::Command(c) if c.password_sent => {
                self.attempts = self.attempts.saturating_add(1);
                self.awaiting_outcome = true;
                Some(LoginEvent { outcome: LoginOutcome::Attempt, user: self.user.clone() })
            }
            Message::Reply(r) if self.awaiting_outcome && r.is_login_success() => {
                self.awaiting_outcome = false;
                self.successes = self.successes.saturating_add(1);
                Some(LoginEvent { outcome: LoginOutcome::Success, user: self.user.clone() })
            }
            Message::Reply(r) if self.awaiting_outcome && r.is_login_failure() => {
                self.awaiting_outcome = false;
                self.failures = self.failures.saturating_add(1);
                Some(LoginEvent { outcome: LoginOutcome::Failure, user: self.user.clone() })
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Command<'_> {
    /// The command as it could be logged: the PASS argument is masked.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.verb))?;
        if self.password_sent {
            f.write_str(" ****")?;
        } else if let Some(a) = self.argument {
            write!(f, " {}", String::from_utf8_lossy(a))?;
        }
        Ok(())
    }
}
