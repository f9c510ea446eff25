//! The closed vocabularies: statuses, roles and the Users screen's status filters.
//!
//! What a status *means* is answered by [`crate::rules`], never here and never by callers.

use std::fmt;
use std::str::FromStr;

use crate::error::FieldError;

macro_rules! closed_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                match raw.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(FieldError::new(
                        $field,
                        format!(
                            "unknown {} '{}'; expected one of: {}",
                            $field,
                            raw,
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

closed_enum!(
    /// Where a person stands: see the status rules table in [`crate::rules`].
    Status, "status" {
        Active => "active",
        Inactive => "inactive",
        Archived => "archived",
    }
);

closed_enum!(
    /// One role per user. "Adults" are every role but `Student`.
    Role, "role" {
        Admin => "admin",
        Teacher => "teacher",
        Staff => "staff",
        Student => "student",
    }
);

closed_enum!(
    /// The status filter of the Users screen and of `GET /api/v1/users`.
    ListFilter, "status" {
        Active => "active",
        Inactive => "inactive",
        Archived => "archived",
        All => "all",
    }
);

impl Default for ListFilter {
    /// The Users screen opens on active users.
    fn default() -> Self {
        Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_roles_parse_ignoring_case_and_round_trip() {
        for status in Status::ALL {
            assert_eq!(
                status.as_str().to_uppercase().parse::<Status>(),
                Ok(*status)
            );
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
    }

    #[test]
    fn an_unknown_role_names_the_field_and_the_choices() {
        let err = "wizard".parse::<Role>().unwrap_err();
        assert_eq!(err.field, "role");
        assert!(err.message.contains("'wizard'"), "{}", err.message);
        assert!(err.message.contains("admin, teacher, staff, student"));
    }
}
