//! The wasm bundles. In islands mode only islands become wasm, so each page
//! loads a bundle with just the islands it can show: the runtime alone is
//! about 100 KB compressed, and one bundle of every island was over 400 KB.
//! `.ci/build` builds one bundle per [`Bundle`] (cargo feature
//! `bundle-<name>`); every island says in which bundles it is an island
//! (`#[cfg_attr(any(feature = "ssr", feature = "bundle-…"), island)]`),
//! and elsewhere it compiles as a plain component that no export reaches.

/// A wasm bundle, named by the pages that load it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bundle {
    /// Start page, log in, sign up, consent, dashboard, API tokens, users.
    Account,
    /// `/wizard/…`.
    Wizard,
    /// `/servers/{id}`.
    Server,
    /// MCP sources, servers from MCP servers, machines, a server's hosting.
    Manage,
}

impl Bundle {
    pub const ALL: [Bundle; 4] = [Bundle::Account, Bundle::Wizard, Bundle::Server, Bundle::Manage];

    /// The name in file names (`automcp-<name>.<hash>.wasm`, `hash-<name>.txt`)
    /// and in the cargo feature `bundle-<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Bundle::Account => "account",
            Bundle::Wizard => "wizard",
            Bundle::Server => "server",
            Bundle::Manage => "manage",
        }
    }

    /// The bundle the page at `path` loads.
    pub fn for_path(path: &str) -> Bundle {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["wizard", ..] => Bundle::Wizard,
            ["servers", _] => Bundle::Server,
            ["servers", _, "hosting"] | ["sources"] | ["mcps", ..] | ["machines"] => Bundle::Manage,
            _ => Bundle::Account,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Bundle;

    #[test]
    fn each_page_gets_the_bundle_with_its_islands() {
        for (path, bundle) in [
            ("/", Bundle::Account),
            ("/dashboard", Bundle::Account),
            ("/tokens", Bundle::Account),
            ("/oauth/consent", Bundle::Account),
            ("/wizard/new", Bundle::Wizard),
            ("/wizard/0f0e", Bundle::Wizard),
            ("/servers/0f0e", Bundle::Server),
            ("/servers/0f0e/", Bundle::Server),
            ("/servers/0f0e/hosting", Bundle::Manage),
            ("/sources", Bundle::Manage),
            ("/mcps/new", Bundle::Manage),
            ("/mcps/0f0e/edit", Bundle::Manage),
            ("/machines", Bundle::Manage),
            ("/no/such/page", Bundle::Account),
        ] {
            assert_eq!(Bundle::for_path(path), bundle, "{path}");
        }
    }

    /// `.ci/build` builds exactly these bundles.
    #[test]
    fn the_build_script_builds_every_bundle() {
        let script = include_str!("../../.ci/build");
        let line = script.lines().find(|l| l.starts_with("bundles=")).expect("a bundles= line in .ci/build");
        let names: Vec<&str> = line.trim_start_matches("bundles=").trim_matches(['(', ')']).split(' ').collect();
        assert_eq!(names, Bundle::ALL.map(Bundle::name));
    }
}
