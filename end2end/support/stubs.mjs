// Stand-ins for the outside services the browser tests need, on one
// loopback port: an OpenAI-compatible chat-completions API ("the LLM") and
// a small weather API ("the upstream"). Prints {"port": N} once listening.
import http from "node:http";

const failedOnce = new Set();
let port = 0;

function send(res, status, body, type = "application/json") {
  res.writeHead(status, { "content-type": type });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

function proposal() {
  const base = `http://127.0.0.1:${port}`;
  const tool = (name, description, method, path, props, required = []) => ({
    name,
    description,
    input_schema: { type: "object", properties: props, required },
    action: { method, url: `${base}${path}` },
  });
  return {
    name: "Weather Desk",
    description: "Weather forecasts and alerts",
    tools: [
      tool("get_weather", "Current weather for a city", "GET", "/weather/{city}", { city: { type: "string" } }, ["city"]),
      tool("get_forecast", "Five-day forecast for a city", "GET", "/forecast/{city}", { city: { type: "string" } }, ["city"]),
      tool("list_alerts", "Active severe weather alerts", "GET", "/alerts", {}),
      tool("report_issue", "Report a wrong forecast", "POST", "/reports", { text: { type: "string" } }, ["text"]),
    ],
  };
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const url = new URL(req.url, "http://localhost");
    if (req.method === "POST" && url.pathname === "/v1/chat/completions") {
      const request = JSON.parse(body || "{}");
      const prompt = (request.messages || []).map((m) => m.content).join("\n");
      // Each distinct prompt fails once (the whole prompt: the system prompt
      // alone is the same for every wizard).
      const key = prompt;
      if (prompt.includes("fail-first") && !failedOnce.has(key)) {
        failedOnce.add(key);
        return send(res, 500, "the model is overloaded (test stand-in)", "text/plain");
      }
      // A short pause, so the "processing" banner is visible.
      return setTimeout(() => {
        send(res, 200, {
          id: "chatcmpl-e2e",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify(proposal()) }, finish_reason: "stop" }],
        });
      }, 1200);
    }
    const weather = url.pathname.match(/^\/(weather|forecast)\/(.+)$/);
    if (weather) {
      const city = decodeURIComponent(weather[2]);
      return send(res, 200, { city, forecast: "sunny", temperature_c: 21, source: "stub-weather" });
    }
    if (url.pathname === "/alerts") return send(res, 200, { alerts: [] });
    // A page on another origin than AutoMCP's, for the browser-client test.
    if (url.pathname === "/page") return send(res, 200, "<!doctype html><title>another site</title><p>another site</p>", "text/html");
    send(res, 200, { method: req.method, path: url.pathname, body });
  });
});

server.listen(0, "127.0.0.1", () => {
  port = server.address().port;
  console.log(JSON.stringify({ port }));
});
