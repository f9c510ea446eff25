//! The schemas Rollcall advertises (RFC 7643 §4, §8.7), and only attributes it stores and
//! returns: a client may write any writable attribute advertised here and read it back.
//!
//! Attribute names are matched ignoring case everywhere (RFC 7643 §2.1); what is stored and
//! returned uses the canonical spelling below.

use serde_json::{Map, Value, json};

use crate::urn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Default,
    Never,
}

/// One attribute of a schema.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    /// Unique across the service provider (`server`), or not at all.
    pub unique: bool,
    pub sub: &'static [Attribute],
    pub canonical: &'static [&'static str],
    pub description: &'static str,
}

const fn attr(name: &'static str, description: &'static str) -> Attribute {
    Attribute {
        name,
        ty: Type::String,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        sub: &[],
        canonical: &[],
        description,
    }
}

const fn boolean(name: &'static str, description: &'static str) -> Attribute {
    Attribute {
        ty: Type::Boolean,
        ..attr(name, description)
    }
}

const fn complex(name: &'static str, sub: &'static [Attribute], d: &'static str) -> Attribute {
    Attribute {
        ty: Type::Complex,
        sub,
        ..attr(name, d)
    }
}

const fn multi(name: &'static str, sub: &'static [Attribute], d: &'static str) -> Attribute {
    Attribute {
        ty: Type::Complex,
        multi: true,
        sub,
        ..attr(name, d)
    }
}

const fn typed(name: &'static str, canonical: &'static [&'static str]) -> Attribute {
    Attribute {
        canonical,
        ..attr(name, "A label saying what the value is for.")
    }
}

const KINDS: &[&str] = &["work", "home", "other"];

/// The sub-attributes of most multi-valued attributes: a value, its label, its type and
/// whether it is the primary one.
const PLURAL: &[Attribute] = &[
    attr("value", "The value."),
    attr("display", "A human-readable name for the value."),
    typed("type", KINDS),
    boolean(
        "primary",
        "Whether this is the primary value (at most one is).",
    ),
];

const NAME: &[Attribute] = &[
    attr("formatted", "The full name, formatted for display."),
    attr(
        "familyName",
        "The family name (last name in most Western languages).",
    ),
    attr(
        "givenName",
        "The given name (first name in most Western languages).",
    ),
    attr("middleName", "The middle names."),
    attr("honorificPrefix", "Titles before the name (Ms., Dr.)."),
    attr("honorificSuffix", "Titles after the name (III, PhD)."),
];

const ADDRESS: &[Attribute] = &[
    attr("formatted", "The full address, formatted for display."),
    attr("streetAddress", "The street."),
    attr("locality", "The city or locality."),
    attr("region", "The state or region."),
    attr("postalCode", "The postal code."),
    attr("country", "The country, as an ISO 3166-1 alpha-2 code."),
    typed("type", KINDS),
    boolean("primary", "Whether this is the primary address."),
];

const GROUP_REF: &[Attribute] = &[
    Attribute {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        ..attr("value", "The group's id.")
    },
    Attribute {
        ty: Type::Reference,
        mutability: Mutability::ReadOnly,
        ..attr("$ref", "The group's URI.")
    },
    Attribute {
        mutability: Mutability::ReadOnly,
        ..attr("display", "The group's name.")
    },
    Attribute {
        mutability: Mutability::ReadOnly,
        canonical: &["direct"],
        ..attr("type", "How the user is a member.")
    },
];

/// The core User schema (RFC 7643 §4.1), as stored and returned here.
pub const USER_ATTRIBUTES: &[Attribute] = &[
    Attribute {
        required: true,
        unique: true,
        ..attr(
            "userName",
            "The person's unique name with this connection, matched ignoring case. When it is a \
             valid Rollcall username it is also their username; an e-mail address becomes their \
             sign-in address when they have no e-mail.",
        )
    },
    complex(
        "name",
        NAME,
        "The person's name: givenName and familyName become theirs.",
    ),
    attr("displayName", "The name shown for the person."),
    attr("nickName", "A casual name."),
    Attribute {
        ty: Type::Reference,
        ..attr("profileUrl", "A page about the person.")
    },
    attr("title", "The person's job title."),
    attr(
        "userType",
        "The kind of person (a role word such as student, teacher, staff or admin sets their \
         role when the connection reads roles from userType).",
    ),
    attr("preferredLanguage", "The person's preferred language."),
    attr("locale", "The person's locale."),
    attr("timezone", "The person's time zone."),
    boolean(
        "active",
        "Whether the person may sign in: false makes them inactive (their sessions end, their \
         history stays), true active again.",
    ),
    Attribute {
        mutability: Mutability::WriteOnly,
        returned: Returned::Never,
        ..attr(
            "password",
            "Accepted and discarded: people provisioned by an identity provider sign in through it.",
        )
    },
    multi(
        "emails",
        PLURAL,
        "E-mail addresses: the primary one (else the work one, else the first) is their \
         Rollcall e-mail.",
    ),
    multi("phoneNumbers", PLURAL, "Phone numbers, kept as sent."),
    multi("ims", PLURAL, "Instant messaging addresses."),
    multi("photos", PLURAL, "URLs of photos."),
    multi("addresses", ADDRESS, "Postal addresses."),
    Attribute {
        mutability: Mutability::ReadOnly,
        ..multi("groups", GROUP_REF, "The groups the person is a member of.")
    },
    multi("entitlements", PLURAL, "Entitlements."),
    multi(
        "roles",
        PLURAL,
        "Roles: the primary role's value may set their Rollcall role.",
    ),
    multi("x509Certificates", PLURAL, "Certificates."),
];

const MANAGER: &[Attribute] = &[
    Attribute {
        case_exact: true,
        ..attr("value", "The manager's id.")
    },
    Attribute {
        ty: Type::Reference,
        ..attr("$ref", "The manager's URI.")
    },
    Attribute {
        mutability: Mutability::ReadOnly,
        ..attr("displayName", "The manager's name.")
    },
];

/// The enterprise extension (RFC 7643 §4.3): each value is also kept among the person's
/// attributes (`employee_number`, `department`, …) that segments and reports use.
pub const ENTERPRISE_ATTRIBUTES: &[Attribute] = &[
    attr("employeeNumber", "Kept as the attribute employee_number."),
    attr("costCenter", "Kept as the attribute cost_center."),
    attr("organization", "Kept as the attribute organization."),
    attr("division", "Kept as the attribute division."),
    attr("department", "Kept as the attribute department."),
    complex(
        "manager",
        MANAGER,
        "The manager: its value is kept as the attribute manager_id.",
    ),
];

const MEMBER: &[Attribute] = &[
    Attribute {
        case_exact: true,
        mutability: Mutability::Immutable,
        ..attr("value", "The member's id: a User of this connection.")
    },
    Attribute {
        ty: Type::Reference,
        mutability: Mutability::Immutable,
        ..attr("$ref", "The member's URI.")
    },
    attr("display", "The member's name."),
    Attribute {
        mutability: Mutability::Immutable,
        canonical: &["User"],
        ..attr("type", "The kind of member: User.")
    },
];

/// The core Group schema (RFC 7643 §4.2). A group is a roster of the org.
pub const GROUP_ATTRIBUTES: &[Attribute] = &[
    Attribute {
        required: true,
        unique: true,
        ..attr(
            "displayName",
            "The group's name, unique within the connection.",
        )
    },
    multi(
        "members",
        MEMBER,
        "The group's members (Users of this connection).",
    ),
];

/// Attributes every resource has (RFC 7643 §3.1).
pub const ID: Attribute = Attribute {
    case_exact: true,
    mutability: Mutability::ReadOnly,
    returned: Returned::Always,
    unique: true,
    ..attr("id", "Rollcall's id for the resource.")
};

pub const EXTERNAL_ID: Attribute = Attribute {
    case_exact: true,
    ..attr(
        "externalId",
        "The identity provider's id for the resource, unique within the connection.",
    )
};

const META_SUB: &[Attribute] = &[
    Attribute {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        ..attr("resourceType", "User or Group.")
    },
    Attribute {
        ty: Type::DateTime,
        mutability: Mutability::ReadOnly,
        ..attr("created", "When it was created.")
    },
    Attribute {
        ty: Type::DateTime,
        mutability: Mutability::ReadOnly,
        ..attr("lastModified", "When it last changed.")
    },
    Attribute {
        ty: Type::Reference,
        case_exact: true,
        mutability: Mutability::ReadOnly,
        ..attr("location", "Its URI.")
    },
    Attribute {
        case_exact: true,
        mutability: Mutability::ReadOnly,
        ..attr("version", "Its version, as a weak ETag.")
    },
];

pub const META: Attribute = Attribute {
    mutability: Mutability::ReadOnly,
    ..complex("meta", META_SUB, "The resource's metadata.")
};

/// A kind of resource served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

/// Where an attribute lives: the core schema, or an extension under its URN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    Core,
    Enterprise,
}

impl Home {
    /// The key the extension's attributes are kept under in a resource (none for the core).
    pub const fn key(self) -> Option<&'static str> {
        match self {
            Self::Core => None,
            Self::Enterprise => Some(urn::ENTERPRISE),
        }
    }
}

impl Resource {
    pub const fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    pub const fn endpoint(self) -> &'static str {
        match self {
            Self::User => "Users",
            Self::Group => "Groups",
        }
    }

    pub const fn schema(self) -> &'static str {
        match self {
            Self::User => urn::USER,
            Self::Group => urn::GROUP,
        }
    }

    pub const fn attributes(self) -> &'static [Attribute] {
        match self {
            Self::User => USER_ATTRIBUTES,
            Self::Group => GROUP_ATTRIBUTES,
        }
    }

    /// The extensions this resource may carry.
    pub const fn extensions(self) -> &'static [(&'static str, &'static [Attribute])] {
        match self {
            Self::User => &[(urn::ENTERPRISE, ENTERPRISE_ATTRIBUTES)],
            Self::Group => &[],
        }
    }

    /// The extension a key names (ignoring case), if it is one this resource knows.
    pub fn extension(self, key: &str) -> Option<(Home, &'static [Attribute])> {
        self.extensions()
            .iter()
            .find(|(urn, _)| urn.eq_ignore_ascii_case(key))
            .map(|&(_, attributes)| (Home::Enterprise, attributes))
    }

    /// The attribute named `name` (ignoring case) of the core schema, the common ones
    /// included.
    pub fn core(self, name: &str) -> Option<&'static Attribute> {
        [&ID, &EXTERNAL_ID, &META]
            .into_iter()
            .chain(self.attributes())
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A sub-attribute of `parent` named `name`, ignoring case.
pub fn sub(parent: &'static Attribute, name: &str) -> Option<&'static Attribute> {
    parent
        .sub
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

/// Splits `urn:…:User:attr.sub` into the extension and the rest when the path starts with a
/// known schema's URN; `Err` with the URN-looking prefix when it names a schema not known.
pub fn split_urn(resource: Resource, path: &str) -> Result<(Home, &str), String> {
    let lower = path.to_ascii_lowercase();
    for (urn, _) in resource.extensions() {
        let prefix = format!("{}:", urn.to_ascii_lowercase());
        if lower.starts_with(&prefix) {
            return Ok((Home::Enterprise, &path[prefix.len()..]));
        }
    }
    let core = format!("{}:", resource.schema().to_ascii_lowercase());
    if lower.starts_with(&core) {
        return Ok((Home::Core, &path[core.len()..]));
    }
    if lower.starts_with("urn:") {
        let end = path.rfind(':').unwrap_or(path.len());
        return Err(path[..end].to_owned());
    }
    Ok((Home::Core, path))
}

/// The attribute named `name` of `home`; for the core, an extension's attribute named
/// without its URN too (Entra writes `manager` for the enterprise extension's).
pub fn find(resource: Resource, home: Home, name: &str) -> Option<(Home, &'static Attribute)> {
    if let Some(attr) = lookup(resource, home, name) {
        return Some((home, attr));
    }
    if home != Home::Core {
        return None;
    }
    resource
        .extensions()
        .iter()
        .find_map(|(_, attributes)| {
            attributes
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
        })
        .map(|attr| (Home::Enterprise, attr))
}

/// The attribute of `home` named `name`.
pub fn lookup(resource: Resource, home: Home, name: &str) -> Option<&'static Attribute> {
    match home {
        Home::Core => resource.core(name),
        Home::Enterprise => ENTERPRISE_ATTRIBUTES
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name)),
    }
}

fn attribute_json(a: &Attribute) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), a.name.into());
    let ty = match a.ty {
        Type::String => "string",
        Type::Boolean => "boolean",
        Type::DateTime => "dateTime",
        Type::Reference => "reference",
        Type::Complex => "complex",
    };
    out.insert("type".into(), ty.into());
    out.insert("multiValued".into(), a.multi.into());
    out.insert("description".into(), a.description.into());
    out.insert("required".into(), a.required.into());
    if a.ty != Type::Complex && a.ty != Type::Boolean {
        out.insert("caseExact".into(), a.case_exact.into());
    }
    let mutability = match a.mutability {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    };
    out.insert("mutability".into(), mutability.into());
    let returned = match a.returned {
        Returned::Always => "always",
        Returned::Default => "default",
        Returned::Never => "never",
    };
    out.insert("returned".into(), returned.into());
    if a.ty != Type::Complex && a.ty != Type::Boolean {
        out.insert(
            "uniqueness".into(),
            if a.unique { "server" } else { "none" }.into(),
        );
    }
    if !a.canonical.is_empty() {
        out.insert("canonicalValues".into(), json!(a.canonical));
    }
    if a.ty == Type::Reference {
        out.insert(
            "referenceTypes".into(),
            json!(if a.name == "$ref" {
                vec!["User", "Group"]
            } else {
                vec!["external"]
            }),
        );
    }
    if !a.sub.is_empty() {
        let sub: Vec<Value> = a.sub.iter().map(attribute_json).collect();
        out.insert("subAttributes".into(), sub.into());
    }
    Value::Object(out)
}

fn schema_json(
    id: &str,
    name: &str,
    description: &str,
    attributes: &[Attribute],
    base: &str,
) -> Value {
    let attributes: Vec<Value> = attributes.iter().map(attribute_json).collect();
    json!({
        "schemas": [urn::SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// Every schema served by `/Schemas`, under the base URL `base`. The common attributes (id,
/// externalId, meta) are not part of any schema (RFC 7643 §3.1).
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        schema_json(
            urn::USER,
            "User",
            "A person of the org",
            USER_ATTRIBUTES,
            base,
        ),
        schema_json(
            urn::ENTERPRISE,
            "EnterpriseUser",
            "Enterprise User",
            ENTERPRISE_ATTRIBUTES,
            base,
        ),
        schema_json(
            urn::GROUP,
            "Group",
            "A roster of the org",
            GROUP_ATTRIBUTES,
            base,
        ),
    ]
}

/// The resource types served by `/ResourceTypes`.
pub fn resource_types(base: &str) -> Vec<Value> {
    [Resource::User, Resource::Group]
        .into_iter()
        .map(|r| {
            let extensions: Vec<Value> = r
                .extensions()
                .iter()
                .map(|(urn, _)| json!({"schema": urn, "required": false}))
                .collect();
            json!({
                "schemas": [urn::RESOURCE_TYPE],
                "id": r.name(),
                "name": r.name(),
                "endpoint": format!("/{}", r.endpoint()),
                "description": match r {
                    Resource::User => "People of the org",
                    Resource::Group => "Rosters of the org",
                },
                "schema": r.schema(),
                "schemaExtensions": extensions,
                "meta": {
                    "resourceType": "ResourceType",
                    "location": format!("{base}/ResourceTypes/{}", r.name()),
                },
            })
        })
        .collect()
}

/// `/ServiceProviderConfig`: what this service provider supports.
pub fn service_provider_config(base: &str, max_results: u64) -> Value {
    json!({
        "schemas": [urn::SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token of the SCIM connection, made by an admin of the org and \
                            sent as Authorization: Bearer <token>.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}
