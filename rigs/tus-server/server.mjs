// The handling region's upload endpoint as the kiosk sees it: the reference tus 1.0 server
// (@tus/server + @tus/file-store, or @tus/s3-store) plus the one thing a real receiver must
// add, delivering each (package, region) exactly once however often the kiosk retries.
//
//   node server.mjs --root DIR [--port 0] [--max-size BYTES] [--stdin-lifeline]
//                   [--s3-bucket B [--s3-endpoint URL] [--s3-region R] [--s3-path-style]
//                    [--s3-part-size BYTES]]
//
// File store (the default):
// DIR/uploads      tus upload files and their .json info files (FileStore)
// DIR/delivered/   one file per "<package_id>.<receiver>", the first finished copy
// DIR/finished.jsonl   one line per finished upload, duplicates included
//
// Object storage (--s3-bucket; credentials from the SDK's usual places, AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY in the environment, never an argument): S3Store keeps each upload as
// a multipart upload under the key <id> until its last byte, then completes it into the
// object <id> beside <id>.info (the upload's JSON). Several servers may share the bucket:
// the first finished copy of a package claims delivered/<package_id>.<receiver> (a small
// JSON object: upload_id, sha256, size) with a conditional put (If-None-Match: *), so two
// servers finishing copies at once still deliver one. DIR holds only finished.jsonl then.
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

import { s3Backend } from './s3.mjs';

const { values: args } = parseArgs({
  options: {
    root: { type: 'string' },
    port: { type: 'string', default: '0' },
    'max-size': { type: 'string' },
    'stdin-lifeline': { type: 'boolean', default: false },
    's3-bucket': { type: 'string' },
    's3-endpoint': { type: 'string' },
    's3-region': { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
    's3-path-style': { type: 'boolean', default: false },
    's3-part-size': { type: 'string' },
  },
});
if (!args.root) {
  process.stderr.write(
    'usage: node server.mjs --root DIR [--port 0] [--max-size BYTES] [--stdin-lifeline]\n'
    + '                      [--s3-bucket B [--s3-endpoint URL] [--s3-region R] '
    + '[--s3-path-style] [--s3-part-size BYTES]]\n');
  process.exit(2);
}
const root = path.resolve(args.root);
const journal = path.join(root, 'finished.jsonl');
fs.mkdirSync(root, { recursive: true });

// The two keys become a file name under delivered/ (an object key there), so nothing that
// could climb out of it.
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

async function sha256Of(stream) {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
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

// Each backend: its tus datastore; finish(upload, key) → {sha256, size, duplicate} claims
// delivered/<key> for the first finished copy and removes a later one; lookup(key) →
// {size, sha256} of the delivered copy, or null.
function fileBackend() {
  const uploadsDir = path.join(root, 'uploads');
  const deliveredDir = path.join(root, 'delivered');
  fs.mkdirSync(uploadsDir, { recursive: true });
  fs.mkdirSync(deliveredDir, { recursive: true });

  // Claim delivered/<key> for this upload without ever overwriting an earlier one: link()
  // fails with EEXIST where rename() would silently replace, and is just as atomic. Returns
  // true when an earlier upload already holds the key.
  async function claim(src, dst) {
    try {
      await fsp.link(src, dst);
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // Same inode: this very upload was linked but not yet unlinked when the server died or
      // a later step failed, and the kiosk retried its last PATCH. Still the first delivery.
      const [a, b] = await Promise.all([fsp.stat(src), fsp.stat(dst)]);
      if (a.ino !== b.ino || a.dev !== b.dev) return true;
    }
    await fsp.unlink(src);
    await fsyncPath(deliveredDir);
    return false;
  }

  return {
    datastore: new FileStore({ directory: uploadsDir }),
    async finish(upload, key) {
      const src = path.join(uploadsDir, upload.id);
      // The data must be on disk before the name that says "delivered" points at it.
      await fsyncPath(src, 'r+');
      const [sha256, { size }] = await Promise.all([sha256Of(fs.createReadStream(src)),
                                                    fsp.stat(src)]);
      const duplicate = await claim(src, path.join(deliveredDir, key));
      if (duplicate) {
        await fsp.rm(src, { force: true });
        await fsp.rm(`${src}.json`, { force: true });
      }
      return { sha256, size, duplicate };
    },
    async lookup(key) {
      const file = path.join(deliveredDir, key);
      try {
        const { size } = await fsp.stat(file);
        return { size, sha256: await sha256Of(fs.createReadStream(file)) };
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
        return null;
      }
    },
  };
}

const backend = args['s3-bucket']
  ? s3Backend({
    bucket: args['s3-bucket'], endpoint: args['s3-endpoint'], region: args['s3-region'],
    pathStyle: args['s3-path-style'],
    partSize: args['s3-part-size'] ? Number.parseInt(args['s3-part-size'], 10) : undefined,
    sha256Of,
  })
  : fileBackend();

const server = new Server({
  path: '/files',
  datastore: backend.datastore,
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
    const { package_id, receiver } = upload.metadata;
    const key = `${package_id}.${receiver}`;
    const { sha256, size, duplicate } = await backend.finish(upload, key);
    await appendJournal({ upload_id: upload.id, package_id, receiver, sha256, size, duplicate });
    // A duplicate still answers 204: the kiosk must record the package as delivered.
    return {};
  },
});

const DELIVERED_PATH = /^\/files\/delivered\/([A-Za-z0-9-]+\.[A-Za-z0-9-]+)$/;

async function answerDelivered(key, res) {
  const headers = { 'Tus-Resumable': '1.0.0', 'Cache-Control': 'no-store' };
  const found = await backend.lookup(key);
  if (found === null) {
    res.writeHead(404, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'Upload-Length': found.size, 'Upload-Offset': found.size,
                       'Package-Sha256': found.sha256 }).end();
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
