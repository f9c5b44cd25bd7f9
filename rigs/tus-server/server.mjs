// The handling region's upload endpoint as the kiosk sees it: the reference tus 1.0 server
// (@tus/server + @tus/file-store) plus the one thing a real receiver must add, delivering each
// (package, region) exactly once however often the kiosk retries.
//
//   node server.mjs --root DIR [--port 0] [--max-size BYTES] [--stdin-lifeline]
//
// DIR/uploads      tus upload files and their .json info files (FileStore)
// DIR/delivered/   one file per "<package_id>.<receiver>", the first finished copy
// DIR/finished.jsonl   one line per finished upload, duplicates included
//
// HEAD /files/delivered/<package_id>.<receiver> answers whether that package already reached
// this receiver: 200 with Upload-Length = Upload-Offset = its size and Package-Sha256, or 404.
// The kiosk asks before it starts an upload again (a 500 may hide a finished upload). Any
// other tus server answers 404 there (an id with a slash is no upload), so the kiosk then
// uploads as before and the dedup below still holds.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const { values: args } = parseArgs({
  options: {
    root: { type: 'string' },
    port: { type: 'string', default: '0' },
    'max-size': { type: 'string' },
    'stdin-lifeline': { type: 'boolean', default: false },
  },
});
if (!args.root) {
  process.stderr.write(
    'usage: node server.mjs --root DIR [--port 0] [--max-size BYTES] [--stdin-lifeline]\n');
  process.exit(2);
}
const root = path.resolve(args.root);
const uploadsDir = path.join(root, 'uploads');
const deliveredDir = path.join(root, 'delivered');
const journal = path.join(root, 'finished.jsonl');
fs.mkdirSync(uploadsDir, { recursive: true });
fs.mkdirSync(deliveredDir, { recursive: true });

// The two keys become a file name under delivered/, so nothing that could climb out of it.
const SAFE = /^[A-Za-z0-9-]+$/;

function reject(body) {
  // @tus/server turns a thrown {status_code, body} into that response.
  return { status_code: 400, body: `${body}\n` };
}

async function fsyncPath(p, flags = 'r') {
  const handle = await fsp.open(p, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function sha256Of(file) {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

async function appendJournal(record) {
  // One write per line with O_APPEND, then fsync: a crash loses at most the last line whole.
  const handle = await fsp.open(journal, 'a');
  try {
    await handle.write(`${JSON.stringify(record)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// Claim delivered/<key> for this upload without ever overwriting an earlier one: link()
// fails with EEXIST where rename() would silently replace, and is just as atomic. Returns
// true when an earlier upload already holds the key.
async function claim(src, dst) {
  try {
    await fsp.link(src, dst);
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    // Same inode: this very upload was linked but not yet unlinked when the server died or a
    // later step failed, and the kiosk retried its last PATCH. Still the first delivery.
    const [a, b] = await Promise.all([fsp.stat(src), fsp.stat(dst)]);
    if (a.ino !== b.ino || a.dev !== b.dev) return true;
  }
  await fsp.unlink(src);
  await fsyncPath(deliveredDir);
  return false;
}

const server = new Server({
  path: '/files',
  datastore: new FileStore({ directory: uploadsDir }),
  maxSize: args['max-size'] ? Number.parseInt(args['max-size'], 10) : undefined,

  async onUploadCreate(_req, upload) {
    const meta = upload.metadata ?? {};
    for (const key of ['package_id', 'receiver']) {
      if (!meta[key]) throw reject(`Upload-Metadata must carry ${key}`);
      if (!SAFE.test(meta[key])) throw reject(`${key} may hold only A-Z a-z 0-9 and -`);
    }
    return {};
  },

  async onUploadFinish(_req, upload) {
    const src = path.join(uploadsDir, upload.id);
    const { package_id, receiver } = upload.metadata;
    const key = `${package_id}.${receiver}`;
    // The data must be on disk before the name that says "delivered" points at it.
    await fsyncPath(src, 'r+');
    const [sha256, { size }] = await Promise.all([sha256Of(src), fsp.stat(src)]);
    const duplicate = await claim(src, path.join(deliveredDir, key));
    if (duplicate) {
      await fsp.rm(src, { force: true });
      await fsp.rm(`${src}.json`, { force: true });
    }
    await appendJournal({ upload_id: upload.id, package_id, receiver, sha256, size, duplicate });
    // A duplicate still answers 204: the kiosk must record the package as delivered.
    return {};
  },
});

const DELIVERED_PATH = /^\/files\/delivered\/([A-Za-z0-9-]+\.[A-Za-z0-9-]+)$/;

async function answerDelivered(key, res) {
  const headers = { 'Tus-Resumable': '1.0.0', 'Cache-Control': 'no-store' };
  const file = path.join(deliveredDir, key);
  let size;
  try {
    ({ size } = await fsp.stat(file));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    res.writeHead(404, headers).end();
    return;
  }
  const sha256 = await sha256Of(file);
  res.writeHead(200, { ...headers, 'Upload-Length': size, 'Upload-Offset': size,
                       'Package-Sha256': sha256 }).end();
}

const host = '127.0.0.1';
const httpServer = http.createServer((req, res) => {
  const match = req.method === 'HEAD' && DELIVERED_PATH.exec(req.url.split('?')[0]);
  if (!match) {
    server.handle(req, res);
    return;
  }
  answerDelivered(match[1], res).catch((err) => {
    process.stderr.write(`delivered lookup failed: ${err}\n`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
httpServer.listen({ host, port: Number.parseInt(args.port, 10) }, () => {
  // The launcher waits for exactly this line; pipes are synchronous on Linux, so it is flushed.
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});

function shutdown() {
  httpServer.close(() => process.exit(0));
  // Keep-alive and half-sent uploads would otherwise hold close() open.
  httpServer.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args['stdin-lifeline']) {
  // The launcher holds our stdin open: should it die, even by SIGKILL, the pipe closes and
  // the server goes too instead of lingering on its port.
  process.stdin.on('end', shutdown).resume();
}
