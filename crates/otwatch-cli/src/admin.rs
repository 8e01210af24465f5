//! `otwatch serve`, `otwatch users …` and `otwatch tokens …`.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use otwatch_model::Role;
use otwatch_server::auth::{check_password, hash_password, new_token, random_hex};
use otwatch_server::{AppState, ServeOptions, Settings};

use crate::context::{Ctx, cli_actor, now};
use crate::output::table;

/// `users` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum UsersCmd {
    /// Add a user. The password is read from standard input with --password-stdin,
    /// else generated and printed once.
    Add {
        /// Login name.
        name: String,
        /// viewer, analyst or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Remove a user (the last admin cannot be removed).
    Remove {
        /// Login name.
        name: String,
    },
    /// Change a user's role.
    SetRole {
        /// Login name.
        name: String,
        /// viewer, analyst or admin.
        role: String,
    },
    /// Set a new password (from standard input with --password-stdin, else generated and printed once).
    ResetPassword {
        /// Login name.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `tokens` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokensCmd {
    /// Create an API token; its secret is printed once.
    Create {
        /// What the token is for.
        name: String,
        /// viewer, analyst or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Lifetime, e.g. 90d (default: no expiry).
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token; it stops working at once.
    Revoke {
        /// Token id (from `tokens list`).
        id: i64,
    },
}

fn password(from_stdin: bool, out: &mut dyn Write) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        check_password(&pw).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((pw, false))
    } else {
        let pw = random_hex(12);
        let _ = out;
        Ok((pw, true))
    }
}

/// Runs a `users` command.
pub fn users(ctx: &Ctx, cmd: UsersCmd, out: &mut dyn Write) -> Result<()> {
    let actor = cli_actor();
    match cmd {
        UsersCmd::Add { name, role, password_stdin } => {
            let role = Role::parse(&role)?;
            let (pw, generated) = password(password_stdin, out)?;
            let hash = hash_password(&pw).map_err(|e| anyhow::anyhow!("{e}"))?;
            let u = ctx.store.create_user(&name, role, &hash, &actor, now())?;
            writeln!(out, "added {} ({})", u.name, u.role)?;
            if generated {
                writeln!(out, "password (shown once): {pw}")?;
            }
        }
        UsersCmd::List => {
            let rows: Vec<Vec<String>> = ctx
                .store
                .list_users()?
                .iter()
                .map(|u| {
                    vec![
                        u.name.clone(),
                        u.role.to_string(),
                        if u.disabled { "disabled".into() } else { "enabled".into() },
                        u.last_login.map(|t| t.to_string()).unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect();
            table(out, &["name", "role", "state", "last sign-in"], &rows)?;
        }
        UsersCmd::Remove { name } => {
            ctx.store.delete_user(&name, &actor, now())?;
            writeln!(out, "removed {name}")?;
        }
        UsersCmd::SetRole { name, role } => {
            let u = ctx.store.set_user_role(&name, Role::parse(&role)?, &actor, now())?;
            writeln!(out, "{} is now {}", u.name, u.role)?;
        }
        UsersCmd::ResetPassword { name, password_stdin } => {
            if ctx.store.user_by_name(&name)?.is_none() {
                bail!("user {name} not found");
            }
            let (pw, generated) = password(password_stdin, out)?;
            let hash = hash_password(&pw).map_err(|e| anyhow::anyhow!("{e}"))?;
            ctx.store.set_user_password(&name, &hash, &actor, now())?;
            writeln!(out, "password of {name} changed")?;
            if generated {
                writeln!(out, "password (shown once): {pw}")?;
            }
        }
    }
    Ok(())
}

/// Runs a `tokens` command.
pub fn tokens(ctx: &Ctx, cmd: TokensCmd, out: &mut dyn Write) -> Result<()> {
    let actor = cli_actor();
    match cmd {
        TokensCmd::Create { name, role, expires_in } => {
            let role = Role::parse(&role)?;
            let n = now();
            let expires = expires_in
                .as_deref()
                .map(|d| {
                    otwatch_model::time::parse_duration(d)
                        .map(|us| n.plus_micros(us))
                        .map_err(anyhow::Error::msg)
                })
                .transpose()?;
            let (secret, hash, prefix) = new_token();
            let t = ctx.store.create_token(&name, role, &hash, &prefix, expires, &actor, n)?;
            writeln!(
                out,
                "token {} ({}, role {}) created; its secret (shown once):",
                t.id, t.name, t.role
            )?;
            writeln!(out, "{secret}")?;
        }
        TokensCmd::List => {
            let n = now();
            let rows: Vec<Vec<String>> = ctx
                .store
                .list_tokens()?
                .iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        t.name.clone(),
                        t.role.to_string(),
                        format!("{}…", t.prefix),
                        if t.usable_at(n) {
                            "active".into()
                        } else if t.revoked_at.is_some() {
                            "revoked".into()
                        } else {
                            "expired".into()
                        },
                        t.last_used_at.map(|x| x.to_string()).unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect();
            table(out, &["id", "name", "role", "prefix", "state", "last used"], &rows)?;
        }
        TokensCmd::Revoke { id } => {
            ctx.store.revoke_token(id, &actor, now())?;
            writeln!(out, "token {id} revoked")?;
        }
    }
    Ok(())
}

/// The console's state and serving options from the configuration (shared by `serve` and `demo`).
pub fn console(ctx: &Ctx) -> (AppState, ServeOptions) {
    let cfg = &ctx.config;
    let settings = Settings {
        session_ttl: cfg.server.session_ttl,
        auto_close_after: cfg.auto_close_after,
        max_body_bytes: cfg.server.max_body_bytes,
        request_timeout: std::time::Duration::from_micros(cfg.server.request_timeout as u64),
        secure_cookies: cfg.server.tls_cert.is_some(),
        hunt_row_limit: cfg.hunt.row_limit,
        hunt_time_limit: std::time::Duration::from_micros(cfg.hunt.time_limit as u64),
        sensor_name: cfg.sensor.name.clone(),
        engines: cfg.engines.clone(),
    };
    let state = AppState::new(ctx.store.clone(), settings, Arc::new(now));
    let opts = ServeOptions {
        listen: cfg.server.listen,
        tls: cfg.server.tls_cert.clone().zip(cfg.server.tls_key.clone()),
        auto_close_interval: std::time::Duration::from_micros(cfg.auto_close_interval as u64),
        retention: Some((
            crate::db::policy(cfg),
            std::time::Duration::from_micros(cfg.retention.interval as u64),
        )),
    };
    (state, opts)
}

/// Creates the first admin when there are no users; prints its password when generated.
pub async fn announce_first_admin(
    state: &AppState,
    password: Option<String>,
    out: &mut dyn Write,
) -> Result<()> {
    match otwatch_server::api::admin::first_admin(state, password).await {
        Ok(Some(pw)) if !pw.is_empty() => {
            writeln!(
                out,
                "created the first admin: user admin, password {pw} (shown once; change it with `otwatch users reset-password admin`)"
            )?;
        }
        Ok(Some(_)) => writeln!(
            out,
            "created the first admin: user admin, password from server.admin_password"
        )?,
        Ok(None) => {}
        Err(e) => bail!("creating the first admin: {e}"),
    }
    Ok(())
}

/// Threads for blocking store work. The store has four readers and one
/// writer; with tokio's default of 512, 200 clients made about 200 threads
/// that only waited on those five locks, each with its own stack and
/// allocator arena. 32 leaves room for a group commit's waiting members.
const BLOCKING_THREADS: usize = 32;

/// The console's async runtime.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .context("starting the async runtime")
}

/// Runs the console until Ctrl-C or SIGTERM.
pub fn serve(ctx: Ctx, out: &mut dyn Write) -> Result<()> {
    let cfg = ctx.config.clone();
    let (state, opts) = console(&ctx);
    let rt = runtime()?;
    rt.block_on(async move {
        let admin_pw = cfg.server.admin_password.as_ref().map(|s| s.expose().to_string());
        announce_first_admin(&state, admin_pw, out).await?;
        let scheme = if cfg.server.tls_cert.is_some() { "https" } else { "http" };
        let data = cfg.data_dir.display().to_string();
        let ready = |addr: std::net::SocketAddr| {
            let _ = writeln!(out, "otwatch console on {scheme}://{addr} (data: {data})");
            let _ = out.flush();
        };
        otwatch_server::serve(state, opts, shutdown_signal(), ready)
            .await
            .with_context(|| format!("serving on {}", cfg.server.listen))?;
        writeln!(out, "stopped")?;
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
