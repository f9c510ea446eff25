//! The last requests each connection made, with their outcome, for its admins to look at
//! (kept in memory by each server process: the newest fifty per connection).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use rollcall_domain::{OrgId, RunId, SourceId, Timestamp};

use super::ScimCaller;
use crate::{App, AppError, Principal};

/// How many requests are kept per connection.
const KEPT: usize = 50;

/// One request a connection made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRequestLine {
    pub at: Timestamp,
    /// The id its changes carry in people's histories.
    pub request: RunId,
    pub method: String,
    /// The path under the base URL, with its query.
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    lines: Mutex<HashMap<(OrgId, SourceId), VecDeque<ScimRequestLine>>>,
}

impl RequestLog {
    fn push(&self, key: (OrgId, SourceId), line: ScimRequestLine) {
        let mut lines = self
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let kept = lines.entry(key).or_default();
        if kept.len() == KEPT {
            kept.pop_back();
        }
        kept.push_front(line);
    }

    fn newest(&self, key: (OrgId, SourceId)) -> Vec<ScimRequestLine> {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .map(|kept| kept.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl App {
    /// Notes a request a connection made and how it was answered.
    pub fn record_scim_request(&self, caller: &ScimCaller, method: &str, path: &str, status: u16) {
        let path: String = path.chars().take(300).collect();
        self.scim_log.push(
            (caller.org_id, caller.source.id),
            ScimRequestLine {
                at: self.now(),
                request: caller.request,
                method: method.to_owned(),
                path,
                status,
            },
        );
    }

    /// A connection's last requests, newest first.
    pub async fn scim_requests(
        &self,
        who: &Principal,
        connection: &str,
    ) -> Result<Vec<ScimRequestLine>, AppError> {
        let connection = self.scim_connection(who, connection).await?;
        Ok(self.scim_log.newest((who.org_id, connection.source.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_fifty_are_kept_newest_first() {
        let log = RequestLog::default();
        let key = (OrgId::new(), SourceId::new());
        for i in 0..60u16 {
            log.push(
                key,
                ScimRequestLine {
                    at: chrono::Utc::now(),
                    request: RunId::new(),
                    method: "GET".into(),
                    path: format!("/Users/{i}"),
                    status: 200 + i,
                },
            );
        }
        let newest = log.newest(key);
        assert_eq!(newest.len(), KEPT);
        assert_eq!(newest[0].status, 259);
        assert_eq!(newest[KEPT - 1].status, 210);
        assert!(log.newest((OrgId::new(), SourceId::new())).is_empty());
    }
}
