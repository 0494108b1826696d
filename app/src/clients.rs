//! Ready-to-paste configuration and one-click install links for MCP clients.
//!
//! Each client spells a remote server differently (`url`, `serverUrl`,
//! `httpUrl`, `type: http`), so each gets its own snippet. When the token
//! is not at hand (it is shown once) a placeholder stands in. Install links
//! never carry the token: VS Code asks for it in a password prompt, Cursor
//! reads it from an environment variable.

use crate::model::ClientAuth;
use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// One client's configuration: where it goes, and the text to paste.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Stable id, for the page (`config-<id>`).
    pub id: &'static str,
    pub client: &'static str,
    pub where_: &'static str,
    pub text: String,
}

/// A one-click install link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallLink {
    pub id: &'static str,
    pub client: &'static str,
    pub href: String,
    /// What the user does after clicking.
    pub note: &'static str,
}

/// Stands in for a token that is no longer shown.
pub const TOKEN_PLACEHOLDER: &str = "<your token>";

/// What the hosted assistants accept, honestly: they cannot send a token.
pub const HOSTED_ASSISTANTS: &str = "claude.ai (and Claude Desktop's Connectors) and ChatGPT add remote servers by \
     URL, but sign in only with OAuth or connect without authentication; neither can send a bearer token. Choose \
     \"Sign in with OAuth\" under Client access to use them, or use one of the clients below.";

/// How to add an `oauth` server to the assistants that sign in.
pub const OAUTH_ASSISTANTS: &str = "claude.ai and Claude Desktop: Settings → Connectors → Add custom connector, \
     paste the URL. ChatGPT: Settings → Connectors → Create (developer mode), paste the URL, authentication OAuth. \
     Claude Code, Cursor, VS Code and the others below take the URL alone. Each one opens an AutoMCP page where \
     you sign in and allow it; it then appears under Connected clients.";

/// The environment variable Cursor's install link reads the token from.
pub fn token_env(slug: &str) -> String {
    let upper: String =
        slug.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("AUTOMCP_TOKEN_{upper}")
}

/// The `Authorization` value to show: `None` for public servers.
fn bearer(token: Option<&str>, needs_token: bool) -> Option<String> {
    needs_token.then(|| format!("Bearer {}", token.unwrap_or(TOKEN_PLACEHOLDER)))
}

fn pretty(value: Value) -> String {
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// `{"url": endpoint, "headers": {...}}` with the URL under `url_key`.
fn remote(url_key: &str, endpoint: &str, header: Option<&String>) -> Value {
    let mut server = json!({ url_key: endpoint });
    if let Some(header) = header {
        server["headers"] = json!({ "Authorization": header });
    }
    server
}

/// Configurations for Claude Code, Cursor, VS Code, Windsurf, Gemini CLI,
/// Claude Desktop (through `mcp-remote`) and any other client.
pub fn client_configs(slug: &str, endpoint: &str, token: Option<&str>, auth: ClientAuth) -> Vec<ClientConfig> {
    let header = bearer(token, auth == ClientAuth::Bearer);
    let header_flag = header.as_ref().map(|h| format!(" --header \"Authorization: {h}\"")).unwrap_or_default();
    let mut vscode = remote("url", endpoint, header.as_ref());
    vscode["type"] = json!("http");
    let mut desktop_args = vec![json!("mcp-remote"), json!(endpoint)];
    if let Some(header) = &header {
        desktop_args.extend([json!("--header"), json!(format!("Authorization: {header}"))]);
    }
    let generic = match &header {
        Some(header) => format!("URL: {endpoint}\nTransport: Streamable HTTP\nHeader: Authorization: {header}"),
        None if auth == ClientAuth::OAuth => {
            format!(
                "URL: {endpoint}\nTransport: Streamable HTTP\nAuthentication: OAuth (the client signs in; no token)"
            )
        }
        None => format!("URL: {endpoint}\nTransport: Streamable HTTP\nNo authentication"),
    };
    vec![
        ClientConfig {
            id: "claude-code",
            client: "Claude Code",
            where_: "a terminal",
            text: format!("claude mcp add --transport http{header_flag} {slug} {endpoint}"),
        },
        ClientConfig {
            id: "cursor",
            client: "Cursor",
            where_: "~/.cursor/mcp.json",
            text: pretty(json!({ "mcpServers": { slug: remote("url", endpoint, header.as_ref()) } })),
        },
        ClientConfig {
            id: "vscode",
            client: "VS Code",
            where_: ".vscode/mcp.json",
            text: pretty(json!({ "servers": { slug: vscode } })),
        },
        ClientConfig {
            id: "windsurf",
            client: "Windsurf",
            where_: "~/.codeium/windsurf/mcp_config.json",
            text: pretty(json!({ "mcpServers": { slug: remote("serverUrl", endpoint, header.as_ref()) } })),
        },
        ClientConfig {
            id: "gemini",
            client: "Gemini CLI",
            where_: "a terminal (or httpUrl in ~/.gemini/settings.json)",
            text: format!("gemini mcp add --transport http{header_flag} {slug} {endpoint}"),
        },
        ClientConfig {
            id: "claude-desktop",
            client: "Claude Desktop",
            where_: "claude_desktop_config.json (through mcp-remote, which needs Node)",
            text: pretty(json!({ "mcpServers": { slug: { "command": "npx", "args": desktop_args } } })),
        },
        ClientConfig { id: "generic", client: "Any other client", where_: "its server settings", text: generic },
    ]
}

/// One-click installs for Cursor and VS Code. The token is never in them.
pub fn install_links(slug: &str, endpoint: &str, needs_token: bool) -> Vec<InstallLink> {
    let env = token_env(slug);
    let cursor_header = needs_token.then(|| format!("Bearer ${{env:{env}}}"));
    let cursor = remote("url", endpoint, cursor_header.as_ref());
    let cursor_config = base64::engine::general_purpose::STANDARD.encode(cursor.to_string());
    let mut vscode = json!({ "name": slug, "type": "http", "url": endpoint });
    if needs_token {
        let input = format!("{slug}-token");
        vscode["headers"] = json!({ "Authorization": format!("Bearer ${{input:{input}}}") });
        vscode["inputs"] =
            json!([{ "type": "promptString", "id": input, "description": "AutoMCP token", "password": true }]);
    }
    let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
    vec![
        InstallLink {
            id: "install-cursor",
            client: "Cursor",
            href: format!(
                "cursor://anysphere.cursor-deeplink/mcp/install?name={}&config={}",
                encode(slug),
                encode(&cursor_config)
            ),
            note: if needs_token {
                "reads the token from an environment variable (named below)"
            } else {
                "no token needed"
            },
        },
        InstallLink {
            id: "install-vscode",
            client: "VS Code",
            href: format!("vscode:mcp/install?{}", encode(&vscode.to_string())),
            note: if needs_token { "asks for the token in a password prompt" } else { "no token needed" },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn bearer_servers_carry_the_token_in_every_config() {
        let configs = client_configs("pets", "https://a.example/mcp/pets", Some("amcp_srv_x"), ClientAuth::Bearer);
        assert_eq!(configs.len(), 7);
        for config in &configs {
            assert!(config.text.contains("https://a.example/mcp/pets"), "{}", config.client);
            assert!(config.text.contains("Bearer amcp_srv_x"), "{}", config.client);
        }
        let by_id = |id: &str| configs.iter().find(|c| c.id == id).unwrap().text.clone();
        assert_eq!(parse(&by_id("vscode"))["servers"]["pets"]["type"], "http");
        assert_eq!(parse(&by_id("windsurf"))["mcpServers"]["pets"]["serverUrl"], "https://a.example/mcp/pets");
        assert_eq!(parse(&by_id("cursor"))["mcpServers"]["pets"]["headers"]["Authorization"], "Bearer amcp_srv_x");
        assert_eq!(parse(&by_id("claude-desktop"))["mcpServers"]["pets"]["args"][0], "mcp-remote");
        assert_eq!(
            by_id("claude-code"),
            "claude mcp add --transport http --header \"Authorization: Bearer amcp_srv_x\" pets https://a.example/mcp/pets"
        );
        assert!(by_id("gemini").starts_with("gemini mcp add --transport http --header"));
    }

    #[test]
    fn public_servers_have_no_header_and_unknown_tokens_a_placeholder() {
        let public = client_configs("pets", "https://a.example/mcp/pets", None, ClientAuth::Public);
        assert!(public.iter().all(|c| !c.text.contains("Authorization")));
        let unknown = client_configs("pets", "https://a.example/mcp/pets", None, ClientAuth::Bearer);
        assert!(unknown.iter().all(|c| c.text.contains(TOKEN_PLACEHOLDER)));
        let oauth = client_configs("pets", "https://a.example/mcp/pets", None, ClientAuth::OAuth);
        assert!(oauth.iter().all(|c| !c.text.contains("Authorization")));
        assert!(oauth.iter().any(|c| c.text.contains("Authentication: OAuth")));
    }

    #[test]
    fn install_links_never_carry_the_token() {
        let links = install_links("my-pets", "https://a.example/mcp/my-pets", true);
        let cursor = &links[0].href;
        let config = cursor.split("config=").nth(1).unwrap();
        let config = percent_encoding::percent_decode_str(config).decode_utf8().unwrap();
        let config = base64::engine::general_purpose::STANDARD.decode(config.as_bytes()).unwrap();
        let config: Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(config["url"], "https://a.example/mcp/my-pets");
        assert_eq!(config["headers"]["Authorization"], "Bearer ${env:AUTOMCP_TOKEN_MY_PETS}");
        assert!(cursor.starts_with("cursor://anysphere.cursor-deeplink/mcp/install?name=my%2Dpets&config="));

        let vscode = links[1].href.strip_prefix("vscode:mcp/install?").unwrap();
        let vscode: Value =
            serde_json::from_str(&percent_encoding::percent_decode_str(vscode).decode_utf8().unwrap()).unwrap();
        assert_eq!(vscode["name"], "my-pets");
        assert_eq!(vscode["type"], "http");
        assert_eq!(vscode["headers"]["Authorization"], "Bearer ${input:my-pets-token}");
        assert_eq!(vscode["inputs"][0]["password"], true);

        let public = install_links("pets", "https://a.example/mcp/pets", false);
        assert!(public.iter().all(|link| !link.href.contains("Authorization")));
    }
}
