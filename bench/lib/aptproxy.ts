// A small HTTP proxy between the bench nodes' apt and the lab's apt-cacher-ng (same bridge address,
// its own port). It exists for one reason: when 20-50 hosts run `apt-get update` in the same second,
// apt-cacher-ng refreshes the same InRelease concurrently and trips over itself ("Failure to move
// file … InRelease out of the way … File exists"); now and then one host's apt-get update then
// hangs forever, and with it the first apply of either tool. Here the suite index files
// (InRelease, Release, Release.gpg) are fetched from apt-cacher-ng ONCE per 15 minutes and served
// to every node from memory; everything else (Packages by hash, .debs) is passed through untouched.
// Both tools go through it alike; it only listens on the lab bridge's gateway address.
import http from 'node:http';

interface Cached {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface AptProxy {
  url: string;
  stats: { served: number; fetched: number; passed: number; errors: number };
  close(): Promise<void>;
}

const VOLATILE = /\/(InRelease|Release|Release\.gpg)$/;
const FRESH_MS = 15 * 60_000;
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization']);

function forwardHeaders(h: http.IncomingHttpHeaders, drop: string[] = []): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!HOP.has(k) && !drop.includes(k) && v !== undefined) out[k] = v;
  return out;
}

export function startAptProxy(listenHost: string, port: number, upstream: { host: string; port: number }): Promise<AptProxy> {
  const cache = new Map<string, Cached>();
  const inflight = new Map<string, Promise<Cached>>();
  const stats = { served: 0, fetched: 0, passed: 0, errors: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const fetchWhole = (url: string, headers: http.IncomingHttpHeaders): Promise<Cached> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: upstream.host, port: upstream.port, method: 'GET', path: url, agent, headers: forwardHeaders(headers, ['if-modified-since', 'if-none-match', 'range', 'if-range', 'cache-control']) },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('end', () => {
            const body = Buffer.concat(parts);
            const h = forwardHeaders(res.headers, ['content-length']);
            h['content-length'] = body.length;
            resolve({ status: res.statusCode ?? 502, headers: h, body, at: Date.now() });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error('upstream timeout')));
      req.on('error', reject);
      req.end();
    });

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && VOLATILE.test(url.split('?')[0]!)) {
      const hit = cache.get(url);
      let pending: Promise<Cached>;
      if (hit && Date.now() - hit.at < FRESH_MS) pending = Promise.resolve(hit);
      else {
        pending = inflight.get(url) ?? fetchWhole(url, req.headers);
        if (!inflight.has(url)) {
          stats.fetched++;
          inflight.set(url, pending);
          pending.then(
            (c) => {
              inflight.delete(url);
              if (c.status === 200) cache.set(url, c);
            },
            () => inflight.delete(url),
          );
        }
      }
      pending.then(
        (c) => {
          stats.served++;
          res.writeHead(c.status, c.headers);
          res.end(c.body);
        },
        (e: Error) => {
          stats.errors++;
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`bench apt proxy: ${e.message}\n`);
        },
      );
      return;
    }
    stats.passed++;
    const up = http.request({ host: upstream.host, port: upstream.port, method: req.method, path: url, agent, headers: forwardHeaders(req.headers) }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, forwardHeaders(ur.headers));
      ur.pipe(res);
    });
    up.setTimeout(120_000, () => up.destroy(new Error('upstream timeout')));
    up.on('error', (e) => {
      stats.errors++;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bench apt proxy: ${e.message}\n`);
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 30_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listenHost, () => {
      resolve({
        url: `http://${listenHost}:${port}`,
        stats,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
            agent.destroy();
          }),
      });
    });
  });
}
