//! `rollcall org|token|user …`: an operator's commands, acting as the system within one org.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use rollcall_app::{App, ChangeStatus, CreateUser, ListUsers, Principal};
use rollcall_domain::{TokenId, User};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an org.
    Create {
        /// Short name used on the command line, like `northfield`.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue an API token acting as a user (an admin, for the users API). Shown once.
    Create {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The user's username, e-mail or id.
        #[arg(long)]
        user: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a token by id: it stops working at once.
    Revoke {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: TokenId,
    },
    /// List an org's tokens (never their secrets).
    List {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
    },
}

#[derive(Debug, Args)]
pub struct Target {
    #[arg(long, env = "ROLLCALL_ORG")]
    org: String,
    /// The user's username, e-mail or id.
    user: String,
    /// Why, for the user's history.
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user by hand.
    Add {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
        /// admin, teacher, staff or student.
        #[arg(long)]
        role: String,
        /// An initial password (10 characters or more).
        #[arg(long, env = "ROLLCALL_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// An attribute as key=value (repeatable): --attribute department=Science.
        #[arg(long = "attribute", value_parser = parse_attribute)]
        attributes: Vec<(String, String)>,
    },
    /// List users (active by default).
    List {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// active (the default), inactive, archived, or all (active and inactive, as the Users screen).
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// Words that must each begin a name, the username or the e-mail.
        #[arg(long)]
        q: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show a user and their history.
    Show {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        user: String,
    },
    /// Make a user inactive: they cannot sign in; their records stay.
    Deactivate(Target),
    /// Make an inactive user active again.
    Reactivate {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        password: TemporaryPasswordArgs,
    },
    /// Archive a user.
    Archive(Target),
    /// Bring an archived user back as active.
    Restore {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        password: TemporaryPasswordArgs,
    },
}

#[derive(Debug, Args)]
pub struct TemporaryPasswordArgs {
    /// A temporary password to set (needed for users without e-mail); they change it at sign-in.
    #[arg(long, env = "ROLLCALL_TEMPORARY_PASSWORD", hide_env_values = true)]
    temporary_password: Option<String>,
    /// Let Rollcall choose the temporary password and print it.
    #[arg(long, conflicts_with = "temporary_password")]
    generate_password: bool,
}

fn parse_attribute(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .ok_or_else(|| format!("'{raw}' is not key=value"))
}

pub async fn principal(app: &App, org: &str) -> Result<Principal> {
    let org = app
        .org_by_slug(org)
        .await
        .map_err(|err| anyhow!("org '{org}': {err}"))?;
    Ok(Principal::system(org.id, "cli"))
}

pub async fn org(app: App, command: OrgCommand) -> Result<()> {
    match command {
        OrgCommand::Create { slug, name } => {
            let org = app
                .create_org(&slug, &name)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!(
                "Created org {} ({}) with id {}",
                org.slug.as_str(),
                shown(org.name.as_str()),
                org.id
            );
        }
    }
    Ok(())
}

pub async fn token(app: App, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create { org, user, name } => {
            let who = principal(&app, &org).await?;
            let (token, secret) = app
                .create_token(&who, &user, &name)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            eprintln!("Token {} created; it is shown only now:", token.id);
            println!("{secret}");
        }
        TokenCommand::Revoke { org, id } => {
            let who = principal(&app, &org).await?;
            app.revoke_token(&who, id)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("Token {id} revoked");
        }
        TokenCommand::List { org } => {
            let who = principal(&app, &org).await?;
            for token in app.tokens(&who).await.map_err(|e| anyhow!("{e}"))? {
                let state = token
                    .revoked_at
                    .map_or_else(|| "live".to_owned(), |at| format!("revoked {at}"));
                println!(
                    "{}  {:<20} user {}  {state}",
                    token.id,
                    shown(&token.name),
                    token.user_id
                );
            }
        }
    }
    Ok(())
}

/// Stored text as a terminal should print it: control and direction characters escaped, so a
/// name or reason cannot move the cursor or recolour the screen.
pub fn shown(text: &str) -> String {
    rollcall_domain::text::escape_for_terminal(text)
}

fn line(user: &User) -> String {
    format!(
        "{}  {:<28} {:<24} {:<8} {:<8} {}",
        user.id(),
        shown(&user.display_name()),
        shown(user.login()),
        user.role(),
        user.status(),
        user.source().as_str()
    )
}

async fn change(
    app: &App,
    target: Target,
    status: &str,
    password: Option<TemporaryPasswordArgs>,
) -> Result<()> {
    let who = principal(app, &target.org).await?;
    let user = app
        .find_user(&who, &target.user)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (temporary_password, generate) = password
        .map(|p| (p.temporary_password, p.generate_password))
        .unwrap_or_default();
    let input = ChangeStatus {
        status: status.to_owned(),
        reason: target.reason,
        temporary_password,
        generate_temporary_password: generate,
        version: None,
    };
    let changed = app
        .change_status(&who, user.id(), input)
        .await
        .map_err(|e| anyhow!("{}: {e}", user.login()))?;
    println!(
        "{} is now {}",
        shown(changed.user.login()),
        changed.user.status()
    );
    if let Some(password) = changed.temporary_password {
        println!("Temporary password (shown once; they must change it at sign-in): {password}");
    }
    Ok(())
}

pub async fn user(app: App, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add {
            org,
            username,
            email,
            given_name,
            family_name,
            role,
            password,
            attributes,
        } => {
            let who = principal(&app, &org).await?;
            let input = CreateUser {
                username,
                email,
                given_name,
                family_name,
                role,
                password,
                attributes: attributes.into_iter().collect::<BTreeMap<_, _>>(),
                ..CreateUser::default()
            };
            let user = app
                .create_user(&who, input)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("Added {}", line(&user));
        }
        UserCommand::List {
            org,
            status,
            role,
            q,
            limit,
        } => {
            let who = principal(&app, &org).await?;
            let input = ListUsers {
                status,
                role,
                q,
                limit: Some(limit),
                ..ListUsers::default()
            };
            let page = app
                .list_users(&who, input.clone())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let total = app
                .count_users(&who, &input, 100_000)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            for user in &page.users {
                println!("{}", line(user));
            }
            eprintln!("{} shown of {total} matching", page.users.len());
        }
        UserCommand::Show { org, user } => show(&app, &org, &user).await?,
        UserCommand::Deactivate(target) => change(&app, target, "inactive", None).await?,
        UserCommand::Archive(target) => change(&app, target, "archived", None).await?,
        UserCommand::Reactivate { target, password }
        | UserCommand::Restore { target, password } => {
            change(&app, target, "active", Some(password)).await?;
        }
    }
    Ok(())
}

/// Prints a user, their attributes and their history.
async fn show(app: &App, org: &str, user: &str) -> Result<()> {
    let who = principal(app, org).await?;
    let user = app
        .find_user(&who, user)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("{}", line(&user));
    println!(
        "  email {}  username {}  version {}",
        shown(user.email().as_ref().map_or("-", |e| e.as_str())),
        shown(user.username().as_ref().map_or("-", |u| u.as_str())),
        user.version()
    );
    for (key, value) in user.attributes().iter() {
        println!("  {key}: {}", shown(value));
    }
    let events = app
        .user_events(&who, user.id())
        .await
        .context("reading history")?;
    for event in events {
        let statuses = match (event.from_status, event.to_status) {
            (Some(from), Some(to)) => format!("{from} -> {to}"),
            (None, Some(to)) => to.to_string(),
            _ => event.changed_fields.join(", "),
        };
        let reason = event
            .reason
            .map(|r| format!(" ({})", shown(r.as_str())))
            .unwrap_or_default();
        println!(
            "  {}  {:<14} {statuses}  by {}{reason}",
            event.at,
            event.action.as_str(),
            shown(&event.actor.to_string())
        );
    }
    Ok(())
}
