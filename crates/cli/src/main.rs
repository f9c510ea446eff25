//! The `rollcall` binary: serve the API, run the demo, and manage orgs, tokens and users.

mod commands;
mod demo;
mod drop;
mod learning;
mod mail;
mod report;
mod scim;
mod sources;

/// mimalloc rather than the system's allocator: an import of a million rows makes and frees
/// millions of small values, and the system's heap, fragmented by them, spent a third of the
/// import's time finding room (see ARCHITECTURE.md, "Import runs read what changed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use rollcall_app::App;
use rollcall_store::Store;
use rollcall_store_postgres::PostgresStore;
use rollcall_store_sqlite::SqliteStore;

#[derive(Debug, Parser)]
#[command(
    name = "rollcall",
    version,
    about = "The user directory and user lifecycle of a learning platform"
)]
struct Cli {
    /// The database: `sqlite://<file>` (created if missing) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://rollcall.db",
        global = true
    )]
    database_url: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (migrating the database first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ROLLCALL_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Mark cookies Secure, so browsers send them over HTTPS only. On by default unless
        /// the bind address is loopback (a server others reach sits behind HTTPS); `false`
        /// turns it off.
        #[arg(long, env = "ROLLCALL_SECURE_COOKIES", num_args = 0..=1, default_missing_value = "true")]
        secure_cookies: Option<bool>,
        /// Seconds a client may take to send a request's headers; also how long a connection
        /// may stay open waiting for its next request.
        #[arg(long, env = "ROLLCALL_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout: u64,
        /// Seconds a client may pause while sending a request body.
        #[arg(long, env = "ROLLCALL_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        body_timeout: u64,
        /// A load balancer or proxy in front of the server (an address or a CIDR range;
        /// repeatable, or comma-separated): requests from it are throttled by the client its
        /// X-Forwarded-For names. Without one, X-Forwarded-For is ignored.
        #[arg(long = "trusted-proxy", env = "ROLLCALL_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// Seconds between two scans of the sources' drop folders (0: do not watch them).
        #[arg(long, env = "ROLLCALL_DROP_INTERVAL", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=86_400))]
        drop_interval: u64,
        /// The largest roster file an import takes through the API, in MiB.
        #[arg(long, env = "ROLLCALL_MAX_IMPORT_MB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=4096))]
        max_import_mb: u64,
        /// The folder under which orgs' admins may name their sources' drop folders through the
        /// API (each org under `<root>/<org slug>/`). Without it only `rollcall source watch`
        /// sets drop folders.
        #[arg(long, env = "ROLLCALL_DROP_ROOT", value_parser = parse_absolute)]
        drop_root: Option<std::path::PathBuf>,
        #[command(flatten)]
        smtp: mail::SmtpArgs,
    },
    /// Create or reuse a demo org in `rollcall-demo.db`, print its credentials, and serve it.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "ROLLCALL_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// The demo's own database; `DATABASE_URL` is not used, so the demo never touches yours.
        #[arg(
            long,
            env = "ROLLCALL_DEMO_DATABASE_URL",
            default_value = "sqlite://rollcall-demo.db"
        )]
        demo_database_url: String,
        #[command(flatten)]
        smtp: mail::SmtpArgs,
    },
    /// Apply the database migrations that have not run yet.
    Migrate,
    /// Print the OpenAPI description of the API.
    Openapi,
    /// Manage orgs.
    #[command(subcommand)]
    Org(commands::OrgCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(commands::TokenCommand),
    /// Manage users.
    #[command(subcommand)]
    User(commands::UserCommand),
    /// Manage provisioning sources.
    #[command(subcommand)]
    Source(sources::SourceCommand),
    /// Import runs: their history and reports.
    #[command(subcommand)]
    Runs(sources::RunCommand),
    /// Courses: add, edit, retire, enrol.
    #[command(subcommand)]
    Course(learning::CourseCommand),
    /// The org's credits: the balance, and top-ups.
    #[command(subcommand)]
    Credits(learning::CreditsCommand),
    /// SCIM connections for identity providers, and their tokens.
    #[command(subcommand)]
    Scim(scim::ScimCommand),
    /// The completion report as CSV (to a file or stdout), with the console's tabs and filters.
    Report(report::ReportArgs),
    /// Import a roster file through a source: prints the plan, then applies it all or nothing.
    Import {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The source the file comes from.
        #[arg(long)]
        source: String,
        /// `full` or `delta`, for this run only (the source's own by default).
        #[arg(long)]
        mode: Option<String>,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply a run that removes more people at once than the safeguard allows (over 10% of
        /// the source's users and at least 20); without it such a run is held.
        #[arg(long)]
        confirm_mass_removal: bool,
        /// A roster file, a OneRoster package (.zip), or a folder holding a package's CSV files.
        file: std::path::PathBuf,
    },
}

/// Opens (and migrates) the store a URL names.
async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    let redacted = redact(url);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(url)
            .await
            .with_context(|| format!("connecting to {redacted}"))?;
        store
            .migrate()
            .await
            .context("migrating the PostgreSQL database")?;
        Ok(Arc::new(store))
    } else if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url)
            .await
            .with_context(|| format!("opening {redacted}"))?;
        store
            .migrate()
            .await
            .context("migrating the SQLite database")?;
        Ok(Arc::new(store))
    } else {
        bail!("unsupported database URL {redacted}: use sqlite://<file> or postgres://…")
    }
}

/// The file a `sqlite:` URL names, if any (`sqlite://rollcall.db`, `sqlite:///srv/r.db?mode=rwc`;
/// none for an in-memory database).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// One server per SQLite file: a second would fight the first for SQLite's single write lock
/// and fail a share of its writes. The server holds an exclusive lock on `<file>.serve-lock`
/// for as long as it runs (the system releases it when the process ends, however it ends);
/// one-shot commands do not take it, so they work beside a running server.
fn hold_server_lock(url: &str) -> Result<Option<std::fs::File>> {
    let Some(database) = sqlite_file(url) else {
        return Ok(None);
    };
    let mut name = database.clone().into_os_string();
    name.push(".serve-lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another `rollcall serve` is already using {}. One SQLite file serves one server: \
             stop the other one, or move to PostgreSQL to run several servers side by side",
            database.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// A URL without its password, fit for messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A network as `10.0.0.0/8`, or one address.
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{text}' is neither an address nor a CIDR range like 10.0.0.0/8"))
}

/// Whether `bind` (`host:port`) only listens on this machine.
fn is_loopback(bind: &str) -> bool {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Secure cookies as asked, or by default whenever others can reach the server.
fn secure_cookies(asked: Option<bool>, bind: &str) -> bool {
    asked.unwrap_or(!is_loopback(bind))
}

async fn serve(app: App, bind: &str, settings: rollcall_web::Settings) -> Result<()> {
    if !settings.secure_cookies && !is_loopback(bind) {
        tracing::warn!(
            bind,
            "cookies are not marked Secure on an address others can reach; serve over HTTPS and \
             drop --secure-cookies=false"
        );
    }
    let server = rollcall_web::Application::bind(app, bind, settings)
        .await
        .with_context(|| format!("listening on {bind} (is another server using the port?)"))?;
    let address = server.local_addr()?;
    tracing::info!(%address, "serving");
    eprintln!("Rollcall is listening on http://{address} (Ctrl-C to stop)");
    server
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quiet_when_the_reader_is_gone();
    // An operator reads the error and its causes, never a stack trace (whatever
    // RUST_BACKTRACE says).
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Output piped to a reader that stopped reading (`rollcall runs show … | head`) ends the
/// command quietly, as it ends other tools, not with a panic's message and stack trace.
fn quiet_when_the_reader_is_gone() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            // What a shell reports for a command ended by a closed pipe (128 + SIGPIPE).
            std::process::exit(141);
        }
        report(info);
    }));
}

/// A folder given as an absolute path.
fn parse_absolute(raw: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::PathBuf::from(raw);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(format!("must be an absolute path, not {raw}"))
    }
}

/// Where the demo delivers e-mail when given no SMTP server.
const DEMO_MAIL: &str = "rollcall-demo-mail";

/// `rollcall demo`: the demo district, made on first run, then served.
async fn run_demo(bind: &str, database_url: &str, smtp: &mail::SmtpArgs) -> Result<()> {
    let _lock = hold_server_lock(database_url)?;
    let app = App::new(open_store(database_url).await?);
    demo::prepare(&app, database_url, bind).await?;
    let settings = rollcall_web::Settings {
        secure_cookies: secure_cookies(None, bind),
        ..rollcall_web::Settings::default()
    };
    let mail = smtp.or_folder(
        DEMO_MAIL,
        "Northfield Training <training@northfield.example>",
    );
    mail::start(&app, &mail).await?;
    if smtp == &mail {
        println!("  Mail:       sent through the SMTP server given");
    } else {
        println!(
            "  Mail:       delivered into {DEMO_MAIL}/ as .eml files (--smtp-host to send it)"
        );
    }
    println!();
    serve(app, bind, settings).await
}

/// The use cases over the database at `url`.
async fn app(url: &str) -> Result<App> {
    Ok(App::new(open_store(url).await?))
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROLLCALL_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            print!("{}", rollcall_web::openapi_json());
            Ok(())
        }
        Command::Demo {
            bind,
            demo_database_url,
            smtp,
        } => run_demo(&bind, &demo_database_url, &smtp).await,
        Command::Serve {
            bind,
            secure_cookies,
            header_timeout,
            body_timeout,
            trusted_proxies,
            max_import_mb,
            drop_interval,
            drop_root,
            smtp,
        } => {
            let settings = rollcall_web::Settings {
                secure_cookies: self::secure_cookies(secure_cookies, &bind),
                timeouts: rollcall_web::Timeouts {
                    header_read: Duration::from_secs(header_timeout),
                    body: Duration::from_secs(body_timeout),
                },
                trusted_proxies,
                max_import_bytes: Some(
                    usize::try_from(max_import_mb.saturating_mul(1024 * 1024))
                        .unwrap_or(usize::MAX),
                ),
                drop_root,
            };
            let _lock = hold_server_lock(&cli.database_url)?;
            let app = App::new(open_store(&cli.database_url).await?);
            let root = settings.drop_root.clone();
            tokio::spawn(drop::watch(app.clone(), drop_interval, root));
            mail::start(&app, &smtp).await?;
            serve(app, &bind, settings).await
        }
        Command::Migrate => {
            open_store(&cli.database_url).await?;
            println!("{} is up to date", redact(&cli.database_url));
            Ok(())
        }
        Command::Org(command) => commands::org(app(&cli.database_url).await?, command).await,
        Command::Token(command) => commands::token(app(&cli.database_url).await?, command).await,
        Command::User(command) => commands::user(app(&cli.database_url).await?, command).await,
        Command::Source(command) => sources::source(app(&cli.database_url).await?, command).await,
        Command::Runs(command) => sources::runs(app(&cli.database_url).await?, command).await,
        Command::Course(command) => learning::course(app(&cli.database_url).await?, command).await,
        Command::Credits(command) => {
            learning::credits(app(&cli.database_url).await?, command).await
        }
        Command::Scim(command) => scim::scim(app(&cli.database_url).await?, command).await,
        Command::Report(args) => report::report(app(&cli.database_url).await?, args).await,
        Command::Import {
            org,
            source,
            mode,
            dry_run,
            confirm_mass_removal,
            file,
        } => {
            sources::import(
                app(&cli.database_url).await?,
                &org,
                &source,
                &file,
                mode,
                dry_run,
                confirm_mass_removal,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db/rollcall"),
            "postgres://app:***@db/rollcall"
        );
        assert_eq!(
            redact("postgres://app@db/rollcall"),
            "postgres://app@db/rollcall"
        );
        assert_eq!(redact("sqlite://rollcall.db"), "sqlite://rollcall.db");
    }

    #[test]
    fn cookies_are_secure_unless_the_server_listens_on_loopback() {
        for bind in ["127.0.0.1:8080", "localhost:80", "[::1]:8080"] {
            assert!(!secure_cookies(None, bind), "{bind}");
        }
        for bind in [
            "0.0.0.0:8080",
            "10.0.0.5:443",
            "[::]:8080",
            "rollcall.example:80",
        ] {
            assert!(secure_cookies(None, bind), "{bind}");
        }
        assert!(secure_cookies(Some(true), "127.0.0.1:8080"));
        assert!(!secure_cookies(Some(false), "0.0.0.0:8080"));
        let parsed = Cli::try_parse_from(["rollcall", "serve", "--secure-cookies"]).unwrap();
        assert!(matches!(
            parsed.command,
            Command::Serve {
                secure_cookies: Some(true),
                ..
            }
        ));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let parsed = Cli::try_parse_from([
            "rollcall",
            "serve",
            "--trusted-proxy",
            "10.0.0.0/8,192.0.2.7",
            "--trusted-proxy",
            "fd00::/8",
        ])
        .unwrap();
        let Command::Serve {
            trusted_proxies, ..
        } = parsed.command
        else {
            panic!("serve");
        };
        let shown: Vec<String> = trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]);
        assert!(Cli::try_parse_from(["rollcall", "serve", "--trusted-proxy", "lb"]).is_err());
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let file = |url| sqlite_file(url).map(|p| p.display().to_string());
        assert_eq!(file("sqlite://rollcall.db").as_deref(), Some("rollcall.db"));
        assert_eq!(
            file("sqlite:///srv/r.db?mode=rwc").as_deref(),
            Some("/srv/r.db")
        );
        assert_eq!(file("sqlite:r.db").as_deref(), Some("r.db"));
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("postgres://db/rollcall"), None);
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
