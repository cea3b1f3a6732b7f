// A JSON API as a team would write it on Express (npm `express`), for scripts/real-servers.sh:
// POST /items creates an item (201, Location, the item as JSON), GET /items/:id reads it, PUT
// replaces it, DELETE removes it. Nothing here looks at If-Match or If-Unmodified-Since: Express
// adds its default weak ETag (`W/"<length>-<hash>"`) to every JSON answer and answers a GET
// whose If-None-Match matches with 304 (req.fresh), and that is all the precondition handling
// there is, as in most tutorials. contend is expected to catch the lost update.
const express = require('express');

const items = new Map();
let next = 1;
const app = express();
app.use(express.json({ type: () => true }));

app.post('/items', (req, res) => {
  const id = String(next++);
  const item = { id, ...req.body };
  items.set(id, item);
  res.status(201).location(`/items/${id}`).json(item);
});

app.get('/items', (req, res) => res.json([...items.values()]));

app.get('/items/:id', (req, res) => {
  const item = items.get(req.params.id);
  if (!item) return res.status(404).json({ error: 'not found' });
  res.json(item);
});

app.put('/items/:id', (req, res) => {
  if (!items.has(req.params.id)) return res.status(404).json({ error: 'not found' });
  const item = { id: req.params.id, ...req.body };
  items.set(req.params.id, item);
  res.json(item);
});

app.delete('/items/:id', (req, res) => {
  if (!items.delete(req.params.id)) return res.status(404).json({ error: 'not found' });
  res.status(204).end();
});

app.listen(Number(process.argv[2]), '127.0.0.1');
