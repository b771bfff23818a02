//! Which world a component implements, and whether its WIT version is one this host
//! speaks.
//!
//! wasmtime's type check (in `instantiate_pre` and the bindings' `*Pre::new`) says *that*
//! something does not match; this module says *what*, in terms a plugin author can act
//! on: "not an optionhub plugin", "no `meta` export", "built against 0.2, host speaks
//! 0.1", before the type check runs.

use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::bounded;

/// The WIT package every plugin implements a world of.
pub const PACKAGE: &str = "optionhub:analytics";
/// The package version this host was built against (`wit/*.wit`).
pub const HOST_VERSION: Version = Version {
    major: 0,
    minor: 1,
    patch: 0,
};

/// The four plugin worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    GreeksModel,
    OiAnalytics,
    StrategyValuation,
    CustomAnalytics,
}

impl World {
    pub const ALL: [World; 4] = [
        World::GreeksModel,
        World::OiAnalytics,
        World::StrategyValuation,
        World::CustomAnalytics,
    ];

    /// The world's name in `wit/worlds.wit`.
    pub fn name(self) -> &'static str {
        match self {
            World::GreeksModel => "greeks-model",
            World::OiAnalytics => "oi-analytics",
            World::StrategyValuation => "strategy-valuation",
            World::CustomAnalytics => "custom-analytics",
        }
    }

    /// The interface the world exports besides `meta`.
    fn interface(self) -> &'static str {
        match self {
            World::GreeksModel => "greeks",
            World::OiAnalytics => "oi",
            World::StrategyValuation => "strategy",
            World::CustomAnalytics => "custom",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A semantic version of the WIT package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    fn parse(text: &str) -> Option<Self> {
        // Pre-release and build suffixes are not compatible with anything but themselves;
        // treat them as unparseable so they are reported, not guessed at.
        let mut parts = text.split('.');
        let version = Self {
            major: parts.next()?.parse().ok()?,
            minor: parts.next()?.parse().ok()?,
            patch: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(version)
    }

    /// Semver compatibility as the component model uses it: same major; for 0.x, same
    /// minor too.
    pub fn compatible_with(self, other: Version) -> bool {
        if self.major == 0 || other.major == 0 {
            self.major == other.major && self.minor == other.minor
        } else {
            self.major == other.major
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Why a component is not a plugin this host can load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error(
        "not an optionhub analytics plugin: it exports no {PACKAGE} interface (exports: {exports}); \
         build it against the worlds in wit/worlds.wit"
    )]
    ForeignComponent { exports: String },
    #[error(
        "plugin does not export {PACKAGE}/meta (every world exports it: info() names the plugin)"
    )]
    MissingMeta,
    #[error(
        "plugin exports no world interface: expected one of {PACKAGE}/greeks, /oi, /strategy or /custom"
    )]
    MissingWorld,
    #[error(
        "plugin exports interfaces of several worlds ({found}); a plugin implements exactly one"
    )]
    SeveralWorlds { found: String },
    #[error(
        "plugin exports {export}, built against {PACKAGE}@{found}; this host speaks {PACKAGE}@{host} \
         (compatible: {compatible}); rebuild the plugin against this host's wit/"
    )]
    IncompatibleVersion {
        export: String,
        found: String,
        host: Version,
        compatible: String,
    },
}

/// Finds the world `component` implements and checks its WIT version.
pub fn detect_world(engine: &Engine, component: &Component) -> Result<World, ContractError> {
    let component_type = component.component_type();
    let exports: Vec<String> = component_type
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    classify_exports(&exports)
}

/// The decision behind [`detect_world`], on export names alone.
pub fn classify_exports(exports: &[String]) -> Result<World, ContractError> {
    let ours: Vec<(&str, &str, &String)> = exports
        .iter()
        .filter_map(|export| {
            let (path, version) = export.split_once('@').unwrap_or((export.as_str(), ""));
            let interface = path.strip_prefix(PACKAGE)?.strip_prefix('/')?;
            Some((interface, version, export))
        })
        .collect();
    if ours.is_empty() {
        let listed = if exports.is_empty() {
            "none".to_string()
        } else {
            exports.join(", ")
        };
        return Err(ContractError::ForeignComponent {
            exports: bounded(listed),
        });
    }
    for (_, version, export) in &ours {
        let compatible = Version::parse(version).is_some_and(|v| v.compatible_with(HOST_VERSION));
        if !compatible {
            return Err(ContractError::IncompatibleVersion {
                export: bounded((*export).clone()),
                found: if version.is_empty() {
                    "(unversioned)".into()
                } else {
                    bounded((*version).to_string())
                },
                host: HOST_VERSION,
                compatible: compatible_range(),
            });
        }
    }
    if !ours.iter().any(|(interface, _, _)| *interface == "meta") {
        return Err(ContractError::MissingMeta);
    }
    let worlds: Vec<World> = World::ALL
        .into_iter()
        .filter(|world| {
            ours.iter()
                .any(|(interface, _, _)| *interface == world.interface())
        })
        .collect();
    match worlds.as_slice() {
        [] => Err(ContractError::MissingWorld),
        [world] => Ok(*world),
        several => Err(ContractError::SeveralWorlds {
            found: several
                .iter()
                .map(|w| w.name())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn compatible_range() -> String {
    if HOST_VERSION.major == 0 {
        format!("{}.{}.x", HOST_VERSION.major, HOST_VERSION.minor)
    } else {
        format!("{}.x", HOST_VERSION.major)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_each_world() {
        for world in World::ALL {
            let exports = names(&[
                "optionhub:analytics/meta@0.1.0",
                &format!("optionhub:analytics/{}@0.1.3", world.interface()),
            ]);
            assert_eq!(classify_exports(&exports), Ok(world));
        }
    }

    #[test]
    fn foreign_component_names_its_exports() {
        let err = classify_exports(&names(&["greet"])).err();
        assert_eq!(
            err,
            Some(ContractError::ForeignComponent {
                exports: "greet".into()
            })
        );
    }

    #[test]
    fn missing_meta_and_missing_world_are_distinct() {
        let no_meta = classify_exports(&names(&["optionhub:analytics/greeks@0.1.0"]));
        assert_eq!(no_meta, Err(ContractError::MissingMeta));
        let no_world = classify_exports(&names(&["optionhub:analytics/meta@0.1.0"]));
        assert_eq!(no_world, Err(ContractError::MissingWorld));
    }

    #[test]
    fn incompatible_minor_version_is_rejected_with_both_versions() {
        let err = classify_exports(&names(&[
            "optionhub:analytics/meta@0.2.0",
            "optionhub:analytics/greeks@0.2.0",
        ]));
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("0.2.0") && message.contains("0.1.0"),
            "{message}"
        );
    }

    #[test]
    fn several_worlds_are_rejected() {
        let err = classify_exports(&names(&[
            "optionhub:analytics/meta@0.1.0",
            "optionhub:analytics/greeks@0.1.0",
            "optionhub:analytics/oi@0.1.0",
        ]));
        assert!(matches!(err, Err(ContractError::SeveralWorlds { .. })));
    }

    #[test]
    fn semver_rules() {
        let v = |major, minor, patch| Version {
            major,
            minor,
            patch,
        };
        assert!(v(0, 1, 9).compatible_with(v(0, 1, 0)));
        assert!(!v(0, 2, 0).compatible_with(v(0, 1, 0)));
        assert!(v(1, 4, 0).compatible_with(v(1, 0, 0)));
        assert!(!v(2, 0, 0).compatible_with(v(1, 0, 0)));
        assert_eq!(Version::parse("0.1.0-rc1"), None);
    }
}
