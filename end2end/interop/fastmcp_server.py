"""A FastMCP server for the interoperability tests: a few tools, one slow
with progress, and a required `X-Api-Key` header. Serves streamable HTTP on
127.0.0.1:PORT (argv[1]) at /mcp; prints "listening" once it accepts."""

import asyncio
import sys

import uvicorn
from fastmcp import Context, FastMCP
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse

API_KEY = "fastmcp-test-key"

mcp = FastMCP("Interop FastMCP")


@mcp.tool
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@mcp.tool
def describe_city(city: str) -> dict:
    """Structured facts about a city."""
    return {"city": city, "letters": len(city)}


@mcp.tool
async def slow_count(seconds: float, ctx: Context) -> str:
    """Counts for `seconds`, reporting progress every second."""
    steps = max(1, int(seconds))
    for step in range(1, steps + 1):
        await asyncio.sleep(seconds / steps)
        await ctx.report_progress(progress=step, total=steps)
    return f"counted {steps} steps"


@mcp.tool
async def silent_wait(seconds: float) -> str:
    """Waits `seconds` without reporting progress."""
    await asyncio.sleep(seconds)
    return f"waited {seconds} s"


class RequireKey(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        if request.headers.get("x-api-key") != API_KEY:
            return JSONResponse({"error": "missing or wrong X-Api-Key"}, status_code=401)
        return await call_next(request)


def main() -> None:
    port = int(sys.argv[1])
    app = mcp.http_app(path="/mcp")
    app.add_middleware(RequireKey)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        print("listening", flush=True)
        await task

    asyncio.run(serve())


if __name__ == "__main__":
    main()
