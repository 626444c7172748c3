// bench/express/server.js -- the usual tutorial SSE broadcast server, for
// bench/run's comparison: GET /events?channel=NAME keeps each response in
// a list (one list per channel), POST /publish?channel=NAME writes
// "data: <body>\n\n" to every response of that channel and answers 202.
// Listens on the unix socket or port given as argv[2] (nginx proxies it).
'use strict';
const fs = require('fs');
const express = require('express');

const app = express();
const clients = new Map();          // channel -> Set of responses

app.get('/events', (req, res) => {
  const channel = String(req.query.channel || 'default');
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'Connection': 'keep-alive',
  });
  res.write('retry: 3000\n\n');
  if (!clients.has(channel)) clients.set(channel, new Set());
  const set = clients.get(channel);
  set.add(res);
  req.on('close', () => {
    set.delete(res);
    if (set.size === 0) clients.delete(channel);
  });
});

app.post('/publish', express.text({ type: '*/*', limit: '1mb' }),
  (req, res) => {
    const channel = String(req.query.channel || 'default');
    const data = String(req.body).split(/\r\n|\r|\n/)
      .map((l) => 'data: ' + l).join('\n');
    const set = clients.get(channel);
    let n = 0;
    if (set) {
      for (const r of set) {
        r.write(data + '\n\n');
        n++;
      }
    }
    res.status(202).json({ channel, subscribers: n });
  });

const where = process.argv[2] || '3000';
if (/^\d+$/.test(where)) {
  app.listen(Number(where), '127.0.0.1');
} else {
  try { fs.unlinkSync(where); } catch (e) { /* not there */ }
  app.listen(where, () => fs.chmodSync(where, 0o666));
}
