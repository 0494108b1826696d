//! An OpenAI-compatible chat-completions client (OpenAI, OpenRouter, Ollama,
//! vLLM and the like), asking for JSON answers.
//!
//! The base URL is operator configuration, not user input, so it may be a
//! local model server; it still gets timeouts and a size cap.

use crate::engine::outbound::{excerpt, innermost_message};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// Largest answer read from the LLM API.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Where the LLM lives, from `AUTOMCP_LLM_*` settings.
#[derive(Clone, Debug)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1` (the client appends `/chat/completions`).
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
}

#[derive(Clone)]
pub struct Llm {
    http: reqwest::Client,
    config: LlmConfig,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LlmError {
    #[error("the LLM API did not answer within {0} s")]
    Timeout(u64),
    #[error("could not reach the LLM API: {0}")]
    Unreachable(String),
    #[error("the LLM API answered {status}: {excerpt}")]
    Status { status: u16, excerpt: String },
    #[error("the LLM API's answer is not a chat completion: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

/// One chat message.
#[derive(Clone, Debug)]
pub struct Turn {
    pub role: &'static str,
    pub content: String,
}

impl Llm {
    pub fn new(config: LlmConfig) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(5))
            .timeout(config.timeout)
            .build()
            .expect("the LLM client configuration is valid");
        Llm { http, config }
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// Sends the conversation; returns the assistant's text.
    pub async fn chat(&self, turns: &[Turn]) -> Result<String, LlmError> {
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let messages: Vec<Value> = turns.iter().map(|t| json!({"role": t.role, "content": t.content})).collect();
        let body = json!({
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
            "response_format": {"type": "json_object"},
        });
        let mut request = self.http.post(url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status();
        // Read at most MAX_ANSWER_BYTES, whatever the server sends.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(LlmError::Malformed("it is larger than 4 MiB".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(LlmError::Status { status: status.as_u16(), excerpt: excerpt(&bytes, 300) });
        }
        let completion: Completion = serde_json::from_slice(&bytes).map_err(|e| LlmError::Malformed(e.to_string()))?;
        completion
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::Malformed("it has no message content".into()))
    }

    fn classify(&self, error: reqwest::Error) -> LlmError {
        if error.is_timeout() {
            LlmError::Timeout(self.config.timeout.as_secs())
        } else {
            LlmError::Unreachable(innermost_message(&error))
        }
    }
}

/// Pulls the JSON object out of a model's answer (some wrap it in a ``` fence).
pub fn json_in(answer: &str) -> Result<Value, String> {
    let trimmed = answer.trim();
    let body = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(body.trim()).map_err(|e| format!("the answer is not valid JSON ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_inside_code_fences() {
        assert_eq!(json_in("```json\n{\"a\": 1}\n```").unwrap()["a"], 1);
        assert_eq!(json_in(" {\"a\": 2} ").unwrap()["a"], 2);
        assert!(json_in("Sure! Here it is: {").unwrap_err().contains("not valid JSON"));
    }
}
