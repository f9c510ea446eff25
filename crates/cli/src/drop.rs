//! Drop folders: `rollcall serve` watches the folders sources name (where SFTP delivers nightly
//! files) and imports each new complete file once, moving it aside with its outcome.
//!
//! A file is complete when its size and modification time are the same on two scans in a row;
//! names starting with `.` or ending in `.tmp`, `.part`, `.partial` or `.filepart` (uploads in
//! progress) are left alone. Several server processes may watch one folder: each file (by name
//! and SHA-256) is claimed through the database, and only the process that claimed it imports it
//! and moves it to `processed/` as `<UTC time>-<outcome>-<name>` (`applied`, `held`, `refused`,
//! `failed`), with the problems of a refused file beside it in a `.problems.txt`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rollcall_app::{App, ImportOutcome, ImportRequest, Principal};
use rollcall_domain::provisioning::SourceSettings;
use rollcall_domain::token::sha256_hex;

/// Watches every drop folder, a scan each `interval`, until the process ends.
pub async fn watch(app: App, interval: Duration) {
    let me = format!(
        "{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "server".to_owned()),
        std::process::id()
    );
    let mut seen = HashMap::new();
    loop {
        if let Err(err) = scan(&app, &mut seen, &me).await {
            tracing::warn!(error = %err, "drop folders could not be scanned");
        }
        tokio::time::sleep(interval).await;
    }
}

/// What a file looked like at the last scan.
type Seen = HashMap<PathBuf, (u64, SystemTime)>;

async fn scan(app: &App, seen: &mut Seen, me: &str) -> Result<(), rollcall_app::AppError> {
    let mut still_there = Seen::new();
    for source in app.drop_folder_sources().await? {
        let Some(folder) = source.drop_folder.as_deref() else {
            continue;
        };
        for path in complete_files(Path::new(folder), seen, &mut still_there) {
            import_one(app, &source, &path, me).await;
            still_there.remove(&path);
        }
    }
    *seen = still_there;
    Ok(())
}

/// The folder's files that look the same as at the last scan; every file's look is noted in
/// `now` for the next one.
fn complete_files(folder: &Path, before: &Seen, now: &mut Seen) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(err) => {
            tracing::warn!(folder = %folder.display(), error = %err, "drop folder cannot be read");
            return Vec::new();
        }
    };
    let mut ready = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_lowercase();
        let in_progress = [".tmp", ".part", ".partial", ".filepart"]
            .iter()
            .any(|end| name.ends_with(end));
        if name.starts_with('.') || in_progress {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let shape = (
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        if before.get(&path) == Some(&shape) {
            ready.push(path.clone());
        }
        now.insert(path, shape);
    }
    ready.sort();
    ready
}

async fn import_one(app: &App, source: &SourceSettings, path: &Path, me: &str) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let checksum = sha256_hex(&bytes);
    match app.claim_drop(source, &name, &checksum, me).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(err) => {
            tracing::warn!(file = %name, error = %err, "a dropped file could not be claimed");
            return;
        }
    }
    let who = Principal::system(
        source.org_id,
        &format!("drop folder of {}", source.name.as_str()),
    );
    let request = ImportRequest {
        source: source.name.as_str().to_owned(),
        file_name: name.clone(),
        ..ImportRequest::default()
    };
    let (word, problems) = match app.import(&who, &request, &bytes).await {
        Ok(ImportOutcome::Applied { .. }) => ("applied", Vec::new()),
        Ok(ImportOutcome::Held { .. }) => ("held", Vec::new()),
        Ok(ImportOutcome::Refused(problems)) => (
            "refused",
            problems.iter().map(ToString::to_string).collect(),
        ),
        Ok(ImportOutcome::Preview(_)) => ("previewed", Vec::new()),
        Err(err) => ("failed", vec![err.to_string()]),
    };
    tracing::info!(source = source.name.as_str(), file = %name, outcome = word, "dropped file imported");
    if let Err(err) = move_aside(path, &name, word, &problems) {
        tracing::warn!(file = %name, error = %err, "a dropped file could not be moved aside");
    }
}

/// Moves the file to `processed/<UTC time>-<outcome>-<name>`, with its problems beside it.
fn move_aside(path: &Path, name: &str, word: &str, problems: &[String]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new(".")).join("processed");
    std::fs::create_dir_all(&folder)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let target = folder.join(format!("{stamp}-{word}-{name}"));
    std::fs::rename(path, &target)?;
    if !problems.is_empty() {
        let mut report = target.into_os_string();
        report.push(".problems.txt");
        std::fs::write(report, problems.join("\n") + "\n")?;
    }
    Ok(())
}
