//! Small helpers shared by the suite.

use rollcall_app::{App, CreateUser, Principal};
use rollcall_domain::{AuditEvent, Org, OrgId, User};
use rollcall_store::StoreResult;
use rollcall_testkit::TestDb;

pub struct Fixture {
    pub app: App,
    pub org: Org,
    pub admin: Principal,
    /// Kept alive for the database's sake.
    pub db: TestDb,
}

pub async fn fixture(db: TestDb) -> Fixture {
    let app = App::new(db.store.clone());
    let org = app
        .create_org("northfield", "Northfield District")
        .await
        .unwrap();
    let admin = Principal::system(org.id, "conformance");
    Fixture {
        app,
        org,
        admin,
        db,
    }
}

pub fn person(
    given: &str,
    family: &str,
    username: Option<&str>,
    email: Option<&str>,
) -> CreateUser {
    CreateUser {
        username: username.map(str::to_owned),
        email: email.map(str::to_owned),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        role: "student".to_owned(),
        ..CreateUser::default()
    }
}

impl Fixture {
    pub async fn add(&self, given: &str, family: &str, username: &str) -> User {
        self.app
            .create_user(&self.admin, person(given, family, Some(username), None))
            .await
            .unwrap()
    }

    /// A second org with its own admin.
    pub async fn other_org(&self) -> (Org, Principal) {
        let org = self
            .app
            .create_org("elsewhere", "Elsewhere Academy")
            .await
            .unwrap();
        let admin = Principal::system(org.id, "conformance");
        (org, admin)
    }
}

/// Writes users made by the domain, with their events, in one unit of work (the bulk path).
pub async fn insert(db: &TestDb, org: OrgId, users: &[(User, AuditEvent)]) -> StoreResult<()> {
    let (users, events): (Vec<User>, Vec<AuditEvent>) = users.iter().cloned().unzip();
    let mut uow = db.store.begin().await?;
    uow.insert_users(org, &users).await?;
    uow.record(&events).await?;
    uow.commit().await
}

/// `n` active students, `learner.0` to `learner.{n-1}`, every other one with an e-mail
/// address, written in one unit of work.
pub async fn crowd(f: &Fixture, n: usize) {
    use rollcall_domain::{Attributes, Email, NewUser, PersonName, Role, Source, Username};
    let people: Vec<(User, AuditEvent)> = (0..n)
        .map(|i| {
            let new = NewUser {
                username: Some(Username::parse(&format!("learner.{i}")).unwrap()),
                email: (i % 2 == 0)
                    .then(|| Email::parse(&format!("learner.{i}@example.org")).unwrap()),
                given_name: PersonName::parse("Learner", "given_name").unwrap(),
                family_name: PersonName::parse(&format!("Number {i}"), "family_name").unwrap(),
                role: Role::Student,
                source: Source::manual(),
                external_id: None,
                prevent_archiving: None,
                password: None,
                must_change_password: false,
                attributes: Attributes::default(),
            };
            User::create(f.org.id, new, &f.admin.actor, f.org.created_at).unwrap()
        })
        .collect();
    insert(&f.db, f.org.id, &people).await.unwrap();
}
