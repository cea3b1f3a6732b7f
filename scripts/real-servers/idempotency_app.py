"""A tiny payments API behind fastapi-idempotency-key (PyPI), for scripts/real-servers.sh.

POST /payments records a payment after 200 ms of work and answers 201 with its id and
Location; POST /refunds the same for a refund; GET /payments?reference=R counts the payments
recorded with that reference. The middleware requires the key (`required=True`). Its paths
are not the reference server's: fastapi_idem.yaml tells contend where they are.
"""
import asyncio

from fastapi_idempotency_key import IdempotencyMiddleware, MemoryBackend
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

recorded = {"payments": [], "refunds": []}


def maker(kind):
    async def make(request):
        body = await request.json()
        await asyncio.sleep(0.2)  # the work a retry must not repeat
        recorded[kind].append(body)
        made = {"id": len(recorded[kind]), **body}
        location = f"/{kind}/{made['id']}"
        return JSONResponse(made, status_code=201, headers={"Location": location})

    return make


async def count(request):
    reference = request.query_params.get("reference")
    payments = recorded["payments"]
    return JSONResponse(
        {"count": sum(1 for p in payments if reference in (None, p.get("reference")))}
    )


app = Starlette(
    routes=[
        Route("/payments", maker("payments"), methods=["POST"]),
        Route("/payments", count, methods=["GET"]),
        Route("/refunds", maker("refunds"), methods=["POST"]),
    ]
)
app.add_middleware(IdempotencyMiddleware, backend=MemoryBackend(), required=True)
