//! `rollcall scim …`: SCIM connections and their tokens.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use rollcall_app::{App, NewConnection};
use rollcall_domain::TokenId;

use crate::commands::{principal, shown};

#[derive(Debug, Subcommand)]
pub enum ScimCommand {
    /// Add a SCIM connection for an identity provider; prints its first token, once.
    Add {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The name its people carry as their source, like `okta` or `entra`.
        name: String,
        /// Where a person's role is read from: userType, title, roles, department, division,
        /// organization or costCenter.
        #[arg(long, default_value = "userType")]
        role_attribute: String,
        /// Requests a minute its clients may make before being told to wait (429).
        #[arg(long)]
        requests_per_minute: Option<u32>,
    },
    /// List the org's SCIM connections and their tokens.
    List {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
    },
    /// Make another token for a connection (to rotate one); prints it, once.
    Token {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The connection.
        name: String,
        /// What the token is for.
        #[arg(long, default_value = "default")]
        token_name: String,
    },
    /// Revoke a connection's token: its next request is refused.
    Revoke {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The connection.
        name: String,
        /// The token's id, as `rollcall scim list` shows it.
        token_id: String,
    },
}

fn print_token(secret: &str) {
    println!("Token (shown once; the identity provider sends it as a bearer token):");
    println!("  {secret}");
    println!("Base URL: the address Rollcall is reached at, followed by /scim/v2");
}

pub async fn scim(app: App, command: ScimCommand) -> Result<()> {
    match command {
        ScimCommand::Add {
            org,
            name,
            role_attribute,
            requests_per_minute,
        } => {
            let who = principal(&app, &org).await?;
            let (connection, secret) = app
                .add_scim_connection(
                    &who,
                    NewConnection {
                        name,
                        role_attribute: Some(role_attribute),
                        requests_per_minute,
                        token_name: None,
                    },
                )
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!(
                "SCIM connection '{}' added (roles from {}, {} requests a minute).",
                connection.source.name.as_str(),
                connection.settings.role_attribute,
                connection.settings.requests_per_minute
            );
            print_token(&secret);
        }
        ScimCommand::List { org } => {
            let who = principal(&app, &org).await?;
            let connections = app
                .scim_connections(&who)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            if connections.is_empty() {
                println!("No SCIM connections.");
            }
            for c in connections {
                println!(
                    "{}{}  roles from {}  {} requests a minute",
                    c.source.name.as_str(),
                    if c.source.paused { " (paused)" } else { "" },
                    c.settings.role_attribute,
                    c.settings.requests_per_minute
                );
                for token in c.tokens {
                    let state = match (token.revoked_at, token.last_used_at) {
                        (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                        (None, Some(at)) => format!("last used {}", at.format("%Y-%m-%d %H:%M")),
                        (None, None) => "never used".to_owned(),
                    };
                    println!("  token {}  {}  {state}", token.id, shown(&token.name));
                }
            }
        }
        ScimCommand::Token {
            org,
            name,
            token_name,
        } => {
            let who = principal(&app, &org).await?;
            let (token, secret) = app
                .create_scim_token(&who, &name, Some(&token_name))
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("Token {} made for '{name}'.", token.id);
            print_token(&secret);
        }
        ScimCommand::Revoke {
            org,
            name,
            token_id,
        } => {
            let who = principal(&app, &org).await?;
            let id: TokenId = token_id.parse().map_err(|_| {
                anyhow!("'{token_id}' is not a token id (see `rollcall scim list`)")
            })?;
            app.revoke_scim_token(&who, &name, id)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("Token {token_id} of '{name}' revoked.");
        }
    }
    Ok(())
}
