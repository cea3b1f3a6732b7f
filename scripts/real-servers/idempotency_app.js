// A tiny payments API behind express-idempotency (npm), for scripts/real-servers.sh.
// POST /api/payments records a payment after 200 ms of work and answers 201 with its id and
// Location; POST /api/refunds the same for a refund; GET /api/payments?reference=R counts the
// payments recorded with that reference. The middleware does not require the key.
const express = require('express');
const { idempotency, getSharedIdempotencyService } = require('express-idempotency');

const recorded = { payments: [], refunds: [] };
const app = express();
app.use(express.json());
app.post(['/api/payments', '/api/refunds'], idempotency());
for (const kind of ['payments', 'refunds']) {
  app.post(`/api/${kind}`, (req, res) => {
    // The middleware answered (a replay, or a misuse of the key): nothing to do here.
    if (getSharedIdempotencyService().isHit(req)) return;
    setTimeout(() => {
      recorded[kind].push(req.body);
      const made = { id: recorded[kind].length, ...req.body };
      res.status(201).location(`/api/${kind}/${made.id}`).json(made);
    }, 200);
  });
}
app.get('/api/payments', (req, res) => {
  const reference = req.query.reference;
  const count = recorded.payments.filter((p) => reference === undefined || p.reference === reference).length;
  res.json({ count });
});
app.listen(Number(process.argv[2]), '127.0.0.1');
