//! Who calls an `oauth` server: the gate a mount carries, the caller an
//! access token stands for, and the port through which the engine asks
//! the authorization server (implemented by [`crate::oauth::OAuth`]).

use app::model::OAuthAccess;

/// A mount's OAuth requirements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthGate {
    pub server_id: String,
    pub owner_id: String,
    /// Who the owner lets connect (checked on every request, so narrowing it
    /// shuts out accounts at once).
    pub access: OAuthAccess,
    /// The server's Protected Resource Metadata URL (RFC 9728), named in
    /// every 401's `WWW-Authenticate`.
    pub resource_metadata: String,
}

/// The account and client behind a valid access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthCaller {
    pub grant_id: String,
    /// The server the token was issued for (its audience).
    pub server_id: String,
    pub user_id: String,
    pub user_email: String,
    pub client_id: String,
    pub client_name: String,
}

/// Looks presented access tokens up.
#[async_trait::async_trait]
pub trait AccessTokens: Send + Sync + 'static {
    /// The caller a token stands for, if it is valid now (not expired, not
    /// revoked). `Err` is a storage failure, not a bad token.
    async fn caller(&self, access_token: &str) -> Result<Option<std::sync::Arc<OAuthCaller>>, String>;
}

/// Why a presented token does not open this gate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateRefusal {
    /// Issued for another server (RFC 8707 audience).
    OtherServer,
    /// The owner no longer lets this account connect.
    NotAllowed,
}

impl OAuthGate {
    /// The `WWW-Authenticate` value of a 401 (RFC 6750 §3, RFC 9728 §5.1):
    /// bare for a missing token, with `error="invalid_token"` otherwise.
    pub fn challenge(&self, invalid: Option<&str>) -> String {
        let metadata = &self.resource_metadata;
        match invalid {
            None => format!("Bearer resource_metadata=\"{metadata}\", scope=\"mcp\""),
            Some(why) => format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\", resource_metadata=\"{metadata}\", \
                 scope=\"mcp\"",
                why.replace(['"', '\\'], "'")
            ),
        }
    }

    /// Checks a valid token's caller against this server.
    pub fn admit(&self, caller: &OAuthCaller) -> Result<(), GateRefusal> {
        if caller.server_id != self.server_id {
            return Err(GateRefusal::OtherServer);
        }
        if !self.access.allows(caller.user_id == self.owner_id, &caller.user_email) {
            return Err(GateRefusal::NotAllowed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(access: OAuthAccess) -> OAuthGate {
        OAuthGate { server_id: "s1".into(), owner_id: "owner".into(), access, resource_metadata: String::new() }
    }

    fn caller(server_id: &str, user_id: &str, email: &str) -> OAuthCaller {
        OAuthCaller {
            grant_id: "g".into(),
            server_id: server_id.into(),
            user_id: user_id.into(),
            user_email: email.into(),
            client_id: "c".into(),
            client_name: "C".into(),
        }
    }

    #[test]
    fn challenges_name_the_resource_metadata() {
        let gate =
            OAuthGate { resource_metadata: "https://a.example/.well-known/x".into(), ..gate(OAuthAccess::Owner) };
        assert_eq!(gate.challenge(None), "Bearer resource_metadata=\"https://a.example/.well-known/x\", scope=\"mcp\"");
        assert_eq!(
            gate.challenge(Some("it \"expired\"")),
            "Bearer error=\"invalid_token\", error_description=\"it 'expired'\", \
             resource_metadata=\"https://a.example/.well-known/x\", scope=\"mcp\""
        );
    }

    #[test]
    fn a_token_opens_only_its_own_server_for_allowed_accounts() {
        let owner_only = gate(OAuthAccess::Owner);
        assert_eq!(owner_only.admit(&caller("s1", "owner", "o@x.io")), Ok(()));
        assert_eq!(owner_only.admit(&caller("s2", "owner", "o@x.io")), Err(GateRefusal::OtherServer));
        assert_eq!(owner_only.admit(&caller("s1", "u2", "b@x.io")), Err(GateRefusal::NotAllowed));
        let listed = gate(OAuthAccess::Emails { emails: vec!["b@x.io".into()] });
        assert_eq!(listed.admit(&caller("s1", "u2", "B@x.io")), Ok(()));
        assert_eq!(listed.admit(&caller("s1", "u3", "c@x.io")), Err(GateRefusal::NotAllowed));
        assert_eq!(gate(OAuthAccess::AnyAccount).admit(&caller("s1", "u3", "c@x.io")), Ok(()));
    }
}
