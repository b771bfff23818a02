//! The environment variable names of the deployments optionhub replaces, read when
//! optionhub's own setting is absent, so a team can switch without renaming its
//! secrets first:
//!
//! | Names | Stand in for |
//! |---|---|
//! | `API_HOST` + `API_PORT` | `OPTIONHUB_LISTEN` |
//! | `DB_HOST` + `DB_PORT` + `DB_NAME` + `DB_USER` + `DB_PASSWORD` | `DATABASE_URL` (PostgreSQL) |
//! | `JWT_SECRET_KEY` | `JWT_SECRET` |
//! | `ENVIRONMENT` (`production` / `development`) | `OPTIONHUB_MODE` |
//!
//! A flag or optionhub's own variable always wins; the old names are then ignored (and
//! the log says so). A group set only in part is an error that names what is missing:
//! half a database address falling back to the embedded SQLite would lose data
//! silently. Resolution is a pure function of an explicit map ([`resolve`]), so tests
//! never touch the process environment; which names were read is logged, never their
//! values.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use url::Url;

use crate::config::RunMode;

/// Variable name → value, for the names in [`ALIAS_NAMES`].
pub type EnvMap = BTreeMap<String, String>;

const LISTEN_GROUP: [&str; 2] = ["API_HOST", "API_PORT"];
const DATABASE_GROUP: [&str; 5] = ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"];
const JWT_SECRET_ALIAS: &str = "JWT_SECRET_KEY";
const MODE_ALIAS: &str = "ENVIRONMENT";

/// Every name this module reads.
pub const ALIAS_NAMES: [&str; 9] = [
    "API_HOST",
    "API_PORT",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    JWT_SECRET_ALIAS,
    MODE_ALIAS,
];

/// Why the old names could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvAliasError {
    #[error(
        "{} set without {}: set all of {}, or {instead} instead",
        set.join(", "),
        missing.join(", "),
        group.join(", ")
    )]
    HalfSet {
        group: &'static [&'static str],
        set: Vec<&'static str>,
        missing: Vec<&'static str>,
        instead: &'static str,
    },
    /// Only for names whose value is not a secret.
    #[error("{name}={value:?} is not {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
}

/// Which settings a command uses and has no value for yet (from a flag or optionhub's
/// own variable): only those are looked up under the old names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wanted {
    pub listen: bool,
    pub database_url: bool,
    pub jwt_secret: bool,
    pub mode: bool,
}

/// What the old names supplied.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub listen: Option<SocketAddr>,
    pub database_url: Option<String>,
    pub jwt_secret: Option<String>,
    pub mode: Option<RunMode>,
    /// The old names whose values were used.
    pub read: Vec<&'static str>,
    /// The old names that are set but were not used, because optionhub's own setting
    /// is given or the command does not use it.
    pub ignored: Vec<&'static str>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("listen", &self.listen)
            .field(
                "database_url",
                &self.database_url.as_deref().map(crate::config::redact_url),
            )
            .field(
                "jwt_secret",
                &crate::config::redacted(self.jwt_secret.as_ref()),
            )
            .field("mode", &self.mode)
            .field("read", &self.read)
            .field("ignored", &self.ignored)
            .finish()
    }
}

impl Resolved {
    /// Logs which old names were read and which were ignored; names only.
    pub fn log(&self) {
        if !self.read.is_empty() {
            tracing::info!(names = ?self.read, "settings read from migration variable names");
        }
        if !self.ignored.is_empty() {
            tracing::warn!(
                names = ?self.ignored,
                "migration variable names ignored: optionhub's own setting is given or unused"
            );
        }
    }
}

/// The old names present in the process environment. Only [`ALIAS_NAMES`] are looked
/// at, so nothing else in the environment can fail this.
pub fn process_env() -> Result<EnvMap, EnvAliasError> {
    let mut env = EnvMap::new();
    for name in ALIAS_NAMES {
        if let Some(value) = std::env::var_os(name) {
            let value = value
                .into_string()
                .map_err(|_| EnvAliasError::NotUnicode(name))?;
            env.insert(name.to_owned(), value);
        }
    }
    Ok(env)
}

/// Resolves the old names in `env` for the settings in `wanted`.
pub fn resolve(env: &EnvMap, wanted: Wanted) -> Result<Resolved, EnvAliasError> {
    let mut resolved = Resolved::default();
    // Set means present and non-empty, except that an empty `DB_PASSWORD` is a
    // database user without a password.
    let is_set = |name: &str| {
        env.get(name)
            .is_some_and(|value| !value.is_empty() || name == "DB_PASSWORD")
    };
    let note = |names: &[&'static str], used: bool, resolved: &mut Resolved| {
        let present = names.iter().copied().filter(|name| is_set(name));
        if used {
            resolved.read.extend(present);
        } else {
            resolved.ignored.extend(present);
        }
    };
    if wanted.listen
        && let Some([host, port]) = group(env, &LISTEN_GROUP, "OPTIONHUB_LISTEN")?
    {
        resolved.listen = Some(SocketAddr::new(ip_of(host)?, port_of("API_PORT", port)?));
    }
    note(&LISTEN_GROUP, resolved.listen.is_some(), &mut resolved);
    if wanted.database_url
        && let Some([host, port, name, user, password]) =
            group(env, &DATABASE_GROUP, "DATABASE_URL")?
    {
        resolved.database_url = Some(postgres_url(host, port, name, user, password)?);
    }
    note(
        &DATABASE_GROUP,
        resolved.database_url.is_some(),
        &mut resolved,
    );
    if wanted.jwt_secret && is_set(JWT_SECRET_ALIAS) {
        resolved.jwt_secret = env.get(JWT_SECRET_ALIAS).cloned();
    }
    note(
        &[JWT_SECRET_ALIAS],
        resolved.jwt_secret.is_some(),
        &mut resolved,
    );
    if wanted.mode
        && let Some(value) = env.get(MODE_ALIAS).filter(|v| !v.is_empty())
    {
        resolved.mode = Some(mode_of(value)?);
    }
    note(&[MODE_ALIAS], resolved.mode.is_some(), &mut resolved);
    Ok(resolved)
}

/// The values of a group that must be set whole: `None` when none of it is set, an
/// error naming the missing names when only part is.
fn group<'a, const N: usize>(
    env: &'a EnvMap,
    names: &'static [&'static str; N],
    instead: &'static str,
) -> Result<Option<[&'a str; N]>, EnvAliasError> {
    let values = (*names).map(|name| {
        env.get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty() || name == "DB_PASSWORD")
    });
    let set: Vec<&'static str> = names
        .iter()
        .zip(&values)
        .filter_map(|(name, value)| value.map(|_| *name))
        .collect();
    if set.is_empty() {
        return Ok(None);
    }
    if set.len() < N {
        let missing = names
            .iter()
            .copied()
            .filter(|name| !set.contains(name))
            .collect();
        return Err(EnvAliasError::HalfSet {
            group: names,
            set,
            missing,
            instead,
        });
    }
    Ok(Some(values.map(|value| value.unwrap_or_default())))
}

fn ip_of(host: &str) -> Result<IpAddr, EnvAliasError> {
    let bare = host.trim().trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    bare.parse().map_err(|_| EnvAliasError::Invalid {
        name: "API_HOST",
        value: host.to_owned(),
        expected: "an IP address or localhost",
    })
}

fn port_of(name: &'static str, port: &str) -> Result<u16, EnvAliasError> {
    port.trim().parse().map_err(|_| EnvAliasError::Invalid {
        name,
        value: port.to_owned(),
        expected: "a port number (0-65535)",
    })
}

fn mode_of(value: &str) -> Result<RunMode, EnvAliasError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "production" | "prod" => Ok(RunMode::Production),
        "development" | "dev" | "local" => Ok(RunMode::Development),
        _ => Err(EnvAliasError::Invalid {
            name: MODE_ALIAS,
            value: value.to_owned(),
            expected: "production or development (set OPTIONHUB_MODE to choose)",
        }),
    }
}

/// `postgres://USER:PASSWORD@HOST:PORT/NAME`, with user, password and name
/// percent-encoded by the `url` crate. Its userinfo encoding leaves `%` as it is (a
/// WHATWG rule for already-encoded input), and the database driver decodes what it
/// reads, so a literal `%` is encoded first.
fn postgres_url(
    host: &str,
    port: &str,
    name: &str,
    user: &str,
    password: &str,
) -> Result<String, EnvAliasError> {
    let port = port_of("DB_PORT", port)?;
    let invalid_host = || EnvAliasError::Invalid {
        name: "DB_HOST",
        value: host.to_owned(),
        expected: "a host name or IP address",
    };
    let host_part = match host.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        Ok(IpAddr::V4(ip)) => ip.to_string(),
        Err(_) if host.contains(['/', '@', '?', '#', ':', ' ']) => return Err(invalid_host()),
        Err(_) => host.trim().to_owned(),
    };
    let mut url =
        Url::parse(&format!("postgres://{host_part}:{port}/")).map_err(|_| invalid_host())?;
    let escape = |text: &str| text.replace('%', "%25");
    // Both fail only for a URL without a host, which this one has.
    url.set_username(&escape(user))
        .map_err(|()| invalid_host())?;
    if !password.is_empty() {
        url.set_password(Some(&escape(password)))
            .map_err(|()| invalid_host())?;
    }
    url.path_segments_mut()
        .map_err(|()| invalid_host())?
        .clear()
        .push(name);
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::postgres::PgConnectOptions;

    use super::*;

    const ALL: Wanted = Wanted {
        listen: true,
        database_url: true,
        jwt_secret: true,
        mode: true,
    };

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn full_database() -> Vec<(&'static str, &'static str)> {
        vec![
            ("DB_HOST", "db.internal"),
            ("DB_PORT", "6432"),
            ("DB_NAME", "option hub"),
            ("DB_USER", "ops%41@x:y/z"),
            ("DB_PASSWORD", "p@ss:w/rd%41 #?"),
        ]
    }

    #[test]
    fn nothing_set_resolves_to_nothing() {
        assert_eq!(resolve(&EnvMap::new(), ALL), Ok(Resolved::default()));
    }

    #[test]
    fn the_database_group_builds_a_url_the_driver_reads_back() {
        let resolved = resolve(&env(&full_database()), ALL).unwrap();
        let url = resolved.database_url.unwrap();
        assert_eq!(
            url,
            "postgres://ops%2541%40x%3Ay%2Fz:p%40ss%3Aw%2Frd%2541%20%23%3F@db.internal:6432/option%20hub"
        );
        let options = PgConnectOptions::from_str(&url).unwrap();
        assert_eq!(options.get_host(), "db.internal");
        assert_eq!(options.get_port(), 6432);
        assert_eq!(options.get_username(), "ops%41@x:y/z");
        assert_eq!(options.get_database(), Some("option hub"));
        assert_eq!(
            resolved.read,
            ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"]
        );
        let shown = format!("{:?}", resolve(&env(&full_database()), ALL).unwrap());
        assert!(!shown.contains("rd%2541"), "{shown}");
    }

    #[test]
    fn a_half_set_group_names_what_is_missing() {
        let mut pairs = full_database();
        pairs.retain(|(name, _)| !matches!(*name, "DB_NAME" | "DB_PASSWORD"));
        let error = resolve(&env(&pairs), ALL).unwrap_err();
        assert_eq!(
            error,
            EnvAliasError::HalfSet {
                group: &DATABASE_GROUP,
                set: vec!["DB_HOST", "DB_PORT", "DB_USER"],
                missing: vec!["DB_NAME", "DB_PASSWORD"],
                instead: "DATABASE_URL",
            }
        );
        let text = error.to_string();
        assert!(
            text.starts_with("DB_HOST, DB_PORT, DB_USER set without DB_NAME, DB_PASSWORD"),
            "{text}"
        );
        assert!(!text.contains("db.internal"), "values stay out: {text}");

        let error = resolve(&env(&[("API_PORT", "9000")]), ALL).unwrap_err();
        assert!(
            matches!(&error, EnvAliasError::HalfSet { missing, .. } if *missing == ["API_HOST"]),
            "{error}"
        );
    }

    #[test]
    fn an_empty_password_means_none_but_an_empty_host_is_missing() {
        let mut pairs = full_database();
        pairs.retain(|(name, _)| *name != "DB_PASSWORD");
        pairs.push(("DB_PASSWORD", ""));
        let url = resolve(&env(&pairs), ALL).unwrap().database_url.unwrap();
        assert!(
            url.starts_with("postgres://ops%2541%40x%3Ay%2Fz@db.internal:6432/"),
            "{url}"
        );

        pairs.retain(|(name, _)| *name != "DB_HOST");
        pairs.push(("DB_HOST", ""));
        assert!(matches!(
            resolve(&env(&pairs), ALL),
            Err(EnvAliasError::HalfSet { missing, .. }) if missing == ["DB_HOST"]
        ));
    }

    #[test]
    fn listen_jwt_and_mode_names_resolve() {
        let resolved = resolve(
            &env(&[
                ("API_HOST", "0.0.0.0"),
                ("API_PORT", "9000"),
                ("JWT_SECRET_KEY", "legacy-secret"),
                ("ENVIRONMENT", "Production"),
            ]),
            ALL,
        )
        .unwrap();
        assert_eq!(resolved.listen, Some("0.0.0.0:9000".parse().unwrap()));
        assert_eq!(resolved.jwt_secret.as_deref(), Some("legacy-secret"));
        assert_eq!(resolved.mode, Some(RunMode::Production));
        assert_eq!(
            resolved.read,
            ["API_HOST", "API_PORT", "JWT_SECRET_KEY", "ENVIRONMENT"]
        );
        assert!(!format!("{resolved:?}").contains("legacy-secret"));

        let v6 = env(&[("API_HOST", "[::1]"), ("API_PORT", "80")]);
        assert_eq!(
            resolve(&v6, ALL).unwrap().listen,
            Some("[::1]:80".parse().unwrap())
        );
        let dev = env(&[("ENVIRONMENT", "development")]);
        assert_eq!(resolve(&dev, ALL).unwrap().mode, Some(RunMode::Development));
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (
                vec![("API_HOST", "web.local"), ("API_PORT", "80")],
                "API_HOST",
            ),
            (
                vec![("API_HOST", "0.0.0.0"), ("API_PORT", "http")],
                "API_PORT",
            ),
            (vec![("ENVIRONMENT", "staging")], "ENVIRONMENT"),
        ];
        for (pairs, name) in cases {
            match resolve(&env(&pairs), ALL) {
                Err(EnvAliasError::Invalid { name: named, .. }) => assert_eq!(named, name),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
        let mut pairs = full_database();
        pairs.retain(|(name, _)| *name != "DB_PORT");
        pairs.push(("DB_PORT", "99999"));
        assert!(matches!(
            resolve(&env(&pairs), ALL),
            Err(EnvAliasError::Invalid {
                name: "DB_PORT",
                ..
            })
        ));
    }

    #[test]
    fn optionhubs_own_settings_win_and_the_old_names_are_reported_ignored() {
        let mut pairs = full_database();
        pairs.extend([
            ("API_HOST", "0.0.0.0"),
            ("API_PORT", "9000"),
            ("JWT_SECRET_KEY", "legacy-secret"),
            ("ENVIRONMENT", "production"),
        ]);
        let resolved = resolve(&env(&pairs), Wanted::default()).unwrap();
        assert_eq!(
            (
                resolved.listen,
                resolved.database_url.as_deref(),
                resolved.jwt_secret.as_deref(),
                resolved.mode
            ),
            (None, None, None, None)
        );
        assert_eq!(resolved.ignored.len(), 9);
        // A half-set group that is not wanted is not an error: it is not read at all.
        let half = env(&[("DB_HOST", "db")]);
        let resolved = resolve(&half, Wanted::default()).unwrap();
        assert_eq!(resolved.ignored, ["DB_HOST"]);
    }
}
