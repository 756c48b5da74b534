/**
 * The fake Slack of bench/slack-ack.mjs, in a process of its own: the Web API calls a
 * `/iqsp help` makes (auth.test once, users.info) and the response_url posts. Apart from the
 * load generator, so the replies it takes do not run on the event loop that times the acks (an
 * ack answered while that loop was busy was counted late, against the service). Started by the
 * parent through `fork`; says `{ ready, url }`, then answers `{ usersInfo }` (calls so far),
 * `{ missing: { tag, from, to } }` (replies of `<tag>-<n>` not received) and `{ stop }`.
 */
import { createServer } from 'node:http';

const replied = new Set();
let usersInfo = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (req.url.startsWith('/respond/')) {
      replied.add(req.url.slice('/respond/'.length));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    // users.info answers for the person asked about (`user` in its form or JSON body).
    const sent = Buffer.concat(chunks).toString('utf8');
    const asked = /(?:^|&|")user"?[=:]"?([A-Z0-9]+)/.exec(sent)?.[1] ?? 'U0P0';
    if (req.url === '/api/users.info') usersInfo += 1;
    const answers = {
      '/api/auth.test': { ok: true, team: 'Bench', team_id: 'T0BENCH', user: 'iqsp', user_id: 'U0BOT', bot_id: 'B0BOT' },
      '/api/users.info': {
        ok: true,
        user: { id: asked, name: asked.toLowerCase(), is_admin: false, is_owner: false, is_bot: false, profile: { display_name: asked } },
      },
    };
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(answers[req.url] ?? { ok: false, error: 'unknown_method' }));
  });
});
server.keepAliveTimeout = 60_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

process.on('message', (message) => {
  if (message.usersInfo) process.send({ usersInfoCalls: usersInfo });
  else if (message.missing) {
    const { tag, from, to } = message.missing;
    let missing = 0;
    for (let n = from; n < to; n += 1) if (!replied.has(`${tag}-${n}`)) missing += 1;
    process.send({ missingReplies: missing });
  } else if (message.stop) {
    server.closeAllConnections();
    server.close(() => {
      process.send({ stopped: true });
      process.disconnect();
    });
  }
});
process.send({ ready: true, url: `http://127.0.0.1:${server.address().port}` });
