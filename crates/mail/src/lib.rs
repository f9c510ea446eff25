//! The outbox's [`Mailer`]s: [`SmtpMailer`] over SMTP, [`FolderMailer`] into a folder.
//!
//! Over SMTP: plain (a relay on the same host), STARTTLS or TLS, with an optional login. A reply of 5xx refuses a message for good; anything else (4xx, a dropped
//! connection, a server that does not answer in time) is tried again later by the worker.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rollcall_app::{Mailer, SendError};
use rollcall_domain::learning::Message;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// None: only for a relay on the same machine or network.
    None,
    /// Plain, then upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl std::str::FromStr for Tls {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            other => Err(format!(
                "unknown TLS mode '{other}': use none, starttls or tls"
            )),
        }
    }
}

/// Where and how to send.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    /// A login, when the server asks for one.
    pub credentials: Option<(String, String)>,
    /// The sender: `Northfield <training@northfield.example>`.
    pub from: String,
    /// How long one message may take before it is given up for this try.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the sender address '{0}' is not an e-mail address")]
    From(String),
    #[error("the SMTP server '{host}' cannot be used: {why}")]
    Server { host: String, why: String },
}

/// Sends the outbox's messages through one SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig) -> Result<Self, ConfigError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| ConfigError::From(config.from.clone()))?;
        let server = |why: lettre::transport::smtp::Error| ConfigError::Server {
            host: config.host.clone(),
            why: why.to_string(),
        };
        let builder = match config.tls {
            Tls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
            }
            Tls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(server)?,
            Tls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(server)?
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            timeout: config.timeout,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let email = build(&self.from, message)?;
        // The whole exchange, not only each read: a server that accepts the connection and
        // then says nothing must not hold the worker.
        match tokio::time::timeout(self.timeout, self.transport.send(email)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(SendError {
                permanent: err.is_permanent(),
                reason: err.to_string(),
            }),
            Err(_) => Err(SendError {
                permanent: false,
                reason: format!(
                    "the SMTP server did not answer within {} seconds",
                    self.timeout.as_secs()
                ),
            }),
        }
    }
}

/// Delivers each message into a folder as an `.eml` file (RFC 5322, as an SMTP server would
/// receive it): for trying Rollcall without a mail server, as `rollcall demo` does. Open the
/// files with any mail reader.
pub struct FolderMailer {
    folder: std::path::PathBuf,
    from: Mailbox,
}

impl FolderMailer {
    /// Writes into `folder` (made when missing) as from `from`.
    pub fn new(folder: &std::path::Path, from: &str) -> Result<Self, ConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| ConfigError::From(from.to_owned()))?;
        std::fs::create_dir_all(folder).map_err(|err| ConfigError::Server {
            host: folder.display().to_string(),
            why: err.to_string(),
        })?;
        Ok(Self {
            folder: folder.to_owned(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for FolderMailer {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let email = build(&self.from, message)?;
        let path = self.folder.join(format!("{}.eml", message.id));
        tokio::fs::write(&path, email.formatted())
            .await
            .map_err(|err| SendError {
                permanent: false,
                reason: format!("{} cannot be written: {err}", path.display()),
            })
    }
}

/// The e-mail of `message`, from `from`.
fn build(from: &Mailbox, message: &Message) -> Result<lettre::Message, SendError> {
    let to: Mailbox = message.to.parse().map_err(|_| SendError {
        permanent: true,
        reason: format!("'{}' is not an e-mail address", message.to),
    })?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.as_str())
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())
        .map_err(|err| SendError {
            permanent: true,
            reason: format!("the message cannot be written: {err}"),
        })
}
