// The official TypeScript SDK's client, in its default mode, for the
// interoperability tests: connects to URL (with a bearer token unless it is
// "-"), lists the tools, calls TOOL with ARGS (JSON) asking for progress, and
// prints one JSON line: {protocolVersion, tools, result, progress} or {error}.
//   node ts_client.mjs URL TOKEN TOOL ARGS
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, tool, args] = process.argv.slice(2);
const headers = token && token !== "-" ? { Authorization: `Bearer ${token}` } : {};
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const client = new Client({ name: "interop-ts", version: "1.0.0" });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  let progress = 0;
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) }, undefined, {
    onprogress: () => (progress += 1),
    resetTimeoutOnProgress: true,
    timeout: 120_000,
  });
  const protocolVersion = transport.protocolVersion ?? null;
  console.log(JSON.stringify({ protocolVersion, tools: tools.map((t) => t.name), result, progress }));
  await client.close();
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error) }));
  process.exitCode = 1;
}
