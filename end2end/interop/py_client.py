"""The official Python SDK's client (2.x) in its default mode, for the
interoperability tests: connects to URL (with a bearer token unless it is
"-"), lists the tools, calls TOOL with ARGS (JSON) asking for progress, and
prints one JSON line: {protocolVersion, tools, result, progress} or {error}.
    python py_client.py URL TOKEN TOOL ARGS"""

import asyncio
import json
import sys

import httpx2
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, token: str, tool: str, args: str) -> int:
    headers = {} if token == "-" else {"Authorization": f"Bearer {token}"}
    progress = []

    async def on_progress(value, total, message):
        progress.append(value)

    try:
        async with httpx2.AsyncClient(headers=headers, timeout=120) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                tools = await client.list_tools()
                result = await client.call_tool(tool, json.loads(args), progress_callback=on_progress)
                print(json.dumps({
                    "protocolVersion": client.protocol_version,
                    "tools": [t.name for t in tools.tools],
                    "result": result.model_dump(mode="json", by_alias=True, exclude_none=True),
                    "progress": len(progress),
                }))
        return 0
    except BaseException as error:  # noqa: BLE001 - reported to the test
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:5])))
