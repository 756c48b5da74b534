/**
 * The least of Slack and Discord a starting `serve` needs, for benchmarks, in the bench's own
 * process (never the measured service's): Slack's Web API (auth.test and friends answer ok)
 * and Discord's REST (GET /gateway/bot) with a gateway on `ws` that says HELLO, answers
 * heartbeats and sends READY (no servers) after IDENTIFY, enough for discord.js to log in.
 *
 *   const chat = await startChatFakes();
 *   env = { ...env, ...chat.env };  // SLACK_*, DISCORD_*
 *   await chat.close();
 */
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const SLACK_BOT_TOKEN = 'xoxb-bench-0000-token';
const SLACK_SIGNING_SECRET = 'bench-signing-secret';
const DISCORD_TOKEN = 'MTAwMDAwMDAwMDAwMDAwMDAw.bench.discord-token';
const DISCORD_APPLICATION_ID = '100000000000000000';

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

export async function startChatFakes() {
  const counts = { slack: 0, discordRest: 0, identifies: 0 };
  let gatewayUrl = '';
  const slackAnswers = {
    '/api/auth.test': {
      ok: true,
      team: 'Bench',
      team_id: 'T0BENCH',
      user: 'iqsp',
      user_id: 'U0BOT',
      bot_id: 'B0BOT',
      url: 'https://bench.slack.com/',
    },
  };
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url.split('?')[0];
      if (path.startsWith('/api/v')) {
        counts.discordRest += 1;
        if (/^\/api\/v\d+\/gateway(\/bot)?$/.test(path))
          return json(res, 200, {
            url: gatewayUrl,
            shards: 1,
            session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
          });
        return json(res, 404, { message: 'Unknown', code: 0 });
      }
      counts.slack += 1;
      return json(res, 200, slackAnswers[path] ?? { ok: true });
    });
  });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
  wss.on('connection', (socket) => {
    let sequence = 0;
    const send = (payload) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(payload));
    send({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    socket.on('message', (raw) => {
      const frame = JSON.parse(String(raw));
      if (frame.op === 1) send({ op: 11 });
      if (frame.op === 2) {
        counts.identifies += 1;
        if (frame.d.token !== DISCORD_TOKEN) return socket.close(4004, 'Authentication failed.');
        sequence += 1;
        send({
          op: 0,
          t: 'READY',
          s: sequence,
          d: {
            v: 10,
            user: { id: '100000000000000001', username: 'iqsp', discriminator: '0', global_name: null, avatar: null, bot: true, flags: 0 },
            guilds: [],
            session_id: `bench${Date.now()}`,
            resume_gateway_url: gatewayUrl,
            application: { id: DISCORD_APPLICATION_ID, flags: 0 },
            private_channels: [],
            shard: [0, 1],
          },
        });
      }
    });
  });
  const port = await listen(server);
  const url = `http://127.0.0.1:${port}`;
  gatewayUrl = `ws://127.0.0.1:${port}`;
  return {
    counts,
    env: {
      SLACK_SIGNING_SECRET,
      SLACK_BOT_TOKEN,
      SLACK_API_URL: `${url}/api/`,
      DISCORD_TOKEN,
      DISCORD_APPLICATION_ID,
      DISCORD_API_URL: `${url}/api`,
    },
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
