//! `rollcall serve`'s outbox worker: with SMTP configured, it delivers the outbox every few
//! seconds, claiming messages through the database so several servers never send one twice.
//! Without SMTP (the embedded default) messages stay in the outbox, which admins read.

use std::time::Duration;

use anyhow::{Result, anyhow};
use clap::Args;
use rollcall_app::{App, Mailer};
use rollcall_mail::{FolderMailer, SmtpConfig, SmtpMailer, Tls};

/// Messages one pass delivers per org.
const BATCH: u64 = 50;

/// Where the outbox's e-mail goes (none: it stays in the outbox).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct SmtpArgs {
    /// The SMTP server that sends the outbox's e-mail. Without it, e-mail stays in the outbox
    /// (admins read it there).
    #[arg(long = "smtp-host", env = "ROLLCALL_SMTP_HOST")]
    host: Option<String>,
    /// Its port.
    #[arg(long = "smtp-port", env = "ROLLCALL_SMTP_PORT", default_value_t = 587)]
    port: u16,
    /// `starttls` (port 587), `tls` (465) or `none` (a relay on this machine or network only).
    #[arg(
        long = "smtp-tls",
        env = "ROLLCALL_SMTP_TLS",
        default_value = "starttls"
    )]
    tls: String,
    /// The login, when the server asks for one (its password in `ROLLCALL_SMTP_PASSWORD`).
    #[arg(long = "smtp-user", env = "ROLLCALL_SMTP_USER")]
    user: Option<String>,
    /// The sender of every message: `Northfield Training <training@northfield.example>`.
    #[arg(long = "smtp-from", env = "ROLLCALL_SMTP_FROM")]
    from: Option<String>,
    /// Deliver e-mail into this folder as `.eml` files instead of sending it (to try Rollcall
    /// without a mail server).
    #[arg(long = "mail-dir", env = "ROLLCALL_MAIL_DIR", conflicts_with = "host")]
    mail_dir: Option<std::path::PathBuf>,
    /// Seconds between two passes over the outbox.
    #[arg(long = "smtp-interval", env = "ROLLCALL_SMTP_INTERVAL", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    interval: u64,
}

impl SmtpArgs {
    /// The mailer these flags describe, and what to call it; `None` without an SMTP host or a
    /// mail folder.
    fn mailer(&self) -> Result<Option<(Box<dyn Mailer>, String)>> {
        if let Some(folder) = &self.mail_dir {
            let from = self
                .from
                .as_deref()
                .unwrap_or("Rollcall <rollcall@localhost>");
            let said = format!("into {}", folder.display());
            return Ok(Some((Box::new(FolderMailer::new(folder, from)?), said)));
        }
        let Some(host) = self.host.clone() else {
            return Ok(None);
        };
        let tls: Tls = self.tls.parse().map_err(|why: String| anyhow!(why))?;
        let from = self.from.clone().ok_or_else(|| {
            anyhow!("--smtp-from is needed with --smtp-host: who the e-mail is from")
        })?;
        // The password only from the environment: a flag would show in the process list.
        let credentials = match &self.user {
            Some(user) => Some((
                user.clone(),
                std::env::var("ROLLCALL_SMTP_PASSWORD").map_err(|_| {
                    anyhow!("--smtp-user needs its password in ROLLCALL_SMTP_PASSWORD")
                })?,
            )),
            None => None,
        };
        let config = SmtpConfig {
            host,
            port: self.port,
            tls,
            credentials,
            from,
            timeout: Duration::from_secs(30),
        };
        let said = format!("{}:{} ({})", config.host, config.port, self.tls);
        Ok(Some((Box::new(SmtpMailer::new(&config)?), said)))
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(self.interval)
    }

    /// These flags, or a mail folder when they name no way to deliver (the demo's default).
    pub fn or_folder(&self, folder: &str, from: &str) -> Self {
        if self.host.is_some() || self.mail_dir.is_some() {
            return self.clone();
        }
        Self {
            mail_dir: Some(folder.into()),
            from: Some(self.from.clone().unwrap_or_else(|| from.to_owned())),
            ..self.clone()
        }
    }
}

/// Starts delivering the outbox when SMTP or a mail folder is configured (saying so either
/// way); the first pass is made before this returns.
pub async fn start(app: &App, smtp: &SmtpArgs) -> Result<()> {
    if let Some((mailer, said)) = smtp.mailer()? {
        tracing::info!(to = %said, "the outbox is delivered");
        // A name no other process has: claims are checked by it.
        let me = format!("outbox-{}", uuid::Uuid::now_v7());
        if let Err(err) = app.deliver_outbox(mailer.as_ref(), &me, BATCH * 100).await {
            tracing::warn!(error = %err.chain(), "the outbox could not be delivered");
        }
        tokio::spawn(deliver(app.clone(), mailer, me, smtp.interval()));
    } else {
        tracing::info!(
            "no SMTP server (--smtp-host): e-mail stays in the outbox, where admins read it"
        );
    }
    Ok(())
}

/// Delivers the outbox every `every`, until the process ends.
async fn deliver(app: App, mailer: Box<dyn Mailer>, me: String, every: Duration) {
    loop {
        match app.deliver_outbox(mailer.as_ref(), &me, BATCH).await {
            // A full batch: more may be waiting, go on at once.
            Ok(done) if done.total() as u64 >= BATCH => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err.chain(), "the outbox could not be delivered"),
        }
        tokio::time::sleep(every).await;
    }
}
