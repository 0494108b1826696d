//! The application's services, built once at start and shared by the HTTP
//! handlers, the server functions (through [`app::ssr::Backend`]) and the CLI.

use crate::accounts::Accounts;
use crate::config::Config;
use crate::db::Db;
use crate::secret::InstanceKey;
use std::sync::Arc;

#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    pub key: Arc<InstanceKey>,
    pub accounts: Accounts,
}

impl Services {
    /// Opens the database (applying migrations) and loads the instance key.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "could not create the data directory {}: {e}",
                config.data_dir.display()
            )
        })?;
        let key = InstanceKey::load_or_create(config.secret_key.as_deref(), &config.data_dir)?;
        let db = crate::db::connect(&config.database_url()).await?;
        Ok(Services {
            accounts: Accounts::new(db.clone()),
            config: Arc::new(config),
            db,
            key: Arc::new(key),
        })
    }
}
