//! Ready-to-paste configuration for MCP clients.

/// One client's configuration: where it goes, and the text to paste.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    pub client: &'static str,
    pub where_: &'static str,
    pub text: String,
}

/// Configurations for Claude Desktop, Claude Code, Cursor and VS Code.
/// `token` is `None` for public servers; a placeholder stands in when the
/// token is no longer known (it is shown only once).
pub fn client_configs(slug: &str, endpoint: &str, token: Option<&str>, needs_token: bool) -> Vec<ClientConfig> {
    let token = match (needs_token, token) {
        (false, _) => None,
        (true, Some(token)) => Some(token.to_owned()),
        (true, None) => Some("<your token>".to_owned()),
    };
    let header = token.as_ref().map(|t| format!("Bearer {t}"));
    let json = |value: serde_json::Value| serde_json::to_string_pretty(&value).unwrap_or_default();

    let mut desktop_args = vec![serde_json::json!("mcp-remote"), serde_json::json!(endpoint)];
    if let Some(header) = &header {
        desktop_args.push(serde_json::json!("--header"));
        desktop_args.push(serde_json::json!(format!("Authorization: {header}")));
    }
    let headers = header.as_ref().map(|h| serde_json::json!({ "Authorization": h }));
    let mut cursor = serde_json::json!({ "url": endpoint });
    let mut vscode = serde_json::json!({ "type": "http", "url": endpoint });
    if let Some(headers) = &headers {
        cursor["headers"] = headers.clone();
        vscode["headers"] = headers.clone();
    }
    let claude_code = match &header {
        Some(header) => {
            format!("claude mcp add --transport http {slug} {endpoint} --header \"Authorization: {header}\"")
        }
        None => format!("claude mcp add --transport http {slug} {endpoint}"),
    };
    vec![
        ClientConfig {
            client: "Claude Desktop",
            where_: "claude_desktop_config.json",
            text: json(serde_json::json!({ "mcpServers": { slug: { "command": "npx", "args": desktop_args } } })),
        },
        ClientConfig { client: "Claude Code", where_: "a terminal", text: claude_code },
        ClientConfig {
            client: "Cursor",
            where_: "~/.cursor/mcp.json",
            text: json(serde_json::json!({ "mcpServers": { slug: cursor } })),
        },
        ClientConfig {
            client: "VS Code",
            where_: ".vscode/mcp.json",
            text: json(serde_json::json!({ "servers": { slug: vscode } })),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_servers_carry_the_token_in_every_config() {
        let configs = client_configs("pets", "https://a.example/mcp/pets", Some("amcp_srv_x"), true);
        assert_eq!(configs.len(), 4);
        for config in &configs {
            assert!(config.text.contains("https://a.example/mcp/pets"), "{}", config.client);
            assert!(config.text.contains("Bearer amcp_srv_x"), "{}", config.client);
        }
        let vscode: serde_json::Value = serde_json::from_str(&configs[3].text).unwrap();
        assert_eq!(vscode["servers"]["pets"]["type"], "http");
        let desktop: serde_json::Value = serde_json::from_str(&configs[0].text).unwrap();
        assert_eq!(desktop["mcpServers"]["pets"]["args"][0], "mcp-remote");
    }

    #[test]
    fn public_servers_have_no_header_and_unknown_tokens_a_placeholder() {
        let public = client_configs("pets", "https://a.example/mcp/pets", None, false);
        assert!(public.iter().all(|c| !c.text.contains("Authorization")));
        let unknown = client_configs("pets", "https://a.example/mcp/pets", None, true);
        assert!(unknown.iter().all(|c| c.text.contains("<your token>")));
    }
}
