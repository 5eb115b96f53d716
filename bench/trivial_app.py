"""The baseline of bench/platform_load.py: a trivial FastAPI endpoint, served the same way as huiqi
(uvicorn, the same number of workers, a synchronous handler run in the thread pool)."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/trivial")
def trivial() -> dict[str, bool]:
    return {"ok": True}
